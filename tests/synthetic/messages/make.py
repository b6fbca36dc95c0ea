"""Write the synthetic Anthropic Messages streams of this folder, each from its truth message.

``python tests/synthetic/messages/make.py`` rewrites every ``<case>.sse`` (the raw body of a
streamed ``POST /v1/messages``) and ``<case>.expected.json`` (the message it must finalize to)
here, ``non_streamed.json`` (a whole non-streamed body) and ``manifest.json``; the output is the
same bytes on every run. It then checks each case (``--no-check`` skips this):

- the truth message and every event validate against the Anthropic SDK's models
  (``anthropic.types.beta.BetaMessage``, ``BetaRawMessageStreamEvent``), except what those models
  do not describe: ``ping``, ``error``, and the block, delta and event types made up on purpose;
- the reference accumulator ``accumulate`` below, fed the parsed stream, gives ``expected``; on a
  stream that ends with ``message_stop``, ``expected`` is the truth;
- the Anthropic SDK's own accumulation (``anthropic.lib.streaming._messages.accumulate_event``
  and ``_beta_messages.accumulate_event``, fed what its ``Stream`` yields) keeps nothing that
  ``expected`` lacks, and loses exactly the paths the README lists for it.

How a case is built: the final message (the truth) is written first, as the non-streamed
response body would hold it; the event stream is then rendered from it: ``message_start`` with
the truth emptied (``content: []``, ``stop_reason: null``, the first usage), per block a
``content_block_start``, its deltas and a ``content_block_stop``, then ``message_delta`` and
``message_stop``. Cases that end early (an ``error`` event, a cut) truncate that rendering after
a chosen event; pings, repeated ``message_start`` events and unknown events are inserted into it.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import warnings
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

Obj = dict[str, Any]
HERE = Path(__file__).resolve().parent
BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"
# Blocks whose input arrives as input_json_delta fragments (when their start holds {}).
TOOL_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")


# --------------------------------------------------------------------------- ids and text pieces


def anthropic_id(prefix: str, case: str, n: int = 0) -> str:
    """A stable id of Anthropic's look (``msg_01`` + 22 base62 characters), from the case."""
    digest = hashlib.sha256(f"{case}:{prefix}:{n}".encode()).digest()
    return prefix + "01" + "".join(BASE62[b % 62] for b in digest[:22])


def fragments(text: str, rng: random.Random, lo: int = 1, hi: int = 7) -> list[str]:
    """``text`` cut into pieces of ``lo`` to ``hi`` code points (never inside a code point)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        n = rng.randint(lo, hi)
        out.append(text[i : i + n])
        i += n
    return out


def tool_json(value: Any) -> str:
    """A tool input as the model writes it in ``input_json_delta`` fragments."""
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------- truth objects


def usage(input_tokens: int, output_tokens: int, **more: Any) -> Obj:
    """A ``usage`` object in the key order of the API's responses."""
    out: Obj = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    out.update(more)
    return out


def message(
    case: str,
    content: list[Obj],
    *,
    model: str = SONNET,
    stop_reason: str = "end_turn",
    stop_sequence: str | None = None,
    usage_: Obj,
    **extra: Any,
) -> Obj:
    """A final ``message`` (the non-streamed body) in the key order of the docs' examples."""
    obj: Obj = {
        "id": anthropic_id("msg_", case),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage_,
    }
    obj.update(extra)
    return obj


def text(value: str, citations: list[Obj] | None = None) -> Obj:
    block: Obj = {"type": "text", "text": value}
    if citations is not None:
        block["citations"] = citations
    return block


def thinking(value: str, signature: str) -> Obj:
    return {"type": "thinking", "thinking": value, "signature": signature}


def tool_use(
    case: str, n: int, name: str, input_: Obj, type_: str = "tool_use", **more: Any
) -> Obj:
    prefix = {"tool_use": "toolu_", "server_tool_use": "srvtoolu_", "mcp_tool_use": "mcptoolu_"}
    block: Obj = {"type": type_, "id": anthropic_id(prefix[type_], case, n), "name": name}
    block.update(more)
    block["input"] = input_
    return block


def signature(case: str, n: int = 0, length: int = 160) -> str:
    """A stand-in for a thinking signature (base64 of the case name's digest, repeated)."""
    import base64

    raw = hashlib.sha512(f"{case}:sig:{n}".encode()).digest() * 4
    return base64.b64encode(raw).decode()[:length]


# --------------------------------------------------------------------------- rendering


@dataclass
class Style:
    """How deltas are cut, per case."""

    rng: random.Random
    lo: int = 1
    hi: int = 7
    json_lo: int = 1
    json_hi: int = 12

    def pieces(self, value: str) -> list[str]:
        return fragments(value, self.rng, self.lo, self.hi)

    def json_pieces(self, value: str) -> list[str]:
        # The API's first input_json_delta carries "" (the docs' tool use example).
        return ["", *fragments(value, self.rng, self.json_lo, self.json_hi)]


@dataclass
class Plan:
    """How one block of the truth is streamed: its ``content_block_start`` block and deltas.
    ``None`` fields mean the default for its type (``block_plan``)."""

    start: Obj | None = None
    deltas: list[Obj] | None = None


def block_plan(block: Obj, style: Style) -> tuple[Obj, list[Obj]]:
    """The default start block and deltas that stream ``block``, by its type:

    - ``text``: starts with ``text: ""`` (and ``citations: []`` when it has citations); every
      citation arrives as a ``citations_delta`` before the text (the docs' web search example),
      then the text in ``text_delta`` pieces;
    - ``thinking``: starts with ``thinking: ""`` and ``signature: ""``; ``thinking_delta``
      pieces, then one ``signature_delta``;
    - ``tool_use``, ``server_tool_use``, ``mcp_tool_use``: start with ``input: {}``; the input's
      JSON in ``input_json_delta`` fragments, the first one empty;
    - ``compaction``: starts with ``content: null``; one ``compaction_delta`` with the content;
    - any other type: whole in ``content_block_start``, no delta.
    """
    kind = block["type"]
    if kind == "text":
        start: Obj = {"type": "text", "text": ""}
        deltas: list[Obj] = []
        if block.get("citations"):
            start["citations"] = []
            deltas += [{"type": "citations_delta", "citation": c} for c in block["citations"]]
        deltas += [{"type": "text_delta", "text": p} for p in style.pieces(block["text"])]
        return start, deltas
    if kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": p} for p in style.pieces(block["thinking"])
        ]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return start, deltas
    if kind in TOOL_BLOCKS:
        start = {**block, "input": {}}
        pieces = style.json_pieces(tool_json(block["input"])) if block["input"] else [""]
        return start, [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    if kind == "compaction":
        start = {**block, "content": None}
        return start, [{"type": "compaction_delta", "content": block["content"]}]
    return deepcopy(block), []


def start_message(truth: Obj, start_usage: Obj, model: str | None = None) -> Obj:
    """``message_start``'s message: the truth with no content and no stop reason yet, the first
    usage, and none of the keys that only ``message_delta`` sends."""
    out: Obj = {}
    for key in ("id", "type", "role", "model", "content", "stop_reason", "stop_sequence"):
        out[key] = truth[key]
    out.update(content=[], stop_reason=None, stop_sequence=None, usage=start_usage)
    if model is not None:
        out["model"] = model
    return out


def render(
    truth: Obj,
    style: Style,
    *,
    start_usage: Obj,
    delta_usage: Obj,
    start_model: str | None = None,
    delta_extra: Iterable[str] = (),
    top_extra: Iterable[str] = (),
    plans: dict[int, Plan] | None = None,
    ping: bool = True,
) -> list[Obj]:
    """The full event stream of ``truth``.

    ``delta_extra`` names the truth's keys that ``message_delta`` carries in its ``delta``
    beside ``stop_reason`` and ``stop_sequence`` (``container``); ``top_extra`` those it carries
    beside ``delta`` and ``usage`` (``context_management``). A ``ping`` follows the first
    ``content_block_start``, as in the docs' basic example.
    """
    plans = plans or {}
    events: list[Obj] = [
        {"type": "message_start", "message": start_message(truth, start_usage, start_model)}
    ]
    for i, block in enumerate(truth["content"]):
        plan = plans.get(i, Plan())
        start, deltas = block_plan(block, style)
        start = plan.start if plan.start is not None else start
        deltas = plan.deltas if plan.deltas is not None else deltas
        events.append({"type": "content_block_start", "index": i, "content_block": start})
        if i == 0 and ping:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": i, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": i})
    delta: Obj = {"stop_reason": truth["stop_reason"], "stop_sequence": truth["stop_sequence"]}
    delta.update((key, truth[key]) for key in delta_extra)
    final: Obj = {"type": "message_delta", "delta": delta, "usage": delta_usage}
    final.update((key, truth[key]) for key in top_extra)
    events.append(final)
    events.append({"type": "message_stop"})
    return events


def cut_after(events: list[Obj], type_: str, nth: int) -> list[Obj]:
    """``events`` up to and including the ``nth`` (1-based) event of type ``type_``."""
    seen = 0
    for n, event in enumerate(events):
        if event["type"] == type_:
            seen += 1
            if seen == nth:
                return events[: n + 1]
    raise ValueError(f"fewer than {nth} {type_} events")


def insert_after(events: list[Obj], type_: str, nth: int, new: Obj) -> list[Obj]:
    """``events`` with ``new`` inserted after the ``nth`` (1-based) event of type ``type_``."""
    head = cut_after(events, type_, nth)
    return [*head, new, *events[len(head) :]]


def to_sse(events: Iterable[Obj], *, event_lines: bool = True, eol: bytes = b"\n") -> bytes:
    """SSE as Anthropic sends it: ``event: <type>``, then ``data: <json>`` (one line), then a
    blank line (``event_lines=False``: the ``data:`` lines alone)."""
    out = bytearray()
    for obj in events:
        if event_lines:
            out += b"event: " + str(obj["type"]).encode() + eol
        out += b"data: " + orjson.dumps(obj) + eol + eol
    return bytes(out)


def parse_sse(data: bytes) -> Iterator[Obj]:
    """The JSON of each ``data:`` payload (the streams here put each on one line)."""
    for line in data.replace(b"\r\n", b"\n").split(b"\n"):
        if line.startswith(b"data: "):
            yield orjson.loads(line[6:])


# --------------------------------------------------------------------------- reference accumulator


@dataclass
class Outcome:
    """What a stream finalizes to: the message, how the stream ended (``complete``: after
    ``message_stop``; ``error``; ``cut``), the ``error`` event's payload and its event number,
    and, per block whose input JSON never became whole, the fragments joined (``partial``)."""

    message: Obj | None
    ending: str
    error: Obj | None = None
    error_event: int | None = None
    partial: dict[int, str] = field(default_factory=dict)


class OtherMessage(ValueError):
    """A ``message_start`` with another id inside an open message."""


# How a tool input cut short is parsed: as the Anthropic SDK's snapshot parses it,
# anthropic.lib.streaming._messages.accumulate_event: ``from_json(json_buf, partial_mode=True)``,
# which leaves out a string still open (``{"city": "Os`` gives ``{}``). Its beta accumulator
# keeps the open string (``"trailing-strings"``) only when the request sent the
# ``fine-grained-tool-streaming-2025-05-14`` beta header.
PARTIAL_MODE = True


def parse_partial(raw: str) -> Any:
    """Tool input JSON that may be cut short, parsed as the Anthropic SDK does (jiter's partial
    mode, ``PARTIAL_MODE``); ``{}`` for no text at all."""
    if not raw:
        return {}
    from jiter import from_json

    return from_json(raw.encode(), partial_mode=PARTIAL_MODE)


def accumulate(events: Iterable[Obj]) -> Outcome:
    """Merge parsed events into the final message (the rules the README states).

    ``message_start``'s message is the base (a repeat with the same id is ignored; another id
    raises ``OtherMessage``); a block is put at its ``index``; ``text_delta``, ``thinking_delta``
    and ``signature_delta`` append to ``text``, ``thinking``, ``signature``; ``citations_delta``
    appends its ``citation`` to ``citations``; ``input_json_delta`` fragments are joined and
    parsed when the block stops (nothing at all gives ``{}``; a block with no such delta keeps
    its ``input``; JSON cut short gives its partial parse, the fragments kept beside it); any
    other delta sets each of its non-null fields but ``type`` on the block; a ``fallback``
    block sets the message's ``model`` to its ``to.model``; ``message_delta`` sets
    each non-null key of its ``delta`` and of its other top-level keys on the message, and each
    non-null key of its ``usage`` on the message's usage; ``ping``, ``message_stop`` and events
    of unknown types change nothing; ``error`` ends the merge there.
    """
    msg: Obj | None = None
    blocks: dict[int, Obj] = {}
    bufs: dict[int, list[str]] = {}
    partial: dict[int, str] = {}
    ending = "cut"
    for n, ev in enumerate(events, 1):
        kind = ev["type"]
        if kind == "error":
            return _built(msg, blocks, bufs, partial, "error", ev["error"], n)
        if kind == "message_start":
            if msg is None:
                msg = deepcopy(ev["message"])
            elif ev["message"]["id"] != msg["id"]:
                raise OtherMessage(f"event {n}: message {ev['message']['id']} inside {msg['id']}")
            continue
        if kind == "ping" or msg is None:
            continue
        if kind == "content_block_start":
            block = deepcopy(ev["content_block"])
            blocks[ev["index"]] = block
            if block["type"] == "fallback" and block["to"]["model"] is not None:
                # A null names no model: the message keeps the one it had (chunkagg's rule for
                # a null anywhere a value is kept, never documented by Anthropic).
                msg["model"] = block["to"]["model"]
        elif kind == "content_block_delta":
            block, delta = blocks[ev["index"]], ev["delta"]
            dtype = delta["type"]
            if dtype in ("text_delta", "thinking_delta", "signature_delta"):
                key = dtype.removesuffix("_delta")
                block[key] = (block.get(key) or "") + delta[key]
            elif dtype == "citations_delta":
                block["citations"] = [*(block.get("citations") or []), deepcopy(delta["citation"])]
            elif dtype == "input_json_delta":
                bufs.setdefault(ev["index"], []).append(delta["partial_json"])
            else:
                for key, value in delta.items():
                    if key != "type" and value is not None:
                        block[key] = deepcopy(value)
        elif kind == "content_block_stop":
            pieces = bufs.pop(ev["index"], None)
            if pieces is not None:
                _parse_input(blocks[ev["index"]], ev["index"], "".join(pieces), partial)
        elif kind == "message_delta":
            for key, value in ev.get("delta", {}).items():
                if value is not None:
                    msg[key] = deepcopy(value)
            for key, value in (ev.get("usage") or {}).items():
                if value is not None:
                    msg.setdefault("usage", {})[key] = deepcopy(value)
            for key, value in ev.items():
                if key not in ("type", "delta", "usage") and value is not None:
                    msg[key] = deepcopy(value)
        elif kind == "message_stop":
            ending = "complete"
        # Any other event type changes nothing.
    return _built(msg, blocks, bufs, partial, ending)


def _parse_input(block: Obj, index: int, joined: str, partial: dict[int, str]) -> None:
    """Set a tool block's ``input`` from its fragments: the JSON they join to, ``{}`` for none,
    else (a stream cut inside it, or JSON the model left unfinished) its partial parse, the
    fragments kept in ``partial``."""
    try:
        block["input"] = orjson.loads(joined) if joined else {}
    except orjson.JSONDecodeError:
        block["input"] = parse_partial(joined)
        partial[index] = joined


def _built(
    msg: Obj | None,
    blocks: dict[int, Obj],
    bufs: dict[int, list[str]],
    partial: dict[int, str],
    ending: str,
    error: Obj | None = None,
    error_event: int | None = None,
) -> Outcome:
    for i, pieces in bufs.items():
        _parse_input(blocks[i], i, "".join(pieces), partial)
    if msg is not None:
        msg = {**msg, "content": [blocks[i] for i in sorted(blocks)]}
    return Outcome(msg, ending, error, error_event, dict(partial))


# --------------------------------------------------------------------------- the cases


@dataclass
class Case:
    name: str
    covers: str
    source: str
    truth: Obj
    events: list[Obj]
    event_lines: bool = True
    eol: bytes = b"\n"
    # What the Anthropic SDK's accumulation loses from the expected message, as paths: for
    # client.messages.stream() and client.beta.messages.stream(); a string when it has no
    # final message at all. Checked by check_sdk.
    sdk: list[str] | str = field(default_factory=list)
    sdk_beta: list[str] | str = field(default_factory=list)


DOCS = "docs.anthropic.com/en/docs/build-with-claude/streaming"
EVENTS = "anthropic.types.raw_message_stream_event"


def case_list() -> list[Case]:
    cases: list[Case] = []

    def rng(name: str) -> random.Random:
        return random.Random(name)

    # plain_text -------------------------------------------------------------------------------
    name = "plain_text"
    body = (
        "Hello! Streaming sends the message as server-sent events: a message_start, then each "
        "content block's start, deltas and stop, then message_delta and message_stop."
    )
    start_u = usage(25, 1)
    truth = message(name, [text(body)], usage_=usage(25, 38))
    cases.append(
        Case(
            name,
            "one text block in 1-7 character text_delta pieces; a ping after its start",
            f'{DOCS} ("Basic streaming request"); {EVENTS}',
            truth,
            render(truth, Style(rng(name)), start_usage=start_u, delta_usage={"output_tokens": 38}),
        )
    )

    # tool_use ---------------------------------------------------------------------------------
    name = "tool_use"
    call = tool_use(name, 0, "get_weather", {"location": "San Francisco, CA", "unit": "fahrenheit"})
    truth = message(
        name,
        [text("Okay, let me check the weather for San Francisco, CA:"), call],
        stop_reason="tool_use",
        usage_=usage(472, 89),
    )
    cases.append(
        Case(
            name,
            "text, then a tool_use block whose input arrives in input_json_delta fragments (the "
            "first one empty); stop_reason tool_use",
            f'{DOCS} ("Streaming request with tool use"); anthropic.types.input_json_delta',
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(472, 2),
                delta_usage={"output_tokens": 89},
            ),
        )
    )

    # tool_use_input_in_start ------------------------------------------------------------------
    name = "tool_use_input_in_start"
    call = tool_use(name, 0, "get_weather", {"location": "Paris, France", "unit": "celsius"})
    truth = message(name, [call], stop_reason="tool_use", usage_=usage(410, 40))
    cases.append(
        Case(
            name,
            "a tool_use block whose content_block_start carries the whole input, and no delta "
            "(as gateways that translate a whole tool call send it): the input is kept",
            "anthropic.types.raw_content_block_start_event (content_block: ToolUseBlock, whose "
            "input is required); issue 16",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(410, 1),
                delta_usage={"output_tokens": 40},
                plans={0: Plan(start=deepcopy(call), deltas=[])},
            ),
        )
    )

    # tool_use_empty_input ---------------------------------------------------------------------
    name = "tool_use_empty_input"
    call = tool_use(name, 0, "get_time", {})
    truth = message(
        name,
        [text("Let me look at the clock."), call],
        stop_reason="tool_use",
        usage_=usage(380, 31),
    )
    empty = [{"type": "input_json_delta", "partial_json": ""}] * 2
    cases.append(
        Case(
            name,
            "a tool_use block for a tool without parameters: its input_json_delta fragments "
            'are all "" and join to nothing, which gives input {}',
            f'{DOCS} ("Input JSON delta": the first partial_json is empty); '
            "anthropic.types.input_json_delta",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(380, 1),
                delta_usage={"output_tokens": 31},
                plans={1: Plan(deltas=empty)},
            ),
        )
    )

    # parallel_tool_use ------------------------------------------------------------------------
    name = "parallel_tool_use"
    calls = [
        tool_use(name, 0, "get_weather", {"location": "Tokyo", "unit": "celsius"}),
        tool_use(name, 1, "get_time", {"timezone": "Asia/Tokyo"}),
    ]
    truth = message(
        name,
        [text("I'll check both at once."), *calls],
        stop_reason="tool_use",
        usage_=usage(630, 120),
    )
    cases.append(
        Case(
            name,
            "text, then two tool_use blocks (indices 1 and 2), each with its input in fragments",
            f"{DOCS}; anthropic.types.tool_use_block",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(630, 3),
                delta_usage={"output_tokens": 120},
            ),
        )
    )

    # thinking ---------------------------------------------------------------------------------
    name = "thinking"
    thought = (
        "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3\n"
        "3. 27 * 400 = 10,800; 27 * 50 = 1,350; 27 * 3 = 81\n4. 10,800 + 1,350 + 81 = 12,231"
    )
    truth = message(
        name,
        [thinking(thought, signature(name)), text("27 * 453 = 12,231")],
        usage_=usage(48, 214),
    )
    cases.append(
        Case(
            name,
            "a thinking block (thinking_delta pieces, then one signature_delta), then text",
            f'{DOCS} ("Streaming request with extended thinking"); '
            "anthropic.types.thinking_delta, anthropic.types.signature_delta",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(48, 3),
                delta_usage={"output_tokens": 214},
            ),
        )
    )

    # redacted_thinking ------------------------------------------------------------------------
    name = "redacted_thinking"
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT" + "A" * 88}
    truth = message(
        name,
        [
            thinking("The user asks for a summary; check the policy first.", signature(name)),
            redacted,
            text("Here is the summary you asked for."),
        ],
        usage_=usage(61, 180),
    )
    cases.append(
        Case(
            name,
            "thinking, then a redacted_thinking block whole in its content_block_start (no "
            "delta), then text",
            "docs.anthropic.com/en/docs/build-with-claude/extended-thinking (thinking "
            "redaction); anthropic.types.redacted_thinking_block",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(61, 3),
                delta_usage={"output_tokens": 180},
            ),
        )
    )

    # web_search -------------------------------------------------------------------------------
    name = "web_search"
    search = tool_use(
        name, 0, "web_search", {"query": "weather NYC today"}, type_="server_tool_use"
    )
    results = {
        "type": "web_search_tool_result",
        "tool_use_id": search["id"],
        "content": [
            {
                "type": "web_search_result",
                "title": "Weather in New York City in May 2025",
                "url": "https://www.timeanddate.com/weather/usa/new-york/historic",
                "encrypted_content": "Ev0DCioIAxgCIiQ3NmU4ZmI4OC1k" + "B" * 40,
                "page_age": "May 26, 2025",
            },
            {
                "type": "web_search_result",
                "title": "New York, NY Weather Forecast",
                "url": "https://weather.com/weather/today/l/New+York+NY",
                "encrypted_content": "EpkCCioIAxgCIiQ1MTcyN2VkYS1j" + "C" * 40,
                "page_age": None,
            },
        ],
    }
    cite = {
        "type": "web_search_result_location",
        "cited_text": "Today's forecast: partly cloudy, high of 72°F, low of 58°F. ",
        "url": "https://weather.com/weather/today/l/New+York+NY",
        "title": "New York, NY Weather Forecast",
        "encrypted_index": "Eo8BCioIAxgCIiQ5ZDdkYzBhNS0",
    }
    cite2 = {
        **cite,
        "cited_text": "Winds from the southwest at 10 mph. ",
        "encrypted_index": "Ep8X",
    }
    final_u = usage(
        10682,
        510,
        server_tool_use={"web_search_requests": 1, "web_fetch_requests": 0},
    )
    truth = message(
        name,
        [
            text("I'll check the current weather in New York City for you."),
            search,
            results,
            text("Here's the current weather in New York City:\n\n"),
            text("It is partly cloudy with a high of 72°F", [cite]),
            text(" and "),
            text("a light southwest wind", [cite2]),
            text("."),
        ],
        usage_=final_u,
    )
    cases.append(
        Case(
            name,
            "text, a server_tool_use (web_search) with its input in fragments, a "
            "web_search_tool_result whole in its start, then text blocks, two of them with a "
            "citations_delta each; message_delta's usage repeats input_tokens and the cache "
            "counts and adds server_tool_use",
            f'{DOCS} ("Streaming request with web search tool use"); '
            "anthropic.types.citations_delta, anthropic.types.web_search_tool_result_block",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(10682, 3),
                delta_usage={
                    "input_tokens": 10682,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 510,
                    "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0},
                },
            ),
        )
    )

    # usage_in_message_delta -------------------------------------------------------------------
    name = "usage_in_message_delta"
    start_u = usage(
        4, 1, cache_creation={"ephemeral_5m_input_tokens": 1800, "ephemeral_1h_input_tokens": 0}
    )
    start_u.update(cache_creation_input_tokens=1800, cache_read_input_tokens=0)
    delta_u = {
        "input_tokens": 2095,
        "cache_creation_input_tokens": 1800,
        "cache_read_input_tokens": 250,
        "output_tokens": 503,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 1},
    }
    final_u = {**start_u, **delta_u}
    truth = message(name, [text("Done: the page says the office opens at 9.")], usage_=final_u)
    cases.append(
        Case(
            name,
            "message_delta's usage replaces input_tokens, the cache counts and output_tokens "
            "(cumulative, never summed) and adds server_tool_use; cache_creation and "
            "service_tier, which only message_start sent, stay",
            f'{DOCS} ("the token counts in message_delta\'s usage are cumulative"); '
            "anthropic.types.message_delta_usage",
            truth,
            render(truth, Style(rng(name)), start_usage=start_u, delta_usage=delta_u),
        )
    )

    # code_execution ---------------------------------------------------------------------------
    name = "code_execution"
    run = tool_use(
        name,
        0,
        "bash_code_execution",
        {"command": "python3 -c 'print(sum(range(101)))'"},
        type_="server_tool_use",
    )
    output = {
        "type": "bash_code_execution_tool_result",
        "tool_use_id": run["id"],
        "content": {
            "type": "bash_code_execution_result",
            "stdout": "5050\n",
            "stderr": "",
            "return_code": 0,
            "content": [],
        },
    }
    container = {"id": "container_011CUPmxHBbwsvTXkQXhwYdA", "expires_at": "2026-01-01T01:05:00Z"}
    truth = message(
        name,
        [run, output, text("The sum of 0 to 100 is 5050.")],
        usage_=usage(
            2300, 150, server_tool_use={"web_search_requests": 0, "web_fetch_requests": 0}
        ),
        container=container,
    )
    cases.append(
        Case(
            name,
            "a server_tool_use (bash_code_execution) and its result block, then text; "
            "message_delta's delta carries container beside stop_reason",
            "docs.anthropic.com/en/docs/agents-and-tools/tool-use/code-execution-tool; "
            "anthropic.types.raw_message_delta_event (Delta.container)",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(2300, 2),
                delta_usage={
                    "output_tokens": 150,
                    "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                },
                delta_extra=["container"],
            ),
            sdk=[],
        )
    )

    # mcp --------------------------------------------------------------------------------------
    name = "mcp"
    mcp_call = tool_use(
        name,
        0,
        "echo",
        {"message": "ping from the connector"},
        type_="mcp_tool_use",
        server_name="example-mcp",
    )
    mcp_result = {
        "type": "mcp_tool_result",
        "tool_use_id": mcp_call["id"],
        "is_error": False,
        "content": [{"type": "text", "text": "ping from the connector"}],
    }
    truth = message(
        name,
        [text("I'll call the echo tool."), mcp_call, mcp_result, text("The server echoed it.")],
        usage_=usage(720, 96),
    )
    cases.append(
        Case(
            name,
            "an mcp_tool_use block (input in fragments), an mcp_tool_result whole in its start, "
            "then text",
            "docs.anthropic.com/en/docs/agents-and-tools/mcp-connector; "
            "anthropic.types.beta.beta_mcp_tool_use_block, beta_mcp_tool_result_block",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(720, 2),
                delta_usage={"output_tokens": 96},
            ),
            # Its types know no mcp block: the input fragments are not tracked.
            sdk=["content.1.input.message"],
        )
    )

    # compaction -------------------------------------------------------------------------------
    name = "compaction"
    summary = (
        "Summary of the conversation so far: the user is planning a three-day trip to Lisbon, "
        "has booked a hotel in Alfama, and wants restaurant suggestions near the river."
    )
    iterations = [
        {
            "type": "compaction",
            "input_tokens": 180000,
            "output_tokens": 420,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
        {
            "type": "message",
            "input_tokens": 900,
            "output_tokens": 88,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    ]
    truth = message(
        name,
        [
            {"type": "compaction", "content": summary},
            text("Try Taberna Sal Grosso, a short walk from your hotel."),
        ],
        model="claude-opus-4-6",
        usage_=usage(900, 508, iterations=iterations),
    )
    cases.append(
        Case(
            name,
            "a compaction block (content: null in its start, then one compaction_delta with the "
            "summary), then text; message_delta's usage adds iterations",
            "docs.anthropic.com/en/docs/build-with-claude/compaction; "
            "anthropic.types.beta.beta_compaction_block, beta_compaction_content_block_delta, "
            "beta_iterations_usage",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(900, 1),
                delta_usage={"output_tokens": 508, "iterations": iterations},
            ),
            sdk=["content.0.content", "usage.iterations"],
        )
    )

    # fallback ---------------------------------------------------------------------------------
    name = "fallback"
    fallback = {
        "type": "fallback",
        "from": {"model": "claude-opus-4-7"},
        "to": {"model": SONNET},
        "trigger": {"type": "refusal", "category": "cyber"},
    }
    truth = message(
        name,
        [fallback, text("Here is a general overview of how TLS certificate pinning works.")],
        model=SONNET,
        usage_=usage(140, 64),
    )
    cases.append(
        Case(
            name,
            "a fallback block (the requested model refused, another answered): the message's "
            "model becomes the block's to.model, as the non-streamed body says; the block stays",
            "anthropic.types.beta.beta_fallback_block; the comment on the fallback block in "
            "anthropic.lib.streaming._beta_messages.accumulate_event",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(140, 1),
                delta_usage={"output_tokens": 64},
                start_model="claude-opus-4-7",
            ),
            sdk=["model"],
        )
    )

    # context_management -----------------------------------------------------------------------
    name = "context_management"
    edits = {
        "applied_edits": [
            {
                "type": "clear_tool_uses_20250919",
                "cleared_tool_uses": 3,
                "cleared_input_tokens": 4200,
            }
        ]
    }
    truth = message(
        name,
        [text("Reading the next file."), tool_use(name, 0, "read_file", {"path": "src/app.py"})],
        stop_reason="tool_use",
        usage_=usage(5100, 57),
        context_management=edits,
    )
    cases.append(
        Case(
            name,
            "message_delta carries context_management beside delta and usage: set on the message",
            "docs.anthropic.com/en/docs/build-with-claude/context-editing; "
            "anthropic.types.beta.beta_raw_message_delta_event (context_management)",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(5100, 2),
                delta_usage={"output_tokens": 57},
                top_extra=["context_management"],
            ),
            sdk=["context_management"],
        )
    )

    # error_event ------------------------------------------------------------------------------
    name = "error_event"
    full = message(
        name, [text("This answer stops halfway through a sentence.")], usage_=usage(9, 9)
    )
    events = cut_after(
        render(full, Style(rng(name)), start_usage=usage(9, 1), delta_usage={"output_tokens": 9}),
        "content_block_delta",
        4,
    )
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    cases.append(
        Case(
            name,
            "four text deltas, then an error event (overloaded_error), then the end of the body",
            f'{DOCS} ("Error events")',
            full,
            events,
            sdk="raises APIStatusError on the error event",
            sdk_beta="raises APIStatusError on the error event",
        )
    )

    # cut --------------------------------------------------------------------------------------
    name = "cut"
    full = message(
        name,
        [
            text("Checking the weather in Oslo."),
            tool_use(name, 0, "get_weather", {"location": "Oslo", "unit": "celsius"}),
            text("It is 4 degrees and raining in Oslo right now."),
        ],
        usage_=usage(90, 70),
    )
    rendered = render(
        full, Style(rng(name)), start_usage=usage(90, 1), delta_usage={"output_tokens": 70}
    )
    third = next(
        n for n, e in enumerate(rendered) if e["type"] == "content_block_start" and e["index"] == 2
    )
    cases.append(
        Case(
            name,
            "text, a finished tool_use, then a text block cut after its first deltas: no "
            "content_block_stop, message_delta or message_stop; the body ends at an event "
            "boundary",
            f"{DOCS} (a dropped connection)",
            full,
            rendered[: third + 4],  # the third block's start and three deltas
        )
    )

    # repeated_message_start -------------------------------------------------------------------
    name = "repeated_message_start"
    truth = message(name, [text("First block."), text("Second block.")], usage_=usage(31, 12))
    start_u = usage(31, 1)
    events = render(truth, Style(rng(name)), start_usage=start_u, delta_usage={"output_tokens": 12})
    repeat = {"type": "message_start", "message": start_message(truth, usage(999, 1))}
    events = insert_after(events, "content_block_stop", 1, repeat)
    cases.append(
        Case(
            name,
            "message_start again, with the same id (and another usage), after the first block: "
            "ignored, so the first block and usage stay",
            "issue 16 (a proxy that replays message_start on a retried upstream)",
            truth,
            events,
        )
    )

    # unknown_block ----------------------------------------------------------------------------
    name = "unknown_block"
    novel = {
        "type": "citation_panel",
        "title": "Sources",
        "entries": [
            {"label": "[1]", "url": "https://example.com/a"},
            {"label": "[2]", "url": None},
        ],
    }
    truth = message(
        name, [text("Answer with a panel of sources."), novel, text("End.")], usage_=usage(20, 30)
    )
    cases.append(
        Case(
            name,
            "a block of a type not yet invented, whole in its content_block_start: kept as sent, "
            "in its place",
            f'{DOCS} ("we may add new event types", the versioning policy); '
            "anthropic.types.content_block (a closed union)",
            truth,
            render(
                truth, Style(rng(name)), start_usage=usage(20, 1), delta_usage={"output_tokens": 30}
            ),
        )
    )

    # unknown_delta ----------------------------------------------------------------------------
    name = "unknown_delta"
    progress = {"type": "progress", "status": "done", "percent": 100, "label": "indexing"}
    truth = message(
        name,
        [text("Indexing the repository.", None), progress, text("Indexed.")],
        usage_=usage(18, 26),
    )
    truth["content"][0]["emphasis"] = {"start": 0, "end": 8}
    plans = {
        0: Plan(
            deltas=[
                {"type": "text_delta", "text": "Indexing"},
                {"type": "emphasis_delta", "emphasis": {"start": 0, "end": 3}},
                {"type": "text_delta", "text": " the repository."},
                {"type": "emphasis_delta", "emphasis": {"start": 0, "end": 8}, "note": None},
            ]
        ),
        1: Plan(
            start={"type": "progress", "status": "queued", "label": "indexing"},
            deltas=[
                {"type": "progress_delta", "status": "running", "percent": 50},
                {"type": "progress_delta", "status": "done", "percent": 100, "note": None},
            ],
        ),
    }
    cases.append(
        Case(
            name,
            "delta types not yet invented, on a text block and on a block of an unknown type: "
            "each sets its non-null fields but type on the block (the last value wins; a null "
            "sets nothing)",
            f"{DOCS} (new delta types may be added); anthropic.types.raw_content_block_delta "
            "(a closed union)",
            truth,
            render(
                truth,
                Style(rng(name)),
                start_usage=usage(18, 1),
                delta_usage={"output_tokens": 26},
                plans=plans,
            ),
            sdk=["content.0.emphasis", "content.1.status", "content.1.percent"],
            sdk_beta=["content.0.emphasis", "content.1.status", "content.1.percent"],
        )
    )

    # unknown_event ----------------------------------------------------------------------------
    name = "unknown_event"
    truth = message(name, [text("Nothing changes the message.")], usage_=usage(12, 9))
    events = render(
        truth, Style(rng(name)), start_usage=usage(12, 1), delta_usage={"output_tokens": 9}
    )
    events = insert_after(
        events, "message_start", 1, {"type": "message_progress", "stage": "sampling", "n": 1}
    )
    events = insert_after(
        events,
        "content_block_delta",
        2,
        {"type": "content_block_annotation", "index": 0, "annotation": {"kind": "note"}},
    )
    cases.append(
        Case(
            name,
            "two events of types not yet invented (one with an index): they change nothing",
            f'{DOCS} ("Other events": new event types may be added; handle unknown ones '
            "gracefully)",
            truth,
            events,
        )
    )

    # pings ------------------------------------------------------------------------------------
    name = "pings"
    truth = message(
        name, [text("Pings carry nothing."), text("Still nothing.")], usage_=usage(10, 8)
    )
    events = render(
        truth, Style(rng(name)), start_usage=usage(10, 1), delta_usage={"output_tokens": 8}
    )
    ping = {"type": "ping"}
    spread: list[Obj] = [ping, ping]
    for n, event in enumerate(events):
        spread.append(event)
        if n % 3 == 0:
            spread.append(ping)
    spread.append(ping)
    cases.append(
        Case(
            name,
            "ping events before message_start, every third event, and after message_stop",
            f'{DOCS} ("Ping events": any number of them)',
            truth,
            spread,
        )
    )

    # crlf -------------------------------------------------------------------------------------
    name = "crlf"
    truth = message(
        name, [text("The same framing, with CRLF line endings.\r\nA CR inside a string.")],
        usage_=usage(15, 14),
    )  # fmt: skip
    cases.append(
        Case(
            name,
            "a text stream whose lines end with CRLF",
            "the SSE specification (html.spec.whatwg.org, server-sent events: CRLF, LF or CR)",
            truth,
            render(
                truth, Style(rng(name)), start_usage=usage(15, 1), delta_usage={"output_tokens": 14}
            ),
            eol=b"\r\n",
        )
    )

    # data_only --------------------------------------------------------------------------------
    name = "data_only"
    truth = message(
        name,
        [text("No event lines here."), tool_use(name, 0, "lookup", {"id": 42, "fields": ["a"]})],
        stop_reason="tool_use",
        usage_=usage(44, 25),
    )
    cases.append(
        Case(
            name,
            "a tool use stream without event: lines (data: lines only): each data's type says "
            "what it is",
            f"{DOCS} (each event's data repeats its type); a gateway's framing",
            truth,
            render(
                truth, Style(rng(name)), start_usage=usage(44, 1), delta_usage={"output_tokens": 25}
            ),
            event_lines=False,
            sdk="no final message: its Stream skips every event without an event: name",
            sdk_beta="no final message: its Stream skips every event without an event: name",
        )
    )

    # non_ascii --------------------------------------------------------------------------------
    name = "non_ascii"
    body = "Grüße aus Zürich! 東京は晴れ。Ελληνικά. Emoji: 🌧️→☀️ 👩🏽‍💻. Ünïcödé ends"
    truth = message(
        name,
        [text(body)],
        stop_reason="stop_sequence",
        stop_sequence="\n\nEND",
        usage_=usage(12, 40),
        model=HAIKU,
    )
    cases.append(
        Case(
            name,
            "accents, CJK, Greek, emoji with variation selectors, skin tone and ZWJ in 1-3 code "
            "point pieces; stop_reason stop_sequence with its stop_sequence",
            f"{DOCS}; anthropic.types.message (stop_sequence)",
            truth,
            render(
                truth,
                Style(rng(name), lo=1, hi=3),
                start_usage=usage(12, 1),
                delta_usage={"output_tokens": 40},
            ),
        )
    )
    return cases


def non_streamed() -> Obj:
    """A whole non-streamed Messages body (a server that ignored ``"stream": true``)."""
    name = "non_streamed"
    return message(
        name,
        [
            thinking("Quick check of the question.", signature(name)),
            text("Paris is the capital of France."),
            tool_use(name, 0, "get_weather", {"location": "Paris", "unit": "celsius"}),
        ],
        stop_reason="tool_use",
        model=OPUS,
        usage_=usage(52, 61),
    )


# --------------------------------------------------------------------------- writing and checks


def dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


def write(cases: list[Case]) -> None:
    manifest: list[Obj] = []
    for case in cases:
        outcome = accumulate(case.events)
        assert outcome.message is not None, case.name
        (HERE / f"{case.name}.sse").write_bytes(
            to_sse(case.events, event_lines=case.event_lines, eol=case.eol)
        )
        (HERE / f"{case.name}.expected.json").write_bytes(dump(outcome.message))
        manifest.append(
            {
                "case": case.name,
                "covers": case.covers,
                "source": case.source,
                "ending": outcome.ending,
                "events": len(case.events),
                "error": outcome.error,
                "error_event": outcome.error_event,
                "anthropic_sdk": case.sdk,
                "anthropic_sdk_beta": case.sdk_beta,
            }
        )
    body = dump(non_streamed())
    (HERE / "non_streamed.json").write_bytes(body)
    (HERE / "non_streamed.expected.json").write_bytes(body)
    (HERE / "manifest.json").write_bytes(dump(manifest))


def canonical(value: Any) -> Any:
    """Builtins with every null-valued key dropped, recursively."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def lost(want: Any, got: Any, path: str = "", *, values: bool = True) -> list[str]:
    """The paths (``content.1.input``) of ``want`` that ``got`` lacks, or (``values``) holds
    another value at."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for key, value in want.items():
            where = f"{path}.{key}" if path else str(key)
            out += [where] if key not in got else lost(value, got[key], where, values=values)
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        out = []
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            out += lost(w, g, f"{path}.{i}", values=values)
        return out
    return [] if want == got or not values else [path]


KNOWN_EVENTS = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
)


def check(cases: list[Case]) -> list[str]:
    """Run every check of the module docstring; return one line per case."""
    from anthropic.types.beta import BetaMessage, BetaRawMessageStreamEvent
    from pydantic import TypeAdapter, ValidationError

    event_model: TypeAdapter[Any] = TypeAdapter(BetaRawMessageStreamEvent)
    lines: list[str] = []
    for case in cases:
        data = (HERE / f"{case.name}.sse").read_bytes()
        assert (b"\r\n" in data) == (case.eol == b"\r\n"), case.name
        parsed = list(parse_sse(data))
        assert parsed == case.events, case.name
        outcome = accumulate(parsed)
        expected = orjson.loads((HERE / f"{case.name}.expected.json").read_bytes())
        assert outcome.message == expected, case.name
        if outcome.ending == "complete":
            assert expected == case.truth, case.name
        known = [
            b for b in case.truth["content"] if b["type"] not in ("citation_panel", "progress")
        ]
        BetaMessage.model_validate({**case.truth, "content": known})
        for ev in parsed:
            if ev["type"] not in KNOWN_EVENTS:
                continue
            try:
                event_model.validate_python(ev)
            except ValidationError:
                # The made-up block and delta types, on purpose.
                assert case.name in ("unknown_block", "unknown_delta"), (case.name, ev)
        sdk = check_sdk(case, data, expected, beta=False)
        beta = check_sdk(case, data, expected, beta=True)
        lines.append(f"{case.name}: ending={outcome.ending} sdk: {sdk}; beta: {beta}")
    body = orjson.loads((HERE / "non_streamed.json").read_bytes())
    BetaMessage.model_validate(body)
    assert body == non_streamed()
    return lines


def sdk_final(data: bytes, *, beta: bool) -> Obj | None:
    """The Anthropic SDK's accumulation of ``data``, as ``client.messages.stream()`` (or
    ``client.beta.messages.stream()``) runs it: its ``SSEDecoder`` over the bytes, then what its
    ``Stream`` does with each event (a ``ping`` or an event without a name skipped, ``error``
    raised as ``APIStatusError``), then ``accumulate_event``; the final snapshot's
    ``to_dict(mode="json")``, or ``None`` when no event reached it."""
    import anthropic
    import httpx2
    from anthropic._streaming import SSEDecoder
    from anthropic.lib.streaming._beta_messages import accumulate_event as beta_accumulate
    from anthropic.lib.streaming._messages import accumulate_event

    snapshot: Any = None
    bufs: dict[int, bytes] = {}
    request = httpx2.Request("POST", "http://127.0.0.1/v1/messages")
    for sse in SSEDecoder().iter_bytes(iter([data])):
        if sse.event == "ping" or sse.event is None:
            continue
        if sse.event == "error":
            response = httpx2.Response(200, request=request)
            raise anthropic.APIStatusError(sse.data, response=response, body=sse.json())
        if not sse.data:
            continue
        event = sse.json()
        if beta:
            snapshot = beta_accumulate(
                event=event,
                current_snapshot=snapshot,
                json_bufs=bufs,
                request_headers=httpx2.Headers(),
            )
        else:
            snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=bufs)
    if snapshot is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic's on blocks of types the SDK does not know
        result: Obj = snapshot.to_dict(mode="json", warnings=False)
    return result


def check_sdk(case: Case, data: bytes, expected: Obj, *, beta: bool) -> str:
    """How the Anthropic SDK fares on ``data``; asserts it is what the case says."""
    import anthropic

    said = case.sdk_beta if beta else case.sdk
    try:
        got = sdk_final(data, beta=beta)
    except anthropic.APIStatusError:
        assert isinstance(said, str) and said.startswith("raises APIStatusError"), case.name
        return said
    if got is None:
        assert isinstance(said, str) and said.startswith("no final message"), case.name
        return said
    invented = lost(canonical(got), canonical(expected), values=False)
    assert not invented, (case.name, beta, "the SDK has what expected lacks", invented)
    dropped = lost(canonical(expected), canonical(got))
    assert dropped == said, (case.name, "beta" if beta else "stable", dropped, said)
    return "agrees" if not dropped else "loses " + ", ".join(dropped)


def main(argv: list[str]) -> int:
    cases = case_list()
    write(cases)
    print(f"wrote {len(cases)} cases and non_streamed.json to {HERE}")
    if "--no-check" not in argv:
        for line in check(cases):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
