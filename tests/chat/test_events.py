"""Live-UI events (Accumulator(track=True)): what each chunk produces, and their costs."""

from __future__ import annotations

import json
import random
import warnings
from typing import Any

import msgspec
import orjson
import pytest
from helpers import canonical, choice, chunk, fixture_pairs, random_stream, sse, tool_call

import chunkagg
from chunkagg import (
    Accumulator,
    ChoiceFinished,
    ContentDelta,
    Event,
    ReasoningDelta,
    RefusalDelta,
    ResponseAccumulator,
    ToolCallArgumentsDelta,
    ToolCallDone,
    ToolCallStarted,
    UsageReceived,
)
from chunkagg._chat.events import TrackingMerger


def events_of(
    data: bytes, *, bytewise: bool = False
) -> tuple[list[Event], chunkagg.ChatCompletion]:
    acc = Accumulator(track=True)
    events: list[Event] = []
    pieces = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for piece in pieces:
        acc.feed(piece)
        events.extend(acc.take_events())
    completion = acc.finalize()
    events.extend(acc.take_events())
    return events, completion


def tool(
    index: int, *, id: str | None = None, name: str | None = None, args: str = ""
) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id is not None:
        call["id"] = id
        call["type"] = "function"
    if name is not None:
        call["function"]["name"] = name
    return call


def test_text_events_in_order_then_finish_and_usage() -> None:
    data = sse(
        chunk(choice(role="assistant", content="")),
        chunk(choice(reasoning_content="think")),
        chunk(choice(content="Hé")),
        chunk(choice(content="llo 🙂")),
        chunk(choice(refusal="no")),
        chunk(choice(finish_reason="stop")),
        chunk(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    )
    for bytewise in (False, True):
        events, completion = events_of(data, bytewise=bytewise)
        assert events[:5] == [
            ReasoningDelta(choice=0, delta="think", field="reasoning_content"),
            ContentDelta(choice=0, delta="Hé"),
            ContentDelta(choice=0, delta="llo 🙂"),
            RefusalDelta(choice=0, delta="no"),
            ChoiceFinished(choice=0, finish_reason="stop"),
        ]
        assert len(events) == 6
        assert isinstance(events[5], UsageReceived)
        assert events[5].usage.total_tokens == 3
        assert completion.choices[0].message.content == "Héllo 🙂"


def test_interleaved_choices_keep_their_index() -> None:
    data = sse(
        chunk(choice(1, content="b"), choice(0, content="a")),
        chunk(choice(0, reasoning="r", finish_reason="stop")),
        chunk(choice(1, content="c", finish_reason="length")),
    )
    events, _ = events_of(data)
    assert events == [
        ContentDelta(choice=1, delta="b"),
        ContentDelta(choice=0, delta="a"),
        ReasoningDelta(choice=0, delta="r", field="reasoning"),
        ChoiceFinished(choice=0, finish_reason="stop"),
        ContentDelta(choice=1, delta="c"),
        ChoiceFinished(choice=1, finish_reason="length"),
    ]


def test_parallel_tool_calls_start_stream_and_finish() -> None:
    data = sse(
        chunk(choice(role="assistant", tool_calls=[tool(0, id="a", name="f", args="")])),
        chunk(choice(tool_calls=[tool(0, args='{"x":')])),
        chunk(choice(tool_calls=[tool(0, args=" 1}")])),
        chunk(choice(tool_calls=[tool(1, id="b", name="g", args='{"y": [')])),
        chunk(choice(tool_calls=[tool(1, args="2]}")])),
        chunk(choice(finish_reason="tool_calls")),
    )
    events, completion = events_of(data)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "ToolCallStarted",
        "ToolCallArgumentsDelta",
        "ToolCallArgumentsDelta",
        "ToolCallStarted",
        "ToolCallArgumentsDelta",
        "ToolCallArgumentsDelta",
        "ToolCallDone",  # calls end with their choice: parallel calls may interleave
        "ToolCallDone",
        "ChoiceFinished",
    ]
    assert events[0] == ToolCallStarted(choice=0, call=0, index=0, id="a", name="f")
    assert events[3] == ToolCallStarted(choice=0, call=1, index=1, id="b", name="g")
    assert events[6] == ToolCallDone(
        choice=0, call=0, id="a", name="f", arguments='{"x": 1}', parsed={"x": 1}, valid=True
    )
    assert events[7] == ToolCallDone(
        choice=0, call=1, id="b", name="g", arguments='{"y": [2]}', parsed={"y": [2]}, valid=True
    )
    deltas = [e.delta for e in events if isinstance(e, ToolCallArgumentsDelta)]
    assert deltas == ['{"x":', " 1}", '{"y": [', "2]}"]
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert [c.function.arguments for c in calls] == ['{"x": 1}', '{"y": [2]}']


def test_arguments_that_never_become_json_are_reported_not_guessed() -> None:
    # Cut off: the stream ends inside the arguments (quirks.md: kept verbatim, reported unparsed).
    data = sse(chunk(choice(tool_calls=[tool(0, id="a", name="f", args='{"city": "Par')])))
    events, completion = events_of(data)
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert done == [
        ToolCallDone(
            choice=0,
            call=0,
            id="a",
            name="f",
            arguments='{"city": "Par',
            parsed=None,
            valid=False,
        )
    ]
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function.arguments == '{"city": "Par'


def test_interleaved_parallel_calls_are_done_only_at_the_end() -> None:
    data = sse(
        chunk(choice(tool_calls=[tool(0, id="a", name="f", args='{"a":')])),
        chunk(choice(tool_calls=[tool(1, id="b", name="g", args='{"b":')])),
        chunk(choice(tool_calls=[tool(0, args="1}")])),
        chunk(choice(tool_calls=[tool(1, args="2}")])),
    )
    events, _ = events_of(data)
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [(d.call, d.parsed) for d in done] == [(0, {"a": 1}), (1, {"b": 2})]
    assert isinstance(events[-1], ToolCallDone)


def test_same_index_new_id_starts_a_new_call() -> None:
    # Ollama/Groq: index 0 for every call, each with its own id.
    data = sse(
        chunk(choice(tool_calls=[tool(0, id="a", name="f", args="{}")])),
        chunk(choice(tool_calls=[tool(0, id="b", name="g", args="[]")])),
    )
    events, _ = events_of(data)
    assert [type(e).__name__ for e in events] == [
        "ToolCallStarted",
        "ToolCallArgumentsDelta",
        "ToolCallStarted",
        "ToolCallArgumentsDelta",
        "ToolCallDone",
        "ToolCallDone",
    ]
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [(d.id, d.parsed) for d in done] == [("a", {}), ("b", [])]


def test_partial_parse_follows_the_arguments() -> None:
    pytest.importorskip("jiter")
    text = json.dumps({"query": "x" * 200, "limit": 5})
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    data = sse(
        chunk(choice(tool_calls=[tool(0, id="a", name="search", args=pieces[0])])),
        *(chunk(choice(tool_calls=[tool(0, args=p)])) for p in pieces[1:]),
    )
    events, _ = events_of(data)
    parsed = [e.parsed for e in events if isinstance(e, ToolCallArgumentsDelta)]
    # Each partial parse is a prefix of the final value: the query grows, never changes.
    seen = [p["query"] for p in parsed if isinstance(p, dict) and "query" in p]
    assert seen, "no partial parse was reported"
    assert all(("x" * 200).startswith(q) for q in seen)
    assert seen == sorted(seen, key=len)
    assert len(set(seen)) > 3


def test_partial_parse_work_is_linear_in_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jiter")
    parsed_bytes: list[int] = []
    real_init = TrackingMerger.__init__

    def counting_init(self: TrackingMerger, *args: Any, **options: Any) -> None:
        real_init(self, *args, **options)
        real = self._partial
        assert real is not None

        def parse(data: bytes) -> Any:
            parsed_bytes.append(len(data))
            return real(data)

        self._partial = parse

    monkeypatch.setattr(TrackingMerger, "__init__", counting_init)
    text = json.dumps({"text": "y" * 20_000})
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    data = sse(
        chunk(choice(tool_calls=[tool(0, id="a", name="f", args=pieces[0])])),
        *(chunk(choice(tool_calls=[tool(0, args=p)])) for p in pieces[1:]),
    )
    events_of(data)
    # Re-parsing on every fragment would parse about len(text)**2 / 6 bytes; a re-parse after
    # each 50% of growth parses under 3x the text in all.
    assert len(parsed_bytes) < 30
    assert sum(parsed_bytes) < 3 * len(text)


def test_events_do_not_change_the_completion() -> None:
    for name, stream, _ in fixture_pairs():
        data = stream.read_bytes()
        plain = Accumulator()
        plain.feed(data)
        events, tracked = events_of(data)
        expected = canonical(plain.finalize())
        assert canonical(tracked) == expected, name
        for c in tracked.choices:
            text = "".join(
                e.delta for e in events if isinstance(e, ContentDelta) and e.choice == c.index
            )
            assert text == (c.message.content or ""), name


def test_generated_streams_events_rebuild_the_text() -> None:
    rng = random.Random(7)
    for _ in range(50):
        truth, chunks = random_stream(rng)
        events, completion = events_of(sse(*chunks))
        assert canonical(completion) == canonical(truth)
        for c in completion.choices:
            tool_calls = c.message.tool_calls or []
            done = sorted(
                (e for e in events if isinstance(e, ToolCallDone) and e.choice == c.index),
                key=lambda e: e.call,
            )
            assert len(done) == len(tool_calls)
            by_id = {t.id: t.function.arguments for t in tool_calls}
            assert all(by_id[d.id] == d.arguments for d in done)


def test_usage_event_for_every_usage_block() -> None:
    data = sse(
        chunk(choice(content="a"), usage={"prompt_tokens": 1, "total_tokens": 1}),
        chunk(choice(content="b"), usage=None),
        chunk(usage={"prompt_tokens": 1, "total_tokens": 2}),
    )
    events, completion = events_of(data)
    usages = [e.usage.total_tokens for e in events if isinstance(e, UsageReceived)]
    assert usages == [1, 2]
    assert completion.usage is not None
    assert completion.usage.total_tokens == 2


def test_events_encode_with_a_type_tag() -> None:
    event = ContentDelta(choice=0, delta="hi")
    assert orjson.loads(msgspec.json.encode(event)) == {
        "type": "ContentDelta",
        "choice": 0,
        "delta": "hi",
    }


def test_take_events_needs_track() -> None:
    with pytest.raises(RuntimeError, match="track=True"):
        Accumulator().take_events()


def test_take_events_empties_the_queue() -> None:
    acc = Accumulator(track=True)
    acc.feed(sse(chunk(choice(content="a")), done=False))
    assert acc.take_events() == [ContentDelta(choice=0, delta="a")]
    assert acc.take_events() == []


def test_arguments_after_finish_reason_bring_a_second_done() -> None:
    # quirks.md: finish_reason may be repeated. Arguments that arrive after the first one must
    # not leave the only ToolCallDone with stale arguments.
    data = sse(
        chunk(choice(tool_calls=[tool(0, id="t0", name="f", args='{"a"')], finish_reason="x")),
        chunk(choice(tool_calls=[tool(0, args=":1}")], finish_reason="tool_calls")),
    )
    events, completion = events_of(data)
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [(d.arguments, d.valid) for d in done] == [('{"a"', False), ('{"a":1}', True)]
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert done[-1].arguments == calls[0].function.arguments


def test_tool_call_done_again_when_its_id_or_name_comes_late() -> None:
    acc = Accumulator(track=True)
    acc.feed(
        sse(chunk(choice(tool_calls=[tool_call(0, arguments="{}")], finish_reason="tool_calls")))
    )
    acc.feed(sse(chunk(choice(tool_calls=[tool_call(0, id="call_1", name="run")])), done=False))
    acc.finalize()
    done = [e for e in acc.take_events() if isinstance(e, ToolCallDone)]
    assert [(d.id, d.name, d.arguments) for d in done] == [
        (None, None, "{}"),
        ("call_1", "run", "{}"),
    ]


def test_without_jiter_track_says_why_parsed_stays_none_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    from chunkagg._core.events import load_partial

    real_import = builtins.__import__

    def no_jiter(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jiter":
            raise ImportError("no jiter here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jiter)
    load_partial.cache_clear()  # as in a fresh process
    try:
        with pytest.warns(UserWarning, match="jiter is not installed.*chunkagg\\[parse\\]"):
            acc = Accumulator(track=True)
        # Once per process, not once per accumulator or per call site.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            other = ResponseAccumulator(track=True)
            Accumulator(track=True)
        acc.feed(
            sse(chunk(choice(tool_calls=[tool(0, id="a", name="f", args='{"x": "' + "y" * 64)])))
        )
        deltas = [e for e in acc.take_events() if isinstance(e, ToolCallArgumentsDelta)]
        assert deltas and all(d.parsed is None for d in deltas)
        assert other.take_events() == []
    finally:
        load_partial.cache_clear()
