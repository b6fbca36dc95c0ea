"""The Anthropic Messages format under a hostile or broken server.

1. Every prefix, byte by byte, of every synthetic case: only a located ``ChunkAggError``
   (``IncompleteStreamError`` for the event cut short) or the message the events that arrived
   build (``make.py``'s reference).
2. ``tests/fuzz.py``'s mutation families (flipped bytes, cuts, dropped and swapped events,
   mistyped fields, deep nesting, huge numbers, absurd indices, SSE tokens, splices...) over the
   synthetic cases and generated streams: only located ``ChunkAggError``s, the same outcome for
   every split, a result that encodes, ``add()`` of every payload raising nothing else.
3. Nesting near msgspec's limit inside a block, a delta, a citation, the message and the usage:
   kept exactly up to ``MAX_DEPTH`` levels (the core's bound, as in every format), past it one
   located ``ChunkError`` with that event dropped whole; the same for every split and every depth
   of the caller's stack.
4. Hostile indices (negative, huge, past 64 bits, floats, strings, booleans, null, containers)
   on every event type that has one: one located error, that event dropped whole.
5. A wrong type in every field of every event kind: only located ``ChunkAggError``s, the same
   for every split; an event accepted merges by the rules (the reference's message).
6. The bounds: ``max_blocks`` (a block index at or past it is refused, the rest merges) and
   ``max_text_size`` (docs/limits.md's rule: the delta that crosses it merges, every later one
   that adds some is dropped whole, located).

Linear time in the stream's length is not timed here (``benchmarks/linearity.py`` measures it).
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from typing import Any, TypeVar

import fuzz
import msgspec
import orjson
import pytest
from helpers import BASE_SEED, Split, replace_at, walk
from messages_helpers import (
    CASES,
    MAKE,
    MANIFEST,
    Obj,
    check_against_reference,
    dumps,
    event_offsets,
    events_of,
    expected,
    feed,
    finalized,
    generate,
    sse,
)

import chunkagg
from chunkagg import (
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    LimitExceededError,
    MessageAccumulator,
)
from chunkagg._core import limits

T = TypeVar("T")
Located = tuple[str, int | None, int | None]


def _at_depth(frames: int, run: Callable[[], T]) -> T:
    """``run()`` called from ``frames`` Python frames deeper than here."""
    if frames <= 0:
        return run()
    return _at_depth(frames - 1, run)


def _outcome(
    data: bytes, split: Split | str = "whole", **options: Any
) -> tuple[list[Located], Obj | None, MessageAccumulator]:
    """Feed ``data`` in the pieces ``split`` asks for, going on after each error; finalize
    (again after each error). The errors (type, event, offset), each checked to be a located
    ``ChunkAggError``; the result (``None``: nothing merged); the accumulator."""
    acc = MessageAccumulator(**options)
    _, errors = feed(acc, data, split)
    result = finalized(acc, errors)
    located: list[Located] = []
    for error in errors:
        assert isinstance(error, ChunkAggError)
        if isinstance(error, EmptyStreamError):
            located.append((type(error).__name__, None, None))
            continue
        assert error.event is not None and 1 <= error.event <= acc.event_count, error
        assert error.offset is not None and 0 <= error.offset <= len(data), error
        assert f"event {error.event}, byte offset {error.offset}" in str(error)
        located.append((type(error).__name__, error.event, error.offset))
    if result is not None:
        again = acc.finalize().to_dict()  # a second finalize() returns the result again
        assert again == result == acc.snapshot().to_dict()
        assert msgspec.json.decode(acc.finalize().to_json()) == result
    return located, result, acc


# -- 1. every prefix ------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["lf", "crlf", "data-only"])
@pytest.mark.parametrize("name", CASES)
def test_every_byte_prefix_is_an_error_or_what_arrived(name: str, framing: str) -> None:
    """Cut after any byte: the events whose blank line arrived merge as the reference says;
    the event cut short is an ``IncompleteStreamError`` at its number and offset, or, when its
    ``data:`` line is whole, merged too (a last event without its blank line)."""
    events = events_of(name)
    eol = b"\r\n" if framing == "crlf" else b"\n"
    lines = framing != "data-only"
    data = sse(events, event_lines=lines, eol=eol)
    starts = [*event_offsets(events, event_lines=lines, eol=eol), len(data)]
    error_at = MANIFEST[name]["error_event"]
    k = 0
    for cut in range(len(data) + 1):
        while k < len(events) and starts[k + 1] <= cut:
            k += 1
        where = f"{name} ({framing}) cut at byte {cut}, after {k} whole events"
        located, result, _ = _outcome(data[:cut])
        complete = [e for e in located if e[0] not in ("StreamError", "EmptyStreamError")]
        if error_at is not None and error_at <= k:
            assert ("StreamError", error_at, starts[error_at - 1]) in located, where
        tail = data[starts[k] : cut] if k < len(events) else b""
        data_line_whole = (b"data: " + dumps(events[k])) in tail if tail else False
        if complete and complete[-1][0] == "IncompleteStreamError":
            assert complete == [("IncompleteStreamError", k + 1, starts[k])], (where, located)
            check_against_reference(result, events[:k], where)
        else:
            assert complete == [], (where, located)
            arrived = events[: k + 1] if data_line_whole else events[:k]
            if error_at is not None and len(arrived) >= error_at:
                arrived = events[:error_at]
            if result is None:
                assert MAKE.accumulate(arrived).message is None, where
            else:
                check_against_reference(result, arrived, where)


# -- 2. mutation fuzzing --------------------------------------------------------------------------

FUZZ_INPUTS = 60  # per family
FUZZ_SEED = BASE_SEED


def _seed_blocks(rng: random.Random) -> list[bytes]:
    """One stream as event blocks: a synthetic case (in some framing) or a generated one."""
    if rng.random() < 0.5:
        name = rng.choice(CASES)
        events = events_of(name)
    else:
        events = generate(rng).events
    framing = rng.choice(["lf", "lf", "crlf", "cr", "data-only", "ndjson"])
    if framing == "ndjson":
        return [orjson.dumps(e) + b"\n" for e in events]
    eol = {"cr": b"\r", "crlf": b"\r\n"}.get(framing, b"\n")
    return [sse([e], event_lines=framing != "data-only", eol=eol) for e in events]


def _fuzz_input(family: str, index: int) -> tuple[bytes, Obj, Split]:
    rng = random.Random(f"{FUZZ_SEED}/messages/{family}/{index}")
    data = fuzz.FAMILIES[family](rng, _seed_blocks(rng))
    options: Obj = {"track": rng.random() < 0.3}
    if rng.random() < 0.3:
        choices = {
            "max_event_size": [1, 16, 64, 512, 4096],
            "max_blocks": [1, 2, 3, 1024],
            "max_text_size": [1, 16, 256, 4096],
        }
        options.update({k: rng.choice(v) for k, v in choices.items() if rng.random() < 0.5})
    return data, options, Split("random", rng.randrange(1 << 30))


def _fuzz_outcome(data: bytes, split: Split | str, options: Obj) -> tuple[Any, ...]:
    located, result, acc = _outcome(data, split, **options)
    decoded_events = acc.event_count
    updates = len(acc.take_events()) if options.get("track") else 0
    return located, result, decoded_events, acc.stopped, updates


def _add_payloads(data: bytes, options: Obj) -> None:
    """``add()`` every line that parses as a JSON object, and ``decode_message_event`` of every
    payload-like line: only ``ChunkAggError`` escapes, located by event number alone."""
    acc = MessageAccumulator(**{k: v for k, v in options.items() if k != "max_event_size"})
    added = 0
    for line in data.replace(b"\r", b"\n").split(b"\n")[:500]:
        payload = line[5:] if line.startswith(b"data:") else line
        if not payload.strip():
            continue
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            doc = None
        try:
            chunkagg.decode_message_event(payload)
        except ChunkError as exc:
            assert (exc.event, exc.offset) == (None, None)
        if isinstance(doc, dict):
            added += 1
            try:
                acc.add(doc)
            except ChunkAggError as exc:
                assert (exc.event, exc.offset) == (added, None), exc
    with contextlib.suppress(EmptyStreamError):
        acc.finalize().to_json()


@pytest.mark.parametrize("family", list(fuzz.FAMILIES))
def test_mutated_streams_raise_only_located_chunkagg_errors_the_same_for_every_split(
    family: str,
) -> None:
    found: list[str] = []
    for index in range(FUZZ_INPUTS):
        data, options, split = _fuzz_input(family, index)
        where = (
            f"{family}/{index} ({len(data)} bytes, options={options}; replay with "
            f"CHUNKAGG_SEED={FUZZ_SEED}): {data[:160]!r}"
        )
        try:
            whole = _fuzz_outcome(data, "whole", options)
            assert _fuzz_outcome(data, split, options) == whole, "the random split differs"
            if len(data) <= 4096:
                assert _fuzz_outcome(data, "bytewise", options) == whole, "bytewise differs"
            _add_payloads(data, options)
        except AssertionError as exc:
            found.append(f"{where}\n{exc}")
        except Exception as exc:  # anything else escaping is the bug this test looks for
            found.append(f"{where}\n{type(exc).__name__} escaped: {exc!r:.300}")
    assert not found, f"{len(found)} violations:\n" + "\n\n".join(found[:3])


# -- 3. nesting -----------------------------------------------------------------------------------

# The nesting a value may have (chunkagg._core.limits.MAX_DEPTH, the same bound in every format):
# a value nested deeper is a bad event (ChunkError), whatever the split and the caller's stack.
MAX_DEPTH: int = getattr(limits, "MAX_DEPTH", 100)
DEPTHS = (10, 50, MAX_DEPTH + 1, 500, 990, 999, 1000, 1001, 5000)


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _depth(value: Any) -> int:
    """How many levels of arrays and objects ``value`` nests (without recursion)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            level += 1
            deepest = max(deepest, level)
            todo += [(v, level) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def _deep_value(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# Where the deep value goes: the event (``DEEP`` in place of the value), where it goes in the
# plain text stream (pings left out), and whether it replaces the event there.
_PLACES: dict[str, tuple[bytes, int, bool]] = {
    "message": (
        b'{"type":"message_start","message":{"id":"msg_deep","type":"message","role":'
        b'"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
        b'"usage":{"input_tokens":1,"output_tokens":1},"v":DEEP}}',
        0,
        True,
    ),
    "block": (
        b'{"type":"content_block_start","index":1,"content_block":{"type":"novel","v":DEEP}}',
        -2,
        False,
    ),
    "delta": (
        b'{"type":"content_block_delta","index":0,"delta":{"type":"future_delta","v":DEEP}}',
        2,
        False,
    ),
    "citation": (
        b'{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta",'
        b'"citation":{"type":"char_location","v":DEEP}}}',
        2,
        False,
    ),
    "usage": (
        b'{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        b'"usage":{"output_tokens":38,"v":DEEP}}',
        -2,
        True,
    ),
}


def _nesting_stream(where: str, depth: int) -> tuple[bytes, int, list[Obj], int]:
    """A good text stream with the deep event placed (inserted, or replacing the one it
    stands for): the bytes, the deep event's number, the other events and its offset."""
    events = [e for e in events_of("plain_text") if e["type"] != "ping"]
    raw, at, replaces = _PLACES[where]
    at %= len(events)
    before, after = events[:at], events[at + replaces :]
    head = sse(before)
    kind = json.loads(raw.replace(b"DEEP", b"1"))["type"]
    bad = b"event: " + kind.encode() + b"\ndata: " + raw.replace(b"DEEP", _deep(depth)) + b"\n\n"
    return head + bad + sse(after), len(before) + 1, [*before, *after], len(head)


def _runs(data: bytes, depth: int) -> dict[tuple[int, str], tuple[list[Located], Obj | None]]:
    """The outcome of ``data`` for two splits, each from three depths of the caller's stack."""
    out = {}
    for frames in (0, 300, 600):
        for split in ("whole", Split("random", BASE_SEED + depth)):

            def run(split: Split | str = split) -> tuple[list[Located], Obj | None]:
                located, result, _ = _outcome(data, split)
                return located, result

            out[frames, str(split)] = _at_depth(frames, run)
    return out


@pytest.mark.parametrize("where", list(_PLACES))
def test_nesting_is_kept_up_to_max_depth_and_one_located_chunk_error_past_it(where: str) -> None:
    for depth in DEPTHS:
        data, number, others, offset = _nesting_stream(where, depth)
        outcomes = _runs(data, depth)
        first = outcomes[(0, "whole")]
        assert all(o == first for o in outcomes.values()), (where, depth)
        located, result = first
        if depth > MAX_DEPTH:
            # Refused: one ChunkError at the deep event, which is dropped whole.
            assert located == [("ChunkError", number, offset)], (where, depth, located)
            if where != "message":
                check_against_reference(result, others, f"{where} at depth {depth}")
            continue
        assert located == [], (where, depth, located)
        # Kept: exactly, where the rules put it.
        assert result is not None, (where, depth)
        deep = _deep_value(depth)
        if where == "block":
            assert result["content"][1] == {"type": "novel", "v": deep}, where
        elif where == "delta":
            assert result["content"][0]["v"] == deep, where
        elif where == "citation":
            assert result["content"][0]["citations"] == [{"type": "char_location", "v": deep}]
        elif where == "message":
            assert result["v"] == deep, where
        else:
            assert result["usage"]["v"] == deep, where


@pytest.mark.parametrize("depth", DEPTHS)
def test_tool_input_json_nested_deep_is_parsed_up_to_max_depth(depth: int) -> None:
    """Tool input JSON nested deep, in fragments: parsed when the block stops up to
    ``MAX_DEPTH`` levels; past it never parsed into a value that deep (which no caller could
    walk, encode or compare from a deep stack): a located ``ChunkError``, or the text kept as
    sent; the same for every split; the other blocks merge."""
    raw = '{"a":' * depth + "1" + "}" * depth
    events = [e for e in events_of("tool_use") if e["type"] != "ping"]
    at = next(i for i, e in enumerate(events) if e["type"] == "content_block_start" and i > 1)
    stop = next(i for i, e in enumerate(events) if e["type"] == "content_block_stop" and i > at)
    pieces = [raw[i : i + 997] for i in range(0, len(raw), 997)]
    deltas = [
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": p},
        }
        for p in pieces
    ]
    changed = [*events[: at + 1], *deltas, *events[stop:]]
    data = sse(changed)
    whole = _outcome(data)[:2]
    assert _outcome(data, Split("random", depth))[:2] == whole
    located, result = whole
    assert result is not None
    assert result["content"][0] == expected("tool_use")["content"][0]
    assert all(kind == "ChunkError" for kind, _, _ in located), located
    block = result["content"][1]
    if depth <= MAX_DEPTH:
        assert located == []
        assert block["input"] == orjson.loads(raw)
    elif not located:
        assert raw in block.values(), "neither refused nor kept as sent"
        assert _depth(block["input"]) <= MAX_DEPTH


# -- 4. hostile indices ---------------------------------------------------------------------------

HOSTILE_INDICES: list[Any] = [
    -1,
    -(2**63),
    10**9,
    2**63,
    2**70,
    1.5,
    1.0,
    -0.0,
    "0",
    "1",
    None,
    True,
    False,
    [],
    {},
    [1],
]


def _index_stream(kind: str, index: Any) -> tuple[list[Obj], Obj, int]:
    """Block 0 whole; then ``kind`` with ``index``; then block 1 and the end. The events
    without the hostile one, the hostile one, and its place."""
    block = {"type": "text", "text": ""}
    good: list[Obj] = [
        *events_of("plain_text")[:1],
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "A"}},
        {"type": "content_block_stop", "index": 0},
    ]
    hostile = {
        "content_block_start": {"type": kind, "index": index, "content_block": dict(block)},
        "content_block_delta": {
            "type": kind,
            "index": index,
            "delta": {"type": "text_delta", "text": "X"},
        },
        "content_block_stop": {"type": kind, "index": index},
    }[kind]
    rest: list[Obj] = [
        {"type": "content_block_start", "index": 1, "content_block": dict(block)},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "B"}},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 3},
        },
        {"type": "message_stop"},
    ]
    return [*good, *rest], hostile, len(good)


@pytest.mark.parametrize(
    "kind", ["content_block_start", "content_block_delta", "content_block_stop"]
)
@pytest.mark.parametrize("index", HOSTILE_INDICES, ids=[repr(i) for i in HOSTILE_INDICES])
def test_a_hostile_index_is_one_located_error_and_the_event_is_dropped(
    kind: str, index: Any
) -> None:
    """An index that is no place in ``content`` (negative, huge, not an integer: JSON ``1.0``,
    ``true``, ``"0"``, null) is refused: one located ``ChunkError`` (``LimitExceededError`` for
    one past ``max_blocks``), nothing allocated for it, and the stream goes on as if the event
    had not been sent."""
    others, hostile, at = _index_stream(kind, index)
    events = [*others[:at], hostile, *others[at:]]
    data = sse(events)
    offset = event_offsets(events)[at]
    for split in ("whole", "bytewise", Split("random", 11)):
        located, result, _ = _outcome(data, split)
        assert len(located) == 1, (kind, index, split, located)
        (error_kind, event, where) = located[0]
        assert error_kind in ("ChunkError", "LimitExceededError"), (kind, index, located)
        assert (event, where) == (at + 1, offset), (kind, index, split, located)
        check_against_reference(result, others, f"{kind} index={index!r} split={split}")


def test_a_block_past_max_blocks_is_refused_and_the_rest_merges() -> None:
    """``max_blocks=3``: the fourth block's start is a ``LimitExceededError`` naming the limit,
    its deltas and stop refused with it (they name a block that never started); the three
    blocks and the message's end merge. The default bound is 1024 blocks."""
    blocks = [MAKE.text(f"block {i}") for i in range(4)]
    truth = MAKE.message("max_blocks", blocks, usage_=MAKE.usage(5, 9))
    events = MAKE.render(
        truth,
        MAKE.Style(random.Random(1)),
        start_usage=MAKE.usage(5, 1),
        delta_usage={"output_tokens": 9},
    )
    start = next(
        i for i, e in enumerate(events) if e["type"] == "content_block_start" and e["index"] == 3
    )
    acc = MessageAccumulator(max_blocks=3)
    _, errors = feed(acc, sse(events))
    first = errors[0]
    assert isinstance(first, LimitExceededError)
    assert (first.limit, first.value, first.event) == ("max_blocks", 3, start + 1)
    assert all(isinstance(e, ChunkError | LimitExceededError) for e in errors)
    result = acc.finalize().to_dict()
    assert result == {**truth, "content": blocks[:3]}
    assert chunkagg.DEFAULT_MAX_BLOCKS == 1024
    many = [MAKE.text("") for _ in range(1025)]
    big = MAKE.message("many", many, usage_=MAKE.usage(5, 9))
    events = MAKE.render(
        big,
        MAKE.Style(random.Random(2)),
        start_usage=MAKE.usage(5, 1),
        delta_usage={"output_tokens": 9},
    )
    acc = MessageAccumulator()
    _, errors = feed(acc, sse(events))
    assert errors and isinstance(errors[0], LimitExceededError)
    assert errors[0].limit == "max_blocks"
    assert len(acc.finalize().to_dict()["content"]) == 1024


# -- 5. a wrong type in every field ---------------------------------------------------------------

WRONG: list[Any] = [None, True, -1, 1.5, "x", "", [], {}, {"type": 1}, [{"type": "text"}], 2**70]


def _wrong_type_inputs(rng: random.Random) -> list[tuple[str, list[Obj], int]]:
    """For every case, every event kind and every path in it: the events with that path's
    value replaced by a value of another type (one at random per path)."""
    seen: set[tuple[str, str, tuple[Any, ...]]] = set()
    out: list[tuple[str, list[Obj], int]] = []
    for name in CASES:
        events = events_of(name)
        for k, event in enumerate(events):
            for path, _ in walk(event):
                kind = str(event.get("type"))
                shape = tuple(p if isinstance(p, str) else 0 for p in path)
                sub = (
                    str(event.get("delta", {}).get("type"))
                    if isinstance(event.get("delta"), dict)
                    else ""
                )
                if not path or (kind + sub, name if kind == "message_start" else "", shape) in seen:
                    continue
                seen.add((kind + sub, name if kind == "message_start" else "", shape))
                changed = [
                    *events[:k],
                    replace_at(event, path, rng.choice(WRONG)),
                    *events[k + 1 :],
                ]
                out.append((name, changed, k))
    return out


def test_a_wrong_type_in_any_field_is_a_located_error_or_merged_by_the_rules() -> None:
    rng = random.Random(f"{BASE_SEED}/messages/wrong-types")
    found: list[str] = []
    for name, events, k in _wrong_type_inputs(rng):
        data = sse(events)
        where = f"{name} event {k + 1}: {dumps(events[k])[:300]!r}"
        try:
            located, result, _ = _outcome(data)
            assert _outcome(data, Split("random", rng.randrange(1 << 30)))[:2] == (located, result)
            if not [e for e in located if e[0] not in ("StreamError", "EmptyStreamError")]:
                # Accepted: merged as the rules say, when the rules say anything (they say
                # nothing of events before message_start, which the Anthropic SDK refuses).
                first = next(e for e in events if e.get("type") != "ping")
                if first.get("type") != "message_start":
                    continue
                try:
                    MAKE.accumulate(events)
                except Exception:
                    continue
                check_against_reference(result, _until_error(events), where)
        except AssertionError as exc:
            found.append(f"{where}\n{exc!s:.600}")
        except Exception as exc:
            found.append(f"{where}\n{type(exc).__name__} escaped: {exc!r:.300}")
    assert not found, f"{len(found)} violations:\n" + "\n\n".join(found[:5])


def _until_error(events: list[Obj]) -> list[Obj]:
    for k, event in enumerate(events):
        if event.get("type") == "error":
            return events[: k + 1]
    return events


# -- 6. max_text_size -----------------------------------------------------------------------------


def _delta_size(event: Obj) -> int:
    """What a delta streams against ``max_text_size`` (``MessageAccumulator``'s docstring, and
    docs/limits.md): characters of text, thinking, signatures and tool input JSON; one per
    citation."""
    if event["type"] != "content_block_delta":
        return 0
    delta = event["delta"]
    if delta["type"] == "citations_delta":
        return 1
    for key in ("text", "thinking", "signature", "partial_json"):
        if isinstance(delta.get(key), str):
            return len(delta[key])
    return 0


def _within(events: list[Obj], limit: int) -> tuple[list[Obj], list[int]]:
    """The house rule of docs/limits.md: the event that crosses the bound is merged; every later
    event that adds some is dropped. The events merged, and the numbers of those dropped."""
    kept: list[Obj] = []
    dropped: list[int] = []
    streamed = 0
    for n, event in enumerate(events, 1):
        size = _delta_size(event)
        if size and streamed > limit:
            dropped.append(n)
            continue
        streamed += size
        kept.append(event)
    return kept, dropped


@pytest.mark.parametrize("limit", [1, 16, 64, 200, 100_000])
@pytest.mark.parametrize("name", ["plain_text", "thinking", "tool_use", "web_search", "mcp"])
def test_max_text_size_bounds_what_deltas_stream(name: str, limit: int) -> None:
    """Each delta after the one that crossed ``max_text_size`` is a ``LimitExceededError``
    naming the limit, located, and is dropped whole; the rest of the stream (blocks that come
    whole, the message's end) merges."""
    events = events_of(name)
    kept, dropped = _within(events, limit)
    data = sse(events)
    offsets = event_offsets(events)
    for split in ("whole", Split("random", limit)):
        acc = MessageAccumulator(max_text_size=limit)
        _, errors = feed(acc, data, split)
        assert [(type(e).__name__, e.event, e.offset) for e in errors] == [
            ("LimitExceededError", n, offsets[n - 1]) for n in dropped
        ], (name, limit, split)
        assert all(isinstance(e, LimitExceededError) and e.limit == "max_text_size" for e in errors)
        check_against_reference(acc.finalize().to_dict(), kept, f"{name} limit={limit}")


def test_max_text_size_holds_over_a_long_stream() -> None:
    """50,000 text deltas of 20 characters into ``max_text_size=100_000``: the text stops after
    the delta that crosses the bound, every later delta refused, the end of the message merged."""
    piece = "0123456789abcdefghij"
    events: list[Obj] = [
        events_of("plain_text")[0],
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
    ] * 50_000
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    acc = MessageAccumulator(max_text_size=100_000)
    _, errors = feed(acc, sse(events))
    result = acc.finalize().to_dict()
    assert result["content"][0]["text"] == piece * 5001
    assert len(errors) == 50_000 - 5001
    assert all(isinstance(e, LimitExceededError) for e in errors)
    assert result["stop_reason"] == "max_tokens"


def test_an_error_event_mid_stream_is_a_stream_error_and_the_stream_goes_on() -> None:
    """Nothing lost after a fault: events after the ``error`` event (a server that goes on)
    still merge, and the error is located."""
    events = events_of("error_event")
    assert events[-1]["type"] == "error"
    more: list[Obj] = [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    data = sse([*events, *more])
    for split in ("whole", "bytewise"):
        located, result, _ = _outcome(data, split)
        assert located == [("StreamError", len(events), event_offsets(events)[-1])], split
        check_against_reference(result, [*events[:-1], *more], str(split))
