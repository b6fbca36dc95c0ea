"""The bounds every format shares, with the reason for each default, and their argument check.

Owns ``DEFAULT_MAX_EVENT_SIZE``, ``DEFAULT_MAX_TEXT_SIZE`` and ``DEFAULT_MAX_CHOICES`` (a format
with bounds of its own declares them in its room: chat's ``DEFAULT_MAX_TOOL_CALLS``, the
Responses API's ``DEFAULT_MAX_ITEMS``) and ``check_limits``. Every bound crossed raises
``LimitExceededError`` naming the argument that sets it.

Also owns ``MAX_DEPTH``, the nesting a JSON value may have, and its checks (``check_depth`` for
a Python value, ``deeper_than`` for JSON text, and ``depth_error``): a value nested deeper is a
bad chunk (``ChunkError``), the same error the decoder gives for a value too deep for the stack,
so that the same bytes give the same error wherever the caller stands. ``docs/limits.md`` lists
every bound of every format.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import msgspec

from .._errors import ChunkError

__all__ = [
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_TEXT_SIZE",
    "EVENT_DEPTH",
    "MAX_DEPTH",
    "check_depth",
    "check_limits",
    "deeper_than",
    "depth_error",
]

# One chunk is a few hundred bytes; the largest real ones (a long tool-call argument in a single
# delta, an audio fragment) stay well under 1 MiB. h11 caps an incomplete event at 16 KiB, aiohttp
# a line at 8 KiB; we allow far more because a single delta may carry a whole document.
DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024
# Characters of merged text (content, refusal, reasoning, tool arguments, extension strings...)
# plus audio bytes plus logprob entries. The longest real answers (128k output tokens, about
# 0.5 MB of text, plus reasoning) are far below.
DEFAULT_MAX_TEXT_SIZE = 64 * 1024 * 1024
# The strictest peer (openai-node's ChatCompletionStream) gives up past 128; the API itself caps
# n at 128. Indices are bounded by the same number, so a broken index never builds a long list.
DEFAULT_MAX_CHOICES = 128


def check_limits(**limits: int) -> None:
    """Raise ``ValueError`` for a limit that is not a positive ``int``, naming it."""
    for name, value in limits.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")


# Levels of arrays and objects one JSON value may nest: the value of an unknown key or of an
# extension, or an object a Responses event carries (``response``, ``item``, ``annotation``...),
# counted from that value. msgspec decodes about 990 levels from an empty stack and fewer from
# a deep one; everything after decoding (copying, comparing, merging, building and encoding the
# result) recurses once per level too, from wherever the caller stands. A bound far below both
# makes the same bytes give the same outcome at any realistic stack depth, and leaves the
# caller's stack 800 frames of its own. Real values nest a few levels (a tool's JSON schema, a
# dozen or two). Ruby's JSON stops at 100, serde_json at 128.
MAX_DEPTH = 100
# The deepest a kept value sits in any format's event (chat: chunk, choices, choice, delta,
# tool_calls, call, function): a whole payload nested deeper than ``MAX_DEPTH`` plus this holds a
# value that is too deep, wherever it sits.
EVENT_DEPTH = MAX_DEPTH + 8

# A JSON string (escapes included) and the bytes that open or close a level, as +1 and -1.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_LEVELS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_A_LEVEL = bytes(b for b in range(256) if b not in b"[]{}")
# What a JSON value decodes to, or a Struct holds, that nests no further.
_SCALARS = frozenset((str, int, float, bool, type(None), type(msgspec.UNSET)))


def depth_error(noun: str = "chunk", payload: bytes = b"") -> ChunkError:
    """The error of a value nested deeper than ``MAX_DEPTH``: one message, whether the decoder
    ran out of stack or a check counted the levels."""
    return ChunkError(
        f"invalid {noun}: a value nested deeper than {MAX_DEPTH} levels of arrays and objects "
        "(MAX_DEPTH)",
        payload,
    )


def deeper_than(data: bytes | bytearray, levels: int) -> bool:
    """Whether the JSON text ``data`` nests more than ``levels`` levels of arrays and objects.

    In C, linear in ``data``: a count of brackets settles most texts; else the strings are cut
    out and the deepest level is the largest running sum of the brackets left (+1 each ``[``
    or ``{``, -1 each ``]`` or ``}``). Text that is no JSON gives some answer, never an error.
    """
    if data.count(b"[") + data.count(b"{") <= levels:
        return False
    signs = _STRING.sub(b"", data).translate(_LEVELS, _NOT_A_LEVEL)
    return max(itertools.accumulate(memoryview(signs).cast("b")), default=0) > levels


def _inner(item: Any) -> Any:
    return msgspec.structs.astuple(item) if isinstance(item, msgspec.Struct) else item


def check_depth(value: Any, levels: int = MAX_DEPTH, noun: str = "chunk") -> None:
    """Raise ``depth_error(noun)`` when ``value`` (JSON builtins, Structs, tuples) nests more
    than ``levels`` levels of arrays and objects (a Struct is one, as it encodes).

    A walk level by level, without recursion: it works from any stack depth, stops as soon as
    it is past ``levels``, and visits each container once (a third of a copy's time on a large
    response, less on text).
    """
    if type(value) is dict and levels > 1:
        # The commonest value checked, a small object of scalars (an announced block, an
        # item): two levels at most when no value is a container with something in it.
        for item in value.values():
            if item and type(item) not in _SCALARS:
                break
        else:
            return
    level = [] if type(value) in _SCALARS else [value]
    depth = 0
    while level:
        depth += 1
        if depth > levels:
            raise depth_error(noun)
        level = [
            item
            for container in level
            for item in (
                container.values()
                if type(container) is dict
                else container
                if type(container) is list
                else _inner(container)
            )
            if type(item) not in _SCALARS
        ]
