"""The chat format's accumulator: a streamed chat completion's bytes to one ``ChatCompletion``.

Owns ``Accumulator`` (its options, and the decoder and merge state it hands the core's
``StreamAccumulator``) and ``decode_chunk``. The loop itself (framing, positions, faults,
``[DONE]``, the per-chunk hot path) is the core's; chat's rules are in ``merge``, ``state`` and
``extensions``, its Structs in ``models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .._core.frames import Format
from .._core.limits import (
    DEFAULT_MAX_CHOICES,
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_TEXT_SIZE,
    check_limits,
)
from .._core.parsed import Structured
from .._core.rules import Rule, check_rules
from .._core.schema import ChunkDecoder
from .._core.stream import StreamAccumulator
from .events import Event, TrackingMerger
from .merge import CORE_FIELDS, DEFAULT_MAX_TOOL_CALLS, Merger
from .models import ChatCompletion, ResponseBody2

__all__ = ["Accumulator", "SupportsModelDumpJson", "decode_chunk"]


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
    chunk: ResponseBody2 = ChunkDecoder(ResponseBody2).decode_or_raise(payload)
    return chunk


class Accumulator(StreamAccumulator[ResponseBody2, ChatCompletion]):
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

    __slots__ = ()

    _merger: Merger

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
        response_format: Any = None,
        tools: Mapping[str, Any] | None = None,
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
            response_format: the type the content is JSON of (a msgspec Struct, a dataclass, a
                TypedDict, a pydantic model...): each message gets ``parsed``, the content as
                that type, and ``parse_error``; with ``track=True``, ``ContentDelta.parsed`` is
                the value so far and ``ElementParsed`` reports each array element as it
                completes. See ``docs/structured.md``.
            tools: function name to the type of its arguments: each call of such a function
                gets ``function.parsed_arguments`` and ``function.parse_error``; with
                ``track=True``, ``ToolCallArgumentsDelta.parsed`` is the value so far.

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size)
        check_limits(
            max_choices=max_choices, max_tool_calls=max_tool_calls, max_text_size=max_text_size
        )
        check_rules(rules, CORE_FIELDS)
        self._decoder = ChunkDecoder(ResponseBody2)
        limits = (max_choices, max_tool_calls, max_text_size)
        self._merger = (
            TrackingMerger(*limits, rules=rules) if track else Merger(*limits, rules=rules)
        )
        self._merger.structured = Structured.of(response_format, tools)

    def take_events(self) -> list[Event]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``Accumulator(track=True)``. Each event is a ``ContentDelta``, ``RefusalDelta``,
        ``ReasoningDelta``, ``ToolCallStarted``, ``ToolCallArgumentsDelta``, ``ToolCallDone``,
        ``ChoiceFinished``, ``UsageReceived``, or, with ``response_format=`` or ``tools=``,
        ``ElementParsed``.

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        events: list[Event] = self._take_events()
        return events


class SupportsModelDumpJson(Protocol):
    """A pydantic model (the openai and Orq SDKs' chunk types are)."""

    def model_dump_json(self) -> str: ...
