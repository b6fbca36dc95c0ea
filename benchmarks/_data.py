"""Seeded stream generator: the bytes of each benchmark stream and the completion it must give.

Measures nothing itself. Every scenario is built from ``random.Random(seed)`` alone, so every
process of one run (each consumer runs in its own) rebuilds byte-identical streams, and a given
seed gives the same streams on every machine.

Chunks look like OpenAI's: ``id``, ``object``, ``created``, ``model``, ``service_tier``,
``system_fingerprint``, ``choices`` with ``logprobs``/``finish_reason`` keys present and ``null``,
and ``"usage": null`` on every chunk but the last (``stream_options.include_usage``), which carries
the usage and no choices. The text mixes ASCII with accented Latin, Cyrillic, CJK and emoji, plus
quotes and newlines that JSON must escape. Compact JSON with raw UTF-8, as OpenAI sends it.

Also here: how a stream is cut into the slices a consumer is fed (network-like or one byte at a
time), and the canonical form used to compare any consumer's result with the truth.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "OPENAI_SCENARIOS",
    "SCENARIOS",
    "Case",
    "canonical",
    "compare",
    "make_case",
    "network_slices",
    "one_byte_slices",
]

DEFAULT_SEED = 20240926
MAX_SLICE = 4096  # network-like reads are 1 to MAX_SLICE bytes

_encode = msgspec.json.encode

# Token-sized fragments: ~70% ASCII (with leading spaces, as BPE tokens have), the rest multi-byte.
_VOCAB = [
    " the",
    " of",
    " and",
    " to",
    " a",
    " in",
    " stream",
    " chunk",
    " model",
    " token",
    " is",
    " that",
    " for",
    " it",
    " with",
    " as",
    " was",
    " on",
    " be",
    " by",
    " this",
    " data",
    ",",
    ".",
    ":",
    ";",
    "!",
    "?",
    " (",
    ")",
    "\n",
    "\n\n",
    ' "',
    '"',
    " -",
    "'s",
    " 42",
    " 2024",
    " café",
    " naïve",
    " résumé",
    " über",
    " Straße",
    " año",
    " façade",
    " Ελλάδα",
    " λ",
    " привет",
    " мир",
    " данные",
    "日本",
    "語",
    "の",
    "テスト",
    "中文",
    "数据",
    "流",
    "한국어",
    " 😀",
    "🚀",
    " ✓",
    "→",
    " €",
    " ±",
    "\t",
    " \\",
    " {",
    "}",
]


@dataclass(frozen=True)
class Case:
    """One generated stream: its bytes, its payloads, and the completion it must merge to."""

    name: str
    description: str
    data: bytes
    events: int  # JSON chunk events (the [DONE] event not counted)
    truth: dict[str, Any]
    payloads: list[bytes]  # the JSON text of each chunk event, in order

    @property
    def size(self) -> int:
        return len(self.data)


class _Builder:
    """Writes chunks in OpenAI's key order and keeps their JSON payloads."""

    def __init__(self, rng: random.Random, model: str = "gpt-4o-mini-2024-07-18") -> None:
        self.rng = rng
        self.id = f"chatcmpl-{rng.getrandbits(96):024x}"
        self.created = 1727346176 + rng.randrange(10**6)
        self.model = model
        self.fingerprint = f"fp_{rng.getrandbits(40):010x}"
        self.payloads: list[bytes] = []

    def chunk(
        self,
        index: int,
        delta: dict[str, Any],
        *,
        finish: str | None = None,
        logprobs: dict[str, Any] | None = None,
    ) -> None:
        self._emit(
            [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}], None
        )

    def usage(self, prompt: int, completion: int) -> dict[str, Any]:
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        self._emit([], usage)
        return usage

    def _emit(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> None:
        self.payloads.append(
            _encode(
                {
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "service_tier": "default",
                    "system_fingerprint": self.fingerprint,
                    "choices": choices,
                    "usage": usage,
                }
            )
        )

    def case(self, name: str, description: str, choices: list[dict[str, Any]], usage: Any) -> Case:
        data = b"".join(b"data: " + p + b"\n\n" for p in self.payloads) + b"data: [DONE]\n\n"
        truth = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
            "choices": choices,
            "usage": usage,
        }
        return Case(name, description, data, len(self.payloads), truth, self.payloads)


def _token(rng: random.Random) -> str:
    return rng.choice(_VOCAB)


def _text(name: str, description: str, rng: random.Random, count: int) -> Case:
    b = _Builder(rng)
    b.chunk(0, {"role": "assistant", "content": "", "refusal": None})
    parts = []
    for _ in range(count):
        tok = _token(rng)
        parts.append(tok)
        b.chunk(0, {"content": tok})
    b.chunk(0, {}, finish="stop")
    usage = b.usage(rng.randrange(20, 2000), count)
    message = {"role": "assistant", "content": "".join(parts), "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    return b.case(name, description, [choice], usage)


def _text_1k(rng: random.Random) -> Case:
    return _text("text-1k", "1 choice, 1,000 content chunks", rng, 1_000)


def _text_20k(rng: random.Random) -> Case:
    return _text("text-20k", "1 choice, 20,000 content chunks", rng, 20_000)


def _n4(rng: random.Random) -> Case:
    n, per_choice = 4, 1_000
    b = _Builder(rng)
    for i in range(n):  # OpenAI opens every choice, in index order, before any content
        b.chunk(i, {"role": "assistant", "content": "", "refusal": None})
    order = [i for i in range(n) for _ in range(per_choice)]
    rng.shuffle(order)
    parts: list[list[str]] = [[] for _ in range(n)]
    for i in order:
        tok = _token(rng)
        parts[i].append(tok)
        b.chunk(i, {"content": tok})
    reasons = ["stop"] * n  # a "length" would make openai's get_final_completion() raise
    for i in range(n):
        b.chunk(i, {}, finish=reasons[i])
    usage = b.usage(rng.randrange(20, 2000), n * per_choice)
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": "".join(parts[i]), "refusal": None},
            "finish_reason": reasons[i],
            "logprobs": None,
        }
        for i in range(n)
    ]
    return b.case(
        "n4", f"n=4 choices interleaved, {n * per_choice:,} content chunks", choices, usage
    )


def _arguments(rng: random.Random, size: int) -> str:
    """A JSON arguments text of about ``size`` characters (quotes, escapes and UTF-8 inside)."""
    items = []
    total = 0
    while total < size:
        words = "".join(_token(rng) for _ in range(rng.randint(4, 24)))
        item = {"id": rng.randrange(10**6), "title": words.strip(), "score": rng.random()}
        items.append(item)
        total += len(_encode(item).decode())
    text: str = msgspec.json.encode({"query": "streaming aggregation", "results": items}).decode()
    return text


def _tools(rng: random.Random) -> Case:
    calls, per_call = 3, 400
    names = ["search_docs", "get_weather", "create_ticket"]
    b = _Builder(rng)
    truth_calls = []
    for i in range(calls):
        call_id = f"call_{rng.getrandbits(96):024x}"
        args = _arguments(rng, per_call * 136)
        cuts = sorted(rng.sample(range(1, len(args)), per_call - 1))
        frags = [args[a:z] for a, z in zip([0, *cuts], [*cuts, len(args)], strict=True)]
        head = {
            "index": i,
            "id": call_id,
            "type": "function",
            "function": {"name": names[i], "arguments": ""},
        }
        if i == 0:
            b.chunk(
                0, {"role": "assistant", "content": None, "tool_calls": [head], "refusal": None}
            )
        else:
            b.chunk(0, {"tool_calls": [head]})
        for frag in frags:
            b.chunk(0, {"tool_calls": [{"index": i, "function": {"arguments": frag}}]})
        truth_calls.append(
            {"id": call_id, "type": "function", "function": {"name": names[i], "arguments": args}}
        )
    b.chunk(0, {}, finish="tool_calls")
    usage = b.usage(rng.randrange(200, 2000), calls * per_call)
    message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": truth_calls}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls", "logprobs": None}
    return b.case(
        "tools",
        f"3 parallel tool calls, {calls * per_call:,} argument fragments of ~136 chars",
        [choice],
        usage,
    )


def _logprob(rng: random.Random, token: str) -> dict[str, Any]:
    return {
        "token": token,
        "logprob": -round(rng.expovariate(3.0), 6),
        "bytes": list(token.encode()),
    }


def _logprobs(rng: random.Random) -> Case:
    count, top = 2_000, 5
    b = _Builder(rng)
    b.chunk(0, {"role": "assistant", "content": "", "refusal": None}, logprobs=None)
    parts = []
    entries = []
    for _ in range(count):
        tok = _token(rng)
        entry = _logprob(rng, tok)
        entry["top_logprobs"] = [entry.copy()] + [
            _logprob(rng, _token(rng)) for _ in range(top - 1)
        ]
        parts.append(tok)
        entries.append(entry)
        b.chunk(0, {"content": tok}, logprobs={"content": [entry], "refusal": None})
    b.chunk(0, {}, finish="stop")
    usage = b.usage(rng.randrange(20, 2000), count)
    message = {"role": "assistant", "content": "".join(parts), "refusal": None}
    logprobs = {"content": entries, "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": logprobs}
    return b.case(
        "logprobs", f"{count:,} chunks with logprobs and {top} top_logprobs", [choice], usage
    )


def _openrouter(rng: random.Random) -> Case:
    """Shaped like OpenRouter in front of a reasoning model (its streaming and reasoning docs)."""
    thinking, answer = 300, 700
    gen = f"gen-{rng.getrandbits(64):016x}"
    created = 1727346176 + rng.randrange(10**6)
    model = "anthropic/claude-sonnet-4"
    payloads: list[bytes] = []

    def emit(
        delta: dict[str, Any], finish: Any = None, native: Any = None, usage: Any = None
    ) -> None:
        body = {
            "id": gen,
            "provider": "Anthropic",
            "model": model,
            "object": "chat.completion.chunk",
            "created": created,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "finish_reason": finish,
                    "native_finish_reason": native,
                    "logprobs": None,
                }
            ],
        }
        if usage is not None:
            body["usage"] = usage
        payloads.append(_encode(body))

    signature = f"sig_{rng.getrandbits(128):032x}"
    reasoning = []
    for i in range(thinking):
        tok = _token(rng)
        reasoning.append(tok)
        detail = {
            "type": "reasoning.text",
            "text": tok,
            "format": "anthropic-claude-v1",
            "index": 0,
        }
        if i == thinking - 1:
            detail["signature"] = signature
        emit({"role": "assistant", "content": "", "reasoning": tok, "reasoning_details": [detail]})
    content = []
    for _ in range(answer):
        tok = _token(rng)
        content.append(tok)
        empty: dict[str, Any] = {
            "role": "assistant",
            "content": tok,
            "reasoning": None,
            "reasoning_details": [],
        }
        emit(empty)
    done: dict[str, Any] = {"role": "assistant", "content": "", "reasoning": None}
    done["reasoning_details"] = []
    emit(done, "stop", "end_turn")
    prompt = rng.randrange(200, 2000)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": thinking + answer,
        "total_tokens": prompt + thinking + answer,
        "cost": round(rng.random() / 50, 8),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "cost_details": {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": 0.0012,
            "upstream_inference_completions_cost": 0.011,
        },
        "completion_tokens_details": {"reasoning_tokens": thinking, "image_tokens": 0},
    }
    emit(done, usage=usage)
    message = {
        "role": "assistant",
        "content": "".join(content),
        "reasoning": "".join(reasoning),
        "reasoning_details": [
            {
                "type": "reasoning.text",
                "text": "".join(reasoning),
                "format": "anthropic-claude-v1",
                "index": 0,
                "signature": signature,
            }
        ],
    }
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": "stop",
        "native_finish_reason": "end_turn",
        "logprobs": None,
    }
    truth = {
        "id": gen,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "provider": "Anthropic",
        "choices": [choice],
        "usage": usage,
    }
    data = b"".join(b"data: " + p + b"\n\n" for p in payloads) + b"data: [DONE]\n\n"
    description = (
        "OpenRouter-shaped: role, provider, native_finish_reason, reasoning_details on every"
        f" chunk; {thinking} reasoning + {answer} content chunks; usage with cost and details"
    )
    return Case("openrouter", description, data, len(payloads), truth, payloads)


def _reasoning(rng: random.Random) -> Case:
    """Shaped like DeepSeek's reasoner (its API docs): no ``service_tier``, ``content: null``
    beside each ``reasoning_content`` fragment, then the answer, ``usage: null`` until the last
    chunk; vLLM, Ollama and most OpenAI-compatible servers send neither that field nor, often,
    ``system_fingerprint``."""
    thinking, answer = 500, 500
    gen = f"{rng.getrandbits(128):032x}"
    created = 1727346176 + rng.randrange(10**6)
    model, fingerprint = "deepseek-reasoner", f"fp_{rng.getrandbits(40):010x}"
    payloads: list[bytes] = []

    def emit(delta: dict[str, Any], finish: Any = None, usage: Any = None) -> None:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body = {
            "id": gen,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": fingerprint,
            "choices": [choice] if usage is None else [],
            "usage": usage,
        }
        payloads.append(_encode(body))

    emit({"role": "assistant", "content": None, "reasoning_content": ""})
    reasoning = [_token(rng) for _ in range(thinking)]
    for tok in reasoning:
        emit({"content": None, "reasoning_content": tok})
    content = [_token(rng) for _ in range(answer)]
    for tok in content:
        emit({"content": tok, "reasoning_content": None})
    emit({"content": "", "reasoning_content": None}, "stop")
    prompt = rng.randrange(20, 2000)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": thinking + answer,
        "total_tokens": prompt + thinking + answer,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": thinking},
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": prompt,
    }
    emit({}, usage=usage)
    message = {
        "role": "assistant",
        "content": "".join(content),
        "reasoning_content": "".join(reasoning),
    }
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    truth = {
        "id": gen,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": [choice],
        "usage": usage,
    }
    data = b"".join(b"data: " + p + b"\n\n" for p in payloads) + b"data: [DONE]\n\n"
    description = (
        f"DeepSeek-shaped: no service_tier; {thinking} reasoning_content + {answer} content chunks"
    )
    return Case("reasoning", description, data, len(payloads), truth, payloads)


def _unknown(rng: random.Random) -> Case:
    """1,000 content chunks, each delta with a field no one has documented (``x_token_id``)."""
    count = 1_000
    b = _Builder(rng)
    b.chunk(0, {"role": "assistant", "content": "", "refusal": None})
    parts = []
    token_id = 0
    for _ in range(count):
        tok = _token(rng)
        parts.append(tok)
        token_id = rng.randrange(200_000)
        b.chunk(0, {"content": tok, "x_token_id": token_id})
    b.chunk(0, {}, finish="stop")
    usage = b.usage(rng.randrange(20, 2000), count)
    message = {
        "role": "assistant",
        "content": "".join(parts),
        "refusal": None,
        "x_token_id": token_id,
    }
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    return b.case(
        "unknown", "1,000 content chunks, a never-seen delta field on each", [choice], usage
    )


def _small(rng: random.Random) -> Case:
    """A short stream, as a gateway holds thousands of at once (the many-accumulators case)."""
    return _text("small", "1 choice, 32 content chunks", rng, 32)


SCENARIOS: dict[str, Callable[[random.Random], Case]] = {
    "text-1k": _text_1k,
    "text-20k": _text_20k,
    "n4": _n4,
    "tools": _tools,
    "logprobs": _logprobs,
    "openrouter": _openrouter,
    "reasoning": _reasoning,
    "unknown": _unknown,
}
# The scenarios of OpenAI's own format; the others carry providers' extensions.
OPENAI_SCENARIOS = ("text-1k", "text-20k", "n4", "tools", "logprobs")


def make_case(name: str, seed: int = DEFAULT_SEED, variant: int = 0) -> Case:
    """Build scenario ``name``; the same ``(name, seed, variant)`` always gives the same bytes."""
    make = _small if name == "small" else SCENARIOS[name]
    return make(random.Random(f"{seed}/{name}/{variant}"))


def network_slices(data: bytes, seed: int, tag: str = "") -> list[bytes]:
    """Cut ``data`` into reads of 1 to ``MAX_SLICE`` bytes, as a socket hands them over."""
    rng = random.Random(f"{seed}/slices/{tag}")
    out = []
    pos, n = 0, len(data)
    while pos < n:
        step = rng.randint(1, MAX_SLICE)
        out.append(data[pos : pos + step])
        pos += step
    return out


def one_byte_slices(data: bytes) -> list[bytes]:
    """Cut ``data`` into 1-byte reads (CPython shares the 256 one-byte objects: no copies)."""
    return [data[i : i + 1] for i in range(len(data))]


def canonical(value: Any) -> Any:
    """Builtins without ``None``-valued keys, so a null and an absent key compare equal."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def compare(truth: Any, got: Any, path: str = "$") -> tuple[list[str], list[str]]:
    """Compare canonical forms: ``(errors, extras)``, extras being keys the truth does not have.

    An error is a key of the truth that is missing or different; peers add keys of their own
    (``parsed``, ``annotations``, usage breakdowns), which are only listed, not counted as wrong.
    """
    errors: list[str] = []
    extras: list[str] = []
    if isinstance(truth, dict) and isinstance(got, dict):
        for key, want in truth.items():
            if key not in got:
                errors.append(f"{path}.{key} missing")
            else:
                e, x = compare(want, got[key], f"{path}.{key}")
                errors += e
                extras += x
        extras += [f"{path}.{key}" for key in got if key not in truth]
    elif isinstance(truth, list) and isinstance(got, list):
        if len(truth) != len(got):
            errors.append(f"{path}: {len(got)} items, expected {len(truth)}")
        for i, (want, have) in enumerate(zip(truth, got, strict=False)):
            e, x = compare(want, have, f"{path}[{i}]")
            errors += e
            extras += x
    elif type(truth) is not type(got) or truth != got:
        errors.append(f"{path}: got {_short(got)}, expected {_short(truth)}")
    return errors, extras


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
