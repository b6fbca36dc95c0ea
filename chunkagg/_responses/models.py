"""msgspec Structs of the Responses API stream: the wire event and the merged ``Response``.

Declarations only: no merge logic, no framing, no decoders (the core's ``schema`` builds those
from ``ResponseEvent``; the live events are in ``events``). Names
follow the openai SDK's ``openai.types.responses`` where a class stands for the same object
(``ResponseOutputMessage``, ``ResponseFunctionToolCall``...).

The wire: one Struct, ``ResponseEvent``, declares every field any event type carries, so that
one msgspec decoder reads every event of a stream in C. Only ``type`` is checked when decoding;
any other field whose value has another type than declared is kept as sent (the core's
``schema`` derives a Struct with that field typed ``Any``), and keys no event declares are kept
too (``extra``): an event is never rejected for its shape. The merge checks the fields it
reads, per event type. Nested objects (``response``, ``item``, ``part``, ``annotation``) are
plain ``dict`` values, kept whole.

The output: ``Response`` and its output items are built by the merge from plain JSON values,
never decoded. Every field defaults to ``UNSET`` and is set only when the server sent its key,
so ``to_dict()`` is exactly the object the server sent: a ``null`` stays ``null``, an absent key
stays absent, and keys chunkagg has no name for come back in place (``extra`` gives them by JSON
key). A list that may hold several kinds (``output``, a message's ``content``) is typed with the
kinds chunkagg knows, plus ``dict`` for any other kind, kept as sent in place. Structured values
(``parsed``, ``output_parsed``, ``parsed_arguments`` and their ``parse_error``) hang beside the
fields of ``Response``, messages, ``output_text`` parts and function calls, never among them
(the core's ``parsed``), so they never reach ``to_dict()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import UNSET, UnsetType

from .._core.models import Number, _Output, _Wire
from .._core.parsed import side_value

__all__ = [
    "Response",
    "ResponseError",
    "ResponseEvent",
    "ResponseFunctionToolCall",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputRefusal",
    "ResponseOutputText",
    "ResponseReasoningContent",
    "ResponseReasoningItem",
    "ResponseReasoningSummary",
    "ResponseUsage",
]


# -- the wire ------------------------------------------------------------------------------------


class ResponseEvent(_Wire, frozen=True):
    """One event of a Responses API stream (``response.output_text.delta``, ...).

    Every event has a ``type`` (the SSE ``event:`` name repeats it); the other fields are those
    its type carries, ``None`` when absent. ``response``, ``item``, ``part`` and ``annotation``
    are the JSON objects as sent. ``extra`` holds any key no event type declares.
    """

    type: str
    sequence_number: int | None = None
    output_index: int | None = None
    content_index: int | None = None
    summary_index: int | None = None
    annotation_index: int | None = None
    item_id: str | None = None
    delta: str | None = None
    text: str | None = None
    arguments: str | None = None
    refusal: str | None = None
    input: str | None = None
    code: str | None = None
    item: dict[str, Any] | None = None
    part: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    annotation: dict[str, Any] | None = None
    logprobs: list[Any] | None = None
    obfuscation: str | None = None
    name: str | None = None
    status: str | None = None
    message: str | None = None
    param: str | None = None
    error: dict[str, Any] | None = None

    # Only the event type is checked when decoding: every other field is checked by the merge,
    # for the event types that read it, so an event of a type chunkagg does not know is never
    # rejected.
    _strict = frozenset(("type",))


# -- the merged response ------------------------------------------------------------------------


class ResponseOutputText(_Output, kw_only=True, dict=True, gc=True):
    """An ``output_text`` part of a message: its whole text, annotations and logprobs.

    With ``ResponseAccumulator(response_format=T)``: ``parsed`` (the text as a ``T``, or
    ``None``) and ``parse_error`` (a ``ParseFailure`` saying why it is ``None``); neither is a
    field: ``to_dict()``, ``to_json()`` and ``==`` are the server's object.
    """

    type: str | UnsetType = UNSET
    annotations: list[Any] | UnsetType = UNSET
    logprobs: list[Any] | UnsetType | None = UNSET
    text: str | UnsetType = UNSET

    parsed = side_value("parsed", "The text as the ``response_format=`` type.")
    parse_error = side_value("parse_error", "Why ``parsed`` is ``None``, if it is.")


class ResponseOutputRefusal(_Output, kw_only=True):
    """A ``refusal`` part of a message."""

    type: str | UnsetType = UNSET
    refusal: str | UnsetType = UNSET


class ResponseOutputMessage(_Output, kw_only=True, dict=True, gc=True):
    """An output item of type ``message``; other part kinds stay ``dict`` in ``content``.

    With ``ResponseAccumulator(response_format=T)``: ``output_parsed`` (its first
    ``output_text`` part's ``parsed``, as openai-python's ``ParsedResponseOutputMessage``) and
    ``parse_error``; neither is a field: ``to_dict()``, ``to_json()`` and ``==`` are the
    server's object.
    """

    id: str | UnsetType | None = UNSET
    type: str | UnsetType = UNSET
    status: str | UnsetType | None = UNSET
    if TYPE_CHECKING:
        content: list[ResponseOutputText | ResponseOutputRefusal | dict[str, Any]] | UnsetType = (
            UNSET
        )
    else:
        # Checked against the narrower element types one part at a time (msgspec has no union
        # of Structs and dict): see _responses._typed_part.
        content: list[Any] | UnsetType = UNSET
    role: str | UnsetType | None = UNSET

    output_parsed = side_value(
        "output_parsed", "The first ``output_text`` part's text as the ``response_format=`` type."
    )
    parse_error = side_value("parse_error", "Why ``output_parsed`` is ``None``, if it is.")


class ResponseFunctionToolCall(_Output, kw_only=True, dict=True, gc=True):
    """An output item of type ``function_call``: ``arguments`` verbatim, even when not JSON.

    With ``ResponseAccumulator(tools={name: T})``, a call of a function named there has
    ``parsed_arguments`` (its arguments as a ``T``, or ``None``; openai-python's
    ``ParsedResponseFunctionToolCall`` name) and ``parse_error`` (a ``ParseFailure`` saying why
    it is ``None``); neither is a field: ``to_dict()``, ``to_json()`` and ``==`` are the
    server's object.
    """

    id: str | UnsetType | None = UNSET
    type: str | UnsetType = UNSET
    status: str | UnsetType | None = UNSET
    arguments: str | UnsetType = UNSET
    call_id: str | UnsetType | None = UNSET
    name: str | UnsetType | None = UNSET

    parsed_arguments = side_value(
        "parsed_arguments", "The arguments as the type ``tools=`` names for this function."
    )
    parse_error = side_value("parse_error", "Why ``parsed_arguments`` is ``None``, if it is.")


class ResponseReasoningSummary(_Output, kw_only=True):
    """A ``summary_text`` part of a reasoning item's ``summary``."""

    type: str | UnsetType = UNSET
    text: str | UnsetType = UNSET


class ResponseReasoningContent(_Output, kw_only=True):
    """A ``reasoning_text`` part of a reasoning item's ``content``."""

    type: str | UnsetType = UNSET
    text: str | UnsetType = UNSET


class ResponseReasoningItem(_Output, kw_only=True):
    """An output item of type ``reasoning``: its summary parts and reasoning text parts."""

    id: str | UnsetType | None = UNSET
    type: str | UnsetType = UNSET
    if TYPE_CHECKING:
        summary: list[ResponseReasoningSummary | dict[str, Any]] | UnsetType = UNSET
        content: list[ResponseReasoningContent | dict[str, Any]] | UnsetType | None = UNSET
    else:
        summary: list[Any] | UnsetType = UNSET
        content: list[Any] | UnsetType | None = UNSET
    encrypted_content: str | UnsetType | None = UNSET
    status: str | UnsetType | None = UNSET


# What ``Response.output`` holds: the kinds chunkagg types, or any other item as sent.
ResponseOutputItem = (
    ResponseOutputMessage | ResponseFunctionToolCall | ResponseReasoningItem | dict[str, Any]
)


class ResponseUsage(_Output, kw_only=True):
    """Token counts of a response, exactly as sent (``extra`` holds providers' other keys)."""

    input_tokens: int | UnsetType | None = UNSET
    input_tokens_details: dict[str, Any] | UnsetType | None = UNSET
    output_tokens: int | UnsetType | None = UNSET
    output_tokens_details: dict[str, Any] | UnsetType | None = UNSET
    total_tokens: int | UnsetType | None = UNSET


class ResponseError(_Output, kw_only=True):
    """The error of a failed response (``status: "failed"``)."""

    code: str | int | UnsetType | None = UNSET
    message: str | UnsetType | None = UNSET


class Response(_Output, kw_only=True, dict=True, gc=True):
    """The merged ``response`` object: what ``response.completed`` (or ``.incomplete``,
    ``.failed``) carries, or, for a stream that ended before one, what its events built.

    Fields the server did not send are ``UNSET`` (and absent from ``to_dict()``); ``extra``
    holds, by JSON key, those chunkagg has no name for.

    With ``ResponseAccumulator(response_format=T)``: ``output_parsed``, the first message's
    ``output_parsed`` (as openai-python's ``ParsedResponse.output_parsed``), and
    ``parse_error``; neither is a field. Only output items and parts typed as this module's
    Structs get structured values: one kept as a plain ``dict`` (of a known kind but another
    shape) gets none.
    """

    id: str | UnsetType = UNSET
    object: str | UnsetType = UNSET
    created_at: Number | UnsetType = UNSET
    status: str | UnsetType | None = UNSET
    background: bool | UnsetType | None = UNSET
    completed_at: Number | UnsetType | None = UNSET
    error: ResponseError | UnsetType | None = UNSET
    incomplete_details: dict[str, Any] | UnsetType | None = UNSET
    instructions: str | list[Any] | UnsetType | None = UNSET
    max_output_tokens: int | UnsetType | None = UNSET
    max_tool_calls: int | UnsetType | None = UNSET
    model: str | UnsetType = UNSET
    if TYPE_CHECKING:
        output: list[ResponseOutputItem] | UnsetType | None = UNSET
    else:
        output: list[Any] | UnsetType | None = UNSET
    parallel_tool_calls: bool | UnsetType | None = UNSET
    previous_response_id: str | UnsetType | None = UNSET
    prompt_cache_key: str | UnsetType | None = UNSET
    reasoning: dict[str, Any] | UnsetType | None = UNSET
    safety_identifier: str | UnsetType | None = UNSET
    service_tier: str | UnsetType | None = UNSET
    store: bool | UnsetType | None = UNSET
    temperature: Number | UnsetType | None = UNSET
    text: dict[str, Any] | UnsetType | None = UNSET
    tool_choice: str | dict[str, Any] | UnsetType | None = UNSET
    tools: list[Any] | UnsetType | None = UNSET
    top_logprobs: int | UnsetType | None = UNSET
    top_p: Number | UnsetType | None = UNSET
    truncation: str | UnsetType | None = UNSET
    usage: ResponseUsage | UnsetType | None = UNSET
    user: str | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET

    output_parsed = side_value(
        "output_parsed", "The first message's ``output_parsed`` (``response_format=``)."
    )
    parse_error = side_value("parse_error", "Why ``output_parsed`` is ``None``, if it is.")

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message, joined (as the openai SDK's
        ``Response.output_text``)."""
        texts = []
        for item in self.output or ():
            if isinstance(item, ResponseOutputMessage):
                for part in item.content or ():
                    if isinstance(part, ResponseOutputText) and isinstance(part.text, str):
                        texts.append(part.text)
        return "".join(texts)
