"""The hosts' console served for real on loopback, over a store holding a chat of posts."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.console import ConsolePlatform
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.bootstrap import open_archive, open_store
from bot.console.server import ConsoleThread, bind
from bot.console.wiring import console_app
from bot.core.agenda import Occurrence, PlannedPost, PostKind, build_agenda
from bot.core.model import ArchivedPost
from bot.ports.clock import Clock
from bot.ports.posting import Published
from bot.runtime.clock import SystemClock
from bot.runtime.host_boosts import HostBoosts
from bot.runtime.host_commands import HostCommandTask
from bot.runtime.publisher import PostPublisher
from bot.runtime.steering import Steering
from tests.support.chat_files import ChatFile, write_chat
from tests.support.clock import ManualClock
from tests.support.posts import START

SECRET = "console-secret-7f3a9c1e55b2"  # a test's, in no real environment
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class ConsoleRig:
    url: str
    store: SqlStore
    occurrence: Occurrence
    agenda: list[PlannedPost]
    clock: ManualClock

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, follow_redirects=False)

    def signed_in(self, name: str = "Ana") -> tuple[httpx.Client, str]:
        """A client with a session, and the CSRF token its page carries."""
        client = self.client()
        answer = client.post("/signin", data={"name": name, "secret": SECRET})
        assert answer.status_code == 303, answer.text
        page = client.get("/chat/hexichat")
        match = _CSRF.search(page.text)
        assert match, page.text
        return client, match.group(1)


def planned_post(
    occurrence: str,
    slot: str,
    at: datetime,
    kind: PostKind = "question",
    *,
    tag: str = "#HEXIchat",
    replies_to: tuple[str, ...] = (),
) -> PlannedPost:
    """A post of an agenda on Mastodon, its text its slot and ``tag``: q3 #HEXIchat."""
    return PlannedPost(
        key=f"{occurrence}/{slot}/mastodon",
        occurrence=occurrence,
        slot=slot,
        kind=kind,
        number=int(slot[1:]) if kind == "question" else None,
        platform="mastodon",
        at=at,
        text=f"{slot} {tag}",
        replies_to=replies_to,
    )


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """The first true value of ``condition``, asked every tenth of a second (a real worker
    or browser is being watched: its time is the wall's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout} s")


@contextmanager
def running_console(
    tmp_path: Path, posts: Sequence[ArchivedPost], *, posted: Sequence[str] = ("intro", "q1")
) -> Iterator[ConsoleRig]:
    """The chat ``hexichat`` of 2 December 2026, with ``posts`` archived and the slots
    ``posted`` out, seen 10 minutes after its start."""
    chat = write_chat(
        tmp_path / "chat.yaml",
        instance="https://example.social",
        chat_id="hexichat",
        hashtag="#HEXIchat",
        questions=2,
        spacing=600,
        start=START.replace(tzinfo=None),
        timezone="UTC",
        sections={"follow": {"enabled": True}, "boost": {"mode": "auto"}},
    )
    occurrence = Occurrence("hexichat", "2026-12-02", START, START + timedelta(hours=1))
    agenda = build_agenda(chat.config, occurrence)
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    clock = ManualClock(START + timedelta(minutes=10))
    for planned in agenda:
        if planned.slot in posted:
            store.claim(
                planned.key,
                occurrence=occurrence.id,
                platform=planned.platform,
                planned_at=planned.at,
                now=planned.at,
            )
            store.record(
                planned.key,
                Published(f"bot-{planned.slot}", f"https://example.social/@bot/{planned.slot}"),
                now=planned.at,
            )
    archive = open_archive(store)
    for archived in posts:
        archive.save(archived, now=START)
    app = console_app(
        [(chat.config, lambda _now: (occurrence, agenda))], store, secret=SECRET, clock=clock
    )
    server = ConsoleThread(app, bind("127.0.0.1", 0))
    server.start()
    try:
        yield ConsoleRig(f"http://127.0.0.1:{server.port}", store, occurrence, agenda, clock)
    finally:
        server.stop()
        store.close()


def command_task(
    store: SqlStore,
    platform: ConsolePlatform,
    *,
    commands: HostCommandsSql,
    steering: Steering,
    clock: Clock,
    stop: threading.Event,
    log: Any,
    hashtag: str,
    thread: bool,
    grace: timedelta,
    **options: Any,
) -> tuple[PostPublisher, HostCommandTask]:
    """The hosts' command task over one console platform and ``store`` (ledger, curation and
    archive), with its publisher; it takes commands only until the chat's end (no linger)."""
    publisher = PostPublisher(
        ledger=store,
        platforms={platform.name: platform},
        clock=clock,
        grace=grace,
        stop_event=stop,
        log=log,
    )
    boosts = HostBoosts(
        commands=commands,
        platforms={platform.name: platform},
        ledger=store,
        curation=CurationSql(store.engine),
        archive=open_archive(store),
        clock=clock,
        stop_event=stop,
    )
    task = HostCommandTask(
        hashtag=hashtag,
        thread=thread,
        commands=commands,
        steering=steering,
        publisher=publisher,
        boosts=boosts,
        platforms={platform.name: platform},
        ledger=store,
        clock=clock,
        stop_event=stop,
        log=log,
        linger=timedelta(0),
        **options,
    )
    return publisher, task


@dataclass
class ServedConsole:
    """The console of a chat that a real worker runs, over the worker's database."""

    url: str
    occurrence: str

    def api(self) -> httpx.Client:
        """A client of the JSON API, signed in with the console's secret as host Ana."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {SECRET}", "X-Host-Name": "Ana"},
            timeout=10,
        )

    def page(self, path: str) -> httpx.Response:
        """A page as host Ana sees it, signed in with the console's secret."""
        with httpx.Client(base_url=self.url, timeout=10) as browser:
            signin = browser.post("/signin", data={"name": "Ana", "secret": SECRET})
            assert signin.status_code == 303, signin.text
            return browser.get(path)


@contextmanager
def serving_console(chat: ChatFile, database: Path) -> Iterator[ServedConsole]:
    """`tweetchat console` for ``chat`` over the SQLite ``database`` of its worker, on the
    wall's clock, served on loopback."""
    store = open_store(f"sqlite:///{database}")
    app = console_app(
        [(chat.config, lambda _now: (chat.occurrence, chat.agenda))],
        store,
        secret=SECRET,
        clock=SystemClock(),
    )
    server = ConsoleThread(app, bind("127.0.0.1", 0))
    server.start()
    try:
        yield ServedConsole(f"http://127.0.0.1:{server.port}", chat.occurrence.id)
    finally:
        server.stop()
        store.close()
