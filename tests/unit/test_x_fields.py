"""Issue 12 item 16: the bot reads X's answers under the names of its description 2.167 and
the older ones alike, and narrows what it asks for to what X accepts."""

from __future__ import annotations

from bot.adapters.x_fields import FieldRequest, Refusal
from bot.adapters.x_post import to_post
from bot.core.model import ArchivedPost

USERS = {"7": {"id": "7", "username": "ann", "name": "Ann"}}


def read(references: str, reposts: str) -> ArchivedPost:
    """A reply reposted 4 times, under these names of the reference list and repost count."""
    tweet = {
        "id": "100",
        "text": "Evenings for me",
        "author_id": "7",
        "created_at": "2026-12-02T20:11:00.000Z",
        references: [{"type": "replied_to", "id": "90"}],
        "public_metrics": {reposts: 4},
    }
    fetched = to_post(tweet, USERS, own_user_id="1")
    assert isinstance(fetched, ArchivedPost)
    return fetched


def test_replies_and_reposts_are_read_under_the_new_and_the_old_names() -> None:
    """Issue 12 item 16: `referenced_posts`/`repost_count` (2.167) and
    `referenced_tweets`/`retweet_count` (older answers) give the same post."""
    new = read("referenced_posts", "repost_count")

    assert new == read("referenced_tweets", "retweet_count")
    assert (new.in_reply_to, new.boosts) == ("90", 4)


def test_a_refused_value_is_left_out_and_an_old_expansion_name_tried() -> None:
    """Issue 12 item 16: X's 400 names the values it does not know; the next request leaves
    them out, or asks for the older name of an expansion."""
    fields = FieldRequest(
        {"post.fields": ["created_at", "lang"], "expansions": ["author_id", "referenced_posts"]}
    )
    body = {
        "errors": [
            {"parameters": {"post.fields": ["lang"]}, "message": "The `post.fields` value..."},
            {"parameters": {"expansions": ["referenced_posts"]}, "message": "The `expansions`"},
        ]
    }

    changes = fields.refuse(Refusal.from_body(body))

    assert changes == [
        "post.fields: lang refused, left out",
        "expansions: referenced_posts refused, asking for referenced_tweets.id",
    ]
    assert fields.query() == {
        "post.fields": "created_at",
        "expansions": "author_id,referenced_tweets.id",
    }


def test_an_unknown_fields_parameter_falls_back_to_its_older_name() -> None:
    """Issue 12 item 16: an X that does not know `post.fields` is asked with `tweet.fields`;
    a 400 naming nothing the bot asked for changes nothing (the error stands)."""
    fields = FieldRequest({"post.fields": ["created_at"]})
    unknown = {
        "errors": [
            {
                "parameters": {"post.fields": ["created_at"]},
                "message": "The query parameter [post.fields] is not one of [query,tweet.fields]",
            }
        ]
    }

    assert fields.refuse(Refusal.from_body(unknown)) == [
        "post.fields refused, asking for tweet.fields"
    ]
    assert fields.query() == {"tweet.fields": "created_at"}
    assert fields.refuse(Refusal.from_body({"parameter": "query", "value": "#x"})) == []
    assert fields.refuse(Refusal.from_body({"errors": "not a list"})) == []


def test_a_refusal_that_names_every_value_changes_nothing() -> None:
    """Issue 12 item 16: an answer naming all the values sent (joined, as some errors do)
    cannot say which one X does not know: nothing is dropped and the error stands."""
    fields = FieldRequest({"post.fields": ["created_at", "lang"]})
    vague = {"errors": [{"parameters": {"post.fields": ["created_at,lang"]}, "message": "?"}]}
    one = {"errors": [{"parameters": {"post.fields": ["created_at,bogus"]}, "message": "?"}]}

    assert fields.refuse(Refusal.from_body(vague)) == []
    assert fields.query() == {"post.fields": "created_at,lang"}
    assert fields.refuse(Refusal.from_body(one)) == ["post.fields: created_at refused, left out"]
