"""Following a chat on X, poll by poll: the real adapter, meter, archive and X follower,
against the fake X API. The fake counts every post it serves (what X bills): no post may be
read twice, and the spending recorded must never pass the cap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.health_sql import HealthSql
from bot.adapters.store_spending import SpendingSql
from bot.ports.errors import TransientError
from bot.ports.spending import SearchPage
from bot.runtime.x_follower import ReadingStopped, XCapture
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_rig import START, XRig, events, rig_for


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START - timedelta(minutes=5))


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot", clock=clock) as running:
        for name in ("ann", "bob", "cyd"):
            running.add_user(name, followers=10)
        yield running


@pytest.fixture
def rig(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path, logs: list[dict[str, Any]]
) -> Iterator[XRig]:
    built = rig_for(fake, clock, tmp_path)
    yield built
    built.store.close()


def archived(rig: XRig) -> dict[str, tuple[int | None, str | None, bool]]:
    """Post id -> (question, rule, own) for every archived post of the occurrence."""
    return {p.id: (p.question, p.rule, p.is_own) for p in rig.archive.posts(rig.occurrence.id)}


def read_once(fake: FakeXApi) -> bool:
    return set(fake.reads_by_id.values()) <= {1}


def poll_until_stopped(capture: XCapture, *, between: Callable[[], None]) -> None:
    for _ in range(50):
        try:
            capture.poll()
        except ReadingStopped:
            return
        between()
    raise AssertionError("reading never stopped")


def test_tagged_and_untagged_answers_are_captured_each_read_once(rig: XRig) -> None:
    fake, capture = rig.fake, rig.capture()
    early = fake.post_as(
        "ann", "Looking forward to #hexichat", created_at=START - timedelta(hours=2)
    )
    rig.publish("intro")
    hello = fake.post_as("ann", "Hi all, I'm Ann #hexichat")
    capture.poll()
    rig.publish("q1")
    q1 = rig.remote_id("q1")
    tagged = fake.post_as("bob", "Mornings are best #hexichat")
    untagged = fake.post_as("cyd", "Evenings for me", reply_to=q1)
    nested = fake.post_as("ann", "Same here", reply_to=untagged)
    capture.poll()
    rig.publish("q2")
    prefixed = fake.post_as("cyd", "a.2 it depends #HexiChat")
    late_reply = fake.post_as("bob", "Also lunch", reply_to=q1)
    capture.poll()
    capture.poll()  # nothing new: nothing read

    posts = archived(rig)
    own = {rig.remote_id(slot) for slot in ("intro", "q1", "q2")}
    assert {i for i, (_, _, is_own) in posts.items() if is_own} == own
    assert {i: v for i, v in posts.items() if i not in own} == {
        hello: (None, None, False),
        tagged: (1, "window", False),
        untagged: (1, "reply", False),
        nested: (1, "reply", False),
        prefixed: (2, "prefix", False),
        late_reply: (1, "reply", False),
    }
    assert early not in fake.reads_by_id  # before the window: never read
    assert read_once(fake)
    assert set(fake.reads_by_id) == set(posts)


def test_more_than_a_page_is_read_in_pages_each_post_once(rig: XRig) -> None:
    rig.publish("intro")
    answers = [rig.fake.post_as("ann", f"Hello {n} #hexichat") for n in range(250)]

    rig.capture().poll()

    assert set(answers) <= set(archived(rig))
    assert read_once(rig.fake)


class FailingOnce:
    """The real adapter, with one failure before the ``nth`` search of a test's choosing."""

    def __init__(self, rig: XRig, nth: int) -> None:
        self._platform = rig.platform
        self._nth = nth
        self.searches = 0
        self.name = rig.platform.name

    def tag_query(self, tag: str) -> str:
        return self._platform.tag_query(tag)

    def replies_query(self, conversation_id: str, tag: str) -> str:
        return self._platform.replies_query(conversation_id, tag)

    def search(self, query: str, **window: Any) -> SearchPage:
        self.searches += 1
        if self.searches == self._nth:
            raise TransientError("connection reset (scripted)")
        return self._platform.search(query, **window)


def test_a_failure_between_pages_resumes_the_gap_without_reading_again(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    rig.publish("intro")
    answers = [rig.fake.post_as("bob", f"A{n % 3} thoughts #hexichat") for n in range(230)]
    rig.follower._source = FailingOnce(rig, nth=2)

    capture = rig.capture()
    capture.poll()  # the first page, then the failure
    after_failure = len(archived(rig))
    capture.poll()  # the rest of the gap

    assert after_failure == 100  # the newest page
    assert set(answers) <= set(archived(rig))
    assert read_once(rig.fake)
    assert [e["activity"] for e in events(logs, "retry.wait")] == ["tag"]


def test_a_crash_between_pages_resumes_the_gap_after_a_restart(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path
) -> None:
    first = rig_for(fake, clock, tmp_path)
    first.publish("intro")
    answers = [fake.post_as("bob", f"Post {n} #hexichat") for n in range(150)]
    first.follower._source = FailingOnce(first, nth=2)
    first.capture().poll()
    first.store.close()

    second = rig_for(fake, clock, tmp_path)  # a new worker on the same database
    second.capture().poll()

    assert set(answers) <= set(archived(second))
    assert read_once(fake)


def test_replies_refused_each_question_is_its_own_conversation(rig: XRig) -> None:
    rig.fake.refuse_replies = True
    for slot in ("intro", "q1", "q2"):
        rig.publish(slot)
    q1, q2 = rig.remote_id("q1"), rig.remote_id("q2")
    capture = rig.capture()
    capture.poll()
    to_q1 = rig.fake.post_as("ann", "Tea, always", reply_to=q1)
    to_q2 = rig.fake.post_as("bob", "Coffee", reply_to=q2)

    capture.poll()

    assert archived(rig)[to_q1] == (1, "reply", False)
    assert archived(rig)[to_q2] == (2, "reply", False)
    assert read_once(rig.fake)


def test_a_429_with_reset_blocks_reading_until_then(rig: XRig, logs: list[dict[str, Any]]) -> None:
    rig.publish("intro")
    answer = rig.fake.post_as("ann", "Hello #hexichat")
    rig.fake.fail_next("/2/tweets/search/recent", 429, reset_in=90)
    capture = rig.capture()

    capture.poll()

    [wait] = events(logs, "ratelimit.wait")
    assert (wait["seconds"], wait["activity"]) == (90, "tag")
    assert capture.blocked_until == rig.clock.now() + timedelta(seconds=90)
    # What the hosts' console shows of it.
    (health,) = HealthSql(rig.store.engine).health(rig.occurrence.id)
    assert (health.platform, health.mode, health.rate_limit_waits) == ("x", "polling", 1)
    assert health.rate_limited_until == rig.clock.now() + timedelta(seconds=90)
    rig.clock.advance(seconds=90)
    capture.poll()
    assert answer in archived(rig)
    assert read_once(rig.fake)


def test_a_503_is_tried_again_later(rig: XRig, logs: list[dict[str, Any]]) -> None:
    rig.publish("intro")
    answer = rig.fake.post_as("ann", "Hello #hexichat")
    rig.fake.fail_next("/2/tweets/search/recent", 503)
    capture = rig.capture()

    capture.poll()
    capture.poll()

    assert [e["activity"] for e in events(logs, "retry.wait")] == ["tag"]
    assert answer in archived(rig)


def test_search_not_allowed_means_post_only_mode_with_one_warning(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    rig.fake.search_forbidden = True
    rig.publish("intro")
    capture = rig.capture()

    with pytest.raises(ReadingStopped):
        capture.poll()
    rig.publish("q1")

    [warning] = events(logs, "follow.unavailable")
    assert "post-only mode" in warning["action"]
    assert warning["log_level"] == "warning"
    assert len(rig.fake.created_posts) == 2


def test_the_usage_cap_stops_reading_with_an_error_and_posting_goes_on(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    rig.publish("intro")
    rig.fake.usage_cap_exceeded = True
    capture = rig.capture()

    with pytest.raises(ReadingStopped):
        capture.poll()
    rig.publish("q1")

    [capped] = events(logs, "x.usage_capped")
    assert capped["log_level"] == "error"
    assert rig.fake.reads == 0
    assert len(rig.fake.created_posts) == 2


def test_at_the_cap_reading_stops_and_the_agenda_still_goes_out(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    # $0.30: $0.075 for the five posts, $0.05 kept for recovery, about $0.175 to read with.
    rig = rig_for(fake, clock, tmp_path, x={"budget": {"max_usd": 0.30}})
    rig.publish("intro")
    capture = rig.capture()
    for n in range(40):
        fake.post_as(("ann", "bob", "cyd")[n % 3], f"Hello {n} #hexichat")

    def more() -> None:
        for n in range(10):
            fake.post_as("ann", f"More {n} {clock.now()} #hexichat")
        clock.advance(minutes=1)

    poll_until_stopped(capture, between=more)
    outcomes = [rig.publish(slot) for slot in ("q1", "q2", "q3", "closing")]

    spent = SpendingSql(rig.store.engine).spending(rig.occurrence.id, "x")
    assert outcomes == ["published"] * 4
    assert len(fake.created_posts) == 5
    assert events(logs, "budget.exhausted")
    assert rig.billed_micros() <= spent.micros <= 300_000
    assert read_once(fake)


def test_pacing_spaces_polls_when_reading_runs_ahead_of_the_budget(
    fake: FakeXApi, clock: ManualClock, tmp_path: Path
) -> None:
    rig = rig_for(fake, clock, tmp_path, x={"budget": {"max_usd": 1.0}})
    rig.publish("intro")
    for n in range(60):
        fake.post_as("ann", f"Hello {n} #hexichat")
    capture: XCapture = rig.capture()

    capture.poll()

    # About $0.30 of ~$0.85 spent in the first minutes of a 75-minute window: wait.
    assert capture.tag_due.at - clock.now() > timedelta(minutes=10)


def test_max_reads_is_never_passed(fake: FakeXApi, clock: ManualClock, tmp_path: Path) -> None:
    rig = rig_for(fake, clock, tmp_path, x={"budget": {"max_usd": None, "max_reads": 60}})
    rig.publish("intro")
    capture = rig.capture()

    def more() -> None:
        for n in range(15):
            fake.post_as("bob", f"Post {n} {clock.now()} #hexichat")
        clock.advance(minutes=1)

    more()
    poll_until_stopped(capture, between=more)

    # Ten reads are kept back for recovery after a crash.
    assert 40 <= fake.reads <= 50
    assert read_once(fake)
