"""A simulated crowd for rehearsals, as data: who takes part in a chat (``Persona``), and
what each one does when (``CrowdPlan``: posts, favourites, edits, deletions). Pure:
``crowd_plan.plan_crowd`` draws it from a seed, ``crowd_player.CrowdPlayer`` plays it into
the rehearsal's servers. Times are chat time (as the chat file counts it) from the intro; a
rehearsal plays them compressed.

The crowd does what a real one does to the bot: introductions, answers numbered ``A1``..
with the hashtag, answers that reply to the question post without it, replies to each other,
favourites, a late answer to an earlier question, an edit, a deletion, a reply that is not
public; and the people the etiquette is for: one who tells the bot "stop", one with
``#nobot`` in their profile, one bot account. Every text is different from every other, so
no answer is marked down as a repeat by chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.core.text import has_hashtag

Role = Literal["regular", "lurker", "stopper", "nobot", "bot", "guest", "host"]
Visibility = Literal["public", "unlisted"]


@dataclass(frozen=True)
class Persona:
    username: str  # unique in the crowd: letters, digits and _
    display_name: str
    server: str | None  # None: an account on the bot's own server
    followers: int
    bio: str
    role: Role
    is_bot: bool = False


@dataclass(frozen=True)
class CrowdPost:
    at: timedelta  # after the intro, in chat time
    id: str  # the plan's name for the post ("c007"), for the actions that refer to it
    author: str  # username
    body: str  # the text after the mentions; carries the hashtag when tagged
    mentions: tuple[str, ...] = ()  # usernames the text starts with
    mentions_bot: bool = False
    reply_to: str | None = None  # a crowd post's id
    reply_to_bot: str | None = None  # a slot of the bot's: "intro", "q3", "closing"
    visibility: Visibility = "public"
    answers: int | None = None  # the question the author means to answer


@dataclass(frozen=True)
class Favourite:
    at: timedelta
    author: str
    post: str  # a crowd post's id


@dataclass(frozen=True)
class Edit:
    at: timedelta
    post: str
    body: str


@dataclass(frozen=True)
class Delete:
    at: timedelta
    post: str


Action = CrowdPost | Favourite | Edit | Delete


@dataclass(frozen=True)
class CrowdPlan:
    people: tuple[Persona, ...]
    actions: tuple[Action, ...]  # in time order

    def posts(self) -> list[CrowdPost]:
        return [a for a in self.actions if isinstance(a, CrowdPost)]

    def role(self, role: Role) -> list[Persona]:
        return [p for p in self.people if p.role == role]

    def summary(self, hashtag: str) -> str:
        """One line for the console: who the crowd is and what it will do."""
        posts = self.posts()
        untagged = sum(1 for p in posts if not has_hashtag(p.body, hashtag))

        def count(kind: type) -> int:
            return sum(1 for a in self.actions if isinstance(a, kind))

        people = [p for p in self.people if p.role != "host"]
        return (
            f"{len(people)} people, {len(posts)} posts ({untagged} without the hashtag), "
            f"{count(Favourite)} favourites, {count(Edit)} edited, {count(Delete)} deleted; "
            f'{len(self.role("stopper"))} will tell the bot "stop", '
            f"{len(self.role('nobot'))} has #nobot in their profile, "
            f"{len(self.role('bot'))} is a bot account"
        )
