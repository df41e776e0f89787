"""A host's boost from the console is checked as an approval by message is: the post read
again from its server, then the hard rules of consent and safety, which no host overrules,
even for a post the curator never got to assess. On a real Mastodon API server
(mastodon_mock), through the worker's own wiring of the hosts' commands."""

from __future__ import annotations

import threading
from pathlib import Path

import structlog

from bot.adapters.commands_sql import HostCommandsSql
from bot.core.steering import HostCommand
from bot.runtime.curator_approve import UNAVAILABLE
from bot.runtime.publisher import PostPublisher
from bot.wiring import host_commands_for
from tests.integration.test_curation_mastodon import make_chat
from tests.support.mastodon_server import MastodonServer


def test_a_hosts_boost_is_refused_when_the_author_said_nobot_or_the_post_is_gone(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    chat = make_chat(tmp_path, mastodon, {"mode": "approve"})
    chat.person("ana")
    chat.person("nobody", note="Nurse. Please, #NoBot")
    gone = chat.person("gone")
    chat.clock.time = chat.windows[1].start
    fine = chat.say("ana", "A1 ana's answer", question=1)
    nobot = chat.say("nobody", "A1 an answer by someone who said no bots", question=1)
    deleted = chat.say("gone", "A1 soon deleted", question=1)
    mastodon.http.delete(
        f"/api/v1/statuses/{deleted}", headers=mastodon.auth(gone)
    ).raise_for_status()

    stop = threading.Event()
    publisher = PostPublisher(
        ledger=chat.store,
        platforms={"mastodon": chat.platform},
        clock=chat.clock,
        grace=chat.file.config.posts.grace,
        stop_event=stop,
        log=structlog.get_logger(),
    )
    steering, task = host_commands_for(
        chat.file.config,
        {"mastodon": chat.platform},
        publisher=publisher,
        archive=chat.archive,
        store=chat.store,
        clock=chat.clock,
        stop_event=stop,
        ownership=None,
    )
    occurrence = chat.file.occurrence
    steering.begin(occurrence, chat.file.agenda)
    commands = HostCommandsSql(chat.store.engine)

    def boost(post_id: str) -> tuple[str, str | None]:
        command = commands.add(
            HostCommand(
                0,
                occurrence.id,
                "boost",
                "Ana",
                chat.clock.now(),
                platform="mastodon",
                post_id=post_id,
            )
        )
        task.tick(occurrence)
        done = next(c for c in commands.commands(occurrence.id) if c.id == command.id)
        return done.state, done.reason

    # No curator has ticked: nothing about these posts is stored, the check reads them now.
    assert chat.curation.decisions(occurrence.id) == []
    assert boost(nobot) == (
        "refused",
        "refused by the rule nobot: the author's profile says #nobot",
    )
    assert boost(deleted) == ("refused", UNAVAILABLE)
    assert chat.boosted() == []

    assert boost(fine) == ("done", None)
    chat.clock.advance(seconds=5)
    assert boost(fine) == ("done", "boosted already")
    assert chat.boosted() == [fine]
