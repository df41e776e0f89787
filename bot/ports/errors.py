"""What platform adapters raise: a PlatformError subclass says whether retrying can help."""

from __future__ import annotations

import math
from typing import Literal

from bot.core.masking import mask


class PlatformError(Exception):
    """A platform refused or failed a request; adapters raise only these subclasses.

    The reason is masked: servers echo what they were sent, the token included."""

    def __init__(self, reason: str) -> None:
        reason = mask(reason)
        super().__init__(reason)
        self.reason = reason


# The longest the bot waits on a server's word (a rate limit's reset): a reset hours ahead is
# a mistake or an attack, and a chat lasts about an hour.
MAX_RETRY_AFTER = 900.0


class TransientError(PlatformError):
    """Worth retrying: network trouble, 429, 5xx. ``retry_after`` is the server's word,
    within 0 and ``MAX_RETRY_AFTER`` (None if the server's word is not a number)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = (
            None
            if retry_after is None or math.isnan(retry_after)
            else min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        )


class PermanentError(PlatformError):
    """Retrying cannot help: bad token, missing scope, text refused."""


class TokenRefused(PermanentError):
    """The server refused the credentials themselves (401, 403 on the account's own read);
    any other refusal is about an endpoint or a post, never the token."""


class InteractionRefused(PermanentError):
    """The server refuses this interaction with this post (a boost, by the author's policy):
    recorded as the author's wish, never retried."""


class NoStreaming(PermanentError):
    """The server offers no live stream the bot can use: poll for the rest of the run."""


class ReadingRefused(PermanentError):
    """The platform refuses reading as a whole, not just one request: following stops for the
    occurrence and posting goes on. ``cause``: ``access`` (the app's access level may not
    search) or ``usage_cap`` (the account's usage cap is reached)."""

    def __init__(self, reason: str, *, cause: Literal["access", "usage_cap"]) -> None:
        super().__init__(reason)
        self.cause = cause


class BudgetExhausted(PermanentError):
    """The occurrence's budget does not cover this request; nothing was sent."""
