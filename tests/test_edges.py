"""Regression tests for the edges: inputs that are not a chat-completion stream, relays, and
exactness where chunkagg 0.1 was silently wrong. Each test failed on 0.1.

Every stream here is fed whole, one byte at a time and in random slices (``SPLITS``).
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
    feed_all,
    fixture_pairs,
    sse,
)

import chunkagg
from chunkagg import (
    Accumulator,
    ChunkAggError,
    ChunkError,
    ChunkStream,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
    ToolCallDone,
    accumulate,
)

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]
OK = chunk(choice(role="assistant", content="ok"))


def _finalize_error(data: bytes, split: Split | str = "whole", **options: Any) -> ChunkAggError:
    acc = Accumulator(**options)
    try:
        feed_all(acc, data, split)
        acc.finalize()
    except ChunkAggError as exc:
        return exc
    raise AssertionError("no error")


# -- 1. nothing that is not a chat-completion stream passes as one --------------------------------


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
    exc = _finalize_error(data, split)
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


# -- a non-streamed body ------------------------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("layout", ["pretty", "compact", "compact-lf"])
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_a_non_streamed_completion_body_finalizes_to_itself(
    name: str, stream: Path, expected: Path, layout: str, split: Split
) -> None:
    body = json.loads(expected.read_bytes())
    if layout == "pretty":
        data = json.dumps(body, indent=2, ensure_ascii=False).encode()
    else:
        data = orjson.dumps(body) + (b"\n" if layout == "compact-lf" else b"")
    acc = Accumulator()
    feed_all(acc, data, split)
    assert canonical(acc.finalize()) == body, f"{name} {layout} {split}"


def test_a_non_streamed_body_with_tool_calls_and_an_explicit_format() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                        {"type": "function", "function": {"name": "g", "arguments": "[]"}},
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    data = json.dumps(body, indent=1).encode()
    for fmt in ("auto", "json"):
        got = canonical(chunkagg.accumulate([data], format=fmt))
        assert got == canonical(body), fmt


def test_a_document_over_the_event_limit_is_refused_the_same_for_every_split() -> None:
    body = b'{\n "id": "x",\n "choices": [],\n "model": "' + b"m" * 200 + b'"\n}' + b" " * 100
    outcomes = set()
    for split in SPLITS:
        exc = _finalize_error(body, split, max_event_size=150)
        assert isinstance(exc, LimitExceededError)
        outcomes.add((exc.event, exc.offset))
    assert len(outcomes) == 1
    # The blanks around the body do not count: the same body fits a limit of its own size.
    size = len(body.strip())
    completion = chunkagg.accumulate([body], max_event_size=size)
    assert completion.model == "m" * 200


# -- 2. relays: ChunkStream and accumulate --------------------------------------------------------


# -- SSE event objects (the Orq SDK's stream items, httpx-sse, openai) ----------------------------


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


# -- 3. exactness at the edges --------------------------------------------------------------------


def _tool(index: int, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index}
    function = {k: fields.pop(k) for k in ("name", "arguments") if k in fields}
    if function:
        call["function"] = function
    call.update(fields)
    return call


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_known_id_at_a_reused_index_continues_its_own_call(split: Split) -> None:
    stream = sse(
        chunk(choice(tool_calls=[_tool(0, id="a", name="f", arguments='{"x":')])),
        chunk(choice(tool_calls=[_tool(0, id="b", name="g", arguments='{"y":')])),
        chunk(choice(tool_calls=[_tool(0, id="a", arguments="1}")])),
        chunk(choice(tool_calls=[_tool(0, arguments="")])),  # goes on with "a"
        chunk(choice(tool_calls=[_tool(0, id="b", arguments="2}")], finish_reason="tool_calls")),
    )
    acc = Accumulator()
    feed_all(acc, stream, split)
    calls = acc.finalize().choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("a", "f", '{"x":1}'),
        ("b", "g", '{"y":2}'),
    ]


def test_tool_call_done_again_when_its_id_or_name_comes_late() -> None:
    acc = Accumulator(track=True)
    acc.feed(sse(chunk(choice(tool_calls=[_tool(0, arguments="{}")], finish_reason="tool_calls"))))
    acc.feed(sse(chunk(choice(tool_calls=[_tool(0, id="call_1", name="run")])), done=False))
    acc.finalize()
    done = [e for e in acc.take_events() if isinstance(e, ToolCallDone)]
    assert [(d.id, d.name, d.arguments) for d in done] == [
        (None, None, "{}"),
        ("call_1", "run", "{}"),
    ]


def test_nothing_a_caller_holds_aliases_the_merge() -> None:
    token = {"token": "a", "logprob": -0.5, "bytes": [97], "top_logprobs": []}
    acc = Accumulator()
    chunks = acc.feed(
        sse(
            chunk(
                {**choice(content="a"), "logprobs": {"content": [token], "refusal": None}},
                usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            ),
            done=False,
        )
    )
    before = acc.snapshot().to_dict()
    with pytest.raises(AttributeError):
        chunks[0].id = "changed"  # type: ignore[misc]
    chunks[0].choices.clear()  # the chunk's own list: not the merge state
    snap = acc.snapshot()
    snap.choices[0].message.content = "changed"
    assert snap.choices[0].logprobs is not None and snap.choices[0].logprobs.content is not None
    snap.choices[0].logprobs.content.clear()
    snap.choices.clear()
    assert acc.finalize().to_dict() == before


def test_a_lone_surrogate_is_refused_by_add_as_by_feed() -> None:
    text = '{"choices":[{"index":0,"delta":{"content":"\\ud83d"}}]}'
    with pytest.raises(ChunkError):
        Accumulator().feed(b"data: " + text.encode() + b"\n\n")
    with pytest.raises(ChunkError):
        Accumulator().add(json.loads(text))


def test_add_takes_a_whole_number_float_where_an_int_is_due_for_dicts_too() -> None:
    acc = Accumulator()
    acc.add({"id": "x", "created": 1.0, "choices": [{"index": 0.0, "delta": {"content": "a"}}]})
    acc.add({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0.0, "id": "c"}]}}]})
    completion = acc.finalize()
    assert (completion.created, type(completion.created)) == (1, int)
    assert completion.choices[0].message.tool_calls is not None
    with pytest.raises(ChunkError):
        Accumulator().add({"choices": [{"index": "0", "delta": {}}]})
    with pytest.raises(ChunkError):
        Accumulator().add({"choices": [{"index": 0.5, "delta": {}}]})


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
        exc = _finalize_error(data)
        assert type(exc) is error, (data, exc)


# -- 4. bounded and linear -------------------------------------------------------------------------


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


def test_logprob_entries_count_against_max_text_size() -> None:
    token = {"token": "", "logprob": 0, "bytes": [], "top_logprobs": []}
    entries = [chunk({**choice(content=""), "logprobs": {"content": [token] * 100}})] * 50
    with pytest.raises(LimitExceededError, match="max_text_size"):
        accumulate([sse(*entries)], max_text_size=1000)


# -- 5. the command line ---------------------------------------------------------------------------
