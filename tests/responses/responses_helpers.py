"""What the Responses API tests (``tests/responses/``) share: the synthetic cases
(``tests/synthetic/responses``, see its README) by name, with their manifest and ``make.py``'s
reference accumulator (``MAKE``), event builders (``_sse``, ``_framed``), and the feeding loops of
``ResponseAccumulator`` that go on after each error, as the contract allows.

The helpers that were one module's own keep their leading underscore (``_stream``, ``_merge``,
``_feed``...).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

import helpers
import orjson
from helpers import Split, feed_recovering, finalize_recovering, split_feeds

from chunkagg import ChunkAggError, StreamError
from chunkagg._responses import ResponseAccumulator, ResponseEvent

Obj = dict[str, Any]
HERE = helpers.SYNTHETIC / "responses"
MANIFEST: dict[str, Obj] = {
    entry["case"]: entry for entry in json.loads((HERE / "manifest.json").read_bytes())
}
CASES = sorted(MANIFEST)


def _load_make() -> Any:
    # make.py's reference accumulator defines what a stream cut anywhere must build. Loaded by
    # path: the folder is a package only for pytest's and mypy's module names.
    spec = importlib.util.spec_from_file_location("responses_make", HERE / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


MAKE = _load_make()


def _stream(name: str) -> bytes:
    return (HERE / f"{name}.sse").read_bytes()


def _expected(name: str) -> Obj:
    value: Obj = json.loads((HERE / f"{name}.expected.json").read_bytes())
    return value


def _events(name: str) -> list[Obj]:
    """The JSON of every event of a case, in order."""
    return [orjson.loads(p) for p in _payloads(_stream(name))]


def _payloads(body: bytes) -> list[bytes]:
    return [
        line[6:]
        for line in body.split(b"\n")
        if line.startswith(b"data: ") and line != b"data: [DONE]"
    ]


def _sse(events: Iterable[Obj], *, event_lines: bool = True, done: bool = False) -> bytes:
    """Events as OpenAI frames them (``event:`` then ``data:``), or data-only."""
    out = bytearray()
    for event in events:
        if event_lines:
            out += b"event: " + str(event.get("type")).encode() + b"\n"
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    if done:
        out += b"data: [DONE]\n\n"
    return bytes(out)


def _framed(name: str, event_lines: bool, done: bool) -> bytes:
    """A case's body with or without ``event:`` lines and ``[DONE]``, the payloads untouched."""
    body = re.sub(rb"(?m)^event: [^\n]*\n", b"", _stream(name)).replace(b"data: [DONE]\n\n", b"")
    if event_lines:
        body = re.sub(
            rb"(?m)^data: (\{\"type\":\"([^\"]*)\")",
            lambda m: b"event: " + m.group(2) + b"\ndata: " + m.group(1),
            body,
        )
    return body + (b"data: [DONE]\n\n" if done else b"")


def _feed(
    acc: ResponseAccumulator, data: bytes, split: Split | str = "whole"
) -> tuple[list[ResponseEvent], list[ChunkAggError]]:
    """Feed ``data`` in the pieces ``split`` asks for, going on after each error (``feed(b"")``
    resumes, as the contract says); return the events decoded and the errors, in order."""
    return feed_recovering(acc, split_feeds(data, split))


def _merge(data: bytes, split: Split | str = "whole", **options: Any) -> tuple[Obj, Any]:
    acc = ResponseAccumulator(**options)
    _, errors = _feed(acc, data, split)
    result = finalize_recovering(acc, errors)
    return result.to_dict(), acc


def _add_all(acc: ResponseAccumulator, items: Iterable[Any]) -> list[StreamError]:
    errors = []
    for item in items:
        try:
            acc.add(item)
        except StreamError as exc:
            errors.append(exc)
    return errors
