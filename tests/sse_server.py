"""A local Server-Sent Events server for the real-socket tests: it replays the captured fixtures.

``create_app()`` is a Starlette app; ``serve(app)`` runs any ASGI app under uvicorn on a free port
of 127.0.0.1 in a background thread and stops it on exit (both bounded in time). Only loopback
traffic: the socket is bound to 127.0.0.1 before uvicorn gets it.

Routes (all POST, with an OpenAI-style JSON body that must ask for ``"stream": true``):

- ``/v1/chat/completions``: the fixture is named by the body's ``model``, e.g.
  ``"openai-python/a247c49c5fcd"``, so the openai SDK reaches it with ``base_url=URL + "/v1"``.
- ``/fixtures/{folder}/{name}/v1/chat/completions``: named by the path, for code whose ``model``
  is fixed (the README's examples): ``base_url=URL + "/fixtures/openai-go/mockResponseBody/v1"``.
- ``/v2/router/chat/completions``: the Orq router's path, named by ``model`` as above, so the Orq
  SDK reaches it with ``server_url=URL``.
- ``/v1/completions`` and ``/v2/router/completions``: the legacy completions API (the openai SDK's
  ``completions.create``, the Orq router's path), serving the synthetic streams of
  ``tests/synthetic/completions`` named by ``model`` as ``"completions/<case>"``
  (``COMPLETION_STREAMS``, through ``replay_routes``).
- ``/v1/responses`` and ``/v3/router/responses``: the Responses API (the openai SDK's
  ``responses.create``/``responses.stream``, the Orq SDK's ``responses.create``), serving the
  synthetic streams of ``tests/synthetic/responses`` named by ``model`` as ``"responses/<case>"``
  (``RESPONSE_STREAMS``, through ``replay_routes``).
- ``/v1/messages`` and ``/v3/anthropic/v1/messages``: the Anthropic Messages API (the Anthropic
  SDK's ``messages.create``/``messages.stream`` with ``base_url=URL``, or the Orq router's
  Anthropic path), serving the synthetic streams of ``tests/synthetic/messages`` named by
  ``model`` as ``"messages/<case>"`` (``MESSAGE_STREAMS``, through ``replay_routes``).

A test reaches the server with ``request_seed``, ``replay_hint``, ``chat_body`` and the openai SDK's
clients of ``openai_client``/``async_openai_client``, each request bounded by ``TIMEOUT``.

The body goes out with chunked transfer encoding in writes of 1 byte to 4 KiB, some followed by a
pause of a fraction of a millisecond to a few milliseconds, all drawn by ``write_plan`` from a
seed: the body's ``seed`` (an OpenAI request field, so the SDK can send it), else one derived from
the fixture's name and ``helpers.BASE_SEED``. The response names both in ``x-replay-fixture`` and
``x-replay-seed``, so a failure can say how to replay it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from helpers import BASE_SEED, fixture_pairs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

if TYPE_CHECKING:
    import openai

__all__ = [
    "COMPLETION_STREAMS",
    "FIXTURE_STREAMS",
    "MESSAGES",
    "MESSAGE_STREAMS",
    "RESPONSE_STREAMS",
    "TIMEOUT",
    "async_openai_client",
    "chat_body",
    "create_app",
    "default_seed",
    "openai_client",
    "replay_hint",
    "replay_routes",
    "request_seed",
    "serve",
    "write_plan",
]

# Every fixture stream by name ("openai-python/a247c49c5fcd"), as the bytes the server sends.
FIXTURE_STREAMS: dict[str, bytes] = {name: path.read_bytes() for name, path, _ in fixture_pairs()}
# The synthetic legacy completions streams by name ("completions/single_choice").
COMPLETION_STREAMS: dict[str, bytes] = {
    f"completions/{path.stem}": path.read_bytes()
    for path in sorted((Path(__file__).parent / "synthetic" / "completions").glob("*.sse"))
}
# The synthetic Responses API streams by name ("responses/plain_text"), served at /v1/responses
# (the openai SDK) and /v3/router/responses (the Orq SDK).
RESPONSE_STREAMS: dict[str, bytes] = {
    f"responses/{path.stem}": path.read_bytes()
    for path in sorted((Path(__file__).parent / "synthetic" / "responses").glob("*.sse"))
}
# The synthetic Anthropic Messages streams by name ("messages/plain_text"), served at
# /v1/messages (the Anthropic SDK) and /v3/anthropic/v1/messages (the Orq router's path).
MESSAGE_STREAMS: dict[str, bytes] = {
    f"messages/{path.stem}": path.read_bytes()
    for path in sorted((Path(__file__).parent / "synthetic" / "messages").glob("*.sse"))
}

MAX_WRITE = 4096
# Most writes are not followed by a pause: the suite stays fast, and runs of back-to-back writes
# let the kernel coalesce them, so clients see both tiny and large reads.
PAUSE_PROBABILITY = 0.3
MAX_PAUSE = 0.004
# Bounds on starting and stopping a server: a hung server fails the run instead of stalling it.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def default_seed(name: str) -> int:
    """The write-plan seed of fixture ``name`` when a request names none."""
    return zlib.crc32(f"{BASE_SEED}:{name}".encode())


def write_plan(size: int, seed: int) -> list[tuple[int, float]]:
    """``(bytes, pause in seconds)`` for each write of a ``size``-byte body, from ``seed``.

    Sizes mix tiny writes (inside ``data:``, inside a UTF-8 character, between the two newlines
    of an event's end), mid-sized ones and large ones up to ``MAX_WRITE``.
    """
    rng = random.Random(seed)
    plan: list[tuple[int, float]] = []
    left = size
    while left > 0:
        roll = rng.random()
        if roll < 0.4:
            n = rng.randint(1, 8)
        elif roll < 0.8:
            n = rng.randint(9, 256)
        else:
            n = rng.randint(257, MAX_WRITE)
        n = min(n, left)
        pause = rng.uniform(0.0001, MAX_PAUSE) if rng.random() < PAUSE_PROBABILITY else 0.0
        plan.append((n, pause))
        left -= n
    return plan


def _error(status: int, message: str) -> JSONResponse:
    # The shape of an OpenAI error body, so the openai SDK raises its own typed error.
    body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return JSONResponse(body, status_code=status)


async def _replay(body: bytes, plan: list[tuple[int, float]]) -> AsyncIterator[bytes]:
    pos = 0
    for n, pause in plan:
        yield body[pos : pos + n]
        pos += n
        if pause:
            await asyncio.sleep(pause)


def replay_routes(paths: tuple[str, ...], streams: Mapping[str, bytes]) -> list[Route]:
    """POST routes at ``paths`` replaying ``streams`` (name to body bytes) in the seeded writes of
    ``write_plan``: the stream is named by the path's ``{folder}/{name}`` when it has them, else
    by the body's ``model``."""

    async def endpoint(request: Request) -> Response:
        try:
            payload: Any = await request.json()
        except ValueError:
            return _error(400, "the request body is not JSON")
        if not isinstance(payload, dict):
            return _error(400, "the request body is not a JSON object")
        params = request.path_params
        name = f"{params['folder']}/{params['name']}" if params else payload.get("model")
        if not isinstance(name, str) or name not in streams:
            return _error(404, f"no stream named {name!r}")
        if payload.get("stream") is not True:
            return _error(400, "this server only streams: send stream=true")
        seed = payload.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            seed = default_seed(name)
        body = streams[name]
        return StreamingResponse(
            _replay(body, write_plan(len(body), seed)),
            media_type="text/event-stream",
            headers={"x-replay-fixture": name, "x-replay-seed": str(seed)},
        )

    return [Route(path, endpoint, methods=["POST"]) for path in paths]


CHAT_PATHS = (
    "/v1/chat/completions",
    "/fixtures/{folder}/{name}/v1/chat/completions",
    "/v2/router/chat/completions",
)


def create_app(streams: Mapping[str, bytes] = FIXTURE_STREAMS) -> Starlette:
    """A Starlette app that replays ``streams`` (name to body bytes) at the chat paths, and the
    synthetic streams of the other formats at theirs, as described above."""
    return Starlette(
        routes=[
            *replay_routes(CHAT_PATHS, streams),
            *replay_routes(("/v1/completions", "/v2/router/completions"), COMPLETION_STREAMS),
            *replay_routes(("/v1/responses", "/v3/router/responses"), RESPONSE_STREAMS),
            *replay_routes(("/v1/messages", "/v3/anthropic/v1/messages"), MESSAGE_STREAMS),
        ]
    )


@contextlib.contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a background thread; yield its base URL.

    The listening socket is bound (to a free port) before the thread starts, so there is no race
    for the port. The app's lifespan runs. Startup and shutdown are bounded by ``START_TIMEOUT``
    and ``STOP_TIMEOUT``.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    config = uvicorn.Config(
        app,
        http="h11",
        ws="none",
        loop="asyncio",
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sse-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the test server exited during startup (see its log above)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start within {START_TIMEOUT} s")
            time.sleep(0.005)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"the test server did not stop within {STOP_TIMEOUT} s")


# -- reaching the server from a test --------------------------------------------------------------

# A bound on each request a test makes to a local server: a hung server fails the test.
TIMEOUT = 10.0
# The messages of a chat request: the server reads only the model (the fixture's name).
MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]


def request_seed(name: str, client: str) -> int:
    """The write-plan seed a test sends for stream ``name`` read by ``client``: fixed by
    ``helpers.BASE_SEED``, and different for each client of the same stream."""
    return zlib.crc32(f"{BASE_SEED}:{name}:{client}".encode())


def replay_hint(name: str, client: str, seed: int) -> str:
    """Where a failure message says it failed, and the seeds that replay it."""
    return f"{name} client={client} seed={seed}; replay with CHUNKAGG_SEED={BASE_SEED}"


def chat_body(name: str, seed: int) -> dict[str, Any]:
    """A streaming chat request for fixture ``name``, its writes planned by ``seed``."""
    return {"model": name, "messages": MESSAGES, "stream": True, "seed": seed}


def openai_client(url: str) -> openai.OpenAI:
    """The openai SDK pointed at the server at ``url``: no retries, bounded by ``TIMEOUT``."""
    import openai

    return openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)


def async_openai_client(url: str) -> openai.AsyncOpenAI:
    """The async openai SDK pointed at the server at ``url``, as ``openai_client``."""
    import openai

    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)
