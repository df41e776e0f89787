"""The transcript as data: CSV with one row per post, and JSON with the statistics and the
posts. A cell that a spreadsheet would run as a formula is quoted."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import TYPE_CHECKING, Any

from bot.core.stats import Contributor, EngagedPost, Stats
from bot.export_common import WITHHELD, iso_utc, safe_url

if TYPE_CHECKING:
    from bot.exports import ExportContext, Row

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


def _row_fields(row: Row) -> dict[str, Any]:
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
