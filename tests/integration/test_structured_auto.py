"""``AutoAccumulator(response_format=..., tools=...)``: the types reach whichever format the
stream turns out to be, and mean there what they mean on that format's own accumulator."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import SYNTHETIC, split_feeds
from synthetic.structured import types as T

import chunkagg

STRUCTURED = SYNTHETIC / "structured"


def _value(result: Any) -> Any:
    if isinstance(result, chunkagg.ChatCompletion):
        return result.choices[0].message.parsed
    if isinstance(result, chunkagg.Response):
        return result.output_parsed
    return result.parsed_output


@pytest.mark.parametrize(
    ("name", "api", "tp"),
    [
        ("chat-response-format.sse", "chat", T.WeatherStruct),
        ("responses-text-format.sse", "responses", T.CalendarEventStruct),
        ("messages-json-output.sse", "messages", T.ContactInfoModel),
    ],
)
@pytest.mark.parametrize("track", [False, True])
def test_response_format_reaches_the_format_detected(
    name: str, api: str, tp: Any, track: bool
) -> None:
    data = (STRUCTURED / name).read_bytes()
    auto = chunkagg.AutoAccumulator(response_format=tp, track=track)
    for piece in split_feeds(data, "bytewise"):
        auto.feed(piece)
    result = auto.finalize()
    assert auto.api == api
    own: Any = {
        "chat": chunkagg.Accumulator,
        "responses": chunkagg.ResponseAccumulator,
        "messages": chunkagg.MessageAccumulator,
    }[api](response_format=tp)
    own.feed(data)
    expected = _value(own.finalize())
    assert isinstance(expected, tp)
    assert _value(result) == expected


def test_tools_reach_the_format_detected() -> None:
    data = (STRUCTURED / "messages-tool-use.sse").read_bytes()
    auto = chunkagg.AutoAccumulator(tools={"get_weather": T.WeatherLookupStruct})
    auto.feed(data)
    message = auto.finalize()
    assert isinstance(message, chunkagg.AnthropicMessage)
    inputs = [getattr(block, "parsed_input", None) for block in message.content or ()]
    assert T.WeatherLookupStruct(location="San Francisco, CA", unit="fahrenheit") in inputs


def test_a_type_chunkagg_cannot_parse_into_is_refused_at_once() -> None:
    with pytest.raises(TypeError, match="cannot parse JSON into"):
        chunkagg.AutoAccumulator(response_format=T.DrawingDC)
