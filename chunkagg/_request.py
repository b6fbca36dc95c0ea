"""Structured outputs, the request side: from a user's type, the JSON a request needs so the
server answers with JSON of that type.

The type is a msgspec Struct, a dataclass, a TypedDict (their schema comes from
``msgspec.json.schema``) or a pydantic v2 model (its own ``model_json_schema()``; pydantic is
never imported here: a type is a pydantic model only if pydantic is already loaded). The schema
then follows OpenAI's strict mode (the Structured Outputs guide, "Supported schemas"), as
openai-python's ``to_strict_json_schema`` applies it, so a pydantic model gives the same schema
here as there:

- every object schema gets ``additionalProperties: false`` and lists every property in
  ``required`` (an optional field stays nullable through its type, ``anyOf [..., null]``);
- ``default: null`` goes (the type already says null), other defaults and every ``title`` and
  ``description`` stay;
- a ``$ref`` beside other keys is replaced by its target, the other keys winning (OpenAI reads
  nothing beside a ``$ref``); a lone ``$ref`` and ``$defs`` stay;
- a root ``$ref`` (what msgspec emits) is inlined, since the root must be an object;
- beyond openai-python: ``oneOf`` (pydantic's discriminated unions), which strict mode refuses,
  becomes ``anyOf``; an ``enum`` or ``const`` without a ``type`` (msgspec's ``Literal``
  and enums) gets the one JSON type of its values; an object open to extra keys (a ``dict``
  field, a model with ``extra="allow"``) is a ``TypeError`` here rather than a 400 from the server.

Anthropic's structured outputs take that schema further down (``_for_anthropic``), as the
anthropic SDK's ``transform_schema`` does. This module does no I/O, keeps no state between calls,
and never hands out (or changes) a dict msgspec or pydantic returned.

>>> import msgspec
>>> class Point(msgspec.Struct):
...     x: int
...     y: int = 0
>>> json_schema(Point)["required"], json_schema(Point)["additionalProperties"]
(['x', 'y'], False)
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from ._core.targets import is_pydantic

__all__ = [
    "anthropic_output_format",
    "anthropic_tool",
    "function_tool",
    "json_schema",
    "response_format",
    "response_function_tool",
    "response_text_format",
]

# OpenAI's pattern for a response format's and a function's name; Anthropic's tool names too.
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Keys whose value maps names to schemas, and keys whose value is a list of schemas.
_SCHEMA_MAPS = ("properties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
# The JSON type of an enum's or a const's values, by Python type (bool before int: exact types).
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}
# The string formats Anthropic accepts (the anthropic SDK's SupportedStringFormats).
_ANTHROPIC_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)


def json_schema(type_: object, /, *, strict: bool = True) -> dict[str, Any]:
    """The JSON schema of ``type_``, in OpenAI's strict form unless ``strict`` is false.

    Args:
        type_: a msgspec Struct, a dataclass, a TypedDict (any type ``msgspec.json.schema``
            takes) or a pydantic v2 model.
        strict: apply strict mode's rules (the module's docstring lists them). With ``False``,
            the schema as msgspec or pydantic gives it, its root ``$ref`` inlined.

    Returns:
        A new dict, the caller's to change: an object schema, its ``$defs`` inside.

    Raises:
        TypeError: ``type_`` has no JSON schema; or, with ``strict``, its root is not an object
            or an object in it takes extra keys (a ``dict`` field), which strict mode cannot say.
    """
    schema = _inline_root(_generate(type_))
    if not strict:
        return schema
    schema = _strict(schema, schema, "#")
    if schema.get("type") != "object":
        raise TypeError(
            f"the root of a strict schema must be an object, and {type_!r} gives "
            f"{schema.get('type') or list(schema)!r}: wrap it in a Struct or a model"
        )
    return schema


def response_format(
    type_: object,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Chat completions' ``response_format`` asking for JSON of ``type_``.

    Args:
        type_: as in ``json_schema``.
        name: the format's name; by default ``type_``'s name, its characters outside
            ``[a-zA-Z0-9_-]`` made ``_`` and cut to 64.
        description: sent when given.
        strict: sent as ``strict`` and passed to ``json_schema``.

    Returns:
        ``{"type": "json_schema", "json_schema": {"name", "schema", "strict", ["description"]}}``.

    Raises:
        TypeError: as ``json_schema``.
        ValueError: ``name`` is not 1 to 64 of ``a-zA-Z0-9_-``.
    """
    body = _named(type_, name, description)
    body["schema"] = json_schema(type_, strict=strict)
    body["strict"] = strict
    return {"type": "json_schema", "json_schema": body}


def function_tool(
    type_: object,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """A chat completions tool (``tools=[...]``) whose arguments are JSON of ``type_``.

    For a pydantic model, equal to openai-python's ``openai.pydantic_function_tool(model)``.

    Args:
        type_: as in ``json_schema``.
        name: the function's name; by default ``type_``'s, as in ``response_format``.
        description: by default ``type_``'s docstring as written, if it has one (a dataclass's
            generated signature is not one).
        strict: sent as ``strict`` and passed to ``json_schema``.

    Returns:
        ``{"type": "function", "function": {"name", "parameters", "strict", ["description"]}}``.

    Raises:
        TypeError: as ``json_schema``.
        ValueError: as ``response_format``.
    """
    function = _named(type_, name, _described(type_, description))
    function["parameters"] = json_schema(type_, strict=strict)
    function["strict"] = strict
    return {"type": "function", "function": function}


def response_text_format(
    type_: object,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """The Responses API's ``text`` parameter asking for JSON of ``type_``.

    Args and Raises: as ``response_format``.

    Returns:
        ``{"format": {"type": "json_schema", "name", "schema", "strict", ["description"]}}``.
    """
    body = response_format(type_, name=name, description=description, strict=strict)
    return {"format": {"type": "json_schema", **body["json_schema"]}}


def response_function_tool(
    type_: object,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """A Responses API function tool whose arguments are JSON of ``type_``.

    Args and Raises: as ``function_tool``.

    Returns:
        The Responses API's flat form: ``{"type": "function", "name", "parameters", "strict",
        ["description"]}``.
    """
    function = function_tool(type_, name=name, description=description, strict=strict)
    return {"type": "function", **function["function"]}


def anthropic_tool(
    type_: object,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """An Anthropic Messages tool (``tools=[...]``) whose input is JSON of ``type_``.

    With ``strict`` (Anthropic's strict tool use), the tool carries ``"strict": true`` and its
    schema keeps to what Anthropic's structured outputs accept (as ``anthropic_output_format``);
    without, it carries the plain ``json_schema(type_, strict=False)``.

    Args:
        type_: as in ``json_schema``.
        name: the tool's name; by default ``type_``'s, as in ``response_format``.
        description: by default ``type_``'s docstring, as in ``function_tool``.
        strict: ask for strict tool use.

    Returns:
        ``{"name", ["description"], "input_schema", ["strict"]}``.

    Raises:
        TypeError: as ``json_schema``.
        ValueError: as ``response_format``.
    """
    tool = _named(type_, name, _described(type_, description))
    if strict:
        tool["input_schema"] = _for_anthropic(json_schema(type_))
        tool["strict"] = True
    else:
        tool["input_schema"] = json_schema(type_, strict=False)
    return tool


def anthropic_output_format(type_: object, /) -> dict[str, Any]:
    """The ``format`` of Anthropic's JSON outputs asking for JSON of ``type_``.

    It goes in a Messages request as ``output_config={"format": ...}`` (the beta's top-level
    ``output_format`` is deprecated). The schema is ``json_schema(type_)`` brought within
    Anthropic's limits as the anthropic SDK's ``transform_schema`` does: ``oneOf`` is ``anyOf``;
    ``type`` goes beside an ``enum`` or a ``const``; a string ``format`` Anthropic lacks, a
    ``minItems`` above 1, a ``default`` and every other keyword it does not take (``minimum``,
    ``maxLength``, ``pattern``...) move into the ``description`` as ``{key: value, ...}``; a
    ``discriminator`` (an OpenAPI note, the tag's ``enum`` already says it) goes. Every property
    stays required, as in strict mode: Anthropic accepts it, and caps the optional ones.

    Args:
        type_: as in ``json_schema``.

    Returns:
        ``{"type": "json_schema", "schema": {...}}``.

    Raises:
        TypeError: as ``json_schema``.
    """
    return {"type": "json_schema", "schema": _for_anthropic(json_schema(type_))}


def _generate(type_: object) -> dict[str, Any]:
    if is_pydantic(type_):  # told without importing pydantic
        schema: dict[str, Any] = type_.model_json_schema()  # type: ignore[attr-defined]
        return schema
    try:
        return msgspec.json.schema(type_)
    except TypeError as exc:
        raise TypeError(f"{type_!r} has no JSON schema: {exc}") from exc


def _inline_root(raw: dict[str, Any]) -> dict[str, Any]:
    # msgspec gives {"$ref": "#/$defs/T", "$defs": {...}}: the root becomes T's schema, and T's
    # entry in $defs stays only if something still refers to it (a recursive T). Deep-copied
    # first, so nothing msgspec or pydantic returned is shared or changed.
    schema = copy.deepcopy(raw)
    ref = schema.pop("$ref", None)
    if not isinstance(ref, str):
        return schema
    defs = schema.pop("$defs", None)
    whole = {"$defs": defs} if defs is not None else {}
    target = _resolve(whole, ref)
    root = {**copy.deepcopy(target), **schema}
    if isinstance(defs, dict):
        name = ref.removeprefix("#/$defs/")
        if name in defs and defs[name] is target and ref not in _refs([root, defs]):
            del defs[name]
        if defs:
            root["$defs"] = defs
    return root


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    # A local JSON pointer (RFC 6901: "~1" is "/", "~0" is "~"); msgspec and pydantic emit no other.
    if not ref.startswith("#"):
        raise TypeError(f"$ref {ref!r} is not local to the schema")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or key not in node:
            raise TypeError(f"$ref {ref!r} points at nothing in the schema")
        node = node[key]
    if not isinstance(node, dict):
        raise TypeError(f"$ref {ref!r} is not a schema")
    return node


def _refs(node: object) -> Iterator[str]:
    # Every "$ref" value in a JSON document.
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _strict(node: object, root: dict[str, Any], where: str) -> dict[str, Any]:
    """``node`` in strict mode's form, built anew; ``root`` resolves refs, ``where`` is for errors.

    The rules are the module docstring's, in openai-python's order where order matters.
    """
    if not isinstance(node, dict):
        raise TypeError(f"{where}: a JSON schema must be an object, not {node!r}")
    node = dict(node)
    # default: null first, so a {"$ref", "default": null} pair is a lone $ref, as in openai-python.
    if "default" in node and node["default"] is None:
        del node["default"]
    # A one-entry allOf is its entry (pydantic once wrapped a described $ref so); the entry wins.
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        del node["allOf"]
        node.update(all_of[0])
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        # OpenAI takes no key beside a $ref: inline the target, the keys beside winning, and walk
        # the result (the target's own defaults, refs and objects).
        del node["$ref"]
        return _strict({**_resolve(root, ref), **node}, root, where)
    if "oneOf" in node and "anyOf" in node:
        raise TypeError(f"{where}: both anyOf and oneOf, which strict mode's anyOf cannot say")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {
                name: _strict(sub, root, f"{where}/{key}/{name}") for name, sub in value.items()
            }
        elif key == "items" and isinstance(value, dict):
            out[key] = _strict(value, root, f"{where}/items")
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            # oneOf is refused by strict mode; anyOf says the same of disjoint variants, which
            # a discriminated union's are.
            out["anyOf" if key == "oneOf" else key] = [
                _strict(sub, root, f"{where}/{key}/{i}") for i, sub in enumerate(value)
            ]
        else:
            out[key] = copy.deepcopy(value)
    if out.get("type") == "object":
        extra = out.setdefault("additionalProperties", False)
        if extra is not False:
            raise TypeError(
                f"{where}: an object taking extra keys (additionalProperties {extra!r}: a dict, "
                f"or a model open to extra fields) has no strict form; pass strict=False"
            )
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
    if "type" not in out:
        # msgspec writes a Literal or an enum as a bare {"enum": [...]}; say its JSON type.
        values = out.get("enum", [out["const"]] if "const" in out else None)
        types = {_JSON_TYPES.get(type(value)) for value in values or ()}
        if len(types) == 1 and None not in types:
            out["type"] = types.pop()
    return out


def _for_anthropic(node: dict[str, Any]) -> dict[str, Any]:
    """A strict schema brought within Anthropic's limits, built anew (``anthropic_output_format``
    lists the changes); key for key what the anthropic SDK's ``transform_schema`` makes of it.
    """
    rest = dict(node)
    out: dict[str, Any] = {}
    defs = rest.pop("$defs", None)
    if isinstance(defs, dict):
        out["$defs"] = {name: _for_anthropic(sub) for name, sub in defs.items()}
    ref = rest.pop("$ref", None)
    if ref is not None:
        out["$ref"] = ref
        if "description" in rest:
            out["description"] = rest["description"]
        return out
    rest.pop("discriminator", None)
    type_ = rest.pop("type", None)
    # The strict pass made every oneOf an anyOf; the first of the three present is kept.
    variants = [(key, rest.pop(key)) for key in ("anyOf", "oneOf", "allOf") if key in rest]
    literal = False
    for key in ("enum", "const"):
        values = rest.get(key) if key == "enum" else [rest.get(key)]
        if key in rest and isinstance(values, list) and values and all(map(_primitive, values)):
            out[key] = rest.pop(key)
            literal = True
    if variants:
        key, subs = variants[0]
        out["allOf" if key == "allOf" else "anyOf"] = [_for_anthropic(sub) for sub in subs]
    elif not literal and type_ is not None:
        out["type"] = type_
    for key in ("description", "title"):
        value = rest.pop(key, None)
        if value is not None:
            out[key] = value
    if type_ == "object":
        properties = rest.pop("properties", {})
        out["properties"] = {key: _for_anthropic(sub) for key, sub in properties.items()}
        rest.pop("additionalProperties", None)
        out["additionalProperties"] = False
        if "required" in rest:
            out["required"] = list(rest.pop("required"))
    elif type_ == "string" and "format" in rest:
        # A format Anthropic lacks joins the leftovers last, where the SDK puts it.
        fmt = rest.pop("format")
        out_or_rest = out if fmt in _ANTHROPIC_FORMATS else rest
        out_or_rest["format"] = fmt
    elif type_ == "array":
        if "items" in rest:
            out["items"] = _for_anthropic(rest.pop("items"))
        if "minItems" in rest:
            least = rest.pop("minItems")
            (out if least in (0, 1) else rest)["minItems"] = least
    if rest:
        # What Anthropic would refuse, said in words the model may still follow.
        said = ", ".join(f"{key}: {value}" for key, value in rest.items())
        lead = f"{out['description']}\n\n" if "description" in out else ""
        out["description"] = f"{lead}{{{said}}}"
    return out


def _primitive(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _named(type_: object, name: str | None, description: str | None) -> dict[str, Any]:
    # {"name": ..., ["description": ...]}, the head every request shape here starts with.
    if name is None:
        own = getattr(type_, "__name__", None)
        name = _NOT_NAME.sub("_", own if isinstance(own, str) else str(type_))[:64] or "response"
    elif not _NAME.fullmatch(name):
        raise ValueError(f"name {name!r} is not 1 to 64 of a-z, A-Z, 0-9, '_' and '-'")
    head: dict[str, Any] = {"name": name}
    if description is not None:
        head["description"] = description
    return head


def _described(type_: object, description: str | None) -> str | None:
    # The class's own docstring as written, as openai-python's pydantic_function_tool sends it
    # (``__doc__``, not inspect.getdoc: no inherited docstring); none for a dataclass whose
    # docstring is the signature @dataclass wrote.
    if description is not None:
        return description
    cls = typing.get_origin(type_) or type_
    doc = getattr(cls, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        try:
            generated = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
        except (TypeError, ValueError):  # pragma: no cover - a signature inspect cannot read
            generated = None
        if doc == generated:
            return None
    return doc
