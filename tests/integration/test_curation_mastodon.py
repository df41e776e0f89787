"""Boosting a scripted chat on a real Mastodon API server (mastodon_mock), by the rules.

The real MastodonPlatform, SQL store, archive and Curator; only the clock is ours, and the
archive is filled the way the follower files posts (``to_post``, then the question), so the
scene is exact: which posts exist, with how many favourites, at each tick. What is checked is
what the server holds (who boosted what, who was written to), what was stored and logged.

mastodon_mock's accounts are all local, so the blocked account stands in for a blocked
domain here; domain blocking is covered by the unit tests (tests/unit/test_curation.py).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.mastodon_status import to_post
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.core.answers import Window
from bot.core.html_text import html_to_text
from bot.core.model import AnswerRule, ArchivedPost
from bot.ports.posting import Published
from bot.runtime.curator import Curator
from tests.support.chat_files import ChatFile, write_chat
from tests.support.clock import ManualClock
from tests.support.mastodon_server import Account, MastodonServer
from tests.support.windows import planned_windows

WINDOW = 480  # seconds per question
TICK = timedelta(seconds=15)
START = datetime(2030, 1, 2, 20, 0)  # local (UTC): far from now, the clock is ours


@dataclass
class Chat:
    """A chat on the server, the bot's store and archive, and a curator to tick."""

    server: MastodonServer
    bot: Account
    file: ChatFile
    store: SqlStore
    curation: CurationSql
    archive: SqlArchive
    clock: ManualClock
    platform: MastodonPlatform
    windows: list[Window]
    curator: Curator = field(init=False)
    people: dict[str, Account] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.curator = self.new_curator()

    def new_curator(self, platform: Any = None) -> Curator:
        """A fresh curator on the same database: what a restarted process builds."""
        return Curator(
            config=self.file.config,
            platform=platform or self.platform,
            archive=self.archive,
            history=self.curation,
            store=self.curation,
            ledger=self.store,
            clock=self.clock,
            stop_event=threading.Event(),
            log=structlog.get_logger(),
        )

    def person(self, name: str, **profile: Any) -> Account:
        self.people[name] = self.server.account(name, **profile)
        return self.people[name]

    def say(
        self,
        who: str,
        text: str,
        *,
        question: int,
        favourites: int = 0,
        visibility: str = "public",
        reply_to: str | None = None,
    ) -> str:
        """Post, gather favourites from others, and file it in the archive as the follower
        would (``to_post``; numbered by the question)."""
        author = self.bot if who == "bot" else self.people[who]
        fields: dict[str, Any] = {"visibility": visibility}
        if reply_to:
            fields["in_reply_to_id"] = reply_to
        status = self.server.post(author, text, **fields)
        fans = [a for n, a in self.people.items() if n not in (who, "host")][:favourites]
        assert len(fans) == favourites
        for fan in fans:
            self.server.http.post(
                f"/api/v1/statuses/{status['id']}/favourite", headers=self.server.auth(fan)
            ).raise_for_status()
        # The archive keeps only public posts; an unlisted one is filed as if its server had
        # shown it public, so that the curator's own check (the one that counts, since
        # mastodon_mock lets anyone boost anything) is what must stop it.
        filed = {**status, "visibility": "public"}
        post = to_post(filed, home=self.platform.home(), own_account_id=self.bot.id)
        assert isinstance(post, ArchivedPost), post
        rule: AnswerRule = "reply" if reply_to else "prefix"
        post = replace(post, occurrence=self.file.occurrence.id, question=question, rule=rule)
        self.archive.save(post, now=self.clock.now())
        return str(status["id"])

    def mention_bot(self, who: str, text: str, **fields: Any) -> dict[str, Any]:
        return self.server.post(self.people[who], f"@chatbot {text}", **fields)

    def play(self, window: int, *, since: float = 0, until: float = WINDOW) -> None:
        """Tick every 15 s through a window, from ``since`` to ``until`` seconds into it."""
        start = self.windows[window].start
        offset = timedelta(seconds=since)
        while offset < timedelta(seconds=until):
            self.clock.time = start + offset
            self.curator.tick(self.file.occurrence, self.windows)
            offset += TICK

    # -- what the server and the store hold ------------------------------------------------

    def boosted(self) -> list[str]:
        """Ids of the posts the bot boosted, as the server shows its timeline."""
        return [
            s["reblog"]["id"] for s in self.server.statuses_of(self.bot, limit=40) if s["reblog"]
        ]

    def messages_to(self, who: str) -> list[dict[str, Any]]:
        """The bot's statuses that mention ``who`` (its direct messages)."""
        return [
            s
            for s in self.server.statuses_of(self.bot)
            if not s["reblog"] and any(m["username"] == who for m in s["mentions"])
        ]

    def boost_times(self) -> list[datetime]:
        return sorted(
            e.claimed_at for e in self.store.entries(self.file.occurrence.id) if "/boost/" in e.key
        )

    def decision(self, post_id: str) -> Any:
        found = [
            d for d in self.curation.decisions(self.file.occurrence.id) if d.post_id == post_id
        ]
        assert len(found) == 1, post_id
        return found[0]


def make_chat(tmp_path: Path, server: MastodonServer, boost: dict[str, Any]) -> Chat:
    bot = server.account("chatbot", bot=True)
    file = write_chat(
        tmp_path / "chat.yaml",
        instance=server.base_url,
        questions=3,
        spacing=WINDOW,
        start=START,
        timezone="UTC",
        # A co-host on Bluesky too: no Mastodon account, never in a message here.
        sections={"chat": {"hosts": ["@host", "@cohost.bsky.social"]}, "boost": boost},
    )
    assert file.config.platforms.mastodon is not None
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    platform = MastodonPlatform(file.config.platforms.mastodon, token=bot.token)
    return Chat(
        server=server,
        bot=bot,
        file=file,
        store=store,
        curation=CurationSql(store.engine),
        archive=SqlArchive(store.engine),
        clock=ManualClock(file.occurrence.start),
        platform=platform,
        windows=planned_windows(file.agenda, "mastodon", file.occurrence.end),
    )


class DiesAfterBoosting:
    """The platform, except that the process "dies" right after the server boosted and
    before the ledger could record it: the worst moment for exactly-once."""

    class Killed(BaseException):
        pass

    def __init__(self, platform: MastodonPlatform) -> None:
        self._platform = platform

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

    @property
    def name(self) -> str:
        return self._platform.name

    def boost(self, post_id: str) -> Published:
        self._platform.boost(post_id)
        raise self.Killed


SPAM = "Buy my course at https://course.example/now"


def test_a_scripted_chat_is_boosted_by_the_rules(
    tmp_path: Path, mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    chat = make_chat(
        tmp_path,
        mastodon,
        {
            "mode": "auto",
            "max_per_question": 2,
            "max_per_author": 1,
            "min_interval": "30s",
            "always": ["@guest"],
            "block": {"accounts": ["@blocked"], "words": ["crypto"]},
        },
    )
    chat.person("host")
    chat.person("nobot_bio", note="Nurse. #nobot")
    chat.person("nobots_field", fields_attributes=[("Automation", "#NoBots please")])
    chat.person("botty", bot=True)
    for name in ("blocked", "wordy", "unlisted", "spammer", "stopper", "forgetful", "guest"):
        chat.person(name)
    for name in ("ana", "ben", "cat", "fay", "gus", "hal"):
        chat.person(name)
    for n in range(1, 30 - len(chat.people) + 2):  # 30 participants besides the host
        chat.person(f"p{n:02d}")
    assert len(chat.people) == 31

    # Q1. Scores: answers 3 + first time 2 + favourites + replies (+ penalties).
    chat.clock.time = chat.windows[1].start
    q1 = chat.say("bot", "Q1: How do you gather feedback? #TestChat", question=1)
    a: dict[str, str] = {}
    a["nobot_bio"] = chat.say("nobot_bio", "A1 surveys #TestChat", question=1, favourites=10)
    a["nobots_field"] = chat.say("nobots_field", "A1 comment cards", question=1, favourites=9)
    a["botty"] = chat.say("botty", "A1 I am a bot", question=1, favourites=8)
    a["blocked"] = chat.say("blocked", "A1 blocked by the host", question=1, favourites=7)
    a["wordy"] = chat.say("wordy", "A1 we pay in Crypto", question=1, favourites=7)
    a["unlisted"] = chat.say(
        "unlisted", "A1 quietly", question=1, favourites=9, visibility="unlisted"
    )
    a["spam1"] = chat.say("spammer", f"A1 {SPAM}", question=1, favourites=5)  # 10 - 5
    a["spam1b"] = chat.say("spammer", f"{SPAM} #TestChat", question=1, favourites=5)  # 10 - 5
    a["ana1"] = chat.say("ana", "A1 we ask at the desk", question=1, favourites=5)  # 10
    a["ben1"] = chat.say("ben", "A1 a patient panel", question=1, favourites=2)  # 9 with replies
    for name in ("cat", "fay"):
        chat.say(name, "@ben agreed", question=1, reply_to=a["ben1"])
    a["stopper1"] = chat.say("stopper", "A1 we read every card", question=1, favourites=3)  # 8
    a["forget1"] = chat.say("forgetful", "A1 friends and family test", question=1, favourites=1)
    a["guest1"] = chat.say("guest", "A1 guest's view", question=1)  # always
    for n in range(1, 8):
        chat.say(f"p{n:02d}", f"A1 answer number {n}", question=1)  # 5 each
    chat.play(1)

    # Between Q1 and Q2, a participant tells the bot to stop.
    chat.mention_bot("stopper", "please STOP boosting me")
    chat.clock.time = chat.windows[2].start
    a["stopper2"] = chat.say("stopper", "A2 my best answer", question=2, favourites=20)
    a["ana2"] = chat.say("ana", "A2 ana again", question=2, favourites=9)  # author cap
    a["fay2"] = chat.say("fay", "A2 the practice meeting", question=2, favourites=4)  # 9
    a["cat2"] = chat.say("cat", "A2 a you-said-we-did board", question=2, favourites=3)  # 8
    a["gus2"] = chat.say("gus", "A2 nobody, honestly", question=2, favourites=1)  # 6
    a["spam2"] = chat.say("spammer", f"A2 {SPAM}", question=2, favourites=5)  # 5
    a["guest2"] = chat.say("guest", "A2 guest again", question=2)
    # A restart mid-question, at the worst moment: the server boosted, the ledger has only
    # the claim. The next process finishes the claim and counts it.
    chat.curator = chat.new_curator(DiesAfterBoosting(chat.platform))
    with pytest.raises(DiesAfterBoosting.Killed):
        chat.play(2)
    claimed = [e for e in chat.store.entries(chat.file.occurrence.id) if e.state == "claimed"]
    assert [e.key.rsplit("/", 1)[-1] for e in claimed] == [a["guest2"]]
    chat.curator = chat.new_curator()
    chat.play(2)  # the whole window again, from the kill on: nothing twice
    chat.mention_bot("stopper", "stop")  # said again: no second reply

    # Q3: someone asks to be forgotten.
    chat.mention_bot("forgetful", "Forget me, please")
    chat.clock.time = chat.windows[3].start
    a["forget3"] = chat.say("forgetful", "A3 my last words", question=3, favourites=12)
    a["hal3"] = chat.say("hal", "A3 the annual report", question=3, favourites=5)  # 10
    a["gus3"] = chat.say("gus", "A3 a newsletter", question=3, favourites=2)  # 7
    a["ben3"] = chat.say("ben", "A3 ben again", question=3, favourites=8)  # author cap
    a["spam3"] = chat.say("spammer", f"A3 {SPAM}", question=3, favourites=5)  # 5
    chat.play(3)

    expected = {a[k] for k in ("guest1", "ana1", "ben1", "guest2", "fay2", "cat2", "hal3", "gus3")}
    boosted = chat.boosted()
    assert sorted(boosted) == sorted(expected)  # and each once

    # Caps and interval, from the stored decisions and the ledger.
    decisions = chat.curation.decisions(chat.file.occurrence.id)
    done = [d for d in decisions if d.state == "boosted"]
    assert len(done) == len(expected)
    for question in (1, 2, 3):
        assert sum(1 for d in done if d.question == question and not d.always) <= 2
    authors = [d.author for d in done if not d.always]
    assert len(authors) == len(set(authors))
    times = chat.boost_times()
    assert all(b - a >= timedelta(seconds=30) for a, b in itertools.pairwise(times))

    # Every rejection names its rule.
    rules = {
        "nobot_bio": "nobot",
        "nobots_field": "nobot",
        "botty": "bot",
        "blocked": "blocked_account",
        "wordy": "blocked_word",
        "unlisted": "public",
        "stopper2": "opted_out",
    }
    for key, rule in rules.items():
        assert (chat.decision(a[key]).state, chat.decision(a[key]).rule) == ("rejected", rule)
    assert chat.decision(q1).rule == "own"
    assert dict(chat.decision(a["spam1"]).breakdown)["repeated_text"] == -5
    rejected = {(e["post_id"], e["rule"]) for e in logs if e["event"] == "boost.rejected"}
    assert {(a[k], r) for k, r in rules.items()} <= rejected
    done_events = [e for e in logs if e["event"] == "boost.done"]
    assert sorted(e["post_id"] for e in done_events) == sorted(expected)
    ana = next(e for e in done_events if e["post_id"] == a["ana1"])
    assert ana["breakdown"] == {"answers": 3, "first_time": 2, "favourites": 5}
    recovered = [e["post_id"] for e in done_events if e["how"] == "recovered"]
    assert recovered == [a["guest2"]]

    # The opt-outs: one private reply each, and the forgotten are gone from the archive.
    for who in ("stopper", "forgetful"):
        replies = chat.messages_to(who)
        assert len(replies) == 1, who
        assert replies[0]["visibility"] == "direct"
    assert "forget me" in html_to_text(chat.messages_to("stopper")[0]["content"])
    assert chat.curation.optouts() == {
        f"mastodon:{chat.people['stopper'].id}": "stop",
        f"mastodon:{chat.people['forgetful'].id}": "forget",
    }
    kept = chat.archive.posts(chat.file.occurrence.id)
    assert not [p for p in kept if p.author.id == chat.people["forgetful"].id]
    assert {a["forget1"], a["forget3"]}.isdisjoint(d.post_id for d in decisions)
    assert {a["stopper1"], a["stopper2"]} <= {p.id for p in kept}  # a stop keeps the posts

    # No likes, no follows, and no one else written to.
    auth = mastodon.auth(chat.bot)
    assert mastodon.http.get("/api/v1/favourites", headers=auth).json() == []
    following = f"/api/v1/accounts/{chat.bot.id}/following"
    assert mastodon.http.get(following, headers=auth).json() == []
    written = [s for s in mastodon.statuses_of(chat.bot) if not s["reblog"]]
    assert [s["id"] for s in written if s["visibility"] != "direct"] == [q1]
    assert {m["username"] for s in written for m in s["mentions"]} == {"stopper", "forgetful"}


def test_approve_mode_boosts_exactly_what_the_host_picks(
    tmp_path: Path, mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    chat = make_chat(tmp_path, mastodon, {"mode": "approve", "min_interval": "30s"})
    host = chat.person("host")
    for name in ("ana", "ben", "cat", "dan", "cohost"):
        chat.person(name)
    chat.clock.time = chat.windows[1].start
    answers = {
        name: chat.say(name, f"A1 {name}'s answer @dan", question=1, favourites=favourites)
        for name, favourites in (("ana", 3), ("ben", 2), ("cat", 1))
    }
    chat.play(1, until=WINDOW / 2 + 1)  # the hosts are asked halfway through
    assert chat.boosted() == []

    notes = mastodon.http.get(
        "/api/v1/notifications", params={"types[]": "mention"}, headers=mastodon.auth(host)
    ).json()
    assert len(notes) == 1
    message = notes[0]["status"]
    assert message["visibility"] == "direct"
    # No candidate, no @dan, and not the local cohost that "@cohost.bsky.social" would name.
    assert [m["username"] for m in message["mentions"]] == ["host"]
    lines = html_to_text(message["content"]).splitlines()
    assert lines[1].startswith("1. ana on ")
    assert lines[1].endswith(f"/{answers['ana']}")
    assert lines[2].startswith("2. ben on ")
    assert lines[3].startswith("3. cat on ")

    mastodon.post(host, "@chatbot boost 2", visibility="direct", in_reply_to_id=message["id"])
    chat.play(1, since=WINDOW / 2 + 15)
    assert chat.boosted() == [answers["ben"]]
    assert chat.decision(answers["ben"]).state == "boosted"
    assert chat.decision(answers["ana"]).state == "offered"
    assert [e["how"] for e in logs if e["event"] == "boost.done"] == ["approved"]
    # Read again after a restart (the cursor is stored): nothing more.
    chat.curator = chat.new_curator()
    chat.curation.set_notification_cursor("mastodon", "0")
    chat.play(1, since=WINDOW - 30)
    assert chat.boosted() == [answers["ben"]]


def test_mode_off_only_scores_and_still_honours_stop(
    tmp_path: Path, mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    chat = make_chat(tmp_path, mastodon, {"mode": "off"})
    for name in ("ana", "ben"):
        chat.person(name)
    chat.clock.time = chat.windows[1].start
    liked = chat.say("ana", "A1 a fine answer", question=1, favourites=1)
    chat.mention_bot("ben", "stop")
    chat.play(1)
    assert chat.boosted() == []
    scored = chat.decision(liked)
    assert (scored.state, scored.score) == ("scored", 6)
    assert dict(scored.breakdown) == {"answers": 3, "first_time": 2, "favourites": 1}
    assert len(chat.messages_to("ben")) == 1
    assert [e for e in logs if e["event"] == "boost.done"] == []
