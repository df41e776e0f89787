"""The bot's account on a rehearsal's in-memory server (``world.RehearsalServer``): the
same ports as the Mastodon adapter (posting, following a hashtag, curating), so the real
publisher, follower, curator and wrap-up run unchanged against it.

An agenda post is stamped with its planned time, not the moment it went out (see
``world``). What the bot does that a person would see (its posts, boosts and direct
messages) is printed on the console (``Show``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TextIO

from bot.adapters.mastodon_follow import TAG_PAGE_SIZE
from bot.core.html_text import same_text
from bot.core.model import ArchivedPost, Author
from bot.core.printable import printable
from bot.core.sanitize import sanitize_html
from bot.ports.clock import Clock
from bot.ports.curation import Mention, PostState
from bot.ports.errors import PermanentError
from bot.ports.following import Fetched, Skipped, TagPage
from bot.ports.posting import Published
from bot.rehearsal.world import Account, HashtagStream, RehearsalServer, Status

# With no cursor yet, the bot reads this many of its latest notifications.
_RECENT_NOTIFICATIONS = 200
_EXCERPT = 72


class Show:
    """The console: what the bot did that people would see, one entry at a time."""

    def __init__(self, *, clock: Clock, zone: tzinfo, stream: TextIO | None = None) -> None:
        self._clock = clock
        self._zone = zone
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def entry(self, platform: str, head: str, body: str | None = None) -> None:
        local = self._clock.now().astimezone(self._zone)
        lines = [f"[{local:%H:%M:%S} {local.tzname()}] {platform} {head}"]
        if body is not None:
            lines += [f"    {line}" if line.strip() else "" for line in body.split("\n")]
        with self._lock:
            print(printable("\n".join(lines), newlines=True), file=self._stream, flush=True)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1].rstrip() + "…"


class RehearsalPlatform:
    """The bot's account on a rehearsal server: posting, following, curating."""

    def __init__(
        self,
        *,
        server: RehearsalServer,
        account: Account,
        clock: Clock,
        show: Show,
        max_characters: int,
        planned: Mapping[str, datetime],
    ) -> None:
        # Named after the platform it stands in for, so keys and limits stay those of a run.
        self.name = server.platform
        self.server = server
        self.account = account
        self._clock = clock
        self._show = show
        self._limit = max_characters
        # An agenda post is stamped with its planned time (see the module's docstring).
        self._planned = planned

    # -- posting ---------------------------------------------------------------------------

    def max_characters(self) -> int:
        return self._limit

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        return self._post(text, key=key, in_reply_to=in_reply_to, visibility="public")

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        for status in reversed(self.server.statuses_of(self.account)):
            if status.created_at >= since and same_text(status.text, text):
                return self._published(status)
        return None

    def _post(self, text: str, *, key: str, in_reply_to: str | None, visibility: str) -> Published:
        at = self._planned.get(key) or self._clock.now()
        status, new = self.server.publish(
            self.account,
            text,
            created_at=at,
            in_reply_to=in_reply_to,
            visibility=visibility,
            key=key,
        )
        if new:
            label = "direct message" if visibility == "direct" else key.rsplit("/", 2)[-2]
            self._show.entry(self.name, label + self._replying(in_reply_to), text)
        return self._published(status)

    def _replying(self, status_id: str | None) -> str:
        parent = self.server.get(status_id) if status_id is not None else None
        if parent is None:
            return ""
        if parent.account is self.account and parent.key is not None:
            return f" (reply to {parent.key.rsplit('/', 2)[-2]})"
        return f" (reply to {self.server.handle_of(parent.account)})"

    def _published(self, status: Status) -> Published:
        return Published(status.id, self._url(status), status.created_at)

    def _url(self, status: Status) -> str:
        account = status.account
        if self.name == "x":
            return f"https://x.com/{account.username}/status/{status.id}"
        return f"https://{account.server}/@{account.username}/{status.id}"

    # -- following -------------------------------------------------------------------------

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        page = self.server.tag_page(tag, newer_than=newer_than, older_than=older_than)
        return TagPage(
            items=[self._view(s) for s in page],
            newer=page[0].id if page else newer_than,
            older=page[-1].id if page else None,
            full=len(page) >= TAG_PAGE_SIZE,
        )

    def replies(self, post_id: str) -> list[Fetched]:
        return [self._view(s) for s in self.server.descendants(post_id)]

    def fetch(self, post_id: str) -> Fetched | None:
        status = self.server.get(post_id)
        if status is None or status.visibility == "direct":
            return None
        return self._view(status)

    def open_stream(self, tag: str) -> HashtagStream:
        return self.server.open_stream(tag, self._view)

    def _view(self, status: Status) -> Fetched:
        """A status as the bot reads it: what the Mastodon adapter makes of one."""
        if status.visibility != "public":
            return Skipped(status.id, f"not public ({status.visibility})", status.in_reply_to)
        replies, boosts, favourites = self.server.counts(status)
        return ArchivedPost(
            platform=self.name,
            id=status.id,
            occurrence="",
            url=self._url(status),
            author=self._author(status.account),
            created_at=status.created_at,
            text=status.text,
            html=sanitize_html(status.text),
            in_reply_to=status.in_reply_to,
            language="en",
            replies=replies,
            boosts=boosts,
            favourites=favourites,
            is_own=status.account is self.account,
            edited_at=status.edited_at,
        )

    def _author(self, account: Account) -> Author:
        return Author(
            platform=self.name,
            id=account.id,
            handle=self.server.handle_of(account),
            display_name=account.display_name,
            followers=account.followers,
            is_bot=account.bot,
            bio=account.bio,
        )

    # -- curating --------------------------------------------------------------------------

    def home(self) -> str:
        return self.server.home

    def own_author(self) -> Author:
        return self._author(self.account)

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        states = []
        for post_id in ids:
            status = self.server.get(post_id)
            if status is None or status.visibility == "direct":
                continue
            replies, boosts, favourites = self.server.counts(status)
            states.append(
                PostState(
                    post_id=status.id,
                    visibility=status.visibility,
                    replies=replies,
                    boosts=boosts,
                    favourites=favourites,
                    author=self._author(status.account),
                )
            )
        return states

    def boost(self, post_id: str) -> Published:
        boosted = self.server.reblog(self.account, post_id, created_at=self._clock.now())
        original = self.server.get(post_id)
        if boosted is None or original is None:
            raise PermanentError(f"the server refused: status {post_id} cannot be boosted")
        reblog, new = boosted
        if new:
            who = self.server.handle_of(original.account)
            self._show.entry(self.name, f"boost: {who}: {_excerpt(original.text)}")
        return self._published(reblog)

    def unboost(self, post_id: str) -> None:
        original = self.server.unreblog(self.account, post_id)
        if original is not None:
            who = self.server.handle_of(original.account)
            self._show.entry(self.name, f"unboost: {who}: {_excerpt(original.text)}")

    def mentions(self, *, after: str | None) -> tuple[list[Mention], str | None]:
        notes = self.server.notifications(self.account)
        if after is None:
            notes = notes[-_RECENT_NOTIFICATIONS:]
        else:
            notes = [(n, s) for n, s in notes if n > int(after)]
        cursor = str(notes[-1][0]) if notes else after
        mentions = [
            Mention(
                cursor=str(n),
                status_id=s.id,
                author=self._author(s.account),
                text=s.text,
                visibility=s.visibility,
                in_reply_to=s.in_reply_to,
                created_at=s.created_at,
            )
            for n, s in notes
            if not s.deleted
        ]
        return mentions, cursor

    def send_direct(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        return self._post(text, key=key, in_reply_to=in_reply_to, visibility="direct")
