"""Typed events derived from the merge, for live UIs: opt-in with ``Accumulator(track=True)``.

Owns the event types and ``TrackingMerger``, which wraps the plain merge and records what each
chunk changed. Must not know bytes or framing. Each event costs O(1) to make; the parsed view of
tool-call arguments is re-parsed only when the arguments have grown by half since the last
parse, so parsing a call costs O(its length) in all (the openai SDK re-parses on every chunk, which
is quadratic). Partial parsing uses jiter (the ``parse`` extra); without it, ``parsed`` is only set
on ``ToolCallDone``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

import msgspec
import orjson
from msgspec import UNSET

from ._extensions import Rule, Shape
from ._merge import Merger, _Choice, _delta, _detach, _Tool
from ._models import ChunkChoice, Delta, ReasoningDetail, ResponseBody2, Usage

__all__ = [
    "AnnotationAdded",
    "ChoiceFinished",
    "CitationsUpdated",
    "ContentDelta",
    "Event",
    "ReasoningDelta",
    "RefusalDelta",
    "ToolCallArgumentsDelta",
    "ToolCallDone",
    "ToolCallStarted",
    "TrackingMerger",
    "UsageReceived",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Base of the events; encoded with a ``type`` tag naming the class."""


class ContentDelta(_Event, frozen=True):
    """A content fragment of choice ``choice``."""

    choice: int
    delta: str


class RefusalDelta(_Event, frozen=True):
    """A refusal fragment of choice ``choice``."""

    choice: int
    delta: str


class ReasoningDelta(_Event, frozen=True):
    """A reasoning fragment; ``field`` names where it came, as sent.

    ``reasoning`` (also Mistral's thinking parts), ``reasoning_content``, or
    ``reasoning_details`` (the text or summary of a detail, OpenRouter, Snowflake: reported only
    from deltas that carry no plain reasoning string, which would repeat it).
    """

    choice: int
    delta: str
    field: Literal["reasoning", "reasoning_content", "reasoning_details"]


class ToolCallStarted(_Event, frozen=True):
    """A new tool call; ``call`` is its position in the choice's ``tool_calls`` by appearance."""

    choice: int
    call: int
    index: int | None
    id: str | None
    name: str | None


class ToolCallArgumentsDelta(_Event, frozen=True):
    """An arguments fragment, with the latest parse of the arguments so far.

    ``parsed`` is the partial parse (jiter's partial mode) made when the arguments last grew by
    half (and by at least 16 characters), so it may lag the text; ``None`` until such a parse
    succeeds, or when jiter is not installed.
    """

    choice: int
    call: int
    delta: str
    parsed: Any = None


class ToolCallDone(_Event, frozen=True):
    """A tool call is complete: its choice finished, or the stream ended.

    Not sooner: servers may interleave the fragments of parallel calls, so a new call starting
    does not prove the previous one complete. A server that sends more of a call's arguments
    after its choice finished gets a second ``ToolCallDone`` for that call later (at the next
    ``finish_reason`` or the end): the last one holds the final arguments.

    ``valid`` tells whether ``arguments`` is a whole JSON text; ``parsed`` is its value then, and
    ``None`` otherwise: chunkagg reports arguments that never became JSON, it does not guess.
    """

    choice: int
    call: int
    id: str | None
    name: str | None
    arguments: str
    parsed: Any
    valid: bool


class AnnotationAdded(_Event, frozen=True):
    """An item of ``annotations`` arrived (a ``url_citation`` of web search, say)."""

    choice: int
    annotation: Any


class CitationsUpdated(_Event, frozen=True):
    """The chunk-level ``citations`` or ``search_results`` (Perplexity) changed; ``value`` is the
    whole list, as servers resend it."""

    field: Literal["citations", "search_results"]
    value: Any


class ChoiceFinished(_Event, frozen=True):
    """Choice ``choice`` received a non-empty ``finish_reason``."""

    choice: int
    finish_reason: str


class UsageReceived(_Event, frozen=True):
    """A chunk carried a usage block (the last one received is the completion's usage)."""

    usage: Usage


Event = (
    ContentDelta
    | RefusalDelta
    | ReasoningDelta
    | AnnotationAdded
    | CitationsUpdated
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallDone
    | ChoiceFinished
    | UsageReceived
)

# Re-parse the arguments of a call once they are this much longer than at the last parse: all
# the parses of a call then cover at most 1 / (1 - 1 / 1.5) = 3 times its length. At 1.25 (5x)
# the tools benchmark spent more time in jiter than in the whole merge.
_GROWTH = 1.5
_MIN_GROWTH = 16


def _load_partial() -> Callable[[bytes], Any] | None:
    try:
        import jiter
    except ImportError:
        # Said, not silent; Python's default filter shows it once per place.
        warnings.warn(
            "chunkagg: jiter is not installed, so ToolCallArgumentsDelta.parsed stays None "
            "until ToolCallDone; pip install 'chunkagg[parse]' for partial parses",
            UserWarning,
            stacklevel=4,
        )
        return None

    def parse(data: bytes) -> Any:
        return jiter.from_json(data, partial_mode="trailing-strings")

    return parse


class _Parse:
    """Parse state of one tool call's arguments."""

    __slots__ = ("done", "parsed", "parsed_at", "reported", "size")

    def __init__(self) -> None:
        self.size = 0
        self.parsed_at = 0
        self.parsed: Any = None
        self.done = False
        self.reported: tuple[str | None, str | None] = (None, None)  # id, name in ToolCallDone


class TrackingMerger(Merger):
    """A ``Merger`` that also records an ``Event`` for everything each chunk changed."""

    __slots__ = ("_parse", "_partial", "_sources", "events")

    def __init__(
        self,
        max_choices: int,
        max_tool_calls: int,
        max_text_size: int,
        rules: Mapping[str, Rule] | None = None,
    ) -> None:
        super().__init__(max_choices, max_tool_calls, max_text_size, rules)
        self.events: list[Event] = []
        self._targets = []
        self._parse: dict[_Tool, _Parse] = {}
        self._partial = _load_partial()
        self._sources: dict[str, Any] | None = None  # the citations last reported, by field

    def add(self, chunk: ResponseBody2, shape: Shape | None) -> None:
        before = self.usage
        try:
            super().add(chunk, shape)
        finally:
            # A chunk that carried a server error is merged before StreamError is raised.
            if chunk.usage is not None and self.usage is not before and self.usage is not None:
                self.events.append(UsageReceived(usage=_detach(self.usage)))
            if shape is not None:
                self._sources_changed(chunk)

    def _sources_changed(self, chunk: ResponseBody2) -> None:
        for field in ("citations", "search_results"):
            value = getattr(chunk, field, None)
            if value is None or value is UNSET:
                continue
            sources = self._sources if self._sources is not None else {}
            self._sources = sources
            if sources.get(field) != value:
                sources[field] = value
                self.events.append(CitationsUpdated(field=field, value=value))

    def finish(self) -> None:
        for st in self.choices.values():
            for call in st.calls or ():
                self._done(st.index, call)

    def _apply(self, st: _Choice, ch: ChunkChoice, shape: Shape | None) -> int:
        targets = self._targets
        assert targets is not None
        targets.clear()
        seen = len(st.calls) if st.calls else 0
        size = super()._apply(st, ch, shape)
        ext = shape is not None
        events = self.events
        i = st.index
        d = _delta(ch) if ext else ch.delta
        if d is not None:
            content = d.content
            if content:
                if isinstance(content, str):
                    events.append(ContentDelta(choice=i, delta=content))
                else:
                    self._parts(i, content)
            if d.refusal:
                events.append(RefusalDelta(choice=i, delta=d.refusal))
            if d.reasoning:
                events.append(ReasoningDelta(choice=i, delta=d.reasoning, field="reasoning"))
            if d.reasoning_content:
                events.append(
                    ReasoningDelta(choice=i, delta=d.reasoning_content, field="reasoning_content")
                )
            if ext:
                self._extensions(i, d)
            if d.tool_calls and st.calls:
                for call in st.calls[seen:]:
                    events.append(
                        ToolCallStarted(
                            choice=i, call=call.seq, index=call.index, id=call.id, name=call.name
                        )
                    )
                for call in targets:
                    # An id or a name that came after the call's ToolCallDone: another follows.
                    state = self._parse.get(call)
                    if state is not None and state.done and state.reported != (call.id, call.name):
                        state.done = False
                for tc, call in zip(d.tool_calls, targets, strict=True):
                    fragment = tc.function.arguments if tc.function is not None else None
                    if fragment:
                        events.append(
                            ToolCallArgumentsDelta(
                                choice=i,
                                call=call.seq,
                                delta=fragment,
                                parsed=self._grow(call, len(fragment)),
                            )
                        )
        if ch.finish_reason:
            for call in st.calls or ():
                self._done(i, call)
            events.append(ChoiceFinished(choice=i, finish_reason=ch.finish_reason))
        return size

    def _parts(self, choice: int, parts: list[Any]) -> None:
        # Mistral's typed content: text parts are content, thinking parts reasoning.
        for part in parts:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text" and isinstance(part.get("text"), str) and part["text"]:
                self.events.append(ContentDelta(choice=choice, delta=part["text"]))
            elif part.get("type") == "thinking":
                inner = part.get("thinking")
                for item in inner if isinstance(inner, list) else ({"text": inner},):
                    text = item.get("text") if isinstance(item, dict) else None
                    if isinstance(text, str) and text:
                        self.events.append(
                            ReasoningDelta(choice=choice, delta=text, field="reasoning")
                        )

    def _extensions(self, choice: int, d: Delta) -> None:
        events = self.events
        details = d.reasoning_details
        if isinstance(details, list) and not d.reasoning and not d.reasoning_content:
            for item in details:
                for text in _detail_texts(item):
                    events.append(
                        ReasoningDelta(choice=choice, delta=text, field="reasoning_details")
                    )
        annotations = d.annotations
        if isinstance(annotations, list):
            for annotation in annotations:
                events.append(AnnotationAdded(choice=choice, annotation=annotation))

    def _grow(self, call: _Tool, grown: int) -> Any:
        state = self._parse.get(call)
        if state is None:
            state = self._parse[call] = _Parse()
        state.size += grown
        state.done = False  # arguments after a ToolCallDone: another one will follow
        if (
            self._partial is not None
            and state.size >= state.parsed_at * _GROWTH
            and state.size - state.parsed_at >= _MIN_GROWTH
        ):
            state.parsed_at = state.size
            try:
                state.parsed = self._partial("".join(call.args).encode())
            except ValueError:
                state.parsed = None
        return state.parsed

    def _done(self, choice: int, call: _Tool) -> None:
        state = self._parse.get(call)
        if state is None:
            state = self._parse[call] = _Parse()
        if state.done:
            return
        state.done = True
        state.reported = (call.id, call.name)
        arguments = "".join(call.args)
        try:
            parsed, valid = orjson.loads(arguments), True
        except orjson.JSONDecodeError:
            parsed, valid = None, False
        self.events.append(
            ToolCallDone(
                choice=choice,
                call=call.seq,
                id=call.id,
                name=call.name,
                arguments=arguments,
                parsed=parsed,
                valid=valid,
            )
        )


def _detail_texts(item: Any) -> list[str]:
    """The readable text of one reasoning-details fragment (not its encrypted data)."""
    if isinstance(item, ReasoningDetail):
        texts = [item.text, item.summary]
    elif isinstance(item, dict):
        texts = [item.get("text"), item.get("summary")]
    else:
        return []
    return [t for t in texts if isinstance(t, str) and t]
