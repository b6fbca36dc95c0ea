"""A chat-completions proxy that relays each stream to its client byte for byte while chunkagg
merges the same bytes into the final completion, for logging, billing or storage.

Run it (``pip install chunkagg starlette uvicorn httpx``)::

    CHUNKAGG_UPSTREAM=https://api.openai.com/v1 uvicorn --app-dir examples proxy:app

and point any OpenAI-compatible client at it, e.g.
``openai.OpenAI(base_url="http://127.0.0.1:8000/v1")``: its ``Authorization`` header is passed on.

The stream goes through ``chunkagg.AsyncRelay``: the client receives exactly what upstream sent,
the merge never changes or holds it, and a fault in the stream (a bad chunk, a server error
event, a stream cut short) is recorded without interrupting the relay. When the relay ends, a
clean stream's completion goes to ``on_completion``; anything else (faults, the client leaving,
upstream failing) goes to ``on_error`` as a ``RelayResult``: the faults in order, why it ended,
and the partial completion. Upstream errors and non-streamed responses are relayed as they are,
with nothing to merge.

In your own app, ``create_app(upstream, on_completion=store, on_error=...)`` replaces the default
hooks, which log on the ``chunkagg.proxy`` logger: completions at INFO, the rest at WARNING.
uvicorn configures only its own loggers, so INFO records of any other logger reach no handler
and vanish; the module's ``app`` (the command above) therefore gives ``chunkagg.proxy`` a
handler on stderr at startup, unless logging is already set up (``show_log=True``).
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
from chunkagg import AsyncRelay, ChatCompletion, RelayResult

__all__ = ["Proxy", "app", "create_app", "log_completion", "log_error", "log_to_stderr"]

logger = logging.getLogger("chunkagg.proxy")

OnCompletion = Callable[[chunkagg.ChatCompletion], None]
OnError = Callable[[RelayResult[ChatCompletion]], None]

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
    """The default ``on_completion``: log the merged completion as JSON, at INFO."""
    logger.info("completion %s", completion.to_json().decode())


# How log_error names each RelayResult[ChatCompletion].reason.
_ENDINGS = {"end": "ended", "disconnect": "left by the client", "upstream-error": "cut by upstream"}


def log_error(result: RelayResult[ChatCompletion]) -> None:
    """The default ``on_error``: log how the stream ended, its faults and the partial completion,
    at WARNING."""
    logger.warning(
        "stream %s%s after %d bytes with %d fault(s)%s; partial completion %s",
        _ENDINGS[result.reason],
        f" ({result.error!r})" if result.error is not None else "",
        result.bytes,
        len(result.faults),
        "".join(f"; {fault}" for fault in result.faults),
        result.completion.to_json().decode(),
    )


def log_to_stderr(log: logging.Logger = logger) -> None:
    """Give ``log`` a stderr handler at INFO, unless a handler would already receive its records.

    Without one, uvicorn's command line shows nothing below WARNING from a logger of the app:
    it configures only the ``uvicorn`` loggers, and Python's last-resort handler starts at
    WARNING.
    """
    if log.hasHandlers():
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:  %(name)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


class Proxy:
    """Relays ``POST /v1/chat/completions`` to ``{upstream}/chat/completions``.

    Args:
        upstream: the upstream API's base URL, e.g. ``https://api.openai.com/v1``.
        on_completion: called with the merged completion when a stream ends cleanly: the whole
            body relayed, no fault.
        on_error: called instead, once, with the ``RelayResult`` of any other stream.
        client: the ``httpx.AsyncClient`` to reach upstream with; by default the app's lifespan
            opens one and closes it at shutdown.
        show_log: call ``log_to_stderr()`` at startup.
    """

    def __init__(
        self,
        upstream: str,
        *,
        on_completion: OnCompletion = log_completion,
        on_error: OnError = log_error,
        client: httpx.AsyncClient | None = None,
        show_log: bool = False,
    ) -> None:
        self.url = upstream.rstrip("/") + "/chat/completions"
        self.on_completion = on_completion
        self.on_error = on_error
        self.client = client
        self.show_log = show_log

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Open the upstream client if none was given, and close it at shutdown."""
        if self.show_log:
            # At startup, not at import: by now the server (or the app that imports this
            # module) has set up the logging it wants.
            log_to_stderr()
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
            AsyncRelay(_body(upstream), on_end=self._report),
            status_code=upstream.status_code,
            headers=relay_headers,
            # Also closes upstream if the relay never started (the client left at once).
            background=BackgroundTask(upstream.aclose),
        )

    def _report(self, result: RelayResult[ChatCompletion]) -> None:
        # A plain function: it may run in a cancelled task (the client left), where an await
        # would be cancelled too.
        if result.reason == "end" and not result.faults:
            self.on_completion(result.completion)
        else:
            self.on_error(result)


async def _body(upstream: httpx.Response) -> AsyncIterator[bytes]:
    """Upstream's body, decoded; upstream is closed however the relay ends (the relay closes
    this generator when the client leaves)."""
    try:
        async for data in upstream.aiter_bytes():
            yield data
    finally:
        await upstream.aclose()


def create_app(
    upstream: str,
    *,
    on_completion: OnCompletion = log_completion,
    on_error: OnError = log_error,
    client: httpx.AsyncClient | None = None,
    show_log: bool = False,
) -> Starlette:
    """The Starlette app of a ``Proxy`` (arguments as for ``Proxy``)."""
    proxy = Proxy(
        upstream, on_completion=on_completion, on_error=on_error, client=client, show_log=show_log
    )
    return Starlette(
        routes=[Route("/v1/chat/completions", proxy.chat_completions, methods=["POST"])],
        lifespan=proxy.lifespan,
    )


app = create_app(os.environ.get("CHUNKAGG_UPSTREAM", "https://api.openai.com/v1"), show_log=True)
