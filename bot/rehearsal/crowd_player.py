"""The crowd, playing its plan (``crowd.CrowdPlan``) into a rehearsal's in-memory servers on
the clock, each action stamped with the moment it was due; its hosts answer the bot's lists
of candidates."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.agenda import Occurrence, PlannedPost
from bot.ports.clock import Clock
from bot.rehearsal.crowd import CrowdPlan, CrowdPost, Delete, Edit, Favourite, Persona
from bot.rehearsal.world import Account, RehearsalServer

# How long a reply waits for the bot's post it answers (published a moment late, say).
_TARGET_WAIT_SECONDS = 1.0
# How long, in chat time, a host takes to answer the bot's list of candidates.
_HOST_DELAY = timedelta(seconds=30)


class CrowdPlayer:
    """The crowd, playing its plan into the servers on the clock: a companion of the
    rehearsed occurrence. Hosts among it answer the bot's lists of candidates (approve
    mode) by boosting the first two."""

    def __init__(
        self,
        *,
        plan: CrowdPlan,
        servers: Sequence[RehearsalServer],
        bots: Mapping[str, Account],
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

    def account(self, server: RehearsalServer, person: Persona) -> Account:
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
