"""The bot's X side wired to the fake X API: the real adapter, meter, store and follower.

Only the clock is the test's: the fake and the bot read the same one, so X's rate-limit
reset times and the bot's waits agree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
import yaml

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.health_sql import HealthSql
from bot.adapters.store_spending import SpendingSql
from bot.adapters.store_sql import SqlStore
from bot.adapters.x import Credentials, XPlatform
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.budget import MICROS_PER_USD, Prices, wrapup_estimate
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.planning import next_plan
from bot.runtime.publisher import PostPublisher
from bot.runtime.spending import SpendingMeter
from bot.runtime.x_follower import XCapture, XFollower
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TAG = "hexichat"


def x_chat(
    api_base: str, *, questions: int = 3, x: dict[str, Any] | None = None, **posts: Any
) -> ChatConfig:
    """A chat on X alone at START (UTC), questions 10 minutes apart."""
    document = {
        "chat": {
            "id": TAG,
            "title": "A test chat",
            "hashtag": f"#{TAG}",
            "timezone": "UTC",
            "start": START.strftime("%Y-%m-%d %H:%M"),
            "duration": "1h",
        },
        "platforms": {"x": {"api_base": api_base, **(x or {})}},
        "posts": {
            "intro": {"text": "Welcome to {hashtag}! Introduce yourself."},
            "questions": [
                {"at": f"{10 * n}m", "text": f"What is your take on topic {n}?"}
                for n in range(1, questions + 1)
            ],
            "closing": {"at": "50m", "text": "Thank you for joining {hashtag}!"},
            **posts,
        },
    }
    return parse_config(yaml.safe_dump(document), filename="x-test.yaml")


@dataclass
class XRig:
    fake: FakeXApi
    clock: ManualClock
    config: ChatConfig
    occurrence: Occurrence
    agenda: list[PlannedPost]
    store: SqlStore
    archive: SqlArchive
    meter: SpendingMeter
    platform: XPlatform
    publisher: PostPublisher
    follower: XFollower
    stop: threading.Event

    def post(self, slot: str) -> PlannedPost:
        return next(p for p in self.agenda if p.slot == slot)

    def publish(self, slot: str) -> str:
        """Publish a planned post at its time."""
        post = self.post(slot)
        self.clock.time = max(self.clock.time, post.at)
        return self.publisher.publish(post)

    def remote_id(self, slot: str) -> str:
        entry = self.store.get(self.post(slot).key)
        assert entry is not None
        assert entry.remote_id is not None
        return entry.remote_id

    def capture(self) -> XCapture:
        return self.follower.capture(self.occurrence, self.agenda)

    def begin(self) -> None:
        """What the runner does as the occurrence starts: the budget, from the ledger."""
        done = [e.key for e in self.store.entries(self.occurrence.id) if e.state == "done"]
        planned = {p.key: p.text for p in self.agenda if p.platform == "x"}
        later = wrapup_estimate(len(self.config.posts.questions), transcript_url=False)
        self.meter.begin(
            self.occurrence.id,
            planned,
            done=done,
            later=later,
            store=SpendingSql(self.store.engine),
        )

    def billed_micros(self) -> int:
        """What X bills, by our prices, for the posts the fake served and took: each post
        read and each post created. (Authors returned with reads are left out: the fake
        does not count them; the bot counts each once, so its own total can only be higher.)"""
        prices = Prices.from_settings(self.settings.prices)
        posts = sum(prices.post(p["text"]) for p in self.fake.created_posts)
        reposts = len(self.fake.retweets) * prices.repost
        return self.fake.reads * prices.post_read + posts + reposts

    @property
    def settings(self) -> Any:
        assert self.config.platforms.x is not None
        return self.config.platforms.x


def usd(micros: int) -> Decimal:
    return Decimal(micros) / MICROS_PER_USD


def make_x_rig(fake: FakeXApi, clock: ManualClock, config: ChatConfig, url: str) -> XRig:
    """The X side of a worker on the database at ``url``."""
    settings = config.platforms.x
    assert settings is not None
    occurrence, agenda = next_plan(config, clock.now())
    store = SqlStore.from_url(url)
    archive = SqlArchive(store.engine)
    log = structlog.get_logger().bind(chat=config.chat.id)
    meter = SpendingMeter(platform="x", settings=settings, clock=clock, log=log)
    platform = XPlatform(
        settings,
        credentials=Credentials(
            api_key="consumer-key",
            api_secret="consumer-secret",
            access_token=f"{fake.bot_user_id}-access-token",
            access_secret="access-token-secret",
        ),
        meter=meter,
        clock=clock,
        log=log,
    )
    stop = threading.Event()
    publisher = PostPublisher(
        ledger=store,
        platforms={"x": platform},
        clock=clock,
        grace=config.posts.grace,
        stop_event=stop,
        log=log,
    )
    follower = XFollower(
        source=platform,
        archive=archive,
        ledger=store,
        meter=meter,
        clock=clock,
        stop_event=stop,
        tag=config.chat.tag,
        follow=config.follow,
        settings=settings,
        after_end=config.wrapup.after,
        log=log,
        health=HealthSql(store.engine),
    )
    rig = XRig(
        fake,
        clock,
        config,
        occurrence,
        agenda,
        store,
        archive,
        meter,
        platform,
        publisher,
        follower,
        stop,
    )
    rig.begin()
    return rig


def rig_for(fake: FakeXApi, clock: ManualClock, tmp_path: Path, **chat: Any) -> XRig:
    return make_x_rig(
        fake, clock, x_chat(fake.base_url, **chat), f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == name]


@contextmanager
def running_rig(tmp_path: Path, *users: str) -> Iterator[XRig]:
    """A rig on a fresh fake X API with these participants, five minutes before the chat."""
    clock = ManualClock(START - timedelta(minutes=5))
    with FakeXApi(bot_username="chatbot", clock=clock) as fake:
        for name in users:
            fake.add_user(name, followers=10)
        rig = rig_for(fake, clock, tmp_path)
        try:
            yield rig
        finally:
            rig.store.close()
