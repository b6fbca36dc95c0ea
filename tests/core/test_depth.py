"""Nesting: a value nested deeper than ``MAX_DEPTH`` is a ``ChunkError``, in every format, by
``feed()`` and by ``add()``, and the same error whatever the caller's stack depth (issue 19).

msgspec decodes about 990 levels from an empty stack and fewer from a deep one, and everything
after decoding recursed once per level from wherever the caller stood: which of "merged",
``ChunkError`` and a ``RecursionError`` escaping ``feed()`` or ``finalize()`` a stream met
depended on the caller. Each case here runs the same bytes from inside 0 to 600 extra Python
frames and requires the same outcome, with only ``ChunkAggError`` raised.

1. ``deeper_than`` and ``check_depth``, against a recursive reference.
2. Chat, legacy completions and the Responses API, by ``feed()``: values just within the bound
   merge; deeper ones, up to the decoder's limit and past it, are one located ``ChunkError``,
   the event dropped whole and the stream going on.
3. The same through ``add()``, with the deeply nested dict a caller's own parser gives.
"""

from __future__ import annotations

import inspect
import json
import random
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from helpers import BASE_SEED

import chunkagg
from chunkagg import (
    Accumulator,
    AutoAccumulator,
    ChunkAggError,
    ChunkError,
    CompletionAccumulator,
    EmptyStreamError,
)
from chunkagg._responses import ResponseAccumulator

# The bound the library documents (chunkagg.MAX_DEPTH); 100 where it is not there yet.
MAX_DEPTH: int = getattr(chunkagg, "MAX_DEPTH", 100)
# Extra Python frames the caller stands in: none, a web framework's worth, and far more.
STACKS = (0, 200, 400, 600)
# Levels of a hostile value: past the bound, around a stack's worth, and the decoder's limit.
TOO_DEEP = (MAX_DEPTH + 1, 300, 700, 960, 990, 5000)

T = TypeVar("T")


def _at_depth(frames: int, run: Callable[[], T]) -> T:
    """``run()`` called from ``frames`` Python frames deeper than here."""
    if frames <= 0:
        return run()
    return _at_depth(frames - 1, run)


def _nested(depth: int, shape: str) -> bytes:
    """JSON text of ``depth`` levels of arrays (``[[...[1]...]]``) or objects."""
    if shape == "array":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _nested_value(depth: int, shape: str) -> Any:
    """The same as a Python value, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = [value] if shape == "array" else {"a": value}
    return value


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# -- 1. the checks ---------------------------------------------------------------------------


def test_deeper_than_counts_levels_of_arrays_and_objects() -> None:
    from chunkagg._core.limits import check_depth, deeper_than

    rng = random.Random(f"{BASE_SEED}/depth")
    tricky = ['a"[{', "]]}}\\", '\\"[', "é", "", "{[\\\\"]

    def gen(levels: int) -> Any:
        roll = rng.random()
        if levels <= 0 or roll < 0.2:
            return rng.choice([1, 2.5, None, True, *tricky])
        if roll < 0.6:
            return [gen(levels - 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(tricky) + str(i): gen(levels - 1) for i in range(rng.randint(0, 3))}

    for n in range(3000):
        value = gen(rng.randint(0, 9))
        depth = _depth(value)
        text = json.dumps(value, ensure_ascii=n % 2 == 0, indent=None if n % 3 else 1).encode()
        for levels in range(11):
            assert deeper_than(text, levels) is (depth > levels), (text, levels)
            if depth > levels and isinstance(value, dict | list):
                with pytest.raises(ChunkError, match="MAX_DEPTH"):
                    check_depth(value, levels)
            else:
                check_depth(value, levels)


def test_check_depth_needs_no_recursion_of_its_own() -> None:
    # From a stack too deep to encode the value at all, the answer is the same.
    from chunkagg._core.limits import check_depth

    value = _nested_value(50_000, "object")
    for frames in (0, 700):
        with pytest.raises(ChunkError, match="MAX_DEPTH") as info:
            _at_depth(frames, lambda: check_depth(value))
        assert "nested deeper than" in info.value.reason


# -- 2. feed() -------------------------------------------------------------------------------

# One event of each format with a hostile value where its merge keeps one, and a good event
# after it; every payload a template with {V} where the value goes.
GOOD = {
    "chat": b'{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"}}]}',
    "completions": b'{"object":"text_completion","choices":[{"index":0,"text":"ok"}]}',
    "responses": (
        b'{"type":"response.created","response":{"id":"r","object":"response",'
        b'"status":"in_progress","output":[]}}'
    ),
}
PLACES: dict[str, tuple[str, bytes]] = {
    "chat-delta-key": (
        "chat",
        b'{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"x":{V}}}]}',
    ),
    "chat-top-key": ("chat", b'{"object":"chat.completion.chunk","choices":[],"x":{V}}'),
    "chat-extension": (
        "chat",
        b'{"object":"chat.completion.chunk","choices":[],"x_groq":{"a":{V}}}',
    ),
    "chat-extra-content": (
        "chat",
        b'{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":'
        b'[{"index":0,"id":"c","function":{"name":"f","arguments":""},'
        b'"extra_content":{"g":{V}}}]}}]}',
    ),
    "chat-usage": (
        "chat",
        b'{"object":"chat.completion.chunk","choices":[],'
        b'"usage":{"prompt_tokens":1,"cost_details":{"a":{V}}}}',
    ),
    "chat-error": (
        "chat",
        b'{"object":"chat.completion.chunk","choices":[],'
        b'"error":{"message":"m","metadata":{"a":{V}}}}',
    ),
    "completions-choice-key": (
        "completions",
        b'{"object":"text_completion","choices":[{"index":0,"text":"","x":{V}}]}',
    ),
    "completions-usage": (
        "completions",
        b'{"object":"text_completion","choices":[],'
        b'"usage":{"prompt_tokens":1,"cost_details":{"a":{V}}}}',
    ),
    "responses-response-key": (
        "responses",
        b'{"type":"response.in_progress","response":{"id":"r","object":"response",'
        b'"status":"in_progress","x":{V}}}',
    ),
    "responses-event-key": (
        "responses",
        b'{"type":"response.in_progress","x":{V},"response":{"id":"r","object":"response"}}',
    ),
    "responses-annotation": (
        "responses",
        b'{"type":"response.output_text.annotation.added","output_index":0,"content_index":0,'
        b'"annotation_index":0,"annotation":{"type":"url_citation","v":{V}}}',
    ),
    "responses-item": (
        "responses",
        b'{"type":"response.output_item.added","output_index":0,'
        b'"item":{"type":"message","id":"m","content":[],"x":{V}}}',
    ),
    "responses-unknown-event": ("responses", b'{"type":"response.audio.delta","x":{V}}'),
    "responses-terminal": (
        "responses",
        b'{"type":"response.completed","response":{"id":"r","object":"response",'
        b'"status":"completed","output":[],"metadata":{"a":{V}}}}',
    ),
}
ACCUMULATORS: dict[str, Callable[[], Any]] = {
    "chat": Accumulator,
    "completions": CompletionAccumulator,
    "responses": ResponseAccumulator,
}


def _stream(place: str, depth: int, shape: str) -> tuple[bytes, int, bytes]:
    """A stream of a good event, the hostile one and a good one; the hostile one's offset; the
    stream without it."""
    api, template = PLACES[place]
    good = b"data: " + GOOD[api] + b"\n\n"
    bad = b"data: " + template.replace(b"{V}", _nested(depth, shape)) + b"\n\n"
    return good + bad + good, len(good), good + good


def _outcome(make: Callable[[], Any], data: bytes, frames: int) -> tuple[Any, ...]:
    """Feed ``data`` whole, going on after each error, then finalize and encode the result,
    all from ``frames`` frames deeper; what happened, with anything but ``ChunkAggError``
    raised as it is."""

    def run() -> tuple[Any, ...]:
        acc = make()
        errors: list[tuple[str, str, Any, Any]] = []
        chunk = data
        while True:
            try:
                acc.feed(chunk)
            except ChunkAggError as exc:
                errors.append((type(exc).__name__, exc.reason, exc.event, exc.offset))
                chunk = b""
                continue
            break
        try:
            result = acc.finalize()
        except EmptyStreamError as exc:
            return (errors, type(exc).__name__)
        return (
            errors,
            json.loads(result.to_json()),
            result.to_dict() == json.loads(result.to_json()),
        )

    return _at_depth(frames, run)


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("place", list(PLACES))
def test_too_deep_is_one_located_chunk_error_at_any_stack_depth(place: str, shape: str) -> None:
    api = PLACES[place][0]
    _within_the_bound_merges(place, shape)
    for depth in TOO_DEEP:
        data, offset, without = _stream(place, depth, shape)
        outcomes = {frames: _outcome(ACCUMULATORS[api], data, frames) for frames in STACKS}
        where = f"{place} {shape} depth={depth}"
        first = outcomes[0]
        assert all(o == first for o in outcomes.values()), (where, outcomes)
        errors = first[0]
        assert len(errors) == 1, (where, errors)
        kind, reason, event, at = errors[0]
        assert (kind, event, at) == ("ChunkError", 2, offset), (where, errors)
        assert f"nested deeper than {MAX_DEPTH} levels" in reason, (where, reason)
        # Dropped whole: the result is the stream's without it.
        assert first[1:] == _outcome(ACCUMULATORS[api], without, 0)[1:], where


def _within_the_bound_merges(place: str, shape: str) -> None:
    """A value just within the bound merges, the same from every stack depth, and the result
    encodes from there."""
    # The harness leaves the merge room: 600 frames over pytest's own are well within the
    # interpreter's limit, so a failure here is the library's.
    assert len(inspect.stack()) + max(STACKS) + 2 * MAX_DEPTH < sys.getrecursionlimit()
    api = PLACES[place][0]
    # The value the merge keeps is the hostile one plus the levels around it in its template
    # (at most two): this one stays within MAX_DEPTH at every place.
    data, offset, _ = _stream(place, MAX_DEPTH - 5, shape)
    data = data[: data.index(b"\n\n", offset) + 2]  # the good event, then this one
    outcomes = {frames: _outcome(ACCUMULATORS[api], data, frames) for frames in STACKS}
    assert all(o == outcomes[0] for o in outcomes.values()), (place, outcomes)
    errors = outcomes[0][0]
    if place == "chat-error":
        assert [e[0] for e in errors] == ["StreamError"], errors
    else:
        assert errors == [], (place, errors)
        assert outcomes[0][2] is True


# -- 3. add() --------------------------------------------------------------------------------


def _add_outcome(make: Callable[[], Any], items: list[Any], frames: int) -> tuple[Any, ...]:
    def run() -> tuple[Any, ...]:
        acc = make()
        errors: list[tuple[str, str, Any, Any]] = []
        for item in items:
            try:
                acc.add(item)
            except ChunkAggError as exc:
                errors.append((type(exc).__name__, exc.reason, exc.event, exc.offset))
        result = acc.finalize()
        return (errors, json.loads(result.to_json()))

    return _at_depth(frames, run)


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("place", list(PLACES))
def test_add_with_a_deeply_nested_dict_at_any_stack_depth(place: str, shape: str) -> None:
    api, template = PLACES[place]
    good = json.loads(GOOD[api])
    makers: list[Callable[[], Any]] = [ACCUMULATORS[api], AutoAccumulator]
    for depth in (MAX_DEPTH + 1, 960, 5000):
        # What a caller's own JSON parser gives: a dict with the nested value in place.
        bad = json.loads(template.replace(b"{V}", b"null"))
        _put(bad, _nested_value(depth, shape))
        for make in makers:
            outcomes = {f: _add_outcome(make, [good, bad, good], f) for f in STACKS}
            where = f"{place} {shape} depth={depth} {make.__name__}"
            assert all(o == outcomes[0] for o in outcomes.values()), (where, outcomes)
            errors = outcomes[0][0]
            assert [(e[0], e[2], e[3]) for e in errors] == [("ChunkError", 2, None)], where
            assert f"nested deeper than {MAX_DEPTH} levels" in errors[0][1], where


def _put(doc: Any, value: Any) -> None:
    """Replace the one ``null`` in ``doc`` with ``value``."""
    stack = [doc]
    while stack:
        node = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, item in pairs:
            if item is None:
                node[key] = value
                return
            if isinstance(item, dict | list):
                stack.append(item)
    raise AssertionError("no null to replace")


@pytest.mark.parametrize("api", ["chat", "completions", "responses"])
def test_an_unknown_key_first_scalar_then_nested_too_deep(api: str) -> None:
    # An unknown key's field is narrower while its values are scalars: a later array or object
    # widens it, and one nested too deep is still refused, located, the event dropped whole.
    template = {
        "chat": b'{"object":"chat.completion.chunk","x":{V},'
        b'"choices":[{"index":0,"delta":{"content":"a","y":{V}}}]}',
        "completions": b'{"object":"text_completion","x":{V},'
        b'"choices":[{"index":0,"text":"a","y":{V}}]}',
        "responses": b'{"type":"response.in_progress","x":{V},'
        b'"response":{"id":"r","object":"response","y":{V}}}',
    }[api]
    values = [b"1", b'"s"', b'{"k":[1]}', _nested(MAX_DEPTH + 1, "array"), b"2.5", b'[{"k":2}]']
    events = [b"data: " + template.replace(b"{V}", v) + b"\n\n" for v in values]
    data = b"".join(events)
    without = b"".join(e for i, e in enumerate(events) if i != 3)
    outcomes = [_outcome(ACCUMULATORS[api], data, frames) for frames in STACKS]
    assert all(o == outcomes[0] for o in outcomes), outcomes
    errors = outcomes[0][0]
    assert [(e[0], e[2], e[3]) for e in errors] == [("ChunkError", 4, len(b"".join(events[:3])))]
    assert outcomes[0][1:] == _outcome(ACCUMULATORS[api], without, 0)[1:]


def test_a_continuing_tool_call_delta_too_deep_is_dropped_whole() -> None:
    # Gemini (via Orq) sends extra_content on the delta that starts a call; a later delta may
    # carry one too, and is then refused before any of it is merged (its arguments included).
    def chunk(call: bytes) -> bytes:
        return (
            b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":'
            b'{"tool_calls":[' + call + b"]}}]}\n\n"
        )

    start = chunk(b'{"index":0,"id":"c","function":{"name":"f","arguments":""}}')
    deep = _nested(MAX_DEPTH + 1, "object")
    bad = chunk(b'{"index":0,"function":{"arguments":"ab"},"extra_content":{"g":' + deep + b"}}")
    good = chunk(b'{"index":0,"function":{"arguments":"cd"}}')
    outcomes = [_outcome(Accumulator, start + bad + good, frames) for frames in STACKS]
    assert all(o == outcomes[0] for o in outcomes), outcomes
    errors, result = outcomes[0][:2]
    assert [(e[0], e[2], e[3]) for e in errors] == [("ChunkError", 2, len(start))]
    call = result["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["arguments"] == "cd"
