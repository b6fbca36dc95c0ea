"""The command line: ``chunkagg FILE|-`` prints the merged completion as JSON.

The only module that does I/O. It reads the stream in blocks, feeds an ``Accumulator`` and writes
the completion (or a clear error and a non-zero exit) when the input ends.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import BinaryIO

import msgspec
import orjson

from ._accumulator import Accumulator
from ._errors import ChunkAggError

__all__ = ["main"]

_BLOCK = 1 << 16
_PROGRESS_EVERY = 8 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chunkagg",
        description="Merge a streamed chat completion (SSE or NDJSON) into the final completion.",
    )
    parser.add_argument("file", help="the raw stream body: a file path, or - for stdin")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON output")
    parser.add_argument(
        "--ndjson", action="store_true", help="read one JSON chunk per line (default: detect)"
    )
    parser.add_argument(
        "--stats", action="store_true", help="print chunk count, bytes and time to stderr"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="print the live events (one JSON object per line) before the completion",
    )
    return parser


class _Progress:
    """A progress line on stderr for large inputs, only when stderr is a terminal."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.shown = False
        self.next = _PROGRESS_EVERY
        self.enabled = sys.stderr.isatty()

    def update(self, size: int, chunks: int) -> None:
        if not self.enabled or size < self.next:
            return
        self.next = size + _PROGRESS_EVERY
        of = f" of {self.total / 1e6:.1f} MB" if self.total else ""
        sys.stderr.write(f"\rchunkagg: {size / 1e6:.1f} MB{of}, {chunks} chunks")
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _run(source: BinaryIO, acc: Accumulator, args: argparse.Namespace) -> tuple[int, int]:
    chunks = size = 0
    read = source.read
    total = os.fstat(source.fileno()).st_size if args.file != "-" else None
    progress = _Progress(total)
    write = sys.stdout.buffer.write
    try:
        while block := read(_BLOCK):
            size += len(block)
            chunks += len(acc.feed(block))
            if args.events:
                for event in acc.take_events():
                    write(msgspec.json.encode(event) + b"\n")
            progress.update(size, chunks)
    finally:
        progress.close()
    return chunks, size


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 for a bad stream, 2 for bad usage)."""
    args = _parser().parse_args(argv)
    acc = Accumulator(format="ndjson" if args.ndjson else "auto", track=args.events)
    start = time.perf_counter()
    try:
        if args.file == "-":
            chunks, size = _run(sys.stdin.buffer, acc, args)
        else:
            with open(args.file, "rb") as source:
                chunks, size = _run(source, acc, args)
        completion = acc.finalize()
        if args.events:
            for event in acc.take_events():
                sys.stdout.buffer.write(msgspec.json.encode(event) + b"\n")
    except OSError as exc:
        print(f"chunkagg: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ChunkAggError as exc:
        print(f"chunkagg: {args.file}: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    option = orjson.OPT_INDENT_2 if args.pretty else 0
    sys.stdout.buffer.write(orjson.dumps(completion.to_dict(), option=option) + b"\n")
    if args.stats:
        print(
            f"chunkagg: {chunks} chunks, {size} bytes, {acc.event_count} events, "
            f"{elapsed * 1000:.1f} ms, done={acc.done}",
            file=sys.stderr,
        )
    return 0
