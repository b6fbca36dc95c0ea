"""The mutation fuzzer of ``tests/fuzz.py`` on a bounded budget, plus exhaustive sweeps.

1. Every family runs ``INPUTS`` inputs from a fixed seed (``SEED``, or ``CHUNKAGG_SEED`` when set),
   so CI tries the same inputs every time, and none may violate the contract. A failure names the
   seed and, per input, the command that replays it; ``python tests/fuzz.py --seconds 600`` runs
   a longer budget on a new seed.
2. Sweeps that do not rely on chance: every field of chunks that carry every field of the wire
   format gets a value of every other JSON type, every huge number, every absurd index and a
   10,000-level nesting.
3. The fuzzer itself: it must catch an escaped exception, an error without a position, a loop
   that makes no progress and a split-dependent result, and write a reproducer that replays.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import fuzz
import msgspec
import orjson
import pytest
from helpers import sse

from chunkagg import (
    Accumulator,
    ChatCompletion,
    ChunkError,
    ResponseBody2,
)

# Per family; the whole budget (14 families) runs in about ten seconds.
INPUTS = 400
SEED = int(os.environ.get("CHUNKAGG_SEED") or 20261125)


def _report_failures(found: list[tuple[fuzz.Case, str]], seed: int) -> str:
    kinds: dict[str, int] = {}
    for _, problem in found:
        kinds[fuzz.category(problem)] = kinds.get(fuzz.category(problem), 0) + 1
    lines = [f"{len(found)} violations (seed {seed}; set CHUNKAGG_SEED={seed} to rerun), by kind:"]
    lines += [f"  {n} x {kind}" for kind, n in kinds.items()]
    shown: set[str] = set()
    for case, problem in found:
        if fuzz.category(problem) in shown:
            continue
        shown.add(fuzz.category(problem))
        lines.append(
            f"- {case.name} ({len(case.data)} bytes, format={case.format}, limits={case.limits},"
            f" track={case.track}): replay with `python tests/fuzz.py --seed {case.seed}"
            f" --family {case.family} --inputs {case.index + 1}`\n  input: {case.data[:300]!r}"
            f"\n  {problem[:1500]}"
        )
    return "\n".join(lines)


# -- 1. the bounded budget ----------------------------------------------------------------------


@pytest.mark.parametrize("family", list(fuzz.FAMILIES))
def test_fuzz_family(family: str) -> None:
    report = fuzz.run(SEED, inputs=INPUTS, families=[family], keep=INPUTS)
    assert report.counts == {family: INPUTS}
    if report.violations:
        pytest.fail(_report_failures(report.violations, SEED), pytrace=False)


def test_every_family_runs_in_a_time_budget() -> None:
    # The on-demand mode: round-robin over the families until the time is up.
    report = fuzz.run(SEED, seconds=0.01, factory=_Inert)
    assert set(report.counts) == set(fuzz.FAMILIES)
    assert min(report.counts.values()) >= 1
    assert len(set(report.counts.values())) == 1  # whole rounds only: the counts are equal
    assert "total" in report.table()


def test_inputs_are_reproducible_and_varied() -> None:
    # An input is a function of (seed, family, index): the replay command relies on it.
    for family in fuzz.FAMILIES:
        first = [fuzz.make_case(family, SEED, i) for i in range(20)]
        again = [fuzz.make_case(family, SEED, i) for i in range(20)]
        assert [c.data for c in first] == [c.data for c in again], family
        assert len({c.data for c in first}) >= 15, family


def test_families_do_what_they_say() -> None:
    # Each family must produce its kind of damage often, or the budget proves little.
    def share(family: str, predicate: Any) -> float:
        cases = [fuzz.make_case(family, 12345, i) for i in range(200)]
        return sum(1 for c in cases if predicate(c.data)) / len(cases)

    deep = re.compile(rb'(?:\[|\{"a":|\[\{"a":){100}')
    assert share("deep-nesting", lambda d: deep.search(d) is not None) > 0.9
    assert share("nul", lambda d: b"\x00" in d or b"\\u0000" in d) > 0.9
    assert share("huge-number", lambda d: any(t in d for t in fuzz.HUGE_NUMBERS[:12])) > 0.5
    assert share("invalid-utf8", lambda d: _invalid_utf8(d)) > 0.6
    absurd = [b'"index":' + t for t in fuzz.ABSURD_INDICES]
    assert share("absurd-index", lambda d: any(t in d for t in absurd)) > 0.7
    assert share("sse-tokens", lambda d: b"event: error" in d or b": ping" in d) > 0.3
    # The seeds cover the fixtures, generated streams and the hand-built ones, in every framing.
    seeds = [fuzz.make_case("dup-drop", 99, i).data for i in range(300)]
    assert any(b"chatcmpl-9" in s for s in seeds)  # captured fixtures
    assert any(b"\r\n" in s for s in seeds)
    assert any(b"\r" in s and b"\n" not in s for s in seeds)
    assert any(s.startswith(b"{") for s in seeds)  # NDJSON
    assert any(b"audio" in s for s in seeds)


def _invalid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\\ud8" in data or b"\\udf" in data


# -- 2. exhaustive sweeps over every field ------------------------------------------------------

SINK = fuzz.kitchen_sink()
GOOD = sse(SINK[0], done=False)


def _paths() -> list[tuple[int, fuzz.Path_, Any]]:
    return [(i, path, value) for i, doc in enumerate(SINK) for path, value in fuzz.walk(doc)]


def _sweep(name: str, payloads: list[tuple[str, bytes]]) -> list[tuple[fuzz.Case, str]]:
    """Check a stream [good chunk, payload, good chunk, DONE] for every payload."""
    found = []
    for i, (label, payload) in enumerate(payloads):
        data = GOOD + b"data: " + payload + b"\n\n" + sse(SINK[1])
        cuts = [7, 1, 300] * (len(data) // 308 + 1)
        case = fuzz.Case(f"{name}:{label}", SEED, i, data, cuts=cuts)
        problem = fuzz.check(case)
        if problem is not None:
            found.append((case, problem))
    return found


def _dotted(doc: int, path: fuzz.Path_) -> str:
    return f"chunk{doc}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _wire_fields(info: Any, seen: set[type]) -> set[str]:
    """Every field name of a msgspec type, nested Structs, lists and unions included."""
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return set()
        seen.add(info.cls)
        names = set()
        for f in info.fields:
            names.add(f.encode_name)
            names |= _wire_fields(f.type, seen)
        return names
    names = set()
    for attr in ("item_type", "key_type", "value_type"):
        if hasattr(info, attr):
            names |= _wire_fields(getattr(info, attr), seen)
    for member in getattr(info, "types", ()):
        names |= _wire_fields(member, seen)
    return names


def test_sink_covers_every_field_of_the_wire_format() -> None:
    # Every key of every wire Struct appears somewhere in the sink, so the sweeps reach it.
    keys = {p[-1] for _, p, _ in _paths() if p and isinstance(p[-1], str)}
    wanted = _wire_fields(msgspec.inspect.type_info(ResponseBody2), set())
    assert len(wanted) > 40
    assert wanted - keys == set()


@pytest.mark.parametrize("kind", fuzz.JSON_TYPES)
def test_every_field_gets_every_other_type(kind: str) -> None:
    payloads = []
    for doc, path, value in _paths():
        if fuzz.json_type(value) == kind:
            continue
        for new in fuzz.TYPE_VALUES[kind]:
            label = f"{_dotted(doc, path)}={new!r}"
            payloads.append((label, fuzz.serialize(fuzz.replace_at(SINK[doc], path, new))))
    assert len(payloads) > 50
    found = _sweep("wrong-type", payloads)
    if found:
        pytest.fail(_report_failures(found, SEED), pytrace=False)


def test_every_field_gets_every_huge_number() -> None:
    payloads = [
        (
            f"{_dotted(doc, path)}={token[:12]!r}",
            fuzz.serialize(fuzz.replace_at(SINK[doc], path, fuzz._RAW), token),
        )
        for doc, path, _ in _paths()
        for token in fuzz.HUGE_NUMBERS
    ]
    found = _sweep("huge-number", payloads)
    if found:
        pytest.fail(_report_failures(found, SEED), pytrace=False)


def test_every_index_gets_every_absurd_value() -> None:
    payloads = [
        (
            f"{_dotted(doc, path)}={token[:12]!r}",
            fuzz.serialize(fuzz.replace_at(SINK[doc], path, fuzz._RAW), token),
        )
        for doc, path, _ in _paths()
        if path and path[-1] == "index"
        for token in fuzz.ABSURD_INDICES
    ]
    assert len(payloads) >= 3 * len(fuzz.ABSURD_INDICES)
    found = _sweep("absurd-index", payloads)
    if found:
        pytest.fail(_report_failures(found, SEED), pytrace=False)


NESTED = {
    "array": b"[" * 10_000 + b"]" * 10_000,
    "object": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
}


@pytest.mark.parametrize("shape", list(NESTED))
def test_every_field_gets_10000_levels_of_nesting(shape: str) -> None:
    token = NESTED[shape]
    payloads = [
        (
            f"{_dotted(doc, path)}",
            fuzz.serialize(fuzz.replace_at(SINK[doc], path, fuzz._RAW), token),
        )
        for doc, path, _ in _paths()
    ]
    # And as an unknown key, which the decoder skips but must still parse.
    payloads.append(("unknown-key", fuzz.serialize({**SINK[0], "x": fuzz._RAW}, token)))
    found = _sweep("deep-nesting", payloads)
    if found:
        pytest.fail(_report_failures(found, SEED), pytrace=False)


# -- 3. the fuzzer catches what it claims to catch ----------------------------------------------


class _Inert(Accumulator):
    """Ignores everything: trivially within the contract."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
        return []

    def add(self, chunk: Any) -> ResponseBody2:
        return ResponseBody2()

    def finalize(self) -> ChatCompletion:
        return self.snapshot()  # nothing fed, nothing to say


class _Leaky(Accumulator):
    """Lets a KeyError out for some inputs: those with a quote in one piece."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
        if b'"' in bytes(data):
            raise KeyError("leaked")
        return super().feed(data)


class _Unlocated(Accumulator):
    """Raises a ChunkAggError that says nothing about where."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
        if data:
            raise ChunkError("no position")
        return []


class _Stuck(Accumulator):
    """finalize() raises forever without consuming anything."""

    def finalize(self) -> ChatCompletion:
        raise ChunkError("stuck", event=max(self.event_count, 1), offset=0)


class _SplitDependent(Accumulator):
    """Drops every piece of one byte: a split-dependent result."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
        return [] if len(data) == 1 else super().feed(data)


class _SnapshotBreaks(Accumulator):
    def snapshot(self) -> ChatCompletion:
        raise IndexError("snapshot")


def _case(data: bytes) -> fuzz.Case:
    return fuzz.Case("byte-flip", 1, 0, data, cuts=[1] * len(data))


STREAM = sse({"choices": [{"index": 0, "delta": {"content": "x"}}]})


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (_Leaky, "feed() let KeyError escape"),
        (_Unlocated, "without event/offset"),
        (_Stuck, "no progress"),
        (_SplitDependent, "split differs from the whole feed"),
        (_SnapshotBreaks, "snapshot() after finalize() let IndexError escape"),
    ],
    ids=["escape", "unlocated", "stuck", "split-dependent", "snapshot"],
)
def test_the_checker_catches(factory: fuzz.Factory, expected: str) -> None:
    assert fuzz.check(_case(STREAM)) is None  # the real accumulator is fine on this one
    problem = fuzz.check(_case(STREAM), factory)
    assert problem is not None
    assert expected in problem, problem


def test_the_checker_catches_bad_messages() -> None:
    class VagueError(ChunkError):
        def __str__(self) -> str:
            return "bad"  # event and offset are set, but the message does not say them

    class Vague(Accumulator):
        def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
            chunks = super().feed(data)
            if chunks:
                raise VagueError("bad", event=self.event_count, offset=0)
            return chunks

    problem = fuzz.check(_case(STREAM), Vague)
    assert problem is not None
    assert "does not say where" in problem, problem


def test_the_cli_reports_and_replays_a_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--inputs", "3", "--seed", "5", "--family", "dup-drop", "--out", str(tmp_path)]
    assert fuzz.main(argv, factory=_Leaky) == 1
    out = capsys.readouterr().out
    assert "seed=5" in out
    assert "dup-drop" in out
    assert "VIOLATION dup-drop-seed5-" in out
    assert "KeyError" in out
    reproducers = sorted(tmp_path.glob("*.json"))
    assert reproducers
    meta = orjson.loads(reproducers[0].read_bytes())
    assert meta["seed"] == 5
    assert (
        reproducers[0].with_suffix(".bin").read_bytes()
        == fuzz.make_case("dup-drop", 5, meta["index"]).data
    )
    problem = fuzz.replay(reproducers[0], _Leaky)
    assert problem is not None
    assert "KeyError" in problem
    assert fuzz.main(["--replay", str(reproducers[0])], factory=_Leaky) == 1


def test_the_cli_minimizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--inputs", "1", "--seed", "5", "--family", "dup-drop", "--out", str(tmp_path)]
    assert fuzz.main([*argv, "--minimize"], factory=_Leaky) == 1
    assert "minimized to" in capsys.readouterr().out
    small = sorted(tmp_path.glob("*.min.bin"))
    assert small
    assert small[0].read_bytes() == b'"'  # the smallest input that still leaks


def test_the_cli_passes_a_clean_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # (decode_chunk() is the library's own, so these families avoid deep nesting.)
    families = ["--family", "truncate", "--family", "crlf"]
    argv = ["--inputs", "2", "--seed", "5", *families, "--out", str(tmp_path)]
    assert fuzz.main(argv, factory=_Inert) == 0
    out = capsys.readouterr().out
    assert "truncate                2           0" in out
    assert "VIOLATION" not in out
    assert not list(tmp_path.iterdir())
