"""The README's Python examples run, against the local SSE server where they need one.

Every ```` ```python ```` block of README.md is collected with the heading it sits under, and run
by that heading's runner in ``RUNNERS``. The runner supplies the names the example leaves to the
reader (``byte_pieces``, ``url``, ``request``, ``headers``, ``response``, ``client``...), all
aimed at the local SSE server, and checks what the example produced against the fixture's
expected completion. A block under a heading without a runner fails: a new example must come
with a way to run it. Blocks may use top-level ``await`` (run as the body of a coroutine).

The README's API table is checked too: every name it lists exists.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import logging
import random
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import httpx
import openai
import pytest
from helpers import FIXTURES, canonical, choice, chunk, split_feeds, sse

import chunkagg

README = Path(__file__).parent.parent / "README.md"
MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]
TIMEOUT = 10.0


@dataclass(frozen=True)
class Block:
    heading: str
    line: int  # 1-based line of the code's first line in README.md
    code: str

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"L{self.line}-{slug}"


def readme_blocks(text: str) -> list[Block]:
    """Every ```` ```python ```` block of ``text`` with the nearest heading above it."""
    blocks: list[Block] = []
    heading = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            lang = line[3:].strip()
            end = i + 1
            while not lines[end].startswith("```"):
                end += 1
            if lang == "python":
                blocks.append(Block(heading, i + 2, "\n".join(lines[i + 1 : end]) + "\n"))
            i = end + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def _compile(block: Block) -> CodeType:
    code: CodeType = compile(
        block.code, f"{README}:{block.line}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    return code


def run_block(block: Block, namespace: dict[str, Any]) -> dict[str, Any]:
    """Run ``block`` in ``namespace`` (top-level ``await`` allowed); return the namespace."""
    result = eval(_compile(block), namespace)
    if inspect.iscoroutine(result):
        asyncio.run(result)
    return namespace


class Replay:
    """Stands in for the examples' ``response``: each ``iter_bytes()`` or ``aiter_bytes()``
    streams the fixture anew from the local server, over a real socket, with httpx."""

    def __init__(self, url: str, request: dict[str, Any]) -> None:
        self.url = url
        self.json = {**request, "stream": True}

    def iter_bytes(self) -> Iterator[bytes]:
        with httpx.stream("POST", self.url, json=self.json, timeout=TIMEOUT) as response:
            response.raise_for_status()
            yield from response.iter_bytes()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT) as client,
            client.stream("POST", self.url, json=self.json) as response,
        ):
            response.raise_for_status()
            async for data in response.aiter_bytes():
                yield data


class UI:
    """Records what the live-UI example shows."""

    def __init__(self) -> None:
        self.text: dict[int, list[str]] = {}
        self.arguments: list[Any] = []

    def append(self, choice: int, text: str) -> None:
        self.text.setdefault(choice, []).append(text)

    def show_arguments(self, partial: Any) -> None:
        self.arguments.append(partial)


@dataclass
class Context:
    sse_url: str
    fixture: str
    monkeypatch: pytest.MonkeyPatch
    caplog: pytest.LogCaptureFixture
    closers: list[Callable[[], None]]

    @property
    def expected(self) -> Any:
        return json.loads((FIXTURES / f"{self.fixture}.expected.json").read_bytes())

    def names(self) -> dict[str, Any]:
        """Every name the examples leave to the reader, aimed at the local server.

        ``openai.OpenAI()`` finds the server through ``OPENAI_BASE_URL``, whose path names the
        fixture (the examples' ``model="gpt-4o"`` is then ignored).
        """
        base_url = f"{self.sse_url}/fixtures/{self.fixture}/v1"
        self.monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        self.monkeypatch.setenv("OPENAI_API_KEY", "test")
        for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_WEBHOOK_SECRET"):
            self.monkeypatch.delenv(name, raising=False)
        client = openai.OpenAI(max_retries=0, timeout=TIMEOUT)
        self.closers.append(client.close)
        url = f"{self.sse_url}/v1/chat/completions"
        request = {"model": self.fixture, "messages": MESSAGES}
        stream = (FIXTURES / f"{self.fixture}.sse").read_bytes()
        tools: list[tuple[str, Any]] = []
        return {
            "chunkagg": chunkagg,  # the fragments continue the examples above them
            "byte_pieces": split_feeds(stream, "random", random.Random(len(stream))),
            "url": url,
            "request": request,
            "headers": {"authorization": "Bearer test"},
            "response": Replay(url, request),
            "client": client,
            "messages": MESSAGES,
            "ui": UI(),
            "run_tool": lambda name, args: tools.append((name, args)),
            "tools_run": tools,
            # The Orq SDK's example: the SDK reaches the local server's /v2/router path.
            "server_url": self.sse_url,
            "api_key": "test",
            "model": self.fixture,
            # The relay's example: where it stores results and what it forwards.
            "stored": [],
            "forwarded": [],
        }


Runner = Callable[[Block, Context], None]


def _check_completion(ctx: Context, namespace: dict[str, Any]) -> None:
    completion = namespace["completion"]
    assert isinstance(completion, chunkagg.ChatCompletion)
    assert canonical(completion) == ctx.expected


def run_completion(block: Block, ctx: Context) -> None:
    """Examples that leave the merged result in ``completion`` (and maybe a ``ChunkStream``
    in ``stream``)."""
    namespace = run_block(block, ctx.names())
    _check_completion(ctx, namespace)
    stream = namespace.get("stream")
    if isinstance(stream, chunkagg.ChunkStream | chunkagg.AsyncChunkStream):
        assert stream.completion is not None
        assert canonical(stream.completion) == ctx.expected


class Bytes:
    """A ``response`` whose ``iter_bytes()`` yields given bytes (no socket needed)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def iter_bytes(self) -> Iterator[bytes]:
        yield from split_feeds(self.data, "random", random.Random(len(self.data)))


def run_live_ui(block: Block, ctx: Context) -> None:
    _run_live_ui(block, ctx, {})
    # A stream that never sends finish_reason: its ToolCallDone events come only from
    # finalize(), and the example must still run its tools.
    stream = (FIXTURES / f"{ctx.fixture}.sse").read_bytes()
    unfinished = re.sub(rb'"finish_reason":"[a-z_]+"', b'"finish_reason":null', stream)
    assert unfinished != stream
    _run_live_ui(block, ctx, {"response": Bytes(unfinished)}, finished=False)


def _run_live_ui(block: Block, ctx: Context, names: dict[str, Any], finished: bool = True) -> None:
    namespace = run_block(block, {**ctx.names(), **names})
    if not finished:
        unfinished: chunkagg.ChatCompletion = namespace["completion"]
        assert all(c.finish_reason is None for c in unfinished.choices)
        namespace["completion"] = _with_finish_reasons(unfinished, ctx.expected)
    _check_completion(ctx, namespace)
    completion: chunkagg.ChatCompletion = namespace["completion"]
    ui: UI = namespace["ui"]
    shown = {i: "".join(parts) for i, parts in ui.text.items()}
    assert shown == {c.index: c.message.content for c in completion.choices if c.message.content}
    calls = [c for ch in completion.choices for c in ch.message.tool_calls or []]
    assert calls, f"{ctx.fixture} has no tool call: pick one that exercises the example"
    assert namespace["tools_run"] == [
        (c.function.name, json.loads(c.function.arguments)) for c in calls
    ]
    final = [json.loads(c.function.arguments) for c in calls]
    partials = [p for p in ui.arguments if p is not None]
    assert partials, "no partial arguments shown"
    assert all(any(p.keys() <= f.keys() for f in final) for p in partials), partials


def _with_finish_reasons(completion: chunkagg.ChatCompletion, expected: Any) -> Any:
    # The unfinished stream's completion, with the finish reasons the stream did not send, so
    # the rest of the checks compare with the expected file.
    for choice_, want in zip(completion.choices, expected["choices"], strict=True):
        choice_.finish_reason = want.get("finish_reason")
    return completion


def run_relay(block: Block, ctx: Context) -> None:
    namespace = run_block(block, ctx.names())
    stream = (FIXTURES / f"{ctx.fixture}.sse").read_bytes()
    assert b"".join(namespace["forwarded"]) == stream
    [(reason, completion, faults)] = namespace["stored"]
    assert (reason, faults) == ("end", [])
    assert canonical(json.loads(completion)) == ctx.expected


def run_framed_yourself(block: Block, ctx: Context) -> None:
    namespace = run_block(block, ctx.names())
    assert namespace["acc"].finalize().choices[0].message.content == "Hi"


def run_errors(block: Block, ctx: Context) -> None:
    # A fragment: `acc` fed one good chunk, then `data` holding the server's error event.
    acc = chunkagg.Accumulator()
    acc.feed(sse(chunk(choice(0, content="Hel")), done=False))
    data = b'event: error\ndata: {"error": {"message": "overloaded", "code": 529}}\n\n'
    log = logging.getLogger("readme-example")
    ctx.caplog.set_level(logging.WARNING, logger="readme-example")
    namespace = run_block(block, {**ctx.names(), "acc": acc, "data": data, "log": log})
    assert namespace["partial"].choices[0].message.content == "Hel"
    assert [r.getMessage() for r in ctx.caplog.records if r.name == "readme-example"] == [
        "server error 529: overloaded"
    ]


SYNTHETIC = Path(__file__).parent / "synthetic"
# The other formats' examples: a legacy completions stream (n=2, logprobs) and a Responses API
# stream (text with annotations), as the local server serves them.
COMPLETIONS = "completions/logprobs_n2"
RESPONSES = "responses/annotations"


def _format_replay(ctx: Context, name: str) -> Replay:
    path = "/v1/completions" if name.startswith("completions/") else "/v1/responses"
    return Replay(f"{ctx.sse_url}{path}", {"model": name})


def _format_expected(name: str) -> Any:
    return canonical(json.loads((SYNTHETIC / f"{name}.expected.json").read_bytes()))


class Replays:
    """A ``response`` that streams the next of several replays at each ``iter_bytes()``."""

    def __init__(self, *replays: Replay) -> None:
        self.replays = list(replays)

    def iter_bytes(self) -> Iterator[bytes]:
        return self.replays.pop(0).iter_bytes()


def run_other_formats(block: Block, ctx: Context) -> None:
    response = Replays(_format_replay(ctx, COMPLETIONS), _format_replay(ctx, RESPONSES))
    namespace = run_block(block, {**ctx.names(), "response": response})
    completion, result = namespace["completion"], namespace["result"]
    assert isinstance(completion, chunkagg.TextCompletion)
    assert isinstance(result, chunkagg.Response)
    assert canonical(completion) == _format_expected(COMPLETIONS)
    assert canonical(result) == _format_expected(RESPONSES)
    assert response.replays == []


def run_any_format(block: Block, ctx: Context) -> None:
    stored: list[chunkagg.RelayResult[Any]] = []
    names = {
        "stream": _format_replay(ctx, RESPONSES).iter_bytes(),
        "response": _format_replay(ctx, COMPLETIONS),
        "store": stored.append,
    }
    namespace = run_block(block, {**ctx.names(), **names})
    assert canonical(namespace["result"]) == _format_expected(RESPONSES)
    [relayed] = stored
    assert (relayed.reason, relayed.faults) == ("end", [])
    assert isinstance(relayed.completion, chunkagg.TextCompletion)
    assert canonical(relayed.completion) == _format_expected(COMPLETIONS)
    sent = (SYNTHETIC / f"{COMPLETIONS}.sse").read_bytes()
    assert b"".join(namespace["forwarded"]) == sent


# The heading of each of the README's Python examples: how to run it, against which fixture.
# The README's bundled example stream (examples/stream.sse) is FIXTURE: n=3, interleaved.
FIXTURE = "openai-python/a491adda08c3"
TOOLS_FIXTURE = "openai-go/mockResponseBody"  # content, then a tool call
RUNNERS: dict[str, tuple[Runner, str]] = {
    "Plain bytes": (run_completion, FIXTURE),
    "httpx": (run_completion, FIXTURE),
    "The openai SDK's raw response": (run_completion, FIXTURE),
    "One line: `accumulate`, `aaccumulate`, `ChunkStream`": (run_completion, FIXTURE),
    "Live UIs: events and tool arguments as they stream": (run_live_ui, TOOLS_FIXTURE),
    "Chunks you framed yourself": (run_framed_yourself, FIXTURE),
    "The Orq SDK": (run_completion, FIXTURE),
    "Relaying a stream: `Relay`, `AsyncRelay`": (run_relay, FIXTURE),
    "Errors": (run_errors, FIXTURE),
    "Legacy completions and the Responses API": (run_other_formats, FIXTURE),
    "Any of the three: `AutoAccumulator`, and `accumulator=`": (run_any_format, FIXTURE),
}


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 5
    assert {"Plain bytes", "httpx", "The openai SDK's raw response"} <= {b.heading for b in BLOCKS}


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_example(
    block: Block,
    sse_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = RUNNERS.get(block.heading)
    assert entry is not None, f"README.md:{block.line}: no runner for heading {block.heading!r}"
    runner, fixture = entry
    closers: list[Callable[[], None]] = []
    try:
        runner(block, Context(sse_url, fixture, monkeypatch, caplog, closers))
    finally:
        for close in closers:
            close()


def _api_table(text: str) -> list[str]:
    """The first cell of each row of the README's API table."""
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row[2:].split(" | ", 1)[0] for row in rows]


def test_readme_api_table_names_exist() -> None:
    cells = _api_table(README.read_text(encoding="utf-8"))
    assert cells
    params = set(inspect.signature(chunkagg.Accumulator).parameters)
    missing = []
    for cell in cells:
        for prefix, name in re.findall(r"`(?:await )?(acc\.)?([A-Za-z_]\w*)", cell):
            owner: Any = chunkagg.Accumulator if prefix else chunkagg
            if not hasattr(owner, name):
                missing.append(f"{prefix}{name}")
        if cell.startswith("`Accumulator("):
            listed = set(re.findall(r"(\w+)=", cell))
            missing += sorted(f"Accumulator({p}=)" for p in listed - params)
    assert missing == [], f"README API table names what chunkagg lacks: {missing}"
