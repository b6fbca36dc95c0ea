"""msgspec Structs of the legacy completions format: the ``text_completion`` chunk and the merge.

Declarations only: no merge logic, no decoders (the core's ``schema`` builds those from
``CompletionChunk``). The format is ``POST /v1/completions`` (OpenAI, vLLM, llama.cpp, Ollama,
FIM endpoints) and the Orq router's ``POST /v2/router/completions``; field names follow the openai
SDK's ``Completion``, ``CompletionChoice`` and ``Logprobs``, whose docstring notes that a streamed
chunk and a non-streamed response share one shape.

The wire Structs declare the fields OpenAI defines, typed strictly (a wrong type there is a bad
chunk), and forbid any other key, so that a stream with keys nobody declared (vLLM's
``stop_reason``, ``token_ids``...) decodes into subclasses the core's ``schema`` derives to keep
them. They are frozen; the lists they hold are copied by the merge before it keeps them.
``usage`` and ``error`` are the core's ``Usage`` and ``ErrorObject``, which chat shares: the same
keys, so the same rules and types.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from .._core.models import ErrorObject, Number, Usage, _Output, _Wire
from .._core.parsed import side_value

__all__ = [
    "CompletionChunk",
    "CompletionChunkChoice",
    "CompletionLogprobs",
    "TextChoice",
    "TextCompletion",
    "TextLogprobs",
]


class CompletionLogprobs(_Wire, frozen=True):
    """A chunk's logprobs of one choice: four lists, one entry per token (in step).

    ``text_offset`` holds each token's character offset in prompt plus completion, absolute (so
    a stream's first value is the prompt's length, unless ``echo``). vLLM may send ``null`` in
    ``token_logprobs`` and in ``top_logprobs``.
    """

    tokens: list[str] | None = None
    token_logprobs: list[Number | None] | None = None
    top_logprobs: list[dict[str, Number] | None] | None = None
    text_offset: list[int] | None = None


class CompletionChunkChoice(_Wire, frozen=True, omit_defaults=False):
    """One choice's piece of text in a chunk.

    Encoded in full, like the wire: a chunk re-encoded to forward it keeps ``index`` and
    ``logprobs: null``.
    """

    index: int = 0
    text: str | None = None
    logprobs: CompletionLogprobs | None = None
    finish_reason: str | None = None


class CompletionChunk(_Wire, frozen=True, omit_defaults=False):
    """A ``text_completion`` chunk: one streamed event of the legacy completions API.

    ``error`` is an in-band error (vLLM, OpenRouter); ``UNSET`` when absent, and then not
    encoded. Encoded in full otherwise: a usage chunk re-encoded keeps ``choices: []``.
    ``created`` may be a string: the Orq router's API spec types it ``string | number`` for this
    endpoint (not for chat), so a string is kept as sent rather than refused.
    """

    id: str | None = None
    choices: list[CompletionChunkChoice] = msgspec.field(default_factory=list)
    created: Number | str | None = None
    model: str | None = None
    object: str | None = None
    system_fingerprint: str | None = None
    usage: Usage | None = None
    error: ErrorObject | UnsetType | None = UNSET

    # Whether this chunk's schema is wider than the declared one (set on derived classes by
    # the core's ``schema``): the merge then looks for unknown keys.
    _ext: ClassVar[bool] = False


class TextLogprobs(_Output, kw_only=True, omit_defaults=False):
    """A merged choice's logprobs: each list the concatenation of the chunks' lists, in order.

    Every key is encoded, ``null`` for a list no chunk sent, as a non-streamed response has them.
    """

    tokens: list[str] | None = None
    token_logprobs: list[Number | None] | None = None
    top_logprobs: list[dict[str, Number] | None] | None = None
    text_offset: list[int] | None = None


class TextChoice(_Output, kw_only=True, dict=True, gc=True):
    """One merged choice: its whole text, and how it ended.

    With ``CompletionAccumulator(response_format=T)`` (a server's guided JSON, vLLM's
    ``guided_json`` say): ``parsed`` (the text as a ``T``, or ``None``) and ``parse_error`` (a
    ``ParseFailure`` saying why it is ``None``); neither is a field: ``to_dict()``,
    ``to_json()`` and ``==`` are the server's object.
    """

    text: str
    index: int
    logprobs: TextLogprobs | None
    finish_reason: str | None

    parsed = side_value("parsed", "The text as the ``response_format=`` type.")
    parse_error = side_value("parse_error", "Why ``parsed`` is ``None``, if it is.")


class TextCompletion(_Output, kw_only=True):
    """The merged ``text_completion``: what a non-streamed request would have returned."""

    id: str | None
    object: str
    created: Number | str | None
    model: str | None
    choices: list[TextChoice]
    usage: Usage | None
    system_fingerprint: str | None = None
