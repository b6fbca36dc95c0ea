"""Write the synthetic Responses API streams of this folder, each from its truth object.

``python tests/synthetic/responses/make.py`` rewrites every ``<case>.sse`` (the raw body of a
streamed ``POST /v1/responses`` or ``/v3/router/responses``) and ``<case>.expected.json`` (the final
``response`` object) here, and ``manifest.json``; the output is the same bytes on every run. It
then checks each case (``--no-check`` skips this):

- the truth object and every event validate against the openai SDK's models (``Response``,
  ``ResponseStreamEvent``), except the live-shaped nested ``error`` event (see README.md);
- the reference accumulator ``accumulate`` below, fed the parsed stream, gives ``expected``;
- on a stream that completes, the output items built from the events alone equal the truth's;
- openai-python's own ``ResponseStreamState`` agrees, or differs exactly as the README says.

How a case is built: a final ``response`` object (the truth) is written first, as the server's
``response.completed`` (or ``.incomplete`` / ``.failed``) would carry it; the event stream is then
rendered from it. Cases that end early (``response.failed``, an ``error`` event, a cut) truncate
that full rendering after a chosen event and append their ending.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import typing
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

Obj = dict[str, Any]
HERE = Path(__file__).resolve().parent
# 2026-01-01T00:00:00Z; case k is created k minutes later.
EPOCH = 1767225600
BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


# --------------------------------------------------------------------------- ids and text pieces


def hex_id(prefix: str, case: str, n: int = 0, length: int = 48) -> str:
    """A stable id of OpenAI's look (``resp_`` + 48 hex digits), derived from the case name."""
    return prefix + hashlib.sha256(f"{case}:{prefix}:{n}".encode()).hexdigest()[:length]


def call_id(case: str, n: int) -> str:
    """A stable ``call_`` id of 24 base62 characters."""
    digest = hashlib.sha256(f"{case}:call:{n}".encode()).digest()
    return "call_" + "".join(BASE62[b % 62] for b in digest[:24])


def fragments(text: str, rng: random.Random, lo: int = 1, hi: int = 7) -> list[str]:
    """``text`` cut into pieces of ``lo`` to ``hi`` code points (never inside a code point)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        n = rng.randint(lo, hi)
        out.append(text[i : i + n])
        i += n
    return out


def tokens(text: str) -> list[str]:
    """A word-level stand-in for a tokenizer: each piece keeps its leading space."""
    return re.findall(r" ?[^ ]+| +", text)


def obfuscation(rng: random.Random) -> str:
    """Random padding of the kind OpenAI puts in ``obfuscation`` (length and alphabet guessed)."""
    return "".join(rng.choice(BASE62) for _ in range(rng.randint(2, 12)))


# --------------------------------------------------------------------------- truth objects


def usage(input_tokens: int, output_tokens: int, reasoning_tokens: int = 0) -> Obj:
    # cache_creation_tokens is required by orq-ai-sdk's PublicUsage, cache_write_tokens by
    # openai's InputTokensDetails: both are sent so that either SDK accepts the object.
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {
            "cached_tokens": 0,
            "cache_creation_tokens": 0,
            "cache_write_tokens": 0,
        },
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def response(
    case: str,
    k: int,
    *,
    model: str = "gpt-4.1-mini-2025-04-14",
    output: list[Obj],
    status: str = "completed",
    usage_: Obj | None,
    **overrides: Any,
) -> Obj:
    """A final ``response`` object in the key order OpenAI sends, plus the keys that orq-ai-sdk's
    ``PublicResponseResource`` requires (``frequency_penalty``, ``presence_penalty``, ``input``,
    ``prompt_cache_options``...), so that both SDKs validate it."""
    created = EPOCH + 60 * k
    obj: Obj = {
        "id": hex_id("resp_", case),
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "completed_at": created + 3 if status == "completed" else None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "input": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_options": None,
        "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage_,
        "user": None,
        "metadata": {},
    }
    for key, value in overrides.items():
        assert key in obj, key
        obj[key] = value
    return obj


def message(case: str, n: int, parts: list[Obj], status: str = "completed", **extra: Any) -> Obj:
    item: Obj = {
        "id": hex_id("msg_", case, n),
        "type": "message",
        "status": status,
        "content": parts,
        "role": "assistant",
    }
    item.update(extra)
    return item


def text_part(
    text: str, annotations: list[Obj] | None = None, logprobs: list[Obj] | None = None
) -> Obj:
    return {
        "type": "output_text",
        "annotations": annotations or [],
        "logprobs": logprobs or [],
        "text": text,
    }


def function_call(case: str, n: int, name: str, arguments: str) -> Obj:
    return {
        "id": hex_id("fc_", case, n),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id(case, n),
        "name": name,
    }


def function_tool(name: str, description: str, properties: Obj) -> Obj:
    return {
        "type": "function",
        "description": description,
        "name": name,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": sorted(properties),
            "additionalProperties": False,
        },
        "strict": True,
    }


WEATHER_TOOL = function_tool(
    "get_weather",
    "Current weather for a city.",
    {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
)
TIME_TOOL = function_tool(
    "get_time", "Local time in a city.", {"city": {"type": "string"}, "format": {"type": "string"}}
)


def logprob_entries(text: str, rng: random.Random) -> list[Obj]:
    """Final ``ResponseOutputText.logprobs``: one entry per token, with ``bytes`` and two
    alternatives each (as with ``top_logprobs: 2``)."""
    out: list[Obj] = []
    for tok in tokens(text):
        lp = -round(rng.uniform(0.0, 1.5), 6)
        alts = [tok, tok.strip() or "\n", tok.upper() if tok.upper() != tok else tok + "s"]
        top = [
            {"token": alts[0], "bytes": list(alts[0].encode()), "logprob": lp},
            {
                "token": alts[1] if alts[1] != tok else alts[2],
                "bytes": list((alts[1] if alts[1] != tok else alts[2]).encode()),
                "logprob": round(lp - rng.uniform(0.5, 4.0), 6),
            },
        ]
        out.append({"token": tok, "bytes": list(tok.encode()), "logprob": lp, "top_logprobs": top})
    return out


def delta_logprobs(entries: list[Obj]) -> list[Obj]:
    """The same entries in the shape of ``ResponseTextDeltaEvent.logprobs`` (no ``bytes``)."""
    return [
        {
            "token": e["token"],
            "logprob": e["logprob"],
            "top_logprobs": [
                {"token": t["token"], "logprob": t["logprob"]} for t in e["top_logprobs"]
            ],
        }
        for e in entries
    ]


# --------------------------------------------------------------------------- rendering


@dataclass
class Event:
    type: str
    fields: Obj

    def wire(self, seq: int) -> Obj:
        return {"type": self.type, "sequence_number": seq, **self.fields}


@dataclass
class Style:
    """How deltas are cut and decorated, per case."""

    rng: random.Random
    obfuscate: bool = False
    lo: int = 1
    hi: int = 7

    def pieces(self, text: str) -> list[str]:
        return fragments(text, self.rng, self.lo, self.hi)

    def decorate(self, fields: Obj) -> Obj:
        if self.obfuscate:
            fields["obfuscation"] = obfuscation(self.rng)
        return fields


def lifecycle(truth: Obj) -> Obj:
    """The ``response`` that ``response.created`` / ``.in_progress`` carry for ``truth``."""
    out = deepcopy(truth)
    out.update(
        status="in_progress",
        completed_at=None,
        error=None,
        incomplete_details=None,
        output=[],
        usage=None,
    )
    return out


def render_message(i: int, item: Obj, style: Style) -> list[Event]:
    item_id = item["id"]
    added = {k: v for k, v in item.items() if k != "phase"}
    added.update(status="in_progress", content=[])
    if "phase" in item:
        added["phase"] = item["phase"]
    events = [Event("response.output_item.added", {"output_index": i, "item": added})]
    for j, part in enumerate(item["content"]):
        where = {"item_id": item_id, "output_index": i, "content_index": j}
        if part["type"] == "refusal":
            events.append(
                Event("response.content_part.added", {**where, "part": {**part, "refusal": ""}})
            )
            for piece in style.pieces(part["refusal"]):
                events.append(Event("response.refusal.delta", {**where, "delta": piece}))
            events.append(Event("response.refusal.done", {**where, "refusal": part["refusal"]}))
            events.append(Event("response.content_part.done", {**where, "part": part}))
            continue
        events.append(Event("response.content_part.added", {**where, "part": text_part("")}))
        text: str = part["text"]
        entries: list[Obj] = part["logprobs"]
        if entries:
            # One delta per token, each carrying that token's logprob.
            pieces = [e["token"] for e in entries]
            per_piece = [delta_logprobs([e]) for e in entries]
        else:
            pieces = style.pieces(text)
            per_piece = [[] for _ in pieces]
        assert "".join(pieces) == text
        pending = sorted(enumerate(part["annotations"]), key=lambda a: (a[1]["end_index"], a[0]))
        written = 0
        for piece, lps in zip(pieces, per_piece, strict=True):
            fields = {**where, "delta": piece, "logprobs": lps}
            events.append(Event("response.output_text.delta", style.decorate(fields)))
            written += len(piece)
            # An annotation is announced as soon as the text it cites has been streamed.
            while pending and pending[0][1]["end_index"] <= written:
                k, annotation = pending.pop(0)
                events.append(
                    Event(
                        "response.output_text.annotation.added",
                        {**where, "annotation_index": k, "annotation": annotation},
                    )
                )
        assert not pending
        done = {**where, "text": text, "logprobs": delta_logprobs(entries)}
        events.append(Event("response.output_text.done", done))
        events.append(Event("response.content_part.done", {**where, "part": part}))
    events.append(Event("response.output_item.done", {"output_index": i, "item": item}))
    return events


def render_function_call(i: int, item: Obj, style: Style) -> list[Event]:
    added = {**item, "status": "in_progress", "arguments": ""}
    where = {"item_id": item["id"], "output_index": i}
    events = [Event("response.output_item.added", {"output_index": i, "item": added})]
    for piece in style.pieces(item["arguments"]):
        fields = {**where, "delta": piece}
        events.append(Event("response.function_call_arguments.delta", style.decorate(fields)))
    events.append(
        Event("response.function_call_arguments.done", {**where, "arguments": item["arguments"]})
    )
    events.append(Event("response.output_item.done", {"output_index": i, "item": item}))
    return events


def render_reasoning(i: int, item: Obj, style: Style) -> list[Event]:
    added: Obj = {**item, "summary": []}
    if "content" in item:
        added["content"] = []
    where = {"item_id": item["id"], "output_index": i}
    events = [Event("response.output_item.added", {"output_index": i, "item": added})]
    for k, part in enumerate(item.get("content", [])):
        at = {**where, "content_index": k}
        events.append(Event("response.content_part.added", {**at, "part": {**part, "text": ""}}))
        for piece in style.pieces(part["text"]):
            fields = {**at, "delta": piece}
            events.append(Event("response.reasoning_text.delta", style.decorate(fields)))
        events.append(Event("response.reasoning_text.done", {**at, "text": part["text"]}))
        events.append(Event("response.content_part.done", {**at, "part": part}))
    for k, part in enumerate(item["summary"]):
        at = {**where, "summary_index": k}
        events.append(
            Event("response.reasoning_summary_part.added", {**at, "part": {**part, "text": ""}})
        )
        for piece in style.pieces(part["text"]):
            fields = {**at, "delta": piece}
            events.append(Event("response.reasoning_summary_text.delta", style.decorate(fields)))
        events.append(Event("response.reasoning_summary_text.done", {**at, "text": part["text"]}))
        events.append(Event("response.reasoning_summary_part.done", {**at, "part": part}))
    events.append(Event("response.output_item.done", {"output_index": i, "item": item}))
    return events


def render_web_search(i: int, item: Obj, style: Style) -> list[Event]:
    # The SDK's ResponseFunctionWebSearch requires an action; the query is not known yet.
    added = {"id": item["id"], "type": item["type"], "status": "in_progress"}
    added["action"] = {"type": item["action"]["type"]}
    where = {"output_index": i, "item_id": item["id"]}
    return [
        Event("response.output_item.added", {"output_index": i, "item": added}),
        Event("response.web_search_call.in_progress", dict(where)),
        Event("response.web_search_call.searching", dict(where)),
        Event("response.web_search_call.completed", dict(where)),
        Event("response.output_item.done", {"output_index": i, "item": item}),
    ]


RENDERERS: dict[str, Callable[[int, Obj, Style], list[Event]]] = {
    "message": render_message,
    "function_call": render_function_call,
    "reasoning": render_reasoning,
    "web_search_call": render_web_search,
}


def render(truth: Obj, style: Style, terminal: str = "response.completed") -> list[Event]:
    """The full event stream of ``truth``: lifecycle, every output item in order, terminal."""
    events = [
        Event("response.created", {"response": lifecycle(truth)}),
        Event("response.in_progress", {"response": lifecycle(truth)}),
    ]
    for i, item in enumerate(truth["output"]):
        events += RENDERERS[item["type"]](i, item, style)
    events.append(Event(terminal, {"response": truth}))
    return events


def cut_after(events: list[Event], type_: str, nth: int) -> list[Event]:
    """``events`` up to and including the ``nth`` (1-based) event of type ``type_``."""
    seen = 0
    for n, event in enumerate(events):
        if event.type == type_:
            seen += 1
            if seen == nth:
                return events[: n + 1]
    raise ValueError(f"fewer than {nth} {type_} events")


def to_sse(events: Iterable[Obj], *, event_lines: bool = True, done: bool = False) -> bytes:
    """SSE as OpenAI sends a Responses stream: ``event: <type>`` then ``data: <json>``, a blank
    line after each, and no ``[DONE]`` (``event_lines=False, done=True`` gives the data-only,
    ``[DONE]``-terminated framing of the Chat Completions API instead)."""
    out = bytearray()
    for obj in events:
        if event_lines:
            out += b"event: " + obj["type"].encode() + b"\n"
        out += b"data: " + orjson.dumps(obj) + b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return bytes(out)


# --------------------------------------------------------------------------- reference accumulator


@dataclass
class Outcome:
    """What a stream finalizes to: the ``response`` object, how the stream ended, and the
    payload of any ``error`` event."""

    response: Obj
    ending: str
    error: Obj | None = None
    items_from_events: list[Obj] = field(default_factory=list)


def accumulate(events: Iterable[Obj]) -> Outcome:
    """Merge parsed events into the final ``response`` (the rule the README states).

    The terminal event's ``response`` is taken verbatim. Without one, the result is the last
    lifecycle ``response`` (created / queued / in_progress) with ``output`` replaced by the items
    built from the events: an item from ``output_item.added``, grown by the deltas, replaced by
    the full values that ``*.done`` events restate, and by ``output_item.done``'s item.
    """
    snapshot: Obj | None = None
    items: dict[int, Obj] = {}
    ending = "cut"
    final: Obj | None = None
    error: Obj | None = None

    def part_of(ev: Obj) -> Obj:
        part: Obj = items[ev["output_index"]]["content"][ev["content_index"]]
        return part

    for ev in events:
        t: str = ev["type"]
        if t in ("response.created", "response.queued", "response.in_progress"):
            snapshot = deepcopy(ev["response"])
        elif t in ("response.completed", "response.incomplete", "response.failed"):
            final = deepcopy(ev["response"])
            ending = t.removeprefix("response.")
        elif t == "error":
            error = {k: v for k, v in ev.items() if k not in ("type", "sequence_number")}
            ending = "error"
        elif t in ("response.output_item.added", "response.output_item.done"):
            items[ev["output_index"]] = deepcopy(ev["item"])
        elif t == "response.content_part.added":
            item = items[ev["output_index"]]
            item.setdefault("content", []).insert(ev["content_index"], deepcopy(ev["part"]))
        elif t == "response.content_part.done":
            items[ev["output_index"]]["content"][ev["content_index"]] = deepcopy(ev["part"])
        elif t == "response.output_text.delta":
            part = part_of(ev)
            part["text"] += ev["delta"]
            part.setdefault("logprobs", []).extend(deepcopy(ev.get("logprobs") or []))
        elif t == "response.output_text.done":
            part_of(ev)["text"] = ev["text"]
        elif t == "response.output_text.annotation.added":
            part_of(ev)["annotations"].insert(ev["annotation_index"], deepcopy(ev["annotation"]))
        elif t == "response.refusal.delta":
            part_of(ev)["refusal"] += ev["delta"]
        elif t == "response.refusal.done":
            part_of(ev)["refusal"] = ev["refusal"]
        elif t == "response.function_call_arguments.delta":
            items[ev["output_index"]]["arguments"] += ev["delta"]
        elif t == "response.function_call_arguments.done":
            items[ev["output_index"]]["arguments"] = ev["arguments"]
        elif t == "response.reasoning_text.delta":
            part_of(ev)["text"] += ev["delta"]
        elif t == "response.reasoning_text.done":
            part_of(ev)["text"] = ev["text"]
        elif t == "response.reasoning_summary_part.added":
            summary = items[ev["output_index"]]["summary"]
            summary.insert(ev["summary_index"], deepcopy(ev["part"]))
        elif t == "response.reasoning_summary_part.done":
            items[ev["output_index"]]["summary"][ev["summary_index"]] = deepcopy(ev["part"])
        elif t == "response.reasoning_summary_text.delta":
            items[ev["output_index"]]["summary"][ev["summary_index"]]["text"] += ev["delta"]
        elif t == "response.reasoning_summary_text.done":
            items[ev["output_index"]]["summary"][ev["summary_index"]]["text"] = ev["text"]
        # Every other event (web_search_call.*, ...) changes nothing here.
    built = [items[i] for i in sorted(items)]
    if final is None:
        assert snapshot is not None, "no response.created"
        final = snapshot
        final["output"] = deepcopy(built)
    return Outcome(final, ending, error, built)


# --------------------------------------------------------------------------- the cases


@dataclass
class Case:
    name: str
    covers: str
    truth: Obj
    events: list[Event]
    event_lines: bool = True
    done: bool = False
    # How openai-python's ResponseStreamState is expected to fare (checked by check_openai).
    openai: str = "agrees"


def case_list() -> list[Case]:
    cases: list[Case] = []

    def rng(name: str) -> random.Random:
        return random.Random(name)

    # plain_text -------------------------------------------------------------------------------
    name = "plain_text"
    text = (
        "The Responses API streams typed events. Each one carries a sequence_number, and the "
        "last one carries the whole response."
    )
    truth = response(
        name, len(cases), output=[message(name, 0, [text_part(text)])], usage_=usage(23, 27)
    )
    cases.append(
        Case(name, "one message, one output_text part", truth, render(truth, Style(rng(name))))
    )

    # plain_text_data_only: same, framed without event: lines and ended by [DONE] ---------------
    name = "plain_text_data_only"
    truth = response(
        name, len(cases), output=[message(name, 0, [text_part(text)])], usage_=usage(23, 27)
    )
    cases.append(
        Case(
            name,
            "plain_text framed with data: lines only, then data: [DONE]",
            truth,
            render(truth, Style(rng(name))),
            event_lines=False,
            done=True,
        )
    )

    # two_messages -----------------------------------------------------------------------------
    name = "two_messages"
    first = "Let me check the figures first."
    second = "Revenue grew 12% year over year, while costs stayed flat."
    truth = response(
        name,
        len(cases),
        model="gpt-5-2025-08-07",
        output=[
            message(name, 0, [text_part(first)], phase="commentary"),
            message(name, 1, [text_part(second)], phase="final_answer"),
        ],
        usage_=usage(41, 22),
    )
    cases.append(
        Case(
            name,
            "two message items (phase commentary, then final_answer)",
            truth,
            render(truth, Style(rng(name))),
        )
    )

    # function_call ----------------------------------------------------------------------------
    name = "function_call"
    args = '{"city":"San Francisco, CA","unit":"c"}'
    truth = response(
        name,
        len(cases),
        output=[function_call(name, 0, "get_weather", args)],
        usage_=usage(68, 19),
        tools=[WEATHER_TOOL],
    )
    cases.append(
        Case(
            name,
            "one function_call, arguments in 1-3 character fragments",
            truth,
            render(truth, Style(rng(name), lo=1, hi=3)),
        )
    )

    # parallel_function_calls ------------------------------------------------------------------
    name = "parallel_function_calls"
    truth = response(
        name,
        len(cases),
        output=[
            function_call(name, 0, "get_weather", '{"city":"Paris","unit":"c"}'),
            function_call(name, 1, "get_time", '{"city":"Tokyo","format":"24h"}'),
        ],
        usage_=usage(97, 44),
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    cases.append(
        Case(
            name,
            "two function_call items (parallel tool calls), streamed one after the other",
            truth,
            render(truth, Style(rng(name), lo=2, hi=6)),
        )
    )

    # reasoning_summary ------------------------------------------------------------------------
    name = "reasoning_summary"
    summary = [
        {
            "type": "summary_text",
            "text": "**Comparing growth rates**\n\nThe user wants the faster-growing city.",
        },
        {
            "type": "summary_text",
            "text": "**Checking the census figures**\n\nAustin grew faster than Denver.",
        },
    ]
    reasoning = {"id": hex_id("rs_", name), "type": "reasoning", "summary": summary}
    truth = response(
        name,
        len(cases),
        model="o4-mini-2025-04-16",
        output=[reasoning, message(name, 0, [text_part("Austin grew faster, by about 3%.")])],
        usage_=usage(31, 210, reasoning_tokens=192),
        reasoning={"effort": "medium", "summary": "detailed"},
    )
    cases.append(
        Case(
            name,
            "a reasoning item with two summary parts, then a message",
            truth,
            render(truth, Style(rng(name))),
        )
    )

    # reasoning_text ---------------------------------------------------------------------------
    name = "reasoning_text"
    thought = "The user asks for 17 * 23. 17 * 20 = 340, 17 * 3 = 51, so 391."
    reasoning = {
        "id": hex_id("rs_", name),
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": thought}],
    }
    truth = response(
        name,
        len(cases),
        model="gpt-oss-120b",
        output=[reasoning, message(name, 0, [text_part("17 * 23 = 391.")])],
        usage_=usage(18, 40, reasoning_tokens=31),
        reasoning={"effort": "low", "summary": None},
    )
    cases.append(
        Case(
            name,
            "a reasoning item whose content streams as reasoning_text deltas (gpt-oss style)",
            truth,
            render(truth, Style(rng(name))),
            openai="agrees (its snapshot ignores reasoning_text deltas; the final is taken whole)",
        )
    )

    # refusal ----------------------------------------------------------------------------------
    name = "refusal"
    refusal = {"type": "refusal", "refusal": "I'm sorry, but I can't help with that request."}
    truth = response(name, len(cases), output=[message(name, 0, [refusal])], usage_=usage(15, 12))
    cases.append(
        Case(
            name,
            "a message whose only content part is a refusal",
            truth,
            render(truth, Style(rng(name))),
        )
    )

    # annotations ------------------------------------------------------------------------------
    name = "annotations"
    body = (
        "Two sources agree. The Python 3.13 release added an experimental JIT compiler (1). "
        "It also added a free-threaded build mode (2). Both are opt-in."
    )
    first_at, second_at = body.index("(1)") + 3, body.index("(2)") + 3
    annotations = [
        {
            "type": "url_citation",
            "end_index": first_at,
            "start_index": body.index("The Python"),
            "title": "What's New In Python 3.13",
            "url": "https://docs.python.org/3/whatsnew/3.13.html?utm_source=openai",
        },
        {
            "type": "url_citation",
            "end_index": second_at,
            "start_index": body.index("It also"),
            "title": "PEP 703 - Making the Global Interpreter Lock Optional",
            "url": "https://peps.python.org/pep-0703/?utm_source=openai",
        },
    ]
    search = {
        "id": hex_id("ws_", name),
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "query": "python 3.13 jit free-threaded"},
    }
    truth = response(
        name,
        len(cases),
        output=[search, message(name, 0, [text_part(body, annotations)])],
        usage_=usage(322, 48),
        tools=[
            {
                "type": "web_search",
                "filters": None,
                "search_context_size": "medium",
                "user_location": None,
            }
        ],
    )
    cases.append(
        Case(
            name,
            "a web_search_call item, then text with two url_citation annotations, each added "
            "right after the delta that completes its cited span (mid-text)",
            truth,
            render(truth, Style(rng(name))),
        )
    )

    # incomplete -------------------------------------------------------------------------------
    name = "incomplete"
    cut_text = "Here are the first steps: preheat the oven to 180 °C, then whisk"
    truth = response(
        name,
        len(cases),
        status="incomplete",
        output=[message(name, 0, [text_part(cut_text)], status="incomplete")],
        usage_=usage(12, 16),
        incomplete_details={"reason": "max_output_tokens"},
        max_output_tokens=16,
    )
    cases.append(
        Case(
            name,
            "ends with response.incomplete (max_output_tokens); the message has status incomplete",
            truth,
            render(truth, Style(rng(name)), terminal="response.incomplete"),
            openai="get_final_response raises: it only finalizes on response.completed",
        )
    )

    # failed -----------------------------------------------------------------------------------
    name = "failed"
    full = response(
        name,
        len(cases),
        output=[message(name, 0, [text_part("Partial answer that the failure interrupts.")])],
        usage_=usage(9, 8),
    )
    failed = deepcopy(full)
    failed.update(
        status="failed",
        completed_at=None,
        output=[],
        usage=None,
        error={
            "code": "server_error",
            "message": "The server had an error processing your request. Sorry about that!",
        },
    )
    events = cut_after(render(full, Style(rng(name))), "response.output_text.delta", 3)
    events.append(Event("response.failed", {"response": failed}))
    cases.append(
        Case(
            name,
            "three text deltas, then response.failed with an error and an empty output",
            failed,
            events,
            openai="get_final_response raises: it only finalizes on response.completed",
        )
    )

    # error_event ------------------------------------------------------------------------------
    name = "error_event"
    full = response(
        name,
        len(cases),
        output=[message(name, 0, [text_part("This answer stops halfway through a sentence.")])],
        usage_=usage(9, 9),
    )
    events = cut_after(render(full, Style(rng(name))), "response.output_text.delta", 4)
    nested = {
        "type": "server_error",
        "code": "server_error",
        "message": "The model produced invalid content.",
        "param": None,
    }
    events.append(Event("error", {"error": nested}))
    cases.append(
        Case(
            name,
            "four text deltas, then an error event (nested shape, as the live API sends it) and "
            "the end of the body",
            full,
            events,
            openai="the SDK raises APIError on the error event (its data has an error key)",
        )
    )

    # error_event_flat -------------------------------------------------------------------------
    name = "error_event_flat"
    full = response(
        name,
        len(cases),
        output=[message(name, 0, [text_part("This answer stops halfway through a sentence.")])],
        usage_=usage(9, 9),
    )
    events = cut_after(render(full, Style(rng(name))), "response.output_text.delta", 4)
    events.append(
        Event(
            "error",
            {
                "code": "server_error",
                "message": "The model produced invalid content.",
                "param": None,
            },
        )
    )
    cases.append(
        Case(
            name,
            "error_event with the flat error event the API reference documents",
            full,
            events,
            openai="yields ResponseErrorEvent, then get_final_response raises (no completed)",
        )
    )

    # cut --------------------------------------------------------------------------------------
    name = "cut"
    full = response(
        name,
        len(cases),
        output=[
            function_call(name, 0, "get_weather", '{"city":"Oslo","unit":"c"}'),
            message(name, 0, [text_part("Checking the weather in Oslo for you now.")]),
        ],
        usage_=usage(70, 30),
        tools=[WEATHER_TOOL],
    )
    events = cut_after(render(full, Style(rng(name))), "response.output_text.delta", 5)
    cases.append(
        Case(
            name,
            "a finished function_call, then a message cut after five deltas: no terminal event",
            full,
            events,
            openai="get_final_response raises: it only finalizes on response.completed",
        )
    )

    # logprobs ---------------------------------------------------------------------------------
    name = "logprobs"
    lp_text = "The sky is blue because air scatters short wavelengths."
    entries = logprob_entries(lp_text, rng(name + ":lp"))
    truth = response(
        name,
        len(cases),
        output=[message(name, 0, [text_part(lp_text, logprobs=entries)])],
        usage_=usage(14, len(entries)),
        top_logprobs=2,
    )
    cases.append(
        Case(
            name,
            "one delta per token, each with its logprobs (top_logprobs: 2); the final part "
            "carries them with bytes",
            truth,
            render(truth, Style(rng(name))),
        )
    )

    # obfuscation ------------------------------------------------------------------------------
    name = "obfuscation"
    reasoning = {
        "id": hex_id("rs_", name),
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "**Planning**\n\nLook up the weather."}],
    }
    truth = response(
        name,
        len(cases),
        model="gpt-5-mini-2025-08-07",
        output=[
            reasoning,
            function_call(name, 0, "get_weather", '{"city":"Lisbon","unit":"c"}'),
            message(name, 0, [text_part("It is 21 °C and sunny in Lisbon.")]),
        ],
        usage_=usage(80, 64, reasoning_tokens=24),
        tools=[WEATHER_TOOL],
        reasoning={"effort": "low", "summary": "auto"},
    )
    cases.append(
        Case(
            name,
            "obfuscation on every text, arguments and summary delta (the API default)",
            truth,
            render(truth, Style(rng(name), obfuscate=True)),
        )
    )

    # non_ascii --------------------------------------------------------------------------------
    name = "non_ascii"
    text = "Grüße aus Zürich! 東京は晴れ。Ελληνικά. Emoji: 🌧️→☀️ 👩🏽‍💻. Ünïcödé ends."
    truth = response(
        name, len(cases), output=[message(name, 0, [text_part(text)])], usage_=usage(12, 33)
    )
    cases.append(
        Case(
            name,
            "text with accents, CJK, Greek, emoji with variation selectors, skin tone and ZWJ",
            truth,
            render(truth, Style(rng(name), lo=1, hi=3)),
        )
    )
    return cases


# --------------------------------------------------------------------------- writing and checks


def wire_events(case: Case) -> list[Obj]:
    return [event.wire(seq) for seq, event in enumerate(case.events)]


def dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


def write(cases: list[Case]) -> None:
    manifest: list[Obj] = []
    for case in cases:
        events = wire_events(case)
        outcome = accumulate(events)
        (HERE / f"{case.name}.sse").write_bytes(
            to_sse(events, event_lines=case.event_lines, done=case.done)
        )
        (HERE / f"{case.name}.expected.json").write_bytes(dump(outcome.response))
        manifest.append(
            {
                "case": case.name,
                "covers": case.covers,
                "ending": outcome.ending,
                "events": len(events),
                "error": outcome.error,
                "openai_python": case.openai,
            }
        )
    (HERE / "manifest.json").write_bytes(dump(manifest))


def canonical(value: Any) -> Any:
    """Builtins with every null-valued key dropped, recursively (as tests/fixtures/README.md)."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def check(cases: list[Case]) -> list[str]:
    """Run every check of the module docstring; return one line per case."""
    from openai.types.responses import Response

    models = event_models()

    lines: list[str] = []
    for case in cases:
        events = wire_events(case)
        parsed = list(parse_sse((HERE / f"{case.name}.sse").read_bytes()))
        assert parsed == events, case.name
        outcome = accumulate(parsed)
        expected = orjson.loads((HERE / f"{case.name}.expected.json").read_bytes())
        assert outcome.response == expected, case.name
        if outcome.ending in ("completed", "incomplete"):
            assert outcome.response == case.truth, case.name
            assert outcome.items_from_events == case.truth["output"], case.name
        Response.model_validate(case.truth)
        Response.model_validate(expected)
        for ev in events:
            if ev["type"] == "error" and "error" in ev:
                continue  # the live nested shape, which the SDK's ResponseErrorEvent lacks
            models[ev["type"]].model_validate(ev)
        verdict = check_openai(case, expected)
        lines.append(f"{case.name}: ending={outcome.ending} openai-python: {verdict}")
    return lines


def event_models() -> dict[str, type[BaseModel]]:
    """Each event model of the openai SDK's ResponseStreamEvent union, by its ``type``."""
    from openai.types.responses import ResponseStreamEvent

    union = typing.get_args(ResponseStreamEvent)[0]
    out: dict[str, type[BaseModel]] = {}
    for model in typing.get_args(union):
        (literal,) = typing.get_args(model.model_fields["type"].annotation)
        out[literal] = model
    return out


def parse_sse(data: bytes) -> Iterable[Obj]:
    """The JSON of each ``data:`` payload (the streams here put each on one line)."""
    for line in data.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            yield orjson.loads(line[6:])


def check_openai(case: Case, expected: Obj) -> str:
    """Feed the case's bytes to openai-python's SSE decoder and ResponseStreamState, as
    ``client.responses.stream()`` does, and say how its result compares with ``expected``."""
    from openai import APIError
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai._types import omit
    from openai.lib.streaming.responses._responses import ResponseStreamState
    from openai.types.responses import ResponseStreamEvent

    state: ResponseStreamState[object] = ResponseStreamState(input_tools=omit, text_format=omit)
    body = (HERE / f"{case.name}.sse").read_bytes()
    try:
        for sse in SSEDecoder().iter_bytes(iter([body])):
            if sse.data.startswith("[DONE]"):
                break
            data = sse.json()
            if isinstance(data, dict) and data.get("error"):
                # What openai._streaming.Stream does with such a payload.
                raise APIError(str(data["error"].get("message")), None, body=data)  # type: ignore[arg-type]
            event = construct_type(type_=ResponseStreamEvent, value=data)
            state.handle_event(event)  # type: ignore[arg-type]
    except APIError as exc:
        verdict = f"raises APIError({exc.message!r})"
        assert case.openai.startswith("the SDK raises APIError"), (case.name, verdict)
        return verdict
    final = state._completed_response
    if final is None:
        verdict = "no final response (get_final_response raises RuntimeError)"
        assert "raises" in case.openai, (case.name, verdict)
        return verdict
    got = canonical(strip_parsed(final.model_dump(mode="json", exclude_unset=True)))
    assert got == canonical(expected), case.name
    assert case.openai.startswith("agrees"), (case.name, case.openai)
    return "agrees"


def strip_parsed(value: Any) -> Any:
    """Drop the SDK-only ``parsed`` keys that ParsedResponse adds."""
    if isinstance(value, dict):
        return {k: strip_parsed(v) for k, v in value.items() if k != "parsed"}
    if isinstance(value, list):
        return [strip_parsed(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    cases = case_list()
    write(cases)
    print(f"wrote {len(cases)} cases to {HERE}")
    if "--no-check" not in argv:
        for line in check(cases):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
