"""Legacy completions chunks to a ``TextCompletion``: the merge of one stream, and its rules.

Owns ``CompletionMerger`` (the top-level fields, usage, one ``TextChoiceState`` per choice
index) and its live-UI twin. ``models`` declares the Structs; the core decodes chunks losslessly
and merges the keys nobody declared (``.._core.rules``). Must not know bytes, framing, positions
or chat's fields.

The rules (OpenAI, vLLM, llama.cpp, Ollama and FIM endpoints stream this shape):

- choices are merged by ``index`` and built sorted; a new index must be ``0 <= index <
  max_choices``;
- ``text`` fragments are kept in a list and joined once per build;
- the four logprobs lists are extended in arrival order (``text_offset`` values are absolute
  already: never shifted); a list no chunk sent stays ``null``, and so does the whole
  ``logprobs`` of a choice whose chunks never sent one;
- ``finish_reason``: the last non-empty value, never invented (OpenAI closes a choice with an
  empty chunk that carries it, sometimes after carrying it on the last text chunk too; vLLM puts
  it on the last text chunk only);
- ``id``, ``created``, ``model``, ``system_fingerprint``: the first non-empty value;
- ``usage``: the last non-null block, as sent (the ``choices: []`` chunk of
  ``stream_options.include_usage``, or vLLM's ``continuous_usage_stats`` on every chunk);
- keys nobody declared (vLLM's ``stop_reason``, ``token_ids``, ``prompt_token_ids``): the last
  non-null value, on the object that carried them (chunk, choice, logprobs), unless the caller's
  ``rules`` say otherwise;
- an ``error`` object raises ``StreamError`` once the chunk's choices are merged; a chunk that is
  itself an error (``"object": "error"``, older vLLM) merges nothing and raises it.

A chunk is checked before any of it is merged (indices, the text limit, a chat chunk given to
the wrong accumulator), and merging cannot fail after that: a bad chunk is rejected whole. The
state shares nothing mutable with a chunk or a built completion: lists are copied when kept and
when built, ``top_logprobs`` dicts too, and unknown values are deep-copied (the core's ``rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET

from .._core.events import ChoiceFinished, ContentDelta, ElementParsed, UsageReceived
from .._core.limits import MAX_DEPTH, check_depth
from .._core.models import Number, Usage, detach
from .._core.parsed import Live, Structured, live_value, set_side
from .._core.rules import APPEND, LAST, Entries, Planner, Rule, check_nested, merge, nested
from .._core.rules import build as build_fields
from .._core.schema import build_output
from .._core.stream import error_event, run_index, stream_error
from .._errors import ChunkAggError, ChunkError, LimitExceededError
from .models import (
    CompletionChunk,
    CompletionChunkChoice,
    CompletionLogprobs,
    TextChoice,
    TextCompletion,
    TextLogprobs,
)

__all__ = ["CORE_FIELDS", "CompletionEvent", "CompletionMerger", "TrackingCompletionMerger"]

# The live events of this format: those every stream of choices shares (see ``take_events``).
CompletionEvent = ContentDelta | ChoiceFinished | UsageReceived | ElementParsed

# Fields with a rule of their own here: a caller's ``rules`` cannot change theirs. ``delta`` and
# ``message`` mark a chat chunk (refused, see ``CompletionPlan``).
CORE_FIELDS = frozenset(
    (
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "usage",
        "error",
        "choices",
        "index",
        "text",
        "logprobs",
        "finish_reason",
        "tokens",
        "token_logprobs",
        "top_logprobs",
        "text_offset",
        "delta",
        "message",
    )
)


class CompletionPlan:
    """What the merge reads beyond the declared fields in chunks of one derived class: the
    unknown keys of each level (``(attribute, JSON key, rule)``), those of them that grow the
    merged size, and whether the class carries a chat choice's ``delta`` or ``message``."""

    __slots__ = (
        "chat",
        "choice",
        "grow_choice",
        "grow_logprobs",
        "grow_top",
        "logprobs",
        "nested",
        "top",
    )

    def __init__(self, planner: Planner, root: type) -> None:
        classes: Mapping[type, type] = getattr(root, "_classes", {})
        choice = classes.get(CompletionChunkChoice, CompletionChunkChoice)
        self.top = planner.plan(root, LAST)
        self.choice = planner.plan(choice, LAST)
        self.logprobs = planner.plan(classes.get(CompletionLogprobs, CompletionLogprobs), LAST)
        self.chat = tuple(attr for attr, key, _ in self.choice if key in ("delta", "message"))
        self.grow_top = _growing(self.top)
        self.grow_choice = _growing(self.choice)
        self.grow_logprobs = _growing(self.logprobs)
        # Per level, the fields that may hold arrays or objects: their nesting is checked
        # before anything is merged. Empty at every level: nothing to check.
        levels = (
            nested(root, self.top),
            nested(choice, self.choice),
            nested(classes.get(CompletionLogprobs, CompletionLogprobs), self.logprobs),
        )
        self.nested = levels if any(levels) else None


def _growing(entries: Entries) -> tuple[str, ...]:
    # Under these rules a field keeps growing: past ``max_text_size``, a chunk carrying such a
    # field is refused like one carrying text.
    return tuple(attr for attr, _, rule in entries if rule == APPEND or isinstance(rule, type))


class TextChoiceState:
    """Merge state of one choice. The logprobs lists are ``None`` until a chunk sends one."""

    __slots__ = (
        "fields",
        "has_logprobs",
        "index",
        "lp_fields",
        "reason",
        "text",
        "text_offset",
        "token_logprobs",
        "tokens",
        "top_logprobs",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.text: list[str] = []
        self.reason: str | None = None
        self.has_logprobs = False
        self.tokens: list[str] | None = None
        self.token_logprobs: list[Number | None] | None = None
        self.top_logprobs: list[dict[str, Number] | None] | None = None
        self.text_offset: list[int] | None = None
        self.fields: dict[str, Any] | None = None  # unknown keys of the choice
        self.lp_fields: dict[str, Any] | None = None  # unknown keys of its logprobs

    def logprobs(self, lp: CompletionLogprobs) -> int:
        """Extend the lists with a chunk's; return how many entries it added."""
        self.has_logprobs = True
        size = 0
        tokens = lp.tokens
        if tokens is not None:
            size += len(tokens)
            if self.tokens is None:
                self.tokens = list(tokens)
            else:
                self.tokens.extend(tokens)
        values = lp.token_logprobs
        if values is not None:
            size += len(values)
            if self.token_logprobs is None:
                self.token_logprobs = list(values)
            else:
                self.token_logprobs.extend(values)
        tops = lp.top_logprobs
        if tops is not None:
            size += len(tops)
            kept = self.top_logprobs
            if kept is None:
                kept = self.top_logprobs = []
            # The dicts are the chunk's (mutable): the state keeps copies, shallow since their
            # values are numbers. Appended one by one: one token per chunk is the rule, and a
            # loop costs fewer instructions than a comprehension and an extend (callgrind).
            for top in tops:
                kept.append(None if top is None else top.copy())
        offsets = lp.text_offset
        if offsets is not None:
            size += len(offsets)
            if self.text_offset is None:
                self.text_offset = list(offsets)
            else:
                self.text_offset.extend(offsets)
        return size

    def build(self) -> TextChoice:
        logprobs = None
        if self.has_logprobs:
            tops = self.top_logprobs
            if tops is not None:
                tops = [None if top is None else top.copy() for top in tops]
            logprobs = build_output(
                TextLogprobs,
                build_fields(self.lp_fields)[1] if self.lp_fields else None,
                tokens=None if self.tokens is None else list(self.tokens),
                token_logprobs=None if self.token_logprobs is None else list(self.token_logprobs),
                top_logprobs=tops,
                text_offset=None if self.text_offset is None else list(self.text_offset),
            )
        return build_output(
            TextChoice,
            build_fields(self.fields)[1] if self.fields else None,
            text="".join(self.text),
            index=self.index,
            logprobs=logprobs,
            finish_reason=self.reason,
        )


class CompletionMerger:
    """All merge state of one stream: top-level fields, usage, a ``TextChoiceState`` per index."""

    __slots__ = (
        "choices",
        "created",
        "events",
        "id",
        "max_choices",
        "max_text_size",
        "model",
        "planner",
        "plans",
        "structured",
        "system_fingerprint",
        "text_size",
        "top",
        "usage",
    )

    def __init__(
        self, max_choices: int, max_text_size: int, rules: Mapping[str, Rule] | None
    ) -> None:
        self.max_choices = max_choices
        self.max_text_size = max_text_size
        self.planner = Planner(rules)
        self.events: list[CompletionEvent] | None = None  # live-UI events, with track=True
        self.plans: dict[type, CompletionPlan] | None = None  # by chunk class; on first use
        self.text_size = 0  # text characters plus logprob entries, all choices
        self.choices: dict[int, TextChoiceState] = {}
        self.id: str | None = None
        self.created: Number | str | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.usage: Usage | None = None
        self.top: dict[str, Any] | None = None  # unknown keys of the chunks
        self.structured: Structured | None = None  # the caller's type (response_format=)

    def shape(self, root: type[CompletionChunk]) -> CompletionPlan | None:
        """What to merge beyond the declared fields in chunks of class ``root``: ``None`` for the
        declared class, whose chunks take the hot path alone."""
        if not root._ext:
            return None
        plans = self.plans
        if plans is None:
            plans = self.plans = {}
        plan = plans.get(root)
        if plan is None:
            plan = plans[root] = CompletionPlan(self.planner, root)
        return plan

    def add_run(self, chunks: list[CompletionChunk], plan: CompletionPlan | None) -> None:
        """Merge ``chunks`` in order, as ``add`` would one by one; a chunk that raises is not
        merged, those before it are (the error's ``_run_index`` says which chunk it was).

        A chunk of one choice already open, with no usage and no error, once the first-value
        fields are set, is merged here without a call (``_apply``'s work, inline); the rest go
        through ``add``.
        """
        add = self.add
        chunk = None
        try:
            if (
                plan is not None
                or self.events is not None
                or self.id is None
                or self.created is None
                or self.model is None
            ):
                for chunk in chunks:
                    add(chunk, plan)
                return
            states = self.choices
            for chunk in chunks:
                choices = chunk.choices
                if (
                    chunk.usage is None
                    and len(choices) == 1
                    and not chunk.error
                    and self.text_size <= self.max_text_size
                    and chunk.object != "error"
                    and (self.system_fingerprint is not None or not chunk.system_fingerprint)
                ):
                    ch = choices[0]
                    st = states.get(ch.index)
                    if st is not None:
                        text = ch.text
                        size = 0
                        if text:
                            st.text.append(text)
                            size = len(text)
                        if ch.finish_reason:
                            st.reason = ch.finish_reason
                        lp = ch.logprobs
                        if lp is not None:
                            size += st.logprobs(lp)
                        self.text_size += size
                        continue
                add(chunk, None)
        except ChunkAggError as exc:
            exc._run_index = run_index(chunks, chunk)
            raise

    def add(self, chunk: CompletionChunk, plan: CompletionPlan | None) -> None:
        """Merge one chunk, or raise without changing anything.

        ``plan`` is ``self.shape(type(chunk))``, looked up once per run by the hot path.

        Raises:
            ChunkError: a negative choice index, or a chat chunk (``choices[].delta``).
            LimitExceededError: a choice index past ``max_choices``, or more text once
                ``max_text_size`` is used up (the chunk that crosses it is still merged).
            StreamError: the chunk carries a server error (its choices are merged first), or is
                one (``"object": "error"``: nothing merged).
        """
        if chunk.object == "error":
            raise error_event(msgspec.json.encode(chunk))
        choices = chunk.choices
        usage = chunk.usage
        if usage is not None:
            usage = detach(usage)  # a copy, checked for nesting: before anything changes
        if plan is not None and plan.nested is not None:
            _check_nesting(chunk, plan.nested)
        if self.text_size > self.max_text_size and _adds(chunk, plan):
            raise LimitExceededError(
                "merged text is larger than the limit",
                limit="max_text_size",
                value=self.max_text_size,
            )
        if choices:
            states = self.choices
            if len(choices) == 1 and plan is None:
                # One choice per chunk is the rule: only a new index needs checking.
                ch = choices[0]
                st = states.get(ch.index)
                if st is None:
                    self._check(choices, None)
                    st = states[ch.index] = TextChoiceState(ch.index)
                self.text_size += self._apply(st, ch, None)
            else:
                self._check(choices, plan)
                for ch in choices:
                    st = states.get(ch.index)
                    if st is None:
                        st = states[ch.index] = TextChoiceState(ch.index)
                    self.text_size += self._apply(st, ch, plan)
        # Azure-style filter chunks may carry "" and 0: only a non-empty value counts as sent.
        # Written out here as in chat's merge: a helper shared by both would cost a Python call
        # per chunk, about a thousand instructions, 6% of this merge on a text stream (callgrind).
        if self.id is None and chunk.id:
            self.id = chunk.id
        if self.created is None and chunk.created:
            self.created = chunk.created
        if self.model is None and chunk.model:
            self.model = chunk.model
        if self.system_fingerprint is None and chunk.system_fingerprint:
            self.system_fingerprint = chunk.system_fingerprint
        if usage is not None:
            self.usage = usage
        if plan is not None and plan.top:
            if self.top is None:
                self.top = {}
            self.text_size += merge(self.top, chunk, plan.top)
        error = chunk.error
        if error:
            check_depth(error, MAX_DEPTH + 1)  # its metadata, as a deeper stack would
            raise stream_error(error)

    def _check(self, choices: list[CompletionChunkChoice], plan: CompletionPlan | None) -> None:
        states = self.choices
        for ch in choices:
            index = ch.index
            if index not in states:
                if index < 0:
                    raise ChunkError(f"choice index {index} is negative")
                if index >= self.max_choices:
                    raise LimitExceededError(
                        f"choice index {index} is too large",
                        limit="max_choices",
                        value=self.max_choices,
                    )
            if plan is not None and plan.chat:
                for attr in plan.chat:
                    if isinstance(getattr(ch, attr), dict):
                        raise ChunkError(
                            "a chat completion chunk (its choices carry a delta or a message), "
                            "not a text_completion one: merge it with chunkagg.Accumulator"
                        )

    def _apply(
        self, st: TextChoiceState, ch: CompletionChunkChoice, plan: CompletionPlan | None
    ) -> int:
        """Merge one choice of a chunk; return the size it added. Cannot fail."""
        size = 0
        text = ch.text
        if text:
            st.text.append(text)
            size = len(text)
        if ch.finish_reason:
            st.reason = ch.finish_reason
        lp = ch.logprobs
        if lp is not None:
            size += st.logprobs(lp)
        if plan is not None:
            if plan.choice:
                if st.fields is None:
                    st.fields = {}
                size += merge(st.fields, ch, plan.choice)
            if lp is not None and plan.logprobs:
                if st.lp_fields is None:
                    st.lp_fields = {}
                size += merge(st.lp_fields, lp, plan.logprobs)
        return size

    def finish(self) -> None:
        """Called once when the stream ends: nothing is left open in this format."""

    @property
    def empty(self) -> bool:
        """Whether no chunk carried anything (no choice, no top-level field, no usage)."""
        return (
            not self.choices
            and self.id is None
            and self.created is None
            and self.model is None
            and self.usage is None
            and self.system_fingerprint is None
            and not self.top
        )

    def build(self) -> TextCompletion:
        """Build the completion merged so far; the state is left as it was."""
        extra = build_fields(self.top)[1] if self.top else None
        completion: TextCompletion = build_output(
            TextCompletion,
            extra,
            id=self.id,
            object="text_completion",
            created=self.created,
            model=self.model,
            choices=[self.choices[i].build() for i in sorted(self.choices)],
            usage=None if self.usage is None else detach(self.usage),
            system_fingerprint=self.system_fingerprint,
        )
        target = None if self.structured is None else self.structured.content
        if target is not None:
            for choice in completion.choices:
                value, failure = target.result(
                    choice.text, choice.finish_reason, None, self.live(choice.index)
                )
                set_side(choice, value, failure, "parsed")
        return completion

    def live(self, choice: int) -> Any:
        """What a live scan of a choice's text converted: ``UNSET`` here (tracking scans)."""
        return UNSET


def _check_nesting(chunk: CompletionChunk, levels: tuple[Entries, Entries, Entries]) -> None:
    """``ChunkError`` for a value nested deeper than ``MAX_DEPTH`` in a field the merge keeps."""
    top, choice, logprobs = levels
    check_nested(chunk, top)
    if choice or logprobs:
        for ch in chunk.choices:
            check_nested(ch, choice)
            if logprobs and ch.logprobs is not None:
                check_nested(ch.logprobs, logprobs)


def _adds(chunk: CompletionChunk, plan: CompletionPlan | None) -> bool:
    """Whether a chunk would grow the merged size (checked only past ``max_text_size``)."""
    for ch in chunk.choices:
        if ch.text:
            return True
        lp = ch.logprobs
        if lp is not None and (lp.tokens or lp.token_logprobs or lp.top_logprobs or lp.text_offset):
            return True
        if plan is not None:
            if _carries(ch, plan.grow_choice):
                return True
            if lp is not None and _carries(lp, plan.grow_logprobs):
                return True
    return plan is not None and _carries(chunk, plan.grow_top)


def _carries(obj: Any, attrs: tuple[str, ...]) -> bool:
    """Whether ``obj`` holds a non-empty value in any of ``attrs``."""
    for attr in attrs:
        value = getattr(obj, attr)
        if value is not UNSET and value not in (None, "", [], {}):
            return True
    return False


class TrackingCompletionMerger(CompletionMerger):
    """A ``CompletionMerger`` that also records the live-UI events of each chunk."""

    __slots__ = ("_lives",)

    events: list[CompletionEvent]

    def __init__(
        self, max_choices: int, max_text_size: int, rules: Mapping[str, Rule] | None
    ) -> None:
        super().__init__(max_choices, max_text_size, rules)
        self.events = []
        self._lives: dict[int, Live] = {}  # live scans of typed text, by choice

    def add(self, chunk: CompletionChunk, plan: CompletionPlan | None) -> None:
        before = self.usage
        try:
            super().add(chunk, plan)
        finally:
            # A chunk that carried a server error is merged before StreamError is raised.
            if chunk.usage is not None and self.usage is not before and self.usage is not None:
                self.events.append(UsageReceived(usage=detach(self.usage)))

    def _apply(
        self, st: TextChoiceState, ch: CompletionChunkChoice, plan: CompletionPlan | None
    ) -> int:
        size = super()._apply(st, ch, plan)
        if ch.text:
            target = None if self.structured is None else self.structured.content
            if target is None:
                self.events.append(ContentDelta(choice=st.index, delta=ch.text))
            else:
                live = self._lives.get(st.index)
                if live is None:
                    live = self._lives[st.index] = Live(target)
                parsed = live.feed(ch.text)
                self.events.append(ContentDelta(choice=st.index, delta=ch.text, parsed=parsed))
                live.elements(self.events, choice=st.index)
        if ch.finish_reason:
            self.events.append(ChoiceFinished(choice=st.index, finish_reason=ch.finish_reason))
        return size

    def live(self, choice: int) -> Any:
        return live_value(self._lives.get(choice))
