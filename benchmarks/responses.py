"""``python -m benchmarks.responses``: the Responses API stream, chunkagg against openai-python.

Measures, for each generated Responses stream fed in network-like slices (1 to 4,096 bytes) and in
1-byte slices, the time from the first byte in to the final ``response`` out, for:

- ``chunkagg``: ``ResponseAccumulator.feed`` per slice, then ``finalize()``;
- ``chunkagg-events``: the same with ``track=True``, taking the live events after each feed;
- ``floor``: an incremental framer (``bytearray``, resume index, ``del buf[:n]``, the ``data:``
  line found in each event) and ``msgspec.json.decode`` of every payload into generic objects,
  nothing merged or kept: what any bytes-in consumer must at least spend;
- ``openai-state``: openai-python's own accumulator fed what its stream parses: its
  ``SSEDecoder`` over the slices, ``sse.json()``, ``construct_type(ResponseStreamEvent, ...)``
  (no validation, as the SDK does) and ``ResponseStreamState.handle_event`` (the enriched events
  included), then the state's completed response;
- ``openai-client``: the whole ``client.responses.stream(...)`` path, offline: the request goes
  to an ``httpx2.MockTransport`` that answers with the slices as the body, and
  ``get_final_response()`` returns the result. This adds the SDK's request building and its
  ``Stream`` wrapper to ``openai-state``.

The streams (seeded, generated here, in OpenAI's shape: ``event:`` line, then ``data:`` line, no
``[DONE]``; ``obfuscation`` on every delta, as the API sends by default since August 2025):
``text`` (one message, 2,000 ``output_text`` deltas), ``text-data-only`` (the same framed as
``data:`` lines ending with ``data: [DONE]``, the gateways' framing), ``function-call`` (2,000
``function_call_arguments`` fragments) and ``reasoning`` (a reasoning item with two summary parts
and a ``reasoning_text`` part, 1,500 deltas in all, then a message of 500 deltas).

Method: in one process, each repeat visits every cell (stream and slicing) and, in a cell, every
consumer in an order that rotates each repeat, so noise on a shared machine falls on all alike;
``gc.collect()`` before each run, ``time.perf_counter`` (``--timer process``: this process's CPU
time, which time spent descheduled on a busy machine does not inflate), the median reported,
as ratios only
(absolute times differ from machine to machine; the JSON keeps the medians too). A consumer stops
repeating a cell after ``--budget`` seconds on it (the openai paths, about 100x slower, run a few
times). openai-python is not run on 1-byte slices (minutes, and nothing new). Every result is
checked against the truth, the ``response.completed`` payload: chunkagg's ``to_dict()`` must equal
it exactly, openai-python's ``model_dump(exclude_unset=True)`` with nulls dropped.

Targets (reported, not asserted): chunkagg at least 20x faster than openai-python's path, and at
most 1.5x the floor.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ._data import network_slices, one_byte_slices

Obj = dict[str, Any]
DEFAULT_SEED = 20260101
MODES = ("network", "1-byte")
TARGET_OPENAI = 20.0
TARGET_FLOOR = 1.5
_BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_VOCAB = [
    " the", " stream", " event", " of", " and", " a", " response", " is", " to", " token",
    " délai", " naïve", " Ωμέγα", " 東京", "の", " 数据", " 😀", " →", "\n", ' "quoted"', " x",
]  # fmt: skip


# -- streams ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One generated stream: its bytes and the response it must finalize to."""

    name: str
    description: str
    data: bytes
    events: int
    truth: Obj


class _Writer:
    """Renders a truth ``response`` into OpenAI's event stream."""

    def __init__(self, rng: random.Random, truth: Obj, event_lines: bool = True) -> None:
        self.rng = rng
        self.truth = truth
        self.event_lines = event_lines
        self.events: list[Obj] = []

    def emit(self, kind: str, **fields: Any) -> None:
        self.events.append({"type": kind, "sequence_number": len(self.events), **fields})

    def pad(self) -> str:
        return "".join(self.rng.choice(_BASE62) for _ in range(self.rng.randint(2, 12)))

    def lifecycle(self) -> Obj:
        return {
            **self.truth,
            "status": "in_progress",
            "completed_at": None,
            "output": [],
            "usage": None,
        }

    def body(self, pieces: dict[int, list[str]]) -> bytes:
        self.emit("response.created", response=self.lifecycle())
        self.emit("response.in_progress", response=self.lifecycle())
        for i, item in enumerate(self.truth["output"]):
            getattr(self, "_" + item["type"])(i, item, pieces[i])
        self.emit("response.completed", response=self.truth)
        out = bytearray()
        for event in self.events:
            if self.event_lines:
                out += b"event: " + event["type"].encode() + b"\n"
            out += b"data: " + msgspec.json.encode(event) + b"\n\n"
        if not self.event_lines:
            out += b"data: [DONE]\n\n"
        return bytes(out)

    def _message(self, i: int, item: Obj, pieces: list[str]) -> None:
        where = {"item_id": item["id"], "output_index": i, "content_index": 0}
        self.emit(
            "response.output_item.added",
            output_index=i,
            item={**item, "status": "in_progress", "content": []},
        )
        part = item["content"][0]
        self.emit("response.content_part.added", **where, part={**part, "text": ""})
        for piece in pieces:
            self.emit(
                "response.output_text.delta",
                **where,
                delta=piece,
                logprobs=[],
                obfuscation=self.pad(),
            )
        self.emit("response.output_text.done", **where, text=part["text"], logprobs=[])
        self.emit("response.content_part.done", **where, part=part)
        self.emit("response.output_item.done", output_index=i, item=item)

    def _function_call(self, i: int, item: Obj, pieces: list[str]) -> None:
        where = {"item_id": item["id"], "output_index": i}
        self.emit(
            "response.output_item.added",
            output_index=i,
            item={**item, "status": "in_progress", "arguments": ""},
        )
        for piece in pieces:
            self.emit(
                "response.function_call_arguments.delta",
                **where,
                delta=piece,
                obfuscation=self.pad(),
            )
        self.emit("response.function_call_arguments.done", **where, arguments=item["arguments"])
        self.emit("response.output_item.done", output_index=i, item=item)

    def _reasoning(self, i: int, item: Obj, pieces: list[str]) -> None:
        where = {"item_id": item["id"], "output_index": i}
        self.emit(
            "response.output_item.added",
            output_index=i,
            item={**item, "summary": [], "content": []},
        )
        # The pieces of the content's text come first, then those of each summary part.
        at = 0
        for k, part in enumerate(item["content"]):
            own = _take(pieces, at, part["text"])
            at += len(own)
            self.emit(
                "response.content_part.added", **where, content_index=k, part={**part, "text": ""}
            )
            for piece in own:
                self.emit(
                    "response.reasoning_text.delta",
                    **where,
                    content_index=k,
                    delta=piece,
                    obfuscation=self.pad(),
                )
            self.emit("response.reasoning_text.done", **where, content_index=k, text=part["text"])
            self.emit("response.content_part.done", **where, content_index=k, part=part)
        for k, part in enumerate(item["summary"]):
            own = _take(pieces, at, part["text"])
            at += len(own)
            self.emit(
                "response.reasoning_summary_part.added",
                **where,
                summary_index=k,
                part={**part, "text": ""},
            )
            for piece in own:
                self.emit(
                    "response.reasoning_summary_text.delta",
                    **where,
                    summary_index=k,
                    delta=piece,
                    obfuscation=self.pad(),
                )
            self.emit(
                "response.reasoning_summary_text.done", **where, summary_index=k, text=part["text"]
            )
            self.emit("response.reasoning_summary_part.done", **where, summary_index=k, part=part)
        self.emit("response.output_item.done", output_index=i, item=item)


def _take(pieces: list[str], at: int, text: str) -> list[str]:
    """The pieces from ``at`` on that make up ``text``."""
    out: list[str] = []
    size = 0
    while size < len(text):
        out.append(pieces[at + len(out)])
        size += len(out[-1])
    assert "".join(out) == text
    return out


def _hex(rng: random.Random, prefix: str) -> str:
    return prefix + f"{rng.getrandbits(192):048x}"


def _tokens(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(_VOCAB) for _ in range(count)]


def _response(rng: random.Random, output: list[Obj], outputs: int) -> Obj:
    created = 1767225600 + rng.randrange(10**6)
    return {
        "id": _hex(rng, "resp_"),
        "object": "response",
        "created_at": created,
        "status": "completed",
        "background": False,
        "completed_at": created + 3,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": "gpt-5-mini-2025-08-07",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": "medium", "summary": "auto"},
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
        "usage": {
            "input_tokens": 40,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": outputs,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 40 + outputs,
        },
        "user": None,
        "metadata": {},
    }


def _message(rng: random.Random, text: str) -> Obj:
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    return {
        "id": _hex(rng, "msg_"),
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }


def _text(rng: random.Random) -> tuple[Obj, dict[int, list[str]]]:
    pieces = _tokens(rng, 2000)
    truth = _response(rng, [_message(rng, "".join(pieces))], 2000)
    return truth, {0: pieces}


def _function_call(rng: random.Random) -> tuple[Obj, dict[int, list[str]]]:
    words = _tokens(rng, 700)
    arguments = json.dumps({"query": "".join(words), "limit": 20}, ensure_ascii=False)
    size = len(arguments)
    pieces = [arguments[i * size // 2000 : (i + 1) * size // 2000] for i in range(2000)]
    item = {
        "id": _hex(rng, "fc_"),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": "call_" + "".join(rng.choice(_BASE62) for _ in range(24)),
        "name": "search",
    }
    return _response(rng, [item], len(pieces)), {0: pieces}


def _reasoning(rng: random.Random) -> tuple[Obj, dict[int, list[str]]]:
    content = _tokens(rng, 700)
    summaries = [_tokens(rng, 400), _tokens(rng, 400)]
    answer = _tokens(rng, 500)
    item = {
        "id": _hex(rng, "rs_"),
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "".join(s)} for s in summaries],
        "content": [{"type": "reasoning_text", "text": "".join(content)}],
    }
    truth = _response(rng, [item, _message(rng, "".join(answer))], 2000)
    return truth, {0: content + summaries[0] + summaries[1], 1: answer}


# A stream's truth and the delta pieces of each output item.
Build = Callable[[random.Random], tuple[Obj, dict[int, list[str]]]]
# name: (description, builder, whether events have an event: line)
SCENARIOS: dict[str, tuple[str, Build, bool]] = {
    "text": ("one message, 2,000 text deltas", _text, True),
    "text-data-only": ("the same, data: lines only, then [DONE]", _text, False),
    "function-call": ("one function call, 2,000 argument fragments", _function_call, True),
    "reasoning": ("summary (2 parts) + reasoning text, then a message", _reasoning, True),
}


def make_case(name: str, seed: int = DEFAULT_SEED) -> Case:
    """The stream ``name``, built from ``seed`` alone."""
    description, build, event_lines = SCENARIOS[name]
    rng = random.Random(f"{seed}/{name.removesuffix('-data-only')}")
    truth, pieces = build(rng)
    writer = _Writer(rng, truth, event_lines)
    data = writer.body(pieces)
    return Case(name, description, data, len(writer.events), truth)


# -- consumers ---------------------------------------------------------------------------------


class Consumer:
    """Fed byte slices; ``run`` is timed, ``result`` gives builtins to check (``None``: none)."""

    name = ""
    one_byte = True

    def run(self, slices: list[bytes]) -> Any:
        raise NotImplementedError

    def result(self, out: Any) -> Any:
        return None


class ChunkAgg(Consumer):
    name = "chunkagg"

    def __init__(self) -> None:
        from chunkagg._responses import ResponseAccumulator

        self._new = ResponseAccumulator

    def run(self, slices: list[bytes]) -> Any:
        acc = self._new()
        feed = acc.feed
        for data in slices:
            feed(data)
        return acc.finalize()

    def result(self, out: Any) -> Any:
        return out.to_dict()


class ChunkAggEvents(ChunkAgg):
    name = "chunkagg-events"

    def run(self, slices: list[bytes]) -> Any:
        acc = self._new(track=True)
        feed = acc.feed
        take = acc.take_events
        for data in slices:
            feed(data)
            take()
        result = acc.finalize()
        take()
        return result


class _FloorStream:
    """Framing as tight as Python allows, then a generic decode per payload; no merge."""

    __slots__ = ("_buf", "_scan", "events")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0
        self.events = 0

    def feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        cut = buf.rfind(b"\n\n", self._scan)
        if cut < 0:
            self._scan = max(len(buf) - 1, 0)
            return
        region = bytes(buf[: cut + 2])
        del buf[: cut + 2]
        self._scan = 0
        decode = _generic_decode
        for event in region.split(b"\n\n"):
            at = event.find(b"data: {")
            if at >= 0:
                decode(event[at + 6 :])
                self.events += 1


_generic_decode = msgspec.json.Decoder().decode


class Floor(Consumer):
    name = "floor"

    def run(self, slices: list[bytes]) -> Any:
        stream = _FloorStream()
        feed = stream.feed
        for data in slices:
            feed(data)
        return stream.events


class OpenAIState(Consumer):
    name = "openai-state"
    one_byte = False

    def __init__(self) -> None:
        from openai._models import construct_type
        from openai._streaming import SSEDecoder
        from openai._types import omit
        from openai.lib.streaming.responses._responses import ResponseStreamState
        from openai.types.responses import ResponseStreamEvent

        self._construct = construct_type
        self._decoder = SSEDecoder
        self._omit = omit
        self._state = ResponseStreamState
        self._event = ResponseStreamEvent

    def run(self, slices: list[bytes]) -> Any:
        state: Any = self._state(input_tools=self._omit, text_format=self._omit)
        construct, event_type = self._construct, self._event
        for sse in self._decoder().iter_bytes(iter(slices)):
            if sse.data.startswith("[DONE]"):
                break
            state.handle_event(construct(type_=event_type, value=sse.json()))
        return state._completed_response

    def result(self, out: Any) -> Any:
        return _strip_parsed(out.model_dump(mode="json", exclude_unset=True))


class OpenAIClient(Consumer):
    name = "openai-client"
    one_byte = False

    def __init__(self) -> None:
        import httpx2
        import openai

        self._slices: list[bytes] = []

        def answer(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter(self._slices)
            )

        self._client = openai.OpenAI(
            api_key="benchmark",
            base_url="http://127.0.0.1:9/v1",  # never dialled: the transport answers
            http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
            max_retries=0,
        )

    def run(self, slices: list[bytes]) -> Any:
        self._slices = slices
        with self._client.responses.stream(model="gpt-5-mini", input="benchmark") as stream:
            return stream.get_final_response()

    def result(self, out: Any) -> Any:
        return _strip_parsed(out.model_dump(mode="json", exclude_unset=True))


def _strip_parsed(value: Any) -> Any:
    """Drop the ``parsed`` keys the SDK's ``ParsedResponse`` adds."""
    if isinstance(value, dict):
        return {k: _strip_parsed(v) for k, v in value.items() if k != "parsed"}
    if isinstance(value, list):
        return [_strip_parsed(v) for v in value]
    return value


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


CONSUMERS: dict[str, Callable[[], Consumer]] = {
    "chunkagg": ChunkAgg,
    "chunkagg-events": ChunkAggEvents,
    "floor": Floor,
    "openai-state": OpenAIState,
    "openai-client": OpenAIClient,
}


@dataclass(frozen=True)
class Format:
    """What a format's benchmark gives the run, the report and ``main`` (the Messages benchmark
    measures its stream with these, its own consumers and verdict)."""

    name: str
    scenarios: dict[str, Any]
    make_case: Callable[[str, int], Case]
    consumers: dict[str, Callable[[], Consumer]]
    peers: tuple[str, ...]  # the other libraries' consumers, each timed against chunkagg
    verdict: Callable[[list[float], list[float]], Obj]


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One consumer on one stream in one slicing: its run times and its check."""

    times: list[float] = field(default_factory=list)
    spent: float = 0.0
    check: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _check(consumer: Consumer, out: Any, truth: Obj) -> str:
    got = consumer.result(out)
    if got is None:
        return "n/a"
    if consumer.name.startswith("chunkagg"):
        return "exact" if got == truth else "WRONG"
    return "equal" if _canonical(got) == _canonical(truth) else "WRONG"


def run(
    names: list[str],
    consumers: list[str],
    repeat: int,
    budget: float,
    seed: int,
    timer: Callable[[], float] = time.perf_counter,
    fmt: Format | None = None,
) -> dict[tuple[str, str, str], Cell]:
    """Time every consumer on every stream and slicing, interleaved; return the cells.

    ``fmt``: the format's consumers and streams (this module's when ``None``)."""
    fmt = fmt or RESPONSES
    made = {name: fmt.consumers[name]() for name in consumers}
    cases = {name: fmt.make_case(name, seed) for name in names}
    slices = {
        (name, mode): (
            network_slices(case.data, seed, name)
            if mode == "network"
            else one_byte_slices(case.data)
        )
        for name, case in cases.items()
        for mode in MODES
    }
    cells: dict[tuple[str, str, str], Cell] = {}
    for r in range(repeat):
        for (name, mode), pieces in slices.items():
            order = list(made.values())
            shift = r % len(order)
            for consumer in order[shift:] + order[:shift]:
                if mode == "1-byte" and not consumer.one_byte:
                    continue
                cell = cells.setdefault((name, mode, consumer.name), Cell())
                if cell.times and cell.spent >= budget:
                    continue
                gc.collect()
                start = timer()
                out = consumer.run(pieces)
                elapsed = timer() - start
                cell.times.append(elapsed)
                cell.spent += elapsed
                if not cell.check:
                    cell.check = _check(consumer, out, cases[name].truth)
    return cells


def report(
    cells: dict[tuple[str, str, str], Cell], names: list[str], seed: int, fmt: Format | None = None
) -> Obj:
    """Print the table of ratios; return what ``--json`` writes."""
    fmt = fmt or RESPONSES
    rows = []
    peers = [f"{peer}/chunkagg" for peer in fmt.peers]
    width = max(len("stream"), *map(len, names))
    print(
        f"{'stream':<{width}} {'slices':<8} {'chunkagg/floor':>14} {'events/chunkagg':>15} "
        + " ".join(peers)
        + "  runs  checks"
    )
    for name in names:
        for mode in MODES:
            mine = cells.get((name, mode, "chunkagg"))
            if mine is None:
                continue

            def ratio(other: str, over: bool = True, mine: Cell = mine, key: Any = None) -> Any:
                cell = cells.get((*key, other))
                if cell is None:
                    return None
                return cell.median / mine.median if over else mine.median / cell.median

            row = {
                "stream": name,
                "slices": mode,
                "chunkagg/floor": ratio("floor", over=False, key=(name, mode)),
                "chunkagg-events/chunkagg": ratio("chunkagg-events", key=(name, mode)),
                **{
                    label: ratio(peer, key=(name, mode))
                    for peer, label in zip(fmt.peers, peers, strict=True)
                },
                "runs": {
                    c: len(v.times) for (n, m, c), v in cells.items() if (n, m) == (name, mode)
                },
                "checks": {c: v.check for (n, m, c), v in cells.items() if (n, m) == (name, mode)},
                "medians_s": {
                    c: v.median for (n, m, c), v in cells.items() if (n, m) == (name, mode)
                },
            }
            rows.append(row)
            runs = "/".join(str(n) for n in row["runs"].values())
            checks = ",".join(sorted({v for v in row["checks"].values() if v != "n/a"}))
            print(
                f"{name:<{width}} {mode:<8} {_fmt(row['chunkagg/floor']):>14} "
                f"{_fmt(row['chunkagg-events/chunkagg']):>15} "
                + " ".join(f"{_fmt(row[label]):>{len(label)}}" for label in peers)
                + f"  {runs:<5} {checks}"
            )
    floors = [r["chunkagg/floor"] for r in rows if r["chunkagg/floor"] is not None]
    speedups = [r[k] for r in rows for k in peers if r[k] is not None]
    print()
    return {
        "benchmark": fmt.name,
        "seed": seed,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
        "targets": fmt.verdict(floors, speedups),
    }


def _verdict(floors: list[float], speedups: list[float]) -> Obj:
    """Print whether this format's targets were met; return them."""
    if floors:
        met = "met" if max(floors) <= TARGET_FLOOR else "missed"
        print(f"target <= {TARGET_FLOOR}x the floor: {met} (worst {max(floors):.2f}x)")
    if speedups:
        met = "met" if min(speedups) >= TARGET_OPENAI else "missed"
        print(f"target >= {TARGET_OPENAI:.0f}x faster than openai-python: {met} "
              f"(least {min(speedups):.0f}x)")  # fmt: skip
    return {"floor": TARGET_FLOOR, "openai": TARGET_OPENAI}


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def main(argv: list[str] | None = None, fmt: Format | None = None, doc: str | None = None) -> int:
    """Run the benchmark of ``fmt`` (this module's when ``None``); print the table; write
    ``--json``."""
    fmt = fmt or RESPONSES
    parser = argparse.ArgumentParser(
        prog=f"python -m benchmarks.{fmt.name}", description=doc or __doc__
    )
    parser.add_argument("--repeat", type=int, default=25, help="rounds over every cell")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per slow cell")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scenario", action="append", choices=list(fmt.scenarios))
    parser.add_argument(
        "--consumers", nargs="+", choices=list(fmt.consumers), default=list(fmt.consumers)
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds, 1 s budget: a smoke run")
    parser.add_argument("--timer", choices=("perf", "process"), default="perf")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.budget = 3, 1.0
    names = args.scenario or list(fmt.scenarios)
    for name in names:
        case = fmt.make_case(name, args.seed)
        digest = hashlib.sha256(case.data).hexdigest()[:12]
        print(f"{name}: {case.description}; {case.events} events, {len(case.data):,} bytes "
              f"(sha256 {digest})")  # fmt: skip
    print()
    timer = time.perf_counter if args.timer == "perf" else time.process_time
    cells = run(names, args.consumers, args.repeat, args.budget, args.seed, timer, fmt)
    result = report(cells, names, args.seed, fmt)
    result["timer"] = args.timer
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    wrong = [k for k, v in cells.items() if v.check == "WRONG"]
    for key in wrong:
        print("WRONG result:", *key, file=sys.stderr)
    return 1 if wrong else 0


RESPONSES = Format(
    "responses", SCENARIOS, make_case, CONSUMERS, ("openai-state", "openai-client"), _verdict
)


if __name__ == "__main__":
    sys.exit(main())
