"""The Python examples of the README and of every docs page run, against the local SSE server.

Every ```` ```python ```` block of README.md and of ``docs/**/*.md`` is collected with its page
and the heading it sits under, and run by that page and heading's runner in ``RUNNERS``. The
runner supplies the names the example leaves to the reader (``byte_pieces``, ``url``,
``request``, ``headers``, ``response``, ``client``...), all aimed at the local SSE server, and
checks what the example produced against the fixture's expected result. A block under a heading
without a runner fails: a new example must come with a way to run it; a runner whose heading is
gone fails too. Blocks may use top-level ``await`` (run as the body of a coroutine). Blocks in
other languages (``sh``, ``json``, ``text``) are not run.

Also checked: every name the API table (``docs/api/index.md``) lists exists; the API reference
pages document every public name, through the package only; no example prints ``to_json()``'s
bytes as if they were text; the README's links lead to files that exist.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import logging
import random
import re
import sys
import types
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import httpx
import msgspec
import openai
import pytest
from helpers import FIXTURES, canonical, choice, chunk, split_feeds, sse

import chunkagg

# The repository root, found upwards so that the module may move between the tests' folders.
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Every page whose examples run: the README, then the docs pages (a subfolder's pages too).
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
API_TABLE = DOCS / "api" / "index.md"
MESSAGES: list[Any] = [{"role": "user", "content": "Hi"}]
TIMEOUT = 10.0


@dataclass(frozen=True)
class Block:
    page: str  # the page's path from the repository root: "README.md", "docs/errors.md"
    heading: str
    line: int  # 1-based line of the code's first line in the page
    code: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.page, self.heading)

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{self.page}:L{self.line}-{slug}"


def page_blocks(page: str, text: str) -> list[Block]:
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
                blocks.append(Block(page, heading, i + 2, "\n".join(lines[i + 1 : end]) + "\n"))
            i = end + 1
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        i += 1
    return blocks


def _page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


BLOCKS = [
    block
    for path in PAGES
    for block in page_blocks(_page_name(path), path.read_text(encoding="utf-8"))
]


def _compile(block: Block) -> CodeType:
    # The file name and line make a failing example's traceback point into its page.
    code: CodeType = compile(
        block.code,
        f"{ROOT / block.page}:{block.line}",
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
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


def run_structured(block: Block, ctx: Context) -> None:
    # Self-contained: the block streams its own body and asserts on the result. It declares
    # types, whose (string) annotations msgspec resolves in their module: give it a real one.
    module = types.ModuleType("docs_structured_example")
    module.__dict__.update(ctx.names())
    sys.modules[module.__name__] = module
    try:
        namespace = run_block(block, module.__dict__)
    finally:
        del sys.modules[module.__name__]
    message = namespace["message"]
    assert type(message.parsed) is namespace["Recipe"]
    assert namespace["request"]["response_format"]["json_schema"]["strict"] is True


def run_readme_structured(block: Block, ctx: Context) -> None:
    # `Recipe` and a stream of one: the structured fixture of nested objects and arrays.
    from synthetic.structured import types as structured

    data = (SYNTHETIC / "structured" / "chat-nested.sse").read_bytes()
    expected = json.loads((SYNTHETIC / "structured" / "chat-nested.expected.json").read_text())
    printed: list[Any] = []
    names = {
        **ctx.names(),
        "Recipe": structured.RecipeStruct,
        "response": Bytes(data),
        "print": printed.append,
    }
    namespace = run_block(block, names)
    recipe = msgspec.convert(expected["choices"]["0"], structured.RecipeStruct)
    assert namespace["recipe"] == recipe and printed[-1] is namespace["recipe"]
    assert type(printed[len(printed) // 2]).__name__ == "Partial[RecipeStruct]"


def run_errors(block: Block, ctx: Context) -> None:
    # A fragment: `acc` fed one good chunk, then `data` holding the server's error event.
    acc = chunkagg.Accumulator()
    acc.feed(sse(chunk(choice(0, content="Hel")), done=False))
    data = b'event: error\ndata: {"error": {"message": "overloaded", "code": 529}}\n\n'
    log = logging.getLogger("docs-example")
    ctx.caplog.set_level(logging.WARNING, logger="docs-example")
    namespace = run_block(block, {**ctx.names(), "acc": acc, "data": data, "log": log})
    assert namespace["partial"].choices[0].message.content == "Hel"
    assert [r.getMessage() for r in ctx.caplog.records if r.name == "docs-example"] == [
        "server error 529: overloaded"
    ]


SYNTHETIC = ROOT / "tests" / "synthetic"
# The other formats' examples: a legacy completions stream (n=2, logprobs) and a Responses API
# stream (text with annotations), as the local server serves them.
COMPLETIONS = "completions/logprobs_n2"
RESPONSES = "responses/annotations"


MESSAGES_STREAM = "messages/plain_text"


def _format_replay(ctx: Context, name: str) -> Replay:
    kind = name.split("/", 1)[0]
    path = {"completions": "/v1/completions", "messages": "/v1/messages"}.get(kind, "/v1/responses")
    return Replay(f"{ctx.sse_url}{path}", {"model": name})


def _format_expected(name: str) -> Any:
    return canonical(json.loads((SYNTHETIC / f"{name}.expected.json").read_bytes()))


def run_text_completion(block: Block, ctx: Context) -> None:
    """A legacy completions example: ``response`` streams a ``text_completion`` (n=2, logprobs);
    the example leaves the result in ``completion``."""
    response = _format_replay(ctx, COMPLETIONS)
    namespace = run_block(block, {**ctx.names(), "response": response})
    completion = namespace["completion"]
    assert isinstance(completion, chunkagg.TextCompletion)
    assert canonical(completion) == _format_expected(COMPLETIONS)


def run_response(block: Block, ctx: Context) -> None:
    """A Responses API example: ``response`` streams ``response.*`` events; the example leaves
    the result in ``result``."""
    response = _format_replay(ctx, RESPONSES)
    namespace = run_block(block, {**ctx.names(), "response": response})
    result = namespace["result"]
    assert isinstance(result, chunkagg.Response)
    assert canonical(result) == _format_expected(RESPONSES)


class _Body:
    """Stands in for the examples' ``response``: ``iter_bytes()`` yields a stream file in pieces."""

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()

    def iter_bytes(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), 97):
            yield self.data[start : start + 97]


ANTHROPIC = Path(__file__).parent / "synthetic" / "anthropic-docs"


def run_message(block: Block, ctx: Context) -> None:
    """An Anthropic Messages example: ``response`` streams the docs' tool-use example; the
    example leaves the result in ``message``."""
    response = _Body(ANTHROPIC / "tool_use.sse")
    namespace = run_block(block, {**ctx.names(), "response": response})
    message = namespace["message"]
    assert isinstance(message, chunkagg.AnthropicMessage)
    expected = json.loads((ANTHROPIC / "tool_use.expected.json").read_bytes())
    assert message.to_dict() == expected


def run_any_response(block: Block, ctx: Context) -> None:
    """An example that takes any format into ``result``: run once per format."""
    chat = Replay(f"{ctx.sse_url}/v1/chat/completions", {"model": ctx.fixture})
    for response, kind, expected in [
        (chat, chunkagg.ChatCompletion, ctx.expected),
        (_format_replay(ctx, COMPLETIONS), chunkagg.TextCompletion, _format_expected(COMPLETIONS)),
        (_format_replay(ctx, RESPONSES), chunkagg.Response, _format_expected(RESPONSES)),
        (
            _format_replay(ctx, MESSAGES_STREAM),
            chunkagg.AnthropicMessage,
            _format_expected(MESSAGES_STREAM),
        ),
    ]:
        namespace = run_block(block, {**ctx.names(), "response": response})
        assert isinstance(namespace["result"], kind)
        assert canonical(namespace["result"]) == expected


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


# Each Python example's page and heading: how to run it, against which fixture. The bundled
# example stream (examples/stream.sse) is FIXTURE: n=3, interleaved.
FIXTURE = "openai-python/a491adda08c3"
TOOLS_FIXTURE = "openai-go/mockResponseBody"  # content, then a tool call
USAGE = "docs/usage"
RUNNERS: dict[tuple[str, str], tuple[Runner, str]] = {
    ("README.md", "Chat completions"): (run_completion, FIXTURE),
    ("README.md", "Legacy completions"): (run_text_completion, FIXTURE),
    ("README.md", "The Responses API"): (run_response, FIXTURE),
    ("README.md", "Anthropic Messages"): (run_message, FIXTURE),
    ("README.md", "Your own type, live and final"): (run_readme_structured, FIXTURE),
    ("README.md", "Any of them, in one line"): (run_any_response, FIXTURE),
    (f"{USAGE}/plain-bytes.md", "Plain bytes"): (run_completion, FIXTURE),
    (f"{USAGE}/httpx.md", "httpx"): (run_completion, FIXTURE),
    (f"{USAGE}/openai-sdk.md", "The openai SDK's raw response"): (run_completion, FIXTURE),
    (f"{USAGE}/helpers.md", "One line: `accumulate`, `aaccumulate`, `ChunkStream`"): (
        run_completion,
        FIXTURE,
    ),
    (f"{USAGE}/helpers.md", "What the sources may yield"): (run_completion, FIXTURE),
    (f"{USAGE}/orq-sdk.md", "The Orq SDK"): (run_completion, FIXTURE),
    (f"{USAGE}/orq-sdk.md", "The raw bytes of the same endpoint"): (run_completion, FIXTURE),
    (f"{USAGE}/live-ui.md", "Live UIs: events and tool arguments as they stream"): (
        run_live_ui,
        TOOLS_FIXTURE,
    ),
    (f"{USAGE}/structured.md", "Structured outputs: your type, live and final"): (
        run_structured,
        FIXTURE,
    ),
    (f"{USAGE}/framed-yourself.md", "Chunks you framed yourself"): (run_framed_yourself, FIXTURE),
    (f"{USAGE}/relays.md", "Relaying a stream: `Relay`, `AsyncRelay`"): (run_relay, FIXTURE),
    (f"{USAGE}/other-formats.md", "Legacy completions"): (run_text_completion, FIXTURE),
    (f"{USAGE}/other-formats.md", "The Responses API"): (run_response, FIXTURE),
    (f"{USAGE}/other-formats.md", "Anthropic Messages"): (run_message, FIXTURE),
    (f"{USAGE}/auto.md", "Any of them: `AutoAccumulator`, and `accumulator=`"): (
        run_any_format,
        FIXTURE,
    ),
    ("docs/errors.md", "Catch, log, go on"): (run_errors, FIXTURE),
}


def test_pages_have_examples() -> None:
    pages = {block.page for block in BLOCKS}
    assert {"README.md", f"{USAGE}/plain-bytes.md", f"{USAGE}/httpx.md"} <= pages
    readme = {block.heading for block in BLOCKS if block.page == "README.md"}
    assert {"Chat completions", "Legacy completions", "The Responses API"} <= readme


def test_every_runner_has_an_example() -> None:
    # A heading renamed or an example moved must take its runner along, or its runner is stale.
    stale = sorted(set(RUNNERS) - {block.key for block in BLOCKS})
    assert stale == [], f"runners without an example (renamed heading? moved page?): {stale}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_docs_example(
    block: Block,
    sse_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = RUNNERS.get(block.key)
    assert entry is not None, f"{block.page}:{block.line}: no runner for heading {block.heading!r}"
    runner, fixture = entry
    closers: list[Callable[[], None]] = []
    try:
        runner(block, Context(sse_url, fixture, monkeypatch, caplog, closers))
    finally:
        for close in closers:
            close()


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_examples_decode_to_json_before_printing(block: Block) -> None:
    # to_json() returns bytes: printed as is, it shows b'...'.
    for number, line in enumerate(block.code.splitlines(), block.line):
        if "print(" in line and ".to_json()" in line:
            assert ".to_json().decode()" in line, f"{block.page}:{number} prints bytes: {line}"


def _api_table(text: str) -> list[str]:
    """The first cell of each row of the API table (its "At a glance" section)."""
    section = text.split("\n## At a glance\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row[2:].split(" | ", 1)[0] for row in rows]


def test_api_table_names_exist() -> None:
    cells = _api_table(API_TABLE.read_text(encoding="utf-8"))
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
    assert missing == [], f"the API table names what chunkagg lacks: {missing}"


def test_api_reference_documents_every_public_name_through_the_package() -> None:
    # mkdocstrings renders `::: chunkagg.NAME`; the private modules under the package move, so
    # a page names the package only, and every public name has its entry, once.
    identifiers = [
        identifier
        for page in sorted((DOCS / "api").glob("*.md"))
        for identifier in re.findall(r"^::: (\S+)", page.read_text(encoding="utf-8"), re.M)
    ]
    private = [i for i in identifiers if not re.fullmatch(r"chunkagg\.\w+", i)]
    assert private == [], f"API pages name what is not a public name of chunkagg: {private}"
    names = [i.removeprefix("chunkagg.") for i in identifiers]
    assert sorted(set(names)) == sorted(names), "a name documented twice"
    public = set(chunkagg.__all__) - {"__version__"}
    assert set(names) == public, (
        f"undocumented: {sorted(public - set(names))}; not public: {sorted(set(names) - public)}"
    )


def test_readme_links_lead_to_files() -> None:
    # The docs pages' links are checked by `mkdocs build --strict`; the README's here.
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:", t)]
    assert local
    missing = sorted(t for t in local if not (ROOT / t).exists())
    assert missing == [], f"README links to files that do not exist: {missing}"
