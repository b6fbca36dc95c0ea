"""``AutoAccumulator`` and the relays under a hostile server (issue 19).

1. Detection is decided at event boundaries only: the scout frames the stream's first
   ``2 * max_event_size`` bytes whatever the split, so every split gives the same format, result
   and errors (a long comment preamble before ``response.created`` was Responses when fed whole
   and chat, every event refused, in 64-byte pieces), and what is held before a format is chosen
   is bounded.
2. A payload nested past the bound, near the decoder's limit or past it, never tells and never
   raises anything but a located ``ChunkError``, from any caller stack depth.
3. ``Relay`` / ``AsyncRelay`` with ``AutoAccumulator`` over Responses streams: nesting near the
   decoder's limit, an annotation flood and an audio flood reach the client whole, each fault
   recorded, nothing raised out of the relay; a source that fails mid-stream and an ``on_end``
   that raises behave as for chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import orjson
import pytest
from helpers import BASE_SEED, SPLITS, Split, split_feeds

import chunkagg
from chunkagg import (
    AsyncRelay,
    AutoAccumulator,
    ChunkAggError,
    ChunkError,
    EmptyStreamError,
    LimitExceededError,
    Relay,
    RelayResult,
)
from chunkagg._responses import Response

Obj = dict[str, Any]
T = TypeVar("T")
MAX_DEPTH: int = getattr(chunkagg, "MAX_DEPTH", 100)


def _at_depth(frames: int, run: Callable[[], T]) -> T:
    """``run()`` called from ``frames`` Python frames deeper than here."""
    if frames <= 0:
        return run()
    return _at_depth(frames - 1, run)


def _sse(*events: Obj, event_lines: bool = True) -> bytes:
    out = bytearray()
    for event in events:
        if event_lines and "type" in event:
            out += b"event: " + str(event["type"]).encode() + b"\n"
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    return bytes(out)


def _response(status: str, output: list[Obj] | None = None, **extra: Any) -> Obj:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "model": "gpt-4.1",
        "output": output or [],
        **extra,
    }


PART: Obj = {"type": "output_text", "text": "Hi", "annotations": [], "logprobs": []}
MESSAGE: Obj = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [PART],
}
WHERE: Obj = {"item_id": "msg_1", "output_index": 0, "content_index": 0}


def _responses_stream(padding: int = 0) -> list[Obj]:
    """A short Responses stream; ``response.created`` padded to about ``padding`` bytes."""
    created = _response("in_progress", metadata={"pad": "p" * padding} if padding else {})
    return [
        {"type": "response.created", "response": created},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**MESSAGE, "content": []},
        },
        {
            "type": "response.content_part.added",
            **WHERE,
            "part": {**PART, "text": ""},
        },
        {"type": "response.output_text.delta", **WHERE, "delta": "Hi"},
        {"type": "response.completed", "response": _response("completed", [MESSAGE])},
    ]


def _chat_stream() -> list[Obj]:
    return [
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        },
    ]


def _completions_stream() -> list[Obj]:
    return [{"object": "text_completion", "choices": [{"index": 0, "text": "Hi"}]}]


def _auto_outcome(data: bytes, split: Split | str, frames: int = 0, **options: Any) -> Any:
    """What ``AutoAccumulator`` makes of ``data`` fed in the pieces ``split`` asks for, going on
    after each error: the format, the errors (type, event, offset, reason), the result."""

    def run() -> Any:
        acc = AutoAccumulator(**options)
        errors: list[tuple[str, Any, Any, str]] = []
        for piece in split_feeds(data, split):
            chunk = piece
            while True:
                try:
                    acc.feed(chunk)
                except ChunkAggError as exc:
                    errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
                    chunk = b""
                    continue
                break
        result: Any = None
        for _ in range(100):
            try:
                result = json.loads(acc.finalize().to_json())
                break
            except EmptyStreamError as exc:
                errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
                break
            except ChunkAggError as exc:
                errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
        return acc.api, errors, result

    return _at_depth(frames, run)


# -- 1. detection at event boundaries --------------------------------------------------------


def test_a_long_comment_preamble_then_response_created_is_responses_in_every_split() -> None:
    # The fourth case, scaled to max_event_size=4096 (the default takes 1.5 MiB of
    # comments and a 3 MiB event): comments over the old max_event_size fallback, then an event
    # that starts before max_event_size. Fed whole it was Responses; in 64-byte pieces, chat.
    limit = 4096
    preamble = b"".join(b": keep-alive " + b"x" * 50 + b"\n" for _ in range(24))  # ~1.5 KiB
    data = preamble + b"\n" + _sse(*_responses_stream(padding=3000))
    assert len(preamble) < limit < len(data)
    for split in SPLITS:
        got = _auto_outcome(data, split, max_event_size=limit)
        api, errors, result = got
        assert (api, errors) == ("responses", []), (str(split), got)
        assert result["status"] == "completed"
    pieces = [data[i : i + 64] for i in range(0, len(data), 64)]
    assert _outcome_of_pieces(pieces, limit) == got


def _preamble(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += rng.choice(
            [b": " + b"c" * rng.randint(0, 300) + b"\n", b"\n", b"id: 7\n\n", b"retry: 10\n"]
        )
    return bytes(out)


def test_every_split_gives_the_same_format_result_and_errors() -> None:
    # Streams of each format behind a comment preamble of any size, around the window, with
    # and without a blank event line: every split, the same outcome as fed whole.
    rng = random.Random(f"{BASE_SEED}/auto-boundaries")
    limit = 512
    streams = {
        "responses": [_responses_stream(), _responses_stream(padding=300)],
        "chat": [_chat_stream()],
        "completions": [_completions_stream()],
    }
    for n in range(120):
        api = rng.choice(list(streams))
        events = rng.choice(streams[api])
        size = rng.choice([0, 100, limit - 50, limit, limit + 50, 2 * limit - 100, 2 * limit + 10])
        data = _preamble(rng, size) + _sse(*events, event_lines=rng.random() < 0.5)
        where = f"input {n} ({api}, preamble {size}); replay with CHUNKAGG_SEED={BASE_SEED}"
        whole = _auto_outcome(data, "whole", max_event_size=limit)
        for split in ("bytewise", Split("random", rng.randrange(1 << 30))):
            assert _auto_outcome(data, split, max_event_size=limit) == whole, (where, split)
        pieces = [data[i : i + 64] for i in range(0, len(data), 64)]
        assert _outcome_of_pieces(pieces, limit) == whole, where
        # The rule: an event whole within the first 2 * max_event_size bytes tells.
        preamble = len(data) - len(_sse(*events, event_lines=False))
        if whole[0] != api:
            assert preamble + 400 > limit, (where, whole)


def _outcome_of_pieces(pieces: list[bytes], limit: int) -> Any:
    acc = AutoAccumulator(max_event_size=limit)
    errors: list[tuple[str, Any, Any, str]] = []
    for piece in pieces:
        chunk = piece
        while True:
            try:
                acc.feed(chunk)
            except ChunkAggError as exc:
                errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
                chunk = b""
                continue
            break
    result: Any = None
    for _ in range(100):
        try:
            result = json.loads(acc.finalize().to_json())
            break
        except EmptyStreamError as exc:
            errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
            break
        except ChunkAggError as exc:
            errors.append((type(exc).__name__, exc.event, exc.offset, exc.reason))
    return acc.api, errors, result


def test_what_is_held_before_a_format_is_chosen_is_bounded() -> None:
    # Comments only: once 2 * max_event_size bytes have arrived without an event that tells,
    # the format is chat and nothing more is held, whatever the pieces.
    limit = 1000
    for size in (1, 7, 64, 4096):
        acc = AutoAccumulator(max_event_size=limit)
        comment = b": " + b"c" * 98 + b"\n"
        fed = 0
        while acc.api is None:
            data = (comment * (size // len(comment) + 1))[:size]
            acc.feed(data)
            fed += len(data)
            assert fed < 2 * limit + size + 1
        assert acc.api == "chat"
        assert 2 * limit <= fed < 2 * limit + size + 1


# -- 2. nesting --------------------------------------------------------------------------------


def _deep_json(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 10, 500, 960, 990, 999, 10_000])
def test_a_payload_nested_too_deep_never_tells_and_is_one_located_error(depth: int) -> None:
    events = _responses_stream()
    deep = b'{"type":"response.created","x":' + _deep_json(depth) + b"}"
    data = b"data: " + deep + b"\n\n" + _sse(*events)
    outcomes = {
        (frames, str(split)): _auto_outcome(data, split, frames)
        for frames in (0, 300, 600)
        for split in ("whole", Split("random", BASE_SEED + depth))
    }
    first = outcomes[(0, "whole")]
    assert all(o == first for o in outcomes.values()), outcomes
    api, errors, result = first
    # The deep event did not tell (whether it decodes depends on the stack); the next did, and
    # the Responses accumulator refused the deep one, located, and merged the rest.
    assert api == "responses"
    assert [(e[0], e[1], e[2]) for e in errors] == [("ChunkError", 1, 0)]
    assert f"nested deeper than {MAX_DEPTH} levels" in errors[0][3]
    assert result["status"] == "completed"


# -- 3. relays -----------------------------------------------------------------------------------


def _hostile_responses(kind: str, depth: int = 990) -> bytes:
    events = _responses_stream()
    if kind == "deep":
        bad = [
            b'{"type":"response.output_text.annotation.added","output_index":0,"content_index":0,'
            b'"annotation_index":0,"annotation":{"type":"x","v":' + _deep_json(depth) + b"}}"
        ]
    elif kind == "annotations":
        bad = [
            orjson.dumps(
                {
                    "type": "response.output_text.annotation.added",
                    **WHERE,
                    "annotation_index": 0,
                    "annotation": {"type": "url_citation", "url": f"https://e/{i}"},
                }
            )
            for i in range(1100)
        ]
    else:
        bad = [
            orjson.dumps({"type": "response.audio.delta", "delta": "QUJD" * 1000})
            for _ in range(100)
        ]
    return _sse(*events[:4]) + b"".join(b"data: " + p + b"\n\n" for p in bad) + _sse(events[4])


class _Source:
    """Pieces of a body, raising ``error`` once ``fail_after`` pieces were taken."""

    def __init__(self, pieces: list[bytes], fail_after: int | None = None) -> None:
        self.pieces = pieces
        self.fail_after = fail_after

    def sync(self) -> Iterator[bytes]:
        for i, piece in enumerate(self.pieces):
            if i == self.fail_after:
                raise ConnectionError("upstream went away")
            yield piece

    async def aio(self) -> AsyncIterator[bytes]:
        for piece in self.sync():
            await asyncio.sleep(0)
            yield piece


@pytest.mark.parametrize("kind", ["deep", "annotations", "audio"])
def test_relay_of_hostile_responses_passes_every_piece_and_raises_nothing(kind: str) -> None:
    # The relay case: every piece reached the client, then RecursionError escaped the
    # relay, for a few levels of nesting just under what the decoder takes from where the relay
    # runs: every depth up to the decoder's limit, from three stack depths.
    depths = range(MAX_DEPTH + 1, 1000, 2) if kind == "deep" else range(1)
    options: Obj = {"max_text_size": 10_000} if kind == "audio" else {}
    for depth, frames in [(d, f) for d in depths for f in (0, 250, 500)]:
        data = _hostile_responses(kind, depth)
        pieces = split_feeds(data, Split("random", BASE_SEED + frames + depth))
        ends: list[RelayResult[Any]] = []
        relay = Relay(pieces, ends.append, accumulator=AutoAccumulator(**options))
        out = _at_depth(frames, lambda: list(relay))  # noqa: B023
        assert b"".join(out) == data
        (result,) = ends
        assert result.reason == "end" and result.error is None
        assert isinstance(result.completion, Response)
        assert result.completion.status == "completed"
        kinds = {(type(f).__name__, getattr(f, "limit", None)) for f in result.faults}
        expected = {
            "deep": {("ChunkError", None)},
            "annotations": {("LimitExceededError", "max_items")},
            "audio": {("LimitExceededError", "max_text_size")},
        }[kind]
        assert kinds == expected, (kind, frames, result.faults[:3])
        assert all(f.event is not None and f.offset is not None for f in result.faults)
        if kind == "deep":
            assert f"nested deeper than {MAX_DEPTH} levels" in result.faults[0].reason


@pytest.mark.parametrize("kind", ["deep", "annotations", "audio"])
def test_async_relay_of_hostile_responses_passes_every_piece(kind: str) -> None:
    data = _hostile_responses(kind)
    options: Obj = {"max_text_size": 10_000} if kind == "audio" else {}
    ends: list[RelayResult[Any]] = []

    async def run() -> list[bytes]:
        source = _Source(split_feeds(data, Split("random", BASE_SEED))).aio()
        relay = AsyncRelay(source, ends.append, accumulator=AutoAccumulator(**options))
        return [piece async for piece in relay]

    assert b"".join(asyncio.run(run())) == data
    (result,) = ends
    assert result.reason == "end" and isinstance(result.completion, Response)
    assert result.faults and all(
        isinstance(f, ChunkError | LimitExceededError) for f in result.faults
    )
    if kind == "deep":
        assert f"nested deeper than {MAX_DEPTH} levels" in result.faults[0].reason


def test_relay_whose_source_fails_inside_a_hostile_responses_stream() -> None:
    data = _hostile_responses("deep", 960)
    end = data.index(b"event: response.completed")
    pieces = [*split_feeds(data[:end], Split("random", BASE_SEED)), data[end:]]
    cut = len(pieces) - 1  # the source fails instead of giving the terminal event
    ends: list[RelayResult[Any]] = []
    relay = Relay(
        _Source(pieces, fail_after=cut).sync(), ends.append, accumulator=AutoAccumulator()
    )
    got: list[bytes] = []
    with pytest.raises(ConnectionError):
        for piece in _at_depth(500, lambda: relay):
            got.append(piece)
    assert got == pieces[:cut]
    (result,) = ends
    assert result.reason == "upstream-error"
    assert isinstance(result.error, ConnectionError)
    assert isinstance(result.completion, Response)  # the snapshot of what was relayed
    assert result.completion.status == "in_progress"
    assert [type(f).__name__ for f in result.faults] == ["ChunkError"]
    assert f"nested deeper than {MAX_DEPTH} levels" in result.faults[0].reason


def test_relay_whose_on_end_raises_after_a_hostile_responses_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = _hostile_responses("deep", 960)

    def on_end(result: RelayResult[Any]) -> None:
        assert f"nested deeper than {MAX_DEPTH} levels" in result.faults[0].reason
        raise RuntimeError(f"store failed ({len(result.faults)} faults)")

    with caplog.at_level(logging.ERROR, logger="chunkagg"):
        out = list(Relay([data], on_end, accumulator=AutoAccumulator()))
    assert out == [data]
    assert "store failed (1 faults)" in caplog.text
