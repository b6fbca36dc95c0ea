"""Merged JSON values to a result's typed Structs, for the formats whose merge keeps JSON.

Owns ``typed`` (a ``dict`` as an output Struct, the keys it does not declare in ``extra`` and in
place, or the ``dict`` itself when it does not fit), ``typed_top`` (the same for a result's top
level, which is always its Struct), ``fields_of`` and ``overlay`` (a list as a server announced
it, with the entries built since at their index) and ``join_fragments``. The Responses API and the
Anthropic Messages API merge into plain JSON, as sent, and type the result only when it is
built. Must not know any format's Structs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from .schema import build_output, declarable

__all__ = ["fields_of", "join_fragments", "overlay", "typed", "typed_top"]


@functools.cache
def fields_of(cls: type) -> frozenset[str]:
    """The JSON keys an output Struct declares."""
    return frozenset(f.encode_name for f in msgspec.structs.fields(cls))


def typed(
    cls: type, value: dict[str, Any], lists: Mapping[str, Callable[[Any], Any]] | None = None
) -> Any:
    """``value`` as a ``cls``, its other keys in ``extra``; as it is if it does not fit ``cls``,
    or holds a key no Struct can declare.

    ``lists`` types the items of list fields (``content``...) with a function of each.
    """
    try:
        whole: Any = msgspec.convert(value, cls)
    except msgspec.ValidationError:
        return value  # kept as sent: a value of a known kind but another shape
    if lists is None and fields_of(cls).issuperset(value):
        return whole  # every key declared: the value as the Struct the check made
    known, extra = _split(cls, value)
    if not all(map(declarable, extra)):
        return value  # kept as sent, every key in place
    for key, convert in (lists or {}).items():
        items = known.get(key)
        if type(items) is list:
            known[key] = [convert(x) for x in items]
    return build_output(cls, extra, **known)


def typed_top(cls: type, value: dict[str, Any]) -> Any:
    """A result's top level as its ``cls``, without a type check: a value of another type is
    kept as sent. A key no Struct can declare (a control character in it: no server sends one)
    is dropped, as chat drops it when decoding (docs/merge-policy.md)."""
    known, extra = _split(cls, value)
    extra = {key: item for key, item in extra.items() if declarable(key)}
    return build_output(cls, extra, **known)


def _split(cls: type, value: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = fields_of(cls)
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, item in value.items():
        (known if key in keys else extra)[key] = item
    return known, extra


def join_fragments(frags: list[str]) -> str:
    """The fragments of a streamed string, joined once and kept joined: snapshots during a
    stream never join old fragments again."""
    if len(frags) == 1:
        return frags[0]
    text = "".join(frags)
    frags[:] = [text] if text else []
    return text


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
