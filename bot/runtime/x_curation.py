"""What the curator needs from X, without paying twice for a post.

The curator re-reads the counts of the current question's posts at every tick. On X every
read is billed and the follower has just read those posts, so here:

- counts are those seen when the post was captured (no re-reading);
- mentions of the bot are found among the captured posts: answers in the bot's threads and
  tagged posts are all captured, which is where "stop" is said;
- the one-time confirmation of a "stop" is a public reply (the person mentioned the bot
  first, so it is not an unsolicited mention); lists for the hosts (approve mode) would need
  direct messages, which the bot does not send on X.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from bot.core.agenda import next_occurrence
from bot.core.config import ChatConfig
from bot.core.model import Author
from bot.ports.clock import Clock
from bot.ports.curation import Mention, PostState
from bot.ports.errors import PermanentError
from bot.ports.following import Archive
from bot.ports.posting import Published


class XActions(Protocol):
    """The X adapter's side of curation: who the bot is, reposting and posting."""

    @property
    def name(self) -> str: ...

    def home(self) -> str: ...

    def own_author(self) -> Author: ...

    def max_characters(self) -> int: ...

    def boost(self, post_id: str) -> Published: ...

    def unboost(self, post_id: str) -> None: ...

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published: ...


class XCuration:
    """A CuratingPlatform for X, reading from the archive instead of from X."""

    def __init__(
        self,
        *,
        platform: XActions,
        archive: Archive,
        config: ChatConfig,
        clock: Clock,
        linger: timedelta,
    ) -> None:
        self._platform = platform
        self._archive = archive
        self._config = config
        self._clock = clock
        # The curator reads mentions until the wrap-up; the occurrence counts until then.
        self._linger = linger

    @property
    def name(self) -> str:
        return self._platform.name

    def home(self) -> str:
        return self._platform.home()

    def own_author(self) -> Author:
        return self._platform.own_author()

    def max_characters(self) -> int:
        return self._platform.max_characters()

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        """The posts as captured: re-reading them for fresh counts would bill them again."""
        states = []
        for post_id in ids:
            post = self._archive.get(self.name, post_id)
            if post is not None:
                states.append(
                    PostState(
                        post_id=post.id,
                        visibility="public",  # the follower keeps only public posts
                        replies=post.replies,
                        boosts=post.boosts,
                        favourites=post.favourites,
                        author=post.author,
                    )
                )
        return states

    def boost(self, post_id: str) -> Published:
        return self._platform.boost(post_id)

    def unboost(self, post_id: str) -> None:
        self._platform.unboost(post_id)

    def mentions(self, *, after: str | None) -> tuple[list[Mention], str | None]:
        """Captured posts of the current occurrence that mention the bot, after ``after``
        (X's ids grow with time), oldest first."""
        occurrence = next_occurrence(self._config, self._clock.now(), linger=self._linger)
        handle = self.own_author().handle
        named = re.compile(r"(?<![\w@])" + re.escape(handle) + r"(?!\w)", re.IGNORECASE)
        found = [
            Mention(
                cursor=post.id,
                status_id=post.id,
                author=post.author,
                text=post.text,
                visibility="public",
                in_reply_to=post.in_reply_to,
                created_at=post.created_at,
            )
            # Only the posts that name the bot are read: the whole chat is many more.
            for post in self._archive.containing(occurrence.id, self.name, handle)
            if (after is None or int(post.id) > int(after)) and named.search(post.text)
        ]
        found.sort(key=lambda mention: int(mention.status_id))
        return found, found[-1].cursor if found else after

    def send_direct(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        if in_reply_to is None:
            raise PermanentError(
                "the bot sends no direct messages on X: approve mode works on Mastodon"
            )
        return self._platform.post(text, key=key, in_reply_to=in_reply_to)
