"""The merge rules of fields no format rule names (``chunkagg._core.rules``), through chat's
``Accumulator``: the generic rule inside a delta and elsewhere, the rule a caller chooses for a
field (``rules=``) and its checks, and a property: unknown keys at every level of generated
streams lose no value, merged as the generic rule says and re-encoded as sent.

Chat's rules for its known extensions are tests/chat/test_extensions.py.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from helpers import (
    Split,
    assert_reencoded_keeps,
    canonical,
    choice,
    chunk,
    feed_all,
    merge_chunks,
    random_stream,
    sse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkagg import Accumulator

# -- the generic rule, and the rule a caller chooses ----------------------------------------------


def test_generic_rule_in_a_delta_and_elsewhere() -> None:
    completion = merge_chunks(
        chunk(
            {**choice(content="x", note="a", tags=["t1"], meta={"s": "p", "n": 1}), "rank": 1},
            stage="one",
        ),
        chunk(
            {**choice(note="b", tags=["t2"], meta={"s": "q", "n": None}), "rank": None},
            stage="two",
        ),
    )
    message = completion.choices[0].message
    assert message.extra == {"note": "ab", "tags": ["t1", "t2"], "meta": {"s": "pq", "n": 1}}
    assert completion.choices[0].extra == {"rank": 1}
    assert completion.extra == {"stage": "two"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("append", "thinkingthinkingdone"), ("last", "done"), ("first", "thinking")],
)
def test_a_caller_chooses_the_rule_of_a_field(rule: Any, expected: str) -> None:
    stream = [
        chunk(choice(content="a", status="thinking")),
        chunk(choice(content="b", status="thinking")),
        chunk(choice(status="done")),
    ]
    completion = merge_chunks(*stream, rules={"status": rule})
    assert completion.choices[0].message.extra == {"status": expected}


def test_merge_rule_for_objects_and_for_known_extensions() -> None:
    stream = [
        chunk(choice(content="a"), meta={"a": 1, "b": 1}, citations=["u1"]),
        chunk(choice(content="b"), meta={"b": 2, "c": None}, citations=["u2"]),
    ]
    completion = merge_chunks(*stream, rules={"meta": "merge", "citations": "append"})
    assert completion.extra == {"meta": {"a": 1, "b": 2}}
    assert completion.citations == ["u1", "u2"]


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ({"content": "last"}, "its own merge rule"),
        ({"tool_calls": "append"}, "its own merge rule"),
        ({"x": "sum"}, "must be one of"),
    ],
)
def test_rules_are_checked(rules: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Accumulator(rules=rules)


# -- no value lost, whatever the keys -------------------------------------------------------------


# Names chunkagg has never heard of, some needing a renamed field (not identifiers).
NAMES = ["zz_one", "zz-two", "κλειδί", "with space", "class", "extra", "_private", "to_dict"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["str", "str", "int", "float", "bool", "null", "list", "dict"])
    if kind == "str":
        return rng.choice(["", "a", "bé", "日本", "😀", '"q"\\'])
    if kind == "int":
        return rng.randint(-(2**40), 2**40)
    if kind == "float":
        return rng.choice([0.5, -1e300, 3.25])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null" or depth > 2:
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(NAMES): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _generic(current: Any, new: Any) -> Any:
    """The generic rule inside a delta, written from its definition (extensions.md)."""
    if new is None:
        return current
    if isinstance(new, str) and isinstance(current, str):
        return current + new
    if isinstance(new, list) and isinstance(current, list):
        return current + new
    if isinstance(new, dict):
        merged = dict(current) if isinstance(current, dict) else {}
        for key, item in new.items():
            if item is not None:
                merged[key] = _generic(merged.get(key), item)
        return merged
    return new


def _maybe_add(rng: random.Random, target: dict[str, Any], p: float = 0.3) -> dict[str, Any]:
    added = {}
    if rng.random() < p:
        for _ in range(rng.randint(1, 2)):
            added[rng.choice(NAMES)] = _value(rng)
        target.update(added)
    return added


def _last(expected: dict[str, Any], added: dict[str, Any]) -> None:
    for key, value in added.items():
        if value is not None:
            expected[key] = value


def with_unknown_keys(
    rng: random.Random,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A generated stream with unknown keys at every level, and the completion it must give."""
    truth, chunks = random_stream(rng)
    chunks = orjson.loads(orjson.dumps(chunks))
    expected = orjson.loads(orjson.dumps(truth))
    by_index = {ch["index"]: ch for ch in expected["choices"]}
    taken: dict[tuple[int, str], int] = {}
    usage = None
    for body in chunks:
        _last(expected, _maybe_add(rng, body))
        for entry in body["choices"]:
            want = by_index[entry["index"]]
            _last(want, _maybe_add(rng, entry))
            delta = entry["delta"]
            for key, value in _maybe_add(rng, delta).items():
                want["message"][key] = _generic(want["message"].get(key), value)
            for tc in delta.get("tool_calls") or []:
                call = want["message"]["tool_calls"][tc["index"]]
                _last(call, _maybe_add(rng, tc, 0.2))
                _last(call["function"], _maybe_add(rng, tc.setdefault("function", {}), 0.2))
            for key in ("content", "refusal"):
                entries = (entry.get("logprobs") or {}).get(key) or []
                for token in entries:
                    at = taken.get((entry["index"], key), 0)
                    taken[entry["index"], key] = at + 1
                    added = _maybe_add(rng, token, 0.2)
                    want["logprobs"][key][at].update(added)
        if body.get("usage") is not None:
            _maybe_add(rng, body["usage"])
            for part in ("prompt_tokens_details", "completion_tokens_details"):
                if body["usage"].get(part) is not None:
                    _maybe_add(rng, body["usage"][part])
            usage = body["usage"]
    expected["usage"] = usage
    return chunks, expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_unknown_keys_at_every_level_lose_no_value(rng: random.Random, data: st.DataObject) -> None:
    chunks, expected = with_unknown_keys(rng)
    stream = sse(*chunks)
    split = data.draw(st.sampled_from(["whole", "bytewise", "random"]))
    acc = Accumulator()
    got = feed_all(
        acc, stream, Split(split, rng.randrange(1 << 30)) if split == "random" else split
    )
    assert canonical(acc.finalize()) == canonical(expected)
    assert len(got) == len(chunks)
    for original, decoded in zip(chunks, got, strict=True):
        assert_reencoded_keeps(original, decoded)
