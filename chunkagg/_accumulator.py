"""The public ``Accumulator``: framing, decoding and merging glued together, sans-I/O.

Owns the contract callers see: which chunks a ``feed()`` returns, what a raising call has
consumed (only the bad event), and where an error sits (event number, byte offset). The rules
themselves live in ``_framing`` (bytes to events) and ``_merge`` (chunks to a completion).
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from ._errors import (
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    StreamError,
)
from ._events import Event, TrackingMerger
from ._extensions import RULES, Rule
from ._framing import (
    BATCH,
    BATCH_STEP,
    DATA,
    DONE,
    ERROR,
    FAULT,
    SKIP,
    Format,
    Framer,
    classify,
)
from ._merge import (
    CORE_FIELDS,
    DEFAULT_MAX_CHOICES,
    DEFAULT_MAX_TEXT_SIZE,
    DEFAULT_MAX_TOOL_CALLS,
    Merger,
)
from ._models import ChatCompletion, ResponseBody2
from ._schema import DECODE_ERRORS, ChunkDecoder, whole_numbers

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "Accumulator", "SupportsModelDumpJson", "decode_chunk"]

# One chunk is a few hundred bytes; the largest real ones (a long tool-call argument in a single
# delta, an audio fragment) stay well under 1 MiB. h11 caps an incomplete event at 16 KiB, aiohttp
# a line at 8 KiB; we allow far more because a single delta may carry a whole document.
DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024

_DECODE_ERRORS = DECODE_ERRORS
_DONE = b"[DONE]"
_ValidationError = msgspec.ValidationError
_error_decoder = msgspec.json.Decoder(dict[str, Any])
_any_decoder = msgspec.json.Decoder()


def decode_chunk(payload: bytes | bytearray | memoryview | str) -> ResponseBody2:
    """Decode one event's JSON payload into a ``ResponseBody2``, for callers who frame themselves.

    Args:
        payload: the JSON text of one chunk (the part after ``data:``).

    Returns:
        The typed chunk, with every key it holds (``extra`` lists those chunkagg has no name
        for).

    Raises:
        ChunkError: the payload is not JSON, or a field has the wrong type.
        TypeError: ``payload`` is not bytes-like or ``str``.
    """
    if not isinstance(payload, bytes | bytearray | memoryview | str):
        raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
    return _decode_or_raise(ChunkDecoder(), payload)


def _decode_or_raise(
    decoder: ChunkDecoder, payload: bytes | bytearray | memoryview | str
) -> ResponseBody2:
    try:
        return decoder.decode(payload)
    except _ValidationError as exc:
        return decoder.widen(payload, exc)
    except _DECODE_ERRORS as exc:
        raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
        raise ChunkError(f"invalid chunk: {exc}", raw) from exc


class Accumulator:
    """Turns the bytes of one streamed chat completion into the final ``ChatCompletion``.

    Sans-I/O: hand it bytes as they arrive, split anywhere, and ask for the completion at the
    end. It keeps one stream's state; use one per stream. It holds no shared mutable state, so
    different accumulators may be used from different threads at once.

    Only ``ChunkAggError`` subclasses escape ``feed()``, ``add()`` and ``finalize()`` for anything
    the stream contains (``TypeError`` for a wrong argument type). A raising call has consumed
    only the bad event: what was merged before stays, and the next ``feed()`` (``feed(b"")`` will
    do) goes on with the bytes already buffered.

    Example::

        acc = Accumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        completion = acc.finalize()
    """

    __slots__ = (
        "_closed",
        "_decoder",
        "_done",
        "_events",
        "_framer",
        "_head",
        "_merger",
        "_tracker",
    )

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_choices: int = DEFAULT_MAX_CHOICES,
        max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        rules: Mapping[str, Rule] | None = None,
    ) -> None:
        """Create an accumulator for one stream.

        Args:
            format: ``"sse"`` (``data:`` events), ``"ndjson"`` (one JSON chunk per line),
                ``"json"`` (one JSON document: a non-streamed ``chat.completion`` body, which
                ``finalize()`` returns as it is), or ``"auto"``: SSE, unless the first non-blank
                byte is ``{``: then NDJSON if the first line is a whole object, else one JSON
                document.
            max_event_size: largest event in bytes; it also bounds the unparsed buffer, which
                never holds more than one partial event.
            max_choices: choice indices must be below this.
            max_tool_calls: tool-call indices, and calls per choice, must be below this.
            max_text_size: merged text (characters) plus audio bytes, over all choices.
            track: derive live-UI events from the merge, read with ``take_events()``.
            rules: the merge rule of fields chunkagg has no rule of its own for (provider
                extensions and unknown keys), by field name: ``"append"`` (strings
                concatenated, lists extended, objects merged key by key), ``"last"`` (last
                non-null value), ``"first"`` (first non-empty value) or ``"merge"`` (an object's
                keys, later non-null wins).

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        for name, value in (
            ("max_event_size", max_event_size),
            ("max_choices", max_choices),
            ("max_tool_calls", max_tool_calls),
            ("max_text_size", max_text_size),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if format not in ("auto", "sse", "ndjson", "json"):
            raise ValueError(f"format must be 'auto', 'sse', 'ndjson' or 'json', not {format!r}")
        for name, rule in (rules or {}).items():
            if rule not in RULES:
                raise ValueError(f"rule for {name!r} must be one of {RULES}, not {rule!r}")
            if name in CORE_FIELDS:
                raise ValueError(f"{name!r} has its own merge rule, which cannot be changed")
        self._framer = Framer(format, max_event_size)
        self._decoder = ChunkDecoder()
        limits = (max_choices, max_tool_calls, max_text_size)
        self._tracker = TrackingMerger(*limits, rules=rules) if track else None
        self._merger = self._tracker or Merger(*limits, rules=rules)
        self._events = 0
        self._done = False
        self._closed = False
        self._head = b""  # the stream's first bytes, to say what arrived when no chunk did

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""
        return self._done

    @property
    def event_count(self) -> int:
        """How many events (or added chunks) have been processed, bad ones included."""
        return self._events

    def take_events(self) -> list[Event]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``Accumulator(track=True)``. Each event is a ``ContentDelta``, ``RefusalDelta``,
        ``ReasoningDelta``, ``ToolCallStarted``, ``ToolCallArgumentsDelta``, ``ToolCallDone``,
        ``ChoiceFinished`` or ``UsageReceived``.

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        tracker = self._tracker
        if tracker is None:
            raise RuntimeError("take_events() needs Accumulator(track=True)")
        events = tracker.events
        if events:
            tracker.events = []
            return events
        return []

    @property
    def last_event_id(self) -> str:
        """The last SSE ``id:`` the server sent (``""`` if none), for resuming a stream."""
        return self._framer.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid SSE ``retry:`` (reconnection delay in ms) the server sent, if any."""
        return self._framer.retry

    def feed(self, data: bytes | bytearray | memoryview) -> list[ResponseBody2]:
        """Take the next bytes of the stream and merge every chunk they complete.

        Args:
            data: any slice of the body; ``b""`` resumes after a caught error.

        Returns:
            The chunks this call completed, decoded, in stream order.

        Raises:
            ChunkError: an event's payload is not a valid chunk.
            StreamError: the server sent an error event or a chunk with ``error``.
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
            if len(self._head) < _HEAD:
                self._head += data[: _HEAD - len(self._head)]
            framer.feed(data)
        return self._drain() if framer.frames else []

    def add(self, chunk: Any) -> ResponseBody2 | None:
        """Merge a chunk that was already decoded (for callers who parse the stream themselves).

        Args:
            chunk: one ``ResponseBody2`` (``decode_chunk`` makes one from JSON), a ``dict`` of
                the chunk's JSON, a pydantic model of it (the openai SDK's
                ``ChatCompletionChunk``, the Orq SDK's chunk model), or an SSE event object that
                holds one of those, or the chunk's JSON text, as ``data`` (the Orq SDK's stream
                items, httpx-sse's and the openai SDK's ``ServerSentEvent``). An event whose
                ``event`` is ``error`` is the server's error.

        Returns:
            The chunk as a ``ResponseBody2``, or ``None`` for an event that holds no chunk
            (``[DONE]``, which sets ``done``, or a keep-alive).

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
        elif not isinstance(data, ResponseBody2 | Mapping) and not callable(
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
                decoded = _decode_or_raise(self._decoder, payload)
            else:
                decoded = _as_chunk(self._decoder, data)
            merger = self._merger
            merger.add(decoded, merger.shape(type(decoded)))
        except ChunkAggError as exc:
            exc._locate(self._events, None)
            raise
        return decoded

    def finalize(self) -> ChatCompletion:
        """End the stream and return the merged completion.

        A last event without its closing blank line is merged when it is complete. Calling
        ``finalize()`` again returns the completion again.

        Returns:
            The ``chat.completion`` with choices in index order.

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
        merger = self._merger
        merger.finish()
        if merger.empty:
            received = self._framer.received
            raise EmptyStreamError(
                _what_arrived(self._head, received, self._events, self._done),
                received=received,
                head=self._head,
                events=self._events,
            )
        return merger.build()

    def snapshot(self) -> ChatCompletion:
        """Return the completion merged so far, without ending the stream or changing state."""
        return self._merger.build()

    def _drain(self) -> list[ResponseBody2]:
        frames = self._framer.frames
        out: list[ResponseBody2] = []
        done = 0
        try:
            for kind, offset, payload in frames:
                done += 1
                if kind >= BATCH:
                    self._batch(kind, payload, offset, out, done)
                    continue
                self._events += 1
                if kind == DATA:
                    chunk = _decode_or_raise(self._decoder, payload)
                elif kind == DONE:
                    self._done = True
                    continue
                else:
                    chunk = self._slow_frame(kind, payload)
                self._merger.add(chunk, self._merger.shape(type(chunk)))
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
        out: list[ResponseBody2],
        position: int,
    ) -> None:
        """Decode and merge a run of one-line ``data:`` events: the per-chunk hot path.

        ``run`` is the payloads, or (payloads, first) for a run resumed after a bad event: the
        rest of a run is never copied, so catching and resuming over many bad events stays
        linear. ``position`` is where the run's frame sits in the queue, plus one.
        """
        if type(run) is tuple:
            payloads, first = run
        else:
            payloads, first = run, 0  # type: ignore[assignment]
        append = out.append
        merge = self._merger.add
        decoder = self._decoder
        decode = decoder.decode
        shape = self._merger.shape(decoder.schema.root)
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        for k in range(first, len(payloads)):
            payload = payloads[k]
            try:
                try:
                    chunk = decode(payload)
                except _DECODE_ERRORS:
                    # "[DONE]" and keep-alives land here too: classifying after a failed decode
                    # keeps every well-formed chunk free of the check.
                    what = classify(payload)
                    if what == DONE:
                        self._done = True
                        continue
                    if what == SKIP:
                        skipped += 1
                        continue
                    # Blanks stripped as the other paths strip them, so the error reads the same.
                    chunk = _decode_or_raise(decoder, payload.strip(b" \t\r\n"))
                    decode = decoder.decode
                    shape = self._merger.shape(decoder.schema.root)
                merge(chunk, shape)
            except ChunkAggError as exc:
                # Consume this event only: the rest of the run stays queued for the next call.
                _attach(exc, payload)
                step = BATCH_STEP[kind]
                start = offset + sum(map(len, payloads[first:k])) + step * (k - first)
                self._events += k + 1 - first - skipped
                exc._locate(self._events, start)
                if k + 1 < len(payloads):
                    resume = (kind, start + len(payload) + step, (payloads, k + 1))
                    self._framer.frames.insert(position, resume)
                raise
            append(chunk)
        self._events += len(payloads) - first - skipped

    def _slow_frame(self, kind: int, payload: bytes) -> ResponseBody2:
        if kind == FAULT:
            raise self._framer.faults.pop(0)
        if kind == ERROR:
            raise _error_event(payload)
        # TAIL: the last event of a stream that ended without closing it (or a whole body).
        try:
            return _decode_or_raise(self._decoder, payload)
        except ChunkError as error:
            exc = error.__cause__ or error
            # Typed decoding may stop at a wrong type before reaching the cut: what the JSON
            # itself says decides. Cut short ("truncated", or a "[DONE]" cut) is an incomplete
            # stream, which retrying may mend; whole but wrong, or malformed, is a bad chunk.
            try:
                _any_decoder.decode(payload)
            except _DECODE_ERRORS as syntax:
                if _cut_short(payload, str(syntax)):
                    raise IncompleteStreamError(
                        f"stream ended inside an event, whose JSON is cut short ({exc})", payload
                    ) from exc
            raise


class SupportsModelDumpJson(Protocol):
    """A pydantic model (the openai and Orq SDKs' chunk types are)."""

    def model_dump_json(self) -> str: ...


def _as_chunk(
    decoder: ChunkDecoder, chunk: ResponseBody2 | Mapping[str, Any] | SupportsModelDumpJson
) -> ResponseBody2:
    # Everything goes through JSON bytes and the stream's own decoder, so a chunk given to add()
    # meets the same rules as one fed (types, depth, lone surrogates, unknown keys) and shares
    # nothing with the caller's objects.
    try:
        if isinstance(chunk, ResponseBody2):
            # msgspec checks types when decoding, not in __init__: a Struct built by hand with a
            # wrong type would fail halfway through the merge. Re-decoding it checks it first.
            payload = msgspec.json.encode(chunk)
        else:
            value = (
                chunk
                if isinstance(chunk, Mapping)
                else _any_decoder.decode(chunk.model_dump_json())
            )
            payload = msgspec.json.encode(whole_numbers(value))
    except (TypeError, UnicodeEncodeError, RecursionError, *_DECODE_ERRORS) as exc:
        raise ChunkError(f"invalid chunk: {exc}", reprlib.repr(chunk).encode()) from exc
    return _decode_or_raise(decoder, payload)


def _attach(exc: ChunkAggError, payload: Any) -> None:
    """Give a merge-time ``ChunkError`` (raised without bytes) the payload of its event."""
    if isinstance(exc, ChunkError) and not exc.payload and isinstance(payload, bytes):
        exc.payload = payload


def _error_event(payload: bytes) -> StreamError:
    """Build the ``StreamError`` for an ``event: error`` (OpenRouter, vLLM, SGLang)."""
    try:
        body = _error_decoder.decode(payload)
    except _DECODE_ERRORS:
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
    if isinstance(item, ResponseBody2):
        return item, None
    if isinstance(item, Mapping):
        if "data" in item and _EVENT_KEYS.issuperset(item):
            return item["data"], item
        return item, None
    data = getattr(item, "data", _MISSING)
    if data is not _MISSING and getattr(item, "choices", _MISSING) is _MISSING:
        return data, item
    return item, None


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
        "add() takes a chunk (a ResponseBody2, a dict, a pydantic model, or an SSE event object "
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
