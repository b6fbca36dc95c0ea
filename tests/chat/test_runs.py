"""A run of chunks merged in one call (``Merger.add_run``, the events of one ``feed()`` region):
a chunk that raises in the middle of it stops the run there, with the same outcome as when the
events arrive one at a time: the error names its event and offset, the chunks before it are
merged and in ``exc.chunks``, and ``feed(b"")`` goes on with the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import feed_recovering, finalize_recovering

from chunkagg import Accumulator, ChunkError, LimitExceededError


def _event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _chunk(delta: dict[str, Any], index: int = 0, **top: Any) -> bytes:
    return _event(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "system_fingerprint": "fp",
            "service_tier": "default",
            "choices": [{"index": index, "delta": delta, "finish_reason": None}],
            **top,
        }
    )


def _text(text: str, index: int = 0) -> bytes:
    return _chunk({"content": text}, index)


def _args(piece: str) -> bytes:
    return _chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})


_OPEN = _chunk({"role": "assistant", "content": ""})
_CALL = _chunk(
    {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f"}}]}
)


def _outcome(acc: Accumulator, pieces: list[bytes]) -> tuple[list[Any], list[Any], Any]:
    """Every chunk and error (type, event, offset, reason) of the stream fed in ``pieces``,
    then the completion."""
    chunks, errors = feed_recovering(acc, pieces)
    where = [(type(e), e.event, e.offset, e.reason) for e in errors]
    return chunks, where, finalize_recovering(acc)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (_text("x", index=-1), ChunkError),  # a new choice with a negative index
        (_chunk({"content": 5}), ChunkError),  # content of the wrong type: fails decoding
        (_chunk({"tool_calls": [{"index": -1, "function": {"arguments": "{"}}]}), ChunkError),
    ],
)
def test_a_bad_chunk_inside_a_run_stops_it_there(bad: bytes, error: type[Exception]) -> None:
    before = [_OPEN, _text("a"), _text("b"), _CALL, _args('{"x"')]
    after = [_text("c"), _args(": 1}"), _text("d")]
    stream = b"".join([*before, bad, *after])
    whole = _outcome(Accumulator(), [stream])
    chunks, errors, completion = whole
    assert [e[:3] for e in errors] == [(error, 6, len(b"".join(before)))]
    assert len(chunks) == len(before) + len(after)
    message = completion.choices[0].message
    assert message.content == "abcd"
    assert message.tool_calls[0].function.arguments == '{"x": 1}'
    # One byte at a time, each event is a run of its own: the same outcome.
    bytewise = _outcome(Accumulator(), [stream[i : i + 1] for i in range(len(stream))])
    assert bytewise[0] == chunks
    assert bytewise[1] == errors
    assert bytewise[2] == completion


def test_the_text_limit_crossed_inside_a_run() -> None:
    stream = _OPEN + b"".join(_text("abcd") for _ in range(6))
    chunks, errors, completion = _outcome(Accumulator(max_text_size=10), [stream])
    # The chunk that crosses the limit is merged; every later one that adds text is refused.
    assert completion.choices[0].message.content == "abcd" * 3
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
    stream = _OPEN + (good + _text("x", index=-1)) * 1000
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


def _bare(delta: dict[str, Any], **top: Any) -> bytes:
    """A chunk of a server that sends neither ``system_fingerprint`` nor ``service_tier``."""
    chunk: dict[str, Any] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }
    return _event({**chunk, **top})


@pytest.mark.parametrize(
    "late",
    [
        {"system_fingerprint": "fp_late"},
        {"service_tier": "flex"},
        {"system_fingerprint": "", "service_tier": None},  # empty: not carried
        {},
    ],
)
def test_a_first_value_field_that_comes_late_inside_a_run_is_kept(late: dict[str, Any]) -> None:
    """Most servers never send some of the five first-value fields: text chunks of such a
    stream merge on the short way, and one that carries such a field at last still sets it."""
    chunks = [_bare({"role": "assistant", "content": ""})]
    chunks += [_bare({"content": t}) for t in "abc"]
    chunks += [_bare({"content": "d"}, **late), _bare({"content": "e"}, system_fingerprint="fp_2")]
    stream = b"".join(chunks)
    whole = Accumulator()
    whole.feed(stream)
    one_by_one = Accumulator()
    for line in stream.split(b"\n\n")[:-1]:
        one_by_one.add(json.loads(line[6:]))
    completion = whole.finalize()
    assert completion == one_by_one.finalize()
    assert completion.choices[0].message.content == "abcde"
    assert completion.system_fingerprint == (late.get("system_fingerprint") or "fp_2")
    assert completion.service_tier == late.get("service_tier")
