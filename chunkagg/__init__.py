"""chunkagg: the raw bytes of a streamed chat completion in, one exact completion out.

>>> import chunkagg
>>> acc = chunkagg.Accumulator()
>>> _ = acc.feed(b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\\n\\n')
>>> _ = acc.feed(b"data: [DONE]\\n\\n")
>>> acc.finalize().choices[0].message.content
'Hi'
"""

from ._accumulator import DEFAULT_MAX_EVENT_SIZE, Accumulator, decode_chunk
from ._errors import (
    AccumulatorClosedError,
    ChunkAggError,
    ChunkError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
)
from ._merge import DEFAULT_MAX_CHOICES, DEFAULT_MAX_TEXT_SIZE, DEFAULT_MAX_TOOL_CALLS
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
    ResponseBody2,
    TokenLogprob,
    ToolCall,
    ToolCallDelta,
    TopLogprob,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_TEXT_SIZE",
    "DEFAULT_MAX_TOOL_CALLS",
    "Accumulator",
    "AccumulatorClosedError",
    "Audio",
    "AudioDelta",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Choice",
    "ChoiceLogprobs",
    "ChunkAggError",
    "ChunkChoice",
    "ChunkError",
    "CompletionTokensDetails",
    "Delta",
    "ErrorObject",
    "FunctionCall",
    "FunctionCallDelta",
    "IncompleteStreamError",
    "LimitExceededError",
    "Message",
    "PromptTokensDetails",
    "ResponseBody2",
    "StreamError",
    "TokenLogprob",
    "ToolCall",
    "ToolCallDelta",
    "TopLogprob",
    "Usage",
    "__version__",
    "decode_chunk",
]
