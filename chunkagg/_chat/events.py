"""Chat's live-UI events, derived from the merge: opt-in with ``Accumulator(track=True)``.

Owns chat's event types (those every choice format shares are the core's: ``ContentDelta``,
``ChoiceFinished``, ``UsageReceived``) and ``TrackingMerger``, which wraps the plain merge and
records what each chunk changed. Must not know bytes or framing. Each event costs O(1) to make;
the parsed view of tool-call arguments follows the core's ``PartialParse`` policy (linear in
all; without jiter, ``parsed`` is only set on ``ToolCallDone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from msgspec import UNSET

from .._core.events import (
    ChoiceFinished,
    ContentDelta,
    ElementParsed,
    PartialParse,
    UsageReceived,
    _Event,
    load_partial,
    parse_whole,
)
from .._core.models import detach
from .._core.parsed import Live, live_value
from .._core.rules import Rule
from .extensions import Shape
from .merge import Merger
from .models import ChunkChoice, Delta, ReasoningDetail, ResponseBody2
from .state import ChoiceState, ToolCallState, delta_of

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
    | ElementParsed
)


class TrackingMerger(Merger):
    """A ``Merger`` that also records an ``Event`` for everything each chunk changed."""

    __slots__ = ("_lives", "_parse", "_partial", "_sources")

    events: list[Event]

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
        self._parse: dict[ToolCallState, PartialParse] = {}
        self._partial = load_partial()
        self._sources: dict[str, Any] | None = None  # the citations last reported, by field
        # Live scans of structured values: a choice's content by index, a call's arguments.
        self._lives: dict[int | ToolCallState, Live] = {}

    def add(self, chunk: ResponseBody2, shape: Shape | None) -> None:
        before = self.usage
        try:
            super().add(chunk, shape)
        finally:
            # A chunk that carried a server error is merged before StreamError is raised.
            if chunk.usage is not None and self.usage is not before and self.usage is not None:
                self.events.append(UsageReceived(usage=detach(self.usage)))
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

    def _apply(self, st: ChoiceState, ch: ChunkChoice, shape: Shape | None) -> int:
        targets = self._targets
        assert targets is not None
        targets.clear()
        seen = len(st.calls) if st.calls else 0
        size = super()._apply(st, ch, shape)
        ext = shape is not None
        events = self.events
        i = st.index
        d = delta_of(ch) if ext else ch.delta
        if d is not None:
            content = d.content
            if content:
                if isinstance(content, str):
                    if self.structured is not None and self.structured.content is not None:
                        self._content(i, content)
                    else:
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
                        live = self._typed(call, fragment)
                        events.append(
                            ToolCallArgumentsDelta(
                                choice=i,
                                call=call.seq,
                                delta=fragment,
                                parsed=(
                                    self._grow(call, len(fragment))
                                    if live is None
                                    else live.scan.value
                                ),
                            )
                        )
                        if live is not None:
                            live.elements(events, choice=i, call=call.seq)
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
                if self.structured is not None and self.structured.content is not None:
                    self._content(choice, part["text"])
                else:
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

    def _content(self, choice: int, text: str) -> None:
        """A content fragment of a choice whose content has a type: scanned, then reported."""
        structured = self.structured
        assert structured is not None and structured.content is not None
        live = self._lives.get(choice)
        if live is None:
            live = self._lives[choice] = Live(structured.content)
        scan = live.scan
        scan.feed(text)
        self.events.append(ContentDelta(choice=choice, delta=text, parsed=scan.value))
        if scan.elements:
            live.elements(self.events, choice=choice)

    def _typed(self, call: ToolCallState, fragment: str) -> Live | None:
        """The live scan of a call whose function ``tools=`` names, fed ``fragment`` (or, when
        the name came late, everything so far); ``None`` for any other call."""
        live = self._lives.get(call)
        if live is not None:
            live.feed(fragment)
            return live
        structured = self.structured
        if structured is None or not structured.tools or call.name is None:
            return None
        target = structured.tools.get(call.name)
        if target is None:
            return None
        live = self._lives[call] = Live(target, "".join(call.args))
        return live

    def live(self, choice: int, call: ToolCallState | None) -> Any:
        return live_value(self._lives.get(choice if call is None else call))

    def _grow(self, call: ToolCallState, grown: int) -> Any:
        state = self._parse.get(call)
        if state is None:
            state = self._parse[call] = PartialParse()
        state.done = False  # arguments after a ToolCallDone: another one will follow
        return state.grow(grown, self._partial, lambda: "".join(call.args))

    def _done(self, choice: int, call: ToolCallState) -> None:
        state = self._parse.get(call)
        if state is None:
            state = self._parse[call] = PartialParse()
        if state.done:
            return
        state.done = True
        state.reported = (call.id, call.name)
        arguments = "".join(call.args)
        parsed, valid = parse_whole(arguments)
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
