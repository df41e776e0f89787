"""The crowd's plan: who takes part (``crowd_people``), and what each one does when, in what
words (``crowd_texts``). Pure and seeded: the same chat file, seed and size give the same
people and the same actions, to the millisecond.

Everything that decides a question's boosts happens early in its window (answers, replies,
favourites), before the curator's first choice a quarter of the way in, and the replies the
bot finds only now and then (those without the hashtag) draw nothing that could make them
the best: so a rehearsal boosts the same answers from one run to the next, as long as the
machine keeps up with its speed. Late answers to earlier questions come after their
question's window has closed, as they do in real chats.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.config import ChatConfig
from bot.core.curation import text_fingerprint
from bot.core.text import has_hashtag
from bot.rehearsal.crowd import (
    Action,
    CrowdPlan,
    CrowdPost,
    Delete,
    Edit,
    Favourite,
    Persona,
    Visibility,
)
from bot.rehearsal.crowd_people import SPECIAL_ROLES_FROM, draw_people, named_accounts
from bot.rehearsal.crowd_texts import (
    ANY_TOPIC,
    INTRO_EXTRAS,
    INTRO_PLACES,
    INTRO_ROLES,
    LINK,
    ON_TOPIC,
    PREFIXES,
    REPLIES,
    REPLY_BACKS,
    REPLY_TOPICS,
    STOP,
    THANKS,
    keywords,
)

# The default size of the crowd: a chat of about 40 people, as the boost defaults assume.
DEFAULT_SIZE = 36

# Fractions of a question's window (see the module's docstring): answers come in its first
# twelfth, replies and favourites follow shortly, all well before the curator first chooses,
# a quarter of the way in. (An 8-minute question: answers in its first 40 seconds.)
_ANSWERS = (0.02, 0.06)
# Replies to the bot's post without the tag come last, and draw neither replies nor
# favourites: the bot finds them only when it next reads its posts' replies, and its choice
# must not depend on when that is.
_UNTAGGED_ANSWERS = (0.06, 0.08)
_STOP_AT = (0.04, 0.05)  # after the answer of whoever says it
_CHANGES = (0.08, 0.09)  # an edit, a deletion
_REPOST = (0.09, 0.10)  # after a deletion
_REPLIES_BY = 0.10
_FAVOURITES_BY = 0.12
# Late answers to the previous question, and thanks after the closing.
_LATE = (0.30, 0.90)
# A reply or a favourite comes at least this long after its post.
_GAP = timedelta(seconds=1)
# Drafts drawn for each text, so that one unlike every earlier text is found.
_DRAFTS = 30


@dataclass(frozen=True)
class _Window:
    number: int  # 0: the intro's
    start: timedelta
    end: timedelta

    def at(self, fraction: float) -> timedelta:
        return self.start + (self.end - self.start) * fraction


def _windows(config: ChatConfig) -> tuple[list[_Window], timedelta, timedelta]:
    """The intro's and each question's window, the closing and the end, from the intro."""
    posts = config.posts
    intro = posts.intro.at
    end = config.chat.duration - intro
    closing = posts.closing.at - intro if posts.closing is not None else end
    marks = [timedelta(0), *(max(q.at - intro, timedelta(0)) for q in posts.questions)]
    windows = [
        _Window(n, start, marks[n + 1] if n + 1 < len(marks) else max(closing, start))
        for n, start in enumerate(marks)
    ]
    return windows, closing, max(end, closing)


def plan_crowd(config: ChatConfig, *, seed: int, size: int = DEFAULT_SIZE) -> CrowdPlan:
    """The crowd of a rehearsal of ``config``: ``size`` invented people (plus the accounts the
    chat file names: its guests, who answer, and its hosts, who only approve boosts)."""
    rng = random.Random(seed)
    people = draw_people(rng, size) + named_accounts(config)
    return _Planner(rng, config, people).plan()


class _Planner:
    """Draws the crowd's actions window by window; every draw comes from one generator, in
    a fixed order, so a seed always gives the same plan."""

    def __init__(self, rng: random.Random, config: ChatConfig, people: list[Persona]) -> None:
        self.rng = rng
        self.config = config
        self.people = people
        self.hashtag = config.chat.hashtag
        self.actions: list[Action] = []
        self.used_times: set[int] = set()
        self.used_texts: set[str] = set()
        self.doomed: set[str] = set()  # posts to be deleted: nobody engages with them
        self.title_topics = keywords(config.chat.title) or ["this"]
        self.topics = [keywords(q.text) or self.title_topics for q in config.posts.questions]
        # How likely each person is to answer a question, and how much their posts draw.
        self.activity = {p.username: rng.uniform(0.35, 0.95) for p in people}
        self.appeal = {p.username: rng.uniform(0.0, 1.0) ** 2 for p in people}
        for p in people:
            if p.role in ("guest", "stopper"):
                self.activity[p.username] = 1.0
            elif p.role in ("lurker", "host"):
                self.activity[p.username] = 0.0
            if p.role == "nobot":
                self.appeal[p.username] = 1.0  # the best answers: the ones the bot must skip
        self.speakers = [p for p in people if p.role not in ("lurker", "host", "bot")]
        self.fans = [p for p in people if p.role not in ("host", "bot")]
        self.stopper = next((p for p in people if p.role == "stopper"), None)
        self.bot_account = next((p for p in people if p.role == "bot"), None)
        regulars = [p for p in people if p.role == "regular"]
        self.deleter: Persona | None = None
        self.editor: Persona | None = None
        self.hidden: Persona | None = None  # answers once in a reply that is not public
        if len(people) >= SPECIAL_ROLES_FROM and len(regulars) >= 3:
            self.deleter, self.editor, self.hidden = rng.sample(regulars, 3)
            # They answer the question where their moment comes (see ``_window``).
            for p in (self.deleter, self.editor):
                self.activity[p.username] = 1.0

    def plan(self) -> CrowdPlan:
        windows, closing, end = _windows(self.config)
        for window in windows:
            self._window(window)
            if window.number > 0:
                nxt = window.number + 1
                later = windows[nxt] if nxt < len(windows) else _Window(-1, closing, end)
                self._late_answers(window.number, later)
        if self.config.posts.closing is not None and end > closing:
            self._thanks(_Window(-1, closing, end))
        self._bot_posts(windows)
        ordered = sorted(self.actions, key=lambda a: (a.at, _kind_order(a)))
        return CrowdPlan(tuple(self.people), tuple(ordered))

    # -- time and text ---------------------------------------------------------------------

    def _time(self, window: _Window, low: float, high: float) -> timedelta:
        """A moment between two fractions of the window, to the millisecond, that no other
        post or favourite has."""
        start = _ms(window.at(low))
        span = max(_ms(window.at(high)) - start, 1)
        ms = start + self.rng.randrange(span)
        while ms in self.used_times:
            ms += 1
        self.used_times.add(ms)
        return timedelta(milliseconds=ms)

    def _fraction(self, window: _Window, at: timedelta) -> float:
        return (at - window.start) / (window.end - window.start)

    def _unique(self, drafts: Sequence[str]) -> str:
        """The first draft that says something no post of the crowd has said yet."""
        for text in drafts:
            fingerprint = text_fingerprint(text)
            if fingerprint not in self.used_texts:
                self.used_texts.add(fingerprint)
                return text
        n = 2
        while text_fingerprint(f"{drafts[-1]} (take {n})") in self.used_texts:
            n += 1
        text = f"{drafts[-1]} (take {n})"
        self.used_texts.add(text_fingerprint(text))
        return text

    def _answer_text(self, number: int) -> str:
        drafts = []
        for _ in range(_DRAFTS):
            kw = self.rng.choice(self.topics[number - 1])
            sentences = [self.rng.choice(ON_TOPIC).format(kw=kw)]
            if self.rng.random() < 0.6:
                sentences.insert(self.rng.randrange(2), self.rng.choice(ANY_TOPIC))
            text = " ".join(sentences)
            if self.rng.random() < 0.08:
                text += LINK.format(slug=kw)
            drafts.append(text[:1].upper() + text[1:])
        return self._unique(drafts)

    def _reply_text(self, topics: Sequence[str]) -> str:
        drafts = []
        for _ in range(_DRAFTS):
            kw = self.rng.choice(topics)
            extra = self.rng.choice(REPLY_TOPICS).format(kw=kw)
            drafts.append(f"{self.rng.choice(REPLIES)} {extra}".strip())
        return self._unique(drafts)

    def _intro_text(self) -> str:
        drafts = []
        for _ in range(_DRAFTS):
            text = f"Hi all! {self.rng.choice(INTRO_ROLES)} {self.rng.choice(INTRO_PLACES)} here."
            drafts.append(f"{text} {self.rng.choice(INTRO_EXTRAS)}".strip())
        return self._unique(drafts)

    def _two_part(self, parts: tuple[Sequence[str], Sequence[str]]) -> str:
        drafts = []
        for _ in range(_DRAFTS):
            drafts.append(f"{self.rng.choice(parts[0])} {self.rng.choice(parts[1])}".strip())
        return self._unique(drafts)

    def _prefix(self, number: int) -> str:
        return self.rng.choice(PREFIXES).format(n=number)

    def _tagged(self, text: str) -> str:
        return f"{text} {self.hashtag}"

    # -- posts -----------------------------------------------------------------------------

    def _post(
        self,
        at: timedelta,
        author: Persona,
        body: str,
        *,
        mentions: tuple[str, ...] = (),
        mentions_bot: bool = False,
        reply_to: str | None = None,
        reply_to_bot: str | None = None,
        visibility: Visibility = "public",
        answers: int | None = None,
    ) -> CrowdPost:
        post = CrowdPost(
            at=at,
            id=f"c{sum(1 for a in self.actions if isinstance(a, CrowdPost)) + 1:04d}",
            author=author.username,
            body=body,
            mentions=mentions,
            mentions_bot=mentions_bot or reply_to_bot is not None,
            reply_to=reply_to,
            reply_to_bot=reply_to_bot,
            visibility=visibility,
            answers=answers,
        )
        self.actions.append(post)
        return post

    def _window(self, window: _Window) -> None:
        """Everyone's part in one window: answers (introductions, in the intro's), the
        replies they draw, favourites, and the window's special moments."""
        number = window.number
        slot = "intro" if number == 0 else f"q{number}"
        answered: list[tuple[CrowdPost, bool]] = []  # (post, in the bot's thread)
        for person in self.speakers:
            chance = 0.7 if number == 0 else self.activity[person.username]
            if self.rng.random() >= chance:
                continue
            stopping = person is self.stopper and number == 1
            # Whoever says stop answers first, then says it, well before any boost.
            post = self._answer(person, window, slot, first=stopping)
            answered.append((post, post.reply_to_bot is not None))
            if stopping:
                self._post(self._time(window, *_STOP_AT), person, STOP, mentions_bot=True)
            if number == 2 and person is self.deleter:
                self._delete_and_repost(person, window, post)
            if number == 3 and person is self.editor:
                self._edit(window, post)
        if number == 4 and self.hidden is not None:
            self._post(
                self._time(window, *_UNTAGGED_ANSWERS),
                self.hidden,
                self._prefix(number) + self._answer_text(number),
                reply_to_bot=slot,
                visibility="unlisted",
                answers=number,
            )
        topics = self.topics[number - 1] if number else self.title_topics
        for post, in_thread in answered:
            if post.id in self.doomed or not has_hashtag(post.body, self.hashtag):
                continue
            self._conversation(window, post, in_thread, topics)
            self._favourites(window, post)

    def _answer(self, person: Persona, window: _Window, slot: str, *, first: bool) -> CrowdPost:
        """An introduction or an answer, in one of the forms people use; ``first``: among
        the first answers of the window."""
        number = window.number
        form = self.rng.random()
        untagged = form < (0.25 if number == 0 else 0.20)
        at = self._time(
            window, *((0.02, 0.03) if first else _UNTAGGED_ANSWERS if untagged else _ANSWERS)
        )
        if number == 0:
            text = self._intro_text()
            if untagged:
                return self._post(at, person, text, reply_to_bot=slot)
            return self._post(at, person, self._tagged(text))
        text = self._answer_text(number)
        if untagged:
            # A reply to the question itself: the client adds the bot's mention; few people
            # add the tag, half add the number.
            prefix = self._prefix(number) if self.rng.random() < 0.5 else ""
            return self._post(at, person, prefix + text, reply_to_bot=slot, answers=number)
        text = self._prefix(number) + text if form >= 0.35 or form < 0.25 else text
        if form < 0.25:
            return self._post(at, person, self._tagged(text), reply_to_bot=slot, answers=number)
        # With the tag; without a number (form < 0.35) it is tied to the question by time.
        return self._post(at, person, self._tagged(text), answers=number)

    def _conversation(
        self, window: _Window, post: CrowdPost, in_thread: bool, topics: Sequence[str]
    ) -> None:
        """Now and then someone replies to a post, and its author answers back. Nobody
        replies to whoever said stop: the reply would name them."""
        author = self._person(post.author)
        if author is self.stopper or self.rng.random() >= 0.25 + 0.5 * self.appeal[post.author]:
            return
        others = [p for p in self.speakers if p is not author and p is not self.stopper]
        if not others or self._fraction(window, post.at + _GAP) >= _REPLIES_BY:
            return
        replier = self.rng.choice(others)
        reply = self._reply(window, post, replier, self._reply_text(topics), in_thread)
        if not has_hashtag(reply.body, self.hashtag):
            return  # see _UNTAGGED_ANSWERS
        if self.rng.random() < 0.4 and self._fraction(window, reply.at + _GAP) < _REPLIES_BY:
            self._reply(window, reply, author, self._two_part(REPLY_BACKS), in_thread)

    def _reply(
        self, window: _Window, parent: CrowdPost, author: Persona, text: str, in_thread: bool
    ) -> CrowdPost:
        # In the bot's thread the tag is often left out: the reply is found through the thread.
        tagged = not in_thread or self.rng.random() < 0.5
        return self._post(
            self._time(window, self._fraction(window, parent.at + _GAP), _REPLIES_BY),
            author,
            self._tagged(text) if tagged else text,
            mentions=(parent.author,),
            reply_to=parent.id,
        )

    def _favourites(self, window: _Window, post: CrowdPost) -> None:
        start = self._fraction(window, post.at + _GAP)
        fans = [p for p in self.fans if p.username != post.author]
        count = min(len(fans), int(self.appeal[post.author] * self.rng.uniform(0, 6)))
        if start >= _FAVOURITES_BY:
            return
        for fan in self.rng.sample(fans, count):
            at = self._time(window, start, _FAVOURITES_BY)
            self.actions.append(Favourite(at=at, author=fan.username, post=post.id))

    def _delete_and_repost(self, person: Persona, window: _Window, post: CrowdPost) -> None:
        """An answer posted in haste: deleted, and posted again."""
        self.doomed.add(post.id)
        self.actions.append(Delete(at=self._time(window, *_CHANGES), post=post.id))
        number = window.number
        text = self._tagged(self._prefix(number) + self._answer_text(number))
        self._post(self._time(window, *_REPOST), person, text, answers=number)

    def _edit(self, window: _Window, post: CrowdPost) -> None:
        body = post.body.removesuffix(f" {self.hashtag}")
        edited = f"{body} (Edited: typo.)" + post.body[len(body) :]
        self.used_texts.add(text_fingerprint(edited))
        self.actions.append(Edit(at=self._time(window, *_CHANGES), post=post.id, body=edited))

    def _late_answers(self, number: int, later: _Window) -> None:
        """A few answers to question ``number`` once the next one has been asked."""
        for person in self.speakers:
            if person is self.stopper or self.rng.random() >= 0.08:
                continue
            text = self._tagged(self._prefix(number) + self._answer_text(number))
            self._post(self._time(later, *_LATE), person, text, answers=number)

    def _thanks(self, after: _Window) -> None:
        for person in self.speakers:
            if self.rng.random() >= 0.3:
                continue
            text = self._two_part(THANKS)
            at = self._time(after, 0.05, 0.5)
            if self.rng.random() < 0.3:
                self._post(at, person, text, reply_to_bot="closing")
            else:
                self._post(at, person, self._tagged(text))

    def _bot_posts(self, windows: Sequence[_Window]) -> None:
        """The bot account cross-posts links into the hashtag now and then."""
        if self.bot_account is None:
            return
        for part, window in enumerate(windows[1::2], start=1):
            kw = self.rng.choice(self.topics[window.number - 1])
            text = self._unique([f"New on the blog, part {part}: what we learned about {kw}."])
            link = f"https://news.example/posts/{kw}-{part}"
            self._post(
                self._time(window, 0.3, 0.7), self.bot_account, self._tagged(f"{text} {link}")
            )

    def _person(self, username: str) -> Persona:
        return next(p for p in self.people if p.username == username)


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))


def _kind_order(action: Action) -> int:
    # At the same millisecond a post comes before what refers to it.
    return 0 if isinstance(action, CrowdPost) else 1
