"""Rough edges found while trying chunkagg as a new user would (issue 15), one test each.

- Auto framing: NDJSON whose first line is bad (a first line that starts with ``{`` but is no
  whole object makes the framer hold the stream as one JSON document) loses no valid line after
  it: the bad line is a ``ChunkError`` at its offset, the others merge, as with
  ``format="ndjson"``; a pretty-printed or a cut body is read as before.
- A complete last event without its blank line (a TAIL frame) whose JSON is malformed is a
  ``ChunkError``, as with its blank line, even where msgspec says "truncated" (a lone surrogate
  escape near the end); a last event cut inside a token is still an ``IncompleteStreamError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    SYNTHETIC,
    Split,
    canonical,
    choice,
    chunk,
    ndjson,
    split_feeds,
)

from chunkagg import (
    Accumulator,
    AutoAccumulator,
    ChunkAggError,
    ChunkError,
    CompletionAccumulator,
    EmptyStreamError,
    ResponseAccumulator,
)

Errors = list[tuple[str, int | None, int | None]]


def outcome(acc: Any, data: bytes, split: Split | str = "whole") -> tuple[Any, Errors]:
    """Feed ``data`` split as asked, resuming after each error, then finalize until it returns:
    the result (canonical; ``None`` for an empty stream) and every error as (type, event,
    offset)."""
    errors: list[ChunkAggError] = []
    for piece in split_feeds(data, split):
        while True:
            try:
                acc.feed(piece)
            except ChunkAggError as exc:
                errors.append(exc)
                piece = b""
                continue
            break
    result = None
    for _ in range(100):
        try:
            result = canonical(acc.finalize())
            break
        except EmptyStreamError as exc:
            errors.append(exc)
            break
        except ChunkAggError as exc:
            errors.append(exc)
    return result, [(type(exc).__name__, exc.event, exc.offset) for exc in errors]


# -- 1. auto framing: a bad first NDJSON line ----------------------------------------------------

LINES = [chunk(choice(role="assistant", content="a")), *(chunk(choice(content=t)) for t in "bc")]
# First lines that start with "{" but are no whole object, each bad in its own way.
BAD_FIRST_LINES = [
    b'{"id": bad',  # malformed inside the line
    b'{"id": "x", "choices": [{"index": 0, "delta": {"content": "cut',  # cut inside a string
    b'{"id": "x", "choices": [{"index": 0}]',  # a closing brace short
    b'{"id": "x",',  # cut after a comma
    b'{"id": "x"} and more',  # a whole object, then junk
]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("valid", [1, 3])
@pytest.mark.parametrize("bad", BAD_FIRST_LINES, ids=range(len(BAD_FIRST_LINES)))
def test_a_bad_first_line_loses_no_valid_line_after_it(
    bad: bytes, valid: int, eol: str, split: Split
) -> None:
    data = bad + eol.encode() + ndjson(*LINES[:valid], eol=eol)
    result, errors = outcome(Accumulator(), data, split)
    assert errors == [("ChunkError", 1, 0)], split
    assert result is not None
    assert result["choices"][0]["message"]["content"] == "abc"[:valid], split
    # Exactly what NDJSON framing gives, which it is.
    assert (result, errors) == outcome(Accumulator(format="ndjson"), data, split)


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_bad_first_line_after_a_bom_and_blank_lines_is_located_where_it_starts(
    split: Split,
) -> None:
    head = b"\xef\xbb\xbf\n \r\n"
    data = head + b'{"id": bad\n' + ndjson(*LINES)
    result, errors = outcome(Accumulator(), data, split)
    assert errors == [("ChunkError", 1, len(head))], split
    assert result is not None
    assert result["choices"][0]["message"]["content"] == "abc"


def _ndjson_of(fixture: Path) -> bytes:
    """The data payloads of a synthetic SSE stream, one per line."""
    payloads = [
        line[5:].strip()
        for line in fixture.read_bytes().split(b"\n")
        if line.startswith(b"data:") and line[5:].strip() != b"[DONE]"
    ]
    return b"".join(payload + b"\n" for payload in payloads)


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(
    ("make", "stream"),
    [
        (CompletionAccumulator, "completions/single_choice"),
        (ResponseAccumulator, "responses/plain_text"),
        (AutoAccumulator, "completions/single_choice"),
        (AutoAccumulator, "responses/plain_text"),
    ],
    ids=["completions", "responses", "auto-completions", "auto-responses"],
)
def test_every_format_reads_lines_after_a_bad_first_line(
    make: Callable[[], Any], stream: str, split: Split
) -> None:
    fixture = SYNTHETIC / f"{stream}.sse"
    expected = json.loads(fixture.with_name(fixture.stem + ".expected.json").read_bytes())
    data = b'{"type": bad\n' + _ndjson_of(fixture)
    result, errors = outcome(make(), data, split)
    assert errors == [("ChunkError", 1, 0)], split
    assert result == canonical(expected), split


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_document_whose_lines_start_with_a_brace_is_still_one_document(split: Split) -> None:
    # Valid JSON with objects at the start of lines, none after a line that ends with "}".
    data = (
        b'{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "choices": [\n'
        b'{"index": 0, "message": {"role": "assistant", "content": "hi"},'
        b' "finish_reason": "stop"}\n'
        b'], "model": "m"}\n'
    )
    result, errors = outcome(Accumulator(), data, split)
    assert errors == [], split
    assert result == canonical(json.loads(data))


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_malformed_pretty_printed_body_is_one_bad_document(split: Split) -> None:
    # "{" alone starts a pretty-printed body and no NDJSON line: it is never read as lines, even
    # with a "}" line then a "{" line in it (two bodies pretty-printed one after the other).
    body = {"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}
    pretty = json.dumps(body, indent=2).encode()
    for data in (pretty.replace(b'"m"', b'"m",,'), pretty + b"\n" + pretty + b"\n"):
        _, errors = outcome(Accumulator(), data, split)
        assert errors == [("ChunkError", 1, 0), ("EmptyStreamError", None, None)], split


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("first", [b"{\n", b'{"id": "x", "object": "chat.completion",\n'])
def test_a_cut_body_is_still_an_incomplete_stream(first: bytes, split: Split) -> None:
    data = first + b'"choices": [{"index": 0, "message": {"role": "assistant", "content": "hel'
    _, errors = outcome(Accumulator(), data, split)
    assert errors == [("IncompleteStreamError", 1, 0), ("EmptyStreamError", None, None)], split


def test_a_first_line_one_valid_line_completes_is_a_cut_body() -> None:
    # The one case the two readings cannot tell apart: the lines parse as one document cut short
    # (the valid line is the value the first line's last key waits for). Two valid lines prove
    # NDJSON ("}" ends a line, "{" starts the next).
    for split in SPLITS:
        one = b'{"id": "x", "choices":\n' + ndjson(LINES[0])
        assert outcome(Accumulator(), one, split)[1][0][0] == "IncompleteStreamError"
        result, errors = outcome(Accumulator(), one + ndjson(LINES[1]), split)
        assert errors == [("ChunkError", 1, 0)], split
        assert result is not None
        assert result["choices"][0]["message"]["content"] == "ab"


def test_a_proof_of_ndjson_counts_only_within_the_event_limit() -> None:
    # The document is refused once it is larger than max_event_size: a proof ("}" ends a line,
    # "{" starts a later one) past that point comes too late, whatever the split.
    lines = ndjson(*LINES)
    data = b'  {"id": bad\n' + lines
    proof = data.index(b"\n{", data.index(b"}")) + 2  # just past the "{" that proves it
    fits = proof - 2  # the two blanks before the first "{" do not count
    for limit, expected in ((fits, [("ChunkError", 1, 0)]), (fits - 1, None)):
        outcomes = set()
        for split in SPLITS:
            result, errors = outcome(Accumulator(max_event_size=limit), data, split)
            if expected is not None:
                assert errors == expected, split
                assert result is not None
                assert result["choices"][0]["message"]["content"] == "abc"
            else:
                assert errors == [
                    ("LimitExceededError", 1, 2),
                    ("EmptyStreamError", None, None),
                ], split
            outcomes.add(repr((result, errors)))
        assert len(outcomes) == 1, limit


# -- 2. a complete last event that is malformed is a bad chunk, not a cut -------------------------

# Payloads msgspec calls "truncated" although they are whole: it reads some tokens whole (the
# second half of a surrogate pair, true/false/null, a \u escape) and says so whenever fewer bytes
# are left than the token takes. A lone high surrogate escape near the end is the case found.
PREFIX = b'{"choices":[{"index":0,"delta":{"content":'
WHOLE_BUT_MALFORMED = {
    "chat": (
        Accumulator,
        [
            PREFIX + b'"\\ud800"}}]}',
            b'{"x":"\\ud800"}',
            b'{"x":"\\ud800\\"}',  # a high surrogate, then another escape
            b'{"x":"\\u1"}',
            b'{"x":t}',
            b'{"x":fals}',  # msgspec finds the fault at the very end
            b'{"x":nul}',
        ],
    ),
    "completions": (
        CompletionAccumulator,
        [b'{"object":"text_completion","choices":[{"index":0,"text":"\\ud800"}]}'],
    ),
    "responses": (
        ResponseAccumulator,
        [
            b'{"type":"response.output_text.delta","item_id":"m","output_index":0,'
            b'"content_index":0,"delta":"\\ud800"}'
        ],
    ),
}
MALFORMED_CASES = [
    (api, make, payload)
    for api, (make, payloads) in WHOLE_BUT_MALFORMED.items()
    for payload in payloads
]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(
    ("api", "make", "payload"),
    MALFORMED_CASES,
    ids=[f"{api}-{i}" for i, (api, _, _) in enumerate(MALFORMED_CASES)],
)
@pytest.mark.parametrize("framing", ["sse", "ndjson"])
def test_a_whole_last_event_that_is_malformed_is_a_chunk_error_with_or_without_its_end(
    framing: str, api: str, make: Callable[[], Any], payload: bytes, split: Split
) -> None:
    head, end = (b"data: ", b"\n\n") if framing == "sse" else (b"", b"\n")
    closed = outcome(make(), head + payload + end, split)
    unclosed = outcome(make(), head + payload, split)  # the TAIL frame: no end
    assert unclosed[1][0] == ("ChunkError", 1, 0), (api, split)
    assert unclosed == closed, (api, split)
    messages = set()
    for data in (head + payload, head + payload + end):
        acc = make()
        with pytest.raises(ChunkError) as info:
            acc.feed(data)
            acc.finalize()
        messages.add(str(info.value))
    assert len(messages) == 1, messages  # the same message, word for word


# Cut short inside each token msgspec reads whole: still an incomplete stream.
CUTS = [
    b'"\\ud800',
    b'"\\ud800\\',
    b'"\\ud800\\u',
    b'"\\ud800\\uDc0',
    b'"\\uD8',
    b'"\\u1',
    b'"\\',
    b"tr",
    b"fals",
    b"n",
    b"-",
    b"1.",
    b"1e+",
    b'"ab',
    b'"ab"',
    b'"ab"}}],',
]


@pytest.mark.parametrize("cut", CUTS, ids=range(len(CUTS)))
def test_a_last_event_cut_inside_a_token_is_still_an_incomplete_stream(cut: bytes) -> None:
    for data in (b"data: " + PREFIX + cut, PREFIX + cut):
        _, errors = outcome(Accumulator(), data)
        assert errors[0] == ("IncompleteStreamError", 1, 0), data
