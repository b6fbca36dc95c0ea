"""Providers' extensions: every field a server sent is kept, each known one by its rule.

The synthetic provider streams (``tests/synthetic/providers``, built from the providers' public
docs, see its README) must merge to their expected files under every split; each known extension
also has a focused test here. The generic rule of keys nobody declared, and the property that
no unknown key loses a value, are tests/core/test_rules.py.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from helpers import (
    SPLIT_IDS,
    SPLITS,
    SYNTHETIC,
    Split,
    assert_reencoded_keeps,
    canonical,
    choice,
    chunk,
    convert_eol,
    data_payloads,
    merge_bytes,
    merge_chunks,
    sse,
)

import chunkagg
from chunkagg import (
    Accumulator,
    AnnotationAdded,
    CitationsUpdated,
    ContentDelta,
    ReasoningDelta,
    ReasoningDetail,
    decode_chunk,
)

PROVIDERS = SYNTHETIC / "providers"
CASES = sorted(p.stem for p in PROVIDERS.glob("*.sse"))


def _expected(name: str) -> Any:
    return json.loads((PROVIDERS / f"{name}.expected.json").read_bytes())


def test_every_provider_case_is_here() -> None:
    manifest = json.loads((PROVIDERS / "manifest.json").read_bytes())
    assert sorted(entry["case"] for entry in manifest) == CASES
    assert len(CASES) >= 20


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", CASES)
def test_provider_stream(name: str, eol: bytes, split: Split) -> None:
    data = convert_eol((PROVIDERS / f"{name}.sse").read_bytes(), eol)
    assert canonical(merge_bytes(data, split)) == _expected(name), f"{name} {split}"


@pytest.mark.parametrize("name", CASES)
def test_provider_stream_as_ndjson(name: str) -> None:
    payloads = data_payloads((PROVIDERS / f"{name}.sse").read_bytes())
    data = b"".join(p + b"\n" for p in payloads)
    assert canonical(merge_bytes(data, "bytewise")) == _expected(name)


@pytest.mark.parametrize("name", CASES)
def test_provider_chunks_reencode_with_every_field(name: str) -> None:
    data = (PROVIDERS / f"{name}.sse").read_bytes()
    acc = Accumulator()
    chunks = acc.feed(data)
    payloads = data_payloads(data)
    assert len(chunks) == len(payloads)
    for payload, chunk_ in zip(payloads, chunks, strict=True):
        assert_reencoded_keeps(orjson.loads(payload), chunk_)
        assert decode_chunk(payload) == chunk_


# -- typed attributes for the known extensions -------------------------------------------------


def _case(name: str) -> chunkagg.ChatCompletion:
    return merge_bytes((PROVIDERS / f"{name}.sse").read_bytes())


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


def test_reasoning_details_merge_by_index() -> None:
    completion = merge_chunks(
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
    completion = merge_chunks(
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
    completion = merge_chunks(
        chunk(choice(content="a", channel="analysis"), citations=["u1"], provider="A"),
        chunk(choice(content="b", channel=""), citations=["u1", "u2"], provider=""),
        chunk(choice(content="c", channel="final"), citations=None, x_groq={"id": "r"}),
        chunk(choice(finish_reason="stop"), x_groq={"seed": 7, "id": None}),
    )
    assert completion.citations == ["u1", "u2"]
    assert completion.provider == "A"
    assert completion.x_groq == {"id": "r", "seed": 7}
    assert completion.choices[0].message.channel == "final"


def test_extension_of_an_unexpected_type_is_kept_never_an_error() -> None:
    completion = merge_chunks(
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


def test_message_beside_a_delta_fills_what_the_deltas_left_empty() -> None:
    completion = merge_chunks(
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
    completion = merge_chunks(
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
