"""The hosts' commands are carried out once, whatever happens to the workers: `tweetchat run`
on a real Mastodon API server is SIGKILLed between claiming a command's ledger key and
recording it, and the next worker finishes the command without doing it twice; two workers
sharing a database carry each command out once between them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.commands_sql import HostCommandsSql
from bot.adapters.store_sql import SqlStore
from bot.core.steering import HostCommand
from tests.support.chat_files import ChatFile, RunningBot, tweetchat_env, write_chat
from tests.support.console import wait_for
from tests.support.mastodon_server import Account, MastodonServer

pytestmark = pytest.mark.slow

# Long enough for a worker to be killed while the server sits on its request.
STALL_MS = 6000


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def compressed_chat(tmp_path: Path, mastodon: MastodonServer) -> ChatFile:
    return write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        lead=2,
        chat_id="cmdchat",
        hashtag="#CmdChat",
        posts={
            "questions": [{"at": "1s", "text": "What works?"}, {"at": "60s", "text": "Why?"}],
            "closing": {"at": "61s", "text": "Thanks, {hashtag}!"},
        },
        sections={
            "chat": {"duration": "62s"},
            "follow": {"margin": "5s"},
            "boost": {"mode": "off"},
            "wrapup": {"after": "1s"},
        },
    )


def stall(mastodon: MastodonServer, path_regex: str) -> None:
    """The server's next matching request waits before it is answered."""
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["POST"], "path_regex": path_regex},
            "effect": {"type": "latency", "delay_ms": STALL_MS},
            "count": 1,
        },
    ).raise_for_status()


def command(chat: ChatFile, kind: str, **fields: Any) -> HostCommand:
    return HostCommand(
        id=0,
        occurrence=chat.occurrence.id,
        kind=kind,  # type: ignore[arg-type]
        by="Ana",
        created_at=datetime.now(UTC),
        **fields,
    )


def state_of(commands: HostCommandsSql, chat: ChatFile, command_id: int) -> HostCommand | None:
    found = [c for c in commands.commands(chat.occurrence.id) if c.id == command_id]
    return found[0] if found and found[0].state != "pending" else None


def answer_captured(mastodon: MastodonServer, store: SqlStore, author: Account) -> str:
    status_id = str(mastodon.post(author, "A1 this is mine #CmdChat")["id"])
    archive = SqlArchive(store.engine)
    wait_for(lambda: archive.get("mastodon", status_id), timeout=15, what="the answer captured")
    return status_id


def test_a_boost_and_a_host_post_survive_a_sigkill_between_claim_and_record(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot", bot=True)
    ana = mastodon.account("ana")
    chat = compressed_chat(tmp_path, mastodon)
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=bot.token, TWEETCHAT_LEASE_TTL="2s")
    q1 = next(p for p in chat.agenda if p.slot == "q1")
    host_text = "Hosts here: half time, keep the answers coming #CmdChat"

    with RunningBot(chat.path, env=env) as first:
        wait_until(q1.at)
        store = SqlStore.from_url(f"sqlite:///{database}")
        commands = HostCommandsSql(store.engine)
        status_id = answer_captured(mastodon, store, ana)
        stall(mastodon, r"^/api/v1/statuses/[^/]+/reblog$")
        boost = commands.add(command(chat, "boost", platform="mastodon", post_id=status_id))
        boost_key = f"{chat.occurrence.id}/boost/mastodon/{status_id}"
        wait_for(lambda: store.get(boost_key), timeout=10, what="the boost claimed")
        first.kill()
    assert store.get(boost_key).state == "claimed"  # type: ignore[union-attr]

    with RunningBot(chat.path, env=env) as second:
        wait_for(lambda: state_of(commands, chat, boost.id), timeout=20, what="the boost done")
        stall(mastodon, r"^/api/v1/statuses$")
        host = commands.add(command(chat, "host_post", text=host_text))
        host_key = f"{chat.occurrence.id}/host-{host.id}/mastodon"
        wait_for(lambda: store.get(host_key), timeout=10, what="the host post claimed")
        second.kill()
    assert store.get(host_key).state == "claimed"  # type: ignore[union-attr]

    with RunningBot(chat.path, env=env) as third:
        wait_for(lambda: state_of(commands, chat, host.id), timeout=20, what="the post done")
        third.kill()
    output = first.output + second.output + third.output

    statuses = mastodon.statuses_of(bot)
    boosts = [s for s in statuses if s["reblog"] and s["reblog"]["id"] == status_id]
    hosts = [s for s in statuses if "half time" in s["content"]]
    assert len(boosts) == 1, output
    assert len(hosts) == 1, output
    q1_status = next(s for s in statuses if "What works?" in s["content"])
    assert hosts[0]["in_reply_to_id"] == q1_status["id"]  # into the chat's thread
    done = {c.id: c for c in commands.commands(chat.occurrence.id)}
    assert (done[boost.id].state, done[host.id].state) == ("done", "done")
    assert done[host.id].url == hosts[0]["url"]
    assert store.get(boost_key).state == store.get(host_key).state == "done"  # type: ignore[union-attr]
    store.close()


def test_two_workers_carry_each_command_out_once(tmp_path: Path, mastodon: MastodonServer) -> None:
    bot = mastodon.account("chatbot", bot=True)
    ana = mastodon.account("ana")
    chat = compressed_chat(tmp_path, mastodon)
    database = tmp_path / "store.sqlite3"
    q1 = next(p for p in chat.agenda if p.slot == "q1")
    envs = [
        tweetchat_env(database=database, token=bot.token, TWEETCHAT_WORKER_ID=f"worker-{n}")
        for n in (1, 2)
    ]
    with RunningBot(chat.path, env=envs[0]) as one, RunningBot(chat.path, env=envs[1]) as two:
        wait_until(q1.at)
        store = SqlStore.from_url(f"sqlite:///{database}")
        commands = HostCommandsSql(store.engine)
        status_id = answer_captured(mastodon, store, ana)
        issued = [
            commands.add(command(chat, "boost", platform="mastodon", post_id=status_id)),
            commands.add(command(chat, "host_post", text="One host message #CmdChat")),
            commands.add(command(chat, "shift", minutes=0.05)),
        ]
        for c in issued:
            wait_for(partial(state_of, commands, chat, c.id), timeout=15, what="done")
        boosted = [s for s in mastodon.statuses_of(bot) if s["reblog"]]
        # Then the boost is taken back, and stays so: boosting it again is refused.
        issued.append(
            commands.add(command(chat, "unboost", platform="mastodon", post_id=status_id))
        )
        wait_for(partial(state_of, commands, chat, issued[-1].id), timeout=15, what="undone")
        again = commands.add(command(chat, "boost", platform="mastodon", post_id=status_id))
        wait_for(partial(state_of, commands, chat, again.id), timeout=15, what="refused")
        one.kill()
        two.kill()
        output = one.output + two.output

    statuses = mastodon.statuses_of(bot)
    assert [s["reblog"]["id"] for s in boosted] == [status_id]
    assert [s for s in statuses if s["reblog"]] == []
    assert len([s for s in statuses if "One host message" in s["content"]]) == 1
    finished = [e for e in one.events + two.events if e["event"] == "console.command_done"]
    assert sorted(e["command"] for e in finished) == [c.id for c in issued], output
    assert [(c.state, c.reason) for c in commands.commands(chat.occurrence.id)] == [
        ("done", None),
        ("done", None),
        ("done", None),
        ("done", None),
        ("refused", "a host took its boost back: it stays un-boosted"),
    ]
    store.close()
