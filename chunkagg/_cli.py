"""The command line: ``chunkagg FILE|-`` prints the merged completion as JSON.

The only module that does I/O. It reads the stream in blocks, feeds an ``Accumulator`` and writes
the completion (or a clear error and a non-zero exit) when the input ends.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from ._accumulator import Accumulator
from ._errors import ChunkAggError

__all__ = ["main"]

_BLOCK = 1 << 16


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
    return parser


def _run(source: BinaryIO, acc: Accumulator) -> tuple[int, int]:
    chunks = size = 0
    read = source.read
    while block := read(_BLOCK):
        size += len(block)
        chunks += len(acc.feed(block))
    return chunks, size


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 for a bad stream, 2 for bad usage)."""
    args = _parser().parse_args(argv)
    acc = Accumulator(format="ndjson" if args.ndjson else "auto")
    start = time.perf_counter()
    try:
        if args.file == "-":
            chunks, size = _run(sys.stdin.buffer, acc)
        else:
            with open(args.file, "rb") as source:
                chunks, size = _run(source, acc)
        completion = acc.finalize()
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
