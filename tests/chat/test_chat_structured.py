"""Structured outputs on chat completions: ``Accumulator(response_format=T, tools={...})``.

The streams are ``tests/synthetic/structured`` (their README cites each source: openai-python's
structured-output tests and OpenAI's docs), each merged whole, byte by byte and in random slices,
with each of the four kinds of type (msgspec Struct, pydantic model, dataclass, TypedDict),
tracked or not; openai-python's own ``ChatCompletionStreamState(response_format=...)`` is the
peer for the pydantic models.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import msgspec
import pytest
from helpers import SYNTHETIC, assert_grows, choice, chunk, snapshot_json, split_feeds, sse
from msgspec import UNSET
from synthetic.structured import types as T

import chunkagg

STRUCTURED = SYNTHETIC / "structured"
CHAT = sorted(name for name, (fmt, _, _) in T.FIXTURES.items() if fmt == "chat")
KINDS = ("Struct", "Model", "DC", "TD")


def _types(name: str, kind: str) -> tuple[Any, dict[str, Any]]:
    _, stem, tools = T.FIXTURES[name]
    rf = getattr(T, stem + kind) if stem else None
    return rf, {tool: getattr(T, s + kind) for tool, s in tools.items()}


def _supported(tp: Any) -> bool:
    try:
        chunkagg.Accumulator(response_format=tp)
    except TypeError:
        return False  # msgspec takes no union of several dataclasses or TypedDicts
    return True


def _expected(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        (STRUCTURED / name.replace(".sse", ".expected.json")).read_text()
    )
    return result


# msgspec takes no union of several dataclasses or TypedDicts (the tagged union's DC and TD:
# test_not_a_type_is_a_type_error_at_once checks they are refused at once).
CASES = [
    (name, kind)
    for name in CHAT
    for kind in KINDS
    if _types(name, kind)[0] is None or _supported(_types(name, kind)[0])
]


@pytest.mark.parametrize("split", ["whole", "bytewise", "random"])
@pytest.mark.parametrize(("name", "kind"), CASES)
def test_fixture_final_values(name: str, kind: str, split: str) -> None:
    rf, tools = _types(name, kind)
    data = (STRUCTURED / name).read_bytes()
    expected = _expected(name)
    for track in (False, True):
        acc = chunkagg.Accumulator(response_format=rf, tools=tools, track=track)
        last: dict[Any, Any] = {}
        for piece in split_feeds(data, split, random.Random(len(data))):
            acc.feed(piece)
            for event in acc.take_events() if track else ():
                if isinstance(event, chunkagg.ContentDelta):
                    last[event.choice] = event.parsed
                elif isinstance(event, chunkagg.ToolCallArgumentsDelta):
                    last[(event.choice, event.call)] = event.parsed
        completion = acc.finalize()
        plain = chunkagg.Accumulator()
        plain.feed(data)
        assert completion == plain.finalize()  # the server's object, unchanged
        for ch in completion.choices:
            message = ch.message
            want = expected["choices"].get(str(ch.index))
            if rf is None:
                assert message.parsed is None and message.parse_error is None
            elif want is None:
                assert message.parsed is None and message.parse_error is not None
                assert message.parse_error.reason == expected["reasons"][str(ch.index)]
            else:
                assert message.parse_error is None
                assert isinstance(message.parsed, dict if kind == "TD" else rf)
                if kind == "Model":
                    assert message.parsed == rf.model_validate(want)
                else:
                    assert message.parsed == msgspec.convert(want, rf)
                if track:
                    assert last[ch.index] is message.parsed  # the last partial is the value
            for j, call in enumerate(message.tool_calls or ()):
                calls = expected["tool_calls"][str(ch.index)]
                tp = tools.get(call.function.name or "")
                assert tp is not None
                value = call.function.parsed_arguments
                assert call.function.parse_error is None
                assert value == (
                    tp.model_validate(calls[j]["arguments"])
                    if kind == "Model"
                    else msgspec.convert(calls[j]["arguments"], tp)
                )
                if track:
                    assert last[(ch.index, j)] is value


@pytest.mark.parametrize(
    "name", ["chat-nested.sse", "chat-tagged-union.sse", "chat-strict-tools.sse"]
)
def test_partials_only_grow(name: str) -> None:
    rf, tools = _types(name, "Struct")
    data = (STRUCTURED / name).read_bytes()
    acc = chunkagg.Accumulator(response_format=rf, tools=tools, track=True)
    shown: dict[Any, list[Any]] = {}
    elements: list[tuple[Any, str, int]] = []
    for piece in split_feeds(data, "bytewise"):
        acc.feed(piece)
        for event in acc.take_events():
            if isinstance(event, chunkagg.ContentDelta | chunkagg.ToolCallArgumentsDelta):
                key = event.choice if isinstance(event, chunkagg.ContentDelta) else event.call
                if event.parsed is not UNSET and event.parsed is not None:
                    shown.setdefault(key, []).append(snapshot_json(event.parsed))
            elif isinstance(event, chunkagg.ElementParsed):
                assert event.error is None
                elements.append((event.call, event.path, event.index))
    acc.finalize()
    assert shown
    for values in shown.values():
        for before, after in itertools.pairwise(values):
            assert_grows(before, after)
    assert len(set(elements)) == len(elements)
    if name != "chat-strict-tools.sse":
        assert elements  # every fixture with content has arrays


def test_an_invalid_value_keeps_the_text_and_says_where() -> None:
    text = '{"city": "Paris", "temperature": "warm", "units": "c"}'
    data = sse(
        chunk(choice(0, content=text[:20])),
        chunk(choice(0, content=text[20:], finish_reason="stop")),
    )
    for track in (False, True):
        acc = chunkagg.Accumulator(response_format=T.WeatherStruct, track=track)
        acc.feed(data)
        message = acc.finalize().choices[0].message
        assert message.parsed is None and message.content == text
        assert message.parse_error == chunkagg.ParseFailure(
            reason="invalid",
            message="Expected `float`, got `str` - at `$.temperature`",
            path="$.temperature",
        )


def test_a_stream_cut_inside_the_json_is_incomplete_and_snapshot_never_raises() -> None:
    data = sse(chunk(choice(0, content='{"city": "Par')), done=False)
    acc = chunkagg.Accumulator(response_format=T.WeatherStruct, track=True)
    acc.feed(data)
    partial = acc.take_events()[0]
    assert isinstance(partial, chunkagg.ContentDelta) and partial.parsed.city == "Par"
    message = acc.snapshot().choices[0].message
    assert message.parsed is None and message.parse_error is not None
    assert message.parse_error.reason == "incomplete"


def test_a_call_of_a_function_not_named_in_tools_is_left_alone() -> None:
    args = '{"city": "Oslo", "units": "c"}'
    data = sse(
        chunk(
            choice(
                0,
                tool_calls=[
                    {
                        "index": 0,
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": args},
                    }
                ],
            )
        ),
        chunk(
            choice(
                0,
                tool_calls=[
                    {
                        "index": 1,
                        "id": "b",
                        "type": "function",
                        "function": {"name": "other", "arguments": args},
                    }
                ],
                finish_reason="tool_calls",
            )
        ),
    )
    acc = chunkagg.Accumulator(tools={"get_weather": T.GetWeatherStruct})
    acc.feed(data)
    first, second = acc.finalize().choices[0].message.tool_calls or []
    assert first.function.parsed_arguments == T.GetWeatherStruct(city="Oslo", units="c")
    assert second.function.parsed_arguments is None and second.function.parse_error is None


def test_openai_python_agrees_on_the_final_value() -> None:
    streaming = pytest.importorskip("openai.lib.streaming.chat")
    from openai.types.chat import ChatCompletionChunk

    for name in ("chat-response-format.sse", "chat-nested.sse", "chat-n2-one-refusal.sse"):
        rf, _ = _types(name, "Model")
        data = (STRUCTURED / name).read_bytes()
        state = streaming.ChatCompletionStreamState(response_format=rf)
        for payload in data.split(b"\n\n"):
            if payload.startswith(b"data: {"):
                state.handle_chunk(ChatCompletionChunk.model_validate_json(payload[6:]))
        theirs = state.get_final_completion()
        acc = chunkagg.Accumulator(response_format=rf)
        acc.feed(data)
        ours = acc.finalize()
        for mine, peer in zip(ours.choices, theirs.choices, strict=True):
            assert mine.message.parsed == peer.message.parsed, name


def test_not_a_type_is_a_type_error_at_once() -> None:
    with pytest.raises(TypeError):
        chunkagg.Accumulator(tools=[T.GetWeatherStruct])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        chunkagg.Accumulator(tools={1: T.GetWeatherStruct})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="cannot parse JSON into"):
        chunkagg.Accumulator(response_format=T.DrawingDC)
