"""What the Anthropic Messages tests (``tests/messages/``) share: the synthetic cases
(``tests/synthetic/messages``, see its README) by name, with their manifest and ``make.py``'s
reference accumulator (``MAKE``), the SSE builder (``sse``), the feeding loops of
``MessageAccumulator`` that go on after each error as the contract allows, and the comparison of
a result with the reference's message (``check_against_reference``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable
from typing import Any

import helpers
import orjson
from helpers import Split, feed_recovering, finalize_recovering, split_feeds

from chunkagg import ChunkAggError, EmptyStreamError, MessageAccumulator, MessageEvent, StreamError

__all__ = [
    "CASES",
    "HERE",
    "MAKE",
    "MANIFEST",
    "Obj",
    "add_all",
    "check_against_reference",
    "error_offset",
    "event_offsets",
    "events_of",
    "expected",
    "feed",
    "finalized",
    "merge",
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


def sse(events: Iterable[Obj], *, event_lines: bool = True, eol: bytes = b"\n") -> bytes:
    """Events as Anthropic frames them (``event:`` then ``data:``), or data-only."""
    data: bytes = MAKE.to_sse(events, event_lines=event_lines, eol=eol)
    return data


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
