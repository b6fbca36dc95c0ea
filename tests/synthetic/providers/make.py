"""Build the synthetic provider-extension streams and their expected completions.

Run ``python tests/synthetic/providers/make.py``: it rewrites every ``<case>.sse``,
``<case>.expected.json``, ``manifest.json`` and ``README.md``, byte for byte the same each time,
after checking that each stream renders its truth (``--no-check`` skips that).

Each case first writes down the TRUTH (the final merged ``chat.completion``, by hand, following
the merge rules the README quotes), then renders the stream chunks from it: text is cut into
fragments, snapshots and usage blocks are sent the way the provider's docs show. The expected
file is that truth with null-valued keys dropped, never the output of a merger. The shapes come
from the providers' public docs (URLs in each case); they are synthetic, not captures.
"""

# The streams carry non-ASCII text on purpose: dashes, fullwidth punctuation, math signs.
# ruff: noqa: RUF001

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

Obj = dict[str, Any]
HERE = Path(__file__).resolve().parent
CHUNK = "chat.completion.chunk"


@dataclass(frozen=True)
class Case:
    name: str
    provider: str
    docs: tuple[str, ...]
    covers: str
    truth: Obj
    events: list[Obj | str]  # a str is an SSE comment line


# -- helpers ---------------------------------------------------------------------------------

JITTER = (0, 2, -1, 3, -2, 1, -3)


def split(text: str, n: int) -> list[str]:
    """Cut ``text`` into ``n`` non-empty pieces at uneven, deterministic code-point offsets."""
    assert 1 <= n <= len(text), (n, text)
    cuts: list[int] = []
    for k in range(1, n):
        cut = len(text) * k // n + JITTER[k % len(JITTER)]
        low = cuts[-1] + 1 if cuts else 1
        cuts.append(min(max(cut, low), len(text) - (n - k)))
    bounds = [0, *cuts, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    assert "".join(pieces) == text and all(pieces)
    return pieces


def completion(id_: str, created: int, model: str, choices: list[Obj], **top: Any) -> Obj:
    """The truth: a ``chat.completion`` as the merge rules say it must come out."""
    return {
        "id": id_,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
        **top,
    }


def message(content: str | None, **fields: Any) -> Obj:
    return {"role": "assistant", "content": content, **fields}


def choice(
    delta: Obj | None, *, index: int = 0, finish_reason: str | None = None, **extra: Any
) -> Obj:
    """A chunk's choice; ``delta=None`` leaves the key out (Azure's async filter chunks)."""
    out: Obj = {"index": index}
    if delta is not None:
        out["delta"] = delta
    return {**out, "finish_reason": finish_reason, **extra}


def token(text: str, logprob: float, **extra: Any) -> Obj:
    return {
        "token": text,
        "logprob": logprob,
        "bytes": list(text.encode()),
        "top_logprobs": [],
        **extra,
    }


class Stream:
    """Collects the chunks of one case; every chunk repeats the truth's id, created, model."""

    def __init__(self, truth: Obj, **every: Any) -> None:
        self.head: Obj = {
            "id": truth["id"],
            "object": CHUNK,
            "created": truth["created"],
            "model": truth["model"],
            **every,
        }
        self.events: list[Obj | str] = []

    def comment(self, text: str) -> None:
        self.events.append(text)

    def chunk(self, choices: list[Obj], **top: Any) -> None:
        self.events.append({**self.head, "choices": choices, **top})

    def raw(self, chunk: Obj) -> None:
        self.events.append(chunk)


def sse(events: Sequence[Obj | str]) -> bytes:
    out = bytearray()
    for event in events:
        if isinstance(event, str):
            out += b": " + event.encode() + b"\n\n"
        else:
            out += b"data: " + orjson.dumps(event) + b"\n\n"
    return bytes(out + b"data: [DONE]\n\n")


def canonical(value: Any) -> Any:
    """Drop every null-valued key, recursively (tests/fixtures/README.md)."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


# -- OpenRouter ------------------------------------------------------------------------------

OR_REASONING = "https://openrouter.ai/docs/use-cases/reasoning-tokens"
OR_STREAMING = "https://openrouter.ai/docs/api_reference/streaming"
OR_USAGE = "https://openrouter.ai/docs/use-cases/usage-accounting"
OR_IMAGES = "https://openrouter.ai/docs/features/multimodal/image-generation"
OR_WEB = "https://openrouter.ai/announcements/introducing-web-search-via-the-api"
OR_CHUNK = "https://github.com/huggingface/responses.js/pull/19"  # an OpenRouter chunk, quoted


def or_choice(delta: Obj, finish: str | None = None, native: str | None = None) -> Obj:
    """OpenRouter resends the role on every delta and always sends native_finish_reason."""
    return choice(
        {"role": "assistant", **delta},
        finish_reason=finish,
        native_finish_reason=native,
        logprobs=None,
    )


def openrouter_anthropic_reasoning() -> Case:
    reasoning = (
        "The user wants a haiku about Zürich in winter, 5-7-5. "
        "„Schnee auf der Limmat“ is five syllables: a good first line."
    )
    signature = (
        "ErUBCkYIBhgCIkDq8v2Xw9Lh3mN5pQ7rS1tU4vW6xY8zA0bC2dE4fG6hI8jK0lM2nO4pQ6rS8tU0v"
        "W2xY4zA6bC8dE0fG2hI4jKxIMb3JkZXJfc2lnbmF0dXJl"
    )
    encrypted = (
        "EmwKAhgBEgwQ8yR4bm9uZXhpc3RlbnQaDBn1b2mKx7cVq0h3aSIwq6VhQd0Yb1cXr2lA0pN4tE7sW9"
        "mJ3kF5gH8jL2zC6vB1nM4xQ7wR0yT3uI6oP9aSKg=="
    )
    answer = "Schnee auf der Limmat —\nstille Brücken atmen Dampf,\nZürich träumt in Weiß. ❄️"
    fmt = "anthropic-claude-v1"
    usage = {
        "prompt_tokens": 1873,
        "completion_tokens": 214,
        "total_tokens": 2087,
        "cost": 0.008829,
        "is_byok": False,
        "prompt_tokens_details": {
            "cached_tokens": 1536,
            "cache_write_tokens": 0,
            "audio_tokens": 0,
            "video_tokens": 0,
        },
        "cost_details": {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": 0.001472,
            "upstream_inference_completions_cost": 0.00321,
        },
        "completion_tokens_details": {"reasoning_tokens": 131, "image_tokens": 0},
    }
    details = [
        {
            "type": "reasoning.text",
            "text": reasoning,
            "signature": signature,
            "format": fmt,
            "index": 0,
        },
        {"type": "reasoning.encrypted", "data": encrypted, "format": fmt, "index": 1},
    ]
    truth = completion(
        "gen-1760000000-Kq3xZpYt7LmN2vB8cD4e",
        1760000000,
        "anthropic/claude-sonnet-4.5",
        [
            {
                "index": 0,
                "message": message(answer, reasoning=reasoning, reasoning_details=details),
                "finish_reason": "stop",
                "native_finish_reason": "end_turn",
            }
        ],
        provider="Anthropic",
        usage=usage,
    )

    s = Stream(truth, provider="Anthropic")
    s.comment("OPENROUTER PROCESSING")
    for piece in split(reasoning, 4):
        detail = {
            "type": "reasoning.text",
            "text": piece,
            "signature": None,
            "id": None,
            "format": fmt,
            "index": 0,
        }
        s.chunk([or_choice({"content": "", "reasoning": piece, "reasoning_details": [detail]})])
    # Anthropic's signature arrives last, on an empty text fragment of the same block.
    sig = {
        "type": "reasoning.text",
        "text": "",
        "signature": signature,
        "id": None,
        "format": fmt,
        "index": 0,
    }
    s.chunk([or_choice({"content": "", "reasoning": None, "reasoning_details": [sig]})])
    s.comment("OPENROUTER PROCESSING")
    for piece in split(encrypted, 2):
        detail = {
            "type": "reasoning.encrypted",
            "data": piece,
            "id": None,
            "format": fmt,
            "index": 1,
        }
        s.chunk([or_choice({"content": "", "reasoning": None, "reasoning_details": [detail]})])
    for piece in split(answer, 6):
        s.chunk([or_choice({"content": piece, "reasoning": None, "reasoning_details": []})])
    idle: Obj = {"content": "", "reasoning": None, "reasoning_details": []}
    s.chunk([or_choice(idle, "stop", "end_turn")])
    s.chunk([or_choice(idle)], usage=usage)
    return Case(
        "openrouter_anthropic_reasoning",
        "OpenRouter (Anthropic)",
        (OR_REASONING, OR_STREAMING, OR_USAGE, OR_CHUNK),
        "`provider` on every chunk, `: OPENROUTER PROCESSING` comments, role resent, `reasoning`"
        " and `reasoning_details` keys on every chunk: `reasoning.text` in 4 fragments, its"
        " `signature` on a late empty fragment, `reasoning.encrypted` `data` split over 2 chunks,"
        " `reasoning_details: []` on the other chunks; `native_finish_reason`; usage (`cost`,"
        " `is_byok`, `cost_details` with a null key, `cached_tokens`, `cache_write_tokens`,"
        " `video_tokens`, `reasoning_tokens`,"
        " `image_tokens`) on a last chunk whose choice is an empty delta",
        truth,
        s.events,
    )


def openrouter_openai_summary_tool() -> Case:
    summary = (
        "**Planning the weather lookup**\n\nThe user asks about Kraków; "
        "I'll call get_weather with metric units."
    )
    rs_id = "rs_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    encrypted = "gAAAAABo8xQ1vR3kT9mZ2pL7wN4cY6hJ0sD8fG5aK1eU3iO7qX9bV2nM4tR6yW8zC0dF2gH4jK6lP8=="
    fmt = "openai-responses-v1"
    arguments = '{"city":"Kraków","units":"metric"}'
    call = {
        "id": "call_Xk2v9QeR7tLmZp3sWn8yBd1f",
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    usage = {
        "prompt_tokens": 142,
        "completion_tokens": 87,
        "total_tokens": 229,
        "cost": 0.000539,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "cost_details": {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": 0.0001562,
            "upstream_inference_completions_cost": 0.0003828,
        },
        "completion_tokens_details": {"reasoning_tokens": 64, "image_tokens": 0},
    }
    details = [
        {"type": "reasoning.summary", "summary": summary, "id": rs_id, "format": fmt, "index": 0},
        {"type": "reasoning.encrypted", "data": encrypted, "id": rs_id, "format": fmt, "index": 1},
    ]
    # OpenRouter sends `content: ""` on every delta, so the merged content is "" (not null).
    truth = completion(
        "gen-1760000300-Wd8rTq2ZyXv5NcL1aB9m",
        1760000300,
        "openai/o4-mini",
        [
            {
                "index": 0,
                "message": message(
                    "", reasoning=summary, reasoning_details=details, tool_calls=[call]
                ),
                "finish_reason": "tool_calls",
                "native_finish_reason": "tool_calls",
            }
        ],
        provider="OpenAI",
        usage=usage,
    )

    s = Stream(truth, provider="OpenAI")
    s.comment("OPENROUTER PROCESSING")
    for piece in split(summary, 5):
        detail = {
            "type": "reasoning.summary",
            "summary": piece,
            "id": rs_id,
            "format": fmt,
            "index": 0,
        }
        s.chunk([or_choice({"content": "", "reasoning": piece, "reasoning_details": [detail]})])
    detail = {
        "type": "reasoning.encrypted",
        "data": encrypted,
        "id": rs_id,
        "format": fmt,
        "index": 1,
    }
    s.chunk([or_choice({"content": "", "reasoning": None, "reasoning_details": [detail]})])
    first = {
        "index": 0,
        "id": call["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    s.chunk([or_choice({"content": "", "tool_calls": [first]})])
    for piece in split(arguments, 4):
        s.chunk(
            [
                or_choice(
                    {"content": "", "tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                )
            ]
        )
    s.chunk([or_choice({"content": ""}, "tool_calls", "tool_calls")])
    s.chunk([], usage=usage)
    return Case(
        "openrouter_openai_summary_tool",
        "OpenRouter (OpenAI o4-mini)",
        (OR_REASONING, OR_STREAMING, OR_USAGE),
        "`reasoning.summary` (`summary` in 5 fragments, `id`, `format`) and a whole"
        " `reasoning.encrypted` sharing the `rs_` id, `reasoning` mirrors the summary, a tool call"
        ' with arguments in 4 fragments, `content: ""` on every delta (merged content is `""`),'
        " `finish_reason`/`native_finish_reason` `tool_calls`, usage on a `choices: []` chunk",
        truth,
        s.events,
    )


def openrouter_gemini_indexless() -> Case:
    first = (
        "**Gathering the forecast**\n\nI need the weather in Lyon and the local time in "
        "Tōkyō: two calls."
    )
    second = "**Double-checking**\n\nBoth tools were called; I'll wait for their results."
    fmt = "google-gemini-v1"
    weather = {
        "id": "tool_get_weather_7hK2mQ",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Lyon"}'},
    }
    clock = {
        "id": "tool_get_time_9pQ4rT",
        "type": "function",
        "function": {"name": "get_time", "arguments": '{"tz":"Asia/Tokyo"}'},
    }
    sig_a = "CiQB0e2Kb8mZ3xWq7vT1yU5nR9pL4sD6fG8hJ2kA0cE3iO5u"
    sig_b = "CiQB0e2Kb4nX8wVr2uS6tY0mQ3oK7lJ1hG5fD9sA2zC4eB6v"
    usage = {
        "prompt_tokens": 96,
        "completion_tokens": 58,
        "total_tokens": 154,
        "cost": 0.0007,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "video_tokens": 0},
        "cost_details": {"upstream_inference_cost": 0.0007},
        "completion_tokens_details": {"reasoning_tokens": 31, "image_tokens": 0},
    }
    # Ordered by index (0, 1), then the index-less details in the order they came,
    # although index 1 arrives after both index-less ones.
    details = [
        {"type": "reasoning.text", "text": first, "format": fmt, "index": 0},
        {"type": "reasoning.text", "text": second, "format": fmt, "index": 1},
        {"type": "reasoning.encrypted", "data": sig_a, "id": weather["id"], "format": fmt},
        {"type": "reasoning.encrypted", "data": sig_b, "id": clock["id"], "format": fmt},
    ]
    truth = completion(
        "gen-1760000600-Hb3nPz8QrKc2VwY6tL0x",
        1760000600,
        "google/gemini-2.5-pro",
        [
            {
                "index": 0,
                "message": message(
                    "",
                    reasoning=first + second,
                    reasoning_details=details,
                    tool_calls=[weather, clock],
                ),
                "finish_reason": "tool_calls",
                "native_finish_reason": "STOP",
            }
        ],
        provider="Google",
        usage=usage,
    )

    s = Stream(truth, provider="Google")
    s.comment("OPENROUTER PROCESSING")
    for piece in split(first, 3):
        detail = {"type": "reasoning.text", "text": piece, "format": fmt, "index": 0}
        s.chunk([or_choice({"content": "", "reasoning": piece, "reasoning_details": [detail]})])
    for index, (call, sig) in enumerate([(weather, sig_a), (clock, sig_b)]):
        detail = {"type": "reasoning.encrypted", "data": sig, "id": call["id"], "format": fmt}
        s.chunk(
            [
                or_choice(
                    {
                        "content": "",
                        "reasoning_details": [detail],
                        "tool_calls": [{"index": index, **call}],
                    }
                )
            ]
        )
    for piece in split(second, 2):
        detail = {"type": "reasoning.text", "text": piece, "format": fmt, "index": 1}
        s.chunk([or_choice({"content": "", "reasoning": piece, "reasoning_details": [detail]})])
    s.chunk([or_choice({"content": ""}, "tool_calls", "STOP")])
    s.chunk([or_choice({"content": ""})], usage=usage)
    return Case(
        "openrouter_gemini_indexless",
        "OpenRouter (Google Gemini)",
        (OR_REASONING, OR_STREAMING, OR_USAGE),
        "`reasoning_details` items without `index` (one `reasoning.encrypted` per tool call, each"
        " a new detail, kept after the indexed ones in arrival order) and indexed `reasoning.text`"
        " details 0 and 1 where 1 arrives last; two whole tool calls; `native_finish_reason`"
        " `STOP`",
        truth,
        s.events,
    )


def openrouter_web_annotations() -> Case:
    answer = (
        "Die Karlsbrücke in Prag wurde 1357 begonnen und Anfang des 15. Jahrhunderts "
        "vollendet [charles-bridge.cz]; sie ist 516 m lang [wikipedia.org]."
    )
    first = {
        "type": "url_citation",
        "url_citation": {
            "url": "https://www.charles-bridge.cz/en/history",
            "title": "History of Charles Bridge",
            "content": "Construction began in 1357 under King Charles IV and finished in the early "
            "15th century.",
            "start_index": answer.index("[charles"),
            "end_index": answer.index("]") + 1,
        },
    }
    second = {
        "type": "url_citation",
        "url_citation": {
            "url": "https://en.wikipedia.org/wiki/Charles_Bridge",
            "title": "Charles Bridge - Wikipedia",
            "content": "The bridge is 516 metres long and nearly 10 metres wide.",
            "start_index": answer.index("[wiki"),
            "end_index": len(answer) - 1,
        },
    }
    usage = {
        "prompt_tokens": 2210,
        "completion_tokens": 96,
        "total_tokens": 2306,
        "cost": 0.02,
        "is_byok": True,
        "prompt_tokens_details": {"cached_tokens": 0},
        "cost_details": {
            "upstream_inference_cost": 0.0010376,
            "upstream_inference_prompt_cost": 0.000884,
            "upstream_inference_completions_cost": 0.0001536,
        },
        "completion_tokens_details": {"reasoning_tokens": 0},
        "server_tool_use_details": {"web_search_requests": 1},
    }
    truth = completion(
        "gen-1760000900-Rm4sTy7UvXw0Zb2Cd5Ef",
        1760000900,
        "openai/gpt-4.1-mini",
        [
            {
                "index": 0,
                "message": message(answer, annotations=[first, second]),
                "finish_reason": "stop",
                "native_finish_reason": "stop",
            }
        ],
        provider="OpenAI",
        usage=usage,
    )

    s = Stream(truth, provider="OpenAI")
    s.comment("OPENROUTER PROCESSING")
    s.comment("OPENROUTER PROCESSING")
    pieces = split(answer, 7)
    for i, piece in enumerate(pieces):
        delta: Obj = {"content": piece}
        if i == 3:
            delta["annotations"] = [first]
        if i == len(pieces) - 1:
            delta["annotations"] = [second]
        s.chunk([or_choice(delta)])
    s.chunk([or_choice({"content": ""}, "stop", "stop")])
    s.chunk([or_choice({"content": ""})], usage=usage)
    return Case(
        "openrouter_web_annotations",
        "OpenRouter (web plugin)",
        (OR_WEB, OR_STREAMING, OR_USAGE),
        "`annotations` (`url_citation` with `content`) on two different deltas, appended in"
        " order; BYOK usage (`is_byok: true`, `cost_details.upstream_inference_cost`),"
        " `server_tool_use_details`",
        truth,
        s.events,
    )


def openrouter_images() -> Case:
    answer = "Voilà : un phare breton au coucher du soleil 🌅, puis la même scène sous la pluie."
    pixel = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
        "AAAABJRU5ErkJggg=="
    )
    images = [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + pixel}},
        {
            "type": "image_url",
            "image_url": {"url": "data:image/png;base64," + pixel[:-8] + "AAAAAA=="},
        },
    ]
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 2624,
        "total_tokens": 2636,
        "cost": 0.0787,
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "cost_details": {"upstream_inference_cost": None},
        "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": 2580},
    }
    truth = completion(
        "gen-1760001200-Jk6lMn8OpQr0St2Uv4Wx",
        1760001200,
        "google/gemini-2.5-flash-image",
        [
            {
                "index": 0,
                "message": message(answer, images=images),
                "finish_reason": "stop",
                "native_finish_reason": "STOP",
            }
        ],
        provider="Google AI Studio",
        usage=usage,
    )

    s = Stream(truth, provider="Google AI Studio")
    s.comment("OPENROUTER PROCESSING")
    head, tail = answer[:46], answer[46:]
    for piece in split(head, 3):
        s.chunk([or_choice({"content": piece})])
    s.chunk([or_choice({"content": "", "images": [images[0]]})])
    for piece in split(tail, 3):
        s.chunk([or_choice({"content": piece})])
    s.chunk([or_choice({"content": "", "images": [images[1]]})])
    s.chunk([or_choice({"content": ""}, "stop", "STOP")])
    s.chunk([or_choice({"content": ""})], usage=usage)
    return Case(
        "openrouter_images",
        "OpenRouter (image output)",
        (OR_IMAGES, OR_STREAMING, OR_USAGE),
        "`images` (`image_url` data URLs) on two deltas, appended; text around them;"
        " `completion_tokens_details.image_tokens`",
        truth,
        s.events,
    )


# -- Snowflake Cortex ------------------------------------------------------------------------


def snowflake_reasoning_details_only() -> Case:
    thinking = (
        "Eine Schneeflocke beginnt als Eiskristall um ein Staubkorn; die sechszählige "
        "Symmetrie kommt vom Wassermolekül (≈ 104,5°)."
    )
    signature = "EqMBCkgIBxABGAIqQHf3kQ9zL2mN8pR5tV1xY4bC7dE0gH3jK6mP9sU2wZ5aD8fI1lO4rT7vX0yB3e"
    answer = (
        "Jede Flocke wächst um einen Staubkern; Temperatur und Feuchte auf ihrem Weg "
        "formen die Äste, deshalb gleicht keine der anderen. ❄"
    )
    usage = {
        "prompt_tokens": 27,
        "completion_tokens": 142,
        "total_tokens": 169,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 58},
    }
    details = [{"type": "reasoning.text", "text": thinking, "signature": signature, "index": 0}]
    truth = completion(
        "4c7e2a91-3b5d-4f18-a6c0-9e2d1b8f7a35",
        1760001500,
        "claude-sonnet-4-5",
        [
            {
                "index": 0,
                "message": message(answer, reasoning_details=details),
                "finish_reason": "stop",
            }
        ],
        usage=usage,
    )

    s = Stream(truth)
    s.chunk([choice({"role": "assistant", "content": ""})])
    for piece in split(thinking, 5):
        detail = {"type": "reasoning.text", "text": piece, "index": 0}
        s.chunk([choice({"reasoning_details": [detail]})])
    detail = {"type": "reasoning.text", "text": "", "signature": signature, "index": 0}
    s.chunk([choice({"reasoning_details": [detail]})])
    for piece in split(answer, 6):
        s.chunk([choice({"content": piece})])
    s.chunk([choice({}, finish_reason="stop")])
    s.chunk([], usage=usage)
    return Case(
        "snowflake_reasoning_details_only",
        "Snowflake Cortex (Claude)",
        ("https://docs.snowflake.com/user-guide/snowflake-cortex/open_ai_sdk", OR_REASONING),
        "reasoning only as `reasoning_details` (no `reasoning` string: the message has no"
        " `reasoning` key), `signature` on a late empty fragment, no `format`/`id`",
        truth,
        s.events,
    )


# -- Perplexity ------------------------------------------------------------------------------


def perplexity_growing_sources() -> Case:
    answer = (
        "Die Elbphilharmonie wurde am 11. Januar 2017 eröffnet [1][2]. Ihr Großer Saal "
        "fasst rund 2 100 Plätze [3]."
    )
    citations = [
        "https://www.elbphilharmonie.de/de/ueber-uns",
        "https://de.wikipedia.org/wiki/Elbphilharmonie",
        "https://www.hamburg.de/elbphilharmonie/",
    ]
    results = [
        {
            "title": "Über uns – Elbphilharmonie Hamburg",
            "url": citations[0],
            "date": "2017-01-11",
            "last_updated": "2025-06-02",
            "snippet": "Eröffnet am 11. Januar 2017 …",
            "source": "web",
        },
        {
            "title": "Elbphilharmonie – Wikipedia",
            "url": citations[1],
            "date": None,
            "last_updated": "2025-09-14",
            "snippet": "Konzerthaus in der HafenCity …",
            "source": "web",
        },
        {
            "title": "Elbphilharmonie | hamburg.de",
            "url": citations[2],
            "date": "2024-11-05",
            "last_updated": "2025-01-20",
            "snippet": "Der Große Saal bietet 2 100 Plätze.",
            "source": "web",
        },
    ]

    def usage(completion_tokens: int) -> Obj:
        output_cost = round(completion_tokens * 0.000015, 6)
        return {
            "prompt_tokens": 9,
            "completion_tokens": completion_tokens,
            "total_tokens": 9 + completion_tokens,
            "search_context_size": "low",
            "cost": {
                "input_tokens_cost": 0.000027,
                "output_tokens_cost": output_cost,
                "request_cost": 0.006,
                "total_cost": round(0.006027 + output_cost, 6),
            },
        }

    truth = completion(
        "3c1e6b2a-9f4d-4e7b-a0c5-2d8f6e1b7a94",
        1760001800,
        "sonar-pro",
        [{"index": 0, "message": message(answer), "finish_reason": "stop"}],
        citations=citations,
        search_results=results,
        usage=usage(38),
    )

    s = Stream(truth)
    pieces = split(answer, 6)
    seen = [1, 2, 2, 3, 3, 3]  # sources known when each piece is sent: a growing snapshot
    for i, piece in enumerate(pieces):
        s.chunk(
            [choice({"role": "assistant", "content": piece})],
            citations=citations[: seen[i]],
            search_results=results[: seen[i]],
            usage=usage(6 * (i + 1)),
        )
    s.chunk(
        [choice({"role": "assistant", "content": ""}, finish_reason="stop")],
        citations=citations,
        search_results=results,
        usage=usage(38),
    )
    return Case(
        "perplexity_growing_sources",
        "Perplexity (Sonar)",
        (
            "https://docs.perplexity.ai/guides/streaming-responses",
            "https://docs.perplexity.ai/docs/sonar/features",
            "https://github.com/perplexityai/perplexity-node/blob/main/src/resources/chat/chat.ts",
            "https://docs.perplexity.ai/getting-started/pricing",
        ),
        "top-level `citations` and `search_results` resent whole on every chunk and growing"
        " (1, 2, then 3 entries: the last one wins, never concatenated), a `search_results`"
        " entry with `date: null`, cumulative usage on every chunk with `search_context_size`"
        " and a `cost` object",
        truth,
        s.events,
    )


# -- Groq ------------------------------------------------------------------------------------

GROQ_CHUNK = (
    "https://github.com/groq/groq-python/blob/main/src/groq/types/chat/chat_completion_chunk.py"
)
GROQ_USAGE = "https://github.com/groq/groq-python/blob/main/src/groq/types/completion_usage.py"
GROQ_MESSAGE = (
    "https://github.com/groq/groq-python/blob/main/src/groq/types/chat/chat_completion_message.py"
)


def groq_usage(prompt: int, completion_: int, queue: float, p_time: float, c_time: float) -> Obj:
    return {
        "queue_time": queue,
        "prompt_tokens": prompt,
        "prompt_time": p_time,
        "completion_tokens": completion_,
        "completion_time": c_time,
        "total_tokens": prompt + completion_,
        "total_time": round(p_time + c_time, 6),
    }


def groq_x_groq_usage_only() -> Case:
    answer = "Καλημέρα! Groq serves Llama 3.3 70B on LPUs — about 275 tokens/s. 🚀"
    request = "req_01k6x2b9f5e8r7t4y3u2i1o0pa"
    usage = groq_usage(48, 31, 0.021345, 0.002917, 0.112727)
    truth = completion(
        "chatcmpl-3f7b2c1e-8a4d-4b6f-9e2a-5c1d7f8b0e63",
        1760002100,
        "llama-3.3-70b-versatile",
        [{"index": 0, "message": message(answer), "finish_reason": "stop"}],
        system_fingerprint="fp_3f3b593e33",
        usage=usage,
        x_groq={"id": request, "usage": usage},
    )

    s = Stream(truth, system_fingerprint="fp_3f3b593e33")
    s.chunk([choice({"role": "assistant", "content": ""}, logprobs=None)], x_groq={"id": request})
    for piece in split(answer, 8):
        s.chunk([choice({"content": piece}, logprobs=None)])
    s.chunk(
        [choice({}, finish_reason="stop", logprobs=None)], x_groq={"id": request, "usage": usage}
    )
    return Case(
        "groq_x_groq_usage_only",
        "Groq",
        (GROQ_CHUNK, GROQ_USAGE),
        "usage ONLY in `x_groq.usage` (no top-level `usage` key at all): the completion's `usage`"
        " is that block, float timings kept; `x_groq` `{id}` first, `{id, usage}` last, merged"
        " key-wise",
        truth,
        s.events,
    )


def groq_usage_both() -> Case:
    answer = "Ja — Groq sendet seit Ende 2025 die Usage auch oben im Chunk. Beide bleiben erhalten."
    request = "req_01k7a3c5e7g9i1k3m5o7q9s1u3"
    in_x_groq = groq_usage(35, 29, 0.030112, 0.001804, 0.061532)
    top = {
        **groq_usage(35, 29, 0.030112, 0.001804, 0.061532),
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    truth = completion(
        "chatcmpl-8e1d4c7b-2f5a-4a9e-b3c6-0d7f1e2a5b84",
        1760002400,
        "meta-llama/llama-4-scout-17b-16e-instruct",
        [{"index": 0, "message": message(answer), "finish_reason": "stop"}],
        system_fingerprint="fp_79da0e0073",
        usage=top,
        x_groq={"id": request, "usage": in_x_groq},
    )

    s = Stream(truth, system_fingerprint="fp_79da0e0073")
    s.chunk(
        [choice({"role": "assistant", "content": ""}, logprobs=None)],
        usage=None,
        x_groq={"id": request},
    )
    for piece in split(answer, 7):
        s.chunk([choice({"content": piece}, logprobs=None)], usage=None)
    s.chunk(
        [choice({}, finish_reason="stop", logprobs=None)],
        usage=top,
        x_groq={"id": request, "usage": in_x_groq},
    )
    return Case(
        "groq_usage_both",
        "Groq",
        (GROQ_CHUNK, GROQ_USAGE),
        "top-level `usage` (with `prompt_tokens_details`) and `x_groq.usage` (without) on the"
        " same last chunk: the top-level block is the completion's `usage`; `x_groq` keeps its"
        " own; `usage: null` on earlier chunks",
        truth,
        s.events,
    )


def groq_compound_executed_tools() -> Case:
    reasoning = (
        "I should search for today's weather in Kyoto, then convert the high to °F "
        "with a quick Python call."
    )
    answer = "京都は今日ほぼ晴れ、最高気温は31 °C（87.8 °F）です。☀️"
    request = "req_01k7b4d6f8h0j2l4n6p8r0t2v4"
    search_args = '{"query": "Kyoto weather today"}'
    search_done = {
        "index": 0,
        "type": "search",
        "arguments": search_args,
        "output": "Title: Kyoto, Japan Weather Forecast\nURL: https://weather.com/...\n"
        "Content: Mostly sunny, high 31 °C, low 22 °C.",
        "search_results": {
            "results": [
                {
                    "title": "Kyoto, Japan Weather Forecast",
                    "url": "https://weather.com/kyoto",
                    "content": "Mostly sunny, high 31 °C, low 22 °C.",
                    "score": 0.93,
                }
            ]
        },
    }
    code_args = '{"code": "print(round(31 * 9 / 5 + 32, 1))"}'
    code_done = {"index": 1, "type": "python", "arguments": code_args, "output": "87.8\n"}
    usage = groq_usage(1893, 84, 0.052114, 0.094502, 0.301225)
    breakdown = {
        "models": [
            {
                "model": "openai/gpt-oss-120b",
                "usage": groq_usage(1512, 61, 0.031207, 0.070113, 0.210941),
            },
            {
                "model": "meta-llama/llama-4-scout-17b-16e-instruct",
                "usage": groq_usage(381, 23, 0.020907, 0.024389, 0.090284),
            },
        ]
    }
    truth = completion(
        "chatcmpl-5a2b7c9d-1e3f-4a6b-8c0d-2e4f6a8b0c1d",
        1760002700,
        "groq/compound",
        [
            {
                "index": 0,
                "message": message(
                    answer, reasoning=reasoning, executed_tools=[search_done, code_done]
                ),
                "finish_reason": "stop",
            }
        ],
        system_fingerprint="fp_a9b2c4d6e8",
        usage=usage,
        x_groq={"id": request, "usage": usage, "usage_breakdown": breakdown},
    )

    s = Stream(truth, system_fingerprint="fp_a9b2c4d6e8")
    s.chunk([choice({"role": "assistant", "content": ""}, logprobs=None)], x_groq={"id": request})
    pieces = split(reasoning, 4)
    s.chunk([choice({"reasoning": pieces[0]}, logprobs=None)])
    s.chunk([choice({"reasoning": pieces[1]}, logprobs=None)])
    # Each executed tool is sent when it starts, then restated whole with its output.
    started = {"index": 0, "type": "search", "arguments": search_args, "output": None}
    s.chunk([choice({"executed_tools": [started]}, logprobs=None)])
    s.chunk([choice({"executed_tools": [search_done]}, logprobs=None)])
    s.chunk([choice({"reasoning": pieces[2]}, logprobs=None)])
    s.chunk(
        [
            choice(
                {"executed_tools": [{"index": 1, "type": "python", "arguments": code_args}]},
                logprobs=None,
            )
        ]
    )
    s.chunk([choice({"executed_tools": [code_done]}, logprobs=None)])
    s.chunk([choice({"reasoning": pieces[3]}, logprobs=None)])
    for piece in split(answer, 6):
        s.chunk([choice({"content": piece}, logprobs=None)])
    s.chunk(
        [choice({}, finish_reason="stop", logprobs=None)],
        x_groq={"id": request, "usage": usage, "usage_breakdown": breakdown},
    )
    return Case(
        "groq_compound_executed_tools",
        "Groq (compound)",
        ("https://console.groq.com/docs/compound", GROQ_CHUNK, GROQ_MESSAGE),
        "`executed_tools` merged by `index`: each tool sent when it starts (`output` null or"
        " absent) and restated whole with `output` and `search_results` (arguments repeated,"
        " never concatenated); `reasoning` interleaved with the tool runs; usage only in"
        " `x_groq.usage`, with `x_groq.usage_breakdown`",
        truth,
        s.events,
    )


def groq_gpt_oss_channel() -> Case:
    reasoning = "User asks: is 2¹⁰ bigger than 10³? 2^10 = 1024, 10^3 = 1000. So yes, by 24."
    answer = "Ja: 2¹⁰ = 1024 ist größer als 10³ = 1000 (um 24)."
    request = "req_01k7c5e7g9i1k3m5o7q9s1u3w5"
    usage = {
        **groq_usage(81, 142, 0.041207, 0.004113, 0.283941),
        "completion_tokens_details": {"reasoning_tokens": 97},
    }
    truth = completion(
        "chatcmpl-0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e",
        1760003000,
        "openai/gpt-oss-120b",
        [
            {
                "index": 0,
                "message": message(answer, reasoning=reasoning, channel="final"),
                "finish_reason": "stop",
            }
        ],
        system_fingerprint="fp_e9d2b1a4c7",
        usage=usage,
        x_groq={"id": request, "seed": 1180742398},
    )

    s = Stream(truth, system_fingerprint="fp_e9d2b1a4c7")
    s.chunk([choice({"role": "assistant", "content": ""}, logprobs=None)], x_groq={"id": request})
    for piece in split(reasoning, 5):
        s.chunk([choice({"reasoning": piece, "channel": "analysis"}, logprobs=None)])
    for piece in split(answer, 5):
        s.chunk([choice({"content": piece, "channel": "final"}, logprobs=None)])
    s.chunk([choice({}, finish_reason="stop", logprobs=None)])
    s.chunk([], usage=usage, x_groq={"id": request, "seed": 1180742398})
    return Case(
        "groq_gpt_oss_channel",
        "Groq (gpt-oss)",
        ("https://console.groq.com/docs/reasoning", GROQ_CHUNK, GROQ_USAGE),
        "`delta.channel` `analysis` on the reasoning deltas then `final` on the answer deltas"
        " (last non-empty: `final`); `reasoning`; top-level usage with Groq timings and"
        " `reasoning_tokens` on a `choices: []` chunk; `x_groq` `{id}` then `{id, seed}`",
        truth,
        s.events,
    )


# -- DeepSeek, xAI ---------------------------------------------------------------------------


def deepseek_reasoner_cache() -> Case:
    reasoning = (
        "嗯，用户问“光年”是时间单位还是距离单位。光年是光在真空中一年走过的距离，"
        "约 9.46 万亿公里，所以是距离。"
    )
    answer = "光年是**距离**单位：光在一年内传播的距离，约为 9.46 × 10¹² 公里。"
    usage = {
        "prompt_tokens": 1045,
        "completion_tokens": 96,
        "total_tokens": 1141,
        "prompt_tokens_details": {"cached_tokens": 1024},
        "completion_tokens_details": {"reasoning_tokens": 62},
        "prompt_cache_hit_tokens": 1024,
        "prompt_cache_miss_tokens": 21,
    }
    truth = completion(
        "9a3c5e7f-1b2d-4c6e-8f0a-2b4d6f8a0c1e",
        1760003300,
        "deepseek-reasoner",
        [
            {
                "index": 0,
                "message": message(answer, reasoning_content=reasoning),
                "finish_reason": "stop",
            }
        ],
        system_fingerprint="fp_7e73fd9a08_prod0820_fp8_kvcache",
        usage=usage,
    )

    s = Stream(truth, system_fingerprint="fp_7e73fd9a08_prod0820_fp8_kvcache")
    s.chunk(
        [choice({"role": "assistant", "content": None, "reasoning_content": ""}, logprobs=None)],
        usage=None,
    )
    for piece in split(reasoning, 7):
        s.chunk([choice({"content": None, "reasoning_content": piece}, logprobs=None)], usage=None)
    for piece in split(answer, 6):
        s.chunk([choice({"content": piece, "reasoning_content": None}, logprobs=None)], usage=None)
    s.chunk(
        [choice({"content": "", "reasoning_content": None}, finish_reason="stop", logprobs=None)],
        usage=usage,
    )
    return Case(
        "deepseek_reasoner_cache",
        "DeepSeek",
        (
            "https://api-docs.deepseek.com/guides/reasoning_model",
            "https://platform.deepseek.com/api-docs/guides/kv_cache/",
        ),
        "`reasoning_content` while `content` is null, then the reverse; usage on the finish"
        " chunk with `prompt_cache_hit_tokens`/`prompt_cache_miss_tokens` beside the OpenAI"
        " details",
        truth,
        s.events,
    )


def xai_usage_ticks() -> Case:
    reasoning = (
        "Gefragt ist die Höhe der Zugspitze. Die Quellen nennen übereinstimmend 2 962 m über NHN."
    )
    answer = "Die Zugspitze ist 2 962 m hoch – Deutschlands höchster Gipfel. 🏔️"
    citations = [
        "https://de.wikipedia.org/wiki/Zugspitze",
        "https://x.com/zugspitze/status/1890000000000000000",
    ]

    def usage(reasoning_tokens: int, completion_tokens: int, sources: int) -> Obj:
        return {
            "prompt_tokens": 31,
            "completion_tokens": completion_tokens,
            "total_tokens": 31 + completion_tokens + reasoning_tokens,
            "prompt_tokens_details": {
                "text_tokens": 31,
                "audio_tokens": 0,
                "image_tokens": 0,
                "cached_tokens": 6,
            },
            "completion_tokens_details": {
                "reasoning_tokens": reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
            "num_sources_used": sources,
            "cost_in_usd_ticks": 9300
            + 5000 * (completion_tokens + reasoning_tokens)
            + 250000000 * sources,
        }

    truth = completion(
        "2f0c7a1e-5b3d-4e8f-9a6c-1d2b3e4f5a6b",
        1760003600,
        "grok-3-mini",
        [
            {
                "index": 0,
                "message": message(answer, reasoning_content=reasoning),
                "finish_reason": "stop",
            }
        ],
        system_fingerprint="fp_0a9e2b7c1d",
        citations=citations,
        usage=usage(118, 24, 2),
    )

    s = Stream(truth, system_fingerprint="fp_0a9e2b7c1d")
    r_pieces, a_pieces = split(reasoning, 4), split(answer, 5)
    s.chunk([choice({"role": "assistant", "content": ""})], usage=usage(0, 0, 2))
    for i, piece in enumerate(r_pieces):
        s.chunk([choice({"reasoning_content": piece})], usage=usage(30 * (i + 1), 0, 2))
    for i, piece in enumerate(a_pieces):
        s.chunk([choice({"content": piece})], usage=usage(118, 5 * (i + 1), 2))
    s.chunk([choice({}, finish_reason="stop")], citations=citations, usage=usage(118, 24, 2))
    return Case(
        "xai_usage_ticks",
        "xAI (Grok)",
        ("https://docs.x.ai/developers/cost-tracking", "https://docs.x.ai/docs/guides/live-search"),
        "cumulative usage on every chunk (last wins) with `cost_in_usd_ticks`,"
        " `num_sources_used`, `prompt_tokens_details.text_tokens`/`image_tokens`;"
        " `reasoning_content`; top-level `citations` (URL list) on the final chunk only",
        truth,
        s.events,
    )


# -- Azure -----------------------------------------------------------------------------------

AZ_FILTER = "https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter"
AZ_STREAMING = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-streaming"
)
SAFE = {"filtered": False, "severity": "safe"}
NOT_DETECTED = {"filtered": False, "detected": False}
CATEGORIES = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
PROMPT_FILTER = {
    "choices": [],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
    "prompt_filter_results": [
        {"prompt_index": 0, "content_filter_results": {**CATEGORIES, "jailbreak": NOT_DETECTED}}
    ],
}


def azure_content_filters() -> Case:
    answer = (
        "Bonjour ! Trois plats d'hiver : raclette, tartiflette et fondue moitié-moitié "
        "🧀 — à partager."
    )
    final_verdict = {
        **CATEGORIES,
        "protected_material_code": NOT_DETECTED,
        "protected_material_text": NOT_DETECTED,
    }
    usage = {
        "completion_tokens": 27,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens": 19,
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
        "total_tokens": 46,
    }
    truth = completion(
        "chatcmpl-BxQ7v2Lm9Rt4Ws6Yz8Ab1Cd3Ef5",
        1760003900,
        "gpt-4o-2024-11-20",
        [
            {
                "index": 0,
                "message": message(answer),
                "finish_reason": "stop",
                "content_filter_results": final_verdict,
            }
        ],
        system_fingerprint="fp_ee1d74bde0",
        prompt_filter_results=PROMPT_FILTER["prompt_filter_results"],
        usage=usage,
    )

    s = Stream(truth, system_fingerprint="fp_ee1d74bde0")
    s.raw(PROMPT_FILTER)
    s.chunk(
        [
            choice(
                {"content": "", "refusal": None, "role": "assistant"},
                content_filter_results={},
                logprobs=None,
            )
        ],
        obfuscation="Jq2",
        usage=None,
    )
    for i, piece in enumerate(split(answer, 6)):
        s.chunk(
            [choice({"content": piece}, content_filter_results=CATEGORIES, logprobs=None)],
            obfuscation="xK9pLm3"[: i + 1],
            usage=None,
        )
    s.chunk(
        [choice({}, finish_reason="stop", content_filter_results=final_verdict, logprobs=None)],
        obfuscation="Qw",
        usage=None,
    )
    s.chunk([], obfuscation="Zr8sT1", usage=usage)
    return Case(
        "azure_content_filters",
        "Azure OpenAI",
        (AZ_FILTER, AZ_STREAMING, "https://github.com/openai/openai-python/issues/1677"),
        'the prompt-filter chunk first (`object: ""`, `id: ""`, `created: 0`, `model: ""`,'
        " `choices: []`, `prompt_filter_results` with `jailbreak`); per-choice"
        " `content_filter_results` on every chunk (`{}` first, the finish chunk's verdict with"
        " `protected_material_*` wins); `obfuscation` dropped; usage on a `choices: []` chunk",
        truth,
        s.events,
    )


def azure_async_filter() -> Case:
    answer = (
        "Der schnellste Weg von Wien nach Graz ist der Railjet: rund 2 h 35 min, "
        "Abfahrt stündlich ab Wien Hbf."
    )
    cut = 40
    first_offsets = {"check_offset": 0, "start_offset": 0, "end_offset": cut}
    last_offsets = {"check_offset": cut, "start_offset": cut, "end_offset": len(answer)}
    last_verdict = {**CATEGORIES, "protected_material_text": NOT_DETECTED}
    truth = completion(
        "chatcmpl-Cy8w3Mn0Su5Xt7Za9Bc2De4Fg6",
        1760004200,
        "gpt-4.1-2025-04-14",
        [
            {
                "index": 0,
                "message": message(answer),
                "finish_reason": "stop",
                "content_filter_results": last_verdict,
                "content_filter_offsets": last_offsets,
            }
        ],
        system_fingerprint="fp_b3f1157249",
        prompt_filter_results=PROMPT_FILTER["prompt_filter_results"],
    )

    def annotation(verdict: Obj, offsets: Obj) -> Obj:
        """An asynchronous filter chunk: empty ids, and a choice with no `delta`."""
        return {
            "choices": [
                choice(None, content_filter_results=verdict, content_filter_offsets=offsets)
            ],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
        }

    s = Stream(truth, system_fingerprint="fp_b3f1157249")
    s.raw(PROMPT_FILTER)
    s.chunk([choice({"content": "", "refusal": None, "role": "assistant"}, logprobs=None)])
    for piece in split(answer[:cut], 4):
        s.chunk([choice({"content": piece}, logprobs=None)])
    s.raw(annotation(CATEGORIES, first_offsets))
    for piece in split(answer[cut:], 4):
        s.chunk([choice({"content": piece}, logprobs=None)])
    s.chunk([choice({}, finish_reason="stop", logprobs=None)])
    s.raw(annotation(last_verdict, last_offsets))
    return Case(
        "azure_async_filter",
        "Azure OpenAI (asynchronous filter)",
        (AZ_STREAMING, AZ_FILTER),
        "asynchronous-filter annotation chunks (empty `id`/`model`/`object`, `created: 0`, a"
        " choice with no `delta`) carrying `content_filter_results` and the never-seen"
        " choice-level `content_filter_offsets` (both: last non-null, whole), one of them after"
        " the finish chunk",
        truth,
        s.events,
    )


def azure_deepseek_reasoning_tokens() -> Case:
    reasoning = "Okay, 0,1 + 0,2 in Gleitkomma ergibt 0,30000000000000004; exakt ist es 0,3."
    answer = (
        "Mathematisch ist 0,1 + 0,2 = 0,3; in IEEE-754-Doubles kommt 0,30000000000000004 heraus."
    )
    usage = {
        "completion_tokens": 184,
        "prompt_tokens": 14,
        "prompt_tokens_details": None,
        "total_tokens": 198,
        "reasoning_tokens": 151,
        "completion_tokens_details": None,
    }
    truth = completion(
        "7d1e0b6a3f2c4e9b8a5d6c7f0e1b2a3c",
        1760004500,
        "DeepSeek-R1-0528",
        [
            {
                "index": 0,
                "message": message(answer, reasoning_content=reasoning),
                "finish_reason": "stop",
            }
        ],
        usage=usage,
    )

    s = Stream(truth)
    s.chunk([choice({"role": "assistant", "content": ""})], usage=None)
    for piece in split(reasoning, 5):
        s.chunk([choice({"reasoning_content": piece})], usage=None)
    for piece in split(answer, 5):
        s.chunk([choice({"content": piece})], usage=None)
    s.chunk([choice({"content": ""}, finish_reason="stop")], usage=usage)
    return Case(
        "azure_deepseek_reasoning_tokens",
        "Azure AI Foundry (DeepSeek-R1)",
        (
            "https://learn.microsoft.com/en-us/azure/ai-foundry/model-inference/how-to/"
            "use-chat-reasoning",
        ),
        "usage with a top-level `reasoning_tokens` and null `*_details` (dropped by the"
        " canonical form); `reasoning_content`",
        truth,
        s.events,
    )


# -- Together --------------------------------------------------------------------------------


def together_cached_tokens() -> Case:
    answer = "¡Hola! El Teide mide 3 715 m: es el pico más alto de España. 🌋"
    pieces = split(answer, 9)
    token_ids = [19182, 28, 469, 2722, 10054, 297, 5832, 220, 30, 128009]
    seed = 3927448154
    usage = {"prompt_tokens": 38, "completion_tokens": 19, "total_tokens": 57, "cached_tokens": 32}
    # Choice-level `text` and `seed` and delta-level `token_id` are keys the rules do not know:
    # choice keys keep the last non-null value (the final `text` is ""), delta numbers too.
    truth = completion(
        "oP7xQ2v-3NKUce-9a1b2c3d4e5f6071",
        1760004800,
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        [
            {
                "index": 0,
                "message": message(answer, token_id=token_ids[-1]),
                "finish_reason": "stop",
                "text": "",
                "seed": seed,
            }
        ],
        usage=usage,
    )

    s = Stream(truth)
    for piece, token_id in zip(pieces, token_ids[:-1], strict=True):
        delta = {"token_id": token_id, "role": "assistant", "content": piece, "tool_calls": None}
        s.chunk(
            [
                {
                    "index": 0,
                    "text": piece,
                    "logprobs": None,
                    "finish_reason": None,
                    "seed": None,
                    "delta": delta,
                }
            ],
            usage=None,
        )
    delta = {"token_id": token_ids[-1], "role": "assistant", "content": "", "tool_calls": None}
    s.chunk(
        [
            {
                "index": 0,
                "text": "",
                "logprobs": None,
                "finish_reason": "stop",
                "seed": seed,
                "delta": delta,
            }
        ],
        usage=usage,
    )
    return Case(
        "together_cached_tokens",
        "Together AI",
        ("no Together doc page reached: shape from memory of Together streams",),
        "usage with a top-level `cached_tokens`; never-seen choice keys `text` (mirrors the"
        ' delta: last non-null is `""`) and `seed` (null until the last chunk), a never-seen'
        " numeric delta key `token_id` (last non-null), `tool_calls: null`",
        truth,
        s.events,
    )


# -- OpenAI ----------------------------------------------------------------------------------

OA_STREAMING = "https://platform.openai.com/docs/api-reference/chat-streaming"
OA_SEARCH = "https://platform.openai.com/docs/guides/tools-web-search"


def openai_search_obfuscation() -> Case:
    answer = (
        "The Øresund Bridge opened on 1 July 2000 ([wikipedia.org](https://en.wikipedia."
        "org/wiki/%C3%98resund_Bridge?utm_source=openai)) and links Copenhagen with Malmö"
        " ([oresundsbron.com](https://www.oresundsbron.com/en/history?utm_source=openai))."
    )
    wiki = "https://en.wikipedia.org/wiki/%C3%98resund_Bridge?utm_source=openai"
    bron = "https://www.oresundsbron.com/en/history?utm_source=openai"

    def cite(label: str, url: str, title: str) -> Obj:
        link = f"[{label}]({url})"
        start = answer.index(link)
        return {
            "type": "url_citation",
            "url_citation": {
                "end_index": start + len(link),
                "start_index": start,
                "title": title,
                "url": url,
            },
        }

    annotations = [
        cite("wikipedia.org", wiki, "Øresund Bridge - Wikipedia"),
        cite("oresundsbron.com", bron, "History | Øresundsbron"),
    ]
    usage = {
        "prompt_tokens": 11,
        "completion_tokens": 74,
        "total_tokens": 85,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    truth = completion(
        "chatcmpl-CAb3xY7zQ1wE5rT9uI2oP4aS6dF8",
        1760005100,
        "gpt-4o-search-preview-2025-03-11",
        [
            {
                "index": 0,
                "message": message(answer, annotations=annotations),
                "finish_reason": "stop",
            }
        ],
        service_tier="default",
        usage=usage,
    )

    pads = ["Xy7", "b", "Q2wE9", "k0", "Lm4Np", "z", "Rt6", "uV1s", "G", "h3Jk"]
    s = Stream(truth, service_tier="default", system_fingerprint=None)
    s.chunk(
        [
            choice(
                {"role": "assistant", "content": "", "refusal": None, "annotations": []},
                logprobs=None,
            )
        ],
        usage=None,
        obfuscation=pads[0],
    )
    pieces = split(answer, 7)
    for i, piece in enumerate(pieces):
        delta: Obj = {"content": piece}
        s.chunk([choice(delta, logprobs=None)], usage=None, obfuscation=pads[i + 1])
    s.chunk(
        [choice({"annotations": annotations}, finish_reason="stop", logprobs=None)],
        usage=None,
        obfuscation="mN",
    )
    s.chunk([], usage=usage, obfuscation="pQ8r")
    return Case(
        "openai_search_obfuscation",
        "OpenAI (search model)",
        (OA_STREAMING, OA_SEARCH),
        "`obfuscation` on every chunk, the usage chunk included (absent from the completion);"
        " `annotations: []` on the first delta, two `url_citation` annotations on the final"
        " delta (the finish chunk's); `service_tier`; `system_fingerprint: null` on every chunk",
        truth,
        s.events,
    )


def openai_moderation() -> Case:
    answer = "Voici une recette rapide : galettes de sarrasin, œuf, comté et jambon. Bon appétit !"
    categories = {"harassment": False, "self-harm": False, "violence": False}
    applied = {"harassment": ["text"], "self-harm": ["text"], "violence": ["text"]}

    def results(harassment: float, violence: float) -> Obj:
        return {
            "type": "moderation_results",
            "model": "omni-moderation-2024-09-26",
            "results": [
                {
                    "type": "moderation_result",
                    "flagged": False,
                    "categories": categories,
                    "category_scores": {
                        "harassment": harassment,
                        "self-harm": 0.0000041,
                        "violence": violence,
                    },
                    "category_applied_input_types": applied,
                }
            ],
        }

    early = {"input": results(0.0000112, 0.0000354)}
    final = {"input": results(0.0000112, 0.0000354), "output": results(0.0000087, 0.0000121)}
    usage = {
        "prompt_tokens": 13,
        "completion_tokens": 22,
        "total_tokens": 35,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    truth = completion(
        "chatcmpl-CBc4yZ8aR2xF6sU0vJ3pQ5bT7eG9",
        1760005400,
        "gpt-4.1-mini-2025-04-14",
        [{"index": 0, "message": message(answer), "finish_reason": "stop"}],
        system_fingerprint="fp_6f2eabb9a5",
        service_tier="default",
        moderation=final,
        usage=usage,
    )

    s = Stream(truth, system_fingerprint="fp_6f2eabb9a5", service_tier="default")
    s.chunk(
        [choice({"role": "assistant", "content": "", "refusal": None}, logprobs=None)], usage=None
    )
    s.chunk([], moderation=early, usage=None)
    for piece in split(answer, 6):
        s.chunk([choice({"content": piece}, logprobs=None)], usage=None, moderation=None)
    s.chunk([choice({}, finish_reason="stop", logprobs=None)], usage=None)
    s.chunk([], moderation=final, usage=None)
    s.chunk([], usage=usage)
    return Case(
        "openai_moderation",
        "OpenAI (moderated completion)",
        (OA_STREAMING, "https://platform.openai.com/docs/api-reference/moderations"),
        "top-level `moderation` on dedicated `choices: []` chunks: an input-only report early,"
        " `moderation: null` on content chunks, the full input+output report after the finish"
        " chunk (last non-null, whole)",
        truth,
        s.events,
    )


def openai_logprobs_null_pair() -> Case:
    french = "Oui, avec plaisir ! 😊"
    german_tokens = [
        ("Ja", -0.0012),
        (",", -0.031),
        (" sehr", -0.52),
        (" gern", -0.0047),
        ("!", -0.21),
    ]
    german = "".join(t for t, _ in german_tokens)
    entries = [token(t, lp) for t, lp in german_tokens]
    null_pair = {"content": None, "refusal": None}
    usage = {
        "prompt_tokens": 17,
        "completion_tokens": 14,
        "total_tokens": 31,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    truth = completion(
        "chatcmpl-CCd5zA9bS3yG7tV1wK4qR6cU8fH0",
        1760005700,
        "gpt-4o-mini-2024-07-18",
        [
            {
                "index": 0,
                "message": message(french),
                "finish_reason": "stop",
                "logprobs": null_pair,
            },
            {
                "index": 1,
                "message": message(german),
                "finish_reason": "stop",
                "logprobs": {"content": entries, "refusal": None},
            },
        ],
        system_fingerprint="fp_560af6e559",
        service_tier="default",
        usage=usage,
    )

    s = Stream(truth, system_fingerprint="fp_560af6e559", service_tier="default")
    s.chunk(
        [
            choice(
                {"role": "assistant", "content": "", "refusal": None}, index=1, logprobs=null_pair
            )
        ],
        usage=None,
    )
    s.chunk(
        [
            choice(
                {"role": "assistant", "content": "", "refusal": None}, index=0, logprobs=null_pair
            )
        ],
        usage=None,
    )
    fr_pieces = split(french, 5)
    for i, entry in enumerate(entries):
        s.chunk(
            [
                choice(
                    {"content": entry["token"]},
                    index=1,
                    logprobs={"content": [entry], "refusal": None},
                )
            ],
            usage=None,
        )
        s.chunk([choice({"content": fr_pieces[i]}, index=0, logprobs=null_pair)], usage=None)
    s.chunk([choice({}, index=1, finish_reason="stop", logprobs=null_pair)], usage=None)
    s.chunk([choice({}, index=0, finish_reason="stop", logprobs=null_pair)], usage=None)
    s.chunk([], usage=usage)
    return Case(
        "openai_logprobs_null_pair",
        "OpenAI (n=2, logprobs)",
        (OA_STREAMING,),
        '`logprobs: {"content": null, "refusal": null}` on every chunk of choice 0 (stays'
        " that: `{}` once canonical); choice 1 extends `logprobs.content` token by token and"
        " keeps it through a null pair on its finish chunk; choice 1 seen first",
        truth,
        s.events,
    )


# -- Mistral ---------------------------------------------------------------------------------

MISTRAL_REASONING = "https://docs.mistral.ai/capabilities/reasoning/native"
MISTRAL_STREAM = "https://github.com/mistralai/client-python/pull/511"
MISTRAL_REFERENCE = (
    "https://docs.rs/crate/mistral-openapi-client/latest/source/src/models/reference_chunk.rs"
)
MISTRAL_API = (
    "https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post"
)


def think(*texts: str) -> Obj:
    return {"type": "thinking", "thinking": [{"type": "text", "text": t} for t in texts]}


def text_part(text: str) -> Obj:
    return {"type": "text", "text": text}


def mistral_thinking_then_text() -> Case:
    thinking = (
        "D'accord, l'utilisateur veut 17 × 23. 17 × 20 = 340, 17 × 3 = 51, "
        "donc 340 + 51 = 391. Vérifions : 391 ÷ 17 = 23."
    )
    answer = "17 × 23 = **391**. Vérification : 391 ÷ 17 = 23 ✓ — Cafe\u0301 offert ? 👩\u200d💻"
    usage = {"prompt_tokens": 24, "total_tokens": 412, "completion_tokens": 388}
    truth = completion(
        "a9c1f0e2b7d34c5e8f6a1b2c3d4e5f60",
        1760006000,
        "magistral-medium-2509",
        [{"index": 0, "message": message(answer, reasoning=thinking), "finish_reason": "stop"}],
        usage=usage,
    )

    t = split(thinking, 5)
    # Cut right between "e" and its combining accent, and inside the ZWJ emoji sequence.
    a = [
        answer[:9],
        answer[9:30],
        answer[30 : answer.index("\u0301")],
        answer[answer.index("\u0301") : answer.index("\u200d")],
        answer[answer.index("\u200d") :],
    ]
    assert "".join(a) == answer
    s = Stream(truth)
    s.chunk([choice({"role": "assistant", "content": ""})])
    s.chunk([choice({"content": [think(t[0])]})])
    s.chunk([choice({"content": [think(t[1], t[2])]})])
    s.chunk([choice({"content": [think(t[3])]})])
    s.chunk([choice({"content": [think(t[4]), text_part(a[0])]})])
    s.chunk([choice({"content": a[1]})])
    s.chunk([choice({"content": [text_part(a[2])]})])
    s.chunk([choice({"content": a[3]})])
    s.chunk([choice({"content": [text_part(a[4])]})])
    s.chunk([choice({"content": ""}, finish_reason="stop")], usage=usage)
    return Case(
        "mistral_thinking_then_text",
        "Mistral (Magistral)",
        (MISTRAL_REASONING, MISTRAL_STREAM, MISTRAL_API),
        "`delta.content` as typed parts: `thinking` parts (one with two inner text items) first,"
        " then `text` parts, one chunk holding the last thinking part and the first text part,"
        " plain-string chunks in between; text cut between a letter and its combining accent"
        " and inside a ZWJ emoji; usage on the finish chunk",
        truth,
        s.events,
    )


def mistral_reference_parts() -> Case:
    first = "La tour Eiffel mesure 330 m depuis 2022"
    second = ". Elle reçoit près de 6 millions de visiteurs par an"
    refs = [
        {"type": "reference", "reference_ids": [0]},
        {"type": "reference", "reference_ids": [2, 5]},
    ]
    answer = first + second + "."
    usage = {"prompt_tokens": 1320, "total_tokens": 1361, "completion_tokens": 41}
    truth = completion(
        "c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f1",
        1760006300,
        "mistral-medium-2508",
        [{"index": 0, "message": message(answer, content_parts=refs), "finish_reason": "stop"}],
        usage=usage,
    )

    f, g = split(first, 3), split(second, 3)
    s = Stream(truth)
    s.chunk([choice({"role": "assistant", "content": ""})])
    s.chunk([choice({"content": f[0]})])
    s.chunk([choice({"content": [text_part(f[1])]})])
    s.chunk([choice({"content": [text_part(f[2]), refs[0]]})])
    s.chunk([choice({"content": [text_part(g[0])]})])
    s.chunk([choice({"content": g[1]})])
    s.chunk([choice({"content": [text_part(g[2]), refs[1], text_part(".")]})])
    s.chunk([choice({"content": ""}, finish_reason="stop")], usage=usage)
    return Case(
        "mistral_reference_parts",
        "Mistral",
        (MISTRAL_API, MISTRAL_REFERENCE),
        "`reference` parts (`reference_ids`) between `text` parts and plain strings: the text"
        " joins into `content`, the two reference parts are kept whole, in order, in"
        " `message.content_parts`",
        truth,
        s.events,
    )


# -- a server we have never met --------------------------------------------------------------


def unknown_fields_everywhere() -> Case:
    answer = "Vérifié ✓"
    arguments = '{"q":"Zürich"}'
    entries = [
        token("Vé", -0.02, acme_token_id=5412),
        token("rifié", -0.11, acme_token_id=87013),
        {
            **token(" ✓", -0.4, acme_token_id=2713),
            "top_logprobs": [
                {"token": " ✓", "logprob": -0.4, "bytes": [32, 226, 156, 147], "acme_rank": 1}
            ],
        },
    ]
    usage = {
        "prompt_tokens": 52,
        "completion_tokens": 18,
        "total_tokens": 70,
        "acme_gpu_seconds": 0.42,
        "acme_region": "eu-central",
        "acme_billing": {"tier": "free", "units": [3, 4]},
        "prompt_tokens_details": {"cached_tokens": 0, "acme_prefix_hit": True},
        "completion_tokens_details": {"reasoning_tokens": 0, "acme_draft_tokens": [12, 7]},
    }
    call = {
        "id": "call_acme_01",
        "type": "function",
        "function": {
            "name": "lookup",
            "arguments": arguments,
            "acme_strict": True,
            "acme_schema_version": 2,
        },
        "acme_call_meta": "srv-us",
    }
    msg = message(
        answer,
        tool_calls=[call],
        acme_note="Prüfung ok",  # strings: concatenated
        acme_tags=["draft", "checked", "ü"],  # lists: extended
        acme_state={
            "phase": "planning",
            "steps": [1, 2, 3],
            "depth": 2,
            "flags": {"cached": False, "beam": True},
        },  # objects: merged key-wise
        acme_confidence=0.75,
        acme_final=True,
    )  # other values: last non-null
    truth = completion(
        "chatcmpl-acme-7Hq2Lx9Pz4Vw",
        1760006600,
        "acme-omni-1.5",
        [
            {
                "index": 0,
                "message": msg,
                "finish_reason": "tool_calls",
                "logprobs": {"content": entries},
                "acme_choice_meta": {"safety": "pass", "score": 0.98},
                "acme_stop_detail": "tool_use",
            }
        ],
        usage=usage,
        acme_trace="trace-a3",
        acme_shards=[3],
        acme_router={"attempt": 2},
        acme_latency_ms=31.5,
    )

    s = Stream(truth)
    s.chunk(
        [
            choice(
                {
                    "role": "assistant",
                    "content": "",
                    "acme_note": None,
                    "acme_tags": ["draft"],
                    "acme_state": {
                        "phase": "pl",
                        "steps": [1],
                        "depth": 1,
                        "flags": {"cached": False},
                    },
                    "acme_confidence": 0.5,
                    "acme_final": False,
                },
                logprobs=None,
                acme_choice_meta={"safety": "pass"},
            )
        ],
        acme_trace="trace-a1",
        acme_shards=[1, 2],
        acme_router={"region": "eu-west-1", "attempt": 1},
        acme_latency_ms=12,
    )
    s.chunk(
        [
            choice(
                {"content": "Vé", "acme_note": "Prüf"},
                logprobs={"content": entries[:1], "refusal": None},
            )
        ],
        acme_latency_ms=None,
    )
    s.chunk(
        [
            choice(
                {
                    "content": "rifié ✓",
                    "acme_note": "ung ok",
                    "acme_tags": ["checked", "ü"],
                    "acme_state": {
                        "phase": "an",
                        "steps": [2, 3],
                        "depth": 2,
                        "flags": {"beam": True},
                    },
                },
                logprobs={"content": entries[1:], "refusal": None},
            )
        ],
        acme_trace=None,
    )
    first = {
        "index": 0,
        "id": "call_acme_01",
        "type": "function",
        "function": {
            "name": "lookup",
            "arguments": "",
            "acme_strict": True,
            "acme_schema_version": 1,
        },
        "acme_call_meta": "srv-eu",
    }
    s.chunk(
        [
            choice(
                {
                    "tool_calls": [first],
                    "acme_state": {"phase": "ning", "depth": None},
                    "acme_confidence": 0.75,
                },
                logprobs=None,
            )
        ],
        acme_router={"attempt": 2},
        acme_shards=[3],
    )
    pieces = split(arguments, 2)
    s.chunk(
        [
            choice(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "function": {"arguments": pieces[0]},
                            "acme_call_meta": "srv-us",
                        }
                    ]
                },
                logprobs=None,
            )
        ]
    )
    s.chunk(
        [
            choice(
                {
                    "tool_calls": [
                        {"index": 0, "function": {"arguments": pieces[1], "acme_schema_version": 2}}
                    ],
                    "acme_final": True,
                },
                logprobs=None,
                acme_choice_meta={"safety": "pass", "score": 0.98},
            )
        ]
    )
    s.chunk(
        [choice({}, finish_reason="tool_calls", logprobs=None, acme_stop_detail="tool_use")],
        acme_trace="trace-a3",
    )
    s.chunk([], usage=usage, acme_latency_ms=31.5)
    return Case(
        "unknown_fields_everywhere",
        "none (a server never met)",
        ('README, "Provider extensions": the generic rule (no provider doc)',),
        "never-seen keys at every level: chunk top level (string, list, object, number; last"
        " non-null whole, a later `null` ignored), choice, delta (strings concatenated, lists"
        " extended, an object merged key-wise recursively, numbers and booleans last non-null),"
        " tool call object and `function` (last non-null, a string not concatenated), usage and"
        " its details, logprob token entries and their `top_logprobs`",
        truth,
        s.events,
    )


CASES = (
    openrouter_anthropic_reasoning,
    openrouter_openai_summary_tool,
    openrouter_gemini_indexless,
    openrouter_web_annotations,
    openrouter_images,
    snowflake_reasoning_details_only,
    perplexity_growing_sources,
    groq_x_groq_usage_only,
    groq_usage_both,
    groq_compound_executed_tools,
    groq_gpt_oss_channel,
    deepseek_reasoner_cache,
    xai_usage_ticks,
    azure_content_filters,
    azure_async_filter,
    azure_deepseek_reasoning_tokens,
    together_cached_tokens,
    openai_search_obfuscation,
    openai_moderation,
    openai_logprobs_null_pair,
    mistral_thinking_then_text,
    mistral_reference_parts,
    unknown_fields_everywhere,
)


# -- README ----------------------------------------------------------------------------------

README_HEAD = """\
# Synthetic provider-extension streams

**These streams are synthetic: built by hand from the providers' public documentation, not
captured from a live server.** Each one is shaped like the extension fields a provider documents
(reasoning details, citations, content filters, usage extras...), so that chunkagg's merge rules
for extensions (the README's "Provider extensions" section) have an independent oracle.

`make.py` builds every case: it first writes down the TRUTH, the final merged `chat.completion`,
by hand from the merge rules, then renders the SSE chunks from it (text cut at uneven points,
snapshots resent, usage where the provider puts it, `data: [DONE]` last). `<case>.expected.json`
is that truth with every null-valued key dropped, recursively (the canonical form of
`tests/fixtures/README.md`); no merger, chunkagg included, computed it. (`make.py` does run a
plain reading of the rules over each stream, only to catch a slip in how a case was rendered;
the expected file is never taken from it.) Regenerate with
`python tests/synthetic/providers/make.py` (deterministic: same bytes every run; stdlib and
orjson only). `manifest.json` lists the cases with their provider, doc URLs, chunk count and
number of choices.

Compare a result the way the real fixtures are compared: convert it to builtins, drop null-valued
keys recursively, compare for equality. The rules the expected files follow, in short: top-level
`id`/`created`/`model`/`system_fingerprint`/`service_tier` first non-empty (Azure's filter chunks
send `""` and `0`); `usage` the last non-null top-level block as sent, else the last
`x_groq.usage`; `provider` last non-empty; `citations`, `search_results`, `moderation`,
`prompt_filter_results` last non-null, whole; `x_groq` merged key by key; `obfuscation` dropped;
unknown top-level and choice keys last non-null, whole; `finish_reason`/`native_finish_reason`
last non-empty; `content_filter_results` last non-null; `logprobs` lists extended;
`content`/`refusal`/`reasoning`/`reasoning_content` concatenated; typed content parts: `text` to
`content`, `thinking` to `reasoning`, others kept in `message.content_parts`;
`reasoning_details` grouped by `index` (`text`/`summary`/`data` concatenated;
`type`/`id`/`format`/`signature` first non-empty; other keys last non-null; index-less items
each a new detail, after the indexed ones); `annotations` and `images` appended;
`executed_tools` merged by `index`, later non-null wins key-wise; `channel` last non-empty;
unknown delta keys by the generic rule (strings concatenated, lists extended, objects merged
key-wise, other values last non-null).

| case | provider | shape taken from | covers |
|---|---|---|---|
"""

README_TAIL = """
## Where the docs left the shape open (guesses)

Every shape below was chosen by hand; where no public doc showed it, the case follows the closest
documented or widely reported shape. These are the guesses, so a failure on one of them may be
the oracle's fault, not the merger's:

- **OpenRouter**: usage on a last chunk whose choice is `{"role": "assistant", "content": ""}`
  with null finish reasons (the docs only say "the last SSE message"); `content: ""` on every
  delta; a `reasoning.text` signature arriving on its own empty-text fragment;
  `reasoning.encrypted` `data` split over two chunks (Anthropic sends redacted thinking whole);
  index-less `reasoning_details` items and a second indexed text block after the tool calls
  (the rule defines them, no doc example shows them).
- **Snowflake Cortex**: the whole `reasoning_details` shape (no public doc found); modelled on
  OpenRouter's `reasoning.text` with `signature` and `index`, no `format`, no `reasoning` string.
- **Perplexity**: `citations`/`search_results` resent and growing on every chunk (today's docs say
  they come in the final chunk(s)); usage cumulative on every chunk.
- **Groq**: `delta.channel` (seen in third-party code for gpt-oss, absent from Groq's SDK types);
  a compound tool first sent with `output: null` then restated; top-level `usage` and
  `x_groq.usage` on the same chunk.
- **xAI**: cumulative usage on every chunk; `citations` only on the final chunk.
- **Azure**: asynchronous-filter chunks with no `delta`; the DeepSeek deployment's
  `reasoning_content` and top-level `usage.reasoning_tokens` with null `*_details`.
- **Together AI**: choice-level `text` and `seed`, delta-level `token_id` (from memory of Together
  streams; not found in a doc page).
- **OpenAI**: an early input-only `moderation` report before the full one; `obfuscation` on the
  usage chunk too.
- **Mistral**: usage on the finish chunk; `reference` parts inside chat-completion deltas.
"""


def readme(cases: Sequence[Case]) -> str:
    rows = []
    for case in cases:
        docs = "<br>".join(d if not d.startswith("http") else f"<{d}>" for d in case.docs)
        rows.append(f"| `{case.name}.sse` | {case.provider} | {docs} | {case.covers} |\n")
    return README_HEAD + "".join(rows) + README_TAIL


def manifest(cases: Sequence[Case]) -> list[Obj]:
    return [
        {
            "case": case.name,
            "provider": case.provider,
            "docs": list(case.docs),
            "covers": case.covers,
            "chunks": sum(isinstance(event, dict) for event in case.events),
            "choices": len(case.truth["choices"]),
        }
        for case in cases
    ]


# -- self-check ------------------------------------------------------------------------------
# Not where the expected files come from (they are the truths above): a plain reading of the
# rules, run over each rendered stream, must give back its truth, so a slip in a case's
# rendering (a lost fragment, a chunk out of place) is caught when the files are regenerated.


def _generic(old: Any, new: Any) -> Any:
    if new is None or old is None:
        return old if new is None else new
    if isinstance(old, str) and isinstance(new, str):
        return old + new
    if isinstance(old, list) and isinstance(new, list):
        return old + new
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _generic(old.get(k), v) for k, v in new.items()}}
    return new


def _concat(target: Obj, key: str, value: Any) -> None:
    if value is not None:
        target[key] = (target.get(key) or "") + value


def _first(target: Obj, key: str, value: Any) -> None:
    if value and not target.get(key):
        target[key] = value


def _last(target: Obj, key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _delta(state: Obj, delta: Obj) -> None:
    msg = state["message"]
    for key, value in delta.items():
        if key == "role":
            _first(msg, key, value)
        elif key == "content" and isinstance(value, list):
            for part in value:
                if part["type"] == "text":
                    _concat(msg, "content", part["text"])
                elif part["type"] == "thinking":
                    for item in part["thinking"]:
                        _concat(msg, "reasoning", item["text"])
                else:
                    state["parts"].append(part)
        elif key in ("content", "refusal", "reasoning", "reasoning_content"):
            _concat(msg, key, value)
        elif key == "channel":
            if value:
                msg["channel"] = value
        elif key == "tool_calls":
            for item in value or []:
                call = state["calls"].setdefault(item["index"], {"function": {}})
                for k, v in item.items():
                    if k in ("id", "type"):
                        _first(call, k, v)
                    elif k == "function":
                        for fk, fv in v.items():
                            fn = call["function"]
                            {"name": _first, "arguments": _concat}.get(fk, _last)(fn, fk, fv)
                    elif k != "index":
                        _last(call, k, v)
        elif key == "reasoning_details":
            for item in value or []:
                if item.get("index") is None:
                    state["loose"].append(detail := {})
                else:
                    detail = state["details"].setdefault(item["index"], {})
                for k, v in item.items():
                    if k in ("text", "summary", "data"):
                        _concat(detail, k, v)
                    elif k in ("type", "id", "format", "signature"):
                        _first(detail, k, v)
                    else:
                        _last(detail, k, v)
        elif key in ("annotations", "images"):
            msg[key] = msg.get(key, []) + (value or [])
        elif key == "executed_tools":
            for item in value or []:
                tool = state["tools"].setdefault(item["index"], {})
                for k, v in item.items():
                    _last(tool, k, v)
        else:
            msg[key] = _generic(msg.get(key), value)


def reference_merge(chunks: Sequence[Obj]) -> Obj:
    top: Obj = {"object": "chat.completion"}
    states: dict[int, Obj] = {}
    x_groq: Obj | None = None
    for chunk in chunks:
        for key, value in chunk.items():
            if key in ("id", "created", "model", "system_fingerprint", "service_tier"):
                _first(top, key, value)
            elif key == "provider":
                if value:
                    top[key] = value
            elif key == "x_groq" and value is not None:
                x_groq = {**(x_groq or {}), **{k: v for k, v in value.items() if v is not None}}
            elif key not in ("object", "choices", "obfuscation"):
                _last(top, key, value)
        for ch in chunk["choices"]:
            state = states.setdefault(
                ch["index"],
                {
                    "message": {},
                    "calls": {},
                    "details": {},
                    "loose": [],
                    "tools": {},
                    "parts": [],
                    "choice": {"index": ch["index"]},
                },
            )
            out = state["choice"]
            for key, value in ch.items():
                if key == "delta":
                    _delta(state, value or {})
                elif key in ("finish_reason", "native_finish_reason"):
                    if value:
                        out[key] = value
                elif key == "logprobs" and value is not None:
                    logprobs = out.setdefault("logprobs", {"content": None, "refusal": None})
                    for k in ("content", "refusal"):
                        if value.get(k) is not None:
                            logprobs[k] = (logprobs[k] or []) + value[k]
                elif key not in ("index", "logprobs"):
                    _last(out, key, value)
    if "usage" not in top and x_groq and x_groq.get("usage") is not None:
        top["usage"] = x_groq["usage"]
    if x_groq is not None:
        top["x_groq"] = x_groq
    choices = []
    for index in sorted(states):
        state = states[index]
        msg = {"role": "assistant", **state["message"]}
        details = [state["details"][i] for i in sorted(state["details"])] + state["loose"]
        extras = {
            "tool_calls": [state["calls"][i] for i in sorted(state["calls"])],
            "reasoning_details": details,
            "executed_tools": [state["tools"][i] for i in sorted(state["tools"])],
            "content_parts": state["parts"],
        }
        msg.update({k: v for k, v in extras.items() if v})
        choices.append({**state["choice"], "message": msg})
    return {**top, "choices": choices}


def check(case: Case) -> None:
    chunks = [event for event in case.events if isinstance(event, dict)]
    got, want = canonical(reference_merge(chunks)), canonical(case.truth)
    assert got == want, f"{case.name}: the stream does not render its truth"


def main(argv: Sequence[str]) -> None:
    cases = [make() for make in CASES]
    assert len({c.name for c in cases}) == len(cases)
    for case in cases:
        if "--no-check" not in argv:
            check(case)
        (HERE / f"{case.name}.sse").write_bytes(sse(case.events))
        expected = orjson.dumps(canonical(case.truth), option=orjson.OPT_INDENT_2) + b"\n"
        (HERE / f"{case.name}.expected.json").write_bytes(expected)
    (HERE / "manifest.json").write_bytes(
        orjson.dumps(manifest(cases), option=orjson.OPT_INDENT_2) + b"\n"
    )
    (HERE / "README.md").write_text(readme(cases), encoding="utf-8")
    print(f"wrote {len(cases)} cases to {HERE}")


if __name__ == "__main__":
    main(sys.argv[1:])
