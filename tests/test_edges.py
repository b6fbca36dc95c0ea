"""Regression tests for the edges: inputs that are not a chat-completion stream, relays, and
exactness where chunkagg 0.1 was silently wrong. Each test failed on 0.1.

Every stream here is fed whole, one byte at a time and in random slices (``SPLITS``).
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
    choice,
    chunk,
    feed_all,
    fixture_pairs,
    sse,
)

import chunkagg
from chunkagg import (
    Accumulator,
    ChunkAggError,
    ToolCallDone,
)

PAIRS = fixture_pairs()
PAIR_IDS = [name for name, _, _ in PAIRS]
OK = chunk(choice(role="assistant", content="ok"))


def _finalize_error(data: bytes, split: Split | str = "whole", **options: Any) -> ChunkAggError:
    acc = Accumulator(**options)
    try:
        feed_all(acc, data, split)
        acc.finalize()
    except ChunkAggError as exc:
        return exc
    raise AssertionError("no error")


# -- 1. nothing that is not a chat-completion stream passes as one --------------------------------


# -- a non-streamed body ------------------------------------------------------------------------


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


# -- 2. relays: ChunkStream and accumulate --------------------------------------------------------


# -- SSE event objects (the Orq SDK's stream items, httpx-sse, openai) ----------------------------


# -- 3. exactness at the edges --------------------------------------------------------------------


def _tool(index: int, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index}
    function = {k: fields.pop(k) for k in ("name", "arguments") if k in fields}
    if function:
        call["function"] = function
    call.update(fields)
    return call


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_known_id_at_a_reused_index_continues_its_own_call(split: Split) -> None:
    stream = sse(
        chunk(choice(tool_calls=[_tool(0, id="a", name="f", arguments='{"x":')])),
        chunk(choice(tool_calls=[_tool(0, id="b", name="g", arguments='{"y":')])),
        chunk(choice(tool_calls=[_tool(0, id="a", arguments="1}")])),
        chunk(choice(tool_calls=[_tool(0, arguments="")])),  # goes on with "a"
        chunk(choice(tool_calls=[_tool(0, id="b", arguments="2}")], finish_reason="tool_calls")),
    )
    acc = Accumulator()
    feed_all(acc, stream, split)
    calls = acc.finalize().choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("a", "f", '{"x":1}'),
        ("b", "g", '{"y":2}'),
    ]


def test_tool_call_done_again_when_its_id_or_name_comes_late() -> None:
    acc = Accumulator(track=True)
    acc.feed(sse(chunk(choice(tool_calls=[_tool(0, arguments="{}")], finish_reason="tool_calls"))))
    acc.feed(sse(chunk(choice(tool_calls=[_tool(0, id="call_1", name="run")])), done=False))
    acc.finalize()
    done = [e for e in acc.take_events() if isinstance(e, ToolCallDone)]
    assert [(d.id, d.name, d.arguments) for d in done] == [
        (None, None, "{}"),
        ("call_1", "run", "{}"),
    ]


def test_nothing_a_caller_holds_aliases_the_merge() -> None:
    token = {"token": "a", "logprob": -0.5, "bytes": [97], "top_logprobs": []}
    acc = Accumulator()
    chunks = acc.feed(
        sse(
            chunk(
                {**choice(content="a"), "logprobs": {"content": [token], "refusal": None}},
                usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            ),
            done=False,
        )
    )
    before = acc.snapshot().to_dict()
    with pytest.raises(AttributeError):
        chunks[0].id = "changed"  # type: ignore[misc]
    chunks[0].choices.clear()  # the chunk's own list: not the merge state
    snap = acc.snapshot()
    snap.choices[0].message.content = "changed"
    assert snap.choices[0].logprobs is not None and snap.choices[0].logprobs.content is not None
    snap.choices[0].logprobs.content.clear()
    snap.choices.clear()
    assert acc.finalize().to_dict() == before


# -- 4. bounded and linear -------------------------------------------------------------------------


# -- 5. the command line ---------------------------------------------------------------------------
