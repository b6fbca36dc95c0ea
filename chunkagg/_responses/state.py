"""The Responses API merge state: one output item, one content or summary part, and what
streams into each.

Owns ``ItemState`` (an item as announced or restated, with the overlays streamed since: parts,
argument fragments) and ``PartState`` (a part as announced, with its text or refusal fragments,
logprobs and annotations), ``built`` (a list as announced with the built entries in place),
and the tables that say which event streams into what. Must not know bytes, positions or the
order of events: ``merge`` decides what each event changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .._core.events import PartialParse
from .._core.output import join_fragments, overlay

__all__ = [
    "ITEM_DONE",
    "ITEM_STATUS",
    "ITEM_TEXT",
    "PART_DONE",
    "PART_TEXT",
    "ItemState",
    "PartField",
    "PartState",
    "built",
    "join_fragments",
    "kind_of",
]

# Where a part lives in its item: a message's (or a reasoning item's) content, or a summary.
PartField = Literal["content", "summary"]


class PartState:
    """One content or summary part: the part as announced, and what streamed into it since."""

    __slots__ = ("annotations", "logprobs", "refusal", "text", "value")

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        self.text: list[str] | None = None
        self.refusal: list[str] | None = None
        self.logprobs: list[Any] | None = None
        self.annotations: list[Any] | None = None

    def build(self) -> dict[str, Any]:
        """The part as built so far (sharing values with the state: read, or copy)."""
        if (
            self.text is None
            and self.refusal is None
            and self.logprobs is None
            and self.annotations is None
        ):
            return self.value
        part = dict(self.value)
        if self.text is not None:
            part["text"] = join_fragments(self.text)
        if self.refusal is not None:
            part["refusal"] = join_fragments(self.refusal)
        if self.logprobs is not None:
            part["logprobs"] = self.logprobs
        if self.annotations is not None:
            part["annotations"] = self.annotations
        return part

    def fragments(self, key: str) -> list[str]:
        """The fragments of ``text`` or ``refusal``, started from the announced value."""
        frags = self.text if key == "text" else self.refusal
        if frags is None:
            start = self.value.get(key)
            frags = [start] if type(start) is str and start else []
            if key == "text":
                self.text = frags
            else:
                self.refusal = frags
        return frags


class ItemState:
    """One output item: its value as announced (or restated), and the overlays streamed since."""

    __slots__ = ("content", "parse", "strings", "summary", "value")

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        self.content: dict[int, PartState] | None = None
        self.summary: dict[int, PartState] | None = None
        self.strings: dict[str, list[str]] | None = None  # arguments, input, code
        self.parse: PartialParse | None = None

    def parts(self, field: PartField) -> dict[int, PartState]:
        if field == "content":
            if self.content is None:
                self.content = {}
            return self.content
        if self.summary is None:
            self.summary = {}
        return self.summary

    def part(self, field: PartField, index: int, kind: str) -> PartState:
        """Part ``index`` of ``content`` or ``summary``; one the item listed when announced,
        else a new one holding only the type its event implies."""
        parts = self.parts(field)
        part = parts.get(index)
        if part is None:
            listed = self.value.get(field)
            if type(listed) is list and index < len(listed) and type(listed[index]) is dict:
                part = PartState(listed[index])
            else:
                part = PartState({"type": kind})
            parts[index] = part
        return part

    def annotation_count(self, index: int) -> int:
        """How many annotations content part ``index`` holds (as built, or as announced)."""
        part = self.content.get(index) if self.content is not None else None
        if part is not None and part.annotations is not None:
            return len(part.annotations)
        value = part.value if part is not None else None
        if value is None:
            listed = self.value.get("content")
            if type(listed) is list and index < len(listed) and type(listed[index]) is dict:
                value = listed[index]
        start = value.get("annotations") if value is not None else None
        return len(start) if type(start) is list else 0

    def last(self, field: PartField) -> int:
        """The index a content event without one refers to: the latest part, else 0."""
        parts = self.content if field == "content" else self.summary
        if parts:
            return max(parts)
        listed = self.value.get(field)
        return max(len(listed) - 1, 0) if type(listed) is list else 0

    def fragments(self, key: str) -> list[str]:
        strings = self.strings
        if strings is None:
            strings = self.strings = {}
        frags = strings.get(key)
        if frags is None:
            start = self.value.get(key)
            frags = strings[key] = [start] if type(start) is str and start else []
        return frags

    def build(self) -> dict[str, Any]:
        """The item as built so far (sharing values with the state: read, or copy)."""
        if self.content is None and self.summary is None and self.strings is None:
            return self.value
        item = dict(self.value)
        if self.strings is not None:
            for key, frags in self.strings.items():
                item[key] = join_fragments(frags)
        if self.content is not None:
            item["content"] = built(self.value.get("content"), self.content)
        if self.summary is not None:
            item["summary"] = built(self.value.get("summary"), self.summary)
        return item


def built(listed: Any, states: Mapping[int, PartState | ItemState]) -> list[Any]:
    """A list as announced, with each state's build at its index (the core's ``overlay``)."""
    return overlay(listed, {index: state.build() for index, state in states.items()})


# What each streamed string goes into: (kind of part or item the event implies, key).
PART_TEXT = {
    "response.output_text.delta": ("output_text", "text"),
    "response.refusal.delta": ("refusal", "refusal"),
    "response.reasoning_text.delta": ("reasoning_text", "text"),
    "response.reasoning.delta": ("reasoning_text", "text"),  # Orq's name for reasoning_text
    "response.reasoning_summary_text.delta": ("summary_text", "text"),
}
PART_DONE = {
    "response.output_text.done": ("output_text", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.reasoning_text.done": ("reasoning_text", "text"),
    "response.reasoning.done": ("reasoning_text", "text"),
    "response.reasoning_summary_text.done": ("summary_text", "text"),
}
ITEM_TEXT = {
    "response.function_call_arguments.delta": ("function_call", "arguments"),
    "response.custom_tool_call_input.delta": ("custom_tool_call", "input"),
    "response.mcp_call_arguments.delta": ("mcp_call", "arguments"),
    "response.code_interpreter_call_code.delta": ("code_interpreter_call", "code"),
}
ITEM_DONE = {
    "response.function_call_arguments.done": ("function_call", "arguments"),
    "response.custom_tool_call_input.done": ("custom_tool_call", "input"),
    "response.mcp_call_arguments.done": ("mcp_call", "arguments"),
    "response.code_interpreter_call_code.done": ("code_interpreter_call", "code"),
}
# Built-in tool calls announce their progress as events; each sets the item's status (a key
# every one of these items has), as the event names it.
ITEM_STATUS = {
    f"response.{kind}.{status}": status
    for kind, statuses in (
        ("web_search_call", ("in_progress", "searching", "completed")),
        ("file_search_call", ("in_progress", "searching", "completed")),
        ("code_interpreter_call", ("in_progress", "interpreting", "completed")),
        ("image_generation_call", ("in_progress", "generating", "completed")),
        ("mcp_call", ("in_progress", "completed", "failed")),
    )
    for status in statuses
}


def kind_of(part_kind: str) -> str:
    """The item kind a content or summary event implies."""
    return "reasoning" if part_kind in ("reasoning_text", "summary_text") else "message"
