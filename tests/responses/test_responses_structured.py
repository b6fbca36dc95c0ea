"""Structured outputs on the Responses API (issue 17): ``ResponseAccumulator(response_format=T,
tools={...})``.

The streams are ``tests/synthetic/structured/responses-*.sse`` (see its README) with their
``.expected.json``, and variants built here from their events: a response cut by
``max_output_tokens`` or ``content_filter``, a stream cut before its terminal event, a refusal, a
text that does not validate, a restated text, a call whose name comes after its first arguments.
Every type is tried in its four kinds (``types.STEMS``: a msgspec Struct, a pydantic model, a
dataclass, a TypedDict), fed whole, one byte at a time and in random slices, with and without
live events.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import msgspec
import pydantic
import pytest
from helpers import SPLIT_IDS, SPLITS, SYNTHETIC, Split, assert_grows, split_feeds
from msgspec import UNSET
from synthetic.structured import types
from typing_extensions import is_typeddict

from chunkagg import ElementParsed, ParseFailure
from chunkagg._responses import (
    Disagreement,
    FunctionCallArgumentsDelta,
    OutputRefusalDelta,
    OutputTextDelta,
    Response,
    ResponseAccumulator,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseUpdate,
)

Obj = dict[str, Any]
HERE = SYNTHETIC / "structured"
TEXT_SSE = (HERE / "responses-text-format.sse").read_bytes()
CALL_SSE = (HERE / "responses-function-call.sse").read_bytes()
TEXT_VALUE: Obj = json.loads((HERE / "responses-text-format.expected.json").read_bytes())[
    "choices"
]["0"]
CALL_VALUE: Obj = json.loads((HERE / "responses-function-call.expected.json").read_bytes())[
    "tool_calls"
]["0"][0]["arguments"]
TEXT_STEM = types.FIXTURES["responses-text-format.sse"][1] or ""
CALL_STEM = types.FIXTURES["responses-function-call.sse"][2]["get_weather"]
KINDS = ("Struct", "Model", "DC", "TD")
REFUSAL = "I'm sorry, but I can't help with that."


def kind_of(stem: str, kind: str) -> Any:
    """The type of ``stem`` in one of its four kinds."""
    return types.STEMS[stem][KINDS.index(kind)]


def typed_value(tp: Any, value: Any) -> Any:
    """``value`` (plain JSON) as ``tp``, converted by the library of its kind."""
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        return tp.model_validate(value)
    return msgspec.convert(value, tp)


def plain(value: Any) -> Any:
    """A partial or final value as plain JSON, as it is now (partials change in place)."""

    def hook(obj: Any) -> Any:
        if isinstance(obj, pydantic.BaseModel):
            return obj.model_dump(mode="json")
        raise NotImplementedError(type(obj))

    return msgspec.to_builtins(value, enc_hook=hook)


# -- building variants from a fixture's events ---------------------------------------------------


def events_of(data: bytes) -> list[Obj]:
    """The JSON payload of each ``event:``/``data:`` pair of a stream."""
    out = []
    for block in data.split(b"\n\n"):
        if block.strip():
            _, payload = block.split(b"\ndata: ", 1)
            out.append(json.loads(payload))
    return out


def sse_of(events: list[Obj]) -> bytes:
    """The events as an SSE body, numbered again from 0."""
    out = []
    for number, event in enumerate(events):
        event = {**event, "sequence_number": number}
        payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        out.append(f"event: {event['type']}\ndata: {payload}\n\n")
    return "".join(out).encode()


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[k : k + size] for k in range(0, len(text), size)]


def with_text(data: bytes, text: str, restated: str | None = None) -> bytes:
    """The text-format stream with its ``output_text`` deltas carrying ``text``; every restated
    value (``*.done`` events, the terminal response) says ``restated`` (default: ``text``)."""
    said = text if restated is None else restated
    out: list[Obj] = []
    streamed = False
    for event in events_of(data):
        kind = event["type"]
        if kind == "response.output_text.delta":
            if not streamed:
                out.extend({**event, "delta": piece} for piece in pieces(text))
                streamed = True
            continue
        if kind == "response.output_text.done":
            event["text"] = said
        elif kind == "response.content_part.done":
            event["part"]["text"] = said
        elif kind == "response.output_item.done":
            event["item"]["content"][0]["text"] = said
        elif kind == "response.completed":
            event["response"]["output"][0]["content"][0]["text"] = said
        out.append(event)
    return sse_of(out)


def cut(data: bytes, deltas: int, reason: str | None) -> tuple[bytes, str]:
    """The text-format stream cut after its first ``deltas`` text deltas: then, with a
    ``reason``, the server's ``response.incomplete`` (the response and its message
    ``incomplete``, the text as streamed), or, without one, nothing more. Also the text."""
    events = events_of(data)
    terminal = next(e for e in events if e["type"] == "response.completed")
    out: list[Obj] = []
    texts: list[str] = []
    for event in events:
        if event["type"] == "response.output_text.delta":
            if len(texts) == deltas:
                break
            texts.append(event["delta"])
        out.append(event)
    text = "".join(texts)
    if reason is not None:
        response = copy.deepcopy(terminal["response"])
        response["status"] = "incomplete"
        response["completed_at"] = None
        response["incomplete_details"] = {"reason": reason}
        response["output"][0]["status"] = "incomplete"
        response["output"][0]["content"][0]["text"] = text
        out.append({"type": "response.incomplete", "response": response})
    return sse_of(out), text


def refused(data: bytes) -> bytes:
    """The text-format stream with a ``refusal`` part in place of its ``output_text`` part."""
    part = {"type": "refusal", "refusal": REFUSAL}
    out: list[Obj] = []
    streamed = False
    for event in events_of(data):
        kind = event["type"]
        place: Obj = {k: event.get(k) for k in ("item_id", "output_index", "content_index")}
        if kind == "response.content_part.added":
            event["part"] = {"type": "refusal", "refusal": ""}
        elif kind == "response.output_text.delta":
            if not streamed:
                out.extend(
                    {"type": "response.refusal.delta", **place, "delta": piece}
                    for piece in pieces(REFUSAL, 7)
                )
                streamed = True
            continue
        elif kind == "response.output_text.done":
            event = {"type": "response.refusal.done", **place, "refusal": REFUSAL}
        elif kind == "response.content_part.done":
            event["part"] = part
        elif kind == "response.output_item.done":
            event["item"]["content"] = [part]
        elif kind == "response.completed":
            event["response"]["output"][0]["content"] = [part]
        out.append(event)
    return sse_of(out)


def named_late(data: bytes, after: int) -> bytes:
    """The function-call stream with ``response.output_item.added`` (the call's name) sent after
    its first ``after`` argument deltas."""
    events = events_of(data)
    added = next(e for e in events if e["type"] == "response.output_item.added")
    rest = [e for e in events if e is not added]
    first = next(i for i, e in enumerate(rest) if e["type"].endswith("arguments.delta"))
    return sse_of([*rest[: first + after], added, *rest[first + after :]])


# -- feeding -------------------------------------------------------------------------------------


Snapshot = tuple[ResponseUpdate, Any]


def run(
    data: bytes, split: Split | str = "whole", **options: Any
) -> tuple[Response, list[Snapshot]]:
    """The result, and with ``track=True`` each live event with its ``parsed`` as plain JSON
    when the ``feed()`` that made it returned."""
    acc = ResponseAccumulator(**options)
    seen: list[Snapshot] = []

    def take() -> None:
        if options.get("track"):
            for event in acc.take_events():
                parsed = getattr(event, "parsed", UNSET)
                seen.append((event, UNSET if parsed in (UNSET, None) else plain(parsed)))

    for piece in split_feeds(data, split):
        acc.feed(piece)
        take()
    result = acc.finalize()
    take()
    return result, seen


def message_of(result: Response) -> ResponseOutputMessage:
    assert result.output
    item = result.output[0]
    assert isinstance(item, ResponseOutputMessage)
    return item


def text_part(result: Response) -> ResponseOutputText:
    parts = message_of(result).content
    assert parts
    assert isinstance(parts[0], ResponseOutputText)
    return parts[0]


def call_of(result: Response) -> ResponseFunctionToolCall:
    assert result.output
    item = result.output[0]
    assert isinstance(item, ResponseFunctionToolCall)
    return item


def failure(value: Any, error: Any) -> ParseFailure:
    assert value is None
    assert isinstance(error, ParseFailure)
    return error


def partials(seen: list[Snapshot], cls: type) -> list[Any]:
    return [parsed for event, parsed in seen if isinstance(event, cls) and parsed is not UNSET]


# -- output_text as the response_format type -----------------------------------------------------


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_text_format_is_parsed_as_each_kind(split: Split, kind: str, track: bool) -> None:
    tp = kind_of(TEXT_STEM, kind)
    result, seen = run(TEXT_SSE, split, response_format=tp, track=track)
    part, message = text_part(result), message_of(result)
    assert part.parsed == typed_value(tp, TEXT_VALUE), split
    if is_typeddict(tp):
        assert type(part.parsed) is dict
    else:
        assert type(part.parsed) is tp
    assert part.parse_error is None and message.parse_error is None and result.parse_error is None
    assert message.output_parsed is part.parsed
    assert result.output_parsed is part.parsed
    deltas = [event for event, _ in seen if isinstance(event, OutputTextDelta)]
    if track:
        # The last partial is the final value itself, converted once.
        assert deltas[-1].parsed is part.parsed, split
        assert "".join(d.delta for d in deltas) == part.text
    else:
        assert not seen


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_text_partials_only_grow(split: Split, kind: str) -> None:
    tp = kind_of(TEXT_STEM, kind)
    result, seen = run(TEXT_SSE, split, response_format=tp, track=True)
    shown = partials(seen, OutputTextDelta)
    assert len(shown) >= (1 if split.kind == "whole" else 10), split
    for before, after in itertools.pairwise(shown):
        assert_grows(before, after, f"$ ({split})")
    assert shown[-1] == TEXT_VALUE
    assert plain(result.output_parsed) == TEXT_VALUE


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_each_participant_is_an_element_event_after_its_delta(split: Split) -> None:
    _, seen = run(TEXT_SSE, split, response_format=types.CalendarEventStruct, track=True)
    events = [event for event, _ in seen]
    elements = [(i, e) for i, e in enumerate(events) if isinstance(e, ElementParsed)]
    assert [(e.path, e.index, e.value, e.error) for _, e in elements] == [
        ("$.participants", k, name, None) for k, name in enumerate(TEXT_VALUE["participants"])
    ]
    for i, element in elements:
        assert element.output_index == 0
        assert isinstance(events[i - 1], OutputTextDelta | ElementParsed), events[i - 1]


def test_without_types_nothing_changes() -> None:
    plain_result, plain_seen = run(TEXT_SSE, "bytewise", track=True)
    typed_result, typed_seen = run(
        TEXT_SSE, "bytewise", track=True, response_format=types.CalendarEventStruct
    )
    assert typed_result.to_json() == plain_result.to_json()
    assert typed_result.to_dict() == plain_result.to_dict()
    assert typed_result == plain_result
    assert b"parsed" not in typed_result.to_json()
    assert plain_result.output_parsed is None and text_part(plain_result).parsed is None
    plain_deltas = [e for e, _ in plain_seen if isinstance(e, OutputTextDelta)]
    assert plain_deltas and all(e.parsed is UNSET for e in plain_deltas)
    typed_deltas = [e for e, _ in typed_seen if isinstance(e, OutputTextDelta)]
    assert [e.delta for e in typed_deltas] == [e.delta for e in plain_deltas]


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
@pytest.mark.parametrize("reason", ["max_output_tokens", "content_filter"])
def test_an_incomplete_response_is_none_with_the_servers_reason(reason: str, track: bool) -> None:
    data, text = cut(TEXT_SSE, 12, reason)
    result, _ = run(data, "bytewise", response_format=types.CalendarEventModel, track=track)
    assert result.status == "incomplete"
    part, message = text_part(result), message_of(result)
    assert part.text == text and text.startswith('{"name"') and len(text) > 20
    for value, error in (
        (part.parsed, part.parse_error),
        (message.output_parsed, message.parse_error),
        (result.output_parsed, result.parse_error),
    ):
        assert failure(value, error).reason == reason


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
def test_a_stream_cut_before_its_end_is_incomplete(track: bool) -> None:
    data, text = cut(TEXT_SSE, 12, None)
    result, _ = run(data, "whole", response_format=types.CalendarEventDC, track=track)
    assert text_part(result).text == text
    error = failure(result.output_parsed, result.parse_error)
    assert error.reason == "incomplete"
    assert error is message_of(result).parse_error


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
def test_a_refusal_part_gives_reason_refusal(track: bool) -> None:
    result, seen = run(
        refused(TEXT_SSE), "bytewise", response_format=types.CalendarEventStruct, track=track
    )
    message = message_of(result)
    assert [msgspec.to_builtins(p) for p in message.content or ()] == [
        {"type": "refusal", "refusal": REFUSAL}
    ]
    for value, error in (
        (message.output_parsed, message.parse_error),
        (result.output_parsed, result.parse_error),
    ):
        found = failure(value, error)
        assert found.reason == "refusal" and found.message == REFUSAL
    if track:
        assert not any(isinstance(e, OutputTextDelta) for e, _ in seen)
        assert "".join(e.delta for e, _ in seen if isinstance(e, OutputRefusalDelta)) == REFUSAL


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_value_that_does_not_validate_is_invalid_with_its_path(kind: str, track: bool) -> None:
    # The nested recipe of chat-nested.sse as the text, its second step's minutes a string.
    value = json.loads((HERE / "chat-nested.expected.json").read_bytes())["choices"]["0"]
    value["steps"][1]["minutes"] = "three"
    text = json.dumps(value, ensure_ascii=False)
    tp = kind_of("Recipe", kind)
    result, seen = run(with_text(TEXT_SSE, text), "bytewise", response_format=tp, track=track)
    assert text_part(result).text == text
    error = failure(result.output_parsed, result.parse_error)
    assert error.reason == "invalid"
    assert error.path == "$.steps[1].minutes"
    assert error is message_of(result).parse_error
    if track:
        # The bad step is reported at its index, as sent; its neighbours typed, in place.
        steps = [e for e, _ in seen if isinstance(e, ElementParsed) and e.path == "$.steps"]
        assert [e.index for e in steps] == [0, 1, 2, 3]
        assert [e.error is None for e in steps] == [True, False, True, True]
        assert steps[1].value == value["steps"][1]
        assert steps[2].value == typed_value(getattr(types, f"Step{kind}"), value["steps"][2])


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
def test_a_restated_text_is_the_one_parsed(track: bool) -> None:
    streamed = json.dumps(TEXT_VALUE, ensure_ascii=False)
    sent = {**TEXT_VALUE, "name": "Bake sale"}
    data = with_text(TEXT_SSE, streamed, restated=json.dumps(sent, ensure_ascii=False))
    acc = ResponseAccumulator(response_format=types.CalendarEventStruct, track=track)
    acc.feed(data)
    result = acc.finalize()
    assert any(isinstance(d, Disagreement) for d in acc.disagreements)
    assert result.output_parsed == types.CalendarEventStruct(**sent)


# -- function calls with tools= ------------------------------------------------------------------


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_call_named_in_tools_gets_parsed_arguments(split: Split, kind: str, track: bool) -> None:
    tp = kind_of(CALL_STEM, kind)
    result, seen = run(CALL_SSE, split, tools={"get_weather": tp}, track=track)
    call = call_of(result)
    assert call.parsed_arguments == typed_value(tp, CALL_VALUE)
    assert call.parse_error is None
    assert result.output_parsed is None and result.parse_error is None  # no response_format
    if not track:
        return
    deltas = [e for e, _ in seen if isinstance(e, FunctionCallArgumentsDelta)]
    assert deltas[-1].parsed is call.parsed_arguments, split
    shown = partials(seen, FunctionCallArgumentsDelta)
    for before, after in itertools.pairwise(shown):
        assert_grows(before, after, f"$ ({split})")
    # A Literal field appears only once whole (every kind of type).
    assert {p["units"] for p in shown if "units" in p} == {"c"}
    assert shown[-1] == CALL_VALUE


@pytest.mark.parametrize("track", [False, True], ids=["final", "track"])
def test_a_call_of_another_name_gets_nothing(track: bool) -> None:
    result, seen = run(
        CALL_SSE, "bytewise", tools={"get_stock_price": types.GetStockPriceStruct}, track=track
    )
    call = call_of(result)
    assert call.name == "get_weather"
    assert call.parsed_arguments is None and call.parse_error is None
    assert "parsed_arguments" not in call.__dict__
    _, untyped = run(CALL_SSE, "bytewise", track=track)
    # Its live events are today's: the partial parse, as without tools=.
    assert [(e, p) for e, p in seen] == [(e, p) for e, p in untyped]
    assert result.to_json() == run(CALL_SSE, "whole")[0].to_json()


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_call_named_after_its_first_arguments_is_scanned_from_the_start(split: Split) -> None:
    data = named_late(CALL_SSE, 3)
    result, seen = run(data, split, tools={"get_weather": types.GetWeatherStruct}, track=True)
    call = call_of(result)
    assert call.parsed_arguments == types.GetWeatherStruct(**CALL_VALUE)
    deltas = [e for e, _ in seen if isinstance(e, FunctionCallArgumentsDelta)]
    assert len(deltas) > 3
    # Before the name, the untyped partial parse; from the first delta after it, the typed scan
    # of the whole text so far (a scan fed only the later deltas would never convert, and the
    # last partial would not be the final value).
    partial = "Partial[GetWeatherStruct]"
    assert all(type(e.parsed).__name__ != partial for e in deltas[:3])
    assert all(type(e.parsed).__name__ == partial for e in deltas[3:-1])
    assert deltas[-1].parsed is call.parsed_arguments


def test_a_call_cut_by_max_output_tokens_keeps_its_arguments() -> None:
    events = events_of(CALL_SSE)
    terminal = next(e for e in events if e["type"] == "response.completed")
    deltas = [e for e in events if e["type"].endswith("arguments.delta")][:5]
    arguments = "".join(e["delta"] for e in deltas)
    response = copy.deepcopy(terminal["response"])
    response.update(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
    response["output"][0].update(status="incomplete", arguments=arguments)
    data = sse_of(
        [
            *events[: events.index(deltas[-1]) + 1],
            {"type": "response.incomplete", "response": response},
        ]
    )
    for track in (False, True):
        result, _ = run(data, "bytewise", tools={"get_weather": types.GetWeatherTD}, track=track)
        call = call_of(result)
        assert call.arguments == arguments
        assert failure(call.parsed_arguments, call.parse_error).reason == "max_output_tokens"


def test_tools_must_be_a_mapping_of_names() -> None:
    with pytest.raises(TypeError, match="mapping"):
        ResponseAccumulator(tools=[types.GetWeatherStruct])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="function names"):
        ResponseAccumulator(tools={1: types.GetWeatherStruct})  # type: ignore[dict-item]
