"""SSE framing (WHATWG HTML, "Parsing an event stream") and NDJSON, through the public
``Accumulator`` and, where only the frames tell, through the private ``Framer``.

Every case that is a stream runs whole, one byte at a time and in random slices (``SPLITS``);
expectations are written by hand from the spec and quirks.md.
"""

from __future__ import annotations

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
    feed_all,
    feed_recovering,
    ndjson,
    split_feeds,
    sse,
)

from chunkagg import (
    DEFAULT_MAX_EVENT_SIZE,
    Accumulator,
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    ResponseBody2,
)
from chunkagg._core.framing import Framer

BOM = b"\xef\xbb\xbf"

C1 = chunk(choice(0, role="assistant", content="Hel"))
C2 = chunk(choice(0, content="lo, 世界 😀"))
C3 = chunk(choice(0, finish_reason="stop"))
C4 = chunk(usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8})
J1, J2, J3, J4 = (orjson.dumps(c) for c in (C1, C2, C3, C4))

# What C1..C4 merge to, written out by hand.
EXPECTED: dict[str, Any] = {
    "id": "chatcmpl-test",
    "object": "chat.completion",
    "created": 1727346172,
    "model": "gpt-test",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello, 世界 😀"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
}


def run(data: bytes, split: Split | str = "whole", **kwargs: Any) -> tuple[Accumulator, Any]:
    """Feed ``data`` as ``split`` says, finalize, return the accumulator and canonical result."""
    acc = Accumulator(**kwargs)
    feed_all(acc, data, split)
    return acc, canonical(acc.finalize())


def content(result: Any, index: int = 0) -> Any:
    """The merged content of choice ``index`` in a canonical result (None when absent)."""
    for ch in result["choices"]:
        if ch["index"] == index:
            return ch["message"].get("content")
    raise AssertionError(f"no choice {index} in {result!r}")


def only_content(text: str) -> dict[str, Any]:
    """The canonical completion of streams whose chunks are ``chunk(choice(0, content=...))``."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1727346172,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
    }


def text_chunk(text: str) -> bytes:
    return orjson.dumps(chunk(choice(0, content=text)))


# -- line endings -----------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_endings(eol: str, split: Split) -> None:
    acc, result = run(sse(C1, C2, C3, C4, eol=eol), split)
    assert result == EXPECTED, f"eol={eol!r} split={split}"
    assert acc.done


MIXED = (
    b"data: " + J1 + b"\r\n\n"  # CRLF, then LF: a blank line
    b"data: " + J2 + b"\r\r\n"  # CR, then CRLF
    b"data: " + J3 + b"\n\r"  # LF, then CR
    b"data: " + J4 + b"\r\n\r\n"
    b"data: [DONE]\r\r"
)


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_mixed_line_endings(split: Split) -> None:
    acc, result = run(MIXED, split)
    assert result == EXPECTED, f"split={split}"
    assert acc.done


# Multi-line data whose lines are cut where JSON allows whitespace: a CR/LF handled wrongly (a
# CRLF taken as two line ends dispatches the first half alone) makes the payload invalid JSON.
MULTI = (
    b'data: {"id":"chatcmpl-test","created":1727346172,"model":"gpt-test",{eol}'
    b'data: "choices":[{"index":0,{eol}'
    b'data: "delta":{"content":"A\\u00e9\xe4\xb8\xad\xf0\x9f\x98\x80"}}]}{eol}{eol}'
    b"data: [DONE]{eol}{eol}"
)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_two_way_split(eol: bytes) -> None:
    # CR and LF split across feeds, a multi-byte character split across feeds: every cut point.
    data = MULTI.replace(b"{eol}", eol)
    for cut in range(len(data) + 1):
        acc = Accumulator()
        acc.feed(data[:cut])
        acc.feed(data[cut:])
        assert canonical(acc.finalize()) == only_content("Aé中😀"), f"cut={cut} eol={eol!r}"
        assert acc.done, f"cut={cut}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_multi_line_data(eol: bytes, split: Split) -> None:
    _, result = run(MULTI.replace(b"{eol}", eol), split)
    assert result == only_content("Aé中😀"), f"split={split}"


def test_crlf_split_between_feeds_is_one_line_end() -> None:
    # "\r" ends one feed and "\n" starts the next: one line end, so both data lines stay in one
    # event (two line ends would make a blank line and dispatch the first half alone).
    acc = Accumulator()
    assert acc.feed(b'data: {"choices":[{"index":0,\r') == []
    assert acc.feed(b'\ndata: "delta":{"content":"A"}}]}\r') == []
    assert [c.choices[0].delta.content for c in acc.feed(b"\n\r\n") if c.choices[0].delta] == ["A"]


def test_lone_cr_then_cr_in_next_feed_is_a_blank_line() -> None:
    acc = Accumulator()
    acc.feed(b"data: " + text_chunk("A") + b"\r")
    acc.feed(b"\r")
    acc.feed(b"data: " + text_chunk("B") + b"\r\r")
    assert canonical(acc.finalize()) == only_content("AB")


def test_lone_cr_event_is_returned_by_the_feed_that_completes_it() -> None:
    # WHATWG: a lone CR is a whole line end. "data: ...\r\r" is a complete event, so the feed that
    # brings its blank line must return the chunk: waiting to see whether an LF follows delays
    # every event of a CR-framed stream until the next one starts.
    acc = Accumulator()
    chunks = acc.feed(b"data: " + text_chunk("A") + b"\r\r")
    assert [c.choices[0].delta.content for c in chunks if c.choices[0].delta] == ["A"]


def test_feed_returns_what_each_call_completed() -> None:
    acc = Accumulator()
    half = len(J1) // 2
    assert acc.feed(b"data: " + J1[:half]) == []
    assert acc.feed(J1[half:] + b"\n") == []
    first = acc.feed(b"\ndata: " + J2 + b"\n\ndata: " + J3)
    assert [isinstance(c, ResponseBody2) for c in first] == [True, True]
    assert [c.choices[0].delta.content for c in first if c.choices[0].delta] == [
        "Hel",
        "lo, 世界 😀",
    ]
    last = acc.feed(b"\n\n")
    assert [c.choices[0].finish_reason for c in last] == ["stop"]
    assert acc.feed(b"data: [DONE]\n\n") == []
    assert acc.done


# -- BOM --------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_bom_is_skipped(split: Split) -> None:
    _, result = run(BOM + sse(C1, C2, C3, C4), split)
    assert result == EXPECTED, f"split={split}"


@pytest.mark.parametrize("cut", [1, 2, 3, 4])
def test_bom_split_across_feeds(cut: int) -> None:
    data = BOM + sse(C1, C2, C3, C4)
    acc = Accumulator()
    acc.feed(data[:cut])
    acc.feed(data[cut:])
    assert canonical(acc.finalize()) == EXPECTED


def test_bom_then_bom_byte_by_byte() -> None:
    # Three one-byte feeds of a BOM, then the stream.
    acc = Accumulator()
    for b in BOM:
        assert acc.feed(bytes([b])) == []
    acc.feed(sse(C1, C2, C3, C4))
    assert canonical(acc.finalize()) == EXPECTED


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_only_the_first_bom_is_skipped(split: Split) -> None:
    # WHATWG: one BOM at the start of the stream is ignored. A second one makes the first line's
    # field name "\ufeffdata", which is no field: that event is ignored, the next one counts.
    data = BOM + BOM + b"data: " + text_chunk("A") + b"\n\n" + b"data: " + text_chunk("B") + b"\n\n"
    _, result = run(data, split)
    assert result == only_content("B"), f"split={split}"


def test_bom_later_in_the_stream_is_not_skipped() -> None:
    data = b"data: " + text_chunk("A") + b"\n\n" + BOM + b"data: " + text_chunk("B") + b"\n\n"
    _, result = run(data)
    assert result == only_content("A")


# -- comments, fields, empty events -----------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_comments_are_ignored(eol: bytes, split: Split) -> None:
    data = (
        b": OPENROUTER PROCESSING\n\n"
        b":\n\n"
        b": ping\n"
        b"data: " + J1 + b"\n\n"
        b"data: " + J2 + b"\n"
        b": a comment inside an event\n\n"
        b":\n: two comment lines\n\n"
        b"data: " + J3 + b"\n\n" + b"data: " + J4 + b"\n\n" + b": trailing\n\ndata: [DONE]\n\n"
    ).replace(b"\n", eol)
    acc, result = run(data, split)
    assert result == EXPECTED, f"split={split}"
    assert acc.done


def test_comment_between_data_lines_of_one_event() -> None:
    data = b'data: {"choices":[{"index":0,\n: keep-alive\ndata: "delta":{"content":"A"}}]}\n\n'
    _, result = run(data)
    assert result["choices"][0]["message"]["content"] == "A"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_events_without_data_are_ignored(split: Split) -> None:
    # openai-python#2722: an event with only id/event/retry is not a chunk, never decoded.
    data = (
        b"event: ping\n\n"
        b"id: 1\n\n"
        b"retry: 3000\n\n"
        b"id: 2\n: keep-alive\n\n"
        b"event: message\nid: 3\n\n"
        b"data: " + text_chunk("A") + b"\n\n"
        b"event: heartbeat\n\n"
        b"data: " + text_chunk("B") + b"\n\n"
    )
    acc = Accumulator()
    chunks = feed_all(acc, data, split)
    assert len(chunks) == 2, f"split={split}"
    assert canonical(acc.finalize()) == only_content("AB"), f"split={split}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_data_without_space_and_with_two_spaces(split: Split) -> None:
    # Only one space after the colon is removed; JSON allows the second one.
    data = (
        b"data:" + text_chunk("A") + b"\n\n"
        b"data:  " + text_chunk("B") + b"\n\n"
        b"data:\t" + text_chunk("C") + b"\n\n"
        b"data:[DONE]\n\n"
    )
    acc, result = run(data, split)
    assert result == only_content("ABC"), f"split={split}"
    assert acc.done


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_data_colon_keepalive_is_ignored(split: Split) -> None:
    # Vertex partner models and gateways wrap a comment as data: "data: : keepalive".
    data = (
        b"data: : keepalive\n\n"
        b"data: " + text_chunk("A") + b"\n\n"
        b"data: :\n\n"
        b"data: : OPENROUTER PROCESSING\n\n"
        b"data: " + text_chunk("B") + b"\n\n"
    )
    _, result = run(data, split)
    assert result == only_content("AB"), f"split={split}"


def test_field_without_colon_is_a_field_with_empty_value() -> None:
    # WHATWG: "data" alone appends an empty line to the data buffer: payload "\n{...}".
    data = b"data\ndata: " + text_chunk("A") + b"\n\n"
    _, result = run(data)
    assert result == only_content("A")


def test_unknown_and_miscased_fields_are_ignored() -> None:
    data = (
        b"Data: " + text_chunk("X") + b"\n\n"  # field names are case-sensitive
        b" data: " + text_chunk("Y") + b"\n\n"  # " data" is not "data"
        b"foo: bar\ndata: " + text_chunk("A") + b"\n\n"
    )
    _, result = run(data)
    assert result == only_content("A")


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_blank_line_runs(eol: bytes, split: Split) -> None:
    data = (
        b"\n\n\n"
        + b"data: "
        + J1
        + b"\n\n\n\n\n"
        + b"data: "
        + J2
        + b"\n\n\n"
        + b"data: "
        + J3
        + b"\n\n"
        + b"data: "
        + J4
        + b"\n\n\n\n"
        + b"data: [DONE]\n\n\n\n"
    ).replace(b"\n", eol)
    acc, result = run(data, split)
    assert result == EXPECTED, f"eol={eol!r} split={split}"
    assert acc.done


@pytest.mark.parametrize(
    ("stream", "says"),
    [
        (b"", "the stream is empty"),
        (b": ping\n\n:\n\n", "without a single SSE data: event"),
        (b"\n\r\n  \n", "bytes of blank lines"),
        (b"data: [DONE]\n\n", "only \\[DONE\\]"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "looks like HTML"),
    ],
    ids=["empty", "comments", "blank-lines", "only-done", "html"],
)
def test_a_stream_without_a_chunk_is_an_error_that_says_what_arrived(
    stream: bytes, says: str
) -> None:
    # It would pass as a plausible empty completion otherwise.
    for split in SPLITS:
        acc = Accumulator()
        feed_all(acc, stream, split)
        with pytest.raises(EmptyStreamError, match=f"no chunk at all: .*{says}") as info:
            acc.finalize()
        assert (info.value.received, info.value.head) == (len(stream), stream[:64])
        with pytest.raises(EmptyStreamError):  # again: there is still nothing to return
            acc.finalize()
        assert acc.snapshot().choices == []  # the state itself is readable


# -- event:, id:, retry: ------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_last_event_id(split: Split) -> None:
    acc = Accumulator()
    assert acc.last_event_id == ""
    feed_all(acc, b"id: 41\ndata: " + text_chunk("A") + b"\n\n", split)
    assert acc.last_event_id == "41", f"split={split}"
    # An event with an id and no data still sets it (WHATWG: set on dispatch, before the
    # empty-data check).
    feed_all(acc, b"id: 42\n\n", split)
    assert acc.last_event_id == "42", f"split={split}"
    # An id containing NUL is ignored.
    feed_all(acc, b"id: 4\x003\ndata: " + text_chunk("B") + b"\n\n", split)
    assert acc.last_event_id == "42", f"split={split}"
    # "id: 日本" is kept as text; "id" with no value resets it.
    feed_all(acc, "id: 日本\n\n".encode(), split)
    assert acc.last_event_id == "日本", f"split={split}"
    feed_all(acc, b"id\n\n", split)
    assert acc.last_event_id == "", f"split={split}"
    assert canonical(acc.finalize()) == only_content("AB")


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_last_event_id_is_set_when_the_event_is_dispatched(eol: bytes) -> None:
    # WHATWG: "id:" fills the last event ID *buffer*; the event source's last event ID changes
    # only when the event is dispatched. A client resuming after a cut inside event 8 must send
    # Last-Event-ID 7, or the server will not resend event 8.
    acc = Accumulator()
    acc.feed((b"id: 7\ndata: " + text_chunk("A") + b"\n\n").replace(b"\n", eol))
    assert acc.last_event_id == "7"
    acc.feed((b"id: 8\ndata: " + text_chunk("B")[:10]).replace(b"\n", eol))
    assert acc.last_event_id == "7"


def test_retry_field() -> None:
    framer = Framer("auto", DEFAULT_MAX_EVENT_SIZE)
    framer.feed(b"retry: 1500\n\n")
    assert framer.retry == 1500
    framer.feed(b"retry: 15x0\n\nretry: -1\n\nretry:\n\n")  # not all ASCII digits: ignored
    assert framer.retry == 1500
    framer.feed(b"retry:250\n\n")
    assert framer.retry == 250
    assert framer.frames == []


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_event_type_other_than_error_is_a_chunk(split: Split) -> None:
    data = (
        b"event: message\ndata: " + text_chunk("A") + b"\n\nevent: delta\ndata: " + text_chunk("B")
    )
    _, result = run(data + b"\n\n", split)
    assert result == only_content("AB"), f"split={split}"


def test_event_type_does_not_leak_into_the_next_event() -> None:
    # "event: error" on an event without data is dropped with it (the type buffer is reset).
    data = b"event: error\n\ndata: " + text_chunk("A") + b"\n\n"
    _, result = run(data)
    assert result == only_content("A")


# -- [DONE] -----------------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_done_sets_done(split: Split) -> None:
    acc = Accumulator()
    feed_all(acc, sse(C1, C2, done=False), split)
    assert not acc.done
    feed_all(acc, b"data: [DONE]\n\n", split)
    assert acc.done, f"split={split}"
    assert content(canonical(acc.finalize())) == "Hello, 世界 😀"


def test_done_inside_content_is_not_done() -> None:
    acc, result = run(sse(chunk(choice(0, content="[DONE]")), done=False))
    assert not acc.done
    assert content(result) == "[DONE]"


def test_done_without_closing_blank_line() -> None:
    acc = Accumulator()
    acc.feed(sse(C1, done=False) + b"data: [DONE]")
    acc.finalize()
    assert acc.done


# -- NDJSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("fmt", ["auto", "ndjson"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_ndjson(eol: str, fmt: str, split: Split) -> None:
    _acc, result = run(ndjson(C1, C2, C3, C4, eol=eol), split, format=fmt)
    assert result == EXPECTED, f"format={fmt} eol={eol!r} split={split}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_ndjson_auto_detection_skips_leading_blank_space(split: Split) -> None:
    data = b"\n \r\n\t" + ndjson(C1, C2) + b"\n\n" + ndjson(C3, C4)
    _, result = run(data, split)
    assert result == EXPECTED, f"split={split}"


def test_ndjson_after_bom() -> None:
    _, result = run(BOM + ndjson(C1, C2, C3, C4))
    assert result == EXPECTED


def test_ndjson_last_line_without_newline() -> None:
    _, result = run(ndjson(C1, C3, C4) + J2)
    assert result == EXPECTED


def test_ndjson_truncated_last_line() -> None:
    acc = Accumulator()
    data = ndjson(C1, C2) + J3[:-3]
    acc.feed(data)
    with pytest.raises(IncompleteStreamError) as info:
        acc.finalize()
    assert info.value.event == 3
    assert info.value.offset == len(ndjson(C1, C2))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hello, 世界 😀"


def test_auto_detects_sse_from_first_byte() -> None:
    # "d" of "data:" and ":" of a comment both mean SSE; leading blank lines do not decide.
    for prefix in (b"", b"\n\n", b": hi\n\n"):
        _, result = run(prefix + sse(C1, C2, C3, C4))
        assert result == EXPECTED, prefix


def test_explicit_sse_does_not_read_ndjson() -> None:
    # format="sse": a line '{"id":...}' is a field named '{"id"', not data, so nothing merges.
    acc = Accumulator(format="sse")
    assert acc.feed(ndjson(C1, C2, C3, C4)) == []
    with pytest.raises(EmptyStreamError, match="without a single SSE data: event"):
        acc.finalize()


def test_bad_format_argument() -> None:
    with pytest.raises(ValueError, match="format"):
        Accumulator(format="xml")  # type: ignore[arg-type]


# -- the end of the stream --------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("end", [b"", b"\n", b"\r\n", b"\r"], ids=["none", "lf", "crlf", "cr"])
def test_last_event_without_blank_line(end: bytes, split: Split) -> None:
    # The last event carries content, so merging it twice would show.
    data = sse(C1, C4, C3, done=False) + b"data: " + J2 + end
    _, result = run(data, split)
    assert result == EXPECTED, f"end={end!r} split={split}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("end", [b"", b"\n"], ids=["none", "lf"])
def test_truncated_last_event(end: bytes, split: Split) -> None:
    head = sse(C1, C2, done=False)
    data = head + b"data: " + J3[: len(J3) // 2] + end
    acc = Accumulator()
    feed_all(acc, data, split)
    with pytest.raises(IncompleteStreamError, match="event 3") as info:
        acc.finalize()
    err = info.value
    assert err.event == 3
    assert err.offset == len(head), f"split={split}"
    assert err.payload == J3[: len(J3) // 2]
    assert isinstance(err, ChunkAggError)
    # The second finalize() returns what was merged before the cut.
    partial = canonical(acc.finalize())
    assert partial == only_content("Hello, 世界 😀"), f"split={split}"
    assert acc.snapshot() == acc.finalize()


def test_finalize_flushes_held_cr() -> None:
    # A stream that ends on a lone CR: the event is complete, finalize() merges it.
    acc = Accumulator()
    acc.feed(b"data: " + text_chunk("A") + b"\r")
    assert canonical(acc.finalize()) == only_content("A")


# -- the event size limit -----------------------------------------------------------------------

LIMIT = 512


def big_chunk(size: int) -> bytes:
    """A valid chunk payload of exactly ``size`` bytes (its content is padding)."""
    base = text_chunk("")
    payload = text_chunk("x" * (size - len(base)))
    assert len(payload) == size
    return payload


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_event_size_limit_and_recovery(eol: bytes, split: Split) -> None:
    head = b"data: " + text_chunk("A") + b"\n\n"
    big = b"data: " + big_chunk(4 * LIMIT) + b"\n\n"
    tail = b"data: " + text_chunk("B") + b"\n\ndata: [DONE]\n\n"
    data = (head + big + tail).replace(b"\n", eol)
    acc = Accumulator(max_event_size=LIMIT)
    _, errors = feed_recovering(acc, split_feeds(data, split))
    where = f"eol={eol!r} split={split}"
    assert len(errors) == 1, f"{where}: {errors!r}"
    err = errors[0]
    assert isinstance(err, LimitExceededError), where
    assert err.limit == "max_event_size"
    assert err.value == LIMIT
    assert err.event == 2, where
    assert err.offset == len(head.replace(b"\n", eol)), where
    assert "event 2" in str(err)
    assert "max_event_size=512" in str(err)
    # The events after the oversized one are still merged.
    assert canonical(acc.finalize()) == only_content("AB"), where
    assert acc.done


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_event_size_limit_counts_all_data_lines(split: Split) -> None:
    # Many short data lines in one event add up past the limit.
    lines = b"".join(b"data: " + b" " * 60 + b"\n" for _ in range(20))
    data = lines + b"data: " + text_chunk("X") + b"\n\n" + b"data: " + text_chunk("B") + b"\n\n"
    acc = Accumulator(max_event_size=LIMIT)
    _, errors = feed_recovering(acc, split_feeds(data, split))
    assert [type(e) for e in errors] == [LimitExceededError], f"split={split}"
    assert errors[0].offset == 0
    assert canonical(acc.finalize()) == only_content("B"), f"split={split}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_ndjson_event_size_limit(split: Split) -> None:
    data = ndjson(text_chunk("A"), big_chunk(4 * LIMIT), text_chunk("B"))
    acc = Accumulator(max_event_size=LIMIT)
    _, errors = feed_recovering(acc, split_feeds(data, split))
    assert [type(e) for e in errors] == [LimitExceededError], f"split={split}"
    assert errors[0].event == 2
    assert errors[0].offset == len(text_chunk("A")) + 1, f"split={split}"
    assert canonical(acc.finalize()) == only_content("AB"), f"split={split}"


def _outcome(acc: Accumulator, pieces: list[bytes]) -> tuple[Any, list[str]]:
    _chunks, errors = feed_recovering(acc, pieces)
    return canonical(acc.finalize()), [type(e).__name__ for e in errors]


@pytest.mark.parametrize("delta", [-8, -6, -1, 0, 1])
@pytest.mark.parametrize("fmt", ["sse", "ndjson"])
def test_event_size_limit_does_not_depend_on_split_or_line_ending(fmt: str, delta: int) -> None:
    # quirks.md: the same result for every split. An event near the limit must be accepted or
    # rejected the same way whether it arrives whole or in pieces, with LF or CRLF.
    payload = big_chunk(LIMIT + delta)
    base = (sse if fmt == "sse" else ndjson)(text_chunk("A"), payload, text_chunk("B"))
    outcomes = {}
    for eol in (b"\n", b"\r\n"):
        data = base.replace(b"\n", eol)
        for split in SPLITS:
            acc = Accumulator(max_event_size=LIMIT, format=fmt)  # type: ignore[arg-type]
            outcomes[f"eol={eol!r} split={split}"] = _outcome(acc, split_feeds(data, split))
    reference = outcomes["eol=b'\\n' split=whole"]
    for where, outcome in outcomes.items():
        assert outcome == reference, (
            f"{where} differs from LF whole: {outcome[1]} vs {reference[1]}"
        )
    if delta <= 0:
        # A payload no larger than max_event_size is within the limit.
        assert reference[1] == [], reference[1]


# -- a huge stream without a newline: bounded memory, early failure -------------------------------

PIECE = 64 * 1024
HUGE = 100 * 1024 * 1024


def _buffered(acc: Accumulator) -> int:
    """Bytes the framer holds for the unfinished event (its buffer and its data lines)."""
    framer = acc._framer
    return len(framer._buf) + sum(len(line) for line in framer._data)


@pytest.mark.parametrize(
    ("prefix", "filler"),
    [
        (b"data: ", b"x"),  # one endless data line
        (b"data: " + J1 + b"\r\n\r\ndata: ", b"x"),  # the same after a CR (the line path)
        (b'{"id":"', b"x"),  # one endless NDJSON line
        (
            b"data: " + J1 + b"\n\n",
            b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        ),
    ],
    ids=["sse-line", "sse-line-after-cr", "ndjson-line", "sse-many-data-lines"],
)
def test_huge_event_fails_fast_with_bounded_memory(prefix: bytes, filler: bytes) -> None:
    acc = Accumulator()  # the default limit
    limit = DEFAULT_MAX_EVENT_SIZE
    piece = memoryview((filler * (PIECE // len(filler) + 1))[:PIECE])
    errors: list[LimitExceededError] = []
    fed = 0
    first_error_at = None
    acc.feed(prefix)
    while fed < HUGE:
        try:
            acc.feed(piece)
        except LimitExceededError as exc:
            errors.append(exc)
            if first_error_at is None:
                first_error_at = fed
        fed += PIECE
        assert _buffered(acc) <= limit + 2 * PIECE, f"after {fed} bytes: {_buffered(acc)} held"
        assert len(acc._framer.frames) <= 1
    assert first_error_at is not None
    # It fails once the event's data is over the limit, not at the end of the 100 MB (many
    # short lines carry some framing bytes on top of their data).
    assert first_error_at <= 2 * limit, first_error_at
    assert all(e.limit == "max_event_size" and e.value == limit for e in errors)
    assert len(errors) == 1, errors
    # The stream goes on: the next event is merged.
    acc.feed(b"\n\ndata: " + text_chunk("B") + b"\n\n")
    assert content(canonical(acc.finalize())) == ("HelB" if J1 in prefix else "B")


# -- misuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["data: x\n\n", None, 42, [1, 2], ""])
def test_feed_rejects_non_bytes(value: Any) -> None:
    acc = Accumulator()
    with pytest.raises(TypeError, match="bytes"):
        acc.feed(value)
    # Not a stream error, and the accumulator is still usable.
    acc.feed(sse(C1, C2, C3, C4))
    assert canonical(acc.finalize()) == EXPECTED


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_feed_accepts_bytes_like(kind: type) -> None:
    acc = Accumulator()
    for piece in split_feeds(sse(C1, C2, C3, C4), Split("random", 1)):
        acc.feed(kind(piece))
    assert canonical(acc.finalize()) == EXPECTED


def test_feed_does_not_keep_a_reference_to_a_mutable_buffer() -> None:
    # The caller may reuse its read buffer after feed() returns.
    acc = Accumulator()
    buf = bytearray(b"data: " + J1[:20])
    acc.feed(buf)
    buf[:] = b"X" * len(buf)
    acc.feed(J1[20:] + b"\n\n")
    assert content(canonical(acc.finalize())) == "Hel"


def test_feed_and_add_after_finalize() -> None:
    acc = Accumulator()
    acc.feed(sse(C1))
    first = acc.finalize()
    with pytest.raises(AccumulatorClosedError, match="after finalize"):
        acc.feed(b"data: " + J2 + b"\n\n")
    with pytest.raises(AccumulatorClosedError):
        acc.feed(b"")
    with pytest.raises(AccumulatorClosedError, match="after finalize"):
        acc.add(ResponseBody2())
    assert issubclass(AccumulatorClosedError, ChunkAggError)
    assert acc.finalize() == first
    assert content(canonical(first)) == "Hel"


@pytest.mark.parametrize("value", [b"{}", "{}", 42, None, [C1]])
def test_add_rejects_non_chunks(value: object) -> None:
    # A chunk, its dict, or a pydantic model of it: anything else is the caller's mistake.
    acc = Accumulator()
    with pytest.raises(TypeError):
        acc.add(value)
    assert acc.event_count == 0


# -- the Framer's frames --------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_lf() -> None:
    # WHATWG: each data line is appended with a trailing LF, the last LF removed. A number cut
    # across two data lines is therefore not a number: the payload is "1\n2", not "12".
    acc = Accumulator()
    with pytest.raises(ChunkError) as info:
        acc.feed(b"data: first\ndata: second\n\n")
    assert info.value.payload == b"first\nsecond"
    with pytest.raises(ChunkError) as info:
        acc.feed(b'data: {"created":17\ndata: 27}\n\n')
    assert info.value.payload == b'{"created":17\n27}'
