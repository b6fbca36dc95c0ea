"""Structured outputs on Anthropic Messages: ``MessageAccumulator(response_format=T, tools={...})``.

The streams are ``tests/synthetic/structured/messages-*.sse`` (their README cites Anthropic's
structured outputs and streaming docs), each merged whole, byte by byte and in random slices,
with each of the four kinds of type (msgspec Struct, pydantic model, dataclass, TypedDict),
tracked or not; the variants (a refusal, a value that does not validate, a stream cut short, an
input sent whole, a second tool, an array) are those bytes edited here. The Anthropic SDK's own
``messages.stream(output_format=...)``, pointed at a local replay server (``sse_server``), is the
peer for the pydantic models.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import msgspec
import pydantic
import pytest
from helpers import SYNTHETIC, assert_grows, snapshot_json, split_feeds
from msgspec import UNSET
from synthetic.structured import types as T

from chunkagg import (
    AnthropicMessage,
    ElementParsed,
    MessageAccumulator,
    MessageInputDelta,
    MessageTextDelta,
    ParseFailure,
    ServerToolUseBlock,
    TextBlock,
    ToolUseBlock,
)

STRUCTURED = SYNTHETIC / "structured"
MESSAGES = sorted(name for name, (fmt, _, _) in T.FIXTURES.items() if fmt == "messages")
KINDS = ("Struct", "Model", "DC", "TD")
JSON_OUTPUT = (STRUCTURED / "messages-json-output.sse").read_bytes()
TOOL_USE = (STRUCTURED / "messages-tool-use.sse").read_bytes()
MAX_TOKENS = (STRUCTURED / "messages-max-tokens.sse").read_bytes()


def _types(name: str, kind: str) -> tuple[Any, dict[str, Any]]:
    _, stem, tools = T.FIXTURES[name]
    rf = getattr(T, stem + kind) if stem else None
    return rf, {tool: getattr(T, s + kind) for tool, s in tools.items()}


def _expected(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        (STRUCTURED / name.replace(".sse", ".expected.json")).read_text()
    )
    return result


def _as(tp: Any, value: Any) -> Any:
    """``value`` (plain JSON) as ``tp``, by the validator the library uses for it."""
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        return tp.model_validate(value)
    return msgspec.convert(value, tp)


def _merge(
    data: bytes, split: str = "whole", track: bool = False, **types: Any
) -> tuple[AnthropicMessage, list[Any]]:
    """The message of ``data`` fed in ``split`` pieces, and its live events."""
    acc = MessageAccumulator(track=track, **types)
    events: list[Any] = []
    for piece in split_feeds(data, split, random.Random(len(data))):
        acc.feed(piece)
        if track:
            events.extend(acc.take_events())
    message = acc.finalize()
    if track:
        events.extend(acc.take_events())
    return message, events


def _blocks(message: AnthropicMessage) -> list[Any]:
    assert isinstance(message.content, list)
    return message.content


def _text_stream(text: str, pieces: int, stop: str = "end_turn", seed: int = 0) -> bytes:
    """messages-json-output's bytes with its text deltas replaced by ``text`` cut in ``pieces``
    random places, and its stop reason by ``stop``."""
    events = JSON_OUTPUT.split(b"\n\n")
    head = [e for e in events if b'"text_delta"' not in e]
    at = next(i for i, e in enumerate(head) if b"content_block_stop" in e)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), pieces - 1))
    deltas = [
        b"event: content_block_delta\ndata: "
        + json.dumps(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text[a:b]},
            }
        ).encode()
        for a, b in itertools.pairwise([0, *cuts, len(text)])
    ]
    body = b"\n\n".join([*head[:at], *deltas, *head[at:]])
    return body.replace(b'"stop_reason":"end_turn"', f'"stop_reason":"{stop}"'.encode())


# -- the fixtures, every kind of type, every split ----------------------------------------------


@pytest.mark.parametrize("split", ["whole", "bytewise", "random"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", MESSAGES)
def test_fixture_final_values(name: str, kind: str, split: str) -> None:
    rf, tools = _types(name, kind)
    data = (STRUCTURED / name).read_bytes()
    expected = _expected(name)
    plain, _ = _merge(data)
    for track in (False, True):
        message, events = _merge(data, split, track, response_format=rf, tools=tools)
        # The server's object, unchanged: the structured values are no fields.
        assert message == plain and message.to_json() == plain.to_json()
        assert message.to_dict() == plain.to_dict()
        last: dict[int, Any] = {}
        for event in events:
            if isinstance(event, MessageTextDelta | MessageInputDelta):
                last[event.index] = event.parsed
        want = expected["choices"].get("0")
        reason = expected["reasons"]["0"]
        assert message.stop_reason == reason
        text_block = _blocks(message)[0]
        assert isinstance(text_block, TextBlock)
        if rf is None:
            assert message.parsed_output is None and message.parse_error is None
            assert text_block.parsed_output is None and text_block.parse_error is None
        elif want is None:
            assert message.parsed_output is None and text_block.parsed_output is None
            assert message.parse_error is not None
            assert message.parse_error.reason == reason
            assert text_block.parse_error is message.parse_error
            assert message.text == plain.text  # the text kept as sent
        else:
            assert message.parse_error is None and text_block.parse_error is None
            assert isinstance(message.parsed_output, dict if kind == "TD" else rf)
            assert message.parsed_output == _as(rf, want)
            assert message.parsed_output is text_block.parsed_output
            if track:
                assert last[0] is message.parsed_output  # the last partial is the value
        calls = expected["tool_calls"].get("0", [])
        uses = [b for b in _blocks(message) if isinstance(b, ToolUseBlock)]
        assert len(uses) == len(calls)
        for block, call in zip(uses, calls, strict=True):
            tp = tools[call["name"]]
            assert block.parse_error is None
            assert isinstance(block.parsed_input, dict if kind == "TD" else tp)
            assert block.parsed_input == _as(tp, call["arguments"])
            if track:
                index = _blocks(message).index(block)
                assert last[index] is block.parsed_input


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", MESSAGES)
def test_partials_only_grow(name: str, kind: str) -> None:
    rf, tools = _types(name, kind)
    data = (STRUCTURED / name).read_bytes()
    acc = MessageAccumulator(response_format=rf, tools=tools, track=True)
    shown: dict[int, list[Any]] = {}
    for piece in split_feeds(data, "bytewise"):
        acc.feed(piece)
        for event in acc.take_events():
            if isinstance(event, MessageTextDelta | MessageInputDelta):
                if rf is None and isinstance(event, MessageTextDelta):
                    assert event.parsed is UNSET  # no response_format: no scan
                elif event.parsed is not UNSET:
                    shown.setdefault(event.index, []).append(snapshot_json(event.parsed))
    acc.finalize()
    assert shown
    for values in shown.values():
        assert len(values) > 3
        for before, after in itertools.pairwise(values):
            assert_grows(before, after)
    if name == "messages-json-output.sse":
        names = [v.get("name") for v in shown[0]]
        assert "José " in names and names[-1] == "José Álvarez"  # shown as it grows


def test_the_grows_check_can_fail() -> None:
    assert_grows({"a": "x"}, {"a": "xy", "b": 1})
    for before, after in (({"a": 1}, {}), ("ab", "ac"), (1, 2), ([1, 2], [1])):
        with pytest.raises(AssertionError):
            assert_grows(before, after)


# -- the reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_max_tokens_gives_none_with_the_reason_and_keeps_the_text(kind: str) -> None:
    rf, _ = _types("messages-max-tokens.sse", kind)
    for track in (False, True):
        message, events = _merge(MAX_TOKENS, "bytewise", track, response_format=rf)
        assert message.parsed_output is None
        assert message.parse_error is not None
        assert message.parse_error.reason == "max_tokens" and message.parse_error.path is None
        assert message.text == '{"name":"John Smith","email":"john@exa'
        if track:  # the partial value streamed before the cut
            partials = [e.parsed for e in events if isinstance(e, MessageTextDelta)]
            assert snapshot_json(partials[-1]) == {"name": "John Smith", "email": "john@exa"}


def test_model_context_window_exceeded_is_a_cut_too() -> None:
    data = JSON_OUTPUT.replace(b'"end_turn"', b'"model_context_window_exceeded"')
    message, _ = _merge(data, response_format=T.ContactInfoStruct)
    assert message.parsed_output is None and message.parse_error is not None
    assert message.parse_error.reason == "model_context_window_exceeded"


@pytest.mark.parametrize("track", [False, True])
def test_a_refusal_stop_reason_gives_none_with_reason_refusal(track: bool) -> None:
    text = "I can't help with extracting that person's details."
    data = _text_stream(text, 6, stop="refusal")
    message, _ = _merge(data, "random", track, response_format=T.ContactInfoStruct)
    assert message.stop_reason == "refusal" and message.text == text
    assert message.parsed_output is None
    assert message.parse_error is not None and message.parse_error.reason == "refusal"
    # The same JSON that parses under end_turn is refused under refusal.
    refused = JSON_OUTPUT.replace(b'"end_turn"', b'"refusal"')
    message, _ = _merge(refused, "random", track, response_format=T.ContactInfoStruct)
    assert message.parsed_output is None
    assert message.parse_error is not None and message.parse_error.reason == "refusal"


@pytest.mark.parametrize("kind", KINDS)
def test_a_value_that_does_not_validate_is_invalid_and_says_where(kind: str) -> None:
    rf, _ = _types("messages-json-output.sse", kind)
    data = JSON_OUTPUT.replace(b'"text":"erprise"', b'"text":"erprize"')
    assert data != JSON_OUTPUT
    for track in (False, True):
        message, _ = _merge(data, "bytewise", track, response_format=rf)
        assert message.parsed_output is None and '"Enterprize"' in message.text
        failure = message.parse_error
        assert isinstance(failure, ParseFailure)
        assert (failure.reason, failure.path) == ("invalid", "$.plan")
        assert "$.plan" in failure.message


def test_a_stream_cut_inside_the_json_is_incomplete_and_snapshot_never_raises() -> None:
    cut = JSON_OUTPUT[: JSON_OUTPUT.index(b'"text":"jos"')]
    cut = cut[: cut.rindex(b"\n\n") + 2]
    for track in (False, True):
        acc = MessageAccumulator(response_format=T.ContactInfoStruct, track=track)
        acc.feed(cut)
        snap = acc.snapshot()
        assert snap.parsed_output is None and snap.parse_error is not None
        assert snap.parse_error.reason == "incomplete"
        message = acc.finalize()
        assert message.stop_reason is None  # as message_start sent it
        assert message.parse_error is not None and message.parse_error.reason == "incomplete"
        if track:
            partial = [e for e in acc.take_events() if isinstance(e, MessageTextDelta)][-1]
            assert partial.parsed.name == "José Álvarez" and partial.parsed.email == ""


def test_text_that_is_no_json_is_invalid_json() -> None:
    message, _ = _merge(TOOL_USE, track=True, response_format=T.WeatherLookupStruct)
    assert message.parsed_output is None
    assert message.parse_error is not None and message.parse_error.reason == "invalid_json"


def test_the_message_takes_the_first_text_block_that_parsed() -> None:
    # A prose block, then the JSON: as the Anthropic SDK's ParsedMessage.parsed_output, the
    # first text block with a value; each block keeps its own.
    prose = (
        b"event: content_block_start\ndata: "
        b'{"type":"content_block_start","index":0,"content_block":'
        b'{"type":"text","text":"Here it is:"}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    )
    data = JSON_OUTPUT.replace(b'"index":0', b'"index":1')
    at = data.index(b"event: content_block_start")
    data = data[:at] + prose + data[at:]
    for track in (False, True):
        message, _ = _merge(data, "random", track, response_format=T.ContactInfoStruct)
        first, second = _blocks(message)
        assert first.parsed_output is None and first.parse_error.reason == "invalid_json"
        assert second.parse_error is None
        assert message.parsed_output is second.parsed_output
        assert message.parsed_output.name == "José Álvarez"


def test_a_block_streamed_past_a_gap_keeps_its_live_value() -> None:
    # Block 3 of a message whose blocks 0 to 2 never came: content holds it first; its value
    # is still the one its live scan converted.
    data = JSON_OUTPUT.replace(b'"index":0', b'"index":3')
    message, events = _merge(data, "random", True, response_format=T.ContactInfoStruct)
    (block,) = _blocks(message)
    last = [e for e in events if isinstance(e, MessageTextDelta)][-1]
    assert last.index == 3 and last.parsed is block.parsed_output is message.parsed_output
    assert block.parsed_output.plan is T.Plan.ENTERPRISE


# -- tools ---------------------------------------------------------------------------------------


def test_a_tool_named_in_tools_is_parsed_and_another_is_not() -> None:
    # A second call, of a tool not in tools, at block 2.
    events = TOOL_USE.split(b"\n\n")
    first = next(i for i, e in enumerate(events) if b'"tool_use"' in e)
    last = next(i for i, e in enumerate(events) if b'"index":1}' in e)
    second = [
        e.replace(b'"index":1', b'"index":2').replace(b"get_weather", b"get_time")
        for e in events[first : last + 1]
    ]
    data = b"\n\n".join([*events[: last + 1], *second, *events[last + 1 :]])
    for track in (False, True):
        message, events_seen = _merge(
            data, "random", track, tools={"get_weather": T.WeatherLookupStruct}
        )
        _, weather, other = _blocks(message)
        assert weather.name == "get_weather" and other.name == "get_time"
        assert weather.parsed_input == T.WeatherLookupStruct("San Francisco, CA", "fahrenheit")
        assert other.parsed_input is None and other.parse_error is None
        assert other.input == weather.input  # the input itself is merged as ever
        if track:
            inputs = [e for e in events_seen if isinstance(e, MessageInputDelta)]
            typed = [e.parsed for e in inputs if e.index == 1]
            untyped = [e.parsed for e in inputs if e.index == 2]
            assert typed[-1] is weather.parsed_input
            # The other tool's deltas keep the plain partial parse (dicts, or None).
            assert all(p is None or type(p) is dict for p in untyped)


def test_no_types_no_parsed_values() -> None:
    message, events = _merge(TOOL_USE, "bytewise", True)
    for block in _blocks(message):
        if isinstance(block, ToolUseBlock):
            assert block.parsed_input is None and block.parse_error is None
        else:
            assert block.parsed_output is None and block.parse_error is None
    assert message.parsed_output is None and message.parse_error is None
    assert not [e for e in events if isinstance(e, ElementParsed)]
    assert all(e.parsed is UNSET for e in events if isinstance(e, MessageTextDelta))


@pytest.mark.parametrize("kind", KINDS)
def test_an_input_sent_whole_without_deltas_is_converted(kind: str) -> None:
    events = TOOL_USE.split(b"\n\n")
    data = b"\n\n".join(e for e in events if b"input_json_delta" not in e).replace(
        b'"input":{}', b'"input":{"location":"Paris","unit":"celsius"}'
    )
    _, tools = _types("messages-tool-use.sse", kind)
    for track in (False, True):
        message, _ = _merge(data, "random", track, tools=tools)
        block = _blocks(message)[1]
        assert block.parse_error is None
        assert block.parsed_input == _as(
            tools["get_weather"], {"location": "Paris", "unit": "celsius"}
        )
    # A whole input that does not validate says where.
    bad = data.replace(b'"celsius"', b'"kelvin"')
    message, _ = _merge(bad, tools=tools)
    block = _blocks(message)[1]
    assert block.parsed_input is None and block.parse_error is not None
    assert (block.parse_error.reason, block.parse_error.path) == ("invalid", "$.unit")


def test_a_server_tool_use_block_named_in_tools_is_parsed() -> None:
    data = TOOL_USE.replace(b'"type":"tool_use"', b'"type":"server_tool_use"')
    for track in (False, True):
        message, events = _merge(
            data, "bytewise", track, tools={"get_weather": T.WeatherLookupModel}
        )
        block = _blocks(message)[1]
        assert isinstance(block, ServerToolUseBlock)
        assert block.parsed_input == T.WeatherLookupModel(
            location="San Francisco, CA", unit="fahrenheit"
        )
        if track:
            last = [e.parsed for e in events if isinstance(e, MessageInputDelta)][-1]
            assert last is block.parsed_input


def test_a_tool_input_cut_short_is_incomplete_and_one_cut_by_max_tokens_is_max_tokens() -> None:
    cut = TOOL_USE[: TOOL_USE.index(b', \\"unit')]
    cut = cut[: cut.rindex(b"\n\n") + 2]
    tools = {"get_weather": T.WeatherLookupStruct}
    for track in (False, True):
        message, _ = _merge(cut, track=track, tools=tools)
        block = _blocks(message)[1]
        assert block.parsed_input is None and block.parse_error is not None
        assert block.parse_error.reason == "incomplete"
        assert block.partial_json == '{"location": "San Francisco, CA"'
    data = TOOL_USE.replace(b'"tool_use","stop_sequence"', b'"max_tokens","stop_sequence"')
    assert data != TOOL_USE
    message, _ = _merge(data, tools=tools)
    block = _blocks(message)[1]
    assert block.parse_error is not None and block.parse_error.reason == "max_tokens"


# -- live events ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Struct", "Model", "DC"])
def test_each_array_element_is_reported_once_in_order_after_its_delta(kind: str) -> None:
    tp = getattr(T, "CalendarEvent" + kind)
    people = ["Alice", "Bob \u00e9", "Carol", "Dan"]
    text = json.dumps({"name": "Fair", "date": "Friday", "participants": people})
    for seed in range(5):
        data = _text_stream(text, 12, seed=seed)
        message, events = _merge(data, "random", True, response_format=tp)
        assert message.parsed_output == _as(tp, json.loads(text))
        elements = [e for e in events if isinstance(e, ElementParsed)]
        assert [(e.path, e.index, e.value, e.error, e.block) for e in elements] == [
            ("$.participants", i, p, None, 0) for i, p in enumerate(people)
        ]
        for element in elements:
            before = events[events.index(element) - 1]
            assert isinstance(before, MessageTextDelta | ElementParsed)


def test_an_invalid_element_is_reported_with_its_index_and_never_dropped() -> None:
    steps = [
        {"n": 1, "text": "Boil", "minutes": 10},
        {"n": 2, "text": "Stir", "minutes": "ten"},
        {"n": 3, "text": "Serve", "minutes": 0.5},
    ]
    value = {
        "title": "Soup",
        "servings": 2,
        "difficulty": "easy",
        "steps": steps,
        "tags": ["hot"],
        "source": {"author": "Ann", "url": "https://example.com"},
    }
    data = _text_stream(json.dumps(value), 20)
    message, events = _merge(data, "bytewise", True, response_format=T.RecipeStruct)
    elements = [e for e in events if isinstance(e, ElementParsed) and e.path == "$.steps"]
    assert [e.index for e in elements] == [0, 1, 2]
    assert elements[0].value == T.StepStruct(1, "Boil", 10)
    assert elements[2].value == T.StepStruct(3, "Serve", 0.5)
    assert elements[1].value == steps[1] and elements[1].error is not None  # as plain JSON
    assert [e.error is None for e in elements] == [True, False, True]
    assert message.parsed_output is None and message.parse_error is not None
    assert (message.parse_error.reason, message.parse_error.path) == (
        "invalid",
        "$.steps[1].minutes",
    )


def test_track_without_types_leaves_the_deltas_as_they_were() -> None:
    acc = MessageAccumulator(track=True)
    acc.feed(TOOL_USE)
    inputs = [e for e in acc.take_events() if isinstance(e, MessageInputDelta)]
    assert inputs and all(e.parsed is None or type(e.parsed) is dict for e in inputs)


def test_not_a_type_is_a_type_error_at_once() -> None:
    with pytest.raises(TypeError):
        MessageAccumulator(tools=[T.WeatherLookupStruct])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        MessageAccumulator(tools={1: T.WeatherLookupStruct})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="cannot parse JSON into"):
        MessageAccumulator(response_format=T.DrawingDC)


# -- the Anthropic SDK ---------------------------------------------------------------------------


def test_the_anthropic_sdk_agrees_on_the_final_value() -> None:
    """The SDK's ``messages.stream(output_format=...)`` against the same bytes, served by the
    local replay server: the same ``parsed_output``; where the SDK raises mid-stream (a text cut
    by ``max_tokens``), chunkagg gives ``None`` and the reason."""
    anthropic = pytest.importorskip("anthropic")
    sse_server = pytest.importorskip("sse_server")
    from starlette.applications import Starlette

    streams = {
        "structured/json-output": JSON_OUTPUT,
        "structured/max-tokens": MAX_TOKENS,
        "structured/invalid": JSON_OUTPUT.replace(b'"text":"erprise"', b'"text":"erprize"'),
    }
    app = Starlette(routes=sse_server.replay_routes(("/v1/messages",), streams))
    with pytest.MonkeyPatch.context() as mp:
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            mp.delenv(variable, raising=False)
        with sse_server.serve(app) as url:
            client = anthropic.Anthropic(
                base_url=url, api_key="test", max_retries=0, timeout=sse_server.TIMEOUT
            )

            def theirs(model: str) -> Any:
                with client.messages.stream(
                    model=model,
                    max_tokens=1024,
                    messages=[{"role": "user", "content": "Hi"}],
                    output_format=T.ContactInfoModel,
                ) as stream:
                    return stream.get_final_message()

            peer = theirs("structured/json-output")
            ours, _ = _merge(JSON_OUTPUT, "random", True, response_format=T.ContactInfoModel)
            assert ours.parsed_output == peer.parsed_output
            assert ours.parsed_output == T.ContactInfoModel(
                name="José Álvarez",
                email="jose.alvarez@example.com",
                plan=T.Plan.ENTERPRISE,
                demo_requested=True,
            )
            assert [b.text for b in peer.content] == [b.text for b in _blocks(ours)]
            for model, reason in (
                ("structured/max-tokens", "max_tokens"),
                ("structured/invalid", "invalid"),
            ):
                with pytest.raises(pydantic.ValidationError):
                    theirs(model)
                ours, _ = _merge(streams[model], response_format=T.ContactInfoModel)
                assert ours.parsed_output is None and ours.parse_error is not None
                assert ours.parse_error.reason == reason
