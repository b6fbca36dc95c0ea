"""Every captured stream under tests/fixtures finalizes to its ``.expected.json``.

Each stream runs whole, one byte at a time and in random slices, as captured (LF), with every LF
turned into CRLF or into a lone CR (all legal SSE line endings), and converted to NDJSON (one JSON
chunk per line, which ``format="auto"`` must detect). Each expected file, sent as a non-streamed
body (one JSON document, pretty or compact), finalizes to itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    convert_eol,
    data_payloads,
    feed_all,
    fixture_pairs,
)

import chunkagg
from chunkagg import Accumulator, decode_chunk

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]


def _expected(path: Path) -> Any:
    return json.loads(path.read_bytes())


def to_ndjson(stream: bytes) -> bytes:
    return b"".join(p + b"\n" for p in data_payloads(stream))


def test_fixture_set_is_complete() -> None:
    # The 17 pairs of the fixtures README, each stream with its expected file.
    assert len(PAIRS) == 17
    assert {name.split("/")[0] for name in PAIR_IDS} == {
        "openai-python",
        "openai-node",
        "openai-go",
    }
    for _, stream, expected in PAIRS:
        assert expected.is_file(), expected
        assert stream.read_bytes().rstrip().endswith(b"data: [DONE]"), stream


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture(name: str, stream: Path, expected: Path, eol: bytes, split: Split) -> None:
    data = convert_eol(stream.read_bytes(), eol)
    acc = Accumulator()
    chunks = feed_all(acc, data, split)
    where = f"{name} eol={eol!r} split={split}"
    assert canonical(acc.finalize()) == _expected(expected), where
    assert acc.done, where
    # feed() handed back every chunk exactly once, in stream order. (A lone CR at the very end
    # may be held until finalize(), in case an LF follows: the last chunk needs no such wait.)
    payloads = data_payloads(stream.read_bytes())
    assert len(chunks) == len(payloads), where
    assert [c.id for c in chunks] == [json.loads(p)["id"] for p in payloads], where


@pytest.mark.parametrize("fmt", ["auto", "ndjson"])
@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_as_ndjson(name: str, stream: Path, expected: Path, split: Split, fmt: str) -> None:
    data = to_ndjson(stream.read_bytes())
    assert data.startswith(b"{")
    acc = Accumulator(format=fmt)  # type: ignore[arg-type]
    chunks = feed_all(acc, data, split)
    where = f"{name} format={fmt} split={split}"
    assert canonical(acc.finalize()) == _expected(expected), where
    assert len(chunks) == len(data_payloads(stream.read_bytes())), where
    assert not acc.done, where  # NDJSON carries no [DONE]


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_snapshot_then_finalize(name: str, stream: Path, expected: Path) -> None:
    # snapshot() mid-stream changes nothing; the finalize() after it is still exact.
    data = stream.read_bytes()
    acc = Accumulator()
    half = len(data) // 2
    acc.feed(data[:half])
    first = canonical(acc.snapshot())
    assert canonical(acc.snapshot()) == first
    acc.feed(data[half:])
    assert canonical(acc.finalize()) == _expected(expected), name
    # finalize() twice returns the completion again.
    assert canonical(acc.finalize()) == _expected(expected), name


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_through_add(name: str, stream: Path, expected: Path) -> None:
    # Callers who frame the stream themselves: decode_chunk() + add() give the same completion.

    acc = Accumulator()
    for payload in data_payloads(stream.read_bytes()):
        acc.add(decode_chunk(payload))
    assert canonical(acc.finalize()) == _expected(expected), name


@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_fixture_to_json_round_trips(name: str, stream: Path, expected: Path) -> None:
    acc = Accumulator()
    acc.feed(stream.read_bytes())
    completion = acc.finalize()
    assert canonical(json.loads(completion.to_json())) == _expected(expected), name
    assert canonical(completion.to_dict()) == _expected(expected), name


# -- a non-streamed body: the expected file, fed as one JSON document -----------------------------


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("layout", ["pretty", "compact", "compact-lf"])
@pytest.mark.parametrize(("name", "stream", "expected"), PAIRS, ids=PAIR_IDS)
def test_a_non_streamed_completion_body_finalizes_to_itself(
    name: str, stream: Path, expected: Path, layout: str, split: Split
) -> None:
    body = json.loads(expected.read_bytes())
    if layout == "pretty":
        data = json.dumps(body, indent=2, ensure_ascii=False).encode()
    else:
        data = orjson.dumps(body) + (b"\n" if layout == "compact-lf" else b"")
    acc = Accumulator()
    feed_all(acc, data, split)
    assert canonical(acc.finalize()) == body, f"{name} {layout} {split}"


def test_a_non_streamed_body_with_tool_calls_and_an_explicit_format() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                        {"type": "function", "function": {"name": "g", "arguments": "[]"}},
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    data = json.dumps(body, indent=1).encode()
    for fmt in ("auto", "json"):
        got = canonical(chunkagg.accumulate([data], format=fmt))
        assert got == canonical(body), fmt
