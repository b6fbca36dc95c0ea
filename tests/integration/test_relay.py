"""``Relay`` and ``AsyncRelay``: every piece passed on unchanged, every fault recorded and the
stream merged on, and ``on_end`` called exactly once however the relay ends.

The oracle for a bad stream is the ``Accumulator`` contract itself (``feed_recovering`` and
``finalize_recovering`` from ``tests/helpers.py``): a relay must record exactly the faults and
merge exactly the completion that catching, resuming and finalizing by hand give, on the same
pieces.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    CUT_EVENT,
    ERROR_CHUNK,
    ERROR_EVENT,
    GOOD_CHUNKS,
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    choice,
    chunk,
    feed_recovering,
    finalize_recovering,
    fixture_pairs,
    split_feeds,
    sse,
)

from chunkagg import (
    Accumulator,
    AccumulatorClosedError,
    AsyncRelay,
    ChatCompletion,
    ChunkAggError,
    ChunkError,
    ContentDelta,
    IncompleteStreamError,
    LimitExceededError,
    Relay,
    RelayResult,
    StreamError,
)

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]
# A bound on waiting for an event-loop hook to close a dropped relay: never reached when it works.
TIMEOUT = 10.0


class Ends:
    """An ``on_end`` that records each call (and, optionally, what else happened in between)."""

    def __init__(self, log: list[str] | None = None) -> None:
        self.results: list[RelayResult[ChatCompletion]] = []
        self.log = log if log is not None else []

    def __call__(self, result: RelayResult[ChatCompletion]) -> None:
        self.results.append(result)
        self.log.append("on_end")

    @property
    def only(self) -> RelayResult[ChatCompletion]:
        assert len(self.results) == 1, self.results
        return self.results[0]


class Source:
    """The pieces as a generator that notes whether it was closed, and may fail partway."""

    def __init__(self, pieces: Iterable[Any], fail_after: int | None = None) -> None:
        self.pieces = list(pieces)
        self.fail_after = fail_after
        self.error = ConnectionError("upstream went away")
        self.closed = False

    def sync(self) -> Iterator[Any]:
        try:
            for i, piece in enumerate(self.pieces):
                if i == self.fail_after:
                    raise self.error
                yield piece
        finally:
            self.closed = True

    async def aio(self) -> AsyncIterator[Any]:
        try:
            for i, piece in enumerate(self.pieces):
                if i == self.fail_after:
                    raise self.error
                yield piece
        finally:
            self.closed = True


def _relay_all(
    pieces: list[bytes], **options: Any
) -> tuple[list[bytes], RelayResult[ChatCompletion], Relay[bytes, ChatCompletion]]:
    ends = Ends()
    relay = Relay(pieces, on_end=ends, **options)
    out = list(relay)
    assert relay.result is ends.only
    return out, ends.only, relay


async def _arelay_all(
    pieces: list[bytes], **options: Any
) -> tuple[list[bytes], RelayResult[ChatCompletion], AsyncRelay[bytes, ChatCompletion]]:
    ends = Ends()
    relay = AsyncRelay(Source(pieces).aio(), on_end=ends, **options)
    out = [piece async for piece in relay]
    assert relay.result is ends.only
    return out, ends.only, relay


def _same_objects(out: list[bytes], pieces: list[bytes]) -> bool:
    return len(out) == len(pieces) and all(a is b for a, b in zip(out, pieces, strict=True))


def _snapshot_of(pieces: Iterable[bytes], **options: Any) -> Any:
    acc = Accumulator(**options)
    feed_recovering(acc, pieces)
    return canonical(acc.snapshot())


# -- every piece passed on unchanged ----------------------------------------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_relayed_unchanged_and_merged(
    name: str, stream: Path, expected: Path, split: Split
) -> None:
    data = stream.read_bytes()
    pieces = split_feeds(data, split)
    out, result, relay = _relay_all(pieces)
    assert _same_objects(out, pieces), f"{name} {split}"
    assert result.reason == "end"
    assert result.faults == [] and relay.faults == []
    assert result.error is None
    assert result.bytes == len(data)
    assert result.done == (b"[DONE]" in data)
    assert canonical(result.completion) == json.loads(expected.read_bytes()), f"{name} {split}"


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_relayed_unchanged_and_merged_async(
    name: str, stream: Path, expected: Path, split: Split
) -> None:
    data = stream.read_bytes()
    pieces = split_feeds(data, split)
    out, result, _ = asyncio.run(_arelay_all(pieces))
    assert _same_objects(out, pieces), f"{name} {split}"
    assert (result.reason, result.faults, result.error) == ("end", [], None)
    assert result.bytes == len(data)
    assert canonical(result.completion) == json.loads(expected.read_bytes()), f"{name} {split}"


def test_bytes_like_pieces_pass_as_they_are() -> None:
    data = sse(chunk(choice(0, role="assistant", content="Hi")), chunk(choice(0, content="!")))
    cut = len(data) // 2
    cut += (len(data) - cut) % 2  # the rest has an even length
    # A memoryview of 2-byte items: its bytes are counted, not its items.
    pieces: list[Any] = [bytearray(data[:cut]), memoryview(data[cut:]).cast("H")]
    ends = Ends()
    out = list(Relay(pieces, on_end=ends))
    assert _same_objects(out, pieces)
    assert ends.only.bytes == len(data)
    assert ends.only.completion.choices[0].message.content == "Hi!"


# -- faults recorded, the stream merged on ----------------------------------------------------

_HUGE = chunk(choice(0, content="x" * 1000))
# Small enough for _HUGE to cross it, large enough for every other event.
_SMALL = {"max_event_size": 512}

# name: (stream, options, fault types in order, merged content, [DONE] seen)
BAD: dict[str, tuple[bytes, dict[str, Any], list[type[ChunkAggError]], str, bool]] = {
    "error-event": (
        sse(*GOOD_CHUNKS[:2], done=False) + ERROR_EVENT + sse(*GOOD_CHUNKS[2:]),
        {},
        [StreamError],
        "Hello, world",
        True,
    ),
    "error-object": (
        sse(*GOOD_CHUNKS[:2], ERROR_CHUNK, *GOOD_CHUNKS[2:]),
        {},
        [StreamError],
        "Hello!, world",
        True,
    ),
    "malformed-json": (
        sse(*GOOD_CHUNKS[:2], b'{"id": "x", "choices": [', *GOOD_CHUNKS[2:]),
        {},
        [ChunkError],
        "Hello, world",
        True,
    ),
    "oversize": (
        sse(*GOOD_CHUNKS[:2], _HUGE, *GOOD_CHUNKS[2:]),
        _SMALL,
        [LimitExceededError],
        "Hello, world",
        True,
    ),
    "cut": (
        sse(*GOOD_CHUNKS[:2], done=False) + CUT_EVENT,
        {},
        [IncompleteStreamError],
        "Hello",
        False,
    ),
    "all-of-them": (
        sse(GOOD_CHUNKS[0], b"{", GOOD_CHUNKS[1], done=False)
        + ERROR_EVENT
        + sse(ERROR_CHUNK, _HUGE, GOOD_CHUNKS[2], done=False)
        + CUT_EVENT,
        _SMALL,
        [ChunkError, StreamError, StreamError, LimitExceededError, IncompleteStreamError],
        "Hello!, world",
        False,
    ),
}


def _check_bad(
    name: str, split: Split, pieces: list[bytes], out: list[bytes], r: RelayResult[ChatCompletion]
) -> None:
    data, options, kinds, content, done = BAD[name]
    where = f"{name} {split}"
    assert _same_objects(out, pieces), where
    assert r.reason == "end", where
    assert [type(f) for f in r.faults] == kinds, f"{where}: {r.faults}"
    events = [f.event for f in r.faults]
    assert all(e is not None for e in events), where
    assert events == sorted(events), where  # type: ignore[type-var]
    assert r.completion.choices[0].message.content == content, where
    assert r.done == done, where
    assert r.bytes == len(data), where
    # Exactly what catching and resuming by hand gives on the same pieces.
    acc = Accumulator(**options)
    _, errors = feed_recovering(acc, pieces)
    want = finalize_recovering(acc, errors)
    assert [str(f) for f in r.faults] == [str(e) for e in errors], where
    assert canonical(r.completion) == canonical(want), where
    if name == "oversize":
        limit = r.faults[0]
        assert isinstance(limit, LimitExceededError)
        assert limit.limit == "max_event_size", where
    if name == "error-event":
        error = r.faults[0]
        assert isinstance(error, StreamError)
        assert (error.message, error.code) == ("overloaded", 529), where


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("name", list(BAD))
def test_bad_stream_faults_recorded_and_relay_goes_on(name: str, split: Split) -> None:
    data, options, *_ = BAD[name]
    pieces = split_feeds(data, split)
    out, result, relay = _relay_all(pieces, **options)
    _check_bad(name, split, pieces, out, result)
    assert relay.faults == result.faults


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("name", list(BAD))
def test_bad_stream_faults_recorded_and_relay_goes_on_async(name: str, split: Split) -> None:
    data, options, *_ = BAD[name]
    pieces = split_feeds(data, split)
    out, result, _ = asyncio.run(_arelay_all(pieces, **options))
    _check_bad(name, split, pieces, out, result)


def test_faults_readable_while_relaying() -> None:
    data = sse(*GOOD_CHUNKS[:2], done=False) + ERROR_EVENT + sse(*GOOD_CHUNKS[2:])
    pieces = [
        data[: data.index(b"event:")],
        ERROR_EVENT,
        data[data.index(b"event:") + len(ERROR_EVENT) :],
    ]
    relay = Relay(pieces)
    seen = []
    for _ in relay:
        seen.append((len(relay.faults), relay.result))
    # A piece is merged once the consumer comes back for the next one.
    assert seen == [(0, None), (0, None), (1, None)]
    assert relay.result is not None
    assert relay.accumulator.snapshot().choices[0].message.content == "Hello, world"


def test_options_reach_the_accumulator() -> None:
    data = sse(*GOOD_CHUNKS)
    ends = Ends()
    relay = Relay(split_feeds(data, "bytewise"), on_end=ends, track=True)
    list(relay)
    events = relay.accumulator.take_events()
    assert [e.delta for e in events if isinstance(e, ContentDelta)] == ["Hello", ", world"]
    with pytest.raises(ValueError, match="max_event_size"):
        Relay([], max_event_size=0)
    with pytest.raises(ValueError, match="max_event_size"):
        AsyncRelay(Source([]).aio(), max_event_size=0)


def test_accumulator_finalized_mid_stream_is_a_fault_per_piece() -> None:
    pieces = [sse(GOOD_CHUNKS[0], done=False), sse(GOOD_CHUNKS[1], done=False), sse(GOOD_CHUNKS[2])]
    relay = Relay(pieces)
    out = []
    for piece in relay:
        out.append(piece)
        if len(out) == 2:
            # The caller's own doing (the first piece is merged by now): nothing more can merge,
            # and the relay must neither stop nor retry forever.
            relay.accumulator.finalize()
    assert _same_objects(out, pieces)
    assert relay.result is not None
    assert [type(f) for f in relay.result.faults] == [AccumulatorClosedError] * 2
    assert relay.result.completion.choices[0].message.content == ""


@pytest.mark.parametrize("data", [b"", b": keep-alive\n\n", b"data: [DONE]\n\n", b"<html>"])
def test_stream_without_a_chunk_ends(data: bytes) -> None:
    # finalize() may judge the whole stream (no chunk at all) and say so again on every call:
    # the relay records that once and reports the snapshot.
    out, result, _ = _relay_all([data])
    assert out == [data]
    assert result.reason == "end"
    assert result.completion.choices == []
    assert len(result.faults) <= 1
    assert all(isinstance(f, ChunkAggError) for f in result.faults)


# -- on_end: exactly once, with the reason --------------------------------------------------------

# One event per piece: the 4 chunks, then [DONE].
_PIECES = [sse(c, done=False) for c in GOOD_CHUNKS] + [b"data: [DONE]\n\n"]


def test_end_calls_on_end_once_before_the_iteration_stops() -> None:
    log: list[str] = []
    ends = Ends(log)
    for _ in Relay(_PIECES, on_end=ends):
        log.append("piece")
    assert log == ["piece"] * 5 + ["on_end"]
    assert ends.only.reason == "end"
    assert ends.only.done


@pytest.mark.parametrize("how", ["break", "close", "throw"])
def test_disconnect(how: str) -> None:
    source = Source(_PIECES)
    ends = Ends()
    relay = Relay(source.sync(), on_end=ends)
    iterator = iter(relay)
    handed = [next(iterator), next(iterator)]
    if how == "break":
        # What a `for` loop left by `break` does: the iterator is dropped, and CPython closes it.
        del iterator
    elif how == "close":
        iterator.close()
    else:
        # An exception thrown in at the yield is the consumer's, never the upstream's.
        with pytest.raises(KeyError):
            iterator.throw(KeyError("consumer"))
    result = ends.only
    assert result is relay.result
    assert (result.reason, result.error, result.done) == ("disconnect", None, False)
    # The piece the consumer held when it left is merged and counted too.
    assert result.bytes == sum(map(len, handed))
    assert canonical(result.completion) == _snapshot_of(handed)
    assert result.completion.choices[0].message.content == "Hello"
    assert source.closed  # the source's own cleanup ran at once


def test_break_out_of_a_for_loop() -> None:
    ends = Ends()
    for _ in Relay(_PIECES, on_end=ends):
        break
    assert ends.only.reason == "disconnect"
    assert ends.only.bytes == len(_PIECES[0])


def test_never_started_relay_never_ends() -> None:
    ends = Ends()
    relay = Relay(_PIECES, on_end=ends)
    iter(relay).close()
    assert ends.results == []
    assert relay.result is None


def test_upstream_error_calls_on_end_then_propagates() -> None:
    log: list[str] = []
    ends = Ends(log)
    source = Source(_PIECES, fail_after=2)
    relay = Relay(source.sync(), on_end=ends)
    out = []
    with pytest.raises(ConnectionError) as caught:
        for piece in relay:
            out.append(piece)
            log.append("piece")
    log.append("raised")
    assert caught.value is source.error
    assert log == ["piece", "piece", "on_end", "raised"]
    result = ends.only
    assert (result.reason, result.error) == ("upstream-error", source.error)
    assert result.bytes == sum(map(len, out))
    assert canonical(result.completion) == _snapshot_of(out)
    assert result.completion.choices[0].message.content == "Hello"


def test_str_piece_is_a_type_error_before_it_is_passed_on() -> None:
    _with_str: list[Any] = [_PIECES[0], "data: {}\n\n", _PIECES[1]]
    ends = Ends()
    out = []
    with pytest.raises(TypeError, match=r"yielded str \(encode text") as caught:
        for piece in Relay(_with_str, on_end=ends):
            out.append(piece)
    assert out == [_PIECES[0]]
    assert (ends.only.reason, ends.only.error) == ("upstream-error", caught.value)
    ints: list[Any] = [1]
    with pytest.raises(TypeError, match=r"yielded int$"):
        list(Relay(ints))


def test_a_relay_is_iterated_once() -> None:
    relay = Relay(_PIECES)
    list(relay)
    with pytest.raises(RuntimeError, match="only once"):
        iter(relay)


def _raising_on_end(result: RelayResult[ChatCompletion]) -> None:
    raise RuntimeError("the store is down")


def _check_logged(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.name == "chunkagg"]
    assert [r.levelno for r in records] == [logging.ERROR]
    assert records[0].exc_info is not None
    assert str(records[0].exc_info[1]) == "the store is down"


def test_on_end_that_raises_is_logged_and_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    relay = Relay(_PIECES, on_end=_raising_on_end)
    assert _same_objects(list(relay), _PIECES)  # the response is whole
    assert relay.result is not None
    assert relay.result.reason == "end"
    _check_logged(caplog)


def test_on_end_that_raises_leaves_the_upstream_error(caplog: pytest.LogCaptureFixture) -> None:
    source = Source(_PIECES, fail_after=1)
    with pytest.raises(ConnectionError) as caught:
        list(Relay(source.sync(), on_end=_raising_on_end))
    assert caught.value is source.error
    _check_logged(caplog)


# -- async: the same, plus cancellation and async on_end -------------------------------------------


def test_async_end_with_coroutine_on_end() -> None:
    log: list[str] = []

    async def on_end(result: RelayResult[ChatCompletion]) -> None:
        await asyncio.sleep(0)
        log.append(f"on_end {result.reason}")

    async def run() -> None:
        async for _ in AsyncRelay(Source(_PIECES).aio(), on_end=on_end):
            log.append("piece")

    asyncio.run(run())
    assert log == ["piece"] * 5 + ["on_end end"]


@pytest.mark.parametrize("how", ["aclose", "throw"])
def test_async_disconnect(how: str) -> None:
    source = Source(_PIECES)
    ends = Ends()

    async def run() -> list[bytes]:
        iterator = aiter(AsyncRelay(source.aio(), on_end=ends))
        handed = [await anext(iterator), await anext(iterator)]
        if how == "aclose":
            await iterator.aclose()
        else:
            with pytest.raises(KeyError):
                await iterator.athrow(KeyError("consumer"))
        return handed

    handed = asyncio.run(run())
    result = ends.only
    assert (result.reason, result.error, result.done) == ("disconnect", None, False)
    assert result.bytes == sum(map(len, handed))
    assert canonical(result.completion) == _snapshot_of(handed)
    assert source.closed


def test_async_break_ends_once_the_loop_closes_the_dropped_relay() -> None:
    async def run() -> RelayResult[ChatCompletion]:
        ended = asyncio.Event()
        results: list[RelayResult[ChatCompletion]] = []

        def on_end(result: RelayResult[ChatCompletion]) -> None:
            results.append(result)
            ended.set()

        async for _ in AsyncRelay(Source(_PIECES).aio(), on_end=on_end):
            break
        # The loop's async-generator hooks close the dropped relay in a task of their own.
        await asyncio.wait_for(ended.wait(), TIMEOUT)
        assert len(results) == 1
        return results[0]

    result = asyncio.run(run())
    assert (result.reason, result.bytes) == ("disconnect", len(_PIECES[0]))


def _stalled(first: bytes, closed: list[bool]) -> Callable[[], AsyncIterator[bytes]]:
    async def source() -> AsyncIterator[bytes]:
        try:
            yield first
            await asyncio.Event().wait()  # upstream sends nothing more
            yield b"never"
        finally:
            closed.append(True)

    return source


@pytest.mark.parametrize("async_on_end", [False, True], ids=["sync-on_end", "async-on_end"])
@pytest.mark.parametrize("where", ["awaiting-source", "holding-piece"])
def test_async_cancelled_consumer(where: str, async_on_end: bool) -> None:
    """The consuming task is cancelled (a server does so when its client leaves), either while
    the relay waits for upstream or while the consumer holds a piece (busy sending it)."""
    closed: list[bool] = []

    async def run() -> tuple[list[RelayResult[ChatCompletion]], list[bytes]]:
        results: list[RelayResult[ChatCompletion]] = []
        ended = asyncio.Event()
        got_piece = asyncio.Event()
        out: list[bytes] = []

        def record(result: RelayResult[ChatCompletion]) -> None:
            results.append(result)
            ended.set()

        async def on_end_async(result: RelayResult[ChatCompletion]) -> None:
            await asyncio.sleep(0)  # runs in the cancelled task: plain asyncio lets it finish
            record(result)

        relay = AsyncRelay(
            _stalled(_PIECES[0], closed)(), on_end=on_end_async if async_on_end else record
        )

        async def consume() -> None:
            async for piece in relay:
                out.append(piece)
                got_piece.set()
                if where == "holding-piece":
                    await asyncio.Event().wait()  # a send that never completes

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_piece.wait(), TIMEOUT)
        await asyncio.sleep(0)  # let the consumer reach its next await
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(ended.wait(), TIMEOUT)
        return results, out

    results, out = asyncio.run(run())
    assert len(results) == 1
    result = results[0]
    assert (result.reason, result.error) == ("disconnect", None)
    assert out == [_PIECES[0]]
    assert result.bytes == len(_PIECES[0])
    assert result.completion.choices[0].message.role == "assistant"
    assert closed == [True]


def test_async_upstream_error_calls_on_end_then_propagates() -> None:
    log: list[str] = []
    ends = Ends(log)
    source = Source(_PIECES, fail_after=2)

    async def run() -> list[bytes]:
        out: list[bytes] = []
        with pytest.raises(ConnectionError) as caught:
            async for piece in AsyncRelay(source.aio(), on_end=ends):
                out.append(piece)
                log.append("piece")
        log.append("raised")
        assert caught.value is source.error
        return out

    out = asyncio.run(run())
    assert log == ["piece", "piece", "on_end", "raised"]
    assert (ends.only.reason, ends.only.error) == ("upstream-error", source.error)
    assert canonical(ends.only.completion) == _snapshot_of(out)


def test_async_str_piece_and_second_iteration() -> None:
    ends = Ends()

    async def run() -> None:
        relay = AsyncRelay(Source([_PIECES[0], "data: {}\n\n"]).aio(), on_end=ends)
        out = []
        with pytest.raises(TypeError, match="yielded str"):
            async for piece in relay:
                out.append(piece)
        assert out == [_PIECES[0]]
        with pytest.raises(RuntimeError, match="only once"):
            aiter(relay)

    asyncio.run(run())
    assert ends.only.reason == "upstream-error"
    assert isinstance(ends.only.error, TypeError)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_async_on_end_that_raises_is_logged(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    async def on_end_async(result: RelayResult[ChatCompletion]) -> None:
        await asyncio.sleep(0)
        _raising_on_end(result)

    async def run() -> list[bytes]:
        on_end = _raising_on_end if kind == "sync" else on_end_async
        return [p async for p in AsyncRelay(Source(_PIECES).aio(), on_end=on_end)]

    assert _same_objects(asyncio.run(run()), _PIECES)
    _check_logged(caplog)


def test_result_is_frozen() -> None:
    _, result, _ = _relay_all(_PIECES)
    assert isinstance(result.completion, ChatCompletion)
    with pytest.raises(AttributeError):
        result.reason = "disconnect"  # type: ignore[misc]
