"""The Heroku worker as Heroku starts it: the repository's Procfile, run by `honcho start
worker`, plays a compressed chat against a real Mastodon API server and exits cleanly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.html_text import html_to_text
from tests.support.chat_files import TWEETCHAT, log_events, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HONCHO = Path(sys.executable).with_name("honcho")


def test_the_procfile_worker_runs_a_chat_through_honcho_and_exits_cleanly(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot")
    shutil.copy(REPO / "Procfile", tmp_path / "Procfile")
    (tmp_path / "config").mkdir()
    # Capture would keep the worker up until the wrap-up; this test is about the process.
    chat = write_chat(
        tmp_path / "config" / "chat.yaml",
        instance=mastodon.base_url,
        questions=3,
        lead=3,
        sections={"follow": {"enabled": False}},
    )
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token)
    # The Procfile names `tweetchat` bare, as on Heroku, where it is on the PATH.
    env["PATH"] = f"{TWEETCHAT.parent}{os.pathsep}{env.get('PATH', '')}"

    result = subprocess.run(
        [str(HONCHO), "start", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("worker.1 started" in line for line in lines), result.stdout
    assert any("worker.1 stopped (rc=0)" in line for line in lines), result.stdout
    # honcho prefixes each line of the worker's output with its time and name.
    events = log_events("\n".join(line.partition("| ")[2] for line in lines))
    published = [e["slot"] for e in events if e["event"] == "post.published"]
    assert published == [post.slot for post in chat.agenda]
    assert [html_to_text(s["content"]) for s in mastodon.statuses_of(bot)] == chat.texts
