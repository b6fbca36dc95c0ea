"""The legacy completions format's accumulator: a streamed ``text_completion``'s bytes to one
``TextCompletion``.

Owns ``CompletionAccumulator`` (its options, and the decoder and merge state it hands the core's
``StreamAccumulator``) and ``decode_completion_chunk``. The loop (framing, positions, faults,
``[DONE]``, the per-chunk hot path) is the core's; the rules are in ``merge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from .merge import CORE_FIELDS, CompletionEvent, CompletionMerger, TrackingCompletionMerger
from .models import CompletionChunk, TextCompletion

__all__ = ["CompletionAccumulator", "CompletionEvent", "decode_completion_chunk"]


def decode_completion_chunk(payload: bytes | bytearray | memoryview | str) -> CompletionChunk:
    """Decode one event's JSON payload into a ``CompletionChunk``, for callers who frame
    themselves.

    Args:
        payload: the JSON text of one ``text_completion`` chunk (the part after ``data:``).

    Returns:
        The typed chunk, with every key it holds (``extra`` lists those chunkagg has no name
        for).

    Raises:
        ChunkError: the payload is not JSON, or a field has the wrong type.
        TypeError: ``payload`` is not bytes-like or ``str``.
    """
    if not isinstance(payload, bytes | bytearray | memoryview | str):
        raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
    chunk: CompletionChunk = ChunkDecoder(CompletionChunk).decode_or_raise(payload)
    return chunk


# -- the accumulator -----------------------------------------------------------------------------


class CompletionAccumulator(StreamAccumulator[CompletionChunk, TextCompletion]):
    """Turns the bytes of one streamed legacy completion into the final ``TextCompletion``.

    For ``POST /v1/completions`` (OpenAI, vLLM, llama.cpp, Ollama, FIM endpoints) and the Orq
    router's ``POST /v2/router/completions``: ``text_completion`` chunks, each choice's ``text``
    and ``logprobs`` in pieces. The API is ``Accumulator``'s: ``feed()`` bytes split anywhere,
    ``add()`` decoded chunks (dicts, the openai SDK's ``Completion`` models), ``finalize()``.

    Only ``ChunkAggError`` subclasses escape ``feed()``, ``add()`` and ``finalize()`` for anything
    the stream contains (``TypeError`` for a wrong argument type). A raising call has consumed
    only the bad event: what was merged before stays, and the next ``feed()`` (``feed(b"")`` will
    do) goes on with the bytes already buffered.

    Example::

        acc = CompletionAccumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        completion = acc.finalize()
        print(completion.choices[0].text)
    """

    __slots__ = ()

    _merger: CompletionMerger

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_choices: int = DEFAULT_MAX_CHOICES,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        rules: Mapping[str, Rule] | None = None,
        response_format: Any = None,
    ) -> None:
        """Create an accumulator for one stream.

        Args:
            format: ``"sse"`` (``data:`` events), ``"ndjson"`` (one JSON chunk per line),
                ``"json"`` (one JSON document: a non-streamed ``text_completion`` body, which
                has a chunk's shape and merges to itself), or ``"auto"``: SSE, unless the first
                non-blank byte is ``{``: then NDJSON if the first line is a whole object, else
                one JSON document.
            max_event_size: largest event in bytes; it also bounds the unparsed buffer, which
                never holds more than one partial event.
            max_choices: choice indices must be below this.
            max_text_size: merged text (characters) plus logprob entries (each item of each of
                the four lists), over all choices.
            track: derive live-UI events from the merge, read with ``take_events()``.
            rules: the merge rule of keys this format has no rule of its own for (vLLM's
                ``stop_reason``, ``token_ids``...), by name: ``"append"`` (strings
                concatenated, lists extended, objects merged key by key), ``"last"`` (last
                non-null value, the default), ``"first"`` (first non-empty value) or
                ``"merge"`` (an object's keys, later non-null wins).
            response_format: the type the text is JSON of (a server's guided JSON): each
                choice gets ``parsed`` and ``parse_error``; with ``track=True``,
                ``ContentDelta.parsed`` is the value so far. See ``docs/structured.md``.

        Raises:
            ValueError: a limit is not a positive int, ``format`` is unknown, or ``rules`` names
                an unknown rule or a field with its own rule (``text``, ``finish_reason``...).

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size)
        check_limits(max_choices=max_choices, max_text_size=max_text_size)
        check_rules(rules, CORE_FIELDS)
        self._decoder = ChunkDecoder(CompletionChunk)
        merger = TrackingCompletionMerger if track else CompletionMerger
        self._merger = merger(max_choices, max_text_size, rules)
        self._merger.structured = Structured.of(response_format, None)

    def take_events(self) -> list[CompletionEvent]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``CompletionAccumulator(track=True)``. The events are chat's, whose shapes fit, so
        one UI loop serves both formats: ``ContentDelta`` (a choice's ``text`` fragment, never
        empty), ``ChoiceFinished`` (a chunk gave the choice a non-empty ``finish_reason``: OpenAI
        sends it twice, on the last text chunk and on an empty one), ``UsageReceived``, and,
        with ``response_format=``, ``ElementParsed``.

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        events: list[CompletionEvent] = self._take_events()
        return events
