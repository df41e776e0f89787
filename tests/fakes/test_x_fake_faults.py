"""The fake X API's faults and limits through a real tweepy Client: scripted errors, a
forbidden search, the usage cap, a lost answer, and the rate-limit headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
import tweepy

from tests.fakes.x_api import FakeXApi
from tests.fakes.x_errors import CLIENT_FORBIDDEN
from tests.support.x_fake_client import START, TAG_QUERY, epoch, search


def test_scripted_429_carries_its_reset_time(x: FakeXApi, client: Any) -> None:
    x.fail_next("/2/tweets/search/recent", 429, reset_in=90)

    with pytest.raises(tweepy.TooManyRequests) as limited:
        search(client)
    search(client)  # the fault was for one request only

    headers = limited.value.response.headers
    assert limited.value.reset_time == epoch(START) + 90
    assert headers["x-rate-limit-reset"] == str(epoch(START) + 90)
    assert headers["x-rate-limit-remaining"] == "0"
    assert limited.value.response.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }


def test_scripted_503_hits_only_the_matching_method(x: FakeXApi, client: Any) -> None:
    x.fail_next("/2/tweets", 503, times=2, method="POST")

    search(client)  # a GET under the same prefix is untouched
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError) as unavailable:
            client.create_tweet(text="Q1 #hexichat")
    client.create_tweet(text="Q1 #hexichat")

    assert unavailable.value.response.status_code == 503
    assert unavailable.value.api_messages == ["Service Unavailable"]
    assert [p["text"] for p in x.created_posts] == ["Q1 #hexichat"]


def test_forbidden_search_leaves_posting_working(x: FakeXApi, client: Any) -> None:
    x.search_forbidden = True

    with pytest.raises(tweepy.Forbidden) as forbidden:
        search(client)
    client.create_tweet(text="Q1 #hexichat")

    assert forbidden.value.response.json() == CLIENT_FORBIDDEN
    assert forbidden.value.api_messages == [CLIENT_FORBIDDEN["detail"]]
    assert len(x.created_posts) == 1


def test_usage_cap_blocks_reads_not_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    x.post_as("ann", "A1 #hexichat")
    x.usage_cap_exceeded = True

    with pytest.raises(tweepy.TooManyRequests) as capped:
        search(client)
    with pytest.raises(tweepy.TooManyRequests):
        client.get_users_tweets(x.bot_user_id, user_auth=True)
    client.create_tweet(text="Q1 #hexichat")

    body = capped.value.response.json()
    assert body["type"] == "https://api.twitter.com/2/problems/usage-capped"
    assert (body["period"], body["scope"]) == ("Monthly", "Product")
    assert x.reads == 0


def test_lost_answer_creates_the_post_and_drops_the_connection(x: FakeXApi, client: Any) -> None:
    x.lose_next_post_answer = True

    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_tweet(text="Q3 What surprised you? #hexichat")
    found = client.get_users_tweets(x.bot_user_id, user_auth=True, max_results=5)
    client.create_tweet(text="Q4 #hexichat")  # only the next answer was lost

    assert [p["text"] for p in x.created_posts] == [
        "Q3 What surprised you? #hexichat",
        "Q4 #hexichat",
    ]
    assert found.data[0].text == "Q3 What surprised you? #hexichat"


def test_rate_limit_headers_on_every_answer(x: FakeXApi, raw_client: Any) -> None:
    posted = raw_client.create_tweet(text="Q1 #hexichat")
    searched = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True)

    assert posted.headers["x-rate-limit-limit"] == "100"
    assert posted.headers["x-rate-limit-remaining"] == "99"
    assert posted.headers["x-rate-limit-reset"] == str(epoch(START + timedelta(minutes=15)))
    assert posted.headers["x-user-limit-24hour-limit"] == "100"
    assert posted.headers["x-user-limit-24hour-remaining"] == "99"
    assert posted.headers["x-user-limit-24hour-reset"] == str(epoch(START + timedelta(hours=24)))
    assert searched.headers["x-rate-limit-remaining"] == "299"
    assert "x-user-limit-24hour-limit" not in searched.headers
