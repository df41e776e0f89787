"""How long the series' numbers take at wrap-up time, read from a real store. Run by hand:

    .venv/bin/python -m bench.series [--weeks 52] [--posts 300] [--database URL]

Fills a store (a fresh SQLite file by default, or ``--database``, which must be empty) with
``--weeks`` weekly occurrences of ``--posts`` participant posts each, their question posts in
the ledger, as a year of a weekly chat leaves it. Then times what the wrap-up adds for the
series: reading every occurrence back and computing the numbers (``gather_series``), and
writing each format; and prints the process's peak RSS before and after, since the wrap-up
runs inside the long-lived worker. No target in the issue; the figures go in the notes.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_curation import CurationSql
from bot.bootstrap import open_store
from bot.core.configfile import parse_config
from bot.runtime.wrapup import gather_series
from bot.series_exports import write_series_exports
from tests.support.synthetic_chat import store_chat, synthetic_series

CHAT_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden_chat.yaml"
NOW = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--posts", type=int, default=300, help="participant posts per week")
    parser.add_argument("--database", help="an empty database's URL; default: a temporary SQLite")
    args = parser.parse_args()
    config = parse_config(CHAT_FILE.read_text(encoding="utf-8"), filename=str(CHAT_FILE))
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.database or f"sqlite:///{Path(tmp) / 'series.sqlite3'}")
        try:
            weeks = synthetic_series(weeks=args.weeks, posts=args.posts)
            started = time.perf_counter()
            for week in weeks:
                store_chat(store, week, now=NOW)
            posts = sum(len(c.posts) for c in weeks)
            took = time.perf_counter() - started
            print(f"stored {posts} posts in {args.weeks} weeks ({took:.1f} s)")
            del weeks
            before = peak_rss_mb()
            curation = CurationSql(store.engine)
            started = time.perf_counter()
            series = gather_series(
                config, archive=SqlArchive(store.engine), ledger=store, curation=curation,
                history=curation,
            )  # fmt: skip
            gathered = time.perf_counter() - started
            assert series is not None  # the store was just filled
            mark = time.perf_counter()
            written = write_series_exports(series, Path(tmp) / "out")
            wrote = time.perf_counter() - mark
        finally:
            store.close()
        sizes = ", ".join(f"{p.suffix[1:]} {p.stat().st_size / 1e3:.0f} kB" for p in written)
    print(
        f"series of {len(series.stats.occurrences)} occurrences, {series.stats.posts} posts, "
        f"{series.stats.participants} people"
    )
    print(f"read and computed: {gathered:.2f} s; written in every format: {wrote:.2f} s")
    print(f"files: {sizes}")
    print(f"peak RSS: {before:.1f} MB before, {peak_rss_mb():.1f} MB after")


if __name__ == "__main__":
    main()
