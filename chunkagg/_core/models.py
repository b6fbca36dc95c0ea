"""The Structs every format builds on: the wire and output bases, and the shared OpenAI blocks.

Owns ``_Common`` (``extra``, and the class facts ``schema`` and the formats' merges read),
``_Wire`` (a decoded Struct: frozen, every unknown key refused so that ``schema`` can widen),
``_Output`` (a merged result's Struct), ``Usage`` with its details and ``ErrorObject`` (the same
keys in chat and legacy completions), and ``detach``. Must not know any format's chunk: each
format's ``models`` module declares its own on these bases.

The class facts a wire Struct may declare (``schema`` reads them, so no format registers
anything anywhere):

- ``_strict``: the fields whose wrong type is a bad chunk (``None``: all of them); a value of
  another type in any other field is kept as sent.
- ``_extensions``: providers' extensions, read as properties on the declared class and declared
  as fields on a Struct derived for a stream that carries them.
- ``_unmerged``: extensions the merge never reads (kept on the chunk only).
- ``_wider``: fields declared narrower than some servers send, by key, with the wider type a
  stream that sends it is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from msgspec import UNSET

from .limits import MAX_DEPTH, check_depth

__all__ = [
    "CompletionTokensDetails",
    "ErrorObject",
    "Number",
    "PromptTokensDetails",
    "Usage",
    "detach",
    "to_builtins",
]

Number = int | float


def to_builtins(obj: Any) -> Any:
    """``obj`` as the JSON data model: dicts, lists (never tuples), strings, numbers."""
    return msgspec.json.decode(msgspec.json.encode(obj))


class _Common:
    """What every Struct here shares: ``extra``, and the facts ``schema`` and the merges read."""

    __slots__ = ()

    # (attribute, JSON key) of the fields a derived subclass declares for keys this class does not
    # know; empty on the declared classes.
    _extra_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    # See the module docstring.
    _strict: ClassVar[frozenset[str] | None] = None
    _extensions: ClassVar[tuple[str, ...]] = ()
    _unmerged: ClassVar[frozenset[str]] = frozenset(("obfuscation",))
    _wider: ClassVar[dict[str, Any]] = {}
    # (attribute, JSON key) of the extensions and unknown keys the merge must read on this class:
    # none here; a derived Struct lists those its stream carries.
    _live: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Whether an instance, or anything in it, holds a value of a field typed ``Any`` (an unknown
    # key that had an array or an object, or an extension of an unexpected type): such a value
    # may be mutable, so it is copied before the merge keeps it (an unknown key whose values were
    # all scalars is typed ``SCALAR``, and is not).
    _mutable: ClassVar[bool] = False
    # On a derived root: the (declared class, JSON key) pairs its schema gave a wider type.
    _widened: ClassVar[frozenset[tuple[type, str]]] = frozenset()

    @property
    def extra(self) -> dict[str, Any]:
        """The fields the server sent that chunkagg has no name for, by JSON key (often ``{}``).

        They are also encoded in place by ``msgspec.json.encode``, ``to_dict()`` and
        ``to_json()``: this is only their Python view.
        """
        return {
            key: value
            for attr, key in self._extra_fields
            if (value := getattr(self, attr)) is not UNSET
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the object as the JSON data model (``dict``, ``list``, ``str``...), every field
        the server sent included: equal to ``json.loads(obj.to_json())``."""
        result: dict[str, Any] = to_builtins(self)
        return result

    def to_json(self) -> bytes:
        """Return the object as compact JSON bytes, every field the server sent included."""
        return msgspec.json.encode(self)


class _Wire(
    msgspec.Struct,
    _Common,
    kw_only=True,
    omit_defaults=True,
    gc=False,
    frozen=True,
    forbid_unknown_fields=True,
    repr_omit_defaults=True,
):
    """Base of the wire Structs: frozen; an unknown key fails decoding (``schema`` widens).

    Keyword-only, defaults left out when encoding and in reprs. Only ``None``, ``UNSET`` and empty
    containers are defaults, so no value a server sent (``""``, ``0``) is ever left out.
    ``gc=False``: values decoded from JSON cannot form reference cycles, and untracked Structs
    made logprob-heavy streams 1.46x instead of 1.69x the floor.
    """


class _Output(
    msgspec.Struct, _Common, kw_only=True, omit_defaults=True, gc=False, repr_omit_defaults=True
):
    """Base of a merged result's Structs (built by a merge, never decoded)."""


class PromptTokensDetails(_Wire, frozen=True):
    """Breakdown of the prompt tokens (OpenAI's keys, then providers')."""

    cached_tokens: Number | None = None
    audio_tokens: Number | None = None
    cache_creation_tokens: Number | None = None
    cache_write_tokens: Number | None = None
    text_tokens: Number | None = None
    image_tokens: Number | None = None
    video_tokens: Number | None = None

    _strict = frozenset(("cached_tokens", "audio_tokens"))


class CompletionTokensDetails(_Wire, frozen=True):
    """Breakdown of the completion tokens (OpenAI's keys, then providers')."""

    reasoning_tokens: Number | None = None
    accepted_prediction_tokens: Number | None = None
    rejected_prediction_tokens: Number | None = None
    audio_tokens: Number | None = None
    text_tokens: Number | None = None
    image_tokens: Number | None = None

    _strict = frozenset(
        (
            "reasoning_tokens",
            "accepted_prediction_tokens",
            "rejected_prediction_tokens",
            "audio_tokens",
        )
    )


class Usage(_Wire, frozen=True):
    """Token counts and bills, exactly as the server sent them.

    After OpenAI's keys come the providers' (``extra`` holds any other): ``cost``,
    ``cost_details``, ``is_byok``, ``server_tool_use_details`` (OpenRouter);
    ``prompt_cache_hit_tokens``, ``prompt_cache_miss_tokens`` (DeepSeek); ``cost_in_usd_ticks``,
    ``num_sources_used`` (xAI); ``queue_time``, ``prompt_time``, ``completion_time``,
    ``total_time`` (Groq); ``reasoning_tokens`` (Azure DeepSeek), ``cached_tokens`` (Together).
    """

    prompt_tokens: Number | None = None
    completion_tokens: Number | None = None
    total_tokens: Number | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    cost: Number | None = None
    cost_details: dict[str, Any] | None = None
    is_byok: bool | None = None
    server_tool_use_details: dict[str, Any] | None = None
    prompt_cache_hit_tokens: Number | None = None
    prompt_cache_miss_tokens: Number | None = None
    cost_in_usd_ticks: Number | None = None
    num_sources_used: Number | None = None
    queue_time: Number | None = None
    prompt_time: Number | None = None
    completion_time: Number | None = None
    total_time: Number | None = None
    reasoning_tokens: Number | None = None
    cached_tokens: Number | None = None

    _strict = frozenset(
        (
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "prompt_tokens_details",
            "completion_tokens_details",
        )
    )


class ErrorObject(_Wire, frozen=True):
    """An in-band error (OpenRouter, vLLM, SGLang): a chunk's top-level ``error``."""

    message: str | None = None
    code: int | str | None = None
    type: str | None = None
    param: str | None = None
    metadata: dict[str, Any] | None = None


def detach(obj: Any) -> Any:
    """``obj`` if sharing it is safe, else a copy: a Struct may hold mutable JSON values.

    Raises:
        ChunkError: a value in ``obj`` nests deeper than ``MAX_DEPTH`` (the Struct itself is
            one level).
    """
    if obj._mutable or (
        isinstance(obj, Usage)
        and (obj.cost_details is not None or obj.server_tool_use_details is not None)
    ):
        check_depth(obj, MAX_DEPTH + 1)
        return msgspec.convert(msgspec.to_builtins(obj), type(obj))
    return obj
