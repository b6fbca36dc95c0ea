"""The command line's output (issue 15): every byte written or a non-zero status, through real
pipes whose reader leaves early, with and without ``PYTHONUNBUFFERED``.

A reader that leaves before the output is all written (``chunkagg FILE | head -c 1``) ends the
run quietly with status 1; an output written only in part (a raw stdout, as under
``PYTHONUNBUFFERED=1``, takes what it can per write) is written to its end. And the hints
after an error, which match the error's words: a chat stream read with ``--api responses``, the
JSON of another API whatever ``--api`` says.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from chunkagg._cli import main

EXAMPLE = ROOT / "examples" / "stream.sse"
CHUNK = b'{"id":"c1","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"%s"}}]}'
# chunkagg's status, the pipe closed by `head -c 1` after its first read.
PIPELINE = '"$0" -m chunkagg "$1" 2>"$2" | head -c 1 >/dev/null'


def _big_stream(tmp_path: Path) -> Path:
    """A stream whose merged output (2 MB) is far larger than a pipe holds (64 KiB)."""
    path = tmp_path / "big.sse"
    path.write_bytes((b"data: " + CHUNK % (b"x" * 100) + b"\n\n") * 20_000 + b"data: [DONE]\n\n")
    return path


def _environment(unbuffered: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("head") is None, reason="needs bash and head"
)
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_reader_that_leaves_mid_output_gets_status_1_quietly(
    tmp_path: Path, unbuffered: bool
) -> None:
    # The issue: under PYTHONUNBUFFERED=1, `chunkagg big.sse | head -c 1` exited 0, its output
    # cut: stdout's raw write() took 64 KiB of the 2 MB and the rest was never written.
    err = tmp_path / "err"
    args = [sys.executable, str(_big_stream(tmp_path)), str(err)]
    for script in (PIPELINE + '; exit "${PIPESTATUS[0]}"', "set -o pipefail; " + PIPELINE):
        result = subprocess.run(
            ["bash", "-c", script, *args], env=_environment(unbuffered), timeout=120
        )
        assert result.returncode == 1, (script, result.returncode, err.read_bytes())
        assert err.read_bytes() == b""  # quietly: no message, no traceback


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("flags", [[], ["--events"]], ids=["completion", "events"])
def test_a_pipe_closed_before_the_first_byte_gets_status_1_quietly(
    unbuffered: bool, flags: list[str]
) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "chunkagg", str(EXAMPLE), *flags],
            stdout=write,
            stderr=subprocess.PIPE,
            env=_environment(unbuffered),
            timeout=60,
        )
    finally:
        os.close(write)
    assert result.returncode == 1
    assert result.stderr == b""


class _RawStdout:
    """``sys.stdout`` whose ``buffer`` is a raw file, as under ``PYTHONUNBUFFERED=1``: each
    write takes at most ``step`` bytes and says how many, and fails with ``error`` once
    ``room`` bytes are taken."""

    def __init__(self, step: int, room: int | None = None) -> None:
        self.buffer = self
        self.data = bytearray()
        self.step = step
        self.room = room

    def write(self, data: bytes | memoryview) -> int:
        if self.room is not None and len(self.data) >= self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        taken = bytes(data[: self.step])
        self.data += taken
        return len(taken)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no file")


@pytest.mark.parametrize("flags", [[], ["--events"]], ids=["completion", "events"])
def test_an_output_taken_in_part_is_written_to_its_end(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(EXAMPLE), *flags]) == 0
    expected = capsys.readouterr().out.encode()
    raw = _RawStdout(step=7)
    monkeypatch.setattr(sys, "stdout", raw)
    assert main([str(EXAMPLE), *flags]) == 0
    assert bytes(raw.data) == expected
    json.loads(bytes(raw.data).splitlines()[-1])


def test_a_disk_that_fills_mid_write_is_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first write takes 100 bytes and returns; the next one finds the disk full. Before,
    # the rest was never written: a cut output, and status 0.
    monkeypatch.setattr(sys, "stdout", _RawStdout(step=100, room=100))
    assert main([str(EXAMPLE)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "chunkagg: cannot write the output: No space left on device"
    ]


# -- the hints after an error -----------------------------------------------------------------

CHAT = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":7,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
)
COMPLETION = (
    b'data: {"id":"cmpl-1","object":"text_completion","created":7,"model":"m",'
    b'"choices":[{"index":0,"text":"a","finish_reason":null}]}\n\n'
)
RESPONSE = (
    b'event: response.created\ndata: {"type":"response.created","sequence_number":0,'
    b'"response":{"id":"r","object":"response","created_at":7,"status":"in_progress",'
    b'"model":"m","output":[]}}\n\n'
)
STREAMS = {"chat": CHAT, "completions": COMPLETION, "responses": RESPONSE}
FOREIGN = b'data: {"detail": "Not Found", "status_code": 404}\n\n'
OTHER_JSON = (
    "chunkagg: that JSON is not a chat completion, legacy completion, Responses API or "
    "Anthropic Messages event (an error body of another API?)"
)


def _stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, *flags: str
) -> list[str]:
    path = tmp_path / "stream.sse"
    path.write_bytes(data)
    assert main([str(path), *flags]) == 1
    return capsys.readouterr().err.splitlines()


def test_a_chat_stream_read_with_api_responses_gets_its_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error, hint = _stderr(tmp_path, capsys, CHAT, "--api", "responses")
    assert "not an event: a JSON object whose keys" in error
    assert "include none that an event has: a chat completion chunk" in error
    assert "merge it with chunkagg.Accumulator" in error
    assert hint == "chunkagg: read it with --api chat, or without --api to let the first event tell"


@pytest.mark.parametrize(
    ("stream", "api"),
    [(stream, api) for stream in STREAMS for api in STREAMS if api != stream],
)
def test_a_stream_read_with_another_api_gets_the_api_to_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stream: str, api: str
) -> None:
    _, hint = _stderr(tmp_path, capsys, STREAMS[stream], "--api", api)
    assert hint == (
        f"chunkagg: read it with --api {stream}, or without --api to let the first event tell"
    )


@pytest.mark.parametrize("api", ["auto", "chat", "completions", "responses"])
def test_json_of_another_api_gets_its_hint_whatever_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: str
) -> None:
    # _hint matches the message's words "include none that a": the message must keep them.
    error, hint = _stderr(tmp_path, capsys, FOREIGN, "--api", api)
    assert "include none that a" in error
    assert hint == OTHER_JSON
