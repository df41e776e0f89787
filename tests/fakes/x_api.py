"""A fake X API v2 speaking real HTTP on loopback, for integration tests.

X has no public stand-in, so this one follows X's own OpenAPI description of v2 (its names,
parameters and allowed values come from tests/contracts/x_openapi.json, version 2.167: the
fields parameter is ``post.fields``, the reference list ``referenced_posts``, reposts are
counted in ``repost_count``) and the error shapes X sends. The server is standard library
only; `RedirectAdapter` (which uses requests) points a tweepy `Client` at it.

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
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import importlib
import json
import math
import re
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from tests.contracts import x_openapi

JsonObject = dict[str, Any]
Clock = Callable[[], datetime]

MAX_WEIGHTED_LENGTH = 280
FIRST_TWEET_ID = 1_860_000_000_000_000_000
# Snowflake ids of posts made a millisecond apart differ by 2**22 (the sequence bits): a step that
# size keeps ids increasing but not contiguous, so nothing can rely on "next id = id + 1".
TWEET_ID_STEP = 1 << 22
FIRST_USER_ID = 1_500_000_001
RECENT_SEARCH_SPAN = timedelta(days=7)
RATE_WINDOW = timedelta(minutes=15)
DAILY_WINDOW = timedelta(hours=24)
MAX_QUERY_LENGTH = 512
NOT_IMPLEMENTED_TYPE = "https://fake-x-api.invalid/problems/not-implemented"

SEARCH = "GET /2/tweets/search/recent"
CREATE = "POST /2/tweets"

# Per-user limits per 15 minutes, as X documents them for OAuth 1.0a user context.
RATE_LIMITS: Mapping[str, int] = {
    CREATE: 100,
    SEARCH: 300,
    "GET /2/users/me": 75,
    "GET /2/users/:id/tweets": 900,
    "GET /2/tweets/:id": 900,
    "GET /2/tweets": 900,
    "POST /2/users/:id/retweets": 50,
    "DELETE /2/users/:id/retweets/:tweet_id": 50,
}
DEFAULT_RATE_LIMIT = 900

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_REFUSED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
REPLY_TARGET_MISSING_DETAIL = (
    "You attempted to reply to a Tweet that is deleted or not visible to you."
)
NOT_PERMITTED_DETAIL = "You are not permitted to perform this action."

CLIENT_FORBIDDEN: JsonObject = {
    "client_id": "28374615",
    "detail": (
        "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
        "tokens from a Twitter developer App that is attached to a Project. You can create a "
        "project via the developer portal."
    ),
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
USAGE_CAPPED: JsonObject = {
    "title": "UsageCapExceeded",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "status": 429,
    "period": "Monthly",
    "scope": "Product",
}
PAGE_NOT_FOUND: JsonObject = {
    "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
}

POST_FIELDS = x_openapi.values(SEARCH, "post.fields")
USER_FIELDS = x_openapi.values(SEARCH, "user.fields")
EXPANSIONS = x_openapi.values(SEARCH, "expansions")
USER_EXPANSIONS = frozenset({"author_id", "in_reply_to_user_id", "entities.mentions.username"})
IMPLEMENTED_EXPANSIONS = USER_EXPANSIONS | {"referenced_posts"}
ME_EXPANSIONS = x_openapi.values("GET /2/users/me", "expansions")

_FIELD_PARAMS = frozenset({"expansions", "post.fields", "user.fields"})
SEARCH_PARAMS = x_openapi.parameter_names(SEARCH)
SEARCH_IMPLEMENTED = _FIELD_PARAMS | frozenset(
    {"max_results", "next_token", "pagination_token", "query", "since_id", "start_time", "until_id"}
)
TIMELINE_PARAMS = x_openapi.parameter_names("GET /2/users/:id/tweets")
TIMELINE_IMPLEMENTED = _FIELD_PARAMS | frozenset(
    {"exclude", "max_results", "pagination_token", "since_id", "until_id"}
)
LOOKUP_PARAMS = x_openapi.parameter_names("GET /2/tweets")
LOOKUP_IMPLEMENTED = _FIELD_PARAMS | {"ids"}
ME_PARAMS = x_openapi.parameter_names("GET /2/users/me")
ME_IMPLEMENTED = frozenset({"post.fields", "user.fields"})
CREATE_BODY_KEYS = frozenset({"text", "reply", "reply_settings"})

_HASHTAG = re.compile(r"(?<![\w&#])#(\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_URL_FALLBACK = re.compile(r"https?://\S+")
_WORD = re.compile(r"\w+")
_QUERY_TOKEN = re.compile(r'-?\(|\)|-?"[^"]*"|[^\s()]+')


def _load_twitter_text() -> tuple[Callable[[str], Any] | None, Callable[[str], Any] | None]:
    # Optional and untyped: importlib keeps mypy out of it, and the fake still works without it.
    try:
        parse = importlib.import_module("twitter_text").parse_tweet
        extract = importlib.import_module("twitter_text.extract_urls").extract_urls_with_indices
    except ImportError:
        return None, None
    return parse, extract


_PARSE_TWEET, _EXTRACT_URLS = _load_twitter_text()


def weighted_length(text: str) -> int:
    """X's count (twitter-text v3: CJK and emoji weigh 2, URLs 23), or len() without the lib."""
    if _PARSE_TWEET is None:
        return len(text)
    return int(_PARSE_TWEET(text).weightedLength)


def x_timestamp(moment: datetime) -> str:
    """X's created_at format: UTC, milliseconds, "Z"."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _epoch(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


# ---------------------------------------------------------------------------------------------
# Errors and replies


class _ApiError(Exception):
    def __init__(
        self, status: int, body: JsonObject, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass
class _Reply:
    status: int
    body: JsonObject = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def problem(status: int, detail: str | None = None) -> JsonObject:
    """X's generic problem body ("about:blank" type) for a status."""
    phrase = HTTPStatus(status).phrase
    return {"title": phrase, "detail": detail or phrase, "type": "about:blank", "status": status}


def _invalid(parameter: str, value: str, message: str) -> _ApiError:
    return _ApiError(
        400,
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def _not_implemented(what: str) -> _ApiError:
    return _ApiError(
        400,
        {
            "title": "Not Implemented By Fake",
            "detail": f"The fake X API does not implement {what}.",
            "type": NOT_IMPLEMENTED_TYPE,
            "status": 400,
        },
    )


def _not_found(kind: str, parameter: str, resource_id: str) -> JsonObject:
    return {
        "value": resource_id,
        "detail": f"Could not find {kind} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


# ---------------------------------------------------------------------------------------------
# State


@dataclass
class _User:
    id: str
    username: str
    name: str
    followers: int
    description: str
    protected: bool
    created_at: datetime


@dataclass
class _Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    entities: JsonObject
    replied_to: str | None = None
    in_reply_to_user_id: str | None = None
    retweet_of: str | None = None
    repost_count: int = 0
    reply_count: int = 0
    like_count: int = 0
    quote_count: int = 0

    @property
    def hashtags(self) -> frozenset[str]:
        return frozenset(tag["tag"].casefold() for tag in self.entities.get("hashtags", []))

    @property
    def mentions(self) -> frozenset[str]:
        return frozenset(m["username"].casefold() for m in self.entities.get("mentions", []))


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


@dataclass
class _Window:
    """A fixed window that opens at its first request, as X's rate limits behave."""

    limit: int
    length: timedelta
    start: datetime
    used: int = 0

    @property
    def reset_at(self) -> datetime:
        return self.start + self.length

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def roll(self, now: datetime) -> None:
        if now >= self.reset_at:
            self.start, self.used = now, 0


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    params: dict[str, str]
    authorization: str | None
    body: JsonObject | None
    malformed_body: bool = False


@dataclass(frozen=True)
class Exchange:
    """One request the fake answered, as it came, and the answer."""

    method: str
    path: str
    params: dict[str, str]
    body: JsonObject | None
    reply: _Reply


@dataclass(frozen=True)
class _Call:
    params: dict[str, str]
    body: JsonObject | None
    args: tuple[str, ...]
    now: datetime


# ---------------------------------------------------------------------------------------------
# Text: t.co wrapping and entities


def _find_urls(text: str) -> list[tuple[int, int, str]]:
    if _EXTRACT_URLS is None:
        return [(m.start(), m.end(), m.group()) for m in _URL_FALLBACK.finditer(text)]
    return [(u["indices"][0], u["indices"][1], u["url"]) for u in _EXTRACT_URLS(text)]


def _tco(url: str) -> str:
    # Deterministic, so the same text posted twice is still caught as duplicate content.
    return "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]


def _wrap_urls(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace each URL by a t.co link, as X stores posted text; returns (text, [(short, url)])."""
    pieces: list[str] = []
    links: list[tuple[str, str]] = []
    last = 0
    for start, end, url in _find_urls(text):
        short = _tco(url)
        pieces += [text[last:start], short]
        links.append((short, url if "://" in url else "http://" + url))
        last = end
    pieces.append(text[last:])
    return "".join(pieces), links


def _entities(
    text: str, links: Sequence[tuple[str, str]], user_ids: Mapping[str, str]
) -> JsonObject:
    entities: JsonObject = {}
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)
    ]
    mentions = [_mention_entity(m, user_ids) for m in _MENTION.finditer(text)]
    urls = [_url_entity(text, short, url) for short, url in links if short in text]
    for name, items in (("hashtags", hashtags), ("mentions", mentions), ("urls", urls)):
        if items:
            entities[name] = items
    return entities


def _mention_entity(match: re.Match[str], user_ids: Mapping[str, str]) -> JsonObject:
    entity: JsonObject = {"start": match.start(), "end": match.end(), "username": match.group(1)}
    user_id = user_ids.get(match.group(1).casefold())
    if user_id is not None:
        entity["id"] = user_id
    return entity


def _url_entity(text: str, short: str, url: str) -> JsonObject:
    start = text.index(short)
    display = url.split("://", 1)[-1]
    return {
        "start": start,
        "end": start + len(short),
        "url": short,
        "expanded_url": url,
        "display_url": display if len(display) <= 26 else display[:25] + "…",
    }


# ---------------------------------------------------------------------------------------------
# Search query subset

Predicate = Callable[[_Tweet], bool]


class _QueryParser:
    """Recursive descent over X's query syntax: AND by juxtaposition, OR, (groups), -negation.

    X applies AND before OR, so `a b OR c` means `(a b) OR c`.
    """

    def __init__(self, query: str, resolve_user: Callable[[str], str | None]) -> None:
        self._query = query
        self._tokens: list[str] = _QUERY_TOKEN.findall(query)
        self._pos = 0
        self._resolve_user = resolve_user

    def parse(self) -> Predicate:
        predicate = self._disjunction()
        if self._peek() is not None:
            raise self._error(f"unexpected '{self._peek()}'")
        return predicate

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise self._error("the query ends too early")
        self._pos += 1
        return token

    def _error(self, reason: str) -> _ApiError:
        return _invalid(
            "query", self._query, f"There were errors processing your request: {reason}"
        )

    def _disjunction(self) -> Predicate:
        options = [self._conjunction()]
        while self._peek() == "OR":
            self._pos += 1
            options.append(self._conjunction())
        return options[0] if len(options) == 1 else (lambda t: any(o(t) for o in options))

    def _conjunction(self) -> Predicate:
        terms: list[Predicate] = []
        while self._peek() not in (None, ")", "OR"):
            terms.append(self._term())
        if not terms:
            raise self._error("expected a term")
        return lambda t: all(term(t) for term in terms)

    def _term(self) -> Predicate:
        token = self._take()
        if token in ("(", "-("):
            inner = self._disjunction()
            if self._take() != ")":
                raise self._error("missing ')'")
            return _negate(inner) if token == "-(" else inner
        if token.startswith("-") and len(token) > 1:
            return _negate(self._atom(token[1:]))
        return self._atom(token)

    def _atom(self, token: str) -> Predicate:
        if token.startswith('"'):
            phrase = token.strip('"').casefold()
            return lambda t: phrase in t.text.casefold()
        if token.startswith("#") and len(token) > 1:
            tag = token[1:].casefold()
            return lambda t: tag in t.hashtags
        if token.startswith("@") and len(token) > 1:
            name = token[1:].casefold()
            return lambda t: name in t.mentions
        operator, colon, value = token.partition(":")
        if colon and operator.isidentifier():
            return self._operator(operator, value)
        return _keyword(token)

    def _operator(self, operator: str, value: str) -> Predicate:
        if operator == "is":
            return _is_operator(value)
        if operator == "conversation_id":
            return lambda t: t.conversation_id == value
        if operator == "in_reply_to_tweet_id":
            return lambda t: t.replied_to == value
        if operator in ("from", "to"):
            user_id = self._resolve_user(value)
            if operator == "from":
                return lambda t: user_id is not None and t.author_id == user_id
            return lambda t: user_id is not None and t.in_reply_to_user_id == user_id
        raise _not_implemented(f"the search operator {operator}:")


def _negate(predicate: Predicate) -> Predicate:
    return lambda t: not predicate(t)


def _keyword(token: str) -> Predicate:
    word = token.casefold()
    if _WORD.fullmatch(word):
        return lambda t: word in _WORD.findall(t.text.casefold())
    return lambda t: word in t.text.casefold()


def _is_operator(value: str) -> Predicate:
    if value == "retweet":
        return lambda t: t.retweet_of is not None
    if value == "reply":
        return lambda t: t.replied_to is not None
    if value == "quote":
        return lambda t: False
    raise _not_implemented(f"the search operator is:{value}")


# ---------------------------------------------------------------------------------------------
# Parameters


def _check_params(
    params: Mapping[str, str], known: frozenset[str], implemented: frozenset[str]
) -> None:
    for name, value in params.items():
        if name not in known:
            allowed = ",".join(sorted(known))
            raise _invalid(name, value, f"The query parameter [{name}] is not one of [{allowed}]")
        if name not in implemented:
            raise _not_implemented(f"the query parameter {name}")


def _int_param(params: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _invalid(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return int(raw)


def _id_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise _invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
    return int(raw)


def _time_param(params: Mapping[str, str], name: str) -> datetime | None:
    """X's timestamps in parameters: YYYY-MM-DDTHH:mm:ssZ (fractions allowed)."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _invalid(name, raw, f"Invalid '{name}':'{raw}'. '{name}' must be a timestamp")
    return moment


def _cursor_param(params: Mapping[str, str], *names: str) -> int | None:
    """Decode our opaque paging token: the id of the last post of the previous page."""
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if not decoded.isdigit():
            raise _invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
        return int(decoded)
    return None


def _cursor(tweet_id: str) -> str:
    return base64.urlsafe_b64encode(tweet_id.encode()).decode().rstrip("=")


def _list_param(
    params: Mapping[str, str],
    name: str,
    valid: frozenset[str],
    refused: Mapping[str, frozenset[str]] | None = None,
) -> frozenset[str]:
    raw = params.get(name)
    if not raw:
        return frozenset()
    values = frozenset(raw.split(","))
    valid = valid - (refused or {}).get(name, frozenset())
    wrong = sorted(values - valid)
    if wrong:
        allowed = ",".join(sorted(valid))
        message = f"The `{name}` query parameter value [{wrong[0]}] is not one of [{allowed}]"
        raise _invalid(name, wrong[0], message)
    return values


def _in_range(tweet: _Tweet, after: int | None, before: int | None) -> bool:
    number = int(tweet.id)
    return (after is None or number > after) and (before is None or number < before)


def _min_or_none(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


# ---------------------------------------------------------------------------------------------
# The fake


class FakeXApi:
    """An in-memory X API v2 behind a real HTTP server on 127.0.0.1.

    Tests set state with `add_user`, `post_as`, `retweet_as`, `delete_tweet`, `set_metrics`;
    script faults with `fail_next` and the flags `refuse_replies`, `search_forbidden`,
    `usage_cap_exceeded`, `lose_next_post_answer`; and assert on `tweets`, `created_posts`,
    `retweets`, `reads`, `reads_by_id`.
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
        self._users: dict[str, _User] = {}
        self._user_ids: dict[str, str] = {}  # casefolded username -> id
        self._tweets: dict[str, _Tweet] = {}
        self._api_created: list[str] = []
        self._retweets: dict[tuple[str, str], str] = {}  # (user id, tweet id) -> its repost id
        self._reads: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._windows: dict[str, _Window] = {}
        self._daily = _Window(daily_post_limit, DAILY_WINDOW, self._now())
        self._next_user_id = FIRST_USER_ID
        self._next_tweet_id = FIRST_TWEET_ID
        self._server: _Server | None = None
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
            self._server = _Server(self)
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
            if username.casefold() in self._user_ids:
                raise ValueError(f"user @{username} already exists")
            user_id = str(self._next_user_id)
            self._next_user_id += 1
            self._users[user_id] = _User(
                user_id, username, name or username, followers, description, protected, self._now()
            )
            self._user_ids[username.casefold()] = user_id
            return user_id

    def user_id(self, username: str) -> str:
        with self._lock:
            return self._user(username).id

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
            parent = self._tweet(reply_to) if reply_to is not None else None
            tweet = self._new_tweet(self._user(username), text, parent, created_at or self._now())
            return tweet.id

    def retweet_as(self, username: str, tweet_id: str) -> str:
        with self._lock:
            return self._repost(self._user(username), self._tweet(tweet_id), self._now())

    def delete_tweet(self, tweet_id: str) -> None:
        with self._lock:
            tweet = self._tweets.pop(tweet_id)
            parent = self._tweets.get(tweet.replied_to or "")
            if parent is not None:
                parent.reply_count -= 1

    def set_metrics(
        self, tweet_id: str, *, like_count: int | None = None, quote_count: int | None = None
    ) -> None:
        with self._lock:
            tweet = self._tweet(tweet_id)
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
            return {t.id: self._full_json(t) for t in self._tweets.values()}

    @property
    def created_posts(self) -> list[JsonObject]:
        """Posts created through POST /2/tweets, in order, as stored (t.co links and all)."""
        with self._lock:
            return [
                self._full_json(self._tweets[i]) for i in self._api_created if i in self._tweets
            ]

    @property
    def retweets(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._retweets)

    @property
    def reads(self) -> int:
        """Posts returned by read endpoints: what X bills."""
        with self._lock:
            return sum(self._reads.values())

    @property
    def reads_by_id(self) -> Counter[str]:
        with self._lock:
            return Counter(self._reads)

    # -- internals: state --------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("FakeXApi clock must return an aware datetime")
        return now

    def _user(self, username: str) -> _User:
        user_id = self._user_ids.get(username.casefold())
        if user_id is None:
            raise KeyError(f"no user @{username}: add_user() it first")
        return self._users[user_id]

    def _tweet(self, tweet_id: str) -> _Tweet:
        try:
            return self._tweets[tweet_id]
        except KeyError:
            raise KeyError(f"no post {tweet_id}") from None

    def _resolve_user(self, name_or_id: str) -> str | None:
        if name_or_id in self._users:
            return name_or_id
        return self._user_ids.get(name_or_id.lstrip("@").casefold())

    def _allocate_tweet_id(self) -> str:
        tweet_id = str(self._next_tweet_id)
        self._next_tweet_id += TWEET_ID_STEP
        return tweet_id

    def _new_tweet(
        self, author: _User, text: str, parent: _Tweet | None, created_at: datetime
    ) -> _Tweet:
        tweet_id = self._allocate_tweet_id()
        stored, links = _wrap_urls(text)
        tweet = _Tweet(
            id=tweet_id,
            text=stored,
            author_id=author.id,
            created_at=created_at,
            conversation_id=parent.conversation_id if parent else tweet_id,
            entities=_entities(stored, links, self._user_ids),
        )
        if parent is not None:
            tweet.replied_to, tweet.in_reply_to_user_id = parent.id, parent.author_id
            parent.reply_count += 1
        self._tweets[tweet_id] = tweet
        return tweet

    def _repost(self, user: _User, original: _Tweet, now: datetime) -> str:
        existing = self._retweets.get((user.id, original.id))
        if existing is not None:
            return existing
        tweet_id = self._allocate_tweet_id()
        author = self._users[original.author_id]
        text = f"RT @{author.username}: {original.text}"
        links = [(u["url"], u["expanded_url"]) for u in original.entities.get("urls", [])]
        self._tweets[tweet_id] = _Tweet(
            id=tweet_id,
            text=text,
            author_id=user.id,
            created_at=now,
            conversation_id=tweet_id,
            entities=_entities(text, links, self._user_ids),
            retweet_of=original.id,
        )
        original.repost_count += 1
        self._retweets[(user.id, original.id)] = tweet_id
        return tweet_id

    def _newest_first(self) -> list[_Tweet]:
        return sorted(self._tweets.values(), key=lambda t: int(t.id), reverse=True)

    # -- internals: rendering ----------------------------------------------------------------

    def _full_json(self, tweet: _Tweet) -> JsonObject:
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

    def _tweet_json(
        self, tweet: _Tweet, fields: frozenset[str], expansions: frozenset[str]
    ) -> JsonObject:
        # An expansion brings its field along, as on X; these come no other way.
        always = {"id", "text", "edit_history_post_ids"} | (
            expansions & {"author_id", "referenced_posts", "in_reply_to_user_id"}
        )
        return {k: v for k, v in self._full_json(tweet).items() if k in always or k in fields}

    def _user_json(self, user: _User, fields: frozenset[str]) -> JsonObject:
        optional: JsonObject = {
            "created_at": x_timestamp(user.created_at),
            "description": user.description,
            "protected": user.protected,
            "verified": False,
            "public_metrics": {
                "followers_count": user.followers,
                "following_count": 0,
                "post_count": sum(1 for t in self._tweets.values() if t.author_id == user.id),
                "listed_count": 0,
                "like_count": 0,
                "media_count": 0,
            },
        }
        out: JsonObject = {"id": user.id, "name": user.name, "username": user.username}
        out.update({k: v for k, v in optional.items() if k in fields})
        return out

    def _expanded_users(self, tweets: Iterable[_Tweet], expansions: frozenset[str]) -> list[_User]:
        ids: dict[str, None] = {}  # ordered set: first appearance first
        for tweet in tweets:
            if "author_id" in expansions:
                ids[tweet.author_id] = None
            if "in_reply_to_user_id" in expansions and tweet.in_reply_to_user_id:
                ids[tweet.in_reply_to_user_id] = None
            if "entities.mentions.username" in expansions:
                ids.update((m["id"], None) for m in tweet.entities.get("mentions", []) if "id" in m)
        return [self._users[i] for i in ids if i in self._users]

    def _render(
        self, tweets: Sequence[_Tweet], params: Mapping[str, str], *, single: bool = False
    ) -> JsonObject:
        """The data and includes of a read answer; counts what X would bill."""
        refused = self.refused_values
        post_fields = _list_param(params, "post.fields", POST_FIELDS, refused)
        user_fields = _list_param(params, "user.fields", USER_FIELDS, refused)
        expansions = _list_param(params, "expansions", EXPANSIONS, refused)
        unsupported = sorted(expansions - IMPLEMENTED_EXPANSIONS)
        if unsupported:
            raise _not_implemented(f"the expansion {unsupported[0]}")
        self._reads.update(t.id for t in tweets)
        out: JsonObject = {}
        if tweets:
            data = [self._tweet_json(t, post_fields, expansions) for t in tweets]
            out["data"] = data[0] if single else data
        includes: JsonObject = {}
        users = self._expanded_users(tweets, expansions)
        if users:
            includes["users"] = [self._user_json(u, user_fields) for u in users]
        if "referenced_posts" in expansions:
            referenced = {r: None for t in tweets for r in (t.replied_to, t.retweet_of) if r}
            posts = [self._tweets[r] for r in referenced if r in self._tweets]
            if posts:
                includes["posts"] = [self._tweet_json(t, post_fields, expansions) for t in posts]
        if includes:
            out["includes"] = includes
        return out

    def _page(self, hits: Sequence[_Tweet], max_results: int, params: Mapping[str, str]) -> _Reply:
        page = hits[:max_results]
        body = self._render(page, params)
        meta: JsonObject = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
        if len(hits) > max_results:
            meta["next_token"] = _cursor(page[-1].id)
        body["meta"] = meta
        return _Reply(200, body)

    # -- internals: request handling ---------------------------------------------------------

    def _dispatch(self, request: _Request) -> _Reply:
        route, args = _match_route(request.method, request.path)
        with self._lock:
            now = self._now()
            window = self._rate_window(route.key, now)
            window.used += 1
            call = _Call(request.params, request.body, args, now)
            try:
                reply = self._guarded(route, request, call, window)
            except _ApiError as error:
                reply = _Reply(error.status, error.body, error.headers)
            reply.headers = {**self._limit_headers(route.key, window), **reply.headers}
            self.exchanges.append(
                Exchange(request.method, request.path, dict(request.params), request.body, reply)
            )
            return reply

    def _guarded(self, route: _Route, request: _Request, call: _Call, window: _Window) -> _Reply:
        if request.authorization in (None, "", "Bearer None"):
            raise _ApiError(401, problem(401))
        if request.malformed_body:
            raise _ApiError(400, problem(400, "The request body is not a JSON object"))
        self._raise_scripted_fault(request, call.now)
        if route.reads_posts and self.usage_cap_exceeded:
            raise _ApiError(429, USAGE_CAPPED)
        if route.key == SEARCH and self.search_forbidden:
            raise _ApiError(403, CLIENT_FORBIDDEN)
        if window.used > window.limit:
            raise _ApiError(429, problem(429))
        return route.action(self, call)

    def _raise_scripted_fault(self, request: _Request, now: datetime) -> None:
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
                headers["x-rate-limit-reset"] = str(_epoch(now + timedelta(seconds=fault.reset_in)))
        raise _ApiError(fault.status, fault.body or problem(fault.status), headers)

    def _rate_window(self, key: str, now: datetime) -> _Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(
                RATE_LIMITS.get(key, DEFAULT_RATE_LIMIT), RATE_WINDOW, now
            )
        window.roll(now)
        return window

    def _limit_headers(self, key: str, window: _Window) -> dict[str, str]:
        headers = {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(window.remaining),
            "x-rate-limit-reset": str(_epoch(window.reset_at)),
        }
        if key == CREATE:
            headers |= {
                "x-user-limit-24hour-limit": str(self._daily.limit),
                "x-user-limit-24hour-remaining": str(self._daily.remaining),
                "x-user-limit-24hour-reset": str(_epoch(self._daily.reset_at)),
            }
        return headers

    # -- endpoints ---------------------------------------------------------------------------

    def _create_tweet(self, call: _Call) -> _Reply:
        body = call.body or {}
        unsupported = sorted(set(body) - CREATE_BODY_KEYS)
        if unsupported:
            raise _not_implemented(f"the POST /2/tweets field {unsupported[0]}")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _invalid("text", str(text), "The `text` field is required and cannot be empty")
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            raise _invalid("text", text, "Your Tweet text is too long.")
        parent = self._reply_target(body.get("reply"))
        bot = self._users[self.bot_user_id]
        if _wrap_urls(text)[0] in (t.text for t in self._tweets.values() if t.author_id == bot.id):
            raise _ApiError(403, problem(403, DUPLICATE_DETAIL))
        self._daily.roll(call.now)
        if self._daily.remaining == 0:
            raise _ApiError(429, problem(429))
        self._daily.used += 1
        tweet = self._new_tweet(bot, text, parent, call.now)
        self._api_created.append(tweet.id)
        if self.lose_next_post_answer:
            self.lose_next_post_answer = False
            return _Reply(201, drop=True)
        return _Reply(
            201,
            {"data": {"id": tweet.id, "text": tweet.text, "edit_history_post_ids": [tweet.id]}},
        )

    def _reply_target(self, reply: object) -> _Tweet | None:
        if reply is None:
            return None
        target = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if not isinstance(target, str) or not target.isdigit():
            raise _invalid(
                "reply.in_reply_to_tweet_id", str(target), "A reply needs in_reply_to_tweet_id"
            )
        if self.refuse_replies:
            raise _ApiError(403, problem(403, REPLY_REFUSED_DETAIL))
        parent = self._tweets.get(target)
        if parent is None:
            raise _ApiError(403, problem(403, REPLY_TARGET_MISSING_DETAIL))
        return parent

    def _search_recent(self, call: _Call) -> _Reply:
        params = call.params
        _check_params(params, SEARCH_PARAMS, SEARCH_IMPLEMENTED)
        query = params.get("query", "")
        if not query.strip():
            raise _invalid("query", query, "The `query` query parameter can not be empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise _invalid(
                "query", query, f"The `query` query parameter is longer than {MAX_QUERY_LENGTH}"
            )
        matches = _QueryParser(query, self._resolve_user).parse()
        max_results = _int_param(params, "max_results", default=10, low=10, high=100)
        after = _id_param(params, "since_id")
        before = _min_or_none(
            _id_param(params, "until_id"), _cursor_param(params, "next_token", "pagination_token")
        )
        oldest = call.now - RECENT_SEARCH_SPAN
        start = _time_param(params, "start_time")
        if start is not None:
            oldest = max(oldest, start)
        hits = [
            t
            for t in self._newest_first()
            if _in_range(t, after, before)
            and t.created_at >= oldest
            and not self._users[t.author_id].protected
            and matches(t)
        ]
        return self._page(hits, max_results, params)

    def _user_timeline(self, call: _Call) -> _Reply:
        params = call.params
        _check_params(params, TIMELINE_PARAMS, TIMELINE_IMPLEMENTED)
        user_id = call.args[0]
        if user_id not in self._users:
            return _Reply(200, {"errors": [_not_found("user", "id", user_id)]})
        max_results = _int_param(params, "max_results", default=10, low=5, high=100)
        exclude = _list_param(params, "exclude", frozenset({"retweets", "replies"}))
        after = _id_param(params, "since_id")
        before = _min_or_none(
            _id_param(params, "until_id"), _cursor_param(params, "pagination_token")
        )
        hits = [
            t
            for t in self._newest_first()
            if t.author_id == user_id
            and _in_range(t, after, before)
            and not ("retweets" in exclude and t.retweet_of)
            and not ("replies" in exclude and t.replied_to)
        ]
        return self._page(hits, max_results, params)

    def _lookup_one(self, call: _Call) -> _Reply:
        _check_params(call.params, LOOKUP_PARAMS - {"ids"}, LOOKUP_IMPLEMENTED)
        tweet_id = call.args[0]
        tweet = self._tweets.get(tweet_id)
        if tweet is None:
            self._render([], call.params)  # still validates the parameters, as X does
            return _Reply(200, {"errors": [_not_found("tweet", "id", tweet_id)]})
        return _Reply(200, self._render([tweet], call.params, single=True))

    def _lookup_many(self, call: _Call) -> _Reply:
        _check_params(call.params, LOOKUP_PARAMS, LOOKUP_IMPLEMENTED)
        ids = [i for i in call.params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() for i in ids):
            raise _invalid(
                "ids", call.params.get("ids", ""), "`ids` takes 1 to 100 numeric post ids"
            )
        found = [self._tweets[i] for i in ids if i in self._tweets]
        body = self._render(found, call.params)
        missing = [_not_found("tweet", "ids", i) for i in ids if i not in self._tweets]
        if missing:
            body["errors"] = missing
        return _Reply(200, body)

    def _users_me(self, call: _Call) -> _Reply:
        _check_params(call.params, ME_PARAMS, ME_IMPLEMENTED)
        fields = _list_param(call.params, "user.fields", USER_FIELDS, self.refused_values)
        return _Reply(200, {"data": self._user_json(self._users[self.bot_user_id], fields)})

    def _retweet(self, call: _Call) -> _Reply:
        self._require_bot(call.args[0])
        tweet_id = (call.body or {}).get("tweet_id")
        if not isinstance(tweet_id, str) or tweet_id not in self._tweets:
            raise _invalid(
                "tweet_id", str(tweet_id), "The `tweet_id` field must name an existing post"
            )
        original = self._tweets[tweet_id]
        if self._users[original.author_id].protected and original.author_id != self.bot_user_id:
            raise _ApiError(403, problem(403, NOT_PERMITTED_DETAIL))
        repost_id = self._repost(self._users[self.bot_user_id], original, call.now)
        return _Reply(200, {"data": {"retweeted": True, "rest_id": repost_id}})

    def _unretweet(self, call: _Call) -> _Reply:
        self._require_bot(call.args[0])
        repost_id = self._retweets.pop((self.bot_user_id, call.args[1]), None)
        if repost_id is not None:
            self._tweets.pop(repost_id, None)
            original = self._tweets.get(call.args[1])
            if original is not None:
                original.repost_count -= 1
        return _Reply(200, {"data": {"retweeted": False}})

    def _require_bot(self, user_id: str) -> None:
        # X lets a user act only for itself: the :id in the path must be the authenticated user.
        if user_id != self.bot_user_id:
            raise _ApiError(403, problem(403, NOT_PERMITTED_DETAIL))


# ---------------------------------------------------------------------------------------------
# Routing


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    key: str
    action: Callable[[FakeXApi, _Call], _Reply]
    reads_posts: bool = False


_ROUTES: tuple[_Route, ...] = (
    _Route("POST", re.compile(r"/2/tweets"), CREATE, FakeXApi._create_tweet),
    _Route("GET", re.compile(r"/2/tweets/search/recent"), SEARCH, FakeXApi._search_recent, True),
    _Route("GET", re.compile(r"/2/tweets/(\d+)"), "GET /2/tweets/:id", FakeXApi._lookup_one, True),
    _Route("GET", re.compile(r"/2/tweets"), "GET /2/tweets", FakeXApi._lookup_many, True),
    _Route("GET", re.compile(r"/2/users/me"), "GET /2/users/me", FakeXApi._users_me),
    _Route(
        "GET",
        re.compile(r"/2/users/(\d+)/tweets"),
        "GET /2/users/:id/tweets",
        FakeXApi._user_timeline,
        True,
    ),
    _Route(
        "POST",
        re.compile(r"/2/users/(\d+)/retweets"),
        "POST /2/users/:id/retweets",
        FakeXApi._retweet,
    ),
    _Route(
        "DELETE",
        re.compile(r"/2/users/(\d+)/retweets/(\d+)"),
        "DELETE /2/users/:id/retweets/:tweet_id",
        FakeXApi._unretweet,
    ),
)


def _no_such_page(api: FakeXApi, call: _Call) -> _Reply:
    return _Reply(404, PAGE_NOT_FOUND)


# Unknown paths still pass through authentication and carry rate-limit headers, as on X.
_UNMATCHED = _Route("*", re.compile(".*"), "unmatched", _no_such_page)


def _match_route(method: str, path: str) -> tuple[_Route, tuple[str, ...]]:
    for route in _ROUTES:
        match = route.pattern.fullmatch(path)
        if match and route.method == method:
            return route, match.groups()
    return _UNMATCHED, ()


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeXApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def drop_open_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            _hang_up(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request is routine in these tests; anything else is a bug.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests pools connections
    timeout = 10  # idle keep-alive connections end on their own

    def setup(self) -> None:
        super().setup()
        self._server().track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._server().untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: test output is for the tests."""

    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body: JsonObject | None = None
        malformed = False
        try:
            body = self._json_body()
        except ValueError:
            malformed = True
        request = _Request(
            method=self.command,
            path=url.path,
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            authorization=self.headers.get("Authorization"),
            body=body,
            malformed_body=malformed,
        )
        reply = self._server().fake._dispatch(request)
        if reply.drop:
            self.close_connection = True
            _hang_up(self.connection)
        else:
            self._send(reply)

    def _json_body(self) -> JsonObject | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length == 0:
            return None
        body = json.loads(self.rfile.read(length))
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _send(self, reply: _Reply) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# ---------------------------------------------------------------------------------------------
# Client side: reaching the fake from tweepy

X_API_HOSTS = ("https://api.twitter.com", "https://api.x.com")

Timeout = float | tuple[float | None, float | None] | None
Verify = bool | str
Cert = str | tuple[str, str] | None


class RedirectAdapter(HTTPAdapter):
    """Send every request to `base_url`, keeping the path and query.

    tweepy's Client hard-codes its host, so mounting this on `client.session` is the seam to
    reach another server. tweepy also never passes a timeout: `timeout` is used when the caller
    gave none.
    """

    def __init__(self, base_url: str, *, timeout: Timeout = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url)
        self._timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: Verify = True,
        cert: Cert = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        request.url = self._rewrite(request.url or "")
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def _rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))


def mount_redirect(
    session: Session, base_url: str, hosts: Iterable[str] = X_API_HOSTS, **kwargs: Any
) -> RedirectAdapter:
    """Mount one RedirectAdapter for each host prefix on `session`; returns the adapter."""
    adapter = RedirectAdapter(base_url, **kwargs)
    for host in hosts:
        session.mount(host, adapter)
    return adapter
