"""A Responses result shares no dict or list with the events ``feed()`` returned, nor with the
state: changing every one of them, then finalizing again, gives the same result."""

from __future__ import annotations

import pytest
from helpers import assert_shares_nothing
from responses_helpers import CASES, _stream

from chunkagg._responses import ResponseAccumulator


@pytest.mark.parametrize("name", CASES)
def test_the_result_shares_nothing(name: str) -> None:
    assert_shares_nothing(ResponseAccumulator(), _stream(name))
