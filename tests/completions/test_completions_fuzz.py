"""The legacy completions format under generated and hostile input: properties (generated
streams merge to their truth under every split and framing; unknown keys at every level lose no
value) and ``tests/fuzz.py``'s mutation families over this format's streams.
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any, cast

import fuzz
import orjson
import pytest
from completions_helpers import CASES, _expected, _merged, _stream, choice, chunk, lp, sse
from helpers import Split, canonical, convert_eol, data_payloads, feed_all, split_feeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkagg._completions import CompletionAccumulator

# -- properties -----------------------------------------------------------------------------------


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
    got = feed_all(
        acc, sse(*chunks), Split(split, rng.randrange(1 << 30)) if split == "random" else split
    )
    assert canonical(acc.finalize()) == expected
    assert len(got) == len(chunks)
    for sent, decoded in zip(chunks, got, strict=True):
        assert canonical(orjson.loads(decoded.to_json())) == canonical(sent)


# -- the fuzz harness over this format's streams --------------------------------------------------


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
