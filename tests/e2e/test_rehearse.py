"""`tweetchat rehearse`: the whole chat, now, time compressed, with a simulated crowd; printed
and written to files, sent nowhere."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat_files import load_config
from bot.core.answers import prefix_number
from bot.core.planning import next_plan
from bot.export_common import WITHHELD
from bot.export_markdown import md_escape
from bot.rehearsal.crowd import Delete, Edit
from bot.rehearsal.crowd_plan import plan_crowd
from tests.support.chat_files import TWEETCHAT, tweetchat_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
SPEED = 1800
# Fast enough for a test, slow enough for this machine to keep up with the chat: the boosts
# then come out the same from one rehearsal of a seed to the next.
STEADY_SPEED = 400
LONDON = ZoneInfo("Europe/London")
FORMATS = ("html", "md", "csv", "json")
_HEAD = re.compile(r"^\[(\d\d):(\d\d):(\d\d) \w+\] mastodon (.+)$")


@dataclass(frozen=True)
class Shown:
    """One thing the bot did, as the rehearsal printed it, and when the line reached us."""

    stamp: timedelta  # the [HH:MM:SS] of the line, as time of day
    what: str  # the slot of a post ("q3", "wrapup-1"), "direct", or "boost:"
    reply_to: str | None
    text: str  # the post's text, or the rest of a boost's line
    arrived: float  # time.monotonic()
    arrived_wall: datetime


@dataclass(frozen=True)
class Rehearsal:
    returncode: int
    lines: list[str]
    shown: list[Shown]

    def posts(self, *slots: str) -> list[Shown]:
        return [s for s in self.shown if s.what in slots]


def _rehearse(cwd: Path, *options: str) -> Rehearsal:
    env = tweetchat_env(database=cwd / "ledger.sqlite3", token=None)
    process = subprocess.Popen(
        [str(TWEETCHAT), "rehearse", str(EXAMPLE), *options],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    watchdog = threading.Timer(90, process.kill)
    watchdog.start()
    lines: list[str] = []
    shown: list[Shown] = []
    in_body = False  # the lines after a post's head are its text, indented
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            arrived, arrived_wall = time.monotonic(), datetime.now(LONDON)
            line = raw.rstrip("\n")
            lines.append(line)
            if in_body and (line.startswith("    ") or not line):
                last = shown[-1]
                shown[-1] = replace(last, text=f"{last.text}\n{line[4:]}")
                continue
            head = _HEAD.match(line)
            in_body = False
            if head is None:
                continue
            h, m, s = (int(g) for g in head.group(1, 2, 3))
            stamp = timedelta(hours=h, minutes=m, seconds=s)
            rest = head.group(4)
            if rest.startswith("boost: "):
                shown.append(Shown(stamp, "boost:", None, rest[7:], arrived, arrived_wall))
                continue
            what, _, reply = rest.removesuffix(")").partition(" (reply to ")
            what = "direct" if what == "direct message" else what
            shown.append(Shown(stamp, what, reply or None, "", arrived, arrived_wall))
            in_body = True
        returncode = process.wait()
    finally:
        watchdog.cancel()
    shown = [replace(s, text=s.text.strip()) for s in shown]
    return Rehearsal(returncode, lines, shown)


def _transcript(folder: Path) -> dict[str, str]:
    occurrence, _ = next_plan(load_config(EXAMPLE), datetime.now(LONDON))
    name = f"hexichat-{occurrence.date}"
    return {fmt: (folder / f"{name}.{fmt}").read_text("utf-8") for fmt in FORMATS}


def test_a_rehearsal_plays_the_chat_with_a_crowd_and_writes_the_transcript(
    tmp_path: Path,
) -> None:
    config = load_config(EXAMPLE)
    _, agenda = next_plan(config, datetime.now(LONDON))
    crowd = plan_crowd(config, seed=1)
    out = tmp_path / "transcripts"

    run = _rehearse(tmp_path, "--speed", str(SPEED), "--out", str(out))

    assert run.returncode == 0, "\n".join(run.lines)
    assert "Nothing is sent anywhere." in run.lines[0]
    assert run.lines[1].startswith("The crowd (seed 1): 36 people, ")
    assert run.lines[-1] == "Rehearsal finished."

    # Every agenda post, in order: reminders, intro, Q1..Q6, closing; one thread.
    slots = [post.slot for post in agenda]
    questions = [f"q{n}" for n in range(1, 7)]
    assert slots == ["reminder-1d", "reminder-1h", "intro", *questions, "closing"]
    posts = run.posts(*slots)
    assert [(s.what, s.text) for s in posts] == [(p.slot, p.text) for p in agenda]
    assert [s.reply_to for s in posts[2:]] == [None, *slots[2:-1]]
    # At their compressed times (8 minutes: 0.27 s), stamped with the local time.
    for post, seen in zip(agenda[2:], posts[2:], strict=True):
        planned = (post.at - agenda[2].at).total_seconds() / SPEED
        assert abs(seen.arrived - posts[2].arrived - planned) < 0.15, post.slot
    for seen in run.shown:
        wall = seen.arrived_wall
        of_day = timedelta(hours=wall.hour, minutes=wall.minute, seconds=wall.second)
        assert timedelta(0) <= (of_day - seen.stamp) % timedelta(days=1) <= timedelta(seconds=1)

    # The crowd's answers are boosted, never those the etiquette protects.
    boosts = run.posts("boost:")
    assert len(boosts) >= 6
    (stopper,) = crowd.role("stopper")
    protected = [f"@{p.username}@" for p in crowd.role("nobot") + crowd.role("bot")]
    assert not [b for b in boosts if any(b.text.startswith(h) for h in protected)]
    (confirmation,) = run.posts("direct")
    assert confirmation.text.startswith(f"@{stopper.username}@")
    assert "I will not boost or mention you again" in confirmation.text
    after_stop = run.shown[run.shown.index(confirmation) :]
    assert not [b for b in after_stop if b.what == "boost:" and stopper.username in b.text]

    # The wrap-up thread, after the closing; then the transcript's files.
    wrapup = run.posts("wrapup-1", "wrapup-2", "wrapup-3")
    assert wrapup[0].text.startswith("1/")
    assert "people took part" in wrapup[0].text
    assert [s.reply_to for s in wrapup] == [None, *(s.what for s in wrapup[:-1])]
    assert run.shown.index(wrapup[0]) > run.shown.index(posts[-1])
    listed = run.lines[run.lines.index("Transcript:") + 1 : -1]
    occurrence, _ = next_plan(config, datetime.now(LONDON))
    assert listed == [f"  {out / f'hexichat-{occurrence.date}.{fmt}'}" for fmt in FORMATS]

    files = _transcript(out)
    # One occurrence is no series: the transcript's four files and nothing else.
    assert sorted(p.suffix for p in out.iterdir()) == sorted(f".{fmt}" for fmt in FORMATS)
    rows = list(csv.DictReader(files["csv"].splitlines()))
    answers = [r for r in rows if r["is_answer"] == "true"]
    for n in range(1, 7):
        mine = [r for r in answers if r["question"] == str(n)]
        numbered = [prefix_number(r["text"].lstrip("'")) for r in mine]
        assert numbered.count(n) >= 8, n
        assert set(numbered) <= {n, None}, n
        # Grouped by question in the Markdown: each answer under its question's heading.
        section = files["md"].split(f"## Q{n}: ")[1].split("\n## ")[0]
        for row in mine:
            assert md_escape(row["text"].lstrip("'")) in section
    assert sum(r["boosted"] == "true" for r in rows) == len(boosts)
    assert json.loads(files["json"])["statistics"]["participants"] >= 30

    # Whoever said stop stays in the transcript, never named; deleted and unlisted posts
    # are not in it at all; the edit is.
    theirs = [p for p in crowd.posts() if p.author == stopper.username and p.visibility == "public"]
    kept = [r for r in rows if r["author"] == WITHHELD]
    assert len(kept) >= 3
    assert {r["url"] for r in kept} == {""}
    for text in files.values():
        assert stopper.username not in text
        assert stopper.display_name not in text
    assert any(p.body in files["csv"] for p in theirs if "stop" not in p.body)
    by_id = {p.id: p for p in crowd.posts()}
    (deleted,) = [by_id[a.post] for a in crowd.actions if isinstance(a, Delete)]
    (edit,) = [a for a in crowd.actions if isinstance(a, Edit)]
    unlisted = [p for p in crowd.posts() if p.visibility == "unlisted"]
    for text in files.values():
        assert deleted.body not in text
        assert all(p.body not in text for p in unlisted)
    assert edit.body in files["csv"]
    assert by_id[edit.post].body not in files["csv"]
    # Replies to the bot's posts without the hashtag are captured too.
    untagged = [
        p
        for p in crowd.posts()
        if p.reply_to_bot and "#" not in p.body and p.visibility == "public"
    ]
    assert len(untagged) >= 10
    assert [p.body for p in untagged if p.body not in files["csv"]] == []


@pytest.mark.slow
def test_the_same_seed_gives_the_same_transcript(tmp_path: Path) -> None:
    """Every post, its time counted from the rehearsal's start (which is now, on a whole
    second), its question and its text, alike. Which answers were boosted is left out: the
    curator ticks on the wall clock, so a loaded machine may see a count one tick later.
    Without --out the files go to out/rehearsal."""
    transcripts = []
    for name in ("first", "second"):
        cwd = tmp_path / name
        cwd.mkdir()
        run = _rehearse(cwd, "--speed", str(STEADY_SPEED), "--seed", "3")
        assert run.returncode == 0, "\n".join(run.lines)
        files = _transcript(cwd / "out" / "rehearsal")
        start = datetime.fromisoformat(json.loads(files["json"])["chat"]["start"])
        assert start.microsecond == 0
        transcripts.append(_without_boosts(_relative_times(files["csv"], start)))
    first, second = transcripts
    assert len(first) > 200
    assert first == second


def _without_boosts(text: str) -> list[dict[str, str]]:
    """The CSV's rows without their ``boosted`` column."""
    return [
        {k: v for k, v in row.items() if k != "boosted"}
        for row in csv.DictReader(io.StringIO(text))
    ]


def _relative_times(text: str, start: datetime) -> str:
    """The CSV with each ``created_at`` as seconds from ``start``."""

    def relative(match: re.Match[str]) -> str:
        at = datetime.fromisoformat(match.group(0))
        return f"+{(at - start).total_seconds():g}s"

    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", relative, text)


@pytest.mark.slow
def test_a_rehearsal_reports_the_chat_as_it_will_be(tmp_path: Path) -> None:
    """Issue 12 item 18: at 1800x the whole chat plays in seconds, yet its files show it in
    chat time: the planned start and question times, a chart whose axis runs over the hour
    (not "13:21" repeated), and per-minute rates a real chat of this crowd would have."""
    config = load_config(EXAMPLE)
    occurrence, agenda = next_plan(config, datetime.now(LONDON))
    out = tmp_path / "out"

    run = _rehearse(tmp_path, "--speed", str(SPEED), "--out", str(out))

    assert run.returncode == 0, "\n".join(run.lines)
    files = _transcript(out)
    report = json.loads(files["json"])
    assert (report["chat"]["start"], report["chat"]["end"]) == (
        _iso(occurrence.start),
        _iso(occurrence.end),
    )
    stats = report["statistics"]
    asked = [q["asked_at"] for q in stats["questions"]]
    assert asked == [_iso(p.at) for p in agenda if p.kind == "question"]
    # Every post at its time in the chat, from the intro to the wrap-up.
    times = [
        datetime.fromisoformat(r["created_at"]) for r in csv.DictReader(files["csv"].splitlines())
    ]
    assert min(times) == occurrence.start
    assert max(times) <= occurrence.end + config.wrapup.after
    # The posts spread over the hour: a minute holds a small share of them.
    minutes = stats["posts_per_minute"]
    assert len(minutes) >= 50
    assert stats["peak_posts_per_minute"] * 5 < len(times)
    assert f"busiest minute: {stats['peak_posts_per_minute']} posts" in files["md"]
    # The chart's time axis: distinct local times, over the chat's hour.
    svg = files["html"][files["html"].index("<svg") : files["html"].index("</svg>")]
    labels = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if ":" in t]
    local = occurrence.start.astimezone(LONDON)
    assert labels[0] == f"{local:%H:%M}"
    assert len(set(labels)) == len(labels) >= 5


def _iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
