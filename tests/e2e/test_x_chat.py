"""`tweetchat run` hosts a whole compressed chat on X (alone, and with Mastodon), against the
fake X API: every planned post exactly once per platform (also across a SIGKILL), every tagged
and untagged answer captured, no post read twice, the budget never passed.

The fake runs in the test process on the real clock; the bot reaches it through
``platforms.x.api_base``, as a host would point it at a proxy.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_spending import SpendingSql
from bot.adapters.store_sql import SqlStore
from bot.chat_files import load_config
from bot.core.agenda import PlannedPost
from bot.core.html_text import html_to_text
from bot.core.planning import next_plan
from bot.runtime.clock import SystemClock
from tests.fakes.x_api import FakeXApi
from tests.support.chat_files import RunningBot, tweetchat_env
from tests.support.mastodon_server import Account, MastodonServer

pytestmark = pytest.mark.slow

TAG = "xchat"
SPACING = 3  # seconds between posts
QUESTIONS = 3
CAP_USD = 1.0


@pytest.fixture
def fake() -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot") as running:
        for name in ("ann", "bob", "cyd"):
            running.add_user(name)
        yield running


@dataclass
class XChat:
    path: Path
    agenda: list[PlannedPost]
    occurrence: str
    database: Path
    env: dict[str, str]

    def texts(self, platform: str) -> list[str]:
        return [p.text for p in self.agenda if p.platform == platform]


def write_x_chat(
    tmp_path: Path,
    fake: FakeXApi,
    *,
    mastodon: MastodonServer | None = None,
    bot: Account | None = None,
    lead: float = 4.0,
    access_token: str | None = None,
) -> XChat:
    zone = ZoneInfo("UTC")
    start = datetime.fromtimestamp(math.ceil(time.time() + lead), zone).replace(tzinfo=None)
    platforms: dict[str, Any] = {
        "x": {
            "api_base": fake.base_url,
            "poll_interval": "5s",
            "budget": {"max_usd": CAP_USD},
        }
    }
    if mastodon is not None:
        platforms["mastodon"] = {"instance": mastodon.base_url}
    closing_at = SPACING * (QUESTIONS + 1)
    document = {
        "chat": {
            "id": TAG,
            "title": "A compressed chat on X",
            "hashtag": f"#{TAG}",
            "timezone": "UTC",
            "start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": f"{closing_at + SPACING}s",
        },
        "platforms": platforms,
        "posts": {
            "intro": {"text": "Welcome to {hashtag}! Introduce yourself."},
            "questions": [
                {"at": f"{SPACING * n}s", "text": f"What do you think of topic {n}?"}
                for n in range(1, QUESTIONS + 1)
            ],
            "closing": {"at": f"{closing_at}s", "text": "Thank you for joining {hashtag}!"},
        },
        "follow": {"margin": "30s"},
        "wrapup": {"after": "4s", "folder": str(tmp_path / "out")},
        "boost": {"tick": "2s"},
    }
    path = tmp_path / "chat.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    config = load_config(path)
    occurrence, agenda = next_plan(config, SystemClock().now())
    database = tmp_path / "bot.sqlite3"
    env = tweetchat_env(
        database=database,
        token=bot.token if bot is not None else None,
        X_API_KEY="consumer-key-for-tests",
        X_API_SECRET="consumer-secret-for-tests",
        X_ACCESS_TOKEN=access_token or f"{fake.bot_user_id}-access-token-for-tests",
        X_ACCESS_SECRET="access-secret-for-tests",
    )
    return XChat(path, agenda, occurrence.id, database, env)


@dataclass
class Crowd:
    """Participants answering on X as the questions appear: one tagged answer and one
    untagged reply per question, and a reply to that reply."""

    fake: FakeXApi
    answered: set[str] = field(default_factory=set)
    expected: dict[str, int | None] = field(default_factory=dict)  # post id -> question
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            for post in self.fake.created_posts:
                text = post["text"]
                if post["id"] in self.answered or not text.startswith("Q"):
                    continue
                self.answered.add(post["id"])
                n = int(text[1 : text.index(":")])
                tagged = self.fake.post_as("ann", f"A{n} my answer to {n} #{TAG}")
                untagged = self.fake.post_as("bob", f"For {n}: it depends", reply_to=post["id"])
                nested = self.fake.post_as("cyd", "Agreed", reply_to=untagged)
                self.expected.update({tagged: n, untagged: n, nested: n})

    def __enter__(self) -> Crowd:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def x_events(bot: RunningBot, name: str) -> list[dict[str, Any]]:
    return [e for e in bot.events if e.get("event") == name and e.get("platform") == "x"]


def assert_x_posted_once(chat: XChat, fake: FakeXApi) -> None:
    created = fake.created_posts
    texts = [p["text"] for p in created]
    for text in chat.texts("x"):
        assert texts.count(text) == 1, text
    store = SqlStore.from_url(f"sqlite:///{chat.database}")
    try:
        by_text = {p["text"]: p["id"] for p in created}
        entries = {e.key: e for e in store.entries(chat.occurrence)}
        for post in chat.agenda:
            if post.platform == "x":
                entry = entries[post.key]
                assert (entry.state, entry.remote_id) == ("done", by_text[post.text])
    finally:
        store.close()


def archived(chat: XChat, platform: str) -> dict[str, int | None]:
    store = SqlStore.from_url(f"sqlite:///{chat.database}")
    try:
        posts = SqlArchive(store.engine).posts(chat.occurrence)
        return {p.id: p.question for p in posts if p.platform == platform and not p.is_own}
    finally:
        store.close()


def spent_micros(chat: XChat) -> int:
    store = SqlStore.from_url(f"sqlite:///{chat.database}")
    try:
        return SpendingSql(store.engine).spending(chat.occurrence, "x").micros
    finally:
        store.close()


def test_a_whole_chat_on_x(tmp_path: Path, fake: FakeXApi) -> None:
    chat = write_x_chat(tmp_path, fake)

    with Crowd(fake) as crowd, RunningBot(chat.path, env=chat.env) as bot:
        code = bot.wait(timeout=90)

    assert code == 0, bot.output
    assert_x_posted_once(chat, fake)
    assert archived(chat, "x") == crowd.expected
    assert len(crowd.expected) == 3 * QUESTIONS
    assert set(fake.reads_by_id.values()) == {1}
    assert 0 < spent_micros(chat) <= CAP_USD * 1_000_000
    # The secrets never reach the log.
    assert "access-secret-for-tests" not in bot.output
    assert [e["reason"] for e in x_events(bot, "follow.end")] == ["the window closed"]


def test_a_fresh_start_that_must_ask_x_who_the_bot_is(tmp_path: Path, fake: FakeXApi) -> None:
    """Issue 12 item 15: an access token that does not start with the bot's user id (so the
    id is learnt from X), a first run, no doctor before it: the untagged replies to the
    questions are captured and none of the bot's own posts is filed as an answer."""
    chat = write_x_chat(tmp_path, fake, access_token="opaque-access-token-for-tests")

    with Crowd(fake) as crowd, RunningBot(chat.path, env=chat.env) as bot:
        code = bot.wait(timeout=90)

    assert code == 0, bot.output
    assert archived(chat, "x") == crowd.expected
    store = SqlStore.from_url(f"sqlite:///{chat.database}")
    try:
        posts = SqlArchive(store.engine).posts(chat.occurrence)
    finally:
        store.close()
    own = {p.id for p in posts if p.platform == "x" and p.is_own}
    bots = {p["id"] for p in fake.created_posts}
    assert own
    assert own <= bots
    assert not {p.id for p in posts if p.question is not None} & bots


def test_a_chat_on_x_and_mastodon_together(
    tmp_path: Path, fake: FakeXApi, mastodon: MastodonServer
) -> None:
    account = mastodon.account("chatbot")
    chat = write_x_chat(tmp_path, fake, mastodon=mastodon, bot=account)

    with Crowd(fake) as crowd, RunningBot(chat.path, env=chat.env) as bot:
        code = bot.wait(timeout=90)

    assert code == 0, bot.output
    assert_x_posted_once(chat, fake)
    texts = [html_to_text(s["content"]) for s in mastodon.statuses_of(account)]
    planned = chat.texts("mastodon")
    assert texts[: len(planned)] == planned  # then the wrap-up thread
    assert archived(chat, "x") == crowd.expected
    assert set(fake.reads_by_id.values()) == {1}
    assert spent_micros(chat) <= CAP_USD * 1_000_000
    # One wrap-up thread per platform, each starting with its own first post.
    store = SqlStore.from_url(f"sqlite:///{chat.database}")
    try:
        states = {e.key: e.state for e in store.entries(chat.occurrence)}
    finally:
        store.close()
    assert states[f"{chat.occurrence}/wrapup-1/x"] == "done"
    assert states[f"{chat.occurrence}/wrapup-1/mastodon"] == "done"


def test_a_sigkill_mid_chat_posts_nothing_twice_and_loses_no_answer(
    tmp_path: Path, fake: FakeXApi
) -> None:
    chat = write_x_chat(tmp_path, fake)

    with Crowd(fake) as crowd:
        with RunningBot(chat.path, env=chat.env) as first:
            deadline = time.monotonic() + 30
            while len(x_events(first, "post.published")) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            first.kill()
        assert len(fake.created_posts) >= 2, first.output
        with RunningBot(chat.path, env=chat.env) as second:
            code = second.wait(timeout=90)

    assert code == 0, second.output
    assert_x_posted_once(chat, fake)
    assert archived(chat, "x") == crowd.expected
    assert set(fake.reads_by_id.values()) == {1}
    assert spent_micros(chat) <= CAP_USD * 1_000_000
