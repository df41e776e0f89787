"""X through tweepy's Client (API v2, OAuth 1.0a user context).

Errors become the ports' Transient/Permanent errors. Every request that X bills is held with
the meter first, at its worst case, and settled at its real cost after: the host's cap is
never passed. tweepy is told never to sleep on rate limits; the ``x-rate-limit-*`` and 24-hour
headers of each answer say how long to wait, and that waiting is the caller's (logged,
bounded, cut short by shutdown).

tweepy's Client hard-codes its host and never passes a timeout to requests, so a transport
adapter mounted on its session sends every request to ``platforms.x.api_base`` with one.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import requests
import tweepy

from bot.adapters.x_answers import (
    data_list,
    epoch,
    error_body,
    included_users,
    json_object,
    messages,
    parse_time,
)
from bot.adapters.x_fields import FieldRequest, Refusal
from bot.adapters.x_post import HOME, own_post_url, to_author, to_post, x_id
from bot.adapters.x_transport import mount_transport
from bot.core.config_platforms import XSettings
from bot.core.model import Author
from bot.core.text import X_MAX_CHARACTERS, x_urls
from bot.ports.clock import Clock
from bot.ports.errors import (
    MAX_RETRY_AFTER,
    PermanentError,
    PlatformError,
    ReadingRefused,
    TransientError,
)
from bot.ports.posting import Published
from bot.ports.spending import Meter, SearchPage

# What a read asks for, by the names of X's OpenAPI description 2.167 (bot/adapters/x_fields.py):
# the author and the replied-to post come with the expansions, no longer as fields.
POST_FIELDS = ["created_at", "conversation_id", "public_metrics", "lang"]
USER_FIELDS = ["description", "public_metrics", "protected"]
EXPANSIONS = ["author_id", "referenced_posts"]
# A read whose fields X refuses is asked again without them, this many times at most.
MAX_FIELD_RETRIES = 4
# A wait longer than this is not worth holding a post or a poll for: give up instead.
MAX_WAIT = timedelta(seconds=MAX_RETRY_AFTER)
# How far back a post refused as duplicate content may be the bot's own lost one.
DUPLICATE_LOOKBACK = timedelta(hours=1)
# X's user timeline answers 5 to 100 posts a page.
TIMELINE_PAGE = (5, 10)

CREATE = "POST /2/tweets"
SEARCH = "GET /2/tweets/search/recent"
TIMELINE = "GET /2/users/:id/tweets"
REPOST = "POST /2/users/:id/retweets"
UNREPOST = "DELETE /2/users/:id/retweets/:tweet_id"
ME = "GET /2/users/me"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str
    access_token: str
    access_secret: str


def normalized(text: str) -> str:
    """A post's text for comparison: X stores links as t.co links and escapes &, < and >."""
    text = html.unescape(text)
    for url in x_urls(text):
        text = text.replace(url, " ")
    return " ".join(text.split())


class _Refused(PermanentError):
    """POST /2/tweets answered 403: duplicate content, a reply refused, or else."""

    def __init__(self, reason: str, *, duplicate: bool) -> None:
        super().__init__(reason)
        self.duplicate = duplicate


class _BadRequest(PermanentError):
    """X answered 400; the body may name the parameters or values it refused."""

    def __init__(self, reason: str, body: dict[str, Any]) -> None:
        super().__init__(reason)
        self.body = body


class _NoAnswer(TransientError):
    """The request may have been carried out: the connection broke, or X failed (5xx)."""


class XPlatform:
    name = "x"

    def __init__(
        self,
        settings: XSettings,
        *,
        credentials: Credentials,
        meter: Meter,
        clock: Clock,
        log: Any,
    ) -> None:
        self._settings = settings
        # Public: the composition root begins it at each occurrence.
        self.meter = meter
        self._clock = clock
        self._log = log.bind(platform=self.name)
        self.client = tweepy.Client(
            consumer_key=credentials.api_key,
            consumer_secret=credentials.api_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        mount_transport(
            self.client.session,
            settings.api_base,
            timeout=settings.request_timeout.total_seconds(),
        )
        # An OAuth 1.0a access token starts with its user's id: no paid read to learn it.
        self._own_id = x_id(credentials.access_token.partition("-")[0])
        self._own: Author | None = None
        self._lock = threading.Lock()
        # Endpoint -> when its used-up window resets, and which window it is.
        self._blocked_until: dict[str, tuple[datetime, str]] = {}
        # Occurrences in which X refused a reply: the rest of their posts stand alone.
        self._standalone: set[str] = set()
        # Per read, the fields X accepts (narrowed when it refuses one).
        self._fields = {
            SEARCH: FieldRequest(
                {
                    "post.fields": POST_FIELDS[:],
                    "expansions": EXPANSIONS[:],
                    "user.fields": USER_FIELDS[:],
                }
            ),
            TIMELINE: FieldRequest({"post.fields": ["created_at"]}),
            ME: FieldRequest({"user.fields": USER_FIELDS[:]}),
        }

    # -- posting -------------------------------------------------------------------------

    def max_characters(self) -> int:
        return X_MAX_CHARACTERS

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        occurrence = key.rsplit("/", 2)[0]  # keys are chat/date/slot/platform
        if in_reply_to is not None and occurrence in self._standalone:
            in_reply_to = None
        try:
            return self._create(text, key=key, in_reply_to=in_reply_to)
        except _Refused as refused:
            if refused.duplicate:
                return self._recover_duplicate(text, refused)
            if in_reply_to is None:
                raise PermanentError(refused.reason) from None
            if refused.reason.startswith("Reply to this conversation is not allowed"):
                if occurrence not in self._standalone:
                    self._standalone.add(occurrence)
                    self._log.warning(
                        "x.replies_refused",
                        occurrence=occurrence,
                        reason=refused.reason,
                        action="the rest of the occurrence is posted as standalone posts",
                    )
            else:
                self._log.warning(
                    "x.reply_refused", key=key, reason=refused.reason, action="posted standalone"
                )
            return self.post(text, key=key, in_reply_to=None)

    def _create(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        hold = self.meter.hold_post(key, text)
        try:
            response = self._call(
                CREATE,
                lambda: self.client.create_tweet(
                    text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True
                ),
                refusals=True,
            )
        except _NoAnswer:
            self.meter.settle_post(hold, "unknown")
            raise
        except PlatformError:
            self.meter.settle_post(hold, "refused")
            raise
        self.meter.settle_post(hold, "created")
        data = json_object(response).get("data")
        post_id = x_id(data.get("id")) if isinstance(data, dict) else None
        if post_id is None:
            raise PermanentError("X created the post but its answer names no id")
        return Published(post_id, own_post_url(post_id), self._clock.now())

    def _recover_duplicate(self, text: str, refused: _Refused) -> Published:
        """A post refused as a duplicate is most likely ours, made by an attempt whose answer
        was lost: find it and report it, rather than posting again."""
        found = self.find_own_post(text, since=self._clock.now() - DUPLICATE_LOOKBACK)
        if found is None:
            raise PermanentError(
                f"{refused.reason} (no post of the bot with this text in the last hour: "
                "X keeps refusing a text it has seen; change it, e.g. add {date})"
            )
        self._log.info("x.duplicate_recovered", remote_id=found.remote_id, url=found.url)
        return found

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        smallest, largest = TIMELINE_PAGE
        hold = self.meter.hold_read(
            largest=largest, smallest=smallest, authors=False, recovery=True
        )
        posts: list[dict[str, Any]] = []
        try:
            response = self._read(
                TIMELINE,
                f"/2/users/{self._require_own_id()}/tweets",
                {"max_results": hold.page},
            )
            posts = data_list(json_object(response))
        finally:
            self.meter.settle_read(hold, posts=len(posts), authors=())
        wanted = normalized(text)
        for post in posts:
            post_id = x_id(post.get("id"))
            created = parse_time(post.get("created_at"))
            if post_id is None or created is None or created < since:
                continue
            if normalized(str(post.get("text", ""))) == wanted:
                return Published(post_id, own_post_url(post_id), created)
        return None

    # -- following -----------------------------------------------------------------------

    def tag_query(self, tag: str) -> str:
        return f"#{tag} -is:retweet"

    def replies_query(self, conversation_id: str, tag: str) -> str:
        # The bot's own untagged posts (a wrap-up thread) are known from the ledger.
        return f"conversation_id:{conversation_id} -#{tag} -is:retweet -from:{self.own_id()}"

    def own_id(self) -> str:
        return self._require_own_id()

    def search(
        self,
        query: str,
        *,
        since_id: str | None,
        until_id: str | None,
        start_time: datetime | None,
    ) -> SearchPage:
        """One page of search/recent, newest first, as large as the budget allows."""
        # Known before the first read: without it the bot's own posts would be filed as
        # answers and their conversations (the untagged replies) never searched.
        own_id = self._require_own_id()
        hold = self.meter.hold_read(largest=100, smallest=10, authors=True, recovery=False)
        body: dict[str, Any] = {}
        try:
            params: dict[str, Any] = {"query": query, "max_results": hold.page}
            if since_id is not None:
                params["since_id"] = since_id
            elif start_time is not None:
                params["start_time"] = start_time.astimezone(UTC).strftime(_TIME_FORMAT)
            if until_id is not None:
                params["until_id"] = until_id
            response = self._read(SEARCH, "/2/tweets/search/recent", params, reads=True)
            body = json_object(response)
        finally:
            tweets, users = data_list(body), included_users(body)
            self.meter.settle_read(hold, posts=len(tweets), authors=list(users))
        meta = body.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        items = [to_post(t, users, own_user_id=own_id) for t in tweets]
        return SearchPage(
            items=items,
            newest_id=x_id(meta.get("newest_id")),
            oldest_id=x_id(meta.get("oldest_id")),
            more=bool(meta.get("next_token")),
        )

    # -- reposting (curation) ------------------------------------------------------------

    def home(self) -> str:
        return HOME

    def own_author(self) -> Author:
        """The bot's account, asked once (X bills it as a user read)."""
        with self._lock:
            if self._own is None:
                hold = self.meter.hold_read(largest=1, smallest=1, authors=True, recovery=False)
                data: Any = None
                try:
                    response = self._read(ME, "/2/users/me", {})
                    data = json_object(response).get("data")
                finally:
                    user = [str(data.get("id"))] if isinstance(data, dict) else []
                    self.meter.settle_read(hold, posts=0, authors=user)
                if not isinstance(data, dict):
                    raise PermanentError("X did not say who the bot is (GET /2/users/me)")
                try:
                    self._own = to_author(data)
                except ValueError as exc:
                    raise PermanentError(str(exc)) from None
                self._own_id = self._own.id
            return self._own

    def boost(self, post_id: str) -> Published:
        """Repost once; X answers a repeat with success and keeps one repost."""
        hold = self.meter.hold_repost()
        try:
            # The path names the bot by the id X gave (tweepy would take the token's prefix).
            route = f"/2/users/{self._require_own_id()}/retweets"
            self._call(
                REPOST,
                lambda: self.client.request(
                    "POST", route, json={"tweet_id": post_id}, user_auth=True
                ),
            )
        except _NoAnswer:
            self.meter.settle_repost(hold, "unknown")
            raise
        except PlatformError:
            self.meter.settle_repost(hold, "refused")
            raise
        self.meter.settle_repost(hold, "created")
        # X does not name the repost it made; the original's address stands for it.
        return Published(post_id, own_post_url(post_id), self._clock.now())

    def unboost(self, post_id: str) -> None:
        """Undo the bot's repost (a host's un-boost); X answers alike if there is none.
        Nothing is created, so nothing is billed."""
        self._call(UNREPOST, lambda: self.client.unretweet(post_id, user_auth=True))

    # -- requests and errors -------------------------------------------------------------

    def _require_own_id(self) -> str:
        if self._own_id is None:
            self._own_id = self.own_author().id
        return self._own_id

    def _read(
        self, endpoint: str, route: str, params: dict[str, Any], *, reads: bool = False
    ) -> requests.Response:
        """A GET with the fields X accepts for it: a 400 naming some of them is logged, and
        the read asked again without them (or with their older names)."""
        fields = self._fields[endpoint]
        for _ in range(MAX_FIELD_RETRIES):
            query = {**params, **fields.query()}
            try:
                return self._call(
                    endpoint,
                    partial(self.client.request, "GET", route, params=query, user_auth=True),
                    reads=reads,
                )
            except _BadRequest as refused:
                changes = fields.refuse(Refusal.from_body(refused.body))
                if not changes:
                    raise
                self._log.warning(
                    "x.fields_refused",
                    endpoint=endpoint,
                    reason=refused.reason,
                    changes=changes,
                    action="asking again with the fields X accepts",
                )
        raise PermanentError(f"X keeps refusing the fields of {endpoint}")

    def _call(
        self,
        endpoint: str,
        request: Callable[[], requests.Response],
        *,
        refusals: bool = False,
        reads: bool = False,
    ) -> requests.Response:
        """One request; ``refusals``: a 403 raises _Refused for post() to read."""
        self._wait_if_blocked(endpoint)
        with self._errors(endpoint, refusals=refusals, reads=reads):
            response = request()
        self._note_limits(endpoint, response.headers)
        return response

    def _wait_if_blocked(self, endpoint: str) -> None:
        blocked = self._blocked_until.get(endpoint)
        if blocked is not None:
            until, window = blocked
            if until > self._clock.now():
                raise self._wait(endpoint, until, f"{window} is used up")
            self._blocked_until.pop(endpoint, None)

    def _note_limits(self, endpoint: str, headers: Any) -> tuple[datetime, str] | None:
        """Remember when a window is used up: when it resets, and which window it is."""
        exhausted = []
        if headers.get("x-rate-limit-remaining") == "0":
            exhausted.append((epoch(headers.get("x-rate-limit-reset")), "the 15-minute window"))
        if headers.get("x-user-limit-24hour-remaining") == "0":
            exhausted.append(
                (epoch(headers.get("x-user-limit-24hour-reset")), "the 24-hour post limit")
            )
        known = [(until, window) for until, window in exhausted if until is not None]
        if not known:
            return None
        blocked = max(known)
        self._blocked_until[endpoint] = blocked
        return blocked

    def _wait(self, endpoint: str, until: datetime, why: str) -> PlatformError:
        seconds = (until - self._clock.now()).total_seconds()
        reason = f"X's rate limit for {endpoint}: {why} until {until:%Y-%m-%d %H:%M:%S} UTC"
        if seconds > MAX_WAIT.total_seconds():
            return PermanentError(reason + " (too long to wait)")
        return TransientError(reason, retry_after=max(seconds, 0.0))

    @contextmanager
    def _errors(self, endpoint: str, *, refusals: bool, reads: bool) -> Iterator[None]:
        try:
            yield
        except tweepy.TooManyRequests as exc:
            raise self._too_many(endpoint, exc.response) from None
        except tweepy.Forbidden as exc:
            reason = messages(exc)
            body = error_body(exc.response)
            if reads and str(body.get("type", "")).endswith("/problems/client-forbidden"):
                raise ReadingRefused(
                    f"X refuses {endpoint} to this app's access level: {reason}", cause="access"
                ) from None
            if refusals:
                raise _Refused(reason, duplicate="duplicate content" in reason) from None
            raise PermanentError(f"X refused {endpoint} (403): {reason}") from None
        except tweepy.Unauthorized:
            raise PermanentError(
                "X refused the credentials (401): check X_API_KEY, X_API_SECRET, "
                "X_ACCESS_TOKEN and X_ACCESS_SECRET (or the names in platforms.x)"
            ) from None
        except tweepy.BadRequest as exc:
            raise _BadRequest(
                f"X refused {endpoint} (400): {messages(exc)}", error_body(exc.response)
            ) from None
        except tweepy.TwitterServerError as exc:
            raise _NoAnswer(f"X failed {endpoint}: {messages(exc)}") from None
        except tweepy.HTTPException as exc:
            raise PermanentError(f"X refused {endpoint}: {messages(exc)}") from None
        except requests.RequestException as exc:
            raise _NoAnswer(f"X unreachable ({endpoint}): {type(exc).__name__}") from None

    def _too_many(self, endpoint: str, response: requests.Response) -> PlatformError:
        body = error_body(response)
        if str(body.get("type", "")).endswith("/problems/usage-capped"):
            return ReadingRefused(
                f"X's usage cap is reached ({body.get('detail', 'UsageCapExceeded')})",
                cause="usage_cap",
            )
        blocked = self._note_limits(endpoint, response.headers)
        if blocked is None:
            return TransientError(f"X's rate limit for {endpoint} (429, no reset time)")
        until, window = blocked
        return self._wait(endpoint, until, f"429 Too Many Requests, {window} is used up")
