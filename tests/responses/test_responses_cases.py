"""The Responses API format's synthetic cases (``tests/synthetic/responses``, see its README):
each finalizes to its expected file under every split, with and without ``event:`` lines, with
and without ``[DONE]``, and as NDJSON; every prefix of every case to what ``make.py``'s reference
accumulator builds; typed output; failed and incomplete responses are results; a whole
``response`` body (a server that ignored ``"stream": true``) is its own result.
"""

from __future__ import annotations

import msgspec
import openai
import orjson
import pytest
from helpers import SPLIT_IDS, SPLITS, Split, split_feeds
from responses_helpers import (
    CASES,
    MAKE,
    MANIFEST,
    _events,
    _expected,
    _feed,
    _framed,
    _merge,
    _payloads,
    _sse,
    _stream,
)

from chunkagg import (
    AutoAccumulator,
    ChunkError,
    EmptyStreamError,
    StreamError,
)
from chunkagg._responses import (
    Response,
    ResponseAccumulator,
    ResponseError,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningContent,
    ResponseReasoningItem,
    ResponseReasoningSummary,
    ResponseUsage,
)


def test_every_case_is_here() -> None:
    assert len(CASES) == 17
    assert {MANIFEST[name]["ending"] for name in CASES} == {
        "completed",
        "incomplete",
        "failed",
        "error",
        "cut",
    }


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(
    ("event_lines", "done"), [(True, False), (False, True), (True, True), (False, False)]
)
@pytest.mark.parametrize("name", CASES)
def test_case_merges(name: str, event_lines: bool, done: bool, split: Split) -> None:
    """Each case, in every framing and split, finalizes to its expected file exactly: for a
    stream with a terminal event, that event's ``response`` as sent."""
    where = f"{name} event_lines={event_lines} done={done} split={split}"
    entry = MANIFEST[name]
    acc = ResponseAccumulator()
    events, errors = _feed(acc, _framed(name, event_lines, done), split)
    result = acc.finalize()
    assert result.to_dict() == _expected(name), where
    assert msgspec.json.decode(result.to_json()) == _expected(name), where
    assert len(events) == entry["events"] - (entry["ending"] == "error"), where
    assert acc.event_count == entry["events"] + done, where
    assert acc.done is done, where
    if entry["ending"] == "error":
        (error,) = errors
        assert isinstance(error, StreamError), where
        assert error.message == "The model produced invalid content.", where
        assert (error.code, error.event) == ("server_error", entry["events"]), where
    else:
        assert errors == [], where
    terminal = {"completed", "incomplete", "failed"}
    ending = entry["ending"]
    assert acc.terminal == (f"response.{ending}" if ending in terminal else None), where
    if ending == "failed":
        assert [d.path for d in acc.disagreements] == ["output"], where
    else:
        assert acc.disagreements == [], where
    assert acc.other_events == [], where


@pytest.mark.parametrize("name", CASES)
def test_case_as_ndjson(name: str) -> None:
    body = b"".join(p + b"\n" for p in _payloads(_stream(name)))
    for split in ("whole", "bytewise"):
        result, _ = _merge(body, split)
        assert result == _expected(name), (name, split)


@pytest.mark.parametrize("name", CASES)
def test_every_prefix_builds_what_the_reference_builds(name: str) -> None:
    """A stream cut after any event finalizes to what ``make.py``'s ``accumulate`` builds from
    the events that arrived (its rule is the README's "What expected means"), except one rule
    of chunkagg's own: ``response.web_search_call.<status>`` sets that item's status."""
    events = _events(name)
    for k in range(1, len(events) + 1):
        got, acc = _merge(_sse(events[:k]))
        want = MAKE.accumulate(events[:k]).response
        for event in events[:k]:
            if event["type"].startswith("response.web_search_call."):
                item = want["output"][event["output_index"]] if acc.terminal is None else None
                if item is not None and item["status"] != "completed":
                    item["status"] = event["type"].rsplit(".", 1)[1]
        assert got == want, (name, k, events[k - 1]["type"])


def test_reasoning_text_and_summary_land_where_a_response_holds_them() -> None:
    result = ResponseAccumulator()
    result.feed(_stream("reasoning_text"))
    item = result.finalize().output[0]  # type: ignore[index]
    assert isinstance(item, ResponseReasoningItem)
    assert isinstance(item.content, list) and isinstance(item.content[0], ResponseReasoningContent)
    acc = ResponseAccumulator()
    acc.feed(_stream("reasoning_summary"))
    response = acc.finalize()
    reasoning = response.output[0]  # type: ignore[index]
    assert isinstance(reasoning, ResponseReasoningItem)
    assert isinstance(reasoning.summary, list)
    assert all(isinstance(part, ResponseReasoningSummary) for part in reasoning.summary)
    assert response.output_text == _expected("reasoning_summary")["output"][1]["content"][0]["text"]


def test_typed_output() -> None:
    acc = ResponseAccumulator()
    acc.feed(_stream("annotations"))
    response = acc.finalize()
    assert isinstance(response, Response)
    assert response.status == "completed" and response.object == "response"
    assert isinstance(response.usage, ResponseUsage) and response.usage.output_tokens == 48
    search, message = response.output  # type: ignore[misc]
    assert isinstance(search, dict) and search["type"] == "web_search_call"  # kept as sent
    assert isinstance(message, ResponseOutputMessage)
    (part,) = message.content  # type: ignore[misc]
    assert isinstance(part, ResponseOutputText)
    assert [a["url"] for a in part.annotations] == [  # type: ignore[union-attr]
        "https://docs.python.org/3/whatsnew/3.13.html?utm_source=openai",
        "https://peps.python.org/pep-0703/?utm_source=openai",
    ]
    assert response.extra["frequency_penalty"] == 0.0  # a key Response does not declare
    acc = ResponseAccumulator()
    acc.feed(_stream("function_call"))
    (call,) = acc.finalize().output  # type: ignore[misc]
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.arguments == _expected("function_call")["output"][0]["arguments"]
    acc = ResponseAccumulator()
    acc.feed(_stream("refusal"))
    (refused,) = acc.finalize().output  # type: ignore[misc]
    assert isinstance(refused, ResponseOutputMessage) and isinstance(refused.content, list)
    assert isinstance(refused.content[0], ResponseOutputRefusal)


def test_failed_and_incomplete_are_results() -> None:
    acc = ResponseAccumulator()
    acc.feed(_stream("failed"))
    failed = acc.finalize()
    assert failed.status == "failed" and acc.terminal == "response.failed"
    assert isinstance(failed.error, ResponseError) and failed.error.code == "server_error"
    assert failed.output == [] and failed.usage is None
    # The text streamed before the failure is not in the terminal response: reported.
    (disagreement,) = acc.disagreements
    assert disagreement.path == "output" and disagreement.sent == []
    streamed = "".join(
        e["delta"] for e in _events("failed") if e["type"] == "response.output_text.delta"
    )
    assert disagreement.streamed[0]["content"][0]["text"] == streamed
    assert disagreement.source == "response.failed" and disagreement.event == 8
    acc = ResponseAccumulator()
    acc.feed(_stream("incomplete"))
    incomplete = acc.finalize()
    assert incomplete.status == "incomplete"
    assert incomplete.incomplete_details == {"reason": "max_output_tokens"}
    assert incomplete.output[0].status == "incomplete"  # type: ignore[index, union-attr]


# -- a whole response body ------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("layout", ["pretty", "compact"])
def test_a_whole_response_body_is_its_own_result(name: str, layout: str) -> None:
    """A server that ignored ``"stream": true`` (or a cached, or a polled response) sends the
    ``response`` object whole: fed (whole and byte by byte, to this accumulator or the automatic
    one) or added (a dict, the openai SDK's ``Response`` model), it is the result, exact."""
    want = _expected(name)
    body = orjson.dumps(want, option=orjson.OPT_INDENT_2 if layout == "pretty" else 0)
    for split in ("whole", "bytewise"):
        result, acc = _merge(body, split)
        assert result == want, (name, split)
        assert acc.disagreements == []
        auto = AutoAccumulator()
        for piece in split_feeds(body, split):
            auto.feed(piece)
        assert auto.finalize().to_dict() == want
        assert auto.api == "responses"
    added = ResponseAccumulator()
    added.add(orjson.loads(body))
    assert added.finalize().to_dict() == want
    model = openai.types.responses.Response.model_validate(want)
    from_model = ResponseAccumulator()
    from_model.add(model)
    assert from_model.finalize().to_dict() == want


def test_a_json_object_that_is_no_response_is_still_an_error() -> None:
    for body in (b'{"object": "list", "data": []}', b'{"id": "resp_1", "status": "completed"}'):
        acc = ResponseAccumulator()
        acc.feed(body)  # one line without its newline: judged at the end
        with pytest.raises(ChunkError, match="event 1, byte offset 0"):
            acc.finalize()
        with pytest.raises(EmptyStreamError):
            acc.finalize()
