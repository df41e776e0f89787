"""Which question a post answers, and the rule that decided it.

In order of trust: the post replies, directly or down a reply chain, to the bot's post of
question n; or it starts with ``An`` / ``A n`` / ``A.n`` (any case); or, failing both, it was
posted in question n's window. A reply to the bot's other posts (the intro, the closing)
answers no question unless it says so with a prefix: it is an introduction or a thank-you,
whatever the clock says.

A question's window runs from when its post actually went out (the ledger's ``published_at``)
to when the next one did: a question that goes out late leaves the previous window open until
it does. Capture files posts by these windows and the curator considers the posts of the
current one, so what is filed under a question is what is considered for it (``answer_windows``
is the one place that says where windows begin and end).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.model import AnswerRule, ArchivedPost

_NEVER = datetime.max.replace(tzinfo=UTC)

# Replies start with the mentions the platform adds, and some people lead with the tag.
_LEADING_TAGS = re.compile(r"^(?:\s*[@#][\w.@-]+)+")
_PREFIX = re.compile(r"^\s*a\s*\.?\s*(\d{1,3})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class AskedQuestion:
    number: int
    at: datetime  # when it went out (or, until then, when it is planned)
    post_id: str | None = None  # the bot's post of it, once published: asked from then on


@dataclass(frozen=True)
class AnswerKey:
    """What the mapping needs to know about one occurrence on one platform."""

    questions: tuple[AskedQuestion, ...]
    closes_at: datetime | None = None  # the last question's window ends here (the closing)
    other_posts: frozenset[str] = field(default_factory=frozenset)  # intro, closing, ...
    opens_at: datetime | None = None  # when the intro went out: the introductions' window
    # Set while the closing (planned at closes_at) has not gone out: the last window stays
    # open until it does, but not past this (the end of the chat).
    open_until: datetime | None = None

    def question_of_post(self, post_id: str) -> int | None:
        for question in self.questions:
            if question.post_id == post_id:
                return question.number
        return None


Answer = tuple[int | None, AnswerRule | None]
NO_ANSWER: Answer = (None, None)


def prefix_number(text: str) -> int | None:
    """The n of a leading ``An`` / ``A n`` / ``A.n``, after any leading mentions and tags."""
    match = _PREFIX.match(_LEADING_TAGS.sub("", text, count=1))
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Window:
    """The stretch of the chat a question owns: from its post to the next one.

    Number 0 is the intro's (introductions before Q1). ``end`` is when the next question went
    out or, until it has, when it is planned (the curator paces its boosts over that); while
    the next one has not gone out the window stays open past ``end``, up to ``stop``."""

    number: int
    start: datetime
    end: datetime
    stop: datetime

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.stop


def answer_windows(key: AnswerKey) -> list[Window]:
    """The windows of the intro and of every question asked, by when their posts went out."""
    closes = key.closes_at or _NEVER
    stops = max(closes, key.open_until) if key.open_until is not None else closes
    asked = [(q.number, q.at) for q in key.questions if q.post_id is not None]
    opened = [(0, key.opens_at)] if key.opens_at is not None else []
    marks = sorted([*opened, *asked], key=lambda mark: mark[1])
    windows = []
    for i, (number, start) in enumerate(marks):
        if start >= stops:
            break
        if i + 1 < len(marks):
            end = min(marks[i + 1][1], stops)
            windows.append(Window(number, start, end, end))
            continue
        waiting = [q.at for q in key.questions if q.post_id is None and q.number > number]
        end = min([*waiting, closes])
        windows.append(Window(number, start, max(end, start), stops))
    return windows


def window_question(key: AnswerKey, at: datetime) -> int | None:
    """The question whose window holds ``at`` (the intro's holds none)."""
    window = next((w for w in answer_windows(key) if w.contains(at)), None)
    return window.number if window is not None and window.number else None


def answer_for(
    key: AnswerKey, *, text: str, created_at: datetime, reply_chain: Sequence[str]
) -> Answer:
    """The question a post answers and why, or (None, None).

    ``text`` is plain text; ``reply_chain`` holds the ids the post replies to, nearest
    first, as far up as they are known.
    """
    numbers = {q.number for q in key.questions}
    replies_to_other = False
    for post_id in reply_chain:
        number = key.question_of_post(post_id)
        if number is not None:
            return number, "reply"
        if post_id in key.other_posts:
            replies_to_other = True
            break
    number = prefix_number(text)
    if number is not None and number in numbers:
        return number, "prefix"
    if replies_to_other:
        return NO_ANSWER
    number = window_question(key, created_at)
    return (number, "window") if number is not None else NO_ANSWER


@dataclass(frozen=True)
class QuestionCount:
    question: int | None  # None: answers no question (introductions, chatter)
    total: int
    by_rule: tuple[tuple[str, int], ...]  # (rule, count), most common first


def question_counts(posts: Sequence[ArchivedPost]) -> list[QuestionCount]:
    """How many posts answer each question, and by which rule; the bot's own are left out."""
    totals: Counter[int | None] = Counter()
    rules: dict[int | None, Counter[str]] = {}
    for post in posts:
        if post.is_own:
            continue
        totals[post.question] += 1
        rules.setdefault(post.question, Counter())[post.rule or "none"] += 1
    order = sorted(totals, key=lambda q: (q is None, q or 0))
    return [QuestionCount(q, totals[q], tuple(rules[q].most_common())) for q in order]
