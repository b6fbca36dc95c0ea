"""The Anthropic Messages result, typed: merged JSON values to ``AnthropicMessage``.

Owns how plain JSON (what the merge built, or a whole body) becomes the typed message: each block
of a kind chunkagg types becomes its Struct, every key chunkagg has no name for goes to ``extra``
in place, and a value of a known kind but another shape, or of a kind chunkagg does not type, is
kept as sent. Must not know events or the merge.
"""

from __future__ import annotations

from typing import Any

from .._core.output import typed, typed_top
from .models import (
    AnthropicMessage,
    MessageUsage,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)

__all__ = ["typed_block", "typed_message"]

_BLOCKS: dict[str, type] = {
    "text": TextBlock,
    "thinking": ThinkingBlock,
    "redacted_thinking": RedactedThinkingBlock,
    "tool_use": ToolUseBlock,
    "server_tool_use": ServerToolUseBlock,
}


def typed_block(value: Any) -> Any:
    """A content block as its typed Struct when it is of a kind chunkagg types, else as sent."""
    if type(value) is dict:
        kind = value.get("type")
        cls = _BLOCKS.get(kind) if type(kind) is str else None
        if cls is not None:
            return typed(cls, value)
    return value


def typed_message(value: dict[str, Any]) -> AnthropicMessage:
    """The merged message as an ``AnthropicMessage`` (never as a ``dict``: the top level always
    fits, its values are checked one by one)."""
    usage = value.get("usage")
    if type(usage) is dict:
        value["usage"] = typed(MessageUsage, usage)
    content = value.get("content")
    if type(content) is list:
        value["content"] = [typed_block(block) for block in content]
    result: AnthropicMessage = typed_top(AnthropicMessage, value)
    return result
