"""The fake X API's paged reads: GET /2/tweets/search/recent and GET /2/users/:id/tweets.

Both answer newest first, a page at a time. search/recent covers 7 days and hides protected
accounts; a user's timeline shows everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from tests.contracts import x_openapi
from tests.fakes.x_errors import invalid, not_found
from tests.fakes.x_exchange import SEARCH, Call, JsonObject, Reply
from tests.fakes.x_params import (
    check_params,
    cursor,
    cursor_param,
    id_param,
    int_param,
    list_param,
    time_param,
)
from tests.fakes.x_query import QueryParser
from tests.fakes.x_render import FIELD_PARAMS, render
from tests.fakes.x_store import Tweet

if TYPE_CHECKING:
    from tests.fakes.x_api import FakeXApi

RECENT_SEARCH_SPAN = timedelta(days=7)
MAX_QUERY_LENGTH = 512
SEARCH_PARAMS = x_openapi.parameter_names(SEARCH)
SEARCH_IMPLEMENTED = FIELD_PARAMS | frozenset(
    {"max_results", "next_token", "pagination_token", "query", "since_id", "start_time", "until_id"}
)
TIMELINE_PARAMS = x_openapi.parameter_names("GET /2/users/:id/tweets")
TIMELINE_IMPLEMENTED = FIELD_PARAMS | frozenset(
    {"exclude", "max_results", "pagination_token", "since_id", "until_id"}
)


def search_recent(api: FakeXApi, call: Call) -> Reply:
    store = api.store
    params = call.params
    check_params(params, SEARCH_PARAMS, SEARCH_IMPLEMENTED)
    query = params.get("query", "")
    if not query.strip():
        raise invalid("query", query, "The `query` query parameter can not be empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise invalid(
            "query", query, f"The `query` query parameter is longer than {MAX_QUERY_LENGTH}"
        )
    matches = QueryParser(query, store.resolve_user).parse()
    max_results = int_param(params, "max_results", default=10, low=10, high=100)
    after = id_param(params, "since_id")
    before = _min_or_none(
        id_param(params, "until_id"), cursor_param(params, "next_token", "pagination_token")
    )
    oldest = call.now - RECENT_SEARCH_SPAN
    start = time_param(params, "start_time")
    if start is not None:
        oldest = max(oldest, start)
    hits = [
        t
        for t in store.newest_first()
        if _in_range(t, after, before)
        and t.created_at >= oldest
        and not store.users[t.author_id].protected
        and matches(t)
    ]
    return _page(api, hits, max_results, params)


def user_timeline(api: FakeXApi, call: Call) -> Reply:
    params = call.params
    check_params(params, TIMELINE_PARAMS, TIMELINE_IMPLEMENTED)
    user_id = call.args[0]
    if user_id not in api.store.users:
        return Reply(200, {"errors": [not_found("user", "id", user_id)]})
    max_results = int_param(params, "max_results", default=10, low=5, high=100)
    exclude = list_param(params, "exclude", frozenset({"retweets", "replies"}))
    after = id_param(params, "since_id")
    before = _min_or_none(id_param(params, "until_id"), cursor_param(params, "pagination_token"))
    hits = [
        t
        for t in api.store.newest_first()
        if t.author_id == user_id
        and _in_range(t, after, before)
        and not ("retweets" in exclude and t.retweet_of)
        and not ("replies" in exclude and t.replied_to)
    ]
    return _page(api, hits, max_results, params)


def _page(
    api: FakeXApi, hits: Sequence[Tweet], max_results: int, params: Mapping[str, str]
) -> Reply:
    page = hits[:max_results]
    body = render(api.store, page, params, api.refused_values)
    meta: JsonObject = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
    if len(hits) > max_results:
        meta["next_token"] = cursor(page[-1].id)
    body["meta"] = meta
    return Reply(200, body)


def _in_range(tweet: Tweet, after: int | None, before: int | None) -> bool:
    number = int(tweet.id)
    return (after is None or number > after) and (before is None or number < before)


def _min_or_none(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None
