"""The bot survives SIGKILL at any moment: every planned post exactly once, threaded, in order.

`tweetchat run` plays a compressed chat against a real Mastodon API server (behind the
fault proxy) and is killed at random moments, restarted each time, then left to finish.
One kill is placed deterministically between post and record: the proxy holds the server's
answer back, so the status exists while the bot still waits to record it.

The random moments come from a seed printed at the start (shown by pytest on failure) and
named in every assertion; rerun one with TWEETCHAT_CRASH_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.store_sql import SqlStore
from bot.core.html_text import html_to_text
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import Slow
from tests.support.chat_files import ChatFile, RunningBot, log_events, tweetchat_env, write_chat
from tests.support.mastodon_server import Account, MastodonServer

pytestmark = pytest.mark.slow

QUESTIONS = 6
SPACING = 2.0  # seconds between posts: the chat lasts 14 s
RANDOM_KILLS = 10
# How long after the bot's start (its occurrence.start line) a random kill may come.
MAX_KILL_DELAY = 1.2
# How long the proxy sits on the server's answer to the deterministic kill's post.
HOLD = 3.0
STATUSES = "/api/v1/statuses"


class Crashes:
    """Starts and kills the bot, keeping every run's output and a readable history."""

    def __init__(
        self,
        chat: ChatFile,
        env: dict[str, str],
        mastodon: MastodonServer,
        bot: Account,
        *,
        seed: int,
    ) -> None:
        self.seed = seed
        self.chat = chat
        self.env = env
        self.mastodon = mastodon
        self.bot = bot
        self.outputs: list[str] = []
        self.history: list[str] = []
        # The codes of the runs that ended by themselves, the final one included.
        self.exit_codes: list[int] = []

    def statuses(self) -> list[dict[str, Any]]:
        return self.mastodon.statuses_of(self.bot)

    def kill_at_random(self, rng: random.Random) -> None:
        delay = rng.uniform(0, MAX_KILL_DELAY)
        with RunningBot(self.chat.path, env=self.env) as running:
            if running.wait_for_event("occurrence.start") is None:
                self.exit_codes.append(running.process.returncode)
                self.history.append(f"exited before a kill (code {running.process.returncode})")
            else:
                time.sleep(delay)
                running.kill()
                self.history.append(f"SIGKILL {delay:.2f} s after start: {self._done(running)}")
        self.outputs.append(running.output)

    def kill_between_post_and_record(self, proxy: FaultProxy, ledger: SqlStore) -> tuple[str, str]:
        """Kill while the next post exists on the server but not in the ledger.

        Returns the post's key and the id of the status the server holds for it.
        """
        before = len(self.statuses())
        proxy.inject(Slow(HOLD), path_prefix=STATUSES)
        with RunningBot(self.chat.path, env=self.env) as running:
            deadline = time.monotonic() + 3 * SPACING + 10
            while len(statuses := self.statuses()) == before:
                assert running.process.poll() is None, f"the bot ended:\n{running.output}"
                assert time.monotonic() < deadline, "no post came for the held kill"
                time.sleep(0.02)
            running.kill()
        self.outputs.append(running.output)
        posted = statuses[-1]
        key = next(p.key for p in self.chat.agenda if p.text == html_to_text(posted["content"]))
        entry = ledger.get(key)
        self.history.append(
            f"SIGKILL with {key} on the server ({posted['id']}) and "
            f"{entry.state if entry else 'absent'} in the ledger"
        )
        assert entry is not None
        assert entry.state == "claimed", self.report()
        return key, str(posted["id"])

    def finish(self) -> None:
        with RunningBot(self.chat.path, env=self.env) as running:
            try:
                code = running.wait(timeout=QUESTIONS * SPACING + 30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the final run did not end:\n{self.report()}\n{running.output}")
        self.outputs.append(running.output)
        self.exit_codes.append(code)
        self.history.append(f"final run exited {code}: {self._done(running)}")

    @staticmethod
    def _done(running: RunningBot) -> str:
        done = [
            f"{e['event'].removeprefix('post.')} {e['slot']}"
            for e in running.events
            if e["event"] in ("post.published", "post.recovered", "post.missed")
        ]
        return ", ".join(done) or "nothing posted"

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for out in self.outputs for e in log_events(out) if e["event"] == name]

    def report(self) -> str:
        return "\n".join([f"seed {self.seed}", *self.history])


def test_sigkill_at_random_moments_loses_and_repeats_nothing(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    seed = int(os.environ.get("TWEETCHAT_CRASH_SEED") or random.randrange(2**32))
    print(f"crash test seed {seed}: rerun with TWEETCHAT_CRASH_SEED={seed}")
    rng = random.Random(seed)
    bot = mastodon.account("chatbot")
    with FaultProxy(mastodon.base_url) as proxy:
        chat = write_chat(
            tmp_path / "chat.yaml",
            instance=proxy.base_url,
            questions=QUESTIONS,
            spacing=SPACING,
            lead=2,
            chat_id="crashchat",
            hashtag="#CrashChat",
        )
        database = tmp_path / "ledger.sqlite3"
        # A killed worker keeps its lease until it lapses; a short one keeps restarts quick.
        env = tweetchat_env(database=database, token=bot.token, TWEETCHAT_LEASE_TTL="1s")
        crashes = Crashes(chat, env, mastodon, bot, seed=seed)
        ledger = SqlStore.from_url(f"sqlite:///{database}")
        try:
            # Early enough that posts are still to come, late enough to follow other kills.
            held_at = rng.randrange(1, 4)
            held = ("", "")
            for n in range(RANDOM_KILLS + 1):
                if n == held_at:
                    held = crashes.kill_between_post_and_record(proxy, ledger)
                else:
                    crashes.kill_at_random(rng)
            crashes.finish()
            entries = ledger.entries(chat.occurrence.id)
        finally:
            ledger.close()

    report = crashes.report()
    print(report)
    statuses = crashes.statuses()
    assert set(crashes.exit_codes) == {0}, report
    assert not [out for out in crashes.outputs if "Traceback" in out], report
    assert [html_to_text(s["content"]) for s in statuses] == chat.texts, report
    assert [s["in_reply_to_id"] for s in statuses] == [None] + [s["id"] for s in statuses[:-1]], (
        report
    )
    assert [(e.key, e.state, e.remote_id) for e in entries] == [
        (post.key, "done", status["id"]) for post, status in zip(chat.agenda, statuses, strict=True)
    ], report
    # The status made before the kill is the one recorded: found again, not posted again.
    assert held in [(e.key, e.remote_id) for e in entries], report
    assert crashes.events("post.error") == [], report
