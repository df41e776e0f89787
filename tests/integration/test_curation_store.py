"""The curation tables on each database the store supports (SQLite, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.core.masking import register_secret
from bot.core.model import ArchivedPost, Author
from bot.ports.curation import ApprovalRound, BoostDecision

NOW = datetime(2026, 12, 2, 20, 10, tzinfo=UTC)


def test_a_forget_me_supersedes_a_stop_and_both_persist(store: SqlStore) -> None:
    curation = CurationSql(store.engine)
    assert curation.add_optout("mastodon", "7", kind="stop", status_id="100", now=NOW)
    assert not curation.add_optout("mastodon", "7", kind="stop", status_id="101", now=NOW)
    assert curation.add_optout("mastodon", "7", kind="forget", status_id="102", now=NOW)
    assert not curation.add_optout("mastodon", "7", kind="stop", status_id="103", now=NOW)
    assert curation.add_optout("x", "7", kind="stop", status_id="9", now=NOW)
    # Another engine (another worker, or the process after a restart) sees the same.
    again = SqlStore.from_url(store.engine.url.render_as_string(hide_password=False))
    try:
        assert CurationSql(again.engine).optouts() == {"mastodon:7": "forget", "x:7": "stop"}
    finally:
        again.close()


def test_a_boosted_decision_is_final(store: SqlStore) -> None:
    curation = CurationSql(store.engine)
    scored = BoostDecision(
        occurrence="c/2026-12-02",
        platform="mastodon",
        post_id="55",
        author="mastodon:7",
        question=2,
        state="scored",
        decided_at=NOW,
        score=6.0,
        breakdown=(("answers", 3.0), ("favourites", 3.0)),
    )
    curation.save_decision(scored)
    curation.save_decision(replace(scored, score=7.0, breakdown=(("answers", 3.0),)))
    boosted = replace(scored, state="boosted", boosted_at=NOW + timedelta(seconds=1))
    curation.save_decision(boosted)
    curation.save_decision(replace(scored, state="rejected", rule="already_boosted"))
    assert curation.decisions("c/2026-12-02") == [boosted]
    assert curation.decisions("c/2026-12-02", post_ids=["55", "56"]) == [boosted]
    assert curation.decisions("c/2026-12-02", post_ids=["56"]) == []
    assert curation.forget_decisions("mastodon:7") == 1
    assert curation.decisions("c/2026-12-02") == []


def test_rounds_and_the_cursor_are_kept(store: SqlStore) -> None:
    curation = CurationSql(store.engine)
    round_ = ApprovalRound("c/2026-12-02", "mastodon", 1, ("5", "3", "9"), "open", NOW)
    curation.save_round(round_)
    sent = replace(round_, message_id="77")
    curation.save_round(sent)
    assert curation.rounds("c/2026-12-02", "mastodon") == [sent]
    assert curation.notification_cursor("mastodon") is None
    curation.set_notification_cursor("mastodon", "abc-1")
    curation.set_notification_cursor("mastodon", "abc-2")
    assert curation.notification_cursor("mastodon") == "abc-2"


def _post(post_id: str, occurrence: str, author_id: str, *, own: bool = False) -> ArchivedPost:
    return ArchivedPost(
        platform="mastodon",
        id=post_id,
        occurrence=occurrence,
        url=f"https://example.social/@u{author_id}/{post_id}",
        author=Author("mastodon", author_id, f"@u{author_id}@example.social", f"U{author_id}"),
        created_at=NOW,
        text="A1 hello",
        html="<p>A1 hello</p>",
        is_own=own,
    )


def test_returning_authors_and_forgetting_one(store: SqlStore) -> None:
    archive = SqlArchive(store.engine)
    curation = CurationSql(store.engine)
    for post in (
        _post("1", "chat/2026-11-25", "7"),
        _post("2", "chat/2026-11-25", "8"),
        _post("3", "chat/2026-11-25", "1", own=True),
        _post("4", "other/2026-11-25", "9"),  # another chat
        _post("5", "chat/2026-12-02", "7"),
        _post("6", "chat/2026-12-09", "10"),  # a later one
    ):
        archive.save(post, now=NOW)
    assert curation.returning_authors("chat", before="chat/2026-12-02") == {
        "mastodon:7",
        "mastodon:8",
    }
    assert curation.forget_author("mastodon", "7", now=NOW) == 2
    assert [p.id for p in archive.posts("chat/2026-11-25")] == ["2", "3"]
    assert archive.posts("chat/2026-12-02") == []
    # Forgotten for good: a late capture of the same post is refused.
    assert archive.save(_post("5", "chat/2026-12-02", "7"), now=NOW) == "deleted"


def test_stored_reasons_never_hold_a_secret(store: SqlStore) -> None:
    """Issue 12 item 6: a boost refused, or a post failed, with the token in the server's
    message: the curation record and the ledger keep the reason, masked."""
    token = "tok-" + "s3cr3t" * 6
    register_secret(token)
    curation = CurationSql(store.engine)
    curation.save_decision(
        BoostDecision(
            occurrence="c/2026-12-02",
            platform="mastodon",
            post_id="56",
            author="mastodon:8",
            question=1,
            state="failed",
            decided_at=NOW,
            reason=f"the server refused: 403 token {token} may not boost",
        )
    )
    store.mark(
        "c/2026-12-02/q1/mastodon",
        "failed",
        error=f"the server refused: 422 token {token} may not post",
        now=NOW,
        occurrence="c/2026-12-02",
        platform="mastodon",
        planned_at=NOW,
    )

    [decision] = curation.decisions("c/2026-12-02")
    [entry] = store.entries("c/2026-12-02")
    assert decision.reason == "the server refused: 403 token *** may not boost"
    assert entry.error == "the server refused: 422 token *** may not post"
