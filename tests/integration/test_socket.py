"""Every fixture, streamed over a real socket to every client, merges to its expected file.

The server (``sse_server.py``) replays each fixture from 127.0.0.1 with chunked transfer encoding,
in seeded random writes with short pauses. Clients: httpx (sync and async) through
``accumulate``/``aaccumulate`` and ``ChunkStream``/``AsyncChunkStream``; the openai SDK (sync and
async) pointed at the server with ``base_url``, both as raw bytes
(``with_streaming_response``) and as the SDK's own decoded ``ChatCompletionChunk`` models fed to
``accumulate`` or ``Accumulator.add`` (as models and as dicts).

Each request sends a ``seed`` that fixes the server's write plan; a failure message names it and
the base seed (``CHUNKAGG_SEED``) that reproduces it.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from helpers import canonical, fixture_pairs
from sse_server import (
    MESSAGES,
    TIMEOUT,
    async_openai_client,
    chat_body,
    default_seed,
    openai_client,
    replay_hint,
    request_seed,
    write_plan,
)

import chunkagg

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]


def _expected(path: Path) -> Any:
    return json.loads(path.read_bytes())


def _payloads(stream: bytes) -> list[bytes]:
    """The payload of every event of an LF-framed fixture, ``[DONE]`` left out.

    Events are split on blank lines and their ``data:`` lines joined, as SSE says, independently
    of chunkagg's framer.
    """
    out = []
    for event in stream.split(b"\n\n"):
        data = [line[5:].removeprefix(b" ") for line in event.split(b"\n") if line[:5] == b"data:"]
        if data and data != [b"[DONE]"]:
            out.append(b"\n".join(data))
    return out


def _check_headers(response: httpx.Response, name: str, seed: int, where: str) -> None:
    assert response.status_code == 200, where
    assert response.headers["content-type"].startswith("text/event-stream"), where
    assert response.headers["transfer-encoding"] == "chunked", where
    assert response.headers["x-replay-fixture"] == name, where
    assert response.headers["x-replay-seed"] == str(seed), where


def _tee(source: Iterable[bytes], into: list[bytes]) -> Iterator[bytes]:
    for data in source:
        into.append(data)
        yield data


async def _atee(source: AsyncIterable[bytes], into: list[bytes]) -> AsyncIterator[bytes]:
    async for data in source:
        into.append(data)
        yield data


def test_every_fixture_is_served() -> None:
    # The parametrisations below cover all 17 pairs of tests/fixtures/README.md.
    assert len(PAIRS) == 17


# -- the server itself ------------------------------------------------------------------------


def _read_chunked(sock: socket.socket) -> tuple[bytes, dict[str, str], list[bytes]]:
    """Read one ``Connection: close`` response; return its status line, headers and the chunks
    of its chunked body, as framed on the wire."""
    raw = bytearray()
    while data := sock.recv(65536):
        raw += data
    head, sep, rest = bytes(raw).partition(b"\r\n\r\n")
    assert sep, raw[:200]
    status, *lines = head.split(b"\r\n")
    headers = {}
    for line in lines:
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    chunks = []
    pos = 0
    while True:
        end = rest.index(b"\r\n", pos)
        size = int(rest[pos:end].split(b";")[0], 16)
        pos = end + 2
        if size == 0:
            break
        chunks.append(rest[pos : pos + size])
        assert rest[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2
    return status, headers, chunks


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_server_sends_fixture_in_planned_chunks(
    sse_url: str, name: str, stream: Path, expected: Path
) -> None:
    """The server really sends chunked transfer encoding, one HTTP chunk per planned write,
    and the bytes of the fixture unchanged: what every client test below relies on."""
    seed = request_seed(name, "raw")
    where = replay_hint(name, "raw", seed)
    parts = urlsplit(sse_url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port is not None
    body = json.dumps(chat_body(name, seed)).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        + f"Host: {parts.netloc}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        status, headers, chunks = _read_chunked(sock)
    data = stream.read_bytes()
    assert status == b"HTTP/1.1 200 OK", where
    assert headers["transfer-encoding"] == "chunked", where
    assert headers["content-type"].startswith("text/event-stream"), where
    assert b"".join(chunks) == data, where
    plan = write_plan(len(data), seed)
    assert [len(c) for c in chunks] == [n for n, _ in plan], where
    assert all(1 <= len(c) <= 4096 for c in chunks), where


def test_server_rejects_unknown_fixture(sse_url: str) -> None:
    response = httpx.post(
        f"{sse_url}/v1/chat/completions", json=chat_body("nope/nope", 1), trust_env=False
    )
    assert response.status_code == 404
    assert "nope/nope" in response.json()["error"]["message"]


def test_write_plan_is_seeded_and_mixed() -> None:
    plan = write_plan(200_000, 42)
    assert plan == write_plan(200_000, 42)
    assert plan != write_plan(200_000, 43)
    sizes = [n for n, _ in plan]
    assert sum(sizes) == 200_000
    assert min(sizes) == 1
    assert 4000 < max(sizes) <= 4096
    pauses = [p for _, p in plan if p]
    assert 0 < len(pauses) < len(plan)
    assert all(0 < p < 0.01 for p in pauses)


# -- httpx ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_httpx_sync(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "httpx-sync")
    where = replay_hint(name, "httpx-sync", seed)
    received: list[bytes] = []
    with (
        httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream("POST", "/v1/chat/completions", json=chat_body(name, seed)) as response,
    ):
        _check_headers(response, name, seed, where)
        completion = chunkagg.accumulate(_tee(response.iter_bytes(), received))
    assert b"".join(received) == stream.read_bytes(), where
    assert canonical(completion) == _expected(expected), where


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_httpx_async(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "httpx-async")
    where = replay_hint(name, "httpx-async", seed)
    received: list[bytes] = []

    async def run() -> chunkagg.ChatCompletion:
        async with (
            httpx.AsyncClient(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
            client.stream("POST", "/v1/chat/completions", json=chat_body(name, seed)) as response,
        ):
            _check_headers(response, name, seed, where)
            return await chunkagg.aaccumulate(_atee(response.aiter_bytes(), received))

    completion = asyncio.run(run())
    assert b"".join(received) == stream.read_bytes(), where
    assert canonical(completion) == _expected(expected), where


def _check_events(events: list[chunkagg.Event], completion: chunkagg.ChatCompletion) -> None:
    """The live-UI events tell the same story as the completion: content and refusal deltas
    join to the merged text, each tool call is done once with its merged arguments."""
    for choice in completion.choices:
        i = choice.index
        content = [
            e.delta for e in events if isinstance(e, chunkagg.ContentDelta) and e.choice == i
        ]
        refusal = [
            e.delta for e in events if isinstance(e, chunkagg.RefusalDelta) and e.choice == i
        ]
        assert "".join(content) == (choice.message.content or "")
        assert "".join(refusal) == (choice.message.refusal or "")
        done = [e for e in events if isinstance(e, chunkagg.ToolCallDone) and e.choice == i]
        calls = choice.message.tool_calls or []
        assert [(e.id, e.name, e.arguments) for e in done] == [
            (c.id, c.function.name, c.function.arguments) for c in calls
        ]
        assert all(e.valid and e.parsed == json.loads(e.arguments) for e in done)
        finished = [e for e in events if isinstance(e, chunkagg.ChoiceFinished) and e.choice == i]
        assert [e.finish_reason for e in finished][-1:] == (
            [choice.finish_reason] if choice.finish_reason else []
        )
    usage = [e.usage for e in events if isinstance(e, chunkagg.UsageReceived)]
    assert usage[-1:] == ([completion.usage] if completion.usage else [])


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_chunk_stream_httpx(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "chunkstream")
    where = replay_hint(name, "chunkstream", seed)
    events: list[chunkagg.Event] = []
    chunks: list[chunkagg.ResponseBody2] = []
    with (
        httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream("POST", "/v1/chat/completions", json=chat_body(name, seed)) as response,
    ):
        _check_headers(response, name, seed, where)
        wrapped = chunkagg.ChunkStream(response.iter_bytes(), track=True)
        assert wrapped.completion is None
        for chunk in wrapped:
            chunks.append(chunk)
            events.extend(wrapped.accumulator.take_events())
    events.extend(wrapped.accumulator.take_events())
    payloads = _payloads(stream.read_bytes())
    assert len(chunks) == len(payloads), where
    assert chunks == [chunkagg.decode_chunk(p) for p in payloads], where
    assert wrapped.accumulator.done, where
    assert wrapped.completion is not None, where
    assert canonical(wrapped.completion) == _expected(expected), where
    _check_events(events, wrapped.completion)


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_async_chunk_stream_httpx(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "asyncchunkstream")
    where = replay_hint(name, "asyncchunkstream", seed)
    events: list[chunkagg.Event] = []
    chunks: list[chunkagg.ResponseBody2] = []

    async def run() -> chunkagg.AsyncChunkStream[Any, Any]:
        async with (
            httpx.AsyncClient(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
            client.stream("POST", "/v1/chat/completions", json=chat_body(name, seed)) as response,
        ):
            _check_headers(response, name, seed, where)
            wrapped = chunkagg.AsyncChunkStream(response.aiter_bytes(), track=True)
            assert wrapped.completion is None
            async for chunk in wrapped:
                chunks.append(chunk)
                events.extend(wrapped.accumulator.take_events())
        return wrapped

    wrapped = asyncio.run(run())
    events.extend(wrapped.accumulator.take_events())
    payloads = _payloads(stream.read_bytes())
    assert len(chunks) == len(payloads), where
    assert chunks == [chunkagg.decode_chunk(p) for p in payloads], where
    assert wrapped.accumulator.done, where
    assert wrapped.completion is not None, where
    assert canonical(wrapped.completion) == _expected(expected), where
    _check_events(events, wrapped.completion)


# -- the openai SDK ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_openai_raw(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "openai-raw")
    where = replay_hint(name, "openai-raw", seed)
    received: list[bytes] = []
    with (
        openai_client(sse_url) as client,
        client.chat.completions.with_streaming_response.create(
            model=name, messages=MESSAGES, stream=True, seed=seed
        ) as response,
    ):
        assert response.headers["x-replay-seed"] == str(seed), where
        completion = chunkagg.accumulate(_tee(response.iter_bytes(), received))
    assert b"".join(received) == stream.read_bytes(), where
    assert canonical(completion) == _expected(expected), where


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_openai_raw_async(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = request_seed(name, "openai-raw-async")
    where = replay_hint(name, "openai-raw-async", seed)
    received: list[bytes] = []

    async def run() -> chunkagg.ChatCompletion:
        async with (
            async_openai_client(sse_url) as client,
            client.chat.completions.with_streaming_response.create(
                model=name, messages=MESSAGES, stream=True, seed=seed
            ) as response,
        ):
            assert response.headers["x-replay-seed"] == str(seed), where
            return await chunkagg.aaccumulate(_atee(response.iter_bytes(), received))

    completion = asyncio.run(run())
    assert b"".join(received) == stream.read_bytes(), where
    assert canonical(completion) == _expected(expected), where


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_openai_decoded_accumulate(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    """The SDK's own ``ChatCompletionChunk`` models, straight into ``accumulate``."""
    seed = request_seed(name, "openai-decoded")
    where = replay_hint(name, "openai-decoded", seed)
    with (
        openai_client(sse_url) as client,
        client.chat.completions.create(
            model=name, messages=MESSAGES, stream=True, seed=seed
        ) as chunks,
    ):
        completion = chunkagg.accumulate(chunks)
    assert canonical(completion) == _expected(expected), where


@pytest.mark.parametrize("form", ["model", "dict"])
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_openai_decoded_add(
    sse_url: str, name: str, stream: Path, expected: Path, form: str
) -> None:
    """``acc.add()`` for each chunk the SDK decoded, as the pydantic model or as its dict."""
    seed = request_seed(name, f"openai-add-{form}")
    where = replay_hint(name, f"openai-add-{form}", seed)
    acc = chunkagg.Accumulator()
    count = 0
    with (
        openai_client(sse_url) as client,
        client.chat.completions.create(
            model=name, messages=MESSAGES, stream=True, seed=seed
        ) as chunks,
    ):
        for chunk in chunks:
            added = acc.add(chunk if form == "model" else chunk.model_dump())
            assert added is not None and added.id == chunk.id, where
            count += 1
    assert count == len(_payloads(stream.read_bytes())), where
    assert acc.event_count == count, where
    assert canonical(acc.finalize()) == _expected(expected), where


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_openai_decoded_async(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    """The async SDK's decoded chunks into ``aaccumulate``."""
    seed = request_seed(name, "openai-decoded-async")
    where = replay_hint(name, "openai-decoded-async", seed)

    async def run() -> chunkagg.ChatCompletion:
        async with async_openai_client(sse_url) as client:
            chunks = await client.chat.completions.create(
                model=name, messages=MESSAGES, stream=True, seed=seed
            )
            async with chunks:
                return await chunkagg.aaccumulate(chunks)

    completion = asyncio.run(run())
    assert canonical(completion) == _expected(expected), where


# -- the Orq SDK, the seed's own client, pointed at the local server (server_url) -----------------

ORQ_PAIRS = [p for p in PAIRS if 'finish_reason":""' not in p[1].read_text()]


def _orq(url: str) -> Any:
    orq_ai_sdk = pytest.importorskip("orq_ai_sdk")
    return orq_ai_sdk.Orq(api_key="test", server_url=url)


@pytest.mark.parametrize("use", ["accumulate", "add", "chunk-stream"])
@pytest.mark.parametrize(("name", "stream", "expected"), ORQ_PAIRS, ids=[p[0] for p in ORQ_PAIRS])
def test_orq_sdk_stream_as_users_write_it(
    sse_url: str, name: str, stream: Path, expected: Path, use: str
) -> None:
    """``accumulate(stream)``, ``acc.add(event)``, ``ChunkStream(stream)`` on the Orq SDK's stream,
    whose items wrap each chunk under ``.data``: 0.1 read the wrapper as an empty chunk."""
    where = replay_hint(name, f"orq-{use}", default_seed(name))
    with _orq(sse_url) as orq:
        events = orq.router.chat.completions.create(model=name, messages=MESSAGES, stream=True)
        with events:
            if use == "accumulate":
                completion = chunkagg.accumulate(events)
            elif use == "add":
                acc = chunkagg.Accumulator()
                for event in events:
                    acc.add(event)
                completion = acc.finalize()
            else:
                chunk_stream = chunkagg.ChunkStream(events)
                forwarded = list(chunk_stream)
                assert len(forwarded) == len(_payloads(stream.read_bytes())), where
                assert chunk_stream.completion is not None
                completion = chunk_stream.completion
    assert canonical(completion) == _expected(expected), where


@pytest.mark.parametrize("use", ["aaccumulate", "async-chunk-stream"])
@pytest.mark.parametrize(
    ("name", "stream", "expected"), ORQ_PAIRS[:6], ids=[p[0] for p in ORQ_PAIRS[:6]]
)
def test_orq_sdk_async_stream(
    sse_url: str, name: str, stream: Path, expected: Path, use: str
) -> None:
    where = replay_hint(name, f"orq-{use}", default_seed(name))

    async def run() -> chunkagg.ChatCompletion:
        async with _orq(sse_url) as orq:
            events = await orq.router.chat.completions.create_async(
                model=name, messages=MESSAGES, stream=True
            )
            async with events:
                if use == "aaccumulate":
                    return await chunkagg.aaccumulate(events)
                chunk_stream = chunkagg.AsyncChunkStream(events)
                async for _ in chunk_stream:
                    pass
                assert chunk_stream.completion is not None
                return chunk_stream.completion

    assert canonical(asyncio.run(run())) == _expected(expected), where


def test_raw_bytes_from_the_orq_endpoint_have_no_sdk_limits(sse_url: str) -> None:
    """The README's recipe: httpx to the router's path, bytes straight into chunkagg."""
    name = PAIRS[0][0]
    with (
        httpx.Client(base_url=sse_url) as client,
        client.stream(
            "POST",
            "/v2/router/chat/completions",
            json={"model": name, "messages": MESSAGES, "stream": True},
            headers={"Authorization": "Bearer test", "Accept": "text/event-stream"},
        ) as response,
    ):
        completion = chunkagg.accumulate(response.iter_bytes())
    assert canonical(completion) == _expected(PAIRS[0][2])
