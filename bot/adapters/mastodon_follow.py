"""Following a Mastodon hashtag: timeline pages and the live stream, as the ports' records.

Mastodon.py's own streaming is not used: it reads a byte at a time, waits a fixed time
between reconnects, and drops the connection on a malformed event. The SSE client here ends
promptly on close, notices a silent server, and lets the follower decide about reconnects.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from bot.adapters.ratelimit_reset import reset_after
from bot.adapters.sse import SseLost, SseRefused, SseStream
from bot.ports.errors import PermanentError, TokenRefused, TransientError
from bot.ports.following import (
    BadEvent,
    DeleteEvent,
    Fetched,
    PostEvent,
    Skipped,
    StreamEvent,
    TagPage,
)

# Mastodon serves at most 40 statuses per timeline page.
TAG_PAGE_SIZE = 40
# Mastodon sends a heartbeat comment every few seconds; this much silence means a dead link.
STREAM_IDLE_SECONDS = 60.0
# Real Mastodon says "status.update"; Mastodon.py's documentation and some servers use "_".
_EDIT_EVENTS = ("status.update", "status_update")
# The events whose payload is a status.
STATUS_EVENTS = ("update", *_EDIT_EVENTS)

Convert = Callable[[Mapping[str, Any]], Fetched]


def tag_page_of(page: Sequence[Any], convert: Convert, *, asked_newer_than: str | None) -> TagPage:
    """A page from Mastodon.py (its ``Link`` header parsed into ``_pagination_*``), or from a
    server without ``Link``: then the ids of the first and last status are the cursors."""
    items = [_convert_or_skip(status, convert) for status in page]
    prev = getattr(page, "_pagination_prev", None)
    nxt = getattr(page, "_pagination_next", None)
    has_links = prev is not None or nxt is not None
    first_id = _raw_id(page[0]) if page else None
    last_id = _raw_id(page[-1]) if page else None
    newer = _param(prev, "min_id") or first_id or asked_newer_than
    older = _param(nxt, "max_id") if has_links else last_id
    return TagPage(items=items, newer=newer, older=older, full=len(page) >= TAG_PAGE_SIZE)


def _convert_or_skip(status: Any, convert: Convert) -> Fetched:
    if not isinstance(status, Mapping):
        return Skipped(None, "malformed: a status that is not an object", expected=False)
    return convert(status)


def _raw_id(status: Any) -> str | None:
    value = status.get("id") if isinstance(status, Mapping) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _param(info: Any, name: str) -> str | None:
    if isinstance(info, Mapping) and info.get(name) is not None:
        return str(info[name])
    return None


def open_hashtag_stream(
    url: str, *, token: str, connect_timeout: float, convert: Convert
) -> MastodonEventStream:
    """A connected stream, or TransientError (try again) / PermanentError (poll instead)."""
    try:
        sse = SseStream(
            url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "tweetchat"},
            connect_timeout=connect_timeout,
            idle_timeout=STREAM_IDLE_SECONDS,
        )
    except ValueError as exc:
        # The address comes from the server (/api/v2/instance): polling still works.
        raise PermanentError(f"streaming refused: {exc}") from None
    try:
        sse.connect()
    except SseLost as exc:
        raise TransientError(f"stream connection failed: {exc}") from None
    except SseRefused as exc:
        reason = f"streaming refused: {exc}"
        if exc.status == 429:
            raise TransientError(
                f"rate limited by the server (streaming: {exc})",
                retry_after=reset_after(exc.headers, now=time.time()) or None,
            ) from None
        if exc.status >= 500 or exc.status == 408:
            raise TransientError(reason) from None
        if exc.status == 401:
            # The token, not the stream: no reason to think the server has no stream.
            raise TokenRefused(reason) from None
        raise PermanentError(reason) from None
    return MastodonEventStream(sse, convert)


class MastodonEventStream:
    def __init__(self, sse: SseStream, convert: Convert) -> None:
        self._sse = sse
        self._convert = convert

    def events(self) -> Iterator[StreamEvent]:
        try:
            for record in self._sse.records():
                if record.problem is not None:
                    yield BadEvent(record.problem)
                    continue
                event = stream_event(record.event, record.data, self._convert)
                if event is not None:
                    yield event
        except SseLost as exc:
            raise TransientError(f"stream lost: {exc}") from None
        finally:
            self._sse.release()

    def close(self) -> None:
        self._sse.close()


def stream_event(name: str | None, data: str | None, convert: Convert) -> StreamEvent | None:
    """One event of Mastodon's streaming API, as SSE and WebSocket both carry it: a name
    and a payload that is a status in JSON (``update``, edits) or a bare id (``delete``)."""
    if name == "delete":
        post_id = (data or "").strip()
        if not post_id or len(post_id) > 64 or any(c.isspace() for c in post_id):
            return BadEvent("a delete event without a usable id")
        return DeleteEvent(post_id)
    if name not in STATUS_EVENTS:
        return None  # notifications, filters, announcements: not the follower's business
    try:
        status = json.loads(data or "")
    except ValueError:
        return BadEvent(f"an {name} event that is not JSON")
    except RecursionError:
        return BadEvent(f"an {name} event nested too deeply to read")
    return status_event(name, status, convert)


def status_event(name: str, status: object, convert: Convert) -> StreamEvent:
    """An ``update`` or edit event whose payload is already parsed."""
    if not isinstance(status, dict):
        return BadEvent(f"an {name} event that is not a status")
    return PostEvent(convert(status), edited=name in _EDIT_EVENTS)
