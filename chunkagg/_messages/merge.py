"""Anthropic Messages events to an ``AnthropicMessage``: the merge of one stream, and the rule of
every event type.

Owns ``MessageMerger``: which event changes what, the checks each makes before it changes
anything (so a bad event is dropped whole), the live-UI events, and the short way of a delta to
the same block as the one before it (or to a text or thinking block just announced). Must not
know bytes, framing or positions (it raises without an event number or offset, and the
accumulator adds them), or how JSON becomes a Struct.

The rules, by Anthropic's documented streaming semantics:

- ``message_start``'s message is the base (copied: nothing the caller holds is shared); a second
  ``message_start`` with the same id is ignored, with another id an error (two messages are
  never made into one);
- a block's ``index`` is its place in ``content``; every block is kept as sent, of a known type
  or not, with what streamed into it since: ``text``, ``thinking`` and ``signature`` deltas
  append (fragments in a list, joined once); ``citations_delta`` appends its ``citation`` to
  ``citations``; ``input_json_delta`` fragments join, and the JSON is parsed when the message is
  built (fragments that join to nothing give ``{}``; a block that arrived with its ``input`` and
  no deltas keeps it; JSON that never became whole is parsed partially, and its text kept in
  ``partial_json``; JSON nested deeper than ``MAX_DEPTH`` is not parsed: ``{}``, and the text
  in ``partial_json``);
- a delta of another type (``compaction_delta``, those not yet invented) sets each of its fields
  but ``type`` on its block, the last non-null value winning; so does a delta of a known type
  for its fields other than the one its type merges (a key of a newer API beside a text);
- ``message_delta``: each non-null key of its ``delta`` set on the message; each non-null key of
  its ``usage`` replaces the message's (the counts are cumulative, never summed), keys only
  ``message_start`` had stay; its other keys (``context_management``...) set on the message;
- a ``fallback`` block names the model that wrote what follows: the message's ``model`` is the
  last such block's ``to.model``, as the non-streamed body says;
- ``ping`` carries nothing; ``error`` raises ``StreamError``, everything merged before kept;
  after ``message_stop`` a known event is an error, never merged out of sight; an event of a
  type with no rule is kept in ``other`` (bounded like text).

Structured outputs (``response_format=``, ``tools=``; the core's ``Target`` rules): each text
block's text is parsed as the format's type, and each tool block named in ``tools`` its joined
input JSON (or, without deltas, the ``input`` it arrived with), when the message is built; the
message's ``stop_reason`` is every block's reason (``refusal``; ``max_tokens`` and
``model_context_window_exceeded`` cut; none: a cut stream). With live events, each such value is
scanned once as it streams (a ``Live`` per block, made on its first fragment), and the value the
scan converted is the one the message holds. Without types there is no work per event at all.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
from msgspec import UNSET
from msgspec.structs import astuple

from .._core.events import PartialParse, load_partial
from .._core.limits import MAX_DEPTH, check_depth, deeper_than
from .._core.output import join_fragments, overlay
from .._core.parsed import Live, Structured, live_value, set_side
from .._core.rules import copy
from .._core.targets import ParseFailure, Target
from .._errors import ChunkError, LimitExceededError, StreamError
from .events import (
    MessageBlockStarted,
    MessageBlockStopped,
    MessageCitationAdded,
    MessageFinished,
    MessageInputDelta,
    MessageTextDelta,
    MessageThinkingDelta,
    MessageUpdate,
)
from .models import AnthropicMessage, MessageDelta, MessageEvent, TextBlock, ToolUseBlock
from .output import typed_block, typed_message

__all__ = ["DEFAULT_MAX_BLOCKS", "PLAIN_NONES", "BlockState", "MessageMerger", "carries_objects"]

# Content blocks are addressed by index; each must be below this, so a broken index never grows
# the state. A message holds a few blocks, an agentic turn with server tools a few dozen.
DEFAULT_MAX_BLOCKS = 1024

# The streamed string of each delta type: (the delta's field, the block's key).
_STRINGS = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
}
# The field each delta type merges by a rule of its own; its other fields are set on the block.
_MERGED = {**_STRINGS, "input_json_delta": "partial_json", "citations_delta": "citation"}
# The blocks announced with the string their deltas stream (``"text": ""``): (delta type, key).
_PRIMED = {"text": ("text_delta", "text"), "thinking": ("thinking_delta", "thinking")}
# The blocks whose input ``tools=`` types (those ``output`` makes ``ToolUseBlock``s).
_TOOL_BLOCKS = frozenset(("tool_use", "server_tool_use"))


class BlockState:
    """One content block: as announced (``content_block_start``), and what streamed into it."""

    __slots__ = ("citations", "json", "parse", "strings", "value")

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value
        self.strings: dict[str, list[str]] | None = None  # text, thinking, signature fragments
        self.json: list[str] | None = None  # input_json_delta fragments
        self.citations: list[Any] | None = None
        self.parse: PartialParse | None = None

    def fragments(self, key: str) -> list[str]:
        """The fragments of ``text``, ``thinking`` or ``signature``, started from the announced
        value."""
        strings = self.strings
        if strings is None:
            strings = self.strings = {}
        frags = strings.get(key)
        if frags is None:
            start = self.value.get(key)
            frags = strings[key] = [start] if type(start) is str and start else []
        return frags

    def set(self, key: str, value: Any) -> None:
        """Set a key outright (an unknown delta's field): it replaces what streamed there."""
        if self.strings is not None:
            self.strings.pop(key, None)
        if key == "citations":
            self.citations = None
        elif key == "input":
            self.json = None
        self.value[key] = value

    def input_text(self) -> str:
        return join_fragments(self.json) if self.json is not None else ""

    def build(self) -> dict[str, Any]:
        """The block as built so far (sharing values with the state: read, or copy)."""
        if self.strings is None and self.json is None and self.citations is None:
            return self.value
        block = dict(self.value)
        if self.strings is not None:
            for key, frags in self.strings.items():
                block[key] = join_fragments(frags)
        if self.citations is not None:
            block["citations"] = self.citations
        if self.json is not None:
            text = join_fragments(self.json)
            if not text.strip():
                block["input"] = {}
            elif deeper_than(text.encode(), MAX_DEPTH):
                # Never parsed into a value no caller could walk or encode from a deep stack:
                # the text kept as sent, beside an empty input.
                block["input"] = {}
                block["partial_json"] = text
            else:
                try:
                    block["input"] = orjson.loads(text)
                except orjson.JSONDecodeError:
                    # Never whole (a cut stream, or broken JSON): its partial parse, and the text.
                    block["input"] = _partial(text)
                    block["partial_json"] = text
        return block


def _partial(text: str) -> Any:
    """Tool input JSON cut short, parsed as far as it is whole, as the Anthropic SDK's snapshot
    holds it (jiter's ``partial_mode=True``: an unfinished string or number is left out; the text
    itself is kept in ``partial_json``); ``{}`` without jiter, or when nothing parses."""
    if load_partial() is None:
        return {}
    import jiter

    try:
        return jiter.from_json(text.encode(), partial_mode=True)
    except ValueError:
        return {}


class MessageMerger:
    """The merge state of one Messages stream, and the rule of every event type.

    Each handler checks everything that can be wrong with its event before it changes
    anything, so a bad event is dropped whole.
    """

    __slots__ = (
        "blocks",
        "events",
        "hot",
        "lives",
        "max_blocks",
        "max_text_size",
        "message",
        "model",
        "other",
        "partial",
        "room",
        "stopped",
        "structured",
    )

    def __init__(self, max_blocks: int, max_text_size: int, track: bool) -> None:
        self.max_blocks = max_blocks
        self.max_text_size = max_text_size
        self.message: dict[str, Any] | None = None  # message_start's message, then updated
        self.model: str | None = None  # the model a fallback block handed over to
        self.blocks: dict[int, BlockState] = {}
        self.stopped = False  # message_stop arrived
        self.other: list[MessageEvent] = []
        # max_text_size less what streamed (text, thinking, signatures, input JSON, citations,
        # kept unknown events): once below zero, every event that would add some is dropped.
        self.room = max_text_size
        self.events: list[MessageUpdate] | None = [] if track else None
        self.partial = load_partial() if track else None
        # (index, delta type, its field, the fragments, ``plain_bound``) of the last string
        # delta: the next one of the same type to the same block that sets nothing else takes
        # the short way. Any other event clears it.
        self.hot: tuple[int, str, str, list[str], int] | None = None
        self.structured: Structured | None = None  # the caller's types (response_format=...)
        # With live events and types: the live scan of each block's value, by index (``None``:
        # a tool block whose tool has no type).
        self.lives: dict[int, Live | None] | None = None  # live scans by block; on first use

    # -- MergeState ---------------------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return self.message is None and not self.blocks

    def shape(self, root: type) -> None:
        """Nothing to look up per class of event: the handlers check what they read."""
        return None

    def finish(self) -> None:
        """Called once when the stream ends: nothing is left open to report."""

    def add(self, ev: MessageEvent, plan: None = None) -> None:
        """Merge one event, or raise without changing anything."""
        hot = self.hot
        if hot is not None:
            # The common event: one more fragment for the same block as the last one.
            delta = ev.delta
            if (
                ev.type == "content_block_delta"
                and ((index := ev.index) is hot[0] or (type(index) is int and index == hot[0]))
                and type(delta) is MessageDelta
                and delta.type == hot[1]
                and astuple(delta).count(None) == PLAIN_NONES
                and not carries_objects(ev)
            ):
                value = getattr(delta, hot[2])
                if type(value) is str and self.room >= 0:
                    hot[3].append(value)
                    self.room -= len(value)
                    if self.events is not None and value:
                        self._live_string(hot[0], hot[1], value)
                    return
            self.hot = None
        if carries_objects(ev):
            _check_nesting(ev)
        handler = _HANDLERS.get(ev.type)
        if handler is None:
            self._other(ev)
            return
        if self.stopped and ev.type != "ping":
            raise ChunkError(f"{ev.type} after message_stop: not merged")
        handler(self, ev)

    def build(self) -> AnthropicMessage:
        message: dict[str, Any] = dict(self.message) if self.message is not None else {}
        listed = message.get("content")
        if self.blocks or "content" in message or self.message is not None:
            built = {index: block.build() for index, block in self.blocks.items()}
            message["content"] = overlay(listed, built)
        if self.model is not None:
            message["model"] = self.model
        # One copy of the whole tree: the result shares nothing with the state.
        result = typed_message(copy(message))
        if self.structured is not None:
            self._attach_parsed(result, self.structured, len(listed) if type(listed) is list else 0)
        return result

    def _attach_parsed(self, result: AnthropicMessage, structured: Structured, listed: int) -> None:
        """Hang the caller's types on the built message and blocks (``parsed_output``...).

        ``listed``: how many blocks ``message_start`` (or a whole body) listed; with it, each
        place in ``content`` is mapped back to the block index that filled it, as ``overlay``
        placed them (a block streamed past a gap closes it up)."""
        stop = result.stop_reason if type(result.stop_reason) is str else None
        target, tools = structured.content, structured.tools
        places: dict[int, int] = {}
        filled = listed
        for streamed in sorted(self.blocks):
            if streamed < filled:
                places[streamed] = streamed
            else:
                places[filled] = streamed
                filled += 1
        first: tuple[Any, ParseFailure | None] | None = None
        for place, block in enumerate(result.content or ()):
            index = places.get(place)
            if isinstance(block, TextBlock):
                if target is None:
                    continue
                text = block.text if type(block.text) is str else None
                live = self._live(index)
                value, failure = target.result(text, stop, None, live)
                set_side(block, value, failure, "parsed_output")
                if first is None or (first[1] is not None and failure is None):
                    first = value, failure
            elif isinstance(block, ToolUseBlock) and tools:
                tool = tools.get(block.name) if type(block.name) is str else None
                if tool is not None:
                    self._parse_input(block, tool, stop, index)
        if target is not None:
            if first is None:
                first = None, ParseFailure(reason="empty", message="no text block to parse")
            set_side(result, first[0], first[1], "parsed_output")

    def _parse_input(
        self, block: ToolUseBlock, tool: Target, stop: str | None, index: int | None
    ) -> None:
        """``parsed_input`` of a tool block: its joined input JSON as the tool's type, or the
        ``input`` it arrived with when no delta came."""
        state = self.blocks.get(index) if index is not None else None
        if state is not None and state.json is not None:
            text: str | None = state.input_text()
        elif block.input is not UNSET:
            text = msgspec.json.encode(block.input).decode()
        else:
            text = None
        live = self._live(index)
        value, failure = tool.result(text, stop, None, live)
        set_side(block, value, failure, "parsed_input")

    # -- checks (before any change) -----------------------------------------------------------

    def _index(self, ev: MessageEvent) -> int:
        index = ev.index
        if type(index) is not int:
            raise ChunkError(f"{ev.type}: index must be an integer, not {index!r}")
        if index < 0:
            raise ChunkError(f"{ev.type}: negative index {index}")
        if index >= self.max_blocks:
            raise LimitExceededError(
                f"{ev.type}: index {index} is too large", limit="max_blocks", value=self.max_blocks
            )
        return index

    def _block(self, ev: MessageEvent) -> tuple[int, BlockState]:
        index = self._index(ev)
        block = self.blocks.get(index)
        if block is None:
            block = self._listed(index)
            if block is None:
                raise ChunkError(f"{ev.type} for block {index}, which never started")
        return index, block

    def _listed(self, index: int) -> BlockState | None:
        """Block ``index`` as message_start (or a whole body) listed it, if it did."""
        listed = self.message.get("content") if self.message is not None else None
        if type(listed) is list and index < len(listed) and type(listed[index]) is dict:
            block = self.blocks[index] = BlockState(listed[index])
            return block
        return None

    def _room(self, ev: MessageEvent, size: int = 0) -> None:
        if self.room < 0 or (size and size > self.room):
            raise LimitExceededError(
                f"{ev.type}: merged text is over the limit",
                limit="max_text_size",
                value=self.max_text_size,
            )

    # -- handlers ---------------------------------------------------------------------------

    def on_message_start(self, ev: MessageEvent) -> None:
        message = ev.message
        if type(message) is not dict:
            raise ChunkError(f"{ev.type}: message must be an object, not {_short(message)}")
        self._start(ev, message)

    def _start(self, ev: MessageEvent, message: dict[str, Any]) -> None:
        current = self.message
        if current is not None:
            if current.get("id") == message.get("id"):
                return  # the same message announced again
            raise ChunkError(
                f"{ev.type} of message {message.get('id')!r} while message "
                f"{current.get('id')!r} is open: a second message is never merged into the first"
            )
        self.message = copy(message)

    def on_body(self, ev: MessageEvent) -> None:
        """A whole non-streamed message body: its own result."""
        body = msgspec.to_builtins(ev)
        self._start(ev, body)
        self.stopped = True

    def on_block_start(self, ev: MessageEvent) -> None:
        index = self._index(ev)
        block = ev.content_block
        if type(block) is not dict:
            raise ChunkError(f"{ev.type}: content_block must be an object, not {_short(block)}")
        if index in self.blocks:
            raise ChunkError(f"{ev.type}: block {index} already started")
        model = None
        if block.get("type") == "fallback":
            to = block.get("to")
            model = to.get("model") if type(to) is dict else None
            if model is not None and type(model) is not str:
                raise ChunkError(f"{ev.type}: a fallback's to.model must be a string")
        state = self.blocks[index] = BlockState(copy(block))
        if model is not None:
            self.model = model
        kind = block.get("type")
        primed = _PRIMED.get(kind) if type(kind) is str else None
        if primed is not None:
            dtype, field = primed
            text = block.get(field)
            if type(text) is str:
                # Its first delta takes the short way too: its fragments start from the
                # announced string, as fragments() would start them.
                frags = [text] if text else []
                state.strings = {field: frags}
                self.hot = (index, dtype, field, frags, plain_bound(index, dtype, field))
        if self.events is not None:
            self.events.append(MessageBlockStarted(index=index, block=copy(state.value)))

    def on_block_delta(self, ev: MessageEvent) -> None:
        index, block = self._block(ev)
        delta = ev.delta
        if delta is None:
            raise ChunkError(f"{ev.type} without a delta")
        kind = delta.type
        field = _STRINGS.get(kind) if type(kind) is str else None
        merged = _MERGED.get(kind) if type(kind) is str else None
        # The delta's other fields (keys of a newer API beside its text, say): set on the block,
        # as an unknown delta's are. A delta that has any never takes the short way.
        rest = _rest(delta, merged)
        if field is not None:
            value = getattr(delta, field)
            if type(value) is not str:
                raise ChunkError(f"{kind}: {field} must be a string, not {_short(value)}")
            if value:
                self._room(ev)
            frags = block.fragments(field)
            frags.append(value)
            self.room -= len(value)
            if not rest and type(delta) is MessageDelta:
                # (``kind`` is a string: ``field`` was found by it.)
                size = plain_bound(index, kind, field)  # type: ignore[arg-type]
                self.hot = (index, kind, field, frags, size)  # type: ignore[assignment]
            if self.events is not None and value:
                self._live_string(index, kind, value)  # type: ignore[arg-type]
        elif kind == "input_json_delta":
            value = delta.partial_json
            if type(value) is not str:
                raise ChunkError(f"{kind}: partial_json must be a string, not {_short(value)}")
            if value:
                self._room(ev)
            if block.json is None:
                block.json = []
            block.json.append(value)
            self.room -= len(value)
            if not rest and type(delta) is MessageDelta:
                self.hot = (
                    index,
                    kind,
                    "partial_json",
                    block.json,
                    plain_bound(index, kind, "partial_json"),
                )
            if self.events is not None and value:
                self._live_string(index, kind, value)
        elif kind == "citations_delta":
            citation = delta.citation
            if citation is None:
                raise ChunkError(f"{kind} without a citation")
            start = block.value.get("citations")
            if block.citations is None and start is not None and type(start) is not list:
                raise ChunkError(f"{kind} for block {index}, whose citations are no list")
            self._room(ev)
            check_depth(citation, MAX_DEPTH, "event")
            kept = copy(citation)
            if block.citations is None:
                block.citations = list(start) if type(start) is list else []
            block.citations.append(kept)
            self.room -= 1
            if self.events is not None:
                self.events.append(MessageCitationAdded(index=index, citation=copy(kept)))
        for key, value in rest.items():
            block.set(key, copy(value))

    def _live_string(self, index: int, kind: str, value: str) -> None:
        """The live event of a string delta (already merged: its fragment is in the block)."""
        events = self.events
        assert events is not None
        structured = self.structured
        if kind == "text_delta":
            if structured is None or structured.content is None:
                events.append(MessageTextDelta(index=index, delta=value))
                return
            lives = self.lives
            if lives is None:
                lives = self.lives = {}
            live = lives.get(index)
            if live is None:
                text = join_fragments(self.blocks[index].fragments("text"))
                live = lives[index] = Live(structured.content, text)
                parsed = live.scan.value
            else:
                parsed = live.feed(value)
            events.append(MessageTextDelta(index=index, delta=value, parsed=parsed))
            live.elements(events, block=index)
        elif kind == "thinking_delta":
            events.append(MessageThinkingDelta(index=index, delta=value))
        elif kind == "input_json_delta":
            block = self.blocks[index]
            typed = self._typed_input(index, block, value) if structured is not None else None
            if typed is not None:
                events.append(MessageInputDelta(index=index, delta=value, parsed=typed.scan.value))
                typed.elements(events, block=index)
                return
            state = block.parse
            if state is None:
                state = block.parse = PartialParse()
            parsed = state.grow(len(value), self.partial, block.input_text)
            events.append(MessageInputDelta(index=index, delta=value, parsed=parsed))

    def _typed_input(self, index: int, block: BlockState, value: str) -> Live | None:
        """The live scan of a tool block whose tool ``tools=`` names, fed ``value`` (on the
        first fragment, the whole input so far); ``None`` for any other block."""
        lives = self.lives
        if lives is None:
            lives = self.lives = {}
        if index in lives:
            live = lives[index]
            if live is not None:
                live.feed(value)
            return live
        structured = self.structured
        assert structured is not None
        name = block.value.get("name")
        tool = (
            structured.tools.get(name)
            if type(name) is str and block.value.get("type") in _TOOL_BLOCKS
            else None
        )
        live = lives[index] = Live(tool, block.input_text()) if tool is not None else None
        return live

    def _live(self, index: int | None) -> Any:
        """What the live scan of block ``index`` converted, or ``UNSET``."""
        if index is None or self.lives is None:
            return UNSET
        return live_value(self.lives.get(index))

    def on_block_stop(self, ev: MessageEvent) -> None:
        index, block = self._block(ev)
        if self.events is not None:
            built = typed_block(copy(block.build()))
            self.events.append(MessageBlockStopped(index=index, block=built))

    def on_message_delta(self, ev: MessageEvent) -> None:
        delta = ev.delta
        usage = ev.usage
        if usage is not None and type(usage) is not dict:
            raise ChunkError(f"{ev.type}: usage must be an object, not {_short(usage)}")
        message = self.message
        if message is None:
            message = self.message = {}
        if delta is not None:
            for key, value in msgspec.to_builtins(delta).items():
                if value is not None:
                    message[key] = copy(value)
        if usage is not None:
            kept = message.get("usage")
            if type(kept) is not dict:
                kept = message["usage"] = {}
            for key, value in usage.items():
                if value is not None:
                    kept[key] = copy(value)
        for key, value in ev.extra.items():
            if value is not None:
                message[key] = copy(value)
        if self.events is not None:
            self.events.append(
                MessageFinished(
                    stop_reason=message.get("stop_reason"), usage=copy(message.get("usage"))
                )
            )

    def on_message_stop(self, ev: MessageEvent) -> None:
        self.stopped = True

    def on_ping(self, ev: MessageEvent) -> None:
        """Keeps the connection alive; carries nothing."""

    def on_error(self, ev: MessageEvent) -> None:
        error = ev.error if type(ev.error) is dict else {}
        message = error.get("message")
        kind = error.get("type")
        raise StreamError(
            message if type(message) is str else str(ev.error),
            type=kind if type(kind) is str else None,
            payload=copy(error) if error else msgspec.to_builtins(ev),
        )

    def _other(self, ev: MessageEvent) -> None:
        """An event type the merge has no rule for: kept, and counted like text."""
        size = len(msgspec.json.encode(ev))
        self._room(ev, size)
        self.other.append(ev)
        self.room -= size


def carries_objects(ev: MessageEvent) -> bool:
    """Whether ``ev`` holds an object or array beside its delta (``message``,
    ``content_block``, ``usage``, ``error``, or an unknown key of one): the values
    ``_check_nesting`` looks at, so an event without any needs no check, and only such an event
    may take a short way that skips it."""
    return (
        ev.content_block is not None
        or ev.message is not None
        or ev.usage is not None
        or ev.error is not None
        or type(ev)._mutable
    )


def _check_nesting(ev: MessageEvent) -> None:
    """``ChunkError`` for an event holding a value nested deeper than ``MAX_DEPTH``, checked
    before anything is merged or kept (the error a deeper stack gets from the decoder). An event
    with unknown keys, or a field of another type than declared, is looked at whole (itself one
    level); a declared event, in the objects it carries."""
    if type(ev)._mutable:
        check_depth(ev, MAX_DEPTH + 1, "event")
        return
    for value in (ev.message, ev.content_block, ev.usage, ev.error):
        if value is not None:
            check_depth(value, MAX_DEPTH, "event")
    # A delta's citation is checked where it is kept (on_block_delta).


def _rest(delta: MessageDelta, merged: str | None) -> dict[str, Any]:
    """The fields of ``delta`` set besides its type and the one its type merges."""
    if type(delta) is MessageDelta:
        # Most deltas set those two alone: counted in C, without a dict of every field.
        declared = (delta.type is not None) + (
            merged is not None and getattr(delta, merged) is not None
        )
        if _FIELDS - astuple(delta).count(None) == declared:
            return {}
    return {
        key: value
        for key, value in msgspec.to_builtins(delta).items()
        if key != "type" and key != merged and value is not None
    }


_FIELDS = len(MessageDelta.__struct_fields__)
# A delta that sets its type and the one field it merges, and nothing else: the short way's.
PLAIN_NONES = _FIELDS - 2


_PLAIN = len('{"type":"content_block_delta","index":,"delta":{"type":"","":""}}')
# The fewest bytes a field of MessageDelta set beside a delta's own adds to its payload: a comma,
# its quoted name, a colon, and a value of at least one byte.
_FOREIGN = min(len(key) for key in MessageDelta.__struct_encode_fields__ if key != "type") + 5


def plain_bound(index: int, kind: str, field: str) -> int:
    """How long the JSON payload of a ``content_block_delta`` to block ``index`` may be, less its
    value's length in characters, and still be proved to set nothing in its delta but ``type``
    (``kind``) and ``field``.

    Such a payload holds at least the compact JSON of its event's ``type``, ``index`` and delta
    (a JSON string is at least as long as its characters and two quotes, an integer as its
    digits, a key escaped or spaced only longer), plus ``len(value)`` bytes of the value; a field
    of the delta set beside (``"g":v`` after a comma, ``v`` not ``null``) adds at least
    ``len(g) + 5`` more. A payload no longer than ``plain_bound() + len(value)`` has no room for
    one: the room left is what its value's non-ASCII characters and escapes, or spaces, took
    (a token of a few characters: almost every delta). Nor for a value nested deep enough to be
    refused (``MAX_DEPTH`` levels take hundreds of bytes) in a key of the event beside its
    delta. A longer one is checked field by field, and for such values (``carries_objects``).
    """
    return _PLAIN + len(str(index)) + len(kind) + len(field) + _FOREIGN - 1


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_HANDLERS = {
    "message_start": MessageMerger.on_message_start,
    "content_block_start": MessageMerger.on_block_start,
    "content_block_delta": MessageMerger.on_block_delta,
    "content_block_stop": MessageMerger.on_block_stop,
    "message_delta": MessageMerger.on_message_delta,
    "message_stop": MessageMerger.on_message_stop,
    "ping": MessageMerger.on_ping,
    "error": MessageMerger.on_error,
    "message": MessageMerger.on_body,
    # The Anthropic SDK's MessageStream echoes of deltas (``add()`` keeps only their type).
    **dict.fromkeys(
        ("text", "citation", "thinking", "signature", "input_json"), MessageMerger.on_ping
    ),
}
