"""Chat chunks to a ``ChatCompletion``: the merge of one stream, in two passes per chunk.

Owns ``Merger`` (the top-level fields, usage, and one ``ChoiceState`` per choice index), the
order of a chunk's merge and its checks, the limits of this format, and building the
completion. Must not know bytes, framing or positions: it raises errors without an event number
or offset and the accumulator adds them. The rules of docs/merge-policy.md, "Merge policy", are
here and in ``state``; those of "Provider extensions" in ``extensions``.

A chunk is merged in two passes. ``_check`` looks for everything that can be wrong with it
(impossible indices, limits, bad base64) without touching the state; only then does ``_apply``
merge it, and ``_apply`` cannot fail. So a bad chunk is rejected whole and never leaves half of
itself behind. Text fragments go into lists joined once at the end, never ``str +=``.

The fields OpenAI defines are merged on the hot path below. Provider extensions and keys never
seen before are merged through the chunk class's ``Shape`` only for chunks whose schema can carry
them (``_ext``): a plain OpenAI stream never pays for them. Each such field follows a rule: its
own (``reasoning_details``, ``executed_tools``...), the caller's (``rules``), or the generic one:
inside a delta, strings concatenated, lists extended, objects merged key by key by this same
rule, any other value last non-null; everywhere else, last non-null.

Nothing the state keeps is shared with a chunk or with a built completion when it could change:
strings, numbers and frozen Structs are shared; values of fields typed ``Any`` are copied.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET
from msgspec.structs import astuple

from .._core.limits import DEFAULT_MAX_CHOICES, DEFAULT_MAX_TEXT_SIZE, check_depth
from .._core.models import detach
from .._core.parsed import Structured, set_side
from .._core.rules import Rule, append, has_value
from .._core.rules import build as build_fields
from .._core.rules import merge as merge_fields
from .._core.schema import ChunkDecoder, build_output
from .._core.stream import run_index, stream_error
from .._core.targets import Target
from .._errors import ChunkAggError, ChunkError, LimitExceededError
from .extensions import ChoiceExt, Shape, planner, shape_of
from .models import (
    ChatCompletion,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ResponseBody2,
    TokenLogprob,
    ToolCallDelta,
    Usage,
)
from .state import ChoiceState, ToolCallState, append_text, apply_rare, apply_tools, delta_of

__all__ = [
    "CORE_FIELDS",
    "DEFAULT_MAX_TOOL_CALLS",
    "Merger",
    "as_usage",
]

# The strictest peer (openai-node's ChatCompletionStream) gives up past 128; the API has no
# documented cap on parallel calls. Indices are bounded by the same number, so a broken index
# never builds a long list.
DEFAULT_MAX_TOOL_CALLS = 128

# Fields with a rule of their own in the hot path: a caller cannot change theirs.
CORE_FIELDS = frozenset(
    (
        "id",
        "object",
        "created",
        "model",
        "system_fingerprint",
        "service_tier",
        "usage",
        "error",
        "choices",
        "index",
        "delta",
        "finish_reason",
        "logprobs",
        "role",
        "content",
        "refusal",
        "reasoning",
        "reasoning_content",
        "reasoning_signature",
        "redacted_reasoning",
        "tool_calls",
        "function_call",
        "audio",
        "message",
    )
)


# How many fields are None in what ``Merger.add_run`` merges on its short way: a delta that
# sets one field, a tool-call delta that sets its index and function, a function that sets its
# arguments.
_DELTA_NONES = len(Delta.__struct_fields__) - 1
_CALL_NONES = len(ToolCallDelta.__struct_fields__) - 2
_FUNCTION_NONES = len(FunctionCallDelta.__struct_fields__) - 1

_TOP_FIELDS = frozenset(
    ("provider", "citations", "search_results", "x_groq", "moderation", "prompt_filter_results")
)


class Merger:
    """All merge state of one stream: top-level fields, usage and one ``ChoiceState`` per index."""

    __slots__ = (
        "_targets",
        "choices",
        "created",
        "events",
        "id",
        "max_choices",
        "max_text_size",
        "max_tool_calls",
        "model",
        "planner",
        "service_tier",
        "shapes",
        "structured",
        "system_fingerprint",
        "text_size",
        "top",
        "top_open",
        "usage",
    )

    def __init__(
        self,
        max_choices: int = DEFAULT_MAX_CHOICES,
        max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        rules: Mapping[str, Rule] | None = None,
    ) -> None:
        self.max_choices = max_choices
        self.max_tool_calls = max_tool_calls
        self.max_text_size = max_text_size
        # The rules of extensions and unknown keys, per Struct class, the caller's over ours.
        self.planner = planner(rules)
        # The planner's shapes, by chunk class; made when a stream first widens.
        self.shapes: dict[type, Shape] | None = None
        self.text_size = 0
        self.events: list[Any] | None = None  # live-UI events: a list with track=True
        # When a list, apply_tools records the call each tool-call delta went to (for events).
        self._targets: list[ToolCallState] | None = None
        self.choices: dict[int, ChoiceState] = {}
        self.id: str | None = None
        self.created: int | float | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.service_tier: str | None = None
        self.usage: Usage | None = None
        self.top: dict[str, Any] | None = None  # chunk-level extensions and unknown keys
        self.top_open = True  # whether a first-value field above is still None
        self.structured: Structured | None = None  # the caller's types (response_format=...)

    def shape(self, root: type[ResponseBody2]) -> Shape | None:
        """What the merge reads beyond the declared fields in chunks of class ``root``: ``None``
        for the declared class (the plain schema), whose chunks take the hot path alone."""
        if not root._ext:
            return None
        shapes = self.shapes
        if shapes is None:
            shapes = self.shapes = {}
        shape = shapes.get(root)
        if shape is None:
            shape = shapes[root] = shape_of(self.planner, root)
        return shape

    def add_run(self, chunks: list[ResponseBody2], shape: Shape | None) -> None:
        """Merge ``chunks`` in order, as ``add`` would one by one; a chunk that raises is not
        merged, those before it are (the error's ``_run_index`` says which chunk it was).

        Most chunks of a stream carry one more piece of text, of reasoning, or of one call's
        arguments, for a choice already open, and nothing else: they are merged here, without
        a call each (a call per chunk was a twentieth of a text stream's instructions,
        callgrind), and one count of the delta's Nones in C proves that it carries nothing
        else, where ``add`` reads each of its fields. The rest go through ``add``; a widened
        stream's chunks through ``_wide_run``.
        """
        if self.events is not None or (shape is not None and not shape.plain):
            # Live events (``TrackingMerger._apply`` sees every choice), or values to check
            # before merging: every chunk through ``add``.
            self._each(chunks, shape)
            return
        if shape is not None or (
            self.top_open and (self.id is None or self.created is None or self.model is None)
        ):
            self._wide_run(chunks, shape)
            return
        add = self.add
        chunk = None
        try:
            # The merged size in a local, written back before every add() and at the end.
            states, size, limit, count = self.choices, self.text_size, self.max_text_size, astuple
            # Whether system_fingerprint, service_tier is still to come (most servers but
            # OpenAI's never send one of them): a chunk that carries it goes through add().
            sf_open, st_open = self.system_fingerprint is None, self.service_tier is None
            for chunk in chunks:
                choices = chunk.choices
                if (
                    chunk.usage is None
                    and len(choices) == 1
                    and size <= limit
                    and not (sf_open and chunk.system_fingerprint)
                    and not (st_open and chunk.service_tier)
                ):
                    ch = choices[0]
                    delta = ch.delta
                    if (
                        delta is not None
                        and not ch.finish_reason
                        and count(delta).count(None) == _DELTA_NONES
                    ):
                        st = states.get(ch.index)
                        if st is not None:
                            text = delta.content
                            if type(text) is str:
                                if st.content is None:
                                    st.content = [text]
                                else:
                                    st.content.append(text)
                                logprobs = ch.logprobs
                                size += len(text)
                                if logprobs is not None:
                                    size += _add_logprobs(st, logprobs)
                                continue
                            tcs = delta.tool_calls
                            if tcs is not None:
                                by_index = st.by_index
                                if len(tcs) == 1 and by_index is not None and ch.logprobs is None:
                                    # More arguments for a call this choice knows by its index:
                                    # an index and a function with arguments alone (two counts
                                    # prove it).
                                    tc = tcs[0]
                                    fn = tc.function
                                    if (
                                        fn is not None
                                        and count(tc).count(None) == _CALL_NONES
                                        and count(fn).count(None) == _FUNCTION_NONES
                                        and type(args := fn.arguments) is str
                                    ):
                                        call = by_index.get(tc.index)  # type: ignore[arg-type]
                                        if call is not None:
                                            st.last_call = call
                                            if args:
                                                call.args.append(args)
                                                size += len(args)
                                            continue
                            elif ch.logprobs is None:
                                # Reasoning alone: DeepSeek's and xAI's field, then vLLM's and
                                # Groq's (the same count proves it is the one field set).
                                text = delta.reasoning_content
                                if type(text) is str:
                                    if st.reasoning_content is None:
                                        st.reasoning_content = [text]
                                    else:
                                        st.reasoning_content.append(text)
                                    size += len(text)
                                    continue
                                text = delta.reasoning
                                if type(text) is str:
                                    if st.reasoning is None:
                                        st.reasoning = [text]
                                    else:
                                        st.reasoning.append(text)
                                    size += len(text)
                                    continue
                self.text_size = size
                add(chunk, None)
                size = self.text_size
                sf_open, st_open = self.system_fingerprint is None, self.service_tier is None
            self.text_size = size
        except ChunkAggError as exc:
            exc._run_index = run_index(chunks, chunk)
            raise

    def _each(self, chunks: list[ResponseBody2], shape: Shape | None) -> None:
        add = self.add
        chunk = None
        try:
            for chunk in chunks:
                add(chunk, shape)
        except ChunkAggError as exc:
            exc._run_index = run_index(chunks, chunk)
            raise

    def _wide_run(self, chunks: list[ResponseBody2], shape: Shape | None) -> None:
        """``add_run`` for a stream with extensions to merge (``shape``, one whose chunks need no
        check first: ``Shape.plain``), or whose id, created or model is still to come: a chunk
        of one open choice that starts no call (more arguments for one are merged), has no
        audio and sets no first-value field still open is merged by ``_apply`` and the shape's
        merge, without the rest of ``add``; the others go through ``add``."""
        add, apply, states = self.add, self._apply, self.choices
        merge = shape.merge_one if shape is not None else None
        # Which first-value fields are open, read again after add(): a chunk that sets one of
        # the two OpenAI's first chunk sets beside id, created and model (OpenRouter's sets
        # neither) goes through ``add``, as every chunk does while id, created or model is open.
        ready = self.id is not None and self.created is not None and self.model is not None
        sf_open, st_open = self.system_fingerprint is None, self.service_tier is None
        chunk = None
        try:
            for chunk in chunks:
                choices = chunk.choices
                if (
                    chunk.usage is None
                    and len(choices) == 1
                    and self.text_size <= self.max_text_size
                    and (st := states.get((ch := choices[0]).index)) is not None
                    and (delta := ch.delta) is not None
                    and delta.audio is None
                    and (not (tcs := delta.tool_calls) or _continues(st, tcs))
                    and ready
                    and not (sf_open and chunk.system_fingerprint)
                    and not (st_open and chunk.service_tier)
                ):
                    self.text_size += apply(st, ch, shape)
                    if merge is not None:
                        top = self.top
                        if top is None:
                            top = self.top = {}
                        self.text_size += merge(top, chunk, st, ch, delta)
                else:
                    add(chunk, shape)
                    ready = (
                        self.id is not None and self.created is not None and self.model is not None
                    )
                    sf_open, st_open = self.system_fingerprint is None, self.service_tier is None
        except ChunkAggError as exc:
            exc._run_index = run_index(chunks, chunk)
            raise

    def add(self, chunk: ResponseBody2, shape: Shape | None) -> None:
        """Merge one chunk, or raise without changing anything.

        ``shape`` is ``self.shape(type(chunk))``: the hot path passes what it knows of the
        stream's schema instead of looking it up per chunk.

        Raises:
            ChunkError: an impossible index, undecodable audio data, or a value nested deeper
                than ``MAX_DEPTH``.
            LimitExceededError: more choices or tool calls than allowed, or more text once
                ``max_text_size`` is used up (the chunk that crosses it is still merged, so the
                merged text exceeds the limit by at most one chunk).
            StreamError: the chunk carries a server error (its choices are merged first).
        """
        choices = chunk.choices
        usage = chunk.usage
        if usage is not None:
            usage = detach(usage)  # a copy, checked for nesting: before anything changes
        if shape is not None:
            if shape.check is not None:
                shape.check(chunk)  # values nested too deep: before anything changes
            if shape.text is not None:
                _refuse_text_completion(choices, shape.text)
        if self.text_size > self.max_text_size and _any_text(choices, shape is not None):
            raise LimitExceededError(
                "merged text is larger than the limit",
                limit="max_text_size",
                value=self.max_text_size,
            )
        if choices:
            states = self.choices
            if len(choices) == 1:
                # One choice per chunk is the rule; skip _check when nothing in it can fail.
                ch = choices[0]
                st = states.get(ch.index)
                delta = ch.delta
                if delta is None and shape is not None:
                    delta = delta_of(ch)
                if st is None or (
                    delta is not None
                    and (
                        delta.audio is not None
                        or (delta.tool_calls and not _continues(st, delta.tool_calls))
                    )
                ):
                    self._check(choices)
                    if st is None:
                        st = states[ch.index] = ChoiceState(ch.index)
                self.text_size += self._apply(st, ch, shape)
            else:
                self._check(choices)
                for ch in choices:
                    st = states.get(ch.index)
                    if st is None:
                        st = states[ch.index] = ChoiceState(ch.index)
                    self.text_size += self._apply(st, ch, shape)
        # Azure's filter chunks carry "" and 0 here: only a non-empty value counts as carried.
        # Once all five are set (OpenAI's first chunk sets them) nothing here can change.
        if self.top_open:
            found = False
            if self.id is None and chunk.id:
                self.id = chunk.id
                found = True
            if self.created is None and chunk.created:
                self.created = chunk.created
                found = True
            if self.model is None and chunk.model:
                self.model = chunk.model
                found = True
            if self.system_fingerprint is None and chunk.system_fingerprint:
                self.system_fingerprint = chunk.system_fingerprint
                found = True
            if self.service_tier is None and chunk.service_tier:
                self.service_tier = chunk.service_tier
                found = True
            if found:
                self.top_open = (
                    self.service_tier is None
                    or self.system_fingerprint is None
                    or self.id is None
                    or self.model is None
                    or self.created is None
                )
        if usage is not None:
            self.usage = usage
        if shape is not None:
            merge = shape.merge
            if merge is not None:
                top = self.top
                if top is None:
                    top = self.top = {}
                self.text_size += merge(top, self.choices, chunk)
            if shape.error:
                err = chunk.error
                if err:  # a null error is no error
                    raise stream_error(err)

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
            and self.service_tier is None
            and not self.top
        )

    def _check(self, choices: list[ChunkChoice]) -> None:
        states = self.choices
        # Tool-call deltas of this chunk so far, by choice index: a choice may appear twice.
        tools: dict[int, list[ToolCallDelta]] = {}
        for ch in choices:
            index = ch.index
            st = states.get(index)
            if st is None:
                if index < 0:
                    raise ChunkError(f"choice index {index} is negative")
                if index >= self.max_choices:
                    raise LimitExceededError(
                        f"choice index {index} is too large",
                        limit="max_choices",
                        value=self.max_choices,
                    )
            delta = delta_of(ch)
            if delta is None:
                continue
            if delta.tool_calls:
                self._check_tools(st, index, tools.setdefault(index, []), delta.tool_calls)
            if delta.audio is not None and delta.audio.data:
                try:
                    base64.b64decode(delta.audio.data, validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise ChunkError(f"audio data is not valid base64: {exc}") from exc

    def _check_tools(
        self,
        st: ChoiceState | None,
        index: int,
        earlier: list[ToolCallDelta],
        tcs: list[ToolCallDelta],
    ) -> None:
        limit = self.max_tool_calls
        for tc in tcs:
            if tc.extra_content:
                # Checked here, before any change, for the delta that starts a call (where
                # Gemini sends it); apply_tools checks a later one as it merges it.
                check_depth(tc.extra_content)
            at = tc.index
            if at is not None and not 0 <= at < limit:
                if at < 0:
                    raise ChunkError(f"tool call index {at} is negative")
                raise LimitExceededError(
                    f"tool call index {at} is too large",
                    limit="max_tool_calls",
                    value=limit,
                )
        earlier += tcs
        known = len(st.calls) if st is not None and st.calls else 0
        if known + len(earlier) <= limit:
            return  # each delta starts at most one call
        # Near the limit: count exactly, by merging the chunk's deltas into a copy (a delta can
        # give a call its id, and the next one with another id then starts a new call).
        trial = st.trial() if st is not None else ChoiceState(index)
        apply_tools(trial, earlier, None, None)
        if trial.calls is not None and len(trial.calls) > limit:
            raise LimitExceededError(
                f"more than {limit} tool calls in one choice",
                limit="max_tool_calls",
                value=limit,
            )

    def _apply(self, st: ChoiceState, ch: ChunkChoice, shape: Shape | None) -> int:
        """Merge one choice's delta; return the size of the text it added.

        ``shape`` is given for a chunk whose schema is wider than the declared one.
        """
        size = 0
        delta = ch.delta
        if delta is None and shape is not None:
            delta = delta_of(ch)
        if delta is not None:
            content = delta.content
            if content is not None:
                if shape is not None and shape.parts and type(content) is list:
                    size = self._apply_parts(st, content)
                else:
                    # A list only in a widened schema (``shape``): a string here.
                    text: str = content  # type: ignore[assignment]
                    size = len(text)
                    if st.content is None:
                        st.content = [text]
                    else:
                        st.content.append(text)
            if st.role is None and delta.role:
                st.role = delta.role
            if delta.tool_calls:
                size += apply_tools(st, delta.tool_calls, self._targets, shape)
            if delta.refusal is not None:
                st.refusal = append_text(st.refusal, delta.refusal)
                size += len(delta.refusal)
            if delta.reasoning is not None:
                st.reasoning = append_text(st.reasoning, delta.reasoning)
                size += len(delta.reasoning)
            if delta.reasoning_content is not None:
                st.reasoning_content = append_text(st.reasoning_content, delta.reasoning_content)
                size += len(delta.reasoning_content)
            if (
                delta.function_call is not None
                or delta.audio is not None
                or delta.reasoning_signature is not None
                or delta.redacted_reasoning is not None
            ):
                size += apply_rare(st, delta)
        if ch.finish_reason:
            st.reason = ch.finish_reason
        logprobs = ch.logprobs
        if logprobs is not None:
            size += _add_logprobs(st, logprobs)
        if shape is not None and shape.rare:
            size += self._apply_rare_fields(st, ch, delta, shape)
        return size

    def _ext(self, st: ChoiceState) -> ChoiceExt:
        ext = st.ext
        if ext is None:
            ext = st.ext = ChoiceExt()
        return ext

    def _apply_rare_fields(
        self, st: ChoiceState, ch: ChunkChoice, delta: Delta | None, shape: Shape
    ) -> int:
        """Merge the unknown keys of a delta's audio, legacy function call and logprobs, and a
        message sent beside a delta."""
        ext = self._ext(st)
        size = 0
        if delta is not None:
            if shape.audio and delta.audio is not None:
                if ext.audio is None:
                    ext.audio = {}
                size += merge_fields(ext.audio, delta.audio, shape.audio)
            if shape.function and delta.function_call is not None:
                if ext.function is None:
                    ext.function = {}
                size += merge_fields(ext.function, delta.function_call, shape.function)
        logprobs = ch.logprobs
        if logprobs is not None:
            if shape.entries_mutable:
                # Entries with unknown keys may hold mutable values: the state keeps copies.
                for entries, name in (
                    (logprobs.content, "lp_content"),
                    (logprobs.refusal, "lp_refusal"),
                ):
                    if entries:
                        kept: list[TokenLogprob] = getattr(st, name)
                        kept[len(kept) - len(entries) :] = [detach(e) for e in entries]
            if shape.logprobs:
                if ext.logprobs is None:
                    ext.logprobs = {}
                size += merge_fields(ext.logprobs, logprobs, shape.logprobs)
        if shape.message and ch.delta is not None:
            # Alone, a message was merged as the delta. Beside one, it restates the message so
            # far: kept to fill, when built, what the deltas left empty.
            message = ch.message
            if isinstance(message, Delta):
                ext.snapshot = msgspec.to_builtins(message)
        return size

    def _apply_parts(self, st: ChoiceState, parts: list[Any]) -> int:
        """Merge typed content parts (Mistral): text, thinking, and any other part kept whole."""
        size = 0
        kept: list[Any] = []
        for part in parts:
            if isinstance(part, dict):
                kind = part.get("type")
                if kind == "text" and isinstance(part.get("text"), str):
                    text = part["text"]
                    st.content = append_text(st.content, text)
                    size += len(text)
                    if part.keys() <= _TEXT_PART:
                        continue
                elif kind == "thinking" and isinstance(part.get("thinking"), list | str):
                    whole = True
                    inner = part["thinking"]
                    items = inner if isinstance(inner, list) else ({"type": "text", "text": inner},)
                    for item in items:
                        text = item.get("text") if isinstance(item, dict) else None
                        if isinstance(text, str) and item.get("type", "text") == "text":
                            st.reasoning = append_text(st.reasoning, text)
                            size += len(text)
                            whole = whole and item.keys() <= _TEXT_PART
                        else:
                            whole = False
                    if whole and part.keys() <= _THINKING_PART:
                        continue
            kept.append(part)
        if kept:
            append(self._ext(st).message, "content_parts", kept)
        return size

    def finish(self) -> None:
        """Called once when the stream ends (``TrackingMerger`` closes open tool calls)."""

    def build(self) -> ChatCompletion:
        """Build the completion merged so far; the state is left as it was."""
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if self.top is not None:
            known, extra = build_fields(self.top, _TOP_FIELDS)
        usage = _groq_usage(known.get("x_groq")) if self.usage is None else detach(self.usage)
        completion: ChatCompletion = build_output(
            ChatCompletion,
            extra,
            id=self.id,
            object="chat.completion",
            created=self.created,
            model=self.model,
            choices=[self.choices[i].build() for i in sorted(self.choices)],
            usage=usage,
            system_fingerprint=self.system_fingerprint,
            service_tier=self.service_tier,
            **known,
        )
        if self.structured is not None:
            self._attach_parsed(completion, self.structured)
        return completion

    def _attach_parsed(self, completion: ChatCompletion, structured: Structured) -> None:
        """Hang the caller's types on the built messages and calls (``parsed``...)."""
        content, tools = structured.content, structured.tools
        for choice in completion.choices:
            message = choice.message
            finish = choice.finish_reason
            if content is not None:
                value, failure = content.result(
                    message.content, finish, message.refusal, self.live(choice.index, None)
                )
                set_side(message, value, failure, "parsed")
            if not tools:
                continue
            st = self.choices[choice.index]
            for call, state in zip(message.tool_calls or (), st.ordered_calls(), strict=True):
                _parse_call(tools, call.function, finish, self.live(choice.index, state))
            if message.function_call is not None:
                _parse_call(tools, message.function_call, finish, UNSET)

    def live(self, choice: int, call: ToolCallState | None) -> Any:
        """The value a live scan converted for a choice's content or a call's arguments:
        ``UNSET`` here (``TrackingMerger`` scans)."""
        return UNSET


def _parse_call(tools: Mapping[str, Target], function: Any, finish: str | None, live: Any) -> None:
    target = tools.get(function.name) if function.name else None
    if target is not None:
        value, failure = target.result(function.arguments, finish, None, live)
        set_side(function, value, failure, "parsed_arguments")


_TEXT_PART = frozenset(("type", "text"))
_THINKING_PART = frozenset(("type", "thinking"))


def _add_logprobs(st: ChoiceState, logprobs: ChoiceLogprobs) -> int:
    """Append a choice's token entries; return how many there were."""
    st.has_logprobs = True
    size = 0
    if logprobs.content is not None:
        size = len(logprobs.content)
        if st.lp_content is None:
            st.lp_content = list(logprobs.content)
        else:
            st.lp_content.extend(logprobs.content)
    if logprobs.refusal is not None:
        size += len(logprobs.refusal)
        if st.lp_refusal is None:
            st.lp_refusal = list(logprobs.refusal)
        else:
            st.lp_refusal.extend(logprobs.refusal)
    return size


def _continues(st: ChoiceState, tcs: list[ToolCallDelta]) -> bool:
    """``st.continues(tcs)``, its commonest case (one delta: an index, no id) inline."""
    if len(tcs) == 1:
        tc = tcs[0]
        by_index = st.by_index
        if tc.index is not None and not tc.id and by_index is not None:
            return tc.index in by_index
    return st.continues(tcs)


def _groq_usage(x_groq: Any) -> Usage | None:
    """Groq's usage in its older place, ``x_groq.usage``, for streams with no top-level usage."""
    if isinstance(x_groq, dict) and isinstance(x_groq.get("usage"), dict):
        return as_usage(x_groq["usage"])
    return None


def _refuse_text_completion(choices: list[ChunkChoice], text: str) -> None:
    """Raise for a legacy ``text_completion`` chunk: a choice with ``text``, no delta, no message
    (merged as chat, it would pass as an empty completion)."""
    for ch in choices:
        value = getattr(ch, text)
        if value is not None and value is not UNSET and delta_of(ch) is None:
            raise ChunkError(
                "a text_completion chunk (its choices carry text, not a delta), not a chat "
                "completion one: merge it with chunkagg.CompletionAccumulator"
            )


def _any_text(choices: list[ChunkChoice], ext: bool) -> bool:
    # Not inline in add(): a generator there would make ``ext`` a cell variable, which cost the
    # per-chunk path 7% (callgrind).
    return any(_has_text(ch, ext) for ch in choices)


def _has_text(ch: ChunkChoice, ext: bool) -> bool:
    """Whether a choice's delta would add to the merged text (checked only past the limit)."""
    d = delta_of(ch) if ext else ch.delta
    if ch.logprobs is not None and (ch.logprobs.content or ch.logprobs.refusal):
        return True
    if d is None:
        return False
    fc = d.function_call
    return bool(
        d.content
        or d.refusal
        or d.reasoning
        or d.reasoning_content
        or d.redacted_reasoning
        or (d.audio is not None and (d.audio.data or d.audio.transcript))
        or (fc is not None and fc.arguments)
        or any(tc.function is not None and tc.function.arguments for tc in d.tool_calls or ())
        or (ext and has_value(d))
    )


def as_usage(value: Mapping[str, Any]) -> Usage | None:
    """A usage block from builtins, every key kept; ``None`` when it is not one."""
    chunk: ResponseBody2
    try:
        chunk = ChunkDecoder(ResponseBody2).decode_or_raise(msgspec.json.encode({"usage": value}))
    except (ChunkError, LimitExceededError, msgspec.EncodeError):
        return None
    return chunk.usage
