"""The legacy completions format from clients: ``add()`` with dicts, SSE event objects, the
openai SDK's ``Completion`` models and the Orq SDK's float-typed numbers; and over real sockets,
the openai SDK (sync and async, raw bytes and decoded chunks) against the local server's
``/v1/completions``, the Orq SDK, which cannot read these streams, and the raw-bytes recipe that
can.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import orjson
import pytest
from completions_helpers import CASES, _expected, _stream, choice, chunk
from helpers import canonical, data_payloads
from openai._models import construct_type
from openai.types import Completion
from sse_server import TIMEOUT, async_openai_client, openai_client, replay_hint, request_seed

from chunkagg import ChunkError, StreamError
from chunkagg._completions import (
    CompletionAccumulator,
    CompletionChunk,
    TextCompletion,
    decode_completion_chunk,
)

# -- add(): what clients hand over ----------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_add_dicts_and_sse_event_objects(name: str) -> None:
    payloads = data_payloads(_stream(name))
    for wrap in ("dict", "event", "struct"):
        acc = CompletionAccumulator()
        for payload in payloads:
            if wrap == "dict":
                added = acc.add(orjson.loads(payload))
            elif wrap == "event":
                added = acc.add({"data": payload.decode(), "event": "message"})
            else:
                added = acc.add(decode_completion_chunk(payload))
            assert isinstance(added, CompletionChunk)
        assert acc.add({"data": "[DONE]"}) is None and acc.done
        assert canonical(acc.finalize()) == canonical(_expected(name)), (name, wrap)


@pytest.mark.parametrize("name", CASES)
def test_add_openai_completion_models(name: str) -> None:
    # The openai SDK's stream builds each chunk as a Completion with construct_type (no
    # validation: finish_reason is null until a choice ends), exactly as here.
    acc = CompletionAccumulator()
    for payload in data_payloads(_stream(name)):
        model = construct_type(type_=Completion, value=orjson.loads(payload))
        assert isinstance(model, Completion)
        acc.add(model)
    assert canonical(acc.finalize()) == canonical(_expected(name))


def test_add_takes_the_orq_sdks_float_numbers_back_as_ints() -> None:
    acc = CompletionAccumulator()
    acc.add(
        chunk(
            choice(cast(Any, 1.0), "a"),
            created=1767225600.0,
            usage={"prompt_tokens": 3.0, "completion_tokens": 1.0, "total_tokens": 4.0},
        )
    )
    completion = acc.finalize()
    assert completion.choices[0].index == 1
    assert type(completion.created) is int
    assert completion.usage is not None and type(completion.usage.total_tokens) is int


def test_add_errors_name_the_chunk_and_no_offset() -> None:
    acc = CompletionAccumulator()
    acc.add(chunk(choice(0, "a")))
    with pytest.raises(ChunkError) as info:
        acc.add(chunk(choice(-1, "x")))
    assert (info.value.event, info.value.offset) == (2, None)
    with pytest.raises(StreamError):
        acc.add({"data": '{"error":{"message":"no"}}', "event": "error"})
    with pytest.raises(ChunkError):
        acc.add({"choices": [{"index": 0, "text": {"deep": [[[[[]]]]]}}]})
    with pytest.raises(TypeError):
        acc.add(b"data: {}")
    assert acc.finalize().choices[0].text == "a"


# -- real sockets ---------------------------------------------------------------------------------


MODELS = [f"completions/{name}" for name in CASES]


def test_the_server_serves_every_case(sse_url: str) -> None:
    for model in MODELS:
        with httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client:
            body = b"".join(
                client.post(
                    "/v1/completions", json={"model": model, "prompt": "p", "stream": True}
                ).iter_bytes()
            )
        assert body == _stream(model.split("/")[1])
    missing = httpx.post(
        f"{sse_url}/v1/completions", json={"model": "nope", "stream": True}, trust_env=False
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes(sse_url: str, name: str) -> None:
    seed = request_seed(name, "openai-raw")
    where = replay_hint(name, "openai-raw", seed)
    acc = CompletionAccumulator()
    received: list[bytes] = []
    with (
        openai_client(sse_url) as client,
        client.completions.with_streaming_response.create(
            model=f"completions/{name}", prompt="p", stream=True, seed=seed
        ) as response,
    ):
        assert response.headers["x-replay-seed"] == str(seed), where
        for data in response.iter_bytes():
            received.append(data)
            acc.feed(data)
    assert b"".join(received) == _stream(name), where
    assert canonical(acc.finalize()) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes_async(sse_url: str, name: str) -> None:
    seed = request_seed(name, "openai-raw-async")
    where = replay_hint(name, "openai-raw-async", seed)

    async def run() -> TextCompletion:
        acc = CompletionAccumulator()
        async with (
            async_openai_client(sse_url) as client,
            client.completions.with_streaming_response.create(
                model=f"completions/{name}", prompt="p", stream=True, seed=seed
            ) as response,
        ):
            async for data in response.iter_bytes():
                acc.feed(data)
        return acc.finalize()

    assert canonical(asyncio.run(run())) == canonical(_expected(name)), where


@pytest.mark.parametrize("form", ["model", "dict"])
@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_chunks(sse_url: str, name: str, form: str) -> None:
    """``add()`` for each ``Completion`` the SDK decoded, as the model or as its dict."""
    seed = request_seed(name, f"openai-add-{form}")
    where = replay_hint(name, f"openai-add-{form}", seed)
    acc = CompletionAccumulator()
    count = 0
    with (
        openai_client(sse_url) as client,
        client.completions.create(
            model=f"completions/{name}", prompt="p", stream=True, seed=seed
        ) as stream,
    ):
        for item in stream:
            assert isinstance(item, Completion), where
            added = acc.add(item if form == "model" else item.model_dump())
            assert added is not None and added.id == item.id, where
            count += 1
    assert count == acc.event_count == len(data_payloads(_stream(name))), where
    assert canonical(acc.finalize()) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_chunks_async(sse_url: str, name: str) -> None:
    seed = request_seed(name, "openai-add-async")
    where = replay_hint(name, "openai-add-async", seed)

    async def run() -> TextCompletion:
        acc = CompletionAccumulator()
        async with async_openai_client(sse_url) as client:
            stream = await client.completions.create(
                model=f"completions/{name}", prompt="p", stream=True, seed=seed
            )
            async with stream:
                async for item in stream:
                    acc.add(item)
        return acc.finalize()

    assert canonical(asyncio.run(run())) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_orq_sdk_cannot_read_a_standard_stream(sse_url: str, name: str) -> None:
    """orq-ai-sdk 4.17's legacy completions stream requires ``finish_reason`` to be one of
    stop/length/content_filter/tool_calls on every chunk: the first chunk (``null``, as every
    server sends it) raises ``ResponseValidationError`` inside the SDK, before any chunk reaches
    chunkagg. The recipe that works is the next test's: raw bytes from the same path."""
    orq_ai_sdk = pytest.importorskip("orq_ai_sdk")
    acc = CompletionAccumulator()
    with (
        orq_ai_sdk.Orq(api_key="test", server_url=sse_url) as orq,
        pytest.raises(orq_ai_sdk.models.ResponseValidationError, match="finish_reason"),
    ):
        stream = orq.router.completions.create(model=f"completions/{name}", prompt="p", stream=True)
        with stream:
            for event in stream:
                acc.add(event)
    assert acc.event_count == 0


@pytest.mark.parametrize("name", CASES)
def test_raw_bytes_from_the_orq_completions_path(sse_url: str, name: str) -> None:
    """The recipe for Orq's ``/v2/router/completions``: httpx, bytes straight into chunkagg."""
    acc = CompletionAccumulator()
    with (
        httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream(
            "POST",
            "/v2/router/completions",
            json={"model": f"completions/{name}", "prompt": "p", "stream": True},
            headers={"Authorization": "Bearer test", "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for data in response.iter_bytes():
            acc.feed(data)
    assert canonical(acc.finalize()) == canonical(_expected(name))
