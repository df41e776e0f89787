"""The hosts' commands, and the agenda as they steer it: pure, so that every worker (and a
worker restarted after a crash) replays the commands it finds done in the store into the
same agenda.

A steering command changes times or texts, never the platforms: ``shift`` moves every post
still ahead by some minutes; ``pause`` holds every post still ahead until ``resume``, which
moves them on by the length of the pause; ``next`` brings the next question forward to now;
``edit`` replaces the text of a question not yet gone out; ``end`` drops the questions still
ahead and brings the closing forward to now. Each is replayed at the moment it
was done (``done_at``), so the outcome does not depend on when the replay happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.core.agenda import PlannedPost

CommandKind = Literal[
    "boost", "unboost", "skip", "host_post", "shift", "pause", "resume", "next", "edit", "end"
]
CommandState = Literal["pending", "done", "refused", "failed"]
COMMAND_KINDS: tuple[CommandKind, ...] = (
    "boost",
    "unboost",
    "skip",
    "host_post",
    "shift",
    "pause",
    "resume",
    "next",
    "edit",
    "end",
)
STEERING_KINDS: tuple[CommandKind, ...] = ("shift", "pause", "resume", "next", "edit", "end")
# What the ledger says of the questions left out when the hosts end the chat early.
ENDED_EARLY = "the hosts ended the chat early"
# Who asks for the end of a chat paused too long (``posts.max_pause``): the bot itself.
PAUSE_LIMIT_BY = "tweetchat: paused past the limit"
# A shift of more than this is surely a typo (minutes for seconds).
MAX_SHIFT_MINUTES = 240.0
# Who signed in: a short name, shown on the page and in the log.
MAX_NAME = 64
# A host's own post, before the hashtag is added: the platform's limit decides in the end.
MAX_HOST_TEXT = 1000


@dataclass(frozen=True)
class HostCommand:
    """One thing a host asked for, as the console stored it, and what became of it."""

    id: int
    occurrence: str
    kind: CommandKind
    by: str
    created_at: datetime
    state: CommandState = "pending"
    platform: str | None = None  # None: every platform of the chat
    post_id: str | None = None  # boost, unboost, skip
    slot: str | None = None  # edit: the question's slot, q3
    text: str | None = None  # host_post, edit
    minutes: float | None = None  # shift
    reason: str | None = None
    url: str | None = None
    done_at: datetime | None = None


@dataclass(frozen=True)
class Steered:
    """The agenda as steered: its posts at their new times and texts; while paused, the
    posts held back (they have no time until the agenda resumes); the questions dropped."""

    posts: tuple[PlannedPost, ...]
    held: tuple[PlannedPost, ...]
    paused_since: datetime | None
    dropped: tuple[PlannedPost, ...] = ()  # questions left out by an early end

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    def ahead(self, now: datetime) -> list[PlannedPost]:
        """The posts that have not come yet (held ones included)."""
        return [p for p in self.posts if p.at > now] + list(self.held)


def steer(
    agenda: Sequence[PlannedPost], commands: Sequence[HostCommand], *, speed: float = 1.0
) -> Steered:
    """The agenda after the done steering commands, in the order they were done. A shift's
    minutes are the chat's: a rehearsal played ``speed`` times faster moves by less."""
    posts = list(agenda)
    dropped: list[PlannedPost] = []
    paused_since: datetime | None = None
    done = [c for c in commands if c.state == "done" and c.kind in STEERING_KINDS]
    for command in sorted(done, key=lambda c: (c.done_at or c.created_at, c.id)):
        at = command.done_at or command.created_at
        if command.kind == "shift":
            by = timedelta(minutes=command.minutes or 0.0) / speed
            posts = [_moved(p, by, at) if p.at > at else p for p in posts]
        elif command.kind == "pause":
            paused_since = paused_since or at
        elif command.kind == "resume" and paused_since is not None:
            pause = at - paused_since
            posts = [replace(p, at=p.at + pause) if p.at >= paused_since else p for p in posts]
            paused_since = None
        elif command.kind == "next":
            nxt = next_question(posts, at)
            posts = [replace(p, at=at) if nxt and p.slot == nxt.slot else p for p in posts]
        elif command.kind == "edit" and command.text is not None:
            posts = [replace(p, text=command.text) if p.slot == command.slot else p for p in posts]
        elif command.kind == "end":
            since = at if paused_since is None else min(at, paused_since)
            dropped += [p for p in posts if p.kind == "question" and p.at >= since]
            posts = [
                replace(p, at=at) if p.kind == "closing" and p.at >= since else p
                for p in posts
                if not (p.kind == "question" and p.at >= since)
            ]
            paused_since = None
    posts.sort(key=lambda p: (p.at, p.platform))
    if paused_since is None:
        return Steered(tuple(posts), (), None, tuple(dropped))
    since = paused_since
    return Steered(
        tuple(p for p in posts if p.at < since),
        tuple(p for p in posts if p.at >= since),
        since,
        tuple(dropped),
    )


def _moved(post: PlannedPost, by: timedelta, at: datetime) -> PlannedPost:
    # Brought forward, a post goes out at once at the earliest, never in the past.
    return replace(post, at=max(post.at + by, at))


def next_question(posts: Sequence[PlannedPost], now: datetime) -> PlannedPost | None:
    """The first question still ahead, on any platform."""
    ahead = [p for p in posts if p.kind == "question" and p.at > now]
    return min(ahead, key=lambda p: p.at) if ahead else None


def refusal(command: HostCommand, steered: Steered, *, now: datetime) -> str | None:
    """Why a steering command cannot be done now (it came after its moment), or None."""
    ahead = steered.ahead(now)
    if command.kind == "pause" and steered.paused:
        return "the agenda is paused already"
    if command.kind == "resume" and not steered.paused:
        return "the agenda is not paused"
    if command.kind in ("shift", "pause") and not ahead:
        return "every post of the agenda has gone out: nothing is left to move"
    if command.kind == "next":
        if steered.paused:
            return "the agenda is paused: resume it first"
        if next_question(ahead, now) is None:
            return "every question has gone out"
    if command.kind == "end" and not [p for p in ahead if p.kind in ("question", "closing")]:
        return "the chat is over already: no question or closing is left to post"
    if command.kind == "edit":
        slot_posts = [p for p in steered.posts + steered.held if p.slot == command.slot]
        if not slot_posts:
            return f"the agenda has no question {command.slot}"
        if any(p not in ahead for p in slot_posts):
            return f"{command.slot} has gone out already"
    return None
