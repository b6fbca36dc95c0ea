"""One consumer in its own process: times, traces and checks runs on request from ``__main__``.

Measures one run at a time, as told: ``time`` (``gc.collect()``, then ``time.perf_counter``
around ``run()``; the input is built before and is not timed), ``memory`` (a separate run under
``tracemalloc``: the peak of what was allocated during it), ``many`` and ``profile`` (chunkagg
only). The parent sends the requests round-robin across the workers, so only one process works
at a time and machine noise falls on every consumer alike.

Why a process per consumer: importing a peer has side effects (litellm loads thousands of modules
and sets up logging and caches; openai builds pydantic schemas) that must not touch the others'
runs. Within a worker, the imports and the inputs are frozen out of the garbage collector
(``gc.freeze()``), so a collection during a run walks only what that run allocated.

Protocol: one JSON request per line on stdin, one JSON reply per line on the original stdout. The
process's own stdout is pointed at stderr so that a library's stray ``print`` cannot break it.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
import tracemalloc
from typing import Any, TextIO

from ._consumers import CONSUMERS, Consumer
from ._data import Case, canonical, compare, make_case, network_slices, one_byte_slices

__all__ = ["main"]


class Worker:
    def __init__(self, consumer: Consumer, seed: int) -> None:
        self.consumer = consumer
        self.seed = seed
        self._cases: dict[str, Case] = {}
        self._slices: dict[tuple[str, str], list[bytes]] = {}

    def inputs(self, scenario: str, mode: str) -> tuple[Case, list[bytes]]:
        # Built once and kept, since the parent comes back to every cell each repeat (all the
        # 1-byte lists together hold about 10 million pointers: 80 MB).
        case = self._cases.get(scenario)
        if case is None:
            case = self._cases[scenario] = make_case(scenario, self.seed)
        slices = self._slices.get((scenario, mode))
        if slices is None:
            if mode == "1-byte":
                slices = one_byte_slices(case.data)
            else:
                slices = network_slices(case.data, self.seed, scenario)
            self._slices[scenario, mode] = slices
            _freeze()
        return case, slices

    def time(self, scenario: str, mode: str, check: bool) -> dict[str, Any]:
        case, slices = self.inputs(scenario, mode)
        consumer = self.consumer
        prepared = consumer.prepare(case, slices)
        gc.collect()
        start = time.perf_counter()
        out = consumer.run(prepared)
        seconds = time.perf_counter() - start
        reply: dict[str, Any] = {"seconds": seconds}
        if check:
            reply["check"] = self.check(case, consumer.result(out))
        return reply

    def check(self, case: Case, result: Any) -> dict[str, Any]:
        if isinstance(result, int):  # the floor returns how many payloads it decoded
            ok = result == case.events
            return {"errors": [] if ok else [f"decoded {result} of {case.events} chunks"]}
        errors, extras = compare(canonical(case.truth), canonical(result))
        # "$.choices[0].message.parsed" and its siblings are reported once, without the index.
        kinds = sorted({_strip_indices(x) for x in extras})
        return {"errors": errors[:5], "error_count": len(errors), "extras": kinds[:10]}

    def memory(self, scenario: str, mode: str) -> dict[str, Any]:
        case, slices = self.inputs(scenario, mode)
        consumer = self.consumer
        prepared = None if consumer.memory_counts_input else consumer.prepare(case, slices)
        gc.collect()
        tracemalloc.start()
        try:
            if prepared is None:
                prepared = consumer.prepare(case, slices)
            out = consumer.run(prepared)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        del out
        return {"peak": peak}

    def many(self, count: int, repeat: int) -> dict[str, Any]:
        from ._many import measure

        return measure(count, self.seed, repeat)

    def profile(self, scenario: str, top: int) -> dict[str, Any]:
        import cProfile
        import io
        import pstats

        case, slices = self.inputs(scenario, "network")
        prepared = self.consumer.prepare(case, slices)
        profiler = cProfile.Profile()
        profiler.enable()
        self.consumer.run(prepared)
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.strip_dirs().sort_stats("tottime").print_stats(top)
        return {"text": text.getvalue()}


def _freeze() -> None:
    """Move what exists now (modules, inputs) out of the collector's sight.

    A full collection during a run then walks only what the run allocated, the same in every
    worker, and not the inputs (millions of 1-byte slices) nor a library's imports.
    """
    gc.collect()
    gc.freeze()


def _strip_indices(path: str) -> str:
    out = []
    skip = False
    for ch in path:
        if ch == "[":
            skip = True
        elif ch == "]":
            skip = False
        elif not skip:
            out.append(ch)
    return "".join(out)


def _serve(worker: Worker, stdin: TextIO, stdout: TextIO) -> None:
    for line in stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        try:
            reply = getattr(worker, op)(**request)
        except Exception:
            reply = {"error": traceback.format_exc(limit=6)}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


def main() -> None:
    name, seed = sys.argv[1], int(sys.argv[2])
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        consumer = CONSUMERS[name]()
        # Warm up once on a short stream: first-use work (pydantic schemas, caches) is not timed.
        warm = make_case("small", seed)
        consumer.run(consumer.prepare(warm, network_slices(warm.data, seed, "warm-up")))
        _freeze()
        ready: dict[str, Any] = {"ready": True, "version": consumer.version()}
    except Exception:
        ready = {"error": traceback.format_exc(limit=6)}
    replies.write(json.dumps(ready) + "\n")
    replies.flush()
    if "error" not in ready:
        _serve(Worker(consumer, seed), sys.stdin, replies)


if __name__ == "__main__":
    main()
