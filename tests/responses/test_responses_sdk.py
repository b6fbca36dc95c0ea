"""The Responses API format from clients: ``add()`` with dicts, SSE event objects, the openai
SDK's event models and the Orq SDK's stream items; and over real sockets, the openai SDK (raw
bytes, decoded events, ``responses.stream()``, sync and async) and the Orq SDK against the local
server's ``/v1/responses`` and ``/v3/router/responses``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import openai
import orjson
import pytest
from helpers import canonical
from pydantic import TypeAdapter, ValidationError
from responses_helpers import (
    CASES,
    MANIFEST,
    _add_all,
    _events,
    _expected,
    _payloads,
    _stream,
)
from sse_server import async_openai_client, openai_client, replay_hint, request_seed

from chunkagg import (
    ChunkError,
    StreamError,
)
from chunkagg._responses import (
    Response,
    ResponseAccumulator,
)

# -- add(): what clients hand over ----------------------------------------------------------------


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


# -- real sockets ---------------------------------------------------------------------------------


def _check_sdk_errors(name: str, errors: list[StreamError], where: str) -> None:
    assert len(errors) == (MANIFEST[name]["ending"] == "error"), where
    for error in errors:
        assert error.message == "The model produced invalid content.", where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes(sse_url: str, name: str) -> None:
    seed = request_seed(name, "openai-raw")
    where = replay_hint(name, "openai-raw", seed)
    acc = ResponseAccumulator()
    received: list[bytes] = []
    errors: list[StreamError] = []
    with (
        openai_client(sse_url) as client,
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
    seed = request_seed(name, "openai-raw-async")
    where = replay_hint(name, "openai-raw-async", seed)

    async def run() -> tuple[Response, list[StreamError]]:
        acc = ResponseAccumulator()
        errors: list[StreamError] = []
        async with (
            async_openai_client(sse_url) as client,
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
    seed = request_seed(name, "openai-events")
    where = replay_hint(name, "openai-events", seed)
    acc = ResponseAccumulator()
    errors: list[StreamError] = []
    try:
        with openai_client(sse_url) as client:
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
    seed = request_seed(name, "openai-events-async")
    where = replay_hint(name, "openai-events-async", seed)

    async def run() -> Response:
        acc = ResponseAccumulator()
        async with async_openai_client(sse_url) as client:
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
    seed = request_seed(name, "openai-stream")
    where = replay_hint(name, "openai-stream", seed)
    acc = ResponseAccumulator()
    errors: list[StreamError] = []
    with (
        openai_client(sse_url) as client,
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
