"""What a chat costs in requests on a server without the multi-status read. Run by hand:

    .venv/bin/python -m bench.servers [--rate 2] [--minutes 5] [--people 40]

Starts its own mastodon_mock shaped as Mastodon 4.2 (``GET /api/v1/statuses?id[]=`` answers
404, as before 4.3; NodeInfo says 4.2.10), puts the fault proxy (with no faults) between it
and the bot to count the bot's requests, and runs `tweetchat run` on a chat that lasts as
long as the load, boosting in auto mode with the default tick. A crowd of ``people`` posts
``rate`` tagged answers per second for ``minutes`` minutes, and favourites some.

Prints the curation ticks and their requests (mentions, one-by-one re-reads, boosts), the
requests per captured post, and the whole chat's requests in its busiest 5 minutes against
60% of Mastodon's default limit (300 requests per 5 minutes per account). Target (issue 11):
under 180.
"""

from __future__ import annotations

import re
import signal
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select

from bench.capture import Crowd, crowd_load
from bot.adapters.sql_schema import archive_posts_table
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import RequestRecord
from tests.support.chat_files import RunningBot, tweetchat_env, write_chat
from tests.support.mastodon_server import MastodonServer, running_mastodon

TAG = "#BenchServers"
LIMIT, WINDOW_SECONDS = 300, 300.0
TARGET = 0.6 * LIMIT
ONE_STATUS = re.compile(r"^/api/v1/statuses/[^/?]+(\?.*)?$")
REBLOG = re.compile(r"^/api/v1/statuses/[^/?]+/reblog")


def shape_as_mastodon_4_2(server: MastodonServer) -> None:
    server.answer("^/api/v1/statuses/?$", 404, {"error": "Not Found"})
    nodeinfo = {"version": "2.0", "software": {"name": "mastodon", "version": "4.2.10"}}
    server.answer("^/nodeinfo/2.0$", 200, nodeinfo)


def busiest_window(requests: list[RequestRecord]) -> int:
    """The most requests in any WINDOW_SECONDS: what the server's limit counts."""
    times = sorted(r.time for r in requests)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > WINDOW_SECONDS:
            start += 1
        most = max(most, end - start + 1)
    return most


def main() -> None:
    args, total, load_seconds = crowd_load(__doc__, rate=2.0, minutes=5.0)

    with running_mastodon() as server, tempfile.TemporaryDirectory() as tmp:
        bot = server.account("benchbot", bot=True)
        people = [server.account(f"bench{i:03d}") for i in range(args.people)]
        shape_as_mastodon_4_2(server)
        with FaultProxy(server.base_url) as proxy:
            spacing = (load_seconds + 4) / 8  # intro, six questions, closing: as long as the load
            chat = write_chat(
                Path(tmp) / "bench.yaml",
                instance=proxy.base_url,
                questions=6,
                spacing=spacing,
                lead=6,
                chat_id="benchservers",
                hashtag=TAG,
                sections={
                    "wrapup": {"after": "40s"},
                    "follow": {"margin": "5s"},
                    "boost": {"mode": "auto", "max_per_question": 3, "min_interval": "20s"},
                },
            )
            database = Path(tmp) / "store.sqlite3"
            env = tweetchat_env(database=database, token=bot.token)
            crowd = Crowd(server, people, TAG)
            with RunningBot(chat.path, env=env) as running:
                time.sleep(max(0.0, chat.occurrence.start.timestamp() + 1 - time.time()))
                print(f"posting {total} statuses at {args.rate:g}/s for {load_seconds:.0f} s ...")
                load_start, load_end = crowd.run(total=total, rate=args.rate)
                settled = running.wait_for_event("follow.settled", timeout=600)
                running.wait_for_event("wrapup.done", timeout=180)
                fallbacks = [e for e in running.events if e["event"] == "server.fallback"]
                running.signal(signal.SIGTERM)
                running.wait(timeout=20)
                if settled is None:
                    raise SystemExit(f"the bot ended before settling:\n{running.output[-3000:]}")
            requests = proxy.log
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as conn:
            captured = conn.execute(select(func.count()).select_from(archive_posts_table)).scalar()
        engine.dispose()

    bot_requests = [r for r in requests if not r.path.startswith("/api/v1/_mock")]
    during = [r for r in bot_requests if load_start <= r.time <= load_end]
    ticks = [r for r in during if r.method == "GET" and r.path.startswith("/api/v1/notifications")]
    rereads = [r for r in during if r.method == "GET" and ONE_STATUS.match(r.path)]
    boosts = [r for r in during if r.method == "POST" and REBLOG.match(r.path)]
    curation = len(ticks) + len(rereads) + len(boosts)
    busiest = busiest_window(bot_requests)
    print(f"server fallbacks:  {[e['capability'] for e in fallbacks]}")
    print(f"captured:          {captured} posts ({total} from the crowd)")
    per_tick = curation / max(1, len(ticks))
    print(
        f"curation ticks:    {len(ticks)} during the load; per tick {per_tick:.2f} requests "
        f"({len(ticks)} mention reads, {len(rereads)} one-by-one re-reads, "
        f"{len(boosts)} boosts)"
    )
    print(
        f"all requests:      {len(bot_requests)}, {len(bot_requests) / max(1, captured or 0):.3f} "
        f"per captured post; {len(during)} during the load"
    )
    verdict = "within" if busiest < TARGET else "OVER"
    print(
        f"busiest 5 minutes: {busiest} requests, {verdict} 60% of {LIMIT} ({TARGET:.0f}; "
        f"{100 * busiest / LIMIT:.0f}% of the limit)"
    )


if __name__ == "__main__":
    main()
