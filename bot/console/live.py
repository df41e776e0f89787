"""One reader per chat, however many consoles watch it: a task asks the store, a few times a
second, whether anything changed (a cheap fingerprint), and only then builds the state once
and hands it to every open stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from anyio import to_thread

# A comment line this often keeps proxies (Heroku's router drops a connection silent for
# 55 s) from closing an idle stream.
KEEPALIVE_SECONDS = 20.0

# chat id -> (the fingerprint now, and how to build the state and its page fragment)
Snapshot = Callable[[str], tuple[Any, Callable[[], tuple[dict[str, Any], str]]]]


class _Channel:
    def __init__(self) -> None:
        self.html: str | None = None
        self.version = 0
        self.changed = asyncio.Condition()
        self.watchers = 0
        self.task: asyncio.Task[None] | None = None


class Broadcaster:
    def __init__(self, snapshot: Snapshot, *, interval: float) -> None:
        self._snapshot = snapshot
        self._interval = interval
        self._channels: dict[str, _Channel] = {}

    async def subscribe(self, chat_id: str) -> AsyncIterator[str | None]:
        """The chat's page fragment now and at every change; None when it is time for a
        keep-alive."""
        channel = self._channels.setdefault(chat_id, _Channel())
        channel.watchers += 1
        if channel.task is None or channel.task.done():
            channel.task = asyncio.create_task(self._watch(chat_id, channel))
        seen = 0
        try:
            while True:
                async with channel.changed:
                    if channel.version == seen:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(channel.changed.wait(), KEEPALIVE_SECONDS)
                if channel.version == seen:
                    yield None
                    continue
                seen = channel.version
                yield channel.html
        finally:
            channel.watchers -= 1

    async def _watch(self, chat_id: str, channel: _Channel) -> None:
        last: Any = object()
        while channel.watchers > 0:
            fingerprint, build = await to_thread.run_sync(self._snapshot, chat_id)
            if fingerprint != last:
                _state, html = await to_thread.run_sync(build)
                last = fingerprint
                async with channel.changed:
                    channel.html = html
                    channel.version += 1
                    channel.changed.notify_all()
            await asyncio.sleep(self._interval)
