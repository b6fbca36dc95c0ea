"""The request side of structured outputs (``chunkagg/_request.py``): a type in, the JSON schema
and request shapes out, in OpenAI's strict form.

Each kind of type (msgspec Struct, dataclass, TypedDict, pydantic model) carries the same cases:
a nested object, a list of objects, an optional field, defaults, a Literal, an enum and a tagged
union of objects. Each schema is checked by walking every object in it, by validating an instance
(and instances that must fail) with ``jsonschema``, by decoding that instance into the type, and,
for pydantic, against openai-python's and the anthropic SDK's own transforms.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, ClassVar, Literal, TypedDict

import msgspec
import pytest

import chunkagg
from chunkagg._request import _for_anthropic

# ---------------------------------------------------------------------------------------------
# The types


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Cat(msgspec.Struct, tag="cat"):
    meows: int


class Dog(msgspec.Struct, tag="dog"):
    barks: float


class Item(msgspec.Struct):
    """A line of an order."""

    name: str
    qty: int = 1


class Order(msgspec.Struct):
    items: list[Item]
    pet: Cat | Dog
    color: Color
    mode: Literal["fast", "slow"]
    inner: Item
    note: str | None = None
    count: int = 3


@dataclasses.dataclass
class DItem:
    name: str
    qty: int = 1


@dataclasses.dataclass
class DOrder:
    items: list[DItem]
    pet: Cat | Dog
    color: Color
    mode: Literal["fast", "slow"]
    inner: DItem
    note: str | None = None
    count: int = 3


class TItem(TypedDict):
    name: str
    qty: int


class _TOrderRequired(TypedDict):
    items: list[TItem]
    pet: Cat | Dog
    color: Color
    mode: Literal["fast", "slow"]
    inner: TItem


class TOrder(_TOrderRequired, total=False):
    note: str | None
    count: int


class Node(msgspec.Struct):
    value: int
    children: list[Node] = []


class Tags(msgspec.Struct):
    tags: dict[str, int]


try:
    import pydantic
except ImportError:  # pragma: no cover - pydantic is optional; the test extra brings it
    HAVE_PYDANTIC = False
else:
    HAVE_PYDANTIC = True

    class PCat(pydantic.BaseModel):
        kind: Literal["cat"]
        meows: int

    class PDog(pydantic.BaseModel):
        kind: Literal["dog"]
        barks: float

    class PItem(pydantic.BaseModel):
        """A line of an order."""

        name: str
        qty: int = 1

    class POrder(pydantic.BaseModel):
        """An order.

        Its docstring runs over two lines.
        """

        items: list[PItem]
        pet: PCat | PDog = pydantic.Field(discriminator="kind")
        color: Color
        mode: Literal["fast", "slow"]
        inner: PItem = pydantic.Field(description="the inner item")
        note: str | None = None
        count: int = pydantic.Field(3, ge=0, le=10)

    class PPlain(pydantic.BaseModel):
        """No union with a discriminator: openai-python's schema as it is."""

        items: list[PItem]
        color: Color
        note: str | None = None
        pet: PCat | PDog

    class PShared(pydantic.BaseModel):
        # Its schema is one dict, handed out on every call: a transform that changed it would
        # show on the next call.
        SCHEMA: ClassVar[dict[str, Any]] = {
            "type": "object",
            "properties": {"a": {"type": "integer", "default": None}},
        }

        a: int

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return cls.SCHEMA


needs_pydantic = pytest.mark.skipif(not HAVE_PYDANTIC, reason="pydantic is not installed")

# Every key present, as strict mode makes the model send them.
INSTANCE: dict[str, Any] = {
    "items": [{"name": "tea", "qty": 2}, {"name": "cake", "qty": 1}],
    "pet": {"type": "cat", "meows": 3},
    "color": "green",
    "mode": "fast",
    "inner": {"name": "cup", "qty": 1},
    "note": None,
    "count": 4,
}
P_INSTANCE = {**INSTANCE, "pet": {"kind": "dog", "barks": 1.5}}


def _order_types() -> list[Any]:
    types: list[Any] = [Order, DOrder, TOrder]
    return [*types, pytest.param("POrder", marks=needs_pydantic)]


def _resolve(type_: Any) -> Any:
    # A pydantic type is named in the parameters, so the list builds without pydantic.
    return globals()[type_] if isinstance(type_, str) else type_


def _is_pydantic(type_: Any) -> bool:
    return HAVE_PYDANTIC and isinstance(type_, type) and issubclass(type_, pydantic.BaseModel)


def _instance(type_: Any) -> dict[str, Any]:
    return copy.deepcopy(P_INSTANCE if _is_pydantic(type_) else INSTANCE)


def _decode(type_: Any, instance: dict[str, Any]) -> Any:
    # msgspec decodes into its own types; a pydantic model validates its JSON itself.
    data = json.dumps(instance).encode()
    if _is_pydantic(type_):
        return type_.model_validate_json(data)
    return msgspec.json.decode(data, type=type_)


# ---------------------------------------------------------------------------------------------
# The strict-mode invariants


def _schemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema in ``node`` (a JSON schema), with where it is, $defs included."""
    if not isinstance(node, dict):
        return
    yield where, node
    for key in ("properties", "$defs"):
        for name, sub in node.get(key, {}).items():
            yield from _schemas(sub, f"{where}/{key}/{name}")
    if isinstance(node.get("items"), dict):
        yield from _schemas(node["items"], f"{where}/items")
    for key in ("anyOf", "allOf", "oneOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield from _schemas(sub, f"{where}/{key}/{i}")


def assert_strict(schema: dict[str, Any], *, typed_literals: bool = True) -> int:
    """Fail unless ``schema`` keeps OpenAI's strict rules; the number of object schemas.

    ``typed_literals``: an ``enum`` or a ``const`` has a ``type`` beside it (the anthropic SDK
    takes it away).
    """
    assert schema["type"] == "object" and "$ref" not in schema
    objects = 0
    for where, node in _schemas(schema):
        assert "oneOf" not in node, where
        assert node.get("default", 0) is not None, where
        if "$ref" in node:
            assert list(node) == ["$ref"], where  # nothing beside a $ref
        if node.get("type") == "object" or "properties" in node:
            objects += 1
            assert node["additionalProperties"] is False, where
            assert node["required"] == list(node["properties"]), where
        if "enum" in node or "const" in node:
            assert ("type" in node) is typed_literals, where
    return objects


def _validator(schema: dict[str, Any]) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("type_", _order_types())
def test_every_object_is_closed_and_requires_every_property(type_: Any) -> None:
    schema = chunkagg.json_schema(_resolve(type_))
    # The root, the item (in $defs, or inlined for inner's description too) and the two pets.
    assert assert_strict(schema) >= 4
    assert sorted(schema["required"]) == sorted(INSTANCE)
    # The optional field stays nullable through its type, its null default gone.
    note = schema["properties"]["note"]
    assert {"type": "null"} in note["anyOf"] and "default" not in note


@pytest.mark.parametrize("type_", _order_types())
def test_an_instance_validates_and_decodes(type_: Any) -> None:
    cls = _resolve(type_)
    validator = _validator(chunkagg.json_schema(cls))
    instance = _instance(cls)
    validator.validate(instance)
    decoded = _decode(cls, instance)
    assert decoded is not None
    # What strict mode forbids: a key left out (even one with a default), a key added at the
    # root or in an object of a list, a value outside a Literal or an enum, a pet of no variant.
    bad: list[dict[str, Any]] = []
    for key in ("note", "count"):
        bad.append({k: v for k, v in instance.items() if k != key})
    bad.append({**instance, "extra": 1})
    bad.append({**instance, "items": [{**instance["items"][0], "extra": 1}]})
    bad.append({**instance, "inner": {"name": "cup"}})
    bad.append({**instance, "mode": "medium"})
    bad.append({**instance, "color": "blue"})
    bad.append({**instance, "pet": {**instance["pet"], "meows": 3, "barks": 1.0}})
    for wrong in bad:
        assert not validator.is_valid(wrong), wrong


def test_msgspec_types_give_one_schema() -> None:
    # A Struct, a dataclass and a TypedDict of the same fields differ only in their names,
    # docstrings, defaults (a TypedDict has none) and order (msgspec sorts a TypedDict's keys).
    def untitled(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                untitled(k): sorted(v) if k == "required" else untitled(v)
                for k, v in node.items()
                if k not in ("title", "description", "default")
            }
        if isinstance(node, list):
            return [untitled(v) for v in node]
        if isinstance(node, str):
            return node.replace("DItem", "Item").replace("TItem", "Item")
        return node

    struct, dataclass_, typeddict = (
        untitled(chunkagg.json_schema(t)) for t in (Order, DOrder, TOrder)
    )
    assert struct == dataclass_ == typeddict


def test_the_root_ref_is_inlined_and_a_recursive_def_kept() -> None:
    raw = msgspec.json.schema(Node)
    assert set(raw) == {"$ref", "$defs"}  # what msgspec gives
    schema = chunkagg.json_schema(Node)
    assert_strict(schema)
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(schema["$defs"]) == {"Node"}
    _validator(schema).validate({"value": 1, "children": [{"value": 2, "children": []}]})
    # A type nothing refers back to leaves no def of itself behind.
    assert "Order" not in chunkagg.json_schema(Order)["$defs"]
    assert "Item" in chunkagg.json_schema(Order)["$defs"]


def test_literal_and_enum_get_their_json_type() -> None:
    schema = chunkagg.json_schema(Order)
    assert schema["properties"]["mode"] == {"enum": ["fast", "slow"], "type": "string"}
    assert schema["$defs"]["Color"]["type"] == "string"
    assert schema["$defs"]["Cat"]["properties"]["type"] == {"enum": ["cat"], "type": "string"}


def test_not_strict_is_msgspec_schema_with_its_root_inlined() -> None:
    schema = chunkagg.json_schema(Order, strict=False)
    raw = msgspec.json.schema(Order)
    defs = {k: v for k, v in raw["$defs"].items() if k != "Order"}
    assert schema == {**raw["$defs"]["Order"], "$defs": defs}
    assert schema["required"] == ["items", "pet", "color", "mode", "inner"]


def test_what_strict_mode_cannot_say_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"#/properties/tags: an object taking extra keys"):
        chunkagg.json_schema(Tags)
    assert chunkagg.json_schema(Tags, strict=False)["properties"]["tags"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    with pytest.raises(TypeError, match="root of a strict schema must be an object"):
        chunkagg.json_schema(list[Item])
    with pytest.raises(TypeError, match="has no JSON schema"):
        chunkagg.json_schema(object)


def test_results_are_fresh_dicts() -> None:
    first = chunkagg.json_schema(Order)
    first["$defs"]["Item"]["properties"].clear()
    first["required"].append("nope")
    assert chunkagg.json_schema(Order) == chunkagg.json_schema(Order)
    assert chunkagg.json_schema(Order)["$defs"]["Item"]["properties"]
    # Two places that inline the same $ref share nothing either.
    schema = chunkagg.json_schema(Order, strict=False)
    schema["$defs"]["Item"]["title"] = "changed"
    assert msgspec.json.schema(Order)["$defs"]["Item"]["title"] == "Item"


@needs_pydantic
def test_pydantics_own_dict_is_not_changed() -> None:
    before = copy.deepcopy(PShared.SCHEMA)
    schema = chunkagg.json_schema(PShared)
    assert schema["additionalProperties"] is False and schema["required"] == ["a"]
    assert schema["properties"]["a"] == {"type": "integer"}
    assert before == PShared.SCHEMA
    schema["properties"]["a"]["type"] = "string"
    loose = chunkagg.json_schema(PShared, strict=False)
    assert loose == before
    loose["properties"]["a"]["type"] = "string"
    assert before == PShared.SCHEMA


# ---------------------------------------------------------------------------------------------
# Against openai-python and the anthropic SDK


def _one_of_as_any_of(node: Any) -> Any:
    # The one rule here beyond openai-python: oneOf (pydantic's discriminated unions), which
    # strict mode refuses, is anyOf.
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _one_of_as_any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_one_of_as_any_of(v) for v in node]
    return node


@needs_pydantic
def test_pydantic_schema_equals_openai_pythons() -> None:
    strict = pytest.importorskip("openai.lib._pydantic")
    plain = strict.to_strict_json_schema(PPlain)
    assert chunkagg.json_schema(PPlain) == plain
    theirs = strict.to_strict_json_schema(POrder)
    assert "oneOf" in theirs["properties"]["pet"]
    ours = chunkagg.json_schema(POrder)
    assert ours == _one_of_as_any_of(theirs)
    assert ours["properties"]["inner"]["description"] == "the inner item"  # the $ref inlined


@needs_pydantic
def test_function_tool_equals_openai_pydantic_function_tool() -> None:
    openai = pytest.importorskip("openai")
    assert chunkagg.function_tool(PPlain) == openai.pydantic_function_tool(PPlain)
    theirs = openai.pydantic_function_tool(POrder, name="place_order")
    ours = chunkagg.function_tool(POrder, name="place_order")
    assert ours == _one_of_as_any_of(theirs)
    assert ours["function"]["description"] == POrder.__doc__  # as written, two lines
    responses = openai.pydantic_responses_function_tool(PPlain)
    assert chunkagg.response_function_tool(PPlain) == dict(responses)


@needs_pydantic
def test_text_formats_equal_openai_pythons() -> None:
    completions = pytest.importorskip("openai.lib._parsing._completions")
    responses = pytest.importorskip("openai.lib._parsing._responses")
    assert chunkagg.response_format(PPlain) == completions.type_to_response_format_param(PPlain)
    text = chunkagg.response_text_format(PPlain)
    assert text == {"format": responses.type_to_text_format_param(PPlain)}


def _without(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [_without(v, key) for v in node]
    return node


@pytest.mark.parametrize("type_", _order_types())
def test_anthropic_schema_equals_the_anthropic_sdks(type_: Any) -> None:
    transform = pytest.importorskip("anthropic.lib._parse._transform")
    schema = chunkagg.json_schema(_resolve(type_))
    # The one rule here beyond the SDK: a discriminator goes rather than into a description.
    theirs = transform.transform_schema(_without(schema, "discriminator"))
    ours = chunkagg.anthropic_output_format(_resolve(type_))
    assert ours == {"type": "json_schema", "schema": theirs}
    assert_strict(ours["schema"], typed_literals=False)
    validator = _validator(ours["schema"])
    validator.validate(_instance(_resolve(type_)))
    assert not validator.is_valid({**_instance(_resolve(type_)), "extra": 1})


def test_anthropic_moves_what_it_refuses_into_the_description() -> None:
    n_schema = {"type": "integer", "minimum": 0, "maximum": 5, "default": 0}
    schema = _for_anthropic({"type": "object", "properties": {"n": n_schema}, "required": ["n"]})
    assert schema["properties"]["n"] == {
        "type": "integer",
        "description": "{minimum: 0, maximum: 5, default: 0}",
    }
    assert schema["additionalProperties"] is False
    kept = _for_anthropic(
        {
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "word": {"type": "string", "format": "color", "description": "a word"},
                "few": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "many": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "kind": {"type": "string", "const": "x"},
            },
        }
    )["properties"]
    assert kept["when"] == {"type": "string", "format": "date-time"}
    assert kept["word"] == {"type": "string", "description": "a word\n\n{format: color}"}
    assert kept["few"] == {"type": "array", "items": {"type": "string"}, "minItems": 1}
    assert kept["many"]["description"] == "{minItems: 2}"
    assert kept["kind"] == {"const": "x"}


# ---------------------------------------------------------------------------------------------
# The request shapes


class Weather(msgspec.Struct):
    """Look the weather up."""

    city: str
    days: int = 1


WEATHER = {
    "title": "Weather",
    "description": "Look the weather up.",
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
    "required": ["city", "days"],
    "additionalProperties": False,
}


def test_the_openai_shapes() -> None:
    assert chunkagg.json_schema(Weather) == WEATHER
    assert chunkagg.response_format(Weather) == {
        "type": "json_schema",
        "json_schema": {"name": "Weather", "schema": WEATHER, "strict": True},
    }
    assert chunkagg.response_format(Weather, name="w-1", description="d") == {
        "type": "json_schema",
        "json_schema": {"name": "w-1", "description": "d", "schema": WEATHER, "strict": True},
    }
    assert chunkagg.function_tool(Weather) == {
        "type": "function",
        "function": {
            "name": "Weather",
            "description": "Look the weather up.",
            "parameters": WEATHER,
            "strict": True,
        },
    }
    assert chunkagg.response_text_format(Weather, description="d") == {
        "format": {
            "type": "json_schema",
            "name": "Weather",
            "description": "d",
            "schema": WEATHER,
            "strict": True,
        }
    }
    assert chunkagg.response_function_tool(Weather, name="weather", description="now") == {
        "type": "function",
        "name": "weather",
        "description": "now",
        "parameters": WEATHER,
        "strict": True,
    }
    loose = chunkagg.function_tool(Weather, strict=False)["function"]
    assert loose["strict"] is False and loose["parameters"]["required"] == ["city"]


def test_the_anthropic_shapes() -> None:
    # Anthropic takes no default: it goes into the description.
    days = {"type": "integer", "description": "{default: 1}"}
    schema = {**WEATHER, "properties": {"city": {"type": "string"}, "days": days}}
    assert chunkagg.anthropic_output_format(Weather) == {"type": "json_schema", "schema": schema}
    assert chunkagg.anthropic_tool(Weather) == {
        "name": "Weather",
        "description": "Look the weather up.",
        "input_schema": schema,
        "strict": True,
    }
    loose = chunkagg.anthropic_tool(Weather, name="get_weather", description="d", strict=False)
    assert loose == {
        "name": "get_weather",
        "description": "d",
        "input_schema": chunkagg.json_schema(Weather, strict=False),
    }
    assert loose["input_schema"]["required"] == ["city"]


class Città(msgspec.Struct):
    x: int


class Page(msgspec.Struct):
    n: int


def test_names_and_descriptions() -> None:
    assert chunkagg.response_format(Città)["json_schema"]["name"] == "Citt_"
    long = msgspec.defstruct("L" * 80, [("x", int)])
    assert chunkagg.function_tool(long)["function"]["name"] == "L" * 64
    for bad in ("", "a b", "x" * 65, "é"):
        with pytest.raises(ValueError, match="is not 1 to 64"):
            chunkagg.response_format(Weather, name=bad)
    # No docstring, or the signature @dataclass writes in place of one: no description.
    assert "description" not in chunkagg.function_tool(Page)["function"]
    assert DItem.__doc__ is not None and DItem.__doc__.startswith("DItem(name: ")
    assert "description" not in chunkagg.function_tool(DItem)["function"]
    assert "description" not in chunkagg.anthropic_tool(DItem)
    assert chunkagg.function_tool(Item)["function"]["description"] == "A line of an order."
    assert chunkagg.function_tool(Item, description="")["function"]["description"] == ""


def test_chunkagg_never_imports_pydantic() -> None:
    script = (
        "import sys, msgspec, chunkagg\n"
        "class P(msgspec.Struct):\n"
        "    x: int\n"
        "chunkagg.function_tool(P)\n"
        "chunkagg.anthropic_tool(P)\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
