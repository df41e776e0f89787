"""The numbers of an occurrence, from its transcript: what the wrap-up and the exports show.

People who opted out are counted in every number but never named: they are left out of
every list that names someone or links to their posts. Bot accounts are counted too, and
also left out of those lists (a cross-posting bot is no top contributor).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.agenda import occurrence_date
from bot.core.model import ArchivedPost, Author
from bot.core.text import urls_in
from bot.core.transcript import Entry, Group, PostRef, Transcript, author_key, post_ref

TOP = 5
THEMES = 5
# YAKE's cost grows with the text; past this many characters per question the most engaged
# posts speak for the rest (a 40-person chat writes well under it).
THEME_TEXT_BUDGET = 15_000


@dataclass(frozen=True)
class Contributor:
    author: Author
    count: int


@dataclass(frozen=True)
class EngagedPost:
    post: ArchivedPost
    question: int | None
    replies: int  # replies received: the platform's count or the archive's, the larger
    engagement: int  # favourites + boosts + replies received
    number: int  # its place in the occurrence's transcript (see ``Entry.number``)


@dataclass(frozen=True)
class QuestionStats:
    number: int
    heading: str
    asked_at: datetime | None
    answers: int  # posts answering the question itself
    replies: int  # posts replying to those, at any depth
    participants: int
    themes: tuple[str, ...]
    top_answer: EngagedPost | None


@dataclass(frozen=True)
class MinuteCount:
    minute: datetime  # the start of the minute, UTC
    posts: int


@dataclass(frozen=True)
class LinkCount:
    url: str
    posts: int


@dataclass(frozen=True)
class Stats:
    participants: int
    posts: int  # participants' posts; the bot's own are not counted
    answers: int
    new_participants: int  # not seen in earlier occurrences of the series
    returning_participants: int
    questions: tuple[QuestionStats, ...]
    top_posters: tuple[Contributor, ...]
    top_replied: tuple[Contributor, ...]  # by replies received
    most_engaged: tuple[EngagedPost, ...]
    links: tuple[LinkCount, ...]  # most shared first
    links_shared: int  # every link in every post, repeats included
    posts_per_minute: tuple[MinuteCount, ...]
    potential_reach: int  # an estimate: the sum of the participants' followers

    @property
    def peak_posts_per_minute(self) -> int:
        return max((m.posts for m in self.posts_per_minute), default=0)


def compute_stats(
    transcript: Transcript,
    *,
    earlier_authors: Set[str] = frozenset(),
    top: int = TOP,
    themes: bool = True,
) -> Stats:
    """The numbers of one occurrence; ``earlier_authors`` holds the author keys seen in the
    series' earlier occurrences, to tell new people from returning ones. ``themes=False``
    leaves the questions' themes empty: YAKE is the one costly part."""
    rows = [(g, e, d) for g, e, d in transcript.rows() if not e.post.is_own]
    posts = [e.post for _, e, _ in rows]
    authors: dict[str, Author] = {}
    for post in posts:
        key = author_key(post.author)
        # The latest record of an author is the most current follower count.
        if key not in authors or post.author.followers > authors[key].followers:
            authors[key] = post.author
    returning = sum(1 for key in authors if key in earlier_authors)
    received = _replies_received(transcript)

    links = Counter(url for post in posts for url in urls_in(post.text))
    questions = [_question_stats(g, received, themes=themes) for g in transcript.question_groups()]
    distinctive = _distinctive({q.number: q.themes for q in questions})
    named = [(g, e) for g, e, _ in rows if _nameable(e)]
    engaged = [_engaged(e, g.number, received) for g, e in named if g.number is not None]
    return Stats(
        participants=len(authors),
        posts=len(posts),
        answers=sum(q.answers for q in questions),
        new_participants=len(authors) - returning,
        returning_participants=returning,
        questions=tuple(replace(q, themes=distinctive[q.number]) for q in questions),
        top_posters=_top_authors(((e.post.author, 1) for _, e in named), top),
        top_replied=_top_authors(
            ((e.post.author, received[post_ref(e.post)]) for _, e in named), top
        ),
        most_engaged=tuple(
            sorted((e for e in engaged if e.engagement > 0), key=_engagement_order)[:top]
        ),
        links=tuple(
            LinkCount(url, n) for url, n in sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        links_shared=sum(links.values()),
        posts_per_minute=_per_minute(transcript, posts),
        potential_reach=sum(a.followers for a in authors.values()),
    )


def _nameable(entry: Entry) -> bool:
    return entry.named and not entry.post.is_own and not entry.post.author.is_bot


def _replies_received(transcript: Transcript) -> Counter[PostRef]:
    """Per post: the replies from other people in the archive, or the platform's count when
    it knows more (replies without the hashtag to an answer are not captured)."""
    received: Counter[PostRef] = Counter()
    for _, entry, _ in transcript.rows():
        archived = sum(
            1 for r in entry.replies if author_key(r.post.author) != author_key(entry.post.author)
        )
        received[post_ref(entry.post)] = max(archived, entry.post.replies)
    return received


def _engaged(entry: Entry, question: int | None, received: Counter[PostRef]) -> EngagedPost:
    post = entry.post
    replies = received[post_ref(post)]
    return EngagedPost(
        post, question, replies, post.favourites + post.boosts + replies, entry.number
    )


def _engagement_order(e: EngagedPost) -> tuple[object, ...]:
    # Most engaged first; on a tie the earlier post, which others had longer to see.
    return (-e.engagement, e.post.created_at, e.post.platform, e.post.id)


def _top_authors(counts: Iterable[tuple[Author, int]], top: int) -> tuple[Contributor, ...]:
    totals: Counter[str] = Counter()
    by_key: dict[str, Author] = {}
    for author, n in counts:
        key = author_key(author)
        totals[key] += n
        by_key.setdefault(key, author)
    ranked = sorted(
        ((key, n) for key, n in totals.items() if n > 0),
        key=lambda kv: (-kv[1], by_key[kv[0]].handle.lower()),
    )
    return tuple(Contributor(by_key[key], n) for key, n in ranked[:top])


def _question_stats(group: Group, received: Counter[PostRef], *, themes: bool) -> QuestionStats:
    assert group.number is not None
    walked = [(e, d) for e, d in group.walk() if not e.post.is_own]
    answers = [_engaged(e, group.number, received) for e, d in walked if d == 0 and _nameable(e)]
    return QuestionStats(
        number=group.number,
        heading=group.heading,
        asked_at=group.asked_at,
        answers=sum(1 for _, d in walked if d == 0),
        replies=sum(1 for _, d in walked if d > 0),
        participants=len({author_key(e.post.author) for e, _ in walked}),
        themes=_themes([e.post for e, _ in walked], received) if themes else (),
        top_answer=min(answers, key=_engagement_order, default=None),
    )


def _per_minute(transcript: Transcript, posts: Sequence[ArchivedPost]) -> tuple[MinuteCount, ...]:
    """Posts per minute from the first post of the chat (the bot's included) to the last,
    quiet minutes included, so the chart's time axis is true."""
    times = [e.post.created_at for _, e, _ in transcript.rows()]
    times += [g.asked_at for g in transcript.groups if g.asked_at is not None]
    if not times:
        return ()
    first, last = _minute(min(times)), _minute(max(times))
    counts = Counter(_minute(p.created_at) for p in posts)
    minutes = int((last - first).total_seconds() // 60) + 1
    return tuple(
        MinuteCount(at, counts[at]) for at in (first + timedelta(minutes=i) for i in range(minutes))
    )


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


# -- a series --------------------------------------------------------------------------------

SERIES_THEMES = 10


@dataclass(frozen=True)
class OccurrenceSummary:
    """One occurrence as a line of its series' table."""

    occurrence: str  # chat/date
    participants: int
    new_participants: int
    returning_participants: int
    posts: int
    answers: int
    answers_per_question: tuple[tuple[int, int], ...]  # (question number, answers)
    links_shared: int
    peak_posts_per_minute: int
    potential_reach: int
    most_engaged: EngagedPost | None  # the occurrence's most engaged post someone may be named by

    @property
    def date(self) -> str:
        return occurrence_date(self.occurrence)


@dataclass(frozen=True)
class Attendance:
    occurrences: int  # attended this many occurrences of the series
    people: int


@dataclass(frozen=True)
class SeriesStats:
    occurrences: tuple[OccurrenceSummary, ...]  # oldest first
    participants: int  # different people over the series
    posts: int
    answers: int
    links_shared: int
    potential_reach: int  # an estimate: the sum of every participant's followers
    attendance: tuple[Attendance, ...]  # once, twice, ...: how many people came back
    regulars: tuple[Contributor, ...]  # by occurrences attended
    top_posters: tuple[Contributor, ...]
    top_replied: tuple[Contributor, ...]  # by replies received
    most_engaged: tuple[EngagedPost, ...]
    themes: tuple[str, ...]  # the series' key phrases over all its occurrences

    @property
    def returning_participants(self) -> int:
        """People who came to more than one occurrence."""
        return sum(a.people for a in self.attendance if a.occurrences > 1)

    @property
    def mean_participants(self) -> float:
        if not self.occurrences:
            return 0.0
        return sum(o.participants for o in self.occurrences) / len(self.occurrences)


def compute_series_stats(transcripts: Iterable[Transcript], *, top: int = TOP) -> SeriesStats:
    """The numbers of a series from its occurrences' transcripts, oldest first.

    One transcript is looked at at a time, so a long series need not fit in memory; what is
    kept of each is its numbers, its people and its most engaged text. A person counts as
    returning in an occurrence when an earlier one of the transcripts had them.
    """
    seen: set[str] = set()
    attended: Counter[str] = Counter()
    authors: dict[str, Author] = {}
    nameable: set[str] = set()
    posts_by: Counter[str] = Counter()
    replies_to: Counter[str] = Counter()
    summaries: list[OccurrenceSummary] = []
    engaged: list[EngagedPost] = []
    theme_texts: list[list[str]] = []
    languages: Counter[str] = Counter()
    for transcript in transcripts:
        stats = compute_stats(transcript, earlier_authors=seen, top=top, themes=False)
        received = _replies_received(transcript)
        posts = [e.post for _, e, _ in transcript.rows() if not e.post.is_own]
        present: set[str] = set()
        for _, entry, _ in transcript.rows():
            post = entry.post
            if post.is_own:
                continue
            key = author_key(post.author)
            present.add(key)
            if key not in authors or post.author.followers > authors[key].followers:
                authors[key] = post.author
            if _nameable(entry):
                nameable.add(key)
                posts_by[key] += 1
                replies_to[key] += received[post_ref(post)]
        attended.update(present)
        seen |= present
        summaries.append(_summary(transcript.occurrence, stats))
        engaged = sorted([*engaged, *stats.most_engaged], key=_engagement_order)[:top]
        theme_texts.append(_theme_text(posts, received, budget=THEME_TEXT_BUDGET))
        languages[_language(posts)] += len(posts)
    named_authors = [(authors[key], key) for key in nameable]
    return SeriesStats(
        occurrences=tuple(summaries),
        participants=len(authors),
        posts=sum(o.posts for o in summaries),
        answers=sum(o.answers for o in summaries),
        links_shared=sum(o.links_shared for o in summaries),
        potential_reach=sum(a.followers for a in authors.values()),
        attendance=tuple(
            Attendance(n, people) for n, people in sorted(Counter(attended.values()).items())
        ),
        regulars=_top_authors(((a, attended[k]) for a, k in named_authors), top),
        top_posters=_top_authors(((a, posts_by[k]) for a, k in named_authors), top),
        top_replied=_top_authors(((a, replies_to[k]) for a, k in named_authors), top),
        most_engaged=tuple(engaged),
        themes=_series_themes(theme_texts, language=_most_common(languages)),
    )


def _summary(occurrence: str, stats: Stats) -> OccurrenceSummary:
    return OccurrenceSummary(
        occurrence=occurrence,
        participants=stats.participants,
        new_participants=stats.new_participants,
        returning_participants=stats.returning_participants,
        posts=stats.posts,
        answers=stats.answers,
        answers_per_question=tuple((q.number, q.answers) for q in stats.questions),
        links_shared=stats.links_shared,
        peak_posts_per_minute=stats.peak_posts_per_minute,
        potential_reach=stats.potential_reach,
        most_engaged=stats.most_engaged[0] if stats.most_engaged else None,
    )


def _series_themes(texts: Sequence[list[str]], *, language: str) -> tuple[str, ...]:
    """Key phrases over every occurrence, each giving the same share of the text budget (its
    most engaged posts first), so that one busy night does not speak for the series."""
    share = THEME_TEXT_BUDGET // max(1, len(texts))
    parts: list[str] = []
    for occurrence_parts in texts:
        size = 0
        for part in occurrence_parts:
            if size + len(part) > share and size:
                break
            parts.append(part)
            size += len(part) + 1
    phrases = _most_specific(_key_phrases(parts, language=language, top=SERIES_THEMES * 4))
    # Over many chats the words every post uses ("honestly", "agreed") rank high; a phrase of
    # two or three words names a subject far more often, so phrases come first.
    ranked = [p for p in phrases if " " in p] + [p for p in phrases if " " not in p]
    return tuple(ranked[:SERIES_THEMES])


# -- themes ----------------------------------------------------------------------------------

# What says nothing about the subject: links, mentions, hashtags and the "A3" answer prefix.
_SENTENCE_END = re.compile(r"[.!?]")
_NOISE = re.compile(r"https?://\S+|(?<!\w)[@#][\w.@-]+|^\s*A\s*\.?\s*\d+\s*[:.)-]?\s*", re.I | re.M)


def _themes(posts: Sequence[ArchivedPost], received: Counter[PostRef]) -> tuple[str, ...]:
    """The question's key phrases by YAKE, over its posts' text (the most engaged first when
    there is more than the budget). More candidates than shown are kept here so that
    ``_distinctive`` can drop the ones most questions share."""
    parts = _theme_text(posts, received, budget=THEME_TEXT_BUDGET)
    return _key_phrases(parts, language=_language(posts), top=THEMES * 4)


def _theme_text(
    posts: Sequence[ArchivedPost], received: Counter[PostRef], *, budget: int
) -> list[str]:
    """The posts' texts without links, mentions and hashtags, the most engaged first, up to
    ``budget`` characters."""
    ranked = sorted(
        posts,
        key=lambda p: (-(p.favourites + p.boosts + received[post_ref(p)]), p.created_at, p.id),
    )
    parts: list[str] = []
    size = 0
    for post in ranked:
        cleaned = _NOISE.sub(" ", post.text).strip()
        if not cleaned:
            continue
        if size + len(cleaned) > budget and parts:
            break
        # One stranger's very long post would otherwise be read whole, and YAKE's time
        # grows faster than the text: 300 KB took 11 s.
        parts.append(cleaned[:budget])
        size += len(parts[-1]) + 1
    return parts


def _language(posts: Iterable[ArchivedPost]) -> str:
    return _most_common(Counter((p.language or "en")[:2].lower() for p in posts))


def _most_common(languages: Counter[str]) -> str:
    return languages.most_common(1)[0][0] if languages else "en"


def _key_phrases(parts: Sequence[str], *, language: str, top: int) -> tuple[str, ...]:
    if not parts:
        return ()
    import yake  # costs ~0.2 s to import: only when themes are wanted

    extractor = yake.KeywordExtractor(lan=language, n=3, top=top, dedup_lim=0.7)
    # Each post ends a sentence, so that a phrase running from one post into the next shows
    # its full stop and is dropped. (YAKE's splitter wants a capital letter too to start a
    # new sentence; capitalising would split the counts of "Text" and "text".)
    text = "\n".join(part if part.endswith((".", "!", "?")) else part + "." for part in parts)
    keywords = extractor.extract_keywords(text)
    return tuple(
        str(phrase).lower() for phrase, _score in keywords if not _SENTENCE_END.search(phrase)
    )


def _distinctive(themes: Mapping[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    """Each question's best phrases, less those that most questions share (the chat's own
    subject, "thanks", "agreed"): they say nothing about one question in particular."""
    seen_in = Counter(phrase for phrases in themes.values() for phrase in set(phrases))
    shared = len(themes) // 2 + 1 if len(themes) >= 3 else len(themes) + 1
    return {
        number: _most_specific([p for p in phrases if seen_in[p] < shared])[:THEMES]
        for number, phrases in themes.items()
    }


def _most_specific(phrases: Sequence[str]) -> tuple[str, ...]:
    """ "paper surveys" says more than "surveys" or "paper": keep one phrase per idea, the
    longer one, at the rank of the first of them."""
    kept: list[str] = []
    for phrase in phrases:
        words = set(phrase.split())
        overlap = next((i for i, k in enumerate(kept) if words <= set(k.split())), None)
        if overlap is not None:
            continue
        wider = [i for i, k in enumerate(kept) if set(k.split()) <= words]
        if wider:
            kept[wider[0]] = phrase
            kept = [k for i, k in enumerate(kept) if i not in wider[1:]]
        else:
            kept.append(phrase)
    return tuple(kept)
