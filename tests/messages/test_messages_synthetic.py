"""The Anthropic Messages format's synthetic cases (``tests/synthetic/messages``, see its README;
each case names its source there: a section of Anthropic's "Streaming Messages" docs page or an
Anthropic SDK type): each finalizes to its expected file whole, byte by byte and in random
slices, in every framing (as sent, LF, CRLF, CR, without ``event:`` lines, NDJSON); the
``error`` event is a located ``StreamError`` with the partial message kept; every prefix of every
case (cut after any event) builds what ``make.py``'s reference accumulator builds; a repeated
``message_start`` with another id is a located ``ChunkError``; a whole non-streamed body is its
own result (fed, through ``AutoAccumulator``, through the CLI); ``detect()`` names the format.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import orjson
import pytest
from helpers import SPLIT_IDS, SPLITS, Split, add_all_but, feed_recovering, nested, split_feeds
from messages_helpers import (
    CASES,
    HERE,
    MAKE,
    MANIFEST,
    Obj,
    check_against_reference,
    error_offset,
    event_offsets,
    events_of,
    expected,
    feed,
    finalized,
    reframe,
    sse,
)

import chunkagg
from chunkagg import (
    AnthropicMessage,
    AutoAccumulator,
    ChunkError,
    MessageAccumulator,
    MessageDelta,
    StreamError,
)
from chunkagg._cli import main as cli_main

FRAMINGS = ["sent", "lf", "crlf", "cr", "data-only"]


def test_every_case_is_here() -> None:
    assert len(CASES) == 24
    assert {MANIFEST[name]["ending"] for name in CASES} == {"complete", "error", "cut"}
    assert sorted(p.stem for p in HERE.glob("*.sse")) == CASES


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("name", CASES)
def test_case_merges(name: str, framing: str, split: Split) -> None:
    """Each case, in every framing and split, finalizes to its expected file exactly (for a
    stream that ends with ``message_stop``, the non-streamed body); an ``error`` event is one
    ``StreamError`` at its event number, what came before it kept."""
    where = f"{name} framing={framing} split={split}"
    entry = MANIFEST[name]
    data = reframe(name, framing)
    acc = MessageAccumulator()
    decoded, errors = feed(acc, data, split)
    result = acc.finalize()
    assert isinstance(result, AnthropicMessage), where
    assert result.to_dict() == expected(name), where
    assert msgspec.json.decode(result.to_json()) == expected(name), where
    assert acc.event_count == entry["events"], where
    assert len(decoded) == entry["events"] - (entry["ending"] == "error"), where
    if entry["ending"] == "error":
        (error,) = errors
        assert isinstance(error, StreamError), where
        assert error.message == entry["error"]["message"] == "Overloaded", where
        assert error.type == entry["error"]["type"] == "overloaded_error", where
        assert error.event == entry["error_event"], where
        if framing in ("sent", "lf"):
            assert error.offset == error_offset(name), where
        assert f"event {error.event}, byte offset {error.offset}" in str(error), where
    else:
        assert errors == [], where


@pytest.mark.parametrize("name", CASES)
def test_case_as_ndjson(name: str) -> None:
    """One event's JSON per line (what a logger or a gateway that re-frames writes)."""
    body = reframe(name, "ndjson")
    for split in ("whole", "bytewise"):
        acc = MessageAccumulator()
        _, errors = feed(acc, body, split)
        assert acc.finalize().to_dict() == expected(name), (name, split)
        assert len(errors) == (MANIFEST[name]["ending"] == "error"), (name, split)


@pytest.mark.parametrize("name", CASES)
def test_snapshot_after_each_event_is_what_arrived(name: str) -> None:
    """``snapshot()`` after every event (fed one event at a time) is what the reference builds
    from the events so far, and never changes what ``finalize()`` returns at the end."""
    events = events_of(name)
    acc = MessageAccumulator()
    for k, event in enumerate(events, 1):
        try:
            acc.feed(sse([event]))
        except StreamError:
            assert event["type"] == "error", (name, k)
        snap = acc.snapshot()
        # Before message_start there is no message: an empty snapshot.
        got = snap.to_dict() if any(e["type"] == "message_start" for e in events[:k]) else None
        check_against_reference(got, events[:k], f"{name} after event {k}")
    assert acc.finalize().to_dict() == expected(name), name


@pytest.mark.parametrize("name", CASES)
def test_every_prefix_builds_what_the_reference_builds(name: str) -> None:
    """A stream cut after any event (a dropped connection) finalizes to what ``make.py``'s
    ``accumulate`` builds from the events that arrived: every block's text, thinking and
    signature so far, a tool block's input parsed (partially, by jiter's partial mode, while
    its JSON is incomplete, the fragments kept too), an ``EmptyStreamError`` before
    ``message_start``."""
    events = events_of(name)
    for k in range(1, len(events) + 1):
        for framing in ("lf", "data-only"):
            acc = MessageAccumulator()
            _, errors = feed(acc, sse(events[:k], event_lines=framing == "lf"))
            got = finalized(acc, errors)
            check_against_reference(got, events[:k], f"{name} cut after event {k} ({framing})")


def test_the_cut_tool_input_is_parsed_partially_and_kept_raw() -> None:
    """Issue 16's example: a stream cut inside a tool block's input JSON, after each fragment.
    The input so far is jiter's partial parse (as the Anthropic SDK's snapshot has it), the
    fragments are kept as sent beside it, and the whole JSON once its last fragment is in."""
    events = events_of("tool_use")
    joined = ""
    for k, event in enumerate(events):
        if event["type"] != "content_block_delta" or event["delta"]["type"] != "input_json_delta":
            continue
        joined += event["delta"]["partial_json"]
        acc = MessageAccumulator()
        acc.feed(sse(events[: k + 1]))
        got = acc.finalize().to_dict()
        block = got["content"][1]
        assert block["type"] == "tool_use" and block["name"] == "get_weather", k
        assert block["input"] == MAKE.parse_partial(joined), (k, joined, block)
        if joined and joined != "".join(events_of_input(events)):
            assert joined in block.values(), (k, block)  # the fragments, as sent
        check_against_reference(got, events[: k + 1], f"cut after fragment event {k}")
    assert json.loads(joined) == {"location": "San Francisco, CA", "unit": "fahrenheit"}


def events_of_input(events: list[Obj]) -> list[str]:
    return [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]


def test_a_message_start_with_another_id_is_a_located_chunk_error() -> None:
    """Two messages are never silently made into one: the second ``message_start`` inside the
    open message is refused (its event number and offset said), and the first message goes on."""
    events = events_of("repeated_message_start")
    at = next(
        i for i, e in enumerate(events) if e["type"] == "message_start" and i > 0
    )  # the case's repeat, same id
    other = json.loads(json.dumps(events[at]))
    other["message"]["id"] = "msg_01SomeOtherMessageEntirely"
    changed = [*events[:at], other, *events[at + 1 :]]
    for split in ("whole", "bytewise", Split("random", 7)):
        acc = MessageAccumulator()
        _, errors = feed(acc, sse(changed), split)
        (error,) = errors
        assert isinstance(error, ChunkError), split
        assert error.event == at + 1, split
        assert error.offset == event_offsets(changed)[at], split
        assert acc.finalize().to_dict() == expected("repeated_message_start"), split


def test_error_event_keeps_the_partial_message_and_says_where() -> None:
    name = "error_event"
    data = reframe(name, "sent")
    acc = MessageAccumulator()
    with pytest.raises(StreamError) as caught:
        acc.feed(data)
    assert caught.value.event == MANIFEST[name]["error_event"]
    assert caught.value.offset == error_offset(name)
    assert acc.snapshot().to_dict() == expected(name)
    assert acc.finalize().to_dict() == expected(name)
    streamed = "".join(
        e["delta"]["text"] for e in events_of(name) if e["type"] == "content_block_delta"
    )
    assert expected(name)["content"] == [{"type": "text", "text": streamed}]


def test_typed_output_of_a_tool_use_stream() -> None:
    acc = MessageAccumulator()
    acc.feed(reframe("tool_use", "sent"))
    message = acc.finalize()
    assert isinstance(message, AnthropicMessage)
    assert message.id == expected("tool_use")["id"]
    assert message.stop_reason == "tool_use"
    assert isinstance(message.content, list) and len(message.content) == 2
    assert message.to_dict()["content"][1]["input"] == {
        "location": "San Francisco, CA",
        "unit": "fahrenheit",
    }
    assert message.to_json() == orjson.dumps(message.to_dict())


# -- a whole non-streamed body ------------------------------------------------------------------


def _bodies() -> list[tuple[str, Obj]]:
    body = json.loads((HERE / "non_streamed.json").read_bytes())
    assert body == json.loads((HERE / "non_streamed.expected.json").read_bytes())
    complete = [n for n in CASES if MANIFEST[n]["ending"] == "complete"]
    return [("non_streamed", body), *((n, expected(n)) for n in complete)]


@pytest.mark.parametrize(("name", "body"), _bodies(), ids=[n for n, _ in _bodies()])
def test_a_whole_message_body_is_its_own_result(name: str, body: Obj) -> None:
    """A server that ignored ``"stream": true`` (or a cached response) sends the message
    whole (``"type": "message"``): fed whole or byte by byte, pretty or compact, to this
    accumulator or the automatic one, it is the result, exact."""
    for layout in (orjson.OPT_INDENT_2, 0):
        data = orjson.dumps(body, option=layout)
        for split in ("whole", "bytewise"):
            acc = MessageAccumulator()
            _, errors = feed(acc, data, split)
            assert errors == [], (name, split)
            assert acc.finalize().to_dict() == body, (name, split)
            auto = AutoAccumulator()
            for piece in split_feeds(data, split):
                auto.feed(piece)
            assert auto.finalize().to_dict() == body, (name, split)
            assert auto.api == "messages", (name, split)
    assert chunkagg.detect(body) == "messages"


@pytest.mark.parametrize("name", CASES)
def test_auto_accumulator_tells_the_format_from_the_first_event(name: str) -> None:
    for framing in ("sent", "data-only", "ndjson"):
        auto = AutoAccumulator()
        try:
            for piece in split_feeds(reframe(name, framing), "bytewise"):
                try:
                    auto.feed(piece)
                except StreamError:
                    assert MANIFEST[name]["ending"] == "error"
        finally:
            result = auto.finalize()
        assert auto.api == "messages", (name, framing)
        assert result.to_dict() == expected(name), (name, framing)


def test_detect_names_every_event_type_and_the_body() -> None:
    seen = set()
    for name in CASES:
        for event in events_of(name):
            if event["type"] in MAKE_KNOWN:
                assert chunkagg.detect(event) == "messages", event
                seen.add(event["type"])
    assert seen == set(MAKE_KNOWN)


MAKE_KNOWN = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
)


@pytest.mark.parametrize("name", ["web_search", "fallback", "error_event", "cut"])
def test_the_cli_reads_a_messages_stream(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``chunkagg --api messages FILE`` and the automatic ``chunkagg FILE`` print the message;
    a stream with an ``error`` event exits 1 with its position."""
    path = tmp_path / f"{name}.sse"
    path.write_bytes(reframe(name, "sent"))
    for argv in (["--api", "messages", str(path)], [str(path)]):
        status = cli_main(argv)
        captured = capsys.readouterr()
        if MANIFEST[name]["ending"] == "error":
            assert status == 1, argv
            assert f"event {MANIFEST[name]['error_event']}" in captured.err, argv
        else:
            assert status == 0, (argv, captured.err)
            assert json.loads(captured.out) == expected(name), argv


def _block_delta(index: int, body: dict[str, object]) -> dict[str, object]:
    return {"type": "content_block_delta", "index": index, "delta": body}


def _content(events: list[dict[str, object]], split: Split, compact: bool = False) -> object:
    """The merged message's ``content`` of ``events``, framed as ``event:``/``data:`` pairs and
    fed in the pieces ``split`` cuts; ``compact``: each payload as msgspec writes it (no space,
    UTF-8), else as ``json.dumps`` (spaces, ``\\u`` escapes)."""
    data = b"".join(
        b"event: "
        + str(e["type"]).encode()
        + b"\ndata: "
        + (msgspec.json.encode(e) if compact else json.dumps(e).encode())
        + b"\n\n"
        for e in events
    )
    acc = MessageAccumulator()
    for piece in split_feeds(data, split):
        acc.feed(piece)
    return acc.finalize().to_dict()["content"]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_key_beside_a_known_deltas_field_is_set_on_its_block(split: Split) -> None:
    """A key no delta type declares, on a delta of a known type (a newer API's beside a text,
    a thinking or an input fragment), is set on its block by the rule of unknown deltas, the
    last non-null winning; the fragments before and after it still join (docs/limits.md and
    the merge's header: nothing a server sent vanishes)."""

    text = "text_delta"
    events: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        _block_delta(0, {"type": text, "text": "a"}),
        _block_delta(0, {"type": text, "text": "b", "x_mark": 1}),
        _block_delta(0, {"type": text, "text": "c"}),
        _block_delta(0, {"type": text, "text": "d", "x_mark": 2}),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        _block_delta(1, {"type": "input_json_delta", "partial_json": '{"a":'}),
        _block_delta(1, {"type": "input_json_delta", "partial_json": "1}", "x_frag": "z"}),
        {"type": "content_block_stop", "index": 1},
        {"type": "message_stop"},
    ]
    assert _content(events, split) == [
        {"type": "text", "text": "abcd", "x_mark": 2},
        {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}, "x_frag": "z"},
    ]


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_field_of_another_delta_type_beside_a_deltas_own_is_set_on_its_block(
    split: Split,
) -> None:
    """A field MessageDelta declares for another delta type (a ``stop_sequence`` or a
    ``citation`` beside a ``text_delta``'s text, a ``text`` beside a thinking fragment) is no
    key a newer API would add, but it is what the server sent: set on the block as any key
    beside a delta's own field is, on the first delta of a block and on every later one (the
    short way for a block's later string deltas once dropped it)."""

    text, thinking = "text_delta", "thinking_delta"
    events: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        _block_delta(0, {"type": text, "text": "a"}),
        _block_delta(0, {"type": text, "text": "b", "stop_sequence": "X"}),
        _block_delta(0, {"type": text, "text": "c"}),
        _block_delta(0, {"type": text, "text": "d", "citation": {"k": 1}}),
        _block_delta(0, {"type": text, "text": "e", "partial_json": "{"}),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        _block_delta(1, {"type": thinking, "thinking": "t"}),
        _block_delta(1, {"type": thinking, "thinking": "u", "text": "v"}),
        _block_delta(1, {"type": "signature_delta", "signature": "s"}),
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        _block_delta(2, {"type": "input_json_delta", "partial_json": '{"a":'}),
        _block_delta(2, {"type": "input_json_delta", "partial_json": "1}", "stop_reason": "r"}),
        {"type": "content_block_stop", "index": 2},
        {"type": "message_stop"},
    ]
    assert _content(events, split) == [
        {
            "type": "text",
            "text": "abcde",
            "stop_sequence": "X",
            "citation": {"k": 1},
            "partial_json": "{",
        },
        {"type": "thinking", "thinking": "tu", "signature": "s", "text": "v"},
        {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}, "stop_reason": "r"},
    ]


_CITE = {"type": "char_location", "cited_text": "c", "document_index": 0}
# (announced block, its deltas, the block built): a text or thinking block announced with its
# string has the short way ready for its first delta.
_FIRST_DELTAS: dict[str, tuple[dict[str, object], list[dict[str, object]], dict[str, object]]] = {
    "announced-text": (
        {"type": "text", "text": "Hi "},
        [{"type": "text_delta", "text": "a"}, {"type": "text_delta", "text": "é"}],
        {"type": "text", "text": "Hi aé"},
    ),
    "no-delta": ({"type": "text", "text": ""}, [], {"type": "text", "text": ""}),
    "null-text-no-delta": ({"type": "text", "text": None}, [], {"type": "text", "text": None}),
    "no-text-key-no-delta": ({"type": "text", "x": 1}, [], {"type": "text", "x": 1}),
    "null-text": (
        {"type": "text", "text": None},
        [{"type": "text_delta", "text": "a"}],
        {"type": "text", "text": "a"},
    ),
    "no-text-key": (
        {"type": "text"},
        [{"type": "text_delta", "text": "a"}],
        {"type": "text", "text": "a"},
    ),
    "thinking": (
        {"type": "thinking", "thinking": "pre", "signature": ""},
        [
            {"type": "thinking_delta", "thinking": "x"},
            {"type": "signature_delta", "signature": "s"},
        ],
        {"type": "thinking", "thinking": "prex", "signature": "s"},
    ),
    "citation-first": (
        {"type": "text", "text": "", "citations": []},
        [{"type": "citations_delta", "citation": _CITE}, {"type": "text_delta", "text": "a"}],
        {"type": "text", "text": "a", "citations": [_CITE]},
    ),
    "first-with-a-field-beside": (
        {"type": "text", "text": "q"},
        [{"type": "text_delta", "text": "é", "stop_sequence": "X"}],
        {"type": "text", "text": "qé", "stop_sequence": "X"},
    ),
    "another-type-first": (
        {"type": "text", "text": "k"},
        [{"type": "thinking_delta", "thinking": "z"}, {"type": "text_delta", "text": "m"}],
        {"type": "text", "text": "km", "thinking": "z"},
    ),
}


@pytest.mark.parametrize(
    "split", [SPLITS[0], SPLITS[1], SPLITS[-1]], ids=[*SPLIT_IDS[:2], SPLIT_IDS[-1]]
)
@pytest.mark.parametrize("case", sorted(_FIRST_DELTAS))
def test_a_blocks_first_delta_merges_onto_its_announced_block(case: str, split: Split) -> None:
    """A block's first delta merges onto the block as announced (its string, its citations),
    whatever it is: the short way made ready at the block's start takes only what
    ``on_block_delta`` would have merged the same way, with and without live events."""
    start, deltas, built = _FIRST_DELTAS[case]
    events: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "content_block_start", "index": 2, "content_block": start},
        *(_block_delta(2, d) for d in deltas),
        {"type": "content_block_stop", "index": 2},
        {"type": "message_stop"},
    ]
    assert _content(events, split) == [built]
    assert _content(events, split, compact=True) == [built]
    for track in (False, True):
        acc = MessageAccumulator(track=track)
        for event in events:
            acc.add(event)
        assert acc.finalize().to_dict()["content"] == [built]


@pytest.mark.parametrize("split", [SPLITS[0], SPLITS[1]], ids=SPLIT_IDS[:2])
@pytest.mark.parametrize(
    ("at", "index", "extra", "max_blocks"),
    [
        (1000, b"1e3", b"", 1024),
        (1000, b"1000.0", b"", 1024),
        (1, b"true", b"", 1024),
        # Written shorter than its digits, a float index once left room for a field in the
        # short way's length bound: the field was dropped.
        (10000, b"1e4", b',"text":""', 10001),
    ],
)
def test_an_index_that_is_no_integer_is_an_error_on_a_blocks_later_deltas_too(
    at: int, index: bytes, extra: bytes, max_blocks: int, split: Split
) -> None:
    """A delta whose index equals its block's but is a float or a bool is a ``ChunkError`` on
    the block's first delta and on any later one alike (the short way once took it); the
    stream goes on, what merged before kept."""
    head: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {
            "type": "content_block_start",
            "index": at,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
    ]
    plain = _block_delta(at, {"type": "thinking_delta", "thinking": "x"})
    bad = (
        b'{"type":"content_block_delta","index":'
        + index
        + b',"delta":{"type":"thinking_delta","thinking":"a"'
        + extra
        + b"}}"
    )

    def frame(event: dict[str, object]) -> bytes:
        return (
            b"event: "
            + str(event["type"]).encode()
            + b"\ndata: "
            + msgspec.json.encode(event)
            + b"\n\n"
        )

    for before in ([], [plain]):
        data = b"".join(frame(e) for e in [*head, *before])
        data += b"event: content_block_delta\ndata: " + bad + b"\n\n"
        data += frame(_block_delta(at, {"type": "thinking_delta", "thinking": "z"}))
        acc = MessageAccumulator(max_blocks=max_blocks)
        _, errors = feed_recovering(acc, split_feeds(data, split))
        assert len(errors) == 1
        assert type(errors[0]) is ChunkError and "index must be an integer" in str(errors[0])
        block = acc.finalize().to_dict()["content"][0]
        assert block == {"type": "thinking", "thinking": "x" * len(before) + "z", "signature": ""}


@pytest.mark.parametrize("split", [SPLITS[0], SPLITS[1]], ids=SPLIT_IDS[:2])
@pytest.mark.parametrize("key", ["content_block", "usage", "message", "x"])
@pytest.mark.parametrize("later", [False, True], ids=["first", "later"])
def test_a_delta_event_holding_a_value_nested_too_deep_is_an_error_on_any_delta(
    key: str, later: bool, split: Split
) -> None:
    """A block's delta whose event holds, beside the delta, an object nested deeper than
    ``MAX_DEPTH`` is a ``ChunkError`` on the block's first delta and on any later one alike
    (the short way once took it on later ones, and, with the first delta on the short way too,
    on every one), fed as bytes or through ``add()``; the stream goes on without it."""
    deep = nested(chunkagg.MAX_DEPTH + 20)
    events: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        # An unknown key already in the schema: the deep one decodes without widening again.
        {"type": "ping", "x": [1]},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    if later:
        events.append(_block_delta(0, {"type": "text_delta", "text": "a"}))
    bad = _block_delta(0, {"type": "text_delta", "text": "b"})
    bad[key] = {"k": deep} if key != "x" else deep
    events += [
        bad,
        _block_delta(0, {"type": "text_delta", "text": "c"}),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_stop"},
    ]
    text = "ac" if later else "c"
    data = b"".join(
        b"event: " + str(e["type"]).encode() + b"\ndata: " + msgspec.json.encode(e) + b"\n\n"
        for e in events
    )
    for track in (False, True):
        acc = MessageAccumulator(track=track)
        _, errors = feed_recovering(acc, split_feeds(data, split))
        assert len(errors) == 1 and "nested deeper" in str(errors[0]), errors
        assert acc.finalize().to_dict()["content"] == [{"type": "text", "text": text}]
        acc = MessageAccumulator(track=track)
        error = add_all_but(acc, events, bad)
        assert type(error) is ChunkError and "nested deeper" in str(error)
        assert acc.finalize().to_dict()["content"] == [{"type": "text", "text": text}]


# Each string delta a block's later deltas append by the short way: its block as announced,
# and three fragments whose payload is longer than its characters (non-ASCII, escaped).
_STRING_DELTAS: dict[str, tuple[str, dict[str, object], list[str]]] = {
    "text_delta": ("text", {"type": "text", "text": ""}, ["é", "\u6771", '"é"']),
    "thinking_delta": (
        "thinking",
        {"type": "thinking", "thinking": "", "signature": ""},
        ["é", "\n", "é"],
    ),
    "signature_delta": (
        "signature",
        {"type": "thinking", "thinking": "", "signature": ""},
        ["é", "é", "\\"],
    ),
    "input_json_delta": (
        "partial_json",
        {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        ['{"a": "é', '\\"', '"}'],
    ),
}


@pytest.mark.parametrize(
    "split", [SPLITS[0], SPLITS[1], SPLITS[-1]], ids=[*SPLIT_IDS[:2], SPLIT_IDS[-1]]
)
@pytest.mark.parametrize(
    ("kind", "other"),
    [
        (kind, other)
        for kind, (field, _, _) in sorted(_STRING_DELTAS.items())
        for other in MessageDelta.__struct_fields__
        if other not in ("type", field)
    ],
)
def test_every_other_field_beside_a_later_non_ascii_fragment_is_set_on_its_block(
    kind: str, other: str, split: Split
) -> None:
    """Each field ``MessageDelta`` declares, set beside a block's later fragment whose payload's
    length cannot prove it plain (non-ASCII, escaped): set on the block, never dropped by the
    short way (which names every field; one it forgot to name fails here for that field)."""
    field, start, pieces = _STRING_DELTAS[kind]
    foreign = {"k": "é"} if other == "citation" else "é x"
    events: list[dict[str, object]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "content_block_start", "index": 0, "content_block": start},
        _block_delta(0, {"type": kind, field: pieces[0]}),
        _block_delta(0, {"type": kind, field: pieces[1], other: foreign}),
        _block_delta(0, {"type": kind, field: pieces[2]}),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_stop"},
    ]
    joined = "".join(pieces)
    merged = {"input": json.loads(joined)} if field == "partial_json" else {field: joined}
    expected = [{**start, **merged, other: foreign}]
    assert _content(events, split) == expected
    assert _content(events, split, compact=True) == expected
    acc = MessageAccumulator()
    for event in events:
        acc.add(event)
    assert acc.finalize().to_dict()["content"] == expected


@pytest.mark.parametrize("index", [0, 7, 12, 1023])
@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("text_delta", "text"),
        ("thinking_delta", "thinking"),
        ("signature_delta", "signature"),
        ("input_json_delta", "partial_json"),
    ],
)
def test_a_plain_deltas_payload_is_within_plain_bound_and_any_other_field_past_it(
    index: int, kind: str, field: str
) -> None:
    """The short way takes a delta without checking its fields when its payload is no longer
    than ``plain_bound`` plus its value's length: the compact payload of a delta that sets its
    type and field alone is within it, and the same payload with any other field of
    ``MessageDelta`` set, to its shortest value, is past it (too large a bound would let that
    field through unseen)."""
    from chunkagg._messages.merge import plain_bound

    decode = msgspec.json.Decoder(chunkagg.MessageEvent).decode
    others = [g for g in MessageDelta.__struct_encode_fields__ if g not in ("type", field)]
    assert others
    for value in ("", "a", "hello world", "\u6771\u4eac\U0001f600"):
        bound = plain_bound(index, kind, field) + len(value)
        event = {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": kind, field: value},
        }
        assert len(msgspec.json.encode(event)) <= bound
        for other in others:
            shortest = {} if other == "citation" else ""
            event["delta"] = {"type": kind, field: value, other: shortest}
            longer = msgspec.json.encode(event)
            assert getattr(decode(longer).delta, other) == shortest
            assert len(longer) > bound, other
