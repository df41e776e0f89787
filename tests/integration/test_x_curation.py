"""Reposting on X through the same curation rules as Mastodon, under X's lower caps, without
reading a post again: the real curator, the X follower and adapter, against the fake X API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.store_curation import CurationSql
from bot.runtime.curator import Curator
from bot.wiring import curators_for
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_rig import START, XRig, make_x_rig, x_chat


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START - timedelta(minutes=5))


@pytest.fixture
def rig(clock: ManualClock, tmp_path: Path) -> Iterator[XRig]:
    with FakeXApi(bot_username="chatbot", clock=clock) as fake:
        for name in ("ann", "bob", "cyd", "dee"):
            fake.add_user(name, followers=10)
        fake.add_user("quiet", description="Teacher. #NoBot please")
        built = make_x_rig(
            fake, clock, x_chat(fake.base_url), f"sqlite:///{tmp_path / 'x.sqlite3'}"
        )
        yield built
        built.store.close()


def x_curator(rig: XRig) -> Curator:
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
    """One tick, on the windows the ledger gives (from when each question went out)."""
    curator.tick(rig.occurrence, curator.windows(rig.occurrence, rig.agenda))


def replied_to(post: dict[str, Any]) -> str | None:
    refs = [r["id"] for r in post.get("referenced_posts", []) if r["type"] == "replied_to"]
    return refs[0] if refs else None


def test_one_repost_per_question_by_the_rules_and_nothing_read_again(rig: XRig) -> None:
    fake, clock = rig.fake, rig.clock
    curator = x_curator(rig)
    capture = rig.capture()
    rig.publish("intro")
    rig.publish("q1")
    q1 = rig.remote_id("q1")
    good = fake.post_as("ann", "A1 mornings, with the whole team #hexichat")
    fake.post_as("bob", "A1 evenings #hexichat", reply_to=q1)
    quiet = fake.post_as("quiet", "A1 a great answer nobody may repost #hexichat")
    fake.post_as("dee", "Following along", reply_to=good)
    capture.poll()
    reads = fake.reads

    clock.advance(minutes=6)
    tick(rig, curator)
    clock.advance(minutes=4)
    tick(rig, curator)

    assert fake.retweets == [(fake.bot_user_id, good)]
    assert fake.reads == reads  # the curator scored what the follower captured
    decisions = {d.post_id: d for d in CurationSql(rig.store.engine).decisions(rig.occurrence.id)}
    assert decisions[good].state == "boosted"
    assert decisions[quiet].rule == "nobot"


def test_stop_is_confirmed_once_by_a_public_reply_and_honoured(rig: XRig) -> None:
    fake, clock = rig.fake, rig.clock
    curator = x_curator(rig)
    capture = rig.capture()
    rig.publish("intro")
    rig.publish("q1")
    q1 = rig.remote_id("q1")
    answer = fake.post_as("cyd", "A1 a fine answer #hexichat")
    stop = fake.post_as("cyd", "@chatbot stop please", reply_to=q1)
    capture.poll()

    clock.advance(minutes=6)
    tick(rig, curator)
    clock.advance(minutes=4)
    tick(rig, curator)

    [confirmation] = [p for p in fake.created_posts if p["text"].startswith("@cyd ")]
    assert replied_to(confirmation) == stop
    assert (fake.bot_user_id, answer) not in fake.retweets
    assert CurationSql(rig.store.engine).optouts() == {f"x:{fake.user_id('cyd')}": "stop"}


def test_answers_around_a_late_question_are_candidates_and_boosted(rig: XRig) -> None:
    """Issue 12 item 19: one notion of a question's window, from its actual post to the next
    one's, for capture and curation alike. Q2 goes out 10 s after its planned time; the answer
    posted in between (filed under Q1) and the answer after it (Q2's) are both considered and
    boosted, one per question: none is filed under a window the curator never looks at."""
    fake, clock = rig.fake, rig.clock
    curator, capture = x_curator(rig), rig.capture()
    rig.publish("intro")
    rig.publish("q1")
    q2_planned = rig.post("q2").at

    clock.time = q2_planned + timedelta(seconds=3)
    between = fake.post_as("ann", "Mornings, with the whole team #hexichat")
    capture.poll()
    clock.time = q2_planned + timedelta(seconds=6)
    tick(rig, curator)  # Q2 is not out: Q1's window is still the current one

    clock.time = q2_planned + timedelta(seconds=10)
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
