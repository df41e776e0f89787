"""Compressed chats for tests that run the bot for real, and `tweetchat` as a subprocess.

A compressed chat is an ordinary chat file whose posts are seconds apart and whose start is a
few seconds away, so a whole occurrence plays out within a test.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.chat_files import load_config
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import ChatConfig
from bot.core.planning import next_plan
from bot.runtime.clock import SystemClock

TWEETCHAT = Path(sys.executable).with_name("tweetchat")
TOKEN_ENV = "MASTODON_ACCESS_TOKEN"


@dataclass(frozen=True)
class ChatFile:
    """A chat file on disk and what the bot will make of it."""

    path: Path
    config: ChatConfig
    occurrence: Occurrence
    agenda: list[PlannedPost]  # in time order

    @property
    def texts(self) -> list[str]:
        return [post.text for post in self.agenda]


def write_chat(
    path: Path,
    *,
    instance: str,
    questions: int = 6,
    spacing: float = 1.5,
    lead: float = 3.0,
    start: datetime | None = None,
    timezone: str = "Europe/London",
    token_env: str = TOKEN_ENV,
    chat_id: str = "testchat",
    hashtag: str = "#TestChat",
    question_texts: Sequence[str] | None = None,
    mastodon: Mapping[str, Any] | None = None,
    posts: Mapping[str, Any] | None = None,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
    platforms: Mapping[str, Mapping[str, Any]] | None = None,
) -> ChatFile:
    """Write an intro, ``questions`` questions and a closing, ``spacing`` seconds apart.

    The chat starts ``lead`` seconds from now (rounded up to a whole second: the file format
    stops at seconds) in ``timezone``, unless ``start`` (local, naive) is given.
    ``mastodon`` and ``posts`` add keys to those sections (e.g. max_characters, grace).
    ``sections`` adds keys to any top-level section (chat, wrapup...). Capture (and with it
    the wrap-up) and boosts are off unless ``sections`` names follow or boost: the chat is
    then its posts alone, and `tweetchat run` ends right after the closing. ``platforms``
    replaces the platforms section (``instance`` and ``mastodon`` are then not used).
    """
    zone = ZoneInfo(timezone)
    if start is None:
        now = datetime.now(zone)
        start = datetime.fromtimestamp(math.ceil(now.timestamp() + lead), zone).replace(tzinfo=None)
    texts = list(question_texts or [])
    texts += [f"What is your take on topic {n}?" for n in range(len(texts) + 1, questions + 1)]
    closing_at = spacing * (questions + 1)
    document = {
        "chat": {
            "id": chat_id,
            "title": "A compressed test chat",
            "hashtag": hashtag,
            "timezone": timezone,
            "start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": f"{closing_at + spacing:g}s",
        },
        "platforms": dict(platforms)
        if platforms is not None
        else {"mastodon": {"instance": instance, "token_env": token_env, **(mastodon or {})}},
        "posts": {
            "intro": {"text": "Welcome to {hashtag}! Introduce yourself."},
            "questions": [
                {"at": f"{spacing * n:g}s", "text": texts[n - 1]} for n in range(1, questions + 1)
            ],
            "closing": {"at": f"{closing_at:g}s", "text": "Thank you for joining {hashtag}!"},
            **(posts or {}),
        },
    }
    sections = sections or {}
    for name, off in (("follow", {"enabled": False}), ("boost", {"mode": "off"})):
        if name not in sections:
            document[name] = off
    # The keys given go on top of the section's above, e.g. {"chat": {"hosts": [...]}}.
    for name, keys in sections.items():
        existing: Any = document.get(name, {})
        document[name] = {**existing, **keys}
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "utf-8")
    config = load_config(path)
    occurrence, agenda = next_plan(config, SystemClock().now())
    return ChatFile(path, config, occurrence, agenda)


def tweetchat_env(
    *,
    database: Path,
    token: str | None,
    token_env: str = TOKEN_ENV,
    **extra: str,
) -> dict[str, str]:
    """The environment of a `tweetchat` process: JSON logs, its own SQLite ledger, and the
    token in ``token_env`` (left unset when ``token`` is None)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (token_env, "DATABASE_URL") and not name.startswith("TWEETCHAT_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        TWEETCHAT_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    if token is not None:
        env[token_env] = token
    return env


def run_tweetchat(
    *args: str, env: Mapping[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run a `tweetchat` command to its end."""
    return subprocess.run(
        [str(TWEETCHAT), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def log_events(output: str) -> list[dict[str, Any]]:
    """The JSON log lines of an output, in order; other lines are skipped."""
    events = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


class RunningBot:
    """`tweetchat run CONFIG` (or another ``command``) in the background, its output read
    as it comes."""

    def __init__(
        self,
        config: Path,
        *,
        env: Mapping[str, str],
        command: str = "run",
        options: Sequence[str] = (),
    ) -> None:
        self.process = subprocess.Popen(
            [str(TWEETCHAT), command, str(config), *options],
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.process.stdout, self._stdout),
                (self.process.stderr, self._stderr),
            )
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def stdout(self) -> str:
        with self._changed:
            return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._stderr)

    @property
    def events(self) -> list[dict[str, Any]]:
        return log_events(self.stdout)

    def wait_for_event(self, name: str, *, timeout: float = 15) -> dict[str, Any] | None:
        """The first log event called ``name``; None if the process ended without it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in log_events("".join(self._stdout)):
                    if event.get("event") == name:
                        return event
                if self.process.poll() is not None and not any(r.is_alive() for r in self._readers):
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {name} event within {timeout} s:\n{self.output}")
                self._changed.wait(min(left, 0.1))

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        if self.process.poll() is None:
            self.process.kill()
        self.wait(timeout=10)

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self, *, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def __enter__(self) -> RunningBot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()


def published(running: RunningBot, slot: str, *, timeout: float = 30) -> dict[str, Any]:
    """The log event of the bot's post of ``slot`` (published, or recovered after a
    restart), once it is out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in running.events:
            if event["event"] in ("post.published", "post.recovered") and (
                event.get("slot") == slot
            ):
                return event
        time.sleep(0.05)
    raise AssertionError(f"{slot} was not published within {timeout} s:\n{running.output}")
