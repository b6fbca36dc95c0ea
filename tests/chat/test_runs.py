"""A run of chunks merged in one call (``Merger.add_run``, the events of one ``feed()`` region):
a chunk that raises in the middle of it stops the run there, with the same outcome as when the
events arrive one at a time: the error names its event and offset, the chunks before it are
merged and in ``exc.chunks``, and ``feed(b"")`` goes on with the rest."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from helpers import feed_recovering, finalize_recovering

from chunkagg import Accumulator, ChunkAggError, ChunkError, LimitExceededError


def _event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


# How a server dresses each chunk: OpenAI's five first-value fields, or a server that never
# sends two of them, or one whose chunks carry extensions and unknown keys (a widened schema,
# merged by ``Merger._wide_run``).
FLAVOURS = ("openai", "bare", "openrouter", "unknown")
_flavour = "openai"


def _chunk(delta: dict[str, Any], index: int = 0, **top: Any) -> bytes:
    choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": None}
    chunk: dict[str, Any] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "system_fingerprint": "fp",
        "service_tier": "default",
        "choices": [choice],
    }
    if _flavour != "openai":
        del chunk["system_fingerprint"], chunk["service_tier"]
    if _flavour == "openrouter":
        chunk["provider"] = "P"
        choice["native_finish_reason"] = None
        delta = {"role": "assistant", **delta, "reasoning_details": []}
    elif _flavour == "unknown":
        delta = {**delta, "x_token_id": len(delta)}
    choice["delta"] = delta
    return _event({**chunk, **top})


def _text(text: str, index: int = 0) -> bytes:
    return _chunk({"content": text}, index)


def _think(text: str, field: str = "reasoning_content") -> bytes:
    return _chunk({field: text})


def _args(piece: str) -> bytes:
    return _chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})


def _open() -> bytes:
    return _chunk({"role": "assistant", "content": ""})


def _call() -> bytes:
    return _chunk(
        {
            "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f"}}
            ]
        }
    )


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> Any:
    global _flavour
    _flavour = request.param
    yield request.param
    _flavour = "openai"


def _one_by_one(stream: bytes) -> Any:
    """The completion of ``stream``'s chunks given to ``add()`` one at a time (bad ones
    skipped)."""
    acc = Accumulator()
    for event in stream.split(b"\n\n")[:-1]:
        with contextlib.suppress(ChunkAggError):
            acc.add(json.loads(event[6:]))
    return acc.finalize()


def _outcome(acc: Accumulator, pieces: list[bytes]) -> tuple[list[Any], list[Any], Any]:
    """Every chunk and error (type, event, offset, reason) of the stream fed in ``pieces``,
    then the completion."""
    chunks, errors = feed_recovering(acc, pieces)
    where = [(type(e), e.event, e.offset, e.reason) for e in errors]
    return chunks, where, finalize_recovering(acc)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: _text("x", index=-1), ChunkError),  # a new choice with a negative index
        (lambda: _chunk({"content": 5}), ChunkError),  # content of the wrong type: no decoding
        (
            lambda: _chunk({"tool_calls": [{"index": -1, "function": {"arguments": "{"}}]}),
            ChunkError,
        ),
    ],
)
def test_a_bad_chunk_inside_a_run_stops_it_there(
    flavour: str, bad: Callable[[], bytes], error: type[Exception]
) -> None:
    before = [_open(), _text("a"), _think("r1"), _text("b"), _call(), _args('{"x"')]
    after = [_text("c"), _think("q1", "reasoning"), _args(": 1}"), _text("d"), _think("r2")]
    stream = b"".join([*before, bad(), *after])
    whole = _outcome(Accumulator(), [stream])
    chunks, errors, completion = whole
    assert [e[:3] for e in errors] == [(error, 7, len(b"".join(before)))]
    assert len(chunks) == len(before) + len(after)
    message = completion.choices[0].message
    assert message.content == "abcd"
    assert message.tool_calls[0].function.arguments == '{"x": 1}'
    assert (message.reasoning_content, message.reasoning) == ("r1r2", "q1")
    assert completion == _one_by_one(stream)
    if flavour == "openrouter":
        assert completion.provider == "P" and message.reasoning_details == []
    elif flavour == "unknown":
        assert message.extra == {"x_token_id": 1}
    # One byte at a time, each event is a run of its own: the same outcome.
    bytewise = _outcome(Accumulator(), [stream[i : i + 1] for i in range(len(stream))])
    assert bytewise[0] == chunks
    assert bytewise[1] == errors
    assert bytewise[2] == completion


@pytest.mark.parametrize("field", ["content", "reasoning_content", "reasoning"])
def test_the_text_limit_crossed_inside_a_run(flavour: str, field: str) -> None:
    stream = _open() + b"".join(_chunk({field: "abcd"}) for _ in range(6))
    chunks, errors, completion = _outcome(Accumulator(max_text_size=10), [stream])
    # The chunk that crosses the limit is merged; every later one that adds text is refused.
    assert getattr(completion.choices[0].message, field) == "abcd" * 3
    assert [(e[0], e[1]) for e in errors] == [(LimitExceededError, n) for n in (5, 6, 7)]
    assert len(chunks) == 4
    bytewise = _outcome(
        Accumulator(max_text_size=10), [stream[i : i + 1] for i in range(len(stream))]
    )
    assert bytewise[1] == errors and bytewise[2] == completion


def test_many_bad_chunks_in_one_run_decode_each_payload_a_bounded_number_of_times() -> None:
    """A run is decoded whole before it merges; after a fault, the rest is decoded a segment at
    a time, so a stream of many bad chunks in one region stays linear."""
    good = _text("a")
    stream = _open() + (good + _text("x", index=-1)) * 1000
    acc = Accumulator()
    calls = 0
    decode = acc._decoder.decode

    def counting(payload: bytes) -> Any:
        nonlocal calls
        calls += 1
        return decode(payload)

    acc._decoder.decode = counting
    chunks, errors, completion = _outcome(acc, [stream])
    assert len(errors) == 1000 and len(chunks) == 1001
    assert completion.choices[0].message.content == "a" * 1000
    # Each payload once, plus what a fault leaves decoded: the whole run once, then a segment.
    assert calls <= 2 * 2001 + 64 * 1000


def _bare(delta: dict[str, Any], wide: bool = False, **top: Any) -> bytes:
    """A chunk of a server that sends neither ``system_fingerprint`` nor ``service_tier``
    (``wide``: with an extension and an unknown key, as OpenRouter's)."""
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None}
    chunk: dict[str, Any] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [choice],
    }
    if wide:
        chunk["provider"] = "P"
        choice["delta"] = {**delta, "x_id": 7}
    return _event({**chunk, **top})


def _fed(stream: bytes, first: int) -> Any:
    """The completion of ``stream`` fed whole, or its first ``first`` events in one ``feed()``
    and the rest in another (a run that starts with what the earlier ones set)."""
    acc = Accumulator()
    events = stream.split(b"\n\n")
    cut = len(b"\n\n".join(events[:first])) + 2 if first else 0
    acc.feed(stream[:cut])
    acc.feed(stream[cut:])
    return acc.finalize()


@pytest.mark.parametrize("first", [0, 1, 2])
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize(
    "late",
    [
        {"system_fingerprint": "fp_late"},
        {"service_tier": "flex"},
        {"system_fingerprint": "", "service_tier": None},  # empty: not carried
        {},
    ],
)
def test_a_first_value_field_that_comes_late_inside_a_run_is_kept(
    late: dict[str, Any], wide: bool, first: int
) -> None:
    """Most servers never send some of the five first-value fields: text chunks of such a
    stream merge on the short way, and one that carries such a field at last still sets it."""
    chunks = [_bare({"role": "assistant", "content": ""}, wide)]
    chunks += [_bare({"content": t}, wide) for t in "abc"]
    chunks += [
        _bare({"content": "d"}, wide, **late),
        _bare({"content": "e"}, wide, system_fingerprint="fp_2"),
    ]
    stream = b"".join(chunks)
    completion = _fed(stream, first)
    assert completion == _one_by_one(stream)
    assert completion.choices[0].message.content == "abcde"
    assert completion.system_fingerprint == (late.get("system_fingerprint") or "fp_2")
    assert completion.service_tier == late.get("service_tier")
    if wide:
        assert completion.provider == "P"
        assert completion.choices[0].message.extra == {"x_id": 7}


@pytest.mark.parametrize("first", [0, 1, 2])
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("field", ["id", "created", "model"])
def test_a_first_chunk_without_id_created_or_model(field: str, wide: bool, first: int) -> None:
    """Azure's first chunk (content filter results) carries ``""`` and ``0`` for them: the
    chunks that carry them later, inside the same run, still set them."""
    empty: dict[str, Any] = {"id": "", "created": 0, "model": ""}
    chunks = [_bare({"role": "assistant", "content": ""}, wide, **empty)]
    chunks += [_bare({"content": t}, wide, **{field: empty[field]}) for t in "ab"]
    chunks += [_bare({"content": t}, wide) for t in "cd"]
    stream = b"".join(chunks)
    completion = _fed(stream, first)
    assert completion == _one_by_one(stream)
    assert (completion.id, completion.created, completion.model) == ("c", 1, "m")
    assert completion.choices[0].message.content == "abcd"


@pytest.fixture
def adds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the calls of chat's ``Merger.add`` (a guard on the hot path,
    which the results cannot show)."""
    from chunkagg._chat.merge import Merger

    count = [0]
    add = Merger.add

    def counting(self: Merger, *args: Any) -> None:
        count[0] += 1
        add(self, *args)

    monkeypatch.setattr(Merger, "add", counting)
    return count


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("fingerprint", [False, True])
def test_servers_without_service_tier_merge_text_on_the_short_way(
    adds: list[int], wide: bool, fingerprint: bool
) -> None:
    """DeepSeek sends a system_fingerprint and no service_tier, vLLM and OpenRouter neither:
    once the first chunk has set what they send, their text and reasoning chunks merge
    without ``add()``, as OpenAI's do."""
    top = {"system_fingerprint": "fp"} if fingerprint else {}
    first = _bare({"role": "assistant", "content": None, "reasoning_content": ""}, wide, **top)
    rest = [_bare({"content": None, "reasoning_content": t}, wide, **top) for t in "abc"]
    rest += [_bare({"content": t}, wide, **top) for t in "de"]
    acc = Accumulator()
    acc.feed(first)
    assert adds == [1]
    acc.feed(b"".join(rest))
    assert adds == [1]
    message = acc.finalize().choices[0].message
    assert (message.reasoning_content, message.content) == ("abc", "de")


def test_a_widened_streams_arguments_merge_without_add(adds: list[int]) -> None:
    """More arguments for a call already started, in a stream with an extension on every chunk
    (OpenRouter's ``provider``), merge without ``add()``: only the chunk that starts the call
    goes through it."""
    start = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f"}}
    head = [
        _bare({"role": "assistant", "content": None}, True),
        _bare({"tool_calls": [start]}, True),
    ]
    pieces = ['{"a"', ": 1", "}"]
    more = [
        _bare({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}, True) for p in pieces
    ]
    acc = Accumulator()
    acc.feed(b"".join(head))
    before = adds[0]
    acc.feed(b"".join(more))
    assert adds == [before]
    calls_made = acc.finalize().choices[0].message.tool_calls
    assert calls_made is not None
    assert calls_made[0].function.arguments == '{"a": 1}'
