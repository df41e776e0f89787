"""One retry policy for every platform call: transient errors only, bounded, logged,
honouring the server's reset time, and cut short by shutdown."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)
from tenacity.stop import stop_base

from bot.ports.errors import MAX_RETRY_AFTER, TransientError

T = TypeVar("T")


class ShutdownRequested(Exception):
    """The process is stopping; the action was not finished and may be retried later."""


def _wait(base: float, cap: float, max_wait: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(max(float(exc.retry_after), 0.0), max_wait)
        backoff = min(cap, base * 2 ** (state.attempt_number - 1))
        return float(backoff / 2 + random.uniform(0, backoff / 2))

    return wait


def call_with_retry(
    action: Callable[[], T],
    *,
    stop_event: threading.Event,
    log: Any,
    attempts: int = 5,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    max_rate_limit_wait: float = MAX_RETRY_AFTER,
    give_up_after: float | None = None,
) -> T:
    """Run ``action``; on TransientError wait and try again, up to ``attempts`` in all,
    and never start an attempt later than ``give_up_after`` seconds after the first.

    Raises the last TransientError when attempts or time run out, PermanentError at once,
    and ShutdownRequested when ``stop_event`` is set during a wait.
    """

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            log.warning(
                "ratelimit.wait",
                seconds=round(wait, 2),
                reason=exc.reason,
                attempt=state.attempt_number,
            )
        else:
            log.warning(
                "retry.wait", seconds=round(wait, 2), reason=str(exc), attempt=state.attempt_number
            )

    def sleep(seconds: float) -> None:
        if stop_event.wait(seconds):
            raise ShutdownRequested

    stop: stop_base = stop_after_attempt(attempts)
    if give_up_after is not None:
        stop = stop | stop_before_delay(max(give_up_after, 0.0))
    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop,
        wait=_wait(base_delay, max_delay, max_rate_limit_wait),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    if stop_event.is_set():
        raise ShutdownRequested
    return retrying(action)
