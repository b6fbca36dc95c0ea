"""Merge rules for providers' extensions and for keys never seen before.

Owns the rule of every field the hot path of ``_merge`` does not handle: the known extensions
(``reasoning_details``, ``executed_tools``, ``citations``, ``provider``...) and any other key, by
the generic rule or by the caller's (``Accumulator(rules=...)``). Must not know bytes, framing or
the fields OpenAI defines.

A level's merge state (the chunk's, a message's, a tool call's...) is a plain ``dict`` from JSON
key to the value merged so far. For each derived wire Struct, a ``Plan`` lists once the fields to
read and the rule of each, so that merging a chunk is one loop over the fields its stream
actually carries. Values that may be mutable (objects, lists) are copied when kept and copied
again when built, so that nothing a caller holds shares anything with the state.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Collection, Mapping
from typing import Any, Literal

import msgspec
from msgspec import UNSET

from ._models import (
    AudioDelta,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ReasoningDetail,
    TokenLogprob,
    ToolCallDelta,
)
from ._schema import build_output

__all__ = [
    "APPEND",
    "KNOWN_RULES",
    "LAST",
    "RULES",
    "ChoiceExt",
    "Plan",
    "Planner",
    "Rule",
    "Shape",
    "append",
    "build",
    "check_rules",
    "copy",
    "merge",
    "merge_value",
    "message_delta",
]

Rule = Literal["append", "last", "first", "merge"]
RULES: tuple[Rule, ...] = ("append", "last", "first", "merge")

# Rule codes. APPEND: strings concatenated, lists extended, objects merged key by key with this
# same rule, other values last non-null. LAST: last non-null, whole. TAG: last non-empty. FIRST:
# first non-empty. MERGE: an object's keys, later non-null wins. DETAILS, EXECUTED: by index.
# DROP: left out of the completion.
APPEND, LAST, TAG, FIRST, MERGE, DETAILS, EXECUTED, DROP = range(8)
_CODES: dict[str, int] = {"append": APPEND, "last": LAST, "first": FIRST, "merge": MERGE}

# The known extensions' rules (the README's "Provider extensions" table).
KNOWN_RULES: dict[str, int] = {
    "citations": LAST,
    "search_results": LAST,
    "moderation": LAST,
    "prompt_filter_results": LAST,
    "content_filter_results": LAST,
    "x_groq": MERGE,
    "provider": TAG,
    "native_finish_reason": TAG,
    "channel": TAG,
    "annotations": APPEND,
    "images": APPEND,
    "content_parts": APPEND,
    "reasoning_details": DETAILS,
    "executed_tools": EXECUTED,
    # OpenAI's random padding, at whatever level it comes.
    "obfuscation": DROP,
}

_ENCODE = msgspec.json.encode
_DECODE = msgspec.json.Decoder().decode


def copy(value: Any) -> Any:
    """A deep copy of a JSON value (in C: a msgspec round trip); immutable values as they are."""
    if type(value) is dict or type(value) is list:
        return _DECODE(_ENCODE(value))
    return value


class ChoiceExt:
    """Extension and unknown fields of one choice, by level: JSON key to the value so far."""

    __slots__ = ("audio", "choice", "function", "logprobs", "message", "snapshot")

    def __init__(self) -> None:
        self.choice: dict[str, Any] = {}
        self.message: dict[str, Any] = {}
        self.logprobs: dict[str, Any] | None = None
        self.audio: dict[str, Any] | None = None
        self.function: dict[str, Any] | None = None  # of the legacy function_call
        # The last whole ``message`` a chunk sent beside its delta (Perplexity sends both).
        self.snapshot: dict[str, Any] | None = None


def message_delta(ch: ChunkChoice) -> Delta | None:
    """A choice's whole ``message``, merged as its delta when it has none (a non-streamed
    body, some servers' chunks). A message's tool calls carry no ``index``: their position is
    their index."""
    message = ch.message
    if not message:
        return None
    calls = message.tool_calls
    if calls and any(tc.index is None for tc in calls):
        calls = [
            msgspec.structs.replace(tc, index=i) if tc.index is None else tc
            for i, tc in enumerate(calls)
        ]
        message = msgspec.structs.replace(message, tool_calls=calls)
    return message


class Plan:
    """What to merge of one derived wire Struct: ``(attribute, JSON key, rule code)`` each.

    ``error`` and ``message`` tell whether the Struct declares those two fields, which the
    caller handles itself (an in-band error raises; a message stands for a delta).
    """

    __slots__ = ("entries", "error", "message")

    def __init__(self, entries: tuple[tuple[str, str, int], ...], error: bool, message: bool):
        self.entries = entries
        self.error = error
        self.message = message


class Shape:
    """The plans of every level of one derived chunk Struct: what the merge reads, level by level,
    for a chunk of that class (its nested classes are fixed by its schema)."""

    __slots__ = (
        "audio",
        "choice",
        "delta",
        "entries_mutable",
        "error",
        "function",
        "logprobs",
        "merge",
        "message",
        "parts",
        "rare",
        "text",
        "tool",
        "top",
    )

    def __init__(self, planner: Planner, root: type) -> None:
        classes: Mapping[type, type] = getattr(root, "_classes", {})

        def of(base: type, default: int) -> Plan:
            return planner.plan(classes.get(base, base), default)

        top = planner.plan(root, LAST)
        choice = of(ChunkChoice, LAST)
        self.top = top.entries
        self.error = top.error
        self.choice = choice.entries
        self.message = choice.message
        # A choice's "text", unknown to chat: the mark of a legacy text_completion chunk.
        self.text = next((attr for attr, key, _ in self.choice if key == "text"), None)
        self.delta = of(Delta, APPEND).entries
        self.tool = of(ToolCallDelta, LAST).entries
        self.function = of(FunctionCallDelta, LAST).entries
        self.audio = of(AudioDelta, LAST).entries
        self.logprobs = of(ChoiceLogprobs, LAST).entries
        # Logprob entries with unknown keys (values that may be mutable) are copied when kept.
        self.entries_mutable = bool(getattr(classes.get(TokenLogprob), "_mutable", False))
        # Whether a delta's content may be a list of typed parts (Mistral) in this schema.
        self.parts = bool(getattr(root, "_parts", False))
        # Levels merged on few chunks, looked at together.
        self.rare = bool(
            self.audio or self.function or self.logprobs or self.entries_mutable or self.message
        )
        # merge(top, states, chunk) -> text added, or None when this schema has nothing to merge
        # at the chunk, choice or delta level: see _compile.
        body = _body("top", "chunk", self.top) if self.top else []
        if self.choice or self.delta:
            body += [
                "for ch in chunk.choices:",
                "    st = states[ch.index]",
                "    ext = st.ext",
                "    if ext is None:",
                "        ext = st.ext = ChoiceExt()",
                *("    " + line for line in _body("ext.choice", "ch", self.choice)),
            ]
            if self.delta:
                body += [
                    "    delta = ch.delta",
                    "    if delta is None:",
                    "        delta = message_delta(ch)",
                    "    if delta is not None:",
                    *("        " + line for line in _body("ext.message", "delta", self.delta)),
                ]
        self.merge = _compile("merge", "top, states, chunk", body) if body else None


_NO_RULES: Mapping[str, int] = types.MappingProxyType({})


class Planner:
    """One stream's plans, by Struct class, with the caller's rules over the known ones."""

    # Nothing is allocated per stream until a stream needs a plan: an idle accumulator stays
    # small (a gateway holds one per open stream), and most streams never widen.
    __slots__ = ("_plans", "_rules")

    def __init__(self, rules: Mapping[str, Rule] | None) -> None:
        self._rules: Mapping[str, int] = (
            {key: _CODES[rule] for key, rule in rules.items()} if rules else _NO_RULES
        )
        self._plans: dict[type, Plan] | None = None

    def shape(self, root: type) -> Shape:
        """The plans of a derived chunk class, all levels (built once per process and rules;
        callers keep it per stream)."""
        return _shape(root, tuple(sorted(self._rules.items())))

    def plan(self, cls: type, default: int) -> Plan:
        """The plan of ``cls``, whose unknown keys follow ``default`` (APPEND in a delta)."""
        plans = self._plans
        if plans is None:
            plans = self._plans = {}
        plan = plans.get(cls)
        if plan is None:
            entries = []
            for attr, key in getattr(cls, "_live", ()):
                if key in ("error", "message"):
                    continue
                rule = self._rules.get(key, KNOWN_RULES.get(key, default))
                if rule != DROP:
                    entries.append((attr, key, rule))
            fields = getattr(cls, "__struct_fields__", ())
            plan = plans[cls] = Plan(tuple(entries), "error" in fields, "message" in fields)
        return plan


@functools.lru_cache(maxsize=256)
def _shape(root: type, rules: tuple[tuple[str, int], ...]) -> Shape:
    # Shared by the streams of one schema: compiling its merges costs about 0.1 ms.
    planner = Planner(None)
    planner._rules = dict(rules)
    return Shape(planner, root)


def merge(values: dict[str, Any], obj: Any, entries: tuple[tuple[str, str, int], ...]) -> int:
    """Merge the fields ``entries`` names from ``obj`` into ``values``; return the text added."""
    size = 0
    for attr, key, rule in entries:
        value = getattr(obj, attr)
        if value is not None and value is not UNSET:
            size += merge_value(values, key, rule, value)
    return size


def merge_value(values: dict[str, Any], key: str, rule: int, value: Any) -> int:
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
    elif rule == DETAILS:
        current = values.get(key)
        if type(current) is not _Details:
            current = values[key] = _Details()
        if value:  # OpenRouter sends [] on every chunk that has no reasoning
            return current.add(value)
    elif rule == FIRST:
        if _empty(values.get(key)) and not _empty(value):
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
    elif rule == EXECUTED:
        current = values.get(key)
        if type(current) is not _Executed:
            current = values[key] = _Executed()
        current.add(value)
    return 0


# -- compiled merges ---------------------------------------------------------------------------
# A Python call costs about a thousand instructions (callgrind): for the levels merged on every
# chunk (the chunk's, and a choice's with its delta), each stream's Shape compiles one function
# with the fields read as attributes and the common rules inline, instead of a loop of calls.

_INLINE = {
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
    DETAILS: [
        "d = values.get({k})",
        "if type(d) is not _Details:",
        "    d = values[{k}] = _Details()",
        "if v:",
        "    size += d.add(v)",
    ],
}


def _body(values: str, obj: str, entries: tuple[tuple[str, str, int], ...]) -> list[str]:
    lines = [f"values = {values}"] if entries else []
    for attr, key, rule in entries:
        # ``attr`` is an identifier (_schema names fields so) and ``key`` a repr'd literal.
        lines += [f"v = {obj}.{attr}", "if v is not None and v is not UNSET:"]
        code = _INLINE.get(rule, [f"size += merge_value(values, {{k}}, {rule}, v)"])
        lines += ["    " + line.format(k=repr(key)) for line in code]
    return lines


def _compile(name: str, args: str, body: list[str]) -> Any:
    source = "\n".join(
        [
            f"def {name}({args}):",
            "    size = 0",
            *("    " + line for line in body),
            "    return size",
        ]
    )
    namespace: dict[str, Any] = {
        "UNSET": UNSET,
        "copy": copy,
        "merge_value": merge_value,
        "_Text": _Text,
        "_Details": _Details,
        "ChoiceExt": ChoiceExt,
        "message_delta": message_delta,
        "APPEND": APPEND,
        "DETAILS": DETAILS,
    }
    exec(source, namespace)
    return namespace[name]


def append(values: dict[str, Any], key: str, value: Any) -> int:
    """Merge ``value`` into ``values[key]`` by the generic rule; return the text it added."""
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


def has_value(obj: Any) -> bool:
    """Whether a wire Struct carries any non-empty extension or unknown value."""
    for attr, _ in getattr(obj, "_live", ()):
        value = getattr(obj, attr)
        if value is not UNSET and not _empty(value):
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
        return {key: _materialize(item) for key, item in value.items()}
    if isinstance(value, _Details | _Executed):
        return value.build()
    return copy(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _index(value: Any) -> int | None:
    """An item's ``index`` when it is one (an int); any other value is just another key."""
    return value if type(value) is int else None


# -- reasoning_details ---------------------------------------------------------------------------


class _Detail:
    """One merged reasoning detail: ``text``, ``summary`` and ``data`` concatenated; ``type``,
    ``id``, ``format``, ``signature``, ``index`` first non-empty; any other key last non-null.

    A text field holds its string fragments (``_Text``), or the last value of another type that
    came instead (kept as sent).
    """

    __slots__ = ("data", "extra", "format", "id", "index", "signature", "summary", "text", "type")

    def __init__(self) -> None:
        self.type: Any = None
        self.text: Any = None
        self.summary: Any = None
        self.data: Any = None
        self.signature: Any = None
        self.id: Any = None
        self.format: Any = None
        self.index: Any = None
        self.extra: dict[str, Any] | None = None

    def add_struct_texts(self, item: ReasoningDetail) -> int:
        size = 0
        if item.summary is not None:
            size += self._text("summary", item.summary)
        if item.data is not None:
            size += self._text("data", item.data)
        return size

    def add_dict(self, item: Mapping[str, Any]) -> int:
        size = 0
        for key, value in item.items():
            if value is None:
                continue
            if key in ("text", "summary", "data"):
                size += self._text(key, value)
            elif key in ("type", "signature", "id", "format", "index"):
                if _empty(getattr(self, key)):
                    setattr(self, key, copy(value))
            else:
                if self.extra is None:
                    self.extra = {}
                self.extra[key] = copy(value)
        return size

    def _text(self, name: str, fragment: Any) -> int:
        if type(fragment) is not str:
            setattr(self, name, copy(fragment))
            return 0
        parts = getattr(self, name)
        if type(parts) is _Text:
            parts.append(fragment)
        else:
            setattr(self, name, _Text((fragment,)))
        return len(fragment)

    def build(self) -> ReasoningDetail:
        def text(value: Any) -> Any:
            return "".join(value) if type(value) is _Text else copy(value)

        return build_output(
            ReasoningDetail,
            {k: copy(v) for k, v in self.extra.items()} if self.extra else None,
            type=copy(self.type),
            text=text(self.text),
            summary=text(self.summary),
            data=text(self.data),
            signature=copy(self.signature),
            id=copy(self.id),
            format=copy(self.format),
            index=copy(self.index),
        )


class _Details:
    """``reasoning_details`` of one message: items with the same ``index`` are one detail."""

    __slots__ = ("by_index", "items")

    def __init__(self) -> None:
        self.items: list[_Detail | Any] = []  # details, and items that are not objects, in order
        self.by_index: dict[int, _Detail] = {}

    def add(self, value: Any) -> int:
        if type(value) is list and len(value) == 1:
            # The common chunk (OpenRouter): one more fragment of a detail already open, of the
            # declared class, text only. The general loop below gives the same.
            item = value[0]
            if type(item) is ReasoningDetail and item.summary is None and item.data is None:
                index = item.index
                detail = self.by_index.get(index) if type(index) is int else None
                if detail is not None:
                    size = 0
                    text = item.text
                    if text is not None:
                        kept = detail.text
                        if type(kept) is _Text:
                            kept.append(text)
                        else:
                            detail.text = _Text((text,))
                        size = len(text)
                    if item.type and not detail.type:
                        detail.type = item.type
                    if item.signature and not detail.signature:
                        detail.signature = item.signature
                    if item.id and not detail.id:
                        detail.id = item.id
                    if item.format and not detail.format:
                        detail.format = item.format
                    return size
        size = 0
        for item in value if type(value) is list else (value,):
            is_struct = isinstance(item, ReasoningDetail)
            if not is_struct and type(item) is not dict:
                self.items.append(copy(item))
                continue
            index = _index(item.index if is_struct else item.get("index"))
            detail = self.by_index.get(index) if index is not None else None
            if detail is None:
                detail = _Detail()
                self.items.append(detail)
                if index is not None:
                    self.by_index[index] = detail
            if type(item) is ReasoningDetail:
                # The declared class, as most streams send it: merged inline (no extra keys).
                text = item.text
                if text is not None:
                    if type(detail.text) is _Text:
                        detail.text.append(text)
                    else:
                        detail.text = _Text((text,))
                    size += len(text)
                if item.summary is not None or item.data is not None:
                    size += detail.add_struct_texts(item)
                if item.type and not detail.type:
                    detail.type = item.type
                if item.signature and not detail.signature:
                    detail.signature = item.signature
                if item.id and not detail.id:
                    detail.id = item.id
                if item.format and not detail.format:
                    detail.format = item.format
                if index is not None and detail.index is None:
                    detail.index = index
            elif is_struct:
                # A derived class: unknown keys, or a field of an unexpected type.
                size += detail.add_dict(msgspec.to_builtins(item))
            else:
                size += detail.add_dict(item)
        return size

    def build(self) -> list[Any]:
        def order(position: int) -> tuple[int, int, int]:
            # By index, then the index-less items (and those of another kind) by appearance.
            item = self.items[position]
            index = _index(item.index) if isinstance(item, _Detail) else None
            return (1, 0, position) if index is None else (0, index, position)

        return [
            item.build() if isinstance(item, _Detail) else copy(item)
            for item in (self.items[i] for i in sorted(range(len(self.items)), key=order))
        ]


# -- executed_tools (Groq) -----------------------------------------------------------------------


class _Executed:
    """Merged by ``index``; each later item restates its call: key by key, later non-null wins."""

    __slots__ = ("by_index", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.by_index: dict[int, dict[str, Any]] = {}

    def add(self, value: Any) -> None:
        for item in value if type(value) is list else (value,):
            if type(item) is not dict:
                self.items.append(copy(item))
                continue
            index = _index(item.get("index"))
            target = self.by_index.get(index) if index is not None else None
            if target is None:
                target = {}
                self.items.append(target)
                if index is not None:
                    self.by_index[index] = target
            for key, field in item.items():
                if field is not None:
                    target[key] = copy(field)

    def build(self) -> list[Any]:
        built: list[Any] = copy(self.items)
        return built


def check_rules(rules: Mapping[str, Rule] | None, core: Collection[str]) -> None:
    """Raise ``ValueError`` for a caller's rule that is no rule, or for a field in ``core``
    (the fields a format merges by its own rules)."""
    for name, rule in (rules or {}).items():
        if rule not in RULES:
            raise ValueError(f"rule for {name!r} must be one of {RULES}, not {rule!r}")
        if name in core:
            raise ValueError(f"{name!r} has its own merge rule, which cannot be changed")
