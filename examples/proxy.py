"""A chat-completions proxy that relays each stream to its client byte for byte while chunkagg
merges the same bytes into the final completion, for logging, billing or storage.

Run it (``pip install chunkagg starlette uvicorn httpx``)::

    CHUNKAGG_UPSTREAM=https://api.openai.com/v1 uvicorn --app-dir examples proxy:app

and point any OpenAI-compatible client at it, e.g.
``openai.OpenAI(base_url="http://127.0.0.1:8000/v1")``: its ``Authorization`` header is passed on.

What the client receives is exactly what upstream sent: the merge runs after each piece is
relayed and never changes or holds it, and a fault in the stream (a bad chunk, a server error
event, a stream cut short) is reported to ``on_error`` without interrupting the relay. Upstream
errors and non-streamed responses are relayed as they are, with nothing to merge.

In your own app, ``create_app(upstream, on_completion=store)`` replaces the default hook, which
logs the completion as JSON on the ``chunkagg.proxy`` logger.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import chunkagg

__all__ = ["Proxy", "app", "create_app", "log_completion", "log_error"]

logger = logging.getLogger("chunkagg.proxy")

OnCompletion = Callable[[chunkagg.ChatCompletion], None]
OnError = Callable[[chunkagg.ChunkAggError, chunkagg.ChatCompletion], None]

# Request headers passed upstream. The others (Host, Content-Length, Connection, Accept-Encoding)
# belong to each hop: httpx sets its own.
FORWARD_REQUEST_HEADERS = frozenset(
    {"authorization", "content-type", "accept", "openai-organization", "openai-project"}
)
# Response headers not copied: hop-by-hop ones, and the body's framing and encoding, since the
# proxy frames its own body and relays it decoded.
DROP_RESPONSE_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)
# A reasoning model may send nothing for minutes: a generous read timeout, a short connect one.
UPSTREAM_TIMEOUT = httpx.Timeout(600.0, connect=10.0)


def log_completion(completion: chunkagg.ChatCompletion) -> None:
    """The default ``on_completion``: log the merged completion as JSON."""
    logger.info("completion %s", completion.to_json().decode())


def log_error(error: chunkagg.ChunkAggError, partial: chunkagg.ChatCompletion) -> None:
    """The default ``on_error``: log the first fault and what was merged despite it."""
    logger.warning("stream fault: %s; partial completion %s", error, partial.to_json().decode())


class Proxy:
    """Relays ``POST /v1/chat/completions`` to ``{upstream}/chat/completions``.

    Args:
        upstream: the upstream API's base URL, e.g. ``https://api.openai.com/v1``.
        on_completion: called with the merged completion when a stream ends cleanly.
        on_error: called instead, once, with the first fault and the partial completion.
        client: the ``httpx.AsyncClient`` to reach upstream with; by default the app's lifespan
            opens one and closes it at shutdown.
    """

    def __init__(
        self,
        upstream: str,
        *,
        on_completion: OnCompletion = log_completion,
        on_error: OnError = log_error,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = upstream.rstrip("/") + "/chat/completions"
        self.on_completion = on_completion
        self.on_error = on_error
        self.client = client

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Open the upstream client if none was given, and close it at shutdown."""
        if self.client is not None:
            yield
            return
        async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT) as client:
            self.client = client
            try:
                yield
            finally:
                self.client = None

    async def chat_completions(self, request: Request) -> Response:
        """Forward the request; relay the response, merging it when it is an event stream."""
        client = self.client
        if client is None:
            raise RuntimeError("no upstream client: run the app with its lifespan or pass client=")
        headers = {k: v for k, v in request.headers.items() if k in FORWARD_REQUEST_HEADERS}
        upstream_request = client.build_request(
            "POST", self.url, content=await request.body(), headers=headers
        )
        upstream = await client.send(upstream_request, stream=True)
        relay_headers = {
            k: v for k, v in upstream.headers.items() if k.lower() not in DROP_RESPONSE_HEADERS
        }
        content_type = upstream.headers.get("content-type", "")
        if upstream.status_code != 200 or not content_type.startswith("text/event-stream"):
            try:
                body = await upstream.aread()
            finally:
                await upstream.aclose()
            return Response(body, status_code=upstream.status_code, headers=relay_headers)
        return StreamingResponse(
            self._relay(upstream),
            status_code=upstream.status_code,
            headers=relay_headers,
            # Also closes upstream if the relay never started (the client left at once).
            background=BackgroundTask(upstream.aclose),
        )

    async def _relay(self, upstream: httpx.Response) -> AsyncIterator[bytes]:
        acc = chunkagg.Accumulator()
        errors: list[chunkagg.ChunkAggError] = []
        try:
            async for data in upstream.aiter_bytes():
                # The client first: the merge never delays or alters what it receives.
                yield data
                _feed(acc, data, errors)
        finally:
            # A client that disconnects ends the relay here (GeneratorExit or cancellation):
            # upstream is closed and nothing is reported.
            await upstream.aclose()
        try:
            completion = acc.finalize()
        except chunkagg.ChunkAggError as exc:  # the stream ended inside an event, say
            errors.append(exc)
            completion = acc.snapshot()
        if errors:
            self.on_error(errors[0], completion)
        else:
            self.on_completion(completion)


def _feed(acc: chunkagg.Accumulator, data: bytes, errors: list[chunkagg.ChunkAggError]) -> None:
    """Feed ``data``, recording each fault and going on: a raising ``feed()`` consumed only the
    bad event, and ``feed(b"")`` resumes with the bytes already buffered."""
    while True:
        try:
            acc.feed(data)
        except chunkagg.ChunkAggError as exc:
            errors.append(exc)
            data = b""
        else:
            return


def create_app(
    upstream: str,
    *,
    on_completion: OnCompletion = log_completion,
    on_error: OnError = log_error,
    client: httpx.AsyncClient | None = None,
) -> Starlette:
    """The Starlette app of a ``Proxy`` (arguments as for ``Proxy``)."""
    proxy = Proxy(upstream, on_completion=on_completion, on_error=on_error, client=client)
    return Starlette(
        routes=[Route("/v1/chat/completions", proxy.chat_completions, methods=["POST"])],
        lifespan=proxy.lifespan,
    )


app = create_app(os.environ.get("CHUNKAGG_UPSTREAM", "https://api.openai.com/v1"))
