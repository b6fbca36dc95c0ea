"""Errors: what is raised for bad chunks and server errors, where it points, and recovery.

The offset an error reports is the byte position of its event in the stream; the tests find that
position in the bytes they build (``data.index(...)``), never from the library.
"""

from __future__ import annotations

from typing import Any

import msgspec
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
    Accumulator,
    ChunkAggError,
    ChunkError,
    IncompleteStreamError,
    LimitExceededError,
    ResponseBody2,
    StreamError,
    decode_chunk,
)

C1 = chunk(choice(0, role="assistant", content="Hel"))
C2 = chunk(choice(0, content="lo"))
C3 = chunk(choice(0, finish_reason="stop"), usage={"prompt_tokens": 2, "completion_tokens": 2})

# What C1, C2, C3 merge to, by hand.
EXPECTED: dict[str, Any] = {
    "id": "chatcmpl-test",
    "object": "chat.completion",
    "created": 1727346172,
    "model": "gpt-test",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 2, "completion_tokens": 2},
}

BAD_PAYLOADS = {
    "truncated-json": b'{"id":"chatcmpl-test","choices":[{"index":0,',
    "not-json": b"upstream timed out",
    "trailing-garbage": b'{"id":"x"}}',
    "choices-string": b'{"id":"chatcmpl-test","choices":"x"}',
    "index-string": b'{"choices":[{"index":"0","delta":{"content":"ZZZ"}}]}',
    "content-number": b'{"choices":[{"index":0,"delta":{"content":5}}]}',
    "id-number": b'{"id":5,"choices":[]}',
    "tool-index-string": b'{"choices":[{"index":0,"delta":{"tool_calls":[{"index":"a"}]}}]}',
    "usage-string": b'{"choices":[],"usage":{"prompt_tokens":"many"}}',
    "logprobs-string": b'{"choices":[{"index":0,"delta":{},"logprobs":{"content":"x"}}]}',
    "top-level-array": b'[{"choices":[]}]',
    "top-level-null": b"null",
    "negative-choice-index": b'{"choices":[{"index":-1,"delta":{"content":"ZZZ"}}]}',
    "negative-tool-index": (
        b'{"choices":[{"index":0,"delta":{"content":"ZZZ","tool_calls":'
        b'[{"index":-1,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}'
    ),
    # A valid choice next to an impossible one: the chunk is rejected whole, "ZZZ" never merges.
    "half-bad-chunk": (
        b'{"choices":[{"index":0,"delta":{"content":"ZZZ"}},{"index":-2,"delta":{}}]}'
    ),
}


def events_of(*payloads: bytes, eol: bytes = b"\n") -> bytes:
    return b"".join(b"data: " + p + eol + eol for p in payloads)


J1, J2, J3 = (orjson.dumps(c) for c in (C1, C2, C3))


# -- ChunkError: position and message ---------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bad", list(BAD_PAYLOADS.values()), ids=list(BAD_PAYLOADS))
def test_bad_chunk_position_and_recovery(bad: bytes, eol: bytes, split: Split) -> None:
    data = events_of(J1, bad, J2, J3, b"[DONE]", eol=eol)
    offset = data.index(b"data: " + bad)
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(data, split))
    where = f"eol={eol!r} split={split}"
    assert len(errors) == 1, f"{where}: {errors!r}"
    err = errors[0]
    assert isinstance(err, ChunkError), where
    assert isinstance(err, ValueError)
    assert err.event == 2, where
    assert err.offset == offset, where
    message = str(err)
    assert "event 2" in message
    assert f"byte offset {offset}" in message, message
    # Everything else is merged: the result is that of the stream without the bad event.
    assert canonical(acc.finalize()) == EXPECTED, where
    assert acc.done


@pytest.mark.parametrize("bad", list(BAD_PAYLOADS.values()), ids=list(BAD_PAYLOADS))
def test_chunk_error_payload_is_the_event_payload(bad: bytes) -> None:
    # _errors.ChunkError: "payload: the raw payload bytes of the event", whether the JSON failed
    # to decode or the decoded chunk could not be merged (an impossible index).
    acc = Accumulator()
    with pytest.raises(ChunkError) as info:
        acc.feed(events_of(J1, bad, J2))
    assert info.value.payload == bad
    assert bad[:20].decode() in str(info.value)


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_event_numbers_count_data_events_only(split: Split) -> None:
    # Comments and events without data are not events; [DONE] is one.
    bad = BAD_PAYLOADS["choices-string"]
    data = (
        b": ping\n\nid: 1\n\n"
        + events_of(J1, b"[DONE]")
        + b"event: ping\n\n: keep-alive\n\n"
        + events_of(J2, bad)
    )
    offset = data.index(b"data: " + bad)
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(data, split))
    assert [(e.event, e.offset) for e in errors] == [(4, offset)], f"split={split}"
    assert acc.event_count == 4


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_several_bad_events_in_one_feed(eol: bytes, split: Split) -> None:
    bad1 = BAD_PAYLOADS["truncated-json"]
    bad2 = BAD_PAYLOADS["content-number"]
    bad3 = BAD_PAYLOADS["negative-choice-index"]
    data = events_of(bad1, J1, bad2, bad3, J2, J3, eol=eol)
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(data, split))
    where = f"eol={eol!r} split={split}"
    assert [(e.event, e.offset) for e in errors if isinstance(e, ChunkError)] == [
        (1, 0),
        (3, data.index(b"data: " + bad2)),
        (4, data.index(b"data: " + bad3)),
    ], where
    assert len(errors) == 3, where
    assert canonical(acc.finalize()) == EXPECTED, where


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_offsets_after_an_error_inside_one_feed(eol: bytes) -> None:
    # Two chunks that decode but cannot merge, in one feed with good chunks around them: each
    # error points at its own event, the second one too.
    bad = BAD_PAYLOADS["negative-choice-index"]
    data = events_of(J1, bad, J2, bad, J3, eol=eol)
    first = data.index(b"data: " + bad)
    second = data.index(b"data: " + bad, first + 1)
    acc = Accumulator()
    _, errors = feed_recovering(acc, [data])
    assert [(e.event, e.offset) for e in errors] == [(2, first), (4, second)]
    assert canonical(acc.finalize()) == EXPECTED


INVALID_UTF8 = b'{"choices":[{"index":0,"delta":{"content":"\x80\xff"}}]}'


@pytest.mark.parametrize(
    "framing",
    [b"data: %s\n\n", b"data: %s\r\n\r\n", b"data: %s\r\r", b"%s\n"],
    ids=["lf", "crlf", "cr", "ndjson"],
)
def test_invalid_utf8_in_a_string_is_a_chunk_error(framing: bytes) -> None:
    # Only ChunkAggError may escape feed() for stream content. (WHATWG would decode the stream
    # with U+FFFD replacement instead; either is acceptable, a UnicodeDecodeError is not.)
    acc = Accumulator()
    acc.feed(framing % J1)
    try:
        acc.feed(framing % INVALID_UTF8 + framing % J2 + framing % J3)
    except ChunkAggError as exc:
        assert isinstance(exc, ChunkError)
        assert exc.event == 2
        acc.feed(b"")
        assert canonical(acc.finalize()) == EXPECTED
    else:
        assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hel\ufffd\ufffdlo"


def test_decode_chunk_invalid_utf8() -> None:
    with pytest.raises(ChunkError):
        decode_chunk(INVALID_UTF8)


def test_offset_counts_the_bom() -> None:
    bom = b"\xef\xbb\xbf"
    data = bom + events_of(BAD_PAYLOADS["not-json"])
    acc = Accumulator()
    with pytest.raises(ChunkError, match="byte offset 3") as info:
        acc.feed(data)
    assert (info.value.event, info.value.offset) == (1, 3)


def test_ndjson_bad_line_offset() -> None:
    bad = BAD_PAYLOADS["index-string"]
    data = J1 + b"\n" + bad + b"\n" + J2 + b"\n" + J3 + b"\n"
    acc = Accumulator()
    with pytest.raises(ChunkError) as info:
        acc.feed(data)
    assert (info.value.event, info.value.offset) == (2, len(J1) + 1)
    assert acc.feed(b"") != []
    result = canonical(acc.finalize())
    assert result == EXPECTED


def test_raising_feed_consumed_only_the_bad_event() -> None:
    data = events_of(J1, BAD_PAYLOADS["not-json"], J2, J3, b"[DONE]")
    acc = Accumulator()
    with pytest.raises(ChunkError):
        acc.feed(data)
    # C1 was merged before the fault; C2, C3 and [DONE] wait for the next call.
    assert canonical(acc.snapshot())["choices"][0]["message"]["content"] == "Hel"
    assert acc.event_count == 2
    assert not acc.done
    resumed = acc.feed(b"")
    assert [c.choices[0].delta.content for c in resumed if c.choices and c.choices[0].delta] == [
        "lo",
        None,
    ]
    assert acc.done
    assert acc.event_count == 5
    assert canonical(acc.finalize()) == EXPECTED


def test_error_message_has_a_short_payload_excerpt() -> None:
    bad = b'{"choices":"' + b"x" * 10_000 + b'"}'
    acc = Accumulator()
    with pytest.raises(ChunkError) as info:
        acc.feed(events_of(bad))
    message = str(info.value)
    assert '{"choices":"xxx' in message
    assert len(message) < 500, len(message)
    assert info.value.payload == bad  # the attribute keeps it all


def test_decode_errors_are_chained() -> None:
    acc = Accumulator()
    with pytest.raises(ChunkError) as info:
        acc.feed(events_of(BAD_PAYLOADS["truncated-json"]))
    assert isinstance(info.value.__cause__, msgspec.DecodeError)


@pytest.mark.parametrize(
    ("payload", "limit"),
    [
        (b'{"choices":[{"index":1000000000,"delta":{"content":"ZZZ"}}]}', "max_choices"),
        (
            b'{"choices":[{"index":0,"delta":{"content":"ZZZ","tool_calls":'
            b'[{"index":1000000000,"id":"c"}]}}]}',
            "max_tool_calls",
        ),
    ],
    ids=["choice", "tool-call"],
)
def test_absurd_index_is_a_limit_error(payload: bytes, limit: str) -> None:
    data = events_of(J1, payload, J2, J3)
    acc = Accumulator()
    with pytest.raises(LimitExceededError, match=limit) as info:
        acc.feed(data)
    err = info.value
    assert err.limit == limit
    assert err.value == 128
    assert (err.event, err.offset) == (2, data.index(b"data: " + payload))
    acc.feed(b"")
    assert canonical(acc.finalize()) == EXPECTED  # "ZZZ" was not merged


# -- errors found at finalize() ---------------------------------------------------------------


def test_complete_but_invalid_last_event_is_a_chunk_error() -> None:
    # A last event without its blank line whose JSON parses but has a wrong type: a bad chunk,
    # not a cut stream.
    bad = BAD_PAYLOADS["choices-string"]
    data = events_of(J1, J2, J3) + b"data: " + bad
    acc = Accumulator()
    acc.feed(data)
    with pytest.raises(ChunkError) as info:
        acc.finalize()
    assert not isinstance(info.value, IncompleteStreamError)
    assert (info.value.event, info.value.offset) == (4, data.index(b"data: " + bad))
    assert canonical(acc.finalize()) == EXPECTED


def test_buffered_bad_event_at_finalize() -> None:
    # The bad event is complete but never drained by a feed() before finalize().
    bad = BAD_PAYLOADS["not-json"]
    acc = Accumulator()
    acc.feed(events_of(J1, J2, J3))
    acc.feed(b"data: " + bad + b"\r")  # held: an LF may follow
    with pytest.raises(ChunkAggError):
        acc.finalize()
    assert canonical(acc.finalize()) == EXPECTED


def test_truncated_stream_error() -> None:
    data = events_of(J1, J2) + b"data: " + J3[:10]
    acc = Accumulator()
    acc.feed(data)
    with pytest.raises(IncompleteStreamError, match="event 3") as info:
        acc.finalize()
    assert not isinstance(info.value, ChunkError)
    assert info.value.offset == len(events_of(J1, J2))
    assert info.value.payload == J3[:10]
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hello"


# -- StreamError: in-band server errors -------------------------------------------------------

ERROR_CASES: list[tuple[str, bytes, str, int | str | None, str | None]] = [
    (
        "openrouter",
        b'{"error":{"message":"Rate limit exceeded","code":429,"type":"rate_limit_error"}}',
        "Rate limit exceeded",
        429,
        "rate_limit_error",
    ),
    (
        "unwrapped",
        b'{"message":"Model overloaded","code":"overloaded"}',
        "Model overloaded",
        "overloaded",
        None,
    ),
    ("not-json", b"upstream connect error", "upstream connect error", None, None),
]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize(
    ("body", "message", "code", "kind"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_error_event(
    body: bytes, message: str, code: int | str | None, kind: str | None, eol: bytes, split: Split
) -> None:
    error_event = (b"event: error\ndata: " + body + b"\n\n").replace(b"\n", eol)
    data = events_of(J1, J2, eol=eol) + error_event + events_of(J3, eol=eol)
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(data, split))
    where = f"eol={eol!r} split={split}"
    assert len(errors) == 1, f"{where}: {errors!r}"
    err = errors[0]
    assert isinstance(err, StreamError), where
    assert not isinstance(err, ChunkError)
    assert err.message == message
    assert err.code == code
    assert err.type == kind
    assert message in str(err)
    assert err.event == 3
    assert err.offset == data.index(b"event: error"), where
    # Everything merged before stays, and so does what came after.
    assert canonical(acc.finalize()) == EXPECTED, where


def test_error_event_then_finalize_returns_the_partial_result() -> None:
    acc = Accumulator()
    with pytest.raises(StreamError, match="Rate limit"):
        acc.feed(events_of(J1, J2) + b"event: error\ndata: " + ERROR_CASES[0][1] + b"\n\n")
    partial = canonical(acc.finalize())
    assert partial["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hello"}}
    ]
    assert "usage" not in partial


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_chunk_with_error_object(split: Split) -> None:
    error_chunk = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        "error": {
            "message": "Provider returned error",
            "code": 502,
            "metadata": {"provider_name": "X"},
        },
    }
    payload = orjson.dumps(error_chunk)
    data = events_of(J1, J2, payload, b"[DONE]")
    acc = Accumulator()
    _, errors = feed_recovering(acc, split_feeds(data, split))
    assert len(errors) == 1, f"split={split}: {errors!r}"
    err = errors[0]
    assert isinstance(err, StreamError)
    assert err.message == "Provider returned error"
    assert err.code == 502
    assert err.type is None
    assert err.payload["metadata"] == {"provider_name": "X"}
    assert (err.event, err.offset) == (3, data.index(b"data: " + payload)), f"split={split}"
    assert "Provider returned error" in str(err)
    assert "event 3" in str(err)
    result = canonical(acc.finalize())
    assert result["choices"][0]["message"]["content"] == "Hello"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_error_null_is_not_an_error(split: Split) -> None:
    # The openai-go gjson trap: "error": null on every normal chunk.
    data = sse(*({**c, "error": None} for c in (C1, C2, C3)))
    acc = Accumulator()
    for piece in split_feeds(data, split):
        acc.feed(piece)
    assert canonical(acc.finalize()) == EXPECTED


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


# -- add() and decode_chunk() -----------------------------------------------------------------


def test_add_error_has_event_number_and_no_offset() -> None:
    acc = Accumulator()
    acc.feed(events_of(J1))  # event 1
    acc.add(decode_chunk(J2))  # event 2
    bad = decode_chunk(BAD_PAYLOADS["negative-choice-index"])  # decodes: the index is an int
    with pytest.raises(ChunkError, match="event 3") as info:
        acc.add(bad)
    err = info.value
    assert err.event == 3
    assert err.offset is None
    assert "byte offset" not in str(err)
    acc.add(decode_chunk(J3))
    assert canonical(acc.finalize()) == EXPECTED


def test_add_stream_error() -> None:
    acc = Accumulator()
    acc.add(decode_chunk(J1))
    with pytest.raises(StreamError) as info:
        acc.add(decode_chunk(b'{"choices":[],"error":{"message":"boom","code":"E1"}}'))
    assert (info.value.message, info.value.code) == ("boom", "E1")
    assert (info.value.event, info.value.offset) == (2, None)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, str])
def test_decode_chunk_accepts_bytes_and_str(kind: type) -> None:
    raw = orjson.dumps(
        chunk(choice(0, content="日本 😀"), obfuscation="abc", prompt_filter_results=[{}])
    )
    value = raw.decode() if kind is str else kind(raw)
    decoded = decode_chunk(value)
    assert isinstance(decoded, ResponseBody2)
    assert decoded.id == "chatcmpl-test"
    assert decoded.created == 1727346172
    assert isinstance(decoded.created, int)
    delta = decoded.choices[0].delta
    assert delta is not None
    assert delta.content == "日本 😀"


@pytest.mark.parametrize("bad", list(BAD_PAYLOADS.values())[:12], ids=list(BAD_PAYLOADS)[:12])
def test_decode_chunk_errors(bad: bytes) -> None:
    with pytest.raises(ChunkError) as info:
        decode_chunk(bad)
    err = info.value
    assert err.event is None
    assert err.offset is None
    assert err.payload == bad
    assert "event" not in str(err).split("(payload")[0]
    with pytest.raises(ChunkError):
        decode_chunk(bad.decode())


@pytest.mark.parametrize("value", [None, 42, ["data"], {"id": "x"}])
def test_decode_chunk_rejects_other_types(value: Any) -> None:
    with pytest.raises(TypeError):
        decode_chunk(value)


def test_error_hierarchy() -> None:
    for cls in (ChunkError, StreamError, IncompleteStreamError, LimitExceededError):
        assert issubclass(cls, ChunkAggError)
    assert issubclass(ChunkError, ValueError)
    assert not issubclass(StreamError, ChunkError)
    assert not issubclass(IncompleteStreamError, ChunkError)
