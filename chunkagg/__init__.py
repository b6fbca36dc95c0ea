"""chunkagg: the raw bytes of a streamed completion in, one exact completion out.

Chat completions (``Accumulator``), legacy completions (``CompletionAccumulator``), the Responses
API (``ResponseAccumulator``), Anthropic Messages (``MessageAccumulator``), or any of them told by
its first event (``AutoAccumulator``).

>>> import chunkagg
>>> acc = chunkagg.Accumulator()
>>> _ = acc.feed(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\\n\\n')
>>> _ = acc.feed(b"data: [DONE]\\n\\n")
>>> acc.finalize().choices[0].message.content
'Hi'

``import chunkagg`` loads the errors and the limits alone; each format's room (and the helpers,
relays and detection) loads on the first use of one of its names (PEP 562), so a command-line
run or a serverless cold start pays only for the formats it uses. Type checkers and IDEs read the
imports below the ``TYPE_CHECKING`` guard.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._core.limits import (
    DEFAULT_MAX_CHOICES,
    DEFAULT_MAX_EVENT_SIZE,
    DEFAULT_MAX_TEXT_SIZE,
    MAX_DEPTH,
)
from ._errors import (
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
)

if TYPE_CHECKING:
    from ._auto import (
        AutoAccumulator,
        detect,
    )
    from ._chat import (
        DEFAULT_MAX_TOOL_CALLS,
        Accumulator,
        AnnotationAdded,
        Audio,
        AudioDelta,
        ChatCompletion,
        ChatCompletionChunk,
        Choice,
        ChoiceLogprobs,
        ChunkChoice,
        CitationsUpdated,
        Delta,
        Event,
        FunctionCall,
        FunctionCallDelta,
        Message,
        ReasoningDelta,
        ReasoningDetail,
        RefusalDelta,
        ResponseBody2,
        SupportsModelDumpJson,
        TokenLogprob,
        ToolCall,
        ToolCallArgumentsDelta,
        ToolCallDelta,
        ToolCallDone,
        ToolCallStarted,
        TopLogprob,
        decode_chunk,
    )
    from ._completions import (
        CompletionAccumulator,
        CompletionChunk,
        CompletionChunkChoice,
        CompletionEvent,
        CompletionLogprobs,
        TextChoice,
        TextCompletion,
        TextLogprobs,
        decode_completion_chunk,
    )
    from ._core.events import (
        ChoiceFinished,
        ContentDelta,
        UsageReceived,
    )
    from ._core.models import (
        CompletionTokensDetails,
        ErrorObject,
        PromptTokensDetails,
        Usage,
    )
    from ._core.schema import (
        MAX_EXTRA_FIELDS,
    )
    from ._core.stream import (
        StreamAccumulator,
        SupportsAccumulate,
    )
    from ._helpers import (
        AsyncChunkStream,
        ChunkStream,
        aaccumulate,
        accumulate,
    )
    from ._messages import (
        DEFAULT_MAX_BLOCKS,
        AnthropicMessage,
        ContentBlock,
        MessageAccumulator,
        MessageBlockStarted,
        MessageBlockStopped,
        MessageCitationAdded,
        MessageDelta,
        MessageEvent,
        MessageFinished,
        MessageInputDelta,
        MessageTextDelta,
        MessageThinkingDelta,
        MessageUpdate,
        MessageUsage,
        RedactedThinkingBlock,
        ServerToolUseBlock,
        TextBlock,
        ThinkingBlock,
        ToolUseBlock,
        decode_message_event,
    )
    from ._relay import (
        AsyncRelay,
        Relay,
        RelayResult,
    )
    from ._responses import (
        DEFAULT_MAX_ITEMS,
        Disagreement,
        FunctionCallArgumentsDelta,
        FunctionCallDone,
        OutputAnnotationAdded,
        OutputItemDone,
        OutputReasoningDelta,
        OutputRefusalDelta,
        OutputTextDelta,
        Response,
        ResponseAccumulator,
        ResponseError,
        ResponseEvent,
        ResponseFinished,
        ResponseFunctionToolCall,
        ResponseOutputItem,
        ResponseOutputMessage,
        ResponseOutputRefusal,
        ResponseOutputText,
        ResponseReasoningContent,
        ResponseReasoningItem,
        ResponseReasoningSummary,
        ResponseUpdate,
        ResponseUsage,
    )

__version__ = "0.1.0"

# Where each lazily loaded public name lives, by module.
_LAZY: dict[str, tuple[str, ...]] = {
    "._chat": (
        "Accumulator",
        "AnnotationAdded",
        "Audio",
        "AudioDelta",
        "ChatCompletion",
        "ChatCompletionChunk",
        "Choice",
        "ChoiceLogprobs",
        "ChunkChoice",
        "CitationsUpdated",
        "DEFAULT_MAX_TOOL_CALLS",
        "Delta",
        "Event",
        "FunctionCall",
        "FunctionCallDelta",
        "Message",
        "ReasoningDelta",
        "ReasoningDetail",
        "RefusalDelta",
        "ResponseBody2",
        "SupportsModelDumpJson",
        "TokenLogprob",
        "ToolCall",
        "ToolCallArgumentsDelta",
        "ToolCallDelta",
        "ToolCallDone",
        "ToolCallStarted",
        "TopLogprob",
        "decode_chunk",
    ),
    "._completions": (
        "CompletionAccumulator",
        "CompletionChunk",
        "CompletionChunkChoice",
        "CompletionEvent",
        "CompletionLogprobs",
        "TextChoice",
        "TextCompletion",
        "TextLogprobs",
        "decode_completion_chunk",
    ),
    "._messages": (
        "AnthropicMessage",
        "ContentBlock",
        "DEFAULT_MAX_BLOCKS",
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
    ),
    "._responses": (
        "DEFAULT_MAX_ITEMS",
        "Disagreement",
        "FunctionCallArgumentsDelta",
        "FunctionCallDone",
        "OutputAnnotationAdded",
        "OutputItemDone",
        "OutputReasoningDelta",
        "OutputRefusalDelta",
        "OutputTextDelta",
        "Response",
        "ResponseAccumulator",
        "ResponseError",
        "ResponseEvent",
        "ResponseFinished",
        "ResponseFunctionToolCall",
        "ResponseOutputItem",
        "ResponseOutputMessage",
        "ResponseOutputRefusal",
        "ResponseOutputText",
        "ResponseReasoningContent",
        "ResponseReasoningItem",
        "ResponseReasoningSummary",
        "ResponseUpdate",
        "ResponseUsage",
    ),
    "._core.events": (
        "ChoiceFinished",
        "ContentDelta",
        "UsageReceived",
    ),
    "._core.models": (
        "CompletionTokensDetails",
        "ErrorObject",
        "PromptTokensDetails",
        "Usage",
    ),
    "._core.schema": ("MAX_EXTRA_FIELDS",),
    "._core.stream": (
        "StreamAccumulator",
        "SupportsAccumulate",
    ),
    "._auto": (
        "AutoAccumulator",
        "detect",
    ),
    "._helpers": (
        "AsyncChunkStream",
        "ChunkStream",
        "aaccumulate",
        "accumulate",
    ),
    "._relay": (
        "AsyncRelay",
        "Relay",
        "RelayResult",
    ),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_MAX_BLOCKS",
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_TEXT_SIZE",
    "DEFAULT_MAX_TOOL_CALLS",
    "MAX_DEPTH",
    "MAX_EXTRA_FIELDS",
    "Accumulator",
    "AccumulatorClosedError",
    "AnnotationAdded",
    "AnthropicMessage",
    "AsyncChunkStream",
    "AsyncRelay",
    "Audio",
    "AudioDelta",
    "AutoAccumulator",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Choice",
    "ChoiceFinished",
    "ChoiceLogprobs",
    "ChunkAggError",
    "ChunkChoice",
    "ChunkError",
    "ChunkStream",
    "CitationsUpdated",
    "CompletionAccumulator",
    "CompletionChunk",
    "CompletionChunkChoice",
    "CompletionEvent",
    "CompletionLogprobs",
    "CompletionTokensDetails",
    "ContentBlock",
    "ContentDelta",
    "Delta",
    "Disagreement",
    "EmptyStreamError",
    "ErrorObject",
    "Event",
    "FunctionCall",
    "FunctionCallArgumentsDelta",
    "FunctionCallDelta",
    "FunctionCallDone",
    "IncompleteStreamError",
    "LimitExceededError",
    "Message",
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
    "OutputAnnotationAdded",
    "OutputItemDone",
    "OutputReasoningDelta",
    "OutputRefusalDelta",
    "OutputTextDelta",
    "PromptTokensDetails",
    "ReasoningDelta",
    "ReasoningDetail",
    "RedactedThinkingBlock",
    "RefusalDelta",
    "Relay",
    "RelayResult",
    "Response",
    "ResponseAccumulator",
    "ResponseBody2",
    "ResponseError",
    "ResponseEvent",
    "ResponseFinished",
    "ResponseFunctionToolCall",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputRefusal",
    "ResponseOutputText",
    "ResponseReasoningContent",
    "ResponseReasoningItem",
    "ResponseReasoningSummary",
    "ResponseUpdate",
    "ResponseUsage",
    "ServerToolUseBlock",
    "StreamAccumulator",
    "StreamError",
    "SupportsAccumulate",
    "SupportsModelDumpJson",
    "TextBlock",
    "TextChoice",
    "TextCompletion",
    "TextLogprobs",
    "ThinkingBlock",
    "TokenLogprob",
    "ToolCall",
    "ToolCallArgumentsDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolCallStarted",
    "ToolUseBlock",
    "TopLogprob",
    "Usage",
    "UsageReceived",
    "__version__",
    "aaccumulate",
    "accumulate",
    "decode_chunk",
    "decode_completion_chunk",
    "decode_message_event",
    "detect",
]
