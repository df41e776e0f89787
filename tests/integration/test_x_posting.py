"""Posting on X through the real adapter, meter, ledger and publisher, against the fake X API.

Assertions read what the fake holds (created posts, their reply links), what the ledger and
the spending table stored, and what was logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.store_spending import SpendingSql
from bot.ports.errors import BudgetExhausted, PermanentError, TransientError
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_rig import START, XRig, events, rig_for


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot", clock=clock) as running:
        yield running


@pytest.fixture
def rig(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path, logs: list[dict[str, Any]]
) -> Iterator[XRig]:
    built = rig_for(fake, clock, tmp_path)
    yield built
    built.store.close()


def replied_to(post: dict[str, Any]) -> str | None:
    refs = [r["id"] for r in post.get("referenced_posts", []) if r["type"] == "replied_to"]
    return refs[0] if refs else None


def test_the_agenda_is_one_thread_posted_once_each_and_paid_for(rig: XRig) -> None:
    outcomes = [rig.publish(post.slot) for post in rig.agenda]
    again = [rig.publish(post.slot) for post in rig.agenda]

    created = rig.fake.created_posts
    assert outcomes == ["published"] * 5
    assert again == ["skipped"] * 5
    assert [p["text"] for p in created] == [post.text for post in rig.agenda]
    assert [replied_to(p) for p in created] == [None] + [p["id"] for p in created[:-1]]
    assert [rig.remote_id(post.slot) for post in rig.agenda] == [p["id"] for p in created]
    spent = SpendingSql(rig.store.engine).spending(rig.occurrence.id, "x")
    assert (spent.posts, spent.reads, spent.micros) == (5, 0, 5 * 15_000)
    assert spent.micros == rig.billed_micros()


def test_a_refused_reply_makes_the_rest_of_the_occurrence_standalone_logged_once(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    rig.publish("intro")
    rig.fake.refuse_replies = True

    rig.publish("q1")
    # X would accept replies again; the bot does not try for the rest of the occurrence.
    rig.fake.refuse_replies = False
    for slot in ("q2", "q3", "closing"):
        rig.publish(slot)

    created = rig.fake.created_posts
    assert [p["text"] for p in created] == [post.text for post in rig.agenda]
    assert [replied_to(p) for p in created] == [None] * 5
    assert [e["occurrence"] for e in events(logs, "x.replies_refused")] == [rig.occurrence.id]
    assert [e.state for e in rig.store.entries(rig.occurrence.id)] == ["done"] * 5


def test_a_lost_answer_is_recovered_from_the_timeline_not_posted_twice(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    url = "https://example.org/hexichat/guide"
    rig = rig_for(fake, clock, tmp_path, closing={"at": "50m", "text": f"Thanks! Notes: {url}"})
    for slot in ("intro", "q1", "q2", "q3"):
        rig.publish(slot)
    fake.lose_next_post_answer = True

    outcome = rig.publish("closing")

    created = fake.created_posts
    assert outcome == "published"
    assert [p["text"].startswith("Thanks! Notes: https://t.co/") for p in created] == [
        False,
        False,
        False,
        False,
        True,
    ]
    assert rig.remote_id("closing") == created[-1]["id"]
    assert replied_to(created[-1]) == created[-2]["id"]
    [recovered] = events(logs, "x.duplicate_recovered")
    assert recovered["remote_id"] == created[-1]["id"]
    assert [e["event"] for e in logs if e["event"] == "retry.wait"] == ["retry.wait"]
    # One closing billed ($0.20, it has a URL), though two were sent; and the recovery read.
    spent = SpendingSql(rig.store.engine).spending(rig.occurrence.id, "x")
    assert spent.posts == 5
    assert spent.micros == 4 * 15_000 + 200_000 + spent.reads * 5_000
    assert spent.micros == rig.billed_micros()


def test_a_post_claimed_but_not_recorded_is_found_on_the_timeline(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    rig.publish("intro")
    q1 = rig.post("q1")
    clock = rig.clock
    clock.time = q1.at
    # A worker claimed Q1 and posted it, then died before recording X's answer.
    assert rig.store.claim(
        q1.key, occurrence=q1.occurrence, platform="x", planned_at=q1.at, now=clock.now()
    )
    made = rig.fake.post_as("chatbot", q1.text, reply_to=rig.remote_id("intro"))
    clock.advance(seconds=40)

    outcome = rig.publisher.publish(q1)

    assert outcome == "recovered"
    assert rig.remote_id("q1") == made
    assert [p["text"] for p in rig.fake.tweets.values()].count(q1.text) == 1


def test_a_429_says_when_to_try_again_and_the_retry_posts_once(rig: XRig) -> None:
    rig.fake.fail_next("/2/tweets", 429, reset_in=40, method="POST")
    intro = rig.post("intro")

    with pytest.raises(TransientError) as limited:
        rig.platform.post(intro.text, key=intro.key, in_reply_to=None)
    rig.clock.advance(seconds=40)
    rig.platform.post(intro.text, key=intro.key, in_reply_to=None)

    assert limited.value.retry_after == 40
    assert "429" in limited.value.reason
    assert [p["text"] for p in rig.fake.created_posts] == [intro.text]
    spent = SpendingSql(rig.store.engine).spending(rig.occurrence.id, "x")
    assert spent.posts == 1  # the refused attempt cost nothing


def test_503_is_retried_and_the_post_made_once(rig: XRig, logs: list[dict[str, Any]]) -> None:
    rig.fake.fail_next("/2/tweets", 503, times=2, method="POST")

    outcome = rig.publish("intro")

    assert outcome == "published"
    assert [p["text"] for p in rig.fake.created_posts] == [rig.post("intro").text]
    assert len(events(logs, "retry.wait")) == 2
    spent = SpendingSql(rig.store.engine).spending(rig.occurrence.id, "x")
    # The unanswered attempts are counted once, as one may have been made; never more.
    assert spent.posts == 1


def test_the_24_hour_post_limit_stops_posting_without_waiting_a_day(
    clock: ManualClock, tmp_path: Path
) -> None:
    with FakeXApi(clock=clock, daily_post_limit=2) as fake:
        rig = rig_for(fake, clock, tmp_path)
        rig.publish("intro")
        rig.publish("q1")

        q2 = rig.post("q2")
        with pytest.raises(PermanentError) as limited:
            rig.platform.post(q2.text, key=q2.key, in_reply_to=None)

        assert "the 24-hour post limit is used up until 2026-12-03 20:00:00 UTC" in (
            limited.value.reason
        )
        assert len(fake.created_posts) == 2


def test_posts_beyond_max_posts_are_refused_before_they_are_sent(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path
) -> None:
    # Five agenda posts, and five kept for the wrap-up thread (three questions, and two).
    rig = rig_for(fake, clock, tmp_path, x={"budget": {"max_posts": 10}})
    for post in rig.agenda:
        rig.publish(post.slot)
    occurrence = rig.occurrence.id
    for n in range(1, 6):
        rig.platform.post(
            f"Wrap-up {n}/5 #hexichat", key=f"{occurrence}/wrapup-{n}/x", in_reply_to=None
        )

    with pytest.raises(BudgetExhausted):
        rig.platform.post("One more thing #hexichat", key=f"{occurrence}/extra/x", in_reply_to=None)

    assert len(fake.created_posts) == 10
