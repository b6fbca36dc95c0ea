"""Chunks to a completion: per-choice and per-tool-call merge state, and every merge rule.

Owns the rules of the README's "Merge policy" and "Provider extensions" sections. Must not know
bytes, framing or positions: it raises errors without an event number or offset and the
accumulator adds them.

A chunk is merged in two passes. ``_check`` looks for everything that can be wrong with it
(impossible indices, limits, bad base64) without touching the state; only then does ``_apply``
merge it, and ``_apply`` cannot fail. So a bad chunk is rejected whole and never leaves half of
itself behind. Text fragments go into lists joined once at the end, never ``str +=``.

The fields OpenAI defines are merged on the hot path below. Provider extensions and keys never
seen before are merged by ``_Extensions`` only for chunks whose schema can carry them (``_ext``,
see ``_schema``): a plain OpenAI stream never pays for them. Each such field follows a rule:
its own (``reasoning_details``, ``executed_tools``...), the caller's (``rules``), or the generic
one: inside a delta, strings concatenated, lists extended, objects merged key by key by this same
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

from ._errors import ChunkError, LimitExceededError, StreamError
from ._extensions import ChoiceExt, Planner, Rule, Shape, append, has_value, message_delta
from ._extensions import build as build_fields
from ._extensions import copy as _copy
from ._extensions import merge as merge_fields
from ._models import (
    Audio,
    ChatCompletion,
    Choice,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCall,
    Message,
    ResponseBody2,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from ._schema import as_usage, build_output

__all__ = [
    "CORE_FIELDS",
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_TEXT_SIZE",
    "DEFAULT_MAX_TOOL_CALLS",
    "Merger",
]

# The strictest peer (openai-node's ChatCompletionStream) gives up past 128 of each; the API
# itself caps n at 128. Indices are bounded by the same numbers, so a broken index never builds a
# long list.
DEFAULT_MAX_CHOICES = 128
DEFAULT_MAX_TOOL_CALLS = 128
# Characters of merged text (content, refusal, reasoning, tool arguments, extension strings...)
# plus audio bytes plus logprob entries. The longest real answers (128k output tokens, about
# 0.5 MB of text, plus reasoning) are far below.
DEFAULT_MAX_TEXT_SIZE = 64 * 1024 * 1024

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


def _detach(obj: Any) -> Any:
    """``obj`` if sharing it is safe, else a copy: a Struct may hold mutable JSON values."""
    if obj._mutable or (
        isinstance(obj, Usage)
        and (obj.cost_details is not None or obj.server_tool_use_details is not None)
    ):
        return msgspec.convert(msgspec.to_builtins(obj), type(obj))
    return obj


class _Tool:
    """Merge state of one tool call."""

    __slots__ = (
        "args",
        "extra",
        "fields",
        "fn_fields",
        "id",
        "index",
        "name",
        "seq",
        "signature",
        "type",
    )

    def __init__(self, index: int | None, seq: int) -> None:
        self.index = index
        self.seq = seq
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.args: list[str] = []
        self.signature: str | None = None
        self.extra: dict[str, Any] | None = None  # extra_content (Gemini via Orq)
        # Unknown keys of the call and of its function: last non-null, unless a rule says.
        self.fields: dict[str, Any] | None = None
        self.fn_fields: dict[str, Any] | None = None

    def build(self) -> ToolCall:
        function = build_output(
            FunctionCall,
            build_fields(self.fn_fields)[1] if self.fn_fields else None,
            name=self.name,
            arguments="".join(self.args),
        )
        return build_output(
            ToolCall,
            build_fields(self.fields)[1] if self.fields else None,
            id=self.id,
            type=self.type,
            function=function,
            thought_signature=self.signature,
            extra_content=_copy(self.extra),
        )


class _Choice:
    """Merge state of one choice. Text fields are ``None`` until a non-null fragment arrives."""

    __slots__ = (
        "audio_data",
        "audio_expires",
        "audio_id",
        "audio_transcript",
        "by_id",
        "by_index",
        "calls",
        "content",
        "ext",
        "fn_args",
        "fn_name",
        "function_call",
        "has_audio",
        "has_logprobs",
        "index",
        "last_call",
        "lp_content",
        "lp_refusal",
        "reason",
        "reasoning",
        "reasoning_content",
        "redacted",
        "refusal",
        "role",
        "signature",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.role: str | None = None
        self.content: list[str] | None = None
        self.refusal: list[str] | None = None
        self.reasoning: list[str] | None = None
        self.reasoning_content: list[str] | None = None
        self.redacted: list[str] | None = None
        self.signature: str | None = None
        self.reason: str | None = None
        # Containers few choices need stay None until used: a gateway holds thousands of these.
        self.calls: list[_Tool] | None = None
        self.by_index: dict[int, _Tool] | None = None
        self.by_id: dict[str, _Tool] | None = None
        self.last_call: _Tool | None = None
        self.function_call = False
        self.fn_name: str | None = None
        self.fn_args: list[str] | None = None
        self.has_audio = False
        self.audio_id: str | None = None
        self.audio_expires: int | None = None
        self.audio_data: list[bytes] | None = None
        self.audio_transcript: list[str] | None = None
        self.has_logprobs = False
        self.lp_content: list[TokenLogprob] | None = None
        self.lp_refusal: list[TokenLogprob] | None = None
        self.ext: ChoiceExt | None = None

    def target(self, tc: ToolCallDelta) -> _Tool | None:
        """The call a tool-call delta continues, or ``None`` when it starts a new one.

        With an index: the call at that index, unless the delta names a different ``id`` (Ollama
        and Groq send index 0 for every call). Without one (Gemini): the call with that ``id``,
        else the latest call.
        """
        by_index = self.by_index
        if by_index is None or self.by_id is None:
            return None
        tid = tc.id
        if tc.index is not None:
            call = by_index.get(tc.index)
            if call is not None and tid and call.id and tid != call.id:
                # Another id at this index: a call of its own, the one with that id if known
                # (index 0 reused as "a", "b", then "a" again continues "a").
                return self.by_id.get(tid)
            return call
        if tid:
            return self.by_id.get(tid)
        return self.last_call

    def continues(self, tcs: list[ToolCallDelta]) -> bool:
        """Whether every delta continues a known call by index and names no other id.

        Then none can start a call or change which call an id names: nothing to check.
        """
        by_index = self.by_index
        if by_index is None:
            return False
        for tc in tcs:
            index = tc.index
            if index is None:
                return False
            call = by_index.get(index)
            if call is None or (tc.id and tc.id != call.id):
                return False
        return True

    def trial(self) -> _Choice:
        """A copy of the tool-call state alone, to try deltas on without changing this one."""
        copy = _Choice(self.index)
        if self.calls and self.by_index is not None and self.by_id is not None:
            twins: dict[_Tool, _Tool] = {}
            for call in self.calls:
                twin = twins[call] = _Tool(call.index, call.seq)
                twin.id = call.id
            copy.calls = list(twins.values())
            copy.by_index = {i: twins[c] for i, c in self.by_index.items()}
            copy.by_id = {i: twins[c] for i, c in self.by_id.items()}
            copy.last_call = None if self.last_call is None else twins[self.last_call]
        return copy

    def build(self) -> Choice:
        ext = self.ext
        calls = None
        if self.calls:
            ordered = sorted(
                self.calls,
                key=lambda t: (0, t.index, t.seq) if t.index is not None else (1, 0, t.seq),
            )
            calls = [t.build() for t in ordered]
        audio = None
        if self.has_audio:
            data = base64.b64encode(b"".join(self.audio_data)).decode() if self.audio_data else None
            audio = build_output(
                Audio,
                build_fields(ext.audio)[1] if ext is not None and ext.audio else None,
                id=self.audio_id,
                expires_at=self.audio_expires,
                data=data,
                transcript=_join(self.audio_transcript),
            )
        message_fields: dict[str, Any] = {}
        message_extra: dict[str, Any] = {}
        choice_fields: dict[str, Any] = {}
        choice_extra = None
        if ext is not None:
            message_fields, message_extra = build_fields(ext.message, _MESSAGE_FIELDS)
            choice_fields, choice_extra = build_fields(ext.choice, _CHOICE_FIELDS)
        fields = dict(
            role=self.role or "assistant",
            content=_join(self.content),
            refusal=_join(self.refusal),
            reasoning=_join(self.reasoning),
            reasoning_content=_join(self.reasoning_content),
            reasoning_signature=self.signature,
            redacted_reasoning=_join(self.redacted),
            tool_calls=calls,
            function_call=(
                build_output(
                    FunctionCall,
                    build_fields(ext.function)[1] if ext is not None and ext.function else None,
                    name=self.fn_name,
                    arguments=_join(self.fn_args) or "",
                )
                if self.function_call
                else None
            ),
            audio=audio,
            **message_fields,
        )
        if ext is not None and ext.snapshot:
            _fill_gaps(fields, message_extra, ext.snapshot)
        message = build_output(Message, message_extra, **fields)
        logprobs = None
        if self.has_logprobs:
            logprobs = build_output(
                ChoiceLogprobs,
                build_fields(ext.logprobs)[1] if ext is not None and ext.logprobs else None,
                content=None if self.lp_content is None else list(self.lp_content),
                refusal=None if self.lp_refusal is None else list(self.lp_refusal),
            )
        return build_output(
            Choice,
            choice_extra,
            index=self.index,
            message=message,
            finish_reason=self.reason,
            logprobs=logprobs,
            **choice_fields,
        )


def _fill_gaps(fields: dict[str, Any], extra: dict[str, Any], snapshot: dict[str, Any]) -> None:
    """Fill what the deltas left empty from a whole message the stream also sent."""
    for key, value in snapshot.items():
        if value is None:
            continue
        if key in Message.__struct_fields__:
            if fields.get(key) is None:
                try:
                    fields[key] = msgspec.convert(value, _MESSAGE_TYPES[key])
                except msgspec.ValidationError:
                    fields[key] = value  # kept as sent, whatever its type
        elif key not in extra:
            extra[key] = value


_MESSAGE_FIELDS = frozenset(
    ("reasoning_details", "annotations", "images", "executed_tools", "channel", "content_parts")
)
_MESSAGE_TYPES = {f.name: f.type for f in msgspec.structs.fields(Message)}
_CHOICE_FIELDS = frozenset(("native_finish_reason", "content_filter_results"))
_TOP_FIELDS = frozenset(
    ("provider", "citations", "search_results", "x_groq", "moderation", "prompt_filter_results")
)


def _join(parts: list[str] | None) -> str | None:
    return None if parts is None else "".join(parts)


def _append(parts: list[str] | None, fragment: str) -> list[str]:
    if parts is None:
        return [fragment]
    parts.append(fragment)
    return parts


# -- extension state -----------------------------------------------------------------------------


# -- the merge -----------------------------------------------------------------------------------


class Merger:
    """All merge state of one stream: top-level fields, usage and one ``_Choice`` per index."""

    __slots__ = (
        "_targets",
        "choices",
        "created",
        "id",
        "max_choices",
        "max_text_size",
        "max_tool_calls",
        "model",
        "planner",
        "service_tier",
        "shapes",
        "system_fingerprint",
        "text_size",
        "top",
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
        self.planner = Planner(rules)
        # The planner's shapes, by chunk class; made when a stream first widens.
        self.shapes: dict[type, Shape] | None = None
        self.text_size = 0
        # When a list, _apply_tools records the call each tool-call delta went to (for events).
        self._targets: list[_Tool] | None = None
        self.choices: dict[int, _Choice] = {}
        self.id: str | None = None
        self.created: int | float | None = None
        self.model: str | None = None
        self.system_fingerprint: str | None = None
        self.service_tier: str | None = None
        self.usage: Usage | None = None
        self.top: dict[str, Any] | None = None  # chunk-level extensions and unknown keys

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
            shape = shapes[root] = self.planner.shape(root)
        return shape

    def add(self, chunk: ResponseBody2, shape: Shape | None) -> None:
        """Merge one chunk, or raise without changing anything.

        ``shape`` is ``self.shape(type(chunk))``: the hot path passes what it knows of the
        stream's schema instead of looking it up per chunk.

        Raises:
            ChunkError: an impossible index or undecodable audio data.
            LimitExceededError: more choices or tool calls than allowed, or more text once
                ``max_text_size`` is used up (the chunk that crosses it is still merged, so the
                merged text exceeds the limit by at most one chunk).
            StreamError: the chunk carries a server error (its choices are merged first).
        """
        choices = chunk.choices
        if shape is not None and shape.text is not None:
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
                    delta = _delta(ch)
                if st is None or (
                    delta is not None
                    and (
                        delta.audio is not None
                        or (delta.tool_calls and not st.continues(delta.tool_calls))
                    )
                ):
                    self._check(choices)
                    if st is None:
                        st = states[ch.index] = _Choice(ch.index)
                self.text_size += self._apply(st, ch, shape)
            else:
                self._check(choices)
                for ch in choices:
                    st = states.get(ch.index)
                    if st is None:
                        st = states[ch.index] = _Choice(ch.index)
                    self.text_size += self._apply(st, ch, shape)
        # Azure's filter chunks carry "" and 0 here: only a non-empty value counts as carried.
        if self.id is None and chunk.id:
            self.id = chunk.id
        if self.created is None and chunk.created:
            self.created = chunk.created
        if self.model is None and chunk.model:
            self.model = chunk.model
        if self.system_fingerprint is None and chunk.system_fingerprint:
            self.system_fingerprint = chunk.system_fingerprint
        if self.service_tier is None and chunk.service_tier:
            self.service_tier = chunk.service_tier
        usage = chunk.usage
        if usage is not None:
            self.usage = _detach(usage)
        if shape is not None:
            merge = shape.merge
            if merge is not None:
                top = self.top
                if top is None:
                    top = self.top = {}
                self.text_size += merge(top, self.choices, chunk)
            if shape.error:
                self._raise_error(chunk)

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

    def _raise_error(self, chunk: ResponseBody2) -> None:
        """Raise for a chunk's in-band error (a null one is no error)."""
        err = chunk.error
        if err:
            try:
                payload: Any = msgspec.to_builtins(err)
            except RecursionError:  # metadata nested too deep to copy: hand over the Struct
                payload = err
            raise StreamError(
                err.message or "(no message)", code=err.code, type=err.type, payload=payload
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
            delta = _delta(ch)
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
        st: _Choice | None,
        index: int,
        earlier: list[ToolCallDelta],
        tcs: list[ToolCallDelta],
    ) -> None:
        limit = self.max_tool_calls
        for tc in tcs:
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
        trial = st.trial() if st is not None else _Choice(index)
        _apply_tools(trial, earlier, None, None)
        if trial.calls is not None and len(trial.calls) > limit:
            raise LimitExceededError(
                f"more than {limit} tool calls in one choice",
                limit="max_tool_calls",
                value=limit,
            )

    def _apply(self, st: _Choice, ch: ChunkChoice, shape: Shape | None) -> int:
        """Merge one choice's delta; return the size of the text it added.

        ``shape`` is given for a chunk whose schema is wider than the declared one.
        """
        size = 0
        delta = ch.delta
        if delta is None and shape is not None:
            delta = _delta(ch)
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
                size += _apply_tools(st, delta.tool_calls, self._targets, shape)
            if delta.refusal is not None:
                st.refusal = _append(st.refusal, delta.refusal)
                size += len(delta.refusal)
            if delta.reasoning is not None:
                st.reasoning = _append(st.reasoning, delta.reasoning)
                size += len(delta.reasoning)
            if delta.reasoning_content is not None:
                st.reasoning_content = _append(st.reasoning_content, delta.reasoning_content)
                size += len(delta.reasoning_content)
            if (
                delta.function_call is not None
                or delta.audio is not None
                or delta.reasoning_signature is not None
                or delta.redacted_reasoning is not None
            ):
                size += _apply_rare(st, delta)
        if ch.finish_reason:
            st.reason = ch.finish_reason
        logprobs = ch.logprobs
        if logprobs is not None:
            st.has_logprobs = True
            if logprobs.content is not None:
                size += len(logprobs.content)
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
        if shape is not None and shape.rare:
            size += self._apply_rare_fields(st, ch, delta, shape)
        return size

    def _ext(self, st: _Choice) -> ChoiceExt:
        ext = st.ext
        if ext is None:
            ext = st.ext = ChoiceExt()
        return ext

    def _apply_rare_fields(
        self, st: _Choice, ch: ChunkChoice, delta: Delta | None, shape: Shape
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
                        kept[len(kept) - len(entries) :] = [_detach(e) for e in entries]
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

    def _apply_parts(self, st: _Choice, parts: list[Any]) -> int:
        """Merge typed content parts (Mistral): text, thinking, and any other part kept whole."""
        size = 0
        kept: list[Any] = []
        for part in parts:
            if isinstance(part, dict):
                kind = part.get("type")
                if kind == "text" and isinstance(part.get("text"), str):
                    text = part["text"]
                    st.content = _append(st.content, text)
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
                            st.reasoning = _append(st.reasoning, text)
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
        usage = _groq_usage(known.get("x_groq")) if self.usage is None else _detach(self.usage)
        return build_output(
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


_TEXT_PART = frozenset(("type", "text"))
_THINKING_PART = frozenset(("type", "thinking"))


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
        if value is not None and value is not UNSET and _delta(ch) is None:
            raise ChunkError(
                "a text_completion chunk (its choices carry text, not a delta), not a chat "
                "completion one: merge it with chunkagg.CompletionAccumulator"
            )


def _delta(ch: ChunkChoice) -> Delta | None:
    """A choice's delta, or its whole ``message`` standing for one (see ``message_delta``)."""
    delta = ch.delta
    return delta if delta is not None else message_delta(ch)


def _apply_tools(
    st: _Choice,
    tcs: list[ToolCallDelta],
    targets: list[_Tool] | None,
    shape: Shape | None,
) -> int:
    """Merge tool-call deltas; ``shape`` is given when they may carry unknown keys."""
    size = 0
    for tc in tcs:
        call = st.target(tc)
        if call is None:
            if st.calls is None or st.by_index is None or st.by_id is None:
                st.calls, st.by_index, st.by_id = [], {}, {}
            call = _Tool(tc.index, len(st.calls))
            st.calls.append(call)
            if tc.index is not None:
                st.by_index[tc.index] = call
        elif tc.index is not None and st.by_index and st.by_index.get(tc.index) is not call:
            # A known call come back to a reused index: what follows at that index without an
            # id continues it.
            st.by_index[tc.index] = call
        st.last_call = call
        if targets is not None:
            targets.append(call)
        if tc.id and call.id is None:
            call.id = tc.id
            if st.by_id is not None:
                st.by_id[tc.id] = call
        if tc.type and call.type is None:
            call.type = tc.type
        fn = tc.function
        if fn is not None:
            if fn.name and call.name is None:
                call.name = fn.name
            if fn.arguments:
                call.args.append(fn.arguments)
                size += len(fn.arguments)
        if tc.thought_signature and call.signature is None:
            call.signature = tc.thought_signature
        extra = tc.extra_content
        if extra:
            if call.extra is None:
                call.extra = {}
            _first_non_empty(call.extra, extra)
        if shape is not None:
            if shape.tool:
                if call.fields is None:
                    call.fields = {}
                size += merge_fields(call.fields, tc, shape.tool)
            if fn is not None and shape.function:
                if call.fn_fields is None:
                    call.fn_fields = {}
                size += merge_fields(call.fn_fields, fn, shape.function)
    return size


def _first_non_empty(target: dict[str, Any], value: Mapping[str, Any]) -> None:
    """Merge ``value`` into ``target`` key by key, keeping each key's first non-empty value."""
    for key, item in value.items():
        current = target.get(key)
        if isinstance(item, dict) and isinstance(current, dict):
            _first_non_empty(current, item)
        elif current in (None, "", [], {}) and item not in (None, "", [], {}):
            target[key] = _copy(item)


def _apply_rare(st: _Choice, delta: Delta) -> int:
    """Merge the fields few servers send, kept off the per-chunk path of plain text."""
    size = 0
    fc = delta.function_call
    if fc is not None:
        st.function_call = True
        if fc.name and st.fn_name is None:
            st.fn_name = fc.name
        if fc.arguments:
            st.fn_args = _append(st.fn_args, fc.arguments)
            size += len(fc.arguments)
    audio = delta.audio
    if audio is not None:
        st.has_audio = True
        if audio.id:
            st.audio_id = audio.id
        if audio.expires_at:
            st.audio_expires = audio.expires_at
        if audio.data:
            data = base64.b64decode(audio.data)
            if st.audio_data is None:
                st.audio_data = [data]
            else:
                st.audio_data.append(data)
            size += len(data)
        if audio.transcript is not None:
            st.audio_transcript = _append(st.audio_transcript, audio.transcript)
            size += len(audio.transcript)
    if delta.reasoning_signature and st.signature is None:
        st.signature = delta.reasoning_signature
    if delta.redacted_reasoning is not None:
        st.redacted = _append(st.redacted, delta.redacted_reasoning)
        size += len(delta.redacted_reasoning)
    return size


def _any_text(choices: list[ChunkChoice], ext: bool) -> bool:
    # Not inline in add(): a generator there would make ``ext`` a cell variable, which cost the
    # per-chunk path 7% (callgrind).
    return any(_has_text(ch, ext) for ch in choices)


def _has_text(ch: ChunkChoice, ext: bool) -> bool:
    """Whether a choice's delta would add to the merged text (checked only past the limit)."""
    d = _delta(ch) if ext else ch.delta
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
