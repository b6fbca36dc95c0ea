"""Which API a decoded event belongs to, from its JSON alone: the rule ``detect()`` applies.

Owns the marks each stream format leaves on its events (``object``, ``type``, a choice's
``delta`` or ``text``) and the hint an error gives when an event of one API reaches another's
accumulator. Must not know any format's Structs or merge: it reads builtins and models by key,
so the core can name the right accumulator without importing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["ACCUMULATOR_NAMES", "ApiName", "api_of", "other_api"]

ApiName = Literal["chat", "completions", "responses", "messages"]

# The public accumulator of each API, as error messages name it.
ACCUMULATOR_NAMES: dict[ApiName, str] = {
    "chat": "Accumulator",
    "completions": "CompletionAccumulator",
    "responses": "ResponseAccumulator",
    "messages": "MessageAccumulator",
}

# The event types of Anthropic Messages streams, which name the type of every event.
_MESSAGES_EVENTS = frozenset(
    (
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
    )
)


def api_of(event: Any) -> ApiName | None:
    """Which API a decoded event (or response body) belongs to; ``None`` when it cannot tell.

    The rules, first match wins:

    - ``object``: ``"chat.completion.chunk"`` or ``"chat.completion"`` is chat,
      ``"text_completion"`` legacy completions, ``"response"`` the Responses API;
    - a ``type`` of ``"error"`` or ``"response.…"``: the Responses API; of ``"message_start"``,
      ``"content_block_…"``, ``"message_delta"``, ``"message_stop"``, ``"ping"``, or a
      ``"message"`` body: Anthropic Messages (of the formats' events, only those carry ``type``
      at the top; an ``error`` event, which both send, reads the same either way);
    - the first choice: a ``delta`` or ``message`` is chat, a ``text`` legacy completions.

    Anything else (``{"choices": []}`` with usage only, a bare ``{"error": ...}``) tells nothing.
    """
    kind = _field(event, "object")
    if kind in ("chat.completion.chunk", "chat.completion"):
        return "chat"
    if kind == "text_completion":
        return "completions"
    if kind == "response":
        return "responses"
    kind = _field(event, "type")
    if isinstance(kind, str):
        if kind == "error" or kind.startswith("response."):
            return "responses"
        if kind in _MESSAGES_EVENTS or (kind == "message" and _field(event, "role") is not None):
            return "messages"
    choices = _field(event, "choices")
    if isinstance(choices, list | tuple) and choices:
        first = choices[0]
        if _field(first, "delta") is not None or _field(first, "message") is not None:
            return "chat"
        if _field(first, "text") is not None:
            return "completions"
    return None


def _field(value: Any, key: str) -> Any:
    """``value[key]`` of a mapping, ``value.key`` of a model; ``None`` when absent."""
    if isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


_WHAT = {
    "chat.completion.chunk": "a chat completion chunk",
    "chat.completion": "a chat completion",
    "text_completion": "a text_completion chunk",
}


def other_api(value: Mapping[str, Any]) -> str:
    """``": <what it is>: merge it with chunkagg.<Accumulator>"`` when ``value`` is plainly
    another API's event (by ``object``, or a Responses ``type``), else ``""``."""
    kind = value.get("object")
    if isinstance(kind, str) and kind in _WHAT:
        api = api_of(value)
        assert api is not None
        return f": {_WHAT[kind]}: merge it with chunkagg.{ACCUMULATOR_NAMES[api]}"
    kind = value.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        return f": a Responses API event: merge it with chunkagg.{ACCUMULATOR_NAMES['responses']}"
    if api_of(value) == "messages":
        return (
            f": an Anthropic Messages event: merge it with chunkagg.{ACCUMULATOR_NAMES['messages']}"
        )
    return ""
