"""The legacy completions format's synthetic cases (``tests/synthetic/completions``, see its
README): each merges to its expected file under every split, LF and CRLF, as NDJSON, and as a
non-streamed body; each decoded chunk re-encodes to what was sent.
"""

from __future__ import annotations

import json

import orjson
import pytest
from completions_helpers import CASES, SYNTHETIC, _expected, _merged, _stream
from helpers import SPLIT_IDS, SPLITS, Split, canonical, convert_eol, data_payloads, feed_all

from chunkagg._completions import (
    CompletionAccumulator,
    CompletionChunk,
    TextCompletion,
    decode_completion_chunk,
)


def test_every_case_is_here() -> None:
    manifest = json.loads((SYNTHETIC / "manifest.json").read_bytes())
    assert sorted(entry["case"] for entry in manifest) == CASES
    assert len(CASES) == 8


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", CASES)
def test_case_merges(name: str, eol: bytes, split: Split) -> None:
    acc = CompletionAccumulator()
    chunks = feed_all(acc, convert_eol(_stream(name), eol), split)
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
