"""Responses API events to a ``Response``: the merge of one stream, and every rule of its event
table.

Owns ``ResponseMerger``: which event changes what (``HANDLERS``), the checks each handler makes
before it changes anything (so a bad event is dropped whole), the comparison of restated values
with what the stream built (each difference a ``Disagreement``, never an error), the live-UI
events, and the short way of a delta to the same place as the one before it. Must not know
bytes, framing or positions (it raises without an event number or offset, and the accumulator
adds them), or how JSON becomes a Struct.

The merge keeps a plain ``dict`` per output item, as ``response.output_item.added`` announced it
(copied: nothing the caller holds is shared), plus overlays for what streams (``state``): per
content part and per summary part, the text fragments (a list, joined once), logprobs and
annotations; per item, the fragments of ``arguments`` (``input``, ``code``). A ``*.done`` event or
``response.output_item.done`` restates a whole value: it replaces what was built, once compared
with it. The terminal event (``response.completed``, ``.incomplete``, ``.failed``) carries the
whole response: it is the result, compared with what the events built.

What grows with the stream is bounded (``docs/limits.md``): items, parts and annotations by
``max_items`` (an index, and a part's annotations); the text of deltas, logprob entries, the
JSON of annotations, of events kept in ``other`` and of the values each disagreement keeps, by
``max_text_size`` (``room``: past it, an event that would add some is dropped with
``LimitExceededError``, and a restatement is still merged but no longer compared); ``ids`` holds
one id per item.

Structured outputs (``response_format=``, ``tools=``; ``structured`` hangs them on the result
when it is built): without live events there is no work per event at all. With them, each
``output_text`` part (when a format type was given) and each call of a function ``tools=``
names is scanned once as it streams (a ``Scan`` per value, made on its first fragment, or, for
a call whose name came late, on the first fragment after it, fed everything so far); those
deltas take the long way, as a live ``FunctionCallArgumentsDelta`` always did.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import UNSET

from .._core.events import PartialParse, load_partial, parse_whole
from .._core.limits import MAX_DEPTH, check_depth
from .._core.parsed import Structured
from .._core.rules import copy
from .._core.targets import Target
from .._errors import ChunkError, LimitExceededError
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
from .models import Response, ResponseEvent
from .output import typed_item, typed_response
from .state import (
    ITEM_DONE,
    ITEM_STATUS,
    ITEM_TEXT,
    PART_DONE,
    PART_TEXT,
    ItemState,
    PartField,
    PartState,
    built,
    join_fragments,
    kind_of,
)
from .structured import ARGUMENTS, Scan, attach

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "HANDLERS",
    "LIFECYCLE",
    "TERMINAL",
    "ResponseMerger",
    "carries_objects",
    "hot_safe",
]

# Output items, content parts, summary parts and annotations are addressed by index; each index
# must be below this, so a broken index never grows the state, and a part holds at most this
# many annotations, so inserting one anywhere moves at most this many. Real responses hold a few
# items (an agentic run with many tool calls, a few dozen) and a few dozen citations; the API
# caps max_tool_calls far lower.
DEFAULT_MAX_ITEMS = 1024

LIFECYCLE = frozenset(("response.created", "response.queued", "response.in_progress"))
# response.cancelled: background mode; not in either SDK's union, but some gateways send it.
TERMINAL = frozenset(
    ("response.completed", "response.incomplete", "response.failed", "response.cancelled")
)


class ResponseMerger:
    """The merge state of one Responses stream, and every rule of the event table.

    Must not know bytes or positions: it raises without an event number or offset. Each
    handler checks everything that can be wrong with its event before it changes anything, so a
    bad event is dropped whole.
    """

    __slots__ = (
        "disagreements",
        "event",
        "events",
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
        "scans",
        "structured",
        "terminal",
    )

    def __init__(self, max_items: int, max_text_size: int, track: bool) -> None:
        self.max_items = max_items
        self.max_text_size = max_text_size
        self.items: dict[int, ItemState] = {}
        # Item id to output index, for events that omit the index (made with the first id).
        self.ids: dict[str, int] | None = None
        self.lifecycle: dict[str, Any] | None = None  # the last created/queued/in_progress
        self.final: dict[str, Any] | None = None  # the terminal event's response
        self.terminal: str | None = None
        self.other: list[ResponseEvent] | None = None  # made with the first such event
        self.disagreements: list[Disagreement] = []
        # max_text_size less the characters streamed and logprob entries: once below zero,
        # every event that would add some is dropped.
        self.room = max_text_size
        self.event = 0  # number of the event being merged, set by the accumulator
        self.events: list[ResponseUpdate] | None = [] if track else None
        self.partial = load_partial() if track else None
        # The fragments the last delta went to, and the fields of that delta, for the next one
        # to the same place: (event class, type, output_index, content_index, summary_index,
        # fragments, the live event's maker or None). Set only by a delta; any other event
        # clears it, so it never outlives the structure it points into.
        self.hot: _Hot | None = None
        self.structured: Structured | None = None  # the caller's types (response_format=...)
        # With live events and types: the scan of each typed value, by (output_index,
        # content_index), ARGUMENTS for a call's arguments.
        # Live scans of typed values, by (output_index, content_index); made on first use.
        self.scans: dict[tuple[int, int], Scan] | None = None

    @property
    def empty(self) -> bool:
        return self.lifecycle is None and self.final is None and not self.items

    def shape(self, root: type) -> None:
        """Nothing to look up per class of event: the handlers check what they read."""
        return None

    def add(self, ev: ResponseEvent, plan: None = None) -> None:
        """Merge one event, or raise without changing anything."""
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
                and not carries_objects(ev)
            ):
                frags.append(delta)
                self.room -= len(delta)
                if make is not None and delta:
                    self.events.append(make(delta=delta))  # type: ignore[union-attr]
                return
            self.hot = None
        _check_nesting(ev)
        handler = HANDLERS.get(ev.type)
        if handler is None:
            # An event type the merge has no rule for: kept, never an error; its JSON counts
            # against max_text_size as the text of a delta does (an audio delta's base64).
            self._room(ev)
            self.room -= len(_ENCODE(ev))
            if self.other is None:
                self.other = []
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
            found = self.ids.get(item_id) if type(item_id) is str and self.ids else None
            if found is None:
                raise ChunkError(f"{ev.type} without an output_index (or a known item_id)")
            return found
        return self._index(index, "output_index", ev)

    def _sub_index(self, value: Any, name: str, ev: ResponseEvent, item: ItemState | None) -> int:
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
                f"{ev.type}: merged text is over the limit (with kept events and annotations)",
                limit="max_text_size",
                value=self.max_text_size,
            )

    # -- changes --------------------------------------------------------------------------------

    def _item(self, index: int, ev: ResponseEvent, kind: str) -> ItemState:
        """Item ``index``; one the stream never announced holds only what its event says."""
        item = self.items.get(index)
        if item is None:
            value: dict[str, Any] = {}
            if type(ev.item_id) is str:
                value["id"] = ev.item_id
                self._name(ev.item_id, index)
            value["type"] = kind
            item = self.items[index] = ItemState(value)
        return item

    def _report(
        self, path: tuple[str | int, ...], streamed: Any, sent: Any, ev: ResponseEvent
    ) -> None:
        if self.room < 0:
            # What the stream keeps is over max_text_size: the restated value is still merged,
            # but no more disagreements are kept (each holds a copy of both values).
            return
        streamed, streamed_size = _sized_copy(streamed)
        sent, sent_size = _sized_copy(sent)
        self.room -= streamed_size + sent_size
        found = Disagreement(
            path=_path(path), event=self.event, source=ev.type, streamed=streamed, sent=sent
        )
        self.disagreements.append(found)
        if self.events is not None:
            self.events.append(found)

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
        return built(base, self.items)

    def _heat(
        self, ev: ResponseEvent, frags: list[str], make: _Make | None, tracked: bool = True
    ) -> None:
        """Let the next delta to the same place take the short way (see ``add``). With live
        events, only if ``tracked``: ``make(delta=...)`` is its live event then, if any."""
        if self.events is not None and not tracked:
            return
        cls = type(ev)
        if hot_safe(cls):
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
        if self.events is not None:
            self.events.append(
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
        if self.events is not None:
            self.events.append(OutputItemDone(output_index=index, item=typed_item(copy(value))))
            if item.value.get("type") == "function_call":
                self._call_done(index, item)

    def _set_item(self, index: int, value: dict[str, Any]) -> ItemState:
        item = ItemState(copy(value))
        old = self.items.get(index)
        item.parse = old.parse if old is not None else None
        self.items[index] = item
        item_id = value.get("id")
        if old is not None:
            # The id of the item replaced no longer names one, so ids holds at most one id per
            # item: it never grows with the events.
            old_id = old.value.get("id")
            ids = self.ids
            if old_id != item_id and type(old_id) is str and ids and ids.get(old_id) == index:
                del ids[old_id]
        if type(item_id) is str:
            self._name(item_id, index)
        return item

    def _name(self, item_id: str, index: int) -> None:
        """Record that ``item_id`` names the item at ``index``."""
        ids = self.ids
        if ids is None:
            ids = self.ids = {}
        ids[item_id] = index

    def on_item_status(self, ev: ResponseEvent) -> None:
        index = self._output_index(ev)
        item = self.items.get(index)
        if item is not None and "status" in item.value:
            item.value["status"] = ITEM_STATUS[ev.type]

    # -- parts ------------------------------------------------------------------------------

    def _part_place(self, ev: ResponseEvent, field: PartField) -> tuple[int, int]:
        index = self._output_index(ev)
        name = "summary_index" if field == "summary" else "content_index"
        value = ev.summary_index if field == "summary" else ev.content_index
        return index, self._sub_index(value, name, ev, self.items.get(index))

    def on_part_added(self, ev: ResponseEvent, field: PartField = "content") -> None:
        value = self._object(ev.part, "part", ev)
        index, sub = self._part_place(ev, field)
        kind = value.get("type")
        item = self._item(index, ev, kind_of(kind) if type(kind) is str else "message")
        parts = item.parts(field)
        old = parts.get(sub)
        part = parts[sub] = PartState(copy(value))
        if old is not None:
            # As for a late item: what streamed into the part stays.
            self._compare(("output", index, field, sub), old.value, value, ev)
            part.text, part.refusal = old.text, old.refusal
            part.logprobs, part.annotations = old.logprobs, old.annotations

    def on_part_done(self, ev: ResponseEvent, field: PartField = "content") -> None:
        value = self._object(ev.part, "part", ev)
        index, sub = self._part_place(ev, field)
        kind = value.get("type")
        item = self._item(index, ev, kind_of(kind) if type(kind) is str else "message")
        kind = kind if type(kind) is str else "output_text"
        self._compare(("output", index, field, sub), item.part(field, sub, kind).build(), value, ev)
        item.parts(field)[sub] = PartState(copy(value))

    def on_summary_part_added(self, ev: ResponseEvent) -> None:
        self.on_part_added(ev, "summary")

    def on_summary_part_done(self, ev: ResponseEvent) -> None:
        self.on_part_done(ev, "summary")

    def on_part_text(self, ev: ResponseEvent) -> None:
        """A text, refusal, reasoning or summary fragment (and its logprobs)."""
        kind, key = PART_TEXT[ev.type]
        delta = self._text(ev.delta, "delta", ev)
        field: PartField = "summary" if kind == "summary_text" else "content"
        index, sub = self._part_place(ev, field)
        logprobs = ev.logprobs
        if logprobs is not None and type(logprobs) is not list:
            raise ChunkError(f"{ev.type}: logprobs must be a list, not {reprlib.repr(logprobs)}")
        self._room(ev)
        part = self._item(index, ev, kind_of(kind)).part(field, sub, kind)
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
        scan: Scan | None = None
        if self.events is not None:
            structured = self.structured
            if kind == "output_text" and structured is not None and structured.content is not None:
                scan = self._scan(index, sub, structured.content, frags, delta)
                if delta:
                    self.events.append(
                        OutputTextDelta(
                            output_index=index,
                            content_index=sub,
                            delta=delta,
                            parsed=scan.live.scan.value,
                        )
                    )
                    scan.live.elements(self.events, output_index=index)
            elif kind == "output_text":
                make = functools.partial(OutputTextDelta, output_index=index, content_index=sub)
            elif kind == "refusal":
                make = functools.partial(OutputRefusalDelta, output_index=index, content_index=sub)
            else:
                make = functools.partial(
                    OutputReasoningDelta, output_index=index, index=sub, field=field
                )
            if delta and make is not None:
                self.events.append(make(delta=delta))
        if (
            ev.output_index is not None
            and (ev.summary_index if field == "summary" else ev.content_index) is not None
        ):
            # A scanned value's live event carries its partial: the long way only.
            self._heat(ev, frags, make, tracked=scan is None)

    def on_part_text_done(self, ev: ResponseEvent) -> None:
        """A whole text, refusal, reasoning or summary text, restated."""
        kind, key = PART_DONE[ev.type]
        text = self._text(ev.refusal if key == "refusal" else ev.text, key, ev)
        field: PartField = "summary" if kind == "summary_text" else "content"
        index, sub = self._part_place(ev, field)
        logprobs = ev.logprobs
        if logprobs is not None and type(logprobs) is not list:
            raise ChunkError(f"{ev.type}: logprobs must be a list, not {reprlib.repr(logprobs)}")
        part = self._item(index, ev, kind_of(kind)).part(field, sub, kind)
        path = ("output", index, field, sub)
        frags = part.fragments(key)
        self._compare((*path, key), join_fragments(frags), text, ev)
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
        self._room(ev)
        item = self.items.get(index)
        if item is not None and item.annotation_count(sub) >= self.max_items:
            # A part holds at most max_items annotations, so an insertion anywhere moves at
            # most that many: linear in the events, whatever their annotation_index.
            raise LimitExceededError(
                f"{ev.type}: more than {self.max_items} annotations in one part",
                limit="max_items",
                value=self.max_items,
            )
        part = self._item(index, ev, "message").part("content", sub, "output_text")
        annotations = part.annotations
        if annotations is None:
            start = part.value.get("annotations")
            annotations = part.annotations = list(start) if type(start) is list else []
        position = len(annotations) if at is None else at
        data = _ENCODE(annotation)
        self.room -= len(data)
        annotations.insert(position, _DECODE(data))
        if self.events is not None:
            self.events.append(
                OutputAnnotationAdded(
                    output_index=index,
                    content_index=sub,
                    annotation_index=min(position, len(annotations) - 1),
                    annotation=copy(annotation),
                )
            )

    # -- item-level strings (arguments, input, code) -----------------------------------------

    def on_item_text(self, ev: ResponseEvent) -> None:
        kind, key = ITEM_TEXT[ev.type]
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
        if self.events is not None and kind == "function_call" and delta:
            scan = self._scan_call(index, item, frags, delta)
            self.events.append(
                FunctionCallArgumentsDelta(
                    output_index=index,
                    item_id=_str(item.value.get("id")),
                    delta=delta,
                    parsed=self._grow(item, len(delta)) if scan is None else scan.live.scan.value,
                )
            )
            if scan is not None:
                scan.live.elements(self.events, output_index=index)

    def on_item_text_done(self, ev: ResponseEvent) -> None:
        kind, key = ITEM_DONE[ev.type]
        text = self._text(getattr(ev, key), key, ev)
        index = self._output_index(ev)
        item = self._item(index, ev, kind)
        frags = item.fragments(key)
        self._compare(("output", index, key), join_fragments(frags), text, ev)
        frags[:] = [text] if text else []
        if ev.name is not None and kind in ("function_call", "mcp_call"):
            # The call's name, restated (openai-python's event model carries it): news for an
            # item never announced, compared with the announced one otherwise.
            self._compare(("output", index, "name"), item.value.get("name"), ev.name, ev)
            item.value["name"] = ev.name
        if self.events is not None and kind == "function_call":
            self._call_done(index, item)

    # -- live events of structured values and function calls ------------------------------------

    def _scan(self, index: int, sub: int, target: Target, frags: list[str], delta: str) -> Scan:
        """The scan of a typed value, fed ``delta`` (already in ``frags``); made on the first
        fragment, fed everything so far (an announced text included)."""
        scans = self.scans
        if scans is None:
            scans = self.scans = {}
        scan = scans.get((index, sub))
        if scan is None:
            scan = scans[index, sub] = Scan(target, join_fragments(frags))
        else:
            scan.feed(delta)
        return scan

    def _scan_call(self, index: int, item: ItemState, frags: list[str], delta: str) -> Scan | None:
        """The scan of a call's arguments when ``tools=`` names its function, else ``None``.
        The name comes with ``response.output_item.added``: a scan made after arguments came is
        fed them all."""
        scan = self.scans.get((index, ARGUMENTS)) if self.scans is not None else None
        if scan is not None:
            scan.feed(delta)
            return scan
        structured = self.structured
        name = item.value.get("name")
        if structured is None or not structured.tools or type(name) is not str:
            return None
        target = structured.tools.get(name)
        if target is None:
            return None
        return self._scan(index, ARGUMENTS, target, frags, delta)

    def _grow(self, item: ItemState, grown: int) -> Any:
        state = item.parse
        if state is None:
            state = item.parse = PartialParse()
        return state.grow(grown, self.partial, lambda: join_fragments(item.fragments("arguments")))

    def _call_done(self, index: int, item: ItemState) -> None:
        assert self.events is not None
        value = item.build()
        arguments = value.get("arguments")
        if type(arguments) is not str:
            return
        state = item.parse
        if state is None:
            state = item.parse = PartialParse()
        if state.reported == arguments:
            return
        state.reported = arguments
        parsed, valid = parse_whole(arguments)
        self.events.append(
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
        if self.events is None:
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
        result = typed_response(copy(response))
        if self.structured is not None:
            attach(result, self.structured, self.scans or {})
        return result


_EMPTY = (str, list, dict)
# What ResponseMerger.hot holds (see there), and the maker of a delta's live event.
_Make = Callable[..., Any]
_Hot = tuple[type[ResponseEvent], str, Any, Any, Any, list[str], _Make | None]
# The fields the short way of ResponseMerger.add reads, with their declared types.
_HOT_TYPES = {
    f.name: f.type
    for f in msgspec.structs.fields(ResponseEvent)
    if f.name in ("delta", "output_index", "content_index", "summary_index", "logprobs")
}


@functools.lru_cache(maxsize=256)
def hot_safe(cls: type) -> bool:
    """Whether a (derived) event class types the fields the hot path reads as declared (a
    stream whose events carried one of another type has them typed ``Any``), and holds no key
    of its own whose value may be an array or an object (one the short way would keep on the
    event unchecked for nesting: ``_check_nesting`` looks at such an event whole)."""
    if getattr(cls, "_mutable", False):
        return False
    types = {f.name: f.type for f in msgspec.structs.fields(cls)}
    return all(types[name] == _HOT_TYPES[name] for name in _HOT_TYPES)


def carries_objects(ev: ResponseEvent) -> bool:
    """Whether ``ev`` holds an object beside its delta (``response``, ``item``, ``part``,
    ``annotation``, ``error``): values ``_check_nesting`` looks at, so only an event without
    any may take a short way that skips it (its ``logprobs`` the short way refuses itself)."""
    return (
        ev.part is not None
        or ev.item is not None
        or ev.response is not None
        or ev.annotation is not None
        or ev.error is not None
    )


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


_ENCODE = msgspec.json.encode
_DECODE = msgspec.json.Decoder().decode


def _sized_copy(value: Any) -> tuple[Any, int]:
    """A copy of a JSON value (``UNSET`` as it is), and its size as counted against
    ``max_text_size``: its JSON's bytes, a string's characters, 1 for anything else."""
    if type(value) is dict or type(value) is list:
        data = _ENCODE(value)
        return _DECODE(data), len(data)
    return value, len(value) if type(value) is str else 1


def _check_nesting(ev: ResponseEvent) -> None:
    """``ChunkError`` for an event holding a value nested deeper than ``MAX_DEPTH``, checked
    before anything is merged or kept: the error a deeper stack gets from the decoder. An event
    with unknown keys, or a field of another type than declared, is looked at whole (itself one
    level); a declared event, in the objects it carries."""
    if type(ev)._mutable:
        check_depth(ev, MAX_DEPTH + 1, "event")
        return
    for value in (ev.response, ev.item, ev.part, ev.annotation, ev.logprobs, ev.error):
        if value is not None:
            check_depth(value, MAX_DEPTH, "event")


def _path(parts: tuple[str | int, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if type(part) is int else (f".{part}" if out else str(part))
    return out


_Handler = Callable[[ResponseMerger, ResponseEvent], None]
HANDLERS: dict[str, _Handler] = {
    **dict.fromkeys(LIFECYCLE, ResponseMerger.on_lifecycle),
    **dict.fromkeys(TERMINAL, ResponseMerger.on_terminal),
    "response.output_item.added": ResponseMerger.on_item_added,
    "response.output_item.done": ResponseMerger.on_item_done,
    "response.content_part.added": ResponseMerger.on_part_added,
    "response.content_part.done": ResponseMerger.on_part_done,
    "response.reasoning_summary_part.added": ResponseMerger.on_summary_part_added,
    "response.reasoning_summary_part.done": ResponseMerger.on_summary_part_done,
    "response.output_text.annotation.added": ResponseMerger.on_annotation,
    **dict.fromkeys(PART_TEXT, ResponseMerger.on_part_text),
    **dict.fromkeys(PART_DONE, ResponseMerger.on_part_text_done),
    **dict.fromkeys(ITEM_TEXT, ResponseMerger.on_item_text),
    **dict.fromkeys(ITEM_DONE, ResponseMerger.on_item_text_done),
    **dict.fromkeys(ITEM_STATUS, ResponseMerger.on_item_status),
}
