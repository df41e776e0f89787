"""The transcript as files: one self-contained HTML page, Markdown, CSV and JSON.

Everything in a post is hostile until cleaned: the HTML body goes through nh3 (no script,
no event handler, no style, no image, links only to http(s)), names are isolated so that a
right-to-left override cannot spill, and the page forbids itself any request (a
Content-Security-Policy of ``default-src 'none'``) in case anything slipped through.
People who opted out (or whose account asks not to be indexed) appear without a name, and
without the link to their post or its id (the platform answers either with its author);
posts are anchored by their place in the transcript, never by their id.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from bot.atomic_file import write_whole
from bot.core.agenda import Occurrence
from bot.core.config import ChatConfig
from bot.core.model import ArchivedPost
from bot.core.sanitize import sanitize_html
from bot.core.stats import Contributor, EngagedPost, Stats
from bot.core.text import counted
from bot.core.transcript import Entry, Group, PostRef, Transcript, post_ref

if TYPE_CHECKING:
    from jinja2 import Environment

Format = Literal["html", "md", "csv", "json"]
FORMATS: tuple[Format, ...] = ("html", "md", "csv", "json")
CSV_COLUMNS = (
    "platform",
    "id",
    "url",
    "author",
    "created_at",
    "question",
    "is_answer",
    "boosted",
    "text",
)
WITHHELD = "(name withheld)"
PLATFORM_LABELS = {"mastodon": "Mastodon", "x": "X", "bluesky": "Bluesky"}
# Replies deeper than this are drawn at this depth: a phone screen has no room for more.
MAX_INDENT = 5

CHART_BLUE = "#3b6ea5"
CHART_RED = "#c0392b"

_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\]+", re.IGNORECASE)


@dataclass(frozen=True)
class _Row:
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
    def rows(self) -> list[_Row]:
        """Every post of the transcript, the bot's questions included, in time order."""
        rows = [
            _Row(post, True, group.number, False, post_ref(post) in self.boosted)
            for group in self.transcript.groups
            for post in group.question_posts
        ]
        rows += [
            _Row(
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


def write_export(ctx: ExportContext, fmt: Format, path: Path) -> Path:
    return write_whole(path, render(ctx, fmt))


# -- shared pieces ---------------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """A web address fit for a link, or None: never javascript:, data: or a relative path."""
    return url if url and _SAFE_URL.fullmatch(url) else None


def clean_post_html(post: ArchivedPost) -> str:
    """The post's body as markup that can run nothing and load nothing.

    The archive stores sanitized HTML already; it is cleaned again here because an archive
    may predate today's rules, and a page is no place to trust a database.
    """
    return sanitize_html(post.html if post.html.strip() else post.text)


def _platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform.capitalize())


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(ctx: ExportContext, at: datetime) -> str:
    return at.astimezone(ctx.zone).strftime("%H:%M")


def _date_label(ctx: ExportContext) -> str:
    local = ctx.start.astimezone(ctx.zone)
    return f"{local.day} {local:%B %Y}"


def _time_label(ctx: ExportContext) -> str:
    start, end = ctx.start.astimezone(ctx.zone), ctx.end.astimezone(ctx.zone)
    return f"{start:%H:%M}–{end:%H:%M} {start.tzname()}"


def _name(entry: Entry) -> str:
    if not entry.named:
        return WITHHELD
    author = entry.post.author
    return author.display_name.strip() or author.handle


def post_anchor(number: int) -> str:
    """A post's anchor on its transcript page: its place in the transcript, never its id
    (``Entry.number``)."""
    return f"p{number}"


def _row_fields(row: _Row) -> dict[str, Any]:
    return {
        "platform": row.post.platform,
        # The platform answers an id with its author: none for someone not to be named.
        "id": row.post.id if row.named else "",
        "url": (safe_url(row.post.url) or "") if row.named else "",
        "author": row.post.author.handle if row.named else WITHHELD,
        "created_at": iso_utc(row.post.created_at),
        "question": row.question,
        "is_answer": row.is_answer,
        "boosted": row.boosted,
        "text": row.post.text,
    }


# -- HTML ------------------------------------------------------------------------------------


def page_templates() -> Environment:
    """The Jinja environment of the HTML exports: autoescaped, and strict, so that a name
    missing from a page is an error rather than an empty string."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )


def to_html(ctx: ExportContext) -> str:
    from markupsafe import Markup

    env = page_templates()
    stats = ctx.stats
    chart = posts_per_minute_svg(ctx)
    return env.get_template(
        "transcript.html.j2"
    ).render(
        title=ctx.title,
        hashtag=ctx.hashtag,
        date_label=_date_label(ctx),
        time_label=_time_label(ctx),
        zone_label=ctx.start.astimezone(ctx.zone).tzname(),
        numbers=_numbers(stats),
        chart=Markup(chart) if chart else None,  # noqa: S704 - our own chart, no post text in it
        questions=stats.questions,
        contributors=[
            ("Most posts", [person_view(c) for c in stats.top_posters]),
            ("Most replies received", [person_view(c) for c in stats.top_replied]),
        ],
        engaged=[_engaged_view(e) for e in stats.most_engaged],
        links=stats.links[:10],
        groups=[_group_view(ctx, group, Markup) for group in ctx.transcript.groups],
    )


def _numbers(stats: Stats) -> list[tuple[str, str]]:
    return [
        ("Participants", f"{stats.participants:,}"),
        ("New", f"{stats.new_participants:,}"),
        ("Returning", f"{stats.returning_participants:,}"),
        ("Posts", f"{stats.posts:,}"),
        ("Answers", f"{stats.answers:,}"),
        ("Links shared", f"{stats.links_shared:,}"),
        ("Busiest minute", counted(stats.peak_posts_per_minute, "post", "posts")),
        ("Potential reach (estimate)", f"{stats.potential_reach:,}"),
    ]


def person_view(c: Contributor) -> dict[str, Any]:
    name = c.author.display_name.strip() or c.author.handle
    return {"name": name, "handle": c.author.handle, "count": c.count}


def _engaged_view(e: EngagedPost) -> dict[str, Any]:
    label = excerpt(e.post.text)
    return {
        "anchor": post_anchor(e.number),
        "label": f"Q{e.question}: {label}" if e.question else label,
        "name": e.post.author.display_name.strip() or e.post.author.handle,
        "counts": engagement_counts(e),
    }


def excerpt(text: str, limit: int = 80) -> str:
    """A post's text on one line, cut with an ellipsis past ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def engagement_counts(e: EngagedPost) -> str:
    return ", ".join(
        [
            counted(e.post.favourites, "favourite", "favourites"),
            counted(e.post.boosts, "boost", "boosts"),
            counted(e.replies, "reply", "replies"),
        ]
    )


@dataclass(frozen=True, slots=True)
class _PostView:
    # Attributes rather than dict keys: the template reads them 10 times per post, and Jinja
    # finds an attribute at once where a key costs it a failed lookup first.
    anchor: str
    classes: str
    name: str
    handle: str
    body: str
    iso: str
    time: str
    platform: str
    url: str | None
    boosted: bool


def _group_view(ctx: ExportContext, group: Group, markup: Any) -> dict[str, Any]:
    return {
        "anchor": group.anchor,
        "heading": group.heading,
        "asked": _local(ctx, group.asked_at) if group.asked_at else None,
        "posts": [_post_view(ctx, entry, depth, markup) for entry, depth in ctx.walk(group)],
    }


def _post_view(ctx: ExportContext, entry: Entry, depth: int, markup: Any) -> _PostView:
    post = entry.post
    indent = min(depth, MAX_INDENT)
    return _PostView(
        anchor=post_anchor(entry.number),
        classes=f"r d{indent}" if indent else "p",
        name=_name(entry),
        handle=post.author.handle if entry.named else "",
        body=markup(clean_post_html(post)),
        iso=iso_utc(post.created_at),
        time=_local(ctx, post.created_at),
        platform=_platform_label(post.platform),
        url=safe_url(post.url) if entry.named else None,
        boosted=post_ref(post) in ctx.boosted,
    )


def posts_per_minute_svg(ctx: ExportContext) -> str | None:
    """The posts-per-minute chart as inline SVG (questions marked), or None without posts."""
    minutes = ctx.stats.posts_per_minute
    if not minutes:
        return None
    origin = minutes[0].minute

    def offset(at: datetime) -> float:
        return (at - origin).total_seconds() / 60

    def clock(value: float, _position: int | None) -> str:
        return _local(ctx, origin + timedelta(minutes=value))

    def draw(axes: Any) -> None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        axes.bar(
            [offset(m.minute) for m in minutes],
            [m.posts for m in minutes],
            width=0.9,
            align="edge",
            color=CHART_BLUE,
        )
        for q in ctx.stats.questions:
            if q.asked_at is None:
                continue
            axes.axvline(offset(q.asked_at), color=CHART_RED, linewidth=1, linestyle="--")
            axes.annotate(
                f"Q{q.number}",
                (offset(q.asked_at), 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -10),
                textcoords="offset points",
                color=CHART_RED,
            )
        axes.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 5, 10]))
        axes.xaxis.set_major_formatter(FuncFormatter(clock))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("posts per minute")

    return svg_chart(draw, label="Posts per minute, questions marked")


def svg_chart(draw: Callable[[Any], None], *, label: str) -> str:
    """A chart as inline SVG: ``draw`` fills the axes. Drawn by matplotlib, with no script,
    no link and no font to fetch, the same bytes from run to run."""
    # About 0.35 s to import: only when a chart is drawn.
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # Text stays text (smaller, searchable); the fixed salt keeps the ids, and so the
    # file, the same from run to run.
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "tweetchat", "font.size": 9}
    ):
        figure = Figure(figsize=(8, 2.6))
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        draw(axes)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(
            out,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    svg = out.getvalue()
    # Inline SVG needs neither the XML prolog nor the DOCTYPE (which names a remote DTD).
    svg = svg[svg.index("<svg") :]
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)


# -- Markdown --------------------------------------------------------------------------------

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
        f"{_date_label(ctx)}, {_time_label(ctx)}. The transcript of the chat, grouped by "
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
            lines += [f"*Asked at {_local(ctx, group.asked_at)}.*", ""]
        for entry, depth in ctx.walk(group):
            lines += _md_post(ctx, entry, min(depth, MAX_INDENT))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_post(ctx: ExportContext, entry: Entry, depth: int) -> list[str]:
    post = entry.post
    indent = "  " * depth
    who = f"**{md_escape(_name(entry))}**"
    if entry.named:
        who += f" ({md_escape(post.author.handle)})"
    meta = f"{_local(ctx, post.created_at)} · {_platform_label(post.platform)}"
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


# -- CSV and JSON ----------------------------------------------------------------------------

_HANDLE = re.compile(r"@[\w.@-]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """Spreadsheets run a cell that starts like a formula: such text gets a leading quote.
    Handles start with @ but are plain, so they pass unchanged."""
    if value.startswith(_FORMULA_START) and not _HANDLE.fullmatch(value):
        return "'" + value
    return value


def to_csv(ctx: ExportContext) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in ctx.rows:
        fields = _row_fields(row)
        fields["question"] = "" if row.question is None else str(row.question)
        fields["is_answer"] = "true" if row.is_answer else "false"
        fields["boosted"] = "true" if row.boosted else "false"
        writer.writerow(csv_cell(str(fields[column])) for column in CSV_COLUMNS)
    return out.getvalue()


def to_json(ctx: ExportContext) -> str:
    document = {
        "chat": {
            "id": ctx.chat_id,
            "title": ctx.title,
            "hashtag": ctx.hashtag,
            "date": ctx.date,
            "start": iso_utc(ctx.start),
            "end": iso_utc(ctx.end),
        },
        "statistics": stats_json(ctx.stats),
    }
    # The statistics indented for reading, then the posts one per line: as easy to diff, and
    # three times faster to write (json indents in Python but writes a single line in C).
    head = json.dumps(document, ensure_ascii=False, indent=1).removesuffix("\n}")
    posts = ",\n  ".join(json.dumps(_row_fields(row), ensure_ascii=False) for row in ctx.rows)
    return f'{head},\n "posts": [\n  {posts}\n ]\n}}\n'


def stats_json(stats: Stats) -> dict[str, Any]:
    return {
        "participants": stats.participants,
        "new_participants": stats.new_participants,
        "returning_participants": stats.returning_participants,
        "posts": stats.posts,
        "answers": stats.answers,
        "potential_reach": {
            "accounts": stats.potential_reach,
            "estimate": True,
            "how": "the sum of the participants' followers",
        },
        "questions": [
            {
                "number": q.number,
                "heading": q.heading,
                "asked_at": iso_utc(q.asked_at) if q.asked_at else None,
                "answers": q.answers,
                "replies": q.replies,
                "participants": q.participants,
                "themes": list(q.themes),
                "top_answer": engaged_json(q.top_answer) if q.top_answer else None,
            }
            for q in stats.questions
        ],
        "top_posters": [contributor_json(c, "posts") for c in stats.top_posters],
        "top_replied": [contributor_json(c, "replies_received") for c in stats.top_replied],
        "most_engaged": [engaged_json(e) for e in stats.most_engaged],
        "links_shared": stats.links_shared,
        "links": [{"url": link.url, "posts": link.posts} for link in stats.links],
        "peak_posts_per_minute": stats.peak_posts_per_minute,
        "posts_per_minute": [
            {"minute": iso_utc(m.minute), "posts": m.posts} for m in stats.posts_per_minute
        ],
    }


def contributor_json(c: Contributor, count_name: str) -> dict[str, Any]:
    return {"author": c.author.handle, "name": c.author.display_name, count_name: c.count}


def engaged_json(e: EngagedPost) -> dict[str, Any]:
    return {
        "platform": e.post.platform,
        "id": e.post.id,
        "url": safe_url(e.post.url) or "",
        "author": e.post.author.handle,
        "question": e.question,
        "favourites": e.post.favourites,
        "boosts": e.post.boosts,
        "replies": e.replies,
        "engagement": e.engagement,
    }
