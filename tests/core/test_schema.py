"""Decoding (``chunkagg._core.schema``), through chat's ``Accumulator`` and ``decode_chunk``: a
key nobody declared is kept (or dropped when no Struct can declare it), a mistyped OpenAI field is
a bad chunk, ``add()`` checks what it is handed as ``feed()`` checks bytes, and 10,000 levels of
nesting are a bad chunk, never a ``RecursionError``.

The merge rules of kept keys are tests/core/test_rules.py; decoding errors' positions are
tests/core/test_errors.py.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from helpers import canonical, choice, chunk, feed_recovering, merge_chunks, sse

import chunkagg
from chunkagg import (
    Accumulator,
    ChunkAggError,
    ChunkError,
    LimitExceededError,
    ResponseBody2,
    StreamError,
    decode_chunk,
)

J1 = orjson.dumps(chunk(choice(0, role="assistant", content="Hel")))
J2 = orjson.dumps(chunk(choice(0, content="lo")))


# -- keys and types: what is kept, dropped, refused -----------------------------------------------


def test_a_field_defined_by_openai_of_the_wrong_type_is_still_a_chunk_error() -> None:
    acc = Accumulator()
    acc.feed(sse(chunk(choice(content="ok", extra_key=1)), done=False))
    with pytest.raises(ChunkError, match="Expected `str"):
        acc.feed(sse(chunk(choice(content=5, extra_key=2)), done=False))
    assert acc.finalize().choices[0].message.extra == {"extra_key": 1}


def test_keys_no_struct_can_declare_are_dropped_and_nothing_else() -> None:
    weird: dict[str, Any] = {'a"b': 1, "c\\d": 2, "tab\there": 3}
    completion = merge_chunks(chunk(choice(content="hi", **weird, ok=4), **weird))
    data = completion.to_dict()
    assert data["choices"][0]["message"]["ok"] == 4
    assert data["choices"][0]["message"]["content"] == "hi"
    assert not any(k in orjson.dumps(data).decode() for k in ("a\\", "c\\\\d", "tab"))


def test_a_stream_that_invents_keys_without_end_hits_a_limit() -> None:
    limit = chunkagg.MAX_EXTRA_FIELDS
    acc = Accumulator()
    errors = []
    for i in range(limit + 5):
        try:
            acc.feed(sse(chunk(choice(content="x"), **{f"k{i}": i}), done=False))
        except LimitExceededError as exc:
            errors.append(exc)
    assert errors and errors[0].limit == "MAX_EXTRA_FIELDS"
    assert errors[0].event == limit + 1
    completion = acc.finalize()
    assert len(completion.extra) == limit
    assert completion.choices[0].message.content == "x" * limit


# -- add() checks what it is handed ---------------------------------------------------------------


def test_hand_built_chunk_of_wrong_types_is_refused_whole() -> None:
    # msgspec does not check types in __init__: such a chunk half-merged, then every
    # finalize() raised TypeError.
    from chunkagg import ChunkChoice, Delta

    acc = Accumulator()
    acc.add(chunk(choice(0, content="a")))
    bad = ResponseBody2(choices=[ChunkChoice(delta=Delta(content="ok", refusal=5))])  # type: ignore[arg-type]
    with pytest.raises(ChunkError, match="refusal"):
        acc.add(bad)
    message = acc.finalize().choices[0].message
    assert (message.content, message.refusal) == ("a", None)


def test_a_lone_surrogate_is_refused_by_add_as_by_feed() -> None:
    text = '{"choices":[{"index":0,"delta":{"content":"\\ud83d"}}]}'
    with pytest.raises(ChunkError):
        Accumulator().feed(b"data: " + text.encode() + b"\n\n")
    with pytest.raises(ChunkError):
        Accumulator().add(json.loads(text))


def test_add_takes_a_whole_number_float_where_an_int_is_due_for_dicts_too() -> None:
    acc = Accumulator()
    acc.add({"id": "x", "created": 1.0, "choices": [{"index": 0.0, "delta": {"content": "a"}}]})
    acc.add({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0.0, "id": "c"}]}}]})
    completion = acc.finalize()
    assert (completion.created, type(completion.created)) == (1, int)
    assert completion.choices[0].message.tool_calls is not None
    with pytest.raises(ChunkError):
        Accumulator().add({"choices": [{"index": "0", "delta": {}}]})
    with pytest.raises(ChunkError):
        Accumulator().add({"choices": [{"index": 0.5, "delta": {}}]})


# -- 10,000 levels of nesting ---------------------------------------------------------------------


NESTED_10000 = {
    "array-in-unknown-key": b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "object-in-unknown-key": b'{"x":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
    "object-in-logprobs": (
        b'{"choices":[{"index":0,"delta":{},"logprobs":'
        + b'{"a":' * 10_000
        + b"1"
        + b"}" * 10_000
        + b"}]}"
    ),
    "error-event": b'{"error":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_000 + b"}",
}


@pytest.mark.parametrize("name", list(NESTED_10000))
def test_10000_levels_of_nesting_are_a_chunk_aggregation_error(name: str) -> None:
    # Found by the fuzzer: msgspec's RecursionError escaped feed(), decode_chunk() and add().
    payload = NESTED_10000[name]
    event = b"event: error\n" if name == "error-event" else b""
    data = sse(J1, done=False) + event + b"data: " + payload + b"\n\n" + sse(J2)
    acc = Accumulator()
    _, errors = feed_recovering(acc, [data])
    assert [type(e) for e in errors] in ([ChunkError], [StreamError]), errors
    assert (errors[0].event, errors[0].offset) == (2, len(sse(J1, done=False)))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "Hello"


def _nested(shape: str, depth: int = 10_000) -> Any:
    """A chunk dict with ``depth`` levels under an unknown key, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = [value] if shape == "array" else {"a": value}
    return {"x": value, "choices": []}


@pytest.mark.parametrize("shape", ["array", "object"])
def test_10000_levels_of_nesting_through_decode_chunk_and_add(shape: str) -> None:
    payload = NESTED_10000[f"{shape}-in-unknown-key"]
    try:
        decoded = decode_chunk(payload)
    except ChunkError:
        pass
    else:
        Accumulator().add(decoded)
    acc = Accumulator()
    try:
        acc.add(_nested(shape))  # a dict, as the caller's own JSON parser would give it
    except ChunkAggError as exc:
        assert (exc.event, exc.offset) == (1, None)
    acc.add(orjson.loads(J2))
    assert canonical(acc.finalize())["choices"][0]["message"]["content"] == "lo"
