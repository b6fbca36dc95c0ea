"""The command line: ``chunkagg FILE|-`` prints the merged completion as JSON.

The only module that does I/O. It reads the stream in blocks, feeds an accumulator (the format
told by the first event, or the one ``--api`` names) and writes
the completion (or a clear error and a non-zero exit) when the input ends. Every input gets a
message and an exit status: 0 merged, 1 a bad stream (or, with ``--keep-going``, faults skipped),
2 an unreadable input, an output that cannot be written, or bad usage. A reader that leaves
before the output is all written (``chunkagg ... | head``) ends it quietly with status 1: 0 only
when every byte of the output was written.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import msgspec

from ._auto import ACCUMULATORS, AutoAccumulator
from ._core.stream import SupportsAccumulate
from ._errors import ChunkAggError, ChunkError, EmptyStreamError
from ._responses import ResponseAccumulator

__all__ = ["main"]

_BLOCK = 1 << 16
_PROGRESS_EVERY = 8 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chunkagg",
        description=(
            "Merge a streamed chat completion, legacy completion or Responses API stream (SSE or "
            "NDJSON) into its final object."
        ),
    )
    parser.add_argument("file", help="the raw stream body: a file path, or - for stdin")
    parser.add_argument(
        "--api",
        choices=("auto", "chat", "completions", "responses", "messages"),
        default="auto",
        help="the stream's format (default: told by its first event; chat if none tells)",
    )
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
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="skip bad events (each reported on stderr) and print what merged; exit 1 if any",
    )
    from . import __version__  # the package root imports this module's siblings first

    parser.add_argument("--version", action="version", version=f"chunkagg {__version__}")
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


_Acc = SupportsAccumulate[Any, Any]


def _accumulator(args: argparse.Namespace) -> _Acc:
    options: dict[str, Any] = {"format": "ndjson" if args.ndjson else "auto", "track": args.events}
    cls = ACCUMULATORS.get(args.api, AutoAccumulator)
    return cls(**options)


class _OutputError(Exception):
    """Standard output cannot be written (closed, full): not the input's fault."""


def _writer() -> Callable[[bytes], None]:
    """``sys.stdout``'s binary ``write``, every byte or an exception: ``_OutputError`` (a
    reader that left, a ``BrokenPipeError``, passes through)."""
    stdout = sys.stdout
    if stdout is None:
        raise _OutputError("standard output is closed")
    buffer = stdout.buffer

    def write(data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                # Under PYTHONUNBUFFERED=1 (or python -u) sys.stdout.buffer is the raw file,
                # whose write() may take part of the bytes and say how many: a reader that
                # left mid-write, a disk that filled up, a signal. The rest is written again,
                # and that write says what went wrong; a buffered writer takes them all.
                written = buffer.write(view)
                if written:
                    view = view[written:]
                else:  # None: a non-blocking output is full; wait until it drains
                    select.select([], [buffer.fileno()], [])
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _OutputError(exc.strerror or str(exc)) from exc

    return write


def _flush() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputError(exc.strerror or str(exc)) from exc


def _reader_left() -> int:
    # The reader of our output left before it was all written (`chunkagg ... | head`): stop
    # quietly, as command-line tools do, and keep the interpreter's last flush from reporting
    # it again. Status 1, as Python's documentation does it (a tool killed by SIGPIPE gets 141
    # from the shell): the output was not all delivered, so never 0, which says it was.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is no real file (a test's capture)
    return 1


def _run(
    source: BinaryIO, acc: _Acc, args: argparse.Namespace, write: Callable[[bytes], None]
) -> tuple[int, int]:
    chunks = size = 0
    read = source.read
    total = os.fstat(source.fileno()).st_size if args.file != "-" else None
    progress = _Progress(total)
    try:
        while block := read(_BLOCK):
            size += len(block)
            chunks += _feed(acc, block, args)
            if args.events:
                for event in acc.take_events():
                    write(msgspec.json.encode(event) + b"\n")
            progress.update(size, chunks)
    finally:
        progress.close()
    return chunks, size


def _feed(acc: _Acc, block: bytes, args: argparse.Namespace) -> int:
    """Feed one block; with ``--keep-going``, report each bad event and go on."""
    chunks = 0
    while True:
        try:
            return chunks + len(acc.feed(block))
        except ChunkAggError as exc:
            if not args.keep_going:
                raise
            chunks += len(exc.chunks)
            _fault(args, exc)
            block = b""


def _finalize(acc: _Acc, args: argparse.Namespace) -> Any:
    while True:
        try:
            return acc.finalize()
        except EmptyStreamError:
            raise  # there is nothing to print, keep going or not
        except ChunkAggError as exc:
            if not args.keep_going:
                raise
            _fault(args, exc)


def _fault(args: argparse.Namespace, exc: ChunkAggError) -> None:
    args.faults += 1
    print(f"chunkagg: {args.file}: skipped: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 for a bad stream, 2 for bad usage)."""
    args = _parser().parse_args(argv)
    args.faults = 0
    acc = _accumulator(args)
    try:
        return _main(args, acc)
    except BrokenPipeError:
        return _reader_left()
    except _OutputError as exc:
        print(f"chunkagg: cannot write the output: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, acc: _Acc) -> int:
    write = _writer()
    start = time.perf_counter()
    try:
        if args.file == "-":
            if sys.stdin is None:
                raise OSError("standard input is closed")
            chunks, size = _run(sys.stdin.buffer, acc, args, write)
        else:
            with open(args.file, "rb") as source:
                chunks, size = _run(source, acc, args, write)
        completion = _finalize(acc, args)
        if args.events:
            for event in acc.take_events():
                write(msgspec.json.encode(event) + b"\n")
    except BrokenPipeError:
        raise  # the output's reader left: not a read error
    except OSError as exc:
        print(f"chunkagg: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ChunkAggError as exc:
        print(f"chunkagg: {args.file}: {exc}", file=sys.stderr)
        hint = _hint(exc)
        if hint:
            print(f"chunkagg: {hint}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    # msgspec writes integers of any size (a "created" past 64 bits), where orjson refuses.
    out = completion.to_json()
    write((msgspec.json.format(out, indent=2) if args.pretty else out) + b"\n")
    _flush()
    inner = acc.inner if isinstance(acc, AutoAccumulator) else acc
    for disagreement in getattr(inner, "disagreements", ()):
        # The final payload won; what the deltas built is still worth a look.
        print(f"chunkagg: {args.file}: warning: {disagreement} (kept)", file=sys.stderr)
    if isinstance(inner, ResponseAccumulator) and inner.terminal is None:
        print(
            f"chunkagg: {args.file}: warning: the stream ended before its terminal event "
            "(response.completed, .incomplete or .failed): the response is what its events "
            "built",
            file=sys.stderr,
        )
    if args.stats:
        print(
            f"chunkagg: {chunks} chunks, {size} bytes, {acc.event_count} events, "
            f"{elapsed * 1000:.1f} ms, done={acc.done}, skipped={args.faults}",
            file=sys.stderr,
        )
    return 1 if args.faults else 0


def _hint(exc: ChunkAggError) -> str:
    """What to try next, for the inputs people most often hand over by mistake."""
    if isinstance(exc, EmptyStreamError):
        if "HTML" in exc.reason:
            return "that is likely an error page from a proxy or a server: check the status"
        if not exc.received:
            return "the input is empty: was the response read already, or not streamed?"
        return (
            "chunkagg reads the body of a streamed chat completion, legacy completion, "
            "Responses API or Anthropic Messages call (SSE or NDJSON)"
        )
    for name, api in (
        ("chunkagg.CompletionAccumulator", "completions"),
        ("chunkagg.ResponseAccumulator", "responses"),
        ("chunkagg.MessageAccumulator", "messages"),
        ("chunkagg.Accumulator", "chat"),
    ):
        if isinstance(exc, ChunkError) and name in exc.reason:
            return f"read it with --api {api}, or without --api to let the first event tell"
    if isinstance(exc, ChunkError) and "include none that a" in exc.reason:
        return (
            "that JSON is not a chat completion, legacy completion, Responses API or "
            "Anthropic Messages event (an error body of another API?)"
        )
    return ""
