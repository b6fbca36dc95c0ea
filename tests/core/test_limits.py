"""The bounds (``chunkagg._core.limits``, and chat's own ``max_tool_calls``) through chat's
``Accumulator``: a 100 MB stream without a newline fails at the first piece past
``max_event_size`` in bounded memory, an absurd index is an error at once, and ``max_choices``,
``max_tool_calls`` and ``max_text_size`` drop each event that would cross them, naming
themselves, while the stream merges on.

The framer's event size limit under every split and line ending is tests/core/test_framing.py;
a format's own bounds are tested in its folder (``max_items``: tests/responses/).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import orjson
import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    choice,
    chunk,
    feed_recovering,
    split_feeds,
    sse,
)

from chunkagg import (
    DEFAULT_MAX_EVENT_SIZE,
    Accumulator,
    ChunkAggError,
    ChunkError,
    LimitExceededError,
    accumulate,
)

MIB = 1 << 20
HUGE = 100 * MIB
J1 = orjson.dumps(chunk(choice(0, role="assistant", content="Hel")))
J2 = orjson.dumps(chunk(choice(0, content="lo")))


# -- a stream without a newline -------------------------------------------------------------------


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


# -- indices --------------------------------------------------------------------------------------


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


# -- max_choices, max_tool_calls, max_text_size ---------------------------------------------------


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


def test_logprob_entries_count_against_max_text_size() -> None:
    token = {"token": "", "logprob": 0, "bytes": [], "top_logprobs": []}
    entries = [chunk({**choice(content=""), "logprobs": {"content": [token] * 100}})] * 50
    with pytest.raises(LimitExceededError, match="max_text_size"):
        accumulate([sse(*entries)], max_text_size=1000)
