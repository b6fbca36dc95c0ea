"""``python -m benchmarks.completions``: the legacy completions format against the floor.

Measures, for generated ``text_completion`` streams (OpenAI's chunk shape: ``id``, ``object``,
``created``, ``choices[{text, index, logprobs, finish_reason}]``, ``model``, ``"usage": null`` on
every chunk and a last ``choices: []`` chunk with the usage), the time from the first byte in to
the final completion out, for:

- ``chunkagg``: ``CompletionAccumulator.feed()`` per slice, then ``finalize()``;
- ``floor``: the chat benchmark's floor (``_consumers.Floor``): incremental SSE framing plus
  ``msgspec.json.decode`` of every payload into generic objects, nothing merged or kept;
- ``naive``: split on blank lines, ``json.loads``, merge into dicts with ``+=``.

Streams: 1 choice x 2,000 chunks; n=4 x 1,000 chunks, interleaved; 2,000 chunks with
``logprobs: 5`` (one token per chunk, as OpenAI sends them). Each is fed in network-like slices
(1 to 4,096 bytes, ``_data.network_slices``) and in 1-byte slices (naive only in network slices:
its ``bytes +=`` buffer makes 1-byte feeding quadratic).

All consumers run in this process (unlike ``python -m benchmarks``, which gives each its own).
Each repeat visits every cell (stream and slicing) and, within a cell, every consumer in an order
that rotates each repeat; ``gc.collect()`` before each run, ``time.perf_counter`` around it. The
table shows medians as ratios to the floor of the same cell only: absolute times on a shared
machine say little. Every consumer's result is checked against the generator's truth once per
cell. The target reported (not asserted): chunkagg at most 1.3x the floor in network slices.
"""

from __future__ import annotations

import argparse
import gc
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

from chunkagg._completions import CompletionAccumulator, TextCompletion

from ._consumers import Floor
from ._data import _VOCAB, canonical, compare, network_slices, one_byte_slices

__all__ = ["SCENARIOS", "Stream", "main", "make_stream"]

DEFAULT_SEED = 20261130
TARGET = 1.3  # chunkagg / floor in network slices
RESULTS = Path(__file__).resolve().parent / "results" / "completions.json"
MODES = ("network", "1-byte")

_encode = msgspec.json.encode


@dataclass(frozen=True)
class Stream:
    """One generated stream: its bytes, its chunk count and the completion it must merge to."""

    name: str
    description: str
    data: bytes
    events: int
    truth: dict[str, Any]


class _Builder:
    """Writes ``text_completion`` chunks in OpenAI's key order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.id = f"cmpl-{rng.getrandbits(128):032x}"
        self.created = 1767225600 + rng.randrange(10**6)
        self.model = "gpt-3.5-turbo-instruct"
        self.payloads: list[bytes] = []

    def chunk(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> None:
        self.payloads.append(
            _encode(
                {
                    "id": self.id,
                    "object": "text_completion",
                    "created": self.created,
                    "choices": choices,
                    "model": self.model,
                    "usage": usage,
                }
            )
        )

    def stream(self, name: str, description: str, choices: list[dict[str, Any]]) -> Stream:
        prompt = self.rng.randrange(20, 2000)
        completion = sum(len((c["logprobs"] or {}).get("tokens") or [1]) for c in choices)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        self.chunk([], usage)
        data = b"".join(b"data: " + p + b"\n\n" for p in self.payloads) + b"data: [DONE]\n\n"
        truth = {
            "id": self.id,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            "usage": usage,
        }
        return Stream(name, description, data, len(self.payloads), truth)


def _choice(index: int, text: str, logprobs: Any = None, finish: str | None = None) -> Any:
    return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}


def _text(rng: random.Random) -> Stream:
    count = 2_000
    b = _Builder(rng)
    parts = [rng.choice(_VOCAB) for _ in range(count)]
    for part in parts:
        b.chunk([_choice(0, part)])
    b.chunk([_choice(0, "", finish="stop")])
    truth = [_choice(0, "".join(parts), finish="stop")]
    return b.stream("text-2k", "1 choice, 2,000 text chunks", truth)


def _n4(rng: random.Random) -> Stream:
    n, per_choice = 4, 1_000
    b = _Builder(rng)
    order = [i for i in range(n) for _ in range(per_choice)]
    rng.shuffle(order)
    parts: list[list[str]] = [[] for _ in range(n)]
    for i in order:
        part = rng.choice(_VOCAB)
        parts[i].append(part)
        b.chunk([_choice(i, part)])
    for i in range(n):
        b.chunk([_choice(i, "", finish="stop")])
    truth = [_choice(i, "".join(parts[i]), finish="stop") for i in range(n)]
    return b.stream("n4", f"n=4 interleaved, {n * per_choice:,} text chunks", truth)


def _logprobs(rng: random.Random) -> Stream:
    count, top, prompt = 2_000, 5, 38
    b = _Builder(rng)
    lists: dict[str, list[Any]] = {
        "tokens": [],
        "token_logprobs": [],
        "top_logprobs": [],
        "text_offset": [],
    }
    at = prompt
    for _ in range(count):
        token = rng.choice(_VOCAB)
        logprob = -round(rng.expovariate(3.0), 7)
        alternatives = {token: logprob}
        while len(alternatives) < top:
            alternatives[rng.choice(_VOCAB)] = -round(rng.expovariate(1.0) + 0.5, 7)
        one: dict[str, list[Any]] = {
            "tokens": [token],
            "token_logprobs": [logprob],
            "top_logprobs": [alternatives],
            "text_offset": [at],
        }
        for key, value in one.items():
            lists[key] += value
        at += len(token)
        b.chunk([_choice(0, token, one)])
    b.chunk([_choice(0, "", {key: [] for key in lists}, "length")])
    truth = [_choice(0, "".join(lists["tokens"]), lists, "length")]
    return b.stream("logprobs", f"{count:,} chunks with logprobs ({top} top_logprobs)", truth)


SCENARIOS: dict[str, Callable[[random.Random], Stream]] = {
    "text-2k": _text,
    "n4": _n4,
    "logprobs": _logprobs,
}


def make_stream(name: str, seed: int = DEFAULT_SEED) -> Stream:
    """Build scenario ``name``; the same ``(name, seed)`` always gives the same bytes."""
    return SCENARIOS[name](random.Random(f"{seed}/completions/{name}"))


# -- consumers ------------------------------------------------------------------------------------


def _chunkagg(slices: list[bytes]) -> Any:
    acc = CompletionAccumulator()
    feed = acc.feed
    for data in slices:
        feed(data)
    return acc.finalize()  # TextCompletion: converted to builtins for the check, untimed


_floor = Floor()


def _floor_run(slices: list[bytes]) -> Any:
    return _floor.run(slices)


class _Naive:
    """Split on blank lines, ``json.loads``, merge into dicts with ``+=``."""

    def __init__(self) -> None:
        self.buffer = b""
        self.top: dict[str, Any] = {}
        self.choices: dict[int, dict[str, Any]] = {}

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            line = event.decode()
            if line.startswith("data: ") and line != "data: [DONE]":
                self.merge(json.loads(line[6:]))

    def merge(self, chunk: dict[str, Any]) -> None:
        top = self.top
        for key in ("id", "created", "model", "system_fingerprint"):
            if key not in top and chunk.get(key) is not None:
                top[key] = chunk[key]
        if chunk.get("usage") is not None:
            top["usage"] = chunk["usage"]
        for choice in chunk["choices"]:
            state = self.choices.setdefault(
                choice["index"],
                {"text": "", "index": choice["index"], "logprobs": None, "finish_reason": None},
            )
            state["text"] += choice.get("text") or ""
            if choice.get("finish_reason"):
                state["finish_reason"] = choice["finish_reason"]
            logprobs = choice.get("logprobs")
            if logprobs is not None:
                if state["logprobs"] is None:
                    state["logprobs"] = {key: [] for key in logprobs}
                for key, values in logprobs.items():
                    state["logprobs"][key] += values

    def finish(self) -> dict[str, Any]:
        return {
            "object": "text_completion",
            **self.top,
            "choices": [self.choices[i] for i in sorted(self.choices)],
        }


def _naive(slices: list[bytes]) -> Any:
    stream = _Naive()
    feed = stream.feed
    for data in slices:
        feed(data)
    return stream.finish()


CONSUMERS: dict[str, Callable[[list[bytes]], Any]] = {
    "chunkagg": _chunkagg,
    "floor": _floor_run,
    "naive": _naive,
}
# ``bytes +=`` and a rescan from 0 on every call: quadratic when fed one byte at a time.
NOT_ONE_BYTE = {"naive"}


# -- running --------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One consumer on one stream in one slicing: its runs and its check."""

    scenario: str
    mode: str
    consumer: str
    runs: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def _check(stream: Stream, consumer: str, out: Any) -> list[str]:
    if consumer == "floor":
        return [] if out == stream.events else [f"decoded {out} of {stream.events} chunks"]
    if isinstance(out, TextCompletion):
        out = out.to_dict()
    errors, _ = compare(canonical(stream.truth), canonical(out))
    return errors


def run(names: list[str], repeat: int, seed: int) -> tuple[dict[str, Stream], list[Cell]]:
    """Time every consumer on every stream and slicing, ``repeat`` interleaved rounds."""
    streams = {name: make_stream(name, seed) for name in names}
    inputs = {
        (name, mode): (
            network_slices(s.data, seed, name) if mode == "network" else one_byte_slices(s.data)
        )
        for name, s in streams.items()
        for mode in MODES
    }
    rows = [
        [
            Cell(name, mode, consumer)
            for consumer in CONSUMERS
            if mode == "network" or consumer not in NOT_ONE_BYTE
        ]
        for name in names
        for mode in MODES
    ]
    for row in rows:  # warm-up and check, untimed
        for cell in row:
            out = CONSUMERS[cell.consumer](inputs[cell.scenario, cell.mode])
            cell.errors = _check(streams[cell.scenario], cell.consumer, out)
    for rep in range(repeat):
        for row in rows:
            k = rep % len(row)
            for cell in row[k:] + row[:k]:
                slices = inputs[cell.scenario, cell.mode]
                consume = CONSUMERS[cell.consumer]
                gc.collect()
                start = time.perf_counter()
                consume(slices)
                cell.runs.append(time.perf_counter() - start)
    return streams, [cell for row in rows for cell in row]


def report(streams: dict[str, Stream], cells: list[Cell], repeat: int) -> dict[str, Any]:
    """Print the table (ratios to the floor) and return what ``--json`` writes."""
    floors = {(c.scenario, c.mode): c.median for c in cells if c.consumer == "floor"}
    header = f"{'stream':<9} {'slices':<8} {'consumer':<9} {'x floor':>8}  check"
    print(header)
    print("-" * len(header))
    rows: list[dict[str, Any]] = []
    network: list[float] = []
    for cell in cells:
        ratio = cell.median / floors[cell.scenario, cell.mode]
        check = "ok" if not cell.errors else f"WRONG ({len(cell.errors)})"
        print(f"{cell.scenario:<9} {cell.mode:<8} {cell.consumer:<9} {ratio:>7.2f}x  {check}")
        rows.append(
            {
                "scenario": cell.scenario,
                "mode": cell.mode,
                "consumer": cell.consumer,
                "runs": len(cell.runs),
                "ratio_to_floor": ratio,
                "check_errors": cell.errors[:5],
            }
        )
        if cell.consumer == "chunkagg" and cell.mode == "network":
            network.append(ratio)
    met = all(r <= TARGET for r in network)
    print(
        f"\ntarget: chunkagg <= {TARGET}x the floor in network slices: "
        f"{'met' if met else 'MISSED'} (worst {max(network):.2f}x)"
    )
    return {
        "what": "legacy completions: CompletionAccumulator, floor and naive, ratios to the floor",
        "python": platform.python_version(),
        "msgspec": msgspec.__version__,
        "repeat": repeat,
        "streams": {
            name: {"description": s.description, "bytes": len(s.data), "chunks": s.events}
            for name, s in streams.items()
        },
        "rows": rows,
        "target": {"floor": TARGET, "met": met, "worst": max(network)},
    }


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 1 when a consumer's result differs from the truth."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.completions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 rounds")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/completions.json")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else args.repeat
    streams, cells = run(args.scenario or list(SCENARIOS), repeat, args.seed)
    result = report(streams, cells, repeat)
    path = args.json or RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 1 if any(cell.errors for cell in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
