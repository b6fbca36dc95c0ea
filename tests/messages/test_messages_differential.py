"""chunkagg against the Anthropic SDK's own accumulation, on generated Messages streams.

The streams (``messages_helpers.generate``) are rendered from a truth message written first:
blocks of every kind the SDK knows (text with citations, thinking with its signature,
redacted_thinking, tool_use / server_tool_use / mcp_tool_use with their input in fragments or
whole, web_search_tool_result, mcp_tool_result, compaction, fallback) and of kinds it does not,
pings and events of unknown types, one or two ``message_delta`` events (usage cumulative),
unknown keys at every level, and fields set by delta types not yet invented.

The SDK's accumulation is ``anthropic.lib.streaming._beta_messages.accumulate_event`` (and
``_messages.accumulate_event``, the stable one), fed what its ``Stream`` yields for the bytes
(``tests/synthetic/messages/make.py``'s ``sdk_final``); its final snapshot's
``to_dict(mode="json")``, nulls dropped, is compared with chunkagg's result:

- chunkagg's result is the truth, key for key, under every split and framing;
- every value the SDK keeps, chunkagg keeps equal (the SDK invents nothing but nulls);
- what the SDK drops is exactly what the generator knows it drops: the fields a delta of an
  unknown type sets, the unknown keys of ``message_delta``'s ``delta``, ``usage`` and top level;
  chunkagg keeps each;
- the stable accumulation holds nothing chunkagg lacks, but the model a ``fallback`` block
  relabels (it does not know that block).
"""

from __future__ import annotations

import random

import orjson
from helpers import Split, split_feeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from messages_helpers import MAKE, Generated, feed, messages, sse

from chunkagg import MessageAccumulator


def _ours(g: Generated, split: Split | str, event_lines: bool) -> object:
    acc = MessageAccumulator()
    _, errors = feed(acc, sse(g.events, event_lines=event_lines), split)
    assert errors == []
    return acc.finalize().to_dict()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=messages(), data=st.data())
def test_chunkagg_keeps_what_the_sdk_keeps_and_what_it_drops(
    g: Generated, data: st.DataObject
) -> None:
    split_kind = data.draw(st.sampled_from(["whole", "bytewise", "random"]))
    split: Split | str = (
        Split("random", data.draw(st.integers(0, 1 << 30)))
        if split_kind == "random"
        else split_kind
    )
    ours = _ours(g, split, event_lines=True)
    assert ours == g.truth
    body = sse(g.events)
    beta = MAKE.sdk_final(body, beta=True)
    assert beta is not None
    mine, theirs = MAKE.canonical(ours), MAKE.canonical(beta)
    assert MAKE.lost(theirs, mine) == [], "a value the SDK keeps differs or is missing"
    assert set(MAKE.lost(mine, theirs)) == g.sdk_drops, "the SDK drops something unforeseen"
    stable = MAKE.sdk_final(body, beta=False)
    assert stable is not None
    # The stable accumulation knows no fallback block: its model is message_start's.
    relabeled = {"model"} if any(b["type"] == "fallback" for b in g.truth["content"]) else set()
    assert set(MAKE.lost(MAKE.canonical(stable), mine)) <= relabeled


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=messages(), data=st.data())
def test_generated_streams_in_every_framing(g: Generated, data: st.DataObject) -> None:
    """Without ``event:`` lines, with CRLF line endings and as NDJSON: the same message."""
    framing = data.draw(st.sampled_from(["data-only", "crlf", "cr", "ndjson"]))
    if framing == "data-only":
        body = sse(g.events, event_lines=False)
    elif framing == "ndjson":
        body = b"".join(orjson.dumps(e) + b"\n" for e in g.events)
    else:
        body = sse(g.events, eol=b"\r\n" if framing == "crlf" else b"\r")
    rng = random.Random(data.draw(st.integers(0, 1 << 30)))
    acc = MessageAccumulator()
    for piece in split_feeds(body, "random", rng):
        acc.feed(piece)
    assert acc.finalize().to_dict() == g.truth


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=messages())
def test_added_events_give_the_same_message(g: Generated) -> None:
    """``add()`` of each event's dict, of ``decode_message_event``'s result and of the SDK's
    event object (``construct_type``, as its ``Stream`` yields them): the same message."""
    from anthropic._models import construct_type
    from anthropic.types.beta import BetaRawMessageStreamEvent

    import chunkagg

    for convert in ("dict", "decoded", "sdk"):
        acc = MessageAccumulator()
        for event in g.events:
            if convert == "dict":
                acc.add(event)
            elif convert == "decoded":
                acc.add(chunkagg.decode_message_event(orjson.dumps(event)))
            elif event["type"] not in ("ping", "zz_future_event"):
                # The SDK's Stream skips pings; an unknown event type is still constructed.
                acc.add(construct_type(type_=BetaRawMessageStreamEvent, value=event))
        assert acc.finalize().to_dict() == g.truth, convert
