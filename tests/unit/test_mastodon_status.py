"""A Mastodon status as a post: public only, HTML stripped and sanitized, hostile input
skipped with a reason rather than raised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.mastodon_status import MAX_CONTENT_CHARS, to_post
from bot.core.model import ArchivedPost
from bot.ports.following import Skipped


def status(**overrides: Any) -> dict[str, Any]:
    account = {
        "id": "109",
        "username": "alice",
        "acct": "alice",
        "display_name": "Alice \u202eevil\u202c <b>GP</b>",
        "bot": False,
        "note": "<p>Nurse. <a href='https://x.example/tags/nobot'>#<span>nobot</span></a></p>",
        "fields": [{"name": "Pronouns", "value": "<b>she</b>/her"}],
        "followers_count": 42,
    }
    base: dict[str, Any] = {
        "id": "110",
        "url": "https://example.social/@alice/110",
        "uri": "https://example.social/users/alice/statuses/110",
        "account": account,
        "in_reply_to_id": "100",
        "reblog": None,
        "content": '<p>A1 we <script>steal()</script>survey <a href="javascript:x()">'
        "patients</a> &amp; carers</p>",
        "created_at": "2026-12-02T20:06:01.250Z",
        "edited_at": None,
        "visibility": "public",
        "language": "en",
        "replies_count": 2,
        "reblogs_count": 1,
        "favourites_count": 5,
    }
    base.update(overrides)
    return base


def convert(data: dict[str, Any], *, own: str | None = None) -> ArchivedPost | Skipped:
    return to_post(data, home="example.social", own_account_id=own)


def test_a_public_status_becomes_a_post_with_plain_and_safe_text() -> None:
    post = convert(status())
    assert isinstance(post, ArchivedPost)
    assert post.id == "110"
    assert post.url == "https://example.social/@alice/110"
    assert post.created_at == datetime(2026, 12, 2, 20, 6, 1, 250000, tzinfo=UTC)
    assert post.text == "A1 we survey patients & carers"
    assert post.html == (
        '<p>A1 we survey <a rel="nofollow noopener noreferrer">patients</a> &amp; carers</p>'
    )
    assert post.in_reply_to == "100"
    assert (post.replies, post.boosts, post.favourites) == (2, 1, 5)
    assert post.language == "en"
    assert not post.is_own
    author = post.author
    assert author.handle == "@alice@example.social"
    assert author.display_name == "Alice evil <b>GP</b>"  # plain text: shown escaped
    assert author.followers == 42
    assert author.bio == "Nurse. #nobot\nPronouns: she/her"


def test_the_bots_own_status_and_a_remote_author_are_recognised() -> None:
    data = status(account={**status()["account"], "id": "7", "acct": "bob@other.example"})
    post = convert(data, own="7")
    assert isinstance(post, ArchivedPost)
    assert post.is_own
    assert post.author.handle == "@bob@other.example"


def test_an_edit_carries_its_time() -> None:
    post = convert(status(edited_at="2026-12-02T20:09:00+00:00"))
    assert isinstance(post, ArchivedPost)
    assert post.edited_at == datetime(2026, 12, 2, 20, 9, tzinfo=UTC)


def test_mastodon_py_objects_with_real_datetimes_work_too() -> None:
    created = datetime(2026, 12, 2, 20, 6, 1)  # naive: Mastodon.py may give UTC without zone
    post = convert(status(id=110, created_at=created))
    assert isinstance(post, ArchivedPost)
    assert post.id == "110"
    assert post.created_at == created.replace(tzinfo=UTC)


def test_someones_boost_of_an_answer_is_that_answer() -> None:
    wrapper = status(
        id="900",
        account={**status()["account"], "id": "55", "acct": "booster"},
        content="",
        in_reply_to_id=None,
        reblog=status(),
    )
    post = convert(wrapper)
    assert isinstance(post, ArchivedPost)
    assert (post.id, post.author.handle, post.text) == (
        "110",
        "@alice@example.social",
        "A1 we survey patients & carers",
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"visibility": "unlisted"}, "not public (unlisted)"),
        ({"visibility": "private"}, "not public (private)"),
        ({"visibility": None}, "not public (no visibility)"),
        ({"reblog": "1"}, "a boost, not a post"),
    ],
)
def test_what_is_not_a_public_post_is_skipped_quietly(
    overrides: dict[str, Any], reason: str
) -> None:
    hidden = reason.startswith("not public")
    assert convert(status(**overrides)) == Skipped("110", reason, "100", hidden=hidden)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"created_at": "yesterday"}, "malformed: created_at is not a time"),
        ({"created_at": None}, "malformed: no created_at"),
        ({"account": "alice"}, "malformed: no account"),
        ({"account": {"id": "1"}}, "malformed: account without id or acct"),
        ({"content": ["<p>x</p>"]}, "malformed: content is not text"),
        ({"in_reply_to_id": {"id": "1"}}, "malformed: in_reply_to_id is not an id"),
        ({"content": "<p>" + "x" * MAX_CONTENT_CHARS + "</p>"}, "too large (65543 characters"),
    ],
)
def test_malformed_or_huge_statuses_are_skipped_with_a_reason(
    overrides: dict[str, Any], reason: str
) -> None:
    skipped = convert(status(**overrides))
    assert isinstance(skipped, Skipped)
    assert skipped.id == "110"
    assert skipped.reason.startswith(reason)
    assert not skipped.expected


def test_a_status_without_a_usable_id_is_skipped() -> None:
    for bad in (None, "", "1 2", True, 3.5, "x" * 65):
        skipped = convert(status(id=bad))
        assert skipped == Skipped(None, "malformed: no usable id", expected=False)


def test_counts_and_urls_of_the_wrong_kind_are_dropped_not_trusted() -> None:
    post = convert(
        status(
            url="javascript:alert(1)",
            uri="https://example.social/users/alice/statuses/110",
            replies_count=-3,
            reblogs_count="9",
            favourites_count=True,
            language="<script>",
        )
    )
    assert isinstance(post, ArchivedPost)
    assert post.url == "https://example.social/users/alice/statuses/110"
    assert (post.replies, post.boosts, post.favourites) == (0, 0, 0)
    assert post.language is None
