"""Hostile and broken streams: nothing lost, truncation at every byte, threads (issue 4, items 1,
3 and 5).

a. Nothing lost: one faulty event injected anywhere in a valid stream (generated or a fixture),
   fed in random splits with recovery, gives exactly the completion of the stream without it, and
   one error of the documented class at the right event and byte offset. A chunk with an ``error``
   object is the documented exception: its choices are merged before ``StreamError``.
b. Truncation at every byte: ``snapshot()`` after the cut is the completion of the events wholly
   before it, and does not disturb further feeding; ``finalize()`` returns (the cut falls between
   events, or after a complete payload) or raises ``IncompleteStreamError`` (the cut is inside a
   payload). A fixture's payloads are JSON objects and ``[DONE]``, and no proper prefix of either
   parses, so no cut makes a complete-but-invalid event: a ``ChunkError`` from a cut is a bug.
   Tool-call arguments cut mid-JSON are kept verbatim.
c. Thread safety: many accumulators fed from eight threads at once give the sequential results.

The limits (issue 4, item 4) are tests/core/test_limits.py; the smallest reproducers of what the
fuzzer (``tests/fuzz.py``) and review found are with the tests of their concern
(tests/core/test_framing_splits.py, test_schema.py, test_stream.py, test_limits.py).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
import pytest
from helpers import (
    BASE_SEED,
    canonical,
    choice,
    chunk,
    data_payloads,
    feed_recovering,
    finalize_recovering,
    fixture_pairs,
    random_stream,
    replace_at,
    split_feeds,
    sse,
    streams,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkagg import (
    Accumulator,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    ResponseBody2,
    StreamError,
)

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PAIRS = fixture_pairs()
FIXTURES = {
    name: (stream.read_bytes(), json.loads(expected.read_bytes()))
    for name, stream, expected in PAIRS
}


def _cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


FRAMINGS = ["lf", "crlf", "cr", "ndjson"]
EOL = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}


def block(payload: bytes, framing: str, event_type: bytes = b"") -> bytes:
    """One complete event in ``framing``."""
    if framing == "ndjson":
        return payload + b"\n"
    eol = EOL[framing]
    head = b"event: " + event_type + eol if event_type else b""
    return head + b"data: " + payload + eol + eol


def blocks(payloads: list[bytes], framing: str) -> list[bytes]:
    out = [block(p, framing) for p in payloads]
    if framing != "ndjson":
        out.append(block(b"[DONE]", framing))
    return out


# -- a. nothing lost ----------------------------------------------------------------------------

# A fault that would show if any of it were merged: its own id, model, text, tool call and usage.
FAULT_BASE = chunk(
    choice(
        0,
        content="ZZZ",
        finish_reason="FAULT",
        tool_calls=[
            {
                "index": 0,
                "id": "call_FAULT",
                "type": "function",
                "function": {"name": "FAULT", "arguments": '{"z":'},
            }
        ],
    ),
    id="chatcmpl-FAULT",
    model="FAULT",
    usage={"prompt_tokens": 999, "completion_tokens": 999, "total_tokens": 1998},
)

TC = ("choices", 0, "delta", "tool_calls", 0)
WRONG_TYPES: list[tuple[tuple[str | int, ...], Any]] = [
    (("id",), 5),
    (("id",), ["x"]),
    (("choices",), "x"),
    (("choices",), {"index": 0}),
    (("created",), "now"),
    (("model",), 1),
    (("object",), {}),
    (("usage",), "x"),
    (("usage", "prompt_tokens"), "999"),
    (("error",), "boom"),
    (("choices", 0), "x"),
    (("choices", 0, "index"), "0"),
    (("choices", 0, "index"), 0.5),
    (("choices", 0, "index"), None),
    (("choices", 0, "delta"), "x"),
    (("choices", 0, "delta", "content"), 5),
    (("choices", 0, "delta", "content"), {"text": "ZZZ"}),  # a list of parts is content
    (("choices", 0, "delta", "role"), True),
    (("choices", 0, "delta", "tool_calls"), {"index": 0}),
    (("choices", 0, "finish_reason"), 1),
    (("choices", 0, "logprobs"), "x"),
    ((*TC, "index"), "0"),
    ((*TC, "function"), "f"),
    ((*TC, "function", "arguments"), {"z": 1}),
]
MALFORMED = [
    b"not json",
    b"{",
    b"[",
    b'{"id":"x"}}',
    b'{"choices":[{"index":0,"delta":{"content":"ZZZ"}}]',
    b'{"choices":[{"index":0,"delta":{"content":"Z\\x"}}]}',
    b'{"choices":[{"index":0,"delta":{"content":"Z\x01Z"}}]}',
    b"null",
    b"[]",
    b'"ZZZ"',
    b"{}{}",
]
ERROR_BODIES = [
    b'{"error":{"message":"Rate limit exceeded","code":429,"type":"rate_limit_error"}}',
    b'{"message":"Model overloaded","code":"overloaded"}',
    b"upstream connect error",
]


@dataclass
class Fault:
    """One faulty event and what it must cause."""

    payload: bytes
    error: type[ChunkAggError]
    event_type: bytes = b""
    limit: str | None = None
    max_event_size: int | None = None
    merged_as: bytes | None = None  # the payload the stream is expected to have merged instead


@st.composite
def faults(draw: st.DrawFn, payloads: list[bytes], framing: str) -> Fault:
    kinds = ["malformed", "wrong-type", "negative", "absurd", "oversize", "error-chunk"]
    if framing != "ndjson":
        kinds.append("error-event")
    kind = draw(st.sampled_from(kinds), label="fault")
    if kind == "malformed":
        base = orjson.dumps(FAULT_BASE)
        truncated = base[: draw(st.integers(1, len(base) - 1))]
        return Fault(draw(st.sampled_from([*MALFORMED, truncated])), ChunkError)
    if kind == "wrong-type":
        path, value = draw(st.sampled_from(WRONG_TYPES))
        return Fault(orjson.dumps(replace_at(FAULT_BASE, path, value)), ChunkError)
    if kind == "negative":
        bad = draw(
            st.sampled_from(
                [
                    replace_at(FAULT_BASE, ("choices", 0, "index"), -1),
                    replace_at(FAULT_BASE, (*TC, "index"), -1),
                    # A valid choice beside an impossible one: rejected whole.
                    {**FAULT_BASE, "choices": [*FAULT_BASE["choices"], {"index": -2, "delta": {}}]},
                ]
            )
        )
        return Fault(orjson.dumps(bad), ChunkError)
    if kind == "absurd":
        where, limit = draw(
            st.sampled_from(
                [(("choices", 0, "index"), "max_choices"), ((*TC, "index"), "max_tool_calls")]
            )
        )
        value = draw(st.sampled_from([128, 10**9, 2**63, 10**30]))
        # orjson refuses ints past 64 bits: a placeholder is swapped for the digits.
        bad = orjson.dumps(replace_at(FAULT_BASE, where, "@big@"))
        return Fault(bad.replace(b'"@big@"', str(value).encode()), LimitExceededError, limit=limit)
    if kind == "oversize":
        size = max(len(p) for p in payloads) + 64
        big = replace_at(FAULT_BASE, ("choices", 0, "delta", "content"), "Z" * (size + 100))
        return Fault(
            orjson.dumps(big), LimitExceededError, limit="max_event_size", max_event_size=size
        )
    if kind == "error-event":
        return Fault(draw(st.sampled_from(ERROR_BODIES)), StreamError, event_type=b"error")
    error = {"message": "Provider returned error", "code": 502}
    return Fault(
        orjson.dumps({**FAULT_BASE, "error": error}),
        StreamError,
        merged_as=orjson.dumps(FAULT_BASE),
    )


FIXTURE_SOURCES = [
    (name, data_payloads(data), canonical(expected)) for name, (data, expected) in FIXTURES.items()
]


@st.composite
def sources(draw: st.DrawFn) -> tuple[str, list[bytes], Any]:
    """(name, payloads, expected completion): a captured fixture or a generated stream."""
    if draw(st.booleans(), label="from a fixture"):
        source: tuple[str, list[bytes], Any] = draw(st.sampled_from(FIXTURE_SOURCES))
        return source
    truth, chunks = draw(streams())
    expected: Any = canonical(truth)
    return "generated", [orjson.dumps(c) for c in chunks], expected


def _final(stream: bytes, **limits: Any) -> Any:
    acc = Accumulator(**limits)
    errors: list[ChunkAggError] = []
    feed_recovering(acc, [stream])
    result = canonical(finalize_recovering(acc, errors))
    assert errors == []
    return result


@SETTINGS
@given(source=sources(), framing=st.sampled_from(FRAMINGS), data=st.data())
def test_nothing_lost(
    source: tuple[str, list[bytes], Any], framing: str, data: st.DataObject
) -> None:
    name, payloads, expected = source
    fault = data.draw(faults(payloads, framing))
    clean = blocks(payloads, framing)
    pos = data.draw(st.integers(0, len(clean)), label="position")
    bad = block(fault.payload, framing, fault.event_type)
    stream = b"".join([*clean[:pos], bad, *clean[pos:]])
    offset = len(b"".join(clean[:pos]))
    limits: dict[str, Any] = {"format": "ndjson" if framing == "ndjson" else "sse"}
    if fault.max_event_size is not None:
        limits["max_event_size"] = fault.max_event_size

    # The stream without the fault finalizes to its truth (or the fixture's expected file); for a
    # chunk with an error object, the documented result is that of its choices merged.
    if fault.merged_as is None:
        assert _final(b"".join(clean), **limits) == expected, name
    else:
        merged = [*clean[:pos], block(fault.merged_as, framing), *clean[pos:]]
        expected = _final(b"".join(merged), **limits)

    points = data.draw(st.lists(st.integers(0, len(stream)), max_size=30), label="cut points")
    acc = Accumulator(**limits)
    _, errors = feed_recovering(acc, _cut(stream, points))
    finalize_errors: list[ChunkAggError] = []
    result = canonical(finalize_recovering(acc, finalize_errors))
    assert finalize_errors == [], finalize_errors
    assert [type(e) for e in errors] == [fault.error], errors
    err = errors[0]
    assert (err.event, err.offset) == (pos + 1, offset), err
    assert f"event {pos + 1}" in str(err)
    assert f"byte offset {offset}" in str(err)
    if fault.limit is not None:
        assert isinstance(err, LimitExceededError)
        assert err.limit == fault.limit
    assert result == expected, f"{name}: fault at event {pos + 1} ({framing}) changed the result"
    assert acc.done == (framing != "ndjson")


def _dumps(doc: Any) -> bytes:
    return orjson.dumps(doc)


# (payload, event type, error, max_event_size or 0): one of each kind of fault.
EVERY_FAULT: list[tuple[bytes, bytes, type[ChunkAggError], int]] = [
    (MALFORMED[4], b"", ChunkError, 0),
    (_dumps(replace_at(FAULT_BASE, ("choices", 0, "delta", "content"), 5)), b"", ChunkError, 0),
    (_dumps(replace_at(FAULT_BASE, ("choices", 0, "index"), -1)), b"", ChunkError, 0),
    (_dumps(replace_at(FAULT_BASE, (*TC, "index"), 10**9)), b"", LimitExceededError, 0),
    (ERROR_BODIES[0], b"error", StreamError, 0),
    (
        _dumps(replace_at(FAULT_BASE, ("choices", 0, "delta", "content"), "Z" * 9000)),
        b"",
        LimitExceededError,
        8192,
    ),
]


@pytest.mark.parametrize(
    ("name", "payloads", "expected"), FIXTURE_SOURCES, ids=[s[0] for s in FIXTURE_SOURCES]
)
def test_nothing_lost_in_every_fixture(name: str, payloads: list[bytes], expected: Any) -> None:
    # The property draws fixtures and faults at random; this puts one of each kind of fault in
    # the middle of every fixture, fed one byte at a time, so none is left to chance.
    clean = blocks(payloads, "lf")
    pos = len(clean) // 2
    offset = len(b"".join(clean[:pos]))
    for payload, event_type, error, limit in EVERY_FAULT:
        stream = b"".join([*clean[:pos], block(payload, "lf", event_type), *clean[pos:]])
        acc = Accumulator(max_event_size=limit) if limit else Accumulator()
        _, errors = feed_recovering(acc, split_feeds(stream, "bytewise"))
        where = f"{name}: {payload[:60]!r}"
        assert [(type(e), e.event, e.offset) for e in errors] == [(error, pos + 1, offset)], where
        assert canonical(acc.finalize()) == expected, where
    # A chunk with an error object: StreamError, and its choices merged (README, quirks.md).
    error_chunk = {**FAULT_BASE, "error": {"message": "Provider returned error", "code": 502}}
    stream = b"".join([*clean[:pos], block(_dumps(error_chunk), "lf"), *clean[pos:]])
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(stream, "bytewise"))
    assert [(type(e), e.event, e.offset) for e in errors] == [(StreamError, pos + 1, offset)]
    result = canonical(acc.finalize())
    assert result == _final(b"".join([*clean[:pos], block(_dumps(FAULT_BASE), "lf"), *clean[pos:]]))
    assert "ZZZ" in result["choices"][0]["message"]["content"]


# -- b. truncation at every byte ----------------------------------------------------------------

TRUNCATED = [
    ("openai-python/4cc50a6135d2", "lf", None),  # plain text, 1 KB
    ("openai-python/83b060bae42e", "cr", None),
    ("openai-python/2018feb66ae1", "lf", None),  # a tool call, cut inside its arguments
    ("openai-python/a247c49c5fcd", "ndjson", None),  # tool calls
    ("openai-python/f82268f2fefd", "lf", 400),  # two parallel tool calls: a sample of cuts
    ("openai-go/mockResponseBody", "lf", 300),  # 75 KB: a sample of cuts
]


def _mini_tool_args(payloads: list[bytes]) -> dict[tuple[int, int], str]:
    """Tool-call arguments of the given chunks, joined by hand (index-keyed, as OpenAI sends)."""
    args: dict[tuple[int, int], str] = {}
    for payload in payloads:
        for ch in orjson.loads(payload).get("choices") or []:
            for tc in (ch.get("delta") or {}).get("tool_calls") or []:
                key = (ch["index"], tc["index"])
                args[key] = args.get(key, "") + ((tc.get("function") or {}).get("arguments") or "")
    return args


def _snapshot_args(result: Any) -> dict[tuple[int, int], str]:
    return {
        (ch["index"], i): tc["function"]["arguments"]
        for ch in result["choices"]
        for i, tc in enumerate(ch["message"].get("tool_calls") or [])
    }


@dataclass
class Expected:
    """What a cut at some byte must give."""

    whole: int  # events wholly before the cut
    merges_tail: bool  # finalize() merges the cut event (its payload is complete)
    incomplete: bool  # finalize() raises IncompleteStreamError


def _expect(events: list[bytes], framing: str, cut: int) -> Expected:
    ends = list(itertools.accumulate(len(e) for e in events))
    whole = sum(1 for end in ends if end <= cut)
    start = ends[whole - 1] if whole else 0
    partial = b"".join(events)[start:cut]
    if framing == "ndjson":
        payload = partial.strip()
    else:
        lines = partial.split(EOL[framing])
        data = [line[5:] for line in lines if line.startswith(b"data:")]
        payload = b"\n".join(d[1:] if d[:1] == b" " else d for d in data).strip()
    if not payload or payload == b"[DONE]":
        return Expected(whole, False, False)
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return Expected(whole, False, True)
    assert isinstance(value, dict), payload  # no cut makes a complete-but-invalid event
    return Expected(whole, True, False)


@pytest.mark.parametrize(
    ("name", "framing", "sample"), TRUNCATED, ids=[f"{n}-{f}" for n, f, _ in TRUNCATED]
)
def _finalize_after_cut(acc: Accumulator, want: Expected, starts: list[int]) -> tuple[Any, str]:
    """finalize() at a cut: (the completion it finally returns, a problem or "").

    Before the first whole event there is no chunk: finalize() then ends with EmptyStreamError
    (after IncompleteStreamError when the cut is inside the event), and the result is the
    snapshot.
    """
    empty = want.whole == 0 and not want.merges_tail
    try:
        result = canonical(acc.finalize())
    except EmptyStreamError:
        if not empty or want.incomplete:
            return None, "finalize() raised EmptyStreamError"
        return canonical(acc.snapshot()), ""
    except ChunkAggError as exc:
        if not want.incomplete or type(exc) is not IncompleteStreamError:
            return None, f"finalize() raised {exc!r:.200}"
        if (exc.event, exc.offset) != (want.whole + 1, starts[want.whole]):
            return None, f"IncompleteStreamError at {(exc.event, exc.offset)}"
        try:
            return canonical(acc.finalize()), ""  # the second finalize(): the partial result
        except EmptyStreamError:
            return (canonical(acc.snapshot()), "") if empty else (None, "EmptyStreamError")
    if want.incomplete:
        return result, "finalize() returned instead of raising IncompleteStreamError"
    if empty:
        return result, "finalize() returned a completion from no chunk"
    return result, ""


@pytest.mark.parametrize(
    ("name", "framing", "sample"), TRUNCATED, ids=[f"{n}-{f}" for n, f, _ in TRUNCATED]
)
def test_truncation_at_every_byte(name: str, framing: str, sample: int | None) -> None:
    data, expected = FIXTURES[name]
    payloads = data_payloads(data)
    events = blocks(payloads, framing)
    stream = b"".join(events)
    starts = [0, *itertools.accumulate(len(e) for e in events)]
    # The completion after each whole event.
    snapshots = []
    acc = Accumulator()
    for event in [b"", *events]:
        acc.feed(event)
        snapshots.append(canonical(acc.snapshot()))
    assert canonical(acc.finalize()) == canonical(expected)
    assert snapshots[-1] == canonical(expected)
    rng = random.Random(BASE_SEED)
    cuts = list(range(len(stream) + 1))
    if sample is not None:
        # Every byte around a few event boundaries and the end, and a random sample of the rest.
        near = {
            s + d
            for s in [*starts[:: max(1, len(starts) // 6)], starts[-2]]
            for d in range(-14, 14)
        }
        cuts = sorted({c for c in near if 0 <= c <= len(stream)} | set(rng.sample(cuts, sample)))
    problems: list[str] = []
    unfinished_args = 0
    for cut in cuts:
        want = _expect(events, framing, cut)
        prefix = stream[:cut]
        pieces = [prefix] if cut % 2 else split_feeds(prefix, "random", rng)
        found = []

        # snapshot() after the cut: the events wholly before it, tool arguments verbatim.
        acc = Accumulator()
        for piece in pieces:
            acc.feed(piece)
        snap = canonical(acc.snapshot())
        if snap != snapshots[want.whole]:
            found.append(f"snapshot() is not the completion of the {want.whole} events before")
        args = _snapshot_args(snap)
        if args != _mini_tool_args(payloads[: min(want.whole, len(payloads))]):
            found.append(f"tool arguments {args} are not the fragments joined")
        for text in args.values():
            try:
                json.loads(text)
            except ValueError:
                unfinished_args += 1  # kept verbatim although not (yet) JSON

        # finalize(): returns, or raises IncompleteStreamError and then returns the same snapshot.
        result, problem = _finalize_after_cut(acc, want, starts)
        if problem:
            found.append(problem)
        elif result != snapshots[want.whole + want.merges_tail]:
            found.append("finalize() did not return the events before the cut")

        # snapshot() does not disturb further feeding: the rest gives the whole completion.
        acc = Accumulator()
        acc.feed(prefix)
        acc.snapshot()
        acc.feed(stream[cut:])
        if canonical(acc.finalize()) != canonical(expected):
            found.append("snapshot() then the rest of the stream is not the whole completion")
        if found:
            problems.append(f"cut at byte {cut} ({stream[max(0, cut - 12) : cut]!r}|): {found}")
    if problems:
        pytest.fail(
            f"{name} ({framing}, {len(stream)} bytes, seed {BASE_SEED}): {len(problems)} of "
            f"{len(cuts)} cuts fail:\n" + "\n".join(problems[:12]),
            pytrace=False,
        )
    if b"tool_calls" in data:
        assert unfinished_args > 0, "no cut fell inside tool-call arguments"


# -- c. thread safety ---------------------------------------------------------------------------


Outcome = tuple[Any, ...]


@dataclass
class Job:
    """One stream to feed: its pieces, and whether to track live events."""

    pieces: list[bytes]
    track: bool


def _jobs() -> list[Job]:
    rng = random.Random(BASE_SEED)
    streams_: list[bytes] = [data for data, _ in FIXTURES.values()]
    for _ in range(40):
        _, chunks = random_stream(rng)
        body = [orjson.dumps(c) for c in chunks]
        if rng.random() < 0.4:  # faults too, so the error paths run concurrently
            body.insert(rng.randint(0, len(body)), rng.choice(MALFORMED[:6]))
            body.insert(
                rng.randint(0, len(body)),
                orjson.dumps(replace_at(FAULT_BASE, ("choices", 0, "index"), 10**9)),
            )
        stream = sse(*body)
        if rng.random() < 0.3:
            stream += b"data: " + orjson.dumps(FAULT_BASE)[:20]  # cut: finalize() raises
        streams_.append(stream)
    return [Job(split_feeds(s, "random", rng), i % 2 == 1) for i, s in enumerate(streams_)]


def _outcome(
    acc: Accumulator,
    errors: list[ChunkAggError],
    chunks: list[ResponseBody2],
    track: bool,
    events: list[Any],
) -> tuple[Any, ...]:
    final: list[ChunkAggError] = []
    result = finalize_recovering(acc, final)
    if track:
        events.extend(acc.take_events())
    return (
        result.to_json(),
        [(type(e).__name__, e.event, e.offset, str(e)) for e in [*errors, *final]],
        [msgspec.json.encode(c) for c in chunks],
        msgspec.json.encode(events),
        acc.done,
        acc.event_count,
    )


def _feed(
    acc: Accumulator, piece: bytes, errors: list[ChunkAggError], chunks: list[ResponseBody2]
) -> None:
    more, faults = feed_recovering(acc, [piece])
    chunks.extend(more)
    errors.extend(faults)


def _sequential(jobs: list[Job]) -> list[Outcome]:
    out = []
    for job in jobs:
        acc = Accumulator(track=job.track)
        errors: list[ChunkAggError] = []
        chunks: list[ResponseBody2] = []
        events: list[Any] = []
        for piece in job.pieces:
            _feed(acc, piece, errors, chunks)
            if job.track:
                events.extend(acc.take_events())
        out.append(_outcome(acc, errors, chunks, job.track, events))
    return out


@pytest.fixture
def fast_switching() -> Iterator[None]:
    # Switch threads as often as the interpreter allows, so that feeds really interleave.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


THREADS = 8


def _threaded(jobs: list[Job]) -> list[Outcome | None]:
    """Feed every job from THREADS threads at once; each thread interleaves its share of them.

    The accumulators are made here and fed and finalized by the workers: no thread affinity.
    """
    accs = [Accumulator(track=job.track) for job in jobs]
    state: list[tuple[list[ChunkAggError], list[ResponseBody2], list[Any]]] = [
        ([], [], []) for _ in jobs
    ]
    results: list[Outcome | None] = [None] * len(jobs)
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            mine = list(range(worker, len(jobs), THREADS))
            barrier.wait()  # all threads start feeding together
            for step in range(max(len(jobs[i].pieces) for i in mine)):
                for i in mine:
                    if step < len(jobs[i].pieces):
                        errors, chunks, events = state[i]
                        _feed(accs[i], jobs[i].pieces[step], errors, chunks)
                        if jobs[i].track:
                            events.extend(accs[i].take_events())
            for i in mine:
                errors, chunks, events = state[i]
                results[i] = _outcome(accs[i], errors, chunks, jobs[i].track, events)
        except BaseException as exc:  # re-raised by the main thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return results


@pytest.mark.usefixtures("fast_switching")
def test_many_accumulators_from_eight_threads_give_the_sequential_results() -> None:
    jobs = _jobs()
    assert len(jobs) >= 5 * THREADS
    expected = _sequential(jobs)
    assert any(e[1] for e in expected)  # some streams raise errors
    assert any(len(job.pieces) > 50 for job in jobs)
    for round_ in range(3):
        results = _threaded(jobs)
        for i, (got, want) in enumerate(zip(results, expected, strict=True)):
            assert got == want, (
                f"round {round_}: stream {i} differs from the sequential run (seed {BASE_SEED})"
            )
