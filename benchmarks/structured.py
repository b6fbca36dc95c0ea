"""``python -m benchmarks.structured``: structured outputs (issue 17), chunkagg against openai.

Measures chat streams whose content is one JSON value of a known type, in one run:

- ``long-2k``, ``long-4k``, ``long-8k``: one stream each of about 2,000, 4,000 and 8,000 content
  chunks; the content is one ``Report`` (nested objects, arrays of objects, strings, ints,
  floats, booleans, a ``null``, an enum and ``Literal`` fields, a list of lists of ints);
- ``short``: 500 streams of about 65 chunks each (the smallest ``Report``: one section of one
  step, short strings), run one after the other, each with a new accumulator.

The content is compact JSON (as OpenAI sends it) cut into 3 to 6 character deltas, one
``chat.completion.chunk`` per delta in SSE ``data:`` events (``_data``'s chunk builder: role
chunk first, a ``stop`` chunk, a usage chunk, ``[DONE]``), fed in network-like slices of 1 to
4,096 bytes (``_data.network_slices``). The rows, each from the bytes in to the completion out:

1. ``plain``: ``Accumulator()``, ``feed`` per slice, ``finalize()``;
2. ``parse``: ``Accumulator(response_format=Report)``: the same, plus the final parse;
3. ``track``: ``Accumulator(track=True)``, ``take_events()`` after every feed;
4. ``track-parse``: ``Accumulator(response_format=Report, track=True)``, ``take_events()`` after
   every feed: a live partial ``Report`` on every content delta, an event per array element;
4b. ``track-parse-pydantic``: row 4 with the equivalent pydantic model as the type;
5. ``openai``: openai-python's ``ChatCompletionStreamState(response_format=ReportModel)`` (no
   ``input_tools``: the stream has no tool calls), ``handle_chunk`` on every chunk (it re-parses
   the whole content so far on each: quadratic), then ``get_final_completion()``. Fed *from
   objects*: the ``ChatCompletionChunk`` objects are built before the timed region, the way the
   SDK's ``Stream`` builds them (``json.loads``, then ``construct_type``), so its framing and JSON
   decoding are not counted; chunkagg's rows pay for theirs. The ratio to openai is understated.

Every result is checked: ``message.parsed`` (``choices[0].message.parsed`` in openai's) equals the
content decoded whole as the type; for the tracking rows (in an untimed run), the last
``ContentDelta.parsed`` equals the final value and every array element came once as an
``ElementParsed`` event.

Two measures, in the same run. Instruction counts (callgrind, ``PYTHONHASHSEED=0``, the options of
``benchmarks.instructions``, warm as it is): a process per row and case imports, builds the inputs,
runs the case once to warm up, freezes the inputs out of the collector (``gc.freeze()``), then runs
it again inside ``functools.reduce``: callgrind collects only there (``--collect-atstart=no
--toggle-collect=functools_reduce``; on one cell the same count as ``benchmarks.instructions``'
difference of two processes, at half the processes). openai's warm-up runs on 10 short streams
instead (a warm-up on 8,000 chunks or on 500 streams costs minutes under callgrind; its one-time
work, pydantic's validators and schema, is the same whatever the stream). ``short`` is counted on
its first 50 streams (``--counted-short``) and scaled to all: the ratios are per stream. Wall time:
in this process, the inputs frozen out of the collector, every cell visited each round with the
rows in an order that rotates, ``gc.collect()`` before each run, the best of the runs; a row stops
repeating a case after ``--budget`` seconds on it (openai on the long cases and on ``short``: a few
runs only, the number is in the JSON).

Targets (issue 17; reported, not asserted): ``parse / plain`` and ``track-parse / track`` at most
1.5x by instructions; ``openai / track-parse`` growing with the stream's length. Writes
``benchmarks/results/structured.json`` (a reduced run: ``--json`` only). ``--quick``: shorter
streams, fewer rounds, a smoke run.
"""

from __future__ import annotations

import argparse
import enum
import functools
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from ._data import Case, _Builder, _token, network_slices

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "structured.json"
DEFAULT_SEED = 20261206
LENGTHS = (2_000, 4_000, 8_000)
SHORT_STREAMS = 500
TARGET = 1.5
COUNTED_SHORT = 50  # of the short streams, counted under callgrind (scaled to all of them)
WARM_STREAMS = 10  # openai's warm-up under callgrind: this many short streams
AVERAGE_DELTA = 4.5  # characters: deltas are 3 to 6

# -- the type ------------------------------------------------------------------------------------


class Kind(str, enum.Enum):
    PROSE = "prose"
    TABLE = "table"
    CODE = "code"
    FIGURE = "figure"


Level = Literal["easy", "medium", "hard"]
Status = Literal["draft", "review", "final"]


class Step(msgspec.Struct, forbid_unknown_fields=True):
    n: int
    text: str
    minutes: float
    level: Level
    done: bool


class Author(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str
    orcid: str | None


class Section(msgspec.Struct, forbid_unknown_fields=True):
    heading: str
    kind: Kind
    steps: list[Step]
    tags: list[str]
    grid: list[list[int]]


class Report(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    version: int
    status: Status
    author: Author
    sections: list[Section]
    summary: str


@functools.cache
def report_model() -> type[Any]:
    """The pydantic model equivalent to ``Report`` (built on first use: pydantic's import and
    schema build stay out of the processes that do not need them)."""
    import pydantic

    class Model(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")

    class StepModel(Model):
        n: int
        text: str
        minutes: float
        level: Level
        done: bool

    class AuthorModel(Model):
        name: str
        email: str
        orcid: str | None

    class SectionModel(Model):
        heading: str
        kind: Kind
        steps: list[StepModel]
        tags: list[str]
        grid: list[list[int]]

    class ReportModel(Model):
        title: str
        version: int
        status: Status
        author: AuthorModel
        sections: list[SectionModel]
        summary: str

    return ReportModel


# -- the streams ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One generated stream: its case (bytes, payloads), its slices and its content."""

    case: Case
    slices: list[bytes]
    content: str
    deltas: int


def _words(rng: random.Random, most: int) -> str:
    return "".join(_token(rng) for _ in range(rng.randint(1, most))).strip() or "x"


def _section(rng: random.Random, small: bool) -> dict[str, Any]:
    cap = 2 if small else 12  # words in a free string, at most
    return {
        "heading": _words(rng, min(cap, 6)),
        "kind": rng.choice(list(Kind)).value,
        "steps": [
            {
                "n": n,
                "text": _words(rng, cap),
                "minutes": round(rng.uniform(0, 90), rng.randint(0, 3)),
                "level": rng.choice(("easy", "medium", "hard")),
                "done": rng.random() < 0.5,
            }
            for n in range(1, 2 if small else rng.randint(3, 7))
        ],
        "tags": [_words(rng, 2) for _ in range(rng.randint(0, 1 if small else 4))],
        "grid": [
            [rng.randrange(-999, 10_000) for _ in range(2 if small else 3)]
            for _ in range(rng.randint(0, 1 if small else 3))
        ],
    }


def _report(rng: random.Random, size: int) -> str:
    """The compact JSON of a ``Report`` of at least ``size`` characters (one section at least:
    below 1,000 characters, a small one, with short strings)."""
    small = size < 1000
    cap = 2 if small else 8
    head = {
        "title": _words(rng, cap),
        "version": rng.randrange(1, 100),
        "status": rng.choice(("draft", "review", "final")),
        "author": {
            "name": _words(rng, min(cap, 3)),
            "email": f"a{rng.randrange(1000)}@example.com",
            "orcid": None if rng.random() < 0.5 else f"0000-0002-{rng.randrange(10**4):04d}-0001",
        },
    }
    summary = _words(rng, cap)
    total = len(_text({**head, "sections": [], "summary": summary}))
    sections: list[dict[str, Any]] = []
    while total < size or not sections:
        section = _section(rng, small)
        sections.append(section)
        total += len(_text(section)) + 1
    return _text({**head, "sections": sections, "summary": summary})


def _text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def make_stream(name: str, chunks: int, seed: int, variant: int = 0) -> Stream:
    """A chat stream whose content is a ``Report`` in about ``chunks`` deltas of 3 to 6 chars."""
    rng = random.Random(f"{seed}/structured/{name}/{variant}")
    content = _report(rng, int(chunks * AVERAGE_DELTA))
    b = _Builder(rng)
    b.chunk(0, {"role": "assistant", "content": "", "refusal": None})
    pos = deltas = 0
    while pos < len(content):
        step = rng.randint(3, 6)
        b.chunk(0, {"content": content[pos : pos + step]})
        pos += step
        deltas += 1
    b.chunk(0, {}, finish="stop")
    usage = b.usage(rng.randrange(50, 500), deltas)
    message = {"role": "assistant", "content": content, "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    case = b.case(name, f"a Report in {deltas:,} content deltas", [choice], usage)
    return Stream(
        case, network_slices(case.data, seed, f"structured/{name}/{variant}"), content, deltas
    )


def make_cases(lengths: list[int], short: int, seed: int) -> dict[str, list[Stream]]:
    """Every case of the run: ``long-<n>k`` (one stream) and ``short`` (``short`` streams)."""
    cases = {f"long-{n / 1000:g}k": [make_stream(f"long-{n}", n, seed)] for n in lengths}
    if short:
        cases["short"] = [make_stream("short", 0, seed, v) for v in range(short)]
    return cases


# -- the rows ------------------------------------------------------------------------------------


class Row:
    """One way of consuming the streams: ``prepare`` untimed, ``run`` timed, ``check`` after."""

    name = ""

    def prepare(self, streams: list[Stream]) -> Any:
        return [s.slices for s in streams]

    def run(self, prepared: Any) -> list[Any]:
        raise NotImplementedError

    def check(self, streams: list[Stream], out: list[Any]) -> str:
        raise NotImplementedError


class ChunkAgg(Row):
    """chunkagg's ``Accumulator``, with or without a type and events."""

    def __init__(self, name: str, typed: str | None, track: bool) -> None:
        import chunkagg

        self.name = name
        self.typed = typed
        self.track = track
        self.kwargs: dict[str, Any] = {}
        if typed == "msgspec":
            self.kwargs["response_format"] = Report
        elif typed == "pydantic":
            self.kwargs["response_format"] = report_model()
        if track:
            self.kwargs["track"] = True
        self._new = chunkagg.Accumulator

    def run(self, prepared: list[list[bytes]]) -> list[Any]:
        new, kwargs = self._new, self.kwargs
        out = []
        if not self.track:
            for slices in prepared:
                acc = new(**kwargs)
                feed = acc.feed
                for data in slices:
                    feed(data)
                out.append(acc.finalize())
            return out
        for slices in prepared:
            acc = new(**kwargs)
            feed = acc.feed
            take = acc.take_events
            for data in slices:
                feed(data)
                take()
            out.append(acc.finalize())
            take()
        return out

    def expected(self, content: str) -> Any:
        if self.typed == "pydantic":
            return report_model().model_validate_json(content)
        return msgspec.json.decode(content, type=Report)

    def check(self, streams: list[Stream], out: list[Any]) -> str:
        for stream, completion in zip(streams, out, strict=True):
            message = completion.choices[0].message
            if message.content != stream.content:
                return "WRONG content"
            if self.typed is not None and message.parsed != self.expected(stream.content):
                return "WRONG parsed"
        if self.track and self.typed is not None:
            return self._check_live(streams)
        return "ok"

    def _check_live(self, streams: list[Stream]) -> str:
        """Untimed: the last partial is the final value; each array element is reported once."""
        import chunkagg

        for stream in streams:
            acc = self._new(**self.kwargs)
            events: list[Any] = []
            for data in stream.slices:
                acc.feed(data)
                events += acc.take_events()
            final = acc.finalize().choices[0].message.parsed
            events += acc.take_events()
            partials = [e.parsed for e in events if isinstance(e, chunkagg.ContentDelta)]
            if not partials or partials[-1] != final:
                return "WRONG last partial"
            got = sorted((e.path, e.index) for e in events if isinstance(e, chunkagg.ElementParsed))
            if got != sorted(_elements(msgspec.json.decode(stream.content))):
                return "WRONG elements"
        return "ok"


def _elements(value: Any, path: str = "$") -> list[tuple[str, int]]:
    """``(array path, index)`` of every array element inside a JSON value."""
    out: list[tuple[str, int]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _elements(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.append((path, index))
            out += _elements(item, f"{path}[{index}]")
    return out


class OpenAI(Row):
    """openai-python's ``ChatCompletionStreamState`` fed ``ChatCompletionChunk`` objects."""

    name = "openai"

    def __init__(self) -> None:
        from openai._models import construct_type
        from openai.lib.streaming.chat import ChatCompletionStreamState
        from openai.types.chat import ChatCompletionChunk

        self._construct = construct_type
        self._chunk = ChatCompletionChunk
        self._state = ChatCompletionStreamState
        self._model = report_model()

    def prepare(self, streams: list[Stream]) -> list[list[Any]]:
        construct, chunk = self._construct, self._chunk
        return [
            [construct(type_=chunk, value=json.loads(p)) for p in s.case.payloads] for s in streams
        ]

    def run(self, prepared: list[list[Any]]) -> list[Any]:
        state_type, model = self._state, self._model
        out = []
        for chunks in prepared:
            state = state_type(response_format=model)
            handle = state.handle_chunk
            for chunk in chunks:
                handle(chunk)
            out.append(state.get_final_completion())
        return out

    def check(self, streams: list[Stream], out: list[Any]) -> str:
        for stream, completion in zip(streams, out, strict=True):
            if completion.choices[0].message.parsed != self._model.model_validate_json(
                stream.content
            ):
                return "WRONG parsed"
        return "ok"


ROWS: dict[str, Callable[[], Row]] = {
    "plain": lambda: ChunkAgg("plain", None, False),
    "parse": lambda: ChunkAgg("parse", "msgspec", False),
    "track": lambda: ChunkAgg("track", None, True),
    "track-parse": lambda: ChunkAgg("track-parse", "msgspec", True),
    "track-parse-pydantic": lambda: ChunkAgg("track-parse-pydantic", "pydantic", True),
    "openai": OpenAI,
}
LABELS = {
    "plain": "1",
    "parse": "2",
    "track": "3",
    "track-parse": "4",
    "track-parse-pydantic": "4b",
    "openai": "5",
}
# (numerator, denominator) of each reported ratio.
RATIOS = (
    ("parse", "plain"),
    ("track-parse", "track"),
    ("track-parse-pydantic", "track"),
    ("openai", "track-parse"),
)


# -- wall time -----------------------------------------------------------------------------------


@dataclass
class Cell:
    times: list[float] = field(default_factory=list)
    spent: float = 0.0
    check: str = ""


def wall(
    cases: dict[str, list[Stream]], rows: list[str], repeat: int, budget: float
) -> dict[tuple[str, str], Cell]:
    """Time every row on every case, interleaved, rows in a rotating order."""
    import gc

    made = [ROWS[name]() for name in rows]
    prepared = {(c, r.name): r.prepare(streams) for c, streams in cases.items() for r in made}
    gc.collect()
    gc.freeze()  # the inputs (openai's chunk objects) stay out of every collection, as in _worker
    cells: dict[tuple[str, str], Cell] = {}
    for round_ in range(repeat):
        for case, streams in cases.items():
            shift = round_ % len(made)
            for row in made[shift:] + made[:shift]:
                cell = cells.setdefault((case, row.name), Cell())
                if cell.times and cell.spent >= budget:
                    continue
                gc.collect()
                start = time.perf_counter()
                out = row.run(prepared[case, row.name])
                elapsed = time.perf_counter() - start
                cell.times.append(elapsed)
                cell.spent += elapsed
                if not cell.check:
                    cell.check = row.check(streams, out)
                del out
    return cells


# -- instruction counts --------------------------------------------------------------------------

# The child: imports, inputs and a warm-up run; then the measured run inside ``functools.reduce``,
# the one C function whose instructions callgrind collects (``--toggle-collect``).
_CHILD = r"""
import sys
root = sys.argv[1]
sys.path.insert(0, root)
from benchmarks.structured import child
child(*sys.argv[2:])
"""


def child(case: str, row: str, seed: str, size: str) -> None:
    """One callgrind process: build ``case``'s inputs (``size``: its length, or how many short
    streams), warm up, then run ``row`` once inside ``functools.reduce``."""
    import gc

    if case == "short":
        streams = [make_stream("short", 0, int(seed), v) for v in range(int(size))]
    else:
        streams = [make_stream(f"long-{size}", int(size), int(seed))]
    consumer = ROWS[row]()
    prepared = consumer.prepare(streams)
    if row == "openai":  # warmed up on a few short streams: its runs cost minutes here
        few = [make_stream("short", 0, int(seed), v) for v in range(WARM_STREAMS)]
        consumer.run(consumer.prepare(few))
    else:
        consumer.run(prepared)
    gc.collect()
    gc.freeze()
    functools.reduce(lambda _, __: consumer.run(prepared), [0], None)


def _count(case: str, size: int, row: str, seed: int) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1")
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += ["--collect-atstart=no", "--toggle-collect=functools_reduce"]
    command += [sys.executable, "-c", _CHILD, str(ROOT), case, row, str(seed), str(size)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found or found.group(1) == "0":
        raise RuntimeError(f"{case}/{row}: callgrind failed\n{done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    print(f"  callgrind {case} {row}: {seconds:.0f} s", flush=True)
    return int(found.group(1))


def instructions(
    sizes: dict[str, int], rows: list[str], seed: int, jobs: int
) -> dict[tuple[str, str], int]:
    """The steady instruction count of each row on each case (a callgrind process each);
    ``sizes``: each case's length, or how many short streams to count."""
    cells = [(c, r) for c in sizes for r in rows]
    # openai's cases first, longest first: they take longest, and the rest fill in around them.
    cells.sort(key=lambda cell: (cell[1] != "openai", -sizes[cell[0]]))
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        counts = pool.map(lambda cell: _count(cell[0], sizes[cell[0]], cell[1], seed), cells)
        return dict(zip(cells, counts, strict=True))


# -- the report ----------------------------------------------------------------------------------


def report(
    cases: dict[str, list[Stream]],
    rows: list[str],
    cells: dict[tuple[str, str], Cell],
    counts: dict[tuple[str, str], int],
) -> dict[str, Any]:
    """Print the tables; return the rows and ratios for the JSON."""
    out_rows: list[dict[str, Any]] = []
    print(f"{'row':<26}" + "".join(f"{c:>24}" for c in cases))
    for row in rows:
        line = f"{LABELS[row] + ' ' + row:<26}"
        for case in cases:
            cell = cells.get((case, row))
            count = counts.get((case, row))
            best = min(cell.times) if cell and cell.times else None
            text = f"{count / 1e6:.1f}M" if count is not None else "-"
            text += f" {best * 1e3:.2f} ms" if best is not None else ""
            line += f"{text:>24}"
            out_rows.append(
                {
                    "case": case,
                    "row": row,
                    "label": LABELS[row],
                    "instructions": count,
                    "best_s": best,
                    "runs": len(cell.times) if cell else 0,
                    "check": cell.check if cell else "",
                }
            )
        print(line)
    print("(instructions, best wall time)\n")

    ratios: list[dict[str, Any]] = []
    head = f"{'case':<10}{'chunks':>8}{'bytes':>11}"
    head += "".join(f"{f'{LABELS[a]}/{LABELS[b]} instr':>14}{'wall':>7}" for a, b in RATIOS)
    print(head)
    for case, streams in cases.items():
        chunks = sum(s.deltas for s in streams)
        size = sum(s.case.size for s in streams)
        line = f"{case:<10}{chunks:>8,}{size:>11,}"
        entry: dict[str, Any] = {
            "case": case,
            "streams": len(streams),
            "content_chunks": chunks,
            "bytes": size,
        }
        for a, b in RATIOS:
            ca, cb = counts.get((case, a)), counts.get((case, b))
            wa, wb = cells.get((case, a)), cells.get((case, b))
            by_count = ca / cb if ca is not None and cb else None
            by_wall = min(wa.times) / min(wb.times) if wa and wb and wa.times and wb.times else None
            entry[f"{a}/{b}"] = {"instructions": by_count, "wall": by_wall}
            line += f"{_fmt(by_count):>14}{_fmt(by_wall):>7}"
        ratios.append(entry)
        print(line)
    worst = [
        r[f"{a}/{b}"]["instructions"]
        for r in ratios
        for a, b in RATIOS[:2]
        if r[f"{a}/{b}"]["instructions"] is not None
    ]
    if worst:
        verdict = "met" if max(worst) <= TARGET else "MISSED"
        print(f"\nrows 2/1 and 4/3, worst by instructions: {max(worst):.2f}x "
              f"(target <= {TARGET}x: {verdict})")  # fmt: skip
    return {"rows": out_rows, "ratios": ratios}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    import chunkagg

    out = {"chunkagg": chunkagg.__version__, "msgspec": msgspec.__version__}
    for name in ("openai", "pydantic"):
        try:
            out[name] = version(name)
        except Exception:
            out[name] = "absent"
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables; write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.structured", description=__doc__)
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--short", type=int, default=SHORT_STREAMS, help="short streams (0: none)")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--repeat", type=int, default=15, help="wall-time rounds")
    parser.add_argument("--budget", type=float, default=6.0, help="wall seconds per slow cell")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=2, help="callgrind processes at a time")
    parser.add_argument("--no-instructions", action="store_true", help="wall time only")
    parser.add_argument(
        "--counted-short", type=int, default=COUNTED_SHORT, help="short streams under callgrind"
    )
    parser.add_argument("--quick", action="store_true", help="short streams, 3 rounds: a smoke run")
    parser.add_argument("--json", type=Path, help=f"write here (default, full run: {RESULTS})")
    args = parser.parse_args(argv)
    reduced = args.quick or args.no_instructions
    if args.quick:
        args.lengths, args.short, args.repeat, args.budget = [500, 1000], 50, 3, 1.0
    reduced = reduced or args.lengths != list(LENGTHS) or args.short != SHORT_STREAMS
    reduced = reduced or args.rows != list(ROWS) or args.seed != DEFAULT_SEED
    cases = make_cases(args.lengths, args.short, args.seed)
    for name, streams in cases.items():
        chunks = sum(s.deltas for s in streams)
        chars = sum(len(s.content) for s in streams)
        size = sum(s.case.size for s in streams)
        print(f"{name}: {len(streams)} stream(s), {chunks:,} content deltas, {chars:,} characters "
              f"of JSON, {size:,} bytes")  # fmt: skip
    print()

    started = time.perf_counter()
    cells = wall(cases, args.rows, args.repeat, args.budget)
    wall_s = time.perf_counter() - started
    counts: dict[tuple[str, str], int] = {}
    counted = min(args.short, args.counted_short)
    if not args.no_instructions:
        sizes = {f"long-{n / 1000:g}k": n for n in args.lengths}
        if args.short:
            sizes["short"] = counted
        counts = instructions(sizes, args.rows, args.seed, args.jobs)
        # Per stream, then for all of them: the short streams counted are the first ones.
        for key in [k for k in counts if k[0] == "short"]:
            counts[key] = counts[key] * args.short // counted
    result = report(cases, args.rows, cells, counts)
    total_s = time.perf_counter() - started
    print(f"\nwall-time phase {wall_s:.0f} s, whole run {total_s:.0f} s")

    out = {
        "benchmark": "structured",
        "seed": args.seed,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": _versions(),
        "openai_input": "ChatCompletionChunk objects built untimed (from objects)",
        "wall": "best of the runs; runs per cell in rows[].runs",
        "instructions": "callgrind, PYTHONHASHSEED=0, warm (see the module docstring)",
        "instructions_short": f"counted on the first {counted} short streams, scaled to all",
        **result,
        "targets": {"parse/plain": TARGET, "track-parse/track": TARGET},
    }
    path = args.json or (None if reduced else RESULTS)
    if path is not None:
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")
    wrong = [key for key, cell in cells.items() if cell.check != "ok"]
    for key in wrong:
        print("WRONG result:", *key, cells[key].check, file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
