"""The whole chat is captured, once, whatever happens to the connection or the process.

`tweetchat run` hosts a compressed chat on a real Mastodon API server, behind the fault
proxy. Twenty accounts (one of them a bot) post 200 statuses: tagged answers, untagged
replies to the questions, replies to replies, unlisted and private posts, and edit and
delete some. Meanwhile the proxy cuts the bot's stream three times and the bot is SIGKILLed
and restarted once. Afterwards `tweetchat archive --json` must list exactly the public posts
of the chat, with their final text: nothing missing, nothing twice, deleted ones gone.

The crowd's choices come from a seed printed at the start (pytest shows it on failure); rerun
one with TWEETCHAT_CAPTURE_SEED=<seed>.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from bot.core.html_text import html_to_text
from tests.fakes.fault_proxy import FaultProxy
from tests.support.chat_files import (
    RunningBot,
    log_events,
    run_tweetchat,
    tweetchat_env,
    write_chat,
)
from tests.support.mastodon_server import Account, MastodonServer

pytestmark = pytest.mark.slow

TAG = "#CapChat"
QUESTIONS = 4
SPACING = 5.0  # seconds between the bot's posts: the chat lasts 30 s
LEAD = 6.0  # seconds before the intro: the bot starts and begins following first
STATUSES = 200
PEOPLE = 20
# Moments, in seconds after the intro: the bot dies between Q2 and Q3 and comes back after
# the gap; the streams are cut before and after.
KILL_AT, RESTART_AT = 12.5, 15.0
CUTS_AT = (6.0, 10.5, 21.0)
CROWD_UNTIL = 27.0  # the crowd stops before the window closes (end + wrap-up delay)


@dataclass
class Status:
    id: str
    author: Account
    text: str
    tagged: bool
    public: bool
    parent: str | None
    deleted: bool = False
    children: int = 0


@dataclass
class Crowd:
    """People posting at random, and a record of what the archive must hold in the end."""

    mastodon: MastodonServer
    bot: Account
    people: list[Account]
    rng: random.Random
    statuses: dict[str, Status] = field(default_factory=dict)
    bot_posts: dict[str, str] = field(default_factory=dict)  # slot -> id
    log: list[str] = field(default_factory=list)

    def refresh_bot_posts(self) -> None:
        for status in self.mastodon.statuses_of(self.bot):
            text = html_to_text(status["content"])
            slot = "intro" if text.startswith("Welcome") else "closing"
            if text.startswith("Q"):
                slot = text.split(":", 1)[0].lower()
            self.bot_posts.setdefault(slot, status["id"])

    def current_question(self) -> int:
        asked = [int(slot[1:]) for slot in self.bot_posts if slot.startswith("q")]
        return max(asked, default=0)

    def act(self, n: int) -> None:
        """Post one status; now and then edit or delete an earlier one too."""
        who = self.rng.choice(self.people[:-1])
        question = self.current_question()
        target = self.bot_posts.get(f"q{question}") or self.bot_posts.get("intro")
        roll = self.rng.random()
        if roll < 0.35:
            text = f"A{question} answer {n} {TAG}" if question else f"Hello, I am {n} {TAG}"
            reply_to = target if self.rng.random() < 0.3 else None
            self.post(who, text, reply_to=reply_to)
        elif roll < 0.45:
            self.post(who, f"So interesting, {n} {TAG}")
        elif roll < 0.60 and target:
            self.post(who, f"untagged answer {n}", reply_to=target)
        elif roll < 0.75 and (parent := self.pick(lambda s: s.public)):
            self.post(who, f"reply {n} to {parent.id}", reply_to=parent.id)
        elif roll < 0.80:
            self.post(who, f"unlisted {n} {TAG}", visibility="unlisted")
        elif roll < 0.85:
            self.post(who, f"private {n} {TAG}", visibility="private")
        elif roll < 0.88:
            self.post(who, f"unrelated {n}")
        else:
            self.post(self.people[-1], f"A{question} from a bot account {n} {TAG}")
        if self.rng.random() < 0.15 and (edited := self.pick(lambda s: s.public)):
            self.edit(edited)
        if self.rng.random() < 0.08 and (
            doomed := self.pick(lambda s: s.public and not s.children)
        ):
            self.delete(doomed)

    def pick(self, wanted: Any) -> Status | None:
        choices = [s for s in self.statuses.values() if not s.deleted and wanted(s)]
        return self.rng.choice(choices) if choices else None

    def post(
        self, who: Account, text: str, *, reply_to: str | None = None, visibility: str = "public"
    ) -> None:
        fields: dict[str, Any] = {"visibility": visibility}
        if reply_to is not None:
            fields["in_reply_to_id"] = reply_to
            if reply_to in self.statuses:
                self.statuses[reply_to].children += 1
        data = self.mastodon.post(who, text, **fields)
        self.statuses[data["id"]] = Status(
            data["id"], who, text, TAG in text, visibility == "public", reply_to
        )

    def edit(self, status: Status) -> None:
        status.text = f"{status.text} (edited)"
        self.mastodon.http.put(
            f"/api/v1/statuses/{status.id}",
            json={"status": status.text},
            headers=self.mastodon.auth(status.author),
        ).raise_for_status()
        self.log.append(f"edited {status.id}")

    def delete(self, status: Status) -> None:
        status.deleted = True
        self.mastodon.http.delete(
            f"/api/v1/statuses/{status.id}", headers=self.mastodon.auth(status.author)
        ).raise_for_status()
        self.log.append(f"deleted {status.id}")

    def in_chat(self, status: Status) -> bool:
        """Tagged, or a reply down a chain to one of the bot's posts."""
        if status.tagged:
            return True
        parent, seen = status.parent, set()
        while parent is not None and parent not in seen:
            if parent in self.bot_posts.values():
                return True
            seen.add(parent)
            parent = self.statuses[parent].parent if parent in self.statuses else None
        return False

    def expected(self) -> dict[str, str]:
        out = {
            s.id: s.text
            for s in self.statuses.values()
            if s.public and not s.deleted and self.in_chat(s)
        }
        for status in self.mastodon.statuses_of(self.bot):
            out[status["id"]] = html_to_text(status["content"])
        return out


def cut_streams(proxy: FaultProxy) -> int:
    """Cut the bot's stream, waiting a little for one to be open (it may be reconnecting)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cut = proxy.cut_streams()
        if cut:
            return cut
        time.sleep(0.05)
    return 0


def test_the_archive_holds_every_public_post_once_through_cuts_and_a_kill(
    mastodon: MastodonServer, tmp_path: Path
) -> None:
    seed = int(os.environ.get("TWEETCHAT_CAPTURE_SEED") or random.randrange(1 << 30))
    print(f"TWEETCHAT_CAPTURE_SEED={seed}")
    bot = mastodon.account("capbot", bot=True)
    people = [mastodon.account(f"p{i:02d}") for i in range(PEOPLE - 1)]
    people.append(mastodon.account("helperbot", bot=True, note="I am automated"))
    crowd = Crowd(mastodon, bot, people, random.Random(seed))
    database = tmp_path / "store.sqlite3"
    outputs: list[str] = []
    with FaultProxy(mastodon.base_url) as proxy:
        chat = write_chat(
            tmp_path / "chat.yaml",
            instance=proxy.base_url,
            questions=QUESTIONS,
            spacing=SPACING,
            lead=LEAD,
            chat_id="capchat",
            hashtag=TAG,
            sections={
                "wrapup": {"after": "4s"},
                "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
                "boost": {"mode": "off"},
            },
        )
        env = tweetchat_env(
            database=database, token=bot.token, TWEETCHAT_WORKER_ID="capture-test-worker"
        )
        start = chat.occurrence.start.timestamp()

        def until(offset: float) -> None:
            time.sleep(max(0.0, start + offset - time.time()))

        running = RunningBot(chat.path, env=env)
        cuts: list[int] = []
        try:
            until(0.5)
            pending_cuts = list(CUTS_AT)
            killed = False
            step = (CROWD_UNTIL - 0.5) / STATUSES
            for n in range(STATUSES):
                until(0.5 + n * step)
                if n % 4 == 0:
                    crowd.refresh_bot_posts()
                crowd.act(n)
                offset = time.time() - start
                if pending_cuts and offset >= pending_cuts[0]:
                    pending_cuts.pop(0)
                    cuts.append(cut_streams(proxy))
                if not killed and offset >= KILL_AT:
                    running.kill()
                    outputs.append(running.output)
                    killed = True
                if killed and running.process.poll() is not None and offset >= RESTART_AT:
                    running = RunningBot(chat.path, env=env)
            # Done once the capture has settled; the rest of the process's day (curation,
            # the wrap-up) is not this test's business.
            assert running.wait_for_event("follow.settled", timeout=60) is not None
            running.signal(signal.SIGTERM)
            code = running.wait(timeout=15)
        finally:
            running.kill()
            outputs.append(running.output)
    assert code == 0, outputs[-1][-3000:]
    assert killed
    assert cuts == [1, 1, 1], f"seed {seed}: stream cuts {cuts}"

    listing = run_tweetchat("archive", str(chat.path), "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    archived = json.loads(listing.stdout)
    ids = [post["id"] for post in archived]
    assert len(ids) == len(set(ids)), f"seed {seed}: a post archived twice"
    got = {post["id"]: " ".join(post["text"].split()) for post in archived}
    want = {i: " ".join(text.split()) for i, text in crowd.expected().items()}
    missing = {i: want[i] for i in set(want) - set(got)}
    extra = {i: got[i] for i in set(got) - set(want)}
    wrong = {i: (got[i], want[i]) for i in set(got) & set(want) if got[i] != want[i]}
    assert (missing, extra, wrong) == ({}, {}, {}), f"seed {seed}; crowd: {crowd.log}"
    assert len(want) > 100  # the crowd really posted

    events = [e for output in outputs for e in log_events(output)]
    assert sum(e["event"] == "follow.reconnect" for e in events) >= len(CUTS_AT)
    assert any(e["event"] == "follow.settled" for e in events)

    store = SqlStore.from_url(f"sqlite:///{database}")
    posts = {p.id: p for p in SqlArchive(store.engine).posts(chat.occurrence.id)}
    store.close()
    bot_ids = set(crowd.bot_posts.values())
    assert {i for i, p in posts.items() if p.is_own} == bot_ids
    for status in crowd.statuses.values():
        post = posts.get(status.id)
        if post is None:
            continue
        assert post.author.is_bot == (status.author is people[-1])
        if status.parent in bot_ids and status.parent != crowd.bot_posts["intro"]:
            slot = next(s for s, i in crowd.bot_posts.items() if i == status.parent)
            assert (post.question, post.rule) == (int(slot[1:]), "reply"), status
