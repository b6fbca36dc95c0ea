"""The legacy completions format: ``CompletionAccumulator`` on ``text_completion`` streams.

1. The synthetic cases (``tests/synthetic/completions``, see its README) merge to their expected
   files under every split, LF and CRLF, as NDJSON, and as non-streamed bodies.
2. The merge rules, one test each, and unknown keys at every level (a property test too).
3. Errors name their event and byte offset; a bad chunk is rejected whole; limits.
4. ``add()`` with dicts, SSE event objects, the openai SDK's ``Completion`` models and the Orq
   SDK's float-typed numbers.
5. Nothing a caller holds aliases the state; live events.
6. Properties: generated streams merge to their truth under every split.
7. ``tests/fuzz.py``'s mutation families over this format's streams.
8. Real sockets: the openai SDK (sync and async, raw bytes and decoded chunks) against the local
   server's ``/v1/completions``; the Orq SDK, which cannot read these streams, and the raw-bytes
   recipe that can.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import zlib
from pathlib import Path
from typing import Any, cast

import fuzz
import httpx
import msgspec
import openai
import orjson
import pytest
from helpers import (
    BASE_SEED,
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    convert_eol,
    data_payloads,
    split_feeds,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai._models import construct_type
from openai.types import Completion

from chunkagg import (
    ChoiceFinished,
    ChunkAggError,
    ChunkError,
    ContentDelta,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
    Usage,
    UsageReceived,
)
from chunkagg._completions import CompletionChunk, TextCompletion
from chunkagg._completions import (
    CompletionAccumulator,
    CompletionEvent,
    decode_completion_chunk,
)

SYNTHETIC = Path(__file__).parent / "synthetic" / "completions"
CASES = sorted(p.stem for p in SYNTHETIC.glob("*.sse"))
TIMEOUT = 10.0


def _stream(name: str) -> bytes:
    return (SYNTHETIC / f"{name}.sse").read_bytes()


def _expected(name: str) -> Any:
    return json.loads((SYNTHETIC / f"{name}.expected.json").read_bytes())


def _merged(data: bytes, split: Split | str = "whole", **options: Any) -> TextCompletion:
    acc = CompletionAccumulator(**options)
    _feed(acc, data, split)
    return acc.finalize()


def _feed(acc: CompletionAccumulator, data: bytes, split: Split | str = "whole") -> list[Any]:
    # helpers.feed_all is typed for chat's Accumulator; the same loop.
    out: list[Any] = []
    for piece in split_feeds(data, split):
        out.extend(acc.feed(piece))
    return out


def chunk(*choices: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A ``text_completion`` chunk dict in OpenAI's key order; ``top`` overrides or adds keys."""
    body: dict[str, Any] = {
        "id": "cmpl-test",
        "object": "text_completion",
        "created": 1767225600,
        "choices": list(choices),
        "model": "gpt-3.5-turbo-instruct",
    }
    body.update(top)
    return body


def choice(
    index: int = 0, text: str = "", logprobs: Any = None, finish_reason: Any = None, **extra: Any
) -> dict[str, Any]:
    """One entry of a chunk's ``choices``."""
    return {
        "text": text,
        "index": index,
        "logprobs": logprobs,
        "finish_reason": finish_reason,
        **extra,
    }


def sse(*chunks: dict[str, Any] | bytes, done: bool = True) -> bytes:
    parts = [b"data: " + (c if isinstance(c, bytes) else orjson.dumps(c)) + b"\n\n" for c in chunks]
    return b"".join(parts) + (b"data: [DONE]\n\n" if done else b"")


def lp(tokens: list[str], offset: int = 0, **override: Any) -> dict[str, Any]:
    """Logprobs for ``tokens``: one value, one top dict and one offset each."""
    offsets = list(itertools.accumulate([offset, *map(len, tokens)]))[:-1]
    value: dict[str, Any] = {
        "tokens": tokens,
        "token_logprobs": [-0.5] * len(tokens),
        "top_logprobs": [{t: -0.5, t + "s": -2.0} for t in tokens],
        "text_offset": offsets,
    }
    value.update(override)
    return value


# -- 1. the synthetic cases --------------------------------------------------------------------


def test_every_case_is_here() -> None:
    manifest = json.loads((SYNTHETIC / "manifest.json").read_bytes())
    assert sorted(entry["case"] for entry in manifest) == CASES
    assert len(CASES) == 8


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", CASES)
def test_case_merges(name: str, eol: bytes, split: Split) -> None:
    acc = CompletionAccumulator()
    chunks = _feed(acc, convert_eol(_stream(name), eol), split)
    completion = acc.finalize()
    assert canonical(completion) == canonical(_expected(name)), f"{name} {split}"
    assert isinstance(completion, TextCompletion)
    assert completion.object == "text_completion"
    assert acc.done
    manifest = {e["case"]: e for e in json.loads((SYNTHETIC / "manifest.json").read_bytes())}
    assert len(chunks) == acc.event_count - 1 == manifest[name]["chunks"]
    assert all(isinstance(c, CompletionChunk) for c in chunks)


@pytest.mark.parametrize("name", CASES)
def test_case_as_ndjson(name: str) -> None:
    payloads = data_payloads(_stream(name))
    for data, options in (
        (b"\n".join(payloads) + b"\n", {}),
        (b"\r\n".join(payloads), {"format": "ndjson"}),
    ):
        assert canonical(_merged(data, **options)) == canonical(_expected(name)), name


@pytest.mark.parametrize("name", CASES)
def test_a_non_streamed_body_merges_to_itself(name: str) -> None:
    # A streamed chunk and a non-streamed text_completion share one shape (the openai SDK's
    # docstring), so the expected body, fed as one JSON document, is its own merge.
    body = (SYNTHETIC / f"{name}.expected.json").read_bytes()
    for options in ({}, {"format": "json"}):
        assert canonical(_merged(body, **options)) == canonical(_expected(name)), name


@pytest.mark.parametrize("name", CASES)
def test_decoded_chunks_reencode_to_what_was_sent(name: str) -> None:
    # A relay forwarding chunk.to_json() loses nothing: every key the server sent, nulls of the
    # undeclared keys included (vLLM's stop_reason: null), comes back.
    for payload in data_payloads(_stream(name)):
        sent = orjson.loads(payload)
        again = orjson.loads(decode_completion_chunk(payload).to_json())
        assert canonical(again) == canonical(sent)
        for sent_choice, again_choice in zip(sent["choices"], again["choices"], strict=True):
            assert set(again_choice) >= set(sent_choice)


# -- 2. the merge rules --------------------------------------------------------------------------


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


# -- 3. errors, limits, and the bad chunk rejected whole -------------------------------------------


def _fail(acc: CompletionAccumulator, data: bytes, kind: type[ChunkAggError]) -> ChunkAggError:
    with pytest.raises(kind) as info:
        acc.feed(data)
    return info.value


def test_bad_json_names_event_and_offset_and_the_stream_goes_on() -> None:
    good = sse(chunk(choice(0, "a")), done=False)
    bad = b"data: {not json}\n\n"
    acc = CompletionAccumulator()
    error = _fail(acc, good + bad + sse(chunk(choice(0, "b"))), ChunkError)
    assert (error.event, error.offset) == (2, len(good))
    assert f"event 2, byte offset {len(good)}" in str(error)
    assert error.chunks and error.chunks[0].choices[0].text == "a"
    acc.feed(b"")
    assert acc.finalize().choices[0].text == "ab"


@pytest.mark.parametrize(
    "bad",
    [
        choice(0, cast(Any, 5)),
        {"index": "0", "text": "x"},
        {"index": 0.5, "text": "x"},
        choice(0, "x", finish_reason=1),
        choice(0, "x", logprobs={"tokens": "abc"}),
        choice(0, "x", logprobs={"text_offset": [1.5]}),
        choice(0, "x", logprobs={"top_logprobs": [{"a": "b"}]}),
        choice(0, "x", logprobs=[1]),
    ],
    ids=[
        "text-int",
        "index-str",
        "index-float",
        "finish-int",
        "tokens-str",
        "offset-float",
        "top-str",
        "logprobs-list",
    ],
)
def test_wrong_types_are_chunk_errors_and_merge_nothing(bad: dict[str, Any]) -> None:
    before = sse(chunk(choice(0, "a")), done=False)
    acc = CompletionAccumulator()
    error = _fail(acc, before + sse(chunk(choice(1, "new"), bad)), ChunkError)
    assert (error.event, error.offset) == (2, len(before))
    completion = acc.finalize()
    assert [(c.index, c.text) for c in completion.choices] == [(0, "a")]


@pytest.mark.parametrize(
    "top",
    [{"usage": []}, {"created": [1]}, {"id": 1}, {"choices": {}}, {"error": "boom"}],
    ids=["usage", "created", "id", "choices", "error"],
)
def test_wrong_top_level_types_are_chunk_errors(top: dict[str, Any]) -> None:
    acc = CompletionAccumulator()
    _fail(acc, sse(chunk(choice(0, "x"), **top)), ChunkError)
    with pytest.raises(EmptyStreamError):
        acc.finalize()


def test_bad_indices_reject_the_whole_chunk() -> None:
    before = sse(chunk(choice(0, "a")), done=False)
    acc = CompletionAccumulator(max_choices=4)
    negative = _fail(
        acc, before + sse(chunk(choice(0, "X"), choice(-1, "y")), done=False), ChunkError
    )
    assert "negative" in str(negative) and negative.event == 2
    huge = _fail(
        acc, sse(chunk(choice(0, "X"), choice(10**9, "y")), done=False), LimitExceededError
    )
    assert isinstance(huge, LimitExceededError)
    assert (huge.limit, huge.value, huge.event) == ("max_choices", 4, 3)
    assert _fail(acc, sse(chunk(choice(4, "y")), done=False), LimitExceededError).event == 4
    acc.feed(sse(chunk(choice(3, "z"))))
    completion = acc.finalize()
    # Neither bad chunk left its good first choice ("X") behind.
    assert [(c.index, c.text) for c in completion.choices] == [(0, "a"), (3, "z")]


def test_event_error_raises_stream_error_with_the_servers_facts() -> None:
    acc = CompletionAccumulator()
    head = sse(chunk(choice(0, "a")), done=False)
    error = _fail(
        acc,
        head + b'event: error\ndata: {"error":{"message":"overloaded","code":529}}\n\n',
        StreamError,
    )
    assert isinstance(error, StreamError)
    assert (error.message, error.code, error.event, error.offset) == (
        "overloaded",
        529,
        2,
        len(head),
    )
    assert acc.finalize().choices[0].text == "a"


def test_error_object_raises_after_merging_the_chunks_choices() -> None:
    acc = CompletionAccumulator()
    data = sse(
        chunk(choice(0, "a")),
        chunk(
            choice(0, "b", finish_reason="error"),
            error={"message": "boom", "type": "x", "code": 500},
        ),
    )
    error = _fail(acc, data, StreamError)
    assert isinstance(error, StreamError)
    assert (error.message, error.code, error.type, error.event) == ("boom", 500, "x", 2)
    assert error.payload == {"message": "boom", "type": "x", "code": 500}
    completion = acc.finalize()
    assert (completion.choices[0].text, completion.choices[0].finish_reason) == ("ab", "error")
    assert _merged(sse(chunk(choice(0, "a"), error=None))).choices[0].text == "a"


def test_a_flat_error_body_is_a_stream_error_and_merges_nothing() -> None:
    # Older vLLM (and FastChat-style servers) send their ErrorResponse as a data: event.
    flat = {"object": "error", "message": "too long", "type": "BadRequestError", "code": 400}
    acc = CompletionAccumulator()
    error = _fail(acc, sse(chunk(choice(0, "a")), flat), StreamError)
    assert isinstance(error, StreamError)
    assert (error.message, error.code, error.type, error.event) == (
        "too long",
        400,
        "BadRequestError",
        2,
    )
    completion = acc.finalize()
    assert completion.extra == {}
    assert completion.choices[0].text == "a"


def test_a_cut_stream_is_incomplete_and_keeps_what_was_merged() -> None:
    data = sse(chunk(choice(0, "a")), chunk(choice(0, "bcd")), done=False)
    cut = data[: len(data) - 12]
    acc = CompletionAccumulator()
    acc.feed(cut)
    with pytest.raises(IncompleteStreamError) as info:
        acc.finalize()
    assert info.value.event == 2 and info.value.offset == len(
        sse(chunk(choice(0, "a")), done=False)
    )
    assert acc.finalize().choices[0].text == "a"


def test_empty_and_chunkless_inputs_are_empty_stream_errors() -> None:
    for data, says in (
        (b"", "the stream is empty"),
        (b"data: [DONE]\n\n", r"only \[DONE\]"),
        (b"<html>502</html>", "HTML"),
    ):
        acc = CompletionAccumulator()
        acc.feed(data)
        with pytest.raises(EmptyStreamError, match=says):
            acc.finalize()


def test_a_chat_chunk_is_refused_with_the_right_accumulator_named() -> None:
    chat = {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    acc = CompletionAccumulator()
    with pytest.raises(ChunkError, match=r"chunkagg\.Accumulator"):
        acc.feed(sse(chat))
    with pytest.raises(EmptyStreamError):
        acc.finalize()
    responses = {"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 3}
    with pytest.raises(ChunkError, match="include none that a chunk has"):
        CompletionAccumulator().add(responses)


def test_max_text_size_counts_text_and_logprob_entries() -> None:
    acc = CompletionAccumulator(max_text_size=10)
    acc.feed(sse(chunk(choice(0, "0123456789AB")), done=False))  # crosses it: merged
    over = _fail(acc, sse(chunk(choice(0, "more")), done=False), LimitExceededError)
    assert isinstance(over, LimitExceededError) and over.limit == "max_text_size"
    _fail(acc, sse(chunk(choice(0, "", lp(["t"])), done=False)), LimitExceededError)
    acc.feed(sse(chunk(choice(0, "", finish_reason="stop"), usage={"total_tokens": 3})))
    completion = acc.finalize()
    assert completion.choices[0].text == "0123456789AB"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 3
    entries = CompletionAccumulator(max_text_size=8)  # 1 char + 4 entries a chunk
    entries.feed(
        sse(chunk(choice(0, "a", lp(["a"]))), chunk(choice(0, "b", lp(["b"]))), done=False)
    )
    _fail(entries, sse(chunk(choice(0, "c", lp(["c"])))), LimitExceededError)
    grows = CompletionAccumulator(max_text_size=2, rules={"x_s": "append"})
    grows.feed(sse(chunk(choice(0, x_s="abc")), done=False))
    _fail(grows, sse(chunk(choice(0, x_s="d")), done=False), LimitExceededError)
    grows.feed(sse(chunk(choice(0, x_last="kept"))))  # a "last" key does not grow: merged
    assert grows.finalize().choices[0].extra == {"x_s": "abc", "x_last": "kept"}


def test_max_event_size() -> None:
    acc = CompletionAccumulator(max_event_size=256)
    with pytest.raises(LimitExceededError) as info:
        acc.feed(sse(chunk(choice(0, "x" * 300)), chunk(choice(0, "ok"))))
    assert (info.value.limit, info.value.event, info.value.offset) == ("max_event_size", 1, 0)
    acc.feed(b"")
    assert acc.finalize().choices[0].text == "ok"


# -- 4. add() ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_add_dicts_and_sse_event_objects(name: str) -> None:
    payloads = data_payloads(_stream(name))
    for wrap in ("dict", "event", "struct"):
        acc = CompletionAccumulator()
        for payload in payloads:
            if wrap == "dict":
                added = acc.add(orjson.loads(payload))
            elif wrap == "event":
                added = acc.add({"data": payload.decode(), "event": "message"})
            else:
                added = acc.add(decode_completion_chunk(payload))
            assert isinstance(added, CompletionChunk)
        assert acc.add({"data": "[DONE]"}) is None and acc.done
        assert canonical(acc.finalize()) == canonical(_expected(name)), (name, wrap)


@pytest.mark.parametrize("name", CASES)
def test_add_openai_completion_models(name: str) -> None:
    # The openai SDK's stream builds each chunk as a Completion with construct_type (no
    # validation: finish_reason is null until a choice ends), exactly as here.
    acc = CompletionAccumulator()
    for payload in data_payloads(_stream(name)):
        model = construct_type(type_=Completion, value=orjson.loads(payload))
        assert isinstance(model, Completion)
        acc.add(model)
    assert canonical(acc.finalize()) == canonical(_expected(name))


def test_add_takes_the_orq_sdks_float_numbers_back_as_ints() -> None:
    acc = CompletionAccumulator()
    acc.add(
        chunk(
            choice(cast(Any, 1.0), "a"),
            created=1767225600.0,
            usage={"prompt_tokens": 3.0, "completion_tokens": 1.0, "total_tokens": 4.0},
        )
    )
    completion = acc.finalize()
    assert completion.choices[0].index == 1
    assert type(completion.created) is int
    assert completion.usage is not None and type(completion.usage.total_tokens) is int


def test_add_errors_name_the_chunk_and_no_offset() -> None:
    acc = CompletionAccumulator()
    acc.add(chunk(choice(0, "a")))
    with pytest.raises(ChunkError) as info:
        acc.add(chunk(choice(-1, "x")))
    assert (info.value.event, info.value.offset) == (2, None)
    with pytest.raises(StreamError):
        acc.add({"data": '{"error":{"message":"no"}}', "event": "error"})
    with pytest.raises(ChunkError):
        acc.add({"choices": [{"index": 0, "text": {"deep": [[[[[]]]]]}}]})
    with pytest.raises(TypeError):
        acc.add(b"data: {}")
    assert acc.finalize().choices[0].text == "a"


# -- 5. aliasing, live events ----------------------------------------------------------------------


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


# -- 6. properties -------------------------------------------------------------------------------

_ALPHABET = [
    *"abcXYZ019 .,!?'",
    *("é", "ß", "中", "日本", "😀", "👩\u200d💻", "\u2028"),
    *('"', "\\", "\n", "\r", "\t", "\x00", "/", "{", "data: ", "[DONE]"),
]
# Keys nobody declared (some not identifiers, some clashing with Python or Struct names).
NAMES = ["zz_one", "zz-two", "κλειδί", "with space", "class", "extra", "_private", "to_dict"]


def _text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, most)))


def random_truth(rng: random.Random) -> dict[str, Any]:
    """A random final ``text_completion`` (with nulls) that a stream can produce; each choice
    also holds its text's pieces under ``_pieces`` (one chunk each)."""
    n = rng.choice([0, 1, 1, 1, 2, 3, 4])
    indices = sorted(rng.sample(range(6), n)) if rng.random() < 0.3 else list(range(n))
    choices = []
    for index in indices:
        pieces = [_text(rng, 8) for _ in range(rng.randint(0, 6))]
        logprobs = None
        if rng.random() < 0.4:
            offsets = list(itertools.accumulate([rng.randrange(100), *map(len, pieces)]))[:-1]
            logprobs = {
                "tokens": pieces,
                "token_logprobs": [
                    None if rng.random() < 0.1 else -round(rng.uniform(0, 30), 6) for _ in pieces
                ],
                "top_logprobs": [
                    None if rng.random() < 0.1 else {p: -0.25, p + "!": -3.5} for p in pieces
                ],
                "text_offset": offsets,
            }
        choices.append(
            {
                "text": "".join(pieces),
                "index": index,
                "logprobs": logprobs,
                "finish_reason": rng.choice([None, "stop", "length", "content_filter"]),
                "_pieces": pieces,
            }
        )
    usage = None
    if rng.random() < 0.6:
        prompt, done = rng.randrange(1 << 20), rng.randrange(1 << 20)
        usage = {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}
    return {
        "id": f"cmpl-{rng.randrange(1 << 60):x}",
        "object": "text_completion",
        "created": rng.randrange(1_600_000_000, 1_900_000_000),
        "model": rng.choice(["gpt-3.5-turbo-instruct", "Qwen/Qwen2.5-0.5B", "模型"]),
        "choices": choices,
        "usage": usage,
        "system_fingerprint": rng.choice([None, "fp_ollama"]),
    }


def render(truth: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Chunk dicts a server could send for ``truth``: choices interleaved, some chunks holding
    several choices, the finish reason on the last text chunk (vLLM) or an empty one (OpenAI)."""
    top = {k: truth[k] for k in ("id", "object", "created", "model")}
    fingerprint = truth["system_fingerprint"]
    queues: list[list[dict[str, Any]]] = []
    for ch in truth["choices"]:
        lp_ = ch["logprobs"]
        entries = []
        for n, piece in enumerate(ch["_pieces"]):
            one = None if lp_ is None else {k: v[n : n + 1] for k, v in lp_.items()}
            entries.append(choice(ch["index"], piece, one))
        if not entries or ch["finish_reason"] is None or rng.random() < 0.5:
            empty: dict[str, Any] | None = None if lp_ is None else {k: [] for k in lp_}
            entries.append(choice(ch["index"], "", empty))
        entries[-1]["finish_reason"] = ch["finish_reason"]
        queues.append(entries)
    chunks: list[dict[str, Any]] = []
    pos = [0] * len(queues)
    while any(p < len(q) for p, q in zip(pos, queues, strict=True)):
        live = [i for i, q in enumerate(queues) if pos[i] < len(q)]
        group = rng.sample(live, rng.randint(1, len(live)) if rng.random() < 0.3 else 1)
        body = {**top, "choices": []}
        for i in sorted(group, key=lambda _: rng.random()):
            body["choices"].append(queues[i][pos[i]])
            pos[i] += 1
        chunks.append(body)
    if not chunks:
        chunks.append({**top, "choices": []})
    if fingerprint is not None:
        for body in chunks if rng.random() < 0.5 else chunks[-1:]:
            body["system_fingerprint"] = fingerprint
    if rng.random() < 0.3:
        for body in chunks:
            body["usage"] = None
    if truth["usage"] is not None:
        if rng.random() < 0.6:
            chunks.append({**top, "choices": [], "usage": truth["usage"]})
        else:
            chunks[-1]["usage"] = truth["usage"]
    return chunks


def expected_of(truth: dict[str, Any]) -> Any:
    return canonical(
        {
            **truth,
            "choices": [{k: v for k, v in c.items() if k != "_pieces"} for c in truth["choices"]],
        }
    )


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["str", "int", "float", "bool", "null", "list", "dict"])
    if kind == "str":
        return rng.choice(["", "a", "日本", '"q"\\'])
    if kind == "int":
        return rng.randint(-(2**40), 2**40)
    if kind == "float":
        return rng.choice([0.5, -1e300])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null" or depth > 2:
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(NAMES): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def with_unknown_keys(rng: random.Random) -> tuple[list[dict[str, Any]], Any]:
    """A generated stream with unknown keys at every level, and what it must merge to: each key
    its last non-null value, on the object that carried it."""
    truth = random_truth(rng)
    chunks = orjson.loads(orjson.dumps(render(truth, rng)))
    expected = orjson.loads(orjson.dumps(expected_of(truth)))
    by_index = {c["index"]: c for c in expected["choices"]}

    def add(target: dict[str, Any], into: dict[str, Any] | None) -> None:
        if rng.random() < 0.3:
            added = {rng.choice(NAMES): _value(rng) for _ in range(rng.randint(1, 2))}
            target.update(added)
            if into is not None:
                into.update((key, value) for key, value in added.items() if value is not None)

    for body in chunks:
        add(body, expected)
        for entry in body["choices"]:
            add(entry, by_index[entry["index"]])
            if entry["logprobs"] is not None:
                add(entry["logprobs"], by_index[entry["index"]]["logprobs"])
        if body.get("usage") is not None:
            add(body["usage"], None)
            expected["usage"] = body["usage"]
    return chunks, canonical(expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_every_split_of_a_generated_stream_gives_its_truth(
    rng: random.Random, data: st.DataObject
) -> None:
    truth = random_truth(rng)
    chunks = render(truth, rng)
    framing = data.draw(st.sampled_from(["lf", "crlf", "ndjson"]))
    if framing == "ndjson":
        body = b"".join(orjson.dumps(c) + b"\n" for c in chunks)
    else:
        body = convert_eol(sse(*chunks), b"\r\n" if framing == "crlf" else b"\n")
    split = data.draw(st.sampled_from(["whole", "bytewise", "random"]))
    cut = Split(split, rng.randrange(1 << 30)) if split == "random" else split
    assert canonical(_merged(body, cut)) == expected_of(truth)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_unknown_keys_at_every_level_lose_no_value(rng: random.Random, data: st.DataObject) -> None:
    chunks, expected = with_unknown_keys(rng)
    split = data.draw(st.sampled_from(["whole", "bytewise", "random"]))
    acc = CompletionAccumulator()
    got = _feed(
        acc, sse(*chunks), Split(split, rng.randrange(1 << 30)) if split == "random" else split
    )
    assert canonical(acc.finalize()) == expected
    assert len(got) == len(chunks)
    for sent, decoded in zip(chunks, got, strict=True):
        assert canonical(orjson.loads(decoded.to_json())) == canonical(sent)


# -- 7. the fuzz harness over this format's streams ----------------------------------------------

FUZZ_INPUTS = 120  # per family; all 14 families take about ten seconds
FUZZ_SEED = int(os.environ.get("CHUNKAGG_SEED") or 20261130)


def _quirk_seeds() -> list[list[bytes]]:
    """Hand-built streams with this format's rare shapes, as event blocks."""
    rare = [
        orjson.dumps(c)
        for c in (
            chunk(
                choice(0, "Hi", lp(["Hi"], 3), stop_reason=None, token_ids=[1]),
                choice(
                    1, "yo", {"tokens": ["yo"], "token_logprobs": [None], "top_logprobs": [None]}
                ),
                system_fingerprint="fp_1",
                usage=None,
            ),
            chunk(choice(0, "", lp([]), finish_reason="stop", stop_reason="\n"), x_top={"a": 1}),
            chunk(
                choices=[],
                usage={"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": 0}},
            ),
            chunk(choice(1, "!", finish_reason="length"), error={"message": "boom", "code": 500}),
            {"object": "error", "message": "flat", "type": "BadRequestError", "code": 400},
        )
    ]
    hello = orjson.dumps(chunk(choice(0, "Hello")))
    framing = [
        b"\xef\xbb\xbf: comment\n\n",
        b"id: 1\nretry: 10\n\n",
        b"data: " + hello + b"\n\n",
        b"data: : keepalive\n\n",
        b'data: {"choices":\ndata: [{"index":0,"text":" x"}]}\n\n',
        b'event: error\ndata: {"error":{"message":"overloaded","code":529}}\n\n',
        b"data:" + hello + b"\n\n",
        b"data: [DONE]\n\n",
    ]
    return [
        fuzz._events(rare, "lf"),
        fuzz._events(rare, "crlf"),
        fuzz._events(rare, "ndjson"),
        framing,
        [f.replace(b"\n", b"\r\n") for f in framing],
    ]


def _seed_blocks(rng: random.Random) -> list[bytes]:
    roll = rng.random()
    if roll < 0.4:
        data = _stream(rng.choice(CASES))
        framing = rng.choice(["lf", "lf", "crlf", "cr", "ndjson"])
        if framing == "lf" and rng.random() < 0.5:
            return [p + b"\n\n" for p in data.split(b"\n\n") if p]  # byte for byte as made
        return fuzz._events(data_payloads(data), framing)
    if roll < 0.85:
        chunks = render(random_truth(rng), rng) if rng.random() < 0.6 else with_unknown_keys(rng)[0]
        framing = rng.choice(["lf", "lf", "crlf", "cr", "ndjson"])
        return fuzz._events((orjson.dumps(c) for c in chunks), framing, done=rng.random() < 0.8)
    return list(rng.choice(_quirk_seeds()))


def _fuzz_case(family: str, seed: int, index: int) -> fuzz.Case:
    """Input ``index`` of ``family``: ``fuzz.make_case`` on this format's seeds and limits."""
    rng = random.Random(f"{seed}/completions/{family}/{index}")
    data = fuzz.FAMILIES[family](rng, _seed_blocks(rng))
    fmt = rng.choice(["auto"] * 8 + ["sse", "ndjson"])
    cuts = [len(p) for p in split_feeds(data, "random", rng)]
    limits: dict[str, int] = {}
    if rng.random() < 0.3:
        options = {
            "max_event_size": [1, 16, 64, 512, 4096],
            "max_choices": [1, 2, 3, 128],
            "max_text_size": [1, 16, 256, 4096],
        }
        limits = {k: rng.choice(v) for k, v in options.items() if rng.random() < 0.5}
    return fuzz.Case(family, seed, index, data, fmt, limits, cuts, rng.random() < 0.3)


# fuzz.Factory names chat's Accumulator; the harness only calls the API every format shares.
_FACTORY = cast("fuzz.Factory", CompletionAccumulator)


@pytest.mark.parametrize("family", list(fuzz.FAMILIES))
def test_fuzz_family_over_completions(family: str) -> None:
    found = []
    for index in range(FUZZ_INPUTS):
        case = _fuzz_case(family, FUZZ_SEED, index)
        problem = fuzz.check(case, _FACTORY)
        if problem is not None:
            found.append(f"{case.name} ({len(case.data)} bytes) {case.data[:200]!r}:\n{problem}")
    assert not found, (
        f"{len(found)} violations (seed {FUZZ_SEED}; set CHUNKAGG_SEED={FUZZ_SEED} to rerun):\n"
        + "\n\n".join(found[:3])
    )


@pytest.mark.parametrize("framing", ["lf", "crlf", "cr", "ndjson"])
def test_the_fuzz_seeds_merge_before_mutation(framing: str) -> None:
    # The seeds the families mutate are valid streams (lone-CR line endings included).
    for name in CASES:
        data = b"".join(fuzz._events(data_payloads(_stream(name)), framing))
        assert canonical(_merged(data)) == canonical(_expected(name)), (name, framing)


# -- 8. real sockets ------------------------------------------------------------------------------

MODELS = [f"completions/{name}" for name in CASES]


def _seed(name: str, client: str) -> int:
    return zlib.crc32(f"{BASE_SEED}:{name}:{client}".encode())


def _where(name: str, client: str, seed: int) -> str:
    return f"{name} client={client} seed={seed}; replay with CHUNKAGG_SEED={BASE_SEED}"


def _openai(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)


def _async_openai(url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=TIMEOUT)


def test_the_server_serves_every_case(sse_url: str) -> None:
    for model in MODELS:
        with httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client:
            body = b"".join(
                client.post(
                    "/v1/completions", json={"model": model, "prompt": "p", "stream": True}
                ).iter_bytes()
            )
        assert body == _stream(model.split("/")[1])
    missing = httpx.post(
        f"{sse_url}/v1/completions", json={"model": "nope", "stream": True}, trust_env=False
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-raw")
    where = _where(name, "openai-raw", seed)
    acc = CompletionAccumulator()
    received: list[bytes] = []
    with (
        _openai(sse_url) as client,
        client.completions.with_streaming_response.create(
            model=f"completions/{name}", prompt="p", stream=True, seed=seed
        ) as response,
    ):
        assert response.headers["x-replay-seed"] == str(seed), where
        for data in response.iter_bytes():
            received.append(data)
            acc.feed(data)
    assert b"".join(received) == _stream(name), where
    assert canonical(acc.finalize()) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_raw_bytes_async(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-raw-async")
    where = _where(name, "openai-raw-async", seed)

    async def run() -> TextCompletion:
        acc = CompletionAccumulator()
        async with (
            _async_openai(sse_url) as client,
            client.completions.with_streaming_response.create(
                model=f"completions/{name}", prompt="p", stream=True, seed=seed
            ) as response,
        ):
            async for data in response.iter_bytes():
                acc.feed(data)
        return acc.finalize()

    assert canonical(asyncio.run(run())) == canonical(_expected(name)), where


@pytest.mark.parametrize("form", ["model", "dict"])
@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_chunks(sse_url: str, name: str, form: str) -> None:
    """``add()`` for each ``Completion`` the SDK decoded, as the model or as its dict."""
    seed = _seed(name, f"openai-add-{form}")
    where = _where(name, f"openai-add-{form}", seed)
    acc = CompletionAccumulator()
    count = 0
    with (
        _openai(sse_url) as client,
        client.completions.create(
            model=f"completions/{name}", prompt="p", stream=True, seed=seed
        ) as stream,
    ):
        for item in stream:
            assert isinstance(item, Completion), where
            added = acc.add(item if form == "model" else item.model_dump())
            assert added is not None and added.id == item.id, where
            count += 1
    assert count == acc.event_count == len(data_payloads(_stream(name))), where
    assert canonical(acc.finalize()) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_openai_sdk_decoded_chunks_async(sse_url: str, name: str) -> None:
    seed = _seed(name, "openai-add-async")
    where = _where(name, "openai-add-async", seed)

    async def run() -> TextCompletion:
        acc = CompletionAccumulator()
        async with _async_openai(sse_url) as client:
            stream = await client.completions.create(
                model=f"completions/{name}", prompt="p", stream=True, seed=seed
            )
            async with stream:
                async for item in stream:
                    acc.add(item)
        return acc.finalize()

    assert canonical(asyncio.run(run())) == canonical(_expected(name)), where


@pytest.mark.parametrize("name", CASES)
def test_orq_sdk_cannot_read_a_standard_stream(sse_url: str, name: str) -> None:
    """orq-ai-sdk 4.17's legacy completions stream requires ``finish_reason`` to be one of
    stop/length/content_filter/tool_calls on every chunk: the first chunk (``null``, as every
    server sends it) raises ``ResponseValidationError`` inside the SDK, before any chunk reaches
    chunkagg. The recipe that works is the next test's: raw bytes from the same path."""
    orq_ai_sdk = pytest.importorskip("orq_ai_sdk")
    acc = CompletionAccumulator()
    with (
        orq_ai_sdk.Orq(api_key="test", server_url=sse_url) as orq,
        pytest.raises(orq_ai_sdk.models.ResponseValidationError, match="finish_reason"),
    ):
        stream = orq.router.completions.create(model=f"completions/{name}", prompt="p", stream=True)
        with stream:
            for event in stream:
                acc.add(event)
    assert acc.event_count == 0


@pytest.mark.parametrize("name", CASES)
def test_raw_bytes_from_the_orq_completions_path(sse_url: str, name: str) -> None:
    """The recipe for Orq's ``/v2/router/completions``: httpx, bytes straight into chunkagg."""
    acc = CompletionAccumulator()
    with (
        httpx.Client(base_url=sse_url, timeout=TIMEOUT, trust_env=False) as client,
        client.stream(
            "POST",
            "/v2/router/completions",
            json={"model": f"completions/{name}", "prompt": "p", "stream": True},
            headers={"Authorization": "Bearer test", "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for data in response.iter_bytes():
            acc.feed(data)
    assert canonical(acc.finalize()) == canonical(_expected(name))
