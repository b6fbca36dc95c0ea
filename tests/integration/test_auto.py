"""Any of the three formats through one door: ``detect()``, ``AutoAccumulator``, and the
``accumulator=`` option of the helpers, the relays and the command line.

Each result is compared with the one the format's own accumulator gives for the same bytes
(those are checked against the expected files by each format's own tests: tests/chat/
test_fixtures.py, tests/completions/, tests/responses/), so what is tested here is the choosing
and the deferral.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from helpers import SPLIT_IDS, SPLITS, SYNTHETIC, Split, fixture_pairs, split_feeds

from chunkagg import (
    Accumulator,
    AsyncChunkStream,
    AsyncRelay,
    AutoAccumulator,
    ChatCompletion,
    ChunkAggError,
    ChunkError,
    ChunkStream,
    CompletionAccumulator,
    CompletionChunk,
    EmptyStreamError,
    Relay,
    RelayResult,
    Response,
    ResponseAccumulator,
    ResponseBody2,
    ResponseEvent,
    TextCompletion,
    aaccumulate,
    accumulate,
    detect,
)
from chunkagg._cli import main

# (name, bytes, the format's own accumulator class): every stream the suite ships.
STREAMS: list[tuple[str, bytes, type[Any]]] = [
    *((f"chat/{name}", path.read_bytes(), Accumulator) for name, path, _ in fixture_pairs()),
    *(
        (f"completions/{p.stem}", p.read_bytes(), CompletionAccumulator)
        for p in sorted((SYNTHETIC / "completions").glob("*.sse"))
    ),
    *(
        (f"responses/{p.stem}", p.read_bytes(), ResponseAccumulator)
        for p in sorted((SYNTHETIC / "responses").glob("*.sse"))
    ),
]
STREAM_IDS = [name for name, _, _ in STREAMS]
API_OF = {
    Accumulator: "chat",
    CompletionAccumulator: "completions",
    ResponseAccumulator: "responses",
}


def _outcome(acc: Any, pieces: list[bytes]) -> tuple[Any, ...]:
    """What feeding ``pieces`` then finalizing gives: the result, or the first error's type and
    message, with every chunk fed (re-encoded)."""
    chunks: list[bytes] = []
    try:
        for piece in pieces:
            chunks += [msgspec.json.encode(c) for c in acc.feed(piece)]
        result = acc.finalize()
    except ChunkAggError as exc:
        return ("error", type(exc).__name__, str(exc), chunks)
    return ("result", type(result).__name__, result.to_dict(), chunks)


# -- detect() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "api"),
    [
        ({"object": "chat.completion.chunk", "choices": []}, "chat"),
        ({"object": "chat.completion", "choices": []}, "chat"),
        ({"object": "text_completion", "choices": []}, "completions"),
        ({"object": "response", "output": []}, "responses"),
        ({"type": "response.created", "response": {}}, "responses"),
        ({"type": "response.output_text.delta", "delta": "x"}, "responses"),
        ({"type": "error", "code": "x", "message": "m"}, "responses"),
        ({"type": "message_start", "message": {}}, "messages"),
        ({"type": "content_block_delta", "index": 0}, "messages"),
        ({"type": "ping"}, "messages"),
        ({"type": "message", "role": "assistant", "content": []}, "messages"),
        ({"choices": [{"index": 0, "delta": {"content": "a"}}]}, "chat"),
        ({"choices": [{"index": 0, "message": {"content": "a"}}]}, "chat"),
        ({"choices": [{"index": 0, "text": "a"}]}, "completions"),
        # Nothing tells: a usage-only chunk without "object", an error body, another API.
        ({"choices": [], "usage": {"total_tokens": 1}}, None),
        ({"error": {"message": "m"}}, None),
        ({"type": "message"}, None),
        ({"type": "tool_result"}, None),
        ({"choices": [{"index": 0}]}, None),
        ({}, None),
    ],
)
def test_detect_reads_object_then_type_then_the_first_choice(
    event: dict[str, Any], api: str | None
) -> None:
    assert detect(event) == api


def test_detect_reads_structs_and_models_by_their_attributes() -> None:
    assert detect(ResponseBody2(choices=[])) == "chat"
    assert detect(CompletionChunk()) == "completions"
    assert detect(ResponseEvent(type="response.created")) == "responses"

    class Model:  # an SDK's pydantic model: attributes, not keys
        object = "text_completion"

    assert detect(Model()) == "completions"


# -- AutoAccumulator ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "own"), STREAMS, ids=STREAM_IDS)
@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_auto_gives_what_the_formats_own_accumulator_gives(
    name: str, data: bytes, own: type[Any], split: Split
) -> None:
    pieces = split_feeds(data, split)
    auto = AutoAccumulator()
    assert _outcome(auto, pieces) == _outcome(own(), pieces), name
    assert auto.api == API_OF[own]
    assert isinstance(auto.inner, own)


@pytest.mark.parametrize(("name", "data", "own"), STREAMS[:: max(1, len(STREAMS) // 12)])
def test_auto_reads_ndjson_and_one_document_bodies(name: str, data: bytes, own: type[Any]) -> None:
    payloads = [
        line[6:]
        for line in data.split(b"\n")
        if line.startswith(b"data: {") and b"[DONE]" not in line
    ]
    ndjson = b"\n".join(payloads) + b"\n"
    assert _outcome(AutoAccumulator(), [ndjson]) == _outcome(own(format="ndjson"), [ndjson])
    final = own()
    try:
        final.feed(data)
        document = final.finalize().to_json()
    except ChunkAggError:
        return  # an error stream has no body to replay
    auto = AutoAccumulator()
    assert _outcome(auto, split_feeds(document, "bytewise")) == _outcome(own(), [document])
    assert auto.api == API_OF[own]


def test_bytes_are_held_until_an_event_tells() -> None:
    usage = b'{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}'
    usage_only = b'data: {"choices":[],"usage":' + usage + b"}\n\n"
    text = b'data: {"choices":[{"index":0,"text":"Hi"}]}\n\n'
    acc = AutoAccumulator()
    assert acc.feed(b": keep-alive\n\n") == []
    assert acc.feed(usage_only) == []  # tells nothing: held, not merged
    assert acc.api is None and acc.event_count == 0
    snapshot = acc.snapshot()
    assert isinstance(snapshot, ChatCompletion) and snapshot.choices == []
    chunks = acc.feed(text + b"data: [DONE]\n\n")
    assert acc.api == "completions"
    assert [type(c) for c in chunks] == [CompletionChunk, CompletionChunk]
    result = acc.finalize()
    assert isinstance(result, TextCompletion)
    assert result.choices[0].text == "Hi"
    assert result.usage is not None and result.usage.total_tokens == 1
    assert acc.done and acc.event_count == 3


def test_nothing_tells_so_chat_decides_and_says_what_arrived() -> None:
    for body in (b"", b"<html><body>502 Bad Gateway</body></html>", b"data: [DONE]\n\n"):
        acc = AutoAccumulator()
        acc.feed(body)
        with pytest.raises(EmptyStreamError) as caught:
            acc.finalize()
        own = Accumulator()
        own.feed(body)
        with pytest.raises(EmptyStreamError) as expected:
            own.finalize()
        assert str(caught.value) == str(expected.value)
        assert acc.api == "chat"


def test_a_first_bad_event_is_judged_by_the_format_the_next_one_tells() -> None:
    delta = b'{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"x"}'
    data = b"data: {not json\n\n" + b"data: " + delta + b"\n\n"
    acc = AutoAccumulator()
    with pytest.raises(ChunkError) as caught:
        acc.feed(data)
    assert acc.api == "responses"
    assert caught.value.event == 1 and caught.value.offset == 0
    (event,) = acc.feed(b"")  # the raise consumed the bad event only: the next one follows
    assert isinstance(event, ResponseEvent) and event.delta == "x"
    assert acc.event_count == 2


def test_held_bytes_are_bounded_by_max_event_size() -> None:
    acc = AutoAccumulator(max_event_size=1024)
    for _ in range(20):
        acc.feed(b": padding " + b"x" * 100 + b"\n")  # comments: never an event
    assert acc.api == "chat"  # past the limit nothing told: the default, and nothing held
    acc.feed(b'data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n')
    result = acc.finalize()
    assert isinstance(result, ChatCompletion)
    assert result.choices[0].message.content == "a"


def test_add_decides_on_its_first_chunk() -> None:
    acc = AutoAccumulator()
    acc.add(
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {"id": "r", "object": "response", "output": [], "status": "in_progress"},
        }
    )
    acc.add(
        {
            "data": '{"type":"response.output_text.delta","output_index":0,'
            '"content_index":0,"item_id":"m","delta":"Hi"}'
        }
    )
    assert acc.api == "responses"
    result = acc.finalize()
    assert isinstance(result, Response)
    assert result.output_text == "Hi"
    # A first chunk that tells nothing: chat.
    acc = AutoAccumulator()
    acc.add(
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}}
    )
    assert acc.api == "chat"


def test_bytes_fed_before_add_go_first() -> None:
    acc = AutoAccumulator()
    acc.feed(b'data: {"choices":[{"index":0,"text":"a"}]}')  # no blank line yet: not framed
    acc.add({"choices": [{"index": 0, "text": "b"}]})
    acc.feed(b"\n\n")
    result = acc.finalize()
    assert acc.api == "completions"
    assert isinstance(result, TextCompletion)
    # The held event was not finished when add() came: its end arrives after, so "b" is first.
    assert result.choices[0].text == "ba"


def test_options_reach_the_chosen_accumulator() -> None:
    with pytest.raises(ValueError, match="max_text_size"):
        AutoAccumulator(max_text_size=0)
    acc = AutoAccumulator(track=True)
    acc.feed(b'data: {"choices":[{"index":0,"text":"Hi"}]}\n\n')
    assert [type(e).__name__ for e in acc.take_events()] == ["ContentDelta"]
    with pytest.raises(RuntimeError, match="track=True"):
        AutoAccumulator().take_events()
    with pytest.raises(TypeError, match="not str"):
        AutoAccumulator().feed("data: x")  # type: ignore[arg-type]


# -- accumulator= in the helpers and relays -----------------------------------------------------

COMPLETIONS = (SYNTHETIC / "completions" / "logprobs_n2.sse").read_bytes()
RESPONSES = (SYNTHETIC / "responses" / "function_call.sse").read_bytes()


def _own(data: bytes, cls: Callable[[], Any]) -> Any:
    acc = cls()
    acc.feed(data)
    return acc.finalize()


def test_accumulate_with_another_format() -> None:
    text = accumulate(split_feeds(COMPLETIONS, "bytewise"), accumulator=CompletionAccumulator())
    assert text == _own(COMPLETIONS, CompletionAccumulator)
    response = accumulate([RESPONSES], accumulator=AutoAccumulator())
    assert isinstance(response, Response)
    assert response == _own(RESPONSES, ResponseAccumulator)

    async def source() -> AsyncIterator[bytes]:
        for piece in split_feeds(RESPONSES, "bytewise"):
            yield piece

    assert asyncio.run(aaccumulate(source(), accumulator=ResponseAccumulator())) == response


def test_options_and_an_accumulator_do_not_mix() -> None:
    with pytest.raises(TypeError, match="max_text_size"):
        accumulate([COMPLETIONS], accumulator=CompletionAccumulator(), max_text_size=5)
    with pytest.raises(TypeError, match="accumulator instance"):
        accumulate([COMPLETIONS], accumulator=CompletionAccumulator)


def test_chunk_streams_yield_the_formats_chunks() -> None:
    stream = ChunkStream(split_feeds(RESPONSES, "bytewise"), accumulator=ResponseAccumulator())
    events = list(stream)
    assert events and all(isinstance(e, ResponseEvent) for e in events)
    assert stream.completion == _own(RESPONSES, ResponseAccumulator)

    async def source() -> AsyncIterator[bytes]:
        yield COMPLETIONS

    async def run() -> tuple[list[CompletionChunk], TextCompletion | None]:
        astream = AsyncChunkStream(source(), accumulator=CompletionAccumulator())
        return [c async for c in astream], astream.completion

    chunks, completion = asyncio.run(run())
    assert all(isinstance(c, CompletionChunk) for c in chunks)
    assert completion == _own(COMPLETIONS, CompletionAccumulator)


def test_chunk_stream_skips_faults_of_another_format() -> None:
    bad = COMPLETIONS.replace(b'data: {"id"', b'data: {oops\n\ndata: {"id"', 1)
    stream = ChunkStream([bad], accumulator=CompletionAccumulator(), on_error="skip")
    list(stream)
    assert [type(f) for f in stream.faults] == [ChunkError]
    assert stream.completion == _own(COMPLETIONS, CompletionAccumulator)


def test_relays_merge_any_format_and_pass_every_byte() -> None:
    results: list[RelayResult[Any]] = []
    pieces = split_feeds(RESPONSES + COMPLETIONS[:0], "bytewise")
    relay = Relay(pieces, results.append, accumulator=AutoAccumulator())
    assert b"".join(relay) == RESPONSES
    (result,) = results
    assert result.reason == "end" and result.faults == []
    assert result.completion == _own(RESPONSES, ResponseAccumulator)

    async def source() -> AsyncIterator[bytes]:
        for piece in split_feeds(COMPLETIONS, "bytewise"):
            yield piece

    async def run() -> bytes:
        arelay = AsyncRelay(source(), results.append, accumulator=CompletionAccumulator())
        return b"".join([piece async for piece in arelay])

    assert asyncio.run(run()) == COMPLETIONS
    assert results[1].completion == _own(COMPLETIONS, CompletionAccumulator)


def test_a_relay_of_a_cut_responses_stream_keeps_what_arrived() -> None:
    cut = RESPONSES[: len(RESPONSES) // 2]
    results: list[RelayResult[Response]] = []
    assert b"".join(Relay([cut], results.append, accumulator=ResponseAccumulator())) == cut
    (result,) = results
    own = ResponseAccumulator()
    own.feed(cut)
    assert result.completion == own.snapshot()
    assert result.completion.output  # the items built from the deltas


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "own"), STREAMS[:: max(1, len(STREAMS) // 8)])
def test_cli_reads_any_format(
    name: str, data: bytes, own: type[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stream.sse"
    path.write_bytes(data)
    expected = _outcome(own(), [data])
    status = main([str(path)])
    out, err = capsys.readouterr()
    if expected[0] == "error":
        assert status == 1
        assert expected[2] in err
    else:
        assert status == 0
        assert json.loads(out) == json.loads(msgspec.json.encode(expected[2]))
    assert main([str(path), "--api", API_OF[own]]) == status


def test_cli_api_names_the_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "stream.sse"
    path.write_bytes(COMPLETIONS)
    assert main([str(path), "--api", "chat"]) == 1  # a text_completion chunk is no chat chunk
    assert "--api" in capsys.readouterr().err


def test_cli_warns_of_disagreements(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "failed.sse"
    path.write_bytes((SYNTHETIC / "responses" / "failed.sse").read_bytes())
    assert main([str(path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "failed"
    assert "warning: event" in err and "response.failed" in err


# One stream of each format, fed to each other format's accumulator: the error names the one that
# reads it, and the CLI's hint names its --api.
FIRST_OF = {own: next(data for _, data, cls in STREAMS if cls is own) for own in API_OF}
WRONG = [(given, own) for own in API_OF for given in API_OF if given is not own]


@pytest.mark.parametrize(
    ("given", "own"), WRONG, ids=[f"{API_OF[o]}-to-{API_OF[g]}" for g, o in WRONG]
)
def test_another_formats_stream_names_its_accumulator(
    given: type[Any], own: type[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    acc = given()
    with pytest.raises(ChunkError, match=rf"event 1, byte offset \d+: .*chunkagg\.{own.__name__}"):
        acc.feed(FIRST_OF[own])
    path = tmp_path / "stream.sse"
    path.write_bytes(FIRST_OF[own])
    assert main([str(path), "--api", API_OF[given]]) == 1
    assert f"--api {API_OF[own]}" in capsys.readouterr().err
