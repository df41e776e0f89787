"""A fake X API v2 speaking real HTTP on loopback, for integration tests.

X has no public stand-in, so this one follows X's own OpenAPI description of v2 (its names,
parameters and allowed values come from tests/contracts/x_openapi.json, version 2.167: the
fields parameter is ``post.fields``, the reference list ``referenced_posts``, reposts are
counted in ``repost_count``) and the error shapes X sends. The server is standard library
only; the bot's own `mount_transport` (bot/adapters/x_transport.py) points a tweepy `Client`
at it, in the tests as in `platforms.x.api_base`.

Fidelity choices worth knowing:
- every request is taken to be the bot's, whatever its credentials, except a missing
  Authorization header or tweepy's literal "Bearer None" (what it sends for an app-only call
  when no bearer token was given), which real X rejects too: both get 401;
- URLs in posted text are wrapped in t.co links, as X stores them, so the stored text can
  differ from the text sent;
- search/recent covers 7 days and hides protected accounts; other reads show everything;
- a parameter or a value the description does not name gets X's 400 (invalid-request, naming
  it), as does any value in `refused_values` (an X that does not know it yet);
- ``author_id``, ``in_reply_to_user_id`` and ``referenced_posts`` are in a post only when their
  expansion is asked for (the description lists none of them among the fields); referenced
  posts go to ``includes.posts``, not counted as reads (whether X bills them is not known);
- a parameter, expansion or query operator that X knows but this fake does not implement gets
  a 400 whose type is `NOT_IMPLEMENTED_TYPE`, so a gap fails loudly instead of passing quietly.

This module holds `FakeXApi`: what the tests set, script and read, and the way every request
goes (authentication, scripted faults, caps and rate limits, then the endpoint, then the
record). The rest, one concept to a module in tests/fakes:
- x_exchange: requests, calls, replies and the recorded `Exchange`;
- x_errors: X's error bodies and words; x_limits: the rate-limit windows and their headers;
- x_store: users, posts and reposts; x_text: t.co links, entities, weighted length;
- x_routes: which endpoint answers; the endpoints: x_posts, x_search (with x_query, the
  search syntax), x_users, x_reposts; x_params: query parameters; x_render: fields and
  expansions;
- x_server: the HTTP server.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from tests.fakes.x_errors import CLIENT_FORBIDDEN, USAGE_CAPPED, ApiError, problem
from tests.fakes.x_exchange import SEARCH, Call, Exchange, JsonObject, Reply, Request
from tests.fakes.x_limits import RateLimits, Window, epoch
from tests.fakes.x_render import full_json
from tests.fakes.x_routes import Route, match_route
from tests.fakes.x_server import XServer
from tests.fakes.x_store import XStore

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Fault:
    prefix: str
    method: str | None
    status: int
    times: int
    reset_in: float | None
    body: JsonObject | None

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.prefix) and self.method in (None, method)


class FakeXApi:
    """An in-memory X API v2 behind a real HTTP server on 127.0.0.1.

    Tests set state with `add_user`, `post_as`, `retweet_as`, `delete_tweet`, `set_metrics`;
    script faults with `fail_next` and the flags `refuse_replies`, `search_forbidden`,
    `usage_cap_exceeded`, `lose_next_post_answer`; and assert on `tweets`, `created_posts`,
    `retweets`, `reads`, `reads_by_id`.

    The endpoints read and change `store` and `limits`, under the lock that `_dispatch` holds.
    """

    def __init__(
        self,
        *,
        bot_username: str = "chatbot",
        bot_name: str | None = None,
        clock: Clock | None = None,
        daily_post_limit: int = 100,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or _utc_now
        self.store = XStore()
        self._faults: list[_Fault] = []
        self.limits = RateLimits(daily_post_limit, self._now())
        self._server: XServer | None = None
        self._thread: threading.Thread | None = None
        # Plain flags: assigning a bool is atomic, and the server reads them under its lock.
        self.refuse_replies = False
        self.search_forbidden = False
        self.usage_cap_exceeded = False
        self.lose_next_post_answer = False
        # Values of list parameters answered with X's 400, as an X that does not know them.
        self.refused_values: dict[str, frozenset[str]] = {}
        # Every request and its answer, for the contract tests.
        self.exchanges: list[Exchange] = []
        self.bot_user_id = self.add_user(bot_username, name=bot_name)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeXApi:
        if self._server is None:
            self._server = XServer(self._dispatch)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # so that stop() returns promptly
                name="fake-x-api",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        # Pooled keep-alive connections would otherwise go on being served after stop().
        server.drop_open_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=2)

    def __enter__(self) -> FakeXApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeXApi is not running: call start() or use it in a with block")
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- test-side state ---------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        followers: int = 0,
        description: str = "",
        protected: bool = False,
    ) -> str:
        with self._lock:
            return self.store.add_user(
                username,
                name=name,
                followers=followers,
                description=description,
                protected=protected,
                created_at=self._now(),
            )

    def user_id(self, username: str) -> str:
        with self._lock:
            return self.store.user(username).id

    def post_as(
        self,
        username: str,
        text: str,
        *,
        reply_to: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Post as a participant (or the bot), bypassing the API: no limits, faults or checks."""
        if created_at is not None and created_at.tzinfo is None:
            raise ValueError("created_at must be an aware datetime")
        with self._lock:
            store = self.store
            parent = store.tweet(reply_to) if reply_to is not None else None
            tweet = store.new_tweet(store.user(username), text, parent, created_at or self._now())
            return tweet.id

    def retweet_as(self, username: str, tweet_id: str) -> str:
        with self._lock:
            store = self.store
            return store.repost(store.user(username), store.tweet(tweet_id), self._now())

    def delete_tweet(self, tweet_id: str) -> None:
        with self._lock:
            tweet = self.store.tweets.pop(tweet_id)
            parent = self.store.tweets.get(tweet.replied_to or "")
            if parent is not None:
                parent.reply_count -= 1

    def set_metrics(
        self, tweet_id: str, *, like_count: int | None = None, quote_count: int | None = None
    ) -> None:
        with self._lock:
            tweet = self.store.tweet(tweet_id)
            tweet.like_count = tweet.like_count if like_count is None else like_count
            tweet.quote_count = tweet.quote_count if quote_count is None else quote_count

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        reset_in: float | None = None,
        body: JsonObject | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path starts with `path_prefix` with `status`.

        `reset_in` (seconds) sets x-rate-limit-reset on a 429; `method` narrows the match, since
        "/2/tweets" prefixes both posting and searching.
        """
        with self._lock:
            self._faults.append(_Fault(path_prefix, method, status, times, reset_in, body))

    # -- test-side observations --------------------------------------------------------------

    @property
    def tweets(self) -> dict[str, JsonObject]:
        """Every live post, oldest first, with all the fields the fake knows."""
        with self._lock:
            return {t.id: full_json(t) for t in self.store.tweets.values()}

    @property
    def created_posts(self) -> list[JsonObject]:
        """Posts created through POST /2/tweets, in order, as stored (t.co links and all)."""
        with self._lock:
            tweets = self.store.tweets
            return [full_json(tweets[i]) for i in self.store.api_created if i in tweets]

    @property
    def retweets(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.store.retweets)

    @property
    def reads(self) -> int:
        """Posts returned by read endpoints: what X bills."""
        with self._lock:
            return sum(self.store.reads.values())

    @property
    def reads_by_id(self) -> Counter[str]:
        with self._lock:
            return Counter(self.store.reads)

    # -- internals: request handling ---------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("FakeXApi clock must return an aware datetime")
        return now

    def _dispatch(self, request: Request) -> Reply:
        route, args = match_route(request.method, request.path)
        with self._lock:
            now = self._now()
            window = self.limits.window(route.key, now)
            window.used += 1
            call = Call(request.params, request.body, args, now)
            try:
                reply = self._guarded(route, request, call, window)
            except ApiError as error:
                reply = Reply(error.status, error.body, error.headers)
            reply.headers = {**self.limits.headers(route.key, window), **reply.headers}
            self.exchanges.append(
                Exchange(request.method, request.path, dict(request.params), request.body, reply)
            )
            return reply

    def _guarded(self, route: Route, request: Request, call: Call, window: Window) -> Reply:
        if request.authorization in (None, "", "Bearer None"):
            raise ApiError(401, problem(401))
        if request.malformed_body:
            raise ApiError(400, problem(400, "The request body is not a JSON object"))
        self._raise_scripted_fault(request, call.now)
        if route.reads_posts and self.usage_cap_exceeded:
            raise ApiError(429, USAGE_CAPPED)
        if route.key == SEARCH and self.search_forbidden:
            raise ApiError(403, CLIENT_FORBIDDEN)
        if window.used > window.limit:
            raise ApiError(429, problem(429))
        return route.action(self, call)

    def _raise_scripted_fault(self, request: Request, now: datetime) -> None:
        fault = next((f for f in self._faults if f.matches(request.method, request.path)), None)
        if fault is None:
            return
        fault.times -= 1
        if fault.times <= 0:
            self._faults.remove(fault)
        headers: dict[str, str] = {}
        if fault.status == 429:
            headers["x-rate-limit-remaining"] = "0"
            if fault.reset_in is not None:
                headers["x-rate-limit-reset"] = str(epoch(now + timedelta(seconds=fault.reset_in)))
        raise ApiError(fault.status, fault.body or problem(fault.status), headers)
