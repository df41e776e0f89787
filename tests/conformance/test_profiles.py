"""One compressed chat, the same on every server profile (issue 11's conformance suite).

`tweetchat run` plays the agenda and is SIGKILLed right after its first boost in Q1, then
restarted; people answer with and without the hashtag, one edits an answer, one deletes a
post, answers are boosted, and the wrap-up goes out. On every profile: every agenda post once, in
order, threaded; every public post captured (the edit's latest text, the deleted one gone);
at least one boost; the wrap-up posted; the stream of the kind the server offers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.bootstrap import open_store
from bot.core.html_text import html_to_text
from tests.conformance.profiles import PROFILES, Profile
from tests.e2e.test_doctor_servers import what_the_server_holds
from tests.e2e.test_operations import table_rows
from tests.fakes.server_shapes import from_hex
from tests.support.chat_files import (
    RunningBot,
    log_events,
    published,
    run_tweetchat,
    tweetchat_env,
    write_chat,
)
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "ConfChat"
SPACING = 3.0  # seconds between the agenda's posts
# Polled, a post comes in up to poll_interval (3 s) late: its question's window must still
# be open for the curator then.
POLLED_SPACING = 6.0
# The killed worker's lease must lapse before the restarted one may act.
LEASE_TTL = "1s"
WRAPUP = "Thank you all for joining"


def edit(mastodon: MastodonServer, who: Any, status: dict[str, Any], text: str) -> None:
    mastodon.http.put(
        f"/api/v1/statuses/{status['id']}", json={"status": text}, headers=mastodon.auth(who)
    ).raise_for_status()


def delete(mastodon: MastodonServer, who: Any, status: dict[str, Any]) -> None:
    mastodon.http.delete(
        f"/api/v1/statuses/{status['id']}", headers=mastodon.auth(who)
    ).raise_for_status()


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_the_same_chat_runs_on_every_server_profile(
    profile: Profile, mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("confbot", bot=True)
    ana, ben, cat = (mastodon.account(n) for n in ("ana", "ben", "cat"))
    out = tmp_path / "out"
    spacing = POLLED_SPACING if profile.stream == "polling" else SPACING
    with profile.serve(mastodon) as instance:
        chat = write_chat(
            tmp_path / "chat.yaml",
            instance=instance,
            questions=2,
            spacing=spacing,
            lead=2,
            chat_id="confchat",
            hashtag=f"#{TAG}",
            sections={
                "follow": {"margin": "5s", "poll_interval": "3s", "replies_interval": "5s"},
                # A guest's answers go out at once, outside the paced caps, once re-read.
                "boost": {"mode": "auto", "tick": "1s", "min_interval": "1s", "always": ["@ana"]},
                "wrapup": {"after": "1s", "folder": str(out)},
            },
        )
        env = tweetchat_env(
            database=tmp_path / "store.sqlite3", token=bot.token, TWEETCHAT_LEASE_TTL=LEASE_TTL
        )
        with RunningBot(chat.path, env=env) as first:
            q1 = published(first, "q1")
            tagged = mastodon.post(ana, f"A1 paper surveys in the waiting room #{TAG}")
            # People post on the server itself: the id the bot was given, in the server's form.
            q1_id = from_hex(q1["remote_id"]) if profile.shape else q1["remote_id"]
            mastodon.post(ben, "comment cards, untagged", in_reply_to_id=q1_id)
            gone = mastodon.post(cat, f"A1 oops, wrong chat #{TAG}")
            # A hard crash once the guest's answer is boosted (the stream or a poll brought
            # it in): the restarted run must neither repeat the boost nor lose a post.
            assert first.wait_for_event("boost.done", timeout=2 * spacing), first.output
            first.kill()
        with RunningBot(chat.path, env=env) as second:
            published(second, "q2")
            edit(mastodon, ana, tagged, f"A1 paper surveys and QR codes #{TAG}")
            delete(mastodon, cat, gone)
            mastodon.post(cat, f"A2 a named lead reads them #{TAG}")
            code = second.wait(timeout=60)
        output = first.output + second.output
    assert code == 0, output

    statuses = mastodon.statuses_of(bot)
    agenda = [s for s in statuses if not s["reblog"] and html_to_text(s["content"]) in chat.texts]
    assert [html_to_text(s["content"]) for s in agenda] == chat.texts, output
    assert [s["in_reply_to_id"] for s in agenda] == [None] + [s["id"] for s in agenda[:-1]]
    boosted = [s["reblog"]["id"] for s in statuses if s["reblog"]]
    # At least the one the first run made before its crash, and none twice. (Which ones:
    # on servers without the multi-status read, a 1 s tick re-reads one post at a time.)
    assert boosted, output
    assert len(boosted) == len(set(boosted)), output
    assert [s for s in statuses if html_to_text(s["content"]).startswith(WRAPUP)], output

    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        archived = SqlArchive(store.engine).posts(chat.occurrence.id)
    finally:
        store.close()
    captured = sorted(p.text for p in archived if not p.is_own)
    assert captured == sorted(
        [
            f"A1 paper surveys and QR codes #{TAG}",
            "comment cards, untagged",
            f"A2 a named lead reads them #{TAG}",
        ]
    ), output
    assert (out / f"confchat-{chat.occurrence.date}.html").exists()

    events = log_events(output)
    announced = [str(e["capability"]) for e in events if e["event"] == "server.fallback"]
    for capability in profile.fallbacks:
        assert any(capability in a for a in announced), (capability, announced)
    if profile.stream == "sse":
        assert not any("streaming" in a for a in announced), announced
    else:
        kinds = {e["instead"] for e in events if e.get("capability") == "streaming"}
        assert kinds == {profile.stream}, output
    assert not [e for e in events if e["event"] == "follow.error"], output


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_the_doctor_writes_nothing_and_names_the_stream_on_every_server_profile(
    profile: Profile, mastodon: MastodonServer, tmp_path: Path
) -> None:
    bot = mastodon.account("confbot", bot=True)
    mastodon.post(mastodon.account("ana"), f"Hello #{TAG}")
    with profile.serve(mastodon) as instance:
        chat = write_chat(tmp_path / "chat.yaml", instance=instance)
        env = tweetchat_env(database=tmp_path / "store.sqlite3", token=bot.token)
        assert run_tweetchat("db", "upgrade", env=env).returncode == 0
        before = what_the_server_holds(mastodon, bot)
        result = run_tweetchat("doctor", str(chat.path), env=env)
        after = what_the_server_holds(mastodon, bot)
    output = result.stdout + result.stderr

    assert after == before
    assert result.returncode == 0, output
    streaming = table_rows(result.stdout)[("mastodon", "streaming")][1]
    differs = result.stdout.rstrip().rsplit("\n\n", 1)[-1]
    if profile.stream == "sse":
        assert streaming.startswith("SSE"), output
        assert "streaming:" not in differs, output
    else:
        assert streaming.startswith("SSE not offered"), output
        kind = "WebSocket streaming API" if profile.stream == "websocket" else "polled"
        assert kind in streaming, output
        assert f"- streaming: SSE not offered; {_kind_line(profile)}" in differs, output
    assert bot.token not in output


def _kind_line(profile: Profile) -> str:
    if profile.stream == "websocket":
        return "the WebSocket streaming API (/api/v1/streaming) instead"
    return "the hashtag timeline is polled instead"
