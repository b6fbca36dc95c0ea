"""Chat's merge state of one choice and of one tool call, and how a delta changes them.

Owns ``ChoiceState`` (a choice's text fields as lists of fragments, its tool calls, audio, legacy
function call, logprobs and extension state) with ``build()`` to a ``Choice``, ``ToolCallState``,
and the rules that never fail once a chunk is checked: which call a tool-call delta continues,
the fields few servers send (``apply_rare``). Must not know bytes, framing, limits or the order
of checks: ``merge`` checks a chunk whole, then applies it here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import msgspec

from .._core.limits import check_depth
from .._core.rules import build as build_fields
from .._core.rules import copy as _copy
from .._core.rules import merge as merge_fields
from .._core.schema import build_output
from .extensions import ChoiceExt, Shape, message_delta
from .models import (
    Audio,
    Choice,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCall,
    Message,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
)

__all__ = [
    "ChoiceState",
    "ToolCallState",
    "append_text",
    "apply_rare",
    "apply_tools",
    "delta_of",
    "join_text",
]


class ToolCallState:
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


class ChoiceState:
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
        self.calls: list[ToolCallState] | None = None
        self.by_index: dict[int, ToolCallState] | None = None
        self.by_id: dict[str, ToolCallState] | None = None
        self.last_call: ToolCallState | None = None
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

    def target(self, tc: ToolCallDelta) -> ToolCallState | None:
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

    def trial(self) -> ChoiceState:
        """A copy of the tool-call state alone, to try deltas on without changing this one."""
        copy = ChoiceState(self.index)
        if self.calls and self.by_index is not None and self.by_id is not None:
            twins: dict[ToolCallState, ToolCallState] = {}
            for call in self.calls:
                twin = twins[call] = ToolCallState(call.index, call.seq)
                twin.id = call.id
            copy.calls = list(twins.values())
            copy.by_index = {i: twins[c] for i, c in self.by_index.items()}
            copy.by_id = {i: twins[c] for i, c in self.by_id.items()}
            copy.last_call = None if self.last_call is None else twins[self.last_call]
        return copy

    def ordered_calls(self) -> list[ToolCallState]:
        """The tool calls in the order the message lists them: by index, then unindexed ones
        by appearance."""
        return sorted(
            self.calls or (),
            key=lambda t: (0, t.index, t.seq) if t.index is not None else (1, 0, t.seq),
        )

    def build(self) -> Choice:
        ext = self.ext
        calls = None
        if self.calls:
            calls = [t.build() for t in self.ordered_calls()]
        audio = None
        if self.has_audio:
            data = base64.b64encode(b"".join(self.audio_data)).decode() if self.audio_data else None
            audio = build_output(
                Audio,
                build_fields(ext.audio)[1] if ext is not None and ext.audio else None,
                id=self.audio_id,
                expires_at=self.audio_expires,
                data=data,
                transcript=join_text(self.audio_transcript),
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
            content=join_text(self.content),
            refusal=join_text(self.refusal),
            reasoning=join_text(self.reasoning),
            reasoning_content=join_text(self.reasoning_content),
            reasoning_signature=self.signature,
            redacted_reasoning=join_text(self.redacted),
            tool_calls=calls,
            function_call=(
                build_output(
                    FunctionCall,
                    build_fields(ext.function)[1] if ext is not None and ext.function else None,
                    name=self.fn_name,
                    arguments=join_text(self.fn_args) or "",
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


def join_text(parts: list[str] | None) -> str | None:
    return None if parts is None else "".join(parts)


def append_text(parts: list[str] | None, fragment: str) -> list[str]:
    if parts is None:
        return [fragment]
    parts.append(fragment)
    return parts


def delta_of(ch: ChunkChoice) -> Delta | None:
    """A choice's delta, or its whole ``message`` standing for one (see ``message_delta``)."""
    delta = ch.delta
    return delta if delta is not None else message_delta(ch)


def apply_tools(
    st: ChoiceState,
    tcs: list[ToolCallDelta],
    targets: list[ToolCallState] | None,
    shape: Shape | None,
) -> int:
    """Merge tool-call deltas; ``shape`` is given when they may carry unknown keys."""
    size = 0
    for tc in tcs:
        extra = tc.extra_content
        if extra:
            # Before this call changes (Merger._check checked it already when the delta starts
            # a call, Gemini's way).
            check_depth(extra)
        index = tc.index
        by_index = st.by_index
        if index is not None and not tc.id and by_index is not None:
            # The commonest delta, an index and no id: ChoiceState.target's first case inline.
            call = by_index.get(index)
        else:
            call = st.target(tc)
            if (
                call is not None
                and index is not None
                and by_index
                and by_index.get(index) is not call
            ):
                # A known call come back to a reused index: what follows at that index without
                # an id continues it.
                by_index[index] = call
        if call is None:
            if st.calls is None or st.by_index is None or st.by_id is None:
                st.calls, st.by_index, st.by_id = [], {}, {}
            call = ToolCallState(index, len(st.calls))
            st.calls.append(call)
            if index is not None:
                st.by_index[index] = call
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


def apply_rare(st: ChoiceState, delta: Delta) -> int:
    """Merge the fields few servers send, kept off the per-chunk path of plain text."""
    size = 0
    fc = delta.function_call
    if fc is not None:
        st.function_call = True
        if fc.name and st.fn_name is None:
            st.fn_name = fc.name
        if fc.arguments:
            st.fn_args = append_text(st.fn_args, fc.arguments)
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
            st.audio_transcript = append_text(st.audio_transcript, audio.transcript)
            size += len(audio.transcript)
    if delta.reasoning_signature and st.signature is None:
        st.signature = delta.reasoning_signature
    if delta.redacted_reasoning is not None:
        st.redacted = append_text(st.redacted, delta.redacted_reasoning)
        size += len(delta.redacted_reasoning)
    return size
