"""``python -m benchmarks.linearity``: is every event kind linear, in every format?

For each kind of event (a Responses delta to the same place or alternating places, with
logprobs, an annotation appended or inserted at the front, an event with no merge rule, items,
parts and restatements; chat and legacy completion chunks of each shape; Anthropic Messages
deltas of each type, citations, unknown deltas and events; a typed value scanned live, an array
element or four characters of a string a delta, on each format), builds a stream of
``n`` and of ``factor * n`` such events after a fixed start, feeds each whole to its accumulator
and finalizes, and prints the time per event at each size and their ratio: about 1.0 is linear,
while a cost per event that grows with the events before it (the quadratic insertion at index 0
of issue 19) shows as a ratio near ``factor``. Events refused by a limit (an annotation past
``max_items`` in its part, an unknown event past ``max_text_size``) are part of the measure: the
refusal and the resume after it must be linear too.

The time is this process's CPU time, the best of ``--repeat`` runs, so other processes on a
shared machine count less; the ratio is what to read. Exits 1 when a ratio is above
``--threshold`` (2.0 by default: noise stays well under it, quadratic growth far above it).
This is a benchmark, not a test: speed is never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson

import chunkagg
from chunkagg import ChunkAggError, EmptyStreamError

Obj = dict[str, Any]


def _sse(events: list[Obj], event_lines: bool = True) -> bytes:
    out = bytearray()
    for event in events:
        if event_lines and "type" in event:
            out += b"event: " + str(event["type"]).encode() + b"\n"
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    return bytes(out)


# -- Responses ------------------------------------------------------------------------------

_RESPONSE: Obj = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1_700_000_000,
    "status": "in_progress",
    "model": "gpt-4.1",
    "output": [],
}


def _part(text: str = "") -> Obj:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(index: int, parts: int = 1) -> Obj:
    return {
        "id": f"msg_{index}",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [_part() for _ in range(parts)],
    }


def _start(parts: int = 1) -> list[Obj]:
    """A response with one message of ``parts`` text parts, announced."""
    return [
        {"type": "response.created", "response": _RESPONSE},
        {"type": "response.output_item.added", "output_index": 0, "item": _message(0, parts)},
    ]


def _begin(item: Obj) -> list[Obj]:
    """A response with ``item`` announced."""
    return [
        {"type": "response.created", "response": _RESPONSE},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
    ]


def _at(content: int = 0, output: int = 0) -> Obj:
    return {"item_id": f"msg_{output}", "output_index": output, "content_index": content}


def _citation(i: int) -> Obj:
    return {"type": "url_citation", "url": f"https://e/{i}", "start_index": 0, "end_index": 1}


def _logprobs(token: str) -> list[Obj]:
    return [{"token": token, "logprob": -0.5, "bytes": [104], "top_logprobs": []}]


def _responses(kind: str, n: int) -> list[Obj]:
    if kind == "text delta, same place":
        return _start() + [
            {"type": "response.output_text.delta", **_at(), "delta": "hi "} for _ in range(n)
        ]
    if kind == "text delta, alternating parts":
        return _start(2) + [
            {"type": "response.output_text.delta", **_at(i % 2), "delta": "hi "} for i in range(n)
        ]
    if kind == "text delta with logprobs":
        return _start() + [
            {
                "type": "response.output_text.delta",
                **_at(),
                "delta": "hi",
                "logprobs": _logprobs("hi"),
            }
            for _ in range(n)
        ]
    if kind == "reasoning summary delta":
        reasoning: Obj = {
            "id": "rs_0",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": ""}],
        }
        return _begin(reasoning) + [
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": "rs_0",
                "output_index": 0,
                "summary_index": 0,
                "delta": "think ",
            }
            for _ in range(n)
        ]
    if kind == "function arguments delta":
        call: Obj = {"id": "fc_0", "type": "function_call", "call_id": "c", "name": "f"}
        call["arguments"] = ""
        return _begin(call) + [
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "fc_0",
                "output_index": 0,
                "delta": '{"a":',
            }
            for _ in range(n)
        ]
    if kind == "annotation appended":
        # Spread over parts so that none holds more than max_items (all are merged).
        parts = n // 500 + 1
        return _start(parts) + [
            {
                "type": "response.output_text.annotation.added",
                **_at(i // 500),
                "annotation_index": i % 500,
                "annotation": _citation(i),
            }
            for i in range(n)
        ]
    if kind == "annotation inserted at index 0, spread over parts":
        parts = n // 1000 + 1
        return _start(parts) + [
            {
                "type": "response.output_text.annotation.added",
                **_at(i // 1000),
                "annotation_index": 0,
                "annotation": _citation(i),
            }
            for i in range(n)
        ]
    if kind == "annotation inserted at index 0, one part (past max_items: refused)":
        return _start() + [
            {
                "type": "response.output_text.annotation.added",
                **_at(),
                "annotation_index": 0,
                "annotation": _citation(i),
            }
            for i in range(n)
        ]
    if kind.startswith("event with no merge rule"):
        return _start() + [{"type": "response.audio.delta", "delta": "QUJD" * 16} for _ in range(n)]
    if kind == "output item added, 1000 indices":
        return [{"type": "response.created", "response": _RESPONSE}] + [
            {"type": "response.output_item.added", "output_index": i % 1000, "item": _message(i)}
            for i in range(n)
        ]
    if kind == "content part added and done, 1000 indices":
        return _start() + [
            {
                "type": f"response.content_part.{('added', 'done')[i % 2]}",
                **_at(i % 1000),
                "part": _part("x"),
            }
            for i in range(n)
        ]
    if kind == "text done restated, each a disagreement":
        return _start() + [
            {"type": "response.output_text.done", **_at(), "text": f"text {i}"} for i in range(n)
        ]
    if kind == "tool progress (web_search_call.searching)":
        search: Obj = {"id": "ws_0", "type": "web_search_call", "status": "in_progress"}
        return _begin(search) + [
            {"type": "response.web_search_call.searching", "item_id": "ws_0", "output_index": 0}
            for _ in range(n)
        ]
    if kind == "lifecycle (response.in_progress)":
        return [{"type": "response.in_progress", "response": _RESPONSE} for _ in range(n)]
    raise ValueError(kind)


RESPONSES_KINDS = [
    "text delta, same place",
    "text delta, alternating parts",
    "text delta with logprobs",
    "reasoning summary delta",
    "function arguments delta",
    "annotation appended",
    "annotation inserted at index 0, spread over parts",
    "annotation inserted at index 0, one part (past max_items: refused)",
    "event with no merge rule (audio delta)",
    "event with no merge rule, past max_text_size (refused)",
    "output item added, 1000 indices",
    "content part added and done, 1000 indices",
    "text done restated, each a disagreement",
    "tool progress (web_search_call.searching)",
    "lifecycle (response.in_progress)",
]

# -- chat and legacy completions ---------------------------------------------------------------


def _chat(kind: str, n: int) -> list[Obj]:
    def chunk(delta: Obj, **top: Any) -> Obj:
        return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}], **top}

    if kind == "content delta":
        return [chunk({"content": "hi "}) for _ in range(n)]
    if kind == "tool call arguments delta":
        first = chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]})
        more = chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]})
        return [first] + [more] * n
    if kind == "widened chunk (provider, reasoning_details)":
        return [chunk({"content": "hi", "reasoning_details": []}, provider="X") for _ in range(n)]
    if kind == "content filter results on every chunk":
        filters = {"hate": {"filtered": False, "severity": "safe"}}
        return [
            {
                "object": "chat.completion.chunk",
                "choices": [
                    {"index": 0, "delta": {"content": "hi"}, "content_filter_results": filters}
                ],
            }
            for _ in range(n)
        ]
    if kind == "content delta with logprobs":
        lp = {"content": [{"token": "hi", "logprob": -0.1, "bytes": [104], "top_logprobs": []}]}
        return [
            {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": "hi"}, "logprobs": lp}],
            }
            for _ in range(n)
        ]
    if kind == "two choices, alternating":
        return [
            {
                "object": "chat.completion.chunk",
                "choices": [{"index": i % 2, "delta": {"content": "h"}}],
            }
            for i in range(n)
        ]
    if kind == "unknown object key merged (append)":
        return [chunk({"content": "h", "x": {"k": ["v"]}}) for _ in range(n)]
    raise ValueError(kind)


CHAT_KINDS = [
    "content delta",
    "tool call arguments delta",
    "widened chunk (provider, reasoning_details)",
    "content filter results on every chunk",
    "content delta with logprobs",
    "two choices, alternating",
    "unknown object key merged (append)",
]


def _completions(kind: str, n: int) -> list[Obj]:
    if kind == "text":
        return [{"object": "text_completion", "choices": [{"index": 0, "text": "hi "}]}] * n
    if kind == "text with logprobs":
        lp = {"tokens": ["hi"], "token_logprobs": [-0.1], "top_logprobs": [{"hi": -0.1}]}
        choice = {"index": 0, "text": "hi", "logprobs": {**lp, "text_offset": [0]}}
        return [{"object": "text_completion", "choices": [choice]}] * n
    if kind == "unknown key on the choice":
        choice = {"index": 0, "text": "hi", "x": {"k": [1, 2]}}
        return [{"object": "text_completion", "choices": [choice]}] * n
    raise ValueError(kind)


COMPLETIONS_KINDS = ["text", "text with logprobs", "unknown key on the choice"]


def _messages(kind: str, n: int) -> list[Obj]:
    start: list[Obj] = [
        {
            "type": "message_start",
            "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": []},
        }
    ]

    def delta(index: int, body: Obj) -> Obj:
        return {"type": "content_block_delta", "index": index, "delta": body}

    def block(index: int, body: Obj) -> list[Obj]:
        return [{"type": "content_block_start", "index": index, "content_block": body}]

    text = {"type": "text", "text": ""}
    if kind == "text delta to the same block":
        return [*start, block(0, text)[0], *[delta(0, {"type": "text_delta", "text": "hi "})] * n]
    if kind == "text deltas to two blocks, alternating":
        events = [*start, block(0, text)[0], block(1, text)[0]]
        return events + [delta(i % 2, {"type": "text_delta", "text": "hi "}) for i in range(n)]
    if kind == "input JSON fragment":
        tool = {"type": "tool_use", "id": "t", "name": "f", "input": {}}
        piece = {"type": "input_json_delta", "partial_json": '"ab", '}
        head = [delta(0, {"type": "input_json_delta", "partial_json": "["})]
        return [*start, block(0, tool)[0], *head, *[delta(0, piece)] * n]
    if kind == "citation":
        cite = {"type": "char_location", "cited_text": "x", "document_index": 0}
        return [
            *start,
            block(0, text)[0],
            *[delta(0, {"type": "citations_delta", "citation": cite})] * n,
        ]
    if kind == "unknown delta type":
        return [*start, block(0, text)[0], *[delta(0, {"type": "x_delta", "x": "y"})] * n]
    if kind == "unknown event, past max_text_size":
        return [*start, *[{"type": "x_event", "data": "abcdef"}] * n]
    if kind == "ping":
        return [*start, *[{"type": "ping"}] * n]
    raise ValueError(kind)


MESSAGES_KINDS = [
    "text delta to the same block",
    "text deltas to two blocks, alternating",
    "input JSON fragment",
    "citation",
    "unknown delta type",
    "unknown event, past max_text_size",
    "ping",
]


# -- structured outputs (issue 17): a typed value scanned live, on each format -------------------


class _Item(msgspec.Struct):
    a: int
    s: str


class _Long(msgspec.Struct):
    s: str


def _typed_pieces(kind: str, n: int) -> list[str]:
    """The content fragments of a typed value: an array of objects, an element per fragment,
    or one string growing by four characters a fragment."""
    if kind.startswith("typed array"):
        return ["[", *['{"a": 1, "s": "xy"}, '] * n, '{"a": 2, "s": "z"}]']
    return ['{"s": "', *["abcd"] * n, '"}']


def _structured(kind: str, n: int) -> list[Obj]:
    pieces = _typed_pieces(kind, n)
    if kind.endswith("(chat)"):
        return [
            {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}}]}
            for p in pieces
        ]
    if kind.endswith("(chat tool arguments)"):
        first = {"index": 0, "id": "c", "function": {"name": "f", "arguments": ""}}
        return [
            {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d}]}
            for d in [
                {"tool_calls": [first]},
                *[{"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in pieces],
            ]
        ]
    if kind.endswith("(completions)"):
        return [{"object": "text_completion", "choices": [{"index": 0, "text": p}]} for p in pieces]
    if kind.endswith("(messages)"):
        events = _messages("text delta to the same block", 0)
        return events + [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
            for p in pieces
        ]
    raise ValueError(kind)


STRUCTURED_KINDS = [
    "typed array, an element a delta (chat)",
    "typed string, four characters a delta (chat)",
    "typed array, an element a delta (chat tool arguments)",
    "typed array, an element a delta (completions)",
    "typed array, an element a delta (messages)",
]


def _typed_accumulator(kind: str) -> Callable[[], Any]:
    tp: Any = list[_Item] if kind.startswith("typed array") else _Long
    if kind.endswith("(chat tool arguments)"):
        return lambda: chunkagg.Accumulator(tools={"f": tp}, track=True)
    new = {
        "chat": chunkagg.Accumulator,
        "completions": chunkagg.CompletionAccumulator,
        "messages": chunkagg.MessageAccumulator,
    }[kind.rsplit("(", 1)[1].rstrip(")").split()[0]]
    return lambda: new(response_format=tp, track=True)


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Case:
    fmt: str
    kind: str
    make: Callable[[int], bytes]
    accumulator: Callable[[], Any]
    # How many times --n this kind is measured at: a quadratic term whose step is a memmove of
    # pointers (list.insert at index 0) only stands out of the per-event cost past about 10**5.
    scale: int = 1
    per_size: dict[int, float] = field(default_factory=dict)


# The kinds measured at 10 x --n, for the reason above.
_LARGE = ("annotation inserted at index 0",)


def _cases() -> list[Case]:
    cases: list[Case] = []
    for kind in RESPONSES_KINDS:
        options: Obj = {"max_text_size": 1000} if "past max_text_size" in kind else {}

        def make_r(n: int, kind: str = kind) -> bytes:
            return _sse(_responses(kind, n))

        def acc_r(options: Obj = options) -> Any:
            return chunkagg.ResponseAccumulator(**options)

        scale = 10 if kind.startswith(_LARGE) else 1
        cases.append(Case("responses", kind, make_r, acc_r, scale))
    for kind in CHAT_KINDS:

        def make_c(n: int, kind: str = kind) -> bytes:
            return _sse(_chat(kind, n))

        cases.append(Case("chat", kind, make_c, chunkagg.Accumulator))
    for kind in COMPLETIONS_KINDS:

        def make_t(n: int, kind: str = kind) -> bytes:
            return _sse(_completions(kind, n))

        cases.append(Case("completions", kind, make_t, chunkagg.CompletionAccumulator))
    for kind in MESSAGES_KINDS:
        options = {"max_text_size": 1000} if "past max_text_size" in kind else {}

        def make_m(n: int, kind: str = kind) -> bytes:
            return _sse(_messages(kind, n))

        def acc_m(options: Obj = options) -> Any:
            return chunkagg.MessageAccumulator(**options)

        cases.append(Case("messages", kind, make_m, acc_m))
    for kind in STRUCTURED_KINDS:

        def make_s(n: int, kind: str = kind) -> bytes:
            return _sse(_structured(kind, n), event_lines="(messages)" in kind)

        cases.append(Case("structured", kind, make_s, _typed_accumulator(kind)))
    return cases


def _run(accumulator: Callable[[], Any], data: bytes) -> None:
    """Feed ``data`` whole, going on after each refused event, and finalize."""
    acc = accumulator()
    chunk = data
    while True:
        try:
            acc.feed(chunk)
        except ChunkAggError:
            chunk = b""
            continue
        break
    with contextlib.suppress(EmptyStreamError):
        acc.finalize()


def _seconds(case: Case, n: int, repeat: int) -> float:
    data = case.make(n)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        _run(case.accumulator, data)
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="events at the smaller size")
    parser.add_argument("--factor", type=int, default=8, help="how many times more at the larger")
    parser.add_argument("--repeat", type=int, default=5, help="runs per size; the best counts")
    parser.add_argument("--threshold", type=float, default=2.0, help="largest ratio allowed")
    parser.add_argument("--only", default="", help="run the kinds whose name holds this text")
    args = parser.parse_args(argv)
    cases = [c for c in _cases() if args.only in f"{c.fmt} {c.kind}"]
    width = max(len(c.kind) for c in cases)
    head = f"{'format':<12} {'event kind':<{width}} {'n':>7} {'us/event':>9}"
    print(f"{head} {f'{args.factor} x n':>7} {'us/event':>9} {'ratio':>6}")
    worst: list[str] = []
    for case in cases:
        sizes = (args.n * case.scale, args.n * case.scale * args.factor)
        for size in sizes:
            case.per_size[size] = _seconds(case, size, args.repeat) / size
        small, large = (case.per_size[s] * 1e6 for s in sizes)
        ratio = large / small
        mark = "" if ratio <= args.threshold else "  <- over the threshold"
        print(
            f"{case.fmt:<12} {case.kind:<{width}} {sizes[0]:>7} {small:9.2f} {sizes[1]:>7} "
            f"{large:9.2f} {ratio:6.2f}{mark}"
        )
        if ratio > args.threshold:
            worst.append(f"{case.fmt}: {case.kind} ({ratio:.2f})")
    if worst:
        print(f"\nnot linear (ratio above {args.threshold}): " + "; ".join(worst))
        return 1
    print(f"\nevery ratio at most {args.threshold}: linear in every event kind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
