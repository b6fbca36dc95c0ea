"""Structured outputs of the Responses API: the caller's types on a built ``Response``, and the
live scans of typed values.

Owns ``Scan`` (one typed value scanned as it streams, with ``track=True``: the core's ``Live``,
plus the text it was fed) and ``attach`` (``parsed`` on each ``output_text`` part,
``output_parsed`` on each message and on the response, ``parsed_arguments`` on each function
call ``tools=`` names, each with ``parse_error``). The rules are the core's ``Target.result``;
what this module adds is where a Responses value ends:

- a message holding a ``refusal`` part refused: each of its values is ``None``, reason
  ``"refusal"``;
- a response, or an item, whose status is ``incomplete`` was cut: the reason is the server's
  ``incomplete_details.reason`` as sent (``max_output_tokens``, ``content_filter``);
- a ``completed`` one ended: a JSON text cut short is then ``"invalid_json"``;
- anything else (a stream cut before its terminal event, a ``failed`` response) gave no reason:
  a JSON text cut short is ``"incomplete"``.

Only output items and parts typed as ``models``' Structs get values: one kept as a plain
``dict`` (of a known kind but another shape) has nowhere to hang them and gets none.

A restated value (a ``*.done`` event, the terminal response) may differ from what streamed; a
scan's converted value is used only when the text it was fed is the text the result holds, and
the result's text is parsed once otherwise. Must not know events, bytes or the merge's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import UNSET

from .._core.parsed import Live, Structured, live_value, set_side
from .._core.targets import Target
from .models import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
)

__all__ = ["ARGUMENTS", "Scan", "attach"]

# The content index under which a function call's arguments are scanned (``Scan``s are keyed by
# (output_index, content_index)).
ARGUMENTS = -1


class Scan:
    """One typed value scanned as it streams: ``live`` (the core's), and ``seen``, the text it
    was fed (references to the fragments, joined once when the result is built)."""

    __slots__ = ("live", "seen")

    def __init__(self, target: Target, text: str) -> None:
        self.live = Live(target, text)
        self.seen = [text] if text else []

    def feed(self, fragment: str) -> Any:
        """Scan the next fragment; returns the partial value (``UNSET`` before it starts)."""
        self.seen.append(fragment)
        return self.live.feed(fragment)

    def converted(self, text: str | None) -> Any:
        """What the scan converted, when it was fed exactly ``text`` (the result's); else
        ``UNSET``, and the result's text is parsed on its own."""
        seen = self.seen
        if len(seen) > 1:
            seen[:] = ["".join(seen)]
        if text is None or (seen[0] if seen else "") != text:
            return UNSET
        return live_value(self.live)


def attach(
    response: Response, structured: Structured, scans: Mapping[tuple[int, int], Scan]
) -> None:
    """Hang the caller's types on a built ``response``, its messages, parts and function calls.

    ``scans``: the live scans by (output_index, content_index), ``ARGUMENTS`` for a call's
    arguments (empty without ``track=True``)."""
    content, tools = structured.content, structured.tools
    status = response.status
    details = response.incomplete_details
    reason = details.get("reason") if type(details) is dict else None
    cut = reason if type(reason) is str else None
    first: ResponseOutputMessage | None = None
    for index, item in enumerate(response.output or ()):
        if isinstance(item, ResponseOutputMessage):
            if content is not None:
                _message(item, index, content, _finish(status, item.status, cut), scans)
                if first is None:
                    first = item
        elif isinstance(item, ResponseFunctionToolCall) and tools:
            name = item.name
            target = tools.get(name) if type(name) is str else None
            if target is not None:
                arguments = item.arguments if type(item.arguments) is str else None
                scan = scans.get((index, ARGUMENTS))
                value, failure = target.result(
                    arguments,
                    _finish(status, item.status, cut),
                    None,
                    UNSET if scan is None else scan.converted(arguments),
                )
                set_side(item, value, failure, "parsed_arguments")
    if content is None:
        return
    if first is not None:
        set_side(response, first.output_parsed, first.parse_error, "output_parsed")
    else:
        value, failure = content.result(None, _finish(status, UNSET, cut))
        set_side(response, value, failure, "output_parsed")


def _finish(status: Any, item_status: Any, cut: str | None) -> str | None:
    """The finish reason ``Target.result`` reads for an item: the server's reason when the
    response or the item is ``incomplete`` (``None`` when it gave none), ``"completed"`` when
    either says it completed, else ``None`` (no reason came: a cut stream, a failed response)."""
    if status == "incomplete" or item_status == "incomplete":
        return cut
    if status == "completed" or item_status == "completed":
        return "completed"
    return None


def _message(
    item: ResponseOutputMessage,
    index: int,
    content: Target,
    finish: str | None,
    scans: Mapping[tuple[int, int], Scan],
) -> None:
    """``parsed`` on each ``output_text`` part of a message, and its ``output_parsed``."""
    parts = item.content if type(item.content) is list else []
    refusal: str | None = None
    for part in parts:
        said: Any
        if isinstance(part, ResponseOutputRefusal):
            said = part.refusal
        elif type(part) is dict and part.get("type") == "refusal":
            said = part.get("refusal")
        else:
            continue
        if type(said) is str and said:
            refusal = said
            break
        finish = "refusal"  # a refusal part without its text: refused all the same
    first: ResponseOutputText | None = None
    for sub, part in enumerate(parts):
        if not isinstance(part, ResponseOutputText):
            continue
        text = part.text if type(part.text) is str else None
        scan = scans.get((index, sub))
        value, failure = content.result(
            text, finish, refusal, UNSET if scan is None else scan.converted(text)
        )
        set_side(part, value, failure, "parsed")
        if first is None:
            first = part
    if first is not None:
        set_side(item, first.parsed, first.parse_error, "output_parsed")
    else:
        value, failure = content.result(None, finish, refusal)
        set_side(item, value, failure, "output_parsed")
