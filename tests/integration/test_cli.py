"""The command line: output, input choices, and exit codes on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import BAD_MIDDLE, ROOT, SYNTHETIC, canonical, fixture_pairs

import chunkagg
from chunkagg._cli import main

EXAMPLE = ROOT / "examples" / "stream.sse"
PAIRS = fixture_pairs()
CHUNK = b'{"id":"c1","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"%s"}}]}'


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_example_stream_prints_merged_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["object"] == "chat.completion"
    assert [c["index"] for c in out["choices"]] == [0, 1, 2]
    assert (
        out["usage"]["total_tokens"]
        == out["usage"]["prompt_tokens"] + (out["usage"]["completion_tokens"])
    )


def test_pretty_indents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "s.sse", b"data: " + CHUNK % b"Hi" + b"\n\ndata: [DONE]\n\n")
    assert main([path, "--pretty"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{\n  ")
    assert json.loads(out)["choices"][0]["message"]["content"] == "Hi"


def test_ndjson_flag_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "s.ndjson", CHUNK % b"a" + b"\n" + CHUNK % b"b" + b"\n")
    assert main([path, "--ndjson", "--stats"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["choices"][0]["message"]["content"] == "ab"
    assert "2 chunks" in captured.err
    assert "done=False" in captured.err


def test_bad_stream_exits_1_with_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = b"data: " + CHUNK % b"a" + b"\n\n"
    path = _write(tmp_path, "bad.sse", first + b"data: {not json}\n\n")
    assert main([path]) == 1
    err = capsys.readouterr().err
    assert "event 2" in err
    assert f"byte offset {len(first)}" in err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.sse")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_stdin_through_python_m() -> None:
    data = b"data: " + CHUNK % b"x" + b"\r\n\r\ndata: [DONE]\r\n\r\n"
    result = subprocess.run(
        [sys.executable, "-m", "chunkagg", "-"], input=data, capture_output=True, check=True
    )
    assert json.loads(result.stdout)["choices"][0]["message"]["content"] == "x"


def test_events_flag_prints_events_then_completion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"data: " + CHUNK % b"Hi" + b"\n\ndata: " + CHUNK % b" there" + b"\n\ndata: [DONE]\n\n"
    assert main([_write(tmp_path, "s.sse", data), "--events"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[:-1] == [
        {"type": "ContentDelta", "choice": 0, "delta": "Hi"},
        {"type": "ContentDelta", "choice": 0, "delta": " there"},
    ]
    assert lines[-1]["choices"][0]["message"]["content"] == "Hi there"


def test_progress_line_on_a_terminal_only(tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    event = b"data: " + CHUNK % b"x" + b"\n\n"
    path = _write(tmp_path, "big.sse", event * (9_000_000 // len(event)))
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "chunkagg", path],
            stdout=subprocess.PIPE,
            stderr=follower,
            check=True,
            timeout=120,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything has been read
                break
            if not data:
                break
            shown += data
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert b"chunkagg: 8.4 MB of" in shown
    assert b"chunks" in shown
    assert json.loads(result.stdout)["choices"][0]["message"]["content"].startswith("xxx")
    # Not a terminal: no progress line at all.
    piped = subprocess.run(
        [sys.executable, "-m", "chunkagg", path], capture_output=True, check=True, timeout=120
    )
    assert piped.stderr == b""


def test_a_reader_that_leaves_stops_it_quietly(tmp_path: Path) -> None:
    """``chunkagg FILE --events | head -n1``: the pipe closes early; no traceback, exit 1."""
    event = b"data: " + CHUNK % b"x" + b"\n\n"
    path = _write(tmp_path, "long.sse", event * 20_000)  # about 1 MB of events out
    child = subprocess.Popen(
        [sys.executable, "-m", "chunkagg", path, "--events"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    assert json.loads(child.stdout.readline())["type"] == "ContentDelta"
    child.stdout.close()
    err = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=60) == 1
    assert b"Traceback" not in err and b"Exception ignored" not in err, err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("flags", [[], ["--events"]])
def test_output_that_cannot_be_written_is_a_message(flags: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "chunkagg", str(EXAMPLE), *flags],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "chunkagg: cannot write the output: No space left on device"
    ]


def test_closed_stdout_is_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    assert main([str(EXAMPLE)]) == 2
    assert "cannot write the output: standard output is closed" in capsys.readouterr().err


def test_a_responses_stream_cut_before_its_end_is_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cut = SYNTHETIC / "responses" / "cut.sse"
    assert main([str(cut)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "in_progress"
    assert "warning: the stream ended before its terminal event" in err
    assert main([str(cut.with_name("plain_text.sse"))]) == 0
    assert "warning" not in capsys.readouterr().err


# -- what is not a stream, a non-streamed body, --version, --keep-going, hints --------------------


@pytest.mark.parametrize(
    "data",
    [b"", b'{"not":"a chunk"}', b"<!DOCTYPE html><html></html>", b"\x00\x01\x02garbage"],
    ids=["empty", "not-a-chunk", "html", "garbage"],
)
def test_cli_exits_non_zero_for_what_is_not_a_stream(
    data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    assert main([str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "chunkagg:" in captured.err


def test_cli_prints_a_non_streamed_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, expected = PAIRS[0]
    assert main([str(expected)]) == 0
    assert canonical(json.loads(capsys.readouterr().out)) == json.loads(expected.read_bytes())


def test_cli_version_big_integers_and_closed_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"chunkagg {chunkagg.__version__}\n"
    path = tmp_path / "big.sse"
    big = b'{"id":"x","created":100000000000000000000,"choices":[{"index":0,"delta":{}}]}'
    path.write_bytes(b"data: " + big + b"\n\n")
    assert main([str(path), "--pretty"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 10**20
    monkeypatch.setattr("sys.stdin", None)
    assert main(["-"]) == 2
    assert "standard input is closed" in capsys.readouterr().err


def test_cli_keep_going_prints_the_merge_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.sse"
    path.write_bytes(BAD_MIDDLE)
    assert main([str(path)]) == 1
    assert capsys.readouterr().out == ""
    assert main([str(path), "--keep-going"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["choices"][0]["message"]["content"] == "abc"
    assert "skipped: event 3" in captured.err


@pytest.mark.parametrize(
    ("data", "hint"),
    [(b"", "the input is empty"), (b"<html></html>", "error page"), (b'{"a":1}\n', "not a chat")],
)
def test_cli_hints(
    data: bytes, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    assert main([str(path)]) == 1
    assert hint in capsys.readouterr().err
