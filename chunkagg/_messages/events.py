"""The live-UI events of ``MessageAccumulator(track=True)``.

Declarations only: the merge (``merge``) makes them. Each is a frozen Struct tagged with its
class name; ``MessageUpdate`` is their union. ``index`` is a block's place in the message's
``content``. With ``response_format=`` or ``tools=``, the core's ``ElementParsed`` (with
``block``) also reports each array element of a structured value as it completes.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from .._core.events import ElementParsed, _Event

__all__ = [
    "MessageBlockStarted",
    "MessageBlockStopped",
    "MessageCitationAdded",
    "MessageFinished",
    "MessageInputDelta",
    "MessageTextDelta",
    "MessageThinkingDelta",
    "MessageUpdate",
]


class MessageBlockStarted(_Event, frozen=True):
    """Block ``index`` started (``content_block_start``): ``block`` as announced."""

    index: int
    block: Any


class MessageTextDelta(_Event, frozen=True):
    """A text fragment of the ``text`` block ``index``.

    ``parsed`` (with ``response_format=``): the block's JSON value so far, typed as the format's
    type where it can be (see ``docs/structured.md``). It is one live object, updated in place
    as the text grows (copy it to keep a snapshot), and the last one is the block's
    ``parsed_output`` itself; ``UNSET`` without ``response_format=`` or before the value starts.
    """

    index: int
    delta: str
    parsed: Any = UNSET


class MessageThinkingDelta(_Event, frozen=True):
    """A reasoning fragment of the ``thinking`` block ``index``."""

    index: int
    delta: str


class MessageInputDelta(_Event, frozen=True):
    """A fragment of a tool block's input JSON, with the latest parse of the input so far.

    ``parsed`` is the partial parse (jiter's partial mode) made when the input last grew by half
    (and by at least 16 characters), so it may lag the text; ``None`` until such a parse
    succeeds, or when jiter is not installed. For a tool ``tools=`` names, it is instead the
    input's value so far, scanned once as it streams and typed as that tool's type where it can
    be, like ``MessageTextDelta.parsed`` (``UNSET`` before the value starts).
    """

    index: int
    delta: str
    parsed: Any = None


class MessageCitationAdded(_Event, frozen=True):
    """A citation of the ``text`` block ``index`` (``citations_delta``)."""

    index: int
    citation: Any


class MessageBlockStopped(_Event, frozen=True):
    """Block ``index`` is complete (``content_block_stop``): ``block`` as the message will
    hold it (a tool block's ``input`` parsed)."""

    index: int
    block: Any


class MessageFinished(_Event, frozen=True):
    """``message_delta`` said why the message stopped; ``usage`` is the message's usage then."""

    stop_reason: str | None
    usage: Any


MessageUpdate = (
    ElementParsed
    | MessageBlockStarted
    | MessageTextDelta
    | MessageThinkingDelta
    | MessageInputDelta
    | MessageCitationAdded
    | MessageBlockStopped
    | MessageFinished
)
