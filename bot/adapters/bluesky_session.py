"""A logged-in AT Protocol client whose session lives in the store, and the mapping of the
SDK's errors to the ports' Transient/Permanent errors.

``createSession`` is limited to 30 per 5 minutes and 300 a day per account, so the session
(access and refresh tokens) is kept in the store: a restart imports it and refreshes it
instead of logging in again. Refresh tokens rotate, so every change is saved at once; a
session another worker refreshed since is read back before falling back to the password.
Every token and the app password are registered as secrets: no log line shows them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import httpx
from atproto import Client, Session, SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError

from bot.core.config_platforms import BlueskySettings
from bot.ports.clock import Clock
from bot.ports.errors import PermanentError, TokenRefused, TransientError
from bot.runtime.logs import register_secret

# Errors of a stale session: a fresh one (refreshed, or a new login) fixes them.
_SESSION_ERRORS = ("ExpiredToken", "InvalidToken", "AuthenticationRequired")
# What servers answer for a record or post that is not there (deleted, or never was).
_NOT_FOUND = ("NotFound", "RecordNotFound")


class SessionStore(Protocol):
    def load(self, service: str, handle: str) -> str | None: ...

    def save(self, service: str, handle: str, session: str, *, now: datetime) -> None: ...

    def forget(self, service: str, handle: str) -> None: ...


class RateLimits:
    """The ``ratelimit-*`` headers of the latest answer: when the server says nothing is left
    until a reset, the next request waits for it instead of being refused."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset: float | None = None  # epoch seconds

    def note(self, response: httpx.Response) -> None:
        headers = response.headers
        self.limit = _int(headers.get("ratelimit-limit"))
        self.remaining = _int(headers.get("ratelimit-remaining"))
        reset = _int(headers.get("ratelimit-reset"))
        self.reset = float(reset) if reset is not None else None

    def describe(self) -> str:
        """What the latest answer said about the limit, for `doctor`."""
        if self.remaining is None:
            return "the server announces no rate limit (no ratelimit-* headers)"
        until = time.strftime(" until %H:%M:%S UTC", time.gmtime(self.reset)) if self.reset else ""
        of = f" of {self.limit}" if self.limit is not None else ""
        return f"{self.remaining}{of} requests left{until}; the bot waits for the reset at 0"

    def wait_needed(self) -> float | None:
        """Seconds until the reset when nothing is left, else None."""
        if self.remaining is None or self.remaining > 0 or self.reset is None:
            return None
        wait = self.reset - time.time()
        return wait if wait > 0 else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BlueskySession:
    """The one client of an account, logged in on first use, shared by the bot's threads."""

    def __init__(
        self,
        settings: BlueskySettings,
        *,
        password: str,
        sessions: SessionStore,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._password = password
        self._sessions = sessions
        self._clock = clock
        self._lock = threading.Lock()
        self._ready = False
        self.limits = RateLimits()
        self.logins = 0  # password logins made by this process (the scarce kind)
        self.how = "not signed in yet"  # how the session began, for `doctor`
        self.requests: Counter[str] = Counter()  # answers received, per XRPC method
        register_secret(password)
        timeout = settings.request_timeout.total_seconds()
        self.client = Client(
            settings.service,
            request=Request(timeout=timeout, event_hooks={"response": [self._note]}),
        )
        self.client.on_session_change(self._session_changed)

    @property
    def did(self) -> str:
        session = self._session()
        return str(session.did)

    @property
    def handle(self) -> str:
        return self._settings.handle

    def call(self, action: Callable[[Client], Any]) -> Any:
        """``action`` with a logged-in client; errors become Transient or PermanentError.
        A stale session is dropped, so that the retry logs in afresh."""
        wait = self.limits.wait_needed()
        if wait is not None:
            raise TransientError("the server's rate limit is used up", retry_after=wait)
        with self.errors():
            client = self.logged_in()
            try:
                return action(client)
            except (UnauthorizedError, BadRequestError) as exc:
                if _error_name(exc) in _SESSION_ERRORS:
                    self._ready = False
                    raise TransientError(f"the session expired ({_describe(exc)})") from None
                raise

    def query(self, nsid: str, params: Any, *, missing_ok: bool = False) -> dict[str, Any]:
        """A read's JSON as the server sent it (to be checked field by field: the SDK's
        models would refuse a whole page for one odd post); ``missing_ok``: {} when the
        server says the thing is not there."""

        def run(client: Client) -> Any:
            try:
                return client.invoke_query(nsid, params=params)
            except BadRequestError as exc:
                if missing_ok and _error_name(exc) in _NOT_FOUND:
                    return None
                raise

        response = self.call(run)
        content = getattr(response, "content", None)
        return content if isinstance(content, dict) else {}

    def logged_in(self) -> Client:
        with self.errors(), self._lock:
            if not self._ready:
                self.how = self._start()
                self._ready = True
        return self.client

    def _start(self) -> str:
        service, handle = self._settings.service, self._settings.handle
        stored = self._sessions.load(service, handle)
        if stored:
            register_secret(stored)
            try:
                self.client.login(session_string=stored, fetch_bsky_profile=False)
                # Checks the tokens (and refreshes them when the access token expired).
                self.client.com.atproto.server.get_session()
                return "resumed the stored session"
            except (UnauthorizedError, BadRequestError, LoginRequiredError):
                self._sessions.forget(service, handle)  # revoked or expired for good
        self.logins += 1
        self.client.login(handle, self._password, fetch_bsky_profile=False)
        return "logged in with the app password"

    def _session(self) -> Session:
        self.logged_in()
        session = self.client._session
        if session is None:
            raise PermanentError("no Bluesky session")
        return session

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        register_secret(session.access_jwt)
        register_secret(session.refresh_jwt)
        exported = session.encode()
        register_secret(exported)
        if event != SessionEvent.IMPORT:
            self._sessions.save(
                self._settings.service, self._settings.handle, exported, now=self._clock.now()
            )

    def _note(self, response: httpx.Response) -> None:
        self.limits.note(response)
        self.requests[response.request.url.path.rsplit("/", 1)[-1]] += 1

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except RateLimitExceededError as exc:
            raise TransientError(
                f"rate limited by the server ({_describe(exc)})", retry_after=_reset_in(exc)
            ) from None
        except (NetworkError, InvokeTimeoutError) as exc:
            raise TransientError(f"server unreachable or failing: {_describe(exc)}") from None
        except UnauthorizedError as exc:
            raise TokenRefused(f"the server refused the login: {_describe(exc)}") from None
        except BadRequestError as exc:
            raise PermanentError(f"the server refused: {_describe(exc)}") from None
        except RequestErrorBase as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status is None or status >= 500:
                raise TransientError(f"server failing: {_describe(exc)}") from None
            raise PermanentError(f"the server refused: {_describe(exc)}") from None
        except AtProtocolError as exc:
            # The SDK could not read an answer: the server sent something unexpected.
            raise PermanentError(f"unexpected answer: {type(exc).__name__}") from None


def _error_name(exc: BaseException) -> str | None:
    """The XRPC error name of a failed request (``InvalidRequest``, ``ExpiredToken``...)."""
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    name = getattr(content, "error", None)
    return name if isinstance(name, str) else None


def _describe(exc: BaseException) -> str:
    # The SDK's summary: status and the server's error name and message, never a header.
    return str(exc)[:300] or type(exc).__name__


def _reset_in(exc: RequestErrorBase) -> float | None:
    headers = exc.response.headers if exc.response is not None else {}
    reset = _int(headers.get("ratelimit-reset"))
    return max(0.0, reset - time.time()) if reset is not None else None
