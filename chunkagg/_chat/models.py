"""msgspec Structs of chat completions: the wire chunk and the merged completion.

Declarations only: no merge logic, no framing, no decoders (the core's ``schema`` builds those,
from the class facts declared here: ``_strict``, ``_extensions``, ``_unmerged``, ``_wider``).
Names follow the seed (``ResponseBody2``) and the OpenAI chat-completions format; the docs' "Merge
policy" and "Provider extensions" pages give the rule of every field.

The wire Structs declare the fields OpenAI defines, typed strictly (a wrong type there is a bad
chunk), and forbid any other key: an OpenAI stream decodes into exactly these classes. The
providers' extensions (``reasoning_details``, ``citations``, ``provider``...) are read here as
properties, typed, ``None``/``UNSET`` when absent; a stream that carries one, or a key nobody
declared, decodes into subclasses that the core's ``schema`` derives to declare them, so nothing a
server sent is lost (``extra`` gives the undeclared ones by JSON key). Usage keys are all declared.

Wire Structs are frozen, and the lists a merged completion shares with them (a token's ``bytes``
and ``top_logprobs``) are tuples: nothing a caller holds can change a merge under way.

Defaults: ``None`` for what OpenAI defines (so ``delta.content is None`` reads as usual);
``UNSET`` for the chunk's ``error`` and the extensions of a chunk and of a choice, which encode
in full, so that re-encoding a chunk never adds a key the server did not send. JSON numbers that
may be integers or floats are typed ``int | float``, so a ``created`` of ``1727346176`` stays an
``int``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from .._core.models import (
    CompletionTokensDetails,
    ErrorObject,
    Number,
    PromptTokensDetails,
    Usage,
    _Output,
    _Wire,
)
from .._core.parsed import side_value

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
    "ReasoningDetail",
    "ResponseBody2",
    "TokenLogprob",
    "ToolCall",
    "ToolCallDelta",
    "TopLogprob",
    "Usage",
]


class TopLogprob(_Wire, frozen=True):
    """One alternative token in ``top_logprobs``."""

    token: str
    logprob: Number
    bytes: tuple[int, ...] | None = None


class TokenLogprob(_Wire, frozen=True):
    """Log probability of one sampled token, with its alternatives."""

    token: str
    logprob: Number
    bytes: tuple[int, ...] | None = None
    top_logprobs: tuple[TopLogprob, ...] | None = None


class ChoiceLogprobs(_Wire, frozen=True, omit_defaults=False):
    """Per-choice logprobs: token lists for the content and for the refusal.

    Both keys are always encoded, as OpenAI sends them: ``{"content": null, "refusal": null}``
    stays that.
    """

    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class FunctionCallDelta(_Wire, frozen=True):
    """``function`` of a tool-call delta, or the legacy ``function_call`` delta."""

    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(_Wire, frozen=True):
    """One fragment of a tool call (``thought_signature``, ``extra_content``: Gemini via Orq)."""

    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionCallDelta | None = None
    thought_signature: str | None = None
    extra_content: dict[str, Any] | None = None


class AudioDelta(_Wire, frozen=True):
    """A fragment of an audio answer: ``data`` is base64 of this fragment's bytes."""

    id: str | None = None
    expires_at: int | None = None
    data: str | None = None
    transcript: str | None = None


class ReasoningDetail(_Wire, frozen=True):
    """One item of ``reasoning_details`` (OpenRouter, Snowflake): structured reasoning.

    ``type`` is ``reasoning.text`` (``text``), ``reasoning.summary`` (``summary``) or
    ``reasoning.encrypted`` (``data``, to send back on the next turn). In a delta, items with the
    same ``index`` are fragments of one detail; in a merged message each item is whole.
    """

    type: str | None = None
    text: str | None = None
    summary: str | None = None
    data: str | None = None
    signature: str | None = None
    id: str | None = None
    format: str | None = None
    index: int | None = None

    _strict = frozenset()


class Delta(_Wire, frozen=True):
    """What one chunk adds to one choice's message.

    ``content`` is a string, or (Mistral reasoning models) a list of typed parts such as
    ``{"type": "text", "text": ...}`` and ``{"type": "thinking", "thinking": [...]}``. The
    providers' extensions are read as properties (``None`` when the stream carries none).
    """

    role: str | None = None
    if TYPE_CHECKING:
        content: str | list[Any] | None = None
    else:
        # Declared narrow, so that the merge's hot path never checks for parts: a stream that
        # sends a list of parts widens its schema (``_wider``), as one with an extension does.
        content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    reasoning_signature: str | None = None
    redacted_reasoning: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionCallDelta | None = None
    audio: AudioDelta | None = None

    _extensions = (
        "reasoning_details",
        "annotations",
        "images",
        "executed_tools",
        "channel",
        "content_parts",
    )
    _strict = frozenset(
        (
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
        )
    )
    # Declared narrow for the hot path (see ``content``); a stream that sends parts widens.
    _wider: ClassVar[dict[str, Any]] = {"content": str | list[Any] | None}

    @property
    def reasoning_details(self) -> list[ReasoningDetail] | None:
        """Fragments of structured reasoning (OpenRouter, Snowflake)."""
        return None

    @property
    def annotations(self) -> list[Any] | None:
        """Sources cited by the answer, such as web search ``url_citation`` items."""
        return None

    @property
    def images(self) -> list[Any] | None:
        """Generated images (OpenRouter image output)."""
        return None

    @property
    def executed_tools(self) -> list[dict[str, Any]] | None:
        """Server-side tool runs and their results (Groq compound models)."""
        return None

    @property
    def channel(self) -> str | None:
        """The channel tag, ``analysis`` or ``final`` (Groq gpt-oss)."""
        return None

    @property
    def content_parts(self) -> list[Any] | None:
        """Typed content parts, as a delta may carry them beside ``content``."""
        return None


class ChunkChoice(_Wire, frozen=True, omit_defaults=False):
    """One choice's delta in a chunk (the seed's ``RouterChatCompletionsResponseBodyChoices``).

    Encoded in full, like the wire: a chunk re-encoded to forward it keeps ``index: 0``. The
    providers' extensions are read as properties, ``UNSET`` when absent (and then not encoded).
    """

    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None

    _extensions = ("native_finish_reason", "content_filter_results", "message")
    _strict = frozenset(("index", "delta", "finish_reason", "logprobs", "message"))

    @property
    def native_finish_reason(self) -> str | UnsetType | None:
        """The upstream's own finish reason (OpenRouter)."""
        return UNSET

    @property
    def content_filter_results(self) -> dict[str, Any] | UnsetType | None:
        """Content-filter verdicts for this choice (Azure OpenAI)."""
        return UNSET

    @property
    def message(self) -> Delta | UnsetType | None:
        """A whole message in place of a delta, as a non-streamed body (or some servers'
        chunks) carries it; merged as the delta."""
        return UNSET


class ResponseBody2(_Wire, frozen=True, omit_defaults=False):
    """A ``chat.completion.chunk``: one streamed event.

    One class with two public names: ``ChatCompletionChunk``, the openai SDK's name, which code
    should use, and ``ResponseBody2``, the name the Orq router's API spec (the seed of this
    library) gives it, which is the class's own and so the one its repr prints.

    Encoded in full, like the wire: a chunk re-encoded to forward it keeps ``choices: []``. The
    ``error`` and the providers' extensions are ``UNSET`` when absent, and then not encoded; the
    extensions are read as properties.
    """

    id: str | None = None
    choices: list[ChunkChoice] = msgspec.field(default_factory=list)
    created: Number | None = None
    model: str | None = None
    object: str | None = None
    system_fingerprint: str | None = None
    usage: Usage | None = None
    service_tier: str | None = None

    _extensions = (
        "error",
        "citations",
        "search_results",
        "x_groq",
        "moderation",
        "prompt_filter_results",
        "provider",
        "obfuscation",
    )
    _strict = frozenset(
        (
            "id",
            "choices",
            "created",
            "model",
            "object",
            "system_fingerprint",
            "usage",
            "service_tier",
            "error",
        )
    )
    # The in-band error raises, and OpenAI's padding is dropped: the merge reads neither.
    _unmerged = frozenset(("obfuscation", "error"))
    # Whether this chunk's schema is wider than the declared one: the merge then looks for
    # extensions, unknown keys, typed content parts and in-band errors.
    _ext: ClassVar[bool] = False

    @property
    def error(self) -> ErrorObject | UnsetType | None:
        """An in-band error (OpenRouter, vLLM, SGLang); ``null`` on a normal chunk is no error."""
        return UNSET

    @property
    def citations(self) -> list[Any] | UnsetType | None:
        """Source URLs, resent whole on each chunk (Perplexity)."""
        return UNSET

    @property
    def search_results(self) -> list[Any] | UnsetType | None:
        """Search results behind the answer, resent whole (Perplexity)."""
        return UNSET

    @property
    def x_groq(self) -> dict[str, Any] | UnsetType | None:
        """Groq's request data: ``id``, and until late 2025 its only ``usage``."""
        return UNSET

    @property
    def moderation(self) -> dict[str, Any] | UnsetType | None:
        """Moderation results of a moderated stream (OpenAI)."""
        return UNSET

    @property
    def prompt_filter_results(self) -> list[Any] | UnsetType | None:
        """Content-filter verdicts on the prompt (Azure OpenAI)."""
        return UNSET

    @property
    def provider(self) -> str | UnsetType | None:
        """Which upstream served the request (OpenRouter)."""
        return UNSET

    @property
    def obfuscation(self) -> str | UnsetType | None:
        """Random padding against side channels (OpenAI, Azure): kept on the chunk, left out
        of the merged completion."""
        return UNSET


ChatCompletionChunk = ResponseBody2


class FunctionCall(_Output, kw_only=True, dict=True, gc=True):
    """A merged function call: its name and its whole arguments text.

    With ``Accumulator(tools={name: T})``, a call of a function named there has
    ``parsed_arguments`` (its arguments as a ``T``, or ``None``) and ``parse_error`` (a
    ``ParseFailure`` saying why it is ``None``); neither is a field: ``to_dict()``,
    ``to_json()`` and ``==`` are the server's object.
    """

    name: str | None = None
    arguments: str

    parsed_arguments = side_value(
        "parsed_arguments", "The arguments as the type ``tools=`` names for this function."
    )
    parse_error = side_value("parse_error", "Why ``parsed_arguments`` is ``None``, if it is.")


class ToolCall(_Output, kw_only=True):
    """A merged tool call. ``arguments`` is kept verbatim, even when it is not valid JSON."""

    id: str | None = None
    type: str | None = None
    function: FunctionCall
    thought_signature: str | None = None
    extra_content: dict[str, Any] | None = None


class Audio(_Output):
    """A merged audio answer: ``data`` is base64 of all fragments' bytes joined."""

    id: str | None = None
    expires_at: int | None = None
    data: str | None = None
    transcript: str | None = None


class Message(_Output, kw_only=True, dict=True, gc=True):
    """The merged assistant message of one choice.

    ``content_parts`` holds, in order, the typed content parts whose whole meaning ``content``
    and ``reasoning`` cannot hold (a Mistral ``reference`` part, say).

    With ``Accumulator(response_format=T)``: ``parsed`` (the content as a ``T``, or ``None``)
    and ``parse_error`` (a ``ParseFailure`` saying why it is ``None``); neither is a field:
    ``to_dict()``, ``to_json()`` and ``==`` are the server's object.
    """

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
    reasoning_details: list[ReasoningDetail] | None = None
    annotations: list[Any] | None = None
    images: list[Any] | None = None
    executed_tools: list[Any] | None = None
    channel: str | None = None
    content_parts: list[Any] | None = None

    parsed = side_value("parsed", "The content as the ``response_format=`` type.")
    parse_error = side_value("parse_error", "Why ``parsed`` is ``None``, if it is.")


class Choice(_Output, kw_only=True):
    """One merged choice."""

    index: int
    message: Message
    finish_reason: str | None
    logprobs: ChoiceLogprobs | None
    native_finish_reason: str | None = None
    content_filter_results: dict[str, Any] | None = None


class ChatCompletion(_Output, kw_only=True):
    """The merged ``chat.completion``: what a non-streamed request would have returned."""

    id: str | None
    object: str
    created: Number | None
    model: str | None
    choices: list[Choice]
    usage: Usage | None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    provider: str | None = None
    citations: list[Any] | None = None
    search_results: list[Any] | None = None
    x_groq: dict[str, Any] | None = None
    moderation: dict[str, Any] | None = None
    prompt_filter_results: list[Any] | None = None
