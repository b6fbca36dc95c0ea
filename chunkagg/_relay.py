"""Relay a streamed body to its client unchanged while an accumulator merges the same bytes.

Owns ``Relay`` and ``AsyncRelay`` (iterate a byte source, pass every piece on, merge it, never
raise for a stream fault) and ``RelayResult`` (how the relay ended and what it merged), handed
once to ``on_end``. Must not know any HTTP client or server framework: the source is any
(async) iterable of bytes, the consumer is whoever iterates the relay (Starlette's
``StreamingResponse``, a WSGI server, a loop of your own), and a client's disconnect is seen only
as the consumer closing the relay or its task being cancelled. No I/O, threads or event loop
inside, beyond awaiting the source and an async ``on_end``.

A relay written the obvious way, ``acc.feed(data)`` inside the response generator, lets a
``ChunkAggError`` escape that generator at the first bad event (an in-band ``event: error``,
say); the server then aborts the response and the client reads an incomplete body. Here every
fault is caught and recorded, and the stream goes on as the ``Accumulator`` contract allows (a
raising ``feed()`` consumed only the bad event; ``feed(b"")`` resumes).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, overload

from ._chat import ChatCompletion
from ._core.stream import SupportsAccumulate
from ._errors import ChunkAggError
from ._helpers import accumulator_for

__all__ = ["AsyncRelay", "Relay", "RelayResult"]

# The package's logger: an exception raised by ``on_end`` is logged here, never raised into the
# response (see ``Relay``).
_log = logging.getLogger("chunkagg")

# What a relay passes on: the very objects its source yields, so a Relay of ``bytes`` yields
# ``bytes`` and one of ``memoryview`` yields ``memoryview``.
Piece = TypeVar("Piece", bound=bytes | bytearray | memoryview)
# What the relay's accumulator builds: ChatCompletion unless an ``accumulator`` is given.
R = TypeVar("R")

Reason = Literal["end", "disconnect", "upstream-error"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RelayResult(Generic[R]):
    """How a relayed stream ended, and the completion merged from it; given once to ``on_end``.

    A dataclass rather than a msgspec Struct: it holds exceptions, which have no JSON form;
    encode ``completion`` itself (``completion.to_json()``).

    Attributes:
        completion: after a clean end, the accumulator's ``finalize()`` (its ``snapshot()`` if
            finalizing failed as a whole, e.g. no chunk arrived at all); after a disconnect or
            an upstream failure, ``snapshot()``: everything merged from the bytes relayed so
            far, the accumulator left open.
        faults: every ``ChunkAggError`` the merge met, in stream order, those of the final
            ``finalize()`` (a stream cut inside an event) last. Each bad event was dropped
            whole; the rest of the stream was merged.
        reason: ``"end"`` (the source was exhausted), ``"disconnect"`` (the consumer stopped
            first: it closed the relay, or its task was cancelled) or ``"upstream-error"`` (the
            source raised).
        error: the exception the source raised, for ``"upstream-error"``; else ``None``.
        done: whether ``data: [DONE]`` arrived.
        bytes: how many bytes the relay handed to its consumer (and merged).
    """

    completion: R
    faults: list[ChunkAggError]
    reason: Reason
    error: BaseException | None
    done: bool
    bytes: int


class _Merging(Generic[R]):
    """What ``Relay`` and ``AsyncRelay`` share: the accumulator, the faults, the ending."""

    __slots__ = ("_bytes", "_started", "accumulator", "faults", "result")

    def __init__(
        self, accumulator: SupportsAccumulate[Any, R] | None, options: dict[str, Any], where: str
    ) -> None:
        # Built here, not at the first piece, so a bad option is a ValueError where it is written.
        self.accumulator: SupportsAccumulate[Any, R] = accumulator_for(accumulator, options, where)
        self.faults: list[ChunkAggError] = []
        self.result: RelayResult[R] | None = None
        self._bytes = 0
        self._started = False

    def _start(self) -> None:
        # A second iteration would read a source the first one consumed, and end twice.
        if self._started:
            raise RuntimeError(f"a {type(self).__name__} relays its source only once")
        self._started = True

    def _take(self, piece: bytes | bytearray | memoryview) -> None:
        """Merge one relayed piece, recording each fault and going on."""
        self._bytes += piece.nbytes if isinstance(piece, memoryview) else len(piece)
        acc = self.accumulator
        data = piece
        while True:
            before = acc.event_count
            try:
                acc.feed(data)
                return
            except ChunkAggError as exc:
                if not self._fault(exc, before):
                    return
                # The contract: a raising feed() consumed only the bad event, and feed(b"")
                # continues with the bytes already buffered, which may hold more events.
                data = b""

    def _fault(self, exc: ChunkAggError, events_before: int) -> bool:
        """Record ``exc``; return whether calling again can go on.

        A raise that consumed an event counted it. One that counted none consumed nothing
        (``AccumulatorClosedError``: the caller finalized the accumulator mid-stream; a verdict
        on the whole stream, such as no chunk at all), so calling again would raise it again.
        """
        self.faults.append(exc)
        return self.accumulator.event_count != events_before

    def _end(self, reason: Reason, error: BaseException | None) -> RelayResult[R]:
        acc = self.accumulator
        if reason == "end":
            while True:
                before = acc.event_count
                try:
                    completion = acc.finalize()
                    break
                except ChunkAggError as exc:
                    # A raise that consumed a buffered event (the unfinished last one, say) lets
                    # the next call go on with the rest; one that did not leaves the snapshot.
                    if not self._fault(exc, before):
                        completion = acc.snapshot()
                        break
        else:
            # The stream did not end: finalize() would judge a cut the source never made.
            completion = acc.snapshot()
        self.result = RelayResult(
            completion=completion,
            faults=list(self.faults),
            reason=reason,
            error=error,
            done=acc.done,
            bytes=self._bytes,
        )
        return self.result


def _check(piece: object) -> None:
    # A relay passes pieces on unchanged, so it cannot encode text the way a server framework
    # might: a str here is the caller's bug, raised before the piece reaches the client.
    if not isinstance(piece, bytes | bytearray | memoryview):
        raise TypeError(
            f"a relay passes bytes on unchanged; its source yielded {type(piece).__name__}"
            + (" (encode text before relaying it)" if isinstance(piece, str) else "")
        )


def _ended_by(exc: BaseException, at_yield: bool) -> tuple[Reason, BaseException | None]:
    # Only an Exception raised while the source was asked for a piece is the upstream's. At the
    # yield, the consumer is in charge: close() raises GeneratorExit there. A bare BaseException
    # (a task's cancellation, KeyboardInterrupt) comes from outside the stream wherever it lands.
    if not at_yield and isinstance(exc, Exception):
        return "upstream-error", exc
    return "disconnect", None


def _log_on_end_failure() -> None:
    _log.exception("on_end raised; the relayed response was not affected")


class Relay(_Merging[R], Generic[Piece, R]):
    """Iterate a byte stream's pieces unchanged while merging them, for a relay to its client.

    Example::

        relay = chunkagg.Relay(upstream.iter_bytes(), on_end=store)
        return StreamingResponse(relay, media_type="text/event-stream")

    Every piece of ``source`` is yielded as is (the same object, in order). It is merged once
    the consumer asks for the next one, that is after the consumer has passed it on: the merge
    never delays a piece, and a fault in it cannot alter or hold back what the client gets. A
    ``ChunkAggError`` never escapes: each is recorded in ``faults`` and the stream goes on.

    ``on_end(result)`` is called exactly once, when the relay ends:

    - ``"end"``: the source is exhausted. ``on_end`` runs before the iteration stops, so it has
      run by the time the client has the whole body; a slow ``on_end`` delays the body's end.
    - ``"disconnect"``: the consumer stopped early. It closed the relay's iterator (``close()``,
      as servers do when the client leaves, or a ``break`` that drops it), or the thread was
      interrupted. The piece the consumer held is merged too.
    - ``"upstream-error"``: the source raised. ``on_end`` runs, then the exception propagates,
      so the server sees the upstream's failure (and aborts the response, as it should).

    After an early end, the iterator taken from ``source`` is closed (``close()``, if it has
    one), so the source's own cleanup runs now rather than at garbage collection. An exception
    raised by ``on_end`` is logged on the ``chunkagg`` logger and swallowed: raising it from the
    response's iterator would abort the very response the relay keeps whole.

    A relay that is never iterated never ends. One relay per stream; it is iterated once, and is
    not locked: its ``on_end`` runs in the thread that ends it (the iterating thread, or the one
    that closes the iterator).

    Another format: ``Relay(source, on_end, accumulator=ResponseAccumulator())`` (or
    ``AutoAccumulator()`` for a gateway that relays all three); ``result.completion`` is then
    that accumulator's result.

    Attributes:
        accumulator: the accumulator fed (``snapshot()`` mid-stream; ``take_events()`` with
            ``track=True``).
        faults: the ``ChunkAggError`` of each bad event so far, in stream order.
        result: the ``RelayResult`` once the relay ended, else ``None``.
    """

    __slots__ = ("_on_end", "_source")

    @overload
    def __init__(
        self,
        source: Iterable[Piece],
        on_end: Callable[[RelayResult[R]], None] | None = None,
        *,
        accumulator: SupportsAccumulate[Any, R],
    ) -> None: ...
    @overload
    def __init__(
        self: Relay[Piece, ChatCompletion],
        source: Iterable[Piece],
        on_end: Callable[[RelayResult[ChatCompletion]], None] | None = None,
        **accumulator_options: Any,
    ) -> None: ...
    def __init__(
        self,
        source: Iterable[Piece],
        on_end: Callable[[RelayResult[Any]], None] | None = None,
        *,
        accumulator: SupportsAccumulate[Any, R] | None = None,
        **accumulator_options: Any,
    ) -> None:
        """Wrap ``source``.

        Args:
            source: the body's pieces (``bytes``, ``bytearray`` or ``memoryview``), any split.
            on_end: called once with the ``RelayResult`` when the relay ends.
            accumulator: the accumulator to feed, for another format; by default a chat
                ``Accumulator(**accumulator_options)``.
            **accumulator_options: passed to ``Accumulator`` (``track``, the limits...).

        Raises:
            ValueError: an accumulator option is invalid.
            TypeError: options given with an ``accumulator``.
        """
        super().__init__(accumulator, accumulator_options, "Relay()")
        self._source = source
        self._on_end = on_end

    def __iter__(self) -> Generator[Piece, None, None]:
        """Start relaying.

        Raises:
            RuntimeError: the relay was iterated before.
            TypeError: the source yielded something other than bytes (raised before it is
                passed on; ``on_end`` sees an ``"upstream-error"`` with this error).
            Exception: whatever the source raises, after ``on_end``.
        """
        self._start()
        return self._run()

    def _run(self) -> Generator[Piece, None, None]:
        iterator: Iterator[Piece] | None = None
        at_yield = False
        try:
            iterator = iter(self._source)
            for piece in iterator:
                _check(piece)
                at_yield = True
                try:
                    yield piece
                finally:
                    self._take(piece)
                at_yield = False
        except BaseException as exc:
            self._finish(*_ended_by(exc, at_yield))
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            raise
        self._finish("end", None)

    def _finish(self, reason: Reason, error: BaseException | None) -> None:
        result = self._end(reason, error)
        if self._on_end is not None:
            try:
                self._on_end(result)
            except Exception:
                _log_on_end_failure()


class AsyncRelay(_Merging[R], Generic[Piece, R]):
    """The async form of ``Relay``: ``async for`` over an async byte source.

    Example::

        relay = chunkagg.AsyncRelay(upstream.aiter_bytes(), on_end=store)
        return StreamingResponse(relay, media_type="text/event-stream")

    Everything ``Relay`` says holds, and ``on_end`` may also be a coroutine function: its result
    is awaited. A ``"disconnect"`` is seen two ways, and both call ``on_end``:

    - the consuming task is cancelled while the relay waits for the source (Starlette cancels
      the response task when the client leaves): ``on_end`` runs, then the cancellation goes on;
    - the consumer closes the relay's iterator (``aclose()``) while it holds a piece; one that
      is only dropped is closed by the event loop's async-generator hooks, a little later.

    After a cancellation, ``on_end`` runs inside the cancelled task. A plain function is safe
    there; under anyio or trio (Starlette, FastAPI) any ``await`` in an async ``on_end`` is
    cancelled in turn, so keep it to handing the result off (a queue, a task of your own). After
    an early end, the iterator taken from ``source`` is closed (``aclose()``, if it has one).

    Attributes:
        accumulator: the accumulator fed.
        faults: the ``ChunkAggError`` of each bad event so far, in stream order.
        result: the ``RelayResult`` once the relay ended, else ``None``.
    """

    __slots__ = ("_on_end", "_source")

    @overload
    def __init__(
        self,
        source: AsyncIterable[Piece],
        on_end: Callable[[RelayResult[R]], Awaitable[None] | None] | None = None,
        *,
        accumulator: SupportsAccumulate[Any, R],
    ) -> None: ...
    @overload
    def __init__(
        self: AsyncRelay[Piece, ChatCompletion],
        source: AsyncIterable[Piece],
        on_end: Callable[[RelayResult[ChatCompletion]], Awaitable[None] | None] | None = None,
        **accumulator_options: Any,
    ) -> None: ...
    def __init__(
        self,
        source: AsyncIterable[Piece],
        on_end: Callable[[RelayResult[Any]], Awaitable[None] | None] | None = None,
        *,
        accumulator: SupportsAccumulate[Any, R] | None = None,
        **accumulator_options: Any,
    ) -> None:
        """Wrap ``source``.

        Args:
            source: the body's pieces (``bytes``, ``bytearray`` or ``memoryview``), any split.
            on_end: called once with the ``RelayResult`` when the relay ends; what it returns
                is awaited if it is awaitable.
            accumulator: the accumulator to feed, as for ``Relay``.
            **accumulator_options: passed to ``Accumulator`` (``track``, the limits...).

        Raises:
            ValueError: an accumulator option is invalid.
            TypeError: options given with an ``accumulator``.
        """
        super().__init__(accumulator, accumulator_options, "AsyncRelay()")
        self._source = source
        self._on_end = on_end

    def __aiter__(self) -> AsyncGenerator[Piece, None]:
        """Start relaying.

        Raises:
            RuntimeError: the relay was iterated before.
            TypeError: the source yielded something other than bytes (raised before it is
                passed on; ``on_end`` sees an ``"upstream-error"`` with this error).
            Exception: whatever the source raises, after ``on_end``.
        """
        self._start()
        # The async generator is not kept on the relay: a consumer that drops it lets the event
        # loop's hooks close it (and so end the relay) without waiting for the relay to go.
        return self._run()

    async def _run(self) -> AsyncGenerator[Piece, None]:
        iterator: AsyncIterator[Piece] | None = None
        at_yield = False
        try:
            iterator = aiter(self._source)
            async for piece in iterator:
                _check(piece)
                at_yield = True
                try:
                    yield piece
                finally:
                    self._take(piece)
                at_yield = False
        except BaseException as exc:
            # Awaiting here is allowed even on aclose(), which only forbids yielding.
            await self._finish(*_ended_by(exc, at_yield))
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
            raise
        await self._finish("end", None)

    async def _finish(self, reason: Reason, error: BaseException | None) -> None:
        result = self._end(reason, error)
        if self._on_end is not None:
            try:
                outcome = self._on_end(result)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                _log_on_end_failure()
