"""Approve mode on Bluesky, where the bot writes to no one privately: the hosts approve in
their console.

`tweetchat run` hosts a compressed chat on the local AT Protocol network with
``boost.mode: approve`` while the hosts' console serves its JSON API over the worker's
database. People answer Q1; the console shows their answers as awaiting approval and the
PDS holds no repost; a host approves one through the console's API, and the PDS then holds
exactly that repost by the bot, whatever else happens: the same approval again, a host's
boost of someone who keeps to logged-in viewers (refused), the rest of the chat.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters.bluesky_ids import post_id
from tests.support.bluesky_network import Account, BlueskyNetwork
from tests.support.chat_files import ChatFile, RunningBot, tweetchat_env, write_chat
from tests.support.console import ServedConsole, serving_console, wait_for

pytestmark = pytest.mark.slow

SPACING = 20.0  # seconds from the intro to Q1, and from Q1 to the closing
PASSWORD_ENV = "BLUESKY_APP_PASSWORD"


def _chat(tmp_path: Path, network: BlueskyNetwork, bot: Account, tag: str) -> ChatFile:
    return write_chat(
        tmp_path / "chat.yaml",
        instance=network.pds,
        questions=1,
        spacing=SPACING,
        lead=6,
        chat_id="approvechat",
        hashtag=tag,
        platforms={"bluesky": {"service": network.pds, "handle": bot.handle}},
        sections={
            # A host to write to, were the bot to write privately: it must not try.
            "chat": {"hosts": ["@ana@example.social"]},
            "wrapup": {"after": "3s", "folder": str(tmp_path / "out")},
            "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
            "boost": {"mode": "approve", "tick": "1s", "min_interval": "1s"},
        },
    )


def _reposted(network: BlueskyNetwork, bot: Account) -> list[str]:
    """The posts the bot's repository holds a repost of (at:// addresses)."""
    return [r["value"]["subject"]["uri"] for r in network.records(bot.did, "app.bsky.feed.repost")]


def _command(console: ServedConsole, api: httpx.Client, post: str) -> dict[str, Any]:
    """A host's boost of ``post`` through the console's API, once the worker settled it."""
    answer = api.post(
        f"/api/occurrences/{console.occurrence}/commands",
        json={"kind": "boost", "platform": "bluesky", "post_id": post},
    )
    assert answer.status_code == 202, answer.text
    number = answer.json()["id"]

    def settled() -> dict[str, Any] | None:
        commands = _state(console, api)["commands"]
        found = next(c for c in commands if c["id"] == number)
        return None if found["state"] == "pending" else dict(found)

    settled_command: dict[str, Any] = wait_for(settled, timeout=30, what=f"command {number}")
    return settled_command


def _state(console: ServedConsole, api: httpx.Client) -> dict[str, Any]:
    answer = api.get(f"/api/occurrences/{console.occurrence}")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


def test_approve_mode_on_bluesky_reposts_only_what_a_host_approves_in_the_console(
    bluesky: BlueskyNetwork, tmp_path: Path
) -> None:
    bot = bluesky.create_account("approver")
    people = {
        "alice": bluesky.create_account("alice"),
        "bob": bluesky.create_account("bob"),
        "frank": bluesky.create_account("frank", labels=["!no-unauthenticated"]),
    }
    tag = "#ApproveSky" + "".join(random.choices("ABCDEFGH", k=4))
    chat = _chat(tmp_path, bluesky, bot, tag)
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=None, **{PASSWORD_ENV: bot.password})

    with RunningBot(chat.path, env=env) as running, serving_console(chat, database) as console:
        api = console.api()
        bluesky.wait_for(
            lambda: next(
                (
                    r
                    for r in bluesky.records(bot.did, "app.bsky.feed.post")
                    if r["value"]["text"].startswith("Q1")
                ),
                None,
            ),
            what="Q1 on the PDS",
            timeout=60,
        )
        uris = {
            name: bluesky.create_post(account, f"A1 {name}'s answer {tag}")["uri"]
            for name, account in people.items()
        }
        answers = {name: post_id(uri) for name, uri in uris.items()}

        def offered() -> dict[str, dict[str, Any]] | None:
            state = _state(console, api)
            shown = {c["post_id"]: c for c in state["candidates"] if c["state"] == "offered"}
            wanted = {answers["alice"], answers["bob"]}
            return shown if state["current_question"] == 1 and wanted <= set(shown) else None

        candidates = wait_for(offered, timeout=40, what="Q1's answers awaiting approval")
        assert answers["frank"] not in candidates  # never a candidate: hidden from the bot
        assert _reposted(bluesky, bot) == []  # nothing before a host approves
        page = console.page(f"/chat/{chat.config.chat.id}")
        assert page.text.count("awaiting approval") >= 2, page.text

        approved = _command(console, api, answers["alice"])
        assert approved["state"] == "done", approved
        assert _reposted(bluesky, bot) == [uris["alice"]]

        again = _command(console, api, answers["alice"])
        assert again["state"] == "done", again
        assert again["reason"] == "boosted already"
        withheld = _command(console, api, answers["frank"])
        assert withheld["state"] == "refused", withheld
        assert _reposted(bluesky, bot) == [uris["alice"]]

        code = running.wait(timeout=SPACING + 90)
        assert code == 0, running.output

    # The rest of the chat, the wrap-up included, reposted nothing else.
    assert _reposted(bluesky, bot) == [uris["alice"]]
    events = running.events
    told = [e for e in events if e["event"] == "boost.approve_in_console"]
    assert [e["platform"] for e in told] == ["bluesky"]
    assert not [e for e in events if e["event"] == "curate.action_failed"], running.output
    assert not [e for e in events if e.get("level") in ("error", "critical")], running.output
    # No message to the hosts was attempted: the bot's posts are the agenda and the wrap-up.
    texts = [r["value"]["text"] for r in bluesky.records(bot.did, "app.bsky.feed.post")]
    assert not [t for t in texts if "@ana" in t], texts
