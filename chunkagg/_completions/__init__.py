"""Legacy completions (``text_completion``): ``CompletionAccumulator`` and its Structs.

``models`` declares the wire chunk and the merged ``TextCompletion``; ``merge`` holds the rules;
``accumulator`` the public ``CompletionAccumulator``. Imports the core and no other format.
"""

from .accumulator import CompletionAccumulator, CompletionEvent, decode_completion_chunk
from .models import (
    CompletionChunk,
    CompletionChunkChoice,
    CompletionLogprobs,
    TextChoice,
    TextCompletion,
    TextLogprobs,
)

__all__ = [
    "CompletionAccumulator",
    "CompletionChunk",
    "CompletionChunkChoice",
    "CompletionEvent",
    "CompletionLogprobs",
    "TextChoice",
    "TextCompletion",
    "TextLogprobs",
    "decode_completion_chunk",
]
