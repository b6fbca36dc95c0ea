"""The exception tree: everything chunkagg raises for bad input.

::

    ChunkAggError                      root: catch this to catch every stream fault
    ├── ChunkError (ValueError)        one event's payload is malformed or mistyped
    ├── StreamError                    the server sent an error in-band
    ├── IncompleteStreamError          the stream ended inside an event
    ├── EmptyStreamError               the stream ended without a single chunk
    ├── LimitExceededError             a configured bound was crossed
    └── AccumulatorClosedError         feed()/add() after finalize()

Inner layers raise these without positions; the ``Accumulator`` fills in the event number and the
byte offset where the fault sits (``_locate``), then builds the message from those facts. A
caller's misuse (passing a ``str`` to ``feed``) is a plain ``TypeError``, never one of these.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccumulatorClosedError",
    "ChunkAggError",
    "ChunkError",
    "EmptyStreamError",
    "IncompleteStreamError",
    "LimitExceededError",
    "StreamError",
]

_EXCERPT = 80


def _excerpt(payload: bytes) -> str:
    text = payload[:_EXCERPT].decode("utf-8", "replace")
    return repr(text + ("..." if len(payload) > _EXCERPT else ""))


class ChunkAggError(Exception):
    """Root of every error chunkagg raises about the stream it is given.

    Attributes:
        event: 1-based number of the event (or added chunk) at fault, or ``None``.
        offset: byte offset in the fed stream where that event starts, or ``None`` when the
            chunk came through ``add()``.
        reason: what was wrong, without the position.
        chunks: the chunks that the raising ``feed()`` call completed and merged before the
            fault, which its return value would have held.
        partial: the completion merged before the fault, when the error leaves a helper that
            owned the accumulator (``accumulate``, ``ChunkStream``...); ``None`` otherwise
            (``Accumulator.snapshot()`` gives it then).
    """

    # Where in a run of chunks merged in one call (a merger's ``add_run``) this was raised.
    _run_index: int = 0

    def __init__(self, reason: str, *, event: int | None = None, offset: int | None = None):
        self.reason = reason
        self.event = event
        self.offset = offset
        self.chunks: list[Any] = []
        self.partial: Any = None
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.event is not None:
            where.append(f"event {self.event}")
        if self.offset is not None:
            where.append(f"byte offset {self.offset}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason

    def _locate(self, event: int, offset: int | None) -> None:
        self.event = event
        self.offset = offset
        self.args = (self._message(),)

    def __str__(self) -> str:
        return self._message()


class _PayloadError(ChunkAggError):
    """An error about one event's bytes, kept in ``payload`` and excerpted in the message."""

    def __init__(
        self,
        reason: str,
        payload: bytes = b"",
        *,
        event: int | None = None,
        offset: int | None = None,
    ):
        self.payload = payload
        super().__init__(reason, event=event, offset=offset)

    def _message(self) -> str:
        base = super()._message()
        return f"{base} (payload {_excerpt(self.payload)})" if self.payload else base


class ChunkError(_PayloadError, ValueError):
    """One event's payload is not a valid chunk: bad JSON, a wrong type, an impossible index.

    Attributes:
        payload: the raw payload bytes of the event (the message shows a short excerpt).
    """


class StreamError(ChunkAggError):
    """The server reported an error inside the stream (``event: error`` or a chunk's ``error``).

    Everything merged before it stays in the accumulator: ``finalize()`` or ``snapshot()`` still
    return the partial completion.

    Attributes:
        message: the server's error message.
        code: the server's error code (``int`` or ``str``), if any.
        type: the server's error type, if any.
        payload: the decoded error object (or the raw event text when it was not JSON).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        type: str | None = None,
        payload: Any = None,
        event: int | None = None,
        offset: int | None = None,
    ):
        self.message = message
        self.code = code
        self.type = type
        self.payload = payload
        detail = f" (code {code!r})" if code is not None else ""
        super().__init__(f"server error{detail}: {message}", event=event, offset=offset)


class IncompleteStreamError(_PayloadError):
    """The stream ended inside an event: its JSON is cut off.

    Attributes:
        payload: the bytes of the unfinished event (the message shows a short excerpt).
    """


class EmptyStreamError(ChunkAggError):
    """The stream ended without a single chunk: what arrived is not a chat-completion stream.

    An empty body, an HTML error page, a JSON body of another API, random bytes, only
    ``[DONE]``: each would otherwise pass as an empty completion. The message says what arrived
    instead.

    Attributes:
        received: how many bytes were fed.
        head: the first bytes fed (at most 64).
        events: how many events (or added objects) there were, rejected ones included.
    """

    def __init__(self, reason: str, *, received: int, head: bytes, events: int):
        self.received = received
        self.head = head
        self.events = events
        super().__init__(reason)


class LimitExceededError(ChunkAggError):
    """A configured bound was crossed (event size, choices, tool calls, merged text).

    Attributes:
        limit: the name of the ``Accumulator`` argument that sets the bound.
        value: the configured bound.
    """

    def __init__(
        self,
        reason: str,
        *,
        limit: str,
        value: int,
        event: int | None = None,
        offset: int | None = None,
    ):
        self.limit = limit
        self.value = value
        super().__init__(f"{reason} (limit {limit}={value})", event=event, offset=offset)


class AccumulatorClosedError(ChunkAggError):
    """``feed()`` or ``add()`` was called after ``finalize()``."""
