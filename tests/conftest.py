"""Session-wide fixtures shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# On CI, Hypothesis draws the same examples every run (and helpers.BASE_SEED is fixed by
# CHUNKAGG_SEED in .ci/run), so a landing does not hinge on the luck of one run; local runs keep
# exploring new examples and seeds.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Proxy settings that httpx and the openai SDK read from the environment: a proxy configured on a
# CI machine must not see (or break) the tests' loopback traffic.
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(scope="session")
def sse_url() -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of the local SSE server replaying the fixtures.

    Started once per session on first use, stopped at the end; see ``tests/sse_server.py``.
    While it runs, the environment's proxy settings are unset.
    """
    # Imported here so that only the tests that use the server need the test extra's
    # starlette and uvicorn.
    from sse_server import create_app, serve

    with pytest.MonkeyPatch.context() as mp:
        for name in PROXY_VARIABLES:
            mp.delenv(name, raising=False)
        with serve(create_app()) as url:
            yield url
