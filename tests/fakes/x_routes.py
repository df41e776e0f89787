"""Which endpoint answers a request: the fake X API's routes, by method and path.

Unknown paths still pass through authentication and carry rate-limit headers, as on X: they
go to `UNMATCHED`, which answers X's 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.fakes.x_errors import PAGE_NOT_FOUND
from tests.fakes.x_exchange import CREATE, SEARCH, Call, Reply
from tests.fakes.x_posts import create_tweet, lookup_many, lookup_one
from tests.fakes.x_reposts import retweet, unretweet
from tests.fakes.x_search import search_recent, user_timeline
from tests.fakes.x_users import users_me

if TYPE_CHECKING:
    from tests.fakes.x_api import FakeXApi


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    key: str
    action: Callable[[FakeXApi, Call], Reply]
    reads_posts: bool = False


ROUTES: tuple[Route, ...] = (
    Route("POST", re.compile(r"/2/tweets"), CREATE, create_tweet),
    Route("GET", re.compile(r"/2/tweets/search/recent"), SEARCH, search_recent, True),
    Route("GET", re.compile(r"/2/tweets/(\d+)"), "GET /2/tweets/:id", lookup_one, True),
    Route("GET", re.compile(r"/2/tweets"), "GET /2/tweets", lookup_many, True),
    Route("GET", re.compile(r"/2/users/me"), "GET /2/users/me", users_me),
    Route(
        "GET",
        re.compile(r"/2/users/(\d+)/tweets"),
        "GET /2/users/:id/tweets",
        user_timeline,
        True,
    ),
    Route("POST", re.compile(r"/2/users/(\d+)/retweets"), "POST /2/users/:id/retweets", retweet),
    Route(
        "DELETE",
        re.compile(r"/2/users/(\d+)/retweets/(\d+)"),
        "DELETE /2/users/:id/retweets/:tweet_id",
        unretweet,
    ),
)


def _no_such_page(api: FakeXApi, call: Call) -> Reply:
    return Reply(404, PAGE_NOT_FOUND)


UNMATCHED = Route("*", re.compile(".*"), "unmatched", _no_such_page)


def match_route(method: str, path: str) -> tuple[Route, tuple[str, ...]]:
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match and route.method == method:
            return route, match.groups()
    return UNMATCHED, ()
