"""The public ``Accumulator``: a streamed chat completion's bytes to one ``ChatCompletion``.

Owns the chat format's hooks of ``StreamAccumulator`` (decode a chunk losslessly, merge it,
build the completion) and its per-chunk hot path: a run of one-line ``data:`` events decoded
and merged in one loop, with the merge's plan looked up once per run. The rules themselves live
in ``_framing`` (bytes to events), ``_schema`` (JSON to chunks) and ``_merge`` (chunks to a
completion); ``_stream`` owns what every format shares (positions, faults, ``[DONE]``).
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from ._errors import ChunkAggError, ChunkError
from ._events import Event, TrackingMerger
from ._extensions import RULES, Rule
from ._framing import DONE, SKIP, Format, classify
from ._merge import (
    CORE_FIELDS,
    DEFAULT_MAX_CHOICES,
    DEFAULT_MAX_TEXT_SIZE,
    DEFAULT_MAX_TOOL_CALLS,
    Merger,
)
from ._models import ChatCompletion, ResponseBody2
from ._schema import DECODE_ERRORS, ChunkDecoder, whole_numbers
from ._stream import DEFAULT_MAX_EVENT_SIZE, StreamAccumulator, _run

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "Accumulator", "SupportsModelDumpJson", "decode_chunk"]

_DECODE_ERRORS = DECODE_ERRORS
_ValidationError = msgspec.ValidationError
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
    chunk: ResponseBody2
    try:
        chunk = decoder.decode(payload)
    except _ValidationError as exc:
        chunk = decoder.widen(payload, exc)
    except _DECODE_ERRORS as exc:
        raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
        raise ChunkError(f"invalid chunk: {exc}", raw) from exc
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

    __slots__ = ("_decoder", "_merger", "_tracker")

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
        super().__init__(format, max_event_size)
        for name, value in (
            ("max_choices", max_choices),
            ("max_tool_calls", max_tool_calls),
            ("max_text_size", max_text_size),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        for name, rule in (rules or {}).items():
            if rule not in RULES:
                raise ValueError(f"rule for {name!r} must be one of {RULES}, not {rule!r}")
            if name in CORE_FIELDS:
                raise ValueError(f"{name!r} has its own merge rule, which cannot be changed")
        self._decoder = ChunkDecoder()
        limits = (max_choices, max_tool_calls, max_text_size)
        self._tracker = TrackingMerger(*limits, rules=rules) if track else None
        self._merger = self._tracker or Merger(*limits, rules=rules)

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

    # -- the chat format's hooks ------------------------------------------------------------------

    def _decode(self, payload: bytes) -> ResponseBody2:
        return _decode_or_raise(self._decoder, payload)

    def _convert(self, value: Any) -> ResponseBody2:
        return _as_chunk(self._decoder, value)

    def _merge(self, chunk: ResponseBody2) -> None:
        merger = self._merger
        merger.add(chunk, merger.shape(type(chunk)))

    def _build(self) -> ChatCompletion:
        return self._merger.build()

    def _is_empty(self) -> bool:
        return self._merger.empty

    def _finish(self) -> None:
        self._merger.finish()

    def _batch(
        self,
        kind: int,
        run: list[bytes] | tuple[list[bytes], int],
        offset: int,
        out: list[ResponseBody2],
        position: int,
    ) -> None:
        """The per-chunk hot path: ``StreamAccumulator._batch`` with the decode and the merge's
        plan looked up once per run, and no classifying of a payload that decodes."""
        payloads, first = _run(run)
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
                self._batch_fault(exc, kind, payloads, first, k, skipped, offset, position)
                raise
            append(chunk)
        self._events += len(payloads) - first - skipped


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
