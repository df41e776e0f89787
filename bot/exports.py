"""The transcript as files: one self-contained HTML page, Markdown, CSV and JSON.

Everything in a post is hostile until cleaned: the HTML body goes through nh3 (no script,
no event handler, no style, no image, links only to http(s)), names are isolated so that a
right-to-left override cannot spill, and the page forbids itself any request (a
Content-Security-Policy of ``default-src 'none'``) in case anything slipped through.
People who opted out (or whose account asks not to be indexed) appear without a name, and
without the link to their post or its id (the platform answers either with its author);
posts are anchored by their place in the transcript, never by their id.

This module holds what is exported (the context), the choice of format and the writing;
each format has its own module: ``bot.export_html`` (the page and its chart),
``bot.export_markdown``, ``bot.export_data`` (CSV and JSON), and ``bot.export_common`` the
pieces they share.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from bot.atomic_file import write_whole
from bot.core.agenda import Occurrence
from bot.core.config import ChatConfig
from bot.core.model import ArchivedPost
from bot.core.stats import Stats
from bot.core.transcript import Entry, Group, PostRef, Transcript, post_ref
from bot.export_data import to_csv, to_json
from bot.export_html import to_html
from bot.export_markdown import to_markdown

Format = Literal["html", "md", "csv", "json"]
FORMATS: tuple[Format, ...] = ("html", "md", "csv", "json")


@dataclass(frozen=True)
class Row:
    """One post as the flat formats list it."""

    post: ArchivedPost
    named: bool
    question: int | None
    is_answer: bool
    boosted: bool


@dataclass(frozen=True)
class ExportContext:
    title: str
    hashtag: str
    chat_id: str
    date: str  # the occurrence's local date, ISO
    start: datetime
    end: datetime
    zone: tzinfo
    transcript: Transcript
    stats: Stats
    boosted: frozenset[PostRef] = frozenset()
    # Posts left out of the files (their numbers still count): with ``wrapup.noindex: omit``,
    # those of people who opted out of search engines.
    left_out: frozenset[PostRef] = frozenset()

    @property
    def basename(self) -> str:
        return transcript_basename(self.chat_id, self.date)

    @cached_property
    def rows(self) -> list[Row]:
        """Every post of the transcript, the bot's questions included, in time order."""
        rows = [
            Row(post, True, group.number, False, post_ref(post) in self.boosted)
            for group in self.transcript.groups
            for post in group.question_posts
        ]
        rows += [
            Row(
                entry.post,
                entry.named,
                group.number,
                group.number is not None and depth == 0 and not entry.post.is_own,
                post_ref(entry.post) in self.boosted,
            )
            for group, entry, depth in self.transcript.rows()
            if self.shown(entry)
        ]
        return sorted(
            rows, key=lambda r: (r.post.created_at.timestamp(), r.post.platform, r.post.id)
        )

    def shown(self, entry: Entry) -> bool:
        return post_ref(entry.post) not in self.left_out

    def walk(self, group: Group) -> Iterator[tuple[Entry, int]]:
        """The group's entries that the files show, with their depth; the replies to a post
        left out keep their place."""
        return ((e, d) for e, d in group.walk() if self.shown(e))


def export_context(
    config: ChatConfig,
    occurrence: Occurrence,
    transcript: Transcript,
    stats: Stats,
    *,
    boosted: Set[PostRef] = frozenset(),
) -> ExportContext:
    return ExportContext(
        title=config.chat.title,
        hashtag=config.chat.hashtag,
        chat_id=config.chat.id,
        date=occurrence.date,
        start=occurrence.start,
        end=occurrence.end,
        zone=ZoneInfo(config.chat.timezone),
        transcript=transcript,
        stats=stats,
        boosted=frozenset(boosted),
        left_out=frozenset(
            post_ref(entry.post)
            for _, entry, _ in transcript.rows()
            if entry.post.author.noindex and not entry.post.is_own
        )
        if config.wrapup.noindex == "omit"
        else frozenset(),
    )


def render(ctx: ExportContext, fmt: Format) -> str:
    renderers = {"html": to_html, "md": to_markdown, "csv": to_csv, "json": to_json}
    return renderers[fmt](ctx)


def transcript_basename(chat_id: str, date: str) -> str:
    """The name of an occurrence's transcript files, without the extension."""
    return f"{chat_id}-{date}"


def write_exports(
    ctx: ExportContext, folder: Path, formats: Sequence[Format] = FORMATS
) -> list[Path]:
    """Write each format to ``folder/<chat>-<date>.<ext>``; returns the paths written."""
    return [write_export(ctx, fmt, folder / f"{ctx.basename}.{fmt}") for fmt in formats]


def export_target(output: Path | None, folder: Path, filename: str) -> Path:
    """Where an export goes: to ``output``, or into it when it is a folder; by default, into
    the chat's wrapup ``folder``."""
    target = output if output is not None else folder
    return target / filename if output is None or target.is_dir() else target


def write_export(ctx: ExportContext, fmt: Format, path: Path) -> Path:
    return write_whole(path, render(ctx, fmt))
