"""A rehearsal's in-memory server, one per platform: the accounts, their statuses and the
hashtag streams, which the crowd and the bot write and read, each from its own thread.
Nothing leaves the process.

It behaves as Mastodon does where the bot can tell: tag pages newest first with opaque
cursors, replies through a post's context, a hashtag stream with edits and deletions, boosts,
favourites, mentions in the notifications, direct messages, idempotency keys. Unlisted
replies reach the context but never the hashtag.

Every status is stamped with the moment it was due (a crowd action's planned time, an agenda
post's planned time), not the moment a busy thread got to it, and its id is made from that
stamp. So the same seed gives the same posts, ids and times relative to the rehearsal's
start, however fast the machine plays it.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.mastodon_follow import TAG_PAGE_SIZE
from bot.core.text import has_hashtag
from bot.ports.errors import PermanentError
from bot.ports.following import DeleteEvent, PostEvent, StreamEvent

_HANDLE = re.compile(r"(?<![\w@/])@(\w+)(?:@([\w.-]*\w))?")
# What a context shows the bot: it follows nobody, so no private reply.
_IN_CONTEXT = ("public", "unlisted")


@dataclass(eq=False)
class Account:
    id: str
    username: str
    server: str  # its domain; every account of the bot's server has the server's home
    display_name: str
    followers: int
    bio: str
    bot: bool


@dataclass(eq=False)
class Status:
    seq: int  # arrival order: what the timelines and cursors follow
    id: str
    account: Account
    text: str
    visibility: str
    created_at: datetime
    in_reply_to: str | None = None
    mentions: tuple[Account, ...] = ()
    key: str | None = None  # the idempotency key it was posted with
    reblog_of: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    favourited_by: set[str] = field(default_factory=set)
    reblogged_by: set[str] = field(default_factory=set)


class RehearsalServer:
    """One platform's server, in memory. Thread-safe: the crowd writes from its thread, the
    bot reads and writes from its own."""

    def __init__(self, *, platform: str, home: str, epoch: datetime) -> None:
        self.platform = platform
        self.home = home
        # Ids count microseconds from a day before the rehearsal, so that every id is
        # positive and ids are in time order, like Mastodon's.
        self._id_base = epoch - timedelta(days=1)
        # Re-entrant: a stream's event is converted (counts read) while a write holds it.
        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._statuses: dict[str, Status] = {}
        self._timeline: list[Status] = []
        self._notifications: list[tuple[Account, Status]] = []
        self._streams: list[HashtagStream] = []

    # -- accounts --------------------------------------------------------------------------

    def account(
        self,
        username: str,
        *,
        server: str | None = None,
        display_name: str = "",
        followers: int = 0,
        bio: str = "",
        bot: bool = False,
    ) -> Account:
        """The account, created on first use (a server of None: this one)."""
        domain = self._domain(server)
        address = f"{username}@{domain}".lower()
        with self._lock:
            found = self._accounts.get(address)
            if found is None:
                found = Account(
                    id=str(len(self._accounts) + 1),
                    username=username,
                    server=domain,
                    display_name=display_name or username,
                    followers=followers,
                    bio=bio,
                    bot=bot,
                )
                self._accounts[address] = found
            return found

    def _domain(self, server: str | None) -> str:
        # On X there are no servers: every account is x.com's.
        return self.home if server is None or self.platform == "x" else server.lower()

    def mention_of(self, account: Account) -> str:
        """How a post's text mentions the account: ``@user`` on its own server, else with
        the server, as Mastodon writes it."""
        if account.server == self.home:
            return f"@{account.username}"
        return f"@{account.username}@{account.server}"

    def handle_of(self, account: Account) -> str:
        if self.platform == "x":
            return f"@{account.username}"
        return f"@{account.username}@{account.server}"

    def _mentioned(self, text: str) -> tuple[Account, ...]:
        found = []
        for user, server in _HANDLE.findall(text):
            account = self._accounts.get(f"{user}@{self._domain(server or None)}".lower())
            if account is not None and account not in found:
                found.append(account)
        return tuple(found)

    # -- writing ---------------------------------------------------------------------------

    def publish(
        self,
        account: Account,
        text: str,
        *,
        created_at: datetime,
        in_reply_to: str | None = None,
        visibility: str = "public",
        key: str | None = None,
        reblog_of: str | None = None,
    ) -> tuple[Status, bool]:
        """A new status, or the one already posted with the same key; True if new."""
        with self._lock:
            if key is not None:
                for status in reversed(self._timeline):
                    if status.key == key and status.account is account:
                        return status, False
            status = Status(
                seq=len(self._timeline),
                id=self._new_id(created_at),
                account=account,
                text=text,
                visibility=visibility,
                created_at=created_at,
                in_reply_to=in_reply_to,
                mentions=self._mentioned(text) if reblog_of is None else (),
                key=key,
                reblog_of=reblog_of,
            )
            self._statuses[status.id] = status
            self._timeline.append(status)
            for mentioned in status.mentions:
                if mentioned is not account:
                    self._notifications.append((mentioned, status))
            self._emit(status, lambda stream: PostEvent(stream.view(status), edited=False))
            return status, True

    def _new_id(self, created_at: datetime) -> str:
        micros = (created_at - self._id_base) // timedelta(microseconds=1)
        for n in range(micros * 100, micros * 100 + 100):
            if str(n) not in self._statuses:
                return str(n)
        raise PermanentError("too many statuses in one microsecond")

    def reblog(
        self, account: Account, status_id: str, *, created_at: datetime
    ) -> tuple[Status, bool] | None:
        """The account's boost of a status (its existing one, if any); None if the status
        is gone or may not be boosted."""
        with self._lock:
            original = self._statuses.get(status_id)
            if original is None or original.deleted or original.visibility not in _IN_CONTEXT:
                return None
            boosted = self.publish(
                account, "", created_at=created_at, key=f"reblog:{status_id}", reblog_of=status_id
            )
            original.reblogged_by.add(account.id)
            return boosted

    def unreblog(self, account: Account, status_id: str) -> Status | None:
        """Take the account's boost of a status back; the status, None if there was none."""
        with self._lock:
            original = self._statuses.get(status_id)
            if original is None or account.id not in original.reblogged_by:
                return None
            original.reblogged_by.discard(account.id)
            for status in self._timeline:
                if status.reblog_of == status_id and status.account is account:
                    # Gone, and its key with it: a later boost is a new one.
                    status.deleted, status.key = True, None
            return original

    def favourite(self, account: Account, status_id: str) -> bool:
        with self._lock:
            status = self._statuses.get(status_id)
            if status is None or status.deleted:
                return False
            status.favourited_by.add(account.id)
            return True

    def edit(self, status_id: str, text: str, *, at: datetime) -> bool:
        with self._lock:
            status = self._statuses.get(status_id)
            if status is None or status.deleted:
                return False
            status.text, status.edited_at = text, at
            self._emit(status, lambda stream: PostEvent(stream.view(status), edited=True))
            return True

    def delete(self, status_id: str) -> bool:
        with self._lock:
            status = self._statuses.get(status_id)
            if status is None or status.deleted:
                return False
            status.deleted = True
            self._emit(status, lambda _stream: DeleteEvent(status.id))
            return True

    def _emit(self, status: Status, event: Any) -> None:
        """To every stream of a hashtag the status carries: public posts only, as Mastodon's
        hashtag streams (unlisted posts and boosts never reach them)."""
        if status.visibility != "public" or status.reblog_of is not None:
            return
        for stream in self._streams:
            if has_hashtag(status.text, f"#{stream.tag}"):
                stream.push(event(stream))

    # -- reading ---------------------------------------------------------------------------

    def get(self, status_id: str) -> Status | None:
        with self._lock:
            status = self._statuses.get(status_id)
            return None if status is None or status.deleted else status

    def by_key(self, account: Account, key: str) -> Status | None:
        with self._lock:
            for status in reversed(self._timeline):
                if status.key == key and status.account is account and not status.deleted:
                    return status
        return None

    def statuses_of(self, account: Account) -> list[Status]:
        with self._lock:
            return [s for s in self._timeline if s.account is account and not s.deleted]

    def directs_to(self, accounts: Sequence[Account]) -> list[Status]:
        """Direct messages that mention any of these accounts, in order."""
        with self._lock:
            return [
                s
                for s in self._timeline
                if s.visibility == "direct"
                and not s.deleted
                and any(a in s.mentions for a in accounts)
            ]

    def _tagged(self, tag: str) -> list[Status]:
        return [
            s
            for s in self._timeline
            if s.visibility == "public"
            and s.reblog_of is None
            and not s.deleted
            and has_hashtag(s.text, f"#{tag}")
        ]

    def _seq_of(self, status_id: str) -> int:
        status = self._statuses.get(status_id)
        if status is None:
            raise PermanentError(f"no status {status_id} to page from")
        return status.seq

    def tag_page(self, tag: str, *, newer_than: str | None, older_than: str | None) -> list[Status]:
        """Mastodon's paging: right above ``newer_than`` (the oldest 40 there), right below
        ``older_than``, or the newest; newest first."""
        with self._lock:
            statuses = self._tagged(tag)
            if newer_than is not None:
                seq = self._seq_of(newer_than)
                page = [s for s in statuses if s.seq > seq][:TAG_PAGE_SIZE]
            elif older_than is not None:
                seq = self._seq_of(older_than)
                page = [s for s in statuses if s.seq < seq][-TAG_PAGE_SIZE:]
            else:
                page = statuses[-TAG_PAGE_SIZE:]
            return list(reversed(page))

    def descendants(self, status_id: str) -> list[Status]:
        """The replies under a status, however deep, parents before children: public and
        unlisted ones (the bot follows nobody, so it sees no private reply)."""
        with self._lock:
            children: dict[str, list[Status]] = {}
            for s in self._timeline:
                if s.in_reply_to is not None and not s.deleted and s.visibility in _IN_CONTEXT:
                    children.setdefault(s.in_reply_to, []).append(s)
            found: list[Status] = []
            stack = list(reversed(children.get(status_id, [])))
            while stack:
                status = stack.pop()
                found.append(status)
                stack.extend(reversed(children.get(status.id, [])))
            return found

    def counts(self, status: Status) -> tuple[int, int, int]:
        """Replies, boosts and favourites, as the server counts them now."""
        with self._lock:
            # As Mastodon counts them: public and unlisted replies.
            replies = sum(
                1
                for s in self._timeline
                if s.in_reply_to == status.id and not s.deleted and s.visibility in _IN_CONTEXT
            )
            return replies, len(status.reblogged_by), len(status.favourited_by)

    def notifications(self, account: Account) -> list[tuple[int, Status]]:
        """The account's mention notifications, numbered, oldest first."""
        with self._lock:
            return [(n, s) for n, (to, s) in enumerate(self._notifications) if to is account]

    def open_stream(self, tag: str, view: Any) -> HashtagStream:
        stream = HashtagStream(self, tag, view)
        with self._lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: HashtagStream) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)


_CLOSED = object()


class HashtagStream:
    """A hashtag's live events, as the bot's client converts them."""

    def __init__(self, server: RehearsalServer, tag: str, view: Any) -> None:
        self.tag = tag
        self.view = view
        self._server = server
        self._queue: queue.Queue[Any] = queue.Queue()

    def push(self, event: StreamEvent) -> None:
        self._queue.put(event)

    def events(self) -> Iterator[StreamEvent]:
        while True:
            event = self._queue.get()
            if event is _CLOSED:
                return
            yield event

    def close(self) -> None:
        self._server.close_stream(self)
        self._queue.put(_CLOSED)
