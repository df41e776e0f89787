"""Posting on a real local AT Protocol network: facets on the right bytes, threads through
reply refs, exactly once through record keys, and a session that survives a restart."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from atproto import Session
from sqlalchemy import create_engine, text

from bot.adapters.bluesky import BlueskyPlatform
from bot.adapters.bluesky_ids import post_uri
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import PlannedPost
from bot.ports.errors import PermanentError
from bot.runtime.publisher import PostPublisher
from tests.integration.bluesky.rig import BotRig, bot_rig, publisher_for
from tests.support.bluesky_network import BlueskyNetwork
from tests.support.clock import ManualClock


def _now() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


def _record(network: BlueskyNetwork, did: str, remote_id: str) -> dict[str, Any]:
    rkey = remote_id.rsplit("/", 1)[1]
    answer = network.http.get(
        f"{network.pds}/xrpc/com.atproto.repo.getRecord",
        params={"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey},
    )
    answer.raise_for_status()
    record: dict[str, Any] = answer.json()
    return record


def _faceted(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(the bytes a facet covers, as text; its kind; its value), as the PDS holds them."""
    raw = record["value"]["text"].encode()
    out = []
    for facet in record["value"].get("facets", []):
        span = raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()
        feature = facet["features"][0]
        kind = feature["$type"].rsplit("#", 1)[1]
        value = feature.get("tag") or feature.get("uri") or feature.get("did")
        out.append((span, kind, value))
    return out


def test_facets_cover_the_hashtag_link_and_mention_next_to_emoji_and_combining_marks(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    guest = bluesky.create_account("guest")
    platform = rig.platform(_now())
    # A family emoji (7 code points), a flag, e + combining acute, and CJK right before
    # each facet: a count in characters instead of UTF-8 bytes lands off by many.
    text = (
        f"👩‍👩‍👧 Q1 cafe\u0301 🇫🇷 #FermentChat, read https://example.org/ü?q=1 "
        f"日本 @{guest.handle} 🎉!"
    )

    published = platform.post(text, key="ferment/2026-12-02/q1/bluesky", in_reply_to=None)

    record = _record(bluesky, rig.account.did, published.remote_id)
    assert record["value"]["text"] == text
    assert sorted(_faceted(record)) == sorted(
        [
            ("#FermentChat", "tag", "FermentChat"),
            ("https://example.org/ü?q=1", "link", "https://example.org/ü?q=1"),
            (f"@{guest.handle}", "mention", guest.did),
        ]
    )
    rkey = published.remote_id.rsplit("/", 1)[1]
    assert published.url == f"https://bsky.app/profile/{rig.account.handle}/post/{rkey}"


def test_a_thread_carries_root_and_parent_refs_to_the_posts_before(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    platform = rig.platform(clock)
    intro = platform.post("Welcome #Thread1", key="t/2026-12-02/intro/bluesky", in_reply_to=None)
    q1 = platform.post(
        "Q1 first #Thread1", key="t/2026-12-02/q1/bluesky", in_reply_to=intro.remote_id
    )
    # A restart between posts: the refs come from the repository, not from memory.
    q2 = rig.platform(clock).post(
        "Q2 second #Thread1", key="t/2026-12-02/q2/bluesky", in_reply_to=q1.remote_id
    )

    did = rig.account.did
    intro_rec, q1_rec, q2_rec = (_record(bluesky, did, p.remote_id) for p in (intro, q1, q2))
    root = {"uri": intro_rec["uri"], "cid": intro_rec["cid"]}
    assert "reply" not in intro_rec["value"]
    assert _refs(q1_rec) == {"root": root, "parent": root}
    assert _refs(q2_rec) == {"root": root, "parent": {"uri": q1_rec["uri"], "cid": q1_rec["cid"]}}
    # The AppView sees one thread of three, in order.
    thread = bluesky.wait_for(
        lambda: _thread_depth(bluesky, intro_rec["uri"]) == 3 or None, what="the thread"
    )
    assert thread is True


def _refs(record: dict[str, Any]) -> dict[str, dict[str, str]]:
    reply = record["value"]["reply"]
    return {end: {"uri": reply[end]["uri"], "cid": reply[end]["cid"]} for end in ("root", "parent")}


def _thread_depth(network: BlueskyNetwork, uri: str) -> int:
    answer = network.http.get(
        f"{network.bsky}/xrpc/app.bsky.feed.getPostThread", params={"uri": uri}
    )
    if answer.status_code != 200:
        return 0
    depth, node = 0, answer.json()["thread"]
    while node:
        depth += 1
        node = (node.get("replies") or [None])[0]
    return depth


def test_a_retry_with_the_same_key_after_a_lost_answer_finds_the_post_instead_of_repeating_it(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    key = "once/2026-12-02/q1/bluesky"
    first = rig.platform(clock).post("Q1 only once #OnceChat", key=key, in_reply_to=None)
    # The answer to the first create was lost: a new process posts the same key again.
    again = rig.platform(clock).post("Q1 only once #OnceChat", key=key, in_reply_to=None)

    assert again.remote_id == first.remote_id
    texts = [r["value"]["text"] for r in bluesky.records(rig.account.did, "app.bsky.feed.post")]
    assert texts == ["Q1 only once #OnceChat"]


def test_a_key_whose_record_holds_other_text_is_refused(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    platform = rig.platform(_now())
    platform.post("Q1 as planned #KeyChat", key="k/2026-12-02/q1/bluesky", in_reply_to=None)

    with pytest.raises(PermanentError, match="holds another post"):
        platform.post("Q1 edited since #KeyChat", key="k/2026-12-02/q1/bluesky", in_reply_to=None)
    texts = [r["value"]["text"] for r in bluesky.records(rig.account.did, "app.bsky.feed.post")]
    assert texts == ["Q1 as planned #KeyChat"]


def test_a_claimed_post_is_recovered_from_the_bots_own_feed(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    published = rig.platform(clock).post(
        "Q3 recovered #FeedChat", key="f/2026-12-02/q3/bluesky", in_reply_to=None
    )
    platform = rig.platform(clock)

    found = bluesky.wait_for(
        lambda: platform.find_own_post(
            "Q3 recovered #FeedChat", since=clock.now() - timedelta(minutes=2)
        ),
        what="the post in the bot's feed",
    )
    assert found.remote_id == published.remote_id
    assert found.url == published.url
    assert platform.find_own_post("Q4 never posted #FeedChat", since=clock.now()) is None


def test_a_restart_resumes_the_stored_session_instead_of_logging_in(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    first = rig.platform(clock)
    first.post("Hello #SessionChat", key="s/2026-12-02/intro/bluesky", in_reply_to=None)
    assert first.session.logins == 1

    # Restarted, with a wrong password: only the stored session can work.
    clock.advance(seconds=1)
    second = rig.platform(clock, password="not-the-password-at-all")
    second.post("Q1 #SessionChat", key="s/2026-12-02/q1/bluesky", in_reply_to=None)
    assert second.session.logins == 0

    with create_engine(rig.database_url).connect() as conn:
        rows = conn.execute(text("SELECT handle, session FROM bluesky_sessions")).all()
    assert [r.handle for r in rows] == [rig.account.handle]
    texts = [r["value"]["text"] for r in bluesky.records(rig.account.did, "app.bsky.feed.post")]
    assert texts == ["Hello #SessionChat", "Q1 #SessionChat"]


def test_a_wrong_app_password_is_refused_without_showing_it(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    password = "wrong-pass-1234-abcd"
    platform = rig.platform(_now(), password=password)

    with pytest.raises(PermanentError) as refused:
        platform.post("Hello #WrongChat", key="w/2026-12-02/intro/bluesky", in_reply_to=None)
    assert "refused the login" in refused.value.reason
    assert password not in refused.value.reason
    assert bluesky.records(rig.account.did, "app.bsky.feed.post") == []


def _planned(key: str, text: str, at: datetime, *, replies_to: tuple[str, ...] = ()) -> PlannedPost:
    slot = key.split("/")[2]
    return PlannedPost(
        key=key,
        occurrence="lost/2026-12-02",
        slot=slot,
        kind="question" if slot.startswith("q") else "intro",
        number=int(slot[1:]) if slot.startswith("q") else None,
        platform="bluesky",
        at=at,
        text=text,
        replies_to=replies_to,
    )


@pytest.mark.parametrize("late", [timedelta(seconds=5), timedelta(minutes=30)])
def test_a_post_made_before_a_crash_but_never_recorded_is_recorded_not_repeated(
    bluesky: BlueskyNetwork, tmp_path: Path, late: timedelta
) -> None:
    """The worker died between post and record: the next one finds the post in the bot's
    feed and records it, in time or past the grace alike."""
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    store = SqlStore.from_url(rig.database_url)
    intro = _planned("lost/2026-12-02/intro/bluesky", "Welcome #LostChat", clock.now())
    q1 = _planned(
        "lost/2026-12-02/q1/bluesky",
        "Q1 lost answer #LostChat",
        clock.now(),
        replies_to=(intro.key,),
    )

    def publisher(platform: BlueskyPlatform) -> PostPublisher:
        return publisher_for(store, platform, clock)

    try:
        first = rig.platform(clock)
        assert publisher(first).publish(intro) == "published"
        # What a dying worker leaves: the key claimed, the post on the PDS, nothing recorded.
        store.claim(
            q1.key, occurrence=q1.occurrence, platform="bluesky", planned_at=q1.at, now=clock.now()
        )
        intro_entry = store.get(intro.key)
        assert intro_entry is not None
        made = first.post(q1.text, key=q1.key, in_reply_to=intro_entry.remote_id)
        # The restart takes longer than the AppView needs to index the post.
        bluesky.wait_for(lambda: bluesky.appview_post(post_uri(made.remote_id)), what="indexed")
        clock.advance(seconds=late.total_seconds())

        outcome = publisher(rig.platform(clock)).publish(q1)

        assert outcome == "recovered"
        entry = store.get(q1.key)
        assert entry is not None
        assert (entry.state, entry.remote_id) == ("done", made.remote_id)
        texts = [r["value"]["text"] for r in bluesky.records(rig.account.did, "app.bsky.feed.post")]
        assert sorted(texts) == sorted([intro.text, q1.text])
    finally:
        store.close()


def _expired_jwt(jwt: str) -> str:
    """The token with its expiry moved into the past (its signature no longer matches: the
    server would refuse it, so only a refresh can go on)."""
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 3600
    moved = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{moved}.{signature}"


def _stored(rig: BotRig) -> str:
    with create_engine(rig.database_url).connect() as conn:
        return str(conn.execute(text("SELECT session FROM bluesky_sessions")).scalar_one())


def _store(rig: BotRig, session: str) -> None:
    with create_engine(rig.database_url).begin() as conn:
        conn.execute(text("UPDATE bluesky_sessions SET session = :s"), {"s": session})


def test_a_stored_session_whose_access_token_expired_is_refreshed_not_logged_in_again(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    rig.platform(clock).post(
        "Hello #RefreshChat", key="r/2026-12-02/intro/bluesky", in_reply_to=None
    )
    before = Session.decode(_stored(rig))
    _store(rig, replace(before, access_jwt=_expired_jwt(before.access_jwt)).encode())

    clock.advance(seconds=1)
    later = rig.platform(clock, password="not-the-password-at-all")
    later.post("Q1 #RefreshChat", key="r/2026-12-02/q1/bluesky", in_reply_to=None)

    assert later.session.logins == 0
    after = Session.decode(_stored(rig))
    assert after.refresh_jwt != before.refresh_jwt  # refreshed (and rotated), then saved
    texts = [r["value"]["text"] for r in bluesky.records(rig.account.did, "app.bsky.feed.post")]
    assert texts == ["Hello #RefreshChat", "Q1 #RefreshChat"]


def test_a_stored_session_that_cannot_be_refreshed_gives_way_to_the_app_password(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    rig = bot_rig(bluesky, tmp_path)
    clock = _now()
    rig.platform(clock).post(
        "Hello #RevokedChat", key="v/2026-12-02/intro/bluesky", in_reply_to=None
    )
    before = Session.decode(_stored(rig))
    _store(
        rig,
        replace(
            before,
            access_jwt=_expired_jwt(before.access_jwt),
            refresh_jwt=_expired_jwt(before.refresh_jwt),
        ).encode(),
    )

    clock.advance(seconds=1)
    later = rig.platform(clock)
    later.post("Q1 #RevokedChat", key="v/2026-12-02/q1/bluesky", in_reply_to=None)

    assert later.session.logins == 1
    assert Session.decode(_stored(rig)).refresh_jwt != before.refresh_jwt
