"""Hostile and broken streams: nothing lost, truncation, limits, threads (issue 4, items 1 and 3-5).

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
c. Limits: a 100 MB stream without a newline fails at the first piece past ``max_event_size``
   with memory near the limit; absurd indices are an error at once; each limit names itself.
d. Thread safety: many accumulators fed from eight threads at once give the sequential results.
e. The smallest reproducers of the faults the fuzzer (``tests/fuzz.py``) found.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
import pytest
from helpers import (
    BASE_SEED,
    SPLIT_IDS,
    SPLITS,
    Split,
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
    DEFAULT_MAX_EVENT_SIZE,
    Accumulator,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    ResponseBody2,
    StreamError,
    decode_chunk,
)
from chunkagg._core.framing import MAX_RETRY

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


# -- c. limits ----------------------------------------------------------------------------------

MIB = 1 << 20
HUGE = 100 * MIB
J1 = orjson.dumps(chunk(choice(0, role="assistant", content="Hel")))
J2 = orjson.dumps(chunk(choice(0, content="lo")))


@pytest.mark.parametrize(
    ("head", "fmt", "after"),
    [
        (b"data: ", "auto", b"\n\ndata: " + J2 + b"\n\n"),
        # A lone CR first: the WHATWG line path instead of the LF fast path.
        (b"data: " + J1 + b"\r\rdata: ", "auto", b"\r\rdata: " + J2 + b"\r\r"),
        (b"data: " + J1 + b"\r\n\r\ndata: ", "auto", b"\r\n\r\ndata: " + J2 + b"\r\n\r\n"),
        (b"", "ndjson", b"\n" + J2 + b"\n"),
    ],
    ids=["sse-lf", "sse-cr", "sse-crlf", "ndjson"],
)
def test_100_mb_without_newline_fails_fast_in_bounded_memory(
    head: bytes, fmt: str, after: bytes
) -> None:
    limit = DEFAULT_MAX_EVENT_SIZE
    # The payload is exactly k MiB after k pieces: the first piece past the limit is known.
    first_past = limit // MIB + 1
    piece = memoryview(b"x" * MIB)
    acc = Accumulator(format=fmt)  # type: ignore[arg-type]
    acc.feed(head)
    failed_at: list[int] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for k in range(1, HUGE // MIB + 1):
            try:
                acc.feed(piece)
            except LimitExceededError as exc:
                failed_at.append(k)
                assert exc.limit == "max_event_size"
                assert exc.value == limit
                assert exc.offset == len(head) - (6 if head.endswith(b"data: ") else 0)
                assert "max_event_size" in str(exc)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert failed_at == [first_past], failed_at
    assert peak < 3 * limit + MIB, f"peak {peak / MIB:.1f} MiB for a {limit / MIB:.0f} MiB limit"
    # The stream goes on: the event after the next newline merges.
    merged = acc.feed(after)
    assert [c.choices[0].delta.content for c in merged if c.choices and c.choices[0].delta] == [
        "lo"
    ]
    content = canonical(acc.finalize())["choices"][0]["message"]["content"]
    assert content == ("Hello" if J1 in head else "lo")


ABSURD = [-1, -(2**31), 10**9, 2**64, 10**400]


@pytest.mark.parametrize("value", ABSURD, ids=["-1", "-2^31", "1e9", "2^64", "1e400"])
@pytest.mark.parametrize("where", ["choice", "tool-call"])
def test_absurd_index_is_an_error_at_once(where: str, value: int) -> None:
    digits = str(value).encode()
    if where == "choice":
        bad = b'{"choices":[{"index":' + digits + b',"delta":{"content":"ZZZ"}}]}'
    else:
        bad = (
            b'{"choices":[{"index":0,"delta":{"content":"ZZZ","tool_calls":[{"index":'
            + digits
            + b',"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}'
        )
    head = sse(J1, done=False)
    acc = Accumulator()
    acc.feed(head)
    tracemalloc.start()
    try:
        with pytest.raises(ChunkAggError) as info:
            acc.feed(b"data: " + bad + b"\n\n")  # the feed that completes the event raises
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = info.value
    assert (err.event, err.offset) == (2, len(head))
    assert "index" in str(err)
    if value < 0:
        assert type(err) is ChunkError
        assert "negative" in str(err)
    else:
        assert isinstance(err, LimitExceededError | ChunkError), err
        if isinstance(err, LimitExceededError):
            assert err.limit == ("max_choices" if where == "choice" else "max_tool_calls")
            assert err.value == 128
    assert peak < MIB, f"{peak} bytes for one index"
    acc.feed(sse(J2))
    result = canonical(acc.finalize())
    assert [c["index"] for c in result["choices"]] == [0]
    assert result["choices"][0]["message"] == {"role": "assistant", "content": "Hello"}


def test_a_large_index_under_a_raised_limit_builds_no_list() -> None:
    # With the bound raised, index 10**9 is a valid choice: one entry, not a 10**9-long list.
    acc = Accumulator(max_choices=2**40, max_tool_calls=2**40)
    tool = {"index": 10**9, "id": "c", "function": {"name": "f", "arguments": "{}"}}
    tracemalloc.start()
    try:
        acc.feed(sse(chunk(choice(10**9, content="x", tool_calls=[tool]))))
        result = canonical(acc.finalize())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c["index"] for c in result["choices"]] == [10**9]
    assert peak < MIB


def _limit_run(stream: bytes, split: Split, **limits: Any) -> tuple[Any, list[ChunkAggError]]:
    acc = Accumulator(**limits)
    _, errors = feed_recovering(acc, split_feeds(stream, split))
    return canonical(acc.finalize()), errors


def _message(result: Any, index: int = 0) -> Any:
    return next(c for c in result["choices"] if c["index"] == index)["message"]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_max_choices(split: Split) -> None:
    bad = chunk(choice(2, content="Z"))
    mixed = chunk(choice(0, content="Z"), choice(5, content="Z"))  # rejected whole
    stream = sse(
        chunk(choice(0, role="assistant", content="a")),
        chunk(choice(1, role="assistant", content="b")),
        bad,
        mixed,
        chunk(choice(1, content="c", finish_reason="stop")),
    )
    result, errors = _limit_run(stream, split, max_choices=2)
    assert [type(e) for e in errors] == [LimitExceededError] * 2, f"split={split}"
    for err, payload in zip(errors, [bad, mixed], strict=True):
        assert isinstance(err, LimitExceededError)
        assert (err.limit, err.value) == ("max_choices", 2)
        assert "max_choices=2" in str(err)
        assert err.offset == stream.index(b"data: " + orjson.dumps(payload)), f"split={split}"
    assert [c["index"] for c in result["choices"]] == [0, 1]
    assert _message(result, 0)["content"] == "a"
    assert _message(result, 1)["content"] == "bc"
    assert result["choices"][1]["finish_reason"] == "stop"


def _tool(index: int | None, id: str | None = None, name: str | None = None, args: str = "") -> Any:
    call: dict[str, Any] = {"function": {"arguments": args}}
    if index is not None:
        call["index"] = index
    if id is not None:
        call["id"] = id
        call["type"] = "function"
        call["function"]["name"] = name
    return call


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_max_tool_calls(split: Split) -> None:
    stream = sse(
        chunk(choice(0, role="assistant", tool_calls=[_tool(0, "a", "f", '{"x"')])),
        chunk(choice(0, tool_calls=[_tool(1, "b", "g", "{")])),
        chunk(choice(0, tool_calls=[_tool(2, "c", "h", "{}")])),  # index 2 >= 2
        chunk(choice(0, tool_calls=[_tool(0, args=":1}"), _tool(1, args="}")])),
        # Without indices (Gemini): a third call by id is one too many.
        chunk(choice(1, tool_calls=[_tool(None, "d", "f", "{}"), _tool(None, "e", "g", "{}")])),
        chunk(choice(1, tool_calls=[_tool(None, "f", "h", "{}")])),
        chunk(choice(1, tool_calls=[_tool(None, "e", args=" ")])),
    )
    result, errors = _limit_run(stream, split, max_tool_calls=2)
    assert [type(e) for e in errors] == [LimitExceededError] * 2, f"split={split}"
    assert all(isinstance(e, LimitExceededError) and e.limit == "max_tool_calls" for e in errors)
    assert [e.event for e in errors] == [3, 6]
    assert "max_tool_calls=2" in str(errors[1])
    calls = [(t["id"], t["function"]["arguments"]) for t in _message(result, 0)["tool_calls"]]
    assert calls == [("a", '{"x":1}'), ("b", "{}")]
    calls = [(t["id"], t["function"]["arguments"]) for t in _message(result, 1)["tool_calls"]]
    assert calls == [("d", "{}"), ("e", "{} ")]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_max_text_size(split: Split) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}
    stream = sse(
        chunk(choice(0, role="assistant", content="abcdef")),
        chunk(choice(0, content="ghijkl")),  # crosses 10: still merged (README, limits table)
        chunk(choice(0, content="mno")),  # dropped
        chunk(choice(0, reasoning="r")),  # dropped
        chunk(choice(0, finish_reason="stop")),  # no text: merged
        chunk(choices=[], usage=usage),  # merged
    )
    result, errors = _limit_run(stream, split, max_text_size=10)
    assert [type(e) for e in errors] == [LimitExceededError] * 2, f"split={split}"
    assert all(isinstance(e, LimitExceededError) and e.limit == "max_text_size" for e in errors)
    assert all(
        e.value == 10 and "max_text_size=10" in str(e)
        for e in errors
        if isinstance(e, LimitExceededError)
    )
    assert [e.event for e in errors] == [3, 4]
    assert _message(result) == {"role": "assistant", "content": "abcdefghijkl"}
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"] == usage


# -- d. thread safety ---------------------------------------------------------------------------


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
    data = piece
    while True:
        try:
            chunks.extend(acc.feed(data))
            return
        except ChunkAggError as exc:
            errors.append(exc)
            chunks.extend(exc.chunks)
            data = b""


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


# -- e. minimal reproducers of what the fuzzer found --------------------------------------------
# Each is the smallest input of one kind of violation that ``tests/fuzz.py --minimize`` reported.


def _outcome_by_split(data: bytes, **options: Any) -> dict[str, tuple[Any, ...]]:
    """(errors with positions, completion, done, event count) for every split of ``data``."""
    outcomes = {}
    for split in SPLITS:
        acc = Accumulator(**options)
        _, errors = feed_recovering(acc, split_feeds(data, split))
        result = finalize_recovering(acc, errors)
        outcomes[str(split)] = (
            [(type(e).__name__, e.event, e.offset) for e in errors],
            canonical(result),
            acc.done,
            acc.event_count,
        )
    return outcomes


def _same_for_every_split(data: bytes, **options: Any) -> tuple[Any, ...]:
    outcomes = _outcome_by_split(data, **options)
    whole = outcomes["whole"]
    differ = {split: o for split, o in outcomes.items() if o != whole}
    assert differ == {}, f"whole feed: {whole}; other splits: {differ}"
    return whole


BAD = b'{"choices":"x"}'


@pytest.mark.parametrize(
    "keepalive",
    [b"data: \n\n", b"data:\n\n", b"data: : keepalive\n\n", b": ping\n\n"],
    ids=["empty-data", "empty-data-no-space", "data-colon-keepalive", "comment"],
)
@pytest.mark.parametrize("lead", [b"", b"\n\n"], ids=["", "after-blank-lines"])
def test_keepalive_is_not_an_event_whatever_the_split(lead: bytes, keepalive: bytes) -> None:
    # Found by the fuzzer: b"\n\ndata: \n\ndata: x\n\n" numbers the bad event 1 when fed whole and
    # 2 when fed one byte at a time (the one-line batch path counted the empty data event).
    # quirks.md: an event with no data, or a keep-alive, is ignored; test_errors: not an event.
    data = lead + sse(J1, done=False) + keepalive + b"data: " + BAD + b"\n\n"
    errors, _, _, count = _same_for_every_split(data)
    offset = data.index(b"data: " + BAD)
    assert errors == [("ChunkError", 2, offset)]
    assert count == 2


@pytest.mark.parametrize(
    ("data", "options"),
    [
        (b"data: {}\n\n: " + b"x" * 40 + b"\n\ndata: {}\n\n", {}),  # a long comment
        (b"id: " + b"x" * 40 + b"\n\ndata: {}\n\n", {}),  # a long id
        (b'{"choices":[]}' + b" " * 100 + b"\n", {"format": "ndjson"}),  # trailing blanks
        # A long field name with no value, then a bad event: the fault's offset must not depend
        # on whether the long line was read whole (fuzzer, havoc family, seed 77).
        (b"data: {}\n\nevent\x00" + b"x" * 40 + b"\ndata: 1\n\n", {}),
    ],
    ids=["comment", "id", "ndjson-trailing-blanks", "long-field-name"],
)
def test_a_long_line_that_is_no_data_gives_the_same_outcome_for_every_split(
    data: bytes, options: dict[str, Any]
) -> None:
    # Found by the fuzzer: a line longer than max_event_size whose payload is not over it is
    # accepted when it arrives in one piece, and is a LimitExceededError when it arrives in
    # several (the cap on the unparsed buffer fires first). quirks.md: the same result for every
    # split. Either outcome may be the rule; it must not depend on the reads.
    _same_for_every_split(data, max_event_size=16, **options)


def test_an_oversized_event_is_dropped_whole_whatever_the_split() -> None:
    # Found by the fuzzer: when the first line of an event crosses max_event_size before its line
    # ending arrives, the rest of that event (here its "data: [DONE]" line) was taken for a new
    # event; fed whole, the event is dropped whole. README: "the event at fault is dropped".
    # The limit admits J2, so only the oversized first event is at fault.
    data = b"data: " + b"x" * (len(J2) + 30) + b"\ndata: [DONE]\n\n" + sse(J2, done=False)
    errors, result, done, _ = _same_for_every_split(data, max_event_size=len(J2))
    assert errors == [("LimitExceededError", 1, 0)]
    assert not done
    assert result["choices"][0]["message"]["content"] == "lo"


NESTED_10000 = {
    "array-in-unknown-key": b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "object-in-unknown-key": b'{"x":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
    "object-in-logprobs": (
        b'{"choices":[{"index":0,"delta":{},"logprobs":'
        + b'{"a":' * 10_000
        + b"1"
        + b"}" * 10_000
        + b"}]}"
    ),
    "error-event": b'{"error":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
}


@pytest.mark.parametrize("name", list(NESTED_10000))
def test_10000_levels_of_nesting_are_a_chunk_aggregation_error(name: str) -> None:
    # Found by the fuzzer: msgspec's RecursionError escaped feed(), decode_chunk() and add().
    payload = NESTED_10000[name]
    event = b"event: error\n" if name == "error-event" else b""
    data = sse(J1, done=False) + event + b"data: " + payload + b"\n\n" + sse(J2)
    acc = Accumulator()
    _, errors = feed_recovering(acc, [data])
    assert [type(e) for e in errors] in ([ChunkError], [StreamError]), errors
    assert (errors[0].event, errors[0].offset) == (2, len(sse(J1, done=False)))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hello"


def _nested(shape: str, depth: int = 10_000) -> Any:
    """A chunk dict with ``depth`` levels under an unknown key, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = [value] if shape == "array" else {"a": value}
    return {"x": value, "choices": []}


@pytest.mark.parametrize("shape", ["array", "object"])
def test_10000_levels_of_nesting_through_decode_chunk_and_add(shape: str) -> None:
    payload = NESTED_10000[f"{shape}-in-unknown-key"]
    try:
        decoded = decode_chunk(payload)
    except ChunkError:
        pass
    else:
        Accumulator().add(decoded)
    acc = Accumulator()
    try:
        acc.add(_nested(shape))  # a dict, as the caller's own JSON parser would give it
    except ChunkAggError as exc:
        assert (exc.event, exc.offset) == (1, None)
    acc.add(orjson.loads(J2))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "lo"


@pytest.mark.parametrize("cut", range(1, len(b"[DONE]")))
def test_a_stream_cut_inside_done_is_incomplete(cut: int) -> None:
    # Found by truncating the fixtures: "data: [" ... "data: [DONE" at the end of a stream gave a
    # ChunkError ("Expected `object`, got `array`"), not the incomplete-stream error of a cut.
    head = sse(J1, J2, done=False)
    acc = Accumulator()
    acc.feed(head + b"data: " + b"[DONE]"[:cut])
    with pytest.raises(IncompleteStreamError) as info:
        acc.finalize()
    assert (info.value.event, info.value.offset) == (3, len(head))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hello"


@pytest.mark.parametrize("depth", [200, 900, 990, 1500, 5000])
def test_deeply_nested_error_metadata_through_add_raises_only_chunkagg_errors(depth: int) -> None:
    # Found by the fuzzer (deep-nesting, seed 77): copying the error object for StreamError's
    # payload recursed past the interpreter's limit.
    nested: Any = {}
    for _ in range(depth):
        nested = {"x": nested}
    acc = Accumulator()
    with pytest.raises(ChunkAggError) as info:
        acc.add({"choices": [], "error": {"message": "m", "metadata": nested}})
    assert isinstance(info.value, StreamError | ChunkError)
    assert info.value.event == 1


# -- (f) found by review: one minimal test per finding ----------------------------------------


def test_an_absurd_retry_field_is_clamped_not_an_escape() -> None:
    # int() refuses strings over 4,300 digits (CPython >= 3.11): a ValueError escaped feed()
    # and the stream never recovered. WHATWG takes any run of digits: clamped, not ignored.
    ok = b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'
    for data in (b"retry: " + b"9" * 5000 + b"\n\n" + ok, b"retry: 1500\r\n\r\n" + ok):
        errors, result, _, _ = _same_for_every_split(data)
        assert errors == []
        assert result["choices"][0]["message"]["content"] == "hi"
    acc = Accumulator()
    acc.feed(b"retry: 1500\n\n" + ok)
    assert acc.retry == 1500
    acc.feed(b"retry: " + b"9" * 5000 + b"\n\n")
    assert acc.retry == MAX_RETRY == 10**12
    acc.feed(b"retry: " + b"9" * 19 + b"\n\n")  # 19 digits: ignored before
    assert acc.retry == MAX_RETRY
    acc.feed(b"retry: " + b"0" * 30 + b"25\n\n")  # leading zeros are digits too
    assert acc.retry == 25
    acc.feed(b"retry: 12x\n\n")  # not all digits: ignored
    assert acc.retry == 25


def _calls(index: int, *ids: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in ids:
        call: dict[str, Any] = {"index": index, "function": {"arguments": "{}"}}
        if i is not None:
            call["id"] = i
        out.append(call)
    return out


def test_max_tool_calls_counts_calls_a_chunk_starts_by_new_ids() -> None:
    # Ollama/Groq send index 0 for every call: a first delta gave the id-less call its id, and
    # each later delta with another id started a call the check had not counted.
    first = chunk(choice(0, tool_calls=_calls(0, None)))
    burst = chunk(choice(0, tool_calls=_calls(0, *(f"id{i}" for i in range(10)))))
    acc = Accumulator(max_tool_calls=2)
    acc.add(first)
    with pytest.raises(LimitExceededError) as info:
        acc.add(burst)
    assert info.value.limit == "max_tool_calls"
    calls = acc.finalize().choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 1  # the refused chunk left nothing behind


def test_max_tool_calls_counts_a_choice_listed_twice_in_one_chunk() -> None:
    # Each entry alone starts two calls; together, with new ids at the same indices, four.
    body = chunk(
        choice(0, tool_calls=_calls(0, "a") + _calls(1, "b")),
        choice(0, tool_calls=_calls(0, "c") + _calls(1, "d")),
    )
    acc = Accumulator(max_tool_calls=2)
    with pytest.raises(LimitExceededError):
        acc.add(body)
    assert acc.snapshot().choices == []


def test_fragments_of_one_new_call_in_one_chunk_are_one_call() -> None:
    # vLLM speculative decoding: the same index several times in one chunk is one call, and
    # must not count against max_tool_calls as three.
    fragments = [
        {"index": 0, "id": "t0", "type": "function", "function": {"name": "f", "arguments": "{"}},
        {"index": 0, "function": {"arguments": '"a":'}},
        {"index": 0, "function": {"arguments": "1}"}},
    ]
    acc = Accumulator(max_tool_calls=2)
    acc.add(chunk(choice(0, tool_calls=[{"index": 1, "id": "t1", "function": {"name": "g"}}])))
    acc.add(chunk(choice(0, tool_calls=fragments)))
    calls = acc.finalize().choices[0].message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.arguments) for c in calls] == [("t0", '{"a":1}'), ("t1", "")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_a_bad_payload_reads_the_same_whatever_the_split(eol: bytes) -> None:
    # The batch path handed msgspec the payload with its blanks: the error's payload and message
    # changed with the split.
    data = (b": c\n\ndata:  {bad}  \n\n").replace(b"\n", eol)
    messages = set()
    for split in SPLITS:
        acc = Accumulator()
        with pytest.raises(ChunkError) as info:
            for piece in split_feeds(data, split):
                acc.feed(piece)
            acc.finalize()
        assert info.value.payload == b"{bad}", split
        messages.add(str(info.value))
    assert len(messages) == 1


def test_leading_blank_lines_never_cross_the_limit() -> None:
    # Blank lines before the first event faulted only when they arrived in pieces.
    data = b"\n" * (3 * len(J1)) + sse(J1, done=False)
    errors, result, _, count = _same_for_every_split(data, max_event_size=len(J1))
    assert errors == []
    assert count == 1
    assert result["choices"][0]["message"]["content"] == "Hel"


def test_hand_built_chunk_of_wrong_types_is_refused_whole() -> None:
    # msgspec does not check types in __init__: such a chunk half-merged, then every
    # finalize() raised TypeError.
    from chunkagg import ChunkChoice, Delta

    acc = Accumulator()
    acc.add(chunk(choice(0, content="a")))
    bad = ResponseBody2(choices=[ChunkChoice(delta=Delta(content="ok", refusal=5))])  # type: ignore[arg-type]
    with pytest.raises(ChunkError, match="refusal"):
        acc.add(bad)
    message = acc.finalize().choices[0].message
    assert (message.content, message.refusal) == ("a", None)


@pytest.mark.parametrize("payload", [b"", b'{"choices":[]}'], ids=["blank", "blank-then-chunk"])
def test_a_long_blank_ndjson_line_gives_the_same_outcome_for_every_split(payload: bytes) -> None:
    # A whitespace-only line over the limit is skipped whole, and faulted when split (review,
    # finding 5); with a chunk after the blanks, the line is too long whatever the split.
    a, b = orjson.dumps(chunk(choice(content="a"))), orjson.dumps(chunk(choice(content="b")))
    data = a + b"\n" + b" " * (2 * len(a)) + payload + b"\n" + b + b"\n"
    errors, result, _, _ = _same_for_every_split(data, max_event_size=len(a), format="ndjson")
    expected = [("LimitExceededError", 2, len(a) + 1)] if payload else []
    assert errors == expected
    assert result["choices"][0]["message"]["content"] == "ab"
