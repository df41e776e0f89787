"""Whether a host's boost from the console fits a platform's own caps. On Mastodon a host
overrules the bot's caps; X's automation rules forbid bulk reposting, so there the caps of
``platforms.x.repost`` hold for the hosts too (guests and co-hosts, ``always``, aside, as
for the bot)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.config_platforms import XRepost
from bot.core.curation import DoneBoost
from bot.core.durations import format_duration


def cap_refusal(
    caps: XRepost,
    done: Sequence[DoneBoost],
    *,
    question: int,
    author: str,
    always: bool,
    now: datetime,
) -> str | None:
    """Why one more repost now would break the caps, or None."""
    last = max((d.at for d in done), default=None)
    if last is not None and now - last < caps.min_interval:
        return (
            f"X allows one repost every {format_duration(caps.min_interval)} "
            f"(platforms.x.repost.min_interval): the last was "
            f"{format_duration(now - last)} ago"
        )
    if always:
        return None
    counted = [d for d in done if not d.always]
    if sum(1 for d in counted if d.window == question) >= caps.max_per_question:
        return (
            f"X's cap of {caps.max_per_question} reposts for this question is reached "
            "(platforms.x.repost.max_per_question)"
        )
    if sum(1 for d in counted if d.author == author) >= caps.max_per_author:
        return (
            f"X's cap of {caps.max_per_author} reposts per person is reached "
            "(platforms.x.repost.max_per_author)"
        )
    return None
