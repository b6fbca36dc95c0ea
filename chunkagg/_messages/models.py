"""msgspec Structs of the Anthropic Messages stream: the wire event and the merged message.

Declarations only: no merge logic, no framing, no decoders (the core's ``schema`` builds those
from ``MessageEvent``; the live events are in ``events``). Names follow the Anthropic SDK's
``anthropic.types`` where a class stands for the same object (``TextBlock``, ``ToolUseBlock``...),
prefixed where chunkagg's other formats already use the plain name: the result is an
``AnthropicMessage`` (chat's merged message is ``Message``).

The wire: ``MessageEvent`` declares every field any event type carries (``message_start``'s
``message``, ``content_block_start``'s ``content_block``, the ``delta`` of a
``content_block_delta`` or a ``message_delta``, ``usage``, ``error``), so that one msgspec
decoder reads every event in C. Only ``type`` is checked when decoding (and that a ``delta`` is an
object); the merge checks what it reads, per event type, so an event, block or delta of a type
chunkagg does not know is never rejected for its shape, and keys no event declares
(``message_delta``'s ``context_management``) are kept (``extra``). Nested objects (``message``,
``content_block``, ``usage``, a citation) are plain ``dict`` values, kept whole.

The output: ``AnthropicMessage``, its content blocks and its usage are built by the merge from
plain JSON values. Every field defaults to ``UNSET`` and is set only when the server sent its
key, so ``to_dict()`` is the object a non-streamed request returns: a ``null`` stays ``null``,
an absent key stays absent, keys chunkagg has no name for come back in place (``extra``). A
block of a kind chunkagg does not type (``web_search_tool_result``, ``mcp_tool_use``,
``compaction``...) stays a ``dict`` in ``content``, as sent. The structured values of
``response_format=`` and ``tools=`` (``parsed_output``, ``parsed_input``, ``parse_error``) hang
beside the fields of ``TextBlock``, ``ToolUseBlock`` and ``AnthropicMessage`` (``dict=True``),
never among them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from .._core.models import Number, _Output, _Wire
from .._core.parsed import side_value

__all__ = [
    "AnthropicMessage",
    "ContentBlock",
    "MessageDelta",
    "MessageEvent",
    "MessageUsage",
    "RedactedThinkingBlock",
    "ServerToolUseBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
]


# -- the wire ------------------------------------------------------------------------------------


class MessageDelta(_Wire, frozen=True):
    """The ``delta`` of a ``content_block_delta`` (``text_delta``, ``input_json_delta``,
    ``thinking_delta``, ``signature_delta``, ``citations_delta``, ``compaction_delta``...) or of
    a ``message_delta`` (``stop_reason``, ``stop_sequence``...): the fields of every kind,
    ``None`` when absent."""

    type: str | None = None
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    citation: dict[str, Any] | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None

    _strict = frozenset()


class MessageEvent(_Wire, frozen=True):
    """One event of an Anthropic Messages stream (``content_block_delta``, ...).

    Every event has a ``type`` (the SSE ``event:`` name repeats it); the other fields are those
    its type carries, ``None`` when absent. ``extra`` holds any key no event type declares.
    """

    type: str
    index: int | None = None
    message: dict[str, Any] | None = None
    content_block: dict[str, Any] | None = None
    delta: MessageDelta | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    # Only the event type, and that a delta is an object, are checked when decoding (a delta's
    # own fields are not): the merge checks the fields it reads.
    _strict = frozenset(("type", "delta"))


# -- the merged message --------------------------------------------------------------------------


class TextBlock(_Output, kw_only=True, dict=True, gc=True):
    """A ``text`` block: its whole text, and the citations that back it.

    With ``MessageAccumulator(response_format=T)``, every text block has ``parsed_output`` (its
    text as a ``T``, or ``None``) and ``parse_error`` (a ``ParseFailure`` saying why it is
    ``None``), as the Anthropic SDK's ``ParsedTextBlock``; neither is a field: ``to_dict()``,
    ``to_json()`` and ``==`` are the server's block.
    """

    type: str | UnsetType = UNSET
    text: str | UnsetType = UNSET
    citations: list[Any] | UnsetType | None = UNSET

    parsed_output = side_value("parsed_output", "The text as the ``response_format=`` type.")
    parse_error = side_value("parse_error", "Why ``parsed_output`` is ``None``, if it is.")


class ThinkingBlock(_Output, kw_only=True):
    """A ``thinking`` block: the reasoning text and its signature (to send back next turn)."""

    type: str | UnsetType = UNSET
    thinking: str | UnsetType = UNSET
    signature: str | UnsetType = UNSET


class RedactedThinkingBlock(_Output, kw_only=True):
    """A ``redacted_thinking`` block: encrypted reasoning, kept as sent."""

    type: str | UnsetType = UNSET
    data: str | UnsetType = UNSET


class ToolUseBlock(_Output, kw_only=True, dict=True, gc=True):
    """A ``tool_use`` block: the call's id, name and whole ``input``.

    ``partial_json`` is set only when the streamed input never became whole JSON (a stream cut
    inside it, or a model that wrote broken JSON): the fragments joined, as sent, beside
    ``input``, its partial parse.

    With ``MessageAccumulator(tools={name: T})``, a block of a tool named there has
    ``parsed_input`` (its input as a ``T``, or ``None``) and ``parse_error`` (a ``ParseFailure``
    saying why it is ``None``); neither is a field: ``to_dict()``, ``to_json()`` and ``==`` are
    the server's block.
    """

    type: str | UnsetType = UNSET
    id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    input: Any = UNSET
    partial_json: str | UnsetType = UNSET

    parsed_input = side_value(
        "parsed_input", "The input as the type ``tools=`` names for this tool."
    )
    parse_error = side_value("parse_error", "Why ``parsed_input`` is ``None``, if it is.")


class ServerToolUseBlock(ToolUseBlock, kw_only=True):
    """A ``server_tool_use`` block: a call of a tool the server runs (web search, code
    execution...), as ``ToolUseBlock``."""


# What ``AnthropicMessage.content`` holds: the kinds chunkagg types, or any other block as sent.
ContentBlock = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | dict[str, Any]
)


class MessageUsage(_Output, kw_only=True):
    """Token counts, exactly as the server sent them (the last value of each key)."""

    input_tokens: Number | UnsetType | None = UNSET
    output_tokens: Number | UnsetType | None = UNSET
    cache_creation_input_tokens: Number | UnsetType | None = UNSET
    cache_read_input_tokens: Number | UnsetType | None = UNSET
    cache_creation: dict[str, Any] | UnsetType | None = UNSET
    server_tool_use: dict[str, Any] | UnsetType | None = UNSET
    service_tier: str | UnsetType | None = UNSET


class AnthropicMessage(_Output, kw_only=True, dict=True, gc=True):
    """The merged Anthropic ``message``: what a non-streamed request would have returned.

    Fields the server did not send are ``UNSET`` (and absent from ``to_dict()``); ``extra``
    holds the keys chunkagg has no name for (``context_management``, ``container`` of a newer
    API...).

    With ``MessageAccumulator(response_format=T)``: ``parsed_output``, the ``parsed_output`` of
    the first text block that parsed (the Anthropic SDK's ``ParsedMessage.parsed_output``), and
    ``parse_error``: ``None`` then, else the first text block's (``"empty"`` when there is no
    text block). Neither is a field: ``to_dict()``, ``to_json()`` and ``==`` are the server's
    message.
    """

    id: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    model: str | UnsetType = UNSET
    if TYPE_CHECKING:
        content: list[ContentBlock] | UnsetType = UNSET
    else:
        content: list[Any] | UnsetType = UNSET
    stop_reason: str | UnsetType | None = UNSET
    stop_sequence: str | UnsetType | None = UNSET
    usage: MessageUsage | UnsetType | None = UNSET

    parsed_output = side_value(
        "parsed_output", "The first text block's ``parsed_output`` that is a value."
    )
    parse_error = side_value("parse_error", "Why ``parsed_output`` is ``None``, if it is.")

    @property
    def text(self) -> str:
        """The text of every ``text`` block, joined (as the Anthropic SDK's helpers read it)."""
        return "".join(
            block.text
            for block in self.content or ()
            if isinstance(block, TextBlock) and isinstance(block.text, str)
        )
