"""Payloads to typed chunks that lose nothing: the fast typed decoder, and the Structs it lacks.

Owns how JSON becomes a format's root wire Struct (``ChunkDecoder(root)``: chat's
``ResponseBody2``, ``CompletionChunk``, ``ResponseEvent``...) with every key the server sent, and
the Structs derived for keys or types the declared ones lack. Must not know framing, merge rules,
or any format: what it needs of a format's Structs they declare as class facts (``models``:
``_strict``, ``_extensions``, ``_unmerged``, ``_wider``), read from the root it is given.

msgspec decodes a declared Struct in C but skips a key it does not declare; it has no place to keep
one (msgspec#490). So every wire Struct forbids unknown keys, and a stream starts on the
*plain schema*: the declared Structs with every provider extension narrowed to ``None``. An OpenAI
stream decodes there from start to end, and the merge, seeing a plain chunk, never looks for an
extension. A payload that does not fit is *widened*: decoded once into builtins and walked
against the declared Structs, which finds each key to add (``EXTRA``: typed ``SCALAR`` while
its values are JSON scalars, ``Any`` once one is an array or object), each extension to open
(``ENABLE``) and each extension value of an unexpected type (``ANY``: the field is retyped
``Any``: an extension is never an error). The stream's schema grows by those, subclasses are
derived (``msgspec.defstruct``) and the payload is decoded again, in C, as is every later one: a
stream pays the walk once per new shape, not once per chunk.

Derived schemas are kept in one bounded cache shared by all streams (``functools.lru_cache``,
which is thread-safe): streams from one provider share their Structs, and a new one costs a
dictionary look-up. A stream may add at most ``MAX_EXTRA_FIELDS`` keys.
"""

from __future__ import annotations

import functools
import keyword
import reprlib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import msgspec
from msgspec import UNSET

from .._errors import ChunkError, LimitExceededError
from .detect import other_api
from .limits import EVENT_DEPTH, deeper_than, depth_error
from .models import _Common

__all__ = [
    "DECODE_ERRORS",
    "MAX_EXTRA_FIELDS",
    "SCALAR",
    "ChunkDecoder",
    "Schema",
    "build_output",
    "declarable",
    "derive_output",
    "dump_model",
    "whole_numbers",
]

# msgspec reports invalid UTF-8 inside a JSON string as UnicodeDecodeError, and JSON nested about
# a thousand levels deep as RecursionError, not as DecodeError. (How deep depends on the caller's
# stack: a RecursionError is reported as the same error as a value nested deeper than MAX_DEPTH,
# see _chunk_error.)
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
# Distinct unknown keys one stream may add, all levels together. Real providers add a handful; a
# stream that invents a new key on every chunk would otherwise build a Struct per chunk.
MAX_EXTRA_FIELDS = 256

# What a payload may need of a schema, per (declared class, JSON key): a field for an unknown key,
# an extension enabled, a field retyped Any (an extension of an unexpected type), or a field given
# its wider type (a class's ``_wider``).
EXTRA, ENABLE, ANY, WIDE = 0, 1, 2, 3
Need = tuple[type, str, int]
# The type of an unknown key's field while every value it had was a JSON scalar (``ANY`` too
# once one is an array or an object): such a field holds nothing mutable, and nothing nested
# that would need checking on every chunk.
SCALAR = str | int | float | bool | None
_SCALARS = (str, int, float, type(None))


@dataclass(frozen=True)
class _Field:
    attr: str
    type: Any
    default: Any  # a msgspec.field(...) giving the declared default
    children: tuple[type, ...]  # wire Structs inside the type
    many: bool  # a list (or tuple) of those Structs, not one
    strict: bool
    extension: bool
    whole: str  # where a whole-number float may stand for an int: "one", "items" or ""


def _flat(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return (tp,)


def _structs_in(tp: Any) -> tuple[type, ...]:
    if isinstance(tp, type) and issubclass(tp, _Common):
        return (tp,)
    found: list[type] = []
    for arg in typing.get_args(tp):
        found.extend(c for c in _structs_in(arg) if c not in found)
    return tuple(found)


def _fields(cls: type) -> dict[str, _Field]:
    """The declared fields of ``cls``, then its extensions (read from their properties)."""
    strict: frozenset[str] | None = cls._strict  # type: ignore[attr-defined]
    out = {}
    declared = [
        (info.name, info.encode_name, info.type, info.default, info.default_factory, False)
        for info in msgspec.structs.fields(cls)
    ]
    for name in cls._extensions:  # type: ignore[attr-defined]
        getter = getattr(cls, name).fget
        hint = typing.get_type_hints(getter)["return"]
        declared.append((name, name, hint, getter(None), msgspec.NODEFAULT, True))
    for name, key, tp, default, factory, extension in declared:
        out[key] = _Field(
            attr=name,
            type=tp,
            default=(
                msgspec.field(default_factory=factory)
                if factory is not msgspec.NODEFAULT
                else msgspec.field(default=default)
            ),
            children=_structs_in(tp),
            many=any(typing.get_origin(a) in (list, tuple) for a in _flat(tp)),
            strict=strict is None or name in strict,
            extension=extension,
            whole=_whole(name, tp),
        )
    return out


def _whole(name: str, tp: Any) -> str:
    args = _flat(tp)
    if int in args and (float not in args or name == "created" or name.endswith("_tokens")):
        return "one"
    if any(typing.get_args(a)[:1] == (int,) for a in args if typing.get_origin(a) is tuple):
        return "items"
    return ""


def _tree(root: type) -> dict[type, dict[str, _Field]]:
    tree: dict[type, dict[str, _Field]] = {}
    todo = [root]
    while todo:
        cls = todo.pop()
        if cls not in tree:
            tree[cls] = _fields(cls)
            todo.extend(c for f in tree[cls].values() for c in f.children)
    return tree


@functools.cache
def _tree_of(root: type) -> dict[type, dict[str, _Field]]:
    """Every wire Struct reachable from ``root``, with its fields (once per root and process)."""
    return _tree(root)


@functools.cache
def _keys_of(root: type) -> frozenset[str]:
    """The JSON keys a chunk of ``root`` may carry at its top (shared by every stream)."""
    return frozenset(_tree_of(root)[root])


# -- finding what a payload needs ----------------------------------------------------------------


def _accepts(field: _Field, value: Any) -> bool:
    """Whether an extension's value fits its declared type (the shape only, for Structs)."""
    if field.children:
        # A Struct's own keys are judged one level down; here only its container shape matters.
        if field.many:
            return isinstance(value, list) and all(isinstance(item, dict) for item in value)
        return isinstance(value, dict)
    try:
        msgspec.convert(value, field.type)
    except (msgspec.ValidationError, TypeError):
        return False
    return True


def _needs(
    value: dict[str, Any],
    cls: type,
    out: set[Need],
    drops: list[tuple[dict[str, Any], str]],
    tree: dict[type, dict[str, _Field]],
) -> None:
    """Add to ``out`` what decoding ``value`` as ``cls`` needs beyond the plain schema.

    Keys that no Struct can declare go to ``drops`` instead (see ``_declarable``).
    """
    fields = tree[cls]
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            if _declarable(key):
                out.add((cls, key, EXTRA))
                if not isinstance(item, _SCALARS):
                    out.add((cls, key, ANY))
            else:
                drops.append((value, key))
            continue
        if field.extension:
            out.add((cls, key, ENABLE))  # even for null: the plain schema has no such field
        if item is None:
            continue
        if key in cls._wider and not isinstance(item, str):  # type: ignore[attr-defined]
            out.add((cls, key, WIDE))
        if not field.strict and not _accepts(field, item):
            out.add((cls, key, ANY))
            continue
        if not field.children:
            continue
        # A strict field of the wrong shape is left alone: decoding reports it.
        items = item if isinstance(item, list) else (item,)
        for child in items:
            if isinstance(child, dict):
                for sub in field.children:
                    _needs(child, sub, out, drops, tree)


def declarable(key: str) -> bool:
    """Whether a JSON key can be a Struct field (msgspec refuses ``"``, ``\\`` and control
    characters in a field name)."""
    return _declarable(key)


def _declarable(key: str) -> bool:
    # msgspec refuses a field name holding '"', '\' or a control character. No server sends
    # such a key; it is the one kind of key chunkagg drops (docs/merge-policy.md says so).
    return not any(c in '"\\' or c < " " for c in key)


# -- deriving Structs ------------------------------------------------------------------------------


def _swap(tp: Any, new: Mapping[type, type]) -> Any:
    """``tp`` with each class in ``new`` replaced by its derived class."""
    if isinstance(tp, type):
        return new.get(tp, tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is None or not args:
        return tp
    swapped = tuple(_swap(a, new) for a in args)
    if swapped == args:
        return tp
    if isinstance(tp, types.UnionType) or origin is typing.Union:
        return functools.reduce(lambda a, b: a | b, swapped)
    return origin[swapped]


def _attr_name(key: str, taken: set[str]) -> str:
    name = key
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or name in taken:
        n = 0
        while f"extra_{n}" in taken:
            n += 1
        name = f"extra_{n}"
    taken.add(name)
    return name


def _eq(self: _Common, other: object) -> Any:
    # Chunks decoded under different schemas are instances of different derived classes; they
    # are equal when they encode the same.
    if not isinstance(other, _Common):
        return NotImplemented
    if type(self) is type(other):
        return _STRUCT_EQ(self, other)
    return msgspec.to_builtins(self) == msgspec.to_builtins(other)


_STRUCT_EQ: Callable[[Any, Any], Any] = msgspec.Struct.__eq__


def _subclass(
    base: type,
    fields: list[tuple[str, Any, Any]],
    extras: list[tuple[str, str]],
    flags: Mapping[str, Any],
) -> type:
    config = base.__struct_config__  # type: ignore[attr-defined]
    rename = {attr: key for attr, key in extras if attr != key}
    namespace: dict[str, Any] = {
        "_extra_fields": (*base._extra_fields, *extras),  # type: ignore[attr-defined]
        "__eq__": _eq,
        "__hash__": None,
        **flags,
    }
    derived: type = msgspec.defstruct(
        base.__name__,
        fields,
        bases=(base,),
        module=base.__module__,
        namespace=namespace,
        rename=rename or None,
        kw_only=True,
        frozen=config.frozen,
        omit_defaults=config.omit_defaults,
        forbid_unknown_fields=config.forbid_unknown_fields,
        gc=config.gc,
    )
    derived.__qualname__ = base.__qualname__
    return derived


class Schema:
    """One set of derived wire Structs: the root chunk type and its decoders."""

    __slots__ = ("ext", "extras", "needs", "root", "strict")

    def __init__(self, base: type, needs: frozenset[Need]) -> None:
        self.needs = needs
        tree = _tree_of(base)
        # The plain schema is the declared Structs; any need takes the merge off its hot path.
        self.ext = bool(needs)
        by_class: dict[type, dict[str, set[int]]] = {}
        for cls, key, kind in needs:
            by_class.setdefault(cls, {}).setdefault(key, set()).add(kind)
        derived: dict[type, type] = {}
        for cls in _post_order(base, tree):
            derived[cls] = _derive(cls, by_class.get(cls, {}), derived, self.ext, tree, base)
        if derived[base] is not base:
            # Which fields have their wider type: a format's merge checks for the rare shape
            # only then (chat: a delta's content as a list of parts).
            widened = frozenset((cls, key) for cls, key, kind in needs if kind == WIDE)
            type.__setattr__(derived[base], "_widened", widened)
        self.root: Any = derived[base]
        self.extras = sum(kind == EXTRA for _, _, kind in needs)
        self.strict: msgspec.json.Decoder[Any] = msgspec.json.Decoder(self.root)


def _derive(
    cls: type,
    needs: dict[str, set[int]],
    derived: Mapping[type, type],
    ext: bool,
    tree: dict[type, dict[str, _Field]],
    root: type,
) -> type:
    """The subclass of ``cls`` for a schema: ``needs`` are its own, ``derived`` its children's."""
    # Every field is redeclared, in order, so that a derived Struct encodes its keys in the
    # declared order (msgspec puts a redeclared field last).
    fields: list[tuple[str, Any, Any]] = []
    live: list[tuple[str, str]] = []
    mutable = changed = False
    for key, field in tree[cls].items():
        kinds = needs.get(key, set())
        if field.extension:
            if not kinds:
                continue  # left to its property
            changed = True
            if key not in cls._unmerged:  # type: ignore[attr-defined]
                live.append((field.attr, key))
        if ANY in kinds:
            fields.append((field.attr, Any, field.default))
            changed = mutable = True
            continue
        if WIDE in kinds:
            fields.append((field.attr, cls._wider[key], field.default))  # type: ignore[attr-defined]
            changed = True
            continue
        swapped = _swap(field.type, derived)
        if swapped is not field.type:
            changed = True
            mutable = mutable or any(derived[c]._mutable for c in field.children)  # type: ignore[attr-defined]
        fields.append((field.attr, swapped, field.default))
    taken = {f.attr for f in tree[cls].values()} | set(dir(cls))
    extras = [
        (_attr_name(key, taken), key)
        for key in sorted(k for k, kinds in needs.items() if EXTRA in kinds)
    ]
    nesting = [ANY in needs[key] for _, key in extras]
    fields.extend(
        (attr, Any if nests else SCALAR, msgspec.field(default=UNSET))
        for (attr, _), nests in zip(extras, nesting, strict=True)
    )
    live.extend(extras)
    if not changed and not extras:
        return cls
    flags: dict[str, Any] = {"_live": tuple(live), "_mutable": mutable or any(nesting)}
    if cls is root:
        flags["_ext"] = ext
        flags["_classes"] = dict(derived)  # the Struct derived for each nested class
    return _subclass(cls, fields, extras, flags)


def _post_order(root: type, tree: dict[type, dict[str, _Field]]) -> list[type]:
    order: list[type] = []

    def visit(cls: type) -> None:
        if cls in order:
            return
        for field in tree[cls].values():
            for child in field.children:
                visit(child)
        order.append(cls)

    visit(root)
    return order


@functools.lru_cache(maxsize=128)
def _schema(base: type, needs: frozenset[Need]) -> Schema:
    return Schema(base, needs)


# -- per-stream decoding ---------------------------------------------------------------------------


class ChunkDecoder:
    """One stream's decoder: starts on the plain schema and widens as payloads need.

    ``decode`` is the current schema's msgspec decode function: call it first, and ``widen`` when
    it raises ``msgspec.ValidationError``.
    """

    __slots__ = ("base", "decode", "keys", "noun", "schema", "tree")

    def __init__(self, base: type, noun: str = "chunk") -> None:
        """A decoder of ``base`` payloads (a format's root wire Struct), each called a ``noun``
        in error messages."""
        self.base = base
        self.noun = noun
        self.tree = _tree_of(base)
        self.keys = _keys_of(base)
        self.schema = _schema(base, frozenset())
        self.decode: Callable[[Any], Any] = self.schema.strict.decode

    def widen(self, payload: bytes | bytearray | memoryview | str, exc: Exception) -> Any:
        """Decode a payload the current schema refused: widen the schema, or raise ChunkError.

        Raises:
            ChunkError: the payload is not a chunk, or a field OpenAI defines has the wrong type.
            LimitExceededError: the stream added more than ``MAX_EXTRA_FIELDS`` keys.
        """
        try:
            value = _ANY_DECODE(payload)
        except DECODE_ERRORS as err:  # the typed decode met a wrong type before the bad syntax
            raise _chunk_error(err, payload, self.noun) from err
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        if deeper_than(raw, EVENT_DEPTH):
            # What a deeper stack would have met decoding it: the same error here.
            raise depth_error(self.noun, raw)
        if not isinstance(value, dict):
            raise _chunk_error(exc, payload, self.noun) from exc
        _check_chunk_keys(value, self.keys, self.noun)
        needs: set[Need] = set()
        drops: list[tuple[dict[str, Any], str]] = []
        _needs(value, self.base, needs, drops, self.tree)
        schema = self.schema
        if not needs <= schema.needs:
            schema = _schema(self.base, schema.needs | needs)
            if schema.extras > MAX_EXTRA_FIELDS:
                raise LimitExceededError(
                    "too many distinct unknown fields in one stream",
                    limit="MAX_EXTRA_FIELDS",
                    value=MAX_EXTRA_FIELDS,
                )
        elif not drops:  # nothing new: a field of the wrong type
            raise _chunk_error(exc, payload, self.noun) from exc
        try:
            if drops:
                for owner, key in drops:
                    del owner[key]
                chunk: Any = msgspec.convert(value, schema.root)
            else:
                chunk = schema.strict.decode(payload)
        except (msgspec.ValidationError, *DECODE_ERRORS) as err:
            raise _chunk_error(err, payload, self.noun) from err
        self.schema = schema
        self.decode = schema.strict.decode
        return chunk

    def decode_or_raise(self, payload: bytes | bytearray | memoryview | str) -> Any:
        """Decode one payload, widening the schema when it carries something new.

        Raises:
            ChunkError: the payload is not JSON, not a chunk, or a declared field has the wrong
                type.
            LimitExceededError: the stream added more than ``MAX_EXTRA_FIELDS`` keys.
        """
        try:
            return self.decode(payload)
        except msgspec.ValidationError as exc:
            return self.widen(payload, exc)
        except DECODE_ERRORS as exc:
            raise _chunk_error(exc, payload, self.noun) from exc

    def convert(
        self,
        value: Any,
        dump: Callable[[Any], str | bytes] | None = None,
        fix: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Decode a chunk a caller built or an SDK decoded (a Struct, a mapping, a pydantic model)
        by the rules of a fed one: through JSON bytes and this decoder, so types, depth, lone
        surrogates and unknown keys are judged alike and nothing is shared with ``value``. Any
        Struct is re-encoded: msgspec checks types when decoding, not in ``__init__``.

        Args:
            value: the chunk.
            dump: a model's JSON text, by default ``value.model_dump_json()``.
            fix: applied to the builtins of a value that is not a ``base`` Struct, after
                whole-number floats are made ints where ints are due.

        Raises:
            ChunkError: ``value`` cannot be encoded, or what it encodes is no valid chunk.
        """
        try:
            if isinstance(value, self.base):
                payload = msgspec.json.encode(value)
            else:
                if isinstance(value, Mapping):
                    data: Any = value
                elif isinstance(value, msgspec.Struct):
                    data = msgspec.to_builtins(value)
                else:
                    data = _ANY_DECODE(value.model_dump_json() if dump is None else dump(value))
                # The Orq SDK types every number as a float: index 0.0, created 1.7e9.
                data = whole_numbers(data, self.base)
                payload = msgspec.json.encode(data if fix is None else fix(data))
        except (TypeError, ValueError, RecursionError, *DECODE_ERRORS) as exc:
            # ValueError: msgspec's DecodeError, UnicodeEncodeError, pydantic's serialization
            # errors.
            raw = reprlib.repr(value).encode()
            if isinstance(exc, RecursionError):
                raise _chunk_error(exc, raw, self.noun) from exc
            raise ChunkError(f"invalid {self.noun}: {exc}", raw) from exc
        return self.decode_or_raise(payload)


_ANY_DECODE = msgspec.json.Decoder().decode


def dump_model(model: Any) -> str:
    """A pydantic model's JSON, keys as sent: set fields only, by their wire names (the openai
    SDK names ``schema`` ``schema_`` in Python). Without pydantic's serialization warnings: the
    SDKs' stream helpers put subclasses (openai's ``ParsedResponseOutputMessage``) where their
    unions name the base classes, which pydantic warns about, and dumps right."""
    try:
        text = model.model_dump_json(exclude_unset=True, by_alias=True, warnings=False)
    except TypeError:  # a model_dump_json without pydantic's options
        text = model.model_dump_json()
    return str(text)


def _check_chunk_keys(value: Mapping[str, Any], keys: frozenset[str], noun: str) -> None:
    # An object with keys, none of them a chunk's, is not a chunk ({"not": "a chunk"}, a JSON
    # error body of another API...): merging it would pass it off as an empty completion.
    if value and keys.isdisjoint(value):
        found = ", ".join(sorted(map(repr, value))[:8])
        article = "an" if noun[:1] in "aeiou" else "a"
        raise ChunkError(
            f"not {article} {noun}: a JSON object whose keys ({found}) include none that "
            f"{article} {noun} has{other_api(value)}"
        )


def _chunk_error(
    exc: BaseException, payload: bytes | bytearray | memoryview | str, noun: str = "chunk"
) -> ChunkError:
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else bytes(payload)
    if isinstance(exc, RecursionError) or deeper_than(raw, EVENT_DEPTH):
        # Nested too deep for the stack the caller left, or nested too deep and wrong besides
        # (which of the two a decoder finds first depends on that stack): the error a check
        # gives a value deeper than MAX_DEPTH, whatever the stack.
        return depth_error(noun, raw)
    return ChunkError(f"invalid {noun}: {exc}", raw)


def whole_numbers(value: Any, cls: type) -> Any:
    """A copy of a chunk's builtins with whole-number floats made ints where ints are due.

    The Orq SDK types every JSON number as a float, so its models dump ``"index": 0.0``. An int
    field takes such a float back as an int; so do ``created`` and the token counts, which are
    integers in every real stream. Nothing else changes (a ``"0"`` stays a string, and fails).
    """
    if not isinstance(value, Mapping):
        return value
    fields = _tree_of(cls)[cls]
    out = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is not None:
            if field.whole == "one" and isinstance(item, float) and item.is_integer():
                item = int(item)
            elif field.whole == "items" and isinstance(item, list):
                item = [int(x) if isinstance(x, float) and x.is_integer() else x for x in item]
            elif field.children and isinstance(item, list):
                item = [whole_numbers(x, field.children[0]) for x in item]
            elif field.children:
                item = whole_numbers(item, field.children[0])
        out[key] = item
    return out


_T = TypeVar("_T")


def build_output(cls: type[_T], extra: Mapping[str, Any] | None, **fields: Any) -> _T:
    """An output Struct, with ``extra`` (keys it does not declare) in a derived class."""
    if not extra:
        return cls(**fields)
    derived: Any = derive_output(cast(type, cls), tuple(extra))
    result: _T = derived(**fields, **{attr: extra[key] for attr, key in derived._extra_fields})
    return result


# -- merged output -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def derive_output(base: type, keys: tuple[str, ...]) -> type:
    """A subclass of output Struct ``base`` that also encodes the JSON keys ``keys``."""
    taken = set(dir(base))
    extras = [(_attr_name(key, taken), key) for key in keys]
    fields = [(attr, Any, msgspec.field(default=UNSET)) for attr, _ in extras]
    return _subclass(base, fields, extras, {})
