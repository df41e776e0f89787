"""Who may use the console: one shared secret, sessions, CSRF tokens and a brake on guessing.

The secret is compared in constant time and never stored anywhere but in memory. A session
is a random id in an HttpOnly, SameSite=Strict cookie; its CSRF token goes with every
change. Sign-in attempts are counted per client: a wrong secret is answered only after a
pause, and a client that keeps failing is refused for a while.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.steering import MAX_NAME

COOKIE = "tweetchat_console"
# A session lasts a working day: long enough for a chat and its preparation.
SESSION_SECONDS = 12 * 3600
# A wrong secret waits this long before its answer.
WRONG_SECRET_DELAY = 1.0
# Failed sign-ins allowed per client within the window, before it is refused outright.
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0


@dataclass(frozen=True)
class Session:
    who: str
    csrf: str
    expires: float


class Access:
    def __init__(self, secret: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._secret = secret.encode()
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def secret_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._secret)

    def blocked(self, client: str) -> bool:
        """Whether a client failed too often lately to be let try again now."""
        with self._lock:
            return len(self._recent_failures(client)) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(self._clock())

    def _recent_failures(self, client: str) -> deque[float]:
        times = self._failures.get(client, deque())
        while times and times[0] < self._clock() - FAILURE_WINDOW:
            times.popleft()
        return times

    def open_session(self, who: str) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(
            who=clean_name(who) or "host",
            csrf=secrets.token_urlsafe(32),
            expires=self._clock() + SESSION_SECONDS,
        )
        with self._lock:
            self._sessions[session_id] = session
        return session_id, session

    def session(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires < self._clock():
                del self._sessions[session_id]
                return None
            return session

    def close_session(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)


def clean_name(name: str) -> str:
    """A host's name as it will show on the page and in the log: printable, short."""
    printable = "".join(ch for ch in name if ch.isprintable())
    return " ".join(printable.split())[:MAX_NAME]


def csrf_matches(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), session.csrf.encode())
