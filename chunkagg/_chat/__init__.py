"""Chat completions (``chat.completion.chunk``): ``Accumulator`` and its Structs and events.

``models`` declares the wire chunk and the merged ``ChatCompletion``; ``merge`` and ``state``
hold the rules of OpenAI's fields, ``extensions`` those of providers' extensions; ``events`` the
live-UI events; ``accumulator`` the public ``Accumulator``. Imports the core and no other format.
"""

from .._core.events import ChoiceFinished, ContentDelta, UsageReceived
from .accumulator import Accumulator, SupportsModelDumpJson, decode_chunk
from .events import (
    AnnotationAdded,
    CitationsUpdated,
    Event,
    ReasoningDelta,
    RefusalDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallStarted,
)
from .merge import DEFAULT_MAX_TOOL_CALLS
from .models import (
    Audio,
    AudioDelta,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCall,
    FunctionCallDelta,
    Message,
    ReasoningDetail,
    ResponseBody2,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
)

__all__ = [
    "DEFAULT_MAX_TOOL_CALLS",
    "Accumulator",
    "AnnotationAdded",
    "Audio",
    "AudioDelta",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Choice",
    "ChoiceFinished",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CitationsUpdated",
    "ContentDelta",
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
    "UsageReceived",
    "decode_chunk",
]
