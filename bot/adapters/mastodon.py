"""Mastodon through Mastodon.py: errors become the ports' Transient/Permanent errors.

Mastodon.py is told to throw on rate limits (never to sleep inside a call) and to give up
after a short timeout, so that waiting is ours: logged, bounded and cut short by shutdown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)

from bot.adapters.bounded_http import bounded_session
from bot.adapters.mastodon_capabilities import (
    ONE_BY_ONE,
    Fallback,
    ServerCapabilities,
    detect,
    with_multi_read,
    without_multi_read,
)
from bot.adapters.ratelimit_reset import seconds_until
from bot.core.config_platforms import MastodonSettings
from bot.core.html_text import html_to_text, same_text
from bot.core.model import Author
from bot.ports.curation import Mention, PostState
from bot.ports.errors import InteractionRefused, PermanentError, TokenRefused, TransientError
from bot.ports.following import EventStream, Fetched, Skipped, TagPage
from bot.ports.operations import AccountFacts, Capability, ServerFact
from bot.ports.posting import Published

# How many of its own latest statuses the bot reads to recover a post after a crash.
_RECOVERY_WINDOW = 40
# Mastodon serves at most 20 statuses per GET /api/v1/statuses?id[]=...
_STATUSES_PER_REQUEST = 20
# How far the server's clock may be behind ours, when looking for a post just sent.
_CLOCK_SKEW = timedelta(minutes=2)
# What a server answers for an endpoint it does not have.
_NOT_OFFERED = (404, 405, 501)
# Pages of 40 mentions read in one go (a cursor picks up the rest next time).
_MENTION_PAGES = 5


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


class MastodonPlatform:
    name = "mastodon"

    def __init__(self, settings: MastodonSettings, *, token: str, log: Any = None) -> None:
        self._settings = settings
        timeout = settings.request_timeout.total_seconds()
        self.api = Mastodon(
            api_base_url=settings.instance,
            access_token=token,
            ratelimit_method="throw",
            # A total deadline per request and a cap on answers (see bounded_http).
            session=bounded_session(deadline=timeout),
            request_timeout=timeout,
            version_check_mode="none",
            user_agent="tweetchat",
        )
        self._me: str | None = None
        self._capabilities: ServerCapabilities | None = None
        self._detecting = threading.Lock()
        self._scopes: tuple[frozenset[str] | None] | None = None
        # Keys of posts sent without an answer, and when: the post may exist already.
        self._unanswered: dict[str, datetime] = {}
        self._log = (log or structlog.get_logger()).bind(platform=self.name)
        self._streaming_url: str | None = None
        self._streaming_warning: str | None = None
        from bot.adapters.mastodon_streaming import HashtagStreaming

        self._streaming = HashtagStreaming(
            self._streaming_base,
            token=token,
            connect_timeout=settings.request_timeout.total_seconds(),
            log=self._log,
        )

    def capabilities(self) -> ServerCapabilities:
        """Everything the server can do, the multi-status read included: for the doctor and
        the re-reads of posts. Detected once per process, with reads only; each fallback is
        logged once."""
        with self._detecting:
            found = self._detected()
            if found.multi_status_read is None:
                found = self._capabilities = with_multi_read(self.api, found)
                if not found.multi_status_read:
                    self._log_fallback(ONE_BY_ONE, server=found.described)
            return found

    def _basics(self) -> ServerCapabilities:
        """What the start needs (limits, domain, streaming address): the multi-status read
        is not asked for it, so a start makes no request it does not use."""
        with self._detecting:
            return self._detected()

    def _detected(self) -> ServerCapabilities:
        # Under _detecting: the follower, the curator and the posts ask from their own
        # threads, and once is enough.
        if self._capabilities is None:
            found = detect(self.api, self._settings, account_id=self.account_id())
            for fallback in found.fallbacks:
                self._log_fallback(fallback, server=found.described)
            self._capabilities = found
        return self._capabilities

    def _log_fallback(self, fallback: Fallback, **context: str) -> None:
        self._log.info(
            "server.fallback",
            capability=fallback.capability,
            instead=fallback.instead,
            cost=fallback.cost,
            **context,
        )

    def max_characters(self) -> int:
        return self._basics().max_characters

    def account_id(self) -> str:
        if self._me is None:
            self._verify_credentials()
        assert self._me is not None
        return self._me

    def _verify_credentials(self) -> Any:
        """The bot's account. Only this read can say the token is bad (401, 403)."""
        with self._errors():
            try:
                account = self.api.account_verify_credentials()
            except MastodonAPIError as exc:
                if _http_status(exc) in (401, 403):
                    raise TokenRefused(f"the server refused the token: {_describe(exc)}") from None
                raise
        self._me = str(account["id"])
        return account

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        return self._post_keyed(
            text, key=key, in_reply_to=in_reply_to, visibility=self._settings.visibility
        )

    def _post_keyed(
        self, text: str, *, key: str, in_reply_to: str | None, visibility: str
    ) -> Published:
        """Send a post whose earlier attempt may have reached the server unanswered (a
        timeout, a 502): not every server keeps ``Idempotency-Key``, so the bot's own
        latest posts are looked through first."""
        unanswered = self._unanswered.get(key)
        if unanswered is not None:
            found = self.find_own_post(text, since=unanswered - _CLOCK_SKEW)
            if found is not None:
                del self._unanswered[key]
                return found
        try:
            with self._errors():
                status = self.api.status_post(
                    text, in_reply_to_id=in_reply_to, visibility=visibility, idempotency_key=key
                )
        except TransientError as exc:
            if exc.retry_after is None:  # a rate limit is refused before anything is done
                self._unanswered.setdefault(key, datetime.now(UTC))
            raise
        self._unanswered.pop(key, None)
        return Published(str(status["id"]), str(status["url"]), _aware(status["created_at"]))

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        me = self.account_id()
        with self._errors():
            statuses = self.api.account_statuses(me, limit=_RECOVERY_WINDOW)
        for status in statuses:
            created = _aware(status["created_at"])
            if created is not None and created < since:
                break
            if same_text(str(status["content"]), text):
                return Published(str(status["id"]), str(status["url"]), created)
        return None

    # -- curation: re-reading posts, boosts, mentions, direct messages (issue 4) -----------
    # Never a like or a follow: boosting is the only way the bot touches others' posts.

    def home(self) -> str:
        return self._basics().domain

    def own_author(self) -> Author:
        return self._author(self._verify_credentials())

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        if self.capabilities().multi_status_read:
            try:
                return self._fetch_batched(ids)
            except _NotOffered as exc:
                # Detected once, gone since (an upgrade rolled back, a proxy in front).
                with self._detecting:
                    self._capabilities = without_multi_read(self._detected())
                self._log_fallback(ONE_BY_ONE, reason=str(exc))
        return [state for post_id in ids if (state := self._fetch_one(post_id)) is not None]

    def refresh_limit(self, every: timedelta) -> int | None:
        from bot.adapters.mastodon_budget import refresh_limit

        capabilities = self.capabilities()
        if capabilities.multi_status_read:
            return None
        return refresh_limit(
            limit=capabilities.rate_limit,
            remaining=self.api.ratelimit_remaining if self.api.ratelimit_lastcall else None,
            reset=self.api.ratelimit_reset,
            every=every.total_seconds(),
            now=time.time(),
        )

    def _fetch_batched(self, ids: Sequence[str]) -> list[PostState]:
        states = []
        for start in range(0, len(ids), _STATUSES_PER_REQUEST):
            asked = list(ids[start : start + _STATUSES_PER_REQUEST])
            with self._errors():
                try:
                    statuses = self.api.statuses(asked)
                except MastodonAPIError as exc:
                    if _http_status(exc) in _NOT_OFFERED:
                        raise _NotOffered(_describe(exc)) from None
                    raise
            for status in statuses:
                state = self._post_state(status, asked=asked)
                if state is not None:
                    states.append(state)
        return states

    def _fetch_one(self, post_id: str) -> PostState | None:
        with self._errors():
            try:
                status = self.api.status(post_id)
            except MastodonAPIError as exc:
                if _http_status(exc) in (404, 410):
                    return None  # deleted, or hidden from the bot
                raise
        return self._post_state(status, asked=[post_id])

    def boost(self, post_id: str) -> Published:
        # Public: a boost is how the chat sees the answer. Mastodon answers a repeat with the
        # existing boost, which makes a retry after a crash harmless.
        with self._errors():
            try:
                status = self.api.status_reblog(post_id, visibility="public")
            except MastodonAPIError as exc:
                # 403/422 to a boost: the author's policy (GoToSocial's interaction policy, a
                # private post). A token without the scope says so in its message instead.
                if _http_status(exc) in (403, 422) and "scope" not in str(exc).lower():
                    raise InteractionRefused(
                        f"the server refused the boost: {_describe(exc)}"
                    ) from None
                raise
        return Published(str(status["id"]), str(status["url"]), _aware(status["created_at"]))

    def unboost(self, post_id: str) -> None:
        # Mastodon answers an unreblog of a status the bot never boosted with the status.
        with self._errors():
            self.api.status_unreblog(post_id)

    def mentions(self, *, after: str | None) -> tuple[list[Mention], str | None]:
        notes: list[Any] = []
        if after is None:
            # No cursor yet: the latest few pages, newest first, read backwards.
            max_id = None
            for _ in range(_MENTION_PAGES):
                with self._errors():
                    page = self.api.notifications(types=["mention"], max_id=max_id, limit=40)
                notes += page
                if len(page) < 40:
                    break
                max_id = page[-1]["id"]
            notes.reverse()
        else:
            # min_id gives the page just after the cursor (listed newest first).
            cursor = after
            for _ in range(_MENTION_PAGES):
                with self._errors():
                    page = self.api.notifications(types=["mention"], min_id=cursor, limit=40)
                notes += reversed(page)
                if len(page) < 40:
                    break
                cursor = str(page[0]["id"])
        cursor_after = str(notes[-1]["id"]) if notes else after
        return [m for m in map(self._mention, notes) if m is not None], cursor_after

    def send_direct(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        return self._post_keyed(text, key=key, in_reply_to=in_reply_to, visibility="direct")

    def _author(self, account: Any) -> Author:
        # The archive's reading of an account (checked, plain-text bio and fields), so the
        # curator compares like with like.
        from bot.adapters.mastodon_status import to_author

        return to_author(account, home=self.home())

    def _post_state(self, status: Any, *, asked: Sequence[str]) -> PostState | None:
        from bot.adapters.mastodon_status import reblog_refused, unwrapped
        from bot.adapters.untrusted_fields import Malformed, count_or_zero

        status, post_id = unwrapped(status, asked)
        if post_id is None:
            return None  # not one of the posts asked for
        try:
            author = self._author(status.get("account"))
        except Malformed:
            return None  # unreadable: not a candidate
        return PostState(
            post_id=post_id,
            visibility=str(status.get("visibility")),
            replies=count_or_zero(status.get("replies_count")),
            boosts=count_or_zero(status.get("reblogs_count")),
            favourites=count_or_zero(status.get("favourites_count")),
            author=author,
            reblog_refused=reblog_refused(status),
        )

    def _mention(self, note: Any) -> Mention | None:
        status = note.get("status") if isinstance(note, dict) else None
        if not isinstance(status, dict) or not isinstance(status.get("id"), str | int):
            return None  # the post was deleted since, or is unreadable
        from bot.adapters.untrusted_fields import Malformed

        try:
            author = self._author(note.get("account"))
        except Malformed:
            return None
        created = _aware(status.get("created_at")) or datetime.now(UTC)
        reply_to = status.get("in_reply_to_id")
        return Mention(
            cursor=str(note["id"]),
            status_id=str(status["id"]),
            author=author,
            text=html_to_text(str(status.get("content") or "")),
            visibility=str(status.get("visibility") or "public"),
            in_reply_to=str(reply_to) if reply_to is not None else None,
            created_at=created,
        )

    # -- doctor: what the token may do, found out without posting or boosting anything ----

    def account_facts(self) -> AccountFacts:
        from bot.adapters.mastodon_doctor import UNKNOWABLE, differences, server_facts

        account = self._verify_credentials()
        capabilities = self.capabilities()
        streaming, streams_differently = self._streaming_facts()
        return AccountFacts(
            username=str(account["acct"]),
            bot=bool(account.get("bot")),
            max_characters=capabilities.max_characters,
            server=(*server_facts(capabilities), *streaming),
            differences=(*differences(capabilities), *streams_differently),
            unknowable=UNKNOWABLE,
        )

    def _streaming_facts(self) -> tuple[tuple[ServerFact, ...], tuple[str, ...]]:
        self._streaming_base()
        facts: list[ServerFact] = []
        if self._streaming_warning is not None:
            facts.append(
                ServerFact(
                    "streaming address",
                    False,
                    self._streaming_warning,
                    fix="if that host is really the server's, name it in "
                    "platforms.mastodon.streaming_hosts",
                )
            )
        fact, difference = self._streaming.probe(self._converter())
        return (*facts, fact), (difference,) if difference else ()

    def allows(self, capability: Capability) -> bool | None:
        from bot.adapters.mastodon_doctor import allows, token_scopes

        if self._scopes is None:
            self._scopes = (
                token_scopes(
                    self.api,
                    base=self._settings.instance,
                    timeout=self._settings.request_timeout.total_seconds(),
                ),
            )
        return allows(self._scopes[0], capability)

    # -- following: the hashtag timeline, replies to the bot's posts, the stream (issue 3) --
    # The conversion and the stream live in mastodon_status / mastodon_follow.

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        from bot.adapters.mastodon_follow import TAG_PAGE_SIZE, tag_page_of

        with self._errors():
            page = self.api.timeline_hashtag(
                tag, min_id=newer_than, max_id=older_than, limit=TAG_PAGE_SIZE
            )
        return tag_page_of(page, self._converter(), asked_newer_than=newer_than)

    def replies(self, post_id: str) -> list[Fetched]:
        with self._errors():
            context = self.api.status_context(post_id)
        descendants = context.get("descendants") if isinstance(context, dict) else None
        convert = self._converter()
        return [convert(s) for s in descendants or [] if isinstance(s, dict)]

    def fetch(self, post_id: str) -> Fetched | None:
        from bot.adapters.mastodon_status import unwrapped

        with self._errors():
            try:
                status = self.api.status(post_id)
            except MastodonAPIError as exc:
                if _http_status(exc) in (404, 410):
                    return None
                raise
        found, asked = unwrapped(status, [post_id])
        if asked is None:
            reason = "malformed: the lookup answered with a boost of another post"
            return Skipped(post_id, reason, expected=False)
        return self._converter()(found)

    def open_stream(self, tag: str) -> EventStream:
        return self._streaming.open(tag, self._converter())

    def _converter(self) -> Callable[[Any], Fetched]:
        # Resolved here, in the caller's thread: the stream's thread must not make requests.
        from bot.adapters.mastodon_status import to_post

        return partial(to_post, home=self.home(), own_account_id=self.account_id())

    def _streaming_base(self) -> str:
        # The stream may live on its own host; the instance says where (once per process),
        # and mastodon_streaming decides whether the token may go there.
        if self._streaming_url is None:
            from bot.adapters.mastodon_streaming import streaming_base

            base = streaming_base(
                self._settings.instance,
                self._basics().streaming_url,
                allowed_hosts=self._settings.streaming_hosts,
            )
            if base.warning is not None:
                self._log.warning("server.streaming_address_ignored", reason=base.warning)
            self._streaming_warning = base.warning
            self._streaming_url = base.url
        return self._streaming_url

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except MastodonRatelimitError as exc:
            wait = seconds_until(getattr(self.api, "ratelimit_reset", None), now=time.time())
            # A reset already passed says nothing: the caller's backoff applies, not a retry
            # at once (which a server answering 429 again would turn into a busy loop).
            raise TransientError(
                f"rate limited by the server ({exc})", retry_after=wait or None
            ) from None
        except RecursionError:
            raise TransientError("the server's answer is nested too deeply to read") from None
        except (MastodonNetworkError, MastodonServerError) as exc:
            raise TransientError(f"server unreachable or failing: {_describe(exc)}") from None
        except MastodonAPIError as exc:
            raise PermanentError(f"the server refused: {_describe(exc)}") from None


class _NotOffered(Exception):
    """The server has no such endpoint."""


def _http_status(exc: MastodonAPIError) -> int | None:
    # MastodonAPIError args: (message, status code, reason, server's error text).
    status = exc.args[1] if len(exc.args) > 1 else None
    return status if isinstance(status, int) else None


def _describe(exc: Exception) -> str:
    # MastodonAPIError args: (message, status code, reason, server's error text).
    args = [str(a) for a in exc.args[1:] if a] or [str(exc)]
    return " ".join(args)
