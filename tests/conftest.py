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

# The fast subset for a quick local check, `python -m pytest -m "not slow"`: the tests below take
# most of the suite's time (measured with --durations). They are marked here, by module and by
# test function name, so that no test file needs a decorator; the plain `python -m pytest` (and
# CI) still runs everything. Modules are named by file name alone: the names are unique across
# tests/'s folders (tests/README.md).
SLOW_MODULES = frozenset(
    {
        "test_fuzz.py",  # chat/: mutation fuzzer, every field given every type and number
        "test_properties.py",  # chat/: Hypothesis, generated streams under every split
        "test_socket.py",  # integration/: real sockets, every fixture through every client
        "test_proxy.py",  # integration/: examples/proxy.py in front of the local server
    }
)
SLOW_TESTS = frozenset(
    {
        "test_truncation_at_every_byte",  # core/test_robustness.py
        "test_nothing_lost",  # core/test_robustness.py
        "test_100_mb_without_newline_fails_fast_in_bounded_memory",  # core/test_limits.py
        "test_huge_event_fails_fast_with_bounded_memory",  # core/test_framing.py
        "test_one_event_of_absurd_size_default_limit_is_in_mib",  # chat/test_quirks.py
        # Properties and fuzzers beside fast tests: core/test_rules.py (unknown keys),
        # completions/test_completions_fuzz.py, responses/test_responses_fuzz.py.
        "test_fuzz_family_over_completions",
        "test_unknown_keys_at_every_level_lose_no_value",
        "test_every_split_of_a_generated_stream_gives_its_truth",
        "test_hostile_streams_raise_only_located_chunkagg_errors_the_same_for_every_split",
        # Anthropic Messages (tests/messages/): every byte prefix of every case, the mutation
        # families, a wrong type in every field, generated streams against the Anthropic SDK.
        "test_every_byte_prefix_is_an_error_or_what_arrived",
        "test_mutated_streams_raise_only_located_chunkagg_errors_the_same_for_every_split",
        "test_a_wrong_type_in_any_field_is_a_located_error_or_merged_by_the_rules",
        "test_chunkagg_keeps_what_the_sdk_keeps_and_what_it_drops",
        "test_generated_streams_in_every_framing",
        "test_added_events_give_the_same_message",
    }
)
# Every test that talks to the local SSE server over a real socket (the ``sse_url`` fixture).
SLOW_FIXTURES = frozenset({"sse_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)  # without the [parameters]
        fixtures = getattr(item, "fixturenames", ())
        if (
            item.path.name in SLOW_MODULES
            or name in SLOW_TESTS
            or not SLOW_FIXTURES.isdisjoint(fixtures)
        ):
            item.add_marker(pytest.mark.slow)


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
