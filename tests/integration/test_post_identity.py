"""Posts that change identity on the server, met by the follower's final pass (settle).

Some servers give an edited post a new id, and a lookup may answer with someone's boost of
the post asked for. mastodon_mock plays those servers through its fault rules: a rule
answers the lookup of the archived id (``GET /api/v1/statuses/:id``) with the body such a
server sends. The hashtag timeline is answered empty, so the lookup is all the follower
has. Whatever the shape, the archive holds the post once, with its latest text, and loses
it only when the server says it is gone or no longer public.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.mastodon_status import to_post
from bot.adapters.store_sql import SqlStore
from bot.core.agenda import Occurrence, PlannedPost
from bot.core.config import Follow
from bot.core.config_platforms import MastodonSettings
from bot.core.model import ArchivedPost
from bot.runtime.follower import Follower
from tests.support.clock import ManualClock
from tests.support.mastodon_server import Account, MastodonServer

TAG = "IdChat"


@dataclass
class Rig:
    server: MastodonServer
    bot: Account
    alice: Account
    bob: Account
    platform: MastodonPlatform
    archive: SqlArchive
    occurrence: Occurrence
    agenda: list[PlannedPost]

    def answer_lookup(self, post_id: str, body: Any, status: int = 200) -> None:
        """From now on the server answers ``GET /api/v1/statuses/<post_id>`` with ``body``."""
        self.server.answer(f"^/api/v1/statuses/{post_id}$", status, body)

    def archived(self, status: dict[str, Any]) -> str:
        """File a status as the follower did when it streamed in."""
        post = to_post(status, home=self.platform.home(), own_account_id=self.bot.id)
        assert isinstance(post, ArchivedPost), post
        self.archive.save(replace(post, occurrence=self.occurrence.id), now=datetime.now(UTC))
        return post.id

    def settle(self) -> None:
        """Run the follower after the chat's window: it goes straight to its final pass."""
        follower = Follower(
            source=self.platform,
            archive=self.archive,
            ledger=SqlStore(self.archive.engine),
            clock=ManualClock(datetime.now(UTC) + timedelta(minutes=1)),
            stop_event=threading.Event(),
            tag=TAG,
            settings=Follow(margin=timedelta(minutes=10)),
            after_end=timedelta(seconds=1),
            log=structlog.get_logger(),
        )
        follower.run(self.occurrence, self.agenda)

    def texts(self) -> dict[str, str]:
        return {p.id: p.text for p in self.archive.posts(self.occurrence.id)}


@pytest.fixture
def rig(mastodon: MastodonServer, tmp_path: Path) -> Iterator[Rig]:
    bot = mastodon.account("idbot", bot=True)
    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    start = datetime.now(UTC) - timedelta(minutes=2)
    occurrence = Occurrence("idchat", "2026-12-02", start, start + timedelta(seconds=30))
    intro = PlannedPost(
        key="idchat/2026-12-02/intro/mastodon",
        occurrence=occurrence.id,
        slot="intro",
        kind="intro",
        number=None,
        platform="mastodon",
        at=start,
        text=f"Welcome #{TAG}",
    )
    mastodon.answer(f"^/api/v1/timelines/tag/{TAG}$", 200, [])
    settings = MastodonSettings(instance=mastodon.base_url)
    yield Rig(
        server=mastodon,
        bot=bot,
        alice=mastodon.account("alice"),
        bob=mastodon.account("bob"),
        platform=MastodonPlatform(settings, token=bot.token),
        archive=SqlArchive(store.engine),
        occurrence=occurrence,
        agenda=[intro],
    )
    store.close()


def test_a_lookup_answering_a_new_id_replaces_the_post(rig: Rig) -> None:
    first = rig.archived(rig.server.post(rig.alice, f"A1 first draft #{TAG}"))
    # The server's edit: the same post under a new id, with the new text.
    renamed = rig.server.post(rig.alice, f"A1 final words #{TAG}")
    rig.answer_lookup(first, renamed)

    rig.settle()

    assert rig.texts() == {renamed["id"]: f"A1 final words #{TAG}"}


def test_a_lookup_answering_someones_boost_keeps_the_post_with_its_latest_text(
    rig: Rig,
) -> None:
    answer = rig.archived(rig.server.post(rig.alice, f"A1 before the edit #{TAG}"))
    rig.server.http.put(
        f"/api/v1/statuses/{answer}",
        json={"status": f"A1 after the edit #{TAG}"},
        headers=rig.server.auth(rig.alice),
    ).raise_for_status()
    boost = rig.server.http.post(
        f"/api/v1/statuses/{answer}/reblog", headers=rig.server.auth(rig.bob)
    )
    boost.raise_for_status()
    assert boost.json()["reblog"]["id"] == answer
    rig.answer_lookup(answer, boost.json())

    rig.settle()

    assert rig.texts() == {answer: f"A1 after the edit #{TAG}"}


def test_only_the_server_saying_gone_or_not_public_takes_a_post_out(rig: Rig) -> None:
    odd = rig.archived(rig.server.post(rig.alice, f"A1 kept despite an odd answer #{TAG}"))
    gone = rig.archived(rig.server.post(rig.alice, f"A1 deleted #{TAG}"))
    hidden = rig.archived(rig.server.post(rig.bob, f"A1 made private #{TAG}"))
    rig.answer_lookup(odd, {"id": odd, "content": ["not", "text"], "visibility": "public"})
    rig.answer_lookup(gone, {"error": "Record not found"}, status=404)
    hidden_now = rig.server.http.get(f"/api/v1/statuses/{hidden}").json()
    rig.answer_lookup(hidden, {**hidden_now, "visibility": "private"})

    rig.settle()

    assert list(rig.texts()) == [odd]
