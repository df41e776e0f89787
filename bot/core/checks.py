"""Rules that span several fields of a chat file: timing, order and lengths."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.agenda import PlannedPost, build_agenda, occurrence_at, reminder_slot
from bot.core.budget import budget_problems, wrapup_estimate
from bot.core.config import ChatConfig
from bot.core.durations import format_duration
from bot.core.problems import Loc, Problem
from bot.core.text import (
    BLUESKY_MAX_GRAPHEMES,
    PLACEHOLDERS,
    X_MAX_CHARACTERS,
    length_for,
    unknown_placeholders,
)


def check(config: ChatConfig, *, limits: dict[str, int] | None = None) -> list[Problem]:
    """Every cross-field problem; ``limits`` overrides each platform's post length limit."""
    problems = _placeholders(config)
    if not problems:
        # Composing texts needs working placeholders; timing problems do not stop it.
        problems += _lengths(config, limits or {})
        problems += _x_budget(config)
    problems += _timing(config)
    problems += _schedule(config)
    problems += _numbering(config)
    problems += _boost(config)
    return problems


def platform_limits(config: ChatConfig) -> dict[str, int]:
    limits = {}
    if config.platforms.mastodon is not None:
        limits["mastodon"] = config.platforms.mastodon.max_characters
    if config.platforms.x is not None:
        limits["x"] = X_MAX_CHARACTERS
    if config.platforms.bluesky is not None:
        limits["bluesky"] = BLUESKY_MAX_GRAPHEMES
    return limits


def _texts(config: ChatConfig) -> list[tuple[Loc, str]]:
    p = config.posts
    texts: list[tuple[Loc, str]] = [
        (("posts", "reminders", i, "text"), r.text) for i, r in enumerate(p.reminders)
    ]
    texts.append((("posts", "intro", "text"), p.intro.text))
    texts += [(("posts", "questions", i, "text"), q.text) for i, q in enumerate(p.questions)]
    if p.closing is not None:
        texts.append((("posts", "closing", "text"), p.closing.text))
    texts.append((("posts", "question_prefix"), p.question_prefix))
    return texts


def _placeholders(config: ChatConfig) -> list[Problem]:
    problems = []
    for loc, text in _texts(config):
        try:
            unknown = unknown_placeholders(text)
        except ValueError:
            problems.append(
                Problem(
                    loc,
                    "the text has a { or } that opens or closes no placeholder",
                    "write {{ or }} for a literal brace, or name a placeholder like {hashtag}",
                )
            )
            continue
        if unknown:
            close = [name for name in PLACEHOLDERS if name.lower() == unknown[0].strip().lower()]
            close = close or difflib.get_close_matches(unknown[0], PLACEHOLDERS, n=1)
            available = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            problems.append(
                Problem(
                    loc,
                    f"unknown placeholder {{{unknown[0]}}}",
                    (f"did you mean {{{close[0]}}}? " if close else "")
                    + f"available: {available} ({{n}} is the question number); "
                    "write {{ }} for literal braces",
                )
            )
    return problems


def _timing(config: ChatConfig) -> list[Problem]:
    p = config.posts
    duration = config.chat.duration
    problems: list[Problem] = []
    timed: list[tuple[Loc, str, timedelta]] = [(("posts", "intro", "at"), "the intro", p.intro.at)]
    for i, q in enumerate(p.questions):
        loc: Loc = ("posts", "questions", i, "at")
        timed.append((loc, f"Q{i + 1}", q.at))
        # Equal times are reported once, below, as "the same time as".
        if q.at < p.intro.at:
            problems.append(
                Problem(
                    loc,
                    f"Q{i + 1} at {format_duration(q.at)} comes before the intro "
                    f"(at {format_duration(p.intro.at)})",
                    "questions come after the intro; give a later `at`",
                )
            )
        if i and q.at < p.questions[i - 1].at:
            problems.append(
                Problem(
                    loc,
                    f"Q{i + 1} at {format_duration(q.at)} comes before "
                    f"Q{i} at {format_duration(p.questions[i - 1].at)}",
                    "questions are numbered in file order: list them in time order",
                )
            )
    if p.closing is not None:
        timed.append((("posts", "closing", "at"), "the closing", p.closing.at))
        last_q = max(q.at for q in p.questions)
        if p.closing.at < last_q:
            problems.append(
                Problem(
                    ("posts", "closing", "at"),
                    f"the closing at {format_duration(p.closing.at)} comes before the last "
                    f"question (at {format_duration(last_q)})",
                    "the closing comes last",
                )
            )
    for loc, name, at in timed:
        if at > duration:
            problems.append(
                Problem(
                    loc,
                    f"{name} at {format_duration(at)} is after the end of the chat "
                    f"(duration {format_duration(duration)})",
                    "give an earlier `at`, or a longer chat.duration",
                )
            )
    seen: dict[timedelta, str] = {}
    for loc, name, at in timed:
        if at in seen:
            problems.append(
                Problem(
                    loc,
                    f"{name} is at {format_duration(at)}, the same time as {seen[at]}",
                    "space posts at least a few seconds apart",
                )
            )
        else:
            seen[at] = name
    slots: set[str] = set()
    for i, r in enumerate(p.reminders):
        loc = ("posts", "reminders", i, "before")
        slot = reminder_slot(r.before)
        if r.before <= timedelta(0):
            problems.append(Problem(loc, "a reminder must come before the chat", "e.g. before: 1h"))
        elif slot in slots:
            # Keys are named after `before`: two equal ones would share one ledger key.
            problems.append(
                Problem(
                    loc,
                    f"two reminders {format_duration(r.before)} before the chat",
                    "give each reminder its own time (whole seconds apart)",
                )
            )
        slots.add(slot)
    return problems


def _schedule(config: ChatConfig) -> list[Problem]:
    """Local times that a clock change makes impossible, and series that overlap."""
    chat = config.chat
    problems = []
    zone = ZoneInfo(chat.timezone)
    if chat.start is not None and not _exists(chat.start, zone):
        problems.append(
            Problem(
                ("chat", "start"),
                f"{chat.start:%Y-%m-%d %H:%M} does not exist in {chat.timezone}: the clocks "
                "go forward over it",
                "pick a time outside the clock change, e.g. an hour later",
            )
        )
    if chat.every is not None and chat.duration >= timedelta(days=7):
        problems.append(
            Problem(
                ("chat", "duration"),
                f"a weekly chat cannot last {format_duration(chat.duration)}: it would run into "
                "the next one",
                "give a duration shorter than a week",
            )
        )
    return problems


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time happens at all in a zone (not skipped by summer time)."""
    aware = local.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


_NUMBERED = re.compile(r"^\s*Q\s?\d+\b", re.IGNORECASE)


def _numbering(config: ChatConfig) -> list[Problem]:
    """A question written as "Q3: ..." would be posted as "Q3: Q3: ..."."""
    p = config.posts
    if "{n}" not in p.question_prefix:
        return []
    return [
        Problem(
            ("posts", "questions", i, "text"),
            f"the text starts with its own number ({q.text.split()[0]}); questions are "
            "numbered automatically",
            'drop the number from the text, or set posts.question_prefix: "" to number '
            "them yourself",
        )
        for i, q in enumerate(p.questions)
        if _NUMBERED.match(q.text)
    ]


def _x_budget(config: ChatConfig) -> list[Problem]:
    settings = config.platforms.x
    if settings is None:
        return []
    agenda = build_agenda(config, occurrence_at(config, _reference_start(config)))
    later = wrapup_estimate(
        len(config.posts.questions), transcript_url=config.wrapup.transcript_url is not None
    )
    texts = [post.text for post in agenda if post.platform == "x"]
    return budget_problems(settings, texts, later=later)


def _reference_start(config: ChatConfig) -> datetime:
    # A series has no date: any will do for lengths and prices; a long month name is the
    # worst case.
    return config.chat.start or datetime(2026, 9, 30, 20, 0)


_COUNTING = {
    "x": "on X, CJK characters and emoji count 2 and URLs count 23",
    "bluesky": "Bluesky counts graphemes: an emoji or an accented letter is 1, a URL counts "
    "in full",
}


def _lengths(config: ChatConfig, overrides: dict[str, int]) -> list[Problem]:
    """Measure the real composed texts (prefix, placeholders, appended hashtag)."""
    limits = {**platform_limits(config), **overrides}
    occ = occurrence_at(config, _reference_start(config))
    locs = _post_locs(config)
    problems = []
    for post in build_agenda(config, occ):
        limit = limits.get(post.platform)
        length = length_for(post.platform, post.text)
        if limit is not None and length > limit:
            problems.append(
                Problem(
                    locs[post.slot],
                    f"{_post_name(post)} is {length} characters on {post.platform}, over its "
                    f"limit of {limit}",
                    f"shorten it by {length - limit} "
                    f"({_COUNTING.get(post.platform, 'URLs count 23')}; "
                    "the hashtag is added if missing)",
                )
            )
    return problems


def _post_name(post: PlannedPost) -> str:
    """A post as the host knows it: Q3, the intro, the reminder 1d before."""
    if post.kind == "question":
        return f"Q{post.number}"
    if post.kind == "reminder":
        return f"the reminder {post.slot.removeprefix('reminder-')} before"
    return f"the {post.kind}"


def _post_locs(config: ChatConfig) -> dict[str, Loc]:
    locs: dict[str, Loc] = {
        reminder_slot(r.before): ("posts", "reminders", i, "text")
        for i, r in enumerate(config.posts.reminders)
    }
    locs["intro"] = ("posts", "intro", "text")
    for i in range(len(config.posts.questions)):
        locs[f"q{i + 1}"] = ("posts", "questions", i, "text")
    locs["closing"] = ("posts", "closing", "text")
    return locs


def _boost(config: ChatConfig) -> list[Problem]:
    """The boost rules against the rest of the file: approvals by message need a host to
    ask, and an account cannot be both always boosted and blocked."""
    boost = config.boost
    problems = []
    # Only Mastodon's approvals go by direct message to the hosts; Bluesky's wait in the
    # hosts' console, which needs no list.
    if boost.mode == "approve" and not config.chat.hosts and config.platforms.mastodon:
        problems.append(
            Problem(
                ("boost", "mode"),
                "mode approve sends the candidates to the hosts on Mastodon, but chat.hosts "
                "is empty",
                'list the hosts under chat: hosts: ["@you@example.social"], or use mode auto',
            )
        )
    blocked = {h.lower() for h in boost.block.accounts}
    for i, handle in enumerate(boost.always):
        if handle.lower() in blocked:
            problems.append(
                Problem(
                    ("boost", "always", i),
                    f"{handle} is both in always and in block.accounts",
                    "keep it in one of the two",
                )
            )
    return problems
