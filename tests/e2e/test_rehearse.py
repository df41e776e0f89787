"""`tweetchat rehearse`: the whole chat, now, time compressed, printed and sent nowhere."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.bootstrap import load_config, next_plan
from tests.support.chat_files import TWEETCHAT, tweetchat_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
SPEED = 1800
LONDON = ZoneInfo("Europe/London")
_HEAD = re.compile(
    r"^\[(\d\d):(\d\d):(\d\d) \w+\] mastodon (console-\d+)(?: \(reply to (console-\d+)\))?$"
)


@dataclass(frozen=True)
class Shown:
    """One post as the rehearsal printed it, and when the line reached us."""

    stamp: timedelta  # the [HH:MM:SS] of the line, as time of day
    remote_id: str
    reply_to: str | None
    text: str
    arrived: float  # time.monotonic()
    arrived_wall: datetime


def _rehearse(tmp_path: Path) -> tuple[int, list[str], list[Shown]]:
    env = tweetchat_env(database=tmp_path / "ledger.sqlite3", token=None)
    process = subprocess.Popen(
        [str(TWEETCHAT), "rehearse", str(EXAMPLE), "--speed", str(SPEED)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    lines: list[str] = []
    shown: list[Shown] = []
    head: tuple[re.Match[str], float, datetime] | None = None
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            arrived, arrived_wall = time.monotonic(), datetime.now(LONDON)
            line = raw.rstrip("\n")
            lines.append(line)
            match = _HEAD.match(line)
            if match:
                head = (match, arrived, arrived_wall)
            elif head is not None and line.startswith("    "):
                m, at, wall = head
                h, mi, s = (int(g) for g in m.group(1, 2, 3))
                stamp = timedelta(hours=h, minutes=mi, seconds=s)
                shown.append(Shown(stamp, m.group(4), m.group(5), line.strip(), at, wall))
                head = None
        returncode = process.wait()
    finally:
        watchdog.cancel()
    return returncode, lines, shown


def test_rehearse_shows_every_post_at_its_compressed_time(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    _, agenda = next_plan(config, datetime.now(LONDON))

    returncode, lines, shown = _rehearse(tmp_path)

    assert returncode == 0, "\n".join(lines)
    assert "Nothing is sent anywhere." in lines[0]
    assert lines[-1] == "Rehearsal finished."
    # Every post, in order: reminders, intro, Q1..Q6, closing.
    assert [s.text for s in shown] == [post.text for post in agenda]
    assert [post.slot for post in agenda] == [
        "reminder-1d",
        "reminder-1h",
        "intro",
        *(f"q{n}" for n in range(1, 7)),
        "closing",
    ]
    assert [s.text.split(":")[0] for s in shown[3:9]] == [f"Q{n}" for n in range(1, 7)]
    # One thread: each question replies to the post before it, from the intro on.
    chat = shown[2:]
    assert [s.reply_to for s in chat] == [None, *(s.remote_id for s in chat[:-1])]

    # Gaps as the chat file says, SPEED times shorter (e.g. 8 minutes -> 0.27 s).
    chat_agenda = agenda[2:]
    for post, seen in zip(chat_agenda, chat, strict=True):
        planned = (post.at - chat_agenda[0].at).total_seconds() / SPEED
        measured = seen.arrived - chat[0].arrived
        assert abs(measured - planned) < 0.1, (post.slot, planned, measured)

    # The printed stamps are the real local time each post went out.
    for seen in shown:
        wall = seen.arrived_wall
        of_day = timedelta(hours=wall.hour, minutes=wall.minute, seconds=wall.second)
        assert timedelta(0) <= (of_day - seen.stamp) % timedelta(days=1) <= timedelta(seconds=1)
    span = (chat[-1].stamp - chat[0].stamp) % timedelta(days=1)
    planned_span = (chat_agenda[-1].at - chat_agenda[0].at) / SPEED
    assert abs(span - planned_span) <= timedelta(seconds=1)
