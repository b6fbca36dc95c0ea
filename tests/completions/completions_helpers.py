"""What the legacy completions tests (``tests/completions/``) share: the synthetic cases
(``tests/synthetic/completions``, see its README) by name, builders of ``text_completion`` chunks
and streams, and ``_merged``, ``_fail``.

The helpers that were one module's own keep their leading underscore (``_stream``, ``_merged``,
``_fail``...). ``chunk``, ``choice`` and ``sse`` build this format's chunks, where ``helpers``'
build chat's.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import helpers
import orjson
import pytest
from helpers import Split, feed_all

from chunkagg import ChunkAggError
from chunkagg._completions import CompletionAccumulator, TextCompletion

SYNTHETIC = helpers.SYNTHETIC / "completions"
CASES = sorted(p.stem for p in SYNTHETIC.glob("*.sse"))


def _stream(name: str) -> bytes:
    return (SYNTHETIC / f"{name}.sse").read_bytes()


def _expected(name: str) -> Any:
    return json.loads((SYNTHETIC / f"{name}.expected.json").read_bytes())


def _merged(data: bytes, split: Split | str = "whole", **options: Any) -> TextCompletion:
    acc = CompletionAccumulator(**options)
    feed_all(acc, data, split)
    return acc.finalize()


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


def _fail(acc: CompletionAccumulator, data: bytes, kind: type[ChunkAggError]) -> ChunkAggError:
    with pytest.raises(kind) as info:
        acc.feed(data)
    return info.value
