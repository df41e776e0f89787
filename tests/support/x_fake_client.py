"""A real tweepy Client pointed at the fake X API, and the calls its tests make through it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import tweepy

from bot.adapters.x_transport import mount_transport
from tests.fakes.x_api import FakeXApi

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TAG_QUERY = "#hexichat -is:retweet"
# The names of X's OpenAPI description 2.167: tweepy 4.17 knows only `tweet.fields`.
POST_FIELDS = ["created_at", "conversation_id", "public_metrics"]
USER_FIELDS = ["description", "public_metrics", "protected"]


def make_client(fake: FakeXApi, **options: Any) -> Any:
    # OAuth 1.0a access tokens start with the user id; tweepy takes the id for
    # /2/users/:id/... routes from that prefix instead of asking the server.
    client = tweepy.Client(
        consumer_key="consumer-key",
        consumer_secret="consumer-secret",
        access_token=f"{fake.bot_user_id}-access-token",
        access_token_secret="access-token-secret",
        wait_on_rate_limit=False,
        **options,
    )
    mount_transport(client.session, fake.base_url, timeout=5)
    return client


def search(client: Any, query: str = TAG_QUERY, **params: Any) -> Any:
    return client.search_recent_tweets(query, user_auth=True, **params)


def ids_of(response: Any) -> list[str]:
    return [str(tweet.id) for tweet in response.data or []]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
