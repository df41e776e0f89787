"""Bluesky handles (``@name.domain``) in the chat file: hosts, guests and blocked accounts are
written as Bluesky shows them, and the boost rules match them on Bluesky posts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.adapters.bluesky_posts import to_post
from bot.core.curation import Candidate, Facts, assess
from bot.core.model import ArchivedPost
from bot.core.problems import ConfigError
from tests.support.config_text import chat_config


def _post(handle: str, rkey: str) -> ArchivedPost:
    view: dict[str, Any] = {
        "uri": f"at://did:plc:{rkey}aaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/{rkey}",
        "cid": "bafy",
        "author": {"did": f"did:plc:{rkey}aaaaaaaaaaaaaaaaaaaa", "handle": handle},
        "record": {"text": "A1 my answer #SkyChat", "createdAt": "2026-12-02T20:06:10.000Z"},
        "indexedAt": "2026-12-02T20:06:10.200Z",
        "likeCount": 2,
    }
    post = to_post(view, own_did="did:plc:botbotbotbotbotbotbotbotb")
    assert isinstance(post, ArchivedPost), post
    return replace(post, occurrence="skychat/2026-12-02", question=1, rule="prefix")


def test_bluesky_handles_are_accepted_for_hosts_guests_and_blocked_accounts() -> None:
    config = chat_config(
        chat={"hosts": ["@host.bsky.social", "@co@example.social"]},
        boost={"always": ["@guest.example.org"], "block": {"accounts": ["@troll.bsky.social"]}},
    )
    assert config.chat.hosts == ["@host.bsky.social", "@co@example.social"]
    assert config.boost.always == ["@guest.example.org"]
    assert config.boost.block.accounts == ["@troll.bsky.social"]


@pytest.mark.parametrize("handle", ["@.bsky.social", "@host.", "@host..social", "host.bsky.social"])
def test_a_malformed_domain_handle_is_refused_with_the_three_forms(handle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        chat_config(chat={"hosts": [handle]})
    rendered = caught.value.problems[0].render("chat.yaml")
    assert "is not an account handle" in rendered
    assert '"@hexi.bsky.social" (Bluesky)' in rendered


def test_the_boost_rules_match_bluesky_authors_by_their_handles() -> None:
    config = chat_config(
        boost={"always": ["@Guest.Example.org"], "block": {"accounts": ["@troll.bsky.social"]}}
    )
    guest = Candidate(_post("guest.example.org", "g1"), "public")
    troll = Candidate(_post("troll.bsky.social", "t1"), "public")
    fan = Candidate(_post("fan.bsky.social", "f1"), "public")
    facts = Facts(home="bsky.social", bot_ids=frozenset())

    result = assess([guest, troll, fan], config.boost, facts)

    assert {s.post.id: s.always for s in result.eligible} == {
        guest.post.id: True,
        fan.post.id: False,
    }
    assert [c.post.id for c, _ in result.rejected] == [troll.post.id]


def test_approve_mode_on_bluesky_alone_needs_no_hosts_listed() -> None:
    """Bluesky's approvals wait in the hosts' console: no message goes to a host."""
    bluesky = {"bluesky": {"handle": "bot.bsky.social"}}
    alone = chat_config(platforms={**bluesky, "mastodon": None}, boost={"mode": "approve"})
    assert (alone.platforms.names(), alone.boost.mode) == (["bluesky"], "approve")
    with pytest.raises(ConfigError, match=r"chat\.hosts is empty"):
        chat_config(platforms=bluesky, boost={"mode": "approve"})  # beside Mastodon
