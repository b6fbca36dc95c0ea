"""What the Anthropic Messages tests (``tests/messages/``) share: the synthetic cases
(``tests/synthetic/messages``, see its README) by name, with their manifest and ``make.py``'s
reference accumulator (``MAKE``), the SSE builder (``sse``), the feeding loops of
``MessageAccumulator`` that go on after each error as the contract allows, and the comparison of
a result with the reference's message (``check_against_reference``).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import helpers
import orjson
from helpers import Split, feed_recovering, finalize_recovering, split_feeds
from hypothesis import strategies as st

from chunkagg import ChunkAggError, EmptyStreamError, MessageAccumulator, MessageEvent, StreamError

__all__ = [
    "CASES",
    "HERE",
    "MAKE",
    "MANIFEST",
    "NAMES",
    "Generated",
    "Obj",
    "add_all",
    "check_against_reference",
    "dumps",
    "error_offset",
    "event_offsets",
    "events_of",
    "expected",
    "feed",
    "finalized",
    "generate",
    "merge",
    "messages",
    "reframe",
    "sse",
    "stream",
]

Obj = dict[str, Any]
HERE = helpers.SYNTHETIC / "messages"
MANIFEST: dict[str, Obj] = {
    entry["case"]: entry for entry in json.loads((HERE / "manifest.json").read_bytes())
}
CASES = sorted(MANIFEST)


def _load_make() -> Any:
    # make.py's reference accumulator defines what a stream cut anywhere must build. Loaded by
    # path: the folder is a package only for pytest's and mypy's module names.
    spec = importlib.util.spec_from_file_location("messages_make", HERE / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MAKE = _load_make()


def stream(name: str) -> bytes:
    return (HERE / f"{name}.sse").read_bytes()


def expected(name: str) -> Obj:
    value: Obj = json.loads((HERE / f"{name}.expected.json").read_bytes())
    return value


def events_of(name: str) -> list[Obj]:
    """The JSON of every event of a case, in order."""
    found: list[Obj] = list(MAKE.parse_sse(stream(name)))
    return found


def dumps(value: Any) -> bytes:
    """Compact JSON, as orjson writes it; integers past 64 bits too (hostile tests send them)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def sse(events: Iterable[Obj], *, event_lines: bool = True, eol: bytes = b"\n") -> bytes:
    """Events as Anthropic frames them (``event:`` then ``data:``), or data-only (the bytes of
    ``make.py``'s ``to_sse`` for the events it can write)."""
    out = bytearray()
    for event in events:
        if event_lines:
            out += b"event: " + str(event.get("type")).encode() + eol
        out += b"data: " + dumps(event) + eol + eol
    return bytes(out)


def reframe(name: str, framing: str) -> bytes:
    """A case's events framed anew: ``sent`` (the file's bytes), ``lf``, ``crlf``, ``cr``
    (``event:`` and ``data:`` lines), ``data-only`` (no ``event:`` lines) or ``ndjson``."""
    if framing == "sent":
        return stream(name)
    events = events_of(name)
    if framing == "ndjson":
        return b"".join(orjson.dumps(e) + b"\n" for e in events)
    if framing == "data-only":
        return sse(events, event_lines=False)
    return sse(events, eol={"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}[framing])


def event_offsets(events: list[Obj], *, event_lines: bool = True, eol: bytes = b"\n") -> list[int]:
    """The byte offset at which each event of ``sse(events, ...)`` starts."""
    offsets: list[int] = []
    at = 0
    for event in events:
        offsets.append(at)
        at += len(sse([event], event_lines=event_lines, eol=eol))
    return offsets


def error_offset(name: str) -> int:
    """Where a case's ``error`` event starts in its bytes."""
    number: int = MANIFEST[name]["error_event"]
    return event_offsets(events_of(name))[number - 1]


def feed(
    acc: MessageAccumulator, data: bytes, split: Split | str = "whole"
) -> tuple[list[MessageEvent], list[ChunkAggError]]:
    """Feed ``data`` in the pieces ``split`` asks for, going on after each error (``feed(b"")``
    resumes, as the contract says); return the events decoded and the errors, in order."""
    return feed_recovering(acc, split_feeds(data, split))


def merge(
    data: bytes, split: Split | str = "whole", **options: Any
) -> tuple[Obj, MessageAccumulator, list[ChunkAggError]]:
    """The message ``data`` finalizes to (after every error), the accumulator and the errors."""
    acc = MessageAccumulator(**options)
    _, errors = feed(acc, data, split)
    result = finalize_recovering(acc, errors)
    return result.to_dict(), acc, errors


def add_all(acc: MessageAccumulator, items: Iterable[Any]) -> list[StreamError]:
    """``add()`` every item; the ``StreamError`` of an ``error`` event is collected."""
    errors = []
    for item in items:
        try:
            acc.add(item)
        except StreamError as exc:
            errors.append(exc)
    return errors


def check_against_reference(got: Obj | None, events: list[Obj], where: str) -> None:
    """``got`` (a result's ``to_dict()``, ``None`` for ``EmptyStreamError``) is what ``make.py``'s
    ``accumulate`` builds from ``events``. A tool block whose input JSON never became whole has
    its partial parse as ``input`` and, under one more key of chunkagg's naming, the fragments
    joined, as sent (issue 16); no other key may differ."""
    outcome = MAKE.accumulate(events)
    want = outcome.message
    if want is None:
        assert got is None, (where, got)
        return
    assert got is not None, where
    if not outcome.partial:
        assert got == want, where
        return
    got_blocks = got.get("content")
    assert isinstance(got_blocks, list) and len(got_blocks) == len(want["content"]), where
    for i, (mine, theirs) in enumerate(zip(got_blocks, want["content"], strict=True)):
        if i not in outcome.partial:
            assert mine == theirs, (where, i)
            continue
        extra = {k: v for k, v in mine.items() if k not in theirs}
        assert {k: v for k, v in mine.items() if k in theirs} == theirs, (where, i, mine)
        assert list(extra.values()) == [outcome.partial[i]], (where, i, mine)
    assert {k: v for k, v in got.items() if k != "content"} == {
        k: v for k, v in want.items() if k != "content"
    }, where


def finalized(acc: MessageAccumulator, errors: list[ChunkAggError]) -> Obj | None:
    """``finalize()`` after every error; ``None`` when nothing was merged (``EmptyStreamError``)."""
    try:
        result = finalize_recovering(acc, errors)
    except EmptyStreamError:  # pragma: no cover - finalize_recovering returns the snapshot
        return None
    if errors and isinstance(errors[-1], EmptyStreamError):
        return None
    return result.to_dict()


# -- generated streams ----------------------------------------------------------------------------

# Keys nobody declared (some not identifiers, some clashing with Python or Struct names).
NAMES = ["zz_one", "zz-two", "κλειδί", "with space", "class", "extra", "_private", "to_dict"]
_ALPHABET = [
    *"abcXYZ019 .,!?'",
    *("é", "ß", "中", "日本", "😀", "👩\u200d💻", "\u2028"),
    *('"', "\\", "\n", "\r", "\t", "\x00", "/", "{", "data: ", "event: ", "\r\n\r\n"),
]
_MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "模型-v1"]


def _text(rng: random.Random, most: int = 24) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, most)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value; nulls only inside containers (a null top value is "nothing sent")."""
    kind = rng.choice(["str", "int", "float", "bool", "list", "dict"] + ["null"] * (depth > 0))
    if kind == "str":
        return _text(rng, 6)
    if kind == "int":
        return rng.randint(-(2**40), 2**40)
    if kind == "float":
        return rng.choice([0.5, -1e300, 2.25])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null" or depth > 2:
        return None
    if kind == "list":
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(NAMES): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _pieces(rng: random.Random, text: str) -> list[str]:
    """``text`` in 0..6 in-order pieces (empty pieces allowed)."""
    cuts = sorted(rng.randint(0, len(text)) for _ in range(rng.randint(0, 5)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass
class Generated:
    """A generated truth message, the events that stream it, and the paths (``content.2.note``)
    of its values that the Anthropic SDK's beta accumulation is known to drop."""

    truth: Obj
    events: list[Obj]
    sdk_drops: set[str] = field(default_factory=set)


def _interleave(rng: random.Random, first: list[Obj], second: list[Obj]) -> list[Obj]:
    """The two lists merged in a random order that keeps each one's own order."""
    out: list[Obj] = []
    a, b = list(first), list(second)
    while a or b:
        take = a if a and (not b or rng.random() < 0.5) else b
        out.append(take.pop(0))
    return out


def _citation(rng: random.Random) -> Obj:
    if rng.random() < 0.5:
        return {
            "type": "char_location",
            "cited_text": _text(rng),
            "document_index": rng.randrange(3),
            "document_title": rng.choice([None, "Doc"]),
            "start_char_index": 0,
            "end_char_index": rng.randrange(1, 99),
        }
    return {
        "type": "web_search_result_location",
        "cited_text": _text(rng),
        "url": "https://example.com/" + str(rng.randrange(99)),
        "title": rng.choice([None, "Page"]),
        "encrypted_index": "Eo" + str(rng.randrange(10**6)),
    }


def _block(rng: random.Random, i: int, g: Generated) -> tuple[Obj, Obj, list[Obj]]:
    """One random block: (its final form, its ``content_block_start`` block, its deltas)."""
    kind = rng.choice(
        ["text"] * 4
        + ["thinking", "redacted_thinking", "tool_use", "tool_use", "server_tool_use"]
        + ["web_search_tool_result", "mcp_tool_use", "mcp_tool_result", "compaction"]
        + ["fallback", "novel"]
    )
    deltas: list[Obj] = []
    if kind == "text":
        value = _text(rng, 40)
        final: Obj = {"type": "text", "text": value}
        start: Obj = {"type": "text", "text": ""}
        roll = rng.random()
        if roll < 0.3:
            citations = [_citation(rng) for _ in range(rng.randint(1, 3))]
            final["citations"] = citations
            if rng.random() < 0.5:
                start["citations"] = []
            deltas += [{"type": "citations_delta", "citation": c} for c in citations]
        elif roll < 0.4:
            final["citations"] = start["citations"] = None
        texts = [{"type": "text_delta", "text": p} for p in _pieces(rng, value)]
        deltas = _interleave(rng, deltas, texts)  # each keeps its own order
    elif kind == "thinking":
        value, sig = _text(rng, 40), "Eq" + _text(rng, 8).encode().hex()
        final = {"type": "thinking", "thinking": value, "signature": sig}
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas += [{"type": "thinking_delta", "thinking": p} for p in _pieces(rng, value)]
        deltas.append({"type": "signature_delta", "signature": sig})
    elif kind == "redacted_thinking":
        final = {"type": "redacted_thinking", "data": "Em" + str(rng.randrange(10**9))}
        start = dict(final)
    elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        args = {rng.choice(NAMES): _value(rng) for _ in range(rng.randint(0, 3))}
        final = {"type": kind, "id": f"toolu_{i}_{rng.randrange(1 << 30):x}", "name": "f"}
        if kind == "server_tool_use":
            final["name"] = "web_search"
        if kind == "mcp_tool_use":
            final["server_name"] = "srv"
        final["input"] = args
        way = rng.choice(["fragments", "fragments", "whole"])
        if way == "whole":
            start = dict(final)
        else:
            start = {**final, "input": {}}
            raw = json.dumps(args, ensure_ascii=rng.random() < 0.5) if args else ""
            deltas += [{"type": "input_json_delta", "partial_json": p} for p in _pieces(rng, raw)]
            if not deltas:
                deltas.append({"type": "input_json_delta", "partial_json": ""})
    elif kind == "web_search_tool_result":
        final = {
            "type": kind,
            "tool_use_id": f"srvtoolu_{i}",
            "content": [
                {
                    "type": "web_search_result",
                    "title": _text(rng),
                    "url": "https://example.com",
                    "encrypted_content": "Ev" + str(rng.randrange(10**9)),
                    "page_age": None,
                }
            ],
        }
        start = json.loads(json.dumps(final))
    elif kind == "mcp_tool_result":
        final = {
            "type": kind,
            "tool_use_id": f"mcptoolu_{i}",
            "is_error": rng.random() < 0.2,
            "content": [{"type": "text", "text": _text(rng)}],
        }
        start = json.loads(json.dumps(final))
    elif kind == "compaction":
        summary = _text(rng, 40)
        final = {"type": "compaction", "content": summary}
        start = {"type": "compaction", "content": None}
        deltas.append({"type": "compaction_delta", "content": summary})
    elif kind == "fallback":
        final = {
            "type": "fallback",
            "from": {"model": rng.choice(_MODELS)},
            "to": {"model": rng.choice(_MODELS)},
            "trigger": {"type": "refusal", "category": rng.choice([None, "cyber"])},
        }
        start = json.loads(json.dumps(final))
    else:
        final = {"type": "novel_" + rng.choice(["card", "panel"]), "title": _text(rng)}
        start = dict(final)
    # Unknown keys in the block as it starts (kept by the SDK's models too), and a delta of a
    # type not yet invented that sets a new field (which the SDK drops).
    if rng.random() < 0.2:
        key = rng.choice(NAMES)
        if key not in final:
            final[key] = start[key] = _value(rng)
    if kind != "compaction" and rng.random() < 0.2:
        key = "zz_set_" + rng.choice(NAMES)
        value = _value(rng)
        first = {"type": "future_delta", key: _value(rng), "note": None}
        deltas.insert(rng.randint(0, len(deltas)), first)
        deltas.insert(
            rng.randint(deltas.index(first) + 1, len(deltas)), {"type": "x_delta", key: value}
        )
        final[key] = value
        g.sdk_drops.add(f"content.{i}.{key}")
    return final, start, deltas


def generate(rng: random.Random) -> Generated:
    """A random final message (the truth) and a stream of events that gives it: blocks of every
    kind (known and not), pings and events of unknown types anywhere after ``message_start``,
    one or two ``message_delta`` events with cumulative usage, unknown keys at every level."""
    g = Generated({}, [])
    start_usage: Obj = {"input_tokens": rng.randrange(1 << 20), "output_tokens": 1}
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        if rng.random() < 0.5:
            start_usage[key] = rng.randrange(1 << 16)
    if rng.random() < 0.3:
        start_usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": 0,
            "ephemeral_1h_input_tokens": rng.randrange(99),
        }
    if rng.random() < 0.3:
        start_usage["service_tier"] = "standard"
    model = rng.choice(_MODELS)
    base: Obj = {
        "id": f"msg_01{rng.randrange(1 << 60):x}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": dict(start_usage),
    }
    if rng.random() < 0.2:
        base[rng.choice(NAMES)] = _value(rng)
    truth: Obj = json.loads(json.dumps(base))
    events: list[Obj] = [{"type": "message_start", "message": base}]
    for i in range(rng.choice([0, 1, 1, 2, 3, 4, 6])):
        final, start, deltas = _block(rng, i, g)
        truth["content"].append(final)
        if final["type"] == "fallback":
            truth["model"] = final["to"]["model"]
        events.append({"type": "content_block_start", "index": i, "content_block": start})
        events += [{"type": "content_block_delta", "index": i, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": i})
    # message_delta: the final usage's counts (cumulative); an earlier one with smaller counts.
    stop = rng.choice(["end_turn", "tool_use", "max_tokens", "stop_sequence", "pause_turn"])
    delta: Obj = {
        "stop_reason": stop,
        "stop_sequence": "\n\nEND" if stop == "stop_sequence" else None,
    }
    truth.update(delta)
    usage: Obj = {"output_tokens": rng.randrange(2, 1 << 20)}
    for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        if rng.random() < 0.4:
            usage[key] = rng.randrange(1 << 20)
    if rng.random() < 0.3:
        usage["server_tool_use"] = {
            "web_search_requests": rng.randrange(5),
            "web_fetch_requests": 0,
        }
    if rng.random() < 0.2:
        key = "zz_usage_" + rng.choice(NAMES)
        usage[key] = _value(rng)
        g.sdk_drops.add(f"usage.{key}")
    truth["usage"].update(usage)
    final_event: Obj = {"type": "message_delta", "delta": delta, "usage": usage}
    if rng.random() < 0.3:
        container = {"id": f"container_{rng.randrange(99)}", "expires_at": "2026-01-01T00:05:00Z"}
        delta["container"] = truth["container"] = container
    if rng.random() < 0.2:
        key = "zz_delta_" + rng.choice(NAMES)
        delta[key] = truth[key] = _value(rng)
        g.sdk_drops.add(key)
    if rng.random() < 0.3:
        edits = {
            "applied_edits": [
                {
                    "type": "clear_thinking_20251015",
                    "cleared_thinking_turns": 1,
                    "cleared_input_tokens": 9,
                }
            ]
        }
        final_event["context_management"] = truth["context_management"] = edits
    if rng.random() < 0.2:
        key = "zz_top_" + rng.choice(NAMES)
        final_event[key] = truth[key] = _value(rng)
        g.sdk_drops.add(key)
    if rng.random() < 0.3:
        earlier = {k: v for k, v in usage.items() if k != "output_tokens" and rng.random() < 0.5}
        earlier["output_tokens"] = rng.randrange(1, usage["output_tokens"])
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": None, "stop_sequence": None},
                "usage": earlier,
            }
        )
    events.append(final_event)
    events.append({"type": "message_stop"})
    # Pings anywhere; events of unknown types anywhere after message_start.
    for _ in range(rng.choice([0, 0, 1, 3])):
        events.insert(rng.randint(0, len(events)), {"type": "ping"})
    for _ in range(rng.choice([0, 0, 1, 2])):
        at = rng.randint(
            1 + next(i for i, e in enumerate(events) if e["type"] == "message_start"), len(events)
        )
        events.insert(
            at, {"type": "zz_future_event", "index": rng.randrange(9), "data": _value(rng)}
        )
    g.truth, g.events = truth, events
    return g


def messages() -> st.SearchStrategy[Generated]:
    """Generated streams, driven by Hypothesis (so failures shrink)."""
    return st.randoms(use_true_random=False).map(generate)
