"""A user's type as a plan for streamed JSON, and the final parse of a structured value.

Owns ``Node`` (what a position of the user's type expects: an object with its fields, an array,
a map, a free string that may be shown as it grows, an atom shown only once complete, or
anything), ``plan`` (a type to its root ``Node``, cached), ``ParseFailure`` (why a structured
value is ``None``) and ``Target`` (one type with its final parse and the failure rules every
format applies). Types are msgspec Structs, dataclasses, TypedDicts, pydantic models (validated
by pydantic; imported only when a type is one) and anything ``msgspec.convert`` accepts. Must not
know any format.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from msgspec import UNSET

from .limits import MAX_DEPTH, deeper_than

__all__ = ["ANY", "ParseFailure", "Target", "is_pydantic", "plan", "target_of"]

OBJECT, ARRAY, STRING, ATOM, ANY_KIND = range(5)

Converter = Callable[[Any], Any]


class ParseFailure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a structured value (``parsed``, ``parsed_arguments``...) is ``None``.

    ``reason`` is one of:

    - ``"refusal"``: the model refused (a refusal was sent instead of content);
    - the server's own word for a cut answer, as sent: ``"length"``, ``"content_filter"``
      (chat, legacy completions), ``"max_output_tokens"`` (Responses API), ``"max_tokens"``,
      ``"model_context_window_exceeded"`` (Messages);
    - ``"empty"``: nothing to parse (no content, a choice that only called tools);
    - ``"incomplete"``: the stream ended before the JSON did, with no reason given;
    - ``"invalid_json"``: the text is not one JSON value;
    - ``"too_deep"``: it nests deeper than ``MAX_DEPTH`` levels;
    - ``"invalid"``: the JSON does not validate as the type; ``path`` says where
      (``$.steps[2].minutes``).

    ``message`` says the same in words (the validator's message for ``"invalid"``).
    """

    reason: str
    message: str
    path: str | None = None


class Node:
    """What one position of a user's type expects.

    ``kind`` is ``OBJECT`` (``fields``: JSON key to attribute name and ``Node``; ``partial``
    makes the value shown while it streams, a ``dict`` when ``None``), ``ARRAY`` (``item``; a
    map is an ``OBJECT`` whose every key is ``item``), ``STRING`` (free text, shown as it
    grows), ``ATOM`` (shown once complete) or ``ANY_KIND`` (plain JSON). ``convert`` turns a
    complete value into the type (``None``: kept as it is). ``on_object``, ``on_array`` and
    ``on_string`` are the nodes a value opening with ``{``, ``[`` or ``"`` takes here (a union
    picks its member by them); ``tag_field`` and ``variants`` type an object of a tagged union
    once its tag arrives.
    """

    __slots__ = (
        "convert",
        "exact",
        "fields",
        "item",
        "kind",
        "on_array",
        "on_object",
        "on_string",
        "partial",
        "tag_field",
        "tp",
        "variants",
    )

    def __init__(self, kind: int, tp: Any, convert: Converter | None) -> None:
        self.kind = kind
        self.tp = tp
        self.convert = convert
        # The JSON scalar types a value of this node is already as (``convert`` is skipped).
        self.exact: frozenset[type] = _exact(tp) if convert is not None else frozenset()
        self.fields: dict[str, tuple[str, Node]] | None = None
        self.item: Node | None = None
        self.partial: Callable[[], Any] | None = None
        self.tag_field: str | None = None
        self.variants: dict[Any, Node] | None = None
        self.on_object: Node = self
        self.on_array: Node = self
        self.on_string: Node = self

    def __repr__(self) -> str:
        return f"Node({('object', 'array', 'string', 'atom', 'any')[self.kind]}, {self.tp!r})"


_AS_IS: dict[Any, type] = {
    str: str,
    int: int,
    float: float,
    bool: bool,
    type(None): type(None),
    None: type(None),
}


def _exact(tp: Any) -> frozenset[type]:
    """The scalar types JSON decodes to that ``tp`` takes unchanged: ``int`` for ``int | None``,
    say (never ``int`` for ``float``: it becomes a ``float``)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = typing.get_args(tp)
    else:
        members = (tp,)
    try:
        found = [_AS_IS[m] for m in members if m in _AS_IS]
    except TypeError:  # an unhashable member
        return frozenset()
    return frozenset(found)


def _any_node() -> Node:
    node = Node(ANY_KIND, Any, None)
    node.item = node
    return node


# Plain JSON: objects as dicts, arrays as lists, strings shown as they grow.


def is_typeddict(tp: Any) -> bool:
    """Whether ``tp`` is a TypedDict class, of ``typing`` or of ``typing_extensions``."""
    return (
        isinstance(tp, type)
        and issubclass(tp, dict)
        and hasattr(tp, "__required_keys__")
        and hasattr(tp, "__total__")
    )


def is_pydantic(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (without importing pydantic)."""
    return isinstance(tp, type) and hasattr(tp, "model_fields") and hasattr(tp, "model_validate")


def _msgspec_converter(tp: Any) -> Converter:
    def convert(value: Any) -> Any:
        return msgspec.convert(value, tp)

    return convert


def _pydantic_converter(tp: Any) -> Converter:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(tp)
    return adapter.validate_python


_FREE_TEXT = Node(STRING, str, _msgspec_converter(str))  # a str as is; a number is refused
ANY = _any_node()
ANY.on_string = _FREE_TEXT


def _strip(tp: Any) -> Any:
    """``tp`` without ``Annotated`` and ``NewType`` (their checks stay in the converter)."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):
            tp = tp.__supertype__
        else:
            return tp


_OPEN_LISTS = (list, set, frozenset, typing.Sequence, typing.MutableSequence)


class _Planner:
    """Builds the nodes of one root type; ``done`` holds classes already planned (recursion)."""

    def __init__(self, pydantic: bool) -> None:
        self.pydantic = pydantic
        self.done: dict[Any, Node] = {}

    def converter(self, tp: Any) -> Converter | None:
        if tp is Any or tp is object:
            return None
        return _pydantic_converter(tp) if self.pydantic else _msgspec_converter(tp)

    def node(self, tp: Any) -> Node:
        try:
            known = self.done.get(tp)
        except TypeError:  # an unhashable annotation
            known = None
        if known is not None:
            return known
        bare = _strip(tp)
        origin = typing.get_origin(bare)
        if bare is Any or bare is object:
            return ANY
        if bare is str:
            return (
                _FREE_TEXT
                if tp is str and not self.pydantic
                else Node(STRING, tp, self.converter(tp))
            )
        if origin is typing.Union or origin is types.UnionType:
            return self.union(tp, typing.get_args(bare))
        if isinstance(bare, type) and (
            is_pydantic(bare)
            or issubclass(bare, msgspec.Struct)
            or dataclasses.is_dataclass(bare)
            or is_typeddict(bare)
        ):
            return self.object(tp, bare)
        if origin in _OPEN_LISTS or bare in _OPEN_LISTS or _is_var_tuple(bare):
            args = typing.get_args(bare)
            node = self.open(ARRAY, tp)
            node.item = self.node(args[0]) if args else ANY
            return node
        if origin is dict or bare is dict or origin is typing.Mapping:
            args = typing.get_args(bare)
            node = self.open(OBJECT, tp)
            node.item = self.node(args[1]) if len(args) == 2 and args[0] is str else ANY
            return node
        return self.atom(tp)

    def open(self, kind: int, tp: Any) -> Node:
        node = Node(kind, tp, self.converter(tp))
        node.on_object = node if kind == OBJECT else self.atom(tp)
        node.on_array = node if kind == ARRAY else self.atom(tp)
        node.on_string = self.atom(tp)
        return node

    def atom(self, tp: Any) -> Node:
        """A value shown only once complete, then converted to ``tp``; an object or an array
        arriving here is built as plain JSON and converted (so refused) at its end."""
        node = Node(ATOM, tp, self.converter(tp))
        any_here = Node(ANY_KIND, tp, node.convert)
        any_here.item = ANY
        node.on_object = node.on_array = any_here
        return node

    def object(self, tp: Any, cls: type) -> Node:
        node = self.open(OBJECT, tp)
        with contextlib.suppress(TypeError):  # an unhashable annotation is planned again
            self.done[tp] = node
        fields: dict[str, tuple[str, Node]] = {}
        for attr, key, annotation in _fields_of(cls):
            fields[key] = (attr, self.node(annotation))
        node.fields = fields
        node.item = ANY  # a key the type does not declare
        if not is_typeddict(cls):
            node.partial = _partial_class(
                cls, tuple((attr, key) for key, (attr, _) in fields.items())
            )
        return node

    def union(self, tp: Any, members: tuple[Any, ...]) -> Node:
        node = self.atom(tp)
        planned = [(m, self.node(m)) for m in members if _strip(m) is not type(None)]
        objects = [(m, n) for m, n in planned if n.kind == OBJECT]
        arrays = [n for _, n in planned if n.kind == ARRAY]
        strings = [n for _, n in planned if n.kind == STRING]
        anys = [n for _, n in planned if n.kind == ANY_KIND]
        if len(objects) == 1 and not anys:
            node.on_object = objects[0][1]
        elif objects and not anys:
            tags = _tags(objects)
            if tags is not None:
                tagged = Node(OBJECT, tp, node.convert)
                tagged.item = ANY
                tagged.tag_field, tagged.variants = tags
                node.on_object = tagged
        elif anys:
            node.on_object = node.on_array = ANY
        if len(arrays) == 1 and not anys:
            node.on_array = arrays[0]
        if len(strings) == 1 and all(n.kind != ATOM for _, n in planned):
            node.on_string = strings[0]
        elif anys and not any(n.kind == ATOM for _, n in planned):
            node.on_string = _FREE_TEXT
        return node


def _is_var_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tags(objects: list[tuple[Any, Node]]) -> tuple[str, dict[Any, Node]] | None:
    """The tag field and the node of each tag value, when every member is a tagged Struct
    sharing one tag field."""
    fields = set()
    variants: dict[Any, Node] = {}
    for member, node in objects:
        cls = _strip(member)
        config = getattr(cls, "__struct_config__", None)
        if config is None or config.tag is None:
            return None
        fields.add(config.tag_field)
        variants[config.tag] = node
    return (fields.pop(), variants) if len(fields) == 1 else None


def _fields_of(cls: type) -> list[tuple[str, str, Any]]:
    """``(attribute, JSON key, annotation)`` of each field of an object-like class."""
    if is_pydantic(cls):
        out = []
        for name, info in cls.model_fields.items():  # type: ignore[attr-defined]
            alias = info.validation_alias if isinstance(info.validation_alias, str) else None
            key = alias or info.alias or name
            annotation = info.annotation
            if info.metadata:
                annotation = typing.Annotated[tuple((annotation, *info.metadata))]
            out.append((name, key, annotation))
        return out
    if issubclass(cls, msgspec.Struct):
        return [(f.name, f.encode_name, f.type) for f in msgspec.structs.fields(cls)]
    hints = typing.get_type_hints(cls, include_extras=True)
    if dataclasses.is_dataclass(cls):
        return [(f.name, f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    return [(name, name, hint) for name, hint in hints.items()]


def _partial_class(cls: type, fields: tuple[tuple[str, str], ...]) -> type:
    """A Struct named ``Partial[cls]`` with each field of ``cls`` optional, ``UNSET`` until its
    value arrives; it encodes with ``cls``'s JSON keys."""
    return msgspec.defstruct(
        f"Partial[{cls.__name__}]",
        [(attr, Any, UNSET) for attr, _ in fields],
        kw_only=True,
        rename={attr: key for attr, key in fields},
        repr_omit_defaults=True,
        module=cls.__module__,
    )


@functools.lru_cache(maxsize=512)
def _plan_cached(tp: Any) -> Node:
    return _Planner(_has_pydantic(tp)).node(tp)


def plan(tp: Any) -> Node:
    """The root ``Node`` of ``tp`` (cached per type)."""
    try:
        return _plan_cached(tp)
    except TypeError:  # unhashable
        return _Planner(_has_pydantic(tp)).node(tp)


def _has_pydantic(tp: Any) -> bool:
    if is_pydantic(_strip(tp)):
        return True
    return any(_has_pydantic(arg) for arg in typing.get_args(_strip(tp)) if arg is not Ellipsis)


_AT = re.compile(r" - at `\$(.*)`$")


def describe(exc: Exception, base: str = "$") -> tuple[str, str]:
    """``(message, path)`` of a validation error, the path under ``base``."""
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic
        first = errors()[0]
        path = base + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        )
        return f"{first['msg']} - at `{path}`", path
    text = str(exc)
    match = _AT.search(text)
    path = base + (match.group(1) if match else "")
    if match:
        text = text[: match.start()]
    return f"{text} - at `{path}`", path


class Target:
    """One user type: how a stream's JSON text becomes it, and why it may not.

    ``parse`` is the final parse of a whole text (one pass in C for msgspec types; pydantic's
    ``validate_json`` for pydantic models); ``failure`` applies the rules every format shares
    (refusals and cut answers are never parsed; the stream's end decides between
    ``"incomplete"`` and ``"invalid_json"``).
    """

    __slots__ = ("_decoder", "_validate", "node", "tp")

    CUT: ClassVar[frozenset[str]] = frozenset(
        (
            "length",
            "content_filter",
            "max_tokens",
            "max_output_tokens",
            "model_context_window_exceeded",
        )
    )

    def __init__(self, tp: Any) -> None:
        self.tp = tp
        try:
            self._setup(tp)
        except TypeError as exc:
            hint = ""
            if isinstance(tp, dict):
                hint = (
                    " (pass the type itself, a Struct, dataclass, TypedDict or pydantic model; "
                    "chunkagg.response_format(T) builds this request value from it)"
                )
            raise TypeError(f"chunkagg cannot parse JSON into {tp!r}: {exc}{hint}") from None

    def _setup(self, tp: Any) -> None:
        self.node = plan(tp)
        if _has_pydantic(tp):
            from pydantic import TypeAdapter

            self._validate: Callable[[str], Any] | None = TypeAdapter(tp).validate_json
            self._decoder: msgspec.json.Decoder[Any] | None = None
        else:
            self._validate = None
            self._decoder = msgspec.json.Decoder(tp)

    def __repr__(self) -> str:
        return f"Target({self.tp!r})"

    def parse(self, text: str, ended: bool) -> tuple[Any, ParseFailure | None]:
        """``(value, None)`` for a text that is the type's JSON, else ``(None, failure)``.

        ``ended``: whether the server said the answer is over (a finish or stop reason); a text
        cut short without one is ``"incomplete"``.
        """
        if not text.strip():
            return None, ParseFailure(reason="empty", message="no text to parse")
        data = text.encode()
        if deeper_than(data, MAX_DEPTH):
            return None, ParseFailure(
                reason="too_deep",
                message=f"nested deeper than {MAX_DEPTH} levels of arrays and objects",
            )
        try:
            if self._decoder is not None:
                return self._decoder.decode(data), None
            assert self._validate is not None
            return self._validate(text), None
        except msgspec.ValidationError as exc:
            message, path = describe(exc)
            return None, ParseFailure(reason="invalid", message=message, path=path)
        except msgspec.DecodeError as exc:
            return None, _bad_json(str(exc), ended)
        except ValueError as exc:  # pydantic's ValidationError
            errors = exc.errors()  # type: ignore[attr-defined]
            if errors and errors[0].get("type") == "json_invalid":
                return None, _bad_json(str(errors[0].get("msg")), ended)
            message, path = describe(exc)
            return None, ParseFailure(reason="invalid", message=message, path=path)

    def result(
        self,
        text: str | None,
        finish: str | None,
        refusal: str | None = None,
        live: Any = UNSET,
    ) -> tuple[Any, ParseFailure | None]:
        """The structured value of one answer, by the rules every format shares.

        ``text``: the whole content (``None``: none came); ``finish``: the server's finish or
        stop reason, ``None`` if none came; ``refusal``: a refusal text, if any; ``live``: the
        value a live scan converted, when it did (it is the same value, converted once).
        """
        if refusal or finish == "refusal":
            return None, ParseFailure(reason="refusal", message=refusal or "the model refused")
        if finish in self.CUT:
            return None, ParseFailure(
                reason=finish, message=f"the answer was cut short ({finish}); the text is kept"
            )
        if text is None:
            return None, ParseFailure(reason="empty", message="no text to parse")
        if live is not UNSET:
            return live, None
        return self.parse(text, finish is not None)


@functools.lru_cache(maxsize=256)
def _cached_target(tp: Any) -> Target:
    return Target(tp)


def target_of(tp: Any) -> Target:
    """The ``Target`` of ``tp``, made once per type (it holds no state of any stream)."""
    try:
        return _cached_target(tp)
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
        return Target(tp)


def _bad_json(message: str, ended: bool) -> ParseFailure:
    if not ended and ("truncated" in message.lower() or "EOF" in message):
        return ParseFailure(
            reason="incomplete", message=f"the stream ended inside the JSON: {message}"
        )
    return ParseFailure(reason="invalid_json", message=message)
