"""Merged JSON values to a result's typed Structs, for the formats whose merge keeps JSON.

Owns ``typed`` (a ``dict`` as an output Struct, the keys it does not declare in ``extra`` and in
place, or the ``dict`` itself when it does not fit), ``fields_of`` and ``overlay`` (a list as a
server announced it, with the entries built since at their index). The Responses API and the
Anthropic Messages API merge into plain JSON, as sent, and type the result only when it is
built. Must not know any format's Structs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from .schema import build_output

__all__ = ["fields_of", "overlay", "typed"]


@functools.cache
def fields_of(cls: type) -> frozenset[str]:
    """The JSON keys an output Struct declares."""
    return frozenset(f.encode_name for f in msgspec.structs.fields(cls))


def typed(
    cls: type, value: dict[str, Any], lists: Mapping[str, Callable[[Any], Any]] | None = None
) -> Any:
    """``value`` as a ``cls``, its other keys in ``extra``; as it is if it does not fit ``cls``.

    ``lists`` types the items of list fields (``content``...) with a function of each.
    """
    try:
        msgspec.convert(value, cls)
    except msgspec.ValidationError:
        return value  # kept as sent: a value of a known kind but another shape
    keys = fields_of(cls)
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        (known if key in keys else extra)[key] = item
    for key, convert in (lists or {}).items():
        items = known.get(key)
        if type(items) is list:
            known[key] = [convert(x) for x in items]
    return build_output(cls, extra, **known)


def overlay(listed: Any, built: Mapping[int, Any]) -> list[Any]:
    """A list as announced, with each built entry at its index (or after the last)."""
    out = list(listed) if type(listed) is list else []
    for index in sorted(built):
        value = built[index]
        if index < len(out):
            out[index] = value
        else:
            out.append(value)
    return out
