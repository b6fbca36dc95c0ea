"""chunkagg: the raw bytes of a streamed chat completion in, one exact completion out.

>>> import chunkagg
>>> acc = chunkagg.Accumulator()
>>> _ = acc.feed(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\\n\\n')
>>> _ = acc.feed(b"data: [DONE]\\n\\n")
>>> acc.finalize().choices[0].message.content
'Hi'
"""

from ._accumulator import (
    DEFAULT_MAX_EVENT_SIZE,
    Accumulator,
    SupportsModelDumpJson,
    decode_chunk,
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
from ._events import (
    AnnotationAdded,
    ChoiceFinished,
    CitationsUpdated,
    ContentDelta,
    Event,
    ReasoningDelta,
    RefusalDelta,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallStarted,
    UsageReceived,
)
from ._helpers import AsyncChunkStream, ChunkStream, aaccumulate, accumulate
from ._merge import (
    DEFAULT_MAX_CHOICES,
    DEFAULT_MAX_TEXT_SIZE,
    DEFAULT_MAX_TOOL_CALLS,
)
from ._models import (
    Audio,
    AudioDelta,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChoiceLogprobs,
    ChunkChoice,
    CompletionTokensDetails,
    Delta,
    ErrorObject,
    FunctionCall,
    FunctionCallDelta,
    Message,
    PromptTokensDetails,
    ReasoningDetail,
    ResponseBody2,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
    Usage,
)
from ._relay import AsyncRelay, Relay, RelayResult
from ._schema import MAX_EXTRA_FIELDS

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_TEXT_SIZE",
    "DEFAULT_MAX_TOOL_CALLS",
    "MAX_EXTRA_FIELDS",
    "Accumulator",
    "AccumulatorClosedError",
    "AnnotationAdded",
    "AsyncChunkStream",
    "AsyncRelay",
    "Audio",
    "AudioDelta",
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
    "CompletionTokensDetails",
    "ContentDelta",
    "Delta",
    "EmptyStreamError",
    "ErrorObject",
    "Event",
    "FunctionCall",
    "FunctionCallDelta",
    "IncompleteStreamError",
    "LimitExceededError",
    "Message",
    "PromptTokensDetails",
    "ReasoningDelta",
    "ReasoningDetail",
    "RefusalDelta",
    "Relay",
    "RelayResult",
    "ResponseBody2",
    "StreamError",
    "SupportsModelDumpJson",
    "TokenLogprob",
    "ToolCall",
    "ToolCallArgumentsDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolCallStarted",
    "TopLogprob",
    "Usage",
    "UsageReceived",
    "__version__",
    "aaccumulate",
    "accumulate",
    "decode_chunk",
]
