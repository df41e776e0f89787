"""The transcript as one self-contained HTML page, its posts-per-minute chart inline.

The page is a Jinja template (``bot/templates``), autoescaped; a post's body goes in only
as cleaned by ``clean_post_html``. Jinja and matplotlib load when a page is drawn, not when
the exports are imported.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.stats import Contributor, EngagedPost, Stats
from bot.core.text import counted
from bot.core.transcript import Entry, Group, post_ref
from bot.export_common import (
    MAX_INDENT,
    clean_post_html,
    date_label,
    engagement_counts,
    entry_name,
    iso_utc,
    local_time,
    platform_label,
    safe_url,
    time_label,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from bot.exports import ExportContext

CHART_BLUE = "#3b6ea5"
CHART_RED = "#c0392b"


def post_anchor(number: int) -> str:
    """A post's anchor on its transcript page: its place in the transcript, never its id
    (``Entry.number``)."""
    return f"p{number}"


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
        date_label=date_label(ctx),
        time_label=time_label(ctx),
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
        "asked": local_time(ctx, group.asked_at) if group.asked_at else None,
        "posts": [_post_view(ctx, entry, depth, markup) for entry, depth in ctx.walk(group)],
    }


def _post_view(ctx: ExportContext, entry: Entry, depth: int, markup: Any) -> _PostView:
    post = entry.post
    indent = min(depth, MAX_INDENT)
    return _PostView(
        anchor=post_anchor(entry.number),
        classes=f"r d{indent}" if indent else "p",
        name=entry_name(entry),
        handle=post.author.handle if entry.named else "",
        body=markup(clean_post_html(post)),
        iso=iso_utc(post.created_at),
        time=local_time(ctx, post.created_at),
        platform=platform_label(post.platform),
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
        return local_time(ctx, origin + timedelta(minutes=value))

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
