"""Any stream the router serves, its format told by its first event: ``AutoAccumulator``.

Owns the detection (``detect()``: chat completion, legacy completion, Responses API or Anthropic
Messages, from one decoded event) and the deferral it needs: the bytes are held, and framed by a
scout ``Framer``, until an event tells; then one format's accumulator is built and fed them all,
so event numbers, byte offsets and every guarantee are that accumulator's own. Must not know any
format's merge.

The decision depends on the bytes only, never on how they were split: the scout frames the first
``2 * max_event_size`` bytes of the stream and no more (a piece that crosses that mark is cut
there for it), and its frames are the same for every split of them. The first event among them
that tells decides; when there is none, the format is chat once that many bytes have arrived (or
at the end). So at most that many bytes are held, plus the piece that crossed the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import msgspec

from ._chat import Accumulator, ChatCompletion, ResponseBody2
from ._completions import CompletionAccumulator, CompletionChunk, TextCompletion
from ._core.detect import ApiName, api_of
from ._core.frames import BATCH, BATCH_CRLF, BATCH_NDJSON, DATA, TAIL, Format
from ._core.framing import Framer
from ._core.limits import DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_TEXT_SIZE, EVENT_DEPTH, deeper_than
from ._core.schema import DECODE_ERRORS
from ._core.stream import not_bytes, unwrap
from ._messages import AnthropicMessage, MessageAccumulator, MessageEvent
from ._responses import Response, ResponseAccumulator, ResponseEvent

__all__ = ["ACCUMULATORS", "ApiName", "AutoAccumulator", "detect"]

_json = msgspec.json.Decoder()
_FRAMES = (DATA, TAIL)
_RUNS = (BATCH, BATCH_CRLF, BATCH_NDJSON)


def detect(event: Any) -> ApiName | None:
    """Which API a decoded event (or response body) belongs to; ``None`` when it cannot tell.

    The rules, first match wins:

    - ``object``: ``"chat.completion.chunk"`` or ``"chat.completion"`` is chat,
      ``"text_completion"`` legacy completions, ``"response"`` the Responses API;
    - a ``type`` of ``"error"`` or ``"response.…"``: the Responses API; of ``"message_start"``,
      ``"content_block_…"``, ``"message_delta"``, ``"message_stop"`` or ``"ping"``, or a
      ``"message"`` body with a ``role``: Anthropic Messages (of the formats' events, only those
      carry ``type`` at the top);
    - the first choice: a ``delta`` or ``message`` is chat, a ``text`` legacy completions.

    Anything else (``{"choices": []}`` with usage only, a bare ``{"error": ...}``) tells nothing.

    Args:
        event: a ``dict`` of an event's JSON, a chunkagg Struct, or an SDK's model of one.
    """
    if isinstance(event, ResponseBody2):
        return "chat"
    if isinstance(event, CompletionChunk):
        return "completions"
    if isinstance(event, ResponseEvent):
        return "responses"
    if isinstance(event, MessageEvent):
        return "messages"
    return api_of(event)


Chunk = ResponseBody2 | CompletionChunk | ResponseEvent | MessageEvent
Result = ChatCompletion | TextCompletion | Response | AnthropicMessage
_Inner = Accumulator | CompletionAccumulator | ResponseAccumulator | MessageAccumulator
# Each format's accumulator, by the name detect() gives it.
ACCUMULATORS: dict[ApiName, type[_Inner]] = {
    "chat": Accumulator,
    "completions": CompletionAccumulator,
    "responses": ResponseAccumulator,
    "messages": MessageAccumulator,
}


class AutoAccumulator:
    """Turns the bytes of a chat completion, legacy completion, Responses API or Anthropic
    Messages stream into its final object, the format told by the first event that says which
    (``detect()``).

    For a gateway, a logger or the command line, which see all four. Until an event tells, the
    bytes are held (framed, not merged); then the format's own accumulator (``Accumulator``,
    ``CompletionAccumulator``, ``ResponseAccumulator`` or ``MessageAccumulator``, in
    ``inner``) is fed them all, and
    everything is delegated to it: the same results, errors, offsets and limits. A stream no
    event of which tells (an empty body, an HTML page, usage-only chunks) is a chat stream, as is
    one whose first ``2 * max_event_size`` bytes hold no whole event that tells (so any event
    that starts in the first ``max_event_size`` bytes and is not too large may tell); the same
    for every split of the bytes. ``add()`` decides on its first chunk, chat when that chunk does
    not tell.

    When you know the format, use its accumulator: its results are typed exactly.

    Example::

        acc = AutoAccumulator()
        for data in response.iter_bytes():
            acc.feed(data)
        result = acc.finalize()  # ChatCompletion, TextCompletion or Response
        print(acc.api)
    """

    __slots__ = ("_held", "_inner", "_options", "_scout", "_tools")

    def __init__(
        self,
        *,
        format: Format = "auto",
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_text_size: int = DEFAULT_MAX_TEXT_SIZE,
        track: bool = False,
        response_format: Any = None,
        tools: Mapping[str, Any] | None = None,
    ) -> None:
        """Create an accumulator for one stream of any of the four formats.

        Args:
            format: the framing, as for ``Accumulator`` (``"auto"``, ``"sse"``, ``"ndjson"``,
                ``"json"``).
            max_event_size: largest event in bytes, as for ``Accumulator``.
            max_text_size: merged text, as for ``Accumulator`` (each format counts what it
                merges); the other limits keep their defaults.
            track: derive live-UI events, read with ``take_events()``.
            response_format: the type of the structured text, as for each format's
                accumulator (chat's message ``parsed``, Responses' ``output_parsed``,
                Messages' ``parsed_output``, legacy completions' ``parsed``).
            tools: function or tool name to the type of its arguments (every format but
                legacy completions, which has no tools).

        Raises:
            ValueError: an option is invalid.
            TypeError: a type chunkagg cannot parse JSON into.
        """
        self._options: dict[str, Any] = {
            "format": format,
            "max_event_size": max_event_size,
            "max_text_size": max_text_size,
            "track": track,
            "response_format": response_format,
        }
        self._tools = tools
        # Built now so that a bad option is a ValueError here, not at the first event.
        Accumulator(**self._options, tools=tools)
        self._inner: _Inner | None = None
        self._scout: Framer | None = Framer(format, max_event_size)
        self._held = bytearray()

    @property
    def api(self) -> ApiName | None:
        """The format detected: ``"chat"``, ``"completions"``, ``"responses"``, or ``None``
        while no event has told."""
        inner = self._inner
        if inner is None:
            return None
        return next(api for api, cls in ACCUMULATORS.items() if type(inner) is cls)

    @property
    def inner(self) -> _Inner | None:
        """The format's accumulator, once detected (``take_events()``, ``disagreements``...)."""
        return self._inner

    @property
    def done(self) -> bool:
        """Whether ``data: [DONE]`` has arrived."""
        return self._inner is not None and self._inner.done

    @property
    def event_count(self) -> int:
        """How many events (or added chunks) have been processed, bad ones included."""
        return 0 if self._inner is None else self._inner.event_count

    @property
    def last_event_id(self) -> str:
        """The last SSE ``id:`` the server sent (``""`` if none)."""
        if self._inner is None:
            return "" if self._scout is None else self._scout.last_event_id
        return self._inner.last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid SSE ``retry:`` the server sent, if any."""
        if self._inner is None:
            return None if self._scout is None else self._scout.retry
        return self._inner.retry

    def feed(self, data: bytes | bytearray | memoryview) -> list[Chunk]:
        """Take the next bytes of the stream; as ``Accumulator.feed()`` once the format is known,
        and ``[]`` before.

        Raises:
            TypeError: ``data`` is not bytes-like.
        """
        inner = self._inner
        if inner is not None:
            # One of four lists, each of its format's chunks: a list of the union to the reader.
            return cast("list[Chunk]", inner.feed(data))
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(not_bytes("feed()", data))
        scout = self._scout
        assert scout is not None  # dropped only once a format is chosen
        piece = data if isinstance(data, bytes) else bytes(data)
        self._held += piece
        # The scout sees the window and nothing past it, whatever the pieces: what it frames,
        # hence the format, is the same for every split.
        window = 2 * self._options["max_event_size"]
        room = window - scout.received
        if room > 0:
            scout.feed(piece if len(piece) <= room else piece[:room])
        api = self._told(scout)
        if api is None and scout.received < window:
            return []
        return self._release(api or "chat")

    def add(self, chunk: Any) -> Chunk | None:
        """Merge a decoded chunk or event, as ``Accumulator.add()``; when the format is not known
        yet, the chunk decides it (chat when it does not tell)."""
        inner = self._inner
        if inner is None:
            data, _ = unwrap(chunk)  # an SSE event object: what it holds tells
            if isinstance(data, str | bytes | bytearray):
                data = _json_object(data)
            api = detect(data)
            if self._held:  # bytes were fed first: the format they tell, and they go first
                self._release(self._told_at_end() or api or "chat")
                assert self._inner is not None
                inner = self._inner
            else:
                inner = self._commit(api or "chat")
        result: Chunk | None = inner.add(chunk)
        return result

    def finalize(self) -> Result:
        """End the stream and return the result of its format (chat when nothing told), as
        ``Accumulator.finalize()``."""
        if self._inner is None:
            self._release(self._told_at_end() or "chat")
        assert self._inner is not None
        result: Result = self._inner.finalize()
        return result

    def snapshot(self) -> Result:
        """The result merged so far (an empty chat completion while no event has told)."""
        if self._inner is None:
            return Accumulator().snapshot()
        result: Result = self._inner.snapshot()
        return result

    def take_events(self) -> list[Any]:
        """The format's live-UI events since the last call (``[]`` while none is detected).

        Raises:
            RuntimeError: the accumulator was made without ``track=True``.
        """
        if not self._options["track"]:
            raise RuntimeError("take_events() needs AutoAccumulator(track=True)")
        inner = self._inner
        events: list[Any] = [] if inner is None else inner.take_events()
        return events

    # -- detection --------------------------------------------------------------------------------

    def _told(self, scout: Framer) -> ApiName | None:
        """The format the events framed so far tell, if one does; forgets those that do not."""
        for kind, _, payload in scout.frames:
            payloads = payload if kind in _RUNS else [payload] if kind in _FRAMES else ()
            for item in payloads:
                value = _json_object(item)
                api = None if value is None else detect(value)
                if api is not None:
                    return api
        scout.frames.clear()
        scout.faults.clear()
        return None

    def _told_at_end(self) -> ApiName | None:
        """The format the held bytes tell once they are all there (a one-document body is
        framed only at its end)."""
        scout = self._scout
        if scout is None:
            return None
        scout.close()
        return self._told(scout)

    def _commit(self, api: ApiName) -> _Inner:
        options = self._options if api == "completions" else {**self._options, "tools": self._tools}
        inner = self._inner = ACCUMULATORS[api](**options)
        self._scout = None
        return inner

    def _release(self, api: ApiName) -> list[Chunk]:
        """Choose ``api``, and feed its accumulator the bytes held."""
        inner = self._commit(api)
        held = bytes(self._held)
        self._held = bytearray()
        return cast("list[Chunk]", inner.feed(held)) if held else []


def _json_object(payload: bytes | bytearray | str) -> Any:
    """The JSON object in ``payload``, or ``None`` for anything else, or for JSON nested too deep
    to merge (whether it decodes depends on the caller's stack: it never tells)."""
    raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else payload
    if deeper_than(raw, EVENT_DEPTH):
        return None
    try:
        value = _json.decode(payload)
    except DECODE_ERRORS:
        return None
    return value if isinstance(value, dict) else None
