"""``python -m benchmarks``: chunkagg against its peers and the floor, in one interleaved run.

Measures, for each generated stream (``_data``) fed in network-like slices (1 to 4,096 bytes) and
in 1-byte slices, the time from the first byte in to the final completion out, for:

- ``chunkagg`` (``Accumulator.feed`` per slice, ``finalize``);
- ``chunkagg-events``: the same with ``track=True``, taking the live-UI events after each feed;
- ``floor``: framing plus ``msgspec.json.decode`` of every payload into generic objects, no merge:
  what any bytes-in consumer must at least spend;
- ``naive``: split on blank lines, ``json.loads``, dict merge with ``+=``;
- ``openai``: the SDK's own stream path down to ``ChatCompletionStreamState``;
- ``litellm``: ``stream_chunk_builder`` on chunk dicts parsed beforehand (no bytes, no parsing).

``_consumers`` says exactly what each is given. Every consumer runs in its own process
(``_worker``). Each repeat visits every cell (scenario and slicing) in turn and, within a cell,
every consumer in an order that rotates each repeat, so noise on a shared machine falls on all
cells and consumers alike: compare the ratios of one run, not absolute times across runs. Before
each run: ``gc.collect()``; timer: ``time.perf_counter``; reported: the median. A consumer stops
repeating a cell once it has spent ``--budget`` seconds on it (at least one run), which is what
keeps the ~100x slower openai path to a few runs on the big streams; the table shows each count.

Also measured: peak memory (``tracemalloc``, in separate runs) relative to the input size, every
result checked against the generator's truth, time per chunk at 20,000 against 1,000 chunks
(linearity), 10,000 accumulators alive at once (``_many``), and with ``--profile`` where chunkagg
spends its time. Prints the tables and the issue's targets met or missed, writes the JSON
(``--json``) and the chart (``--chart``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._chart import render_svg
from ._consumers import CONSUMERS
from ._data import DEFAULT_SEED, MAX_SLICE, OPENAI_SCENARIOS, SCENARIOS, Case, make_case

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("network", "1-byte")
PEERS = ("naive", "litellm", "openai")
# Already ~100x slower than the floor in network slices: 1-byte runs would take many minutes
# and say nothing new.
NO_ONE_BYTE = {"openai"}
# tracemalloc slows pure-Python code several times over: a consumer whose timed run takes longer
# than this is not traced unless --memory-cap is raised (openai on the two biggest streams).
MEMORY_CAP_S = 2.0

# The project's targets (docs/performance.md states them).
TARGETS = {
    "floor": 1.3,  # OpenAI's own format
    "floor-extensions": 1.5,  # providers' extensions, a never-seen field on every chunk
    "baseline": 1.05,  # against --baseline, OpenAI's format, same run
    "openai": 60.0,
    "litellm": 8.0,
    "linearity": 1.15,
    "peak": 0.3,
    "overhead": 1024.0,
    "many": 1.2,
}
# Consumers run unless --consumers says otherwise; "baseline" needs --baseline REF.
DEFAULT_CONSUMERS = [name for name in CONSUMERS if name != "baseline"]


@dataclass
class Cell:
    """One consumer on one scenario in one slicing: its runs and what was found."""

    scenario: str
    mode: str
    consumer: str
    runs: list[float] = field(default_factory=list)
    check: dict[str, Any] | None = None
    error: str | None = None
    peak: int | None = None
    memory_note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None


class Pool:
    """The worker processes, one per consumer; one request at a time."""

    def __init__(
        self, names: list[str], seed: int, extra_env: dict[str, str] | None = None
    ) -> None:
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", **(extra_env or {}))
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.procs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "benchmarks._worker", name, str(seed)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for name in names
        }
        self.versions: dict[str, str] = {}
        for name in names:
            ready = self._read(name)
            if "error" in ready:
                raise SystemExit(f"worker {name} failed to start:\n{ready['error']}")
            self.versions[name] = ready["version"]

    def _read(self, name: str) -> dict[str, Any]:
        stdout = self.procs[name].stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise SystemExit(f"worker {name} exited")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ask(self, name: str, op: str, **args: Any) -> dict[str, Any]:
        stdin = self.procs[name].stdin
        assert stdin is not None
        stdin.write(json.dumps({"op": op, **args}) + "\n")
        stdin.flush()
        return self._read(name)

    def close(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                with contextlib.suppress(BrokenPipeError, SystemExit):
                    self.ask(name, "quit")
                proc.wait(timeout=30)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    names = [*SCENARIOS, "many"]
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, short budgets")
    p.add_argument(
        "--scenario",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"run only this scenario (repeatable): {', '.join(names)}",
    )
    p.add_argument(
        "--consumers",
        default=",".join(DEFAULT_CONSUMERS),
        help="comma-separated subset of consumers (floor is always run)",
    )
    p.add_argument(
        "--baseline",
        metavar="REF",
        help="also time chunkagg as it was at git commit REF, in the same run (needs git)",
    )
    p.add_argument("--repeat", type=int, default=5, help="runs per consumer and cell (default 5)")
    p.add_argument(
        "--budget",
        type=float,
        default=8.0,
        help="seconds after which a consumer stops repeating one cell (default 8)",
    )
    p.add_argument(
        "--memory-cap",
        type=float,
        default=MEMORY_CAP_S,
        help="skip tracing runs whose timed median exceeds this many seconds (default 2)",
    )
    p.add_argument("--many", type=int, default=10_000, help="accumulators alive at once")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--profile", action="store_true", help="cProfile chunkagg on text-20k")
    p.add_argument("--json", type=Path, help="default: benchmarks/results/latest.json")
    p.add_argument("--chart", type=Path, help="default: benchmarks/results/chart.svg")
    args = p.parse_args(argv)
    consumers = [c.strip() for c in args.consumers.split(",") if c.strip()]
    unknown = set(consumers) - set(CONSUMERS)
    if unknown:
        p.error(f"unknown consumers: {', '.join(sorted(unknown))}")
    if args.baseline and "baseline" not in consumers:
        consumers.append("baseline")
    if "baseline" in consumers and not args.baseline:
        p.error("the baseline consumer needs --baseline REF")
    args.consumers = [c for c in CONSUMERS if c in consumers or c == "floor"]
    if args.quick:
        args.repeat = 1
        args.budget = 1.0
        args.memory_cap = 0.5
        args.many = min(args.many, 2_000)
    # Reduced runs write beside, never over, the committed results of the full default run.
    full = not (args.quick or args.scenario or set(DEFAULT_CONSUMERS) - set(args.consumers))
    args.json = args.json or RESULTS / ("latest.json" if full else "partial.json")
    args.chart = args.chart or RESULTS / ("chart.svg" if full else "partial.svg")
    args.scenario = args.scenario or names
    return args


def _time_cells(
    pool: Pool, cases: dict[str, Case], consumers: list[str], args: argparse.Namespace
) -> list[Cell]:
    # Every repeat visits every cell, and within a cell every consumer, in a rotating order: a
    # burst of noise lands on all cells alike, which keeps cross-cell ratios (linearity) as fair
    # as the ratios within a cell.
    rows: list[list[Cell]] = []
    for name in cases:
        for mode in MODES:
            takers = (
                [c for c in consumers if c not in NO_ONE_BYTE and CONSUMERS[c].takes_bytes]
                if mode == "1-byte"
                else list(consumers)
            )
            rows.append([Cell(name, mode, c) for c in takers])
    for rep in range(args.repeat):
        _log(f"repeat {rep + 1} of {args.repeat}")
        for row in rows:
            k = rep % len(row)
            for cell in row[k:] + row[:k]:
                if cell.error or (cell.runs and sum(cell.runs) >= args.budget):
                    continue
                reply = pool.ask(
                    cell.consumer,
                    "time",
                    scenario=cell.scenario,
                    mode=cell.mode,
                    check=not cell.runs,
                )
                if "error" in reply:
                    cell.error = reply["error"].strip().splitlines()[-1]
                    _log(f"  {cell.consumer} on {cell.scenario}: error: {reply['error']}")
                    continue
                cell.runs.append(reply["seconds"])
                if "check" in reply:
                    cell.check = reply["check"]
    return [cell for row in rows for cell in row]


def _memory(pool: Pool, cells: list[Cell], cap: float) -> None:
    for cell in cells:
        if cell.mode != "network" or cell.median is None:
            if cell.mode != "network":
                cell.memory_note = "not traced in 1-byte slices"
            continue
        if cell.median > cap:
            cell.memory_note = f"not traced: a run takes {cell.median:.1f} s (--memory-cap)"
            continue
        _log(f"memory: {cell.scenario} {cell.consumer}")
        reply = pool.ask(cell.consumer, "memory", scenario=cell.scenario, mode=cell.mode)
        if "error" in reply:
            cell.memory_note = "error"
        else:
            cell.peak = reply["peak"]


def _fmt_check(cell: Cell) -> str:
    if cell.error:
        return "ERROR"
    if cell.check is None:
        return "-"
    errors = cell.check.get("error_count", len(cell.check["errors"]))
    if errors:
        return f"WRONG ({errors})"
    return "ok+extra" if cell.check.get("extras") else "ok"


def _num(value: float | None, spec: str, suffix: str = "") -> str:
    if value is None:
        width = int("".join(itertools.takewhile(str.isdigit, spec)) or 0) + len(suffix)
        return f"{'-':>{width}}"
    return f"{value:{spec}}{suffix}"


def _report(
    cases: dict[str, Case],
    cells: list[Cell],
    many: dict[str, Any] | None,
    args: argparse.Namespace,
) -> tuple[list[str], dict[str, Any]]:
    lines: list[str] = []
    index = {(c.scenario, c.mode, c.consumer): c for c in cells}

    def median(scenario: str, mode: str, consumer: str) -> float | None:
        cell = index.get((scenario, mode, consumer))
        return cell.median if cell and not cell.error else None

    rows = []
    header = (
        f"{'scenario':<9} {'slices':<7} {'consumer':<9} {'runs':>4} {'median ms':>10} "
        f"{'MB/s':>7} {'chunks/s':>9} {'x floor':>8} {'peak/input':>10}  check"
    )
    lines += [header, "-" * len(header)]
    for cell in cells:
        case = cases[cell.scenario]
        med = cell.median if not cell.error else None
        floor = median(cell.scenario, cell.mode, "floor")
        ratio = med / floor if med and floor else None
        peak_ratio = cell.peak / case.size if cell.peak is not None else None
        rows.append(
            {
                "scenario": cell.scenario,
                "mode": cell.mode,
                "consumer": cell.consumer,
                "input": CONSUMERS[cell.consumer].input,
                "runs_s": cell.runs,
                "median_s": med,
                "mb_s": case.size / med / 1e6 if med else None,
                "chunks_s": case.events / med if med else None,
                "ratio_to_floor": ratio,
                "peak_bytes": cell.peak,
                "peak_to_input": peak_ratio,
                "memory_note": cell.memory_note,
                "check": cell.check,
                "error": cell.error,
            }
        )
        lines.append(
            f"{cell.scenario:<9} {cell.mode:<7} {cell.consumer:<9} {len(cell.runs):>4} "
            f"{_num(med and med * 1e3, '10.2f')} {_num(med and case.size / med / 1e6, '7.1f')} "
            f"{_num(med and case.events / med, '9,.0f')} {_num(ratio, '7.2f', 'x')} "
            f"{_num(peak_ratio, '9.3f', 'x')}  {_fmt_check(cell)}"
        )
    notes = sorted({f"{c.consumer}: {c.memory_note}" for c in cells if c.memory_note})
    extras: dict[str, set[str]] = {}
    for cell in cells:
        if cell.check and cell.check.get("extras"):
            extras.setdefault(cell.consumer, set()).update(cell.check["extras"])
    lines.append("")
    lines.append(
        "MB = 10^6 bytes of the SSE stream; chunks = JSON chunk events; x floor = median time /"
        " the floor's median in the same slicing."
    )
    lines.append(
        f"Runs per cell: up to {args.repeat}, fewer once a consumer has spent {args.budget:g} s"
        " on the cell (the peers on the big streams)."
    )
    lines.append(
        "litellm is given the parsed chunk dicts (json.loads done untimed): its time has no"
        " framing or parsing; its peak memory counts those dicts, which it needs all at once."
    )
    lines.append(
        "1-byte slices: openai is not run (already ~100x the floor; it would take minutes),"
        " litellm takes no bytes. Peak memory is traced in network slices only."
    )
    lines += [f"memory: {n}" for n in notes if "1-byte" not in n]
    for consumer, kinds in extras.items():
        lines.append(f"extra keys from {consumer} (not counted wrong): {', '.join(sorted(kinds))}")
    for cell in cells:
        if cell.check and cell.check.get("errors"):
            lines.append(
                f"WRONG {cell.consumer} on {cell.scenario} ({cell.mode}): "
                + "; ".join(cell.check["errors"][:3])
            )
        if cell.error:
            lines.append(f"ERROR {cell.consumer} on {cell.scenario} ({cell.mode}): {cell.error}")

    # chunkagg against each peer, same scenario and slicing.
    speedups = []
    peers = [p for p in PEERS if p in args.consumers]
    if "chunkagg" in args.consumers:
        lines += [
            "",
            "chunkagg against each peer: x floor = chunkagg / floor;"
            " vs PEER = PEER / chunkagg (how many times faster chunkagg is):",
        ]
        head = f"{'scenario':<9} {'slices':<7} {'x floor':>8}" + "".join(
            f" {'vs ' + p:>11}" for p in peers
        )
        lines += [head, "-" * len(head)]
        for name in cases:
            for mode in MODES:
                ours = median(name, mode, "chunkagg")
                if ours is None:
                    continue
                floor = median(name, mode, "floor")
                text = f"{name:<9} {mode:<7} {_num(floor and ours / floor, '7.2f', 'x')}"
                for peer in peers:
                    theirs = median(name, mode, peer)
                    value = theirs / ours if theirs else None
                    text += f" {_num(value, '10.1f', 'x')}"
                    if value is not None:
                        speedups.append(
                            {"scenario": name, "mode": mode, "peer": peer, "speedup": value}
                        )
                lines.append(text)

    # Before and after, in one run: chunkagg against itself at --baseline.
    baseline: dict[str, float] = {}
    if "chunkagg" in args.consumers and "baseline" in args.consumers:
        lines += ["", f"chunkagg / chunkagg at {args.baseline} (same run; below 1 is faster now):"]
        for name in cases:
            for mode in MODES:
                now, then = median(name, mode, "chunkagg"), median(name, mode, "baseline")
                if now and then:
                    baseline[f"{name}/{mode}"] = now / then
                    lines.append(f"  {name:<10} {mode:<7} {now / then:6.3f}x")

    # Bytes in to JSON out, what a logging proxy pays: against the floor, and against plain.
    json_cost: dict[str, dict[str, float]] = {}
    if "chunkagg" in args.consumers and "chunkagg-json" in args.consumers:
        lines += ["", "Bytes in to finalize().to_json() out, x floor (and / plain chunkagg):"]
        for name in cases:
            for mode in MODES:
                plain = median(name, mode, "chunkagg")
                out = median(name, mode, "chunkagg-json")
                floor = median(name, mode, "floor")
                if plain and out and floor:
                    json_cost[f"{name}/{mode}"] = {"floor": out / floor, "plain": out / plain}
                    lines.append(
                        f"  {name:<10} {mode:<7} {out / floor:6.2f}x the floor"
                        f" ({out / plain:.2f}x plain)"
                    )

    # The cost of live-UI events: chunkagg-events against plain chunkagg.
    events_cost: dict[str, float] = {}
    if "chunkagg" in args.consumers and "chunkagg-events" in args.consumers:
        lines += ["", "Live-UI events (track=True, events taken after each feed) / plain chunkagg:"]
        for name in cases:
            for mode in MODES:
                plain = median(name, mode, "chunkagg")
                tracked = median(name, mode, "chunkagg-events")
                if plain and tracked:
                    events_cost[f"{name}/{mode}"] = tracked / plain
                    lines.append(f"  {name:<9} {mode:<7} {tracked / plain:6.2f}x")

    # Linearity: time per chunk at 20,000 chunks against 1,000.
    linearity: dict[str, Any] = {}
    if "text-1k" in cases and "text-20k" in cases:
        lines += ["", "Linearity: time per chunk, text-20k / text-1k (1.00 = linear):"]
        for consumer in ("chunkagg", "floor"):
            for mode in MODES:
                small = median("text-1k", mode, consumer)
                big = median("text-20k", mode, consumer)
                if small and big:
                    per_small = small / cases["text-1k"].events
                    per_big = big / cases["text-20k"].events
                    linearity[f"{consumer}/{mode}"] = {
                        "per_chunk_1k_us": per_small * 1e6,
                        "per_chunk_20k_us": per_big * 1e6,
                        "ratio": per_big / per_small,
                    }
                    lines.append(
                        f"  {consumer:<9} {mode:<7} {per_small * 1e6:8.2f} us -> "
                        f"{per_big * 1e6:8.2f} us per chunk: {per_big / per_small:.2f}x"
                    )

    if many:
        lines += [
            "",
            f"Many accumulators: {many['accumulators']:,} alive at once, streams of "
            f"{many['stream_bytes']:,} bytes ({many['check']}):",
            f"  memory per accumulator before any data: {many['bytes_per_accumulator_empty']:,.0f}"
            f" B; after its first read: {many['bytes_per_accumulator_after_first_read']:,.0f} B",
            f"  fed interleaved: {many['interleaved_median_s'] * 1e3:.0f} ms"
            f" ({many['interleaved_mb_s']:.1f} MB/s);"
            f" each alone: {many['alone_median_s'] * 1e3:.0f} ms"
            f" ({many['alone_mb_s']:.1f} MB/s); ratio {many['ratio']:.2f}x"
            f" (median of {len(many['alone_s'])})",
        ]

    targets = _targets(cases, median, linearity, index, many, baseline, args)
    if targets:
        lines += ["", "Targets (docs/performance.md):"]
        for t in targets:
            verdict = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
            lines.append(f"  {verdict} {t['target']}: {t['detail']}")
    return lines, {
        "results": rows,
        "speedups": speedups,
        "baseline": {"ref": args.baseline, "ratios": baseline} if baseline else None,
        "json_cost": json_cost,
        "events_cost": events_cost,
        "linearity": linearity,
        "many": many,
        "targets": targets,
    }


def _targets(
    cases: dict[str, Case],
    median: Any,
    linearity: dict[str, Any],
    index: dict[tuple[str, str, str], Cell],
    many: dict[str, Any] | None,
    baseline: dict[str, float],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if "chunkagg" not in args.consumers:
        return out

    def add(target: str, met: bool | None, detail: str, value: float | None = None) -> None:
        out.append({"target": target, "met": met, "value": value, "detail": detail})

    def worst(
        mode: str, peer: str, highest: bool, names: tuple[str, ...] = OPENAI_SCENARIOS
    ) -> tuple[float, str] | None:
        values = []
        for name in (n for n in cases if n in names):
            ours, theirs = median(name, mode, "chunkagg"), median(name, mode, peer)
            if ours and theirs:
                values.append((ours / theirs if peer == "floor" else theirs / ours, name))
        if not values:
            return None
        return max(values) if highest else min(values)

    def wrong(name: str, peer: str) -> str:
        cell = index.get((name, "network", peer))
        if cell and cell.check and cell.check.get("errors"):
            return f"; {peer}'s result is wrong there: {cell.check['errors'][0]}"
        return ""

    limit = TARGETS["floor"]
    for mode in MODES:
        w = worst(mode, "floor", highest=True)
        if w:
            add(
                f"chunkagg <= {limit}x the floor, OpenAI's format, {mode} slices",
                w[0] <= limit,
                f"worst {w[0]:.2f}x ({w[1]})",
                w[0],
            )
    limit = TARGETS["floor-extensions"]
    extended = tuple(n for n in SCENARIOS if n not in OPENAI_SCENARIOS)
    for mode in MODES:
        w = worst(mode, "floor", highest=True, names=extended)
        if w:
            add(
                f"chunkagg <= {limit}x the floor with extensions or unknown fields, {mode} slices",
                w[0] <= limit,
                f"worst {w[0]:.2f}x ({w[1]})",
                w[0],
            )
    limit = TARGETS["baseline"]
    before = [(v, k) for k, v in baseline.items() if k.split("/")[0] in OPENAI_SCENARIOS]
    if before:
        value, where = max(before)
        add(
            f"OpenAI's format no slower than {limit}x chunkagg at {args.baseline}, same run",
            value <= limit,
            f"worst {value:.3f}x ({where})",
            value,
        )
    for peer in ("openai", "litellm"):
        limit = TARGETS[peer]
        w = worst("network", peer, highest=False)
        if w:
            add(
                f">= {limit:g}x faster than {peer}, every scenario",
                w[0] >= limit,
                f"least {w[0]:.1f}x ({w[1]}{wrong(w[1], peer)})",
                w[0],
            )
    limit = TARGETS["linearity"]
    for mode in MODES:
        lin = linearity.get(f"chunkagg/{mode}")
        if lin:
            add(
                f"linear: per chunk at 20k within {limit}x of 1k, {mode} slices",
                lin["ratio"] <= limit,
                f"{lin['ratio']:.2f}x",
                lin["ratio"],
            )
    cell = index.get(("text-20k", "network", "chunkagg"))
    if cell and cell.peak is not None:
        ratio = cell.peak / cases["text-20k"].size
        limit = TARGETS["peak"]
        add(
            f"peak memory <= {limit}x the input on text-20k",
            ratio <= limit,
            f"{ratio:.3f}x ({cell.peak / 1e6:.2f} MB for {cases['text-20k'].size / 1e6:.2f} MB)",
            ratio,
        )
    if many:
        per = many["bytes_per_accumulator_empty"]
        add(
            f"per-accumulator overhead < {TARGETS['overhead'] / 1024:g} KiB before any data",
            per < TARGETS["overhead"],
            f"{per:,.0f} B",
            per,
        )
        add(
            f"{many['accumulators']:,} interleaved within {TARGETS['many']}x of one stream alone",
            many["ratio"] <= TARGETS["many"],
            f"{many['ratio']:.2f}x",
            many["ratio"],
        )
    return out


def _chart(cells: list[Cell], cases: dict[str, Case], meta: dict[str, Any]) -> str:
    index = {(c.scenario, c.mode, c.consumer): c for c in cells}
    groups = []
    for name in cases:
        for mode in MODES:
            floor = index.get((name, mode, "floor"))
            if not floor or not floor.median:
                continue
            bars = []
            for consumer in ("chunkagg", *PEERS):
                cell = index.get((name, mode, consumer))
                if cell and cell.median and not cell.error:
                    bars.append((consumer, cell.median / floor.median))
            if bars:
                groups.append({"label": f"{name} · {mode}", "bars": bars})
    versions = meta["versions"]
    subtitle = [
        f"network = reads of 1 to {MAX_SLICE:,} bytes; 1-byte = one byte per feed() call;"
        " medians of one interleaved run",
        f"{meta['date'][:10]}, Python {meta['python']}, {meta['cpus']} CPUs;"
        f" chunkagg {versions.get('chunkagg', '?')}, openai {versions.get('openai', '?')},"
        f" litellm {versions.get('litellm', '?')}",
    ]
    notes = [
        "floor: incremental SSE framing + msgspec.json.decode of each chunk into generic objects,"
        " no merge.",
        "naive: split on blank lines, json.loads, dict merge with +=.",
        "openai: the SDK's Stream (SSEDecoder, ChatCompletionChunk) under ChatCompletionStream"
        " (ChatCompletionStreamState); not run in 1-byte slices.",
        "litellm: stream_chunk_builder given chunk dicts parsed beforehand (framing and parsing"
        " not timed).",
    ]
    wrong = sorted(
        {
            f"{c.consumer} on {c.scenario} ({c.check['errors'][0]})"
            for c in cells
            if c.check and c.check.get("errors")
        }
    )
    if wrong:
        notes.append("Wrong results (timed all the same): " + "; ".join(wrong) + ".")
    notes.append("Reproduce: python -m benchmarks (all numbers: benchmarks/results/latest.json).")
    return render_svg(
        groups,
        "Time from bytes to final completion, relative to the floor",
        subtitle,
        notes,
    )


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    started = time.perf_counter()
    scenarios = [s for s in args.scenario if s in SCENARIOS]
    cases = {name: make_case(name, args.seed) for name in scenarios}
    names = list(args.consumers) if scenarios else []
    if "many" in args.scenario and "chunkagg" not in names:
        names.append("chunkagg")
    _log(f"starting workers: {', '.join(names)}")
    with contextlib.ExitStack() as stack:
        extra_env = {}
        if args.baseline:
            extra_env = {
                "CHUNKAGG_BASELINE": _checkout(args.baseline, stack),
                "CHUNKAGG_BASELINE_REF": args.baseline,
            }
        pool = Pool(names, args.seed, extra_env)
        cells, many, profile = _measure(pool, cases, scenarios, args)
    elapsed = time.perf_counter() - started
    _write(args, cases, cells, many, profile, pool.versions, elapsed, argv)


def _checkout(ref: str, stack: contextlib.ExitStack) -> str:
    """The chunkagg package as it was at git commit ``ref``, in a temporary directory."""
    import tarfile
    import tempfile

    root = Path(__file__).resolve().parent.parent
    where = stack.enter_context(tempfile.TemporaryDirectory(prefix="chunkagg-baseline-"))
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", ref, "chunkagg"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def _measure(
    pool: Pool, cases: dict[str, Case], scenarios: list[str], args: argparse.Namespace
) -> tuple[list[Cell], dict[str, Any] | None, str | None]:
    try:
        cells = _time_cells(pool, cases, args.consumers, args) if scenarios else []
        _memory(pool, cells, args.memory_cap)
        many = None
        if "many" in args.scenario:
            _log(f"many: {args.many:,} accumulators")
            reply = pool.ask("chunkagg", "many", count=args.many, repeat=max(3, args.repeat))
            many = None if "error" in reply else reply
            if many is None:
                _log(reply["error"])
        profile = None
        if args.profile:
            _log("profile: chunkagg on text-20k, network slices")
            profile = pool.ask("chunkagg", "profile", scenario="text-20k", top=15).get("text")
    finally:
        pool.close()
    return cells, many, profile


def _write(
    args: argparse.Namespace,
    cases: dict[str, Case],
    cells: list[Cell],
    many: dict[str, Any] | None,
    profile: str | None,
    versions: dict[str, str],
    elapsed: float,
    argv: list[str] | None,
) -> None:
    meta = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "seed": args.seed,
        "argv": sys.argv[1:] if argv is None else argv,
        "repeat": args.repeat,
        "budget_s": args.budget,
        "max_slice": MAX_SLICE,
        "versions": versions,
        "baseline": args.baseline,
        "elapsed_s": elapsed,
    }
    lines, report = _report(cases, cells, many, args)
    if profile:
        lines += ["", "cProfile, chunkagg on text-20k (network slices), by own time:", profile]
    lines += [
        "",
        f"Whole run: {elapsed:.0f} s. Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v),
    ]
    print("\n".join(lines))

    scenario_info = {
        name: {"description": c.description, "bytes": c.size, "chunks": c.events}
        for name, c in cases.items()
    }
    document = {"meta": meta, "scenarios": scenario_info, **report, "profile": profile}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    if cells:
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        args.chart.write_text(_chart(cells, cases, meta), encoding="utf-8")
        print(f"wrote {args.chart}")


if __name__ == "__main__":
    main()
