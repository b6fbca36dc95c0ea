"""Providers' extensions and keys never seen before: every field a server sent is kept.

The synthetic provider streams (``tests/synthetic/providers``, built from the providers' public
docs, see its README) must merge to their expected files under every split; each known extension
also has a focused test here, and a property test adds unknown keys at every level of generated
streams and checks that no value is lost.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    Split,
    canonical,
    choice,
    chunk,
    convert_eol,
    data_payloads,
    feed_all,
    random_stream,
    sse,
    walk,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkagg
from chunkagg import (
    Accumulator,
    AnnotationAdded,
    ChunkError,
    CitationsUpdated,
    ContentDelta,
    LimitExceededError,
    ReasoningDelta,
    ReasoningDetail,
    ResponseBody2,
    decode_chunk,
)

PROVIDERS = Path(__file__).parent / "synthetic" / "providers"
CASES = sorted(p.stem for p in PROVIDERS.glob("*.sse"))


def _expected(name: str) -> Any:
    return json.loads((PROVIDERS / f"{name}.expected.json").read_bytes())


def _merged(data: bytes, split: Split | str = "whole", **options: Any) -> chunkagg.ChatCompletion:
    acc = Accumulator(**options)
    feed_all(acc, data, split)
    return acc.finalize()


def test_every_provider_case_is_here() -> None:
    manifest = json.loads((PROVIDERS / "manifest.json").read_bytes())
    assert sorted(entry["case"] for entry in manifest) == CASES
    assert len(CASES) >= 20


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", CASES)
def test_provider_stream(name: str, eol: bytes, split: Split) -> None:
    data = convert_eol((PROVIDERS / f"{name}.sse").read_bytes(), eol)
    assert canonical(_merged(data, split)) == _expected(name), f"{name} {split}"


@pytest.mark.parametrize("name", CASES)
def test_provider_stream_as_ndjson(name: str) -> None:
    payloads = data_payloads((PROVIDERS / f"{name}.sse").read_bytes())
    data = b"".join(p + b"\n" for p in payloads)
    assert canonical(_merged(data, "bytewise")) == _expected(name)


def _reencoded_keeps(original: Any, chunk: ResponseBody2) -> None:
    """Every non-null value of ``original`` is in ``chunk.to_dict()`` at the same place."""
    # to_dict() keeps the token-logprob arrays as the tuples they are: compare as JSON.
    again = orjson.loads(orjson.dumps(chunk.to_dict()))
    assert orjson.loads(chunk.to_json()) == again
    assert msgspec.json.decode(msgspec.json.encode(chunk)) == again
    for path, value in walk(original):
        if value is None or isinstance(value, dict | list):
            continue
        node: Any = again
        for step in path:
            node = node[step]
        assert node == value, path


@pytest.mark.parametrize("name", CASES)
def test_provider_chunks_reencode_with_every_field(name: str) -> None:
    data = (PROVIDERS / f"{name}.sse").read_bytes()
    acc = Accumulator()
    chunks = acc.feed(data)
    payloads = data_payloads(data)
    assert len(chunks) == len(payloads)
    for payload, chunk_ in zip(payloads, chunks, strict=True):
        _reencoded_keeps(orjson.loads(payload), chunk_)
        assert decode_chunk(payload) == chunk_


# -- typed attributes for the known extensions -------------------------------------------------


def _case(name: str) -> chunkagg.ChatCompletion:
    return _merged((PROVIDERS / f"{name}.sse").read_bytes())


def test_openrouter_extensions_are_typed_attributes() -> None:
    completion = _case("openrouter_anthropic_reasoning")
    assert completion.provider == "Anthropic"
    ch = completion.choices[0]
    assert ch.native_finish_reason == "end_turn"
    details = ch.message.reasoning_details
    assert details is not None and all(isinstance(d, ReasoningDetail) for d in details)
    assert [d.type for d in details] == ["reasoning.text", "reasoning.encrypted"]
    assert details[0].signature and details[1].data
    assert completion.usage is not None
    assert isinstance(completion.usage.cost, float)
    assert completion.usage.is_byok is False
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cache_write_tokens is not None


def test_groq_usage_only_in_x_groq_fills_usage() -> None:
    completion = _case("groq_x_groq_usage_only")
    assert completion.usage is not None and completion.x_groq is not None
    assert completion.usage.to_dict() == completion.x_groq["usage"]
    assert type(completion.usage.total_tokens) is int


def test_mistral_parts_merge_into_content_and_reasoning() -> None:
    completion = _case("mistral_thinking_then_text")
    message = completion.choices[0].message
    assert message.content and message.reasoning
    assert message.content_parts is None  # nothing beyond text and thinking
    refs = _case("mistral_reference_parts").choices[0].message.content_parts
    assert refs and {part["type"] for part in refs} == {"reference"}


def test_sources_and_audit_fields_are_typed_attributes() -> None:
    perplexity = _case("perplexity_growing_sources")
    assert perplexity.citations and perplexity.search_results
    azure = _case("azure_content_filters")
    assert azure.prompt_filter_results
    assert azure.choices[0].content_filter_results
    search = _case("openai_search_obfuscation")
    assert search.choices[0].message.annotations
    assert b"obfuscation" not in search.to_json()
    moderated = _case("openai_moderation")
    assert moderated.moderation is not None


def test_unknown_fields_are_reachable_from_python() -> None:
    completion = _case("unknown_fields_everywhere")
    expected = _expected("unknown_fields_everywhere")
    top_known = set(chunkagg.ChatCompletion.__struct_fields__)
    assert completion.extra == {k: v for k, v in expected.items() if k not in top_known}
    ch, want = completion.choices[0], expected["choices"][0]
    assert ch.extra == {k: v for k, v in want.items() if k not in chunkagg.Choice.__struct_fields__}
    message_extra = {
        k: v for k, v in want["message"].items() if k not in chunkagg.Message.__struct_fields__
    }
    assert message_extra and canonical(ch.message.extra) == message_extra
    call = (ch.message.tool_calls or [])[0]
    assert call.extra and call.function.extra


# -- one rule at a time -------------------------------------------------------------------------


def _one(*chunks: Any, **options: Any) -> chunkagg.ChatCompletion:
    return _merged(sse(*chunks), "bytewise", **options)


def test_reasoning_details_merge_by_index() -> None:
    completion = _one(
        chunk(choice(reasoning_details=[{"type": "reasoning.text", "text": "Th", "index": 0}])),
        chunk(
            choice(
                reasoning_details=[
                    {"type": "reasoning.text", "text": "ink", "index": 0, "signature": "s1"},
                    {"type": "reasoning.encrypted", "data": "QU", "index": 1, "id": "r1"},
                ]
            )
        ),
        chunk(choice(reasoning_details=[{"data": "Jj", "index": 1, "signature": "late"}])),
        chunk(choice(reasoning_details=[{"type": "reasoning.summary", "summary": "free"}])),
    )
    assert completion.to_dict()["choices"][0]["message"]["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Think", "signature": "s1", "index": 0},
        {
            "type": "reasoning.encrypted",
            "data": "QUJj",
            "signature": "late",
            "id": "r1",
            "index": 1,
        },
        {"type": "reasoning.summary", "summary": "free"},
    ]


def test_executed_tools_restate_their_call() -> None:
    completion = _one(
        chunk(choice(executed_tools=[{"index": 0, "type": "search", "arguments": "{}"}])),
        chunk(
            choice(
                executed_tools=[{"index": 0, "type": "search", "arguments": "{}", "output": "done"}]
            )
        ),
    )
    assert completion.choices[0].message.executed_tools == [
        {"index": 0, "type": "search", "arguments": "{}", "output": "done"}
    ]


def test_snapshots_take_the_last_and_tags_the_last_non_empty() -> None:
    completion = _one(
        chunk(choice(content="a", channel="analysis"), citations=["u1"], provider="A"),
        chunk(choice(content="b", channel=""), citations=["u1", "u2"], provider=""),
        chunk(choice(content="c", channel="final"), citations=None, x_groq={"id": "r"}),
        chunk(choice(finish_reason="stop"), x_groq={"seed": 7, "id": None}),
    )
    assert completion.citations == ["u1", "u2"]
    assert completion.provider == "A"
    assert completion.x_groq == {"id": "r", "seed": 7}
    assert completion.choices[0].message.channel == "final"


def test_generic_rule_in_a_delta_and_elsewhere() -> None:
    completion = _one(
        chunk(
            {**choice(content="x", note="a", tags=["t1"], meta={"s": "p", "n": 1}), "rank": 1},
            stage="one",
        ),
        chunk(
            {**choice(note="b", tags=["t2"], meta={"s": "q", "n": None}), "rank": None},
            stage="two",
        ),
    )
    message = completion.choices[0].message
    assert message.extra == {"note": "ab", "tags": ["t1", "t2"], "meta": {"s": "pq", "n": 1}}
    assert completion.choices[0].extra == {"rank": 1}
    assert completion.extra == {"stage": "two"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("append", "thinkingthinkingdone"), ("last", "done"), ("first", "thinking")],
)
def test_a_caller_chooses_the_rule_of_a_field(rule: Any, expected: str) -> None:
    stream = [
        chunk(choice(content="a", status="thinking")),
        chunk(choice(content="b", status="thinking")),
        chunk(choice(status="done")),
    ]
    completion = _one(*stream, rules={"status": rule})
    assert completion.choices[0].message.extra == {"status": expected}


def test_merge_rule_for_objects_and_for_known_extensions() -> None:
    stream = [
        chunk(choice(content="a"), meta={"a": 1, "b": 1}, citations=["u1"]),
        chunk(choice(content="b"), meta={"b": 2, "c": None}, citations=["u2"]),
    ]
    completion = _one(*stream, rules={"meta": "merge", "citations": "append"})
    assert completion.extra == {"meta": {"a": 1, "b": 2}}
    assert completion.citations == ["u1", "u2"]


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ({"content": "last"}, "its own merge rule"),
        ({"tool_calls": "append"}, "its own merge rule"),
        ({"x": "sum"}, "must be one of"),
    ],
)
def test_rules_are_checked(rules: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Accumulator(rules=rules)


def test_extension_of_an_unexpected_type_is_kept_never_an_error() -> None:
    completion = _one(
        chunk(
            choice(content="a", reasoning_details="opaque", channel=3, annotations={"x": 1}),
            provider=5,
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "cost": "0.1"},
        ),
        chunk(choice(content="b", reasoning_details=[{"text": "t", "index": [1]}])),
    )
    data = completion.to_dict()
    assert data["provider"] == 5
    assert data["usage"]["cost"] == "0.1"
    message = data["choices"][0]["message"]
    assert message["content"] == "ab"
    assert message["channel"] == 3
    assert message["annotations"] == {"x": 1}  # not a list: merged by the generic rule
    assert message["reasoning_details"] == ["opaque", {"text": "t", "index": [1]}]


def test_a_field_defined_by_openai_of_the_wrong_type_is_still_a_chunk_error() -> None:
    acc = Accumulator()
    acc.feed(sse(chunk(choice(content="ok", extra_key=1)), done=False))
    with pytest.raises(ChunkError, match="Expected `str"):
        acc.feed(sse(chunk(choice(content=5, extra_key=2)), done=False))
    assert acc.finalize().choices[0].message.extra == {"extra_key": 1}


def test_keys_no_struct_can_declare_are_dropped_and_nothing_else() -> None:
    weird: dict[str, Any] = {'a"b': 1, "c\\d": 2, "tab\there": 3}
    completion = _one(chunk(choice(content="hi", **weird, ok=4), **weird))
    data = completion.to_dict()
    assert data["choices"][0]["message"]["ok"] == 4
    assert data["choices"][0]["message"]["content"] == "hi"
    assert not any(k in orjson.dumps(data).decode() for k in ("a\\", "c\\\\d", "tab"))


def test_a_stream_that_invents_keys_without_end_hits_a_limit() -> None:
    limit = chunkagg.MAX_EXTRA_FIELDS
    acc = Accumulator()
    errors = []
    for i in range(limit + 5):
        try:
            acc.feed(sse(chunk(choice(content="x"), **{f"k{i}": i}), done=False))
        except LimitExceededError as exc:
            errors.append(exc)
    assert errors and errors[0].limit == "MAX_EXTRA_FIELDS"
    assert errors[0].event == limit + 1
    completion = acc.finalize()
    assert len(completion.extra) == limit
    assert completion.choices[0].message.content == "x" * limit


def test_message_beside_a_delta_fills_what_the_deltas_left_empty() -> None:
    completion = _one(
        {**chunk(choice(content="Hel")), "choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        chunk(
            {
                **choice(content="lo", finish_reason="stop"),
                "message": {"role": "assistant", "content": "Hello", "refusal": "no", "x": 1},
            }
        ),
    )
    message = completion.choices[0].message
    assert (message.content, message.refusal, message.extra) == ("Hello", "no", {"x": 1})


def test_null_logprobs_pair_stays_a_pair() -> None:
    completion = _one(
        chunk({**choice(content="a"), "logprobs": {"content": None, "refusal": None}})
    )
    assert completion.to_dict()["choices"][0]["logprobs"] == {"content": None, "refusal": None}


def test_nothing_the_caller_holds_aliases_the_merge() -> None:
    acc = Accumulator()
    chunks = acc.feed(
        sse(
            chunk(
                choice(content="a", annotations=[{"u": "1"}], meta={"k": ["v"]}),
                x_groq={"usage": {"prompt_tokens": 1}},
                usage={"prompt_tokens": 1, "cost_details": {"c": 1}},
            ),
            done=False,
        )
    )
    before = acc.snapshot().to_dict()
    delta = chunks[0].choices[0].delta
    assert delta is not None and delta.annotations is not None
    delta.annotations[0]["u"] = "changed"
    delta.extra["meta"]["k"].append("changed")
    assert chunks[0].usage is not None and chunks[0].usage.cost_details is not None
    chunks[0].usage.cost_details["c"] = "changed"
    snap = acc.snapshot()
    assert snap.to_dict() == before
    message = snap.choices[0].message
    assert message.annotations is not None
    message.annotations[0]["u"] = "changed again"
    message.extra["meta"]["k"].clear()
    assert acc.finalize().to_dict() == before


# -- live events ---------------------------------------------------------------------------------


def _events(*chunks: Any) -> list[chunkagg.Event]:
    acc = Accumulator(track=True)
    events: list[chunkagg.Event] = []
    for piece in (sse(c, done=False) for c in chunks):
        acc.feed(piece)
        events.extend(acc.take_events())
    acc.finalize()
    return events + acc.take_events()


def test_events_for_reasoning_details_thinking_parts_and_sources() -> None:
    events = _events(
        chunk(choice(reasoning_details=[{"type": "reasoning.text", "text": "R1", "index": 0}])),
        # OpenRouter sends the same text both ways: reported once, from "reasoning".
        chunk(
            choice(
                reasoning="R2",
                reasoning_details=[{"type": "reasoning.text", "text": "R2", "index": 0}],
            )
        ),
        chunk(
            choice(
                content=[
                    {"type": "thinking", "thinking": [{"type": "text", "text": "T"}]},
                    {"type": "text", "text": "C"},
                ]
            )
        ),
        chunk(choice(annotations=[{"type": "url_citation", "url_citation": {"url": "u"}}])),
        chunk(choice(content="x"), citations=["u"]),
        chunk(choice(content="y"), citations=["u"]),
        chunk(choice(content="z"), citations=["u", "v"]),
    )
    reasoning = [(e.delta, e.field) for e in events if isinstance(e, ReasoningDelta)]
    assert reasoning == [("R1", "reasoning_details"), ("R2", "reasoning"), ("T", "reasoning")]
    assert [e.delta for e in events if isinstance(e, ContentDelta)] == ["C", "x", "y", "z"]
    assert [e.annotation for e in events if isinstance(e, AnnotationAdded)] == [
        {"type": "url_citation", "url_citation": {"url": "u"}}
    ]
    assert [e.value for e in events if isinstance(e, CitationsUpdated)] == [["u"], ["u", "v"]]


# -- no value lost, whatever the keys -----------------------------------------------------------

# Names chunkagg has never heard of, some needing a renamed field (not identifiers).
NAMES = ["zz_one", "zz-two", "κλειδί", "with space", "class", "extra", "_private", "to_dict"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["str", "str", "int", "float", "bool", "null", "list", "dict"])
    if kind == "str":
        return rng.choice(["", "a", "bé", "日本", "😀", '"q"\\'])
    if kind == "int":
        return rng.randint(-(2**40), 2**40)
    if kind == "float":
        return rng.choice([0.5, -1e300, 3.25])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null" or depth > 2:
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(NAMES): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _generic(current: Any, new: Any) -> Any:
    """The generic rule inside a delta, written from its definition (extensions.md)."""
    if new is None:
        return current
    if isinstance(new, str) and isinstance(current, str):
        return current + new
    if isinstance(new, list) and isinstance(current, list):
        return current + new
    if isinstance(new, dict):
        merged = dict(current) if isinstance(current, dict) else {}
        for key, item in new.items():
            if item is not None:
                merged[key] = _generic(merged.get(key), item)
        return merged
    return new


def _maybe_add(rng: random.Random, target: dict[str, Any], p: float = 0.3) -> dict[str, Any]:
    added = {}
    if rng.random() < p:
        for _ in range(rng.randint(1, 2)):
            added[rng.choice(NAMES)] = _value(rng)
        target.update(added)
    return added


def _last(expected: dict[str, Any], added: dict[str, Any]) -> None:
    for key, value in added.items():
        if value is not None:
            expected[key] = value


def with_unknown_keys(
    rng: random.Random,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A generated stream with unknown keys at every level, and the completion it must give."""
    truth, chunks = random_stream(rng)
    chunks = orjson.loads(orjson.dumps(chunks))
    expected = orjson.loads(orjson.dumps(truth))
    by_index = {ch["index"]: ch for ch in expected["choices"]}
    taken: dict[tuple[int, str], int] = {}
    usage = None
    for body in chunks:
        _last(expected, _maybe_add(rng, body))
        for entry in body["choices"]:
            want = by_index[entry["index"]]
            _last(want, _maybe_add(rng, entry))
            delta = entry["delta"]
            for key, value in _maybe_add(rng, delta).items():
                want["message"][key] = _generic(want["message"].get(key), value)
            for tc in delta.get("tool_calls") or []:
                call = want["message"]["tool_calls"][tc["index"]]
                _last(call, _maybe_add(rng, tc, 0.2))
                _last(call["function"], _maybe_add(rng, tc.setdefault("function", {}), 0.2))
            for key in ("content", "refusal"):
                entries = (entry.get("logprobs") or {}).get(key) or []
                for token in entries:
                    at = taken.get((entry["index"], key), 0)
                    taken[entry["index"], key] = at + 1
                    added = _maybe_add(rng, token, 0.2)
                    want["logprobs"][key][at].update(added)
        if body.get("usage") is not None:
            _maybe_add(rng, body["usage"])
            for part in ("prompt_tokens_details", "completion_tokens_details"):
                if body["usage"].get(part) is not None:
                    _maybe_add(rng, body["usage"][part])
            usage = body["usage"]
    expected["usage"] = usage
    return chunks, expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(rng=st.randoms(use_true_random=False), data=st.data())
def test_unknown_keys_at_every_level_lose_no_value(rng: random.Random, data: st.DataObject) -> None:
    chunks, expected = with_unknown_keys(rng)
    stream = sse(*chunks)
    split = data.draw(st.sampled_from(["whole", "bytewise", "random"]))
    acc = Accumulator()
    got = feed_all(
        acc, stream, Split(split, rng.randrange(1 << 30)) if split == "random" else split
    )
    assert canonical(acc.finalize()) == canonical(expected)
    assert len(got) == len(chunks)
    for original, decoded in zip(chunks, got, strict=True):
        _reencoded_keeps(original, decoded)
