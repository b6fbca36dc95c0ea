"""The legacy completions format's merge rules (``chunkagg._completions.merge``), one test each,
unknown keys at every level and the rules a caller chooses for them; nothing a caller holds
aliases the state; live events.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
import orjson
import pytest
from completions_helpers import CASES, _fail, _merged, _stream, choice, chunk, lp, sse
from helpers import BASE_SEED, Split, split_feeds

from chunkagg import (
    ChoiceFinished,
    ChunkError,
    ContentDelta,
    LimitExceededError,
    Usage,
    UsageReceived,
)
from chunkagg._completions import CompletionAccumulator, CompletionEvent, decode_completion_chunk

# -- the merge rules ------------------------------------------------------------------------------


def test_choices_by_index_sorted_whatever_the_arrival_order() -> None:
    data = sse(
        chunk(choice(2, "c")),
        chunk(choice(0, "a")),
        chunk(choice(2, "C"), choice(1, "b")),
        chunk(choice(0, "A", finish_reason="stop")),
    )
    completion = _merged(data)
    assert [(c.index, c.text) for c in completion.choices] == [(0, "aA"), (1, "b"), (2, "cC")]
    assert [c.finish_reason for c in completion.choices] == ["stop", None, None]
    only = _merged(sse(chunk(choice(3, "x"))))
    assert [(c.index, c.text) for c in only.choices] == [(3, "x")]


def test_text_concatenated_in_order_null_and_empty_adding_nothing() -> None:
    data = sse(
        chunk(choice(0, "Hel")),
        chunk({"index": 0, "text": None}),
        chunk({"index": 0}),
        chunk(choice(0, "")),
        chunk(choice(0, "lo 東京 😀")),
    )
    assert _merged(data).choices[0].text == "Hello 東京 😀"
    # A choice that never carried text has "" (a non-streamed choice always has its text).
    assert _merged(sse(chunk({"index": 0, "finish_reason": "stop"}))).choices[0].text == ""


def test_finish_reason_is_the_last_non_empty_never_invented() -> None:
    data = sse(
        chunk(choice(0, "a", finish_reason="")),
        chunk(choice(0, "b", finish_reason="length")),
        chunk(choice(0, "", finish_reason=None)),
        chunk(choice(0, "", finish_reason="length")),  # OpenAI sends it again on an empty chunk
    )
    completion = _merged(data)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].text == "ab"
    assert _merged(sse(chunk(choice(0, "x")))).choices[0].finish_reason is None
    later = _merged(
        sse(chunk(choice(0, finish_reason="stop")), chunk(choice(0, finish_reason="x")))
    )
    assert later.choices[0].finish_reason == "x"


def test_top_level_fields_are_the_first_non_empty() -> None:
    data = sse(
        chunk(choices=[], id="", created=0, model="", system_fingerprint=""),
        chunk(choice(0, "a"), id="cmpl-1", created=5, model="m1"),
        chunk(choice(0, "b"), id="cmpl-2", created=6, model="m2", system_fingerprint="fp_1"),
        chunk(choice(0, "c"), system_fingerprint="fp_2"),
    )
    completion = _merged(data)
    assert (completion.id, completion.created, completion.model) == ("cmpl-1", 5, "m1")
    assert completion.system_fingerprint == "fp_1"
    assert type(completion.created) is int
    # The Orq router's spec types created "string | number" for this endpoint: kept as sent.
    orq = _merged(sse(chunk(choice(0, "a"), created="1767225600")))
    assert orq.created == "1767225600"


def test_logprobs_lists_extended_offsets_kept_as_sent() -> None:
    data = sse(
        chunk(choice(0, " Red", lp([" Red"], 27))),
        chunk(choice(0, " is", lp([" is"], 31))),
        chunk(choice(0, "", lp([]), finish_reason="stop")),  # four empty lists
    )
    got = _merged(data).choices[0].logprobs
    assert got is not None
    assert got.tokens == [" Red", " is"]
    assert got.token_logprobs == [-0.5, -0.5]
    assert got.top_logprobs == [{" Red": -0.5, " Reds": -2.0}, {" is": -0.5, " iss": -2.0}]
    assert got.text_offset == [27, 31]  # absolute already: never shifted


def test_logprobs_stay_null_when_never_sent_and_lists_null_when_missing() -> None:
    plain = _merged(sse(chunk(choice(0, "a")), chunk(choice(0, "b", logprobs=None))))
    assert plain.choices[0].logprobs is None
    assert plain.to_dict()["choices"][0]["logprobs"] is None  # written as null, as OpenAI does
    partial = _merged(
        sse(
            chunk(choice(0, "a", logprobs={"tokens": ["a"], "token_logprobs": [None]})),
            chunk(choice(0, "b", logprobs=None)),
            chunk(choice(0, "c", logprobs={"tokens": ["c"], "token_logprobs": [-1]})),
        )
    )
    got = partial.choices[0].logprobs
    assert got is not None
    assert (got.tokens, got.token_logprobs) == (["a", "c"], [None, -1])
    assert (got.top_logprobs, got.text_offset) == (None, None)
    assert partial.to_dict()["choices"][0]["logprobs"] == {
        "tokens": ["a", "c"],
        "token_logprobs": [None, -1],
        "top_logprobs": None,
        "text_offset": None,
    }
    # vLLM: null entries in top_logprobs, and -9999.0 for -inf.
    vllm = _merged(
        sse(
            chunk(
                choice(
                    0,
                    "x",
                    {
                        "tokens": ["x"],
                        "token_logprobs": [-9999.0],
                        "top_logprobs": [None],
                        "text_offset": [0],
                    },
                )
            )
        )
    )
    assert vllm.choices[0].logprobs is not None
    assert vllm.choices[0].logprobs.top_logprobs == [None]


def test_usage_is_the_last_non_null_block_as_sent() -> None:
    first = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    last = {
        "prompt_tokens": 6,
        "total_tokens": 26,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 4},
        "x_cost": {"usd": 0.5},
    }
    data = sse(
        chunk(choice(0, "a"), usage=None),
        chunk(choice(0, "b"), usage=first),  # vLLM continuous_usage_stats: on every chunk
        chunk(choices=[], usage=last),
        chunk(choices=[], usage=None),  # a trailing null changes nothing
    )
    completion = _merged(data)
    assert isinstance(completion.usage, Usage)
    assert completion.to_dict()["usage"] == last  # every key, never summed
    assert completion.usage.extra == {"x_cost": {"usd": 0.5}}
    assert _merged(sse(chunk(choice(0, "a")))).usage is None


def test_vllm_choice_keys_are_the_last_non_null() -> None:
    data = sse(
        chunk(choice(0, "a", stop_reason=None, prompt_token_ids=[1, 2], token_ids=[7])),
        chunk(choice(0, "b", stop_reason=None, prompt_token_ids=None, token_ids=[8])),
        chunk(choice(0, "", finish_reason="stop", stop_reason="\n\n", token_ids=None)),
    )
    got = _merged(data).choices[0]
    assert got.extra == {"stop_reason": "\n\n", "prompt_token_ids": [1, 2], "token_ids": [8]}
    assert _merged(data).to_dict()["choices"][0]["stop_reason"] == "\n\n"
    appended = _merged(data, rules={"token_ids": "append"}).choices[0]
    assert appended.extra["token_ids"] == [7, 8]
    int_stop = _merged(sse(chunk(choice(0, "a", finish_reason="stop", stop_reason=128009))))
    assert int_stop.choices[0].extra["stop_reason"] == 128009


def test_unknown_keys_at_every_level_are_kept() -> None:
    data = sse(
        chunk(
            choice(
                0,
                "a",
                {**lp(["a"]), "x_lp": {"k": [1]}},
                x_choice="first",
                error={"code": "choice-level"},
                message="m",
            ),
            x_top=[1, 2],
            metrics={"ttft": 0.1},
            usage={"prompt_tokens": 1, "x_usage": True},
        ),
        chunk(choice(0, "b", x_choice="second", x_null=None), x_top=None, obfuscation="pad"),
    )
    completion = _merged(data)
    assert completion.extra == {"x_top": [1, 2], "metrics": {"ttft": 0.1}}  # obfuscation dropped
    assert completion.choices[0].extra == {
        "x_choice": "second",
        "error": {"code": "choice-level"},
        "message": "m",
    }
    assert completion.choices[0].logprobs is not None
    assert completion.choices[0].logprobs.extra == {"x_lp": {"k": [1]}}
    assert completion.usage is not None and completion.usage.extra == {"x_usage": True}
    encoded = orjson.loads(completion.to_json())
    assert encoded["x_top"] == [1, 2]
    assert encoded["choices"][0]["x_choice"] == "second"
    assert encoded["choices"][0]["logprobs"]["x_lp"] == {"k": [1]}


def test_rules_choose_how_unknown_keys_merge() -> None:
    data = sse(
        chunk(choice(0, "a", x_s="1", x_o={"a": 1}), x_t="one"),
        chunk(choice(0, "b", x_s="2", x_o={"b": 2}), x_t="two"),
    )
    got = _merged(data, rules={"x_s": "append", "x_o": "merge", "x_t": "first"})
    assert got.choices[0].extra == {"x_s": "12", "x_o": {"a": 1, "b": 2}}
    assert got.extra == {"x_t": "one"}
    for bad in ({"text": "last"}, {"finish_reason": "append"}, {"tokens": "append"}):
        with pytest.raises(ValueError, match="its own merge rule"):
            CompletionAccumulator(rules=cast(Any, bad))
    with pytest.raises(ValueError, match="must be one of"):
        CompletionAccumulator(rules=cast(Any, {"x": "sum"}))
    for option in ("max_choices", "max_text_size", "max_event_size"):
        with pytest.raises(ValueError, match=option):
            CompletionAccumulator(**cast(Any, {option: 0}))
    with pytest.raises(ValueError, match="format"):
        CompletionAccumulator(format=cast(Any, "xml"))


def test_snapshot_mid_stream_and_state_left_unchanged() -> None:
    acc = CompletionAccumulator()
    acc.feed(sse(chunk(choice(0, "Hel")), done=False))
    first = acc.snapshot()
    assert first.choices[0].text == "Hel"
    acc.feed(sse(chunk(choice(0, "lo", finish_reason="stop"))))
    assert acc.snapshot().choices[0].text == "Hello"
    assert acc.finalize() == acc.finalize() == acc.snapshot()
    assert first.choices[0].text == "Hel"


def test_decode_completion_chunk() -> None:
    got = decode_completion_chunk('{"id":"c","choices":[{"index":1,"text":"é","zz":[1]}]}')
    assert got.choices[0].index == 1 and got.choices[0].text == "é"
    assert got.choices[0].extra == {"zz": [1]}
    with pytest.raises(ChunkError, match="invalid chunk") as info:
        decode_completion_chunk(b'{"choices":[{"index":"0"}]}')
    assert info.value.event is None and info.value.offset is None
    with pytest.raises(TypeError):
        decode_completion_chunk(cast(Any, 5))


# -- aliasing, live events ------------------------------------------------------------------------


def test_nothing_a_caller_holds_aliases_the_state() -> None:
    acc = CompletionAccumulator()
    chunks = acc.feed(
        sse(
            chunk(choice(0, "a", lp(["a"]), x_obj={"k": [1]}), x_top={"t": [1]}),
            chunk(choice(0, "b", lp(["b"]))),
            done=False,
        )
    )
    first = acc.snapshot()
    # Change everything mutable in the chunks and in the snapshot.
    for c in chunks:
        logprobs = c.choices[0].logprobs
        assert logprobs is not None and logprobs.top_logprobs is not None
        logprobs.top_logprobs[0]["evil"] = 0.0  # type: ignore[index]
        assert logprobs.tokens is not None
        logprobs.tokens.append("evil")
    chunks[0].choices[0].extra["x_obj"]["k"].append(2)
    snap_lp = first.choices[0].logprobs
    assert snap_lp is not None and snap_lp.top_logprobs is not None and snap_lp.tokens is not None
    snap_lp.top_logprobs[0]["evil"] = 1.0  # type: ignore[index]
    snap_lp.tokens.append("evil")
    first.choices[0].extra["x_obj"]["k"].append(3)
    first.extra["x_top"]["t"].append(3)
    first.choices.append(first.choices[0])
    final = acc.finalize()
    want = {
        "id": "cmpl-test",
        "object": "text_completion",
        "created": 1767225600,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [
            {
                "text": "ab",
                "index": 0,
                "logprobs": {
                    "tokens": ["a", "b"],
                    "token_logprobs": [-0.5, -0.5],
                    "top_logprobs": [{"a": -0.5, "as": -2.0}, {"b": -0.5, "bs": -2.0}],
                    "text_offset": [0, 0],
                },
                "finish_reason": None,
                "x_obj": {"k": [1]},
            }
        ],
        "usage": None,
        "x_top": {"t": [1]},
    }
    assert final.to_dict() == want
    lp_final = final.choices[0].logprobs
    assert lp_final is not None and lp_final.top_logprobs is not None
    lp_final.top_logprobs[1]["evil"] = 2.0  # type: ignore[index]
    final.choices[0].extra["x_obj"]["k"].append(4)
    assert acc.finalize().to_dict() == want
    assert acc.snapshot().to_dict() == want


@pytest.mark.parametrize("name", CASES)
def test_live_events_tell_the_same_story(name: str) -> None:
    acc = CompletionAccumulator(track=True)
    events: list[CompletionEvent] = []
    for piece in split_feeds(_stream(name), Split("random", BASE_SEED)):
        acc.feed(piece)
        events.extend(acc.take_events())
    completion = acc.finalize()
    events.extend(acc.take_events())
    assert acc.take_events() == []
    for ch in completion.choices:
        deltas = [e.delta for e in events if isinstance(e, ContentDelta) and e.choice == ch.index]
        assert "".join(deltas) == ch.text and all(deltas)
        finished = [e for e in events if isinstance(e, ChoiceFinished) and e.choice == ch.index]
        assert finished and finished[-1].finish_reason == ch.finish_reason
    usage = [e.usage for e in events if isinstance(e, UsageReceived)]
    assert usage[-1:] == ([completion.usage] if completion.usage else [])
    assert b'"type":"ContentDelta"' in msgspec.json.encode(events[0])


def test_events_of_a_rejected_chunk_are_not_reported() -> None:
    acc = CompletionAccumulator(track=True, max_choices=2)
    acc.feed(sse(chunk(choice(0, "a")), done=False))
    assert acc.take_events() == [ContentDelta(choice=0, delta="a")]
    _fail(acc, sse(chunk(choice(0, "b"), choice(5, "c")), done=False), LimitExceededError)
    assert acc.take_events() == []
    with pytest.raises(RuntimeError, match="track=True"):
        CompletionAccumulator().take_events()
