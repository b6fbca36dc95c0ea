"""Structured values on a format's results and in its live events: what every format shares.

Owns ``Structured`` (the caller's ``response_format=`` and ``tools=`` as ``Target``s), ``Live``
(one value scanned as it streams: its partial value, its element events, the value it converted
once), and ``side_value`` / ``set_side``: a structured value hangs on a result's Struct (declared
``dict=True``) beside its fields, never among them, so ``to_dict()``, ``to_json()``, ``==`` and
``repr`` stay the server's object. Must not know any format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import UNSET

from .events import ElementParsed
from .jsonscan import JsonScan
from .targets import ParseFailure, Target, target_of

__all__ = ["Live", "Structured", "set_side", "side_value"]


class Structured:
    """The caller's types: ``content`` (``response_format=``, or ``None``) and ``tools`` (a
    function name to its ``Target``)."""

    __slots__ = ("content", "tools")

    def __init__(self, response_format: Any, tools: Mapping[str, Any] | None) -> None:
        self.content = target_of(response_format) if response_format is not None else None
        if tools is not None and not isinstance(tools, Mapping):
            raise TypeError(f"tools must be a mapping of name to type, not {type(tools).__name__}")
        named: dict[str, Target] = {}
        for name, tp in (tools or {}).items():
            if not isinstance(name, str):
                raise TypeError(f"tools keys must be function names, not {type(name).__name__}")
            named[name] = target_of(tp)
        self.tools = named

    @classmethod
    def of(cls, response_format: Any, tools: Mapping[str, Any] | None) -> Structured | None:
        """The caller's types, or ``None`` when there are none."""
        if response_format is None and not tools:
            return None
        return cls(response_format, tools)


class Live:
    """One structured value scanned as it streams (with ``track=True``)."""

    __slots__ = ("scan", "target")

    def __init__(self, target: Target, text: str = "") -> None:
        self.target = target
        self.scan = JsonScan(target.node)
        if text:
            self.scan.feed(text)

    def feed(self, text: str) -> Any:
        """Scan the next fragment; returns the partial value (``UNSET`` before it starts)."""
        scan = self.scan
        scan.feed(text)
        return scan.value

    def elements(self, events: list[Any], **where: int) -> None:
        """Append an ``ElementParsed`` for each element completed since the last call."""
        done = self.scan.elements
        if done:
            for path, index, value, error in done:
                events.append(
                    ElementParsed(path=path, index=index, value=value, error=error, **where)
                )
            done.clear()

    @property
    def value(self) -> Any:
        """The value the scan converted (once) when it closed, if it did; else ``UNSET``."""
        return self.scan.final()


def side_value(name: str, doc: str) -> Any:
    """A read-only attribute of a ``dict=True`` result Struct that is not one of its fields."""

    def get(self: Any) -> Any:
        return self.__dict__.get(name)

    return property(get, doc=doc)


def set_side(obj: Any, value: Any, failure: ParseFailure | None, name: str) -> None:
    """Hang a structured value and its ``parse_error`` on a result Struct."""
    side = obj.__dict__
    side[name] = value
    side["parse_error"] = failure


def live_value(live: Live | None) -> Any:
    """What a live scan converted, or ``UNSET``."""
    return UNSET if live is None else live.value
