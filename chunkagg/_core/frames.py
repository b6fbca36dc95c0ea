"""The frame contract between the framer and the accumulator loop: what a frame holds.

Owns ``FrameKind`` (and its members as module names, for the hot paths), ``Frame``,
``BATCH_STEP``, ``EventRun`` (a run of events a format framed itself), ``EventSplitter`` (the
hook by which it does) and ``classify`` (an event's data: a JSON payload, ``[DONE]``, or
nothing). Must not know how bytes become frames (``framing``) nor what a payload holds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, Literal

__all__ = [
    "BATCH",
    "BATCH_CRLF",
    "BATCH_NDJSON",
    "BATCH_STEP",
    "DATA",
    "DONE",
    "ERROR",
    "FAULT",
    "RUN",
    "SKIP",
    "TAIL",
    "EventRun",
    "EventSplitter",
    "Format",
    "Frame",
    "FrameKind",
    "classify",
]

Format = Literal["auto", "sse", "ndjson", "json"]


class FrameKind(enum.IntEnum):
    """What a frame holds. Ordered so that one comparison routes a frame: every kind from
    ``BATCH`` on is a run of several events in one frame (``kind >= BATCH``)."""

    #: One event's JSON payload (bytes).
    DATA = 0
    #: ``data: [DONE]``.
    DONE = 1
    #: The data of an ``event: error`` event: the server's error, raised as ``StreamError``.
    ERROR = 2
    #: A fault of the stream itself (an event too large); its exception waits in ``faults``.
    FAULT = 3
    #: The data of a last event that the stream ended without closing: a payload that does not
    #: parse there is an incomplete stream rather than a bad chunk.
    TAIL = 4
    #: Only a ``classify`` result, never a frame: empty data, or a keep-alive wrapped as data.
    SKIP = 5
    #: A run of complete LF events that are each a single ``data: `` line; the payload is the
    #: list of their data, and event ``i`` spans ``len(data) + BATCH_STEP[kind]`` bytes.
    BATCH = 6
    #: The same for CRLF events.
    BATCH_CRLF = 7
    #: The same for complete NDJSON lines (blank ones included: they decode to nothing).
    BATCH_NDJSON = 8
    #: A run of events of a shape a format frames itself (an ``EventSplitter``): an ``EventRun``.
    RUN = 9


# Module-level names: the hot paths read a global, not a class attribute.
DATA, DONE, ERROR, FAULT, TAIL, SKIP = (
    FrameKind.DATA,
    FrameKind.DONE,
    FrameKind.ERROR,
    FrameKind.FAULT,
    FrameKind.TAIL,
    FrameKind.SKIP,
)
BATCH, BATCH_CRLF, BATCH_NDJSON, RUN = (
    FrameKind.BATCH,
    FrameKind.BATCH_CRLF,
    FrameKind.BATCH_NDJSON,
    FrameKind.RUN,
)
BATCH_STEP: dict[int, int] = {
    BATCH: len(b"data: \n\n"),
    BATCH_CRLF: len(b"data: \r\n\r\n"),
    BATCH_NDJSON: 1,
}
# (kind, stream offset of the event, payload): bytes for every kind but the runs'.
Frame = tuple[int, int, Any]


class EventRun:
    """A run of complete events a format framed itself: each is a head (its lines before the
    payload, without the line ending), the payload, and ``overhead`` bytes of line endings and
    field names between and after them. ``heads`` is one head per event, or one for all (a run
    of events of one name). ``first`` is where to start: a run resumed after a bad event is
    never copied. Offsets are computed only for a fault."""

    __slots__ = ("first", "heads", "offset", "overhead", "payloads")

    def __init__(
        self,
        payloads: Sequence[bytes],
        heads: Sequence[bytes] | bytes,
        offset: int,
        overhead: int,
        first: int = 0,
    ) -> None:
        self.payloads = payloads
        self.heads = heads
        self.offset = offset
        self.overhead = overhead
        self.first = first

    def head(self, k: int) -> bytes:
        """The head of event ``k``."""
        heads = self.heads
        return heads if type(heads) is bytes else heads[k]  # type: ignore[return-value]

    def span(self, k: int) -> int:
        """How many bytes of the stream event ``k`` takes."""
        return len(self.head(k)) + len(self.payloads[k]) + self.overhead

    def start(self, k: int) -> int:
        """Where event ``k`` starts in the stream."""
        return self.offset + sum(self.span(j) for j in range(self.first, k))

    def rest(self, k: int) -> EventRun:
        """The events after event ``k``, which starts at ``self.start(k)``."""
        after = self.start(k) + self.span(k)
        return EventRun(self.payloads, self.heads, after, self.overhead, k + 1)


#: A format's own framing of a region of complete LF events (each ends with a blank line):
#: ``split(region, offset, max_event_size)`` returns the ``EventRun`` of the whole region when
#: every event in it has the shape the format frames, else ``None`` (the framer's line path
#: takes it then). It must give the same payloads, offsets and faults as the line path.
EventSplitter = Callable[[bytes, int, int], EventRun | None]


_DONE = b"[DONE]"
_WHITESPACE = b" \t\r\n"


def classify(payload: bytes) -> int:
    """The kind of one event's data: ``DATA`` (JSON to decode), ``DONE``, or ``SKIP``."""
    return kind_of(payload.strip(_WHITESPACE))


def kind_of(body: bytes) -> int:
    """``classify`` for data already stripped of blanks."""
    if not body or body[:1] == b":":
        return SKIP  # empty data, or "data: : keepalive" (a comment wrapped as data)
    return DONE if body == _DONE else DATA
