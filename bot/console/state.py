"""What a host sees of an occurrence, read from the store: the agenda as steered, the
current question's answers, the boost candidates, the numbers and the bot's health.

One plain, JSON-ready dict serves the page and the API alike. Strangers' text is made safe
exactly as in the transcript: the body through ``clean_post_html``, links through
``safe_url``; the templates escape everything else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.console_sql import ConsoleReads
from bot.core.agenda import Occurrence, Plan, PlannedPost
from bot.core.budget import Spend
from bot.core.config import ChatConfig
from bot.core.health import PlatformHealth
from bot.core.model import ArchivedPost
from bot.core.steering import HostCommand, Steered, steer
from bot.core.transcript import author_key
from bot.export_common import clean_post_html, iso_utc, safe_url
from bot.ports.console import HostCommands
from bot.ports.curation import BoostDecision, CurationStore
from bot.ports.posting import Ledger, LedgerEntry

# Posts listed on the page: a host reads the newest; the transcript keeps them all.
ANSWERS_SHOWN = 60
OTHERS_SHOWN = 30
CANDIDATES_SHOWN = 12
# "Posts per minute" counts this far back.
RATE_WINDOW = timedelta(minutes=5)
# Who came to earlier occurrences changes only between chats: read it seldom.
_RETURNING_TTL = 60.0


@dataclass(frozen=True)
class ConsoleChat:
    """A chat the console shows: its file, and the occurrence it runs now with its agenda
    (a rehearsal's compressed one, in a rehearsal)."""

    config: ChatConfig
    plan: Callable[[datetime], Plan]
    speed: float = 1.0  # a rehearsal's time compression


class StateReader:
    """Builds an occurrence's state from the store; safe to call from several threads."""

    def __init__(
        self,
        *,
        reads: ConsoleReads,
        ledger: Ledger,
        commands: HostCommands,
        curation: CurationStore,
        returning: Callable[[str, str], set[str]],
        spending: Callable[[str, str], Spend],
        health: Callable[[str], list[PlatformHealth]] = lambda _occurrence: [],
    ) -> None:
        self.reads = reads
        self._ledger = ledger
        self._commands = commands
        self._curation = curation
        self._returning = returning
        self._spending = spending
        self._platform_health = health
        self._cache: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    def state(self, chat: ConsoleChat, plan: Plan, *, now: datetime) -> dict[str, Any]:
        occurrence, agenda = plan
        config = chat.config
        commands = self._commands.commands(occurrence.id)
        steered = steer(agenda, commands, speed=chat.speed)
        entries = {e.key: e for e in self._ledger.entries(occurrence.id)}
        agenda_view = [_agenda_item(p, entries.get(p.key), steered, now) for p in _all(steered)]
        current = _current_question(steered, entries)
        returning = self._returning_authors(config.chat.id, occurrence.id)
        decisions = self._curation.decisions(occurrence.id)
        boosted = {d.post_id for d in decisions if d.state == "boosted"}
        answers = (
            self.reads.latest(occurrence.id, question=current, other=False, limit=ANSWERS_SHOWN)
            if current is not None
            else []
        )
        others = self.reads.latest(occurrence.id, question=current, other=True, limit=OTHERS_SHOWN)
        upcoming = [a for a in agenda_view if a["state"] == "planned"]
        return {
            "occurrence": occurrence.id,
            "chat": config.chat.id,
            "title": config.chat.title,
            "hashtag": config.chat.hashtag,
            "platforms": config.platforms.names(),
            "now": iso_utc(now),
            "start": iso_utc(occurrence.start),
            "end": iso_utc(occurrence.end),
            "paused": steered.paused,
            "agenda": agenda_view,
            "next": upcoming[0] if upcoming else None,
            "current_question": current,
            "answers": [_post_view(p, returning, boosted) for p in answers],
            "others": [_post_view(p, returning, boosted) for p in others],
            "candidates": _candidates(decisions, current, _skipped(entries)),
            "boosts": _boosts(decisions, _taken_back(entries)),
            "caps": _caps(config, decisions, current),
            "numbers": self._numbers(occurrence, returning, now),
            "health": self._health(chat, occurrence, entries, now),
            "commands": [_command_view(c) for c in reversed(commands)],
            "questions": [
                {"slot": p.slot, "text": p.text}
                for p in _all(steered)
                if p.kind == "question"
                and p.key not in entries
                and p.at > now
                and p.platform == config.platforms.names()[0]
            ],
        }

    def _returning_authors(self, chat_id: str, occurrence: str) -> set[str]:
        with self._lock:
            cached = self._cache.get(occurrence)
            if cached is not None and time.monotonic() - cached[0] < _RETURNING_TTL:
                return cached[1]
        authors = self._returning(chat_id, occurrence)
        with self._lock:
            self._cache[occurrence] = (time.monotonic(), authors)
        return authors

    def _numbers(
        self, occurrence: Occurrence, returning: set[str], now: datetime
    ) -> dict[str, Any]:
        counts = self.reads.counts(occurrence.id, now=now, recent_window=RATE_WINDOW)
        back = len(counts.authors & returning)
        minutes = RATE_WINDOW.total_seconds() / 60
        return {
            "people": len(counts.authors),
            "new": len(counts.authors) - back,
            "returning": back,
            "posts": counts.posts,
            "posts_per_minute": round(counts.recent / minutes, 1),
            "answers_per_question": {str(q): n for q, n in sorted(counts.per_question.items())},
        }

    def _health(
        self,
        chat: ConsoleChat,
        occurrence: Occurrence,
        entries: dict[str, LedgerEntry],
        now: datetime,
    ) -> dict[str, Any]:
        lease = self.reads.lease(occurrence.id)
        workers = [
            {"worker": w.worker_id, "beat_seconds_ago": round((now - w.beat_at).total_seconds())}
            for w in self.reads.workers()
        ]
        x = chat.config.platforms.x
        budget = None
        if x is not None:
            # Spent or held: what the cap is measured against.
            spent = self._spending(occurrence.id, "x")
            budget = {
                "spent_usd": round(spent.micros / 1_000_000, 3),
                "max_usd": float(x.budget.max_usd) if x.budget.max_usd is not None else None,
                "reads": spent.reads,
                "posts": spent.posts,
            }
        return {
            "platforms": [_platform_health(h, now) for h in self._platform_health(occurrence.id)],
            "x_budget": budget,
            "workers": workers,
            "owner": lease.owner if lease and lease.expires_at > now else None,
            "failed": [
                {"key": e.key, "reason": e.error} for e in entries.values() if e.state == "failed"
            ],
        }


def _platform_health(health: PlatformHealth, now: datetime) -> dict[str, Any]:
    """What the worker last noted of a platform; a rate-limit wait only while it lasts."""
    until = health.rate_limited_until
    return {
        "platform": health.platform,
        "mode": health.mode,
        "mode_reason": health.mode_reason,
        "mode_since": iso_utc(health.mode_since) if health.mode_since else None,
        "rate_limited_until": iso_utc(until) if until and until > now else None,
        "rate_limit_reason": health.rate_limit_reason,
        "rate_limit_waits": health.rate_limit_waits,
        "errors": health.errors,
        "last_error": health.last_error,
        "last_error_at": iso_utc(health.last_error_at) if health.last_error_at else None,
        "updated_at": iso_utc(health.updated_at),
    }


def _all(steered: Steered) -> list[PlannedPost]:
    return [*steered.posts, *steered.held, *steered.dropped]


def _agenda_item(
    post: PlannedPost, entry: LedgerEntry | None, steered: Steered, now: datetime
) -> dict[str, Any]:
    state, reason, url, published = "planned", None, None, None
    if entry is not None:
        state = {"done": "posted", "claimed": "posting"}.get(entry.state, entry.state)
        reason, url = entry.error, safe_url(entry.url)
        published = iso_utc(entry.published_at) if entry.published_at else None
    elif post in steered.held:
        state = "held"
    elif post in steered.dropped:
        state = "dropped"
    elif post.at <= now:
        state = "late"
    return {
        "key": post.key,
        "slot": post.slot,
        "kind": post.kind,
        "platform": post.platform,
        "at": None if state == "held" else iso_utc(post.at),
        "state": state,
        "reason": reason,
        "url": url,
        "published_at": published,
        "text": post.text,
    }


def _current_question(steered: Steered, entries: dict[str, LedgerEntry]) -> int | None:
    """The latest question (0: the intro) that went out on any platform."""
    out = [
        p
        for p in steered.posts
        if p.kind in ("intro", "question") and (e := entries.get(p.key)) and e.state == "done"
    ]
    if not out:
        return None
    latest = max(out, key=lambda p: p.at)
    return latest.number if latest.kind == "question" else 0


def _post_view(post: ArchivedPost, returning: set[str], boosted: set[str]) -> dict[str, Any]:
    return {
        "platform": post.platform,
        "id": post.id,
        "url": safe_url(post.url),
        "author": post.author.handle,
        "name": post.author.display_name.strip() or post.author.handle,
        "created_at": iso_utc(post.created_at),
        "question": post.question,
        "rule": post.rule,
        "first_time": author_key(post.author) not in returning,
        "boosted": post.id in boosted,
        "text": post.text,
        "html": clean_post_html(post),
    }


def _skipped(entries: dict[str, LedgerEntry]) -> dict[tuple[str, str], str]:
    """(platform, post id) -> who skipped it: a boost key closed by a host's skip."""
    skipped = {}
    for entry in entries.values():
        _, kind, platform, post_id = [*entry.key.rsplit("/", 3), "", "", ""][:4]
        if kind == "boost" and entry.state == "missed":
            skipped[(platform, post_id)] = entry.error or "skipped"
    return skipped


def _candidates(
    decisions: Sequence[BoostDecision], current: int | None, skipped: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    mine = [d for d in decisions if d.question == current and d.state != "boosted"]
    mine.sort(key=lambda d: (d.state == "rejected", -(d.score or 0.0)))
    views = []
    for d in mine[:CANDIDATES_SHOWN]:
        skip = skipped.get((d.platform, d.post_id))
        views.append(
            {
                "platform": d.platform,
                "post_id": d.post_id,
                "state": "skipped" if skip else d.state,
                "score": d.score,
                "breakdown": dict(d.breakdown),
                # A skipped post reads as "boosted already" to the curator: say who skipped it.
                "rule": None if skip else d.rule,
                "reason": skip or d.reason,
            }
        )
    return views


def _taken_back(entries: dict[str, LedgerEntry]) -> set[tuple[str, str]]:
    """(platform, post id) of the boosts a host took back."""
    taken = set()
    for entry in entries.values():
        _, kind, platform, post_id = [*entry.key.rsplit("/", 3), "", "", ""][:4]
        if kind == "unboost" and entry.state == "done":
            taken.add((platform, post_id))
    return taken


def _boosts(
    decisions: Sequence[BoostDecision], taken_back: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    done = sorted(
        (d for d in decisions if d.state == "boosted"),
        key=lambda d: d.boosted_at or d.decided_at,
        reverse=True,
    )
    return [
        {
            "platform": d.platform,
            "post_id": d.post_id,
            "question": d.question,
            "boosted_at": iso_utc(d.boosted_at or d.decided_at),
            "reason": d.reason,
            "taken_back": (d.platform, d.post_id) in taken_back,
        }
        for d in done
    ]


def _caps(
    config: ChatConfig, decisions: Sequence[BoostDecision], current: int | None
) -> dict[str, Any]:
    rules = config.boost
    boosted = [d for d in decisions if d.state == "boosted" and not d.always]
    return {
        "mode": rules.mode,
        "max_per_question": rules.max_per_question,
        "used_this_question": sum(1 for d in boosted if d.question == current),
        "max_per_author": rules.max_per_author,
        "boosted_total": len(boosted),
    }


def _command_view(command: HostCommand) -> dict[str, Any]:
    return {
        "id": command.id,
        "kind": command.kind,
        "by": command.by,
        "created_at": iso_utc(command.created_at),
        "state": command.state,
        "platform": command.platform,
        "post_id": command.post_id,
        "slot": command.slot,
        "minutes": command.minutes,
        "text": command.text,
        "reason": command.reason,
        "url": safe_url(command.url),
        "done_at": iso_utc(command.done_at) if command.done_at else None,
    }
