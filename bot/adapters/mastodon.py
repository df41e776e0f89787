"""Mastodon through Mastodon.py: errors become the ports' Transient/Permanent errors.

Mastodon.py is told to throw on rate limits (never to sleep inside a call) and to give up
after a short timeout, so that waiting is ours: logged, bounded and cut short by shutdown.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)

from bot.core.config import MastodonSettings
from bot.core.html_text import same_text
from bot.ports import PermanentError, Published, TransientError

# How many of its own latest statuses the bot reads to recover a post after a crash.
_RECOVERY_WINDOW = 40


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


class MastodonPlatform:
    name = "mastodon"

    def __init__(self, settings: MastodonSettings, *, token: str) -> None:
        self._settings = settings
        self.api = Mastodon(
            api_base_url=settings.instance,
            access_token=token,
            ratelimit_method="throw",
            request_timeout=settings.request_timeout.total_seconds(),
            version_check_mode="none",
            user_agent="tweetchat",
        )
        self._me: str | None = None

    def max_characters(self) -> int:
        with self._errors():
            instance = self.api.instance_v2()
        try:
            return int(instance["configuration"]["statuses"]["max_characters"])
        except (KeyError, TypeError, ValueError):
            return self._settings.max_characters

    def account_id(self) -> str:
        if self._me is None:
            with self._errors():
                self._me = str(self.api.account_verify_credentials()["id"])
        return self._me

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        with self._errors():
            status = self.api.status_post(
                text,
                in_reply_to_id=in_reply_to,
                visibility=self._settings.visibility,
                idempotency_key=key,
            )
        return Published(str(status["id"]), str(status["url"]), _aware(status["created_at"]))

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        me = self.account_id()
        with self._errors():
            statuses = self.api.account_statuses(me, limit=_RECOVERY_WINDOW)
        for status in statuses:
            created = _aware(status["created_at"])
            if created is not None and created < since:
                break
            if same_text(str(status["content"]), text):
                return Published(str(status["id"]), str(status["url"]), created)
        return None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except MastodonRatelimitError as exc:
            reset = getattr(self.api, "ratelimit_reset", None)
            wait = max(0.0, float(reset) - time.time()) if reset else None
            raise TransientError(f"rate limited by the server ({exc})", retry_after=wait) from None
        except (MastodonNetworkError, MastodonServerError) as exc:
            raise TransientError(f"server unreachable or failing: {_describe(exc)}") from None
        except MastodonAPIError as exc:
            raise PermanentError(f"the server refused: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    # MastodonAPIError args: (message, status code, reason, server's error text).
    args = [str(a) for a in exc.args[1:] if a] or [str(exc)]
    return " ".join(args)
