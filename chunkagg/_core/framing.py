"""Bytes to event payloads: SSE (WHATWG rules) and NDJSON, incrementally, with size caps.

Owns: line endings, fields, comments, the BOM, ``[DONE]``, NDJSON detection, and the bound on
one event's size. Must not know JSON: payloads leave here as bytes.

The framer turns fed bytes into *frames* ``(kind, offset, payload)`` appended to ``frames``, where
``offset`` is where the event starts in the whole stream. It never raises on stream content: a
fault becomes a ``FAULT`` frame whose exception waits in ``faults``, so the accumulator meets it
in stream order, after every good event before it.

Two paths give the same frames. The fast path serves streams whose line endings are all LF, or
all CRLF (the first line ending decides; any other ending later moves the stream to the line path
for good): it finds the last blank line in the bytes, cuts everything before it off the buffer at
once and, when every event there is one ``data:`` line (proven by a split and a memchr, in C),
hands their payloads over as one ``BATCH`` frame; a region of the shape a format frames itself
(its ``EventSplitter``: the Responses API's ``event:`` then ``data:`` pairs) becomes one ``RUN``
frame; other events are split out one by one. The line
path follows the WHATWG "parsing an event stream" steps line by line and keeps the partial event
across calls. Both resume scanning where they stopped, and a call whose bytes hold no CR or LF
returns after two membership tests, so every byte is looked at a bounded number of times,
whatever the split: feeding is linear in the stream, even one byte at a time.

With ``format="auto"``, a first line that starts with ``{`` but is no whole object starts one
JSON document (a non-streamed body), held until the end. Unless that line is ``{`` alone (a
pretty-printed body), the document is read as NDJSON instead once it proves to be (a line that
ends with ``}``, then one that starts with ``{``), or once the accumulator finds that it does not
parse (``reread_as_lines``): NDJSON whose first line is bad loses nothing valid after it.
"""

from __future__ import annotations

import re

from .._errors import ChunkAggError, LimitExceededError
from .frames import (
    BATCH,
    BATCH_CRLF,
    BATCH_NDJSON,
    DATA,
    DONE,
    ERROR,
    FAULT,
    RUN,
    SKIP,
    TAIL,
    EventSplitter,
    Format,
    Frame,
    kind_of,
)

__all__ = ["MAX_RETRY", "Framer"]

# Framer modes: before the first line ending (which decides the format and the line ending), SSE
# on the fast path for LF or for CRLF streams, SSE on the line path, NDJSON, or one JSON document
# (a non-streamed body: a server that ignored stream=true, a cached response).
_START, _FAST, _FAST_CRLF, _LINES, _NDJSON, _DOCUMENT = 0, 1, 2, 3, 4, 5

# The largest reconnection delay kept from a retry: field (ms): 10**12 is about 31 years.
MAX_RETRY = 10**12

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"[\r\n]")
_NON_BLANK = re.compile(rb"[^ \t\r\n]")
_WHITESPACE = b" \t\r\n"
# A line ending with "}" and a later line starting with "{": never one JSON value ("}" then "{"
# is a syntax error, and no JSON string holds a raw line ending), so a proof of NDJSON.
_NEXT_OBJECT = re.compile(rb"\}[ \t\r]*\n[ \t\r\n]*\{")


def _crlf_only(buf: bytearray, start: int) -> bool:
    """Whether every CR and LF from ``start`` on belongs to a CRLF pair (a last CR may wait).

    Three counts in C: a regex scan for a lone CR or LF costs five times the whole fast path.
    """
    # A CR that ended the previous call's bytes must be completed by an LF at ``start``.
    joined = start > 0 and buf[start - 1] == 13
    if joined and buf[start : start + 1] != b"\n":
        return False
    pairs = buf.count(b"\r\n", start)
    return buf.count(b"\n", start) == pairs + joined and buf.count(b"\r", start) == pairs + (
        buf[-1:] == b"\r"
    )


class Framer:
    """Incremental SSE / NDJSON framer. See the module docstring for the frame contract."""

    __slots__ = (
        "_base",
        "_blank_start",
        "_bom_seen",
        "_buf",
        "_cap",
        "_cr_pending",
        "_data",
        "_fmt",
        "_id",
        "_max",
        "_mode",
        "_own",
        "_scan",
        "_size",
        "_skip_event",
        "_skip_line",
        "_start",
        "_trailing",
        "_type",
        "faults",
        "frames",
        "last_event_id",
        "retry",
    )

    def __init__(
        self, fmt: Format, max_event_size: int, split: EventSplitter | None = None
    ) -> None:
        """A framer of ``fmt`` (``"auto"``: told by the first line) whose events may be at most
        ``max_event_size`` bytes; ``split`` frames the format's own event shape (see
        ``EventSplitter``)."""
        self.frames: list[Frame] = []
        self._own = split
        # A list, not a deque: faults are rare and an empty deque costs 600 bytes per stream.
        self.faults: list[ChunkAggError] = []
        self.last_event_id = ""
        self._id = ""
        self._bom_seen = False
        self.retry: int | None = None
        self._fmt: Format = fmt
        self._max = max_event_size
        # Bytes an unfinished line may hold: the data plus its "data: " prefix and a CRLF, so the
        # limit applies to the payload the same way whatever the split.
        self._cap = max_event_size + 8
        self._buf = bytearray()
        # Stream offset of _buf[0], and where the next scan for a line end starts in _buf.
        self._base = 0
        self._scan = 0
        self._mode = _START
        # Line path state: the event being built (WHATWG "data buffer", "event type").
        self._data: list[bytes] = []
        self._size = 0
        self._type = b""
        self._start = -1
        self._skip_line = False
        self._skip_event = False
        self._cr_pending = False
        # Stream offset of an NDJSON line, or of a line before the first non-blank byte, whose
        # blanks alone passed the cap (-1: none).
        self._blank_start = -1
        # Document mode: blanks ending the bytes held (-1: not counted yet).
        self._trailing = -1

    # -- input ----------------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray) -> None:
        """Append ``data`` and frame every event it completes."""
        buf = self._buf
        start = len(buf)
        buf += data
        mode = self._mode
        if mode == _FAST:
            if 13 not in data:  # no "\r"
                # Most calls complete no event, and bytes without an LF cannot. An int `in` test
                # costs 18 ns against 70 ns for .find() or 137 ns for `b"\n" in`: it matters when
                # feeding one byte at a time.
                if 10 not in data:
                    if len(buf) > self._cap:
                        self._feed_fast(b"\n\n", BATCH)
                elif buf.rfind(b"\n\n", self._scan) < 0 and len(buf) <= self._cap:
                    self._scan = len(buf) - 1
                else:
                    self._feed_fast(b"\n\n", BATCH)
                return
            self._to_lines()
        elif mode == _DOCUMENT:
            self._feed_document(data)
            return
        elif (
            10 not in data
            and 13 not in data
            and (mode != _START or self._fmt != "auto")
            and len(buf) <= self._cap
            and not self._cr_pending
            and (mode in (_LINES, _NDJSON) or buf[start - 1 : start] != b"\r")
        ):
            # No line ending, so no line completes (nor, before it, the choice of path); but a CR
            # that ended the last call's bytes (lone, or half of a CRLF) must be resolved now.
            return
        if mode == _FAST_CRLF:
            if _crlf_only(buf, start):
                if buf.rfind(b"\r\n\r\n", self._scan) < 0 and len(buf) <= self._cap:
                    self._scan = max(len(buf) - 3, 0)
                else:
                    self._feed_fast(b"\r\n\r\n", BATCH_CRLF)
                return
            self._to_lines()
        elif mode == _START:
            if not self._start_stream():
                return
            if self._mode == _FAST:
                self._feed_fast(b"\n\n", BATCH)
                return
            if self._mode == _FAST_CRLF:
                self._feed_fast(b"\r\n\r\n", BATCH_CRLF)
                return
        if self._mode == _NDJSON:
            self._feed_ndjson()
        elif self._mode == _DOCUMENT:
            self._feed_document()
        else:
            self._feed_lines(final=False)

    @property
    def received(self) -> int:
        """How many bytes were fed."""
        return self._base + len(self._buf)

    def close(self) -> None:
        """Frame what is left at the end of the stream: a last event without its blank line."""
        if self._mode == _START:
            if not self._bom_seen and self._buf.startswith(_BOM):
                del self._buf[:3]
                self._base = 3
            if self._fmt == "auto" and self._skip_line:
                self._buf.clear()
            self._mode = {"ndjson": _NDJSON, "json": _DOCUMENT}.get(self._fmt, _LINES)
            if self._fmt == "auto" and self._buf.lstrip(_WHITESPACE)[:1] == b"{":
                self._mode = _NDJSON  # one line, never ended: NDJSON and a document agree
        if self._mode == _DOCUMENT:
            self._feed_document(final=True)
            return
        if self._mode == _NDJSON:
            self._feed_ndjson(final=True)
            return
        if self._mode != _LINES:
            self._to_lines()
        self._feed_lines(final=True)
        self._dispatch(final=True)

    # -- stream start: BOM and format detection -------------------------------------------------

    def _start_stream(self) -> bool:
        buf = self._buf
        if not self._bom_seen:
            if len(buf) < 3 and _BOM.startswith(buf):
                return False
            self._bom_seen = True
            if buf.startswith(_BOM):
                del buf[:3]
                self._base = 3
        if self._fmt == "auto":
            first = self._leading_blanks()
            if first < 0:
                return False
            if buf[first] == 123:  # "{": NDJSON, or one JSON document, as its first line tells
                line_end = _EOL.search(buf, first)
                if line_end is None:
                    if len(buf) <= self._cap:
                        return False  # wait for the end of the first line
                    self._fmt = "ndjson"  # a line that long is too large either way
                else:
                    # An NDJSON line is a whole object; a document's first line is not ("{" alone,
                    # or an object's first keys). No JSON is parsed here.
                    # A first line past the cap is too large either way: NDJSON, as when it is
                    # still unfinished at the cap (the same outcome whatever the split).
                    line = buf[first : line_end.start()].rstrip(_WHITESPACE)
                    if not line.endswith(b"}") and line_end.start() <= self._cap:
                        # A document, as far as its first line tells. "{" alone starts every
                        # pretty-printed one, and no line of NDJSON: it stays a document. Any
                        # other first line leaves _fmt "auto": a document that proves to be
                        # NDJSON with a bad first line is read as lines (_proves_lines).
                        self._mode = _DOCUMENT
                        if line == b"{":
                            self._fmt = "json"
                        self._scan = 0
                        return True
                    self._fmt = "ndjson"
            else:
                self._fmt = "sse"
            self._scan = 0
        if self._fmt == "json":
            self._mode = _DOCUMENT
            return True
        if self._fmt == "ndjson":
            self._mode = _NDJSON
            return True
        # The first line ending picks the path: LF, CRLF, or anything else (lone CR).
        m = _EOL.search(buf, self._scan)
        if m is None or (buf[m.start()] == 13 and m.start() + 1 == len(buf)):
            self._scan = m.start() if m is not None else len(buf)
            if len(buf) > self._cap:
                self._to_lines()
                return True
            return False
        eol = m.start()
        if buf[eol] == 10:
            self._mode = _FAST if buf.find(b"\r") < 0 else _LINES
        elif buf[eol + 1] == 10 and _crlf_only(buf, 0):
            self._mode = _FAST_CRLF
        else:
            self._mode = _LINES
        self._scan = 0
        return True

    def _leading_blanks(self) -> int:
        """Drop what precedes the stream's first non-blank byte; return its index, or -1.

        Whole blank lines mean nothing in either format. The blanks of an unfinished line are
        kept (a line "  data: x" is not a data line), up to the cap: past it they are dropped as
        they arrive, and the line is judged when a byte comes: none before its end, it is
        skipped; a "{", it is an NDJSON line too large; anything else, a line SSE ignores. Each
        byte is looked at a bounded number of times, and the outcome is the same whatever the
        split.
        """
        buf = self._buf
        while True:
            if self._skip_line:  # the rest of a line found too large
                end = _EOL.search(buf, self._scan)
                if end is None:
                    self._base += len(buf)
                    buf.clear()
                    self._scan = 0
                    return -1
                cut = end.start() + 1
                del buf[:cut]
                self._base += cut
                self._scan = 0
                self._skip_line = False
                continue
            first = _NON_BLANK.search(buf, self._scan)
            if first is None:
                # Line ends before _scan were cut already: look at the new bytes only.
                cut = max(buf.rfind(b"\n", self._scan), buf.rfind(b"\r", self._scan)) + 1
                if cut:
                    del buf[:cut]
                    self._base += cut
                    self._blank_start = -1
                self._scan = len(buf)
                if len(buf) > self._cap:
                    if self._blank_start < 0:
                        self._blank_start = self._base
                    self._base += len(buf)
                    buf.clear()
                    self._scan = 0
                return -1
            at = first.start()
            line = max(buf.rfind(b"\n", 0, at), buf.rfind(b"\r", 0, at)) + 1
            if line:
                del buf[:line]
                self._base += line
                at -= line
                self._blank_start = -1
            if self._blank_start >= 0:
                # A line whose blanks alone passed the cap: an NDJSON line that long is too
                # large; an SSE line that begins with a blank is no data line (its field name
                # starts with the blank) and is dropped, as the line path drops it.
                if buf[at] == 123:  # "{"
                    self._fault(self._too_large(), self._blank_start)
                self._blank_start = -1
                self._skip_line = True
                self._scan = at
                continue
            self._scan = 0
            return at

    def _to_lines(self) -> None:
        # Leave the fast path for good: the buffer holds one unparsed partial event from its start.
        self._mode = _LINES
        self._scan = 0

    # -- NDJSON ---------------------------------------------------------------------------------

    def _feed_ndjson(self, final: bool = False) -> None:
        buf = self._buf
        if self._blank_start >= 0 and not self._end_blank_line():
            return
        if self._skip_line:
            cut = buf.find(b"\n") + 1
            dropped = cut if cut else len(buf)
            del buf[:dropped]
            self._base += dropped
            self._scan = 0
            self._skip_line = not cut
            if not cut:
                return
        end = buf.rfind(b"\n", self._scan) + 1
        tail = final and end < len(buf)
        if final:
            end = len(buf)
        if end <= 0:
            self._scan = len(buf)
            self._check_size(len(buf))
            return
        region = bytes(buf[:end])
        del buf[:end]
        offset = self._base
        self._base += end
        self._scan = 0
        lines = region.split(b"\n")
        if (
            not tail
            and b"data:" not in region
            and (len(region) <= self._max or max(map(len, lines)) <= self._max)
        ):
            # Every line is whole and none needs its "data:" prefix cut: one frame for all.
            # Blank lines and "[DONE]" fail to decode and are classified there, as _emit would.
            lines.pop()  # what follows the last "\n": nothing
            self.frames.append((BATCH_NDJSON, offset, lines))
            return
        last = len(lines) - 1
        for i, line in enumerate(lines):
            payload = line.strip(_WHITESPACE)
            if payload:
                # The line, blanks included, as the partial-line check counts it.
                if len(line) - line.endswith(b"\r") > self._max:
                    self._fault(self._too_large(), offset)
                else:
                    if payload.startswith(b"data:"):
                        # Some NDJSON logs are SSE lines without blank lines between them.
                        payload = payload[5:]
                    self._emit(payload, b"", offset, tail and i == last)
            offset += len(line) + 1

    # -- one JSON document ----------------------------------------------------------------------

    def _feed_document(self, data: bytes | bytearray = b"", final: bool = False) -> None:
        """Hold a non-streamed body until the end: one event, bounded like any other (unless it
        proves to be NDJSON: ``_proves_lines``).

        Its size is counted without the blanks around it, exactly and in O(len(data)) per call
        (``_trailing`` counts the blanks that end the bytes held), so the limit holds the same
        whatever the split; a run of blanks longer than the cap is too large in itself.
        """
        buf = self._buf
        if self._skip_event:  # already too large: the rest is dropped as it arrives
            self._base += len(buf)
            buf.clear()
            return
        if data:
            # Only a "{" completes a proof of NDJSON; it is looked for from the last non-blank
            # byte held before (it may be the "}"), so each byte is scanned a bounded number of
            # times.
            start = len(buf) - len(data) - self._trailing - 1
            if self._fmt == "auto" and 123 in data and self._proves_lines(start):
                return
            kept = len(data.rstrip(_WHITESPACE))
            self._trailing = len(data) - kept + (self._trailing if not kept else 0)
        elif self._trailing < 0:  # the first call: the bytes held are the document's start
            if self._fmt == "auto" and self._proves_lines(0):
                return
            self._trailing = len(buf) - len(buf.rstrip(_WHITESPACE))
        leading = len(buf) - len(buf.lstrip(_WHITESPACE)) if buf[:1] in b" \t" and buf else 0
        if len(buf) - leading - self._trailing > self._max or self._trailing > self._cap:
            self._fault(self._too_large(), self._base + leading)
            self._skip_event = True
            self._base += len(buf)
            buf.clear()
            return
        if final:
            body = buf.strip(_WHITESPACE)
            if body:
                self.frames.append((TAIL, self._base + leading, bytes(body)))

    def _proves_lines(self, start: int) -> bool:
        """Whether the bytes held from ``start`` on prove that a stream read as one document
        (its first line was not a whole object) is NDJSON after all; then it is read so.

        The proof is a line that ends with ``}`` and a later line that starts with ``{``, only
        blanks between (``_NEXT_OBJECT``): no JSON document holds that, and no JSON is parsed to
        see it. A bad first line, then whole objects: each line is an event, the bad one a
        ``ChunkError`` at its offset, and every valid one after it merges. Only a proof that
        fits the limit counts (the document is refused as soon as it is larger than that), so
        the outcome is the same whatever the split.
        """
        buf = self._buf
        proof = _NEXT_OBJECT.search(buf, max(start, 0))
        if proof is None:
            return False
        first = _NON_BLANK.search(buf)
        if first is None or proof.end() - first.start() > self._max:
            return False
        self._to_ndjson()
        self._feed_ndjson()
        return True

    def reread_as_lines(self) -> bool:
        """Read a stream held as one JSON document because its first line was not a whole
        object (``format="auto"``) as NDJSON lines instead, their frames queued after the
        document's; ``False`` (nothing done) for any other stream.

        For the accumulator, once the stream has ended (``close()``), when the document does
        not parse at all (not a cut: a syntax error before its end): a bad first line, then
        lines that may be valid. The framer never parses JSON, so it cannot tell by itself.
        """
        if self._mode != _DOCUMENT or self._fmt != "auto" or self._skip_event:
            return False
        self._to_ndjson()
        self._feed_ndjson(final=True)
        return True

    def _to_ndjson(self) -> None:
        # Leave the document mode for good: the buffer holds the stream from its first line.
        self._mode = _NDJSON
        self._fmt = "ndjson"
        self._scan = 0
        self._trailing = -1

    # -- SSE fast path: LF-only or CRLF-only streams -----------------------------------------

    def _feed_fast(self, sep: bytes, batch: int) -> None:
        """Frame every complete event of an LF-only (or CRLF-only) stream."""
        buf = self._buf
        cut = buf.rfind(sep, self._scan)
        if cut < 0:
            self._scan = max(len(buf) - len(sep) + 1, 0)
            if len(buf) > self._cap:
                self._to_lines()
                self._feed_lines(final=False)
            return
        end = cut + len(sep)
        region = bytes(buf[:end])
        # The common shape, checked in C: every event is one "data: " line. JSON text holds no raw
        # CR or LF, so when the only line endings are the event boundaries, splitting on
        # sep + "data: " yields exactly the payloads: no payload holds an LF. (On the CRLF path
        # every byte was already found to be CRLF-only as it arrived, so LFs are enough there
        # too.) The payloads joined are searched with memchr: half the instructions of counting
        # the region's LFs, a byte at a time (callgrind, a region of 9 chat chunks).
        # A region of another shape (a Responses stream's "event:" lines) is not split for it.
        payloads = (
            region[6 : -len(sep)].split(sep + b"data: ") if region.startswith(b"data: ") else ()
        )
        if (
            payloads
            and b"\n" not in b"".join(payloads)
            and (len(region) <= self._max or max(map(len, payloads)) <= self._max)
        ):
            self.frames.append((batch, self._base, payloads))
        elif batch == BATCH:
            own = self._own
            run = None if own is None else own(region, self._base, self._max)
            if run is None:
                self._split_events(region, self._base)
            else:
                self.frames.append((RUN, self._base, run))
        else:
            # CRLF events of another shape (comments, several fields): the line path, for good.
            self._to_lines()
            self._feed_lines(final=False)
            return
        del buf[:end]
        self._base += end
        self._scan = 0
        if len(buf) > self._cap:
            self._to_lines()
            self._feed_lines(final=False)

    def _split_events(self, region: bytes, offset: int) -> None:
        for event in region.split(b"\n\n"):
            if event.startswith(b"data:") and b"\n" not in event:
                payload = event[6:] if event[5:6] == b" " else event[5:]
                if len(payload) > self._max:
                    self._fault(self._too_large(), offset)
                else:
                    self._emit(payload, b"", offset)
            elif event:
                self._event_lines(event, offset)
            offset += len(event) + 2

    def _event_lines(self, event: bytes, offset: int) -> None:
        """Run one complete LF-only event that is not one ``data:`` line through the line path."""
        for line in event.split(b"\n"):
            self._line(line, offset)
            offset += len(line) + 1
        self._dispatch()

    # -- SSE line path: any line ending, partial events across calls ----------------------------

    def _feed_lines(self, final: bool) -> None:
        buf = self._buf
        if self._cr_pending and buf:
            # The last call ended with a CR that already ended its line: drop the LF of its CRLF.
            self._cr_pending = False
            if buf[0] == 10:
                del buf[:1]
                self._base += 1
        pos = 0
        n = len(buf)
        search = _EOL.search
        while True:
            m = search(buf, self._scan)
            if m is None:
                self._scan = n
                break
            eol = m.start()
            if buf[eol] == 13:
                if eol + 1 == n:
                    # A CR ends its line at once (a lone-CR stream must not wait for the next
                    # byte); an LF that may follow in the next call is dropped then.
                    self._cr_pending = not final
                    nxt = n
                else:
                    nxt = eol + 2 if buf[eol + 1] == 10 else eol + 1
            else:
                nxt = eol + 1
            if self._skip_line:
                self._skip_line = False
            else:
                self._line(bytes(buf[pos:eol]), self._base + pos)
            pos = self._scan = nxt
        if final and pos < n:
            if not self._skip_line:
                self._line(bytes(buf[pos:]), self._base + pos)
            pos = n
        del buf[:pos]
        self._base += pos
        self._scan -= pos
        if len(buf) > self._cap and not self._skip_line:
            # An unfinished line past the cap is dropped as it arrives. Only a data line makes
            # the event too large (and the rest of the event is skipped, as _line does when the
            # whole line is there); any other line that long is ignored, as _line ignores it.
            self._skip_line = True
            if buf[:5] == b"data:" and not self._skip_event:
                start = self._start if self._start >= 0 else self._base
                self._fault(self._too_large(), start)
                self._discard_event()
                self._skip_event = True
        if self._skip_line:
            self._base += len(buf)
            buf.clear()
            self._scan = 0

    def _line(self, line: bytes, offset: int) -> None:
        """Process one line (WHATWG steps: blank dispatches, ``:`` comments, else a field)."""
        if not line:
            self._dispatch()
            return
        if line[:1] == b":":
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if self._skip_event or (name != b"data" and len(line) > self._cap):
            return  # a non-data line past the cap: dropped, as when it arrives unfinished
        if self._start < 0:
            self._start = offset
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self._max + 1:  # one "\n" per data line, but the last is removed
                self._fault(self._too_large(), self._start)
                self._discard_event()
                self._skip_event = True
                return
            self._data.append(value)
        elif name == b"event":
            self._type = value
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            # WHATWG: ASCII digits only, any number of them. A delay past MAX_RETRY ms (about
            # 31 years; int() refuses over 4,300 digits) is clamped to it.
            digits = value.lstrip(b"0") or b"0"
            self.retry = min(int(digits), MAX_RETRY) if len(digits) <= 13 else MAX_RETRY

    def _dispatch(self, final: bool = False) -> None:
        # WHATWG: the last event ID changes when an event is dispatched, not when "id:" is read.
        self.last_event_id = self._id
        data, kind, start = self._data, self._type, self._start
        skipped = self._skip_event
        self._discard_event()
        if skipped or not data:
            return
        payload = data[0] if len(data) == 1 else b"\n".join(data)
        self._emit(payload, kind, start, final)

    def _discard_event(self) -> None:
        self._data = []
        self._size = 0
        self._type = b""
        self._start = -1
        self._skip_event = False

    # -- shared ---------------------------------------------------------------------------------

    def _emit(self, payload: bytes, event_type: bytes, offset: int, tail: bool = False) -> None:
        """Classify one event's data: JSON chunk, ``[DONE]``, keep-alive, or in-band error."""
        body = payload.strip(_WHITESPACE)
        kind = kind_of(body)
        if kind == SKIP:
            return
        if event_type == b"error":
            self.frames.append((ERROR, offset, body))
        elif kind == DONE:
            self.frames.append((DONE, offset, body))
        else:
            self.frames.append((TAIL if tail else DATA, offset, body))

    def _fault(self, exc: ChunkAggError, offset: int) -> None:
        self.faults.append(exc)
        self.frames.append((FAULT, offset, b""))

    def _too_large(self) -> LimitExceededError:
        return LimitExceededError(
            "event is larger than the limit", limit="max_event_size", value=self._max
        )

    def _end_blank_line(self) -> bool:
        """Go on with an NDJSON line whose blanks alone passed the cap; False: it goes on.

        A blank line is skipped however long it is, but a line that long with a chunk in it is
        too large: which of the two it is shows only when the line ends.
        """
        buf = self._buf
        end = buf.find(b"\n")
        if _NON_BLANK.search(buf, 0, end if end >= 0 else len(buf)):
            self._fault(self._too_large(), self._blank_start)
            self._blank_start = -1
            self._skip_line = True
            return True
        dropped = end + 1 if end >= 0 else len(buf)
        del buf[:dropped]
        self._base += dropped
        self._scan = 0
        if end < 0:
            return False
        self._blank_start = -1
        return True

    def _check_size(self, size: int) -> None:
        # A partial NDJSON line, or leading whitespace before the format is known, over the cap.
        if size > self._cap and self._mode == _NDJSON and not _NON_BLANK.search(self._buf):
            self._blank_start = self._base
            self._end_blank_line()
        elif size > self._cap:
            self._fault(self._too_large(), self._base)
            self._base += len(self._buf)
            self._buf.clear()
            self._scan = 0
            self._skip_line = self._mode == _NDJSON
