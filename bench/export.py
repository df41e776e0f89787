"""How long exporting a big chat takes, in every format, and how big the files are. Run by hand:

    .venv/bin/python -m bench.export [--posts 10000] [--seed 1]

Builds a seeded synthetic occurrence of ``--posts`` participant posts, then times grouping
(transcript), statistics (themes included) and each format written to a temporary folder.
The first round runs cold, as `tweetchat export` would (the libraries' imports included);
the second runs warm. Targets (issue 6): under 2 s in total for 10,000 posts, HTML under 5 MB.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.stats import compute_stats
from bot.core.transcript import build_transcript
from bot.exports import FORMATS, ExportContext, write_exports
from tests.support.synthetic_chat import synthetic_chat

TARGET_SECONDS = 2.0
TARGET_HTML_BYTES = 5_000_000


def one_round(posts: int, seed: int, folder: Path) -> tuple[dict[str, float], dict[str, int]]:
    chat = synthetic_chat(seed=seed, posts=posts)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    transcript = build_transcript(
        chat.occurrence, chat.posts, chat.questions, opted_out=chat.opted_out
    )
    timings["transcript"] = time.perf_counter() - started
    mark = time.perf_counter()
    stats = compute_stats(transcript, earlier_authors=chat.earlier_authors)
    timings["stats"] = time.perf_counter() - mark
    context = ExportContext(
        title="Patient experience in primary care",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        date="2026-12-02",
        start=chat.start,
        end=chat.end,
        zone=ZoneInfo("Europe/London"),
        transcript=transcript,
        stats=stats,
        boosted=chat.boosted,
    )
    sizes: dict[str, int] = {}
    for fmt in FORMATS:
        mark = time.perf_counter()
        (path,) = write_exports(context, folder, formats=(fmt,))
        timings[fmt] = time.perf_counter() - mark
        sizes[fmt] = path.stat().st_size
    timings["total"] = time.perf_counter() - started
    return timings, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("cold", "warm"):
            timings, sizes = one_round(args.posts, args.seed, Path(tmp))
            steps = ", ".join(f"{k} {v:.3f}s" for k, v in timings.items() if k != "total")
            print(f"{label}: {args.posts} posts in {timings['total']:.3f}s ({steps})")
        print("sizes: " + ", ".join(f"{fmt} {size / 1e6:.2f} MB" for fmt, size in sizes.items()))
    total_ok = timings["total"] < TARGET_SECONDS
    html_ok = sizes["html"] < TARGET_HTML_BYTES
    print(
        f"targets: total under {TARGET_SECONDS:g}s: {'yes' if total_ok else 'NO'}; "
        f"HTML under {TARGET_HTML_BYTES / 1e6:g} MB: {'yes' if html_ok else 'NO'}"
    )


if __name__ == "__main__":
    main()
