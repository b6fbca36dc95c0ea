"""Chat's merge rules (``chunkagg._chat.merge`` and ``state``) beyond the rows of
docs/quirks.md: which call a tool-call delta continues, and that nothing a caller holds (a
chunk, a snapshot) aliases the merge state.

A rule that answers a server's quirk goes in tests/chat/test_quirks.py, named after its row; a
provider extension's rule in tests/chat/test_extensions.py; the generic rule of unknown keys in
tests/core/test_rules.py.
"""

from __future__ import annotations

import pytest
from helpers import SPLIT_IDS, SPLITS, Split, choice, chunk, feed_all, sse, tool_call

from chunkagg import Accumulator


@pytest.mark.parametrize("split", SPLITS, ids=SPLIT_IDS)
def test_a_known_id_at_a_reused_index_continues_its_own_call(split: Split) -> None:
    stream = sse(
        chunk(choice(tool_calls=[tool_call(0, id="a", name="f", arguments='{"x":')])),
        chunk(choice(tool_calls=[tool_call(0, id="b", name="g", arguments='{"y":')])),
        chunk(choice(tool_calls=[tool_call(0, id="a", arguments="1}")])),
        chunk(choice(tool_calls=[tool_call(0, arguments="")])),  # goes on with "a"
        chunk(
            choice(tool_calls=[tool_call(0, id="b", arguments="2}")], finish_reason="tool_calls")
        ),
    )
    acc = Accumulator()
    feed_all(acc, stream, split)
    calls = acc.finalize().choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("a", "f", '{"x":1}'),
        ("b", "g", '{"y":2}'),
    ]


def test_nothing_a_caller_holds_aliases_the_merge() -> None:
    token = {"token": "a", "logprob": -0.5, "bytes": [97], "top_logprobs": []}
    acc = Accumulator()
    chunks = acc.feed(
        sse(
            chunk(
                {**choice(content="a"), "logprobs": {"content": [token], "refusal": None}},
                usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            ),
            done=False,
        )
    )
    before = acc.snapshot().to_dict()
    with pytest.raises(AttributeError):
        chunks[0].id = "changed"  # type: ignore[misc]
    chunks[0].choices.clear()  # the chunk's own list: not the merge state
    snap = acc.snapshot()
    snap.choices[0].message.content = "changed"
    assert snap.choices[0].logprobs is not None and snap.choices[0].logprobs.content is not None
    snap.choices[0].logprobs.content.clear()
    snap.choices.clear()
    assert acc.finalize().to_dict() == before
