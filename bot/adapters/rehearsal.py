"""A rehearsal's world: an in-memory server per platform, the bot's account on it, and a
simulated crowd that posts into it on the clock. Nothing leaves the process.

The bot's side (``RehearsalPlatform``) offers the same ports as the Mastodon adapter (posting,
following a hashtag, curating), so the real publisher, follower, curator and wrap-up run
unchanged against it. The server behaves as Mastodon does where the bot can tell: tag pages
newest first with opaque cursors, replies through a post's context, a hashtag stream with
edits and deletions, boosts, favourites, mentions in the notifications, direct messages,
idempotency keys. Unlisted replies reach the context but never the hashtag.

Every status is stamped with the moment it was due (a crowd action's planned time, an agenda
post's planned time), not the moment a busy thread got to it, and its id is made from that
stamp. So the same seed gives the same posts, ids and times relative to the rehearsal's
start, however fast the machine plays it.

What the bot does that a person would see (its posts, boosts and direct messages) is
printed on the console.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TextIO

from bot.adapters.mastodon_follow import TAG_PAGE_SIZE
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.crowd import CrowdPlan, CrowdPost, Delete, Edit, Favourite, Persona
from bot.core.html_text import same_text
from bot.core.model import ArchivedPost, Author
from bot.core.printable import printable
from bot.core.sanitize import sanitize_html
from bot.core.text import has_hashtag
from bot.ports import (
    Clock,
    DeleteEvent,
    Fetched,
    Mention,
    PermanentError,
    PostEvent,
    PostState,
    Published,
    Skipped,
    StreamEvent,
    TagPage,
)

# With no cursor yet, the bot reads this many of its latest notifications.
_RECENT_NOTIFICATIONS = 200
# How long a reply waits for the bot's post it answers (published a moment late, say).
_TARGET_WAIT_SECONDS = 1.0
# How long, in chat time, a host takes to answer the bot's list of candidates.
_HOST_DELAY = timedelta(seconds=30)
_HANDLE = re.compile(r"(?<![\w@/])@(\w+)(?:@([\w.-]*\w))?")
_EXCERPT = 72
# What a context shows the bot: it follows nobody, so no private reply.
_IN_CONTEXT = ("public", "unlisted")


@dataclass(eq=False)
class _Account:
    id: str
    username: str
    server: str  # its domain; every account of the bot's server has the server's home
    display_name: str
    followers: int
    bio: str
    bot: bool


@dataclass(eq=False)
class _Status:
    seq: int  # arrival order: what the timelines and cursors follow
    id: str
    account: _Account
    text: str
    visibility: str
    created_at: datetime
    in_reply_to: str | None = None
    mentions: tuple[_Account, ...] = ()
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
        self._accounts: dict[str, _Account] = {}
        self._statuses: dict[str, _Status] = {}
        self._timeline: list[_Status] = []
        self._notifications: list[tuple[_Account, _Status]] = []
        self._streams: list[_HashtagStream] = []

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
    ) -> _Account:
        """The account, created on first use (a server of None: this one)."""
        domain = self._domain(server)
        address = f"{username}@{domain}".lower()
        with self._lock:
            found = self._accounts.get(address)
            if found is None:
                found = _Account(
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

    def mention_of(self, account: _Account) -> str:
        """How a post's text mentions the account: ``@user`` on its own server, else with
        the server, as Mastodon writes it."""
        if account.server == self.home:
            return f"@{account.username}"
        return f"@{account.username}@{account.server}"

    def handle_of(self, account: _Account) -> str:
        if self.platform == "x":
            return f"@{account.username}"
        return f"@{account.username}@{account.server}"

    def _mentioned(self, text: str) -> tuple[_Account, ...]:
        found = []
        for user, server in _HANDLE.findall(text):
            account = self._accounts.get(f"{user}@{self._domain(server or None)}".lower())
            if account is not None and account not in found:
                found.append(account)
        return tuple(found)

    # -- writing ---------------------------------------------------------------------------

    def publish(
        self,
        account: _Account,
        text: str,
        *,
        created_at: datetime,
        in_reply_to: str | None = None,
        visibility: str = "public",
        key: str | None = None,
        reblog_of: str | None = None,
    ) -> tuple[_Status, bool]:
        """A new status, or the one already posted with the same key; True if new."""
        with self._lock:
            if key is not None:
                for status in reversed(self._timeline):
                    if status.key == key and status.account is account:
                        return status, False
            status = _Status(
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
        self, account: _Account, status_id: str, *, created_at: datetime
    ) -> tuple[_Status, bool] | None:
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

    def unreblog(self, account: _Account, status_id: str) -> _Status | None:
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

    def favourite(self, account: _Account, status_id: str) -> bool:
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

    def _emit(self, status: _Status, event: Any) -> None:
        """To every stream of a hashtag the status carries: public posts only, as Mastodon's
        hashtag streams (unlisted posts and boosts never reach them)."""
        if status.visibility != "public" or status.reblog_of is not None:
            return
        for stream in self._streams:
            if has_hashtag(status.text, f"#{stream.tag}"):
                stream.push(event(stream))

    # -- reading ---------------------------------------------------------------------------

    def get(self, status_id: str) -> _Status | None:
        with self._lock:
            status = self._statuses.get(status_id)
            return None if status is None or status.deleted else status

    def by_key(self, account: _Account, key: str) -> _Status | None:
        with self._lock:
            for status in reversed(self._timeline):
                if status.key == key and status.account is account and not status.deleted:
                    return status
        return None

    def statuses_of(self, account: _Account) -> list[_Status]:
        with self._lock:
            return [s for s in self._timeline if s.account is account and not s.deleted]

    def directs_to(self, accounts: Sequence[_Account]) -> list[_Status]:
        """Direct messages that mention any of these accounts, in order."""
        with self._lock:
            return [
                s
                for s in self._timeline
                if s.visibility == "direct"
                and not s.deleted
                and any(a in s.mentions for a in accounts)
            ]

    def _tagged(self, tag: str) -> list[_Status]:
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

    def tag_page(
        self, tag: str, *, newer_than: str | None, older_than: str | None
    ) -> list[_Status]:
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

    def descendants(self, status_id: str) -> list[_Status]:
        """The replies under a status, however deep, parents before children: public and
        unlisted ones (the bot follows nobody, so it sees no private reply)."""
        with self._lock:
            children: dict[str, list[_Status]] = {}
            for s in self._timeline:
                if s.in_reply_to is not None and not s.deleted and s.visibility in _IN_CONTEXT:
                    children.setdefault(s.in_reply_to, []).append(s)
            found: list[_Status] = []
            stack = list(reversed(children.get(status_id, [])))
            while stack:
                status = stack.pop()
                found.append(status)
                stack.extend(reversed(children.get(status.id, [])))
            return found

    def counts(self, status: _Status) -> tuple[int, int, int]:
        """Replies, boosts and favourites, as the server counts them now."""
        with self._lock:
            # As Mastodon counts them: public and unlisted replies.
            replies = sum(
                1
                for s in self._timeline
                if s.in_reply_to == status.id and not s.deleted and s.visibility in _IN_CONTEXT
            )
            return replies, len(status.reblogged_by), len(status.favourited_by)

    def notifications(self, account: _Account) -> list[tuple[int, _Status]]:
        """The account's mention notifications, numbered, oldest first."""
        with self._lock:
            return [(n, s) for n, (to, s) in enumerate(self._notifications) if to is account]

    def open_stream(self, tag: str, view: Any) -> _HashtagStream:
        stream = _HashtagStream(self, tag, view)
        with self._lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: _HashtagStream) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)


_CLOSED = object()


class _HashtagStream:
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
        account: _Account,
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

    def _published(self, status: _Status) -> Published:
        return Published(status.id, self._url(status), status.created_at)

    def _url(self, status: _Status) -> str:
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

    def open_stream(self, tag: str) -> _HashtagStream:
        return self.server.open_stream(tag, self._view)

    def _view(self, status: _Status) -> Fetched:
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

    def _author(self, account: _Account) -> Author:
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


class CrowdPlayer:
    """The crowd, playing its plan into the servers on the clock: a companion of the
    rehearsed occurrence. Hosts among it answer the bot's lists of candidates (approve
    mode) by boosting the first two."""

    def __init__(
        self,
        *,
        plan: CrowdPlan,
        servers: Sequence[RehearsalServer],
        bots: Mapping[str, _Account],
        speed: float,
        clock: Clock,
        stop_event: threading.Event,
        log: Any,
    ) -> None:
        self._plan = plan
        self._servers = servers
        self._bots = bots  # the bot's account, per platform
        self._speed = speed
        self._clock = clock
        self._stop = stop_event
        self._log = log
        self._people = {p.username: p for p in plan.people}
        self._ids: dict[tuple[str, str], str] = {}  # (platform, plan id) -> status id
        self._answered: set[tuple[str, str]] = set()  # (platform, direct message id)
        self.skipped = 0

    def account(self, server: RehearsalServer, person: Persona) -> _Account:
        return server.account(
            person.username,
            server=person.server,
            display_name=person.display_name,
            followers=person.followers,
            bio=person.bio,
            bot=person.is_bot,
        )

    def run(self, occurrence: Occurrence, agenda: Sequence[PlannedPost]) -> None:
        origin = occurrence.start
        for action in self._plan.actions:
            due = origin + action.at / self._speed
            if not self._wait_until(due, occurrence):
                return
            for server in self._servers:
                self._act(server, action, due, occurrence)
        # Hosts may still be asked to choose until the chat ends.
        self._wait_until(occurrence.end, occurrence)
        if self.skipped:
            self._log.warning("rehearsal.crowd_skipped", actions=self.skipped)

    def _wait_until(self, moment: datetime, occurrence: Occurrence) -> bool:
        while not self._stop.is_set():
            self._answer_hosts_lists(occurrence)
            remaining = (moment - self._clock.now()).total_seconds()
            if remaining <= 0:
                return True
            self._stop.wait(min(remaining, 0.05))
        return False

    def _act(
        self, server: RehearsalServer, action: Any, due: datetime, occurrence: Occurrence
    ) -> None:
        if isinstance(action, CrowdPost):
            self._post(server, action, due, occurrence)
            return
        status_id = self._ids.get((server.platform, action.post))
        if status_id is None:
            self.skipped += 1  # what it refers to was never posted
        elif isinstance(action, Favourite):
            author = self.account(server, self._people[action.author])
            server.favourite(author, status_id)
        elif isinstance(action, Edit):
            post = next(p for p in self._plan.posts() if p.id == action.post)
            server.edit(status_id, self._text(server, post, action.body), at=due)
        elif isinstance(action, Delete):
            server.delete(status_id)

    def _post(
        self, server: RehearsalServer, post: CrowdPost, due: datetime, occurrence: Occurrence
    ) -> None:
        parent: str | None = None
        if post.reply_to is not None:
            parent = self._ids.get((server.platform, post.reply_to))
        elif post.reply_to_bot is not None:
            key = f"{occurrence.id}/{post.reply_to_bot}/{server.platform}"
            parent = self._bot_post(server, key)
        if (post.reply_to or post.reply_to_bot) and (parent is None or not server.get(parent)):
            self.skipped += 1  # nothing (left) to reply to
            return
        status, _ = server.publish(
            self.account(server, self._people[post.author]),
            self._text(server, post, post.body),
            created_at=due,
            in_reply_to=parent,
            visibility=post.visibility,
        )
        self._ids[(server.platform, post.id)] = status.id

    def _bot_post(self, server: RehearsalServer, key: str) -> str | None:
        """The bot's post of ``key``; it may go out a moment after its planned time."""
        bot = self._bots[server.platform]
        waited = 0.0
        while not self._stop.is_set():
            status = server.by_key(bot, key)
            if status is not None:
                return status.id
            if waited >= _TARGET_WAIT_SECONDS:
                return None
            self._stop.wait(0.005)
            waited += 0.005
        return None

    def _text(self, server: RehearsalServer, post: CrowdPost, body: str) -> str:
        mentions = [server.mention_of(self._bots[server.platform])] if post.mentions_bot else []
        for username in post.mentions:
            mentions.append(server.mention_of(self.account(server, self._people[username])))
        return " ".join([*mentions, body])

    def _answer_hosts_lists(self, occurrence: Occurrence) -> None:
        hosts = self._plan.role("host")
        if not hosts:
            return
        now = self._clock.now()
        for server in self._servers:
            accounts = [self.account(server, h) for h in hosts]
            bot = self._bots[server.platform]
            for message in server.directs_to(accounts):
                mark = (server.platform, message.id)
                if mark in self._answered or message.account is not bot:
                    continue
                if now < message.created_at + _HOST_DELAY / self._speed:
                    continue
                self._answered.add(mark)
                listed = re.findall(r"^(\d+)\. ", message.text, re.MULTILINE)
                host = next(a for a in accounts if a in message.mentions)
                server.publish(
                    host,
                    f"{server.mention_of(bot)} boost {' '.join(listed[:2])}",
                    created_at=now,
                    in_reply_to=message.id,
                    visibility="direct",
                )
