"""The accumulator loop every format shares (``chunkagg._core.stream``), through chat's
``Accumulator``: input that is no stream, the objects ``add()`` takes and refuses (SSE event
objects, SDK wrappers), the last event cut short or without its blank line, and resuming after
bad events.

Where an error points (event number, byte offset, message) is tests/core/test_errors.py; framing
is tests/core/test_framing.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pydantic
import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    choice,
    chunk,
    data_payloads,
    finalize_error,
    fixture_pairs,
    sse,
)

from chunkagg import (
    Accumulator,
    ChunkAggError,
    ChunkError,
    ChunkStream,
    EmptyStreamError,
    IncompleteStreamError,
    StreamError,
    accumulate,
)

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]
OK = chunk(choice(role="assistant", content="ok"))
J1 = orjson.dumps(chunk(choice(0, role="assistant", content="Hel")))
J2 = orjson.dumps(chunk(choice(0, content="lo")))


# -- what is not a stream -------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(
    ("data", "error", "says"),
    [
        (b"", EmptyStreamError, "the stream is empty"),
        (
            b'{"not":"a chunk"}\n',
            ChunkError,
            "not a chunk: a JSON object whose keys ('not') include none that a chunk has",
        ),
        (b'data: {"detail":"Not Found"}\n\n', ChunkError, "include none that a chunk has"),
        (b"<html><head><title>502</title></head></html>\n", EmptyStreamError, "looks like HTML"),
        (bytes(random.Random(5).randrange(256) for _ in range(300)), ChunkAggError, ""),
    ],
    ids=["empty", "not-a-chunk", "json-error-body", "html", "random-bytes"],
)
def test_input_that_is_not_a_stream_is_an_error(
    data: bytes, error: type[ChunkAggError], says: str, split: Split
) -> None:
    exc = finalize_error(data, split)
    assert isinstance(exc, error), exc
    assert says in str(exc) or not says


def test_random_bytes_never_pass_as_an_empty_completion() -> None:
    rng = random.Random(20261130)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        acc = Accumulator()
        errors = 0
        try:
            acc.feed(data)
        except ChunkAggError:
            errors += 1
        try:
            completion = acc.finalize()
        except ChunkAggError:
            continue
        # Random bytes can spell a chunk only by luck: then it holds something.
        assert completion.choices or completion.id or errors, data


# -- objects add() takes, and those it refuses ----------------------------------------------------


class AIMessageChunk(pydantic.BaseModel):
    """Shaped like LangChain's message chunk: a pydantic model that is no chat chunk."""

    content: str
    type: str = "AIMessageChunk"
    additional_kwargs: dict[str, Any] = {}


def test_objects_that_are_not_chunks_are_refused_saying_what_they_are() -> None:
    acc = Accumulator()
    with pytest.raises(ChunkError, match=r"'additional_kwargs'.*\) include none that a chunk has"):
        acc.add(AIMessageChunk(content="Hi"))
    with pytest.raises(ChunkError, match="include none that a chunk has"):
        acc.add({"not": "a chunk"})
    for wrong in (42, object(), ["x"]):
        with pytest.raises(TypeError, match="add\\(\\) takes a chunk"):
            acc.add(wrong)
    with pytest.raises(TypeError, match="raw body goes to feed"):
        acc.add(b'{"choices":[]}')
    with pytest.raises(EmptyStreamError, match="2 events, none of them a chunk"):
        acc.finalize()


class OrqWrapper(pydantic.BaseModel):
    """Shaped like the Orq SDK's stream item: the chunk under ``data``, nothing else."""

    data: Any


class SSEEvent:
    """Shaped like httpx-sse's and the openai SDK's ``ServerSentEvent``."""

    def __init__(self, data: str, event: str = "message") -> None:
        self.data = data
        self.event = event
        self.id = ""
        self.retry = None


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS[:6], ids=PAIR_IDS[:6])
def test_event_objects_are_unwrapped(name: str, stream: Path, expected: Path) -> None:
    payloads = data_payloads(stream.read_bytes())
    want = json.loads(expected.read_bytes())
    as_wrappers = [OrqWrapper(data=json.loads(p)) for p in payloads] + [OrqWrapper(data=None)]
    assert canonical(accumulate(as_wrappers)) == want
    events = [SSEEvent(p.decode()) for p in payloads] + [SSEEvent("[DONE]")]
    acc = Accumulator()
    for event in events:
        acc.add(event)
    assert acc.done
    assert canonical(acc.finalize()) == want
    dicts = [{"data": json.loads(p), "event": "message"} for p in payloads]
    assert canonical(list(ChunkStream(dicts)) and accumulate(dicts)) == want


def test_an_error_event_object_is_a_stream_error() -> None:
    acc = Accumulator()
    acc.add(SSEEvent(orjson.dumps(OK).decode()))
    with pytest.raises(StreamError, match="overloaded") as info:
        acc.add(SSEEvent('{"error":{"message":"overloaded","code":529}}', event="error"))
    assert info.value.code == 529
    assert acc.finalize().choices[0].message.content == "ok"


# -- the end of the stream ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "error"),
    [
        (b"{not json", ChunkError),
        (b'{"choices":"x"}', ChunkError),
        (b'{"choices":[{"index":0,"delta":{"content":"cut', IncompleteStreamError),
        (b"[DO", IncompleteStreamError),
    ],
    ids=["malformed", "wrong-type", "truncated", "cut-done"],
)
def test_a_last_event_without_its_blank_line_is_reported_as_what_it_is(
    last: bytes, error: type[ChunkAggError]
) -> None:
    closed = sse(OK, done=False) + b"data: " + last + b"\n\n"
    unclosed = sse(OK, done=False) + b"data: " + last
    for data in (closed, unclosed):
        if data is closed and error is IncompleteStreamError:
            continue  # a closed event is whole: it is a bad chunk
        exc = finalize_error(data)
        assert type(exc) is error, (data, exc)


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


# -- resuming after bad events --------------------------------------------------------------------


def test_resuming_over_bad_events_never_copies_the_rest_of_the_run() -> None:
    bad = b"data: {bad\n\n"
    data = bad * 1000 + sse(OK)
    acc = Accumulator()
    frames = acc._framer.frames
    runs: list[int] = []
    errors = 0
    try:
        acc.feed(data)
    except ChunkError:
        errors += 1
    for _ in range(2000):
        if frames:
            payload = frames[0][2]
            runs.append(id(payload[0]) if type(payload) is tuple else id(payload))
        try:
            acc.feed(b"")
            break
        except ChunkError:
            errors += 1
    assert errors == 1000
    assert len(set(runs)) == 1  # every resume points into the same list of payloads
    assert acc.finalize().choices[0].message.content == "ok"
