"""Issue 12 item 12, on a real Mastodon API server (mastodon_mock, behind the loopback proxy
that logs every request): after the wrap-up, archived posts are re-checked at a pace far
inside the rate limit, a post deleted since leaves the files, and a "forget me" is confirmed
only once the files are written without the person.

Only the clock is ours: the server, the store, the archive and the files are real.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.mastodon_status import to_post
from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence
from bot.core.config import ChatConfig
from bot.core.html_text import html_to_text
from bot.core.model import ArchivedPost
from bot.core.wrapup import wrapup_time
from bot.exports import write_exports
from bot.runtime.aftercare import Aftercare
from bot.runtime.curator import Curator
from bot.runtime.transcript_files import TranscriptFiles
from bot.runtime.wrapup import gather, gather_series
from bot.series_exports import write_series_exports
from tests.fakes.fault_proxy import FaultProxy
from tests.support.chat_files import write_chat
from tests.support.clock import ManualClock
from tests.support.mastodon_server import Account, MastodonServer

START = datetime(2030, 1, 2, 20, 0)  # local (UTC): far from now, the clock is ours
POSTS = 45


@dataclass
class Wrapped:
    """A chat whose wrap-up wrote its files an hour ago, ``POSTS`` answers by Ana archived."""

    server: MastodonServer
    proxy: FaultProxy
    bot: Account
    ana: Account
    config: ChatConfig
    occurrence: Occurrence
    store: SqlStore
    archive: SqlArchive
    clock: ManualClock
    curator: Curator
    aftercare: Aftercare
    ids: list[str]
    files: list[Path]


@pytest.fixture
def wrapped(tmp_path: Path, mastodon: MastodonServer) -> Iterator[Wrapped]:
    bot = mastodon.account("pacebot", bot=True)
    ana = mastodon.account("ana")
    with FaultProxy(mastodon.base_url) as proxy:
        file = write_chat(
            tmp_path / "chat.yaml",
            instance=proxy.base_url,
            questions=1,
            spacing=480,
            start=START,
            timezone="UTC",
            sections={"wrapup": {"folder": str(tmp_path / "out")}, "boost": {"mode": "off"}},
        )
        config, occurrence = file.config, file.occurrence
        assert config.platforms.mastodon is not None
        store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        curation, archive = CurationSql(store.engine), SqlArchive(store.engine)
        platform = MastodonPlatform(config.platforms.mastodon, token=bot.token)
        clock = ManualClock(wrapup_time(config, occurrence) + timedelta(hours=1))
        ids = []
        for n in range(POSTS):
            status = mastodon.post(ana, f"A1 answer number {n:02} #TestChat")
            post = to_post(status, home=platform.home(), own_account_id=bot.id)
            assert isinstance(post, ArchivedPost)
            archive.save(replace(post, occurrence=occurrence.id, question=1), now=clock.now())
            ids.append(str(status["id"]))
        report = gather(
            config, occurrence, archive=archive, ledger=store, curation=curation, history=curation
        )
        files = write_exports(report, config.wrapup.folder)
        stop = threading.Event()
        log: Any = structlog.get_logger()
        curator = Curator(
            config=config,
            platform=platform,
            archive=archive,
            history=curation,
            store=curation,
            ledger=store,
            clock=clock,
            stop_event=stop,
            log=log,
            files=TranscriptFiles(
                config, archive=archive, ledger=store, curation=curation, history=curation
            ),
        )
        aftercare = Aftercare(
            config=config,
            curator=curator,
            source=platform,
            archive=archive,
            history=curation,
            clock=clock,
            stop_event=stop,
            log=log,
        )
        yield Wrapped(
            mastodon, proxy, bot, ana, config, occurrence, store, archive, clock, curator,
            aftercare, ids, files,
        )  # fmt: skip
        store.close()


def test_archived_posts_are_rechecked_20_at_a_time_and_a_deleted_one_leaves_the_files(
    wrapped: Wrapped,
) -> None:
    """Issue 12 item 12: each re-check pass costs the server one multi-status read of at
    most 20 posts (and one lookup per post missing from it); the passes go round the whole
    archive; a post deleted after the wrap-up leaves the archive and every transcript file
    on the pass that reaches it; after ``wrapup.listen`` nothing is read any more."""
    chat, log = wrapped, structlog.get_logger()
    # Deleted after the wrap-up: the second pass reaches it (ids are checked in order).
    gone = sorted(chat.ids)[30]
    chat.server.http.delete(
        f"/api/v1/statuses/{gone}", headers=chat.server.auth(chat.ana)
    ).raise_for_status()
    gone_text = next(p.text for p in chat.archive.posts(chat.occurrence.id) if p.id == gone)

    requests = []
    for _ in range(3):
        before = len(chat.proxy.log)
        chat.aftercare.recheck(chat.clock.now(), log)
        requests.append([r.path for r in chat.proxy.log[before:]])
        chat.clock.advance(minutes=5)

    # Once per process, before its first multi-status read, the platform asks whether the
    # server offers it at all: a read of the status 0, which cannot exist.
    detection = [p for p in requests[0] if p == "/api/v1/statuses?id%5B%5D=0"]
    assert len(detection) == 1, requests[0]
    requests[0].remove(detection[0])
    multi = [[p for p in paths if p.startswith("/api/v1/statuses?")] for paths in requests]
    assert [len(m) for m in multi] == [1, 1, 1]
    assert [m[0].count("id") for m in multi] == [20, 20, 5]
    assert [len(paths) for paths in requests] == [1, 2, 1]  # + the lookup of the gone one
    assert requests[1][1] == f"/api/v1/statuses/{gone}"
    assert gone not in {p.id for p in chat.archive.posts(chat.occurrence.id)}
    for path in chat.files:
        text = path.read_text(encoding="utf-8")
        assert gone_text not in text, path.suffix
        assert "A1 answer number 00" in text, path.suffix

    chat.clock.time = wrapup_time(chat.config, chat.occurrence) + chat.config.wrapup.listen
    before = len(chat.proxy.log)
    chat.aftercare.recheck(chat.clock.now(), log)
    assert chat.proxy.log[before:] == []


def test_forget_me_is_confirmed_only_once_the_files_are_written(wrapped: Wrapped) -> None:
    """Issue 12 item 12: while the files cannot be written, a "forget me" gets no reply and
    stays unread; once they can, the next reading rewrites them without the person, then
    sends the one confirmation."""
    chat, log = wrapped, structlog.get_logger()
    chat.server.post(chat.ana, f"@{chat.bot.username} forget me")
    json_file = next(f for f in chat.files if f.suffix == ".json")
    json_file.unlink()
    json_file.mkdir()  # a file that cannot be replaced: the rewrite fails

    with pytest.raises(OSError, match="Is a directory"):
        chat.curator.read_mentions(chat.occurrence, log)

    def replies() -> list[str]:
        return [
            html_to_text(s["content"])
            for s in chat.server.statuses_of(chat.bot)
            if any(m["username"] == "ana" for m in s["mentions"])
        ]

    assert replies() == []
    shutil.rmtree(json_file)
    chat.curator.read_mentions(chat.occurrence, log)

    assert len(replies()) == 1
    assert "removed from the archive and transcript" in replies()[0]
    for path in chat.files:
        assert "answer number" not in path.read_text(encoding="utf-8"), path.suffix


def test_a_stop_after_the_wrapup_unnames_the_person_in_the_series_files(
    wrapped: Wrapped,
) -> None:
    """Issue 12 item 12: a "stop" read after the wrap-up of the second occurrence of a series
    rewrites the series' files as well as the transcript: the person is named in none."""
    chat, log = wrapped, structlog.get_logger()
    curation = CurationSql(chat.store.engine)
    last_week = replace(
        chat.archive.posts(chat.occurrence.id)[0],
        id="earlier",
        occurrence="testchat/2029-12-26",
        created_at=chat.occurrence.start - timedelta(days=7),
    )
    chat.archive.save(last_week, now=chat.clock.now())
    series = gather_series(
        chat.config,
        minimum=2,
        archive=chat.archive,
        ledger=chat.store,
        curation=curation,
        history=curation,
    )
    assert series is not None
    series_files = write_series_exports(series, chat.config.wrapup.folder)
    handle = last_week.author.handle
    assert all(handle in f.read_text(encoding="utf-8") for f in series_files if f.suffix != ".csv")

    chat.server.post(chat.ana, f"@{chat.bot.username} stop")
    chat.curator.read_mentions(chat.occurrence, log)

    for path in [*chat.files, *series_files]:
        assert handle not in path.read_text(encoding="utf-8"), path.name
    assert "A1 answer number 00" in next(f for f in chat.files if f.suffix == ".md").read_text()
