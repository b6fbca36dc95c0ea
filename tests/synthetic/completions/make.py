"""Write the synthetic legacy Completions streams of this folder, each from its truth object.

``python tests/synthetic/completions/make.py`` rewrites every ``<case>.sse`` (the raw body of a
streamed ``POST /v1/completions`` or ``/v2/router/completions``) and ``<case>.expected.json`` (the
merged ``text_completion``) here, and ``manifest.json``; the output is the same bytes on every
run. It then checks each case (``--no-check`` skips this):

- the truth object validates as the openai SDK's ``Completion`` (strictly), and every chunk
  builds one the way the SDK's stream does (``construct_type``, no validation: ``finish_reason``
  is null until a choice ends, which the strict model rejects);
- the reference merge ``merge`` below, fed the parsed chunks, gives ``expected`` (the truth).

How a case is built: the final ``text_completion`` (the truth) is written first; the chunks are
then rendered from it: each choice's text (and logprobs) cut into pieces, the choices' pieces
interleaved, each choice closed by its finish chunk, then an optional usage-only chunk.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

Obj = dict[str, Any]
HERE = Path(__file__).resolve().parent
# 2026-01-01T00:00:00Z; case k is created k minutes later.
EPOCH = 1767225600
BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def openai_id(case: str) -> str:
    """``cmpl-`` + 29 base62 characters, as OpenAI's ids look."""
    digest = hashlib.sha256(case.encode()).digest()
    return "cmpl-" + "".join(BASE62[b % 62] for b in digest[:29])


def vllm_id(case: str) -> str:
    """``cmpl-`` + 32 hex digits (vLLM's ``cmpl-{random_uuid()}``)."""
    return "cmpl-" + hashlib.sha256(case.encode()).hexdigest()[:32]


def tokens(text: str) -> list[str]:
    """A word-level stand-in for a tokenizer: each piece keeps its leading whitespace."""
    return re.findall(r"\s*\S+|\s+", text)


def fragments(text: str, rng: random.Random, lo: int = 1, hi: int = 6) -> list[str]:
    """``text`` cut into pieces of ``lo`` to ``hi`` code points."""
    out: list[str] = []
    i = 0
    while i < len(text):
        n = rng.randint(lo, hi)
        out.append(text[i : i + n])
        i += n
    return out


# --------------------------------------------------------------------------- truth objects


def completion(
    case: str,
    k: int,
    model: str,
    choices: list[Obj],
    *,
    id_: str | None = None,
    usage: Obj | None = None,
    **extra: Any,
) -> Obj:
    """A final ``text_completion`` in the key order of OpenAI's non-streamed response."""
    obj: Obj = {
        "id": id_ or openai_id(case),
        "object": "text_completion",
        "created": EPOCH + 60 * k,
        "model": model,
        "choices": choices,
    }
    obj.update(extra)
    if usage is not None:
        obj["usage"] = usage
    return obj


def choice(index: int, text: str, finish_reason: str, logprobs: Obj | None = None) -> Obj:
    return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish_reason}


def usage(prompt: int, completion_: int) -> Obj:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_,
        "total_tokens": prompt + completion_,
    }


def completion_logprobs(text: str, offset: int, rng: random.Random) -> Obj:
    """``logprobs`` of a choice as OpenAI returns them with ``logprobs: 2``: per token, its
    logprob, a dict of the top alternatives (the sampled token first) and its character offset
    in prompt + completion (so the first is the prompt's length)."""
    toks = tokens(text)
    lps = [-round(rng.uniform(0.0, 2.0), 7) for _ in toks]
    top: list[dict[str, float]] = []
    for tok, lp in zip(toks, lps, strict=True):
        alt = tok.strip() if tok.strip() != tok else tok + "s"
        top.append({tok: lp, alt: round(lp - rng.uniform(0.2, 3.0), 7)})
    offsets: list[int] = []
    at = offset
    for tok in toks:
        offsets.append(at)
        at += len(tok)
    return {"tokens": toks, "token_logprobs": lps, "top_logprobs": top, "text_offset": offsets}


# --------------------------------------------------------------------------- rendering


@dataclass
class Shape:
    """How one server lays out its chunks."""

    # Keys of a chunk, in wire order; "choices" marks where the choices go.
    chunk_keys: tuple[str, ...] = ("id", "object", "created", "choices", "model")
    # Keys of a chunk's choice, in wire order (beyond text/index/logprobs/finish_reason).
    choice_keys: tuple[str, ...] = ("text", "index", "logprobs", "finish_reason")
    # Whether a choice ends with its own empty finish chunk (OpenAI, Ollama) or the finish
    # reason rides on the chunk with the last text (vLLM).
    empty_finish_chunk: bool = True
    # Keys of the usage-only chunk, in wire order.
    usage_keys: tuple[str, ...] = ("id", "object", "created", "choices", "model", "usage")
    # Extra top-level keys sent on every chunk, e.g. {"usage": None} or a system_fingerprint.
    chunk_extra: Obj = field(default_factory=dict)


def render(truth: Obj, shape: Shape, rng: random.Random, per_token: bool = False) -> list[Obj]:
    """The chunks of ``truth``: per choice, the pieces of its text (one token each when
    ``per_token`` or when it has logprobs), interleaved at random between choices."""
    queues: list[list[Obj]] = []
    for ch in truth["choices"]:
        lp: Obj | None = ch.get("logprobs")
        if lp is not None:
            pieces: list[str] = lp["tokens"]
        elif per_token:
            pieces = tokens(ch["text"])
        else:
            pieces = fragments(ch["text"], rng)
        assert "".join(pieces) == ch["text"]
        extra = {k: ch[k] for k in shape.choice_keys if k not in choice_base_keys}
        queue: list[Obj] = []
        for n, piece in enumerate(pieces):
            piece_lp = (
                None
                if lp is None
                else {
                    key: lp[key][n : n + 1]
                    for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset")
                }
            )
            last = n == len(pieces) - 1 and not shape.empty_finish_chunk
            fields = {
                "text": piece,
                "index": ch["index"],
                "logprobs": piece_lp,
                "finish_reason": ch["finish_reason"] if last else None,
            }
            fields.update({k: (v if last else None) for k, v in extra.items()})
            queue.append({k: fields[k] for k in shape.choice_keys})
        if shape.empty_finish_chunk:
            empty_lp: Obj | None = None if lp is None else {key: [] for key in lp}
            fields = {
                "text": "",
                "index": ch["index"],
                "logprobs": empty_lp,
                "finish_reason": ch["finish_reason"],
            }
            fields.update(extra)
            queue.append({k: fields[k] for k in shape.choice_keys})
        queues.append(queue)
    chunks: list[Obj] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        chunks.append(wrap(truth, shape, [queue.pop(0)]))
    if "usage" in truth:
        top = {**{k: truth[k] for k in truth if k != "choices"}, "choices": []}
        chunks.append({k: top[k] for k in shape.usage_keys})
    return chunks


choice_base_keys = ("text", "index", "logprobs", "finish_reason")


def wrap(truth: Obj, shape: Shape, choices: list[Obj]) -> Obj:
    top = {**{k: truth[k] for k in truth if k not in ("choices", "usage")}, "choices": choices}
    top.update(shape.chunk_extra)
    return {k: top[k] for k in shape.chunk_keys}


def to_sse(chunks: Iterable[Obj]) -> bytes:
    """``data: <json>`` and a blank line per chunk, then ``data: [DONE]`` (no ``event:`` lines)."""
    out = bytearray()
    for chunk in chunks:
        out += b"data: " + orjson.dumps(chunk) + b"\n\n"
    return bytes(out + b"data: [DONE]\n\n")


# --------------------------------------------------------------------------- reference merge


def merge(chunks: Iterable[Obj]) -> Obj:
    """Merge parsed chunks into one ``text_completion`` (the rule the README states).

    Top level: every key seen, in first-seen order, ``choices`` excepted; its value is the last
    non-null one seen (null if it was only ever null). ``object`` is ``text_completion``.
    Choices: one per ``index``, in index order; ``text`` concatenated; ``logprobs`` null if every
    chunk of the choice had null, else each of its four lists concatenated; any other key
    (``finish_reason``, ``stop_reason``, ...) takes the last non-null value seen.
    """
    top: Obj = {}
    by_index: dict[int, Obj] = {}
    for chunk in chunks:
        for key, value in chunk.items():
            if key == "choices":
                top.setdefault("choices", None)
                for part in value:
                    merge_choice(by_index, part)
            elif value is not None or key not in top:
                top[key] = deepcopy(value)
    top["object"] = "text_completion"
    top["choices"] = [by_index[i] for i in sorted(by_index)]
    return top


def merge_choice(by_index: dict[int, Obj], part: Obj) -> None:
    index: int = part["index"]
    into = by_index.get(index)
    if into is None:
        into = by_index[index] = {key: None for key in part}
        into["text"] = ""
    for key, value in part.items():
        if key == "text":
            into["text"] += value
        elif key == "logprobs":
            if value is None:
                continue
            if into["logprobs"] is None:
                into["logprobs"] = {k: [] for k in value}
            for k, items in value.items():
                into["logprobs"].setdefault(k, []).extend(deepcopy(items))
        elif value is not None or key not in into:
            into[key] = deepcopy(value)


# --------------------------------------------------------------------------- the cases


OPENAI = Shape()
OPENAI_WITH_USAGE = Shape(chunk_keys=(*OPENAI.chunk_keys, "usage"), chunk_extra={"usage": None})
OLLAMA = Shape(
    chunk_keys=("id", "object", "created", "choices", "model", "system_fingerprint"),
    choice_keys=("text", "index", "finish_reason"),
)
VLLM = Shape(
    chunk_keys=("id", "object", "created", "model", "choices"),
    choice_keys=(
        "index",
        "text",
        "logprobs",
        "finish_reason",
        "stop_reason",
        "prompt_token_ids",
        "token_ids",
    ),
    empty_finish_chunk=False,
    usage_keys=("id", "object", "created", "model", "choices", "usage"),
)


@dataclass
class Case:
    name: str
    covers: str
    source: str
    truth: Obj
    chunks: list[Obj]


def case_list() -> list[Case]:
    cases: list[Case] = []
    instruct = "gpt-3.5-turbo-instruct"

    def add(
        name: str,
        covers: str,
        source: str,
        truth: Obj,
        shape: Shape,
        render_: Callable[[Obj, Shape, random.Random], list[Obj]] = render,
    ) -> None:
        cases.append(Case(name, covers, source, truth, render_(truth, shape, random.Random(name))))

    name = "single_choice"
    truth = completion(
        name,
        len(cases),
        instruct,
        [choice(0, "\n\nThis is a test of a single streamed completion.", "stop")],
    )
    add(
        name,
        "one choice, text in 1-6 character pieces, finish_reason stop",
        "OpenAI",
        truth,
        OPENAI,
    )

    name = "n3_interleaved"
    truth = completion(
        name,
        len(cases),
        instruct,
        [
            choice(0, " red, green and blue.", "stop"),
            choice(1, " cyan, magenta, yellow and key, the", "length"),
            choice(2, " the three primaries of light.", "stop"),
        ],
    )
    add(name, "n=3, chunks of the three choices interleaved at random", "OpenAI", truth, OPENAI)

    name = "logprobs_n2"
    prompt = "Q: Name a primary color.\nA:"
    lp_rng = random.Random(name + ":lp")
    texts = (" Red is a primary color.", " Blue, as in the sky.")
    truth = completion(
        name,
        len(cases),
        instruct,
        [
            choice(i, t, "stop", completion_logprobs(t, len(prompt), lp_rng))
            for i, t in enumerate(texts)
        ],
    )
    add(
        name,
        "n=2 with logprobs=2: one token per chunk, each chunk's tokens/token_logprobs/"
        "top_logprobs/text_offset extending the choice's lists; text_offset counts from the "
        "prompt's length; the finish chunk has four empty lists",
        "OpenAI (shape of a captured gpt-3.5-turbo-instruct stream)",
        truth,
        OPENAI,
    )

    name = "finish_length"
    truth = completion(
        name,
        len(cases),
        instruct,
        [choice(0, " Once upon a time, in a kingdom by the sea, there lived a", "length")],
    )
    add(name, "one choice cut by max_tokens: finish_reason length", "OpenAI", truth, OPENAI)

    name = "usage_chunk"
    truth = completion(
        name,
        len(cases),
        instruct,
        [choice(0, " The answer is 42.", "stop")],
        usage=usage(9, 6),
    )
    add(
        name,
        'stream_options.include_usage: every chunk has "usage": null, then a last chunk with '
        '"choices": [] and the usage',
        "OpenAI",
        truth,
        OPENAI_WITH_USAGE,
    )

    name = "fim_ollama"
    middle = "    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n"
    truth = completion(
        name,
        len(cases),
        "qwen2.5-coder:7b",
        [{"text": middle, "index": 0, "finish_reason": "stop"}],
        id_="cmpl-713",
        system_fingerprint="fp_ollama",
    )
    add(
        name,
        "fill-in-the-middle (prompt + suffix, no echo): only the middle streams, code with "
        "newlines and indentation; choices have no logprobs key",
        "Ollama (openai/openai.go CompletionChunk)",
        truth,
        OLLAMA,
    )

    name = "vllm"
    truth = completion(
        name,
        len(cases),
        "Qwen/Qwen2.5-0.5B-Instruct",
        [
            {
                "index": 0,
                "text": " Paris. It is also the largest city in France.",
                "logprobs": None,
                "finish_reason": "stop",
                "stop_reason": "\n\n",
                "prompt_token_ids": None,
                "token_ids": None,
            },
            {
                "index": 1,
                "text": " Paris, which sits on the Seine and",
                "logprobs": None,
                "finish_reason": "length",
                "stop_reason": None,
                "prompt_token_ids": None,
                "token_ids": None,
            },
        ],
        id_=vllm_id(name),
        usage={"prompt_tokens": 6, "total_tokens": 26, "completion_tokens": 20},
    )
    add(
        name,
        "n=2, one token per chunk, one choice per chunk; finish_reason and stop_reason ride on "
        "the chunk with the last token; prompt_token_ids/token_ids null; usage chunk with "
        '"choices": [] (stream_options.include_usage)',
        "vLLM (entrypoints/openai/completion/serving.py and protocol.py)",
        truth,
        VLLM,
        lambda t, s, r: render(t, s, r, per_token=True),
    )

    name = "non_ascii"
    truth = completion(
        name,
        len(cases),
        instruct,
        [choice(0, " Grüße! 東京は晴れ。Ελληνικά 🌧️→☀️ 👩🏽‍💻 done.", "stop")],
    )
    add(
        name,
        "non-ASCII text cut between code points (CJK, Greek, emoji sequences)",
        "OpenAI",
        truth,
        OPENAI,
    )
    return cases


# --------------------------------------------------------------------------- writing and checks


def dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n"


def parse_sse(data: bytes) -> list[Obj]:
    out: list[Obj] = []
    for line in data.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            out.append(orjson.loads(line[6:]))
    return out


def write(cases: list[Case]) -> None:
    manifest: list[Obj] = []
    for case in cases:
        (HERE / f"{case.name}.sse").write_bytes(to_sse(case.chunks))
        (HERE / f"{case.name}.expected.json").write_bytes(dump(merge(case.chunks)))
        manifest.append(
            {
                "case": case.name,
                "covers": case.covers,
                "source": case.source,
                "chunks": len(case.chunks),
                "choices": len(case.truth["choices"]),
            }
        )
    (HERE / "manifest.json").write_bytes(dump(manifest))


def check(cases: list[Case]) -> list[str]:
    from openai._models import construct_type
    from openai.types import Completion

    lines: list[str] = []
    for case in cases:
        chunks = parse_sse((HERE / f"{case.name}.sse").read_bytes())
        assert chunks == case.chunks, case.name
        expected = orjson.loads((HERE / f"{case.name}.expected.json").read_bytes())
        assert merge(chunks) == expected == case.truth, case.name
        Completion.model_validate(case.truth)
        for chunk in chunks:
            built = construct_type(type_=Completion, value=chunk)
            assert isinstance(built, Completion), case.name
        lines.append(f"{case.name}: {len(chunks)} chunks, merged == truth")
    return lines


def main(argv: list[str]) -> int:
    cases = case_list()
    write(cases)
    print(f"wrote {len(cases)} cases to {HERE}")
    if "--no-check" not in argv:
        for line in check(cases):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
