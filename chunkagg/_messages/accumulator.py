"""The Anthropic Messages API's accumulator (``POST /v1/messages``; the Orq router's
``/v3/anthropic``, Vertex AI's Claude models, vLLM, LiteLLM): typed events in, one
``AnthropicMessage`` out.

Owns ``MessageAccumulator`` (its options, and the decoder and merge state it hands the core's
``StreamAccumulator``), how the Anthropic SDK's event objects become events, and
``decode_message_event``. The loop (framing, positions, faults, ``[DONE]``, the per-event hot
path) is the core's, with the core's framing of ``event:``/``data:`` pairs; the rules are in
``merge``, the Structs in ``models`` and ``events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import astuple

from .._core.frames import DONE, SKIP, EventRun, Format, classify
from .._core.limits import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_TEXT_SIZE, check_limits
from .._core.pairs import split_events
from .._core.parsed import Structured
from .._core.schema import DECODE_ERRORS, ChunkDecoder, dump_model
from .._core.stream import StreamAccumulator
from .._errors import ChunkAggError
from .events import MessageUpdate
from .merge import DEFAULT_MAX_BLOCKS, PLAIN_NONES, MessageMerger, carries_objects
from .models import AnthropicMessage, MessageDelta, MessageEvent

__all__ = ["MessageAccumulator", "decode_message_event"]

# The Anthropic SDK's MessageStream repeats each delta as an event of its own, carrying the whole
# message so far (``snapshot``): nothing a raw event did not carry, and dumping the snapshot on
# every delta would make add() quadratic. They are read as their type alone, which merges nothing.
_SDK_ECHOES = frozenset(("text", "citation", "thinking", "signature", "input_json"))
_BLANKS = b" \t\r\n"


def decode_message_event(payload: bytes | bytearray | memoryview | str) -> MessageEvent:
    """Decode one event's JSON payload into a ``MessageEvent``, for callers who frame themselves.

    Args:
        payload: the JSON text of one event (the part after ``data:``).

    Returns:
        The typed event, with every key it holds (``extra`` lists those chunkagg has no name
        for).

    Raises:
        ChunkError: the payload is not JSON, not an object, or its ``type`` is not a string.
        TypeError: ``payload`` is not bytes-like or ``str``.
    """
    if not isinstance(payload, bytes | bytearray | memoryview | str):
        raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
    event: MessageEvent = ChunkDecoder(MessageEvent, "event").decode_or_raise(payload)
    return event


class MessageAccumulator(StreamAccumulator[MessageEvent, AnthropicMessage]):
    """Turns the bytes of one streamed Anthropic Messages call into the final message.

    Sans-I/O, as ``Accumulator``: hand it bytes as they arrive (SSE ``event:``/``data:`` pairs,
    data-only SSE, or NDJSON), split anywhere, and ask for the message at the end; or hand it
    the events already decoded (dicts, ``MessageEvent``, the Anthropic SDK's event objects) with
    ``add()``. A whole non-streamed Messages body is its own result.

    The result is the message a non-streamed request returns, key for key: ``message_start``'s
    message, its content blocks built from their deltas, ``message_delta``'s fields and usage
    (each usage count the last sent, never summed), every block and key kept, of a known type or
    not. A stream cut short gives everything that arrived, a tool block's input partially
    parsed (its text in ``partial_json``).

    Only ``ChunkAggError`` subclasses escape ``feed()``, ``add()`` and ``finalize()`` for anything
    the stream contains (``TypeError`` for a wrong argument type): an ``error`` event raises
    ``StreamError`` with the server's message, and what was merged before stays; a raising call
    consumed only the bad event.

    Example::

        acc = MessageAccumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        message = acc.finalize()
        print(message.stop_reason, message.text, message.usage)
    """

    __slots__ = ()

    _merger: MessageMerger

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        response_format: Any = None,
        tools: Mapping[str, Any] | None = None,
    ) -> None:
        """Create an accumulator for one stream.

        Args:
            format: ``"sse"``, ``"ndjson"``, ``"json"`` (one JSON document: a whole message
                body, or a single event) or ``"auto"``, as for ``Accumulator``.
            max_event_size: largest event in bytes; it also bounds the unparsed buffer.
            max_blocks: content block indices must be below this.
            max_text_size: characters streamed by deltas (text, thinking, signatures, tool
                input JSON), plus one per citation and the bytes of each event of a type with no
                rule that is kept; once crossed, every later event that adds some is dropped.
            track: derive live-UI events from the merge, read with ``take_events()``.
            response_format: the type the text blocks are JSON of (Anthropic's structured
                outputs' JSON output: a msgspec Struct, a dataclass, a TypedDict, a pydantic
                model...): each text block gets ``parsed_output``, its text as that type, and
                ``parse_error``, and the message the first block's that parsed; with
                ``track=True``, ``MessageTextDelta.parsed`` is the value so far and
                ``ElementParsed`` reports each array element as it completes. See
                ``docs/structured.md``.
            tools: tool name to the type of its ``input``: each ``tool_use`` (or
                ``server_tool_use``) block of such a tool gets ``parsed_input`` and
                ``parse_error``; with ``track=True``, ``MessageInputDelta.parsed`` is the value
                so far.

        Raises:
            ValueError: a limit is not a positive int, or ``format`` is unknown.
            TypeError: ``response_format`` or a type in ``tools`` is none chunkagg can parse
                JSON into, or ``tools`` is not a mapping of names.

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size, split_events)
        check_limits(max_blocks=max_blocks, max_text_size=max_text_size)
        self._decoder = ChunkDecoder(MessageEvent, "event")
        self._merger = MessageMerger(max_blocks, max_text_size, track)
        self._merger.structured = Structured.of(response_format, tools)

    @property
    def other_events(self) -> list[MessageEvent]:
        """The events of a type the merge has no rule for, in stream order, as decoded."""
        return list(self._merger.other)

    @property
    def stopped(self) -> bool:
        """Whether ``message_stop`` (or a whole message body) arrived."""
        return self._merger.stopped

    def take_events(self) -> list[MessageUpdate]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``MessageAccumulator(track=True)``. Each is a ``MessageBlockStarted``,
        ``MessageTextDelta``, ``MessageThinkingDelta``, ``MessageInputDelta``,
        ``MessageCitationAdded``, ``MessageBlockStopped`` or ``MessageFinished``; with
        ``response_format=`` or ``tools=``, also ``ElementParsed`` (after the delta that
        completed the element).

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        events: list[MessageUpdate] = self._take_events()
        return events

    # -- the format's hooks -----------------------------------------------------------------------

    def _convert(self, value: Any) -> MessageEvent:
        kind = getattr(value, "type", None)
        if kind in _SDK_ECHOES and hasattr(value, "snapshot"):
            value = {"type": kind}
        event: MessageEvent = self._decoder.convert(value, dump_model)
        return event

    def _batch(
        self,
        kind: int,
        run: Any,
        offset: int,
        out: list[MessageEvent],
        position: int,
    ) -> None:
        """The per-event hot path: the core's ``_batch``, with a string delta to the same block
        as the one before it merged here (``MessageMerger.add``'s short way, inline: a call per
        event was a fifth of this format's instructions on a text stream, callgrind), once
        proved to set nothing else: by its payload's length (no room for another field beside
        its value: ``plain_bound``), else by one count of its Nones and no object beside its
        delta (``carries_objects``: one is checked for nesting by ``add()``). A method call on the
        payload, ``startswith`` or ``rfind``, costs about a thousand instructions: as much as the
        count."""
        if type(run) is EventRun:
            payloads, first = run.payloads, run.first
        else:
            payloads, first = run if type(run) is tuple else (run, 0)
        append = out.append
        merger = self._merger
        add = merger.add
        decoder = self._decoder
        decode = decoder.decode
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        # The short way only without live events (each delta is one then): with them, add().
        # Its state in locals: only add() changes it.
        hot = merger.hot if merger.events is None else None
        if hot is not None:
            at, dtype, field, frags, plain = hot
            grow = frags.append
        room = merger.room
        count = astuple
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
                    event = decoder.decode_or_raise(payload.strip(_BLANKS))
                    decode = decoder.decode
                delta = event.delta
                if (
                    hot is not None
                    # An int: a float or bool index equal to it is the line path's error, and
                    # written shorter than its digits (1e4) it would leave room in the bound.
                    and ((index := event.index) is at or (type(index) is int and index == at))
                    and type(delta) is MessageDelta
                    and delta.type == dtype
                    and event.type == "content_block_delta"
                    and room >= 0
                ):
                    value = (
                        delta.text
                        if field == "text"
                        else delta.thinking
                        if field == "thinking"
                        else delta.partial_json
                        if field == "partial_json"
                        else getattr(delta, field)
                    )
                    if type(value) is str:
                        size = len(value)
                        if len(payload) <= plain + size or (
                            count(delta).count(None) == PLAIN_NONES and not carries_objects(event)
                        ):
                            grow(value)
                            room -= size
                            append(event)
                            continue
                merger.room = room
                try:
                    add(event, None)
                finally:
                    room = merger.room
                if merger.events is None:
                    hot = merger.hot
                    if hot is not None:
                        at, dtype, field, frags, plain = hot
                        grow = frags.append
            except ChunkAggError as exc:
                merger.room = room
                self._batch_fault(exc, kind, run, k, skipped, offset, position)
                raise
            append(event)
        merger.room = room
        self._events += len(payloads) - first - skipped
