"""The Responses API result, typed: merged JSON values to ``Response`` and its output items.

Owns how plain JSON (a terminal event's ``response``, or what the merge built) becomes the typed
``Response``: each output item, content part and summary of a kind chunkagg types becomes its
Struct, every key chunkagg has no name for goes to ``extra`` in place, and a value of a known
kind but another shape is kept as sent. Must not know events or the merge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from .._core.schema import build_output
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


def _fields(cls: type) -> frozenset[str]:
    return frozenset(f.encode_name for f in msgspec.structs.fields(cls))


_KEYS: dict[type, frozenset[str]] = {
    cls: _fields(cls)
    for cls in (
        Response,
        ResponseUsage,
        ResponseError,
        ResponseOutputMessage,
        ResponseOutputText,
        ResponseOutputRefusal,
        ResponseFunctionToolCall,
        ResponseReasoningItem,
        ResponseReasoningSummary,
        ResponseReasoningContent,
    )
}


def _typed(cls: type, value: dict[str, Any], lists: Mapping[str, Callable[[Any], Any]]) -> Any:
    """``value`` as a ``cls``, its other keys in ``extra``; as it is if it does not fit ``cls``."""
    try:
        msgspec.convert(value, cls)
    except msgspec.ValidationError:
        return value  # kept as sent: an item of a known kind but another shape
    keys = _KEYS[cls]
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        (known if key in keys else extra)[key] = item
    for key, convert in lists.items():
        items = known.get(key)
        if type(items) is list:
            known[key] = [convert(x) for x in items]
    return build_output(cls, extra, **known)


def _typed_part(value: Any) -> Any:
    if type(value) is dict:
        kind = value.get("type")
        if kind == "output_text":
            return _typed(ResponseOutputText, value, {})
        if kind == "refusal":
            return _typed(ResponseOutputRefusal, value, {})
    return value


def _typed_summary(value: Any) -> Any:
    if type(value) is dict and value.get("type") == "summary_text":
        return _typed(ResponseReasoningSummary, value, {})
    return value


def _typed_reasoning(value: Any) -> Any:
    if type(value) is dict and value.get("type") == "reasoning_text":
        return _typed(ResponseReasoningContent, value, {})
    return value


def typed_item(value: Any) -> Any:
    """An output item as its typed Struct when it is of a kind chunkagg types, else as sent."""
    if type(value) is not dict:
        return value
    kind = value.get("type")
    if kind == "message":
        return _typed(ResponseOutputMessage, value, {"content": _typed_part})
    if kind == "function_call":
        return _typed(ResponseFunctionToolCall, value, {})
    if kind == "reasoning":
        return _typed(
            ResponseReasoningItem, value, {"summary": _typed_summary, "content": _typed_reasoning}
        )
    return value


def typed_response(value: dict[str, Any]) -> Response:
    keys = _KEYS[Response]
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        (known if key in keys else extra)[key] = item
    output = known.get("output")
    if type(output) is list:
        known["output"] = [typed_item(item) for item in output]
    usage = known.get("usage")
    if type(usage) is dict:
        known["usage"] = _typed(ResponseUsage, usage, {})
    error = known.get("error")
    if type(error) is dict:
        known["error"] = _typed(ResponseError, error, {})
    result: Response = build_output(Response, extra, **known)
    return result
