"""A Messages result shares no dict or list with the events ``feed()`` returned, nor with the
state: changing every one of them, then finalizing again, gives the same result."""

from __future__ import annotations

import pytest
from helpers import assert_shares_nothing
from messages_helpers import CASES, stream

from chunkagg import MessageAccumulator


@pytest.mark.parametrize("name", CASES)
def test_the_result_shares_nothing(name: str) -> None:
    assert_shares_nothing(MessageAccumulator(), stream(name))
