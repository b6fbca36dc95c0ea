"""The legacy completions format: a streamed ``text_completion``'s bytes to one ``TextCompletion``.

Owns the format's hooks of ``StreamAccumulator`` (``CompletionAccumulator``), its merge rules and
its per-chunk hot path. ``_completion_models`` declares the Structs, ``_schema`` decodes chunks
losslessly, ``_extensions`` merges the keys nobody declared; ``_stream`` owns what every format
shares (framing, positions, faults, ``[DONE]``). Must not know chat's fields.

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
when built, ``top_logprobs`` dicts too, and unknown values are deep-copied (``_extensions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET

from ._completion_models import (
    CompletionChunk,
    CompletionChunkChoice,
    CompletionLogprobs,
    TextChoice,
    TextCompletion,
    TextLogprobs,
)
from ._errors import ChunkError, LimitExceededError, StreamError
from ._events import ChoiceFinished, ContentDelta, UsageReceived
from ._extensions import APPEND, DETAILS, EXECUTED, LAST, Planner, Rule, check_rules, merge
from ._extensions import build as build_fields
from ._framing import Format
from ._merge import DEFAULT_MAX_CHOICES, DEFAULT_MAX_TEXT_SIZE, _detach
from ._models import ErrorObject, Number, Usage
from ._schema import ChunkDecoder, build_output
from ._stream import DEFAULT_MAX_EVENT_SIZE, ChunkAccumulator, _error_event, check_limits

__all__ = [
    "CompletionAccumulator",
    "CompletionEvent",
    "decode_completion_chunk",
]

# The live events of this format: chat's own, whose shapes fit (see ``take_events``).
CompletionEvent = ContentDelta | ChoiceFinished | UsageReceived

# Fields with a rule of their own here: a caller's ``rules`` cannot change theirs. ``delta`` and
# ``message`` mark a chat chunk (refused, see ``_Plan``).
_CORE_FIELDS = frozenset(
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

# Rules under which a field keeps growing (``_extensions``): past ``max_text_size``, a chunk
# carrying such a field is refused like one carrying text.
_GROWS = frozenset((APPEND, DETAILS, EXECUTED))
# Keys ``Planner.plan`` leaves to chat's merge (an in-band error, a whole message): unknown keys
# like any other here, kept by the generic rule.
_LEFT_OUT = ("error", "message")


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


# -- merge state ---------------------------------------------------------------------------------

# ``(attribute, JSON key, rule)`` of the unknown keys of one level (``_extensions.Plan``).
_Entries = tuple[tuple[str, str, int], ...]


class _Plan:
    """What the merge reads beyond the declared fields in chunks of one derived class: the
    unknown keys of each level (``(attribute, JSON key, rule)``), those of them that grow the
    merged size, and whether the class carries a chat choice's ``delta`` or ``message``."""

    __slots__ = ("chat", "choice", "grow_choice", "grow_logprobs", "grow_top", "logprobs", "top")

    def __init__(self, planner: Planner, root: type) -> None:
        classes: Mapping[type, type] = getattr(root, "_classes", {})
        choice = classes.get(CompletionChunkChoice, CompletionChunkChoice)
        self.top = _entries(planner, root)
        self.choice = _entries(planner, choice)
        self.logprobs = _entries(planner, classes.get(CompletionLogprobs, CompletionLogprobs))
        self.chat = tuple(attr for attr, key, _ in self.choice if key in ("delta", "message"))
        self.grow_top = _growing(self.top)
        self.grow_choice = _growing(self.choice)
        self.grow_logprobs = _growing(self.logprobs)


def _entries(planner: Planner, cls: type) -> _Entries:
    """The unknown keys of ``cls`` with their rules: the caller's, else the known extensions',
    else "last"."""
    entries = planner.plan(cls, LAST).entries
    live: tuple[tuple[str, str], ...] = getattr(cls, "_live", ())
    left = tuple((attr, key, LAST) for attr, key in live if key in _LEFT_OUT)
    return entries + left if left else entries


def _growing(entries: _Entries) -> tuple[str, ...]:
    return tuple(attr for attr, _, rule in entries if rule in _GROWS)


class _Choice:
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


class _Merger:
    """All merge state of one stream: top-level fields, usage and one ``_Choice`` per index."""

    __slots__ = (
        "choices",
        "created",
        "id",
        "max_choices",
        "max_text_size",
        "model",
        "planner",
        "plans",
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
        self.plans: dict[type, _Plan] = {}
        self.text_size = 0  # text characters plus logprob entries, all choices
        self.choices: dict[int, _Choice] = {}
        self.id: str | None = None
        self.created: Number | str | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.usage: Usage | None = None
        self.top: dict[str, Any] | None = None  # unknown keys of the chunks

    def shape(self, root: type[CompletionChunk]) -> _Plan | None:
        """What to merge beyond the declared fields in chunks of class ``root``: ``None`` for the
        declared class, whose chunks take the hot path alone."""
        if not root._ext:
            return None
        plan = self.plans.get(root)
        if plan is None:
            plan = self.plans[root] = _Plan(self.planner, root)
        return plan

    def add(self, chunk: CompletionChunk, plan: _Plan | None) -> None:
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
            raise _error_event(msgspec.json.encode(chunk))
        choices = chunk.choices
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
                    st = states[ch.index] = _Choice(ch.index)
                self.text_size += self._apply(st, ch, None)
            else:
                self._check(choices, plan)
                for ch in choices:
                    st = states.get(ch.index)
                    if st is None:
                        st = states[ch.index] = _Choice(ch.index)
                    self.text_size += self._apply(st, ch, plan)
        # Azure-style filter chunks may carry "" and 0: only a non-empty value counts as sent.
        if self.id is None and chunk.id:
            self.id = chunk.id
        if self.created is None and chunk.created:
            self.created = chunk.created
        if self.model is None and chunk.model:
            self.model = chunk.model
        if self.system_fingerprint is None and chunk.system_fingerprint:
            self.system_fingerprint = chunk.system_fingerprint
        usage = chunk.usage
        if usage is not None:
            self.usage = _detach(usage)
        if plan is not None and plan.top:
            if self.top is None:
                self.top = {}
            self.text_size += merge(self.top, chunk, plan.top)
        error = chunk.error
        if error:
            raise _stream_error(error)

    def _check(self, choices: list[CompletionChunkChoice], plan: _Plan | None) -> None:
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

    def _apply(self, st: _Choice, ch: CompletionChunkChoice, plan: _Plan | None) -> int:
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
        return build_output(
            TextCompletion,
            extra,
            id=self.id,
            object="text_completion",
            created=self.created,
            model=self.model,
            choices=[self.choices[i].build() for i in sorted(self.choices)],
            usage=None if self.usage is None else _detach(self.usage),
            system_fingerprint=self.system_fingerprint,
        )


def _adds(chunk: CompletionChunk, plan: _Plan | None) -> bool:
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


def _stream_error(error: ErrorObject) -> StreamError:
    """The ``StreamError`` for a chunk's non-null ``error``."""
    try:
        payload: Any = msgspec.to_builtins(error)
    except RecursionError:  # metadata nested too deep to copy: hand over the Struct
        payload = error
    return StreamError(
        error.message or "(no message)", code=error.code, type=error.type, payload=payload
    )


class _TrackingMerger(_Merger):
    """A ``_Merger`` that also records the live-UI events of each chunk."""

    __slots__ = ("events",)

    def __init__(
        self, max_choices: int, max_text_size: int, rules: Mapping[str, Rule] | None
    ) -> None:
        super().__init__(max_choices, max_text_size, rules)
        self.events: list[CompletionEvent] = []

    def add(self, chunk: CompletionChunk, plan: _Plan | None) -> None:
        before = self.usage
        try:
            super().add(chunk, plan)
        finally:
            # A chunk that carried a server error is merged before StreamError is raised.
            if chunk.usage is not None and self.usage is not before and self.usage is not None:
                self.events.append(UsageReceived(usage=_detach(self.usage)))

    def _apply(self, st: _Choice, ch: CompletionChunkChoice, plan: _Plan | None) -> int:
        size = super()._apply(st, ch, plan)
        if ch.text:
            self.events.append(ContentDelta(choice=st.index, delta=ch.text))
        if ch.finish_reason:
            self.events.append(ChoiceFinished(choice=st.index, finish_reason=ch.finish_reason))
        return size


# -- the accumulator -----------------------------------------------------------------------------


class CompletionAccumulator(ChunkAccumulator[CompletionChunk, TextCompletion]):
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

    _merger: _Merger
    _tracker: _TrackingMerger | None

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_choices: int = DEFAULT_MAX_CHOICES,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        rules: Mapping[str, Rule] | None = None,
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

        Raises:
            ValueError: a limit is not a positive int, ``format`` is unknown, or ``rules`` names
                an unknown rule or a field with its own rule (``text``, ``finish_reason``...).

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size)
        check_limits(max_choices=max_choices, max_text_size=max_text_size)
        check_rules(rules, _CORE_FIELDS)
        self._decoder = ChunkDecoder(CompletionChunk)
        self._tracker = _TrackingMerger(max_choices, max_text_size, rules) if track else None
        self._merger = self._tracker or _Merger(max_choices, max_text_size, rules)

    def take_events(self) -> list[CompletionEvent]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``CompletionAccumulator(track=True)``. The events are chat's, whose shapes fit, so
        one UI loop serves both formats: ``ContentDelta`` (a choice's ``text`` fragment, never
        empty), ``ChoiceFinished`` (a chunk gave the choice a non-empty ``finish_reason``: OpenAI
        sends it twice, on the last text chunk and on an empty one) and ``UsageReceived``.

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        tracker = self._tracker
        if tracker is None:
            raise RuntimeError("take_events() needs CompletionAccumulator(track=True)")
        events = tracker.events
        if events:
            tracker.events = []
            return events
        return []

    # -- the format's hooks -----------------------------------------------------------------------
