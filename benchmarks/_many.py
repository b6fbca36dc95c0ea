"""Many accumulators alive at once, as a gateway holds one per concurrent stream.

Measures, for ``count`` chunkagg accumulators (10,000 by default):

- memory per accumulator before any data: ``tracemalloc``'s current size after creating them,
  less the caller's list that holds them, divided by ``count``; and again once each has been fed
  its first read (a partial event buffered, a choice open);
- throughput when they are fed interleaved (one read to each in turn, round-robin, until all
  are done) against the same streams fed one at a time, each alone from start to finish. Both
  runs create the accumulators, feed the same slices and call ``finalize()`` on every one, and
  they alternate, so the ratio compares like with like in the same noise.

The streams are short (32 content chunks, about 10 kB) and cut into network-like reads; 64
distinct streams are reused round-robin so the inputs need not hold 10,000 copies.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from typing import Any

import chunkagg

from ._data import make_case, network_slices

__all__ = ["measure"]

_POOL = 64


def _interleaved(streams: list[list[bytes]]) -> list[Any]:
    accs = [chunkagg.Accumulator() for _ in streams]
    feeds = [acc.feed for acc in accs]
    depth = max(len(s) for s in streams)
    for step in range(depth):
        for feed, slices in zip(feeds, streams, strict=True):
            if step < len(slices):
                feed(slices[step])
    return [acc.finalize() for acc in accs]


def _alone(streams: list[list[bytes]]) -> list[Any]:
    out = []
    for slices in streams:
        acc = chunkagg.Accumulator()
        feed = acc.feed
        for data in slices:
            feed(data)
        out.append(acc.finalize())
    return out


def measure(count: int, seed: int, repeat: int) -> dict[str, Any]:
    """Run the measurements above; returns a dict ready for the JSON report."""
    cases = [make_case("small", seed, v) for v in range(_POOL)]
    pool = [network_slices(c.data, seed, f"many/{v}") for v, c in enumerate(cases)]
    streams = [pool[i % _POOL] for i in range(count)]
    total = sum(cases[i % _POOL].size for i in range(count))
    truth = [c.truth["choices"][0]["message"]["content"] for c in cases]

    gc.collect()
    gc.freeze()  # the inputs stay out of every collection, as in the other runs (_worker)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        accs = [chunkagg.Accumulator() for _ in range(count)]
        empty = tracemalloc.get_traced_memory()[0] - base - sys.getsizeof(accs)
        for acc, slices in zip(accs, streams, strict=True):
            acc.feed(slices[0])
        first = tracemalloc.get_traced_memory()[0] - base - sys.getsizeof(accs)
    finally:
        tracemalloc.stop()
    del accs

    runs: dict[str, list[float]] = {"interleaved": [], "alone": []}
    checked = True
    for r in range(repeat):
        order = ["interleaved", "alone"] if r % 2 == 0 else ["alone", "interleaved"]
        for kind in order:
            run = _interleaved if kind == "interleaved" else _alone
            gc.collect()
            start = time.perf_counter()
            out = run(streams)
            runs[kind].append(time.perf_counter() - start)
            if r == 0:
                checked = checked and all(
                    c.choices[0].message.content == truth[i % _POOL] for i, c in enumerate(out)
                )
            del out
    inter = statistics.median(runs["interleaved"])
    alone = statistics.median(runs["alone"])
    return {
        "accumulators": count,
        "stream_bytes": total // count,
        "total_bytes": total,
        "bytes_per_accumulator_empty": empty / count,
        "bytes_per_accumulator_after_first_read": first / count,
        "interleaved_s": runs["interleaved"],
        "alone_s": runs["alone"],
        "interleaved_median_s": inter,
        "alone_median_s": alone,
        "interleaved_mb_s": total / inter / 1e6,
        "alone_mb_s": total / alone / 1e6,
        "ratio": inter / alone,
        "check": "ok" if checked else "MISMATCH",
    }
