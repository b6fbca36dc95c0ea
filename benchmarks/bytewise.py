"""``python -m benchmarks.bytewise``: is one-byte feeding linear for every stream shape?

Feeds streams of several shapes one byte per ``feed()`` call at two sizes (12x apart) and prints
the time per byte at each size and their ratio: about 1.0 is linear, while re-scanning or copying
the buffer on every call (quadratic) shows as a ratio near 12. The shapes cover each framing path:
many small events (LF and CRLF fast paths), one huge event (LF, CRLF, lone CR: the line path and
the wait for a first line ending), and one huge NDJSON line. CPU time of this process is used, so
other processes on a shared machine count less; the ratio is still what to read.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import orjson

import chunkagg


def _chunk(content: str) -> bytes:
    return orjson.dumps({"id": "c", "choices": [{"index": 0, "delta": {"content": content}}]})


def _many_events(size: int, eol: bytes) -> bytes:
    body = b"data: " + _chunk("h\u00e9llo \U0001f600 w") + eol + eol
    return body * (size // len(body))


def _one_big_event(size: int, eol: bytes) -> bytes:
    return b"data: " + _chunk("\u00e9" * (size // 2)) + eol + eol


def _ndjson_big_line(size: int, eol: bytes) -> bytes:
    return _chunk("\u00e9" * (size // 2)) + eol


SHAPES: dict[str, tuple[Callable[[int, bytes], bytes], bytes]] = {
    "events-LF": (_many_events, b"\n"),
    "events-CRLF": (_many_events, b"\r\n"),
    "big-LF": (_one_big_event, b"\n"),
    "big-CRLF": (_one_big_event, b"\r\n"),
    "big-CR": (_one_big_event, b"\r"),
    "ndjson": (_ndjson_big_line, b"\n"),
}


def _seconds(stream: bytes, repeat: int) -> float:
    pieces = [stream[i : i + 1] for i in range(len(stream))]
    best = float("inf")
    for _ in range(repeat):
        acc = chunkagg.Accumulator()
        feed = acc.feed
        start = time.process_time()
        for piece in pieces:
            feed(piece)
        acc.finalize()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    """Print ns per byte at both sizes and the ratio, per shape."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bytewise", description=__doc__)
    parser.add_argument("--small", type=int, default=50_000, help="bytes of the small stream")
    parser.add_argument("--factor", type=int, default=12, help="the large stream is this x")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'shape':<12} {'ns/B small':>11} {'ns/B large':>11} {'ratio':>6}")
    for name, (shape, eol) in SHAPES.items():
        small = shape(args.small, eol)
        large = shape(args.small * args.factor, eol)
        per_small = _seconds(small, args.repeat) / len(small)
        per_large = _seconds(large, max(1, args.repeat - 1)) / len(large)
        print(
            f"{name:<12} {per_small * 1e9:11.0f} {per_large * 1e9:11.0f}"
            f" {per_large / per_small:6.2f}"
        )


if __name__ == "__main__":
    main()
