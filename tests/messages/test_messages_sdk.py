"""The Anthropic Messages format from clients: ``add()`` with dicts, SSE event objects and the
Anthropic SDK's event objects; and over real sockets, the Anthropic SDK pointed at the local
server's ``/v1/messages`` (``tests/sse_server.py``, serving ``tests/synthetic/messages``): its
raw bytes (``messages.with_streaming_response.create(...).iter_bytes()``), ``accumulate`` and
``aaccumulate`` over the event objects of ``messages.create(stream=True)``, sync and async, and
its own ``messages.stream(...).get_final_message()`` (and the beta one) beside ours: it loses
exactly what the synthetic README's table says, and holds nothing ours lacks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import orjson
import pytest
from anthropic._models import construct_type
from anthropic._streaming import SSEDecoder
from anthropic.types import RawMessageStreamEvent
from anthropic.types.beta import BetaRawMessageStreamEvent
from messages_helpers import (
    CASES,
    MAKE,
    MANIFEST,
    Obj,
    add_all,
    events_of,
    expected,
    stream,
)
from sse_server import MESSAGES, TIMEOUT, replay_hint, request_seed

import chunkagg
from chunkagg import (
    AnthropicMessage,
    EmptyStreamError,
    MessageAccumulator,
    StreamError,
)

# What the Anthropic SDK's Stream never yields: a stream without event: lines (it skips every
# event without a name), and the events after an error (it raises APIStatusError there).
NO_EVENTS = "data_only"
ERROR = "error_event"


def _check_errors(name: str, errors: list[StreamError], where: str) -> None:
    assert len(errors) == (MANIFEST[name]["ending"] == "error"), where
    for error in errors:
        assert (error.message, error.type) == ("Overloaded", "overloaded_error"), where


# -- add(): what clients hand over ----------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_add_dicts_and_sse_event_objects(name: str) -> None:
    events = events_of(name)
    acc = MessageAccumulator()
    errors = add_all(acc, events)
    assert acc.finalize().to_dict() == expected(name)
    _check_errors(name, errors, name)
    for error in errors:
        assert (error.event, error.offset) == (MANIFEST[name]["error_event"], None)
    # SSE event objects: the Anthropic SDK's own (its SSEDecoder over the bytes), and dicts of
    # the shape httpx-sse and others give ({"event", "data"}).
    acc = MessageAccumulator()
    decoded = list(SSEDecoder().iter_bytes(iter([stream(name)])))
    assert len(decoded) == len(events)
    errors = add_all(acc, decoded)
    assert acc.finalize().to_dict() == expected(name)
    _check_errors(name, errors, name)
    acc = MessageAccumulator()
    wrapped = [{"event": e["type"], "data": orjson.dumps(e).decode()} for e in events]
    errors = add_all(acc, wrapped)
    assert acc.finalize().to_dict() == expected(name)
    _check_errors(name, errors, name)


@pytest.mark.parametrize("beta", [False, True], ids=["stable", "beta"])
@pytest.mark.parametrize("name", CASES)
def test_add_anthropic_sdk_event_objects(name: str, beta: bool) -> None:
    """Each event as the SDK's ``Stream`` yields it (``construct_type`` into
    ``RawMessageStreamEvent``, or the beta union; no validation, so a block or delta of a type
    it does not know still comes through): the message is exact, what the SDK's models do not
    declare included (``context_management``, the unknown types' fields)."""
    union: Any = BetaRawMessageStreamEvent if beta else RawMessageStreamEvent
    acc = MessageAccumulator()
    for event in events_of(name):
        if event["type"] in ("ping", "error"):
            continue  # the SDK's Stream skips the one and raises on the other
        acc.add(construct_type(type_=union, value=event))
    assert acc.finalize().to_dict() == expected(name)


def test_add_takes_a_message_event_and_refuses_what_is_not_one() -> None:
    acc = MessageAccumulator()
    for event in MessageAccumulator().feed(stream("thinking")):
        acc.add(event)
    assert acc.finalize().to_dict() == expected("thinking")
    acc = MessageAccumulator()
    with pytest.raises(TypeError):
        acc.add(b"data: {}")
    with pytest.raises(chunkagg.ChunkError) as caught:
        acc.add({"type": "content_block_delta", "index": "0", "delta": {"type": "text_delta"}})
    assert (caught.value.event, caught.value.offset) == (1, None)


# -- real sockets ---------------------------------------------------------------------------------


def _client(url: str, path: str = "") -> anthropic.Anthropic:
    """The Anthropic SDK pointed at the local server: no retries, bounded by ``TIMEOUT``."""
    return anthropic.Anthropic(base_url=url + path, api_key="test", max_retries=0, timeout=TIMEOUT)


def _async_client(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="test", max_retries=0, timeout=TIMEOUT)


def _request(name: str, seed: int) -> dict[str, Any]:
    return {
        "model": f"messages/{name}",
        "max_tokens": 1024,
        "messages": MESSAGES,
        "extra_body": {"seed": seed},
    }


@pytest.mark.parametrize("path", ["", "/v3/anthropic"], ids=["anthropic", "orq-router"])
@pytest.mark.parametrize("name", CASES)
def test_anthropic_sdk_raw_bytes(sse_url: str, name: str, path: str) -> None:
    seed = request_seed(name, "anthropic-raw" + path)
    where = replay_hint(name, "anthropic-raw" + path, seed)
    acc = MessageAccumulator()
    received: list[bytes] = []
    errors: list[StreamError] = []
    with (
        _client(sse_url, path) as client,
        client.messages.with_streaming_response.create(**_request(name, seed), stream=True) as resp,
    ):
        assert resp.headers["x-replay-seed"] == str(seed), where
        for data in resp.iter_bytes():
            received.append(data)
            try:
                acc.feed(data)
            except StreamError as exc:
                errors.append(exc)
    assert b"".join(received) == stream(name), where
    assert acc.finalize().to_dict() == expected(name), where
    _check_errors(name, errors, where)


@pytest.mark.parametrize("name", CASES)
def test_anthropic_sdk_raw_bytes_async(sse_url: str, name: str) -> None:
    seed = request_seed(name, "anthropic-raw-async")
    where = replay_hint(name, "anthropic-raw-async", seed)

    async def run() -> tuple[AnthropicMessage, list[StreamError]]:
        acc = MessageAccumulator()
        errors: list[StreamError] = []
        async with (
            _async_client(sse_url) as client,
            client.messages.with_streaming_response.create(
                **_request(name, seed), stream=True
            ) as resp,
        ):
            async for data in resp.iter_bytes():
                try:
                    acc.feed(data)
                except StreamError as exc:
                    errors.append(exc)
        return acc.finalize(), errors

    result, errors = asyncio.run(run())
    assert result.to_dict() == expected(name), where
    _check_errors(name, errors, where)


@pytest.mark.parametrize("auto", [False, True], ids=["MessageAccumulator", "AutoAccumulator"])
@pytest.mark.parametrize("name", CASES)
def test_accumulate_over_the_sdk_event_objects(sse_url: str, name: str, auto: bool) -> None:
    """``chunkagg.accumulate(client.messages.create(stream=True), accumulator=...)``, with a
    ``MessageAccumulator`` or an ``AutoAccumulator`` (told by the first event object): the
    message, exact. The SDK raises ``APIStatusError`` itself on the ``error`` event (what came
    before is in the accumulator), and yields nothing for a stream without ``event:`` lines."""
    seed = request_seed(name, f"anthropic-events-{auto}")
    where = replay_hint(name, f"anthropic-events-{auto}", seed)
    acc: Any = chunkagg.AutoAccumulator() if auto else MessageAccumulator()
    with _client(sse_url) as client:
        events = client.messages.create(**_request(name, seed), stream=True)
        if name == ERROR:
            with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
                chunkagg.accumulate(events, accumulator=acc)
            assert acc.finalize().to_dict() == expected(name), where
        elif name == NO_EVENTS:
            with pytest.raises(EmptyStreamError):
                chunkagg.accumulate(events, accumulator=acc)
        else:
            result = chunkagg.accumulate(events, accumulator=acc)
            assert result.to_dict() == expected(name), where
    if auto and name != NO_EVENTS:
        assert acc.api == "messages", where


@pytest.mark.parametrize("name", CASES)
def test_aaccumulate_over_the_async_sdk_event_objects(sse_url: str, name: str) -> None:
    seed = request_seed(name, "anthropic-events-async")
    where = replay_hint(name, "anthropic-events-async", seed)

    async def run(acc: MessageAccumulator) -> AnthropicMessage:
        async with _async_client(sse_url) as client:
            events = await client.messages.create(**_request(name, seed), stream=True)
            return await chunkagg.aaccumulate(events, accumulator=acc)

    acc = MessageAccumulator()
    if name == ERROR:
        with pytest.raises(anthropic.APIStatusError):
            asyncio.run(run(acc))
        assert acc.finalize().to_dict() == expected(name), where
    elif name == NO_EVENTS:
        with pytest.raises(EmptyStreamError):
            asyncio.run(run(acc))
    else:
        assert asyncio.run(run(acc)).to_dict() == expected(name), where


def _sdk_final(final: Any) -> Obj:
    result: Obj = final.to_dict(mode="json", warnings=False)
    return result


@pytest.mark.parametrize("beta", [False, True], ids=["stable", "beta"])
@pytest.mark.parametrize("name", [n for n in CASES if n not in (NO_EVENTS, ERROR)])
def test_the_sdk_stream_helper_beside_ours(sse_url: str, name: str, beta: bool) -> None:
    """``client.messages.stream(...)`` (or ``client.beta.messages.stream``): chunkagg ``add()``s
    every event it yields (its own ``text``, ``input_json``... events, each carrying a snapshot,
    included) and gives the exact message; the SDK's ``get_final_message()`` holds nothing ours
    lacks, and loses what the synthetic README's table says."""
    client_name = "anthropic-stream-beta" if beta else "anthropic-stream"
    seed = request_seed(name, client_name)
    where = replay_hint(name, client_name, seed)
    acc = MessageAccumulator()
    with _client(sse_url) as client:
        messages: Any = client.beta.messages if beta else client.messages
        with messages.stream(**_request(name, seed)) as helper:
            errors = add_all(acc, helper)
            final = _sdk_final(helper.get_final_message())
    assert errors == [], where
    ours = acc.finalize().to_dict()
    assert ours == expected(name), where
    mine, theirs = MAKE.canonical(ours), MAKE.canonical(final)
    assert MAKE.lost(theirs, mine, values=False) == [], where
    said = MANIFEST[name]["anthropic_sdk_beta" if beta else "anthropic_sdk"]
    assert MAKE.lost(mine, theirs) == said, where


@pytest.mark.parametrize("name", [ERROR, NO_EVENTS])
def test_where_the_sdk_stream_helper_has_no_final_message(sse_url: str, name: str) -> None:
    """The ``error`` event: the SDK raises ``APIStatusError`` (ours keeps the partial message
    and says where the error was). No ``event:`` lines: the SDK sees no event at all and
    ``get_final_message()`` fails (ours reads the bytes whole)."""
    seed = request_seed(name, "anthropic-stream")
    with _client(sse_url) as client, client.messages.stream(**_request(name, seed)) as helper:
        if name == ERROR:
            with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
                helper.get_final_message()
        else:
            with pytest.raises(AssertionError):
                helper.get_final_message()
    acc = MessageAccumulator()
    try:
        acc.feed(stream(name))
    except StreamError as exc:
        assert exc.event == MANIFEST[name]["error_event"]
    assert acc.finalize().to_dict() == expected(name)
