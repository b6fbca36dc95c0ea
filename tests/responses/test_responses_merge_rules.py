"""The Responses API format's merge rules: restated values, disagreements, terminal events,
unknown event types, unknown keys at every level, items and parts the stream never announced;
nothing a caller holds aliases the state; live events.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable
from typing import Any, cast

import msgspec
import pytest
from helpers import split_feeds
from responses_helpers import (
    CASES,
    MAKE,
    Obj,
    _events,
    _expected,
    _feed,
    _merge,
    _sse,
    _stream,
)

from chunkagg import (
    ChunkError,
    StreamError,
)
from chunkagg._responses import (
    Disagreement,
    FunctionCallArgumentsDelta,
    FunctionCallDone,
    OutputAnnotationAdded,
    OutputItemDone,
    OutputReasoningDelta,
    OutputRefusalDelta,
    OutputTextDelta,
    ResponseAccumulator,
    ResponseFinished,
    ResponseUsage,
)

# -- the merge rules ------------------------------------------------------------------------------


def _with(events: list[Obj], kind: str, change: Callable[[Obj], None], nth: int = 1) -> list[Obj]:
    """A deep copy of ``events`` with the ``nth`` event of type ``kind`` changed in place."""
    out = json.loads(json.dumps(events))
    seen = 0
    for event in out:
        if event["type"] == kind:
            seen += 1
            if seen == nth:
                change(event)
                return cast(list[Obj], out)
    raise AssertionError(f"no {kind} number {nth}")


def test_a_restated_text_that_disagrees_is_reported_and_kept() -> None:
    events = _with(
        _events("plain_text"), "response.output_text.done", lambda e: e.update(text="Other.")
    )
    acc = ResponseAccumulator(track=True)
    _feed(acc, _sse(events), "bytewise")
    result = acc.finalize()
    assert result == acc.snapshot()
    text = _expected("plain_text")["output"][0]["content"][0]["text"]
    first, *rest = acc.disagreements
    assert first.path == "output[0].content[0].text"
    assert (first.streamed, first.sent) == (text, "Other.")
    assert first.source == "response.output_text.done"
    assert first.event == next(
        i + 1 for i, e in enumerate(events) if e["type"] == "response.output_text.done"
    )
    assert "output[0].content[0].text was built as 'The Responses API" in str(first)
    # content_part.done restates the first text again, which contradicts "Other." and replaces
    # it: output_item.done and the terminal response then agree with what was built.
    assert [(d.path, d.source) for d in rest] == [
        ("output[0].content[0].text", "response.content_part.done")
    ]
    # The terminal response wins.
    assert result.to_dict() == _expected("plain_text")
    live = [e for e in acc.take_events() if isinstance(e, Disagreement)]
    assert live == acc.disagreements
    assert msgspec.json.decode(msgspec.json.encode(first))["type"] == "Disagreement"


def test_arguments_restated_and_a_terminal_that_contradicts_the_deltas() -> None:
    events = _with(
        _events("function_call"),
        "response.function_call_arguments.done",
        lambda e: e.update(arguments='{"city":"Lyon"}'),
    )
    events = _with(
        events,
        "response.completed",
        lambda e: e["response"]["output"][0].update(arguments='{"city":"Nice"}', name="x"),
    )
    result, acc = _merge(_sse(events))
    paths = [(d.path, d.source) for d in acc.disagreements]
    assert paths == [
        ("output[0].arguments", "response.function_call_arguments.done"),
        ("output[0].arguments", "response.output_item.done"),
        ("output[0].arguments", "response.completed"),
        ("output[0].name", "response.completed"),
    ]
    assert result["output"][0]["arguments"] == '{"city":"Nice"}'


def test_the_name_restated_with_the_arguments_is_kept_and_compared() -> None:
    """openai-python's ``ResponseFunctionCallArgumentsDoneEvent`` carries the call's ``name``:
    a stream cut right after it, whose ``output_item.added`` lacked the name, still gives it;
    a name that contradicts the announced one is reported, and the restated one kept."""
    events = _events("function_call")
    cut = next(
        i for i, e in enumerate(events) if e["type"] == "response.function_call_arguments.done"
    )
    events = _with(events, "response.output_item.added", lambda e: e["item"].pop("name"))
    named = _with(
        events, "response.function_call_arguments.done", lambda e: e.update(name="get_weather")
    )
    result, acc = _merge(_sse(named[: cut + 1]))
    assert result["output"][0]["name"] == "get_weather"
    assert acc.disagreements == []

    renamed = _with(
        _events("function_call"),
        "response.function_call_arguments.done",
        lambda e: e.update(name="other"),
    )
    result, acc = _merge(_sse(renamed[: cut + 1]))
    assert result["output"][0]["name"] == "other"
    [disagreement] = acc.disagreements
    assert (disagreement.path, disagreement.sent) == ("output[0].name", "other")


def test_a_terminal_for_another_response_is_reported() -> None:
    events = _with(
        _events("plain_text"), "response.completed", lambda e: e["response"].update(id="resp_x")
    )
    result, acc = _merge(_sse(events))
    (disagreement,) = acc.disagreements
    assert (disagreement.path, disagreement.sent) == ("id", "resp_x")
    assert result["id"] == "resp_x"


def test_a_terminal_without_output_takes_the_built_items() -> None:
    for output in ("missing", None):

        def drop(event: Obj, output: Any = output) -> None:
            if output == "missing":
                del event["response"]["output"]
            else:
                event["response"]["output"] = output

        result, acc = _merge(_sse(_with(_events("function_call"), "response.completed", drop)))
        assert result == _expected("function_call"), output
        assert acc.disagreements == []


def test_unknown_event_types_are_kept_and_never_an_error() -> None:
    events = _events("plain_text")
    strangers: list[Obj] = [
        {"type": "response.rate_limits.updated", "rate_limits": [{"name": "requests"}]},
        {"type": "response.audio.delta", "delta": "AAAA", "sequence_number": 3},
        {"type": "response.image_generation_call.partial_image", "partial_image_b64": "x"},
        # Known field names with other types, in an event type nobody knows: kept as sent.
        {"type": "response.future", "output_index": "zero", "delta": {"a": 1}, "item": [1]},
    ]
    mixed = events[:3] + strangers[:3] + events[3:] + strangers[3:]
    for event_lines in (True, False):
        for split in ("whole", "bytewise"):
            acc = ResponseAccumulator()
            _, errors = _feed(acc, _sse(mixed, event_lines=event_lines), split)
            assert errors == []
            assert acc.finalize().to_dict() == _expected("plain_text")
            kept = [e.to_dict() for e in acc.other_events]
            assert kept == strangers, (event_lines, split)
    assert acc.other_events[0].extra == {"rate_limits": [{"name": "requests"}]}


def test_events_after_the_terminal_are_errors_and_change_nothing() -> None:
    """The terminal event's response is the result: a known event after it (more text, a new
    function call, a second terminal event) is a ChunkError at its own event number, merged
    nowhere and reported live nowhere (a UI must not run a call the result does not hold); an
    unknown event type after it is kept in other_events, as anywhere."""
    events = _events("plain_text")
    n = len(events)
    late = [
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "x"},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {"id": "fc", "type": "function_call", "name": "rm", "arguments": "{}"},
        },
        {**json.loads(json.dumps(events[-1])), "type": "response.incomplete"},
        {"type": "response.future_event", "note": "kept"},
    ]
    late[2]["response"]["status"] = "incomplete"
    for split in ("whole", "bytewise"):
        acc = ResponseAccumulator(track=True)
        _, errors = _feed(acc, _sse([*events, *late]), split)
        assert [type(e) for e in errors] == [ChunkError] * 3, split
        assert [e.event for e in errors] == [n + 1, n + 2, n + 3]
        assert all(
            "after the stream's terminal event (response.completed)" in str(e) for e in errors
        )
        assert acc.finalize().to_dict() == _expected("plain_text")
        assert acc.terminal == "response.completed"
        assert [e.type for e in acc.other_events] == ["response.future_event"]
        updates = acc.take_events()
        assert not any(isinstance(u, FunctionCallDone) for u in updates)
        assert [u.delta for u in updates if isinstance(u, OutputTextDelta)][-1] != "x"


def test_an_announcement_after_the_deltas_keeps_what_streamed() -> None:
    """``output_item.added`` or ``content_part.added`` sent late (after deltas for its place)
    or twice (after some deltas): the text that streamed stays in the result, whole and byte
    by byte; only a contradicting announced key is a disagreement."""
    events = _events("plain_text")
    kinds = [e["type"] for e in events]
    added = kinds.index("response.output_item.added")
    part = kinds.index("response.content_part.added")
    first_delta = kinds.index("response.output_text.delta")
    cut = kinds.index("response.output_text.done")  # no restatement: only the deltas tell
    text = "".join(e["delta"] for e in events[:cut] if e["type"] == "response.output_text.delta")
    late = [*events[:added], *events[part + 1 : first_delta + 3], events[added], events[part]]
    late += events[first_delta + 3 : cut]
    twice = [
        *events[: first_delta + 3],
        events[added],
        events[part],
        *events[first_delta + 3 : cut],
    ]
    for name, stream in (("late", late), ("twice", twice)):
        for split in ("whole", "bytewise"):
            result, acc = _merge(_sse(stream), split)
            assert result["output"][0]["content"][0]["text"] == text, (name, split)
            assert acc.disagreements == [], (name, split)
    other = json.loads(json.dumps(events[added]))
    other["item"]["role"] = "user"
    result, acc = _merge(_sse([*events[: first_delta + 3], other, *events[first_delta + 3 : cut]]))
    assert result["output"][0]["content"][0]["text"] == text
    assert [(d.path, d.sent) for d in acc.disagreements] == [("output[0].role", "user")]


def test_a_second_response_with_another_id_is_a_disagreement() -> None:
    events = _events("plain_text")
    other = json.loads(json.dumps(events[1]))
    assert other["type"] == "response.in_progress"
    other["response"]["id"] = "resp_other"
    result, acc = _merge(_sse([events[0], other]))
    [disagreement] = acc.disagreements
    assert (disagreement.path, disagreement.sent, disagreement.source) == (
        "id",
        "resp_other",
        "response.in_progress",
    )
    assert result["id"] == "resp_other"


def _add_keys(event: Obj) -> Obj:
    """``event`` with an unknown key at each level it has."""
    event = cast(Obj, json.loads(json.dumps(event)))
    event["x_event"] = {"n": 1}
    for key in ("item", "part", "annotation"):
        if isinstance(event.get(key), dict):
            event[key]["x_" + key] = [key]
    response = event.get("response")
    if isinstance(response, dict):
        response["x_response"] = None
        if isinstance(response.get("usage"), dict):
            response["usage"]["x_usage"] = 7
            response["usage"]["input_tokens_details"]["x_details"] = 8
        for item in response.get("output") or []:
            item["x_item"] = ["item"]
            for part in item.get("content", []):
                part["x_part"] = ["part"]
                for annotation in part.get("annotations", []):
                    annotation["x_annotation"] = ["annotation"]
    return event


@pytest.mark.parametrize("name", ["annotations", "reasoning_summary", "cut", "function_call"])
def test_unknown_keys_at_every_level_are_kept(name: str) -> None:
    events = [_add_keys(e) for e in _events(name)]
    acc = ResponseAccumulator()
    decoded, errors = _feed(acc, _sse(events), "bytewise")
    assert errors == []
    assert all(e.extra["x_event"] == {"n": 1} for e in decoded)
    assert [e.to_dict() for e in decoded] == events  # re-encoded, an event says what it said
    result = acc.finalize()
    want = MAKE.accumulate(events).response
    assert result.to_dict() == want
    assert result.extra["x_response"] is None
    for typed in result.output or []:
        if not isinstance(typed, dict):
            assert typed.extra["x_item"] == ["item"]
    if name != "cut":
        assert isinstance(result.usage, ResponseUsage) and result.usage.extra == {"x_usage": 7}


def test_an_item_or_part_never_announced_holds_what_its_events_say() -> None:
    """Deltas for items and parts whose ``added`` events were lost (or never sent) start them
    with the id and the type their events imply, and nothing else."""
    created = _events("plain_text")[0]
    stream = _sse(
        [
            created,
            {"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
             "content_index": 0, "delta": "Hi"},
            {"type": "response.function_call_arguments.delta", "item_id": "f",
             "output_index": 1, "delta": "{}"},
            {"type": "response.reasoning_summary_text.delta", "item_id": "r",
             "output_index": 2, "summary_index": 0, "delta": "hm"},
            {"type": "response.refusal.delta", "item_id": "m", "output_index": 0,
             "content_index": 1, "delta": "no"},
        ]
    )  # fmt: skip
    result, _ = _merge(stream)
    assert result["output"] == [
        {
            "id": "m",
            "type": "message",
            "content": [
                {"type": "output_text", "text": "Hi"},
                {"type": "refusal", "refusal": "no"},
            ],
        },
        {"id": "f", "type": "function_call", "arguments": "{}"},
        {"id": "r", "type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
    ]
    assert result["status"] == "in_progress"


def test_events_addressed_by_item_id_or_without_a_content_index() -> None:
    events = _events("plain_text")
    for event in events:
        if event["type"] == "response.output_text.delta":
            del event["output_index"]
            del event["content_index"]
    result, _ = _merge(_sse(events[:-1]))
    assert result == MAKE.accumulate(_events("plain_text")[:-1]).response


def test_an_empty_item_announcement_is_skipped() -> None:
    events = _events("function_call")
    events.insert(2, {"type": "response.output_item.added", "output_index": 5, "item": None})
    result, acc = _merge(_sse(events))
    assert result == _expected("function_call") and acc.other_events == []


def test_orq_reasoning_events_are_reasoning_text() -> None:
    renamed = [
        {**e, "type": e["type"].replace("reasoning_text", "reasoning")}
        for e in _events("reasoning_text")[:-1]
    ]
    result, acc = _merge(_sse(renamed))
    assert result == MAKE.accumulate(_events("reasoning_text")[:-1]).response
    assert acc.other_events == []


def test_built_in_tool_progress_sets_the_item_status() -> None:
    events = _events("annotations")
    at = [e["type"] for e in events].index("response.web_search_call.searching")
    result, _ = _merge(_sse(events[: at + 1]))
    assert result["output"][0]["status"] == "searching"


def test_obfuscation_is_kept_on_the_event_and_not_merged() -> None:
    acc = ResponseAccumulator()
    events = acc.feed(_stream("obfuscation"))
    assert sum(e.obfuscation is not None for e in events) > 10
    assert "obfuscation" not in json.dumps(acc.finalize().to_dict())


def test_snapshot_mid_stream_leaves_the_state_unchanged() -> None:
    body = _stream("reasoning_summary")
    acc = ResponseAccumulator()
    for i in range(0, len(body), 97):
        acc.feed(body[i : i + 97])
        first = acc.snapshot().to_dict()
        assert acc.snapshot().to_dict() == first
    assert acc.finalize().to_dict() == _expected("reasoning_summary")


# -- aliasing, live events ------------------------------------------------------------------------


def test_nothing_a_caller_holds_aliases_the_state() -> None:
    body = _stream("annotations")
    acc = ResponseAccumulator(track=True)
    added: list[Obj] = []
    for event in ResponseAccumulator().feed(body):
        item = event.to_dict()
        added.append(item)
        acc.add(item)
        for key in ("item", "part", "annotation", "response"):
            value = getattr(event, key)
            if isinstance(value, dict):
                value.clear()
        if item.get("response"):
            item["response"]["output"] = "changed"
        if item.get("item"):
            item["item"]["id"] = "changed"
        snapshot = acc.snapshot().to_dict()
        snapshot.clear()
        for update in acc.take_events():
            for value in msgspec.structs.astuple(update):
                if isinstance(value, dict | list):
                    value.clear()
        for disagreement in acc.disagreements:
            disagreement.streamed.clear()
    assert acc.finalize().to_dict() == _expected("annotations")
    assert acc.disagreements == []


def _updates(name: str, split: str = "whole") -> list[Any]:
    acc = ResponseAccumulator(track=True)
    updates: list[Any] = []
    for piece in split_feeds(_stream(name), split, random.Random(1)):
        with contextlib.suppress(StreamError):
            acc.feed(piece)
        updates += acc.take_events()
    acc.finalize()
    return updates + acc.take_events()


@pytest.mark.parametrize("name", CASES)
def test_live_events_are_the_same_for_every_split(name: str) -> None:
    whole = _updates(name)
    assert _updates(name, "bytewise") == whole
    assert _updates(name, "random") == whole


def test_live_events_tell_the_story() -> None:
    updates = _updates("plain_text")
    text = _expected("plain_text")["output"][0]["content"][0]["text"]
    deltas = [u for u in updates if isinstance(u, OutputTextDelta)]
    assert "".join(d.delta for d in deltas) == text
    assert {(d.output_index, d.content_index) for d in deltas} == {(0, 0)}
    assert isinstance(updates[-1], ResponseFinished) and updates[-1].status == "completed"
    assert sum(isinstance(u, OutputItemDone) for u in updates) == 1
    assert msgspec.json.decode(msgspec.json.encode(deltas[0]))["type"] == "OutputTextDelta"

    updates = _updates("function_call")
    arguments = [u for u in updates if isinstance(u, FunctionCallArgumentsDelta)]
    call = _expected("function_call")["output"][0]
    assert "".join(a.delta for a in arguments) == call["arguments"]
    assert arguments[-1].parsed is None or isinstance(arguments[-1].parsed, dict)
    (done,) = [u for u in updates if isinstance(u, FunctionCallDone)]
    assert (done.valid, done.name) == (True, "get_weather")
    assert done.parsed == json.loads(call["arguments"])
    assert done.call_id == _expected("function_call")["output"][0]["call_id"]

    reasoning = [u for u in _updates("reasoning_summary") if isinstance(u, OutputReasoningDelta)]
    assert {u.field for u in reasoning} == {"summary"} and {u.index for u in reasoning} == {0, 1}
    reasoning = [u for u in _updates("reasoning_text") if isinstance(u, OutputReasoningDelta)]
    assert {u.field for u in reasoning} == {"content"}
    refusal = [u for u in _updates("refusal") if isinstance(u, OutputRefusalDelta)]
    assert "".join(u.delta for u in refusal) == "I'm sorry, but I can't help with that request."
    annotations = [u for u in _updates("annotations") if isinstance(u, OutputAnnotationAdded)]
    assert [(a.output_index, a.annotation_index) for a in annotations] == [(1, 0), (1, 1)]
    failed = _updates("failed")
    assert isinstance(failed[-1], ResponseFinished) and failed[-1].status == "failed"
    assert failed[-1].error == {
        "code": "server_error",
        "message": "The server had an error processing your request. Sorry about that!",
    }
    # A stream cut before its call is done: the call is reported done at the end, as it stands.
    cut = _updates("cut")
    assert [u.arguments for u in cut if isinstance(u, FunctionCallDone)] == [
        '{"city":"Oslo","unit":"c"}'
    ]
