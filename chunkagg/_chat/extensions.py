"""Chat's provider extensions: their rules, the merges with state of their own, and the plans
compiled per schema for the levels merged on every chunk.

Owns the rule of every chat extension (docs/merge-policy.md, "Provider extensions":
``reasoning_details`` and ``executed_tools`` by index, ``citations`` last whole, ``provider`` the
last non-empty...), ``ChoiceExt`` (a choice's extension state, by level), ``Shape`` (what a chunk
of one derived class merges beyond OpenAI's fields, with the chunk and choice levels compiled into
one function) and ``message_delta``. Must not know bytes or framing; the generic rules and their
code generation are the core's (``.._core.rules``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import msgspec

from .._core.limits import MAX_DEPTH, check_depth
from .._core.rules import (
    APPEND,
    DROP,
    LAST,
    MERGE,
    TAG,
    Accrual,
    Entries,
    Planner,
    RuleCode,
    _Text,
    compile_merge,
    copy,
    empty,
    inline_body,
    nested,
)
from .._core.rules import INLINE as _GENERIC_INLINE
from .._core.schema import build_output
from .models import (
    AudioDelta,
    ChoiceLogprobs,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ReasoningDetail,
    TokenLogprob,
    ToolCallDelta,
)

__all__ = ["KNOWN_RULES", "ChoiceExt", "Shape", "message_delta", "planner", "shape_of"]


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


# Keys chat's own merge reads wherever they come: the in-band error raises, a whole message
# stands for a delta.
HANDLED = frozenset(("error", "message"))


class Shape:
    """The plans of every level of one derived chunk Struct: what the merge reads, level by level,
    for a chunk of that class (its nested classes are fixed by its schema)."""

    __slots__ = (
        "audio",
        "check",
        "choice",
        "delta",
        "entries_mutable",
        "error",
        "function",
        "logprobs",
        "merge",
        "merge_one",
        "message",
        "parts",
        "plain",
        "rare",
        "text",
        "tool",
        "top",
    )

    def __init__(self, planner: Planner, root: type) -> None:
        classes: Mapping[type, type] = getattr(root, "_classes", {})

        def of(base: type, default: int) -> Entries:
            return planner.plan(classes.get(base, base), default)

        self.top = planner.plan(root, LAST)
        self.error = "error" in root.__struct_fields__  # type: ignore[attr-defined]
        choice = classes.get(ChunkChoice, ChunkChoice)
        self.choice = of(ChunkChoice, LAST)
        self.message = "message" in choice.__struct_fields__  # type: ignore[attr-defined]
        # A choice's "text", unknown to chat: the mark of a legacy text_completion chunk.
        self.text = next((attr for attr, key, _ in self.choice if key == "text"), None)
        self.delta = of(Delta, APPEND)
        self.tool = of(ToolCallDelta, LAST)
        self.function = of(FunctionCallDelta, LAST)
        self.audio = of(AudioDelta, LAST)
        self.logprobs = of(ChoiceLogprobs, LAST)
        # Logprob entries with unknown keys (values that may be mutable) are copied when kept.
        self.entries_mutable = bool(getattr(classes.get(TokenLogprob), "_mutable", False))
        # Whether a delta's content may be a list of typed parts (Mistral) in this schema.
        self.parts = (Delta, "content") in root._widened  # type: ignore[attr-defined]
        # Levels merged on few chunks, looked at together.
        self.rare = bool(
            self.audio or self.function or self.logprobs or self.entries_mutable or self.message
        )
        # merge(top, states, chunk) -> text added, or None when this schema has nothing to merge
        # at the chunk, choice or delta level; merge_one(top, chunk, st, ch, delta) the same for
        # a chunk of one choice ``ch`` whose state is ``st`` and delta ``delta`` (not None).
        top_lines = _body("top", "chunk", self.top) if self.top else []
        choice_lines = [
            "ext = st.ext",
            "if ext is None:",
            "    ext = st.ext = ChoiceExt()",
            *_body("ext.choice", "ch", self.choice),
        ]
        delta_lines = _body("ext.message", "delta", self.delta)
        body = list(top_lines)
        if self.choice or self.delta:
            body += ["for ch in chunk.choices:", "    st = states[ch.index]"]
            body += ["    " + line for line in choice_lines]
            if delta_lines:
                body += [
                    "    delta = ch.delta",
                    "    if delta is None:",
                    "        delta = message_delta(ch)",
                    "    if delta is not None:",
                    *("        " + line for line in delta_lines),
                ]
        self.merge = (
            compile_merge("merge", "top, states, chunk", body, _NAMESPACE) if body else None
        )
        one = top_lines + (choice_lines + delta_lines if self.choice or self.delta else [])
        self.merge_one = (
            compile_merge("merge_one", "top, chunk, st, ch, delta", one, _NAMESPACE)
            if one
            else None
        )
        # check(chunk): ChunkError for a value nested deeper than MAX_DEPTH anywhere this
        # schema's merge reads one, before anything is merged; None when no field of this
        # schema can hold an array or an object.
        self.check = _compile_check(self, root, classes)
        # Whether a chunk of this schema can be merged with nothing checked first (no nesting
        # to check, no legacy text, no error, no content parts, no rare level).
        self.plain = (
            self.check is None
            and self.text is None
            and not self.error
            and not self.parts
            and not self.rare
        )


def planner(rules: Mapping[str, Any] | None) -> Planner:
    """A stream's planner: the caller's rules over chat's known ones."""
    return ChatPlanner(rules)


def shape_of(planner: Planner, root: type) -> Shape:
    """The plans of a derived chunk class, all levels (built once per process and rules;
    callers keep it per stream)."""
    return _shape(root, tuple(sorted(planner.rules.items())))


@functools.lru_cache(maxsize=256)
def _shape(root: type, rules: tuple[tuple[str, RuleCode], ...]) -> Shape:
    # Shared by the streams of one schema: compiling its merges costs about 0.1 ms.
    planner = ChatPlanner(None)
    planner.rules = dict(rules)
    return Shape(planner, root)


def _body(values: str, obj: str, entries: Entries) -> list[str]:
    return inline_body(values, obj, entries, _INLINE)


def _looks(obj: str, cls: type, entries: Entries) -> list[str]:
    """The lines that check the fields of ``obj`` (a ``cls``) that may hold arrays or objects."""
    lines: list[str] = []
    for attr, _, _ in nested(cls, entries):
        lines += [
            f"v = {obj}.{attr}",
            "if (type(v) is dict or type(v) is list) and v:",
            "    check_depth(v)",
        ]
    return lines


def _compile_check(shape: Shape, root: type, classes: Mapping[type, type]) -> Any:
    """The function that checks the nesting of every value a chunk of ``root`` keeps as JSON
    (see ``Shape.check``), written out level by level as the merge is; ``None`` if none may
    nest. Struct levels count: a logprob entry's unknown value sits two levels below its
    list."""

    def cls(base: type) -> type:
        return classes.get(base, base)

    top = _looks("chunk", root, shape.top)
    if shape.error:
        top += ["e = chunk.error", "if e:", f"    check_depth(e, {MAX_DEPTH + 1})"]
    delta = _looks("delta", cls(Delta), shape.delta)
    if shape.parts:
        delta += ["c = delta.content", "if type(c) is list and c:", "    check_depth(c)"]
    tool = _looks("tc", cls(ToolCallDelta), shape.tool)
    function = _looks("fn", cls(FunctionCallDelta), shape.function)
    if tool or function:
        # (extra_content, a declared field, is checked by the merge's own checks.)
        if function:
            tool += ["fn = tc.function", "if fn is not None:", *("    " + x for x in function)]
        delta += ["tcs = delta.tool_calls", "if tcs:", "    for tc in tcs:"]
        delta += ["        " + line for line in tool]
    if function:
        delta += ["fn = delta.function_call", "if fn is not None:"]
        delta += ["    " + line for line in function]
    audio = _looks("audio", cls(AudioDelta), shape.audio)
    if audio:
        delta += ["audio = delta.audio", "if audio is not None:", *("    " + x for x in audio)]
    choice = _looks("ch", cls(ChunkChoice), shape.choice)
    if delta:
        choice += [
            "delta = ch.delta",
            "if delta is None:",
            "    delta = message_delta(ch)",
            "if delta is not None:",
            *("    " + line for line in delta),
        ]
    logprobs = _looks("lp", cls(ChoiceLogprobs), shape.logprobs)
    if shape.entries_mutable:
        for name in ("content", "refusal"):
            logprobs += [f"e = lp.{name}", "if e:", f"    check_depth(e, {MAX_DEPTH + 2})"]
    if logprobs:
        choice += ["lp = ch.logprobs", "if lp is not None:", *("    " + x for x in logprobs)]
    if shape.message:
        choice += [
            "m = ch.message",
            "if m is not None and ch.delta is not None:",
            f"    check_depth(m, {MAX_DEPTH + 1})",
        ]
    body = top
    if choice:
        body += ["for ch in chunk.choices:", *("    " + line for line in choice)]
    if not body:
        return None
    source = "\n".join(["def check(chunk):", *("    " + line for line in body)])
    scope: dict[str, Any] = {"check_depth": check_depth, "message_delta": message_delta}
    exec(source, scope)
    return scope["check"]


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
                if empty(getattr(self, key)):
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


class _Details(Accrual):
    """``reasoning_details`` of one message: items with the same ``index`` are one detail."""

    __slots__ = ("by_index", "items")

    def __init__(self) -> None:
        self.items: list[_Detail | Any] = []  # details, and items that are not objects, in order
        self.by_index: dict[int, _Detail] = {}

    def add(self, value: Any) -> int:
        if not value:  # OpenRouter sends [] on every chunk that has no reasoning
            return 0
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


class _Executed(Accrual):
    """Merged by ``index``; each later item restates its call: key by key, later non-null wins."""

    __slots__ = ("by_index", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.by_index: dict[int, dict[str, Any]] = {}

    def add(self, value: Any) -> int:
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
        return 0

    def build(self) -> list[Any]:
        built: list[Any] = copy(self.items)
        return built


def _index(value: Any) -> int | None:
    """An item's ``index`` when it is one (an int); any other value is just another key."""
    return value if type(value) is int else None


# The known extensions' rules (docs/merge-policy.md, "Provider extensions").
KNOWN_RULES: Mapping[str, RuleCode] = {
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
    "reasoning_details": _Details,
    "executed_tools": _Executed,
    "obfuscation": DROP,
}

# reasoning_details inline: OpenRouter sends [] on every chunk that has no reasoning, and a call
# of add() for it would cost about 4% of that stream's merge.
_INLINE: Mapping[RuleCode, list[str]] = {
    **_GENERIC_INLINE,
    _Details: [
        "d = values.get({k})",
        "if type(d) is not _Details:",
        "    d = values[{k}] = _Details()",
        "if v:",
        "    size += d.add(v)",
    ],
}
_NAMESPACE = {
    "_Details": _Details,
    "_Executed": _Executed,
    "ChoiceExt": ChoiceExt,
    "message_delta": message_delta,
}


class ChatPlanner(Planner):
    """A stream's planner: the caller's rules over chat's known ones."""

    __slots__ = ()

    known = KNOWN_RULES
    handled = HANDLED
