"""The Responses API (``response.*`` events): ``ResponseAccumulator``, its Structs and events.

``models`` declares the wire event and the merged ``Response``, ``events`` the live-UI events;
``merge`` holds the rule of every event type over the state in ``state``; ``output`` types the
result; ``accumulator`` the public
``ResponseAccumulator``. Imports the core and no other format.
"""

from .accumulator import ResponseAccumulator
from .events import (
    Disagreement,
    FunctionCallArgumentsDelta,
    FunctionCallDone,
    OutputAnnotationAdded,
    OutputItemDone,
    OutputReasoningDelta,
    OutputRefusalDelta,
    OutputTextDelta,
    ResponseFinished,
    ResponseUpdate,
)
from .merge import DEFAULT_MAX_ITEMS
from .models import (
    Response,
    ResponseError,
    ResponseEvent,
    ResponseFunctionToolCall,
    ResponseOutputItem,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningContent,
    ResponseReasoningItem,
    ResponseReasoningSummary,
    ResponseUsage,
)

__all__ = [
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
]
