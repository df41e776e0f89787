"""A series' numbers as files: how a weekly chat is doing, occurrence after occurrence.

The same four formats as a transcript: a self-contained HTML page (its chart drawn by
matplotlib, links to each occurrence's transcript beside it), Markdown, CSV with one row per
occurrence, and JSON. People who opted out are counted but never named, as in a transcript.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.atomic_file import write_whole
from bot.core.agenda import occurrence_date
from bot.core.config import ChatConfig
from bot.core.stats import EngagedPost, SeriesStats
from bot.core.text import counted
from bot.export_common import engagement_counts, safe_url
from bot.export_data import contributor_json, csv_cell, engaged_json
from bot.export_html import CHART_BLUE, excerpt, page_templates, person_view, post_anchor, svg_chart
from bot.export_markdown import md_escape, md_link, md_people
from bot.exports import FORMATS, Format, transcript_basename

CSV_COLUMNS = (
    "date",
    "participants",
    "new_participants",
    "returning_participants",
    "posts",
    "answers",
    "links_shared",
    "peak_posts_per_minute",
    "potential_reach",
    "most_engaged_url",
)
CHART_GREY = "#9aa7b4"
# Dates on the chart's axis: more would overlap on a phone.
CHART_DATES = 7
# How attendance is told: once, twice, 3 to 5 times... (a year of weekly chats has 52 counts).
ATTENDANCE_BANDS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 25), (26, None))


@dataclass(frozen=True)
class SeriesContext:
    title: str
    hashtag: str
    chat_id: str
    stats: SeriesStats
    transcript_url: str | None = None  # where the transcripts are published; {date} in it

    @property
    def basename(self) -> str:
        return f"{self.chat_id}-series"


def series_context(config: ChatConfig, stats: SeriesStats) -> SeriesContext:
    return SeriesContext(
        title=config.chat.title,
        hashtag=config.chat.hashtag,
        chat_id=config.chat.id,
        stats=stats,
        transcript_url=config.wrapup.transcript_url,
    )


def render_series(ctx: SeriesContext, fmt: Format) -> str:
    renderers = {"html": to_html, "md": to_markdown, "csv": to_csv, "json": to_json}
    return renderers[fmt](ctx)


def write_series_exports(
    ctx: SeriesContext, folder: Path, formats: Sequence[Format] = FORMATS
) -> list[Path]:
    """Write each format to ``folder/<chat>-series.<ext>``; returns the paths written."""
    return [
        write_whole(folder / f"{ctx.basename}.{fmt}", render_series(ctx, fmt)) for fmt in formats
    ]


def _date_label(day: str) -> str:
    local = date.fromisoformat(day)
    return f"{local.day} {local:%b %Y}"


def _span(stats: SeriesStats) -> str:
    if not stats.occurrences:
        return "no occurrence yet"
    first, last = stats.occurrences[0].date, stats.occurrences[-1].date
    held = counted(len(stats.occurrences), "occurrence", "occurrences")
    if first == last:
        return f"{held}, {_date_label(first)}"
    return f"{held}, {_date_label(first)} to {_date_label(last)}"


def _attendance(stats: SeriesStats) -> list[str]:
    """How often people came, in bands: "12 people came once", "3 people came 3 to 5 times"."""
    most = max((a.occurrences for a in stats.attendance), default=0)
    labels = []
    for low, high in ATTENDANCE_BANDS:
        top = most if high is None else min(high, most)
        people = sum(a.people for a in stats.attendance if low <= a.occurrences <= top)
        if people:
            times = {1: "once", 2: "twice"}.get(low, f"{low} times")
            if top > low:
                times = f"{low} to {top} times"
            labels.append(f"{counted(people, 'person', 'people')} came {times}")
    return labels


def _transcript_link(ctx: SeriesContext, day: str) -> str:
    """An occurrence's transcript page: where the host publishes it (``transcript_url``),
    else the file written beside this one in the same folder."""
    if ctx.transcript_url:
        return ctx.transcript_url.format(date=day)
    return f"{transcript_basename(ctx.chat_id, day)}.html"


# -- HTML ------------------------------------------------------------------------------------


def to_html(ctx: SeriesContext) -> str:
    from markupsafe import Markup

    stats = ctx.stats
    chart = participants_svg(stats)
    return (
        page_templates()
        .get_template("series.html.j2")
        .render(
            title=ctx.title,
            hashtag=ctx.hashtag,
            span=_span(stats),
            numbers=_numbers(stats),
            chart=Markup(chart) if chart else None,  # noqa: S704 - our own chart, no post text in it
            themes=stats.themes,
            attendance=_attendance(stats),
            occurrences=[
                {
                    "label": _date_label(o.date),
                    "transcript": _transcript_link(ctx, o.date),
                    "numbers": [
                        o.participants,
                        o.new_participants,
                        o.returning_participants,
                        o.posts,
                        o.answers,
                        o.peak_posts_per_minute,
                    ],
                }
                for o in reversed(stats.occurrences)  # the latest first: what a host looks for
            ],
            contributors=[
                ("Came most often", [person_view(c) for c in stats.regulars]),
                ("Most posts", [person_view(c) for c in stats.top_posters]),
                ("Most replies received", [person_view(c) for c in stats.top_replied]),
            ],
            engaged=[_engaged_view(ctx, e) for e in stats.most_engaged],
        )
    )


def _numbers(stats: SeriesStats) -> list[tuple[str, str]]:
    return [
        ("Occurrences", f"{len(stats.occurrences):,}"),
        ("People", f"{stats.participants:,}"),
        ("Came back", f"{stats.returning_participants:,}"),
        ("People per occurrence", f"{stats.mean_participants:,.1f}"),
        ("Posts", f"{stats.posts:,}"),
        ("Answers", f"{stats.answers:,}"),
        ("Links shared", f"{stats.links_shared:,}"),
        ("Potential reach (estimate)", f"{stats.potential_reach:,}"),
    ]


def _engaged_view(ctx: SeriesContext, e: EngagedPost) -> dict[str, Any]:
    label = excerpt(e.post.text)
    day = occurrence_date(e.post.occurrence)
    return {
        "href": f"{_transcript_link(ctx, day)}#{post_anchor(e.number)}",
        "label": f"Q{e.question}: {label}" if e.question else label,
        "date": _date_label(day),
        "name": e.post.author.display_name.strip() or e.post.author.handle,
        "counts": engagement_counts(e),
    }


def participants_svg(stats: SeriesStats) -> str | None:
    """People per occurrence, new ones stacked on returning ones, or None without any."""
    rows = stats.occurrences
    if not rows:
        return None

    def draw(axes: Any) -> None:
        from matplotlib.ticker import MaxNLocator

        positions = range(len(rows))
        returning = [o.returning_participants for o in rows]
        axes.bar(positions, returning, width=0.8, color=CHART_BLUE, label="returning")
        axes.bar(
            positions,
            [o.new_participants for o in rows],
            bottom=returning,
            width=0.8,
            color=CHART_GREY,
            label="new",
        )
        # Every date when they fit, else an even few of them, the latest always.
        step = math.ceil(len(rows) / CHART_DATES)
        ticks = list(positions)[::-1][::step][::-1]
        axes.set_xticks(ticks, [_date_label(rows[i].date) for i in ticks])
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("people")
        # Above the bars, never over them.
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1), frameon=False, ncols=2)

    return svg_chart(draw, label="People per occurrence, new and returning")


# -- Markdown --------------------------------------------------------------------------------


def to_markdown(ctx: SeriesContext) -> str:
    stats = ctx.stats
    lines = [
        f"# {md_escape(ctx.title)} ({md_escape(ctx.hashtag)}): the series",
        "",
        f"{_span(stats)}.",
        "",
        "## The series in numbers",
        "",
        f"- {counted(stats.participants, 'person', 'people')} in all; "
        f"{stats.returning_participants:,} came more than once "
        f"({'; '.join(_attendance(stats)) or 'nobody yet'})",
        f"- {stats.mean_participants:,.1f} people per occurrence on average",
        f"- {counted(stats.posts, 'post', 'posts')}, "
        f"{counted(stats.answers, 'answer', 'answers')}, "
        f"{counted(stats.links_shared, 'link', 'links')} shared",
        f"- Potential reach: about {counted(stats.potential_reach, 'account', 'accounts')} "
        "(an estimate: the sum of the participants' followers)",
        "",
    ]
    if stats.themes:
        lines += [f"**Themes:** {md_escape(', '.join(stats.themes))}", ""]
    if stats.occurrences:
        lines += [
            "| Date | People | New | Returning | Posts | Answers | Busiest minute |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {_date_label(o.date)} | {o.participants} | {o.new_participants} | "
            f"{o.returning_participants} | {o.posts} | {o.answers} | {o.peak_posts_per_minute} |"
            for o in reversed(stats.occurrences)
        ]
        lines.append("")
    lines += md_people(
        [
            ("Came most often", stats.regulars),
            ("Most posts", stats.top_posters),
            ("Most replies received", stats.top_replied),
        ]
    )
    if stats.most_engaged:
        lines += ["**Most engaged posts:**", ""]
        lines += [
            f"{i}. {md_escape(e.post.author.handle)}, "
            f"{_date_label(occurrence_date(e.post.occurrence))}"
            + (f", Q{e.question}" if e.question else "")
            + f": {engagement_counts(e)} "
            + md_link("link", safe_url(e.post.url))
            for i, e in enumerate(stats.most_engaged, start=1)
        ]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# -- CSV and JSON ----------------------------------------------------------------------------


def to_csv(ctx: SeriesContext) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for o in ctx.stats.occurrences:
        url = safe_url(o.most_engaged.post.url) if o.most_engaged else None
        writer.writerow(
            [
                o.date,
                o.participants,
                o.new_participants,
                o.returning_participants,
                o.posts,
                o.answers,
                o.links_shared,
                o.peak_posts_per_minute,
                o.potential_reach,
                csv_cell(url or ""),
            ]
        )
    return out.getvalue()


def to_json(ctx: SeriesContext) -> str:
    stats = ctx.stats
    document = {
        "chat": {"id": ctx.chat_id, "title": ctx.title, "hashtag": ctx.hashtag},
        "statistics": {
            "occurrences": len(stats.occurrences),
            "participants": stats.participants,
            "returning_participants": stats.returning_participants,
            "mean_participants": round(stats.mean_participants, 2),
            "posts": stats.posts,
            "answers": stats.answers,
            "links_shared": stats.links_shared,
            "potential_reach": {
                "accounts": stats.potential_reach,
                "estimate": True,
                "how": "the sum of the participants' followers",
            },
            "attendance": [
                {"occurrences": a.occurrences, "people": a.people} for a in stats.attendance
            ],
            "themes": list(stats.themes),
            "regulars": [contributor_json(c, "occurrences") for c in stats.regulars],
            "top_posters": [contributor_json(c, "posts") for c in stats.top_posters],
            "top_replied": [contributor_json(c, "replies_received") for c in stats.top_replied],
            "most_engaged": [
                {"date": occurrence_date(e.post.occurrence), **engaged_json(e)}
                for e in stats.most_engaged
            ],
        },
        "occurrences": [
            {
                "date": o.date,
                "participants": o.participants,
                "new_participants": o.new_participants,
                "returning_participants": o.returning_participants,
                "posts": o.posts,
                "answers": o.answers,
                "answers_per_question": {str(n): answers for n, answers in o.answers_per_question},
                "links_shared": o.links_shared,
                "peak_posts_per_minute": o.peak_posts_per_minute,
                "potential_reach": o.potential_reach,
                "most_engaged": engaged_json(o.most_engaged) if o.most_engaged else None,
            }
            for o in stats.occurrences
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"
