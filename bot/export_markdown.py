"""The transcript as Markdown: the numbers, then the posts grouped by question, replies
indented; whatever a post says is escaped so that it reads as text, never as markup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.stats import Contributor
from bot.core.text import counted
from bot.core.transcript import Entry, post_ref
from bot.export_common import (
    MAX_INDENT,
    date_label,
    engagement_counts,
    entry_name,
    local_time,
    platform_label,
    safe_url,
    time_label,
)

if TYPE_CHECKING:
    from bot.exports import ExportContext


# Characters that Markdown (or the HTML it allows) would read as markup.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# These mean something only at the start of a line: headings, quotes, lists, underlines.
# (A number is escaped by its dot: "1\." since a backslash before a digit stays a backslash.)
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([-+=#>]|(?<=\d)[.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(r"\1\\\2", text)


def md_people(lists: Sequence[tuple[str, Sequence[Contributor]]]) -> list[str]:
    """Lines of named people with their counts, a paragraph per list that has anyone."""
    lines: list[str] = []
    for heading, people in lists:
        if people:
            named = ", ".join(f"{md_escape(c.author.handle)} ({c.count})" for c in people)
            lines += [f"**{heading}:** {named}", ""]
    return lines


def md_link(label: str, url: str | None) -> str:
    if url is None:
        return ""
    return f"[{label}](<{url.replace('(', '%28').replace(')', '%29')}>)"


def to_markdown(ctx: ExportContext) -> str:
    stats = ctx.stats
    lines = [
        f"# {md_escape(ctx.title)} ({md_escape(ctx.hashtag)})",
        "",
        f"{date_label(ctx)}, {time_label(ctx)}. The transcript of the chat, grouped by "
        "question; replies are indented under what they reply to.",
        "",
        "## The chat in numbers",
        "",
        f"- {counted(stats.participants, 'participant', 'participants')} "
        f"({stats.new_participants:,} new, {stats.returning_participants:,} returning)",
        f"- {counted(stats.posts, 'post', 'posts')}, "
        f"{counted(stats.answers, 'answer', 'answers')} to "
        f"{counted(len(stats.questions), 'question', 'questions')}",
        f"- {counted(stats.links_shared, 'link', 'links')} shared; busiest minute: "
        f"{counted(stats.peak_posts_per_minute, 'post', 'posts')}",
        f"- Potential reach: about {counted(stats.potential_reach, 'account', 'accounts')} "
        "(an estimate: the sum of the participants' followers)",
        "",
    ]
    if stats.questions:
        lines += [
            "| Question | Answers | Replies | People | Themes |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| Q{q.number} | {q.answers} | {q.replies} | {q.participants} | "
            f"{md_escape(', '.join(q.themes))} |"
            for q in stats.questions
        ]
        lines.append("")
    lines += md_people(
        [("Most posts", stats.top_posters), ("Most replies received", stats.top_replied)]
    )
    if stats.most_engaged:
        lines += ["**Most engaged answers:**", ""]
        lines += [
            f"{i}. {md_escape(e.post.author.handle)}, Q{e.question}: {engagement_counts(e)} "
            + md_link("link", safe_url(e.post.url))
            for i, e in enumerate(stats.most_engaged, start=1)
        ]
        lines.append("")
    for group in ctx.transcript.groups:
        lines += [f"## {md_escape(group.heading)}", ""]
        if group.asked_at:
            lines += [f"*Asked at {local_time(ctx, group.asked_at)}.*", ""]
        for entry, depth in ctx.walk(group):
            lines += _md_post(ctx, entry, min(depth, MAX_INDENT))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_post(ctx: ExportContext, entry: Entry, depth: int) -> list[str]:
    post = entry.post
    indent = "  " * depth
    who = f"**{md_escape(entry_name(entry))}**"
    if entry.named:
        who += f" ({md_escape(post.author.handle)})"
    meta = f"{local_time(ctx, post.created_at)} · {platform_label(post.platform)}"
    link = md_link("original", safe_url(post.url)) if entry.named else ""
    boosted = " · boosted" if post_ref(post) in ctx.boosted else ""
    head = f"{indent}- {who} · {meta}" + (f" · {link}" if link else "") + boosted
    lines = [line.strip() for line in post.text.strip().split("\n")]
    body = [
        # A hard line break ("  ") keeps each line of the post its own line.
        f"{indent}  {md_escape(line)}" + ("  " if i + 1 < len(lines) and lines[i + 1] else "")
        if line
        else ""
        for i, line in enumerate(lines)
    ]
    return [head + "  ", *body]
