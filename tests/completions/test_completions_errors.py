"""The legacy completions format's errors and limits: each names its event and byte offset, a bad
chunk is rejected whole (none of its choices merge) and the stream goes on; in-band errors
(``event: error``, an ``error`` object, a flat error body) are ``StreamError``; a cut stream,
an empty one, a chat stream; ``max_text_size`` and ``max_event_size``.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from completions_helpers import _fail, _merged, choice, chunk, lp, sse
from helpers import feed_recovering, finalize_recovering

from chunkagg import (
    ChunkError,
    EmptyStreamError,
    IncompleteStreamError,
    LimitExceededError,
    StreamError,
)
from chunkagg._completions import CompletionAccumulator


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


@pytest.mark.parametrize(
    "bad",
    [
        chunk(choice(-1, "x")),  # a new choice with a negative index
        chunk(choice(0, "x"), error={"message": "overloaded"}),  # an error, its choice merged
        chunk(choice(0, "x"), object="error"),
    ],
)
def test_a_bad_chunk_inside_a_run_stops_it_where_one_by_one_would(bad: dict[str, Any]) -> None:
    """The events of one ``feed()`` merge as a run (``CompletionMerger.add_run``): a chunk that
    raises in the middle gives the outcome of the same bytes fed one at a time."""
    before = [chunk(choice(0, t, logprobs=lp([t]))) for t in "abc"]
    after = [chunk(choice(0, t)) for t in "de"]
    stream = sse(*before, bad, *after)
    outcomes = []
    for pieces in ([stream], [stream[i : i + 1] for i in range(len(stream))]):
        acc = CompletionAccumulator()
        chunks, errors = feed_recovering(acc, pieces)
        outcomes.append(
            (chunks, [(type(e), e.event, e.offset) for e in errors], finalize_recovering(acc))
        )
    whole, bytewise = outcomes
    assert whole == bytewise
    assert [event for _, event, _ in whole[1]] == [4]
    assert whole[2].choices[0].text.endswith("de")
    logprobs = whole[2].choices[0].logprobs
    assert logprobs is not None and logprobs.tokens == ["a", "b", "c"]
