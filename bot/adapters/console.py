"""A platform that prints: for dry runs and rehearsals, with nothing sent anywhere."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, tzinfo
from typing import TextIO

from bot.core.html_text import same_text
from bot.core.printable import printable
from bot.ports.clock import Clock
from bot.ports.posting import Published


class ConsolePlatform:
    def __init__(
        self,
        *,
        name: str,
        clock: Clock,
        zone: tzinfo,
        max_characters: int,
        stream: TextIO | None = None,
    ) -> None:
        # Named after the platform it stands in for, so keys and limits stay those of the run.
        self.name = name
        self._clock = clock
        self._zone = zone
        self._limit = max_characters
        self._stream = stream or sys.stdout
        self._posts: list[tuple[Published, str]] = []
        self._lock = threading.Lock()

    def max_characters(self) -> int:
        return self._limit

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        now = self._clock.now()
        with self._lock:
            published = Published(f"console-{len(self._posts) + 1}", f"console://{key}", now)
            self._posts.append((published, text))
        reply = f" (reply to {in_reply_to})" if in_reply_to else ""
        local = now.astimezone(self._zone)
        print(
            f"[{local:%H:%M:%S} {local.tzname()}] {self.name} {published.remote_id}{reply}\n"
            f"    {printable(text, newlines=True)}",  # a wrap-up quotes strangers
            file=self._stream,
            flush=True,
        )
        return published

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        with self._lock:
            for published, posted in reversed(self._posts):
                created = published.created_at
                if created is not None and created >= since and same_text(posted, text):
                    return published
        return None
