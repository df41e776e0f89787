"""The fake X API's posts over real HTTP, through a real tweepy Client: creating them
(POST /2/tweets, its checks and its 24-hour limit) and looking them up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import tweepy

from tests.fakes.x_api import FakeXApi
from tests.fakes.x_errors import DUPLICATE_DETAIL, REPLY_REFUSED_DETAIL
from tests.support.clock import ManualClock
from tests.support.x_fake_client import START, epoch, ids_of, make_client


def test_post_answers_201_with_id_text_and_is_stored(x: FakeXApi, raw_client: Any) -> None:
    response = raw_client.create_tweet(text="Q1 What brought you here? #hexichat")

    assert response.status_code == 201
    body = response.json()
    post_id = body["data"]["id"]
    assert body == {
        "data": {
            "id": post_id,
            "text": "Q1 What brought you here? #hexichat",
            "edit_history_post_ids": [post_id],
        }
    }
    [stored] = x.created_posts
    assert stored["id"] == post_id
    assert stored["author_id"] == x.bot_user_id
    assert stored["conversation_id"] == post_id
    assert stored["created_at"] == "2026-12-02T20:00:00.000Z"
    assert stored["entities"]["hashtags"] == [{"start": 26, "end": 35, "tag": "hexichat"}]


def test_ids_are_increasing_numeric_strings(x: FakeXApi, client: Any) -> None:
    first = client.create_tweet(text="one").data["id"]
    second = x.post_as("chatbot", "two")

    assert first.isdigit()
    assert second.isdigit()
    assert int(second) > int(first) >= 1_860_000_000_000_000_000


def test_thread_reply_links_to_its_parent(x: FakeXApi, client: Any) -> None:
    first = client.create_tweet(text="Wrap-up 1/2").data["id"]
    second = client.create_tweet(text="Wrap-up 2/2", in_reply_to_tweet_id=first).data["id"]

    reply = x.tweets[second]
    assert reply["conversation_id"] == first
    assert reply["referenced_posts"] == [{"type": "replied_to", "id": first}]
    assert reply["in_reply_to_user_id"] == x.bot_user_id
    assert x.tweets[first]["public_metrics"]["reply_count"] == 1


def test_refused_reply_is_forbidden_and_a_standalone_post_still_works(
    x: FakeXApi, client: Any
) -> None:
    question = client.create_tweet(text="Q1 #hexichat").data["id"]
    x.refuse_replies = True

    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="Q1 follow-up", in_reply_to_tweet_id=question)
    client.create_tweet(text="Q1 follow-up (standalone)")

    assert refused.value.response.status_code == 403
    assert refused.value.api_messages == [REPLY_REFUSED_DETAIL]
    assert refused.value.response.json()["type"] == "about:blank"
    assert [p["text"] for p in x.created_posts] == ["Q1 #hexichat", "Q1 follow-up (standalone)"]


def test_duplicate_content_is_forbidden(x: FakeXApi, client: Any) -> None:
    client.create_tweet(text="Welcome to #hexichat!")

    with pytest.raises(tweepy.Forbidden) as duplicate:
        client.create_tweet(text="Welcome to #hexichat!")

    assert str(duplicate.value) == f"403 Forbidden\n{DUPLICATE_DETAIL}"
    assert duplicate.value.response.json() == {
        "detail": DUPLICATE_DETAIL,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    assert len(x.created_posts) == 1


def test_length_is_weighted_like_x(x: FakeXApi, client: Any) -> None:
    client.create_tweet(text="😀" * 140)  # 140 emoji weigh 280: the limit exactly

    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="😀" * 141)

    assert len(x.created_posts) == 1


def test_urls_are_stored_as_tco_links(x: FakeXApi, client: Any) -> None:
    url = "https://example.org/hexichat/2026-12-02"
    answer = client.create_tweet(text=f"Transcript: {url} #hexichat")

    assert answer.data["text"].startswith("Transcript: https://t.co/")
    [stored] = x.created_posts
    assert stored["text"] == answer.data["text"]
    assert stored["entities"]["urls"][0]["expanded_url"] == url


def test_user_limit_of_24_hours_answers_429_with_its_own_reset(clock: ManualClock) -> None:
    with FakeXApi(clock=clock, daily_post_limit=2) as fake:
        client = make_client(fake)
        client.create_tweet(text="one")
        client.create_tweet(text="two")

        with pytest.raises(tweepy.TooManyRequests) as limited:
            client.create_tweet(text="three")
        clock.advance(hours=24)
        client.create_tweet(text="three")

    headers = limited.value.response.headers
    assert headers["x-user-limit-24hour-remaining"] == "0"
    assert headers["x-user-limit-24hour-reset"] == str(epoch(START + timedelta(hours=24)))
    # tweepy's reset_time reads only the 15-minute window, which is not the one exhausted.
    assert limited.value.reset_time == epoch(START + timedelta(minutes=15))
    assert [p["text"] for p in fake.created_posts] == ["one", "two", "three"]


def test_lookups_return_posts_and_not_found_errors(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")
    gone = x.post_as("ann", "A1 oops #hexichat")
    x.delete_tweet(gone)

    one = client.get_tweet(answer, user_auth=True, expansions=["author_id"])
    many = client.get_tweets([answer, gone], user_auth=True)
    missing = client.get_tweet(gone, user_auth=True)

    assert one.data.author_id == int(x.user_id("ann"))
    assert ids_of(many) == [answer]
    assert [e["resource_id"] for e in many.errors] == [gone]
    assert missing.data is None
    assert missing.errors[0]["title"] == "Not Found Error"
    assert x.reads_by_id == {answer: 2}
