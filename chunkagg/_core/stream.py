"""The accumulator loop every format shares: bytes or decoded objects in, one result out.

Owns ``StreamAccumulator``: ``feed()`` (bytes, split anywhere, to frames, to chunks), ``add()``
(objects already decoded, SSE event objects unwrapped), ``finalize()``, ``snapshot()`` and
``take_events()``; the event number and byte offset on every error, ``[DONE]``, in-band
``event: error``, a last event cut short, and ``EmptyStreamError`` when no chunk came; and the
per-chunk hot path, which decodes and merges a run of one-line ``data:`` events in one loop.
Must not know any format's JSON or rules: a format's accumulator (its room's ``accumulator``
module) gives it a ``ChunkDecoder`` of its root Struct and a merge state that follows
``MergeState``, and overrides a hook only where its format differs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from .._errors import (
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    StreamError,
)
from .frames import (
    BATCH,
    BATCH_STEP,
    DATA,
    DONE,
    ERROR,
    FAULT,
    SKIP,
    EventRun,
    EventSplitter,
    Format,
    classify,
)
from .framing import Framer
from .limits import EVENT_DEPTH, check_limits, deeper_than
from .models import ErrorObject
from .schema import DECODE_ERRORS, ChunkDecoder

__all__ = [
    "FORMATS",
    "MergeState",
    "StreamAccumulator",
    "SupportsAccumulate",
    "error_event",
    "locate_payload",
    "not_bytes",
    "run_index",
    "stream_error",
    "unwrap",
]

FORMATS = ("auto", "sse", "ndjson", "json")

Chunk = TypeVar("Chunk")
Chunk_contra = TypeVar("Chunk_contra", contravariant=True)
Plan = TypeVar("Plan")
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


class MergeState(Protocol[Chunk_contra, Plan, Result_co]):
    """A format's merge state for one stream, as ``StreamAccumulator`` drives it.

    ``events`` is the list of live-UI events not yet taken (``None`` without ``track=True``).
    A merge state may also have ``add_run(chunks, plan)``, the hot path's: merge chunks in
    order, as ``add`` each, in one call; one that raises is not merged, those before it are,
    and the error's ``_run_index`` is its place in ``chunks``.
    """

    events: list[Any] | None

    @property
    def empty(self) -> bool:
        """Whether no chunk carried anything at all."""

    def shape(self, root: type) -> Plan:
        """What merging a chunk of class ``root`` needs (looked up once per run of events)."""

    def add(self, chunk: Chunk_contra, plan: Plan) -> None:
        """Merge one chunk, or raise without changing anything."""

    def build(self) -> Result_co:
        """The result merged so far; the state is left as it was."""

    def finish(self) -> None:
        """Called by every ``finalize()`` once the stream's last events are merged."""


# Payloads of a run decoded in one go before they are merged: a fault in a run leaves at most
# this many decoded for nothing, so resuming after each of many bad events stays linear.
SEGMENT = 64

_any_decoder = msgspec.json.Decoder()
_error_decoder = msgspec.json.Decoder(dict[str, Any])
_DONE = b"[DONE]"


class StreamAccumulator(Generic[Chunk, Result]):
    """The state of one streamed response, of any format.

    A format's accumulator builds its ``_decoder`` (a ``ChunkDecoder`` of its root Struct) and
    its ``_merger`` (a ``MergeState``) in ``__init__``; the hooks below drive them, and a format
    overrides one only where it differs (the Responses API decodes whole bodies as events, and
    merges its deltas inline in ``_batch``).

    Only ``ChunkAggError`` subclasses escape ``feed()``, ``add()`` and ``finalize()`` for anything
    the stream contains (``TypeError`` for a wrong argument type). A raising call has consumed
    only the bad event: what was merged before stays, and the next ``feed()`` (``feed(b"")`` will
    do) goes on with the bytes already buffered.
    """

    __slots__ = (
        "_closed",
        "_decoder",
        "_done",
        "_events",
        "_framer",
        "_head",
        "_heading",
        "_merger",
    )

    _decoder: ChunkDecoder
    _merger: MergeState[Chunk, Any, Result]

    def __init__(
        self, format: Format, max_event_size: int, split: EventSplitter | None = None
    ) -> None:
        check_limits(max_event_size=max_event_size)
        if format not in FORMATS:
            raise ValueError(f"format must be 'auto', 'sse', 'ndjson' or 'json', not {format!r}")
        self._framer = Framer(format, max_event_size, split)
        self._events = 0
        self._done = False
        self._closed = False
        self._head = b""  # the stream's first bytes, to say what arrived when no chunk did
        self._heading = True  # until _head is full: one attribute test per feed() after that

    # -- the format's hooks ----------------------------------------------------------------------

    def _decode(self, payload: bytes) -> Chunk:
        """One event's JSON to this format's chunk; ``ChunkError`` if it is none."""
        chunk: Chunk = self._decoder.decode_or_raise(payload)
        return chunk

    def _convert(self, value: Any) -> Chunk:
        """A decoded object (a dict, an SDK's pydantic model, a Struct) to a chunk."""
        chunk: Chunk = self._decoder.convert(value)
        return chunk

    def _merge(self, chunk: Chunk) -> None:
        """Merge one chunk, or raise without changing anything."""
        merger = self._merger
        merger.add(chunk, merger.shape(type(chunk)))

    def _build(self) -> Result:
        """The result merged so far; the state is left as it was."""
        return self._merger.build()

    def _is_empty(self) -> bool:
        """Whether no chunk carried anything at all."""
        return self._merger.empty

    def _finish(self) -> None:
        """Called by every ``finalize()`` once the stream's last events are merged."""
        self._merger.finish()

    def _take_events(self) -> list[Any]:
        """The live-UI events since the last call (each format's ``take_events`` types them)."""
        merger = self._merger
        events = merger.events
        if events is None:
            raise RuntimeError(f"take_events() needs {type(self).__name__}(track=True)")
        if events:
            merger.events = []
            return events
        return []

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
                raise TypeError(not_bytes("feed()", data))
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
        data, event = unwrap(chunk)
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
            if _event_type(event) == "error":
                raise error_event(_as_payload(data))
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
                    framed = self._slow_frame(kind, payload)
                    if framed is None:  # a body re-read as NDJSON: its lines are queued next
                        self._events -= 1
                        continue
                    chunk = framed
                self._merge(chunk)
                out.append(chunk)
        except ChunkAggError as exc:
            if exc.event is None:
                locate_payload(exc, payload)
                exc._locate(self._events, offset)
            exc.chunks = out
            raise
        finally:
            del frames[:done]
        return out

    def _batch(
        self,
        kind: int,
        run: list[bytes] | tuple[list[bytes], int] | EventRun,
        offset: int,
        out: list[Chunk],
        position: int,
    ) -> None:
        """Decode and merge a run of events (``kind >= BATCH``): the per-chunk hot path.

        ``run`` is the payloads (a list), or (payloads, first) for a run resumed after a bad
        event, or an ``EventRun``: the rest of a run is never copied, so catching and resuming
        over many bad events stays linear. ``position`` is where the run's frame sits in the
        queue, plus one. The payloads are decoded in C (``map``; the list keeps those before
        one that fails) and merged in one call, the merge's ``add_run``: no Python call per
        chunk. A payload that does not decode is classified then (``[DONE]``, a keep-alive, or
        a bad event, whose error is raised in its place), so every well-formed chunk is free
        of the check. A merge fault leaves the rest of the run decoded for nothing once; the
        run resumed after it is decoded ``SEGMENT`` payloads at a time, so each later fault
        wastes no more than that.
        """
        payloads, first = _run(run)
        merger = self._merger
        decoder = self._decoder
        decode = decoder.decode
        add_run = merger.add_run  # type: ignore[attr-defined]  # chat's and legacy completions'
        plan = merger.shape(decoder.schema.root)
        rest = iter(payloads)
        if first:
            rest.__setstate__(first)  # type: ignore[attr-defined]
        k = first  # the payload of chunks[0]
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        while True:
            chunks: list[Chunk] = []
            failed = False
            try:
                # A run resumed after a fault, SEGMENT at a time: another fault wastes no more.
                chunks += map(decode, islice(rest, SEGMENT) if first else rest)
            except DECODE_ERRORS:
                failed = True
            if chunks:
                try:
                    add_run(chunks, plan)
                except ChunkAggError as exc:
                    out += chunks[: exc._run_index]
                    self._batch_fault(exc, kind, run, k + exc._run_index, skipped, offset, position)
                    raise
                out += chunks
                k += len(chunks)
            if not failed:
                if not first or len(chunks) < SEGMENT:
                    break
                continue
            payload = payloads[k]
            what = classify(payload)
            if what == DONE:
                self._done = True
            elif what == SKIP:
                skipped += 1
            else:
                try:
                    # Blanks stripped as the other paths strip them, so the error reads the
                    # same; a payload the schema refused (msgspec's ValidationError is a
                    # DecodeError) widens it there.
                    chunk = decoder.decode_or_raise(payload.strip(b" \t\r\n"))
                    decode = decoder.decode
                    plan = merger.shape(decoder.schema.root)
                    add_run([chunk], plan)
                except ChunkAggError as exc:
                    self._batch_fault(exc, kind, run, k, skipped, offset, position)
                    raise
                out.append(chunk)
            k += 1
        self._events += len(payloads) - first - skipped

    def _batch_fault(
        self,
        exc: ChunkAggError,
        kind: int,
        run: list[bytes] | tuple[list[bytes], int] | EventRun,
        k: int,
        skipped: int,
        offset: int,
        position: int,
    ) -> None:
        """Locate a fault at payload ``k`` of a run; queue the rest of the run, uncopied."""
        payloads, first = _run(run)
        payload = payloads[k]
        locate_payload(exc, payload)
        self._events += k + 1 - first - skipped
        rest: Any
        if type(run) is EventRun:
            start = run.start(k)
            rest = run.rest(k)
            after = rest.offset
        else:
            step = BATCH_STEP[kind]
            start = offset + sum(map(len, payloads[first:k])) + step * (k - first)
            after = start + len(payload) + step
            rest = (payloads, k + 1)
        exc._locate(self._events, start)
        if k + 1 < len(payloads):
            self._framer.frames.insert(position, (kind, after, rest))

    def _slow_frame(self, kind: int, payload: bytes) -> Chunk | None:
        """The chunk of a rare frame, or ``None`` when a body was re-read as NDJSON lines."""
        if kind == FAULT:
            raise self._framer.faults.pop(0)
        if kind == ERROR:
            raise error_event(payload)
        # TAIL: the last event of a stream that ended without closing it (or a whole body).
        try:
            return self._decode(payload)
        except ChunkError as error:
            exc = error.__cause__ or error
            # Typed decoding may stop at a wrong type before reaching the cut: what the JSON
            # itself says decides. Cut short ("truncated", or a "[DONE]" cut) is an incomplete
            # stream, which retrying may mend; whole but wrong, or malformed, is a bad chunk.
            try:
                if deeper_than(payload, EVENT_DEPTH):
                    # What a deeper stack's decoder meets first, whatever else is wrong: never
                    # "cut short", so the outcome depends on the bytes, not on the stack.
                    raise RecursionError
                _any_decoder.decode(payload)
            except DECODE_ERRORS as syntax:
                if _cut_short(payload, str(syntax)):
                    raise IncompleteStreamError(
                        f"stream ended inside an event, whose JSON is cut short ({exc})", payload
                    ) from exc
                # Malformed: a body read as one document because its first line was not a
                # whole object is NDJSON whose first line is bad, so nothing valid after it is
                # lost; any other frame's payload is one bad chunk.
                if self._framer.reread_as_lines():
                    return None
            raise


def _run(run: list[bytes] | tuple[list[bytes], int] | EventRun) -> tuple[Sequence[bytes], int]:
    """A run frame's payloads and where to start in them."""
    if type(run) is list:
        return run, 0
    if type(run) is tuple:
        return run
    return run.payloads, run.first  # type: ignore[union-attr]


def run_index(chunks: Sequence[Any], chunk: Any) -> int:
    """Where ``chunk`` is in ``chunks`` (by identity: equal chunks may repeat), for a merger's
    ``add_run`` to set the ``_run_index`` of the error that chunk raised."""
    return next(k for k, c in enumerate(chunks) if c is chunk)


def locate_payload(exc: ChunkAggError, payload: Any) -> None:
    """Give a merge-time ``ChunkError`` (raised without bytes) the payload of its event."""
    if isinstance(exc, ChunkError) and not exc.payload and isinstance(payload, bytes):
        exc.payload = payload


def error_event(payload: bytes) -> StreamError:
    """Build the ``StreamError`` for an ``event: error`` (OpenRouter, vLLM, SGLang). Its text
    stands for a body that does not decode, and for one nested past ``EVENT_DEPTH``, which
    decodes or not depending on the caller's stack."""
    try:
        if deeper_than(payload, EVENT_DEPTH):
            raise RecursionError
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


def stream_error(error: ErrorObject) -> StreamError:
    """The ``StreamError`` for a chunk's non-null ``error`` object."""
    try:
        payload: Any = msgspec.to_builtins(error)
    except RecursionError:  # metadata nested too deep to copy: hand over the Struct
        payload = error
    return StreamError(
        error.message or "(no message)", code=error.code, type=error.type, payload=payload
    )


# The first bytes of a stream kept to say what arrived when no chunk did.
_HEAD = 64
# The keys of an SSE event object (the Orq SDK's stream items hold only ``data``).
_EVENT_KEYS = frozenset(("data", "event", "id", "retry"))
_MISSING = object()


def unwrap(item: Any) -> tuple[Any, Any]:
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
    """An error event's data as the bytes ``error_event`` reads."""
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


def not_bytes(where: str, data: object) -> str:
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
# The ways to finish a token msgspec reads whole (true, false, null, a \u escape, a surrogate
# pair) or a number ("-1." wants a digit), after the last byte of a payload cut inside one:
# every proper suffix, shortest first, after b"" (a payload cut between tokens).
_TOKENS = (b"true", b"false", b"null", b"\\u0000", b"\\ud800\\udc00")
_ENDINGS = (
    b"",
    *sorted({t[i:] for t in _TOKENS for i in range(1, len(t))}, key=lambda e: (len(e), e)),
)
# More than any token msgspec reads whole still wants: the JSON after the ending is never short.
_PAD = b" " * 8


def _cut_short(payload: bytes, syntax: str) -> bool:
    """Whether JSON that does not parse was cut short rather than malformed: it is a "[DONE]"
    cut, or the start of a valid JSON text.

    msgspec's "truncated" does not say that: it says so whenever fewer bytes are left than a
    token it reads whole takes, so ``{"x":"\\ud800"}`` (a lone surrogate escape, fewer than the
    six bytes of its pair after it) and ``{"x":t}`` are "truncated", whole and malformed. Nor
    does a fault at the very end (``-1.`` is cut inside a number; ``{"x":fals}`` is malformed).
    So when msgspec finds nothing wrong before the end, the payload is finished each way a token
    or a number can be (``_ENDINGS``), and padded with blanks so that nothing is read whole past
    the end: it is cut short when one of them leaves JSON that is only unfinished.
    """
    if _DONE.startswith(payload):
        return True
    at = _AT_BYTE.search(syntax)
    if "truncated" not in syntax and (at is None or int(at.group(1)) < len(payload)):
        return False  # a fault before the end: malformed whatever would follow
    for ending in _ENDINGS:
        try:
            _any_decoder.decode(payload + ending + _PAD)
        except DECODE_ERRORS as exc:
            if "truncated" in str(exc):
                return True
        else:
            return True
    return False
