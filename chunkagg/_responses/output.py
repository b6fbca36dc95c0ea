"""The Responses API result, typed: merged JSON values to ``Response`` and its output items.

Owns how plain JSON (a terminal event's ``response``, or what the merge built) becomes the typed
``Response``: each output item, content part and summary of a kind chunkagg types becomes its
Struct, every key chunkagg has no name for goes to ``extra`` in place, and a value of a known
kind but another shape is kept as sent. Must not know events or the merge.
"""

from __future__ import annotations

from typing import Any

from .._core.output import typed, typed_top
from .models import (
    Response,
    ResponseError,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningContent,
    ResponseReasoningItem,
    ResponseReasoningSummary,
    ResponseUsage,
)

__all__ = ["typed_item", "typed_response"]


def _typed_part(value: Any) -> Any:
    if type(value) is dict:
        kind = value.get("type")
        if kind == "output_text":
            return typed(ResponseOutputText, value)
        if kind == "refusal":
            return typed(ResponseOutputRefusal, value)
    return value


def _typed_summary(value: Any) -> Any:
    if type(value) is dict and value.get("type") == "summary_text":
        return typed(ResponseReasoningSummary, value)
    return value


def _typed_reasoning(value: Any) -> Any:
    if type(value) is dict and value.get("type") == "reasoning_text":
        return typed(ResponseReasoningContent, value)
    return value


def typed_item(value: Any) -> Any:
    """An output item as its typed Struct when it is of a kind chunkagg types, else as sent."""
    if type(value) is not dict:
        return value
    kind = value.get("type")
    if kind == "message":
        return typed(ResponseOutputMessage, value, {"content": _typed_part})
    if kind == "function_call":
        return typed(ResponseFunctionToolCall, value)
    if kind == "reasoning":
        return typed(
            ResponseReasoningItem, value, {"summary": _typed_summary, "content": _typed_reasoning}
        )
    return value


def typed_response(value: dict[str, Any]) -> Response:
    """The merged response as a ``Response`` (never as a ``dict``: the top level always fits,
    its values are typed one by one)."""
    output = value.get("output")
    if type(output) is list:
        value["output"] = [typed_item(item) for item in output]
    usage = value.get("usage")
    if type(usage) is dict:
        value["usage"] = typed(ResponseUsage, usage)
    error = value.get("error")
    if type(error) is dict:
        value["error"] = typed(ResponseError, error)
    result: Response = typed_top(Response, value)
    return result
