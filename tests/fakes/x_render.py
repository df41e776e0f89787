"""Posts and users as the fake X API's reads answer them, with the fields and expansions asked.

The field and expansion names come from X's OpenAPI description (tests/contracts/x_openapi.py).
``author_id``, ``in_reply_to_user_id`` and ``referenced_posts`` are in a post only when their
expansion is asked for; referenced posts go to ``includes.posts``, not counted as reads.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from tests.contracts import x_openapi
from tests.fakes.x_errors import not_implemented
from tests.fakes.x_exchange import SEARCH, JsonObject
from tests.fakes.x_params import list_param
from tests.fakes.x_store import Tweet, User, XStore

POST_FIELDS = x_openapi.values(SEARCH, "post.fields")
USER_FIELDS = x_openapi.values(SEARCH, "user.fields")
EXPANSIONS = x_openapi.values(SEARCH, "expansions")
USER_EXPANSIONS = frozenset({"author_id", "in_reply_to_user_id", "entities.mentions.username"})
IMPLEMENTED_EXPANSIONS = USER_EXPANSIONS | {"referenced_posts"}
# The parameters that choose what `render` puts in an answer.
FIELD_PARAMS = frozenset({"expansions", "post.fields", "user.fields"})


def x_timestamp(moment: datetime) -> str:
    """X's created_at format: UTC, milliseconds, "Z"."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def full_json(tweet: Tweet) -> JsonObject:
    out: JsonObject = {
        "id": tweet.id,
        "text": tweet.text,
        "edit_history_post_ids": [tweet.id],
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id,
        "created_at": x_timestamp(tweet.created_at),
        "public_metrics": {
            "repost_count": tweet.repost_count,
            "reply_count": tweet.reply_count,
            "like_count": tweet.like_count,
            "quote_count": tweet.quote_count,
            "bookmark_count": 0,
            "impression_count": 0,
        },
        "reply_settings": "everyone",
        "possibly_sensitive": False,
    }
    # X leaves these out, rather than null, when they do not apply.
    if tweet.in_reply_to_user_id is not None:
        out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    referenced = [("replied_to", tweet.replied_to), ("retweeted", tweet.retweet_of)]
    if any(ref_id for _, ref_id in referenced):
        out["referenced_posts"] = [{"type": k, "id": i} for k, i in referenced if i]
    if tweet.entities:
        out["entities"] = copy.deepcopy(tweet.entities)  # snapshots must not alias state
    return out


def _tweet_json(tweet: Tweet, fields: frozenset[str], expansions: frozenset[str]) -> JsonObject:
    # An expansion brings its field along, as on X; these come no other way.
    always = {"id", "text", "edit_history_post_ids"} | (
        expansions & {"author_id", "referenced_posts", "in_reply_to_user_id"}
    )
    return {k: v for k, v in full_json(tweet).items() if k in always or k in fields}


def user_json(store: XStore, user: User, fields: frozenset[str]) -> JsonObject:
    optional: JsonObject = {
        "created_at": x_timestamp(user.created_at),
        "description": user.description,
        "protected": user.protected,
        "verified": False,
        "public_metrics": {
            "followers_count": user.followers,
            "following_count": 0,
            "post_count": sum(1 for t in store.tweets.values() if t.author_id == user.id),
            "listed_count": 0,
            "like_count": 0,
            "media_count": 0,
        },
    }
    out: JsonObject = {"id": user.id, "name": user.name, "username": user.username}
    out.update({k: v for k, v in optional.items() if k in fields})
    return out


def _expanded_users(
    store: XStore, tweets: Iterable[Tweet], expansions: frozenset[str]
) -> list[User]:
    ids: dict[str, None] = {}  # ordered set: first appearance first
    for tweet in tweets:
        if "author_id" in expansions:
            ids[tweet.author_id] = None
        if "in_reply_to_user_id" in expansions and tweet.in_reply_to_user_id:
            ids[tweet.in_reply_to_user_id] = None
        if "entities.mentions.username" in expansions:
            ids.update((m["id"], None) for m in tweet.entities.get("mentions", []) if "id" in m)
    return [store.users[i] for i in ids if i in store.users]


def render(
    store: XStore,
    tweets: Sequence[Tweet],
    params: Mapping[str, str],
    refused: Mapping[str, frozenset[str]],
    *,
    single: bool = False,
) -> JsonObject:
    """The data and includes of a read answer; counts what X would bill.

    ``refused``: values of list parameters answered with X's 400 (`FakeXApi.refused_values`).
    """
    post_fields = list_param(params, "post.fields", POST_FIELDS, refused)
    user_fields = list_param(params, "user.fields", USER_FIELDS, refused)
    expansions = list_param(params, "expansions", EXPANSIONS, refused)
    unsupported = sorted(expansions - IMPLEMENTED_EXPANSIONS)
    if unsupported:
        raise not_implemented(f"the expansion {unsupported[0]}")
    store.reads.update(t.id for t in tweets)
    out: JsonObject = {}
    if tweets:
        data = [_tweet_json(t, post_fields, expansions) for t in tweets]
        out["data"] = data[0] if single else data
    includes: JsonObject = {}
    users = _expanded_users(store, tweets, expansions)
    if users:
        includes["users"] = [user_json(store, u, user_fields) for u in users]
    if "referenced_posts" in expansions:
        referenced = {r: None for t in tweets for r in (t.replied_to, t.retweet_of) if r}
        posts = [store.tweets[r] for r in referenced if r in store.tweets]
        if posts:
            includes["posts"] = [_tweet_json(t, post_fields, expansions) for t in posts]
    if includes:
        out["includes"] = includes
    return out
