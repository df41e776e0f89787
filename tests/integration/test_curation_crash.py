"""Boosting survives SIGKILL: `tweetchat run` (follower and curator for real) boosts a
compressed chat on a real Mastodon API server, is killed right after its first boost and
restarted; the boosts equal the rules' choice, once each, within the caps and the interval.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot.adapters.store_curation import CurationSql
from bot.adapters.store_sql import SqlStore
from tests.support.chat_files import ChatFile, RunningBot, tweetchat_env, write_chat
from tests.support.mastodon_server import Account, MastodonServer

pytestmark = pytest.mark.slow

SPACING = 12.0  # seconds per question: caps of 2 are paced at 1/3 and 2/3 of it
# The killed worker's lease must run out before the restarted one may act.
LEASE_TTL = "2s"


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(moment.tzinfo)).total_seconds()))


def answer(
    mastodon: MastodonServer, author: Account, text: str, fans: list[Account], favourites: int
) -> str:
    status = mastodon.post(author, f"{text} #BoostChat")
    for fan in fans[:favourites]:
        mastodon.http.post(
            f"/api/v1/statuses/{status['id']}/favourite", headers=mastodon.auth(fan)
        ).raise_for_status()
    return str(status["id"])


def test_boosts_survive_a_sigkill_and_restart(tmp_path: Path, mastodon: MastodonServer) -> None:
    bot = mastodon.account("chatbot", bot=True)
    people = {n: mastodon.account(n) for n in ("ana", "ben", "cat", "dan", "eve")}
    people["nobot"] = mastodon.account("nobot", note="Please, #NoBot")
    fans = [mastodon.account(f"fan{n}") for n in range(10)]
    chat: ChatFile = write_chat(
        tmp_path / "chat.yaml",
        instance=mastodon.base_url,
        questions=2,
        spacing=SPACING,
        lead=2,
        chat_id="boostchat",
        hashtag="#BoostChat",
        # Q1 soon after the intro, and the closing right after Q2's window: a short chat.
        posts={
            "questions": [
                {"at": "1s", "text": "What works?"},
                {"at": f"{1 + SPACING:g}s", "text": "What does not?"},
            ],
            "closing": {"at": f"{1 + 2 * SPACING:g}s", "text": "Thanks, {hashtag}!"},
        },
        sections={
            "chat": {"duration": f"{2 + 2 * SPACING:g}s"},
            "follow": {"margin": "5s"},
            "boost": {
                "mode": "auto",
                "max_per_question": 2,
                "max_per_author": 1,
                "min_interval": "1s",
                "tick": "1s",
            },
            "wrapup": {"after": "1s"},
        },
    )
    database = tmp_path / "store.sqlite3"
    env = tweetchat_env(database=database, token=bot.token, TWEETCHAT_LEASE_TTL=LEASE_TTL)
    q1, q2 = (next(p.at for p in chat.agenda if p.slot == s) for s in ("q1", "q2"))

    ids: dict[str, str] = {}
    with RunningBot(chat.path, env=env) as first:
        wait_until(q1)
        for name, favourites in (("nobot", 9), ("ana", 5), ("ben", 3), ("cat", 1)):
            ids[f"{name}1"] = answer(mastodon, people[name], f"A1 {name} here", fans, favourites)
        assert first.wait_for_event("boost.done", timeout=SPACING) is not None, first.output
        first.kill()
    with RunningBot(chat.path, env=env) as second:
        wait_until(q2)
        for name, favourites in (("ana", 6), ("dan", 4), ("eve", 2), ("cat", 0)):
            ids[f"{name}2"] = answer(mastodon, people[name], f"A2 {name} again", fans, favourites)
        code = second.wait(timeout=4 * SPACING + 30)
        output = first.output + second.output
    assert code == 0, output

    # ana and ben lead Q1 (nobot is out); in Q2 ana has had her boost, so dan and eve.
    boosted = [s["reblog"]["id"] for s in mastodon.statuses_of(bot) if s["reblog"]]
    assert sorted(boosted) == sorted(ids[k] for k in ("ana1", "ben1", "dan2", "eve2")), output

    store = SqlStore.from_url(f"sqlite:///{database}")
    try:
        entries = [e for e in store.entries(chat.occurrence.id) if "/boost/" in e.key]
        decisions = CurationSql(store.engine).decisions(chat.occurrence.id)
    finally:
        store.close()
    assert sorted(e.key.rsplit("/", 1)[-1] for e in entries) == sorted(boosted)
    assert {e.state for e in entries} == {"done"}
    times = sorted(e.claimed_at for e in entries)
    assert all((b - a).total_seconds() >= 1 for a, b in itertools.pairwise(times)), times
    by_post = {d.post_id: d for d in decisions}
    assert [by_post[ids[k]].question for k in ("ana1", "ben1", "dan2", "eve2")] == [1, 1, 2, 2]
    assert (by_post[ids["nobot1"]].state, by_post[ids["nobot1"]].rule) == ("rejected", "nobot")
