"""Thin loops around ``Accumulator`` for the places users already are: iterables of bytes.

Owns ``accumulate``/``aaccumulate`` (source in, completion out) and ``ChunkStream``/
``AsyncChunkStream`` (yield each chunk while accumulating). Must not know any HTTP client: a
source is anything that yields bytes (``httpx.Response.iter_bytes()``, the openai SDK's raw
response) or already decoded chunks (the openai or Orq SDK's stream of ``ChatCompletionChunk``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from ._accumulator import Accumulator, SupportsModelDumpJson
from ._models import ChatCompletion, ResponseBody2

__all__ = ["AsyncChunkStream", "ChunkStream", "aaccumulate", "accumulate"]

Item = bytes | bytearray | memoryview | ResponseBody2 | Mapping[str, Any] | SupportsModelDumpJson


def _take(acc: Accumulator, item: Item) -> list[ResponseBody2]:
    if isinstance(item, bytes | bytearray | memoryview):
        return acc.feed(item)
    return [acc.add(item)]


def accumulate(source: Iterable[Item], **options: Any) -> ChatCompletion:
    """Consume ``source`` and return the merged completion.

    Args:
        source: an iterable of byte pieces (any split) or of decoded chunks.
        **options: passed to ``Accumulator`` (``format``, the limits).

    Raises:
        ChunkAggError: as ``Accumulator.feed()`` and ``finalize()``.
    """
    acc = Accumulator(**options)
    for item in source:
        _take(acc, item)
    return acc.finalize()


async def aaccumulate(source: AsyncIterable[Item], **options: Any) -> ChatCompletion:
    """Consume an async ``source`` (``httpx`` ``aiter_bytes()``...) and return the completion.

    Args:
        source: an async iterable of byte pieces or of decoded chunks.
        **options: passed to ``Accumulator``.

    Raises:
        ChunkAggError: as ``Accumulator.feed()`` and ``finalize()``.
    """
    acc = Accumulator(**options)
    async for item in source:
        _take(acc, item)
    return acc.finalize()


class ChunkStream:
    """Iterate the decoded chunks of ``source`` while accumulating them.

    Example::

        stream = chunkagg.ChunkStream(response.iter_bytes())
        for chunk in stream:
            forward(chunk)
        log(stream.completion)

    Attributes:
        accumulator: the ``Accumulator`` fed (``snapshot()``, ``take_events()``...).
        completion: the merged completion once the source is exhausted, else ``None``.
    """

    def __init__(self, source: Iterable[Item], **options: Any) -> None:
        """Wrap ``source``; ``options`` go to ``Accumulator``."""
        self.accumulator = Accumulator(**options)
        self.completion: ChatCompletion | None = None
        self._source = source

    def __iter__(self) -> Iterator[ResponseBody2]:
        acc = self.accumulator
        for item in self._source:
            yield from _take(acc, item)
        self.completion = acc.finalize()


class AsyncChunkStream:
    """The async form of ``ChunkStream``: ``async for chunk in AsyncChunkStream(source)``."""

    def __init__(self, source: AsyncIterable[Item], **options: Any) -> None:
        """Wrap ``source``; ``options`` go to ``Accumulator``."""
        self.accumulator = Accumulator(**options)
        self.completion: ChatCompletion | None = None
        self._source = source

    async def __aiter__(self) -> AsyncIterator[ResponseBody2]:
        acc = self.accumulator
        async for item in self._source:
            for chunk in _take(acc, item):
                yield chunk
        self.completion = acc.finalize()
