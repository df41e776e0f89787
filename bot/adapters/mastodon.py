"""Mastodon through Mastodon.py: errors become the ports' Transient/Permanent errors.

Mastodon.py is told to throw on rate limits (never to sleep inside a call) and to give up
after a short timeout, so that waiting is ours: logged, bounded and cut short by shutdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)

from bot.adapters.bounded_http import bounded_session
from bot.adapters.ratelimit_reset import seconds_until
from bot.core.config_platforms import MastodonSettings
from bot.core.html_text import html_to_text, same_text
from bot.core.model import Author
from bot.ports import (
    AccountFacts,
    Capability,
    EventStream,
    Fetched,
    Mention,
    PermanentError,
    PostState,
    Published,
    TagPage,
    TransientError,
)

# How many of its own latest statuses the bot reads to recover a post after a crash.
_RECOVERY_WINDOW = 40
# Mastodon ids are positive snowflakes: no status has this one.
_NO_SUCH_STATUS = "0"
# Mastodon serves at most 20 statuses per GET /api/v1/statuses?id[]=...
_STATUSES_PER_REQUEST = 20
# Pages of 40 mentions read in one go (a cursor picks up the rest next time).
_MENTION_PAGES = 5


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


class MastodonPlatform:
    name = "mastodon"

    def __init__(self, settings: MastodonSettings, *, token: str) -> None:
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
        self._home: str | None = None
        self._streaming: str | None = None

    def max_characters(self) -> int:
        with self._errors():
            instance = self.api.instance_v2()
        try:
            return int(instance["configuration"]["statuses"]["max_characters"])
        except (KeyError, TypeError, ValueError):
            return self._settings.max_characters

    def account_id(self) -> str:
        if self._me is None:
            with self._errors():
                self._me = str(self.api.account_verify_credentials()["id"])
        return self._me

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        with self._errors():
            status = self.api.status_post(
                text,
                in_reply_to_id=in_reply_to,
                visibility=self._settings.visibility,
                idempotency_key=key,
            )
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
        if self._home is None:
            with self._errors():
                domain = self.api.instance_v2().get("domain")
            self._home = str(domain or urlsplit(self._settings.instance).netloc).lower()
        return self._home

    def own_author(self) -> Author:
        with self._errors():
            account = self.api.account_verify_credentials()
        return self._author(account)

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        states = []
        for start in range(0, len(ids), _STATUSES_PER_REQUEST):
            with self._errors():
                statuses = self.api.statuses(list(ids[start : start + _STATUSES_PER_REQUEST]))
            states += [state for state in map(self._post_state, statuses) if state is not None]
        return states

    def boost(self, post_id: str) -> Published:
        # Public: a boost is how the chat sees the answer. Mastodon answers a repeat with the
        # existing boost, which makes a retry after a crash harmless.
        with self._errors():
            status = self.api.status_reblog(post_id, visibility="public")
        return Published(str(status["id"]), str(status["url"]), _aware(status["created_at"]))

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
        with self._errors():
            status = self.api.status_post(
                text, in_reply_to_id=in_reply_to, visibility="direct", idempotency_key=key
            )
        return Published(str(status["id"]), str(status["url"]), _aware(status["created_at"]))

    def _author(self, account: Any) -> Author:
        # The archive's reading of an account (checked, plain-text bio and fields), so the
        # curator compares like with like.
        from bot.adapters.mastodon_status import to_author

        return to_author(account, home=self.home())

    def _post_state(self, status: Any) -> PostState | None:
        from bot.adapters.untrusted_fields import Malformed, count_or_zero

        try:
            author = self._author(status.get("account"))
        except Malformed:
            return None  # unreadable: not a candidate
        post_id = status.get("id")
        if not isinstance(post_id, str | int):
            return None
        return PostState(
            post_id=str(post_id),
            visibility=str(status.get("visibility")),
            replies=count_or_zero(status.get("replies_count")),
            boosts=count_or_zero(status.get("reblogs_count")),
            favourites=count_or_zero(status.get("favourites_count")),
            author=author,
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
        with self._errors():
            account = self.api.account_verify_credentials()
        return AccountFacts(
            username=str(account["acct"]),
            bot=bool(account.get("bot")),
            max_characters=self.max_characters(),
        )

    def probe(self, capability: Capability) -> None:
        if capability == "read":
            with self._errors():
                self.api.timeline_home(limit=1)
            return
        # A blank post, and a boost of a status that cannot exist, pass the scope check and
        # are then refused (422, 404); a token without the scope gets 403 before that.
        with self._errors():
            try:
                if capability == "post":
                    self.api.status_post("")
                else:
                    self.api.status_reblog(_NO_SUCH_STATUS)
            except MastodonAPIError as exc:
                if _http_status(exc) not in (404, 422):
                    raise

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
        with self._errors():
            try:
                status = self.api.status(post_id)
            except MastodonNotFoundError:
                return None
        return self._converter()(status)

    def open_stream(self, tag: str) -> EventStream:
        from bot.adapters.mastodon_follow import open_hashtag_stream, streaming_url

        return open_hashtag_stream(
            streaming_url(self._streaming_base(), tag),
            token=str(self.api.access_token),
            connect_timeout=self._settings.request_timeout.total_seconds(),
            convert=self._converter(),
        )

    def _converter(self) -> Callable[[Any], Fetched]:
        # Resolved here, in the caller's thread: the stream's thread must not make requests.
        from bot.adapters.mastodon_status import to_post

        return partial(to_post, home=self.home(), own_account_id=self.account_id())

    def _streaming_base(self) -> str:
        # The stream may live on its own host; the instance says where (once per process).
        if self._streaming is None:
            with self._errors():
                instance = self.api.instance_v2()
            try:
                base = instance["configuration"]["urls"]["streaming"]
            except (KeyError, TypeError):
                base = None
            self._streaming = base if isinstance(base, str) and base else self._settings.instance
        return self._streaming

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


def _http_status(exc: MastodonAPIError) -> int | None:
    # MastodonAPIError args: (message, status code, reason, server's error text).
    status = exc.args[1] if len(exc.args) > 1 else None
    return status if isinstance(status, int) else None


def _describe(exc: Exception) -> str:
    # MastodonAPIError args: (message, status code, reason, server's error text).
    args = [str(a) for a in exc.args[1:] if a] or [str(exc)]
    return " ".join(args)
