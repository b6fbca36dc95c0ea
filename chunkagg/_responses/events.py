"""The live-UI events of ``ResponseAccumulator(track=True)``, and ``Disagreement``.

Declarations only: the merge (``merge``) makes them. Each is a frozen Struct tagged with its
class name; ``ResponseUpdate`` is their union. With ``response_format=`` or ``tools=``, the
core's ``ElementParsed`` (with ``output_index``) also reports each array element of a structured
value as it completes, after the delta that completed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from msgspec import UNSET

from .._core.events import ElementParsed, _Event
from .models import ResponseOutputItem

__all__ = [
    "Disagreement",
    "FunctionCallArgumentsDelta",
    "FunctionCallDone",
    "OutputAnnotationAdded",
    "OutputItemDone",
    "OutputReasoningDelta",
    "OutputRefusalDelta",
    "OutputTextDelta",
    "ResponseFinished",
    "ResponseUpdate",
]


class OutputTextDelta(_Event, frozen=True):
    """A text fragment of the ``output_text`` part ``content_index`` of item ``output_index``.

    ``parsed`` (with ``response_format=``): the part's JSON value so far, typed as the format's
    type where it can be (see ``docs/structured.md``). It is one live object, updated in place
    as the text grows (copy it to keep a snapshot), and the last one is the part's ``parsed``
    itself; ``UNSET`` without ``response_format=`` or before the value starts.
    """

    output_index: int
    content_index: int
    delta: str
    parsed: Any = UNSET


class OutputRefusalDelta(_Event, frozen=True):
    """A fragment of the ``refusal`` part ``content_index`` of item ``output_index``."""

    output_index: int
    content_index: int
    delta: str


class OutputReasoningDelta(_Event, frozen=True):
    """A reasoning fragment of item ``output_index``: of its summary part ``index``
    (``field="summary"``), or of its reasoning text part ``index`` (``field="content"``)."""

    output_index: int
    index: int
    field: Literal["summary", "content"]
    delta: str


class OutputAnnotationAdded(_Event, frozen=True):
    """An annotation (a ``url_citation``, say) of an ``output_text`` part, at its index."""

    output_index: int
    content_index: int
    annotation_index: int
    annotation: Any


class FunctionCallArgumentsDelta(_Event, frozen=True):
    """An arguments fragment of the function call at ``output_index``.

    ``parsed`` is the partial parse of the arguments so far (jiter's partial mode, redone once
    the arguments grew by half), so it may lag the text; ``None`` until a parse succeeds, or
    without jiter. For a function ``tools=`` names, it is instead the arguments' value so far,
    scanned once as they stream and typed as that function's type where it can be, like
    ``OutputTextDelta.parsed`` (``UNSET`` before the value starts; the deltas that came before
    the call's name was known have the partial parse).
    """

    output_index: int
    item_id: str | None
    delta: str
    parsed: Any = None


class FunctionCallDone(_Event, frozen=True):
    """The arguments of the function call at ``output_index`` are whole: the server said so
    (``function_call_arguments.done``, or ``output_item.done``), or the stream ended.

    ``valid`` tells whether ``arguments`` is a JSON text; ``parsed`` is its value then, and
    ``None`` otherwise (reported, not guessed). A call whose arguments change after this event
    (a restated value) gets another one.
    """

    output_index: int
    item_id: str | None
    call_id: str | None
    name: str | None
    arguments: str
    parsed: Any
    valid: bool


class OutputItemDone(_Event, frozen=True):
    """Item ``output_index`` is complete (``response.output_item.done``), as the server
    restated it."""

    output_index: int
    if TYPE_CHECKING:
        item: ResponseOutputItem
    else:
        item: Any


class ResponseFinished(_Event, frozen=True):
    """A terminal event arrived (``response.completed``, ``.incomplete`` or ``.failed``).

    ``status`` is its response's status; ``error`` and ``incomplete_details`` are as sent.
    """

    status: str | None
    error: Any = None
    incomplete_details: Any = None


class Disagreement(_Event, frozen=True):
    """A value the server restated differs from what the stream's earlier events built.

    ``path`` locates it in the response (``output[0].content[0].text``); ``streamed`` is what
    the earlier events built, ``sent`` what event number ``event`` (of type ``source``, such as
    ``response.output_text.done`` or ``response.completed``) says. Either is ``UNSET`` (absent in
    JSON) when that side has no such value. The restated value is the one kept.
    """

    path: str
    event: int
    source: str
    streamed: Any = UNSET
    sent: Any = UNSET

    def __str__(self) -> str:
        return (
            f"event {self.event} ({self.source}): {self.path} was built as "
            f"{_short(self.streamed)}, restated as {_short(self.sent)}"
        )


def _short(value: Any) -> str:
    if value is UNSET:
        return "(absent)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


ResponseUpdate = (
    ElementParsed
    | OutputTextDelta
    | OutputRefusalDelta
    | OutputReasoningDelta
    | OutputAnnotationAdded
    | FunctionCallArgumentsDelta
    | FunctionCallDone
    | OutputItemDone
    | ResponseFinished
    | Disagreement
)
