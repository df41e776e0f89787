"""Issue 12 item 19: one notion of a question's window, from its actual post to the next one's.

Q2 goes out 10 s late (a retry, a network cut). The posts made before it went out are filed
under Q1 and the curator, which reads the windows from the ledger at every tick, still has
Q1's window open for them; the posts after it are Q2's. Both are candidates, and each is
boosted within its question's cap: the real follower, curator and X adapter, against the fake
X API, on the test's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.store_curation import CurationSql
from bot.runtime.curator import Curator
from bot.wiring import curators_for
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_rig import START, XRig, make_x_rig, x_chat

LATE = timedelta(seconds=10)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START - timedelta(minutes=5))


@pytest.fixture
def rig(clock: ManualClock, tmp_path: Path) -> Iterator[XRig]:
    with FakeXApi(bot_username="chatbot", clock=clock) as fake:
        for name in ("ann", "bob", "cyd"):
            fake.add_user(name, followers=10)
        built = make_x_rig(
            fake, clock, x_chat(fake.base_url), f"sqlite:///{tmp_path / 'x.sqlite3'}"
        )
        yield built
        built.store.close()


def curator_of(rig: XRig) -> Curator:
    [curator] = curators_for(
        rig.config,
        {"x": rig.platform},
        archive=rig.archive,
        store=rig.store,
        clock=rig.clock,
        stop_event=rig.stop,
    )
    assert isinstance(curator, Curator)
    return curator


def tick(rig: XRig, curator: Curator) -> None:
    curator.tick(rig.occurrence, curator.windows(rig.occurrence, rig.agenda))


def test_answers_around_a_late_question_are_candidates_and_boosted(rig: XRig) -> None:
    """Issue 12 item 19: Q2 goes out 10 s after its planned time; the answer posted in between
    (filed under Q1) and the answer after it (Q2's) are both considered and boosted, one per
    question; nothing is filed under a question whose window the curator never opens."""
    fake, clock = rig.fake, rig.clock
    curator, capture = curator_of(rig), rig.capture()
    rig.publish("intro")
    rig.publish("q1")
    q2_planned = rig.post("q2").at

    clock.time = q2_planned + timedelta(seconds=3)
    between = fake.post_as("ann", "Mornings, with the whole team #hexichat")
    capture.poll()
    clock.time = q2_planned + timedelta(seconds=6)
    tick(rig, curator)  # Q2 is not out: Q1's window is still the current one

    clock.time = q2_planned + LATE
    rig.publish("q2")
    clock.time += timedelta(seconds=2)
    after = fake.post_as("bob", "Evenings, when it is quiet #hexichat")
    capture.poll()
    for _ in range(4):  # through Q2's window, so that its paced cap allows a boost
        clock.advance(minutes=2)
        tick(rig, curator)

    filed = {p.id: p.question for p in rig.archive.posts(rig.occurrence.id) if not p.is_own}
    assert filed == {between: 1, after: 2}
    decisions = {d.post_id: d for d in CurationSql(rig.store.engine).decisions(rig.occurrence.id)}
    assert (decisions[between].question, decisions[between].state) == (1, "boosted")
    assert (decisions[after].question, decisions[after].state) == (2, "boosted")
    assert sorted(post_id for _, post_id in fake.retweets) == sorted([between, after])
