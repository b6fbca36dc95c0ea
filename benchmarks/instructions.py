"""``python -m benchmarks.instructions``: instruction counts of the benchmark streams (callgrind).

Measures, for each stream of the four benchmarks (chat ``_data``, ``completions``, ``responses``,
``messages``) fed in network-like slices and one byte at a time, the instructions CPython executes
from the first byte in to the final result out, under ``valgrind --tool=callgrind`` with
``PYTHONHASHSEED=0``. Wall time on a shared machine moves by 1.5x between runs; these counts repeat
to a fraction of a percent, so they are what the speed targets are judged by.

Each count is the difference of two processes that do the same work up to the measured part:
both import the package, read the slices from a file and run the stream once (warming up what a
process does once: lazy imports, the Structs derived for a stream's extensions, compiled
merges); only the second runs it again. So a count is the steady cost of one stream (``--cold``:
without the warm-up run, one-time costs included). Consumers: ``chunkagg`` (the format's
accumulator, through public names only, so any checkout can be measured), ``json`` (the same,
then ``to_json()``) and ``floor`` (incremental framing plus a generic ``msgspec.json.decode`` of
every event, no merge: the chat benchmark's ``_consumers.Floor``).

``--source DIR`` (repeatable) measures the ``chunkagg`` package found in ``DIR`` (a checkout or a
``git worktree`` of another commit) beside this one, in the same run; the table gives each count
and its ratio to the first source's. Needs valgrind on ``PATH``. Two processes run at a time.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("chat", "completions", "responses", "messages")
MODES = ("network", "1-byte")
CONSUMERS = ("chunkagg", "json", "floor")
# One byte at a time costs ~25x a network-sliced run: the biggest stream is skipped there.
SKIP_ONE_BYTE = {("chat", "text-20k")}

# The child: imports, inputs and objects in both runs; the measured work in the second only.
_CHILD = r"""
import sys
source, fmt, consumer, path, measured, root, warm = sys.argv[1:8]
sys.path.insert(0, source)
sys.path.insert(1, root)
import msgspec
import chunkagg
slices = msgspec.msgpack.decode(open(path, "rb").read(), type=list[bytes])
if consumer == "floor":
    if fmt == "responses":
        from benchmarks.responses import Floor
    elif fmt == "messages":
        from benchmarks.messages import Floor
    else:
        from benchmarks._consumers import Floor
    floor = Floor()

    def run():
        floor.run(slices)

else:
    new = getattr(chunkagg, {
        "chat": "Accumulator",
        "completions": "CompletionAccumulator",
        "responses": "ResponseAccumulator",
        "messages": "MessageAccumulator",
    }[fmt])  # by name: an older checkout lacks the newer formats

    def run():
        acc = new()
        feed = acc.feed
        for data in slices:
            feed(data)
        result = acc.finalize()
        if consumer == "json":
            result.to_json()

for _ in range(int(warm) + int(measured)):
    run()
"""


@dataclass(frozen=True)
class Job:
    source: str
    fmt: str
    scenario: str
    mode: str
    consumer: str
    path: str


def _streams(formats: list[str], modes: list[str]) -> dict[tuple[str, str, str], bytes]:
    from . import completions, messages, responses
    from ._data import SCENARIOS, make_case, network_slices, one_byte_slices

    streams: dict[tuple[str, str], bytes] = {}
    if "chat" in formats:
        for name in SCENARIOS:
            streams["chat", name] = make_case(name).data
    if "completions" in formats:
        for name in completions.SCENARIOS:
            streams["completions", name] = completions.make_stream(name).data
    if "responses" in formats:
        for name in responses.SCENARIOS:
            streams["responses", name] = responses.make_case(name).data
    if "messages" in formats:
        for name in messages.SCENARIOS:
            streams["messages", name] = messages.make_case(name).data
    out: dict[tuple[str, str, str], bytes] = {}
    for (fmt, name), data in streams.items():
        for mode in modes:
            if mode == "1-byte" and (fmt, name) in SKIP_ONE_BYTE:
                continue
            slices = one_byte_slices(data) if mode == "1-byte" else network_slices(data, 1, name)
            out[fmt, name, mode] = msgspec.msgpack.encode(slices)
    return out


def _count(job: Job, measured: bool, warm: bool) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-c",
        _CHILD,
        job.source,
        job.fmt,
        job.consumer,
        job.path,
        "1" if measured else "0",
        str(ROOT),
        "1" if warm else "0",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"{job}: callgrind failed\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _measure(job: Job, warm: bool) -> int:
    return _count(job, True, warm) - _count(job, False, warm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--source", action="append", help="a directory holding chunkagg/")
    parser.add_argument("--format", action="append", choices=FORMATS)
    parser.add_argument("--mode", action="append", choices=MODES)
    parser.add_argument("--consumer", action="append", choices=CONSUMERS)
    parser.add_argument("--scenario", action="append", help="only these streams (any format)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="count one-time costs too")
    parser.add_argument(
        "--one-byte", nargs="*", default=None, metavar="STREAM", help="1-byte mode only for these"
    )
    parser.add_argument("--json", type=Path, help="write the counts here")
    args = parser.parse_args(argv)
    sources = [str(Path(s).resolve()) for s in args.source or [str(ROOT)]]
    formats = args.format or list(FORMATS)
    modes = args.mode or list(MODES)
    consumers = args.consumer or ["chunkagg", "floor"]

    with tempfile.TemporaryDirectory() as tmp:
        jobs: list[Job] = []
        for (fmt, name, mode), blob in _streams(formats, modes).items():
            if args.scenario and name not in args.scenario:
                continue
            if mode == "1-byte" and args.one_byte is not None and name not in args.one_byte:
                continue
            path = os.path.join(tmp, f"{fmt}-{name}-{mode}.msgpack")
            Path(path).write_bytes(blob)
            for consumer in consumers:
                if consumer == "floor" and mode != "network":
                    continue  # the floor in network slices only
                for source in sources if consumer != "floor" else sources[:1]:
                    jobs.append(Job(source, fmt, name, mode, consumer, path))
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            measure = functools.partial(_measure, warm=not args.cold)
            counts = dict(zip(jobs, pool.map(measure, jobs), strict=True))

    rows: list[dict[str, Any]] = []
    for job, count in counts.items():
        rows.append(
            {
                "source": job.source,
                "format": job.fmt,
                "scenario": job.scenario,
                "mode": job.mode,
                "consumer": job.consumer,
                "instructions": count,
            }
        )
    _print(rows, sources)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


def _print(rows: list[dict[str, Any]], sources: list[str]) -> None:
    by_key = {(r["source"], r["format"], r["scenario"], r["mode"], r["consumer"]): r for r in rows}
    cells = sorted({(r["format"], r["scenario"], r["mode"], r["consumer"]) for r in rows})
    names = [Path(s).name or s for s in sources]
    head = ["format", "stream", "mode", "consumer", *names]
    if len(sources) > 1:
        head += [f"{n} / {names[0]}" for n in names[1:]]
    head.append("/ floor")
    print(" | ".join(head))
    for fmt, scenario, mode, consumer in cells:
        if consumer == "floor":
            continue
        counts = [by_key.get((s, fmt, scenario, mode, consumer)) for s in sources]
        line = [fmt, scenario, mode, consumer]
        line += [f"{c['instructions'] / 1e6:.2f}M" if c else "-" for c in counts]
        first = counts[0]["instructions"] if counts[0] else None
        for c in counts[1:]:
            line.append(f"{c['instructions'] / first:.4f}" if c and first else "-")
        floor = by_key.get((sources[0], fmt, scenario, mode, "floor"))
        line.append(f"{first / floor['instructions']:.3f}x" if floor and first else "")
        print(" | ".join(line))


if __name__ == "__main__":
    raise SystemExit(main())
