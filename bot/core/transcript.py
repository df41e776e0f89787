"""An occurrence's posts grouped by question, the way a reader follows the chat.

Each question is a heading (the bot's question posts, one per platform); under it come the
posts that answer it, and under each post the replies to it, however deep. A reply is shown
with what it replies to, even when its own time window points elsewhere: a conversation
is read together. The bot's closing post and the replies to it come after the questions, in
"Closing", even when the bot threaded the closing under the last question. Whatever belongs
to no question (introductions, chatter before Q1) goes in "Other posts". Deleted posts are
simply not in the input.

People who opted out stay in the transcript as posts of the chat, but are never named: each
entry says whether its author may be named.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.agenda import PlannedPost
from bot.core.model import ArchivedPost, Author

# (platform, id): ids are unique only within a platform.
PostRef = tuple[str, str]

OTHER_HEADING = "Other posts"
CLOSING_HEADING = "Closing"
GroupKind = Literal["question", "closing", "other"]
# Where a post goes before its group is built: a question's number, the closing, or None.
_Section = int | Literal["closing"] | None
# The agenda's slot of question n: "q3".
_QUESTION_SLOT = re.compile(r"q[0-9]+")


def post_ref(post: ArchivedPost) -> PostRef:
    return (post.platform, post.id)


def author_key(author: Author) -> str:
    """How an author is known across occurrences and in the opt-out list: platform and id,
    which survive a change of handle."""
    return f"{author.platform}:{author.id}"


def nameable(post: ArchivedPost, opted_out: Set[str]) -> bool:
    """Whether a public file may name the post's author and link to the post: not if they
    said "stop", nor if they asked their server to keep them off search engines (a
    transcript page is the open web)."""
    if post.is_own:
        return True
    return author_key(post.author) not in opted_out and not post.author.noindex


@dataclass(frozen=True)
class Question:
    number: int
    text: str  # the heading: the question as the bot asked it
    post_refs: frozenset[PostRef] = frozenset()  # the bot's posts of it, one per platform


@dataclass(frozen=True)
class Entry:
    post: ArchivedPost
    named: bool  # False: the author opted out, so the post is shown but never attributed
    # The post's place in the occurrence, in time order from 1: what a page links it by. A
    # post id would lead back to its author, whom a withheld entry must not name.
    number: int
    replies: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class Group:
    number: int | None  # None: the closing or the "Other posts" group
    heading: str
    question_posts: tuple[ArchivedPost, ...]  # the bot's posts of the question, if captured
    entries: tuple[Entry, ...]  # the posts that answer it directly, in time order
    kind: GroupKind = "question"

    @property
    def anchor(self) -> str:
        """The group's name in a page's address: q3, closing, other."""
        return f"q{self.number}" if self.kind == "question" else self.kind

    @property
    def asked_at(self) -> datetime | None:
        """When the question first went out on any platform, if its post was captured."""
        return min((p.created_at for p in self.question_posts), default=None)

    def walk(self) -> Iterator[tuple[Entry, int]]:
        """Every entry in reading order with its depth (0: answers the question itself).

        Iterative: a hostile reply chain thousands deep must not exhaust the stack.
        """
        stack = [(entry, 0) for entry in reversed(self.entries)]
        while stack:
            entry, depth = stack.pop()
            yield entry, depth
            stack.extend((reply, depth + 1) for reply in reversed(entry.replies))


@dataclass(frozen=True)
class Transcript:
    occurrence: str
    groups: tuple[Group, ...]

    def question_groups(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.number is not None)

    def rows(self) -> Iterator[tuple[Group, Entry, int]]:
        """Every post except the question headings, in reading order, with its depth."""
        for group in self.groups:
            for entry, depth in group.walk():
                yield group, entry, depth


def _time_order(post: ArchivedPost) -> tuple[object, ...]:
    # Ids are opaque; they only break ties so that the order is the same on every run.
    return (post.created_at, post.platform, post.id)


def questions_from_agenda(
    agenda: Sequence[PlannedPost],
    published: Mapping[str, str],
    *,
    hashtag: str,
    archived: Mapping[PostRef, ArchivedPost] | None = None,
) -> list[Question]:
    """The questions of an occurrence from its agenda and the ledger's published posts.

    ``published`` maps ledger keys (``chat/date/q3/platform``) to the remote ids of posts
    that went out; every platform counts, also one the chat file no longer names. The
    heading is the question's text without the hashtag the bot appends: as it went out, when
    ``archived`` (the occurrence's posts) holds the bot's post of it, since the host of a
    weekly series rewrites the chat file's questions for the next week; else as planned.
    """
    texts: dict[int, str] = {}
    for post in agenda:
        if post.kind == "question" and post.number is not None:
            texts.setdefault(post.number, post.text.removesuffix(f" {hashtag}"))
    refs: dict[int, set[PostRef]] = defaultdict(set)
    for slot, ref in _published_slots(published):
        if _QUESTION_SLOT.fullmatch(slot):
            refs[int(slot[1:])].add(ref)
    archived = archived or {}
    for number, posted in refs.items():
        # Mastodon's text first: X may have shortened the links in it.
        found = [archived[r] for r in sorted(posted, key=_mastodon_first) if r in archived]
        if found:
            texts[number] = " ".join(found[0].text.split()).removesuffix(f" {hashtag}")
    numbers = sorted(set(texts) | set(refs))
    return [Question(n, texts.get(n, f"Q{n}"), frozenset(refs[n])) for n in numbers]


def closing_refs(published: Mapping[str, str]) -> frozenset[PostRef]:
    """The bot's closing posts among the ledger's published keys (``chat/date/closing/x``)."""
    return frozenset(ref for slot, ref in _published_slots(published) if slot == "closing")


def _published_slots(published: Mapping[str, str]) -> Iterator[tuple[str, PostRef]]:
    """(slot, post) of each published ledger key: ``chat/date/q3/mastodon`` is q3's."""
    for key, remote_id in published.items():
        _, slot, platform = key.rsplit("/", 2)
        yield slot, (platform, remote_id)


def _mastodon_first(ref: PostRef) -> tuple[bool, str, str]:
    return (ref[0] != "mastodon", *ref)


def build_transcript(
    occurrence: str,
    posts: Sequence[ArchivedPost],
    questions: Sequence[Question],
    *,
    opted_out: Set[str] = frozenset(),
    closing: Set[PostRef] = frozenset(),
) -> Transcript:
    """Group an occurrence's archived posts by question, replies under what they reply to.

    ``opted_out`` holds the author keys (see ``author_key``) of people who asked not to be
    named; ``closing`` the bot's closing posts (see ``closing_refs``).
    """
    by_ref = {post_ref(p): p for p in posts}
    asked = {ref: q.number for q in questions for ref in q.post_refs}
    headings = {q.number: q.text for q in questions}

    # A closing threaded under the last question does not answer it: it starts its own group.
    parent_of = {
        ref: parent
        for ref, post in by_ref.items()
        if ref not in asked
        and ref not in closing
        and (parent := _parent(post, by_ref, asked)) is not None
    }
    _break_cycles(parent_of)

    children: dict[PostRef, list[PostRef]] = defaultdict(list)
    top: dict[_Section, list[PostRef]] = defaultdict(list)
    for ref, post in by_ref.items():
        if ref in asked:
            continue
        parent = parent_of.get(ref)
        if ref in closing:
            top["closing"].append(ref)
        elif parent is None:
            top[post.question].append(ref)
        elif parent in asked:
            top[asked[parent]].append(ref)
        else:
            children[parent].append(ref)

    entries = _entries(by_ref, top, children, opted_out)
    question_posts: dict[int, list[ArchivedPost]] = defaultdict(list)
    for ref, number in asked.items():
        if ref in by_ref:
            question_posts[number].append(by_ref[ref])

    numbers = sorted(set(headings) | {n for n in top if isinstance(n, int)})
    groups = [
        Group(
            number=n,
            heading=headings.get(n, f"Q{n}"),
            question_posts=tuple(sorted(question_posts[n], key=_time_order)),
            entries=entries.get(n, ()),
        )
        for n in numbers
    ]
    if top.get("closing"):
        groups.append(Group(None, CLOSING_HEADING, (), entries["closing"], kind="closing"))
    if top.get(None):
        groups.append(Group(None, OTHER_HEADING, (), entries[None], kind="other"))
    return Transcript(occurrence=occurrence, groups=tuple(groups))


def _parent(
    post: ArchivedPost, by_ref: Mapping[PostRef, ArchivedPost], asked: Mapping[PostRef, int]
) -> PostRef | None:
    if post.in_reply_to is None:
        return None
    parent = (post.platform, post.in_reply_to)
    if parent == post_ref(post) or (parent not in by_ref and parent not in asked):
        # Its parent was deleted, or was never part of the chat: it stands on its own.
        return None
    return parent


def _break_cycles(parent_of: dict[PostRef, PostRef]) -> None:
    """Real reply chains cannot loop, but the archive holds what servers sent: a loop would
    hide its posts from every group, so the link that closes it is dropped."""
    settled: set[PostRef] = set()
    for start in list(parent_of):
        path: list[PostRef] = []
        on_path: set[PostRef] = set()
        ref: PostRef | None = start
        while ref is not None and ref not in settled:
            if ref in on_path:
                del parent_of[path[-1]]
                break
            path.append(ref)
            on_path.add(ref)
            ref = parent_of.get(ref)
        settled.update(path)


def _entries(
    by_ref: Mapping[PostRef, ArchivedPost],
    top: Mapping[_Section, list[PostRef]],
    children: Mapping[PostRef, list[PostRef]],
    opted_out: Set[str],
) -> dict[_Section, tuple[Entry, ...]]:
    # Built leaves first, without recursion, so any depth of replies is fine.
    order: list[PostRef] = []
    stack = [ref for refs in top.values() for ref in refs]
    while stack:
        ref = stack.pop()
        order.append(ref)
        stack.extend(children.get(ref, ()))
    built: dict[PostRef, Entry] = {}
    numbers = {
        ref: n for n, ref in enumerate(sorted(order, key=lambda r: _time_order(by_ref[r])), 1)
    }
    for ref in reversed(order):
        post = by_ref[ref]
        replies = sorted(
            (built[child] for child in children.get(ref, ())), key=lambda e: _time_order(e.post)
        )
        built[ref] = Entry(
            post=post,
            named=nameable(post, opted_out),
            number=numbers[ref],
            replies=tuple(replies),
        )
    return {
        number: tuple(sorted((built[r] for r in refs), key=lambda e: _time_order(e.post)))
        for number, refs in top.items()
    }
