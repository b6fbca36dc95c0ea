"""A resumable scan of one JSON value that arrives in pieces, typed as the user's type as it goes.

Owns ``JsonScan``: ``feed(text)`` takes the next piece of the text (split anywhere: inside a
number, a string, an escape, between the halves of a surrogate pair) and scans only it, so a
whole value costs one pass over its text, whatever the pieces. ``value`` is the partial value so
far, updated in place: an object not yet closed is a ``Partial[...]`` Struct of the user's class
(fields not yet arrived ``UNSET``), or a ``dict``; a closed one is converted, once, to the user's
type and takes its place. It only grows: a key once shown stays; a number, ``true``, ``false``,
``null``, an enum or ``Literal`` string appears once complete, never changes; a free string
only extends (one longer than ``_SHOWN_WHOLE`` characters is shown again each time it has grown
by an eighth, so showing it stays linear too). Each array element, once complete, is reported
once in ``elements`` with its index, converted or with its validation error, never dropped.

Text that is not JSON stops the scan (``error``); nothing is raised: the final parse says what
was wrong. Must not know any format.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from msgspec import UNSET

from .limits import MAX_DEPTH
from .targets import ATOM, STRING, Node, describe

__all__ = ["JsonScan"]

_WS = re.compile(r"[ \t\n\r]*")
_RUN = re.compile(r"[-+0-9.eEa-z]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_CHARS = re.compile(r'[^"\\]*')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = re.compile(r"[0-9a-fA-F]{4}")
_LITERALS = {"true": True, "false": False, "null": None}
# A free string up to this long is shown again on every piece; past it, each time it has grown
# by an eighth (each character is then copied at most nine times over the string's life).
_SHOWN_WHOLE = 4096

# What an open container expects next.
_KEY_OR_END, _COLON, _VALUE, _COMMA_OR_END, _KEY, _ITEM_OR_END = range(6)


class _Frame:
    """An open object or array: ``display`` is what ``value`` shows of it, ``values`` what is
    converted when it closes (the same ``dict`` or ``list``, except for a ``Partial`` Struct,
    whose ``values`` are by JSON key)."""

    __slots__ = (
        "at",
        "attr",
        "bad",
        "display",
        "fields",
        "is_object",
        "key",
        "node",
        "path",
        "state",
        "typed",
        "values",
    )

    def __init__(self, node: Node, display: Any, values: Any, at: str | int, is_object: bool):
        self.node = node
        self.display = display
        self.values = values
        self.at = at
        self.is_object = is_object
        # A Partial Struct shows the object: values by JSON key beside it, fields by attribute.
        self.typed = display is not values
        self.fields = node.fields if node.fields is not None else {}
        self.key = ""
        self.attr: str | None = None  # the attribute of ``key`` on a Partial, if it has one
        self.bad: str | None = None  # the error of a value inside that did not convert
        self.path: str | None = None  # its JSON path, once asked for
        self.state = _KEY_OR_END if is_object else _ITEM_OR_END


class JsonScan:
    """The scan of one JSON value against a plan (``targets.plan``); see the module docstring.

    ``done``: the value closed; ``result``: it converted (``UNSET`` otherwise); ``error``: why
    the scan stopped (text that is no JSON); ``errors``: ``(path, message)`` of each value that
    did not convert; ``elements``: ``(array path, index, value, error)`` of each array element
    completed since the caller last emptied it (``None``: not collected).
    """

    __slots__ = (
        "_escape",
        "_key",
        "_parts",
        "_run",
        "_shown",
        "_size",
        "_slot",
        "_stack",
        "_string",
        "done",
        "elements",
        "error",
        "errors",
        "result",
        "value",
    )

    def __init__(self, node: Node, elements: bool = True) -> None:
        self.value: Any = UNSET
        self.result: Any = UNSET
        self.done = False
        self.error: str | None = None
        self.errors: list[tuple[str, str]] = []
        self.elements: list[tuple[str, int, Any, str | None]] | None = [] if elements else None
        self._stack: list[_Frame] = []
        self._slot = node  # the node of the next value
        self._string: Node | None = None  # inside a string: its node
        self._key = False  # ... which is an object's key
        self._parts: list[str] = []
        self._size = 0
        self._shown = 0
        self._escape = ""  # an escape cut by the end of a piece
        self._run: list[str] | None = None  # a number or a literal cut by the end of a piece

    # -- feeding ----------------------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Scan the next piece of the text."""
        if self.error is not None or not text:
            return
        n = len(text)
        if self._string is not None and not self._escape and '"' not in text and "\\" not in text:
            # Inside a string, and it goes on past this piece: most pieces of most values.
            self._parts.append(text)
            self._size += n
            if not self._key:
                self._show_string(False)
            return
        i = 0
        if self._run is not None:
            j = _RUN.match(text).end()  # type: ignore[union-attr]
            self._run.append(text[:j])
            if j == n:
                return
            token = "".join(self._run)
            self._run = None
            self._atom(token)
            i = j
        elif self._escape:
            text = self._escape + text
            n = len(text)
            self._escape = ""
        stack = self._stack
        while i < n:
            if self._string is not None:
                j = _CHARS.match(text, i).end()  # type: ignore[union-attr]
                if j > i:
                    self._parts.append(text[i:j])
                    self._size += j - i
                if j == n:
                    break
                if text[j] != '"':
                    i = self._escape_at(text, j, n)
                    continue
                i = j + 1
                if not self._key:
                    self._end_string()
                    continue
                # An object's key ends: what follows is its value, typed by the key.
                parts = self._parts
                key = parts[0] if len(parts) == 1 else "".join(parts)
                self._string = None
                top = stack[-1]
                top.key = key
                top.state = _COLON
                node = top.node
                field = top.fields.get(key)
                if field is not None:
                    top.attr, self._slot = field
                    continue
                top.attr = None
                if node.variants is not None and key == node.tag_field:
                    self._slot = _TAG_NODE
                else:
                    self._slot = node.item  # type: ignore[assignment]
                continue
            c = text[i]
            if c == " " or c == "\n" or c == "\t" or c == "\r":
                i += 1
                continue
            if not stack:
                if self.done:
                    self._fail(f"text after the JSON value: {text[i : i + 20]!r}")
                    break
                i = self._begin(c, text, i, n)
                continue
            top = stack[-1]
            state = top.state
            if state == _COMMA_OR_END:
                if c == ",":
                    if top.is_object:
                        top.state = _KEY
                    else:
                        top.state = _VALUE
                        self._slot = top.node.item  # type: ignore[assignment]
                    i += 1
                elif c == ("}" if top.is_object else "]"):
                    self._close()
                    i += 1
                else:
                    self._fail(f"expected ',' or a closing bracket, got {c!r}")
                    break
            elif state == _COLON:
                if c != ":":
                    self._fail(f"expected ':', got {c!r}")
                    break
                top.state = _VALUE
                i += 1
            elif state == _KEY or (state == _KEY_OR_END and c != "}"):
                if c != '"':
                    self._fail(f"expected a key, got {c!r}")
                    break
                self._string = _KEY_NODE
                self._key = True
                self._parts = []
                self._size = 0
                i += 1
            elif state == _VALUE or (state == _ITEM_OR_END and c != "]"):
                i = self._begin(c, text, i, n)
            else:  # an empty object or array closes
                self._close()
                i += 1
            if self.error is not None:
                break
        if self._string is not None and not self._key:
            self._show_string(False)

    def final(self) -> Any:
        """The value converted, if the text so far is one whole JSON value (a number or a
        literal it ends on counts), else ``UNSET``; changes nothing, so scanning may go on."""
        if self.error is not None:
            return UNSET
        if self.done:
            return self.result
        if self._run is None or self._stack:
            return UNSET
        ended = JsonScan(self._slot, elements=False)
        ended._run = list(self._run)
        ended.close()
        return ended.result if ended.error is None else UNSET

    def close(self) -> None:
        """The text ended: a number or literal it ended on is complete."""
        if self._run is not None and not self._stack and self.error is None:
            token = "".join(self._run)
            self._run = None
            self._atom(token)

    def _fail(self, why: str) -> None:
        self.error = why

    # -- values -----------------------------------------------------------------------------------

    def _begin(self, c: str, text: str, i: int, n: int) -> int:
        """A value starts at ``text[i]`` (``c``); returns where scanning goes on."""
        slot = self._slot
        stack = self._stack
        if c == "{" or c == "[":
            if len(stack) >= MAX_DEPTH:
                self._fail(f"nested deeper than {MAX_DEPTH} levels")
                return n
            is_object = c == "{"
            node = slot.on_object if is_object else slot.on_array
            values: Any
            if not is_object:
                display: Any = []
                values = display
            elif node.partial is not None:
                display = node.partial()
                values = {}
            else:
                display = {}
                values = display
            at = self._place(display, display)
            frame = _Frame(node, display, values, at, is_object)
            stack.append(frame)
            if not is_object:
                self._slot = node.item if node.kind != ATOM else node  # type: ignore[assignment]
            return i + 1
        if c == '"':
            self._open_string(slot.on_string, key=False)
            return i + 1
        j = _RUN.match(text, i).end()  # type: ignore[union-attr]
        if j == i:
            self._fail(f"unexpected character {c!r}")
            return n
        if j == n:
            self._run = [text[i:]]
            return n
        self._atom(text[i:j])
        return j

    def _atom(self, token: str) -> None:
        """A number or a literal is complete."""
        if token.isdigit() and (token[0] != "0" or len(token) == 1):
            value: Any = int(token)
        elif token in _LITERALS:
            value = _LITERALS[token]
        elif _NUMBER.fullmatch(token):
            value = int(token) if token[1:].isdigit() else float(token)
        else:
            self._fail(f"not a JSON value: {token[:20]!r}")
            return
        self._complete(value, value, self._slot)

    def _place(self, display: Any, value: Any) -> str | int:
        """Put a value that starts (or an atom that is complete) at its place; returns its key
        or index there."""
        stack = self._stack
        if not stack:
            self.value = display
            return ""
        top = stack[-1]
        top.state = _COMMA_OR_END
        if not top.is_object:
            items = top.display
            items.append(display)
            return len(items) - 1
        self._put(top, display, value)
        return top.key

    @staticmethod
    def _put(frame: _Frame, display: Any, value: Any) -> None:
        """Show a value at the current key of an open object (it starts, grew, or converted)."""
        if frame.typed:
            frame.values[frame.key] = value
            if frame.attr is not None:
                setattr(frame.display, frame.attr, display)
        else:
            frame.display[frame.key] = display

    def _complete(
        self, value: Any, display: Any, node: Node, started: bool = False, bad: str | None = None
    ) -> None:
        """A value is complete: convert it once, then show it at its place. ``started``: it was
        already attached when it opened (an object, an array, a free string); ``bad``: the error
        of a value inside it, which it cannot convert without (it is not tried again)."""
        convert = node.convert
        error = bad
        converted = value
        if convert is not None and bad is None and type(value) not in node.exact:
            try:
                converted = convert(value)
                display = converted
            except (ValueError, TypeError) as exc:  # msgspec's and pydantic's ValidationError
                message, path = describe(exc, self._path(True, started))
                error = message
                self.errors.append((path, message))
        stack = self._stack
        if not stack:
            self.value = display
            self.done = True
            if error is None:
                self.result = converted
            return
        top = stack[-1]
        if error is not None and top.bad is None:
            top.bad = error
        if top.is_object:
            if started:
                self._put(top, display, converted)
            else:
                self._place(display, converted)
                if top.node.variants is not None and top.key == top.node.tag_field:
                    self._retype(top)
            return
        items = top.display
        if started:
            items[-1] = display
        else:
            items.append(display)
            top.state = _COMMA_OR_END
        if self.elements is not None:
            if top.path is None:
                top.path = self._path(False)
            self.elements.append((top.path, len(items) - 1, converted, error))

    def _close(self) -> None:
        """The innermost object or array closes."""
        frame = self._stack.pop()
        node = frame.node
        if frame.is_object and node.variants is not None:
            node = self._variant(frame) or node
        # The slot needs no restoring: a ',' (which sets it) or a closing bracket comes next.
        self._complete(frame.values, frame.display, node, True, frame.bad)

    def _variant(self, frame: _Frame) -> Node | None:
        node = frame.node
        assert node.variants is not None and node.tag_field is not None
        return node.variants.get(frame.values.get(node.tag_field))

    def _path(self, child: bool = False, started: bool = True) -> str:
        """The JSON path of the innermost open container, or (``child``) of its child being
        completed (``started``: already in place when it opened)."""
        stack = self._stack
        parts = ["$"]
        for frame in stack[1:]:
            at = frame.at
            parts.append(f"[{at}]" if isinstance(at, int) else f".{at}")
        if child and stack:
            top = stack[-1]
            if top.is_object:
                parts.append(f".{top.key}")
            else:
                parts.append(f"[{len(top.display) - (1 if started else 0)}]")
        return "".join(parts)

    # -- strings ----------------------------------------------------------------------------------

    def _open_string(self, node: Node | None, key: bool) -> None:
        self._string = node if node is not None else _KEY_NODE
        self._key = key
        self._parts = []
        self._size = 0
        self._shown = 0
        if not key and node is not None and node.kind == STRING:
            self._place("", "")

    def _escape_at(self, text: str, j: int, n: int) -> int:
        """The escape at ``text[j]`` (a backslash) inside a string; returns where scanning goes
        on (``n`` when the piece ends inside it: it is kept for the next one)."""
        if j + 1 == n:
            self._escape = text[j:]
            return n
        c = text[j + 1]
        if c != "u":
            char = _ESCAPES.get(c)
            if char is None:
                self._fail(f"invalid escape {text[j : j + 2]!r}")
                return n
            self._parts.append(char)
            self._size += 1
            return j + 2
        if n - j < 6:
            self._escape = text[j:]
            return n
        if not _HEX.fullmatch(text, j + 2, j + 6):
            self._fail(f"invalid escape {text[j : j + 6]!r}")
            return n
        code = int(text[j + 2 : j + 6], 16)
        if 0xD800 <= code < 0xDC00:  # a high surrogate: its low half must follow
            if n - j < 12:
                self._escape = text[j:]
                return n
            if text[j + 6 : j + 8] != "\\u" or not _HEX.fullmatch(text, j + 8, j + 12):
                self._fail("a lone UTF-16 surrogate")
                return n
            low = int(text[j + 8 : j + 12], 16)
            if not 0xDC00 <= low < 0xE000:
                self._fail("a lone UTF-16 surrogate")
                return n
            self._parts.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
            self._size += 1
            return j + 12
        if 0xDC00 <= code < 0xE000:
            self._fail("a lone UTF-16 surrogate")
            return n
        self._parts.append(chr(code))
        self._size += 1
        return j + 6

    def _text(self) -> str:
        parts = self._parts
        if len(parts) != 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def _show_string(self, last: bool) -> None:
        """Show a free string that grew (at the end of a piece)."""
        node = self._string
        if node is None or node.kind != STRING:
            return
        size = self._size
        shown = self._shown
        if size == shown or (not last and size > _SHOWN_WHOLE and size - shown < shown >> 3):
            return
        self._shown = size
        text = self._text()
        stack = self._stack
        if not stack:
            self.value = text
        else:
            top = stack[-1]
            if not top.is_object:
                top.display[-1] = text
            elif not top.typed:
                top.display[top.key] = text
            elif top.attr is not None:  # (its value is kept when it ends)
                setattr(top.display, top.attr, text)

    def _end_string(self) -> None:
        node = self._string
        assert node is not None
        text = self._text()
        self._string = None
        self._complete(text, text, node, node.kind == STRING)

    def _retype(self, frame: _Frame) -> None:
        """The tag of a tagged union arrived: the object takes its variant's ``Partial``."""
        variant = self._variant(frame)
        if variant is None or frame.key != frame.node.tag_field:
            return
        frame.node = variant
        old = frame.display
        if variant.partial is None:
            return
        frame.display = variant.partial()
        frame.values = dict(old)
        frame.typed = True
        frame.fields = variant.fields or {}
        fields = variant.fields or {}
        for key, value in old.items():
            field = fields.get(key)
            if field is None:
                continue
            convert = field[1].convert
            if convert is not None and not isinstance(value, dict | list):
                # A scalar that came before the tag: its type is known now.
                # (A value that does not convert is reported by the variant's, where it closes.)
                with contextlib.suppress(ValueError, TypeError):
                    value = frame.values[key] = convert(value)
            setattr(frame.display, field[0], value)
        stack = self._stack
        if len(stack) == 1:
            self.value = frame.display
        else:
            parent = stack[-2]
            if parent.is_object:
                self._put(parent, frame.display, frame.display)  # its key is still frame.at
            else:
                parent.display[frame.at] = frame.display


# An object's key, and a tagged union's tag before its variant is known: atoms.
_KEY_NODE = Node(ATOM, str, None)
_TAG_NODE = Node(ATOM, Any, None)
