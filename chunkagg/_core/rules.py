"""The merge rules of fields no format rule names: providers' extensions and unknown keys.

Owns the generic rules (``"append"``, ``"last"``, ``"first"``, ``"merge"``, and the codes the
formats use for their known extensions), the ``Planner`` that gives each derived wire Struct its
plan (the fields to read and the rule of each, the caller's rules over the format's), the merge
of one value by a rule, building merged values back into JSON, and the code generation that
inlines the common rules for a format's per-chunk levels. Must not know bytes, framing or any
format's fields: a format subclasses ``Planner`` with its known rules, and a rule
that keeps state of its own (chat's ``reasoning_details``) is an ``Accrual`` class.

A level's merge state (the chunk's, a message's, a tool call's...) is a plain ``dict`` from JSON
key to the value merged so far. For each derived wire Struct, a plan lists once the fields to
read and the rule of each, so that merging a chunk is one loop over the fields its stream
actually carries. Values that may be mutable (objects, lists) are copied when kept and copied
again when built, so that nothing a caller holds shares anything with the state. A format checks
a chunk's values for nesting before it merges any (``nested``, ``check_nested``): none the state
holds nests deeper than ``MAX_DEPTH``, so copying, merging, building and encoding it recurse a
bounded number of levels from wherever the caller stands.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, to_builtins

from .limits import check_depth

__all__ = [
    "APPEND",
    "DROP",
    "FIRST",
    "LAST",
    "MERGE",
    "RULES",
    "TAG",
    "Accrual",
    "Entries",
    "Planner",
    "Rule",
    "RuleCode",
    "append",
    "build",
    "check_nested",
    "check_rules",
    "compile_merge",
    "copy",
    "empty",
    "has_value",
    "inline_body",
    "merge",
    "merge_value",
    "nested",
]

Rule = Literal["append", "last", "first", "merge"]
RULES: tuple[Rule, ...] = ("append", "last", "first", "merge")

# Rule codes. APPEND: strings concatenated, lists extended, objects merged key by key with this
# same rule, other values last non-null. LAST: last non-null, whole. TAG: last non-empty. FIRST:
# first non-empty. MERGE: an object's keys, later non-null wins. DROP: left out of the result.
# A format's rule with state of its own is an ``Accrual`` class instead of a code.
APPEND, LAST, TAG, FIRST, MERGE, DROP = range(6)
_CODES: dict[str, int] = {"append": APPEND, "last": LAST, "first": FIRST, "merge": MERGE}


class Accrual:
    """A rule with state of its own (chat's ``reasoning_details``, merged by ``index``): the
    value kept under a key is an instance, ``add`` merges one value into it and returns the text
    it added, ``build`` gives the merged JSON value."""

    __slots__ = ()

    def add(self, value: Any) -> int:
        raise NotImplementedError

    def build(self) -> Any:
        raise NotImplementedError


RuleCode = int | type[Accrual]
# ``(attribute, JSON key, rule)`` of each field one level merges beyond the format's own.
Entries = tuple[tuple[str, str, RuleCode], ...]

# Whatever the format, at whatever level: OpenAI's random padding is never merged.
_ALWAYS: Mapping[str, RuleCode] = types.MappingProxyType({"obfuscation": DROP})


def copy(value: Any) -> Any:
    """A deep copy of a JSON value, in C: new dicts and lists, the strings and numbers in them
    shared (immutable). ``msgspec.to_builtins`` makes one in a single pass, where an encoding
    and a decoding, as this did before, wrote and parsed every string again (a sixteenth of
    the time on a text-heavy response)."""
    if type(value) is dict or type(value) is list:
        return to_builtins(value)
    return value


_NO_RULES: Mapping[str, RuleCode] = types.MappingProxyType({})


class Planner:
    """One stream's plans, by Struct class: the caller's rules over the format's known ones.

    A format with rules of its own subclasses it: ``known`` gives its extensions' rules, and
    ``handled`` the keys its own merge reads wherever they come (chat's in-band ``error`` and
    whole ``message``), left out of every plan. Class attributes, not per stream: an idle
    accumulator stays under 1 KiB.
    """

    # Nothing is allocated per stream until a stream needs a plan: an idle accumulator stays
    # small (a gateway holds one per open stream), and most streams never widen.
    __slots__ = ("_plans", "rules")

    known: ClassVar[Mapping[str, RuleCode]] = _NO_RULES
    handled: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, rules: Mapping[str, Rule] | None) -> None:
        self.rules: Mapping[str, RuleCode] = (
            {key: _CODES[rule] for key, rule in rules.items()} if rules else _NO_RULES
        )
        self._plans: dict[type, Entries] | None = None

    def plan(self, cls: type, default: int) -> Entries:
        """The fields of ``cls`` to merge beyond the format's own, each with its rule; unknown
        keys follow ``default`` (APPEND in a chat delta, LAST elsewhere)."""
        plans = self._plans
        if plans is None:
            plans = self._plans = {}
        plan = plans.get(cls)
        if plan is None:
            entries = []
            for attr, key in getattr(cls, "_live", ()):
                if key in self.handled:
                    continue
                rule = self.rules.get(key, self.known.get(key, _ALWAYS.get(key, default)))
                if rule != DROP:
                    entries.append((attr, key, rule))
            plan = plans[cls] = tuple(entries)
        return plan


def merge(values: dict[str, Any], obj: Any, entries: Entries) -> int:
    """Merge the fields ``entries`` names from ``obj`` into ``values``; return the text added.

    Values are not checked here: a format checks a chunk's nesting (``nested``,
    ``check_nested``) before it changes anything, so that a bad chunk is dropped whole.
    """
    size = 0
    for attr, key, rule in entries:
        value = getattr(obj, attr)
        if value is not None and value is not UNSET:
            size += merge_value(values, key, rule, value)
    return size


def merge_value(values: dict[str, Any], key: str, rule: RuleCode, value: Any) -> int:
    """Merge one non-null value into ``values[key]`` by ``rule``; return the text it added."""
    kind = type(value)
    if rule == APPEND:
        if kind is str:
            current = values.get(key)
            if type(current) is _Text:
                current.append(value)
            else:
                values[key] = _Text((value,))
            return len(value)
        if kind is dict or kind is list:
            values[key], added = _accumulate(values.get(key), value)
            return added
        values[key] = value
    elif rule == LAST:
        values[key] = copy(value) if kind is dict or kind is list else value
    elif rule == TAG:
        if value != "":
            values[key] = copy(value) if kind is dict or kind is list else value
    elif rule == FIRST:
        if empty(values.get(key)) and not empty(value):
            values[key] = copy(value)
    elif rule == MERGE:
        current = values.get(key)
        if kind is dict:
            target = current if type(current) is dict else {}
            for k, v in value.items():
                if v is not None:
                    target[k] = copy(v)
            values[key] = target
        else:
            values[key] = copy(value)
    elif isinstance(rule, type):
        current = values.get(key)
        if type(current) is not rule:
            current = values[key] = rule()
        return current.add(value)
    return 0


# -- compiled merges ---------------------------------------------------------------------------
# A Python call costs about a thousand instructions (callgrind): for the levels merged on every
# chunk, a format compiles one function per schema with the fields read as attributes and the
# common rules inline, instead of a loop of calls.

INLINE: Mapping[RuleCode, list[str]] = types.MappingProxyType(
    {
        LAST: ["values[{k}] = v if type(v) is not dict and type(v) is not list else copy(v)"],
        TAG: [
            'if v != "":',
            "    values[{k}] = v if type(v) is not dict and type(v) is not list else copy(v)",
        ],
        APPEND: [
            "t = type(v)",
            "if t is str:",
            "    c = values.get({k})",
            "    if type(c) is _Text:",
            "        c.append(v)",
            "    else:",
            "        values[{k}] = _Text((v,))",
            "    size += len(v)",
            "elif t is dict or t is list:",
            "    size += merge_value(values, {k}, APPEND, v)",
            "else:",
            "    values[{k}] = v",
        ],
    }
)


def inline_body(
    values: str, obj: str, entries: Entries, inline: Mapping[RuleCode, list[str]] = INLINE
) -> list[str]:
    """The lines that merge ``entries`` of the object named ``obj`` into the dict named
    ``values``, the rules in ``inline`` written out (``{k}`` stands for the key), any other a
    call of ``merge_value``. An ``Accrual`` rule is named by its class name, which the
    namespace given to ``compile_merge`` must hold."""
    lines = [f"values = {values}"] if entries else []
    for attr, key, rule in entries:
        # ``attr`` is an identifier (``schema`` names fields so) and ``key`` a repr'd literal.
        lines += [f"v = {obj}.{attr}", "if v is not None and v is not UNSET:"]
        name = rule.__name__ if isinstance(rule, type) else str(rule)
        code = inline.get(rule, [f"size += merge_value(values, {{k}}, {name}, v)"])
        lines += ["    " + line.format(k=repr(key)) for line in code]
    return lines


def compile_merge(name: str, args: str, body: list[str], namespace: Mapping[str, Any]) -> Any:
    """Compile ``def name(args)`` running ``body`` and returning the text it added (``size``)."""
    source = "\n".join(
        [
            f"def {name}({args}):",
            "    size = 0",
            *("    " + line for line in body),
            "    return size",
        ]
    )
    scope: dict[str, Any] = {
        "UNSET": UNSET,
        "copy": copy,
        "merge_value": merge_value,
        "_Text": _Text,
        "APPEND": APPEND,
        **namespace,
    }
    exec(source, scope)
    return scope[name]


def append(values: dict[str, Any], key: str, value: Any) -> int:
    """Merge ``value`` into ``values[key]`` by the generic rule; return the text it added
    (``value`` checked for nesting by the caller, as ``merge``'s are)."""
    values[key], size = _accumulate(values.get(key), value)
    return size


def build(
    values: Mapping[str, Any], declared: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the fields an output Struct declares, the others): fresh values from merge state."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in values.items():
        (known if key in declared else extra)[key] = _materialize(value)
    return known, extra


def nested(cls: type, entries: Entries) -> Entries:
    """The ``entries`` of fields of ``cls`` whose values may be arrays or objects (a field typed
    ``Any``, or a list or dict), the only ones whose nesting needs checking."""
    types = (
        {f.name: f.type for f in msgspec.structs.fields(cls)}
        if hasattr(cls, "__struct_fields__")
        else {}
    )
    return tuple(entry for entry in entries if _may_nest(types.get(entry[0], Any)))


def _may_nest(tp: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a value of type ``tp`` may nest without bound: ``Any`` somewhere in it (in a
    list's items, a dict's values, a Struct's fields...), or a bare list or dict."""
    if tp is Any or tp in (list, dict, tuple):
        return True
    origin = typing.get_origin(tp)
    if isinstance(tp, types.UnionType) or origin in (typing.Union, list, dict, tuple):
        return any(_may_nest(arg, seen) for arg in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if tp in seen:
            return True  # a Struct that holds itself nests without bound
        inner = seen | {tp}
        return any(_may_nest(f.type, inner) for f in msgspec.structs.fields(tp))
    return False


def check_nested(obj: Any, entries: Entries) -> None:
    """``ChunkError`` when a field ``entries`` names holds a value nested deeper than
    ``MAX_DEPTH`` (``entries`` as ``nested`` gives them)."""
    for attr, _, _ in entries:
        value = getattr(obj, attr)
        if (type(value) is dict or type(value) is list) and value:
            check_depth(value)


def has_value(obj: Any) -> bool:
    """Whether a wire Struct carries any non-empty extension or unknown value."""
    for attr, _ in getattr(obj, "_live", ()):
        value = getattr(obj, attr)
        if value is not UNSET and not empty(value):
            return True
    return False


# -- the generic rule --------------------------------------------------------------------------


class _Text(list[str]):
    """String fragments of a field merged by "append", joined when built."""

    __slots__ = ()


class _Items(list[Any]):
    """Items of a list field merged by "append" (each already copied)."""

    __slots__ = ()


class _Object(dict[str, Any]):
    """An object field merged by "append": each key merged by the same rule."""

    __slots__ = ()


def _accumulate(current: Any, value: Any) -> tuple[Any, int]:
    """The generic "append" rule: ``value`` merged into ``current``; also the text it added."""
    if isinstance(value, str):
        if isinstance(current, _Text):
            current.append(value)
            return current, len(value)
        return _Text((value,)), len(value)
    if isinstance(value, list):
        items = copy(value)
        if isinstance(current, _Items):
            current.extend(items)
            return current, len(items)
        return _Items(items), len(items)
    if isinstance(value, dict):
        size = 0
        target = current if isinstance(current, _Object) else _Object()
        for key, item in value.items():
            if item is not None:
                target[key], added = _accumulate(target.get(key), item)
                size += added
        return target, size
    return value, 0


def _materialize(value: Any) -> Any:
    if isinstance(value, _Text):
        return "".join(value)
    if isinstance(value, _Items):
        return copy(list(value))
    if isinstance(value, _Object):
        # A loop, not a comprehension: one frame per level (Python 3.11 gives a comprehension
        # a frame of its own).
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key] = _materialize(item)
        return out
    if isinstance(value, Accrual):
        return value.build()
    return copy(value)


def empty(value: Any) -> bool:
    """Whether a value counts as not sent: null, "", [] or {}."""
    return value is None or value == "" or value == [] or value == {}


def check_rules(rules: Mapping[str, Rule] | None, core: Collection[str]) -> None:
    """Raise ``ValueError`` for a caller's rule that is no rule, or for a field in ``core``
    (the fields a format merges by its own rules)."""
    for name, rule in (rules or {}).items():
        if rule not in RULES:
            raise ValueError(f"rule for {name!r} must be one of {RULES}, not {rule!r}")
        if name in core:
            raise ValueError(f"{name!r} has its own merge rule, which cannot be changed")
