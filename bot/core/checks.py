"""Rules that span several fields of a chat file: timing, order and lengths."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.agenda import build_agenda, occurrence_at
from bot.core.config import ChatConfig
from bot.core.durations import format_duration
from bot.core.problems import Loc, Problem
from bot.core.text import length_for, unknown_placeholders


def check(config: ChatConfig, *, limits: dict[str, int] | None = None) -> list[Problem]:
    """Every cross-field problem; ``limits`` overrides each platform's post length limit."""
    problems = _placeholders(config)
    problems += _timing(config)
    if not problems:
        problems += _lengths(config, limits or {})
    return problems


def platform_limits(config: ChatConfig) -> dict[str, int]:
    limits = {}
    if config.platforms.mastodon is not None:
        limits["mastodon"] = config.platforms.mastodon.max_characters
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
        except ValueError as exc:
            problems.append(
                Problem(
                    loc,
                    f"the text has a broken placeholder ({exc})",
                    "write {{ and }} for literal braces",
                )
            )
            continue
        if unknown:
            problems.append(
                Problem(
                    loc,
                    f"unknown placeholder {{{unknown[0]}}}",
                    "available: {hashtag}, {title}, {date}, {time}; write {{ }} for literal braces",
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
        if q.at <= p.intro.at:
            problems.append(
                Problem(
                    loc,
                    f"Q{i + 1} at {format_duration(q.at)} is not after the intro "
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
        last_q = p.questions[-1].at
        if p.closing.at <= last_q:
            problems.append(
                Problem(
                    ("posts", "closing", "at"),
                    f"the closing at {format_duration(p.closing.at)} is not after the last "
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
    befores: dict[timedelta, int] = {}
    for i, r in enumerate(p.reminders):
        loc = ("posts", "reminders", i, "before")
        if r.before <= timedelta(0):
            problems.append(Problem(loc, "a reminder must come before the chat", "e.g. before: 1h"))
        elif r.before in befores:
            problems.append(
                Problem(
                    loc,
                    f"two reminders {format_duration(r.before)} before the chat",
                    "give each reminder its own time",
                )
            )
        befores[r.before] = i
    return problems


def _lengths(config: ChatConfig, overrides: dict[str, int]) -> list[Problem]:
    """Measure the real composed texts (prefix, placeholders, appended hashtag)."""
    limits = {**platform_limits(config), **overrides}
    reference = config.chat.start
    if reference is None:
        # Any date will do for lengths; a long month name is the worst case.
        reference = datetime(2026, 9, 30, 20, 0)
    occ = occurrence_at(config, reference)
    locs = _post_locs(config)
    problems = []
    for post in build_agenda(config, occ):
        limit = limits.get(post.platform)
        length = length_for(post.platform, post.text)
        if limit is not None and length > limit:
            problems.append(
                Problem(
                    locs[post.slot],
                    f"{post.slot} is {length} characters on {post.platform}, over its "
                    f"limit of {limit}",
                    f"shorten it by {length - limit} (URLs count 23; the hashtag is added "
                    "if missing)",
                )
            )
    return problems


def _post_locs(config: ChatConfig) -> dict[str, Loc]:
    locs: dict[str, Loc] = {
        f"reminder-{format_duration(r.before)}": ("posts", "reminders", i, "text")
        for i, r in enumerate(config.posts.reminders)
    }
    locs["intro"] = ("posts", "intro", "text")
    for i in range(len(config.posts.questions)):
        locs[f"q{i + 1}"] = ("posts", "questions", i, "text")
    locs["closing"] = ("posts", "closing", "text")
    return locs
