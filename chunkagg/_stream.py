"""What every streamed format shares: framing, event numbers, faults, and the bytes-in API.

Owns ``StreamAccumulator``: ``feed()`` (bytes, split anywhere, to frames), ``add()`` (objects
already decoded, SSE event objects unwrapped), ``finalize()`` and ``snapshot()``, the event
number and byte offset on every error, ``[DONE]``, in-band ``event: error``, a last event cut
short, and ``EmptyStreamError`` when no chunk came. Must not know any format's JSON: each
subclass (``Accumulator`` for chat completions, the legacy completions and Responses API ones)
decodes a payload, merges it and builds its result, through the hooks below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from ._errors import (
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    StreamError,
)
from ._framing import BATCH, BATCH_STEP, DATA, DONE, ERROR, FAULT, SKIP, Format, Framer, classify
from ._schema import DECODE_ERRORS, ChunkDecoder

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "FORMATS",
    "ChunkAccumulator",
    "StreamAccumulator",
    "SupportsAccumulate",
    "check_limits",
]

# One chunk is a few hundred bytes; the largest real ones (a long tool-call argument in a single
# delta, an audio fragment) stay well under 1 MiB. h11 caps an incomplete event at 16 KiB, aiohttp
# a line at 8 KiB; we allow far more because a single delta may carry a whole document.
DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024
FORMATS = ("auto", "sse", "ndjson", "json")

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)


class SupportsAccumulate(Protocol[Chunk, Result_co]):
    """What the helpers and relays drive: any of chunkagg's accumulators (``Accumulator``,
    ``CompletionAccumulator``, ``ResponseAccumulator``, ``AutoAccumulator``), whose chunks are
    ``Chunk`` and whose result is ``Result_co``."""

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""

    @property
    def event_count(self) -> int:
        """How many events (or added chunks) have been processed."""

    def feed(self, data: bytes | bytearray | memoryview) -> list[Chunk]:
        """Take the next bytes of the stream; return the chunks they completed."""

    def add(self, chunk: Any) -> Chunk | None:
        """Merge a decoded chunk."""

    def finalize(self) -> Result_co:
        """End the stream and return the result."""

    def snapshot(self) -> Result_co:
        """The result merged so far."""

    def take_events(self) -> Sequence[Any]:
        """The live-UI events since the last call (with ``track=True``)."""


_any_decoder = msgspec.json.Decoder()
_error_decoder = msgspec.json.Decoder(dict[str, Any])
_DONE = b"[DONE]"


def check_limits(**limits: int) -> None:
    """Raise ``ValueError`` for a limit that is not a positive ``int``, naming it."""
    for name, value in limits.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")


class StreamAccumulator(Generic[Chunk, Result]):
    """The state of one streamed response, of any format: subclasses say how to decode a
    payload (``_decode``, ``_convert``), merge it (``_merge``) and build the result
    (``_build``, ``_is_empty``, ``_finish``).

    Only ``ChunkAggError`` subclasses escape ``feed()``, ``add()`` and ``finalize()`` for anything
    the stream contains (``TypeError`` for a wrong argument type). A raising call has consumed
    only the bad event: what was merged before stays, and the next ``feed()`` (``feed(b"")`` will
    do) goes on with the bytes already buffered.
    """

    __slots__ = ("_closed", "_done", "_events", "_framer", "_head", "_heading")

    def __init__(self, format: Format, max_event_size: int) -> None:
        check_limits(max_event_size=max_event_size)
        if format not in FORMATS:
            raise ValueError(f"format must be 'auto', 'sse', 'ndjson' or 'json', not {format!r}")
        self._framer = Framer(format, max_event_size)
        self._events = 0
        self._done = False
        self._closed = False
        self._head = b""  # the stream's first bytes, to say what arrived when no chunk did
        self._heading = True  # until _head is full: one attribute test per feed() after that

    # -- the format's hooks ----------------------------------------------------------------------

    def _decode(self, payload: bytes) -> Chunk:
        """One event's JSON to this format's chunk; ``ChunkError`` if it is none."""
        raise NotImplementedError

    def _convert(self, value: Any) -> Chunk:
        """A decoded object (a dict, an SDK's pydantic model, a Struct) to a chunk."""
        raise NotImplementedError

    def _merge(self, chunk: Chunk) -> None:
        """Merge one chunk, or raise without changing anything."""
        raise NotImplementedError

    def _build(self) -> Result:
        """The result merged so far; the state is left as it was."""
        raise NotImplementedError

    def _is_empty(self) -> bool:
        """Whether no chunk carried anything at all."""
        raise NotImplementedError

    def _finish(self) -> None:
        """Called by every ``finalize()`` once the stream's last events are merged."""

    # -- the public API ---------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""
        return self._done

    @property
    def event_count(self) -> int:
        """How many events (or added chunks) have been processed, bad ones included."""
        return self._events

    @property
    def last_event_id(self) -> str:
        """The last SSE ``id:`` the server sent (``""`` if none), for resuming a stream."""
        return self._framer.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid SSE ``retry:`` (reconnection delay in ms) the server sent, if any."""
        return self._framer.retry

    def feed(self, data: bytes | bytearray | memoryview) -> list[Chunk]:
        """Take the next bytes of the stream and merge every chunk they complete.

        Args:
            data: any slice of the body; ``b""`` resumes after a caught error.

        Returns:
            The chunks this call completed, decoded, in stream order.

        Raises:
            ChunkError: an event's payload is not a valid chunk.
            StreamError: the server sent an error event, or a chunk that carries an error.
            LimitExceededError: an event or an index crossed a configured limit.
            AccumulatorClosedError: ``finalize()`` was already called.
            TypeError: ``data`` is not bytes-like.
        """
        if type(data) is not bytes:
            if isinstance(data, memoryview):
                data = data.tobytes()
            elif not isinstance(data, bytes | bytearray):
                raise TypeError(_not_bytes("feed()", data))
        if self._closed:
            raise AccumulatorClosedError("feed() after finalize()")
        framer = self._framer
        if data:
            if self._heading:
                head = self._head = self._head + data[: _HEAD - len(self._head)]
                self._heading = len(head) < _HEAD
            framer.feed(data)
        return self._drain() if framer.frames else []

    def add(self, chunk: Any) -> Chunk | None:
        """Merge a chunk that was already decoded (for callers who parse the stream themselves).

        Args:
            chunk: one decoded chunk of this format (its Struct, a ``dict`` of its JSON, or a
                pydantic model of it, such as an SDK's), or an SSE event object that holds one
                of those, or the chunk's JSON text, as ``data`` (the Orq SDK's stream items,
                httpx-sse's and the openai SDK's ``ServerSentEvent``). An event whose ``event``
                is ``error`` is the server's error.

        Returns:
            The chunk as decoded, or ``None`` for an event that holds no chunk (``[DONE]``,
            which sets ``done``, or a keep-alive).

        Raises:
            ChunkError, StreamError, LimitExceededError: as for ``feed()``; the error names the
                chunk's number among the events and added chunks, and no byte offset. A
                ``ChunkError`` also for an object that is no chunk (a LangChain message, a JSON
                object of another API): the message says what it was.
            AccumulatorClosedError: ``finalize()`` was already called.
            TypeError: ``chunk`` is none of the above (bytes: use ``feed()``).
        """
        data, event = _unwrap(chunk)
        if data is None and event is not None:
            return None  # an event without data: a keep-alive (the Orq SDK yields these)
        if isinstance(data, str | bytes | bytearray):
            if event is None:
                raise TypeError(_not_a_chunk(chunk))  # JSON text only as an event's data
        elif not isinstance(data, msgspec.Struct | Mapping) and not callable(
            getattr(data, "model_dump_json", None)
        ):
            raise TypeError(_not_a_chunk(chunk))
        if self._closed:
            raise AccumulatorClosedError("add() after finalize()")
        self._events += 1
        try:
            kind = (
                event.get("event") if isinstance(event, Mapping) else getattr(event, "event", None)
            )
            if kind == "error":
                raise _error_event(_as_payload(data))
            if isinstance(data, str | bytes | bytearray):
                payload = bytes(data.encode() if isinstance(data, str) else data).strip()
                what = classify(payload)
                if what == DONE:
                    self._done = True
                    return None
                if what == SKIP:
                    return None
                decoded = self._decode(payload)
            else:
                decoded = self._convert(data)
            self._merge(decoded)
        except ChunkAggError as exc:
            exc._locate(self._events, None)
            raise
        return decoded

    def finalize(self) -> Result:
        """End the stream and return the merged result.

        A last event without its closing blank line is merged when it is complete. Calling
        ``finalize()`` again returns the result again.

        Raises:
            IncompleteStreamError: the stream ended inside an event. Everything before it is
                merged: call ``finalize()`` again, or ``snapshot()``, for the partial result.
            EmptyStreamError: not a single chunk arrived (an empty body, an HTML page, a JSON
                body of another API...): the message says what did.
            ChunkError, StreamError, LimitExceededError: a buffered event was bad, as for
                ``feed()``; again, a second ``finalize()`` returns what was merged.
        """
        if not self._closed:
            self._closed = True
            self._framer.close()
        self._drain()
        self._finish()
        if self._is_empty():
            received = self._framer.received
            raise EmptyStreamError(
                _what_arrived(self._head, received, self._events, self._done),
                received=received,
                head=self._head,
                events=self._events,
            )
        return self._build()

    def snapshot(self) -> Result:
        """Return the result merged so far, without ending the stream or changing state."""
        return self._build()

    # -- frames to chunks -------------------------------------------------------------------------

    def _drain(self) -> list[Chunk]:
        frames = self._framer.frames
        out: list[Chunk] = []
        done = 0
        try:
            for kind, offset, payload in frames:
                done += 1
                if kind >= BATCH:
                    self._batch(kind, payload, offset, out, done)
                    continue
                self._events += 1
                if kind == DATA:
                    chunk = self._decode(payload)
                elif kind == DONE:
                    self._done = True
                    continue
                else:
                    chunk = self._slow_frame(kind, payload)
                self._merge(chunk)
                out.append(chunk)
        except ChunkAggError as exc:
            if exc.event is None:
                _attach(exc, payload)
                exc._locate(self._events, offset)
            exc.chunks = out
            raise
        finally:
            del frames[:done]
        return out

    def _batch(
        self,
        kind: int,
        run: list[bytes] | tuple[list[bytes], int],
        offset: int,
        out: list[Chunk],
        position: int,
    ) -> None:
        """Decode and merge a run of one-line ``data:`` events.

        ``run`` is the payloads, or (payloads, first) for a run resumed after a bad event: the
        rest of a run is never copied, so catching and resuming over many bad events stays
        linear. ``position`` is where the run's frame sits in the queue, plus one.
        """
        payloads, first = _run(run)
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        for k in range(first, len(payloads)):
            payload = payloads[k]
            try:
                what = classify(payload)
                if what == DONE:
                    self._done = True
                    continue
                if what == SKIP:
                    skipped += 1
                    continue
                chunk = self._decode(payload.strip(b" \t\r\n"))
                self._merge(chunk)
            except ChunkAggError as exc:
                self._batch_fault(exc, kind, payloads, first, k, skipped, offset, position)
                raise
            out.append(chunk)
        self._events += len(payloads) - first - skipped

    def _batch_fault(
        self,
        exc: ChunkAggError,
        kind: int,
        payloads: list[bytes],
        first: int,
        k: int,
        skipped: int,
        offset: int,
        position: int,
    ) -> None:
        """Locate a fault at payload ``k`` of a run; queue the rest of the run, uncopied."""
        payload = payloads[k]
        _attach(exc, payload)
        step = BATCH_STEP[kind]
        start = offset + sum(map(len, payloads[first:k])) + step * (k - first)
        self._events += k + 1 - first - skipped
        exc._locate(self._events, start)
        if k + 1 < len(payloads):
            resume = (kind, start + len(payload) + step, (payloads, k + 1))
            self._framer.frames.insert(position, resume)

    def _slow_frame(self, kind: int, payload: bytes) -> Chunk:
        if kind == FAULT:
            raise self._framer.faults.pop(0)
        if kind == ERROR:
            raise _error_event(payload)
        # TAIL: the last event of a stream that ended without closing it (or a whole body).
        try:
            return self._decode(payload)
        except ChunkError as error:
            exc = error.__cause__ or error
            # Typed decoding may stop at a wrong type before reaching the cut: what the JSON
            # itself says decides. Cut short ("truncated", or a "[DONE]" cut) is an incomplete
            # stream, which retrying may mend; whole but wrong, or malformed, is a bad chunk.
            try:
                _any_decoder.decode(payload)
            except DECODE_ERRORS as syntax:
                if _cut_short(payload, str(syntax)):
                    raise IncompleteStreamError(
                        f"stream ended inside an event, whose JSON is cut short ({exc})", payload
                    ) from exc
            raise


class ChunkAccumulator(StreamAccumulator[Chunk, Result]):
    """The hooks the two chunk formats share (chat completions, legacy completions): a
    ``ChunkDecoder`` for ``_decoder``, and for ``_merger`` a merge state with ``add(chunk, plan)``,
    ``build()``, ``empty`` and ``shape(cls)``, which gives the ``plan`` of chunks of class
    ``cls`` (looked up once per run of events). ``_tracker`` is the merger again when it derives
    live events, else ``None``."""

    __slots__ = ("_decoder", "_merger", "_tracker")

    _decoder: ChunkDecoder
    _merger: Any
    _tracker: Any

    def _decode(self, payload: bytes) -> Chunk:
        chunk: Chunk = self._decoder.decode_or_raise(payload)
        return chunk

    def _convert(self, value: Any) -> Chunk:
        chunk: Chunk = self._decoder.convert(value)
        return chunk

    def _merge(self, chunk: Chunk) -> None:
        merger = self._merger
        merger.add(chunk, merger.shape(type(chunk)))

    def _build(self) -> Result:
        result: Result = self._merger.build()
        return result

    def _is_empty(self) -> bool:
        return bool(self._merger.empty)

    def _batch(
        self,
        kind: int,
        run: list[bytes] | tuple[list[bytes], int],
        offset: int,
        out: list[Chunk],
        position: int,
    ) -> None:
        """The per-chunk hot path: ``StreamAccumulator._batch`` with the decode and the merge's
        plan looked up once per run, and no classifying of a payload that decodes."""
        payloads, first = _run(run)
        append = out.append
        merger = self._merger
        merge = merger.add
        plan_of = merger.shape
        decoder = self._decoder
        decode = decoder.decode
        plan = plan_of(decoder.schema.root)
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        for k in range(first, len(payloads)):
            payload = payloads[k]
            try:
                try:
                    chunk = decode(payload)
                except DECODE_ERRORS:
                    # "[DONE]" and keep-alives land here too: classifying after a failed decode
                    # keeps every well-formed chunk free of the check.
                    what = classify(payload)
                    if what == DONE:
                        self._done = True
                        continue
                    if what == SKIP:
                        skipped += 1
                        continue
                    # Blanks stripped as the other paths strip them, so the error reads the same;
                    # a payload the schema refused (msgspec's ValidationError is a DecodeError)
                    # widens it there.
                    chunk = decoder.decode_or_raise(payload.strip(b" \t\r\n"))
                    decode = decoder.decode
                    plan = plan_of(decoder.schema.root)
                merge(chunk, plan)
            except ChunkAggError as exc:
                # Consume this event only: the rest of the run stays queued for the next call.
                self._batch_fault(exc, kind, payloads, first, k, skipped, offset, position)
                raise
            append(chunk)
        self._events += len(payloads) - first - skipped


def _run(run: list[bytes] | tuple[list[bytes], int]) -> tuple[list[bytes], int]:
    """A batch frame's payloads and where to start in them."""
    if type(run) is tuple:
        return run
    return run, 0  # type: ignore[return-value]


def _attach(exc: ChunkAggError, payload: Any) -> None:
    """Give a merge-time ``ChunkError`` (raised without bytes) the payload of its event."""
    if isinstance(exc, ChunkError) and not exc.payload and isinstance(payload, bytes):
        exc.payload = payload


def _error_event(payload: bytes) -> StreamError:
    """Build the ``StreamError`` for an ``event: error`` (OpenRouter, vLLM, SGLang)."""
    try:
        body = _error_decoder.decode(payload)
    except DECODE_ERRORS:
        text = payload.decode("utf-8", "replace")
        return StreamError(text if len(text) <= 200 else text[:200] + "...", payload=payload)
    err = body.get("error", body)
    if not isinstance(err, dict):
        return StreamError(str(err), payload=body)
    message = err.get("message")
    code = err.get("code")
    kind = err.get("type")
    return StreamError(
        message if isinstance(message, str) else str(err),
        code=code if isinstance(code, int | str) else None,
        type=kind if isinstance(kind, str) else None,
        payload=err,
    )


# The first bytes of a stream kept to say what arrived when no chunk did.
_HEAD = 64
# The keys of an SSE event object (the Orq SDK's stream items hold only ``data``).
_EVENT_KEYS = frozenset(("data", "event", "id", "retry"))
_MISSING = object()


def _unwrap(item: Any) -> tuple[Any, Any]:
    """(what to merge, the SSE event object it came in, or ``None`` for a bare chunk)."""
    if isinstance(item, msgspec.Struct):
        return item, None
    if isinstance(item, Mapping):
        if "data" in item and _EVENT_KEYS.issuperset(item):
            return item["data"], item
        return item, None
    data = getattr(item, "data", _MISSING)
    if data is not _MISSING and getattr(item, "choices", _MISSING) is _MISSING:
        return data, item
    return item, None


def _event_type(event: Any) -> Any:
    """An SSE event object's ``event`` field (``None`` for a bare chunk)."""
    return event.get("event") if isinstance(event, Mapping) else getattr(event, "event", None)


def _as_payload(data: Any) -> bytes:
    """An error event's data as the bytes ``_error_event`` reads."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8", "replace")
    if callable(getattr(data, "model_dump_json", None)):
        return str(data.model_dump_json()).encode()
    try:
        return msgspec.json.encode(data)
    except (TypeError, ValueError):
        return repr(data).encode()


def _not_bytes(where: str, data: object) -> str:
    kind = type(data).__name__
    if isinstance(data, str):
        return (
            f"{where} takes the raw body as bytes, not str: pass the bytes you read "
            "(response.iter_bytes(), not iter_text()), or text.encode()"
        )
    return (
        f"{where} takes bytes (any slice of the raw body), not {kind}: decoded chunks go to add()"
    )


def _not_a_chunk(item: object) -> str:
    kind = type(item).__name__
    if isinstance(item, bytes | bytearray | memoryview | str):
        return f"add() takes a decoded chunk, not {kind}: the raw body goes to feed() as bytes"
    return (
        "add() takes a chunk (its Struct, a dict, a pydantic model, or an SSE event object "
        f"holding one as data), not {kind}"
    )


def _what_arrived(head: bytes, received: int, events: int, done: bool) -> str:
    """Why a stream gave no chunk, from what it started with."""
    if not received:
        if events:  # objects given to add()
            return f"no chunk at all: {events} events, none of them a chunk that merged"
        return "no chunk at all: the stream is empty"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    start = repr(head[:_HEAD].decode("utf-8", "replace")) + ("..." if received > _HEAD else "")
    if not text:
        return f"no chunk at all: {received} bytes of blank lines"
    if text[:1] == b"<":
        return (
            f"no chunk at all: the stream looks like HTML or XML, an error page? (starts {start})"
        )
    if events and done and events == 1:
        return "no chunk at all: the stream held only [DONE]"
    if events:
        return (
            f"no chunk at all: {events} events, none of them a chunk with any of a chunk's "
            f"fields (starts {start})"
        )
    return (
        f"no chunk at all: {received} bytes without a single SSE data: event or JSON line "
        f"(starts {start})"
    )


_AT_BYTE = re.compile(r"\(byte (\d+)\)$")


def _cut_short(payload: bytes, syntax: str) -> bool:
    """Whether JSON that does not parse was cut short rather than malformed: msgspec says
    "truncated", or finds the fault at the very end (inside a number: "-1."), or it is a
    "[DONE]" cut."""
    if "truncated" in syntax or _DONE.startswith(payload):
        return True
    at = _AT_BYTE.search(syntax)
    return at is not None and int(at.group(1)) >= len(payload)
