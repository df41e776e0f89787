"""Curating on servers that are not Mastodon 4.3+: no multi-status read (Mastodon before
4.3, answered 404 by mastodon_mock's fault rules), and posts whose author's server refuses
the boost (GoToSocial's interaction policy, or a 403 to the boost itself).

Requests are counted by the loopback fault proxy between the bot and mastodon_mock: that
is what the server saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.mastodon_budget import refresh_limit
from tests.fakes.fault_proxy import FaultProxy
from tests.integration.test_curation_mastodon import TICK, Chat, make_chat
from tests.support.mastodon_server import MastodonServer, running_mastodon

ONE_STATUS = re.compile(r"^/api/v1/statuses/([^/?]+)$")


@pytest.fixture
def proxy(mastodon: MastodonServer) -> Iterator[FaultProxy]:
    with FaultProxy(mastodon.base_url) as running:
        yield running


def chat_through(tmp_path: Path, proxy: FaultProxy, boost: dict[str, Any]) -> Chat:
    """A chat whose bot (and test helpers) reach the server through the proxy."""
    return make_chat(tmp_path, MastodonServer(proxy.base_url), boost)


def test_without_the_multi_status_read_each_tick_rereads_a_few_posts_and_still_boosts(
    tmp_path: Path,
    mastodon: MastodonServer,
    proxy: FaultProxy,
    logs: list[dict[str, Any]],
) -> None:
    mastodon.answer("^/api/v1/statuses/?$", 404)  # Mastodon before 4.3
    chat = chat_through(tmp_path, proxy, {"mode": "auto", "max_per_question": 1, "tick": "15s"})
    chat.person("host")
    for n in range(12):
        chat.person(f"p{n:02d}")
    chat.clock.time = chat.windows[1].start
    answers = [
        chat.say(f"p{n:02d}", f"A1 answer {n}", question=1, favourites=5 if n == 4 else 0)
        for n in range(12)
    ]

    per_tick = []
    window = chat.windows[1]
    offset = TICK
    while chat.clock.time < window.end - TICK:
        before = len(proxy.log)
        chat.curator.tick(chat.file.occurrence, chat.windows)
        per_tick.append([m.group(1) for r in proxy.log[before:] if (m := ONE_STATUS.match(r.path))])
        chat.clock.time = window.start + offset
        offset += TICK

    budget = refresh_limit(
        limit=None, remaining=None, reset=None, every=TICK.total_seconds(), now=0
    )
    assert budget == 3  # a quarter of 300 requests per 5 minutes, per 15 s tick
    assert all(len(reads) <= budget for reads in per_tick), [len(r) for r in per_tick]
    # The few reads go round the window: every answer is re-read, not only the newest.
    assert set(answers) <= {post_id for reads in per_tick for post_id in reads}
    assert chat.boosted() == [answers[4]]
    assert not [e for e in logs if e["event"] == "curate.tick_failed"]
    fallbacks = [e for e in logs if e["event"] == "server.fallback"]
    assert [e["capability"] for e in fallbacks] == [
        "multi-status read (GET /api/v1/statuses?id[]=)"
    ]
    assert "one request per post" in fallbacks[0]["cost"]


def test_the_budget_follows_the_rate_limit_the_server_announces(tmp_path: Path) -> None:
    # A server that allows 100 requests per 5 minutes, and says so in X-RateLimit-*.
    config = tmp_path / "mastodon_mock.toml"
    config.write_text("[ratelimit]\nenabled = true\nlimit = 100\nwindow_seconds = 300\n")
    with running_mastodon(config=config) as server, FaultProxy(server.base_url) as proxy:
        server.answer("^/api/v1/statuses/?$", 404)
        chat = chat_through(tmp_path, proxy, {"mode": "off", "tick": "45s"})
        for n in range(8):
            chat.person(f"p{n}")
        chat.clock.time = chat.windows[1].start
        for n in range(8):
            chat.say(f"p{n}", f"A1 answer {n}", question=1)
        before = len(proxy.log)
        chat.curator.tick(chat.file.occurrence, chat.windows)
        reads = [r for r in proxy.log[before:] if ONE_STATUS.match(r.path)]

    assert chat.platform.capabilities().rate_limit == 100
    assert len(reads) == 3  # a quarter of 100 per 5 minutes, per 45 s tick (11 at 300)


def test_a_boost_the_server_refuses_is_recorded_as_the_authors_wish_and_never_retried(
    tmp_path: Path,
    mastodon: MastodonServer,
    proxy: FaultProxy,
    logs: list[dict[str, Any]],
) -> None:
    chat = chat_through(tmp_path, proxy, {"mode": "auto", "max_per_question": 2})
    chat.person("host")
    for name in ("guarded", "open", "fan1", "fan2", "fan3"):
        chat.person(name)
    chat.clock.time = chat.windows[1].start
    guarded = chat.say("guarded", "A1 mine, not for boosting", question=1, favourites=3)
    fine = chat.say("open", "A1 boost away", question=1, favourites=1)
    mastodon.answer(f"^/api/v1/statuses/{guarded}/reblog$", 403, method="POST")

    chat.play(1)

    assert chat.boosted() == [fine]
    boost_attempts = [r for r in proxy.log if r.path == f"/api/v1/statuses/{guarded}/reblog"]
    assert len(boost_attempts) == 1  # refused once, never asked again
    decision = chat.decision(guarded)
    assert (decision.state, decision.rule) == ("rejected", "author_policy")
    assert "author's policy" in (decision.reason or "")
    assert not [e for e in logs if e["event"] == "curate.action_failed"]
