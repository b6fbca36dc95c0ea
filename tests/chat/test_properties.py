"""Hypothesis properties over generated streams and arbitrary bytes.

1. Any split of any valid stream (LF, CRLF or CR framed, or NDJSON) finalizes like the whole.
2. A stream rendered from a known truth completion finalizes to that truth.
3. Arbitrary bytes, fed in arbitrary splits, raise nothing but ``ChunkAggError`` subclasses.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import msgspec
from helpers import canonical, ndjson, random_stream, render_stream, sse, streams, truths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkagg import Accumulator, ChatCompletion, ChunkAggError, EmptyStreamError, decode_chunk

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = [0, *sorted(points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def render(chunks: list[dict[str, Any]], framing: str) -> bytes:
    if framing == "ndjson":
        return ndjson(*chunks)
    return sse(*chunks, eol=framing)


FRAMINGS = st.sampled_from(["\n", "\r\n", "\r", "ndjson"])


# -- 1. every split gives the same result -----------------------------------------------------


@SETTINGS
@given(stream=streams(), framing=FRAMINGS, data=st.data())
def test_any_split_gives_the_same_result(
    stream: tuple[dict[str, Any], list[dict[str, Any]]], framing: str, data: st.DataObject
) -> None:
    _, chunks = stream
    body = render(chunks, framing)
    whole = Accumulator()
    whole_chunks = whole.feed(body)
    expected = canonical(whole.finalize())

    points = data.draw(st.lists(st.integers(0, len(body)), max_size=40), label="cut points")
    acc = Accumulator()
    got = []
    for piece in cut(body, points):
        got.extend(acc.feed(piece))
    assert canonical(acc.finalize()) == expected
    assert acc.done == whole.done == (framing != "ndjson")
    # Every chunk comes back from some feed() exactly once, in order.
    assert got == whole_chunks


# -- 2. the stream finalizes to the truth it was rendered from --------------------------------


@SETTINGS
@given(stream=streams(), framing=FRAMINGS)
def test_stream_finalizes_to_its_truth(
    stream: tuple[dict[str, Any], list[dict[str, Any]]], framing: str
) -> None:
    truth, chunks = stream
    acc = Accumulator()
    acc.feed(render(chunks, framing))
    completion = acc.finalize()
    assert isinstance(completion, ChatCompletion)
    assert canonical(completion) == canonical(truth)
    # The same through decode_chunk() + add(), and through the JSON encoding.
    adder = Accumulator()
    for c in chunks:
        adder.add(decode_chunk(msgspec.json.encode(c)))
    assert canonical(adder.finalize()) == canonical(truth)
    assert canonical(msgspec.json.decode(completion.to_json())) == canonical(truth)


@SETTINGS
@given(truth=truths(), seeds=st.lists(st.integers(0, 2**32), min_size=2, max_size=2))
def test_different_renderings_of_one_truth_agree(truth: dict[str, Any], seeds: list[int]) -> None:
    # Two random interleavings and fragmentations of one truth both give the truth.
    for seed in seeds:
        acc = Accumulator()
        acc.feed(sse(*render_stream(truth, random.Random(seed))))
        assert canonical(acc.finalize()) == canonical(truth), f"render seed={seed}"


def test_generator_covers_its_features() -> None:
    # The generator must actually produce what the properties claim to cover, or they prove
    # little: interleaved choices, parallel tool calls, multi-byte text, logprobs and usage.
    seen = set()
    rng = random.Random(0)
    for _ in range(300):
        truth, chunks = random_stream(rng)
        body = sse(*chunks).decode()
        choices = truth["choices"]
        if len(choices) > 1:
            order = [ch["index"] for c in chunks for ch in c["choices"]]
            if order != sorted(order):
                seen.add("interleaved")
        for ch in choices:
            msg = ch["message"]
            if msg["tool_calls"] and len(msg["tool_calls"]) > 1:
                seen.add("parallel-tools")
            if ch["logprobs"] and ch["logprobs"]["content"]:
                seen.add("logprobs")
            for field in ("content", "refusal", "reasoning", "reasoning_content"):
                if msg[field] and any(ord(x) > 0xFFFF for x in msg[field]):
                    seen.add("astral-" + field)
        if truth["usage"] and not chunks[-1]["choices"]:
            seen.add("usage-only-chunk")
        if any(len(c["choices"]) > 1 for c in chunks):
            seen.add("several-choices-in-a-chunk")
        if "中" in body or "日本" in body:
            seen.add("cjk")
    assert seen >= {
        "interleaved",
        "parallel-tools",
        "logprobs",
        "astral-content",
        "astral-refusal",
        "astral-reasoning",
        "astral-reasoning_content",
        "usage-only-chunk",
        "several-choices-in-a-chunk",
        "cjk",
    }, seen


def _edge_truth() -> dict[str, Any]:
    # Values that are falsy but real: empty arguments, an empty token, a zero logprob, empty
    # content. A non-streamed completion carries each of them, so the merged one must too.
    token = {"token": "", "logprob": 0, "bytes": [], "top_logprobs": []}
    certain = {
        "token": "a",
        "logprob": 0.0,
        "bytes": [97],
        "top_logprobs": [{"token": "a", "logprob": 0, "bytes": [97]}],
    }
    return {
        "id": "chatcmpl-edge",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "system_fingerprint": None,
        "service_tier": None,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "",
                    "refusal": None,
                    "reasoning": None,
                    "reasoning_content": None,
                    "tool_calls": [
                        {
                            "id": "call_0",
                            "type": "function",
                            "function": {"name": "no_args", "arguments": ""},
                        },
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        },
                    ],
                },
                "finish_reason": "tool_calls",
                "logprobs": {"content": [token, certain], "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def test_falsy_values_survive_the_merge() -> None:
    truth = _edge_truth()
    for seed in range(20):
        acc = Accumulator()
        acc.feed(sse(*render_stream(truth, random.Random(seed))))
        assert canonical(acc.finalize()) == canonical(truth), f"render seed={seed}"


# -- 3. arbitrary bytes raise only ChunkAggError ----------------------------------------------

TOKENS = [
    b"data: ",
    b"data:",
    b"data: [DONE]",
    b"event: error\n",
    b"id: 1\n",
    b"retry: 10\n",
    b": ping\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\xef\xbb\xbf",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"null",
    b"-1",
    b"1000000000",
    b"0",
    b'"choices":',
    b'"index":',
    b'"delta":',
    b'"content":',
    b'"tool_calls":',
    b'"function":',
    b'"arguments":',
    b'"logprobs":',
    b'"usage":',
    b'"error":',
    b'"audio":{"data":"',
    b"\xff",
    b"\xc3",
    "😀".encode(),
]


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["binary", "tokens", "mutated"]))
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "tokens":
        return b"".join(draw(st.lists(st.sampled_from(TOKENS), max_size=80)))
    _, chunks = draw(streams())
    data = bytearray(render(chunks, draw(FRAMINGS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif pos < len(data):
            data[pos] = draw(st.integers(0, 255))
    return bytes(data)


@SETTINGS
@given(
    data=hostile_bytes(),
    draw=st.data(),
    fmt=st.sampled_from(["auto", "sse", "ndjson"]),
    max_event_size=st.sampled_from([16, 64, 4096]),
)
def test_arbitrary_bytes_raise_only_chunkagg_errors(
    data: bytes, draw: st.DataObject, fmt: str, max_event_size: int
) -> None:
    acc = Accumulator(
        format=fmt,  # type: ignore[arg-type]
        max_event_size=max_event_size,
        max_choices=4,
        max_tool_calls=4,
    )
    points = draw.draw(st.lists(st.integers(0, len(data)), max_size=20), label="cut points")
    budget = len(data) + 10  # each error consumes one event, so errors are bounded
    for piece in cut(data, points):
        pending = piece
        while True:
            try:
                acc.feed(pending)
            except ChunkAggError:
                budget -= 1
                assert budget > 0, "errors never stop"
                pending = b""
                continue
            break
    result = None
    for _ in range(budget):
        try:
            result = acc.finalize()
            break
        except EmptyStreamError:  # no chunk at all: said on every call; the state is readable
            result = acc.snapshot()
            break
        except ChunkAggError:
            continue
    assert isinstance(result, ChatCompletion), "finalize() never returned"
    # Whatever was merged can be encoded.
    assert isinstance(result.to_dict(), dict)
    assert isinstance(result.to_json(), bytes)
