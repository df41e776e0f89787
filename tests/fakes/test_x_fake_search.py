"""The fake X API's paged reads through a real tweepy Client: search/recent (its query
syntax, paging, fields and expansions, what it bills) and a user's timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import tweepy

from tests.fakes.x_api import FakeXApi
from tests.fakes.x_errors import NOT_IMPLEMENTED_TYPE
from tests.support.clock import ManualClock
from tests.support.x_fake_client import POST_FIELDS, START, TAG_QUERY, USER_FIELDS, ids_of, search


def test_search_pages_newest_first_with_authors(x: FakeXApi, client: Any) -> None:
    x.add_user("ann", name="Ann", followers=120, description="teacher")
    x.add_user("bob")
    answers = [x.post_as("ann" if i % 2 else "bob", f"A1 answer {i} #HexiChat") for i in range(15)]
    x.post_as("ann", "not part of the chat")
    options: dict[str, Any] = {
        "max_results": 10,
        "post.fields": POST_FIELDS,
        "expansions": ["author_id"],
        "user_fields": USER_FIELDS,
    }

    first = search(client, **options)
    second = search(client, next_token=first.meta["next_token"], **options)

    newest_first = answers[::-1]
    assert ids_of(first) == newest_first[:10]
    assert first.meta == {
        "result_count": 10,
        "newest_id": newest_first[0],
        "oldest_id": newest_first[9],
        "next_token": first.meta["next_token"],
    }
    assert ids_of(second) == newest_first[10:]
    assert "next_token" not in second.meta
    authors = {user.username: user for user in first.includes["users"]}
    assert set(authors) == {"ann", "bob"}
    assert authors["ann"].name == "Ann"
    assert authors["ann"].description == "teacher"
    assert authors["ann"].public_metrics["followers_count"] == 120
    assert authors["ann"].protected is False


def test_since_id_returns_only_newer_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    seen = x.post_as("ann", "A1 first #hexichat")
    newer = x.post_as("ann", "A1 second #hexichat")

    assert ids_of(search(client, since_id=seen)) == [newer]
    assert search(client, since_id=newer).data is None


def test_start_time_leaves_out_older_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    x.post_as("ann", "A1 last night #hexichat", created_at=START - timedelta(hours=20))
    today = x.post_as("ann", "A1 tonight #hexichat")

    found = search(client, start_time=START - timedelta(minutes=10))

    assert ids_of(found) == [today]
    with pytest.raises(tweepy.BadRequest):
        search(client, start_time="yesterday")


def test_empty_search_has_only_meta(x: FakeXApi, raw_client: Any) -> None:
    body = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True).json()

    assert body == {"meta": {"result_count": 0}}


def test_reads_count_every_returned_post_once(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    for i in range(12):
        x.post_as("ann", f"A{i} #hexichat")
    client.create_tweet(text="Q1 #hexichat")  # posting is not reading

    first = search(client)
    second = search(client, next_token=first.meta["next_token"], since_id=None)
    newest = first.meta["newest_id"]
    late = x.post_as("ann", "late #hexichat")
    third = search(client, since_id=newest)

    assert ids_of(third) == [late]
    assert x.reads == 14 == len(ids_of(first)) + len(ids_of(second)) + 1
    assert set(x.reads_by_id.values()) == {1}


def test_reading_a_post_twice_is_counted_twice(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")

    search(client)
    search(client)

    assert x.reads_by_id[answer] == 2
    assert x.reads == 2


def test_only_requested_post_fields_are_returned(x: FakeXApi, raw_client: Any) -> None:
    x.add_user("ann")
    question = x.post_as("chatbot", "Q1 #hexichat")
    x.post_as("ann", "A1 yes #hexichat", reply_to=question)

    bare = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True).json()["data"][0]
    body = raw_client.search_recent_tweets(
        TAG_QUERY,
        user_auth=True,
        expansions=["author_id", "referenced_posts"],
        **{"post.fields": POST_FIELDS},
    ).json()
    rich = body["data"][0]

    assert set(bare) == {"id", "text", "edit_history_post_ids"}
    # The author and the references come with their expansions only.
    expanded = {"author_id", "referenced_posts"}
    assert set(rich) == {"id", "text", "edit_history_post_ids", *POST_FIELDS, *expanded}
    assert rich["created_at"] == "2026-12-02T20:00:00.000Z"
    assert rich["referenced_posts"] == [{"type": "replied_to", "id": question}]
    assert [p["id"] for p in body["includes"]["posts"]] == [question]
    assert rich["public_metrics"] == {
        "repost_count": 0,
        "reply_count": 0,
        "like_count": 0,
        "quote_count": 0,
        "bookmark_count": 0,
        "impression_count": 0,
    }


def test_conversation_query_finds_untagged_replies(x: FakeXApi, client: Any) -> None:
    ann_id = x.add_user("ann")
    x.add_user("bob")
    question = client.create_tweet(text="Q1 What brought you here? #hexichat").data["id"]
    answer = x.post_as("ann", "A1 curiosity", reply_to=question)
    nested = x.post_as("bob", "same here", reply_to=answer)
    x.post_as("ann", "another conversation")

    found = search(
        client,
        f"conversation_id:{question}",
        expansions=["referenced_posts", "in_reply_to_user_id"],
        **{"post.fields": ["conversation_id"]},
    )

    assert ids_of(found) == [nested, answer, question]  # the root is in its own conversation
    newest = found.data[0].data
    assert newest["conversation_id"] == question
    assert newest["in_reply_to_user_id"] == ann_id
    assert newest["referenced_posts"] == [{"type": "replied_to", "id": answer}]


def test_fields_outside_the_description_are_refused_as_x_does(x: FakeXApi, raw_client: Any) -> None:
    """The older names are a 400 naming them: `tweet.fields` is no parameter of search/recent
    in X's description 2.167, and `author_id` no value of `post.fields`."""

    def refusal(**params: Any) -> dict[str, Any]:
        with pytest.raises(tweepy.BadRequest) as refused:
            raw_client.search_recent_tweets(TAG_QUERY, user_auth=True, **params)
        error: dict[str, Any] = refused.value.response.json()["errors"][0]
        return error

    old_parameter = refusal(tweet_fields=["created_at"])
    old_value = refusal(**{"post.fields": ["created_at", "author_id"]})
    x.refused_values = {"post.fields": frozenset({"lang"})}
    refused = refusal(**{"post.fields": ["lang"]})

    assert old_parameter["parameters"] == {"tweet.fields": ["created_at"]}
    assert old_parameter["message"].startswith("The query parameter [")
    assert old_value["parameters"] == {"post.fields": ["author_id"]}
    assert refused["parameters"] == {"post.fields": ["lang"]}


def test_query_operators(x: FakeXApi, client: Any, clock: ManualClock) -> None:
    x.add_user("ann")
    x.add_user("carol", protected=True)
    old = x.post_as("ann", "A1 last week #hexichat", created_at=START - timedelta(days=8))
    upper = x.post_as("ann", "A1 shouting #HEXICHAT")
    other = x.post_as("ann", "A1 #otherchat")
    x.post_as("carol", "A1 private #hexichat")
    repost = x.retweet_as("ann", upper)

    assert ids_of(search(client, "#hexichat")) == [repost, upper]
    assert ids_of(search(client, "#hexichat -is:retweet")) == [upper]
    assert ids_of(search(client, "(#hexichat OR #otherchat) -is:retweet")) == [other, upper]
    assert ids_of(search(client, "from:ann shouting -is:retweet")) == [upper]
    assert old not in ids_of(search(client, "from:ann"))


def test_unimplemented_operator_fails_loudly(x: FakeXApi, client: Any) -> None:
    with pytest.raises(tweepy.BadRequest) as refused:
        search(client, "#hexichat lang:en")

    assert refused.value.response.json()["type"] == NOT_IMPLEMENTED_TYPE


def test_max_results_outside_10_to_100_is_a_bad_request(x: FakeXApi, client: Any) -> None:
    with pytest.raises(tweepy.BadRequest) as refused:
        search(client, max_results=5)

    assert refused.value.api_messages == [
        "The `max_results` query parameter value [5] is not between 10 and 100"
    ]


def test_user_timeline_finds_the_bots_own_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    mine = [client.create_tweet(text=f"Q{i} #hexichat").data["id"] for i in range(1, 4)]
    x.post_as("ann", "A1 #hexichat", reply_to=mine[0])

    timeline = client.get_users_tweets(x.bot_user_id, user_auth=True, max_results=5)
    newer = client.get_users_tweets(x.bot_user_id, user_auth=True, since_id=mine[1])

    assert ids_of(timeline) == mine[::-1]
    assert [t.text for t in timeline.data] == ["Q3 #hexichat", "Q2 #hexichat", "Q1 #hexichat"]
    assert ids_of(newer) == [mine[2]]
    assert x.reads == 4
