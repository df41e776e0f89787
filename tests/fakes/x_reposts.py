"""The fake X API's repost endpoints: POST /2/users/:id/retweets and
DELETE /2/users/:id/retweets/:tweet_id, for the bot only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakes.x_errors import NOT_PERMITTED_DETAIL, ApiError, invalid, problem
from tests.fakes.x_exchange import Call, Reply

if TYPE_CHECKING:
    from tests.fakes.x_api import FakeXApi


def retweet(api: FakeXApi, call: Call) -> Reply:
    store = api.store
    _require_bot(api, call.args[0])
    tweet_id = (call.body or {}).get("tweet_id")
    if not isinstance(tweet_id, str) or tweet_id not in store.tweets:
        raise invalid("tweet_id", str(tweet_id), "The `tweet_id` field must name an existing post")
    original = store.tweets[tweet_id]
    if store.users[original.author_id].protected and original.author_id != api.bot_user_id:
        raise ApiError(403, problem(403, NOT_PERMITTED_DETAIL))
    repost_id = store.repost(store.users[api.bot_user_id], original, call.now)
    return Reply(200, {"data": {"retweeted": True, "rest_id": repost_id}})


def unretweet(api: FakeXApi, call: Call) -> Reply:
    store = api.store
    _require_bot(api, call.args[0])
    repost_id = store.retweets.pop((api.bot_user_id, call.args[1]), None)
    if repost_id is not None:
        store.tweets.pop(repost_id, None)
        original = store.tweets.get(call.args[1])
        if original is not None:
            original.repost_count -= 1
    return Reply(200, {"data": {"retweeted": False}})


def _require_bot(api: FakeXApi, user_id: str) -> None:
    # X lets a user act only for itself: the :id in the path must be the authenticated user.
    if user_id != api.bot_user_id:
        raise ApiError(403, problem(403, NOT_PERMITTED_DETAIL))
