"""The framing of ``event:`` then ``data:`` pairs, a region of them in one frame.

Owns ``split_events``, the ``EventSplitter`` the formats whose servers name every event (the
Responses API, Anthropic Messages) give the ``Framer``. Must not know JSON or any format: it
only proves that a region is nothing but events of that exact shape, and hands their payloads
over as one ``EventRun``.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from .frames import EventRun

__all__ = ["split_events"]

# Each event is its name line ("event: " and the name), "\n", "data: ", the payload, "\n\n".
_OVERHEAD = len(b"\ndata: \n\n")


def split_events(region: bytes, offset: int, max_event_size: int) -> EventRun | None:
    """The ``EventRun`` of a region of complete LF events that are all two lines, ``event:
    <type>`` then ``data: {...}`` (the shape OpenAI and Anthropic send), or ``None``.

    ``Framer``'s fast path hands such events, one at a time, to its line path (about 2 us an
    event in Python); as one run, the accumulator decodes and merges them in one loop, with the
    same payloads, offsets and faults. The event name matters only when it is ``error``, which
    is left to the line path; without an ``id:`` line, the last event id does not change.

    The region is split on what separates two events named as the first one is (the blank line,
    the name line, ``data: ``): most events of a stream are deltas of one type. When no piece
    holds a line feed, every line feed of the region is one of theirs, and each piece is a
    payload as the line path reads it (one split and one ``memchr``). A piece that holds one is
    a payload followed by events of other names, each ``"\\n\\n" + name + "\\n" + "data: " +
    payload``: that piece alone is split into lines and proved. Proving a region of mixed names
    by its lines (a split on every line feed, then the payloads cut out of the data lines) took
    1.6x the instructions on a stream of short blocks, callgrind.
    """
    end = region.find(b"\n")
    line = region[:end]
    if (
        not line.startswith(b"event: ")
        or line == b"event: error"
        or not region.startswith(b"\ndata: ", end)
    ):
        return None
    pieces = region.split(b"\n\n" + line + b"\ndata: ")
    # The first piece still has its name and "data: " before it, the last the blank line.
    pieces[0] = pieces[0][end + 7 :]
    pieces[-1] = pieces[-1][:-2]
    joined = b"".join(pieces)
    at = joined.find(b"\n")
    heads: bytes | list[bytes]
    if at < 0:
        payloads = pieces
        heads = line  # one name line for all
    else:
        found = _mixed(pieces, joined, at, line)
        if found is None:
            return None
        payloads, heads = found
    if len(region) > max_event_size and max(map(len, payloads)) > max_event_size:
        return None
    return EventRun(payloads, heads, offset, _OVERHEAD)


def _mixed(
    pieces: list[bytes], joined: bytes, at: int, line: bytes
) -> tuple[list[bytes], list[bytes]] | None:
    """The payloads and name lines of a region whose ``pieces`` (split on events named
    ``line``) hold other events too; ``at`` is the first line feed of ``joined``."""
    ends = list(accumulate(map(len, pieces)))
    payloads: list[bytes] = []
    heads: list[bytes] = []
    done = 0  # pieces before this one are in payloads
    while at >= 0:
        k = bisect_right(ends, at)
        payloads += pieces[done:k]
        # A payload, then each other event as "", its name line, its data line.
        lines = pieces[k].split(b"\n")
        n, rest = divmod(len(lines) - 1, 3)
        names = lines[2::3]
        if (
            rest
            or any(lines[1::3])
            or (b"\n" + b"\n".join(names)).count(b"\nevent: ") != n
            or b"event: error" in names
        ):
            return None
        datas = b"\n".join(lines[3::3])
        if not datas.startswith(b"data: "):
            return None
        more = datas[6:].split(b"\ndata: ")
        if len(more) != n:
            return None
        payloads.append(lines[0])
        payloads += more
        heads += [line] * (k + 1 - done)
        heads += names
        done = k + 1
        at = joined.find(b"\n", ends[k])
    payloads += pieces[done:]
    heads += [line] * (len(pieces) - done)
    return payloads, heads
