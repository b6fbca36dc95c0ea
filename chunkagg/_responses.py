"""The Responses API stream (``POST /v1/responses``, Orq's ``/v3/router/responses``): typed
events in, one ``Response`` out.

Owns ``ResponseAccumulator`` (the format's hooks of ``StreamAccumulator``) and the merge of
Responses events: which event changes what, the comparison of restated values with what the
stream built, and the typed ``Response`` built from the merge state; also the per-event hot path
(decode and merge of a run of events in one loop) and, as a ``Framer`` subclass, a fast path for
the two-line events OpenAI sends (``event:`` then ``data:``), which ``_framing`` would run
through its line path. Must not know SSE's rules (``_framing``), positions and faults
(``_stream``), or how JSON becomes a Struct (``_schema``).

The merge keeps a plain ``dict`` per output item, as ``response.output_item.added`` announced it
(copied: nothing the caller holds is shared), plus overlays for what streams: per content part
and per summary part, the text fragments (a list, joined once), logprobs and annotations; per
item, the fragments of ``arguments`` (``input``, ``code``). A ``*.done`` event or
``response.output_item.done`` restates a whole value: it replaces what was built, once compared
with it. The terminal event (``response.completed``, ``.incomplete``, ``.failed``) carries the
whole response: it is the result, compared with what the events built. Every comparison that
finds a difference records a ``Disagreement``; none raises.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any, Literal

import msgspec
import orjson
from msgspec import UNSET

from ._errors import ChunkAggError, ChunkError, LimitExceededError
from ._events import _GROWTH, _MIN_GROWTH, _load_partial
from ._extensions import copy
from ._framing import BATCH, BATCH_CRLF, BATCH_NDJSON, DONE, SKIP, Format, Framer, classify
from ._merge import DEFAULT_MAX_TEXT_SIZE
from ._response_models import (
    Disagreement,
    FunctionCallArgumentsDelta,
    FunctionCallDone,
    OutputAnnotationAdded,
    OutputItemDone,
    OutputReasoningDelta,
    OutputRefusalDelta,
    OutputTextDelta,
    Response,
    ResponseError,
    ResponseEvent,
    ResponseFinished,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningContent,
    ResponseReasoningItem,
    ResponseReasoningSummary,
    ResponseUpdate,
    ResponseUsage,
)
from ._schema import DECODE_ERRORS, ChunkDecoder, build_output, lenient
from ._stream import (
    DEFAULT_MAX_EVENT_SIZE,
    StreamAccumulator,
    _attach,
    _error_event,
    _run,
    check_limits,
)

__all__ = ["DEFAULT_MAX_ITEMS", "ResponseAccumulator"]

# Output items, content parts, summary parts and annotations are addressed by index; each index
# must be below this, so a broken index never grows the state. Real responses hold a few items
# (an agentic run with many tool calls, a few dozen); the API caps max_tool_calls far lower.
DEFAULT_MAX_ITEMS = 1024

# Only the event type is checked when decoding: every other field is checked by the merge, for
# the event types that read it, so an event of a type chunkagg does not know is never rejected.
lenient(ResponseEvent, frozenset({"type"}))

_DECODE_ERRORS = DECODE_ERRORS
_any_decoder = msgspec.json.Decoder()
_BLANKS = b" \t\r\n"

_LIFECYCLE = frozenset(("response.created", "response.queued", "response.in_progress"))
# response.cancelled: background mode; not in either SDK's union, but some gateways send it.
_TERMINAL = frozenset(
    ("response.completed", "response.incomplete", "response.failed", "response.cancelled")
)


# Where a part lives in its item: a message's (or a reasoning item's) content, or a summary.
_Field = Literal["content", "summary"]


# -- merge state ---------------------------------------------------------------------------------


class _Part:
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
            part["text"] = _join(self.text)
        if self.refusal is not None:
            part["refusal"] = _join(self.refusal)
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


class _Parse:
    """Live-event state of one function call's arguments (``track=True``)."""

    __slots__ = ("parsed", "parsed_at", "reported", "size")

    def __init__(self) -> None:
        self.size = 0
        self.parsed_at = 0
        self.parsed: Any = None
        self.reported: str | None = None  # the arguments of the last FunctionCallDone


class _Item:
    """One output item: its value as announced (or restated), and the overlays streamed since."""

    __slots__ = ("content", "parse", "strings", "summary", "value")

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        self.content: dict[int, _Part] | None = None
        self.summary: dict[int, _Part] | None = None
        self.strings: dict[str, list[str]] | None = None  # arguments, input, code
        self.parse: _Parse | None = None

    def parts(self, field: _Field) -> dict[int, _Part]:
        if field == "content":
            if self.content is None:
                self.content = {}
            return self.content
        if self.summary is None:
            self.summary = {}
        return self.summary

    def part(self, field: _Field, index: int, kind: str) -> _Part:
        """Part ``index`` of ``content`` or ``summary``; one the item listed when announced,
        else a new one holding only the type its event implies."""
        parts = self.parts(field)
        part = parts.get(index)
        if part is None:
            listed = self.value.get(field)
            if type(listed) is list and index < len(listed) and type(listed[index]) is dict:
                part = _Part(listed[index])
            else:
                part = _Part({"type": kind})
            parts[index] = part
        return part

    def last(self, field: _Field) -> int:
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
                item[key] = _join(frags)
        if self.content is not None:
            item["content"] = _overlay(self.value.get("content"), self.content)
        if self.summary is not None:
            item["summary"] = _overlay(self.value.get("summary"), self.summary)
        return item


def _join(frags: list[str]) -> str:
    # Joined once, and kept joined: snapshots during a stream never re-join old fragments.
    if len(frags) == 1:
        return frags[0]
    text = "".join(frags)
    frags[:] = [text] if text else []
    return text


def _overlay(listed: Any, parts: Mapping[int, _Part | _Item]) -> list[Any]:
    """A list as announced, with each built entry at its index (or after the last)."""
    out = list(listed) if type(listed) is list else []
    for index in sorted(parts):
        built = parts[index].build()
        if index < len(out):
            out[index] = built
        else:
            out.append(built)
    return out


# What each streamed string goes into: (kind of part or item the event implies, key).
_PART_TEXT = {
    "response.output_text.delta": ("output_text", "text"),
    "response.refusal.delta": ("refusal", "refusal"),
    "response.reasoning_text.delta": ("reasoning_text", "text"),
    "response.reasoning.delta": ("reasoning_text", "text"),  # Orq's name for reasoning_text
    "response.reasoning_summary_text.delta": ("summary_text", "text"),
}
_PART_DONE = {
    "response.output_text.done": ("output_text", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.reasoning_text.done": ("reasoning_text", "text"),
    "response.reasoning.done": ("reasoning_text", "text"),
    "response.reasoning_summary_text.done": ("summary_text", "text"),
}
_ITEM_TEXT = {
    "response.function_call_arguments.delta": ("function_call", "arguments"),
    "response.custom_tool_call_input.delta": ("custom_tool_call", "input"),
    "response.mcp_call_arguments.delta": ("mcp_call", "arguments"),
    "response.code_interpreter_call_code.delta": ("code_interpreter_call", "code"),
}
_ITEM_DONE = {
    "response.function_call_arguments.done": ("function_call", "arguments"),
    "response.custom_tool_call_input.done": ("custom_tool_call", "input"),
    "response.mcp_call_arguments.done": ("mcp_call", "arguments"),
    "response.code_interpreter_call_code.done": ("code_interpreter_call", "code"),
}
# Built-in tool calls announce their progress as events; each sets the item's status (a key
# every one of these items has), as the event names it.
_ITEM_STATUS = {
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


def _kind_of(part_kind: str) -> str:
    """The item kind a content or summary event implies."""
    return "reasoning" if part_kind in ("reasoning_text", "summary_text") else "message"


class _Merger:
    """The merge state of one Responses stream, and every rule of the event table.

    Must not know bytes or positions: it raises without an event number or offset. Each
    handler checks everything that can be wrong with its event before it changes anything, so a
    bad event is dropped whole.
    """

    __slots__ = (
        "disagreements",
        "event",
        "final",
        "hot",
        "ids",
        "items",
        "lifecycle",
        "max_items",
        "max_text_size",
        "other",
        "partial",
        "room",
        "terminal",
        "updates",
    )

    def __init__(self, max_items: int, max_text_size: int, track: bool) -> None:
        self.max_items = max_items
        self.max_text_size = max_text_size
        self.items: dict[int, _Item] = {}
        self.ids: dict[str, int] = {}  # item id to output index, for events that omit the index
        self.lifecycle: dict[str, Any] | None = None  # the last created/queued/in_progress
        self.final: dict[str, Any] | None = None  # the terminal event's response
        self.terminal: str | None = None
        self.other: list[ResponseEvent] = []
        self.disagreements: list[Disagreement] = []
        # max_text_size less the characters streamed and logprob entries: once below zero,
        # every event that would add some is dropped.
        self.room = max_text_size
        self.event = 0  # number of the event being merged, set by the accumulator
        self.updates: list[ResponseUpdate] | None = [] if track else None
        self.partial = _load_partial() if track else None
        # The fragments the last delta went to, and the fields of that delta, for the next one
        # to the same place: (event class, type, output_index, content_index, summary_index,
        # fragments, the live event's maker or None). Set only by a delta; any other event
        # clears it, so it never outlives the structure it points into.
        self.hot: _Hot | None = None

    @property
    def empty(self) -> bool:
        return self.lifecycle is None and self.final is None and not self.items

    def merge(self, ev: ResponseEvent) -> None:
        hot = self.hot
        if hot is not None:
            # The common event: one more fragment for the same place as the last one. Its class
            # types every field read here as declared, so comparing values is enough.
            cls, kind, output_index, content_index, summary_index, frags, make = hot
            delta = ev.delta
            if (
                type(ev) is cls
                and ev.type == kind
                and ev.output_index == output_index
                and ev.content_index == content_index
                and ev.summary_index == summary_index
                and delta is not None
                and not ev.logprobs
                and self.room >= 0
            ):
                frags.append(delta)
                self.room -= len(delta)
                if make is not None and delta:
                    self.updates.append(make(delta=delta))  # type: ignore[union-attr]
                return
            self.hot = None
        handler = _HANDLERS.get(ev.type)
        if handler is None:
            # An event type the merge has no rule for: kept, never an error.
            self.other.append(ev)
            return
        if self.terminal is not None:
            # The terminal event's response is the result: what follows it could only be merged
            # out of sight (and reported live, as a tool call the result does not hold).
            raise ChunkError(
                f"{ev.type} after the stream's terminal event ({self.terminal}): not merged"
            )
        handler(self, ev)

    # -- checks (before any change) -------------------------------------------------------------

    def _index(self, value: Any, name: str, ev: ResponseEvent) -> int:
        if type(value) is not int:
            raise ChunkError(f"{ev.type}: {name} must be an integer, not {value!r}")
        if value < 0:
            raise ChunkError(f"{ev.type}: negative {name} {value}")
        if value >= self.max_items:
            raise LimitExceededError(
                f"{ev.type}: {name} {value} is too large",
                limit="max_items",
                value=self.max_items,
            )
        return value

    def _output_index(self, ev: ResponseEvent) -> int:
        index = ev.output_index
        if index is None:
            # Some servers address an item by its id alone.
            item_id = ev.item_id
            found = self.ids.get(item_id) if type(item_id) is str else None
            if found is None:
                raise ChunkError(f"{ev.type} without an output_index (or a known item_id)")
            return found
        return self._index(index, "output_index", ev)

    def _sub_index(self, value: Any, name: str, ev: ResponseEvent, item: _Item | None) -> int:
        if value is None:
            return item.last("summary" if name == "summary_index" else "content") if item else 0
        return self._index(value, name, ev)

    def _text(self, value: Any, name: str, ev: ResponseEvent) -> str:
        if type(value) is not str:
            raise ChunkError(f"{ev.type}: {name} must be a string, not {reprlib.repr(value)}")
        return value

    def _object(self, value: Any, name: str, ev: ResponseEvent) -> dict[str, Any]:
        if type(value) is not dict:
            raise ChunkError(f"{ev.type}: {name} must be an object, not {reprlib.repr(value)}")
        return value

    def _room(self, ev: ResponseEvent) -> None:
        if self.room < 0:
            raise LimitExceededError(
                f"{ev.type}: merged text is over the limit",
                limit="max_text_size",
                value=self.max_text_size,
            )

    # -- changes --------------------------------------------------------------------------------

    def _item(self, index: int, ev: ResponseEvent, kind: str) -> _Item:
        """Item ``index``; one the stream never announced holds only what its event says."""
        item = self.items.get(index)
        if item is None:
            value: dict[str, Any] = {}
            if type(ev.item_id) is str:
                value["id"] = ev.item_id
                self.ids[ev.item_id] = index
            value["type"] = kind
            item = self.items[index] = _Item(value)
        return item

    def _report(
        self, path: tuple[str | int, ...], streamed: Any, sent: Any, ev: ResponseEvent
    ) -> None:
        found = Disagreement(
            path=_path(path),
            event=self.event,
            source=ev.type,
            streamed=copy(streamed),
            sent=copy(sent),
        )
        self.disagreements.append(found)
        if self.updates is not None:
            self.updates.append(found)

    def _compare(
        self, path: tuple[str | int, ...], streamed: Any, sent: Any, ev: ResponseEvent
    ) -> None:
        """Report where ``sent`` (a restated value) contradicts ``streamed`` (what was built).

        Only what was built is judged: a value still empty (``None``, ``""``, ``[]``, ``{}``)
        was not streamed; a key only ``sent`` has is news, not a contradiction (the final
        logprobs add ``bytes``); and ``status`` is expected to change.
        """
        if streamed == sent or streamed is None or (not streamed and type(streamed) in _EMPTY):
            return
        if type(streamed) is dict and type(sent) is dict:
            for key, value in streamed.items():
                if key == "status":
                    continue
                if key in sent:
                    self._compare((*path, key), value, sent[key], ev)
                elif not (value is None or (not value and type(value) in _EMPTY)):
                    self._report((*path, key), value, UNSET, ev)
        elif type(streamed) is list and type(sent) is list and len(streamed) == len(sent):
            for i, (a, b) in enumerate(zip(streamed, sent, strict=True)):
                self._compare((*path, i), a, b, ev)
        else:
            self._report(path, streamed, sent, ev)

    def _built_output(self) -> list[Any]:
        base = self.lifecycle.get("output") if self.lifecycle is not None else None
        return _overlay(base, self.items)

    def _heat(
        self, ev: ResponseEvent, frags: list[str], make: _Make | None, tracked: bool = True
    ) -> None:
        """Let the next delta to the same place take the short way (see ``merge``). With live
        events, only if ``tracked``: ``make(delta=...)`` is its live event then, if any."""
        if self.updates is not None and not tracked:
            return
        cls = type(ev)
        if _hot_safe(cls):
            self.hot = (
                cls,
                ev.type,
                ev.output_index,
                ev.content_index,
                ev.summary_index,
                frags,
                make,
            )

    # -- lifecycle ----------------------------------------------------------------------------

    def _response(self, ev: ResponseEvent) -> dict[str, Any]:
        response = self._object(ev.response, "response", ev)
        try:
            msgspec.convert(response, Response)
        except msgspec.ValidationError as exc:
            raise ChunkError(f"{ev.type}: invalid response: {exc}") from exc
        value: dict[str, Any] = copy(response)
        return value

    def on_lifecycle(self, ev: ResponseEvent) -> None:
        response = self._response(ev)
        before = self.lifecycle
        if before is not None and "id" in before and "id" in response:
            self._compare(("id",), before["id"], response["id"], ev)
        self.lifecycle = response

    def on_terminal(self, ev: ResponseEvent) -> None:
        response = self._response(ev)
        built = self.lifecycle
        if built is not None and "id" in built and "id" in response:
            self._compare(("id",), built["id"], response["id"], ev)
        sent = response.get("output")
        if type(sent) is list:
            self._compare(("output",), self._built_output(), sent, ev)
        self.final = response
        self.terminal = ev.type
        if self.updates is not None:
            self.updates.append(
                ResponseFinished(
                    status=response.get("status"),
                    error=copy(response.get("error")),
                    incomplete_details=copy(response.get("incomplete_details")),
                )
            )

    # -- items ----------------------------------------------------------------------------------

    def on_item_added(self, ev: ResponseEvent) -> None:
        if ev.item is None:
            return  # an empty announcement (a provider quirk openai-python tolerates too)
        value = self._object(ev.item, "item", ev)
        index = self._output_index(ev)
        old = self.items.get(index)
        if old is not None:
            # An announcement after events that built the item (sent late, or twice): what
            # streamed into it stays; only the keys known before are compared.
            self._compare(("output", index), old.value, value, ev)
        item = self._set_item(index, value)
        if old is not None:
            item.content, item.summary, item.strings = old.content, old.summary, old.strings

    def on_item_done(self, ev: ResponseEvent) -> None:
        if ev.item is None:
            return
        value = self._object(ev.item, "item", ev)
        index = self._output_index(ev)
        old = self.items.get(index)
        if old is not None:
            self._compare(("output", index), old.build(), value, ev)
        item = self._set_item(index, value)
        if self.updates is not None:
            self.updates.append(OutputItemDone(output_index=index, item=_typed_item(copy(value))))
            if item.value.get("type") == "function_call":
                self._call_done(index, item)

    def _set_item(self, index: int, value: dict[str, Any]) -> _Item:
        item = _Item(copy(value))
        parse = self.items[index].parse if index in self.items else None
        item.parse = parse
        self.items[index] = item
        item_id = value.get("id")
        if type(item_id) is str:
            self.ids[item_id] = index
        return item

    def on_item_status(self, ev: ResponseEvent) -> None:
        index = self._output_index(ev)
        item = self.items.get(index)
        if item is not None and "status" in item.value:
            item.value["status"] = _ITEM_STATUS[ev.type]

    # -- parts ------------------------------------------------------------------------------

    def _part_place(self, ev: ResponseEvent, field: _Field) -> tuple[int, int]:
        index = self._output_index(ev)
        name = "summary_index" if field == "summary" else "content_index"
        value = ev.summary_index if field == "summary" else ev.content_index
        return index, self._sub_index(value, name, ev, self.items.get(index))

    def on_part_added(self, ev: ResponseEvent, field: _Field = "content") -> None:
        value = self._object(ev.part, "part", ev)
        index, sub = self._part_place(ev, field)
        kind = value.get("type")
        item = self._item(index, ev, _kind_of(kind) if type(kind) is str else "message")
        parts = item.parts(field)
        old = parts.get(sub)
        part = parts[sub] = _Part(copy(value))
        if old is not None:
            # As for a late item: what streamed into the part stays.
            self._compare(("output", index, field, sub), old.value, value, ev)
            part.text, part.refusal = old.text, old.refusal
            part.logprobs, part.annotations = old.logprobs, old.annotations

    def on_part_done(self, ev: ResponseEvent, field: _Field = "content") -> None:
        value = self._object(ev.part, "part", ev)
        index, sub = self._part_place(ev, field)
        kind = value.get("type")
        item = self._item(index, ev, _kind_of(kind) if type(kind) is str else "message")
        kind = kind if type(kind) is str else "output_text"
        self._compare(("output", index, field, sub), item.part(field, sub, kind).build(), value, ev)
        item.parts(field)[sub] = _Part(copy(value))

    def on_summary_part_added(self, ev: ResponseEvent) -> None:
        self.on_part_added(ev, "summary")

    def on_summary_part_done(self, ev: ResponseEvent) -> None:
        self.on_part_done(ev, "summary")

    def on_part_text(self, ev: ResponseEvent) -> None:
        """A text, refusal, reasoning or summary fragment (and its logprobs)."""
        kind, key = _PART_TEXT[ev.type]
        delta = self._text(ev.delta, "delta", ev)
        field: _Field = "summary" if kind == "summary_text" else "content"
        index, sub = self._part_place(ev, field)
        logprobs = ev.logprobs
        if logprobs is not None and type(logprobs) is not list:
            raise ChunkError(f"{ev.type}: logprobs must be a list, not {reprlib.repr(logprobs)}")
        self._room(ev)
        part = self._item(index, ev, _kind_of(kind)).part(field, sub, kind)
        frags = part.fragments(key)
        frags.append(delta)
        self.room -= len(delta)
        if logprobs:
            current = part.logprobs
            if current is None:
                start = part.value.get("logprobs")
                current = part.logprobs = list(start) if type(start) is list else []
            current.extend(copy(logprobs))
            self.room -= len(logprobs)
        make: _Make | None = None
        if self.updates is not None:
            if kind == "output_text":
                make = functools.partial(OutputTextDelta, output_index=index, content_index=sub)
            elif kind == "refusal":
                make = functools.partial(OutputRefusalDelta, output_index=index, content_index=sub)
            else:
                make = functools.partial(
                    OutputReasoningDelta, output_index=index, index=sub, field=field
                )
            if delta:
                self.updates.append(make(delta=delta))
        if (
            ev.output_index is not None
            and (ev.summary_index if field == "summary" else ev.content_index) is not None
        ):
            self._heat(ev, frags, make)

    def on_part_text_done(self, ev: ResponseEvent) -> None:
        """A whole text, refusal, reasoning or summary text, restated."""
        kind, key = _PART_DONE[ev.type]
        text = self._text(ev.refusal if key == "refusal" else ev.text, key, ev)
        field: _Field = "summary" if kind == "summary_text" else "content"
        index, sub = self._part_place(ev, field)
        logprobs = ev.logprobs
        if logprobs is not None and type(logprobs) is not list:
            raise ChunkError(f"{ev.type}: logprobs must be a list, not {reprlib.repr(logprobs)}")
        part = self._item(index, ev, _kind_of(kind)).part(field, sub, kind)
        path = ("output", index, field, sub)
        frags = part.fragments(key)
        self._compare((*path, key), _join(frags), text, ev)
        frags[:] = [text] if text else []
        if logprobs is not None and kind == "output_text":
            if part.logprobs is not None:
                self._compare((*path, "logprobs"), part.logprobs, logprobs, ev)
            part.logprobs = copy(logprobs)

    def on_annotation(self, ev: ResponseEvent) -> None:
        annotation = ev.annotation
        if annotation is None:
            return
        index, sub = self._part_place(ev, "content")
        at = ev.annotation_index
        if at is not None:
            at = self._index(at, "annotation_index", ev)
        part = self._item(index, ev, "message").part("content", sub, "output_text")
        annotations = part.annotations
        if annotations is None:
            start = part.value.get("annotations")
            annotations = part.annotations = list(start) if type(start) is list else []
        position = len(annotations) if at is None else at
        annotations.insert(position, copy(annotation))
        if self.updates is not None:
            self.updates.append(
                OutputAnnotationAdded(
                    output_index=index,
                    content_index=sub,
                    annotation_index=min(position, len(annotations) - 1),
                    annotation=copy(annotation),
                )
            )

    # -- item-level strings (arguments, input, code) -----------------------------------------

    def on_item_text(self, ev: ResponseEvent) -> None:
        kind, key = _ITEM_TEXT[ev.type]
        delta = self._text(ev.delta, "delta", ev)
        index = self._output_index(ev)
        self._room(ev)
        item = self._item(index, ev, kind)
        frags = item.fragments(key)
        frags.append(delta)
        self.room -= len(delta)
        if ev.output_index is not None:
            # A live FunctionCallArgumentsDelta carries a parse: the long way only.
            self._heat(ev, frags, None, tracked=kind != "function_call")
        if self.updates is not None and kind == "function_call" and delta:
            self.updates.append(
                FunctionCallArgumentsDelta(
                    output_index=index,
                    item_id=_str(item.value.get("id")),
                    delta=delta,
                    parsed=self._grow(item, len(delta)),
                )
            )

    def on_item_text_done(self, ev: ResponseEvent) -> None:
        kind, key = _ITEM_DONE[ev.type]
        text = self._text(getattr(ev, key), key, ev)
        index = self._output_index(ev)
        item = self._item(index, ev, kind)
        frags = item.fragments(key)
        self._compare(("output", index, key), _join(frags), text, ev)
        frags[:] = [text] if text else []
        if ev.name is not None and kind in ("function_call", "mcp_call"):
            # The call's name, restated (openai-python's event model carries it): news for an
            # item never announced, compared with the announced one otherwise.
            self._compare(("output", index, "name"), item.value.get("name"), ev.name, ev)
            item.value["name"] = ev.name
        if self.updates is not None and kind == "function_call":
            self._call_done(index, item)

    # -- live events of function calls ----------------------------------------------------------

    def _grow(self, item: _Item, grown: int) -> Any:
        state = item.parse
        if state is None:
            state = item.parse = _Parse()
        state.size += grown
        if (
            self.partial is not None
            and state.size >= state.parsed_at * _GROWTH
            and state.size - state.parsed_at >= _MIN_GROWTH
        ):
            state.parsed_at = state.size
            try:
                state.parsed = self.partial(_join(item.fragments("arguments")).encode())
            except ValueError:
                state.parsed = None
        return state.parsed

    def _call_done(self, index: int, item: _Item) -> None:
        assert self.updates is not None
        value = item.build()
        arguments = value.get("arguments")
        if type(arguments) is not str:
            return
        state = item.parse
        if state is None:
            state = item.parse = _Parse()
        if state.reported == arguments:
            return
        state.reported = arguments
        try:
            parsed, valid = orjson.loads(arguments), True
        except orjson.JSONDecodeError:
            parsed, valid = None, False
        self.updates.append(
            FunctionCallDone(
                output_index=index,
                item_id=_str(value.get("id")),
                call_id=_str(value.get("call_id")),
                name=_str(value.get("name")),
                arguments=arguments,
                parsed=parsed,
                valid=valid,
            )
        )

    def finish(self) -> None:
        if self.updates is None:
            return
        for index in sorted(self.items):
            item = self.items[index]
            if item.value.get("type") == "function_call":
                self._call_done(index, item)

    # -- the result -----------------------------------------------------------------------------

    def build(self) -> Response:
        if self.final is not None:
            response = dict(self.final)
            if response.get("output") is None:
                # As openai-python does: a terminal response without its output takes the items
                # the events built.
                response["output"] = self._built_output()
        else:
            response = dict(self.lifecycle) if self.lifecycle is not None else {}
            response["output"] = self._built_output()
        # One copy of the whole tree: the result shares nothing with the state.
        return _typed_response(copy(response))


_EMPTY = (str, list, dict)
# What _Merger.hot holds (see there), and the maker of a delta's live event.
_Make = Callable[..., Any]
_Hot = tuple[type[ResponseEvent], str, Any, Any, Any, list[str], _Make | None]
# The fields the hot path of _Merger.merge reads, with their declared types.
_HOT_TYPES = {
    f.name: f.type
    for f in msgspec.structs.fields(ResponseEvent)
    if f.name in ("delta", "output_index", "content_index", "summary_index", "logprobs")
}


@functools.lru_cache(maxsize=256)
def _hot_safe(cls: type) -> bool:
    """Whether a (derived) event class types the fields the hot path reads as declared: a
    stream whose events carried one of another type has them typed ``Any``."""
    types = {f.name: f.type for f in msgspec.structs.fields(cls)}
    return all(types[name] == _HOT_TYPES[name] for name in _HOT_TYPES)


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _path(parts: tuple[str | int, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if type(part) is int else (f".{part}" if out else str(part))
    return out


_Handler = Callable[[_Merger, ResponseEvent], None]
_HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(_LIFECYCLE, _Merger.on_lifecycle),
    **dict.fromkeys(_TERMINAL, _Merger.on_terminal),
    "response.output_item.added": _Merger.on_item_added,
    "response.output_item.done": _Merger.on_item_done,
    "response.content_part.added": _Merger.on_part_added,
    "response.content_part.done": _Merger.on_part_done,
    "response.reasoning_summary_part.added": _Merger.on_summary_part_added,
    "response.reasoning_summary_part.done": _Merger.on_summary_part_done,
    "response.output_text.annotation.added": _Merger.on_annotation,
    **dict.fromkeys(_PART_TEXT, _Merger.on_part_text),
    **dict.fromkeys(_PART_DONE, _Merger.on_part_text_done),
    **dict.fromkeys(_ITEM_TEXT, _Merger.on_item_text),
    **dict.fromkeys(_ITEM_DONE, _Merger.on_item_text_done),
    **dict.fromkeys(_ITEM_STATUS, _Merger.on_item_status),
}


# -- builtins to typed output -------------------------------------------------------------------


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


def _typed_item(value: Any) -> Any:
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


def _typed_response(value: dict[str, Any]) -> Response:
    keys = _KEYS[Response]
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        (known if key in keys else extra)[key] = item
    output = known.get("output")
    if type(output) is list:
        known["output"] = [_typed_item(item) for item in output]
    usage = known.get("usage")
    if type(usage) is dict:
        known["usage"] = _typed(ResponseUsage, usage, {})
    error = known.get("error")
    if type(error) is dict:
        known["error"] = _typed(ResponseError, error, {})
    result: Response = build_output(Response, extra, **known)
    return result


# -- framing: the shape OpenAI sends ------------------------------------------------------------


# A frame kind beyond _framing's: a run of complete events of the shape "event: <type>" then
# "data: {...}"; its payload is an _EventRun.
_EVENT_RUN = max(BATCH, BATCH_CRLF, BATCH_NDJSON) + 1


class _EventRun:
    """A run of two-line events: their payloads, their ``event:`` lines (for the offsets, which
    are computed only for a fault), and the stream offset of event ``first``, where to start (a
    run resumed after a bad event is never copied)."""

    __slots__ = ("first", "names", "offset", "payloads")

    def __init__(
        self, payloads: Sequence[bytes], names: Sequence[bytes], offset: int, first: int = 0
    ) -> None:
        self.payloads = payloads
        self.names = names
        self.offset = offset
        self.first = first

    def start(self, k: int) -> int:
        """Where event ``k`` starts in the stream."""
        names, payloads = self.names, self.payloads
        return self.offset + sum(_span(names[j], payloads[j]) for j in range(self.first, k))


def _span(name: bytes, payload: bytes) -> int:
    # The name line ("event: " and the name), "\n", "data: ", the payload, "\n\n".
    return len(name) + len(payload) + 9


class _EventFramer(Framer):
    """``Framer``, with a fast path for the events of an OpenAI Responses stream.

    Each event there is two lines, ``event: <type>`` then ``data: <json>``, which ``Framer``'s
    fast path hands, one event at a time, to its line path (about 2 us an event in Python).
    Here a region of complete LF-framed events (which ``Framer`` cuts at a blank line) that is
    nothing but events of that exact shape is queued as one ``_EVENT_RUN`` frame, which the
    accumulator decodes and merges in one loop: the same payloads, offsets and faults as the
    line path. The event name matters only when it is ``error``, which goes as before; without
    an ``id:`` line, the last event id does not change. A region of any other shape goes
    through ``Framer`` as before.
    """

    __slots__ = ()

    def _split_events(self, region: bytes, offset: int) -> None:
        if not (self._same_name(region, offset) or self._two_lines(region, offset)):
            super()._split_events(region, offset)

    def _same_name(self, region: bytes, offset: int) -> bool:
        """Queue a region of n events that all have the same name (a run of deltas): the
        payloads come out of one split on what separates them. Each separator holds three line
        feeds, so 3n line feeds in all prove the payloads hold none; counting the separators
        with the braces around them proves each payload starts with ``{`` and ends with ``}``."""
        end = region.find(b"\n")
        line = region[:end]
        if (
            not line.startswith(b"event: ")
            or line == b"event: error"
            or not region.startswith(b"\ndata: {", end)
            or not region.endswith(b"}\n\n")
        ):
            return False
        between = b"\n\n" + line + b"\ndata: "
        n = region.count(b"}" + between + b"{") + 1
        if region.count(b"\n") != 3 * n:
            return False
        payloads = region.split(between)
        if len(payloads) != n:
            return False
        # The first payload still has its name and "data: " before it, the last the blank line.
        payloads[0] = payloads[0][end + 7 :]
        payloads[-1] = payloads[-1][:-2]
        if len(region) > self._max and max(map(len, payloads)) > self._max:
            return False
        self.frames.append((_EVENT_RUN, offset, _EventRun(payloads, [line] * n, offset)))
        return True

    def _two_lines(self, region: bytes, offset: int) -> bool:
        """Queue a region of two-line events with different names, in two passes of C over
        the payloads' bytes (a replace, a split). Once every "\ndata: {" is cut to "\n{", n
        such events are 3n + 1 lines: a name line, a payload line and a blank line each, then
        the empty rest after the last."""
        body = region.replace(b"\ndata: {", b"\n{")
        lines = body.split(b"\n")
        n, rest = divmod(len(lines) - 1, 3)
        if not n or rest or any(lines[2::3]):
            return False
        names = lines[0:-1:3]
        payloads = lines[1::3]
        # n lines were "data: {" lines (each cut removed 6 bytes) and none of them is a name or
        # a blank line: so they are the payload lines.
        if (
            len(region) - len(body) == 6 * n
            and (b"\n" + b"\n".join(names)).count(b"\nevent: ") == n
            and b"event: error" not in names
            and all(map(bytes.endswith, payloads, repeat(b"}")))
            and max(map(len, payloads)) <= self._max
        ):
            self.frames.append((_EVENT_RUN, offset, _EventRun(payloads, names, offset)))
            return True
        return False


# -- the accumulator ------------------------------------------------------------------------------


def _decode_or_raise(decoder: ChunkDecoder, payload: bytes) -> ResponseEvent:
    event: ResponseEvent
    try:
        event = decoder.decode_or_raise(payload)
    except ChunkError:
        body = _body_event(payload)
        if body is None:
            raise
        event = decoder.decode_or_raise(body)
    if event.type == "error":
        # Both shapes: the fields at the top (the API reference) or under "error" (the live
        # API); the same StreamError as for an SSE "event: error".
        raise _error_event(payload)
    return event


# A whole response body is read as the event that carries a response of its status.
_BODY_EVENTS = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
    "cancelled": "response.cancelled",
    "in_progress": "response.in_progress",
    "queued": "response.queued",
}


def _is_body(value: Any) -> bool:
    """Whether ``value`` is a whole ``response`` object rather than an event."""
    return type(value) is dict and value.get("object") == "response" and "type" not in value


def _as_event(value: dict[str, Any]) -> dict[str, Any]:
    status = value.get("status")
    kind = _BODY_EVENTS.get(status, "response.completed") if type(status) is str else None
    return {"type": kind or "response.completed", "response": value}


def _body_event(payload: bytes) -> bytes | None:
    """The event that carries ``payload`` when it is a whole response body (a server that
    ignored ``"stream": true``, a cached or polled response), else ``None``."""
    try:
        value = _any_decoder.decode(payload)
    except _DECODE_ERRORS:
        return None
    return msgspec.json.encode(_as_event(value)) if _is_body(value) else None


def _event_of(value: Any) -> Any:
    """``add()``'s builtins: a whole response body as its event; whole-number times as ints."""
    return _whole_times(_as_event(value) if _is_body(value) else value)


def _dump(model: Any) -> str:
    """A pydantic model's JSON, keys as sent: set fields only, by their wire names (the openai
    SDK names ``schema`` ``schema_`` in Python). Without pydantic's serialization warnings:
    the openai SDK's ``responses.stream()`` puts subclasses (``ParsedResponseOutputMessage``)
    where its unions name the base classes, which pydantic warns about, and dumps right."""
    try:
        text = model.model_dump_json(exclude_unset=True, by_alias=True, warnings=False)
    except TypeError:  # a model_dump_json without pydantic's options
        text = model.model_dump_json()
    return str(text)


def _whole_times(value: Any) -> Any:
    # The openai SDK types a response's created_at and completed_at as floats; the server sends
    # integers. A whole-number float there goes back to an int, as chat's `created` does.
    response = value.get("response") if isinstance(value, Mapping) else None
    if type(response) is not dict:
        return value
    times = {
        key: int(number)
        for key in ("created_at", "completed_at")
        if type(number := response.get(key)) is float and number.is_integer()
    }
    return {**value, "response": {**response, **times}} if times else value


class ResponseAccumulator(StreamAccumulator[ResponseEvent, Response]):
    """Turns the bytes of one streamed Responses API call into the final ``Response``.

    Sans-I/O, as ``Accumulator``: hand it bytes as they arrive (SSE with or without ``event:``
    lines, with or without ``data: [DONE]``, or NDJSON), split anywhere, and ask for the
    response at the end. Each event is typed as a ``ResponseEvent``.

    What the result is: the ``response`` of the terminal event (``response.completed``,
    ``.incomplete``, ``.failed``), exactly as sent, when one arrived. Without one (a cut body,
    or an ``error`` event), the last ``response.created`` / ``.queued`` / ``.in_progress``
    response with ``output`` built from the events: statuses as those events say, text,
    refusals, reasoning, arguments and logprobs from the deltas, annotations at their index,
    every value a ``*.done`` event or ``response.output_item.done`` restated.

    What is reported, never raised: a restated value (a ``*.done`` event, a ``content_part``
    or ``output_item`` done, the terminal response) that contradicts what the earlier events
    built goes to ``disagreements`` (and, with ``track=True``, is a live ``Disagreement``
    event); the restated value is kept. ``response.failed`` is a result (``status: "failed"``,
    its ``error`` kept), not an exception.

    What is kept beside the result: events of a type the merge has no rule for (a future event,
    ``response.audio.delta``, ``response.image_generation_call.partial_image``...) are never an
    error and are not in the result; ``other_events`` holds them, as decoded. ``obfuscation`` is
    never merged (each event keeps it).

    Errors: an ``error`` event, in either shape (``code``/``message`` at its top, or under
    ``error``), raises ``StreamError`` with the server's message and code; everything merged
    before stays (``finalize()`` then returns it). Only ``ChunkAggError`` subclasses escape
    ``feed()``, ``add()`` and ``finalize()`` for anything the stream contains (``TypeError``
    for a wrong argument type); a raising call consumed only the bad event.

    Example::

        acc = ResponseAccumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        result = acc.finalize()
        print(result.status, result.output_text, acc.disagreements)
    """

    __slots__ = ("_decoder", "_merger")

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_items: int = DEFAULT_MAX_ITEMS,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
    ) -> None:
        """Create an accumulator for one stream.

        Args:
            format: ``"sse"``, ``"ndjson"``, ``"json"`` (one JSON document: a single event) or
                ``"auto"``, as for ``Accumulator``.
            max_event_size: largest event in bytes; it also bounds the unparsed buffer.
            max_items: ``output_index``, ``content_index``, ``summary_index`` and
                ``annotation_index`` must be below this.
            max_text_size: characters streamed by deltas (text, refusals, reasoning,
                arguments), plus logprob entries; once crossed, every later event that adds
                some is dropped.
            track: derive live-UI events from the merge, read with ``take_events()``.

        Every limit crossed raises ``LimitExceededError`` naming it; the event at fault is
        dropped and the stream goes on.
        """
        super().__init__(format, max_event_size)
        self._framer = _EventFramer(format, max_event_size)
        check_limits(max_items=max_items, max_text_size=max_text_size)
        self._decoder = ChunkDecoder(ResponseEvent, "event")
        self._merger = _Merger(max_items, max_text_size, track)

    @property
    def disagreements(self) -> list[Disagreement]:
        """Every restated value that contradicted what the stream had built, in stream order
        (empty for a consistent stream)."""
        return list(self._merger.disagreements)

    @property
    def other_events(self) -> list[ResponseEvent]:
        """The events of a type the merge has no rule for, in stream order, as decoded."""
        return list(self._merger.other)

    @property
    def terminal(self) -> str | None:
        """The type of the last terminal event (``"response.completed"``...), or ``None``
        while none arrived (the stream was cut, or ended with an ``error`` event)."""
        return self._merger.terminal

    def take_events(self) -> list[ResponseUpdate]:
        """Return the live-UI events derived since the last call, oldest first, and forget them.

        Needs ``ResponseAccumulator(track=True)``. Each is an ``OutputTextDelta``,
        ``OutputRefusalDelta``, ``OutputReasoningDelta``, ``OutputAnnotationAdded``,
        ``FunctionCallArgumentsDelta``, ``FunctionCallDone``, ``OutputItemDone``,
        ``ResponseFinished`` or ``Disagreement``.

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        merger = self._merger
        updates = merger.updates
        if updates is None:
            raise RuntimeError("take_events() needs ResponseAccumulator(track=True)")
        if updates:
            merger.updates = []
            return updates
        return []

    # -- the format's hooks -----------------------------------------------------------------------

    def _decode(self, payload: bytes) -> ResponseEvent:
        return _decode_or_raise(self._decoder, payload)

    def _convert(self, value: Any) -> ResponseEvent:
        event: ResponseEvent = self._decoder.convert(value, _dump, _event_of)
        if event.type == "error":
            raise _error_event(msgspec.json.encode(event))
        return event

    def _merge(self, chunk: ResponseEvent) -> None:
        merger = self._merger
        merger.event = self._events
        merger.merge(chunk)

    def _build(self) -> Response:
        return self._merger.build()

    def _is_empty(self) -> bool:
        return self._merger.empty

    def _finish(self) -> None:
        self._merger.finish()

    def _batch(
        self,
        kind: int,
        run: Any,
        offset: int,
        out: list[ResponseEvent],
        position: int,
    ) -> None:
        """The per-event hot path: a run of one-line ``data:`` events (data-only SSE, NDJSON), or
        of two-line ``event:``/``data:`` events (``_EVENT_RUN``), decoded and merged in one loop:
        the decode looked up once per run, a payload classified only when it does not decode,
        and a delta to the same place as the one before it merged here (``_Merger.merge``'s
        short way, inline: a call per event is a fifth of the time of this loop)."""
        if kind == _EVENT_RUN:
            payloads, first = run.payloads, run.first
        else:
            payloads, first = _run(run)
        append = out.append
        merger = self._merger
        merge = merger.merge
        decoder = self._decoder
        decode = decoder.decode
        base = self._events - first + 1  # event number of payload k: base + k - skipped
        skipped = 0  # keep-alives and empty data: not events, as on the line path
        # The short way's state in locals: only the slow way (merge) changes it. Every event
        # ``decode`` returns is an instance of the schema's root, so checking the class the
        # short way was set for once, here and after a widening, checks every event's.
        root = decoder.schema.root
        hot = merger.hot
        if hot is not None:
            cls, kind_, oi, ci, si, frags, make = hot
            grow = frags.append
        on = hot is not None and cls is root
        room = merger.room
        updates = merger.updates
        for k in range(first, len(payloads)):
            payload = payloads[k]
            try:
                try:
                    event = decode(payload)
                except _DECODE_ERRORS:
                    # "[DONE]" and keep-alives land here too: classified only after a failed
                    # decode, so every well-formed event is free of the check.
                    what = classify(payload)
                    if what == DONE:
                        self._done = True
                        continue
                    if what == SKIP:
                        skipped += 1
                        continue
                    event = _decode_or_raise(decoder, payload.strip(_BLANKS))
                    decode = decoder.decode
                    root = decoder.schema.root
                    on = hot is not None and cls is root
                delta = event.delta
                if (
                    on
                    and event.type == kind_
                    and event.output_index == oi
                    and event.content_index == ci
                    and event.summary_index == si
                    and delta is not None
                    and not event.logprobs
                    and room >= 0
                ):
                    grow(delta)
                    room -= len(delta)
                    if make is not None and delta:
                        updates.append(make(delta=delta))  # type: ignore[union-attr]
                else:
                    if event.type == "error":
                        raise _error_event(payload)
                    merger.event = base + k - skipped
                    merger.room = room
                    try:
                        merge(event)
                    finally:
                        room = merger.room
                    hot = merger.hot
                    if hot is not None:
                        cls, kind_, oi, ci, si, frags, make = hot
                        grow = frags.append
                    on = hot is not None and cls is root
                    updates = merger.updates
            except ChunkAggError as exc:
                merger.room = room
                if kind == _EVENT_RUN:
                    self._run_fault(exc, run, k, position)
                else:
                    self._batch_fault(exc, kind, payloads, first, k, skipped, offset, position)
                raise
            append(event)
        merger.room = room
        self._events += len(payloads) - first - skipped

    def _run_fault(self, exc: ChunkAggError, run: _EventRun, k: int, position: int) -> None:
        """Locate a fault at event ``k`` of an ``_EVENT_RUN``; queue the rest of it, uncopied."""
        payload = run.payloads[k]
        _attach(exc, payload)
        self._events += k + 1 - run.first
        start = run.start(k)
        exc._locate(self._events, start)
        if k + 1 < len(run.payloads):
            after = start + _span(run.names[k], payload)
            rest = _EventRun(run.payloads, run.names, after, k + 1)
            self._framer.frames.insert(position, (_EVENT_RUN, after, rest))
