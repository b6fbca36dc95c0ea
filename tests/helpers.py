"""Shared builders for the chunkagg tests: canonical form, split feeding, SSE/NDJSON builders,
and a generator of valid streams rendered from a known "truth" completion.

Randomness is always seeded. The split seeds derive from ``BASE_SEED``, which is random per run
unless the ``CHUNKAGG_SEED`` environment variable fixes it. ``str(split)`` names both the split's
own seed and the base seed, and the tests put it in their assertion messages, so a failure is
replayed with ``CHUNKAGG_SEED=<base seed> pytest ...``. Hypothesis replays its own failures.
"""

from __future__ import annotations

import itertools
import os
import random
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import msgspec
import orjson
from hypothesis import strategies as st

from chunkagg import Accumulator, ChatCompletion, ChunkAggError, EmptyStreamError, ResponseBody2

__all__ = [
    "BAD_MIDDLE",
    "BASE_SEED",
    "CUT_EVENT",
    "ERROR_CHUNK",
    "ERROR_EVENT",
    "FIXTURES",
    "GOOD_CHUNKS",
    "ROOT",
    "SPLITS",
    "SPLIT_IDS",
    "SYNTHETIC",
    "Split",
    "assert_reencoded_keeps",
    "canonical",
    "choice",
    "chunk",
    "convert_eol",
    "data_payloads",
    "feed_all",
    "feed_recovering",
    "finalize_error",
    "finalize_recovering",
    "fixture_pairs",
    "merge_bytes",
    "merge_chunks",
    "ndjson",
    "random_stream",
    "random_truth",
    "render_stream",
    "replace_at",
    "split_feeds",
    "sse",
    "streams",
    "tool_call",
    "truths",
    "walk",
]

# The repository (examples/, README.md, docs/), and the test data: the captured chat fixtures and
# the synthetic streams (providers/, completions/, responses/). Test modules sit one folder deeper
# (tests/<folder>/), so they reach the data through these rather than their own __file__.
ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SYNTHETIC = Path(__file__).parent / "synthetic"

_env_seed = os.environ.get("CHUNKAGG_SEED")
BASE_SEED = int(_env_seed) if _env_seed else random.SystemRandom().randrange(1 << 32)


# -- canonical form ---------------------------------------------------------------------------


def canonical(obj: Any) -> Any:
    """Convert to builtins and drop null-valued keys recursively (fixtures/README.md)."""
    if isinstance(obj, msgspec.Struct):
        obj = msgspec.to_builtins(obj)
    if isinstance(obj, Mapping):
        return {k: canonical(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [canonical(v) for v in obj]
    return obj


# -- feeding in pieces ------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """How to cut a stream into ``feed()`` calls: whole, one byte at a time, or random slices."""

    kind: str  # "whole" | "bytewise" | "random"
    seed: int | None = None

    def __str__(self) -> str:
        if self.kind != "random":
            return self.kind
        return f"random(seed={self.seed}; replay with CHUNKAGG_SEED={BASE_SEED})"


SPLITS: list[Split] = [
    Split("whole"),
    Split("bytewise"),
    *(Split("random", BASE_SEED + i) for i in range(4)),
]
# Stable test ids (the seed itself varies per run and is reported in the failure message).
SPLIT_IDS: list[str] = ["whole", "bytewise", *(f"random{i}" for i in range(4))]


def split_feeds(
    data: bytes, split: Split | str = "whole", rng: random.Random | None = None
) -> list[bytes]:
    """Cut ``data`` into the pieces ``split`` asks for. Random slices mix tiny and large sizes
    and include empty pieces (``feed(b"")`` must be harmless)."""
    kind = split.kind if isinstance(split, Split) else split
    if kind == "whole":
        return [data]
    if kind == "bytewise":
        return [data[i : i + 1] for i in range(len(data))]
    if kind != "random":
        raise ValueError(f"unknown split {split!r}")
    if rng is None:
        seed = split.seed if isinstance(split, Split) else None
        if seed is None:
            raise ValueError("a random split needs a seed or an rng")
        rng = random.Random(seed)
    pieces: list[bytes] = []
    pos = 0
    while pos < len(data):
        roll = rng.random()
        if roll < 0.05:
            size = 0
        elif roll < 0.5:
            size = rng.randint(1, 4)
        elif roll < 0.9:
            size = rng.randint(1, 64)
        else:
            size = rng.randint(1, max(1, len(data) // 3))
        pieces.append(data[pos : pos + size])
        pos += size
    return pieces


# The feeding loops take the accumulator of any format: what feed() returns (chat's chunks,
# legacy completions' chunks, Responses API events) and what finalize() returns follow it.
_Chunk = TypeVar("_Chunk")
_Result = TypeVar("_Result", covariant=True)


class _Feeds(Protocol[_Chunk]):
    def feed(self, data: bytes, /) -> list[_Chunk]: ...


class _Finalizes(Protocol[_Result]):
    def finalize(self) -> _Result: ...
    def snapshot(self) -> _Result: ...


def feed_all(
    acc: _Feeds[_Chunk],
    data: bytes,
    split: Split | str = "whole",
    rng: random.Random | None = None,
) -> list[_Chunk]:
    """Feed ``data`` in the pieces ``split`` asks for; return every chunk the feeds returned."""
    out: list[_Chunk] = []
    for piece in split_feeds(data, split, rng):
        out.extend(acc.feed(piece))
    return out


def feed_recovering(
    acc: _Feeds[_Chunk], pieces: Iterable[bytes]
) -> tuple[list[_Chunk], list[ChunkAggError]]:
    """Feed every piece; after each error, resume with ``feed(b"")`` as the contract allows.

    Returns every chunk decoded, those a raising call completed before its fault
    (``exc.chunks``) included, and the errors, in stream order.
    """
    chunks: list[_Chunk] = []
    errors: list[ChunkAggError] = []
    for piece in pieces:
        data = piece
        while True:
            try:
                chunks.extend(acc.feed(data))
            except ChunkAggError as exc:
                errors.append(exc)
                chunks.extend(exc.chunks)
                data = b""
                continue
            break
    return chunks, errors


class _Adds(Protocol):
    def add(self, event: Any) -> Any: ...


def add_all_but(acc: _Adds, events: Iterable[Any], bad: Any) -> ChunkAggError:
    """``add()`` every event of ``events``, ``bad`` (that very object) raising; return its
    error (an ``AssertionError`` when it does not raise)."""
    error: ChunkAggError | None = None
    for event in events:
        if event is not bad:
            acc.add(event)
            continue
        try:
            acc.add(event)
        except ChunkAggError as exc:
            error = exc
    if error is None:
        raise AssertionError("the bad event was merged")
    return error


def nested(levels: int) -> Any:
    """A JSON value of ``levels`` arrays, one inside the other, around a ``0``."""
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def finalize_recovering(
    acc: _Finalizes[_Result], errors: list[ChunkAggError] | None = None, bound: int = 1000
) -> _Result:
    """Call ``finalize()`` until it returns (each raise consumes one buffered bad event).

    A stream with no chunk at all raises ``EmptyStreamError`` every time: that error is
    recorded once and the (empty) snapshot returned.
    """
    for _ in range(bound):
        try:
            return acc.finalize()
        except EmptyStreamError as exc:
            if errors is not None:
                errors.append(exc)
            return acc.snapshot()
        except ChunkAggError as exc:
            if errors is not None:
                errors.append(exc)
    raise AssertionError(f"finalize() raised {bound} times")


def convert_eol(data: bytes, eol: bytes) -> bytes:
    """Replace every LF with ``eol`` (the fixtures hold no CR and no raw LF inside JSON)."""
    return data.replace(b"\n", eol)


def data_payloads(stream: bytes) -> list[bytes]:
    """The JSON payloads of the ``data:`` lines of an LF-framed fixture, ``[DONE]`` left out."""
    payloads = []
    for line in stream.split(b"\n"):
        if line.startswith(b"data:"):
            payload = line[5:].strip()
            if payload != b"[DONE]":
                payloads.append(payload)
    return payloads


def fixture_pairs() -> list[tuple[str, Path, Path]]:
    """``(id, stream, expected)`` for every fixture pair under tests/fixtures."""
    pairs = []
    for stream in sorted(FIXTURES.glob("*/*.sse")):
        expected = stream.with_name(stream.name[: -len(".sse")] + ".expected.json")
        pairs.append((f"{stream.parent.name}/{stream.stem}", stream, expected))
    return pairs


# -- JSON documents ---------------------------------------------------------------------------

JsonPath = tuple[str | int, ...]


def walk(value: Any, path: JsonPath = ()) -> list[tuple[JsonPath, Any]]:
    """Every ``(path, value)`` in a JSON document, the root (path ``()``) included."""
    found = [(path, value)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(walk(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(walk(item, (*path, i)))
    return found


def replace_at(doc: Any, path: JsonPath, new: Any) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced (or a missing last key added)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        copy = dict(doc)
        copy[str(head)] = replace_at(doc[str(head)], rest, new) if rest else new
        return copy
    if not isinstance(doc, list) or not isinstance(head, int):
        raise KeyError(f"no {head!r} in {type(doc).__name__}")
    items = list(doc)
    items[head] = replace_at(doc[head], rest, new)
    return items


# -- builders ---------------------------------------------------------------------------------


def choice(
    index: int = 0,
    *,
    finish_reason: str | None = None,
    logprobs: Any = None,
    **delta: Any,
) -> dict[str, Any]:
    """One entry of a chunk's ``choices``: ``choice(0, content="Hi")``."""
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}


def chunk(*choices: Mapping[str, Any], **top: Any) -> dict[str, Any]:
    """A ``chat.completion.chunk`` dict with OpenAI's top-level keys; ``top`` overrides them."""
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1727346172,
        "model": "gpt-test",
        "choices": list(choices),
    }
    body.update(top)
    return body


def tool_call(index: int, **fields: Any) -> dict[str, Any]:
    """One entry of a delta's ``tool_calls``: ``name`` and ``arguments`` go under ``function``,
    any other field (``id``, ``type``) beside ``index``."""
    call: dict[str, Any] = {"index": index}
    function = {k: fields.pop(k) for k in ("name", "arguments") if k in fields}
    if function:
        call["function"] = function
    call.update(fields)
    return call


def _payload(item: Mapping[str, Any] | bytes | str) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode()
    return orjson.dumps(item)


def sse(*chunks: Mapping[str, Any] | bytes | str, done: bool = True, eol: str = "\n") -> bytes:
    """An SSE body: ``data: <json>`` and a blank line per chunk, then ``data: [DONE]``.

    A ``bytes``/``str`` item is taken as the raw payload after ``data: `` (for bad JSON).
    """
    end = eol.encode()
    parts = [b"data: " + _payload(c) + end + end for c in chunks]
    if done:
        parts.append(b"data: [DONE]" + end + end)
    return b"".join(parts)


def ndjson(*chunks: Mapping[str, Any] | bytes | str, eol: str = "\n") -> bytes:
    """One JSON chunk per line."""
    end = eol.encode()
    return b"".join(_payload(c) + end for c in chunks)


# A good stream ("Hello, world", then stop), and the faults the relay and proxy tests splice into
# it: the server's in-band error event, a chunk with an error object, an event cut short.
GOOD_CHUNKS = [
    chunk(choice(0, role="assistant", content="")),
    chunk(choice(0, content="Hello")),
    chunk(choice(0, content=", world")),
    chunk(choice(0, finish_reason="stop")),
]
ERROR_EVENT = b'event: error\ndata: {"error": {"message": "overloaded", "code": 529}}\n\n'
ERROR_CHUNK = chunk(choice(0, content="!"), error={"message": "upstream timeout", "code": 504})
CUT_EVENT = b'data: {"id": "chatcmpl-test", "cho'
# A malformed event between good ones: "a" and "b" merge before the fault, "c" after it.
BAD_MIDDLE = sse(
    chunk(choice(role="assistant", content="a")),
    chunk(choice(content="b")),
    b"{not json",
    chunk(choice(content="c")),
)


# -- merging and checking -------------------------------------------------------------------


def merge_bytes(data: bytes, split: Split | str = "whole", **options: Any) -> ChatCompletion:
    """Feed ``data`` to ``Accumulator(**options)`` in the pieces ``split`` asks for; finalize."""
    acc = Accumulator(**options)
    feed_all(acc, data, split)
    return acc.finalize()


def merge_chunks(*chunks: Mapping[str, Any] | bytes | str, **options: Any) -> ChatCompletion:
    """Merge chunk dicts framed as SSE (``sse()``), fed one byte at a time."""
    return merge_bytes(sse(*chunks), "bytewise", **options)


def finalize_error(data: bytes, split: Split | str = "whole", **options: Any) -> ChunkAggError:
    """The first error that feeding ``data`` (as ``split`` says) and finalizing raises."""
    acc = Accumulator(**options)
    try:
        feed_all(acc, data, split)
        acc.finalize()
    except ChunkAggError as exc:
        return exc
    raise AssertionError("no error")


def assert_reencoded_keeps(original: Any, chunk: ResponseBody2) -> None:
    """Every non-null value of ``original`` is in ``chunk.to_dict()`` at the same place."""
    # to_dict() keeps the token-logprob arrays as the tuples they are: compare as JSON.
    again = orjson.loads(orjson.dumps(chunk.to_dict()))
    assert orjson.loads(chunk.to_json()) == again
    assert msgspec.json.decode(msgspec.json.encode(chunk)) == again
    for path, value in walk(original):
        if value is None or isinstance(value, dict | list):
            continue
        node: Any = again
        for step in path:
            node = node[step]
        assert node == value, path


# -- streams from a truth ---------------------------------------------------------------------

# ASCII, two-, three- and four-byte UTF-8 (accents, CJK, emoji with a skin-tone modifier and a ZWJ
# sequence), JSON escapes (quote, backslash, control characters, LS/PS) and newlines.
_ALPHABET = [
    *(string.ascii_letters + string.digits + " .,!?'"),
    *("é", "ß", "ñ", "Ω", "中", "文", "字", "日本", "한", "€", "\u2028", "\u2029"),
    *("😀", "🎉", "👍🏽", "👩\u200d💻", "🇫🇷", "𝄞"),
    *('"', "\\", "\n", "\r", "\t", "\x00", "\x1f", "/", "{", "}", "data: ", "[DONE]"),
]


def _text(rng: random.Random, max_len: int = 40) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, max_len)))


def _maybe(rng: random.Random, p: float, value: Any) -> Any:
    return value if rng.random() < p else None


def _token_logprob(rng: random.Random) -> dict[str, Any]:
    # Tokens are non-empty and logprobs strictly negative here: the empty/zero edge cases have
    # their own tests, so a failure there does not hide behind every generated stream.
    def one() -> dict[str, Any]:
        token = _text(rng, 4) or "a"
        return {
            "token": token,
            "logprob": -round(rng.uniform(1e-6, 30.0), 6),
            "bytes": list(token.encode()),
        }

    entry = one()
    entry["top_logprobs"] = [one() for _ in range(rng.randint(0, 3))]
    return entry


def random_truth(rng: random.Random) -> dict[str, Any]:
    """A random final ``chat.completion`` (builtins, with nulls) that a stream can produce."""
    n = rng.choice([0, 1, 1, 1, 2, 3, 4])
    indices = sorted(rng.sample(range(6), n)) if rng.random() < 0.3 else list(range(n))
    choices = []
    for index in indices:
        calls = None
        if rng.random() < 0.35:
            calls = []
            for j in range(rng.randint(1, 3)):
                args = {_text(rng, 6): _text(rng, 12) for _ in range(rng.randint(0, 3))}
                calls.append(
                    {
                        "id": f"call_{index}_{j}_{rng.randrange(1 << 30):x}",
                        "type": "function",
                        "function": {
                            "name": rng.choice(["get_weather", "search", "f", "日本語ツール"]),
                            "arguments": orjson.dumps(args).decode(),
                        },
                    }
                )
        logprobs = None
        if rng.random() < 0.35:
            logprobs = {
                "content": _maybe(
                    rng, 0.8, [_token_logprob(rng) for _ in range(rng.randint(0, 6))]
                ),
                "refusal": _maybe(
                    rng, 0.3, [_token_logprob(rng) for _ in range(rng.randint(0, 4))]
                ),
            }
        choices.append(
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": _maybe(rng, 0.8, _text(rng)),
                    "refusal": _maybe(rng, 0.2, _text(rng)),
                    "reasoning": _maybe(rng, 0.2, _text(rng)),
                    "reasoning_content": _maybe(rng, 0.2, _text(rng)),
                    "tool_calls": calls,
                },
                "finish_reason": _maybe(
                    rng, 0.85, rng.choice(["stop", "length", "tool_calls", "content_filter"])
                ),
                "logprobs": logprobs,
            }
        )
    usage = None
    if rng.random() < 0.7:
        prompt, completion = rng.randrange(1 << 20), rng.randrange(1 << 20)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": _maybe(rng, 0.5, {"cached_tokens": rng.randrange(prompt + 1)}),
            "completion_tokens_details": _maybe(
                rng, 0.5, {"reasoning_tokens": rng.randrange(completion + 1)}
            ),
        }
    return {
        "id": f"chatcmpl-{rng.randrange(1 << 60):x}",
        "object": "chat.completion",
        "created": rng.randrange(1_600_000_000, 1_900_000_000),
        "model": rng.choice(["gpt-4o-2024-08-06", "deepseek-reasoner", "模型-v1"]),
        "system_fingerprint": _maybe(rng, 0.5, f"fp_{rng.randrange(1 << 40):x}"),
        "service_tier": _maybe(rng, 0.3, "default"),
        "choices": choices,
        "usage": usage,
    }


def _fragments(rng: random.Random, text: str) -> list[str]:
    """Cut ``text`` into 1..6 in-order fragments (empty fragments allowed)."""
    cuts = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, 5)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def _runs(rng: random.Random, items: list[Any]) -> list[list[Any]]:
    """Cut a list into 1.. in-order runs (empty runs allowed)."""
    cuts = sorted(rng.randint(0, len(items)) for _ in range(rng.randint(0, 4)))
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def _interleave(rng: random.Random, queues: Sequence[Sequence[Any]]) -> Iterator[Any]:
    """Merge queues in a random order that keeps each queue's own order."""
    pos = [0] * len(queues)
    live = [i for i, q in enumerate(queues) if q]
    while live:
        i = rng.choice(live)
        yield queues[i][pos[i]]
        pos[i] += 1
        if pos[i] == len(queues[i]):
            live.remove(i)


def _choice_events(rng: random.Random, ch: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The in-order chunk-choice entries that stream one truth choice."""
    index = ch["index"]
    msg = ch["message"]
    # One queue of ops per field; ops of one field keep their order, fields interleave freely.
    queues: list[list[tuple[str, Any]]] = []
    for field in ("content", "refusal", "reasoning", "reasoning_content"):
        if msg[field] is not None:
            queues.append([(field, frag) for frag in _fragments(rng, msg[field])])
    for j, call in enumerate(msg["tool_calls"] or []):
        frags = _fragments(rng, call["function"]["arguments"])
        ops: list[tuple[str, Any]] = []
        for k, frag in enumerate(frags):
            delta: dict[str, Any] = {"index": j, "function": {"arguments": frag}}
            if k == 0:
                delta["id"] = call["id"]
                delta["type"] = call["type"]
                delta["function"]["name"] = call["function"]["name"]
            elif rng.random() < 0.2:
                # Continuations that repeat the id, or carry an empty/null name, change nothing.
                delta.update(
                    rng.choice(
                        [
                            {"id": call["id"]},
                            {"function": {"name": None, "arguments": frag}},
                            {"function": {"name": "", "arguments": frag}},
                        ]
                    )
                )
            ops.append(("tool", delta))
        queues.append(ops)
    lp = ch["logprobs"]
    if lp is not None:
        for key in ("content", "refusal"):
            if lp[key] is not None:
                queues.append([("lp_" + key, run) for run in _runs(rng, lp[key])])

    events: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None

    def new_event() -> dict[str, Any]:
        event: dict[str, Any] = {"index": index, "delta": {}, "finish_reason": None}
        if lp is not None or rng.random() < 0.3:
            event["logprobs"] = None
        events.append(event)
        return event

    first = new_event()
    first["delta"]["role"] = msg["role"]
    if rng.random() < 0.5:
        # OpenAI's first chunk: {"role": "assistant", "content": "" or null, "refusal": null}.
        first["delta"]["refusal"] = None
        if msg["content"] is None:
            first["delta"]["content"] = None
    current = first if rng.random() < 0.5 else None
    for kind, value in _interleave(rng, queues):
        if current is None or rng.random() < 0.4:
            current = new_event()
        delta = current["delta"]
        if kind == "tool":
            delta.setdefault("tool_calls", []).append(value)
            continue
        if kind.startswith("lp_"):
            key = kind[3:]
            logprobs = current.get("logprobs") or {"content": None, "refusal": None}
            if logprobs[key] is not None:
                current = new_event()
                logprobs = {"content": None, "refusal": None}
            logprobs[key] = value
            current["logprobs"] = logprobs
            continue
        if kind in delta and delta[kind] is not None:
            current = new_event()
            delta = current["delta"]
        delta[kind] = value
    if lp is not None and not any(e.get("logprobs") for e in events):
        events[-1]["logprobs"] = {"content": None, "refusal": None}
    for event in events:
        delta = event["delta"]
        # Explicit nulls are "nothing here", never a value.
        for field in ("content", "refusal", "reasoning_content"):
            if field not in delta and rng.random() < 0.15:
                delta[field] = None
    if ch["finish_reason"] is not None:
        if rng.random() < 0.5:
            events.append(
                {
                    "index": index,
                    "delta": {},
                    "finish_reason": ch["finish_reason"],
                    "logprobs": None,
                }
            )
        else:
            events[-1]["finish_reason"] = ch["finish_reason"]
    return events


def render_stream(truth: Mapping[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Chunk dicts that a server could send for ``truth``, choices interleaved at random."""
    top: dict[str, Any] = {
        "id": truth["id"],
        "object": "chat.completion.chunk",
        "created": truth["created"],
        "model": truth["model"],
    }
    if truth["system_fingerprint"] is not None or rng.random() < 0.5:
        top["system_fingerprint"] = truth["system_fingerprint"]
    if truth["service_tier"] is not None:
        top["service_tier"] = truth["service_tier"]
    per_choice = [_choice_events(rng, ch) for ch in truth["choices"]]
    order = list(_interleave(rng, [[i] * len(evs) for i, evs in enumerate(per_choice)]))
    taken = [0] * len(per_choice)
    chunks: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    seen: set[int] = set()
    for i in order:
        # A chunk holds at most one entry per choice; several choices may share a chunk.
        if i in seen or (group and rng.random() < 0.7):
            chunks.append({**top, "choices": group})
            group, seen = [], set()
        group.append(per_choice[i][taken[i]])
        taken[i] += 1
        seen.add(i)
    if group or not chunks:
        chunks.append({**top, "choices": group})
    if rng.random() < 0.3:
        for c in chunks:
            c["usage"] = None
    usage = truth["usage"]
    if usage is not None:
        if rng.random() < 0.3 and len(chunks) > 1:
            # Cumulative usage on an earlier chunk (Groq, DeepSeek): the last one must win.
            chunks[rng.randrange(len(chunks) - 1)]["usage"] = {
                "prompt_tokens": 1,
                "completion_tokens": 1,
                "total_tokens": 2,
            }
        if rng.random() < 0.6:
            chunks.append({**top, "choices": [], "usage": usage})  # include_usage
        else:
            chunks[-1]["usage"] = usage
        if rng.random() < 0.2:
            chunks.append({**top, "choices": [], "usage": None})
    return chunks


def random_stream(rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A random truth and the chunks rendering it."""
    truth = random_truth(rng)
    return truth, render_stream(truth, rng)


# -- hypothesis strategies --------------------------------------------------------------------


def truths() -> st.SearchStrategy[dict[str, Any]]:
    """Random truths (``random_truth`` driven by Hypothesis, so failures shrink)."""
    return st.randoms(use_true_random=False).map(random_truth)


def streams() -> st.SearchStrategy[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """``(truth, chunk dicts)`` pairs: a truth and one random rendering of it."""
    return st.randoms(use_true_random=False).map(random_stream)


# -- structured outputs: live values --------------------------------------------------------------

NOTHING: Any = type("Nothing", (), {"__repr__": lambda self: "NOTHING"})()  # not started yet


def snapshot_json(value: Any) -> Any:
    """A live structured value (``ContentDelta.parsed``...) as plain JSON, now: it changes in
    place as the stream goes on. Pydantic models as their JSON; ``UNSET`` as ``NOTHING``."""
    if value is msgspec.UNSET:
        return NOTHING
    return msgspec.to_builtins(value, enc_hook=_model_json)


def _model_json(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is None:
        raise NotImplementedError(type(value))
    return dump(mode="json")


def assert_grows(before: Any, after: Any, where: str = "$") -> None:
    """``after`` (a later ``snapshot_json``) is ``before`` grown: keys stay, lists lengthen,
    strings extend, any other value never changes (a number may go from a JSON ``0`` to its
    type's ``0.0``: a tagged union's scalar seen before its tag arrived)."""
    if before is NOTHING:
        return
    if isinstance(before, dict):
        assert isinstance(after, dict), f"{where}: {before!r} then {after!r}"
        for key, value in before.items():
            assert key in after, f"{where}: key {key!r} vanished"
            assert_grows(value, after[key], f"{where}.{key}")
    elif isinstance(before, list):
        assert isinstance(after, list) and len(after) >= len(before), f"{where}: shrank"
        for i, value in enumerate(before):
            assert_grows(value, after[i], f"{where}[{i}]")
    elif isinstance(before, str):
        assert isinstance(after, str) and after.startswith(before), (
            f"{where}: {before!r} then {after!r}"
        )
    elif isinstance(before, int | float) and not isinstance(before, bool):
        assert after == before and not isinstance(after, bool), (
            f"{where}: {before!r} then {after!r}"
        )
    else:
        assert type(after) is type(before) and after == before, (
            f"{where}: {before!r} then {after!r}"
        )


def mutate_all(value: Any) -> None:
    """Change every dict and list reachable from ``value`` (through lists, dicts and Structs):
    a key added to each dict, an item to each list."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            item["__mutated__"] = True
        elif isinstance(item, list):
            stack.extend(item)
            item.append("__mutated__")
        elif isinstance(item, msgspec.Struct):
            stack.extend(getattr(item, name) for name in item.__struct_fields__)


def assert_shares_nothing(acc: Any, data: bytes) -> None:
    """The result of ``data`` is built afresh from a state that shares no dict or list with the
    events ``feed()`` returned or with an earlier result: changing all of them changes nothing."""
    events, _ = feed_recovering(acc, [data])
    first = finalize_recovering(acc)
    expected = first.to_json()
    mutate_all(events)
    mutate_all(first)
    assert finalize_recovering(acc).to_json() == expected
