"""msgspec Structs for the wire chunk and the merged completion, and their shared decoders.

Declarations only: no merge logic, no framing. Names follow the seed (``ResponseBody2``) and the
OpenAI chat-completions format; ``../shared/spec/wire-format.md`` is the source of truth.

Wire Structs default every field, so a server that omits a key never fails decoding; unknown keys
are skipped by msgspec. JSON numbers that may be integers or floats are typed ``int | float`` so a
``created`` of ``1727346176`` stays an ``int``. Output Structs use ``omit_defaults`` so optional
extensions (``reasoning``, ``audio``...) vanish when absent, while the fields OpenAI always sends
(``content``, ``refusal``, ``finish_reason``, ``logprobs``, ``usage``) are required and so are
encoded even when ``null``.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "Audio",
    "AudioDelta",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Choice",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionTokensDetails",
    "Delta",
    "ErrorObject",
    "FunctionCall",
    "FunctionCallDelta",
    "Message",
    "PromptTokensDetails",
    "ResponseBody2",
    "TokenLogprob",
    "ToolCall",
    "ToolCallDelta",
    "TopLogprob",
    "Usage",
    "chunk_decoder",
]

Number = int | float


class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base of every Struct: keyword-only, defaults left out when encoding.

    Only ``None`` (absent) and empty containers are defaults, so no value a server sent (``""``,
    ``0``) is ever left out. ``gc=False``: values decoded from JSON cannot form reference cycles,
    and untracked Structs made logprob-heavy streams 1.46x instead of 1.69x the floor.
    """


class TopLogprob(_Wire):
    """One alternative token in ``top_logprobs``."""

    token: str
    logprob: Number
    bytes: list[int] | None = None


class TokenLogprob(_Wire):
    """Log probability of one sampled token, with its alternatives."""

    token: str
    logprob: Number
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] | None = None


class ChoiceLogprobs(_Wire):
    """Per-choice logprobs: token lists for the content and for the refusal."""

    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class PromptTokensDetails(_Wire):
    """Breakdown of the prompt tokens."""

    cached_tokens: Number | None = None
    cache_creation_tokens: Number | None = None
    audio_tokens: Number | None = None


class CompletionTokensDetails(_Wire):
    """Breakdown of the completion tokens."""

    reasoning_tokens: Number | None = None
    accepted_prediction_tokens: Number | None = None
    rejected_prediction_tokens: Number | None = None
    audio_tokens: Number | None = None


class Usage(_Wire):
    """Token counts, passed on exactly as the server sent them."""

    prompt_tokens: Number | None = None
    completion_tokens: Number | None = None
    total_tokens: Number | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ErrorObject(_Wire):
    """An in-band error (OpenRouter, vLLM, SGLang): a chunk's top-level ``error``."""

    message: str | None = None
    code: int | str | None = None
    type: str | None = None
    param: str | None = None
    metadata: dict[str, Any] | None = None


class FunctionCallDelta(_Wire):
    """``function`` of a tool-call delta, or the legacy ``function_call`` delta."""

    name: str | None = None
    arguments: str | None = None


class _GoogleExtra(_Wire):
    thought_signature: str | None = None


class _ExtraContent(_Wire):
    google: _GoogleExtra | None = None


class ToolCallDelta(_Wire):
    """One fragment of a tool call."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None
    thought_signature: str | None = None
    extra_content: _ExtraContent | None = None


class AudioDelta(_Wire):
    """A fragment of an audio answer: ``data`` is base64 of this fragment's bytes."""

    id: str | None = None
    expires_at: int | None = None
    data: str | None = None
    transcript: str | None = None


class Delta(_Wire):
    """What one chunk adds to one choice's message."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    reasoning_signature: str | None = None
    redacted_reasoning: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionCallDelta | None = None
    audio: AudioDelta | None = None


class ChunkChoice(_Wire, omit_defaults=False):
    """One choice's delta in a chunk (the seed's ``RouterChatCompletionsResponseBodyChoices``).

    Encoded in full, like the wire: a chunk re-encoded to forward it keeps ``index: 0``.
    """

    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ResponseBody2(_Wire, omit_defaults=False):
    """A ``chat.completion.chunk``: one streamed event (the seed's name for it).

    Encoded in full, like the wire: a chunk re-encoded to forward it keeps ``choices: []``.
    """

    id: str | None = None
    choices: list[ChunkChoice] = msgspec.field(default_factory=list)
    created: Number | None = None
    model: str | None = None
    object: str | None = None
    system_fingerprint: str | None = None
    usage: Usage | None = None
    service_tier: str | None = None
    error: ErrorObject | None = None


ChatCompletionChunk = ResponseBody2


class FunctionCall(_Wire, kw_only=True):
    """A merged function call: its name and its whole arguments text."""

    name: str | None = None
    arguments: str


class ToolCall(_Wire, kw_only=True):
    """A merged tool call. ``arguments`` is kept verbatim, even when it is not valid JSON."""

    id: str | None = None
    type: str | None = None
    function: FunctionCall
    thought_signature: str | None = None
    extra_content: dict[str, Any] | None = None


class Audio(_Wire):
    """A merged audio answer: ``data`` is base64 of all fragments' bytes joined."""

    id: str | None = None
    expires_at: int | None = None
    data: str | None = None
    transcript: str | None = None


class Message(_Wire, kw_only=True):
    """The merged assistant message of one choice."""

    role: str
    content: str | None
    refusal: str | None
    reasoning: str | None = None
    reasoning_content: str | None = None
    reasoning_signature: str | None = None
    redacted_reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    audio: Audio | None = None


class Choice(_Wire, kw_only=True):
    """One merged choice."""

    index: int
    message: Message
    finish_reason: str | None
    logprobs: ChoiceLogprobs | None


class ChatCompletion(_Wire, kw_only=True):
    """The merged ``chat.completion``: what a non-streamed request would have returned."""

    id: str | None
    object: str
    created: Number | None
    model: str | None
    choices: list[Choice]
    usage: Usage | None
    system_fingerprint: str | None = None
    service_tier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the completion as plain builtins (``dict``, ``list``, ``str``...)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def to_json(self) -> bytes:
        """Return the completion encoded as compact JSON bytes."""
        return msgspec.json.encode(self)


chunk_decoder = msgspec.json.Decoder(ResponseBody2)
