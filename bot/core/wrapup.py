"""The wrap-up thread: thanks, the numbers, each question's top answer, the transcript link.

Written per platform, split to fit its length rule and numbered ``1/4``..., as planned posts
with stable keys (``chat/date/wrapup-1/platform``) so that they go through the ledger like
every other post: never twice, also across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.core.agenda import Occurrence, PlannedPost
from bot.core.checks import platform_limits
from bot.core.config import ChatConfig
from bot.core.links import checked_handle, vouched_post_url
from bot.core.stats import EngagedPost, Stats
from bot.core.text import BLUESKY_MAX_GRAPHEMES, X_MAX_CHARACTERS, counted, x_length

# Between two parts of one post.
_SEPARATOR = "\n\n"


def wrapup_delay(config: ChatConfig) -> timedelta:
    """How long after the end the wrap-up goes out. The followers read the hashtag one last
    time when the capture closes (end + after): the wrap-up is composed a polling interval
    later, so that it counts what they found."""
    return config.wrapup.after + config.follow.poll_interval


def wrapup_time(config: ChatConfig, occurrence: Occurrence) -> datetime:
    return occurrence.end + wrapup_delay(config)


def wrapup_thread(
    config: ChatConfig,
    occurrence: Occurrence,
    stats: Stats,
    *,
    limits: Mapping[str, int] | None = None,
    platforms: Sequence[str] | None = None,
) -> list[PlannedPost]:
    """The wrap-up posts of every platform (``platforms``: the chat's by default), in
    thread order; ``limits`` overrides the platforms' post length limits."""
    # A platform asked for but not configured (a preview) gets that platform's usual limit.
    known = {
        "mastodon": 500,
        "x": X_MAX_CHARACTERS,
        "bluesky": BLUESKY_MAX_GRAPHEMES,
        **platform_limits(config),
        **(limits or {}),
    }
    at = wrapup_time(config, occurrence)
    posts: list[PlannedPost] = []
    for platform in platforms or config.platforms.names():
        texts = split_thread(
            wrapup_parts(config, occurrence, stats, platform), platform, known.get(platform, 500)
        )
        keys: list[str] = []
        for i, text in enumerate(texts, start=1):
            key = f"{occurrence.id}/wrapup-{i}/{platform}"
            posts.append(
                PlannedPost(
                    key=key,
                    occurrence=occurrence.id,
                    slot=f"wrapup-{i}",
                    kind="wrapup",
                    number=None,
                    platform=platform,
                    at=at,
                    text=text,
                    replies_to=tuple(reversed(keys)),
                )
            )
            keys.append(key)
    return posts


def wrapup_parts(
    config: ChatConfig, occurrence: Occurrence, stats: Stats, platform: str
) -> list[str]:
    """The paragraphs of the thread, before splitting: each stays whole when it fits."""
    chat = config.chat
    parts = [f"Thank you all for joining {chat.hashtag}: {chat.title}!"]
    if stats.posts:
        parts.append(_numbers(stats))
    else:
        parts.append("Nobody answered this time; we will try again.")
    mastodon = config.platforms.mastodon
    instance = mastodon.instance if mastodon is not None else None
    for question in stats.questions:
        answer = question.top_answer
        # Never the url its server sent: the bot links only where it can vouch for.
        url = vouched_post_url(answer.post, instance=instance) if answer else None
        if answer is not None and url is not None:
            parts.append(
                f"Q{question.number} top answer"
                + _by(answer, platform, mention=config.wrapup.mention)
                + f": {url}"
            )
    if config.wrapup.transcript_url:
        parts.append(f"The transcript: {config.wrapup.transcript_url.format(date=occurrence.date)}")
    return parts


def _numbers(stats: Stats) -> str:
    questions = len(stats.questions)
    text = (
        f"{counted(stats.participants, 'person', 'people')} took part, with "
        f"{counted(stats.posts, 'post', 'posts')} and "
        f"{counted(stats.answers, 'answer', 'answers')} to "
        f"{counted(questions, 'question', 'questions')}."
    )
    if stats.returning_participants and stats.new_participants:
        text += f" {stats.new_participants:,} of you came for the first time: welcome!"
    if stats.potential_reach:
        text += (
            f" Potential reach: about {counted(stats.potential_reach, 'account', 'accounts')} "
            "(an estimate: the sum of your followers)."
        )
    return text


def _by(answer: EngagedPost, platform: str, *, mention: bool) -> str:
    # A handle means something only on its own platform; elsewhere the link says who.
    if mention and answer.post.platform == platform:
        handle = checked_handle(answer.post.author.handle, platform)
        return f", by {handle}" if handle else ""
    return ""


def _length(platform: str, text: str) -> int:
    """A wrap-up is mostly links. X always counts a link as 23; Mastodon does too, but other
    servers of its API count every character of it, so outside X the literal length is used:
    never less than any of them counts, it never gets a part refused."""
    return x_length(text) if platform == "x" else len(text)


def split_thread(parts: Sequence[str], platform: str, limit: int) -> list[str]:
    """Pack the parts into as few posts as fit ``limit`` (see ``_length``), numbered
    ``1/N `` when there is more than one; a part too long for any post is cut at spaces."""
    whole = _SEPARATOR.join(parts)
    if _length(platform, whole) <= limit:
        return [whole]
    for digits in (1, 2, 3, 4):
        room = limit - len(f"{'9' * digits}/{'9' * digits} ")
        pieces = [piece for part in parts for piece in _cut(part, platform, room)]
        bodies = _pack(pieces, platform, room)
        if len(bodies) < 10**digits:
            break
    return [f"{i}/{len(bodies)} {body}" for i, body in enumerate(bodies, start=1)]


def _pack(pieces: Sequence[str], platform: str, room: int) -> list[str]:
    bodies: list[str] = []
    for piece in pieces:
        joined = f"{bodies[-1]}{_SEPARATOR}{piece}" if bodies else piece
        if bodies and _length(platform, joined) <= room:
            bodies[-1] = joined
        else:
            bodies.append(piece)
    return bodies


def _cut(part: str, platform: str, room: int) -> list[str]:
    if _length(platform, part) <= room:
        return [part]
    pieces: list[str] = []
    current = ""
    for word in part.split():
        for chunk in _chunks(word, platform, room):
            joined = f"{current} {chunk}" if current else chunk
            if current and _length(platform, joined) > room:
                pieces.append(current)
                current = chunk
            else:
                current = joined
    if current:
        pieces.append(current)
    return pieces


def _chunks(word: str, platform: str, room: int) -> list[str]:
    """A word longer than a whole post (a URL never is: it counts 23) is cut by characters."""
    if _length(platform, word) <= room:
        return [word]
    chunks: list[str] = []
    current = ""
    for char in word:
        if current and _length(platform, current + char) > room:
            chunks.append(current)
            current = ""
        current += char
    return [*chunks, current] if current else chunks
