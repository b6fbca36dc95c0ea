"""``split_events``: a region of ``event:``/``data:`` pairs in one run, or ``None``.

Its contract (``EventSplitter``): the payloads and name lines of a region only when every event
in it is exactly the two-line shape, never an ``error`` event; anything else is left to the line
path. Checked against a plain reading of the region, event by event, on generated regions that
mix names, shapes and stray lines.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chunkagg._core.frames import EventRun
from chunkagg._core.pairs import split_events

_NAMES = [b"content_block_delta", b"content_block_stop", b"ping", b"error", b"response.done"]
_PAYLOADS = [b'{"a":1}', b'{"type":"x","text":"event: y"}', b"{}", b"[DONE]", b"", b"data: {}"]
# Lines that are not a name line or a data line: the region must not be taken whole then.
_STRAYS = [b"id: 7", b": comment", b"data:{}", b"event:ping", b"retry: 1", b"\n", b"x"]


def _reading(region: bytes) -> tuple[list[bytes], list[bytes]] | None:
    """The payloads and heads of a region of two-line events, read event by event."""
    assert region.endswith(b"\n\n")
    payloads: list[bytes] = []
    heads: list[bytes] = []
    for event in region[:-2].split(b"\n\n"):
        lines = event.split(b"\n")
        if (
            len(lines) != 2
            or not lines[0].startswith(b"event: ")
            or lines[0] == b"event: error"
            or not lines[1].startswith(b"data: ")
        ):
            return None
        heads.append(lines[0])
        payloads.append(lines[1][6:])
    return payloads, heads


def _heads(run: EventRun) -> list[bytes]:
    return [run.head(k) for k in range(len(run.payloads))]


_event = st.builds(
    lambda name, payload: b"event: " + name + b"\ndata: " + payload + b"\n\n",
    st.sampled_from(_NAMES),
    st.sampled_from(_PAYLOADS),
)
_stray = st.builds(lambda line: line + b"\n", st.sampled_from(_STRAYS))
# An event whose blank line is missing: it runs into what follows.
_unended = _event.map(lambda event: event[:-1])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_event, _event, _event, _stray, _unended), min_size=1, max_size=12))
def test_a_region_is_taken_whole_exactly_when_every_event_is_two_lines(parts: list[bytes]) -> None:
    region = b"".join(parts)
    if not region.endswith(b"\n\n"):
        region += b"\n"
    run = split_events(region, 100, 1 << 20)
    expected = _reading(region)
    if expected is None:
        assert run is None
        return
    assert run is not None
    assert (list(run.payloads), _heads(run)) == expected
    # Where each event starts, as a fault would report it.
    start = 100
    for k in range(len(expected[0])):
        assert run.start(k) == start
        assert region[start - 100 :].startswith(expected[1][k] + b"\ndata: " + expected[0][k])
        start += run.span(k)
    assert start - 100 == len(region)


def test_events_of_other_names_between_deltas_keep_their_order() -> None:
    delta = b"event: d\ndata: {1}\n\n"
    stop = b"event: stop\ndata: {2}\n\nevent: start\ndata: {3}\n\n"
    run = split_events(delta * 2 + stop + delta + stop + stop, 0, 1 << 20)
    assert run is not None
    assert list(run.payloads) == [b"{1}", b"{1}", b"{2}", b"{3}", b"{1}", *[b"{2}", b"{3}"] * 2]
    stop_start = [b"event: stop", b"event: start"]
    assert _heads(run) == [b"event: d", b"event: d", *stop_start, b"event: d", *stop_start * 2]


def test_a_payload_over_the_limit_leaves_the_region_to_the_line_path() -> None:
    big = b"event: a\ndata: " + b"x" * 50 + b"\n\n"
    small = b"event: b\ndata: {}\n\n"
    assert split_events(small * 3, 0, 40) is not None
    assert split_events(small + big + small, 0, 40) is None


@pytest.mark.parametrize(
    "region",
    [
        # A line between a delta's data line and the next event's name: one event of four lines.
        b"event: d\ndata: 1\n\nevent: d\ndata: 2\nx\nevent: n\ndata: 3\n\n",
        # A name line then a line that is no data line, after events of another name.
        b"event: d\ndata: 1\n\nevent: n\ndata: 2\n\nevent: m\nx\n\n",
        b"event: d\ndata: 1\n\nevent: n\ndata:2\n\n",
        b"event: d\ndata: 1\n\nevent: n\nid: 4\ndata: 2\n\n",
        b"event: d\ndata: 1\n\nevent: error\ndata: {}\n\n",
        b"event: d\ndata: 1\n\n\nevent: n\ndata: 2\n\n",
    ],
)
def test_a_region_with_one_event_of_another_shape_is_left_to_the_line_path(
    region: bytes,
) -> None:
    assert _reading(region) is None
    assert split_events(region, 0, 1 << 20) is None
