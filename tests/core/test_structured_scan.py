"""The structured-output core: ``JsonScan`` (one pass over JSON that arrives in pieces, typed as
it goes) and ``Target`` (the final parse and its failure reasons), format-free.

Properties: for any JSON value of a generated type, streamed under any split, the partials only
grow, the last one equals ``msgspec.convert`` of the whole and the final parse, and each array
element is reported once, in order.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import random
from typing import Any, Literal, TypedDict

import msgspec
import pydantic
import pytest
from helpers import assert_grows, snapshot_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from chunkagg._core.jsonscan import JsonScan
from chunkagg._core.targets import ParseFailure, Target, plan


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Leaf(msgspec.Struct):
    n: int
    label: str
    ratio: float | None = None


class Circle(msgspec.Struct, tag="circle"):
    radius: float


class Square(msgspec.Struct, tag="square"):
    side: float


class Tree(msgspec.Struct, rename="camel"):
    title: str
    color: Color
    mode: Literal["a", "b"]
    leaves: list[Leaf]
    shape: Circle | Square
    shapes: list[Circle | Square]
    counts: dict[str, int]
    flags: list[bool]
    maybe: Leaf | None = None
    any_value: Any = None


@dataclasses.dataclass
class LeafDC:
    n: int
    label: str


class LeafTD(TypedDict):
    n: int
    label: str


class LeafModel(pydantic.BaseModel):
    n: int
    label: str


class TreeModel(pydantic.BaseModel):
    title: str
    mode: Literal["a", "b"]
    leaves: list[LeafModel]


_TEXT = st.text(
    alphabet=st.sampled_from([*list('ab "\\/\n\té€😀\u2028'), "\x00", "\x1f"]), max_size=12
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_LEAF = st.fixed_dictionaries(
    {"n": st.integers(-1000, 10**12), "label": _TEXT},
    optional={"ratio": st.none() | st.floats(-1e6, 1e6, allow_nan=False)},
)
_SHAPE = st.one_of(
    st.fixed_dictionaries({"type": st.just("circle"), "radius": st.floats(0, 100)}),
    st.fixed_dictionaries({"type": st.just("square"), "side": st.integers(0, 100)}),
)
_TREE = st.fixed_dictionaries(
    {
        "title": _TEXT,
        "color": st.sampled_from(["red", "blue"]),
        "mode": st.sampled_from(["a", "b"]),
        "leaves": st.lists(_LEAF, max_size=4),
        "shape": _SHAPE,
        "shapes": st.lists(_SHAPE, max_size=3),
        "counts": st.dictionaries(_TEXT, st.integers(), max_size=3),
        "flags": st.lists(st.booleans(), max_size=3),
    },
    optional={"maybe": st.none() | _LEAF, "anyValue": _JSON},
)


def _dump(value: Any, rng: random.Random) -> str:
    """``value`` as JSON text, with keys shuffled, random whitespace and ASCII or raw text."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        inner = ",".join(
            f"{_ws(rng)}{json.dumps(k, ensure_ascii=rng.random() < 0.5)}{_ws(rng)}:"
            f"{_ws(rng)}{_dump(v, rng)}{_ws(rng)}"
            for k, v in items
        )
        return "{" + inner + _ws(rng) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_ws(rng) + _dump(v, rng) + _ws(rng) for v in value) + "]"
    return json.dumps(value, ensure_ascii=rng.random() < 0.5)


def _ws(rng: random.Random) -> str:
    return rng.choice(["", "", "", " ", "\n  ", "\t"])


def _pieces(text: str, rng: random.Random) -> list[str]:
    out = []
    i = 0
    while i < len(text):
        size = rng.choice([1, 1, 2, 3, 5, 8, 40])
        out.append(text[i : i + size])
        i += size
    return out


def _arrays(value: Any, path: str = "$") -> list[tuple[str, int]]:
    """Every ``(array path, index)`` inside a JSON value."""
    out: list[tuple[str, int]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            out.append((path, i))
            out.extend(_arrays(item, f"{path}[{i}]"))
    elif isinstance(value, dict):
        for key, item in value.items():
            out.extend(_arrays(item, f"{path}.{key}"))
    return out


def _scan(tp: Any, pieces: list[str]) -> tuple[JsonScan, list[Any]]:
    scan = JsonScan(plan(tp))
    snapshots = []
    for piece in pieces:
        scan.feed(piece)
        snapshots.append(snapshot_json(scan.value))
    scan.close()
    snapshots.append(snapshot_json(scan.value))
    return scan, snapshots


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(value=_TREE, seed=st.integers(0, 2**32))
def test_partials_grow_and_the_last_is_the_whole_converted(value: Any, seed: int) -> None:
    rng = random.Random(seed)
    text = _dump(value, rng)
    scan, snapshots = _scan(Tree, _pieces(text, rng))
    expected = msgspec.convert(json.loads(text), Tree)
    assert scan.error is None and scan.errors == []
    assert scan.done and scan.result == expected and scan.value is scan.result
    assert Target(Tree).parse(text, True) == (expected, None)
    for before, after in itertools.pairwise(snapshots):
        assert_grows(before, after)
    assert snapshots[-1] == msgspec.to_builtins(expected)
    # Each element of each array once, in completion order: inner ones before their parent's.
    seen = [(path, index) for path, index, _, error in scan.elements or () if error is None]
    assert sorted(seen) == sorted(_arrays(json.loads(text)))
    assert len(set(seen)) == len(seen)
    for path in {p for p, _ in seen}:
        assert [i for p, i in seen if p == path] == sorted(i for p, i in seen if p == path)


@settings(max_examples=200)
@given(value=_JSON, seed=st.integers(0, 2**32))
def test_any_json_under_any_split(value: Any, seed: int) -> None:
    rng = random.Random(seed)
    text = _dump(value, rng)
    scan, snapshots = _scan(Any, _pieces(text, rng))
    assert scan.error is None
    assert scan.done and scan.result == json.loads(text)
    for before, after in itertools.pairwise(snapshots):
        assert_grows(before, after)


@pytest.mark.parametrize(
    "text",
    [
        '{"n": -12, "label": "a\\"b\\\\c\\u00e9\\ud83d\\ude00\\n", "ratio": -12.5e+3}',
        '{"n": 1234567890123, "label": "\\u20ac\\/\\t\\b\\f\\r"}',
        '  {"label":"x","n":0}  ',
    ],
)
def test_every_cut_of_numbers_strings_escapes_and_surrogates(text: str) -> None:
    expected = msgspec.convert(json.loads(text), Leaf)
    for cut in range(len(text) + 1):
        for third in (cut, min(len(text), cut + 1), min(len(text), cut + 5)):
            scan, snapshots = _scan(Leaf, [text[:cut], text[cut:third], text[third:]])
            assert scan.result == expected, (cut, third)
            for before, after in itertools.pairwise(snapshots):
                assert_grows(before, after)


def test_a_number_appears_only_once_complete() -> None:
    scan = JsonScan(plan(Leaf))
    seen = []
    for piece in ['{"n": 5', "8", ", ", '"label": "te', 'mp", "ratio": 58', ".", "6}"]:
        scan.feed(piece)
        seen.append(snapshot_json(scan.value))
    assert seen[0] == {} and seen[1] == {}  # 5, then 58: not shown until the comma
    assert seen[2] == {"n": 58}
    assert seen[3] == {"n": 58, "label": "te"}  # a free string grows
    assert "ratio" not in seen[4] and "ratio" not in seen[5]
    assert scan.result == Leaf(58, "temp", 58.6)


def test_literal_and_enum_strings_appear_only_once_complete() -> None:
    scan = JsonScan(plan(Tree))
    shown = []
    for piece in ['{"title": "t", "color": "bl', 'ue", "mode": "', 'b",']:
        scan.feed(piece)
        shown.append((scan.value.title, scan.value.color, scan.value.mode))
    assert shown == [("t", UNSET, UNSET), ("t", Color.BLUE, UNSET), ("t", Color.BLUE, "b")]


def test_an_object_is_a_partial_of_its_class_then_the_class() -> None:
    scan = JsonScan(plan(Tree))
    scan.feed('{"leaves": [{"n": 1, "label": "x"}, {"n": 2,')
    leaves = scan.value.leaves
    assert type(scan.value).__name__ == "Partial[Tree]"
    assert leaves[0] == Leaf(1, "x") and type(leaves[1]).__name__ == "Partial[Leaf]"
    assert leaves[1].n == 2 and leaves[1].label is UNSET
    # Renamed fields: the partial encodes with the JSON keys.
    scan.feed('"label": "y"}], "anyValue": {"k": [1')
    assert msgspec.to_builtins(scan.value)["anyValue"] == {"k": []}


def test_a_tagged_union_takes_its_variant_once_the_tag_arrives() -> None:
    scan = JsonScan(plan(Tree))
    scan.feed('{"shape": {"radius": 2.5, "ty')
    assert scan.value.shape == {"radius": 2.5}  # no tag yet: plain JSON
    scan.feed('pe": "circle", "x": 1')
    assert type(scan.value.shape).__name__ == "Partial[Circle]"
    assert scan.value.shape.radius == 2.5
    scan.feed("}")
    assert scan.value.shape == Circle(2.5)


def test_an_invalid_element_is_reported_at_its_index_and_kept() -> None:
    text = '{"n": 1, "label": "a"}, {"n": "two", "label": "b"}, {"n": 3, "label": "c"}'
    scan = JsonScan(plan(list[Leaf]))
    for piece in _pieces(f"[{text}]", random.Random(7)):
        scan.feed(piece)
    elements = scan.elements or []
    assert [(p, i) for p, i, _, _ in elements] == [("$", 0), ("$", 1), ("$", 2)]
    assert elements[0][2:] == (Leaf(1, "a"), None)
    assert elements[2][2:] == (Leaf(3, "c"), None)
    _path, _index, value, error = elements[1]
    assert value == {"n": "two", "label": "b"}
    assert error is not None and "$[1].n" in error
    assert scan.errors == [("$[1].n", error)]  # reported once, not again for each parent
    assert scan.done and scan.result is UNSET
    assert scan.value[2] == Leaf(3, "c")  # never shifted
    value, failure = Target(list[Leaf]).parse(f"[{text}]", True)
    assert value is None and failure is not None
    assert (failure.reason, failure.path) == ("invalid", "$[1].n")


@pytest.mark.parametrize(
    "text",
    ['{"n": 1,, }', '{"n": 1} x', "[1 2]", '{"n": tru }', '"\\q"', '{"n": 01}', "{1: 2}"],
)
def test_text_that_is_no_json_stops_the_scan_and_raises_nothing(text: str) -> None:
    scan = JsonScan(plan(Any))
    for piece in text:
        scan.feed(piece)
    scan.close()
    assert scan.error is not None or not scan.done
    value, failure = Target(Any).parse(text, True)
    assert value is None and failure is not None and failure.reason == "invalid_json"


def test_nesting_past_max_depth_stops_the_scan() -> None:
    scan = JsonScan(plan(Any))
    scan.feed("[" * 5000)
    assert scan.error is not None and "deeper" in scan.error
    value, failure = Target(Any).parse("[" * 5000 + "]" * 5000, True)
    assert value is None and failure is not None and failure.reason == "too_deep"


@pytest.mark.parametrize("tp", [LeafDC, LeafTD, LeafModel, Leaf])
def test_each_kind_of_type_streams_and_converts(tp: Any) -> None:
    text = '{"label": "x\\u00e9", "n": 7}'
    scan, snapshots = _scan(tp, list(text))
    assert scan.error is None and scan.errors == []
    final, failure = Target(tp).parse(text, True)
    assert failure is None and scan.result == final
    assert type(final) is (dict if tp is LeafTD else tp)
    for before, after in itertools.pairwise(snapshots):
        assert_grows(before, after)


def test_pydantic_models_are_validated_by_pydantic_with_the_path() -> None:
    value, failure = Target(TreeModel).parse(
        '{"title": "t", "mode": "a", "leaves": [{"n": 1, "label": "x"}, {"n": "z"}]}', True
    )
    assert value is None and failure is not None
    assert failure.reason == "invalid" and failure.path == "$.leaves[1].n"
    text = '{"title": "t", "mode": "b", "leaves": [{"n": 1, "label": "x"}]}'
    scan, _ = _scan(TreeModel, list(text))
    assert scan.result == TreeModel.model_validate_json(text)
    assert type(scan.result.leaves[0]) is LeafModel


@pytest.mark.parametrize(
    ("text", "finish", "refusal", "reason"),
    [
        ('{"n": 1, "label": "x"}', "stop", "I can't", "refusal"),
        ('{"n": 1, "label": "x"}', "refusal", None, "refusal"),
        ('{"n": 1, "label": "x"}', "length", None, "length"),  # whole, but cut: not parsed
        ('{"n": 1, "lab', "content_filter", None, "content_filter"),
        ('{"n": 1, "lab', "max_tokens", None, "max_tokens"),
        ('{"n": 1, "lab', None, None, "incomplete"),
        ('{"n": 1, "lab', "stop", None, "invalid_json"),
        (None, "tool_calls", None, "empty"),
        ("  ", "stop", None, "empty"),
        ('{"n": 1}', "stop", None, "invalid"),
    ],
)
def test_failure_reasons(
    text: str | None, finish: str | None, refusal: str | None, reason: str
) -> None:
    value, failure = Target(Leaf).result(text, finish, refusal)
    assert value is None and isinstance(failure, ParseFailure)
    assert failure.reason == reason and failure.message


def test_a_live_value_is_used_as_is() -> None:
    live = Leaf(1, "x")
    value, failure = Target(Leaf).result('{"n": 1, "label": "x"}', "stop", None, live)
    assert value is live and failure is None


def test_a_type_msgspec_cannot_parse_into_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="cannot parse JSON into"):
        Target(LeafDC | Leaf | LeafTD)
    # The request's response_format value where the type belongs: said so.
    with pytest.raises(TypeError, match=r"pass the type itself.*response_format\(T\)"):
        Target({"type": "json_schema", "json_schema": {"name": "x", "schema": {}}})


def test_a_long_free_string_is_shown_in_growing_steps_and_whole_at_the_end() -> None:
    scan = JsonScan(plan(Leaf))
    scan.feed('{"n": 1, "label": "')
    lengths = []
    for _ in range(20_000):
        scan.feed("abcd")
        lengths.append(len(scan.value.label))
    assert lengths[:1000] == [4 * (i + 1) for i in range(1000)]  # every piece while short
    assert all(b >= a for a, b in itertools.pairwise(lengths))
    assert len(set(lengths)) < 1100  # then in steps of an eighth: linear to show
    assert lengths[-1] >= 80_000 * 8 // 9
    scan.feed('"}')
    assert scan.result == Leaf(1, "abcd" * 20_000)


@pytest.mark.parametrize("extra_frames", [0, 300, 600])
def test_a_deep_value_under_an_unknown_key_is_too_deep_at_any_stack_depth(
    extra_frames: int,
) -> None:
    # msgspec skips a key Leaf does not declare, recursing as it skips: the text's levels are
    # counted first, so the outcome never depends on the caller's stack.
    text = '{"n": 1, "label": "x", "zzz": ' + "[" * 150 + "]" * 150 + "}"

    def deeper(frames: int) -> tuple[Any, ParseFailure | None]:
        return deeper(frames - 1) if frames else Target(Leaf).parse(text, True)

    value, failure = deeper(extra_frames)
    assert value is None and failure is not None and failure.reason == "too_deep"


def test_a_typing_extensions_typeddict_is_planned_as_its_fields() -> None:
    from typing_extensions import TypedDict as ExtTypedDict

    class Event(ExtTypedDict):
        kind: Literal["a", "b"]
        tags: list[str]

    scan = JsonScan(plan(Event))
    scan.feed('{"kind": "')
    assert scan.value == {}  # a Literal shows only once whole, as for typing's TypedDict
    scan.feed('a", "tags": ["x", 7]}')
    assert [(i, error is not None) for _, i, _, error in scan.elements or ()] == [
        (0, False),
        (1, True),
    ]


def test_a_number_where_a_string_is_expected_is_an_element_error() -> None:
    scan = JsonScan(plan(list[str]))
    scan.feed('["a", 7, true, "b"]')
    assert [error is None for _, _, _, error in scan.elements or ()] == [True, False, False, True]
    assert scan.result is UNSET and [p for p, _ in scan.errors] == ["$[1]", "$[2]"]


def test_final_peeks_at_a_bare_number_without_ending_the_scan() -> None:
    scan = JsonScan(plan(int))
    scan.feed("4")
    assert scan.final() == 4  # a snapshot now: the text so far is whole
    scan.feed("2")
    assert scan.final() == 42 and scan.error is None
    scan.close()
    assert scan.result == 42
