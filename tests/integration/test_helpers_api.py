"""accumulate / aaccumulate / ChunkStream / AsyncChunkStream and add() of decoded chunks: every
fixture through each, the wrong argument types, and what merged before a fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import (
    BAD_MIDDLE,
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    choice,
    chunk,
    data_payloads,
    fixture_pairs,
    sse,
)

import chunkagg
from chunkagg import (
    Accumulator,
    AsyncChunkStream,
    ChunkError,
    ChunkStream,
    EmptyStreamError,
    aaccumulate,
    accumulate,
)


def pieces(data: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def apieces(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for piece in pieces(data, size):
        await asyncio.sleep(0)
        yield piece


FIXTURES = fixture_pairs()
IDS = [name for name, _, _ in FIXTURES]


@pytest.mark.parametrize(("name", "stream", "expected"), FIXTURES, ids=IDS)
def test_accumulate_and_aaccumulate_match_the_fixture(
    name: str, stream: Path, expected: Path
) -> None:
    data = stream.read_bytes()
    want = orjson.loads(expected.read_bytes())
    assert canonical(accumulate(pieces(data))) == want
    assert canonical(asyncio.run(aaccumulate(apieces(data, 13)))) == want


@pytest.mark.parametrize(("name", "stream", "expected"), FIXTURES, ids=IDS)
def test_chunk_streams_yield_every_chunk_then_complete(
    name: str, stream: Path, expected: Path
) -> None:
    data = stream.read_bytes()
    want = orjson.loads(expected.read_bytes())
    events = data.count(b"data: {")
    sync = ChunkStream(pieces(data))
    assert sync.completion is None
    assert len(list(sync)) == events
    assert sync.completion is not None
    assert canonical(sync.completion) == want

    async def run() -> tuple[int, chunkagg.ChatCompletion | None]:
        astream = AsyncChunkStream(apieces(data, 5))
        count = 0
        async for _ in astream:
            count += 1
        return count, astream.completion

    count, completion = asyncio.run(run())
    assert count == events
    assert canonical(completion) == want


def test_decoded_chunks_as_dicts_and_models() -> None:
    class Model:
        """Stands in for a pydantic model: only model_dump_json() is used."""

        def __init__(self, body: dict[str, Any]) -> None:
            self.body = body

        def model_dump_json(self) -> str:
            return orjson.dumps(self.body).decode()

    first = chunk(choice(role="assistant", content="Hel"))
    second = chunk(choice(content="lo", finish_reason="stop"))
    usage = chunk(usage={"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4})
    from_bytes = canonical(accumulate([sse(first, second, usage)]))
    assert canonical(accumulate([first, Model(second), usage])) == from_bytes
    chunks = list(ChunkStream([Model(first), second]))
    assert [c.choices[0].delta.content for c in chunks if c.choices[0].delta] == ["Hel", "lo"]


def test_mistyped_dict_is_a_chunk_error_with_its_number() -> None:
    acc = chunkagg.Accumulator()
    acc.add(chunk(choice(content="a")))
    with pytest.raises(ChunkError, match="event 2") as info:
        acc.add({"choices": [{"index": "0"}]})
    assert info.value.offset is None
    assert acc.finalize().choices[0].message.content == "a"


def test_options_reach_the_accumulator() -> None:
    data = b'{"choices":[{"index":0,"delta":{"content":"x"}}]}\n'
    assert accumulate([data], format="ndjson").choices[0].message.content == "x"
    with pytest.raises(chunkagg.LimitExceededError):
        accumulate([sse(chunk(choice(3, content="x")))], max_choices=2)


@pytest.mark.parametrize(("name", "stream", "expected"), FIXTURES, ids=IDS)
def test_orq_sdk_models_through_add(name: str, stream: Path, expected: Path) -> None:
    # The Orq SDK's own chunk model (the seed's ResponseBody2 under its generated name) types
    # every JSON number as a float: its chunks dump "index": 0.0 and "created": 1727346176.0.
    orq = pytest.importorskip("orq_ai_sdk.models.createchatcompletionop")
    acc = chunkagg.Accumulator()
    for payload in data_payloads(stream.read_bytes()):
        model = orq.CreateChatCompletionData.model_validate_json(payload)
        acc.add(model)
    completion = acc.finalize()
    assert canonical(completion) == orjson.loads(expected.read_bytes())
    assert type(completion.created) is int
    assert completion.usage is not None
    assert type(completion.usage.total_tokens) is int


# -- wrong types, and what merged before a fault ------------------------------------------------


def test_wrong_python_types_say_what_to_pass() -> None:
    acc = Accumulator()
    with pytest.raises(TypeError, match="raw body as bytes, not str"):
        acc.feed('data: {"choices":[]}\n\n')  # type: ignore[arg-type]
    for call in (lambda: accumulate(b"data: x\n\n"), lambda: ChunkStream("data: x")):
        with pytest.raises(TypeError, match=r"iterable of byte pieces.*pass \[data\]"):
            call()
    with pytest.raises(TypeError, match="iterable of byte pieces"):
        asyncio.run(aaccumulate(b"x"))  # type: ignore[call-overload]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_chunk_stream_yields_what_merged_before_a_fault(split: Split) -> None:
    pieces = [BAD_MIDDLE]
    if split.kind != "whole":
        pieces = [BAD_MIDDLE[i : i + 7] for i in range(0, len(BAD_MIDDLE), 7)]
    stream = ChunkStream(pieces)
    got: list[chunkagg.ResponseBody2] = []
    with pytest.raises(ChunkError) as info:
        got.extend(stream)
    assert [c.choices[0].delta.content for c in got if c.choices[0].delta] == ["a", "b"]
    assert info.value.partial is not None
    assert info.value.partial.choices[0].message.content == "ab"
    skipping = ChunkStream(pieces, on_error="skip")
    contents = [c.choices[0].delta.content for c in skipping]  # type: ignore[union-attr]
    assert contents == ["a", "b", "c"]
    assert [type(f) for f in skipping.faults] == [ChunkError]
    assert skipping.completion is not None
    assert skipping.completion.choices[0].message.content == "abc"


def test_async_chunk_stream_and_aaccumulate_keep_what_merged() -> None:
    async def source() -> AsyncIterator[bytes]:
        for i in range(0, len(BAD_MIDDLE), 5):
            yield BAD_MIDDLE[i : i + 5]

    async def run() -> None:
        stream = AsyncChunkStream(source(), on_error="skip")
        contents = [c.choices[0].delta.content async for c in stream]  # type: ignore[union-attr]
        assert contents == ["a", "b", "c"]
        assert len(stream.faults) == 1
        with pytest.raises(ChunkError) as info:
            await aaccumulate(source())
        assert info.value.partial is not None
        assert info.value.partial.choices[0].message.content == "ab"

    asyncio.run(run())
    with pytest.raises(ChunkError) as info:
        accumulate([BAD_MIDDLE])
    assert info.value.partial is not None
    assert info.value.partial.choices[0].message.content == "ab"


def test_chunk_stream_skip_reports_an_empty_stream_as_a_fault() -> None:
    stream = ChunkStream([b""], on_error="skip")
    assert list(stream) == []
    assert [type(f) for f in stream.faults] == [EmptyStreamError]
    assert stream.completion is not None and stream.completion.choices == []
    with pytest.raises(ValueError, match="on_error"):
        ChunkStream([], on_error="ignore")  # type: ignore[call-overload]
