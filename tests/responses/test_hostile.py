"""The Responses API under a hostile server: the four promises of issue 19, and the test families
chat has, for what the existing Responses tests did not reach.

1. Nesting: values nested near the decoder's limit, by ``feed()`` (whole events, a last event
   finalized at the end, live events), the same outcome for every split and every caller stack
   depth; only ``ChunkError``, located, the event dropped whole.
2. Annotations: ``annotation_index: 0`` on every event inserts at the front; a part holds at most
   ``max_items`` annotations (``LimitExceededError``, the event dropped, the stream going on),
   their bytes count against ``max_text_size``; every prefix of a cut stream builds what
   ``make.py``'s reference accumulator builds, and the terminal result is openai-python's
   ``ResponseStreamState``'s.
3. What else grows with the stream is bounded: events with no merge rule (audio deltas, image
   partials) count their JSON against ``max_text_size`` and are not kept past it; disagreements
   stop being kept past it (the restated values still merge); the item ids stay one per item.
4. A mutation loop over those hostile streams: only located ``ChunkAggError``, the same outcome
   for every split.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import orjson
import pytest
from helpers import BASE_SEED, SPLIT_IDS, SPLITS, Split, split_feeds
from responses_helpers import MAKE

import chunkagg
from chunkagg import ChunkAggError, ChunkError, EmptyStreamError
from chunkagg._responses import DEFAULT_MAX_ITEMS, ResponseAccumulator

Obj = dict[str, Any]
T = TypeVar("T")
MAX_DEPTH: int = getattr(chunkagg, "MAX_DEPTH", 100)
CASE = "hostile"


def _at_depth(frames: int, run: Callable[[], T]) -> T:
    """``run()`` called from ``frames`` Python frames deeper than here."""
    if frames <= 0:
        return run()
    return _at_depth(frames - 1, run)


def _sse(events: list[Obj], *, event_lines: bool = True) -> bytes:
    out = bytearray()
    for event in events:
        if event_lines:
            out += b"event: " + str(event.get("type")).encode() + b"\n"
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    return bytes(out)


def _run(
    data: bytes, split: Split | str = "whole", frames: int = 0, **options: Any
) -> tuple[list[tuple[str, Any, Any, Any]], Any, ResponseAccumulator]:
    """Feed ``data`` in the pieces ``split`` asks for, from ``frames`` frames deeper, going on
    after each error; finalize (again after each error); return the errors (type, limit, event,
    offset), the result's JSON, and the accumulator."""

    def run() -> tuple[list[tuple[str, Any, Any, Any]], Any, ResponseAccumulator]:
        acc = ResponseAccumulator(**options)
        errors: list[ChunkAggError] = []
        for piece in split_feeds(data, split):
            chunk = piece
            while True:
                try:
                    acc.feed(chunk)
                except ChunkAggError as exc:
                    errors.append(exc)
                    chunk = b""
                    continue
                break
        result: Any = None
        for _ in range(100):
            try:
                result = json.loads(acc.finalize().to_json())
                break
            except EmptyStreamError as exc:
                errors.append(exc)
                break
            except ChunkAggError as exc:
                errors.append(exc)
        for error in errors:
            if not isinstance(error, EmptyStreamError):
                assert f"event {error.event}, byte offset {error.offset}" in str(error)
        located = [
            (type(e).__name__, getattr(e, "limit", e.reason), e.event, e.offset) for e in errors
        ]
        return located, result, acc

    return _at_depth(frames, run)


# -- a stream to build on --------------------------------------------------------------------


def _citation(i: int, size: int = 0) -> Obj:
    return {
        "type": "url_citation",
        "end_index": 5,
        "start_index": 0,
        "title": f"source {i}" + "x" * size,
        "url": f"https://example.com/{i}",
    }


def _annotated(positions: list[int], *, terminal: bool = True, announced: int = 0) -> list[Obj]:
    """A message whose one text part gets an annotation at each of ``positions`` in turn, then
    its restatements and the terminal response holding the annotations as inserted."""
    item_id = MAKE.hex_id("msg_", CASE, 0)
    start = [_citation(-1 - i) for i in range(announced)]
    final = list(start)
    for i, at in enumerate(positions):
        final.insert(at, _citation(i))
    text = "Hello"
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    part = MAKE.text_part(text, final)
    item = MAKE.message(CASE, 0, [part])
    response = MAKE.response(CASE, 0, output=[item], usage_=MAKE.usage(3, 2))
    created = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[Obj] = [
        {"type": "response.created", "response": created},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            **where,
            "part": MAKE.text_part("", start),
        },
        {"type": "response.output_text.delta", **where, "delta": text, "logprobs": []},
    ]
    events += [
        {
            "type": "response.output_text.annotation.added",
            **where,
            "annotation_index": at,
            "annotation": _citation(i),
        }
        for i, at in enumerate(positions)
    ]
    events += [
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
    ]
    if terminal:
        events.append({"type": "response.completed", "response": response})
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events


def _openai_final(data: bytes) -> Any:
    """openai-python's own accumulation of ``data`` (its SSE decoder, event models and
    ``ResponseStreamState``, as ``client.responses.stream()`` runs them): the final response."""
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai._types import omit
    from openai.lib.streaming.responses._responses import ResponseStreamState
    from openai.types.responses import ResponseStreamEvent

    state: ResponseStreamState[object] = ResponseStreamState(input_tools=omit, text_format=omit)
    for sse in SSEDecoder().iter_bytes(iter([data])):
        event = construct_type(type_=ResponseStreamEvent, value=sse.json())
        state.handle_event(event)  # type: ignore[arg-type]
    final = state._completed_response
    assert final is not None
    return MAKE.strip_parsed(final.model_dump(mode="json", exclude_unset=True))


# -- 1. nesting ------------------------------------------------------------------------------

DEEP = (MAX_DEPTH + 1, 500, 960, 990, 999, 5000)


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def _deep_json(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _deep_stream(depth: int, where: str) -> tuple[bytes, int]:
    """A good stream with one event nested ``depth`` levels deep at ``where``; its offset."""
    events = _annotated([0, 1], terminal=False)
    deep = _deep_json(depth)
    bad = {
        # response.created with a nested unknown key (the first case)
        "created": b'{"type":"response.created","response":{"id":"r","object":"response",'
        b'"status":"in_progress","x":' + deep + b"}}",
        # an annotation with a nested value (the second)
        "annotation": b'{"type":"response.output_text.annotation.added","output_index":0,'
        b'"content_index":0,"annotation_index":0,"annotation":{"type":"x","v":' + deep + b"}}",
        "part": b'{"type":"response.content_part.done","output_index":0,"content_index":0,'
        b'"part":{"type":"output_text","text":"","annotations":[' + deep + b"]}}",
        "logprobs": b'{"type":"response.output_text.delta","output_index":0,"content_index":0,'
        b'"delta":"!","logprobs":[' + deep + b"]}",
    }[where]
    head = _sse(events[:5])
    return head + b"event: x\ndata: " + bad + b"\n\n" + _sse(events[5:]), len(head)


@pytest.mark.parametrize("where", ["created", "annotation", "part", "logprobs"])
def test_nesting_near_the_decoders_limit_is_one_located_chunk_error(where: str) -> None:
    clean = _run(_sse(_annotated([0, 1], terminal=False)))[1]
    for depth in DEEP:
        data, offset = _deep_stream(depth, where)
        outcomes = {
            (frames, str(split)): _run(data, split, frames, track=True)[:2]
            for frames in (0, 300, 600)
            for split in ("whole", Split("random", BASE_SEED + depth))
        }
        first = outcomes[(0, "whole")]
        assert all(o == first for o in outcomes.values()), (where, depth, outcomes)
        assert first[0] == [("ChunkError", first[0][0][1], 6, offset)], (where, depth, first[0])
        assert f"nested deeper than {MAX_DEPTH} levels" in first[0][0][1]
        assert first[1] == clean, (where, depth)  # the event dropped whole


def test_a_last_event_finalized_at_the_end_too_deep_is_a_chunk_error_from_finalize() -> None:
    # The finalize() case: a last event without its blank line is decoded at the end.
    events = _annotated([0], terminal=False)
    deep = _deep_json(990)
    tail = b'data: {"type":"response.in_progress","response":{"id":"r","x":' + deep + b"}}"
    data = _sse(events) + tail
    results = []
    for frames in (0, 300, 600):

        def run() -> Any:
            acc = ResponseAccumulator(track=True)
            acc.feed(data)
            with pytest.raises(ChunkError) as info:
                acc.finalize()
            assert (info.value.event, info.value.offset) == (len(events) + 1, len(data) - len(tail))
            result = acc.finalize()  # a second finalize() returns what was merged
            return info.value.reason, result.to_dict(), len(acc.take_events())

        results.append(_at_depth(frames, run))
    assert results[0] == results[1] == results[2]
    assert f"nested deeper than {MAX_DEPTH} levels" in results[0][0]


def test_max_depth_counts_from_the_object_an_event_carries() -> None:
    # At the bound, the value is the result's, kept, compared and encoded from deep stacks too;
    # one level more is a ChunkError. The response holds metadata holding the value: two levels.
    for extra, ok in ((0, True), (1, False)):
        value = _deep(MAX_DEPTH - 2 + extra)
        events = _annotated([0], terminal=True)
        events[-1]["response"]["metadata"] = {"v": value}
        events[2]["part"]["annotations"] = [{"type": "x", "v": _deep(MAX_DEPTH - 3 + extra)}]
        data = _sse(events)
        outcomes = [_run(data, "whole", frames, track=True)[:2] for frames in (0, 300, 600)]
        assert outcomes[0] == outcomes[1] == outcomes[2]
        errors, result = outcomes[0]
        if ok:
            assert errors == []
            assert result["metadata"] == {"v": value}
        else:
            assert [(e[0], e[2]) for e in errors] == [("ChunkError", 3), ("ChunkError", 9)]


# -- 2. annotations --------------------------------------------------------------------------


def test_inserting_every_annotation_at_the_front_is_bounded_by_max_items() -> None:
    # The second case: annotation_index 0 on every event, past max_items of them.
    limit = 16
    n = 40
    events = _annotated([0] * n, terminal=False)
    data = _sse(events)
    errors, result, acc = _run(data, max_items=limit)
    first = 4  # events before the first annotation
    assert errors == [
        ("LimitExceededError", "max_items", first + 1 + k, _offset(events, first + k))
        for k in range(limit, n)
    ]
    # Each of the first max_items went to the front, in turn; the rest were dropped; the
    # restated part then replaced them all, as a restatement does.
    merged = _run(_sse(events[: first + n]), max_items=limit)[1]
    annotations = merged["output"][0]["content"][0]["annotations"]
    assert annotations == [_citation(k) for k in reversed(range(limit))]
    assert result["output"][0]["content"][0]["annotations"] == _citation_list([0] * n)
    assert [d.path for d in acc.disagreements] == ["output[0].content[0].annotations"]


def _citation_list(positions: list[int]) -> list[Obj]:
    out: list[Obj] = []
    for i, at in enumerate(positions):
        out.insert(at, _citation(i))
    return out


def _offset(events: list[Obj], k: int) -> int:
    return len(_sse(events[:k]))


def test_announced_annotations_count_against_max_items() -> None:
    events = _annotated([0, 0, 0], terminal=False, announced=3)
    errors = _run(_sse(events), max_items=4)[0]
    assert [(e[0], e[1], e[2]) for e in errors] == [
        ("LimitExceededError", "max_items", 6),
        ("LimitExceededError", "max_items", 7),
    ]


def test_annotations_count_their_bytes_against_max_text_size() -> None:
    events = _annotated(list(range(10)), terminal=False)
    for event in events:
        if event["type"].endswith("annotation.added"):
            event["annotation"] = _citation(event["sequence_number"], size=100)
    errors, result, _ = _run(_sse(events[:14]), max_text_size=500)
    # "Hello" (5), then annotations of ~200 bytes: the third crosses the limit, every later one
    # is dropped.
    assert [(e[0], e[1]) for e in errors] == [("LimitExceededError", "max_text_size")] * 7
    assert len(result["output"][0]["content"][0]["annotations"]) == 3


@pytest.mark.parametrize("positions", ["front", "back", "random"])
def test_every_prefix_of_an_annotated_stream_builds_what_the_reference_builds(
    positions: str,
) -> None:
    # Cut after any event, a stream of 30 insertions into a part that may hold 20 builds what
    # the reference builds from the events that were not refused; each refused one is a
    # LimitExceededError at its place.
    rng = random.Random(f"{BASE_SEED}/annotations/{positions}")
    n, limit = 30, 20
    at = {
        "front": [0] * n,
        "back": [min(i, limit - 1) for i in range(n)],
        "random": [rng.randint(0, min(i, limit - 1)) for i in range(n)],
    }[positions]
    events = _annotated(at, terminal=True)
    refused = {4 + k for k in range(limit, n)}  # events after the first max_items annotations
    for k in range(1, len(events) + 1):
        errors, got, _ = _run(_sse(events[:k]), max_items=limit)
        kept = [e for i, e in enumerate(events[:k]) if i not in refused]
        assert got == MAKE.accumulate(kept).response, (positions, k)
        assert [(e[0], e[1], e[2]) for e in errors] == [
            ("LimitExceededError", "max_items", i + 1) for i in sorted(refused) if i < k
        ], (positions, k)


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_front_insertions_past_max_items_against_openai_python(split: Split) -> None:
    # Differential: a stream with DEFAULT_MAX_ITEMS + 8 annotations inserted at the front, in
    # every split: the 8 past the bound are refused, the result is openai-python's
    # (ResponseStreamState takes the terminal response), and the state built before the
    # terminal is the reference's from the events kept.
    n = DEFAULT_MAX_ITEMS + 8
    events = _annotated([0] * n, terminal=True)
    data = _sse(events)
    # One byte at a time, 600 KB take a while: random slices stand in (bytewise runs above).
    pieces: Split | str = Split("random", BASE_SEED) if split.kind == "bytewise" else split
    errors, result, _ = _run(data, pieces)
    assert errors == [
        ("LimitExceededError", "max_items", 5 + k, _offset(events, 4 + k))
        for k in range(DEFAULT_MAX_ITEMS, n)
    ]
    assert result == _openai_final(data)
    kept = events[: 4 + DEFAULT_MAX_ITEMS]
    assert _run(_sse(events[: 4 + n]))[1] == MAKE.accumulate(kept).response


# -- 3. bounded: unknown events, disagreements, ids -------------------------------------------


def _audio(n: int, size: int) -> list[Obj]:
    chunk = "QUJD" * (size // 4)
    return [
        {"type": "response.audio.delta", "sequence_number": 100 + i, "delta": chunk}
        for i in range(n)
    ]


def test_events_without_a_rule_are_kept_only_within_max_text_size() -> None:
    # While they fit, kept whole, and the result is openai-python's.
    events = _annotated([0], terminal=True)
    audio = _audio(5, 40)
    data = _sse(events[:4] + audio + events[4:])
    errors, result, acc = _run(data)
    assert errors == []
    assert [e.to_dict() for e in acc.other_events] == audio
    assert result == _openai_final(data)
    # The third case, scaled down: 2 MB of audio deltas fed with max_text_size=100
    # left all of them in other_events.
    limit = 100
    events = _annotated([0], terminal=False)
    audio = _audio(500, 4096)
    data = _sse(events[:4] + audio + events[4:])
    errors, result, acc = _run(data, max_text_size=limit)
    kept = acc.other_events
    held = sum(len(msgspec.json.encode(e)) for e in kept)
    assert len(kept) == 1 and held < 4096 + 200  # the event that crossed the limit, no more
    assert {(e[0], e[1]) for e in errors} == {("LimitExceededError", "max_text_size")}
    assert len(errors) >= len(audio) - 1
    # The stream went on: the restated part and item merged.
    assert result["output"][0]["content"][0]["annotations"] == [_citation(0)]


def test_disagreements_are_kept_only_within_max_text_size() -> None:
    events = _annotated([], terminal=False)
    where = {k: events[3][k] for k in ("item_id", "output_index", "content_index")}
    big = "y" * 10_000
    restated = [
        {"type": "response.output_text.done", **where, "text": f"{i}{big}", "logprobs": []}
        for i in range(200)
    ]
    data = _sse(events[:4] + restated)
    errors, result, acc = _run(data, max_text_size=50_000)
    assert errors == []  # a restatement is never refused
    assert result["output"][0]["content"][0]["text"] == f"199{big}"  # and always merged
    kept = acc.disagreements
    assert 2 <= len(kept) <= 4
    size = sum(len(msgspec.json.encode([d.streamed, d.sent])) for d in kept)
    assert size <= 50_000 + 2 * 10_010


def test_item_ids_stay_one_per_item() -> None:
    # An item replaced at its index forgets the old id: ids never grow with the events.
    events: list[Obj] = [_annotated([])[0]]
    for i in range(3000):
        item = MAKE.message(CASE, i, [], status="in_progress")
        events.append({"type": "response.output_item.added", "output_index": 0, "item": item})
    old = events[1]["item"]["id"]
    late = {"type": "response.output_text.delta", "item_id": old, "content_index": 0, "delta": "x"}
    errors, result, acc = _run(_sse([*events, late]))
    assert acc._merger.ids is not None and len(acc._merger.ids) == 1
    assert [(e[0], e[2]) for e in errors] == [("ChunkError", len(events) + 1)]
    assert result["output"][0]["id"] == events[-1]["item"]["id"]


# -- 4. mutations ----------------------------------------------------------------------------


def _hostile_stream(rng: random.Random) -> bytes:
    n = rng.randint(0, 40)
    events = _annotated([rng.choice([0, 0, rng.randint(0, i)]) for i in range(n)], terminal=True)
    extra = _audio(rng.randint(0, 20), rng.choice([8, 400]))
    at = rng.randint(1, len(events) - 1)
    events[at:at] = extra
    body = bytearray(_sse(events, event_lines=rng.random() < 0.7))
    for n in range(rng.randint(0, 3)):
        roll = rng.randrange(5)
        if roll == 0:  # a value nested near or past the decoder's limit
            depth = rng.choice([MAX_DEPTH - 1, MAX_DEPTH + 1, 300, 600, 980, 995, 3000])
            # A key of its own: under a key repeated, the decoder would keep only the last
            # value, and a deep one dropped so is read by no check (docs/limits.md).
            deep = b'"x%d":' % n + _deep_json(depth) + b',"title":'
            body = bytearray(bytes(body).replace(b'"title":', deep, 1))
        elif roll == 1:  # a hostile annotation_index
            value = rng.choice([b"-1", b"1e9", b"1024", b'"0"', b"null", b"2.5", b"[]"])
            body = bytearray(
                bytes(body).replace(b'"annotation_index":0', b'"annotation_index":' + value, 1)
            )
        elif roll == 2:  # flip a byte
            body[rng.randrange(len(body))] = rng.randrange(256)
        elif roll == 3:  # cut anywhere
            del body[rng.randrange(len(body)) :]
        else:  # an event duplicated
            blocks = bytes(body).split(b"\n\n")
            k = rng.randrange(len(blocks))
            blocks.insert(k, blocks[k])
            body = bytearray(b"\n\n".join(blocks))
    return bytes(body)


def test_hostile_annotation_audio_and_nesting_streams_the_same_for_every_split() -> None:
    rng = random.Random(f"{BASE_SEED}/responses-hostile")
    for n in range(60):
        data = _hostile_stream(rng)
        options: Obj = rng.choice(
            [{}, {"max_items": 8}, {"max_text_size": 300}, {"max_event_size": 2000}]
        )
        where = f"input {n} options={options}; replay with CHUNKAGG_SEED={BASE_SEED}"
        try:
            whole = _run(data, "whole", **options)[:2]
            assert _run(data, Split("random", rng.randrange(1 << 30)), **options)[:2] == whole
            assert _run(data, "whole", 500, **options)[:2] == whole
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc
        except ChunkAggError:
            raise
        except Exception as exc:  # anything else escaping is what this test looks for
            raise AssertionError(f"{where}: {type(exc).__name__} escaped: {exc}") from exc


def test_an_error_event_nested_too_deep_is_the_same_error_at_any_stack_depth() -> None:
    # An error payload is decoded a second time for the server's facts, and a deep one decodes
    # or not depending on the stack. Data-only, it is first decoded as an event, which a deeper
    # stack refuses: the ChunkError of a value nested too deep, whatever the stack. Under an
    # "event: error" line, the server's StreamError, its text standing for the facts.
    events = _annotated([0], terminal=False)
    for event_line in (False, True):
        for depth in (MAX_DEPTH + 10, 700, 990):
            bad = b'{"type":"error","code":"server_error","message":"m","param":null,"x":'
            bad += _deep_json(depth) + b"}"
            head = b"event: error\n" if event_line else b""
            data = _sse(events[:4]) + head + b"data: " + bad + b"\n\n" + _sse(events[4:])
            outcomes = [_run(data, "whole", frames)[:2] for frames in (0, 300, 600)]
            assert outcomes[0] == outcomes[1] == outcomes[2], (depth, outcomes)
            errors = outcomes[0][0]
            kind = "StreamError" if event_line else "ChunkError"
            assert [(e[0], e[2], e[3]) for e in errors] == [(kind, 5, _offset(events, 4))]
            if event_line:
                assert '{"type":"error"' in errors[0][1]  # the text, not the facts
            else:
                assert f"nested deeper than {MAX_DEPTH} levels" in errors[0][1]


def test_a_stream_cut_inside_an_event_nested_too_deep_is_the_same_error_at_any_depth() -> None:
    # A last event cut short is an incomplete stream, unless it is nested too deep: which of
    # the two a decoder finds first depends on the stack, so the bytes decide, for the same
    # ChunkError from any stack.
    events = _annotated([0], terminal=False)
    for depth in (MAX_DEPTH + 10, 600, 990):
        tail = b'data: {"type":"response.in_progress","x":' + _deep_json(depth)
        for cut in (len(tail), len(tail) - depth // 2):
            data = _sse(events) + tail[:cut]
            outcomes = [_run(data, "whole", frames)[:2] for frames in (0, 300, 600)]
            assert outcomes[0] == outcomes[1] == outcomes[2], (depth, cut, outcomes)
            errors = outcomes[0][0]
            assert [(e[0], e[2]) for e in errors] == [("ChunkError", len(events) + 1)]
            assert f"nested deeper than {MAX_DEPTH} levels" in errors[0][1]
