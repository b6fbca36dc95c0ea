"""The Responses API format under hostile input: a mutation loop over the synthetic cases
(flipped bytes, cuts, inserted SSE tokens, mistyped fields, dropped and swapped events, deep
nesting, invalid UTF-8, other line endings, spliced streams) gives only ``ChunkAggError``s, each
located, the same for every split.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any

import orjson
from helpers import BASE_SEED, Split, finalize_recovering
from responses_helpers import (
    CASES,
    Obj,
    _feed,
    _framed,
    _payloads,
    _stream,
)

from chunkagg import (
    ChunkAggError,
    EmptyStreamError,
)
from chunkagg._responses import (
    ResponseAccumulator,
)


def _mutate(rng: random.Random, body: bytes) -> bytes:
    """One hostile variant of a valid stream."""
    data = bytearray(body)
    roll = rng.randrange(10)
    if roll == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif roll == 1:  # truncate anywhere
        del data[rng.randrange(len(data)) :]
    elif roll == 2:  # insert SSE tokens and line breaks
        for _ in range(rng.randint(1, 4)):
            token = rng.choice(
                [b"\n", b"\r", b"\r\n", b"event: error\n", b"data: [DONE]\n\n", b": c\n", b"\x00",
                 b"id: 7\n", b"data: {}\n\n", b"\xef\xbb\xbf", b'"', b"}", b"\xff"]
            )  # fmt: skip
            at = rng.randrange(len(data) + 1)
            data[at:at] = token
    elif roll in (3, 4):  # one field of one event given another value
        payloads = _payloads(body)
        k = rng.randrange(len(payloads))
        event = orjson.loads(payloads[k])
        paths = list(_paths(event))
        path = rng.choice(paths)
        value = rng.choice(
            [None, True, -1, 10**9, 1e300, "x", "", [], {}, [{"a": 1}], {"type": 1}, 2**70, -0.0]
        )
        _set(event, path, value)
        return body.replace(payloads[k], json.dumps(event, ensure_ascii=False).encode())
    elif roll == 5:  # events dropped, duplicated, swapped
        blocks = body.split(b"\n\n")
        for _ in range(rng.randint(1, 3)):
            i, j = rng.randrange(len(blocks)), rng.randrange(len(blocks))
            op = rng.randrange(3)
            if op == 0:
                del blocks[i]
            elif op == 1:
                blocks.insert(j, blocks[i])
            else:
                blocks[i], blocks[j] = blocks[j], blocks[i]
            if not blocks:
                break
        return b"\n\n".join(blocks)
    elif roll == 6:  # deep nesting and huge numbers in a payload
        bomb = rng.choice([b"[" * 5000 + b"]" * 5000, b"1e400", b"-" + b"9" * 5000, b'"\\ud800"'])
        return body.replace(b'"delta":"', b'"delta":' + bomb + b',"x":"', 1)
    elif roll == 7:  # invalid UTF-8 inside a string
        at = body.find(b'"delta":"')
        if at >= 0:
            data[at + 9 : at + 9] = rng.choice([b"\xc3", b"\xed\xa0\x80", b"\xff\xfe"])
    elif roll == 8:  # CRLF or CR line endings
        return body.replace(b"\n", rng.choice([b"\r\n", b"\r"]))
    else:  # splice two streams
        other = _stream(rng.choice(CASES))
        return bytes(data[: rng.randrange(len(data))]) + other[rng.randrange(len(other)) :]
    return bytes(data)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _outcome(data: bytes, split: Split | str, options: Obj) -> tuple[Any, ...]:
    acc = ResponseAccumulator(**options)
    events, errors = _feed(acc, data, split)
    result = finalize_recovering(acc, errors)
    snapshot = acc.snapshot()
    try:
        again = acc.finalize()  # a second finalize() returns the result again
    except EmptyStreamError:
        again = acc.snapshot()
    assert again.to_dict() == result.to_dict()
    for error in errors:
        assert isinstance(error, ChunkAggError)
        if not isinstance(error, EmptyStreamError):
            assert error.event is not None and 1 <= error.event <= acc.event_count
            assert error.offset is not None and 0 <= error.offset <= len(data)
            assert f"event {error.event}, byte offset {error.offset}" in str(error)
    located = [(type(e).__name__, e.event, e.offset) for e in errors]
    updates = acc.take_events() if options.get("track") else []
    return (
        located,
        result.to_dict(),
        snapshot.to_dict(),
        [e.to_dict() for e in events],
        [d.path for d in acc.disagreements],
        len(updates),
    )


def test_hostile_streams_raise_only_located_chunkagg_errors_the_same_for_every_split() -> None:
    rng = random.Random(f"{BASE_SEED}/responses-mutations")
    for n in range(200):
        name = rng.choice(CASES)
        body = _framed(name, rng.random() < 0.7, rng.random() < 0.3)
        data = _mutate(rng, body)
        options: Obj = {"track": rng.random() < 0.3}
        if rng.random() < 0.2:
            options.update(
                max_event_size=rng.choice([1, 64, 600]),
                max_items=rng.choice([1, 2]),
                max_text_size=rng.choice([1, 30]),
            )
        where = f"input {n} ({name}) options={options}; replay with CHUNKAGG_SEED={BASE_SEED}"
        try:
            whole = _outcome(data, "whole", options)
            assert _outcome(data, Split("random", rng.randrange(1 << 30)), options) == whole
            if len(data) < 20_000:
                assert _outcome(data, "bytewise", options) == whole
        except ChunkAggError:
            raise
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc
        except Exception as exc:  # anything else escaping is the bug this test looks for
            raise AssertionError(f"{where}: {type(exc).__name__} escaped: {exc}") from exc
