"""The fake X API's post endpoints: POST /2/tweets, and the lookups GET /2/tweets/:id and
GET /2/tweets?ids=.

Posted text is stored with its URLs wrapped in t.co links, as X stores it, so the stored text
can differ from the text sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.contracts import x_openapi
from tests.fakes.x_errors import (
    DUPLICATE_DETAIL,
    REPLY_REFUSED_DETAIL,
    REPLY_TARGET_MISSING_DETAIL,
    ApiError,
    invalid,
    not_found,
    not_implemented,
    problem,
)
from tests.fakes.x_exchange import Call, Reply
from tests.fakes.x_params import check_params
from tests.fakes.x_render import FIELD_PARAMS, render
from tests.fakes.x_store import Tweet
from tests.fakes.x_text import weighted_length, wrap_urls

if TYPE_CHECKING:
    from tests.fakes.x_api import FakeXApi

MAX_WEIGHTED_LENGTH = 280
CREATE_BODY_KEYS = frozenset({"text", "reply", "reply_settings"})
LOOKUP_PARAMS = x_openapi.parameter_names("GET /2/tweets")
LOOKUP_IMPLEMENTED = FIELD_PARAMS | {"ids"}


def create_tweet(api: FakeXApi, call: Call) -> Reply:
    store = api.store
    body = call.body or {}
    unsupported = sorted(set(body) - CREATE_BODY_KEYS)
    if unsupported:
        raise not_implemented(f"the POST /2/tweets field {unsupported[0]}")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text", str(text), "The `text` field is required and cannot be empty")
    if weighted_length(text) > MAX_WEIGHTED_LENGTH:
        raise invalid("text", text, "Your Tweet text is too long.")
    parent = _reply_target(api, body.get("reply"))
    bot = store.users[api.bot_user_id]
    if wrap_urls(text)[0] in (t.text for t in store.tweets.values() if t.author_id == bot.id):
        raise ApiError(403, problem(403, DUPLICATE_DETAIL))
    daily = api.limits.daily
    daily.roll(call.now)
    if daily.remaining == 0:
        raise ApiError(429, problem(429))
    daily.used += 1
    tweet = store.new_tweet(bot, text, parent, call.now)
    store.api_created.append(tweet.id)
    if api.lose_next_post_answer:
        api.lose_next_post_answer = False
        return Reply(201, drop=True)
    return Reply(
        201,
        {"data": {"id": tweet.id, "text": tweet.text, "edit_history_post_ids": [tweet.id]}},
    )


def _reply_target(api: FakeXApi, reply: object) -> Tweet | None:
    if reply is None:
        return None
    target = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    if not isinstance(target, str) or not target.isdigit():
        raise invalid(
            "reply.in_reply_to_tweet_id", str(target), "A reply needs in_reply_to_tweet_id"
        )
    if api.refuse_replies:
        raise ApiError(403, problem(403, REPLY_REFUSED_DETAIL))
    parent = api.store.tweets.get(target)
    if parent is None:
        raise ApiError(403, problem(403, REPLY_TARGET_MISSING_DETAIL))
    return parent


def lookup_one(api: FakeXApi, call: Call) -> Reply:
    check_params(call.params, LOOKUP_PARAMS - {"ids"}, LOOKUP_IMPLEMENTED)
    tweet_id = call.args[0]
    tweet = api.store.tweets.get(tweet_id)
    if tweet is None:
        # Still validates the parameters, as X does.
        render(api.store, [], call.params, api.refused_values)
        return Reply(200, {"errors": [not_found("tweet", "id", tweet_id)]})
    return Reply(200, render(api.store, [tweet], call.params, api.refused_values, single=True))


def lookup_many(api: FakeXApi, call: Call) -> Reply:
    check_params(call.params, LOOKUP_PARAMS, LOOKUP_IMPLEMENTED)
    ids = [i for i in call.params.get("ids", "").split(",") if i]
    if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
        raise invalid("ids", call.params.get("ids", ""), "`ids` takes 1 to 100 numeric post ids")
    tweets = api.store.tweets
    found = [tweets[i] for i in ids if i in tweets]
    body = render(api.store, found, call.params, api.refused_values)
    missing = [not_found("tweet", "ids", i) for i in ids if i not in tweets]
    if missing:
        body["errors"] = missing
    return Reply(200, body)
