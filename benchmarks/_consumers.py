"""The consumers under test: one class each, with the input it takes and how its result is read.

Measures nothing itself; ``_worker`` times ``run()``. Each consumer gets a stream as the list of
slices a socket would hand over, except litellm, which cannot take bytes. Peers are imported
inside their constructor, so importing this module pulls in neither openai nor litellm, and each
worker process imports only the library it times.

- ``chunkagg``: ``Accumulator.feed()`` per slice, then ``finalize()``.
- ``chunkagg-json``: the same, then ``to_json()`` of the completion: bytes in to JSON out, what a
  logging proxy pays.
- ``baseline``: ``chunkagg`` as it was at another commit (``--baseline REF``), for before/after
  ratios measured in one run.
- ``floor``: the least any bytes-in consumer must do: an incremental framer (``bytearray``, resume
  index, ``del buf[:n]``) and ``msgspec.json.decode`` of every payload into generic objects,
  nothing merged or kept. Shaped like an accumulator (a ``feed()`` method call per slice), so the
  per-call cost is the same on both sides.
- ``naive``: what one writes in an afternoon: split on blank lines, ``json.loads``, merge into
  dicts with ``+=``.
- ``openai``: the SDK's own path end to end: the slices go into an ``httpx2.Response`` wrapped by
  the SDK's ``Stream`` (its ``SSEDecoder``, ``json.loads``, ``ChatCompletionChunk`` built by the
  client's ``_process_response_data``) under ``ChatCompletionStream`` (``ChatCompletionStreamState``
  and its events), then ``get_final_completion()``: what ``client.chat.completions.stream()``
  runs, without the socket.
- ``litellm``: ``stream_chunk_builder(chunks)`` given the list of chunk dicts, parsed beforehand
  with ``json.loads`` outside the timing: its time has no framing and no JSON parsing at all.
  Its memory does count that list, which the API needs held until the end.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import msgspec

from ._data import Case

__all__ = ["CONSUMERS", "Consumer"]


class Consumer:
    """Base: fed byte slices; ``run`` is timed, ``result`` turns its output into builtins."""

    name: ClassVar[str]
    takes_bytes: ClassVar[bool] = True  # can be fed 1-byte slices
    input: ClassVar[str] = "byte slices"
    memory_counts_input: ClassVar[bool] = False

    def prepare(self, case: Case, slices: list[bytes]) -> Any:
        """Build the input of one run, untimed. Runs again before every run."""
        return slices

    def run(self, prepared: Any) -> Any:
        raise NotImplementedError

    def result(self, out: Any) -> Any:
        """The output as builtins, for the check against the generator's truth."""
        return out

    def version(self) -> str:
        return ""


class ChunkAgg(Consumer):
    name = "chunkagg"

    def __init__(self) -> None:
        import chunkagg

        self._new = chunkagg.Accumulator
        self._version = chunkagg.__version__

    def run(self, prepared: list[bytes]) -> Any:
        acc = self._new()
        feed = acc.feed
        for data in prepared:
            feed(data)
        return acc.finalize()

    def result(self, out: Any) -> Any:
        return out.to_dict()

    def version(self) -> str:
        return self._version


class ChunkAggJson(ChunkAgg):
    """chunkagg from the bytes in to the completion's JSON out."""

    name = "chunkagg-json"

    def run(self, prepared: list[bytes]) -> Any:
        acc = self._new()
        feed = acc.feed
        for data in prepared:
            feed(data)
        return acc.finalize().to_json()

    def result(self, out: Any) -> Any:
        return msgspec.json.decode(out)


class Baseline(ChunkAgg):
    """chunkagg from the source tree in ``$CHUNKAGG_BASELINE`` (an older commit's package)."""

    name = "baseline"

    def __init__(self) -> None:
        import sys

        path = os.environ.get("CHUNKAGG_BASELINE")
        if not path:
            raise RuntimeError("the baseline consumer needs --baseline REF")
        sys.path.insert(0, path)
        super().__init__()
        self._version += f" @ {os.environ.get('CHUNKAGG_BASELINE_REF', '?')}"


class ChunkAggEvents(ChunkAgg):
    """chunkagg with live-UI events on (``track=True``): every event taken after every feed, and
    tool-call arguments parsed as they stream (jiter's partial mode, if installed)."""

    name = "chunkagg-events"

    def run(self, prepared: list[bytes]) -> Any:
        acc = self._new(track=True)
        feed = acc.feed
        take = acc.take_events
        events = 0
        for data in prepared:
            feed(data)
            events += len(take())
        completion = acc.finalize()
        self.events = events + len(take())
        return completion


class _FloorStream:
    """Framing as tight as Python allows, then a generic decode per payload; no merge."""

    __slots__ = ("_buf", "_scan", "events")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 0
        self.events = 0

    def feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        cut = buf.rfind(b"\n\n", self._scan)
        if cut < 0:
            self._scan = max(len(buf) - 1, 0)
            return
        region = bytes(buf[: cut + 2])
        del buf[: cut + 2]
        self._scan = 0
        decode = _generic_decode
        for event in region.split(b"\n\n"):
            if event.startswith(b"data: {"):
                decode(event[6:])
                self.events += 1


_generic_decode = msgspec.json.Decoder().decode


class Floor(Consumer):
    name = "floor"

    def version(self) -> str:
        return f"msgspec {msgspec.__version__}"

    def run(self, prepared: list[bytes]) -> int:
        stream = _FloorStream()
        feed = stream.feed
        for data in prepared:
            feed(data)
        return stream.events


class _NaiveStream:
    """Split on blank lines, ``json.loads``, merge into dicts with ``+=``."""

    def __init__(self) -> None:
        self.buffer = b""
        self.completion: dict[str, Any] = {}
        self.choices: dict[int, dict[str, Any]] = {}

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            line = event.decode()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            self.merge(json.loads(line[6:]))

    def merge(self, chunk: dict[str, Any]) -> None:
        top = self.completion
        for key in ("id", "created", "model", "service_tier", "system_fingerprint"):
            if key not in top and chunk.get(key) is not None:
                top[key] = chunk[key]
        if chunk.get("usage") is not None:
            top["usage"] = chunk["usage"]
        for choice in chunk["choices"]:
            state = self.choices.setdefault(
                choice["index"],
                {"index": choice["index"], "message": {}, "finish_reason": None, "logprobs": None},
            )
            message = state["message"]
            for key, value in (choice.get("delta") or {}).items():
                if value is None:
                    continue
                if key == "tool_calls":
                    calls = message.setdefault("tool_calls", [])
                    for tc in value:
                        while len(calls) <= tc["index"]:
                            calls.append({"function": {"arguments": ""}})
                        call = calls[tc["index"]]
                        for k in ("id", "type"):
                            if tc.get(k):
                                call[k] = tc[k]
                        fn = tc.get("function") or {}
                        if fn.get("name"):
                            call["function"]["name"] = fn["name"]
                        call["function"]["arguments"] += fn.get("arguments") or ""
                elif key in message and isinstance(value, str) and key != "role":
                    message[key] += value
                else:
                    message[key] = value
            if choice.get("finish_reason"):
                state["finish_reason"] = choice["finish_reason"]
            logprobs = choice.get("logprobs")
            if logprobs is not None:
                if state["logprobs"] is None:
                    state["logprobs"] = {"content": [], "refusal": None}
                state["logprobs"]["content"] += logprobs.get("content") or []

    def finish(self) -> dict[str, Any]:
        out = {"object": "chat.completion", **self.completion}
        out["choices"] = [self.choices[i] for i in sorted(self.choices)]
        return out


class Naive(Consumer):
    name = "naive"

    def version(self) -> str:
        return "json + dicts"

    def run(self, prepared: list[bytes]) -> dict[str, Any]:
        stream = _NaiveStream()
        feed = stream.feed
        for data in prepared:
            feed(data)
        return stream.finish()


class OpenAI(Consumer):
    name = "openai"

    def __init__(self) -> None:
        import httpx2
        import openai
        from openai._streaming import Stream
        from openai.lib.streaming.chat import ChatCompletionStream
        from openai.types.chat import ChatCompletionChunk

        self._httpx = httpx2
        self._omit = openai.omit
        self._stream = Stream
        self._chat_stream = ChatCompletionStream
        self._chunk = ChatCompletionChunk
        self._version = str(openai.__version__)
        # Never sends a request: the response below is built in memory.
        self._client = openai.OpenAI(api_key="benchmark", base_url="http://127.0.0.1:9/v1")
        self._request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")

    def run(self, prepared: list[bytes]) -> Any:
        response = self._httpx.Response(200, content=iter(prepared), request=self._request)
        raw = self._stream(cast_to=self._chunk, response=response, client=self._client)
        stream = self._chat_stream(
            raw_stream=raw, response_format=self._omit, input_tools=self._omit
        )
        return stream.get_final_completion()

    def result(self, out: Any) -> Any:
        return out.model_dump()

    def version(self) -> str:
        return self._version


class LiteLLM(Consumer):
    name = "litellm"
    takes_bytes = False
    input = "list of chunk dicts, parsed untimed"
    memory_counts_input = True

    def __init__(self) -> None:
        # Otherwise litellm fetches its model cost map over the network at import.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        self._build = litellm.stream_chunk_builder
        self._version = _dist_version("litellm")

    def prepare(self, case: Case, slices: list[bytes]) -> list[dict[str, Any]]:
        # Fresh dicts for every run: the builder may change the ones it is given.
        return [json.loads(p) for p in case.payloads]

    def run(self, prepared: list[dict[str, Any]]) -> Any:
        return self._build(prepared)

    def result(self, out: Any) -> Any:
        return out.model_dump()

    def version(self) -> str:
        return self._version


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


CONSUMERS: dict[str, type[Consumer]] = {
    c.name: c
    for c in (ChunkAgg, ChunkAggEvents, ChunkAggJson, Baseline, Floor, Naive, OpenAI, LiteLLM)
}
