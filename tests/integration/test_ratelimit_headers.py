"""What Mastodon.py makes of a server's rate-limit headers, through our session: an odd
``X-RateLimit-Reset`` on a good answer changes nothing, and on a 429 it is read or ignored,
the wait never longer than the cap."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.adapters.mastodon import MastodonPlatform
from bot.core.config_platforms import MastodonSettings
from bot.ports.errors import MAX_RETRY_AFTER, TransientError
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "ResetChat"
TIMELINE = f"/api/v1/timelines/tag/{TAG}"


def answer(mastodon: MastodonServer, status: int, reset: str) -> None:
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["GET"], "path": TIMELINE},
            "effect": {
                "type": "status",
                "status": status,
                "body": [] if status == 200 else {"error": "Too many requests"},
                "headers": {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"},
            },
            "count": 1,
        },
    ).raise_for_status()


@pytest.fixture
def platform(mastodon: MastodonServer) -> MastodonPlatform:
    bot = mastodon.account("resetbot", bot=True)
    settings = MastodonSettings(instance=mastodon.base_url, request_timeout=timedelta(seconds=5))
    return MastodonPlatform(settings, token=bot.token)


@pytest.mark.parametrize("reset", ["²", "9" * 400, "garbage"])
def test_an_odd_reset_on_a_good_answer_changes_nothing(
    mastodon: MastodonServer, platform: MastodonPlatform, reset: str
) -> None:
    """Issue 12 item 1: Mastodon.py alone fails a 200 whose reset it cannot parse; the bot
    reads the page."""
    answer(mastodon, 200, reset)

    assert platform.tag_page(TAG).items == []


def in_seconds(seconds: float, *, scale: int = 1) -> str:
    return str(int((time.time() + seconds) * scale))


@pytest.mark.parametrize(
    ("reset", "wait"),
    [
        (lambda: "9" * 400, None),  # no reset time: the caller's backoff
        (lambda: "²", None),
        (lambda: in_seconds(7200, scale=1000), MAX_RETRY_AFTER),  # 2 h ahead, in ms: capped
        (lambda: in_seconds(30), 30.0),
    ],
)
def test_a_429_s_reset_is_read_or_ignored_and_capped(
    mastodon: MastodonServer,
    platform: MastodonPlatform,
    reset: Callable[[], str],
    wait: float | None,
) -> None:
    """Issue 12 item 1: on a 429, the reset Mastodon.py reads is one we made sane."""
    answer(mastodon, 429, reset())

    with pytest.raises(TransientError) as limited:
        platform.tag_page(TAG)

    if wait is None:
        assert limited.value.retry_after is None
    else:
        # Mastodon.py moves the reset by the server's clock (its Date, to the second).
        assert limited.value.retry_after == pytest.approx(wait, abs=2)
