"""The Responses API's accumulator (``POST /v1/responses``, Orq's ``/v3/router/responses``):
typed events in, one ``Response`` out.

Owns ``ResponseAccumulator``: its options, how a payload becomes an event (a whole response body
read as the event that carries it, an ``error`` event raised), and its per-event hot path, which
merges a delta to the same place as the one before it inline. The loop itself (framing,
positions, faults, ``[DONE]``) is the core's; the rules are in ``merge``, the framing of the
two-line events OpenAI sends in the core's ``pairs``, the Structs in ``models`` and ``events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .._core.frames import DONE, SKIP, EventRun, Format, classify
from .._core.limits import (
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_TEXT_SIZE,
    EVENT_DEPTH,
    check_limits,
    deeper_than,
    depth_error,
)
from .._core.pairs import split_events
from .._core.parsed import Structured
from .._core.schema import DECODE_ERRORS, ChunkDecoder, dump_model
from .._core.stream import StreamAccumulator, error_event
from .._errors import ChunkAggError, ChunkError
from .events import Disagreement, ResponseUpdate
from .merge import DEFAULT_MAX_ITEMS, ResponseMerger
from .models import Response, ResponseEvent

__all__ = ["ResponseAccumulator"]

_any_decoder = msgspec.json.Decoder()
_BLANKS = b" \t\r\n"


def _decode_or_raise(decoder: ChunkDecoder, payload: bytes) -> ResponseEvent:
    """One payload as an event: a whole response body as the event that carries it, an
    ``error`` event raised as the server's ``StreamError``."""
    event: ResponseEvent
    try:
        event = decoder.decode_or_raise(payload)
    except ChunkError:
        body = _body_event(payload)
        if body is None:
            raise
        event = decoder.decode_or_raise(body)
    if event.type == "error":
        # Both shapes: the fields at the top (the API reference) or under "error" (the live
        # API); the same StreamError as for an SSE "event: error".
        raise _error(payload)
    return event


def _error(payload: bytes) -> ChunkAggError:
    """The server's ``StreamError`` for an ``error`` event; the ``ChunkError`` of a value nested
    too deep when it holds one, as a deeper stack would have met decoding it."""
    if deeper_than(payload, EVENT_DEPTH):
        return depth_error("event", payload)
    return error_event(payload)


# A whole response body is read as the event that carries a response of its status.
_BODY_EVENTS = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
    "cancelled": "response.cancelled",
    "in_progress": "response.in_progress",
    "queued": "response.queued",
}


def _is_body(value: Any) -> bool:
    """Whether ``value`` is a whole ``response`` object rather than an event."""
    return type(value) is dict and value.get("object") == "response" and "type" not in value


def _as_event(value: dict[str, Any]) -> dict[str, Any]:
    status = value.get("status")
    kind = _BODY_EVENTS.get(status, "response.completed") if type(status) is str else None
    return {"type": kind or "response.completed", "response": value}


def _body_event(payload: bytes) -> bytes | None:
    """The event that carries ``payload`` when it is a whole response body (a server that
    ignored ``"stream": true``, a cached or polled response), else ``None``."""
    try:
        value = _any_decoder.decode(payload)
    except DECODE_ERRORS:
        return None
    return msgspec.json.encode(_as_event(value)) if _is_body(value) else None


def _event_of(value: Any) -> Any:
    """``add()``'s builtins: a whole response body as its event; whole-number times as ints."""
    return _whole_times(_as_event(value) if _is_body(value) else value)


def _whole_times(value: Any) -> Any:
    # The openai SDK types a response's created_at and completed_at as floats; the server sends
    # integers. A whole-number float there goes back to an int, as chat's `created` does.
    response = value.get("response") if isinstance(value, Mapping) else None
    if type(response) is not dict:
        return value
    times = {
        key: int(number)
        for key in ("created_at", "completed_at")
        if type(number := response.get(key)) is float and number.is_integer()
    }
    return {**value, "response": {**response, **times}} if times else value


class ResponseAccumulator(StreamAccumulator[ResponseEvent, Response]):
    """Turns the bytes of one streamed Responses API call into the final ``Response``.

    Sans-I/O, as ``Accumulator``: hand it bytes as they arrive (SSE with or without ``event:``
    lines, with or without ``data: [DONE]``, or NDJSON), split anywhere, and ask for the
    response at the end. Each event is typed as a ``ResponseEvent``.

    What the result is: the ``response`` of the terminal event (``response.completed``,
    ``.incomplete``, ``.failed``), exactly as sent, when one arrived. Without one (a cut body,
    or an ``error`` event), the last ``response.created`` / ``.queued`` / ``.in_progress``
    response with ``output`` built from the events: statuses as those events say, text,
    refusals, reasoning, arguments and logprobs from the deltas, annotations at their index,
    every value a ``*.done`` event or ``response.output_item.done`` restated.

    What is reported, never raised: a restated value (a ``*.done`` event, a ``content_part``
    or ``output_item`` done, the terminal response) that contradicts what the earlier events
    built goes to ``disagreements`` (and, with ``track=True``, is a live ``Disagreement``
    event); the restated value is kept. ``response.failed`` is a result (``status: "failed"``,
    its ``error`` kept), not an exception.

    What is kept beside the result: events of a type the merge has no rule for (a future event,
    ``response.audio.delta``, ``response.image_generation_call.partial_image``...) are never an
    error and are not in the result; ``other_events`` holds them, as decoded, while they fit in
    ``max_text_size``. ``obfuscation`` is never merged (each event keeps it). A value nested
    deeper than ``MAX_DEPTH`` (100 levels) is a ``ChunkError``, whatever the caller's stack.

    Structured outputs (``response_format=``, ``tools=``): the result's ``output_text`` parts,
    messages and function calls carry the caller's types beside their fields (``parsed``,
    ``output_parsed``, ``parsed_arguments``, each with ``parse_error`` saying why it is
    ``None``: a refusal, a response ``incomplete`` for ``max_output_tokens`` or
    ``content_filter``, a cut stream, JSON that does not validate); nothing is raised for them
    and every text is kept as sent.

    Errors: an ``error`` event, in either shape (``code``/``message`` at its top, or under
    ``error``), raises ``StreamError`` with the server's message and code; everything merged
    before stays (``finalize()`` then returns it). Only ``ChunkAggError`` subclasses escape
    ``feed()``, ``add()`` and ``finalize()`` for anything the stream contains (``TypeError``
    for a wrong argument type); a raising call consumed only the bad event.

    Example::

        acc = ResponseAccumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        result = acc.finalize()
        print(result.status, result.output_text, acc.disagreements)
    """

    __slots__ = ()

    _merger: ResponseMerger

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        response_format: Any = None,
        tools: Mapping[str, Any] | None = None,
    ) -> None:
        """Create an accumulator for one stream.

        Args:
            format: ``"sse"``, ``"ndjson"``, ``"json"`` (one JSON document: a single event) or
                ``"auto"``, as for ``Accumulator``.
            max_event_size: largest event in bytes; it also bounds the unparsed buffer.
            max_items: ``output_index``, ``content_index``, ``summary_index`` and
                ``annotation_index`` must be below this, and a content part holds at most this
                many annotations.
            max_text_size: characters streamed by deltas (text, refusals, reasoning,
                arguments), plus logprob entries, plus the JSON bytes of annotations, of events
                kept in ``other_events`` and of the values ``disagreements`` keep; once
                crossed, every later event that adds some is dropped (a restatement is still
                merged, but no longer compared). ``docs/limits.md`` has the whole list.
            track: derive live-UI events from the merge, read with ``take_events()``.
            response_format: the type the ``output_text`` parts are JSON of (the request's
                ``text.format`` json_schema; a msgspec Struct, a dataclass, a TypedDict, a
                pydantic model...): each such part gets ``parsed``, its text as that type, and
                ``parse_error``; each message and the response get ``output_parsed`` (the first
                part's) and ``parse_error``. With ``track=True``, ``OutputTextDelta.parsed`` is
                the value so far and ``ElementParsed`` reports each array element as it
                completes. See ``docs/structured.md``.
            tools: function name to the type of its arguments: each ``function_call`` item of
                such a function gets ``parsed_arguments`` and ``parse_error``; with
                ``track=True``, ``FunctionCallArgumentsDelta.parsed`` is the value so far.

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size, split_events)
        check_limits(max_items=max_items, max_text_size=max_text_size)
        self._decoder = ChunkDecoder(ResponseEvent, "event")
        self._merger = ResponseMerger(max_items, max_text_size, track)
        self._merger.structured = Structured.of(response_format, tools)

    @property
    def disagreements(self) -> list[Disagreement]:
        """Every restated value that contradicted what the stream had built, in stream order
        (empty for a consistent stream)."""
        return list(self._merger.disagreements)

    @property
    def other_events(self) -> list[ResponseEvent]:
        """The events of a type the merge has no rule for, in stream order, as decoded (those
        that came once ``max_text_size`` was used up were refused, and are not here)."""
        return list(self._merger.other or ())

    @property
    def terminal(self) -> str | None:
        """The type of the last terminal event (``"response.completed"``...), or ``None``
        while none arrived (the stream was cut, or ended with an ``error`` event)."""
        return self._merger.terminal

    def take_events(self) -> list[ResponseUpdate]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``ResponseAccumulator(track=True)``. Each is an ``OutputTextDelta``,
        ``OutputRefusalDelta``, ``OutputReasoningDelta``, ``OutputAnnotationAdded``,
        ``FunctionCallArgumentsDelta``, ``FunctionCallDone``, ``OutputItemDone``,
        ``ResponseFinished`` or ``Disagreement``; with ``response_format=`` or ``tools=``, also
        ``ElementParsed`` (after the delta that completed the element).

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        events: list[ResponseUpdate] = self._take_events()
        return events

    # -- the format's hooks -----------------------------------------------------------------------

    def _decode(self, payload: bytes) -> ResponseEvent:
        return _decode_or_raise(self._decoder, payload)

    def _convert(self, value: Any) -> ResponseEvent:
        event: ResponseEvent = self._decoder.convert(value, dump_model, _event_of)
        if event.type == "error":
            raise _error(msgspec.json.encode(event))
        return event

    def _merge(self, chunk: ResponseEvent) -> None:
        merger = self._merger
        merger.event = self._events
        merger.add(chunk, None)

    def _batch(
        self,
        kind: int,
        run: Any,
        offset: int,
        out: list[ResponseEvent],
        position: int,
    ) -> None:
        """The per-event hot path: a run of one-line ``data:`` events (data-only SSE, NDJSON), or
        of two-line ``event:``/``data:`` events (a ``RUN`` of ``pairs.split_events``), decoded
        and merged in one loop: the core's ``_batch``, with a delta to the same place as the one
        before it merged here (``ResponseMerger.add``'s short way, inline: a call per event is a
        fifth of the time of this loop)."""
        if type(run) is EventRun:
            payloads, first = run.payloads, run.first
        else:
            payloads, first = run if type(run) is tuple else (run, 0)
        append = out.append
        merger = self._merger
        merge = merger.add
        decoder = self._decoder
        decode = decoder.decode
        base = self._events - first + 1  # event number of payload k: base + k - skipped
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        # The short way's state in locals: only the slow way (merge) changes it. Every event
        # ``decode`` returns is an instance of the schema's root, so checking the class the
        # short way was set for once, here and after a widening, checks every event's.
        root = decoder.schema.root
        # The short way's event type, None when it is off (no event's type is None), so one
        # comparison per event tells both.
        kind_ = None
        hot = merger.hot
        if hot is not None:
            cls, kind_, oi, ci, si, frags, make = hot
            grow = frags.append
            if cls is not root:
                kind_ = None
        room = merger.room
        updates = merger.events
        for k in range(first, len(payloads)):
            payload = payloads[k]
            try:
                try:
                    event = decode(payload)
                except DECODE_ERRORS:
                    # "[DONE]" and keep-alives land here too: classified only after a failed
                    # decode, so every well-formed event is free of the check.
                    what = classify(payload)
                    if what == DONE:
                        self._done = True
                        continue
                    if what == SKIP:
                        skipped += 1
                        continue
                    event = _decode_or_raise(decoder, payload.strip(_BLANKS))
                    decode = decoder.decode
                    root = decoder.schema.root
                    if hot is not None and cls is not root:
                        kind_ = None
                delta = event.delta
                if (
                    event.type == kind_
                    and event.output_index == oi
                    # None, or a small int: the same object (a larger one takes the slow way)
                    and event.content_index is ci
                    and event.summary_index is si
                    and delta is not None
                    and not event.logprobs
                    and room >= 0
                    # No object beside the delta (carries_objects, written out: a call per
                    # event is what this loop saves): one is checked for nesting by merge.
                    and event.part is None
                    and event.item is None
                    and event.response is None
                    and event.annotation is None
                    and event.error is None
                ):
                    grow(delta)
                    room -= len(delta)
                    if make is not None and delta:
                        updates.append(make(delta=delta))  # type: ignore[union-attr]
                else:
                    if event.type == "error":
                        raise _error(payload)
                    merger.event = base + k - skipped
                    merger.room = room
                    try:
                        merge(event, None)
                    finally:
                        room = merger.room
                    hot = merger.hot
                    kind_ = None
                    if hot is not None:
                        cls, kind_, oi, ci, si, frags, make = hot
                        grow = frags.append
                        if cls is not root:
                            kind_ = None
                    updates = merger.events
            except ChunkAggError as exc:
                merger.room = room
                self._batch_fault(exc, kind, run, k, skipped, offset, position)
                raise
            append(event)
        merger.room = room
        self._events += len(payloads) - first - skipped
