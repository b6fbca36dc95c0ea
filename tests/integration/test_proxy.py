"""``examples/proxy.py`` in front of the local SSE server: the client gets exactly the upstream
bytes, and the proxy reports the merged completion, equal to the fixture's expected file.

The proxy runs three ways: in-process through httpx's ASGI transport (its upstream client
given), under uvicorn on its own loopback socket (its lifespan opening the upstream client), and
as the README runs it, ``uvicorn --app-dir examples proxy:app`` in a subprocess, where its log
must show. Bad streams (faults in-band, upstream failing, the client leaving) go through the real
sockets too: the client still receives every upstream byte, and the hook gets the faults and the
partial completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from helpers import (
    BASE_SEED,
    CUT_EVENT,
    ERROR_CHUNK,
    ERROR_EVENT,
    GOOD_CHUNKS,
    ROOT,
    canonical,
    fixture_pairs,
    sse,
)
from sse_server import TIMEOUT, chat_body, request_seed, serve
from sse_server import create_app as create_sse_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

import chunkagg
from chunkagg import ChatCompletion, RelayResult

PROXY_PATH = ROOT / "examples" / "proxy.py"
PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]


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
        self.errors: list[RelayResult[ChatCompletion]] = []
        # Set at each report, for the ends a client cannot wait for (it left first).
        self.reported = threading.Event()

    def on_completion(self, completion: chunkagg.ChatCompletion) -> None:
        with self.lock:
            self.completions.append(completion)
        self.reported.set()

    def on_error(self, result: RelayResult[ChatCompletion]) -> None:
        with self.lock:
            self.errors.append(result)
        self.reported.set()

    def clear(self) -> None:
        with self.lock:
            self.completions.clear()
            self.errors.clear()
        self.reported.clear()


def _where(name: str, mode: str, seed: int) -> str:
    return f"{name} proxy={mode} seed={seed}; replay with CHUNKAGG_SEED={BASE_SEED}"


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
    seed = request_seed(name, "asgi")
    reports = Reports()
    response, data = asyncio.run(_post_through_asgi(sse_url, reports, chat_body(name, seed)))
    _check(_where(name, "asgi", seed), response, data, stream, expected, reports)


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_proxy_socket(
    socket_proxy: tuple[str, Reports], name: str, stream: Path, expected: Path
) -> None:
    url, reports = socket_proxy
    reports.clear()
    seed = request_seed(name, "socket")
    response, data = _post_through_socket(url, chat_body(name, seed))
    assert response.headers["transfer-encoding"] == "chunked"
    _check(_where(name, "socket", seed), response, data, stream, expected, reports)


def test_proxy_default_hook_logs_the_completion(
    sse_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    name, stream, expected = next(p for p in PAIRS if p[0] == "openai-python/a491adda08c3")
    caplog.set_level(logging.INFO, logger="chunkagg.proxy")
    response, data = asyncio.run(_post_through_asgi(sse_url, None, chat_body(name, 7)))
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
    response, data = _post_through_socket(url, chat_body("no/such-fixture", 1))
    direct = httpx.post(
        f"{sse_url}/v1/chat/completions", json=chat_body("no/such-fixture", 1), trust_env=False
    )
    assert response.status_code == direct.status_code == 404
    assert data == direct.content
    assert response.headers["content-type"] == "application/json"
    assert reports.completions == []
    assert reports.errors == []


FAULTY = {
    # A malformed chunk between good ones: reported, and the rest still merged.
    "bad/bad-chunk": sse(
        GOOD_CHUNKS[0], GOOD_CHUNKS[1], b'{"id": "x", "choices": [', *GOOD_CHUNKS[2:]
    ),
    # The server's in-band error event (OpenRouter, vLLM, SGLang), then the end.
    "bad/error-event": sse(*GOOD_CHUNKS[:2], done=False) + ERROR_EVENT + b"data: [DONE]\n\n",
    # A chunk with an error object: its choices merge, then the fault; the stream goes on.
    "bad/error-object": sse(*GOOD_CHUNKS[:2], ERROR_CHUNK, *GOOD_CHUNKS[2:]),
    # Cut inside an event: the connection closed early.
    "bad/truncated": sse(*GOOD_CHUNKS[:2], done=False) + CUT_EVENT,
    # All of it in one stream: each fault reported, in order.
    "bad/several": sse(GOOD_CHUNKS[0], b"{", GOOD_CHUNKS[1], done=False)
    + ERROR_EVENT
    + sse(ERROR_CHUNK, GOOD_CHUNKS[2], done=False)
    + CUT_EVENT,
}
# What the hook must get for each: the faults' types in stream order, and the merged content.
FAULTS: dict[str, tuple[list[type[chunkagg.ChunkAggError]], str]] = {
    "bad/bad-chunk": ([chunkagg.ChunkError], "Hello, world"),
    "bad/error-event": ([chunkagg.StreamError], "Hello"),
    "bad/error-object": ([chunkagg.StreamError], "Hello!, world"),
    "bad/truncated": ([chunkagg.IncompleteStreamError], "Hello"),
    "bad/several": (
        [
            chunkagg.ChunkError,
            chunkagg.StreamError,
            chunkagg.StreamError,
            chunkagg.IncompleteStreamError,
        ],
        "Hello!, world",
    ),
}


@pytest.fixture(scope="module")
def faulty_upstream() -> Iterator[str]:
    with serve(create_sse_app(FAULTY)) as url:
        yield url


@pytest.fixture(scope="module")
def faulty_socket_proxy(faulty_upstream: str) -> Iterator[tuple[str, Reports]]:
    """The proxy under uvicorn on loopback, in front of the server of faulty streams."""
    reports = Reports()
    app = create_proxy(
        faulty_upstream + "/v1", on_completion=reports.on_completion, on_error=reports.on_error
    )
    with serve(app) as url:
        yield url, reports


def _check_faulty(
    name: str, where: str, response: httpx.Response, data: bytes, reports: Reports
) -> None:
    kinds, content = FAULTS[name]
    assert response.status_code == 200, where
    assert data == FAULTY[name], where  # the relay is not interrupted
    assert reports.completions == [], where
    assert len(reports.errors) == 1, where
    result = reports.errors[0]
    assert (result.reason, result.error) == ("end", None), where
    assert [type(f) for f in result.faults] == kinds, f"{where}: {result.faults}"
    assert result.bytes == len(FAULTY[name]), where
    assert result.done == FAULTY[name].endswith(b"data: [DONE]\n\n"), where
    partial = result.completion
    assert partial.choices[0].message.content == content, where
    first = result.faults[0]
    if name == "bad/bad-chunk":
        assert first.event == 3, where
        assert partial.choices[0].finish_reason == "stop", where
    if name == "bad/error-event":
        assert isinstance(first, chunkagg.StreamError)
        assert (first.message, first.code) == ("overloaded", 529), where


@pytest.mark.parametrize("name", list(FAULTY))
def test_proxy_reports_stream_faults(faulty_upstream: str, name: str) -> None:
    seed = request_seed(name, "faulty")
    where = _where(name, "faulty", seed)
    reports = Reports()
    response, data = asyncio.run(
        _post_through_asgi(faulty_upstream, reports, chat_body(name, seed))
    )
    _check_faulty(name, where, response, data, reports)


@pytest.mark.parametrize("name", list(FAULTY))
def test_proxy_relays_bad_streams_whole_over_sockets(
    faulty_socket_proxy: tuple[str, Reports], name: str
) -> None:
    """A relay that let a fault escape would end the response early: httpx would raise
    ``RemoteProtocolError`` (incomplete chunked read) instead of returning the body."""
    url, reports = faulty_socket_proxy
    reports.clear()
    seed = request_seed(name, "faulty-socket")
    response, data = _post_through_socket(url, chat_body(name, seed))
    assert response.headers["transfer-encoding"] == "chunked"
    _check_faulty(name, _where(name, "faulty-socket", seed), response, data, reports)


def test_proxy_default_error_hook_logs(
    faulty_upstream: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chunkagg.proxy")
    asyncio.run(_post_through_asgi(faulty_upstream, None, chat_body("bad/error-event", 3)))
    records = [r for r in caplog.records if r.name == "chunkagg.proxy"]
    assert [r.levelno for r in records] == [logging.WARNING]
    message = records[0].getMessage()
    assert message.startswith("stream ended after ")
    assert "with 1 fault(s); " in message
    assert "overloaded" in message
    partial = orjson.loads(message.split("partial completion ", 1)[1])
    assert partial["choices"][0]["message"]["content"] == "Hello"


# -- upstream failing, the client leaving -----------------------------------------------------

_FIRST = sse(*GOOD_CHUNKS[:2], done=False)


class Misbehaving:
    """An upstream that sends ``_FIRST``, then fails (model ``upstream/fails``: the connection
    drops without the body's end) or goes silent (``upstream/stalls``) until the proxy hangs up,
    which sets ``hung_up``."""

    def __init__(self) -> None:
        self.hung_up = threading.Event()

    async def body(self, model: str) -> AsyncIterator[bytes]:
        try:
            yield _FIRST
            if model == "upstream/fails":
                raise ConnectionResetError("upstream crashed mid-stream")
            await asyncio.Event().wait()
        finally:
            self.hung_up.set()

    async def completions(self, request: Request) -> StreamingResponse:
        model = (await request.json())["model"]
        return StreamingResponse(self.body(model), media_type="text/event-stream")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])


@pytest.fixture
def misbehaving_proxy() -> Iterator[tuple[str, Reports, Misbehaving]]:
    upstream = Misbehaving()
    reports = Reports()
    with serve(upstream.app()) as upstream_url:
        app = create_proxy(
            upstream_url + "/v1", on_completion=reports.on_completion, on_error=reports.on_error
        )
        with serve(app) as url:
            yield url, reports, upstream


def test_proxy_upstream_failure_reaches_the_client_and_the_hook(
    misbehaving_proxy: tuple[str, Reports, Misbehaving],
) -> None:
    url, reports, _ = misbehaving_proxy
    received = bytearray()
    with (
        httpx.Client(base_url=url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream(
            "POST", "/v1/chat/completions", json=chat_body("upstream/fails", 1)
        ) as response,
    ):
        assert response.status_code == 200
        # The client must learn that upstream failed: the proxy's body ends early too.
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in response.iter_bytes():
                received += piece
    assert bytes(received) == _FIRST  # every byte upstream sent before it failed
    # The hook ran before the relay re-raised upstream's error, so before the client saw it.
    assert reports.completions == []
    assert len(reports.errors) == 1
    result = reports.errors[0]
    assert result.reason == "upstream-error"
    assert isinstance(result.error, httpx.HTTPError)
    assert (result.faults, result.bytes, result.done) == ([], len(_FIRST), False)
    assert result.completion.choices[0].message.content == "Hello"


def test_proxy_client_leaving_is_reported_and_upstream_closed(
    misbehaving_proxy: tuple[str, Reports, Misbehaving],
) -> None:
    url, reports, upstream = misbehaving_proxy
    received = bytearray()
    with (
        httpx.Client(base_url=url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream(
            "POST", "/v1/chat/completions", json=chat_body("upstream/stalls", 1)
        ) as response,
    ):
        for piece in response.iter_bytes():
            received += piece
            if len(received) >= len(_FIRST):
                break  # then leave: closing the response drops the connection mid-body
    assert bytes(received) == _FIRST
    # Bounds on waiting for the proxy to notice, not assertions on time.
    assert reports.reported.wait(TIMEOUT), "the proxy never reported the disconnect"
    assert upstream.hung_up.wait(TIMEOUT), "the proxy never closed its upstream request"
    assert reports.completions == []
    assert len(reports.errors) == 1
    result = reports.errors[0]
    assert (result.reason, result.error, result.faults) == ("disconnect", None, [])
    assert result.bytes == len(_FIRST)
    assert result.completion.choices[0].message.content == "Hello"


# -- the README's command ---------------------------------------------------------------------


@contextlib.contextmanager
def _readme_proxy(upstream: str, uds: Path) -> Iterator[Callable[[], str]]:
    """Run ``uvicorn --app-dir examples proxy:app`` as the README does (on a Unix socket, so no
    port can be taken from under it); yield a function that stops it and returns its stderr."""
    env = {**os.environ, "CHUNKAGG_UPSTREAM": upstream + "/v1"}
    command = [sys.executable, "-m", "uvicorn", "--app-dir", "examples", "proxy:app"]
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []
    with subprocess.Popen(
        [*command, "--uds", str(uds)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:

        def pump() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)
            lines.put(None)

        def read_until(done: Callable[[], bool]) -> None:
            deadline = time.monotonic() + TIMEOUT
            while not done():
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                if line is None:
                    raise EOFError
                seen.append(line)

        def stop() -> str:
            process.terminate()
            with contextlib.suppress(EOFError):
                read_until(lambda: False)
            return "".join(seen)

        reader = threading.Thread(target=pump, name="readme-proxy-stderr", daemon=True)
        reader.start()
        try:
            try:
                read_until(lambda: any("Application startup complete" in line for line in seen))
            except EOFError:
                raise RuntimeError("the proxy exited during startup:\n" + "".join(seen)) from None
            yield stop
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(TIMEOUT)
            reader.join(TIMEOUT)  # the pipe is closed on leaving the Popen block


def test_readme_command_shows_each_completion(sse_url: str, tmp_path: Path) -> None:
    """uvicorn configures only its own loggers: the app must make its INFO records visible."""
    name, stream, expected = next(p for p in PAIRS if p[0] == "openai-python/a491adda08c3")
    uds = tmp_path / "proxy.sock"
    with _readme_proxy(sse_url, uds) as stop:
        transport = httpx.HTTPTransport(uds=str(uds))
        with (
            httpx.Client(transport=transport, base_url="http://proxy", timeout=TIMEOUT) as client,
            client.stream("POST", "/v1/chat/completions", json=chat_body(name, 5)) as response,
        ):
            data = b"".join(response.iter_bytes())
        stderr = stop()
    assert data == stream.read_bytes()
    logged = [line for line in stderr.splitlines() if "chunkagg.proxy completion {" in line]
    assert len(logged) == 1, stderr
    completion = json.loads(logged[0].split("completion ", 1)[1])
    assert canonical(completion) == json.loads(expected.read_bytes())
