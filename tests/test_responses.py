"""The Responses API format: ``ResponseAccumulator`` on ``POST /v1/responses`` event streams.

1. The synthetic cases (``tests/synthetic/responses``, see its README) finalize to their expected
   files under every split, with and without ``event:`` lines, with and without ``[DONE]``, and as
   NDJSON; every prefix of every case to what ``make.py``'s reference accumulator builds.
2. The merge rules: restated values, disagreements, terminal events, unknown event types,
   unknown keys at every level, items and parts the stream never announced.
3. Errors: both ``error`` shapes, bad events (named by event and byte offset, dropped whole),
   limits.
4. ``add()`` with dicts, the openai SDK's event models and the Orq SDK's stream items.
5. Nothing a caller holds aliases the state; live events.
6. A mutation loop: hostile input gives only ``ChunkAggError``, located, the same for every
   split.
7. Real sockets: the openai SDK (raw bytes, decoded events, ``responses.stream()``, sync and
   async) and the Orq SDK against the local server's ``/v1/responses`` and
   ``/v3/router/responses``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import random
import re
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

import msgspec
import openai
import orjson
import pytest
from helpers import BASE_SEED, SPLIT_IDS, SPLITS, Split, canonical, split_feeds
from pydantic import TypeAdapter, ValidationError

from chunkagg import (
    AutoAccumulator,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
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
    Response,
    ResponseError,
    ResponseEvent,
    ResponseFinished,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningContent,
    ResponseReasoningItem,
    ResponseReasoningSummary,
    ResponseUsage,
)
from chunkagg._responses import DEFAULT_MAX_ITEMS, ResponseAccumulator

Obj = dict[str, Any]
HERE = Path(__file__).parent / "synthetic" / "responses"
MANIFEST: dict[str, Obj] = {
    entry["case"]: entry for entry in json.loads((HERE / "manifest.json").read_bytes())
}
CASES = sorted(MANIFEST)
TIMEOUT = 10.0


def _load_make() -> Any:
    # make.py's reference accumulator defines what a stream cut anywhere must build. Loaded by
    # path: the folder is a package only for pytest's and mypy's module names.
    spec = importlib.util.spec_from_file_location("responses_make", HERE / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MAKE = _load_make()


def _stream(name: str) -> bytes:
    return (HERE / f"{name}.sse").read_bytes()


def _expected(name: str) -> Obj:
    value: Obj = json.loads((HERE / f"{name}.expected.json").read_bytes())
    return value


def _events(name: str) -> list[Obj]:
    """The JSON of every event of a case, in order."""
    return [orjson.loads(p) for p in _payloads(_stream(name))]


def _payloads(body: bytes) -> list[bytes]:
    return [
        line[6:]
        for line in body.split(b"\n")
        if line.startswith(b"data: ") and line != b"data: [DONE]"
    ]


def _sse(events: Iterable[Obj], *, event_lines: bool = True, done: bool = False) -> bytes:
    """Events as OpenAI frames them (``event:`` then ``data:``), or data-only."""
    out = bytearray()
    for event in events:
        if event_lines:
            out += b"event: " + str(event.get("type")).encode() + b"\n"
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return bytes(out)


def _framed(name: str, event_lines: bool, done: bool) -> bytes:
    """A case's body with or without ``event:`` lines and ``[DONE]``, the payloads untouched."""
    body = re.sub(rb"(?m)^event: [^\n]*\n", b"", _stream(name)).replace(b"data: [DONE]\n\n", b"")
    if event_lines:
        body = re.sub(
            rb"(?m)^data: (\{\"type\":\"([^\"]*)\")",
            lambda m: b"event: " + m.group(2) + b"\ndata: " + m.group(1),
            body,
        )
    return body + (b"data: [DONE]\n\n" if done else b"")


def _feed(
    acc: ResponseAccumulator, data: bytes, split: Split | str = "whole"
) -> tuple[list[ResponseEvent], list[ChunkAggError]]:
    """Feed ``data`` in the pieces ``split`` asks for, going on after each error (``feed(b"")``
    resumes, as the contract says); return the events decoded and the errors, in order."""
    events: list[ResponseEvent] = []
    errors: list[ChunkAggError] = []
    for piece in split_feeds(data, split):
        chunk = piece
        while True:
            try:
                events.extend(acc.feed(chunk))
            except ChunkAggError as exc:
                errors.append(exc)
                events.extend(exc.chunks)
                chunk = b""
                continue
            break
    return events, errors


def _finalize(acc: ResponseAccumulator, errors: list[ChunkAggError]) -> Response:
    for _ in range(1000):
        try:
            return acc.finalize()
        except EmptyStreamError as exc:
            errors.append(exc)
            return acc.snapshot()
        except ChunkAggError as exc:
            errors.append(exc)
    raise AssertionError("finalize() raised 1000 times")


def _merge(data: bytes, split: Split | str = "whole", **options: Any) -> tuple[Obj, Any]:
    acc = ResponseAccumulator(**options)
    _, errors = _feed(acc, data, split)
    result = _finalize(acc, errors)
    return result.to_dict(), acc


# -- 1. the synthetic cases -------------------------------------------------------------------


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


# -- 2. the merge rules -------------------------------------------------------------------------


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


# -- 3. errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["error_event", "error_event_flat"])
@pytest.mark.parametrize("event_lines", [True, False])
def test_error_events_raise_with_the_servers_facts(name: str, event_lines: bool) -> None:
    body = _framed(name, event_lines, False)
    cut = body.index(b'"type":"error"') - len(b"data: {")
    acc = ResponseAccumulator()
    events = acc.feed(body[:cut])
    with pytest.raises(StreamError, match="The model produced invalid content") as caught:
        acc.feed(body[cut:])
    error = caught.value
    assert error.code == "server_error"
    assert error.message == "The model produced invalid content."
    assert error.event == 9
    start = body.rindex(b"event: error") if event_lines else body.rindex(b'data: {"type":"error"')
    assert error.offset == start
    assert f"event 9, byte offset {start}" in str(error)
    assert error.type == ("server_error" if name == "error_event" else "error")
    assert len(events) == 8
    assert acc.finalize().to_dict() == _expected(name)  # what merged before stays


@pytest.mark.parametrize("event_line", [False, True])
def test_bad_events_name_their_event_and_offset_and_the_stream_goes_on(event_line: bool) -> None:
    """A bad event between good ones, framed data-only or as OpenAI frames (then, when it ends
    with ``}``, inside a run the framer's fast path took whole)."""
    events = _events("plain_text")
    good = _sse(events[:4])
    bad_bodies = [
        b'data: {"type":"response.output_text.delta","delta":\n\n',  # malformed
        b'data: {"delta":"x"}\n\n',  # no type
        b'data: {"type":7}\n\n',  # a type that is no string
        b'data: {"type":"response.output_text.delta","output_index":0,"content_index":0,'
        b'"delta":5}\n\n',
        b'data: {"type":"response.output_text.delta","output_index":-1,"content_index":0,'
        b'"delta":"x"}\n\n',
        b'data: {"type":"response.output_item.added","output_index":0,"item":"x"}\n\n',
        b'data: {"type":"response.completed","response":{"id":5}}\n\n',
        b'data: {"type":"response.output_text.delta","delta":"x"}\n\n',  # no place at all
        b'data: {"type":"response.output_text.delta","output_index":0,"content_index":0,'
        b'"delta":"x","logprobs":{}}\n\n',
        b"data: [1, 2]\n\n",
    ]
    for bad in bad_bodies:
        framed = b"event: response.output_text.delta\n" + bad if event_line else bad
        body = good + framed + _sse(events[4:])
        for split in ("whole", "bytewise"):
            acc = ResponseAccumulator()
            _, errors = _feed(acc, body, split)
            (error,) = errors
            assert isinstance(error, ChunkError), bad
            assert (error.event, error.offset) == (5, len(good)), (bad, split)
            assert error.payload == bad[6:-2]
            assert acc.finalize().to_dict() == _expected("plain_text"), bad


def test_several_bad_events_in_one_run_each_located() -> None:
    events = _events("plain_text")
    bad = {**events[5], "delta": 5}
    mixed = [*events[:5], bad, *events[5:8], bad, bad, *events[8:]]
    body = _sse(mixed)
    for split in SPLITS:
        acc = ResponseAccumulator()
        _, errors = _feed(acc, body, split)
        assert [(e.event, e.offset) for e in errors] == [
            (k + 1, len(_sse(mixed[:k]))) for k in (5, 9, 10)
        ], split
        assert acc.finalize().to_dict() == _expected("plain_text")


def test_a_schema_that_widens_mid_run_keeps_every_check() -> None:
    """An event that carries a known field with another type (kept: its field is retyped
    ``Any`` for the rest of the stream) or an unknown key, in the middle of a run of deltas:
    later deltas still merge, and a mistyped one is still refused, by every path."""
    events = _events("plain_text")
    future = {"type": "response.future", "delta": {"x": 1}, "output_index": True}
    mixed = [
        *events[:6],
        future,  # event 7: delta and output_index are typed Any from here on
        events[6],
        {**events[7], "x_new": 1},  # an unknown key: one more widening
        {**events[7], "delta": 5},  # event 10: decodes now, refused by the merge
        *events[8:10],
        {**events[10], "output_index": True},  # event 13: refused
        *events[10:],
    ]
    body = _sse(mixed)
    live = []
    for split in SPLITS:
        for track in (False, True):
            acc = ResponseAccumulator(track=track)
            _, errors = _feed(acc, body, split)
            located = [(type(e).__name__, e.event) for e in errors]
            assert located == [("ChunkError", 10), ("ChunkError", 13)], (split, track)
            assert acc.finalize().to_dict() == _expected("plain_text"), (split, track)
            assert [e.to_dict() for e in acc.other_events] == [future]
            if track:
                live.append(acc.take_events())
    assert all(updates == live[0] for updates in live)


def test_indices_are_bounded_and_never_pad_a_list() -> None:
    events = _events("plain_text")
    for index, error in ((-1, ChunkError), (10**9, LimitExceededError), (1024, LimitExceededError)):
        for key in ("output_index", "content_index"):
            bad = {**events[5], key: index}
            acc = ResponseAccumulator()
            _, errors = _feed(acc, _sse([*events[:5], bad, *events[5:]]))
            (caught,) = errors
            assert isinstance(caught, error), (index, key)
            assert caught.event == 6
            if isinstance(caught, LimitExceededError):
                assert (caught.limit, caught.value) == ("max_items", DEFAULT_MAX_ITEMS)
            assert acc.finalize().to_dict() == _expected("plain_text")
    acc = ResponseAccumulator(max_items=2)
    _, errors = _feed(acc, _sse(_events("two_messages")))
    assert errors == []
    acc = ResponseAccumulator(max_items=1)
    _, errors = _feed(acc, _sse(_events("two_messages")))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)


def test_max_text_size_drops_every_event_that_adds_text_once_crossed() -> None:
    acc = ResponseAccumulator(max_text_size=20)
    _, errors = _feed(acc, _stream("plain_text"))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)
    assert all(e.limit == "max_text_size" for e in errors)  # type: ignore[attr-defined]
    # Restated values still arrive: the terminal response is the result.
    assert acc.finalize().to_dict() == _expected("plain_text")
    # cut: 26 characters of arguments, then text deltas. With 30, the first text delta crosses
    # the limit and is merged; every later one is dropped.
    acc = ResponseAccumulator(max_text_size=30)
    _, errors = _feed(acc, _stream("cut"))
    first = next(e for e in _events("cut") if e["type"] == "response.output_text.delta")
    assert len(errors) == 4
    assert acc.finalize().to_dict()["output"][1]["content"][0]["text"] == first["delta"]


def test_max_event_size() -> None:
    acc = ResponseAccumulator(max_event_size=1000)
    _, errors = _feed(acc, _stream("plain_text"))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)
    assert acc.finalize().output_text == _expected("plain_text")["output"][0]["content"][0]["text"]


def test_empty_cut_and_foreign_streams() -> None:
    with pytest.raises(EmptyStreamError):
        ResponseAccumulator().finalize()
    chat = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
    acc = ResponseAccumulator()
    with pytest.raises(ChunkError, match="include none that an event has"):
        acc.feed(chat)
    with pytest.raises(EmptyStreamError):
        acc.finalize()
    body = _stream("plain_text")
    acc = ResponseAccumulator()
    acc.feed(body[:-100])
    with pytest.raises(IncompleteStreamError):
        acc.finalize()
    assert acc.finalize().to_dict() == MAKE.accumulate(_events("plain_text")[:-1]).response


def test_options_are_checked() -> None:
    options: list[Obj] = [{"max_items": 0}, {"max_text_size": -1}, {"max_event_size": 0}]
    for option in options:
        with pytest.raises(ValueError):
            ResponseAccumulator(**option)
    with pytest.raises(RuntimeError, match="track=True"):
        ResponseAccumulator().take_events()
    with pytest.raises(TypeError):
        ResponseAccumulator().feed("data: {}")  # type: ignore[arg-type]


# -- 4. add() ---------------------------------------------------------------------------------


def _add_all(acc: ResponseAccumulator, items: Iterable[Any]) -> list[StreamError]:
    errors = []
    for item in items:
        try:
            acc.add(item)
        except StreamError as exc:
            errors.append(exc)
    return errors


@pytest.mark.parametrize("name", CASES)
def test_add_dicts_and_sse_event_objects(name: str) -> None:
    events = _events(name)
    acc = ResponseAccumulator()
    errors = _add_all(acc, events)
    assert acc.finalize().to_dict() == _expected(name)
    assert len(errors) == (MANIFEST[name]["ending"] == "error")
    for error in errors:
        assert (error.event, error.offset) == (MANIFEST[name]["events"], None)
        assert error.code == "server_error"
    # SSE event objects (httpx-sse's, the openai SDK's): "event: error" is the server's error.
    acc = ResponseAccumulator()
    wrapped = [{"event": e["type"], "data": json.dumps(e)} for e in events]
    assert len(_add_all(acc, wrapped)) == len(errors)
    assert acc.finalize().to_dict() == _expected(name)


_OPENAI_EVENT: TypeAdapter[Any] = TypeAdapter(openai.types.responses.ResponseStreamEvent)


@pytest.mark.parametrize("name", CASES)
def test_add_openai_sdk_event_models(name: str) -> None:
    """Each event parsed with the openai SDK's ``ResponseStreamEvent`` adapter; the nested
    ``error`` event, which the SDK's ``ResponseErrorEvent`` does not describe, as a dict."""
    acc = ResponseAccumulator()
    items: list[Any] = []
    for payload in _payloads(_stream(name)):
        try:
            items.append(_OPENAI_EVENT.validate_json(payload))
        except ValidationError:
            assert name == "error_event"
            items.append(orjson.loads(payload))
    _add_all(acc, items)
    # Exact: keys as the server sent them (exclude_unset, by alias), created_at an int again.
    assert acc.finalize().to_dict() == _expected(name)


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


def _orq_items(name: str) -> list[Any]:
    orq = pytest.importorskip("orq_ai_sdk")
    from orq_ai_sdk.utils import unmarshal_json

    items = []
    for payload in _payloads(_stream(name)):
        try:
            items.append(
                unmarshal_json(
                    json.dumps({"data": orjson.loads(payload)}),
                    orq.models.CreateRouterResponseResponsesResponseBody,
                )
            )
        except ValidationError:
            assert name == "error_event_flat"  # Orq's model requires the nested shape
            items.append({"data": payload.decode()})
    return items


@pytest.mark.parametrize("name", CASES)
def test_add_orq_sdk_stream_items(name: str) -> None:
    """The Orq SDK's stream items (the event under ``.data``). Its models drop null-valued keys
    they declare (``reasoning.effort``), so the result equals the expected file up to nulls."""
    acc = ResponseAccumulator()
    errors = _add_all(acc, _orq_items(name))
    assert canonical(acc.finalize().to_dict()) == canonical(_expected(name))
    for error in errors:
        assert (error.message, error.code) == (
            "The model produced invalid content.",
            "server_error",
        )


def test_add_takes_a_response_event_and_refuses_what_is_not_one() -> None:
    acc = ResponseAccumulator()
    for event in ResponseAccumulator().feed(_stream("plain_text")):
        acc.add(event)
    assert acc.finalize().to_dict() == _expected("plain_text")
    acc = ResponseAccumulator()
    with pytest.raises(TypeError):
        acc.add(b"data: {}")
    with pytest.raises(ChunkError, match="include none that an event has"):
        acc.add({"id": "chatcmpl", "choices": []})
    with pytest.raises(ChunkError) as caught:
        acc.add({"type": "response.output_text.delta", "output_index": "0", "delta": "x"})
    assert (caught.value.event, caught.value.offset) == (2, None)


# -- 5. aliasing, live events ---------------------------------------------------------------------


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


# -- 6. a mutation loop ------------------------------------------------------------------------


def _mutate(rng: random.Random, body: bytes) -> bytes:
    """One hostile variant of a valid stream."""
    data = bytearray(body)
    roll = rng.randrange(10)
    if roll == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif roll == 1:  # truncate anywhere
        del data[rng.randrange(len(data)) :]
    elif roll == 2:  # insert SSE tokens and line breaks
        for _ in range(rng.randint(1, 4)):
            token = rng.choice(
                [b"\n", b"\r", b"\r\n", b"event: error\n", b"data: [DONE]\n\n", b": c\n", b"\x00",
                 b"id: 7\n", b"data: {}\n\n", b"\xef\xbb\xbf", b'"', b"}", b"\xff"]
            )  # fmt: skip
            at = rng.randrange(len(data) + 1)
            data[at:at] = token
    elif roll in (3, 4):  # one field of one event given another value
        payloads = _payloads(body)
        k = rng.randrange(len(payloads))
        event = orjson.loads(payloads[k])
        paths = list(_paths(event))
        path = rng.choice(paths)
        value = rng.choice(
            [None, True, -1, 10**9, 1e300, "x", "", [], {}, [{"a": 1}], {"type": 1}, 2**70, -0.0]
        )
        _set(event, path, value)
        return body.replace(payloads[k], json.dumps(event, ensure_ascii=False).encode())
    elif roll == 5:  # events dropped, duplicated, swapped
        blocks = body.split(b"\n\n")
        for _ in range(rng.randint(1, 3)):
            i, j = rng.randrange(len(blocks)), rng.randrange(len(blocks))
            op = rng.randrange(3)
            if op == 0:
                del blocks[i]
            elif op == 1:
                blocks.insert(j, blocks[i])
            else:
                blocks[i], blocks[j] = blocks[j], blocks[i]
            if not blocks:
                break
        return b"\n\n".join(blocks)
    elif roll == 6:  # deep nesting and huge numbers in a payload
        bomb = rng.choice([b"[" * 5000 + b"]" * 5000, b"1e400", b"-" + b"9" * 5000, b'"\\ud800"'])
        return body.replace(b'"delta":"', b'"delta":' + bomb + b',"x":"', 1)
    elif roll == 7:  # invalid UTF-8 inside a string
        at = body.find(b'"delta":"')
        if at >= 0:
            data[at + 9 : at + 9] = rng.choice([b"\xc3", b"\xed\xa0\x80", b"\xff\xfe"])
    elif roll == 8:  # CRLF or CR line endings
        return body.replace(b"\n", rng.choice([b"\r\n", b"\r"]))
    else:  # splice two streams
        other = _stream(rng.choice(CASES))
        return bytes(data[: rng.randrange(len(data))]) + other[rng.randrange(len(other)) :]
    return bytes(data)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _outcome(data: bytes, split: Split | str, options: Obj) -> tuple[Any, ...]:
    acc = ResponseAccumulator(**options)
    events, errors = _feed(acc, data, split)
    result = _finalize(acc, errors)
    snapshot = acc.snapshot()
    try:
        again = acc.finalize()  # a second finalize() returns the result again
    except EmptyStreamError:
        again = acc.snapshot()
    assert again.to_dict() == result.to_dict()
    for error in errors:
        assert isinstance(error, ChunkAggError)
        if not isinstance(error, EmptyStreamError):
            assert error.event is not None and 1 <= error.event <= acc.event_count
            assert error.offset is not None and 0 <= error.offset <= len(data)
            assert f"event {error.event}, byte offset {error.offset}" in str(error)
    located = [(type(e).__name__, e.event, e.offset) for e in errors]
    updates = acc.take_events() if options.get("track") else []
    return (
        located,
        result.to_dict(),
        snapshot.to_dict(),
        [e.to_dict() for e in events],
        [d.path for d in acc.disagreements],
        len(updates),
    )


def test_hostile_streams_raise_only_located_chunkagg_errors_the_same_for_every_split() -> None:
    rng = random.Random(f"{BASE_SEED}/responses-mutations")
    for n in range(200):
        name = rng.choice(CASES)
        body = _framed(name, rng.random() < 0.7, rng.random() < 0.3)
        data = _mutate(rng, body)
        options: Obj = {"track": rng.random() < 0.3}
        if rng.random() < 0.2:
            options.update(
                max_event_size=rng.choice([1, 64, 600]),
                max_items=rng.choice([1, 2]),
                max_text_size=rng.choice([1, 30]),
            )
        where = f"input {n} ({name}) options={options}; replay with CHUNKAGG_SEED={BASE_SEED}"
        try:
            whole = _outcome(data, "whole", options)
            assert _outcome(data, Split("random", rng.randrange(1 << 30)), options) == whole
            if len(data) < 20_000:
                assert _outcome(data, "bytewise", options) == whole
        except ChunkAggError:
            raise
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc
        except Exception as exc:  # anything else escaping is the bug this test looks for
            raise AssertionError(f"{where}: {type(exc).__name__} escaped: {exc}") from exc


# -- 7. real sockets ----------------------------------------------------------------------------


def _seed(name: str, client: str) -> int:
    return zlib.crc32(f"{BASE_SEED}:{name}:{client}".encode())


def _where(name: str, client: str, seed: int) -> str:
    return f"{name} client={client} seed={seed}; replay with CHUNKAGG_SEED={BASE_SEED}"


def _openai(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)


def _async_openai(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)


def _check_sdk_errors(name: str, errors: list[StreamError], where: str) -> None:
    assert len(errors) == (MANIFEST[name]["ending"] == "error"), where
    for error in errors:
        assert error.message == "The model produced invalid content.", where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-raw")
    where = _where(name, "openai-raw", seed)
    acc = ResponseAccumulator()
    received: list[bytes] = []
    errors: list[StreamError] = []
    with (
        _openai(sse_url) as client,
        client.responses.with_streaming_response.create(
            model=f"responses/{name}", input="hi", stream=True, extra_body={"seed": seed}
        ) as response,
    ):
        assert response.headers["x-replay-seed"] == str(seed), where
        for data in response.iter_bytes():
            received.append(data)
            try:
                acc.feed(data)
            except StreamError as exc:
                errors.append(exc)
    assert b"".join(received) == _stream(name), where
    assert acc.finalize().to_dict() == _expected(name), where
    _check_sdk_errors(name, errors, where)


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes_async(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-raw-async")
    where = _where(name, "openai-raw-async", seed)

    async def run() -> tuple[Response, list[StreamError]]:
        acc = ResponseAccumulator()
        errors: list[StreamError] = []
        async with (
            _async_openai(sse_url) as client,
            client.responses.with_streaming_response.create(
                model=f"responses/{name}", input="hi", stream=True, extra_body={"seed": seed}
            ) as response,
        ):
            async for data in response.iter_bytes():
                try:
                    acc.feed(data)
                except StreamError as exc:
                    errors.append(exc)
        return acc.finalize(), errors

    result, errors = asyncio.run(run())
    assert result.to_dict() == _expected(name), where
    _check_sdk_errors(name, errors, where)


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_events(sse_url: str, name: str) -> None:
    """``add()`` for each event ``client.responses.create(stream=True)`` yields. The SDK itself
    raises ``APIError`` on the nested ``error`` event (its data has an ``error`` key)."""
    seed = _seed(name, "openai-events")
    where = _where(name, "openai-events", seed)
    acc = ResponseAccumulator()
    errors: list[StreamError] = []
    try:
        with _openai(sse_url) as client:
            stream = client.responses.create(
                model=f"responses/{name}", input="hi", stream=True, extra_body={"seed": seed}
            )
            with stream:
                errors = _add_all(acc, stream)
    except openai.APIError:
        assert name == "error_event", where
        errors = [StreamError("The model produced invalid content.")]
    assert acc.finalize().to_dict() == _expected(name), where
    _check_sdk_errors(name, errors, where)


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_events_async(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-events-async")
    where = _where(name, "openai-events-async", seed)

    async def run() -> Response:
        acc = ResponseAccumulator()
        async with _async_openai(sse_url) as client:
            stream = await client.responses.create(
                model=f"responses/{name}", input="hi", stream=True, extra_body={"seed": seed}
            )
            async with stream:
                async for event in stream:
                    with contextlib.suppress(StreamError):
                        acc.add(event)
        return acc.finalize()

    try:
        result = asyncio.run(run())
    except openai.APIError:
        assert name == "error_event", where
        return
    assert result.to_dict() == _expected(name), where


def _strip_parsed(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_parsed(v) for k, v in value.items() if k not in ("parsed", "parsed_arguments")
        }
    if isinstance(value, list):
        return [_strip_parsed(v) for v in value]
    return value


@pytest.mark.parametrize("name", [n for n in CASES if n != "error_event"])
def test_openai_sdk_responses_stream_helper(sse_url: str, name: str) -> None:
    """The events of ``client.responses.stream()``: the SDK's own accumulator re-emits them
    enriched (``snapshot`` on deltas, a ``ParsedResponse`` with ``parsed`` and
    ``parsed_arguments`` keys on the terminal event), and chunkagg merges them all: its result
    is the terminal response with the SDK's additions, and for the streams without
    ``response.completed`` (where ``get_final_response()`` raises) what the events built."""
    seed = _seed(name, "openai-stream")
    where = _where(name, "openai-stream", seed)
    acc = ResponseAccumulator()
    errors: list[StreamError] = []
    with (
        _openai(sse_url) as client,
        client.responses.stream(
            model=f"responses/{name}", input="hi", extra_body={"seed": seed}
        ) as stream,
    ):
        errors = _add_all(acc, stream)
    assert _strip_parsed(acc.finalize().to_dict()) == _expected(name), where
    _check_sdk_errors(name, errors, where)


@pytest.mark.parametrize("name", CASES)
def test_orq_sdk(sse_url: str, name: str) -> None:
    """``Orq(server_url=URL).responses.create(stream=True)`` (POST /v3/router/responses): each
    stream item holds the event under ``.data``; ``add()`` unwraps it. Orq's models drop
    null-valued keys they declare, and reject the flat ``error`` shape and unknown event types
    (``ResponseValidationError``, which ends its iteration)."""
    orq_ai_sdk = pytest.importorskip("orq_ai_sdk")
    acc = ResponseAccumulator()
    errors: list[StreamError] = []
    with orq_ai_sdk.Orq(api_key="test", server_url=sse_url) as orq:
        stream = orq.responses.create(model=f"responses/{name}", input="hi", stream=True)
        try:
            with stream:
                errors = _add_all(acc, stream)
        except orq_ai_sdk.models.ResponseValidationError:
            assert name == "error_event_flat", name
            errors = [StreamError("The model produced invalid content.")]
    assert canonical(acc.finalize().to_dict()) == canonical(_expected(name)), name
    _check_sdk_errors(name, errors, name)


@pytest.mark.parametrize("name", ["plain_text", "reasoning_summary", "error_event"])
def test_orq_sdk_async(sse_url: str, name: str) -> None:
    orq_ai_sdk = pytest.importorskip("orq_ai_sdk")

    async def run() -> Response:
        acc = ResponseAccumulator()
        async with orq_ai_sdk.Orq(api_key="test", server_url=sse_url) as orq:
            stream = await orq.responses.create_async(
                model=f"responses/{name}", input="hi", stream=True
            )
            async with stream:
                async for item in stream:
                    with contextlib.suppress(StreamError):
                        acc.add(item)
        return acc.finalize()

    assert canonical(asyncio.run(run()).to_dict()) == canonical(_expected(name))
