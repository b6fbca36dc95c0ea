"""``examples/proxy.py`` in front of the local SSE server: the client gets exactly the upstream
bytes, and the proxy reports the merged completion, equal to the fixture's expected file.

The proxy runs two ways: in-process through httpx's ASGI transport (its upstream client given),
and under uvicorn on its own loopback socket (its lifespan opening the upstream client).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from helpers import BASE_SEED, canonical, choice, chunk, fixture_pairs, sse
from sse_server import create_app as create_sse_app
from sse_server import serve
from starlette.applications import Starlette

import chunkagg

PROXY_PATH = Path(__file__).parent.parent / "examples" / "proxy.py"
PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]
MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]
TIMEOUT = 10.0


def _load_proxy() -> Any:
    spec = importlib.util.spec_from_file_location("chunkagg_example_proxy", PROXY_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


proxy = _load_proxy()
create_proxy: Callable[..., Starlette] = proxy.create_app


class Reports:
    """What the proxy's hooks received, in order (the hooks may run on the server's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completions: list[chunkagg.ChatCompletion] = []
        self.errors: list[tuple[chunkagg.ChunkAggError, chunkagg.ChatCompletion]] = []

    def on_completion(self, completion: chunkagg.ChatCompletion) -> None:
        with self.lock:
            self.completions.append(completion)

    def on_error(self, error: chunkagg.ChunkAggError, partial: chunkagg.ChatCompletion) -> None:
        with self.lock:
            self.errors.append((error, partial))

    def clear(self) -> None:
        with self.lock:
            self.completions.clear()
            self.errors.clear()


def _seed(name: str, mode: str) -> int:
    return zlib.crc32(f"{BASE_SEED}:{name}:{mode}".encode())


def _where(name: str, mode: str, seed: int) -> str:
    return f"{name} proxy={mode} seed={seed}; replay with CHUNKAGG_SEED={BASE_SEED}"


def _body(name: str, seed: int) -> dict[str, Any]:
    return {"model": name, "messages": MESSAGES, "stream": True, "seed": seed}


async def _post_through_asgi(
    upstream: str, reports: Reports | None, body: dict[str, Any], **hooks: Any
) -> tuple[httpx.Response, bytes]:
    """POST ``body`` to a proxy of ``upstream`` run in-process; return the response and body."""
    async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as upstream_client:
        if reports is not None:
            hooks = {"on_completion": reports.on_completion, "on_error": reports.on_error}
        app = create_proxy(upstream + "/v1", client=upstream_client, **hooks)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://proxy") as client,
            client.stream("POST", "/v1/chat/completions", json=body) as response,
        ):
            data = b"".join([piece async for piece in response.aiter_bytes()])
    return response, data


def _post_through_socket(url: str, body: dict[str, Any]) -> tuple[httpx.Response, bytes]:
    with (
        httpx.Client(base_url=url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        data = b"".join(response.iter_bytes())
    return response, data


@pytest.fixture(scope="module")
def socket_proxy(sse_url: str) -> Iterator[tuple[str, Reports]]:
    """The proxy under uvicorn on loopback, in front of the session's SSE server."""
    reports = Reports()
    app = create_proxy(
        sse_url + "/v1", on_completion=reports.on_completion, on_error=reports.on_error
    )
    with serve(app) as url:
        yield url, reports


# -- every fixture through the proxy ----------------------------------------------------------


def _check(
    where: str, response: httpx.Response, data: bytes, stream: Path, expected: Path, r: Reports
) -> None:
    assert response.status_code == 200, where
    assert response.headers["content-type"].startswith("text/event-stream"), where
    # The upstream's own headers come through (the seed the SSE server used).
    assert "x-replay-seed" in response.headers, where
    # Exactly the upstream bytes: the SSE server sends the fixture unchanged
    # (test_socket.py::test_server_sends_fixture_in_planned_chunks).
    assert data == stream.read_bytes(), where
    # The hook runs before the relay's body ends, so it has run by the time the client has read
    # the whole body.
    assert r.errors == [], where
    assert len(r.completions) == 1, where
    assert canonical(r.completions[0]) == json.loads(expected.read_bytes()), where


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_proxy_asgi(sse_url: str, name: str, stream: Path, expected: Path) -> None:
    seed = _seed(name, "asgi")
    reports = Reports()
    response, data = asyncio.run(_post_through_asgi(sse_url, reports, _body(name, seed)))
    _check(_where(name, "asgi", seed), response, data, stream, expected, reports)


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_proxy_socket(
    socket_proxy: tuple[str, Reports], name: str, stream: Path, expected: Path
) -> None:
    url, reports = socket_proxy
    reports.clear()
    seed = _seed(name, "socket")
    response, data = _post_through_socket(url, _body(name, seed))
    assert response.headers["transfer-encoding"] == "chunked"
    _check(_where(name, "socket", seed), response, data, stream, expected, reports)


def test_proxy_default_hook_logs_the_completion(
    sse_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    name, stream, expected = next(p for p in PAIRS if p[0] == "openai-python/a491adda08c3")
    caplog.set_level(logging.INFO, logger="chunkagg.proxy")
    response, data = asyncio.run(_post_through_asgi(sse_url, None, _body(name, 7)))
    assert response.status_code == 200
    assert data == stream.read_bytes()
    records = [r for r in caplog.records if r.name == "chunkagg.proxy"]
    assert [r.levelno for r in records] == [logging.INFO]
    message = records[0].getMessage()
    assert message.startswith("completion {")
    logged = json.loads(message.removeprefix("completion "))
    assert canonical(logged) == json.loads(expected.read_bytes())


# -- upstream errors and faulty streams -------------------------------------------------------


def test_proxy_relays_upstream_error(sse_url: str, socket_proxy: tuple[str, Reports]) -> None:
    url, reports = socket_proxy
    reports.clear()
    response, data = _post_through_socket(url, _body("no/such-fixture", 1))
    direct = httpx.post(
        f"{sse_url}/v1/chat/completions", json=_body("no/such-fixture", 1), trust_env=False
    )
    assert response.status_code == direct.status_code == 404
    assert data == direct.content
    assert response.headers["content-type"] == "application/json"
    assert reports.completions == []
    assert reports.errors == []


_GOOD = [
    chunk(choice(0, role="assistant", content="")),
    chunk(choice(0, content="Hello")),
    chunk(choice(0, content=", world")),
    chunk(choice(0, finish_reason="stop")),
]
_ERROR_EVENT = b'event: error\ndata: {"error": {"message": "overloaded", "code": 529}}\n\n'
FAULTY = {
    # A malformed chunk between good ones: reported, and the rest still merged.
    "bad/bad-chunk": sse(_GOOD[0], _GOOD[1], b'{"id": "x", "choices": [', *_GOOD[2:]),
    # The server's in-band error event (OpenRouter, vLLM, SGLang), then the end.
    "bad/error-event": sse(*_GOOD[:2], done=False) + _ERROR_EVENT + b"data: [DONE]\n\n",
    # Cut inside an event: the connection closed early.
    "bad/truncated": sse(*_GOOD[:2], done=False) + b'data: {"id": "chatcmpl-test", "cho',
}


@pytest.fixture(scope="module")
def faulty_upstream() -> Iterator[str]:
    with serve(create_sse_app(FAULTY)) as url:
        yield url


@pytest.mark.parametrize(
    ("name", "error", "content"),
    [
        ("bad/bad-chunk", chunkagg.ChunkError, "Hello, world"),
        ("bad/error-event", chunkagg.StreamError, "Hello"),
        ("bad/truncated", chunkagg.IncompleteStreamError, "Hello"),
    ],
)
def test_proxy_reports_stream_faults(
    faulty_upstream: str, name: str, error: type[chunkagg.ChunkAggError], content: str
) -> None:
    seed = _seed(name, "faulty")
    where = _where(name, "faulty", seed)
    reports = Reports()
    response, data = asyncio.run(_post_through_asgi(faulty_upstream, reports, _body(name, seed)))
    assert response.status_code == 200, where
    assert data == FAULTY[name], where  # the relay is not interrupted
    assert reports.completions == [], where
    assert len(reports.errors) == 1, where
    exc, partial = reports.errors[0]
    assert isinstance(exc, error), where
    assert partial.choices[0].message.content == content, where
    if name == "bad/bad-chunk":
        assert exc.event == 3, where
        assert partial.choices[0].finish_reason == "stop", where
    if isinstance(exc, chunkagg.StreamError):
        assert exc.message == "overloaded", where
        assert exc.code == 529, where


def test_proxy_default_error_hook_logs(
    faulty_upstream: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chunkagg.proxy")
    asyncio.run(_post_through_asgi(faulty_upstream, None, _body("bad/error-event", 3)))
    records = [r for r in caplog.records if r.name == "chunkagg.proxy"]
    assert [r.levelno for r in records] == [logging.WARNING]
    message = records[0].getMessage()
    assert "overloaded" in message
    partial = orjson.loads(message.split("partial completion ", 1)[1])
    assert partial["choices"][0]["message"]["content"] == "Hello"
