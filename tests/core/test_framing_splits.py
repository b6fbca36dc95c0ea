"""Framing whose outcome must not depend on how the bytes arrive: keep-alives, lines that carry
no data, oversized events, the ``retry`` field, blanks before an event, and a body that is one
JSON document. Each outcome here once depended on the split; each case is fed whole, one byte at
a time and in random slices (``SPLITS``) and the outcomes compared.

The framing rules themselves (line endings, BOM, fields, ``[DONE]``, NDJSON, the event size
limit) are tests/core/test_framing.py.
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
    finalize_error,
    finalize_recovering,
    split_feeds,
    sse,
)

import chunkagg
from chunkagg import Accumulator, ChunkError, LimitExceededError
from chunkagg._core.framing import MAX_RETRY

OK = chunk(choice(role="assistant", content="ok"))
J1 = orjson.dumps(chunk(choice(0, role="assistant", content="Hel")))
J2 = orjson.dumps(chunk(choice(0, content="lo")))


# -- the smallest inputs the fuzzer found (tests/fuzz.py --minimize) ------------------------------


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


# -- found by review ------------------------------------------------------------------------------


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


# -- blanks before an event, and a body that is one JSON document ---------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_leading_blanks_are_judged_per_line_whatever_the_split(split: Split) -> None:
    ok = b"data: " + orjson.dumps(OK) + b"\n\n"
    long_blank_line = b" " * 300 + b"\n" + ok
    acc = Accumulator(max_event_size=200)
    feed_all(acc, long_blank_line, split)  # a blank line is skipped, however long
    assert acc.finalize().choices[0].message.content == "ok"
    for head, faults in ((b"x", []), (b'{"id":"long"}', [0])):
        # An SSE line that starts with blanks is ignored (its field name starts with them); an
        # NDJSON line that long is too large.
        data = b" " * 300 + head + b"\n" + (ok if head == b"x" else orjson.dumps(OK) + b"\n")
        acc = Accumulator(max_event_size=200)
        errors = []
        for piece in (
            [data] if split.kind == "whole" else [data[i : i + 1] for i in range(len(data))]
        ):
            try:
                acc.feed(piece)
            except LimitExceededError as exc:
                errors.append(exc.offset)
        assert errors == faults, (head, errors)
        assert acc.finalize().choices[0].message.content == "ok"


def test_leading_blanks_fed_byte_by_byte_hold_no_growing_buffer() -> None:
    acc = Accumulator(max_event_size=1000)
    for _ in range(50_000):
        acc.feed(b" ")
        assert len(acc._framer._buf) <= 1008  # bounded by the limit, not by the input
    acc.feed(b"\n" + sse(OK))
    assert acc.finalize().choices[0].message.content == "ok"


def test_a_document_over_the_event_limit_is_refused_the_same_for_every_split() -> None:
    body = b'{\n "id": "x",\n "choices": [],\n "model": "' + b"m" * 200 + b'"\n}' + b" " * 100
    outcomes = set()
    for split in SPLITS:
        exc = finalize_error(body, split, max_event_size=150)
        assert isinstance(exc, LimitExceededError)
        outcomes.add((exc.event, exc.offset))
    assert len(outcomes) == 1
    # The blanks around the body do not count: the same body fits a limit of its own size.
    size = len(body.strip())
    completion = chunkagg.accumulate([body], max_event_size=size)
    assert completion.model == "m" * 200
