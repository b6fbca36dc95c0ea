"""The bounds every format shares, with the reason for each default, and their argument check.

Owns ``DEFAULT_MAX_EVENT_SIZE``, ``DEFAULT_MAX_TEXT_SIZE`` and ``DEFAULT_MAX_CHOICES`` (a format
with bounds of its own declares them in its room: chat's ``DEFAULT_MAX_TOOL_CALLS``, the
Responses API's ``DEFAULT_MAX_ITEMS``) and ``check_limits``. Every bound crossed raises
``LimitExceededError`` naming the argument that sets it.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_CHOICES",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_MAX_TEXT_SIZE",
    "check_limits",
]

# One chunk is a few hundred bytes; the largest real ones (a long tool-call argument in a single
# delta, an audio fragment) stay well under 1 MiB. h11 caps an incomplete event at 16 KiB, aiohttp
# a line at 8 KiB; we allow far more because a single delta may carry a whole document.
DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024
# Characters of merged text (content, refusal, reasoning, tool arguments, extension strings...)
# plus audio bytes plus logprob entries. The longest real answers (128k output tokens, about
# 0.5 MB of text, plus reasoning) are far below.
DEFAULT_MAX_TEXT_SIZE = 64 * 1024 * 1024
# The strictest peer (openai-node's ChatCompletionStream) gives up past 128; the API itself caps
# n at 128. Indices are bounded by the same number, so a broken index never builds a long list.
DEFAULT_MAX_CHOICES = 128


def check_limits(**limits: int) -> None:
    """Raise ``ValueError`` for a limit that is not a positive ``int``, naming it."""
    for name, value in limits.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
