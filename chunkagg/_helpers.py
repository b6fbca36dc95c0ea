"""Thin loops around an accumulator for the places users already are: iterables of bytes.

Owns ``accumulate``/``aaccumulate`` (source in, completion out) and ``ChunkStream``/
``AsyncChunkStream`` (yield each chunk while accumulating). Must not know any HTTP client: a
source is anything that yields bytes (``httpx.Response.iter_bytes()``, the openai SDK's raw
response) or already decoded chunks (the openai or Orq SDK's stream of ``ChatCompletionChunk``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, Generic, Literal, TypeVar, overload

from ._chat import Accumulator, ChatCompletion, ResponseBody2
from ._core.stream import SupportsAccumulate
from ._errors import ChunkAggError, EmptyStreamError

__all__ = ["AsyncChunkStream", "ChunkStream", "aaccumulate", "accumulate"]

Item = Any  # bytes-like pieces, or decoded chunks (see Accumulator.add)
OnError = Literal["raise", "skip"]
C = TypeVar("C")
R = TypeVar("R")


def accumulator_for(
    accumulator: SupportsAccumulate[Any, Any] | None, options: dict[str, Any], where: str
) -> SupportsAccumulate[Any, Any]:
    """The accumulator a helper feeds: the caller's, or a chat ``Accumulator(**options)``."""
    if accumulator is None:
        return Accumulator(**options)
    if options:
        raise TypeError(
            f"{where} passes options only to the Accumulator it builds; give "
            f"{', '.join(sorted(options))} to the accumulator you pass"
        )
    if isinstance(accumulator, type) or not callable(getattr(accumulator, "feed", None)):
        raise TypeError(
            f"{where} takes an accumulator instance (CompletionAccumulator(), "
            f"ResponseAccumulator()...), not {accumulator!r}"
        )
    return accumulator


def _take(acc: SupportsAccumulate[C, Any], item: Item) -> list[C]:
    if isinstance(item, bytes | bytearray | memoryview):
        return acc.feed(item)
    chunk = acc.add(item)
    return [] if chunk is None else [chunk]


def _check_source(source: object, where: str) -> None:
    # Iterating bytes gives ints, and a str gives characters: say what to pass instead.
    if isinstance(source, bytes | bytearray | memoryview | str):
        raise TypeError(
            f"{where} takes an iterable of byte pieces (response.iter_bytes(), [body]) or of "
            f"decoded chunks, not one {type(source).__name__} object: pass [data]"
        )


def _partial(exc: ChunkAggError, acc: SupportsAccumulate[Any, Any]) -> ChunkAggError:
    """Attach what was merged before the fault: the helper's caller has no accumulator."""
    exc.partial = acc.snapshot()
    return exc


@overload
def accumulate(source: Iterable[Item], *, accumulator: SupportsAccumulate[Any, R]) -> R: ...
@overload
def accumulate(source: Iterable[Item], **options: Any) -> ChatCompletion: ...
def accumulate(
    source: Iterable[Item],
    *,
    accumulator: SupportsAccumulate[Any, Any] | None = None,
    **options: Any,
) -> Any:
    """Consume ``source`` and return the merged completion.

    Args:
        source: an iterable of byte pieces (any split) or of decoded chunks (anything
            ``Accumulator.add`` takes: SDK chunk models, dicts, SSE event objects).
        accumulator: the accumulator to feed, for another format
            (``CompletionAccumulator()``, ``ResponseAccumulator()``, ``AutoAccumulator()``);
            the result is its ``finalize()``.
        **options: without ``accumulator``, passed to ``Accumulator`` (``format``, the limits,
            ``rules``).

    Raises:
        ChunkAggError: as ``Accumulator.feed()`` and ``finalize()``; its ``partial`` holds the
            completion merged before the fault.
        TypeError: ``source`` is one bytes or str object, or yields something else; options
            given with an ``accumulator``.
    """
    _check_source(source, "accumulate()")
    acc = accumulator_for(accumulator, options, "accumulate()")
    try:
        for item in source:
            _take(acc, item)
        return acc.finalize()
    except ChunkAggError as exc:
        raise _partial(exc, acc) from None


@overload
async def aaccumulate(
    source: AsyncIterable[Item], *, accumulator: SupportsAccumulate[Any, R]
) -> R: ...
@overload
async def aaccumulate(source: AsyncIterable[Item], **options: Any) -> ChatCompletion: ...
async def aaccumulate(
    source: AsyncIterable[Item],
    *,
    accumulator: SupportsAccumulate[Any, Any] | None = None,
    **options: Any,
) -> Any:
    """Consume an async ``source`` (``httpx`` ``aiter_bytes()``...) and return the completion.

    Args:
        source: an async iterable of byte pieces or of decoded chunks.
        accumulator: the accumulator to feed, as for ``accumulate()``.
        **options: without ``accumulator``, passed to ``Accumulator``.

    Raises:
        ChunkAggError: as ``Accumulator.feed()`` and ``finalize()``; its ``partial`` holds the
            completion merged before the fault.
    """
    _check_source(source, "aaccumulate()")
    acc = accumulator_for(accumulator, options, "aaccumulate()")
    try:
        async for item in source:
            _take(acc, item)
        return acc.finalize()
    except ChunkAggError as exc:
        raise _partial(exc, acc) from None


class _Stream(Generic[C, R]):
    """What ``ChunkStream`` and ``AsyncChunkStream`` share: the accumulator and the faults."""

    def __init__(
        self,
        on_error: OnError,
        accumulator: SupportsAccumulate[C, R] | None,
        options: dict[str, Any],
        where: str,
    ) -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        self.accumulator: SupportsAccumulate[C, R] = accumulator_for(accumulator, options, where)
        self.completion: R | None = None
        self.faults: list[ChunkAggError] = []
        self._skip = on_error == "skip"

    def _take(self, item: Item) -> tuple[list[C], ChunkAggError | None]:
        """The chunks ``item`` completes, and the fault to raise after yielding them (``None``
        with ``skip``: the stream goes on over any bad events)."""
        acc = self.accumulator
        out: list[C] = []
        while True:
            try:
                out += _take(acc, item)
                return out, None
            except ChunkAggError as exc:
                out += exc.chunks  # merged before the fault: the caller gets them all the same
                if not self._skip:
                    exc.chunks = out
                    return out, _partial(exc, acc)
                self.faults.append(exc)
                if not isinstance(item, bytes | bytearray | memoryview):
                    return out, None  # a bad decoded chunk: nothing buffered to resume
                item = b""  # a raising feed() consumed only the bad event: go on

    def _finish(self) -> tuple[list[C], ChunkAggError | None]:
        """Finalize; with ``skip``, over buffered bad events, keeping what was merged."""
        acc = self.accumulator
        out: list[C] = []
        while True:
            try:
                self.completion = acc.finalize()
                return out, None
            except ChunkAggError as exc:
                out += exc.chunks
                if not self._skip:
                    return out, _partial(exc, acc)
                self.faults.append(exc)
                if isinstance(exc, EmptyStreamError):  # it would come again: nothing to return
                    self.completion = acc.snapshot()
                    return out, None


class ChunkStream(_Stream[C, R]):
    """Iterate the decoded chunks of ``source`` while accumulating them.

    Example::

        stream = chunkagg.ChunkStream(response.iter_bytes())
        for chunk in stream:
            forward(chunk)
        log(stream.completion)

    A fault in the stream: the chunks merged before it are yielded first; then, with
    ``on_error="raise"`` (the default), the ``ChunkAggError`` is raised (``partial`` holds the
    completion so far); with ``on_error="skip"``, it is recorded in ``faults`` and the stream
    goes on: a relay forwards everything it logs.

    Another format: ``ChunkStream(source, accumulator=ResponseAccumulator())`` yields its
    events and ends with its result.

    Attributes:
        accumulator: the accumulator fed (``snapshot()``, ``take_events()``...).
        completion: the merged completion once the source is exhausted, else ``None``.
        faults: with ``on_error="skip"``, the faults skipped, in stream order.
    """

    @overload
    def __init__(
        self,
        source: Iterable[Item],
        *,
        on_error: OnError = "raise",
        accumulator: SupportsAccumulate[C, R],
    ) -> None: ...
    @overload
    def __init__(
        self: ChunkStream[ResponseBody2, ChatCompletion],
        source: Iterable[Item],
        *,
        on_error: OnError = "raise",
        **options: Any,
    ) -> None: ...
    def __init__(
        self,
        source: Iterable[Item],
        *,
        on_error: OnError = "raise",
        accumulator: SupportsAccumulate[C, R] | None = None,
        **options: Any,
    ) -> None:
        """Wrap ``source``; ``options`` go to the ``Accumulator`` built when no
        ``accumulator`` is given."""
        _check_source(source, "ChunkStream()")
        super().__init__(on_error, accumulator, options, "ChunkStream()")
        self._source = source

    def __iter__(self) -> Iterator[C]:
        for item in self._source:
            chunks, fault = self._take(item)
            yield from chunks
            if fault is not None:
                raise fault
        chunks, fault = self._finish()
        yield from chunks
        if fault is not None:
            raise fault


class AsyncChunkStream(_Stream[C, R]):
    """The async form of ``ChunkStream``: ``async for chunk in AsyncChunkStream(source)``."""

    @overload
    def __init__(
        self,
        source: AsyncIterable[Item],
        *,
        on_error: OnError = "raise",
        accumulator: SupportsAccumulate[C, R],
    ) -> None: ...
    @overload
    def __init__(
        self: AsyncChunkStream[ResponseBody2, ChatCompletion],
        source: AsyncIterable[Item],
        *,
        on_error: OnError = "raise",
        **options: Any,
    ) -> None: ...
    def __init__(
        self,
        source: AsyncIterable[Item],
        *,
        on_error: OnError = "raise",
        accumulator: SupportsAccumulate[C, R] | None = None,
        **options: Any,
    ) -> None:
        """Wrap ``source``, as ``ChunkStream``."""
        _check_source(source, "AsyncChunkStream()")
        super().__init__(on_error, accumulator, options, "AsyncChunkStream()")
        self._source = source

    async def __aiter__(self) -> AsyncIterator[C]:
        async for item in self._source:
            chunks, fault = self._take(item)
            for chunk in chunks:
                yield chunk
            if fault is not None:
                raise fault
        chunks, fault = self._finish()
        for chunk in chunks:
            yield chunk
        if fault is not None:
            raise fault
