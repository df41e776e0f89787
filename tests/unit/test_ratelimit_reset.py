"""A server's rate-limit reset, in any form or none, never raises and never holds the bot
longer than the cap the publisher has always used."""

from __future__ import annotations

import threading

import pytest

from bot.adapters.ratelimit_reset import reset_after, reset_epoch, seconds_until
from bot.ports.errors import MAX_RETRY_AFTER, TransientError
from bot.runtime.retry import call_with_retry

NOW = 1_796_201_600.0  # 2026-12-02T08:53:20Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1796201630", 30.0),  # epoch seconds (mastodon_mock, GoToSocial)
        ("1796201630000", 30.0),  # epoch milliseconds
        ("2026-12-02T08:53:50.000Z", 30.0),  # ISO-8601 (Mastodon)
        ("2026-12-02T09:53:50+01:00", 30.0),
        ("Wed, 02 Dec 2026 08:53:50 GMT", 30.0),  # an HTTP date
        ("30", 30.0),  # seconds from now
        ("1796200600", 0.0),  # passed already
    ],
)
def test_every_form_a_server_uses_is_read(value: str, expected: float) -> None:
    """Issue 12 item 1: the reset is read from each form servers send."""
    assert reset_after({"X-RateLimit-Reset": value}, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value",
    ["9" * 400, "²", "garbage", "NaN", "inf", "-5", "1e400", "", "٣٠", "9999-99-99T00:00:00Z"],
)
def test_a_hostile_value_is_ignored(value: str) -> None:
    """Issue 12 item 1: a 400-digit number, ``²`` or garbage is no reset time, not a crash."""
    assert reset_after({"x-ratelimit-reset": value}, now=NOW) is None


def test_a_far_reset_and_a_library_s_odd_number_are_bounded() -> None:
    """Issue 12 item 1: what Mastodon.py computed (an int too large for a float) is no wait;
    a reset in 55 years (epoch milliseconds read as seconds) is a wait of the cap."""
    assert seconds_until(10**400, now=NOW) is None
    assert seconds_until(float("nan"), now=NOW) is None
    far = reset_epoch("9" * 60, now=NOW)
    assert far is not None
    assert TransientError("429", retry_after=far - NOW).retry_after == MAX_RETRY_AFTER
    assert TransientError("429", retry_after=float("nan")).retry_after is None
    assert TransientError("429", retry_after=-3).retry_after == 0.0


class NoWaiting(threading.Event):
    """A stop event whose waits end at once: the test reads how long was asked for."""

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()


def test_the_retry_policy_shares_the_cap() -> None:
    """Issue 12 item 1: the publisher's retries wait at most the shared cap."""
    waits: list[float] = []

    class Waits:
        def warning(self, _event: str, **fields: object) -> None:
            waits.append(float(str(fields["seconds"])))

    calls = iter([TransientError("429", retry_after=10**9)])

    def action() -> str:
        for error in calls:
            raise error
        return "done"

    assert call_with_retry(action, stop_event=NoWaiting(), log=Waits()) == "done"
    assert waits == [MAX_RETRY_AFTER]
