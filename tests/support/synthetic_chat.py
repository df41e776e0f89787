"""A seeded, invented chat: the bot's posts and a crowd answering, replying and sharing links.

Used to make the stored archive of the golden tests (run once, output checked in), the
300-post chat of the browser test and the 10,000-post chat of the export benchmark:

    .venv/bin/python -m tests.support.synthetic_chat --seed 7 --posts 80 \
        -o tests/data/chat_archive.json
"""

from __future__ import annotations

import argparse
import html
import json
import random
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.model import ArchivedPost, Author
from bot.core.transcript import PostRef, Question, author_key

CHAT_ID = "hexichat"
DATE = "2026-12-02"
HASHTAG = "#HEXIchat"
START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
BOT_HANDLES = {"mastodon": "@hexibot@example.social", "x": "@hexibot"}

QUESTIONS = (
    "Q1: How does your practice gather patient experience data today?",
    "Q2: Which of that feedback do you trust most, and whose voices are missing?",
    "Q3: Who reads the feedback and acts on it?",
    "Q4: How do you close the loop with patients?",
    "Q5: What gets in the way of acting on feedback?",
    "Q6: How do you keep the stories alongside the scores?",
)
# Each question's own vocabulary, so that its themes differ from the others'.
TOPICS = (
    ("paper surveys", "comment cards", "the waiting room", "online reviews", "text messages"),
    ("free text comments", "older patients", "carers", "people without internet", "complaints"),
    ("the practice manager", "monthly team meetings", "the patient group", "a named lead"),
    ("you said we did boards", "the newsletter", "a reply to every complaint", "the website"),
    ("no protected time", "messy spreadsheets", "staff turnover", "survey fatigue"),
    ("patient stories", "case studies", "quotes in reports", "the numbers alone"),
)
SHARED = ("patient feedback", "our team", "really", "we try", "honestly", "every week")
LINKS = (
    "https://example.org/guide/feedback",
    "https://example.org/toolkit",
    "https://blog.example.net/closing-the-loop",
    "https://example.org/report-2026",
)
FIRST = ("Ana", "Ben", "Chloé", "Dev", "Efe", "Fatima", "Gus", "Hana", "Ivo", "Jo", "Kemi", "Lars")
LAST = ("Okafor", "Smith", "Nguyen", "Kowalski", "Haddad", "Silva", "Brown", "Ito", "Moreau")
SERVERS = ("example.social", "health.example", "mastodon.example")


@dataclass
class SyntheticChat:
    occurrence: str
    posts: list[ArchivedPost]
    questions: list[Question]
    opted_out: frozenset[str] = frozenset()
    earlier_authors: frozenset[str] = frozenset()
    boosted: frozenset[PostRef] = frozenset()
    start: datetime = START
    end: datetime = START + timedelta(hours=1)


@dataclass
class _Builder:
    rng: random.Random
    platforms: tuple[str, ...]
    posts: list[ArchivedPost] = field(default_factory=list)
    counter: int = 0

    def new_id(self, platform: str) -> str:
        self.counter += 1
        # Opaque strings of the platforms' shapes; never compared as numbers.
        base = "1134" if platform == "mastodon" else "18711"
        return f"{base}{self.counter:08d}"

    def add(
        self,
        author: Author,
        text: str,
        at: datetime,
        *,
        question: int | None = None,
        rule: str | None = None,
        in_reply_to: str | None = None,
        own: bool = False,
    ) -> ArchivedPost:
        pid = self.new_id(author.platform)
        user = author.handle.lstrip("@").split("@")[0]
        if author.platform == "mastodon":
            url = f"https://{author.handle.split('@')[-1]}/@{user}/{pid}"
        else:
            url = f"https://x.com/{user}/status/{pid}"
        rng = self.rng
        post = ArchivedPost(
            platform=author.platform,
            id=pid,
            occurrence=f"{CHAT_ID}/{DATE}",
            url=url,
            author=author,
            created_at=at,
            text=text,
            html="<p>" + html.escape(text).replace("\n", "<br>") + "</p>",
            in_reply_to=in_reply_to,
            language="en",
            replies=0 if own else int(rng.expovariate(1.2)),
            boosts=0 if own else int(rng.expovariate(0.9)),
            favourites=0 if own else int(rng.expovariate(0.35)),
            question=question,
            rule=rule,  # type: ignore[arg-type]
            is_own=own,
        )
        self.posts.append(post)
        return post


def _people(rng: random.Random, count: int, platforms: tuple[str, ...]) -> list[Author]:
    people = []
    for i in range(count):
        platform = platforms[i % len(platforms)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = f"{first.lower().replace('é', 'e')}{last.lower()}{i}"
        handle = f"@{user}@{rng.choice(SERVERS)}" if platform == "mastodon" else f"@{user}"
        name = f"{first} {last}" + (" 🩺" if i % 7 == 0 else "")
        people.append(
            Author(
                platform=platform,
                id=f"{platform[0]}{1000 + i}",
                handle=handle,
                display_name=name,
                followers=int(rng.lognormvariate(5, 1.3)),
                is_bot=i == count - 1,  # one bot account in the crowd
            )
        )
    return people


def _sentence(rng: random.Random, n: int) -> str:
    topic = TOPICS[(n - 1) % len(TOPICS)]
    a, b = rng.sample(topic, 2)
    shared = rng.choice(SHARED)
    form = rng.randrange(4)
    if form == 0:
        return f"We use {a} and {b}, {shared}."
    if form == 1:
        return f"{a.capitalize()} matter most; {b} come second, {shared}."
    if form == 2:
        return f"For us it is {a}. {shared.capitalize()}, {b} too."
    return f"{shared.capitalize()}: {a}, then {b}."


def synthetic_chat(
    *,
    seed: int,
    posts: int,
    participants: int = 40,
    platforms: tuple[str, ...] = ("mastodon", "x"),
) -> SyntheticChat:
    """An occurrence with ``posts`` participant posts (plus the bot's own), fully seeded."""
    rng = random.Random(seed)
    b = _Builder(rng, platforms)
    people = _people(rng, participants, platforms)
    bots = {
        p: Author(p, f"{p[0]}bot", BOT_HANDLES[p], "HEXI chat bot", 900, is_bot=True)
        for p in platforms
    }
    intro = {
        p: b.add(bots[p], f"Welcome to {HASHTAG}! Introduce yourself.", START, own=True)
        for p in platforms
    }
    asked: dict[int, dict[str, ArchivedPost]] = {}
    for n, text in enumerate(QUESTIONS, start=1):
        at = START + timedelta(minutes=5 + 8 * (n - 1))
        asked[n] = {p: b.add(bots[p], f"{text} {HASHTAG}", at, own=True) for p in platforms}
    window = timedelta(minutes=8)

    answers: dict[int, list[ArchivedPost]] = {n: [] for n in asked}
    for _ in range(posts):
        person = rng.choice(people)
        kind = rng.random()
        if kind < 0.08:
            at = START + timedelta(seconds=rng.randrange(10, 290))
            replying = intro[person.platform] if rng.random() < 0.5 else None
            b.add(
                person,
                f"Hi all, {person.display_name} here, joining from {rng.choice(LAST)}ville."
                + ("" if replying else f" {HASHTAG}"),
                at,
                in_reply_to=replying.id if replying else None,
            )
            continue
        n = rng.randrange(1, len(QUESTIONS) + 1)
        base = asked[n][person.platform].created_at
        at = base + timedelta(seconds=rng.randrange(15, int(window.total_seconds()) - 5))
        text = _sentence(rng, n)
        if rng.random() < 0.1:
            text += f" See {rng.choice(LINKS)}"
        same_platform = [
            a for a in answers[n] if a.platform == person.platform and a.created_at < at
        ]
        if kind < 0.6:
            post = b.add(person, f"A{n} {text} {HASHTAG}", at, question=n, rule="prefix")
            answers[n].append(post)
        elif kind < 0.72:
            post = b.add(
                person, text, at, question=n, rule="reply", in_reply_to=asked[n][person.platform].id
            )
            answers[n].append(post)
        elif kind < 0.95 and same_platform:
            parent = rng.choice(same_platform)
            b.add(person, f"Agreed! {text}", at, question=n, rule="reply", in_reply_to=parent.id)
        else:
            b.add(person, f"{text} {HASHTAG}", at, question=n, rule="window")

    keys = sorted({author_key(p.author) for p in b.posts if not p.is_own})
    answer_refs = sorted((p.platform, p.id) for group in answers.values() for p in group)
    return SyntheticChat(
        occurrence=f"{CHAT_ID}/{DATE}",
        posts=sorted(b.posts, key=lambda p: (p.created_at, p.platform, p.id)),
        questions=[
            Question(n, QUESTIONS[n - 1], frozenset((p, asked[n][p].id) for p in platforms))
            for n in asked
        ],
        opted_out=frozenset(keys[3:4]),
        earlier_authors=frozenset(keys[::3]),
        boosted=frozenset(rng.sample(answer_refs, min(8, len(answer_refs)))),
    )


def synthetic_series(*, weeks: int, posts: int, seed: int = 0) -> list[SyntheticChat]:
    """A weekly series ending on DATE, oldest first, each week from its own seed. Author ids
    are the same from week to week, so people come back, and the crowd grows by two a week.
    Post ids get a per-week prefix: they are unique per platform across the archive."""
    series = []
    for week in range(weeks):
        chat = synthetic_chat(seed=seed + week, posts=posts, participants=30 + 2 * week)
        shift = timedelta(weeks=weeks - 1 - week)
        occurrence = f"{CHAT_ID}/{(START - shift).date().isoformat()}"
        prefix = f"w{week}-"
        moved = [
            replace(
                p,
                id=prefix + p.id,
                occurrence=occurrence,
                created_at=p.created_at - shift,
                in_reply_to=prefix + p.in_reply_to if p.in_reply_to else None,
            )
            for p in chat.posts
        ]
        questions = [
            replace(q, post_refs=frozenset((pl, prefix + i) for pl, i in q.post_refs))
            for q in chat.questions
        ]
        series.append(
            replace(
                chat,
                occurrence=occurrence,
                posts=moved,
                questions=questions,
                earlier_authors=frozenset(),  # the series itself tells who came before
                boosted=frozenset((pl, prefix + i) for pl, i in chat.boosted),
                start=chat.start - shift,
                end=chat.end - shift,
            )
        )
    return series


def store_chat(store: Any, chat: SyntheticChat, *, now: datetime) -> None:
    """Put the chat in a store as a run leaves it: its posts in the archive, and its
    question posts in the ledger, published (the transcript finds its questions there)."""
    from bot.adapters.archive_sql import SqlArchive
    from bot.ports.posting import Published

    archive = SqlArchive(store.engine)
    for post in chat.posts:
        archive.save(post, now=now)
    by_ref = {(p.platform, p.id): p for p in chat.posts}
    for question in chat.questions:
        for platform, post_id in question.post_refs:
            key = f"{chat.occurrence}/q{question.number}/{platform}"
            at = by_ref[(platform, post_id)].created_at
            store.claim(key, occurrence=chat.occurrence, platform=platform, planned_at=at, now=at)
            store.record(key, Published(post_id, by_ref[(platform, post_id)].url), now=at)


# -- the stored form ---------------------------------------------------------------------------


def chat_to_json(chat: SyntheticChat) -> dict[str, Any]:
    return {
        "occurrence": chat.occurrence,
        "start": chat.start.isoformat(),
        "end": chat.end.isoformat(),
        "questions": [
            {"number": q.number, "text": q.text, "posts": sorted(map(list, q.post_refs))}
            for q in chat.questions
        ],
        "opted_out": sorted(chat.opted_out),
        "earlier_authors": sorted(chat.earlier_authors),
        "boosted": sorted(map(list, chat.boosted)),
        "posts": [_post_to_json(p) for p in chat.posts],
    }


def chat_from_json(data: dict[str, Any]) -> SyntheticChat:
    return SyntheticChat(
        occurrence=data["occurrence"],
        start=datetime.fromisoformat(data["start"]),
        end=datetime.fromisoformat(data["end"]),
        questions=[
            Question(q["number"], q["text"], frozenset((p, i) for p, i in q["posts"]))
            for q in data["questions"]
        ],
        opted_out=frozenset(data["opted_out"]),
        earlier_authors=frozenset(data["earlier_authors"]),
        boosted=frozenset((p, i) for p, i in data["boosted"]),
        posts=[_post_from_json(p) for p in data["posts"]],
    )


def _post_to_json(post: ArchivedPost) -> dict[str, Any]:
    data = asdict(post)
    data["created_at"] = post.created_at.isoformat()
    data["edited_at"] = post.edited_at.isoformat() if post.edited_at else None
    return data


def _post_from_json(data: dict[str, Any]) -> ArchivedPost:
    fields = dict(data)
    fields["author"] = Author(**data["author"])
    fields["created_at"] = datetime.fromisoformat(data["created_at"])
    edited = data.get("edited_at")
    fields["edited_at"] = datetime.fromisoformat(edited) if edited else None
    return ArchivedPost(**fields)


def load_chat(path: Path) -> SyntheticChat:
    return chat_from_json(json.loads(path.read_text(encoding="utf-8")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--posts", type=int, default=80)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    chat = synthetic_chat(seed=args.seed, posts=args.posts)
    text = json.dumps(chat_to_json(chat), indent=1, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
