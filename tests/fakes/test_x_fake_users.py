"""The fake X API's /2/users endpoints through a real tweepy Client: who the bot is, and
its reposts."""

from __future__ import annotations

from typing import Any

from tests.fakes.x_api import FakeXApi
from tests.support.x_fake_client import ids_of, search


def test_me_is_the_bot(x: FakeXApi, client: Any) -> None:
    me = client.get_me().data

    assert (str(me.id), me.username, me.name) == (x.bot_user_id, "chatbot", "chatbot")


def test_retweet_is_recorded_once(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 a great answer #hexichat")

    first = client.retweet(answer)
    again = client.retweet(answer)

    assert first.data == again.data == {"retweeted": True, "rest_id": first.data["rest_id"]}
    assert x.retweets == [(x.bot_user_id, answer)]
    assert x.tweets[answer]["public_metrics"]["repost_count"] == 1


def test_unretweet_removes_the_repost(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")
    client.retweet(answer)

    assert client.unretweet(answer).data == {"retweeted": False}
    assert x.retweets == []
    assert ids_of(search(client, "#hexichat")) == [answer]
