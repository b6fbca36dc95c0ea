"""What the live-UI events of every format share: the base Struct, the events of any stream of
choices, and the partial-parse policy of streamed JSON arguments.

Owns ``_Event`` (frozen, tagged with its class name), ``ContentDelta``, ``ChoiceFinished`` and
``UsageReceived`` (chat's and legacy completions' alike), and ``PartialParse``: when streamed
arguments are parsed again (each time they have grown by half, so all the parses of one value
cost O(its length); the openai SDK re-parses on every chunk, which is quadratic), with jiter's
partial mode (the ``parse`` extra; without it, a ``UserWarning`` once per process, and partial
parses stay ``None``). Must not know any format's merge.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import msgspec
import orjson
from msgspec import UNSET

from .models import Usage

__all__ = [
    "ChoiceFinished",
    "ContentDelta",
    "ElementParsed",
    "PartialParse",
    "UsageReceived",
    "load_partial",
    "parse_whole",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Base of the events; encoded with a ``type`` tag naming the class."""


class ContentDelta(_Event, frozen=True):
    """A content fragment of choice ``choice``.

    ``parsed`` (with ``response_format=``): the content's value so far, typed as the format's
    type where it can be; see ``docs/structured.md``. It is one live object, updated in place
    as the content grows (copy it to keep a snapshot); ``UNSET`` without ``response_format=``
    or before the value starts.
    """

    choice: int
    delta: str
    parsed: Any = UNSET


class ElementParsed(_Event, frozen=True):
    """An element of an array inside a structured value is complete (``track=True`` with
    ``response_format=`` or ``tools=``): each element once, in order.

    ``path`` is the array's JSON path in the value (``$.steps``), ``index`` the element's place
    in it; ``value`` is the element as its type, converted once, or, when it does not validate,
    as plain JSON with ``error`` saying why (the element is never dropped, its neighbours never
    shift). Where the value is: ``choice`` (chat and legacy completions; with ``call``, the
    number of a tool call in the choice, for its arguments), ``output_index`` (the Responses
    API's output item), ``block`` (a Messages content block).
    """

    path: str
    index: int
    value: Any
    error: str | None = None
    choice: int | None = None
    call: int | None = None
    output_index: int | None = None
    block: int | None = None


class ChoiceFinished(_Event, frozen=True):
    """Choice ``choice`` received a non-empty ``finish_reason``."""

    choice: int
    finish_reason: str


class UsageReceived(_Event, frozen=True):
    """A chunk carried a usage block (the last one received is the completion's usage)."""

    usage: Usage


# Re-parse the arguments of a call once they are this much longer than at the last parse: all
# the parses of a call then cover at most 1 / (1 - 1 / 1.5) = 3 times its length. At 1.25 (5x)
# the tools benchmark spent more time in jiter than in the whole merge.
_GROWTH = 1.5
_MIN_GROWTH = 16


@functools.cache
def load_partial() -> Callable[[bytes], Any] | None:
    """jiter's partial parser, or ``None`` (and a warning, once per process) without jiter."""
    try:
        import jiter
    except ImportError:
        warnings.warn(
            "chunkagg: jiter is not installed, so partial parses of streamed arguments stay "
            "None until they are complete; pip install 'chunkagg[parse]' for partial parses",
            UserWarning,
            stacklevel=5,
        )
        return None

    def parse(data: bytes) -> Any:
        return jiter.from_json(data, partial_mode="trailing-strings")

    return parse


class PartialParse:
    """Parse state of one streamed JSON value (a tool call's arguments).

    ``reported`` is the format's own record of what its done event last reported.
    """

    __slots__ = ("done", "parsed", "parsed_at", "reported", "size")

    def __init__(self) -> None:
        self.size = 0
        self.parsed_at = 0
        self.parsed: Any = None
        self.done = False
        self.reported: Any = None

    def grow(
        self, grown: int, parse: Callable[[bytes], Any] | None, text: Callable[[], str]
    ) -> Any:
        """Count ``grown`` more characters; parse ``text()`` again if it has grown enough.
        Returns the latest partial parse (``None`` until one succeeds)."""
        self.size += grown
        if (
            parse is not None
            and self.size >= self.parsed_at * _GROWTH
            and self.size - self.parsed_at >= _MIN_GROWTH
        ):
            self.parsed_at = self.size
            try:
                self.parsed = parse(text().encode())
            except ValueError:
                self.parsed = None
        return self.parsed


def parse_whole(text: str) -> tuple[Any, bool]:
    """``(value, True)`` when ``text`` is a whole JSON text, else ``(None, False)``."""
    try:
        return orjson.loads(text), True
    except orjson.JSONDecodeError:
        return None, False
