"""The Responses API format's errors: both ``error`` shapes, bad events (named by event and
byte offset, dropped whole, the stream going on), a schema that widens mid-run, limits, and
empty, cut and foreign streams.
"""

from __future__ import annotations

import pytest
from helpers import SPLITS, add_all_but, feed_recovering, nested, split_feeds
from responses_helpers import (
    MAKE,
    Obj,
    _events,
    _expected,
    _feed,
    _framed,
    _sse,
    _stream,
)

from chunkagg import (
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
)
from chunkagg._responses import (
    DEFAULT_MAX_ITEMS,
    ResponseAccumulator,
)


@pytest.mark.parametrize("name", ["error_event", "error_event_flat"])
@pytest.mark.parametrize("event_lines", [True, False])
def test_error_events_raise_with_the_servers_facts(name: str, event_lines: bool) -> None:
    body = _framed(name, event_lines, False)
    cut = body.index(b'"type":"error"') - len(b"data: {")
    acc = ResponseAccumulator()
    events = acc.feed(body[:cut])
    with pytest.raises(StreamError, match="The model produced invalid content") as caught:
        acc.feed(body[cut:])
    error = caught.value
    assert error.code == "server_error"
    assert error.message == "The model produced invalid content."
    assert error.event == 9
    start = body.rindex(b"event: error") if event_lines else body.rindex(b'data: {"type":"error"')
    assert error.offset == start
    assert f"event 9, byte offset {start}" in str(error)
    assert error.type == ("server_error" if name == "error_event" else "error")
    assert len(events) == 8
    assert acc.finalize().to_dict() == _expected(name)  # what merged before stays


@pytest.mark.parametrize("event_line", [False, True])
def test_bad_events_name_their_event_and_offset_and_the_stream_goes_on(event_line: bool) -> None:
    """A bad event between good ones, framed data-only or as OpenAI frames (then, when it ends
    with ``}``, inside a run the framer's fast path took whole)."""
    events = _events("plain_text")
    good = _sse(events[:4])
    bad_bodies = [
        b'data: {"type":"response.output_text.delta","delta":\n\n',  # malformed
        b'data: {"delta":"x"}\n\n',  # no type
        b'data: {"type":7}\n\n',  # a type that is no string
        b'data: {"type":"response.output_text.delta","output_index":0,"content_index":0,'
        b'"delta":5}\n\n',
        b'data: {"type":"response.output_text.delta","output_index":-1,"content_index":0,'
        b'"delta":"x"}\n\n',
        b'data: {"type":"response.output_item.added","output_index":0,"item":"x"}\n\n',
        b'data: {"type":"response.completed","response":{"id":5}}\n\n',
        b'data: {"type":"response.output_text.delta","delta":"x"}\n\n',  # no place at all
        b'data: {"type":"response.output_text.delta","output_index":0,"content_index":0,'
        b'"delta":"x","logprobs":{}}\n\n',
        b"data: [1, 2]\n\n",
    ]
    for bad in bad_bodies:
        framed = b"event: response.output_text.delta\n" + bad if event_line else bad
        body = good + framed + _sse(events[4:])
        for split in ("whole", "bytewise"):
            acc = ResponseAccumulator()
            _, errors = _feed(acc, body, split)
            (error,) = errors
            assert isinstance(error, ChunkError), bad
            assert (error.event, error.offset) == (5, len(good)), (bad, split)
            assert error.payload == bad[6:-2]
            assert acc.finalize().to_dict() == _expected("plain_text"), bad


def test_several_bad_events_in_one_run_each_located() -> None:
    events = _events("plain_text")
    bad = {**events[5], "delta": 5}
    mixed = [*events[:5], bad, *events[5:8], bad, bad, *events[8:]]
    body = _sse(mixed)
    for split in SPLITS:
        acc = ResponseAccumulator()
        _, errors = _feed(acc, body, split)
        assert [(e.event, e.offset) for e in errors] == [
            (k + 1, len(_sse(mixed[:k]))) for k in (5, 9, 10)
        ], split
        assert acc.finalize().to_dict() == _expected("plain_text")


def test_a_schema_that_widens_mid_run_keeps_every_check() -> None:
    """An event that carries a known field with another type (kept: its field is retyped
    ``Any`` for the rest of the stream) or an unknown key, in the middle of a run of deltas:
    later deltas still merge, and a mistyped one is still refused, by every path."""
    events = _events("plain_text")
    future = {"type": "response.future", "delta": {"x": 1}, "output_index": True}
    mixed = [
        *events[:6],
        future,  # event 7: delta and output_index are typed Any from here on
        events[6],
        {**events[7], "x_new": 1},  # an unknown key: one more widening
        {**events[7], "delta": 5},  # event 10: decodes now, refused by the merge
        *events[8:10],
        {**events[10], "output_index": True},  # event 13: refused
        *events[10:],
    ]
    body = _sse(mixed)
    live = []
    for split in SPLITS:
        for track in (False, True):
            acc = ResponseAccumulator(track=track)
            _, errors = _feed(acc, body, split)
            located = [(type(e).__name__, e.event) for e in errors]
            assert located == [("ChunkError", 10), ("ChunkError", 13)], (split, track)
            assert acc.finalize().to_dict() == _expected("plain_text"), (split, track)
            assert [e.to_dict() for e in acc.other_events] == [future]
            if track:
                live.append(acc.take_events())
    assert all(updates == live[0] for updates in live)


def test_indices_are_bounded_and_never_pad_a_list() -> None:
    events = _events("plain_text")
    for index, error in ((-1, ChunkError), (10**9, LimitExceededError), (1024, LimitExceededError)):
        for key in ("output_index", "content_index"):
            bad = {**events[5], key: index}
            acc = ResponseAccumulator()
            _, errors = _feed(acc, _sse([*events[:5], bad, *events[5:]]))
            (caught,) = errors
            assert isinstance(caught, error), (index, key)
            assert caught.event == 6
            if isinstance(caught, LimitExceededError):
                assert (caught.limit, caught.value) == ("max_items", DEFAULT_MAX_ITEMS)
            assert acc.finalize().to_dict() == _expected("plain_text")
    acc = ResponseAccumulator(max_items=2)
    _, errors = _feed(acc, _sse(_events("two_messages")))
    assert errors == []
    acc = ResponseAccumulator(max_items=1)
    _, errors = _feed(acc, _sse(_events("two_messages")))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)


def test_max_text_size_drops_every_event_that_adds_text_once_crossed() -> None:
    acc = ResponseAccumulator(max_text_size=20)
    _, errors = _feed(acc, _stream("plain_text"))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)
    assert all(e.limit == "max_text_size" for e in errors)  # type: ignore[attr-defined]
    # Restated values still arrive: the terminal response is the result.
    assert acc.finalize().to_dict() == _expected("plain_text")
    # cut: 26 characters of arguments, then text deltas. With 30, the first text delta crosses
    # the limit and is merged; every later one is dropped.
    acc = ResponseAccumulator(max_text_size=30)
    _, errors = _feed(acc, _stream("cut"))
    first = next(e for e in _events("cut") if e["type"] == "response.output_text.delta")
    assert len(errors) == 4
    assert acc.finalize().to_dict()["output"][1]["content"][0]["text"] == first["delta"]


def test_max_event_size() -> None:
    acc = ResponseAccumulator(max_event_size=1000)
    _, errors = _feed(acc, _stream("plain_text"))
    assert errors and all(isinstance(e, LimitExceededError) for e in errors)
    assert acc.finalize().output_text == _expected("plain_text")["output"][0]["content"][0]["text"]


def test_empty_cut_and_foreign_streams() -> None:
    with pytest.raises(EmptyStreamError):
        ResponseAccumulator().finalize()
    chat = b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
    acc = ResponseAccumulator()
    with pytest.raises(ChunkError, match="include none that an event has"):
        acc.feed(chat)
    with pytest.raises(EmptyStreamError):
        acc.finalize()
    body = _stream("plain_text")
    acc = ResponseAccumulator()
    acc.feed(body[:-100])
    with pytest.raises(IncompleteStreamError):
        acc.finalize()
    assert acc.finalize().to_dict() == MAKE.accumulate(_events("plain_text")[:-1]).response


def test_options_are_checked() -> None:
    options: list[Obj] = [{"max_items": 0}, {"max_text_size": -1}, {"max_event_size": 0}]
    for option in options:
        with pytest.raises(ValueError):
            ResponseAccumulator(**option)
    with pytest.raises(RuntimeError, match="track=True"):
        ResponseAccumulator().take_events()
    with pytest.raises(TypeError):
        ResponseAccumulator().feed("data: {}")  # type: ignore[arg-type]


@pytest.mark.parametrize("split", ["whole", "bytewise"])
@pytest.mark.parametrize("key", ["part", "item", "response", "annotation", "x"])
@pytest.mark.parametrize("later", [False, True], ids=["first", "later"])
def test_a_delta_holding_a_value_nested_too_deep_is_an_error_on_any_delta(
    key: str, later: bool, split: str
) -> None:
    """A text delta whose event holds, beside the delta, an object nested deeper than
    ``MAX_DEPTH`` is a ``ChunkError`` on a part's first delta and on any later one alike (the
    short way once took it on later ones), fed as bytes or through ``add()``; the stream goes
    on without it."""
    from chunkagg import MAX_DEPTH

    place = {"output_index": 0, "content_index": 0, "item_id": "m"}
    events: list[Obj] = [
        {
            "type": "response.created",
            "response": {"id": "r", "object": "response", "status": "in_progress", "output": []},
        },
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {
            "type": "response.content_part.added",
            **place,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    if key == "x":
        # An unknown key already in the schema: the deep one decodes without widening again.
        events[-1]["x"] = [1]
    if later:
        events.append({"type": "response.output_text.delta", **place, "delta": "a"})
    bad: Obj = {"type": "response.output_text.delta", **place, "delta": "b"}
    # Just too deep: MAX_DEPTH + 1 levels (the event itself one, for an unknown key).
    bad[key] = nested(MAX_DEPTH + 1) if key == "x" else {"k": nested(MAX_DEPTH)}
    events += [bad, {"type": "response.output_text.delta", **place, "delta": "c"}]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    text = "ac" if later else "c"
    data = _sse(events)

    def content(acc: ResponseAccumulator) -> object:
        return acc.snapshot().to_dict()["output"][0]["content"][0]["text"]

    for track in (False, True):
        acc = ResponseAccumulator(track=track)
        _, errors = feed_recovering(acc, split_feeds(data, split))
        assert len(errors) == 1 and "nested deeper" in str(errors[0]), errors
        assert content(acc) == text
        acc = ResponseAccumulator(track=track)
        error = add_all_but(acc, events, bad)
        assert type(error) is ChunkError and "nested deeper" in str(error)
        assert content(acc) == text
