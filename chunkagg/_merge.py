"""Chunks to a completion: per-choice and per-tool-call merge state, and every merge rule.

Owns the rules of ``../shared/quirks.md`` ("Merging") and ``../shared/spec/wire-format.md``.
Must not know bytes, framing or positions: it raises errors without an event number or offset
and the accumulator adds them.

A chunk is merged in two passes. ``_check`` looks for everything that can be wrong with it
(impossible indices, limits, bad base64) without touching the state; only then does ``_apply``
merge it, and ``_apply`` cannot fail. So a bad chunk is rejected whole and never leaves half of
itself behind. Text fragments go into lists joined once at the end, never ``str +=``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec

from ._errors import ChunkError, LimitExceededError, StreamError
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

__all__ = ["DEFAULT_MAX_CHOICES", "DEFAULT_MAX_TEXT_SIZE", "DEFAULT_MAX_TOOL_CALLS", "Merger"]

# The strictest peer (openai-node's ChatCompletionStream) gives up past 128 of each; the API
# itself caps n at 128. Indices are bounded by the same numbers, so a broken index never builds a
# long list.
DEFAULT_MAX_CHOICES = 128
DEFAULT_MAX_TOOL_CALLS = 128
# Characters of merged text (content, refusal, reasoning, tool arguments...) plus audio bytes. The
# longest real answers (128k output tokens, about 0.5 MB of text, plus reasoning) are far below.
DEFAULT_MAX_TEXT_SIZE = 64 * 1024 * 1024


class _Tool:
    """Merge state of one tool call."""

    __slots__ = ("args", "extra", "id", "index", "name", "seq", "signature", "type")

    def __init__(self, index: int | None, seq: int) -> None:
        self.index = index
        self.seq = seq
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.args: list[str] = []
        self.signature: str | None = None
        self.extra: dict[str, Any] | None = None

    def build(self) -> ToolCall:
        return ToolCall(
            id=self.id,
            type=self.type,
            function=FunctionCall(name=self.name, arguments="".join(self.args)),
            thought_signature=self.signature,
            extra_content=self.extra,
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
                return None
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
            audio = Audio(
                id=self.audio_id,
                expires_at=self.audio_expires,
                data=data,
                transcript=_join(self.audio_transcript),
            )
        message = Message(
            role=self.role or "assistant",
            content=_join(self.content),
            refusal=_join(self.refusal),
            reasoning=_join(self.reasoning),
            reasoning_content=_join(self.reasoning_content),
            reasoning_signature=self.signature,
            redacted_reasoning=_join(self.redacted),
            tool_calls=calls,
            function_call=(
                FunctionCall(name=self.fn_name, arguments=_join(self.fn_args) or "")
                if self.function_call
                else None
            ),
            audio=audio,
        )
        logprobs = None
        if self.has_logprobs:
            logprobs = ChoiceLogprobs(
                content=None if self.lp_content is None else list(self.lp_content),
                refusal=None if self.lp_refusal is None else list(self.lp_refusal),
            )
        return Choice(
            index=self.index,
            message=message,
            finish_reason=self.reason,
            logprobs=logprobs,
        )


def _join(parts: list[str] | None) -> str | None:
    return None if parts is None else "".join(parts)


def _append(parts: list[str] | None, fragment: str) -> list[str]:
    if parts is None:
        return [fragment]
    parts.append(fragment)
    return parts


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
        "service_tier",
        "system_fingerprint",
        "text_size",
        "usage",
    )

    def __init__(
        self,
        max_choices: int = DEFAULT_MAX_CHOICES,
        max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
    ) -> None:
        self.max_choices = max_choices
        self.max_tool_calls = max_tool_calls
        self.max_text_size = max_text_size
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

    def add(self, chunk: ResponseBody2) -> None:
        """Merge one chunk, or raise without changing anything.

        Raises:
            ChunkError: an impossible index or undecodable audio data.
            LimitExceededError: more choices or tool calls than allowed, or more text once
                ``max_text_size`` is used up (the chunk that crosses it is still merged, so the
                merged text exceeds the limit by at most one chunk).
            StreamError: the chunk carries a server error (its choices are merged first).
        """
        choices = chunk.choices
        if self.text_size > self.max_text_size and any(map(_has_text, choices)):
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
                self.text_size += self._apply(st, ch)
            else:
                self._check(choices)
                for ch in choices:
                    st = states.get(ch.index)
                    if st is None:
                        st = states[ch.index] = _Choice(ch.index)
                    self.text_size += self._apply(st, ch)
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
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.error is not None:
            err = chunk.error
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
            delta = ch.delta
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
        _apply_tools(trial, earlier, None)
        if trial.calls is not None and len(trial.calls) > limit:
            raise LimitExceededError(
                f"more than {limit} tool calls in one choice",
                limit="max_tool_calls",
                value=limit,
            )

    def _apply(self, st: _Choice, ch: ChunkChoice) -> int:
        """Merge one choice's delta; return the size of the text it added."""
        size = 0
        delta = ch.delta
        if delta is not None:
            content = delta.content
            if content is not None:
                size = len(content)
                if st.content is None:
                    st.content = [content]
                else:
                    st.content.append(content)
            if st.role is None and delta.role:
                st.role = delta.role
            if delta.tool_calls:
                size += _apply_tools(st, delta.tool_calls, self._targets)
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
                if st.lp_content is None:
                    st.lp_content = list(logprobs.content)
                else:
                    st.lp_content.extend(logprobs.content)
            if logprobs.refusal is not None:
                if st.lp_refusal is None:
                    st.lp_refusal = list(logprobs.refusal)
                else:
                    st.lp_refusal.extend(logprobs.refusal)
        return size

    def finish(self) -> None:
        """Called once when the stream ends (``TrackingMerger`` closes open tool calls)."""

    def build(self) -> ChatCompletion:
        """Build the completion merged so far; the state is left as it was."""
        return ChatCompletion(
            id=self.id,
            object="chat.completion",
            created=self.created,
            model=self.model,
            choices=[self.choices[i].build() for i in sorted(self.choices)],
            usage=self.usage,
            system_fingerprint=self.system_fingerprint,
            service_tier=self.service_tier,
        )


def _apply_tools(st: _Choice, tcs: list[ToolCallDelta], targets: list[_Tool] | None) -> int:
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
        if call.extra is None and extra is not None and extra.google is not None:
            signature = extra.google.thought_signature
            if signature:
                call.extra = {"google": {"thought_signature": signature}}
    return size


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


def _has_text(ch: ChunkChoice) -> bool:
    """Whether a choice's delta would add to the merged text (checked only past the limit)."""
    d = ch.delta
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
    )
