"""The worker's health notes in each kind of database: one row per occurrence and platform,
replaced whole, read back as written (times aware), a server's long reason cut short."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.adapters.health_sql import HealthSql
from bot.adapters.store_sql import SqlStore
from bot.core.health import PlatformHealth
from tests.support.posts import START

OCC = "hexichat/2026-12-02"


def test_a_platforms_health_is_one_row_replaced_whole(store: SqlStore) -> None:
    health = HealthSql(store.engine)
    first = PlatformHealth(OCC, "mastodon", START, mode="stream", mode_since=START)
    health.save_health(first)
    health.save_health(PlatformHealth(OCC, "x", START, mode="polling"))
    later = START + timedelta(minutes=2)
    second = PlatformHealth(
        OCC,
        "mastodon",
        later,
        mode="polling",
        mode_reason="stream lost: " + "x" * 1000,
        mode_since=later,
        rate_limited_until=later + timedelta(minutes=5),
        rate_limit_reason="rate limited by the server",
        rate_limit_waits=1,
        errors=3,
        last_error="HTTP 502",
        last_error_at=later,
    )
    health.save_health(second)

    mastodon, x = health.health(OCC)
    assert (mastodon.platform, x.platform) == ("mastodon", "x")
    assert mastodon.mode_reason == ("stream lost: " + "x" * 1000)[:300]
    assert mastodon == replace(second, mode_reason=mastodon.mode_reason)
    assert health.health("hexichat/2026-12-09") == []
