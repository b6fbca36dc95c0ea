"""Anthropic Messages (``message_start``, ``content_block_*``, ``message_delta``...):
``MessageAccumulator``, its Structs and events.

``models`` declares the wire event and the merged ``AnthropicMessage``, ``events`` the live-UI
events; ``merge`` holds the rule of every event type over the blocks in ``BlockState``;
``output`` types the result; ``accumulator`` the public ``MessageAccumulator``. Imports the core
and no other format.
"""

from .accumulator import MessageAccumulator, decode_message_event
from .events import (
    MessageBlockStarted,
    MessageBlockStopped,
    MessageCitationAdded,
    MessageFinished,
    MessageInputDelta,
    MessageTextDelta,
    MessageThinkingDelta,
    MessageUpdate,
)
from .merge import DEFAULT_MAX_BLOCKS
from .models import (
    AnthropicMessage,
    ContentBlock,
    MessageDelta,
    MessageEvent,
    MessageUsage,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)

__all__ = [
    "DEFAULT_MAX_BLOCKS",
    "AnthropicMessage",
    "ContentBlock",
    "MessageAccumulator",
    "MessageBlockStarted",
    "MessageBlockStopped",
    "MessageCitationAdded",
    "MessageDelta",
    "MessageEvent",
    "MessageFinished",
    "MessageInputDelta",
    "MessageTextDelta",
    "MessageThinkingDelta",
    "MessageUpdate",
    "MessageUsage",
    "RedactedThinkingBlock",
    "ServerToolUseBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
    "decode_message_event",
]
