"""The hosts' boosts, un-boosts and skips on X, from the console: through X's curation (the
real adapter and meter, against the fake X API), billed to the chat's budget and held to
X's repost caps, which the hosts cannot overrule (X's automation rules forbid bulk
reposting)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.commands_sql import HostCommandsSql
from bot.core.budget import Prices
from bot.core.steering import CommandKind, HostCommand
from bot.wiring import host_commands_for
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_rig import START, XRig, rig_for


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START - timedelta(minutes=5))


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot", clock=clock) as running:
        for name in ("ann", "bob"):
            running.add_user(name, followers=10)
        yield running


@pytest.fixture
def rig(fake: FakeXApi, clock: ManualClock, tmp_path: Path) -> Iterator[XRig]:
    built = rig_for(fake, clock, tmp_path)
    yield built
    built.store.close()


def test_boost_unboost_and_skip_on_x_go_through_its_curation_caps_and_budget(
    rig: XRig, fake: FakeXApi
) -> None:
    rig.publish("intro")
    rig.publish("q1")
    ann = fake.post_as("ann", "A1 a paper survey in the waiting room #hexichat")
    bob = fake.post_as("bob", "A1 comment cards #hexichat")
    rig.clock.advance(seconds=30)
    rig.capture().poll()
    steering, task = host_commands_for(
        rig.config,
        {"x": rig.platform},
        publisher=rig.publisher,
        archive=rig.archive,
        store=rig.store,
        clock=rig.clock,
        stop_event=rig.stop,
        ownership=None,
    )
    steering.begin(rig.occurrence, rig.agenda)
    commands = HostCommandsSql(rig.store.engine)

    def ask(kind: CommandKind, post_id: str) -> tuple[str, str | None]:
        command = commands.add(
            HostCommand(
                0, rig.occurrence.id, kind, "Ana", rig.clock.now(), platform="x", post_id=post_id
            )
        )
        task.tick(rig.occurrence)
        done = next(c for c in commands.commands(rig.occurrence.id) if c.id == command.id)
        return done.state, done.reason

    spent = rig.meter.spent().micros
    assert ask("boost", ann) == ("done", None)
    assert fake.retweets == [(fake.bot_user_id, ann)]
    repost_price = Prices.from_settings(rig.settings.prices).repost
    assert rig.meter.spent().micros == spent + repost_price  # on the chat's budget

    rig.clock.advance(minutes=1)
    state, reason = ask("boost", bob)
    assert state == "refused"
    assert reason == (
        "X allows one repost every 3m (platforms.x.repost.min_interval): the last was 1m ago"
    )
    rig.clock.advance(minutes=3)
    assert ask("boost", bob) == (
        "refused",
        "X's cap of 1 reposts for this question is reached (platforms.x.repost.max_per_question)",
    )
    assert fake.retweets == [(fake.bot_user_id, ann)]

    assert ask("unboost", ann) == ("done", None)
    assert fake.retweets == []
    assert ask("skip", bob) == ("done", None)
    entry = rig.store.get(f"{rig.occurrence.id}/boost/x/{bob}")
    assert entry is not None
    assert (entry.state, entry.error) == ("missed", "skipped by Ana")
