"""A compressed chat on a real local AT Protocol network, the bot SIGKILLed at random moments.

`tweetchat run` hosts the chat on Bluesky (alone, then beside Mastodon) while a crowd answers:
tagged answers, untagged replies to the questions, a #nobot author, someone who tells the
bot "stop", and an answer deleted afterwards. The bot is killed at random moments and
restarted each time, then left to finish (wrap-up included). A kill also falls between
post and record: the proxy in front of the PDS (the address in the bot's DID document)
keeps the PDS's answer to the createRecord of Q1 from the bot, and the bot is killed while
Q1 is on the PDS and only claimed in the ledger (or a random kill lands there first, and
counts). Afterwards the PDS must hold every agenda
post once, threaded and in order, Q1 as the record made before that kill; the archive the
tagged and untagged answers but not the deleted one; the reposts stay within the caps and
never touch the #nobot author nor the one who said stop.

The kill moments come from a seed printed at the start; rerun one with
TWEETCHAT_CRASH_SEED=<seed>.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.bluesky_ids import post_id
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import PlannedPost
from tests.fakes.proxy_faults import Hold
from tests.support.bluesky_network import Account, BlueskyNetwork
from tests.support.chat_files import ChatFile, RunningBot, log_events, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

QUESTIONS = 3
SPACING = 10.0  # seconds between the bot's posts: the chat lasts 50 s
KILLS = 5
# The kills fall at random moments from just before the intro to the middle of Q2's window
# (each at least a moment after the bot is up); the last run lives through the rest, where
# reposts are due.
KILLS_FROM, KILLS_UNTIL = -2.0, 1.5 * SPACING
HELD_SLOT = "q1"  # the post whose answer the PDS's proxy keeps from the bot
PASSWORD_ENV = "BLUESKY_APP_PASSWORD"


@dataclass
class HeldAnswer:
    """The PDS's answer to the bot's createRecord of one agenda post, never relayed by the
    proxy in front of the PDS: the bot is killed while the post exists on the PDS and the
    ledger has only its claim."""

    network: BlueskyNetwork
    bot: Account
    post: PlannedPost
    hold: Hold = field(default_factory=Hold)
    record: str | None = None  # the post id of the record made before the kill

    @classmethod
    def of(cls, network: BlueskyNetwork, bot: Account, post: PlannedPost) -> HeldAnswer:
        """Hold the answer to ``post``'s createRecord from now on."""
        held = cls(network, bot, post)
        # Chosen by its text: the crowd's posts and the bot's reposts are created there too.
        network.pds_proxy.inject(
            held.hold,
            path_prefix="/xrpc/com.atproto.repo.createRecord",
            method="POST",
            body_contains=post.text,
        )
        return held

    def came(self, within: float) -> bool:
        """Wait up to ``within`` seconds for the answer to be held; once it has been, just
        let the time pass."""
        if self.hold.held.is_set():
            time.sleep(within)
            return False
        return self.hold.held.wait(within)

    def left_by_kill(self, database_url: str) -> str | None:
        """Once the bot is killed: if its createRecord of the post reached the PDS before it
        died (held, or by chance at a random kill), what it left behind: the post on the
        PDS, and in the ledger only a claim. None if that kill came before the post."""
        # What the bot sent before it died reaches the PDS before anyone looks.
        self.network.pds_proxy.settle()
        if self.record is not None or not self.hold.held.is_set():
            return None
        made = [
            r for r in _posts_of(self.network, self.bot.did) if r["value"]["text"] == self.post.text
        ]
        assert len(made) == 1, made
        self.record = post_id(made[0]["uri"])
        ledger = SqlStore.from_url(database_url)
        try:
            entry = ledger.get(self.post.key)
        finally:
            ledger.close()
        assert entry is not None
        assert entry.state == "claimed", entry
        return f"{self.post.key} on the PDS ({self.record}), {entry.state} in the ledger"


@dataclass
class Crowd:
    """People answering on Bluesky as the questions appear; what the archive must hold."""

    network: BlueskyNetwork
    bot: Account
    tag: str
    people: dict[str, Account]
    kept: set[str] = field(default_factory=set)  # post ids the archive must hold
    deleted: set[str] = field(default_factory=set)
    withheld: set[str] = field(default_factory=set)  # by someone labelled !no-unauthenticated
    log: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def question(self, n: int, *, timeout: float) -> dict[str, Any]:
        """The bot's Qn record, once it is on the PDS."""
        return self.network.wait_for(
            lambda: next(
                (
                    r
                    for r in self.network.records(self.bot.did, "app.bsky.feed.post")
                    if r["value"]["text"].startswith(f"Q{n}")
                ),
                None,
            ),
            what=f"Q{n}",
            timeout=timeout,
        )

    def post(self, who: str, text: str, *, reply_to: dict[str, Any] | None = None) -> str:
        refs = None
        if reply_to is not None:
            # The root is the thread's (the intro): the AppView hides a reply whose root
            # does not match its parent's.
            parent = {"uri": reply_to["uri"], "cid": reply_to["cid"]}
            root = reply_to["value"].get("reply", {}).get("root", parent)
            refs = {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent}
        created = self.network.create_post(self.people[who], text, reply_to=refs)
        self.log.append(f"{who}: {text} ({post_id(created['uri'])})")
        return post_id(created["uri"])

    def play(self) -> None:
        try:
            self._play()
        except BaseException as exc:
            self.errors.append(exc)

    def _play(self) -> None:
        wait = 4 * SPACING + 60  # the bot may be down for a while
        q1 = self.question(1, timeout=wait)
        self.kept.add(self.post("alice", f"A1 the tagged answer {self.tag}"))
        self.kept.add(self.post("bob", "A1 an untagged reply to the question", reply_to=q1))
        self.kept.add(self.post("carol", f"A1 carol says no bots please {self.tag}"))
        mention = f"@{self.bot.handle} stop"
        self.network.create_post(
            self.people["dave"],
            mention,
            facets=[
                {
                    "index": {"byteStart": 0, "byteEnd": len(mention.encode()) - 5},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.bot.did}],
                }
            ],
        )
        self.kept.add(self.post("dave", f"A1 dave answers anyway {self.tag}"))
        self.post("erin", f"A1 a lookalike tag {self.tag}Later")  # not this chat's tag
        self.withheld.add(self.post("frank", f"A1 frank keeps to logged-in eyes {self.tag}"))
        q2 = self.question(2, timeout=wait)
        gone = self.post("alice", f"A2 this one will be deleted {self.tag}")
        self.kept.add(self.post("bob", "A2 untagged again", reply_to=q2))
        self.kept.add(self.post("erin", f"A2 erin's thoughts {self.tag}"))
        self.question(3, timeout=wait)
        self.network.delete_post(
            self.people["alice"],
            f"at://{gone.split('/')[0]}/app.bsky.feed.post/{gone.split('/')[1]}",
        )
        self.deleted.add(gone)
        self.kept.add(self.post("erin", f"A3 erin closes {self.tag}"))


def _chat(
    tmp_path: Path, network: BlueskyNetwork, bot: Account, tag: str, **extra: Any
) -> ChatFile:
    platforms: dict[str, Any] = {
        # The local AppView indexes a post within a second (production's search takes
        # longer: 10 s by default), and each question's window here lasts 10 s.
        "bluesky": {"service": network.pds, "handle": bot.handle, "index_delay": "2s"},
        **extra.pop("platforms", {}),
    }
    return write_chat(
        tmp_path / "chat.yaml",
        instance=network.pds,
        questions=QUESTIONS,
        spacing=SPACING,
        lead=6,
        chat_id="skychat",
        hashtag=tag,
        platforms=platforms,
        sections={
            "wrapup": {"after": "5s", "folder": str(tmp_path / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {
                "mode": "auto",
                "max_per_question": 1,
                "max_per_author": 1,
                "min_interval": "1s",
                "tick": "1s",
            },
        },
    )


def _run_with_kills(
    chat: ChatFile, env: dict[str, str], rng: random.Random, held: HeldAnswer
) -> list[str]:
    outputs: list[str] = []
    history: list[str] = []
    intro = chat.occurrence.start.timestamp()
    moments = sorted(intro + rng.uniform(KILLS_FROM, KILLS_UNTIL) for _ in range(KILLS))
    while moments or held.record is None:
        with RunningBot(chat.path, env=env) as running:
            if running.wait_for_event("occurrence.start", timeout=60) is None:
                pytest.fail(f"the bot ended before a kill:\n{running.output}")
            # With no random kill left, this run lives until the held post comes out.
            until = moments[0] if moments else held.post.at.timestamp() + 60
            came = held.came(within=max(until - time.time(), rng.uniform(0.1, 0.5)))
            if not (came or moments):
                pytest.fail(f"the bot never posted {held.post.slot}:\n{running.output}")
            running.kill()
            kill = f"SIGKILL {time.time() - intro:.2f} s after the intro's time"
            left = held.left_by_kill(env["DATABASE_URL"])
            history.append(kill if left is None else f"{kill}: {left}")
            if not came:
                moments.pop(0)
        outputs.append(running.output)
    with RunningBot(chat.path, env=env) as running:
        try:
            code = running.wait(timeout=QUESTIONS * SPACING + 120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the final run did not end:\n{running.output}")
        outputs.append(running.output)
        history.append(f"final run exited {code}")
    print("\n".join(history))  # pytest shows it when a test fails
    assert code == 0, outputs[-1]
    return outputs


def _posts_of(network: BlueskyNetwork, did: str) -> list[dict[str, Any]]:
    return network.records(did, "app.bsky.feed.post")


def _check_thread(records: list[dict[str, Any]], texts: list[str]) -> None:
    agenda = [r for r in records if r["value"]["text"] in texts]
    assert [r["value"]["text"] for r in agenda] == texts  # once each, in order
    root = agenda[0]
    assert "reply" not in root["value"]
    for before, after in itertools.pairwise(agenda):
        reply = after["value"]["reply"]
        assert (reply["parent"]["uri"], reply["parent"]["cid"]) == (before["uri"], before["cid"])
        assert (reply["root"]["uri"], reply["root"]["cid"]) == (root["uri"], root["cid"])


def _play_chat(
    network: BlueskyNetwork, chat: ChatFile, env: dict[str, str], crowd: Crowd
) -> tuple[list[str], SqlStore, HeldAnswer]:
    seed = int(os.environ.get("TWEETCHAT_CRASH_SEED") or random.randrange(2**32))
    print(f"bluesky chat seed {seed}: rerun with TWEETCHAT_CRASH_SEED={seed}")
    held = HeldAnswer.of(
        network,
        crowd.bot,
        next(p for p in chat.agenda if p.platform == "bluesky" and p.slot == HELD_SLOT),
    )
    player = threading.Thread(target=crowd.play, daemon=True)
    player.start()
    outputs = _run_with_kills(chat, env, random.Random(seed), held)
    player.join(timeout=30)
    assert not crowd.errors, crowd.errors
    return outputs, SqlStore.from_url(env["DATABASE_URL"]), held


def _people(network: BlueskyNetwork) -> dict[str, Account]:
    return {
        "alice": network.create_account("alice"),
        "bob": network.create_account("bob"),
        "carol": network.create_account("carol", description="Teacher. #NoBot please"),
        "dave": network.create_account("dave"),
        "erin": network.create_account("erin"),
        "frank": network.create_account("frank", labels=["!no-unauthenticated"]),
    }


def test_a_chat_on_bluesky_survives_sigkills_and_captures_and_curates_it(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    bot = bluesky.create_account("host")
    tag = "#SkyChat" + "".join(random.choices("ABCDEFGH", k=4))
    people = _people(bluesky)
    chat = _chat(tmp_path, bluesky, bot, tag)
    env = tweetchat_env(
        database=tmp_path / "store.sqlite3",
        token=None,
        TWEETCHAT_LEASE_TTL="1s",
        **{PASSWORD_ENV: bot.password},
    )
    crowd = Crowd(bluesky, bot, tag, people)

    outputs, store, held = _play_chat(bluesky, chat, env, crowd)
    try:
        _check_outcome(bluesky, chat, bot, crowd, store, outputs, held)
    finally:
        store.close()


def _check_outcome(
    network: BlueskyNetwork,
    chat: ChatFile,
    bot: Account,
    crowd: Crowd,
    store: SqlStore,
    outputs: list[str],
    held: HeldAnswer,
    platform: str = "bluesky",
) -> None:
    history = "\n".join(crowd.log)
    assert not [out for out in outputs if "Traceback" in out], outputs[-1]
    texts = [p.text for p in chat.agenda if p.platform == platform]
    records = _posts_of(network, bot.did)
    _check_thread(records, texts)
    # The wrap-up thread went out on Bluesky too, after the agenda.
    assert len(records) > len(texts), [r["value"]["text"] for r in records]
    entries = {e.key: e for e in store.entries(chat.occurrence.id)}
    for post in chat.agenda:
        assert entries[post.key].state == "done", (post.key, entries[post.key])
    # The record made before the kill between post and record is the one recorded.
    assert entries[held.post.key].remote_id == held.record, entries[held.post.key]

    archived = {p.id: p for p in SqlArchive(store.engine).posts(chat.occurrence.id)}
    others = {i for i, p in archived.items() if p.platform == "bluesky" and not p.is_own}
    assert crowd.kept <= others, (crowd.kept - others, history)
    assert not (crowd.deleted & set(archived)), history
    # The lookalike tag (#...Later) matched the local search's substring, and was left out.
    assert not [p.text for p in archived.values() if "Later" in p.text], history

    # Archived and counted, but never named or linked in the transcript files.
    assert crowd.withheld <= others, history
    assert all(archived[i].author.noindex for i in crowd.withheld)
    frank = crowd.people["frank"]
    files = [f for f in Path(chat.config.wrapup.folder).rglob("*") if f.is_file()]
    assert files, "no transcript was written"
    for written in files:
        content = written.read_text(errors="replace")
        assert frank.handle not in content, written
        assert not [i for i in crowd.withheld if i.split("/")[1] in content], written
        # The deleted answer is gone from the transcript too, text and link.
        assert "will be deleted" not in content, written
        assert not [i for i in crowd.deleted if i.split("/")[1] in content], written

    # ...while the answers kept are there.
    assert any("erin closes" in f.read_text(errors="replace") for f in files), files
    dave, carol = crowd.people["dave"].did, crowd.people["carol"].did
    optouts = CurationSql(store.engine).optouts()
    assert optouts.get(f"bluesky:{dave}") == "stop", optouts
    reposts = network.records(bot.did, "app.bsky.feed.repost")
    subjects = [r["value"]["subject"]["uri"] for r in reposts]
    assert subjects, "nothing was reposted: the caps and consent went untested"
    assert len(subjects) == len(set(subjects))  # never twice
    assert len(subjects) <= QUESTIONS + 1  # max_per_question 1, the intro's window too
    reposted_authors = {uri.split("/")[2] for uri in subjects}
    assert carol not in reposted_authors, subjects  # #NoBot in her description
    assert dave not in reposted_authors, subjects  # he said stop
    assert frank.did not in reposted_authors, subjects
    events = [e for out in outputs for e in log_events(out)]
    assert not [e for e in events if e.get("event") == "chat.crashed"]


def test_a_chat_on_bluesky_and_mastodon_posts_once_on_each(
    bluesky: BlueskyNetwork, mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = bluesky.create_account("both")
    masto_bot = mastodon.account("bothbot")
    tag = "#BothChat" + "".join(random.choices("ABCDEFGH", k=4))
    people = _people(bluesky)
    chat = _chat(
        tmp_path,
        bluesky,
        bot,
        tag,
        platforms={"mastodon": {"instance": mastodon.base_url}},
    )
    env = tweetchat_env(
        database=tmp_path / "store.sqlite3",
        token=masto_bot.token,
        TWEETCHAT_LEASE_TTL="1s",
        **{PASSWORD_ENV: bot.password},
    )
    crowd = Crowd(bluesky, bot, tag, people)

    outputs, store, held = _play_chat(bluesky, chat, env, crowd)
    try:
        _check_outcome(bluesky, chat, bot, crowd, store, outputs, held)
        from bot.core.html_text import html_to_text

        statuses = mastodon.statuses_of(masto_bot)
        mastodon_texts = [p.text for p in chat.agenda if p.platform == "mastodon"]
        assert [html_to_text(s["content"]) for s in statuses][: len(mastodon_texts)] == (
            mastodon_texts
        )
    finally:
        store.close()
