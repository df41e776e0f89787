"""How completely and how fast the bot captures a busy chat. Run by hand:

    .venv/bin/python -m bench.capture [--rate 10] [--minutes 2] [--people 40]

Starts its own mastodon_mock, puts the fault proxy (with no faults) between it and the bot to
count the bot's requests, and runs `tweetchat run` on a chat that lasts as long as the load.
A crowd posts ``rate`` tagged answers per second for ``minutes`` minutes. Afterwards it
prints: how many posts were captured (live, and after the settling pass), the latency from a
post's creation on the server to its row in the archive (p50, p95), the bot's requests per
captured post (all of them, and the polling ones in steady state), and the bot's peak RSS.
Targets (issue 3): 100% at 10 posts/s for 15 minutes; p95 under 250 ms while streaming; at
most one polling request per 20 captured posts in steady state; peak RSS under 90 MB.
"""

from __future__ import annotations

import argparse
import math
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from bot.adapters.sql_schema import archive_posts_table
from tests.fakes.fault_proxy import FaultProxy
from tests.support.chat_files import RunningBot, tweetchat_env, write_chat
from tests.support.mastodon_server import Account, MastodonServer, running_mastodon

TAG = "#BenchCapture"
TARGET_P95_MS = 250
TARGET_POLLS_PER_POST = 1 / 20
TARGET_RSS_MB = 90
POLLING_PATHS = ("/api/v1/timelines/tag/", "/api/v1/statuses/")
# A post captured later than this after its creation came from a catch-up, not the stream.
LIVE_SECONDS = 5.0
# Long enough for the capture to settle (it starts a quarter of this, at most a minute,
# before the wrap-up; 9000 posts take about 30 s here), so that the capture's own memory is
# measured apart from the wrap-up's.
WRAPUP_AFTER = "4m"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Resident memory of a process (Linux): VmHWM is its high-water mark, VmRSS the now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Crowd:
    """Posts at a steady rate from many accounts, on a few threads."""

    def __init__(self, server: MastodonServer, people: list[Account], tag: str = TAG) -> None:
        self.server = server
        self.people = people
        self.tag = tag
        self.created: dict[str, datetime] = {}
        self.lock = threading.Lock()
        self.local = threading.local()

    def _client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(base_url=self.server.base_url, timeout=10)
        client: httpx.Client = self.local.client
        return client

    def post(self, n: int) -> None:
        who = self.people[n % len(self.people)]
        response = self._client().post(
            "/api/v1/statuses",
            json={"status": f"A{1 + n % 6} bench answer {n} {self.tag}"},
            headers=self.server.auth(who),
        )
        response.raise_for_status()
        data = response.json()
        created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        with self.lock:
            self.created[data["id"]] = created

    def run(self, *, total: int, rate: float) -> tuple[float, float]:
        """Post ``total`` statuses at ``rate`` per second; returns the start and end times."""
        started = time.time()
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = []
            for n in range(total):
                time.sleep(max(0.0, started + n / rate - time.time()))
                futures.append(pool.submit(self.post, n))
            for future in futures:
                future.result()
        return started, time.time()


def crowd_load(doc: str, *, rate: float, minutes: float) -> tuple[argparse.Namespace, int, float]:
    """The crowd's options (--rate, --minutes, --people), how many posts it makes and for
    how many seconds: the same in every benchmark of a chat."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=rate, help="posts per second")
    parser.add_argument("--minutes", type=float, default=minutes, help="how long it posts")
    parser.add_argument("--people", type=int, default=40, help="accounts in the crowd")
    args = parser.parse_args()
    total = int(args.rate * args.minutes * 60)
    return args, total, total / args.rate


def main() -> None:
    args, total, load_seconds = crowd_load(__doc__, rate=10.0, minutes=2.0)

    with running_mastodon() as server, tempfile.TemporaryDirectory() as tmp:
        bot = server.account("benchbot", bot=True)
        people = [server.account(f"bench{i:03d}") for i in range(args.people)]
        with FaultProxy(server.base_url) as proxy:
            # Intro, six questions and the closing, spread so that the chat ends with the load.
            spacing = (load_seconds + 4) / 8
            chat = write_chat(
                Path(tmp) / "bench.yaml",
                instance=proxy.base_url,
                questions=6,
                spacing=spacing,
                lead=6,
                chat_id="benchcapture",
                hashtag=TAG,
                sections={
                    "wrapup": {"after": WRAPUP_AFTER},
                    "follow": {"margin": "5s"},
                    "boost": {"mode": "off"},
                },
            )
            database = Path(tmp) / "store.sqlite3"
            env = tweetchat_env(database=database, token=bot.token)
            crowd = Crowd(server, people)
            with RunningBot(chat.path, env=env) as running:
                time.sleep(max(0.0, chat.occurrence.start.timestamp() + 1 - time.time()))
                idle_rss = rss_mb(running.process.pid, "VmRSS")
                print(f"posting {total} statuses at {args.rate:g}/s for {load_seconds:.0f} s ...")
                samples: list[tuple[float, float]] = []  # (time, MB)
                sampling = threading.Event()

                def sample(pid: int = running.process.pid) -> None:
                    while not sampling.wait(1.0):
                        samples.append((time.time(), rss_mb(pid, "VmRSS")))

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                load_start, load_end = crowd.run(total=total, rate=args.rate)
                end_of_load_rss = rss_mb(running.process.pid, "VmRSS")
                settled = running.wait_for_event("follow.settled", timeout=load_seconds + 600)
                rss = rss_mb(running.process.pid)  # the wrap-up comes WRAPUP_AFTER / 4 later
                # Then the wrap-up, which is not capture, for the whole process's figure.
                running.wait_for_event("wrapup.done", timeout=120)
                sampling.set()
                process_rss = rss_mb(running.process.pid)
                events = [(e["event"], e.get("timestamp", "")) for e in running.events]
                running.signal(signal.SIGTERM)
                running.wait(timeout=20)
                if settled is None:
                    raise SystemExit(f"the bot ended before settling:\n{running.output[-3000:]}")
            requests = proxy.log
        engine = create_engine(f"sqlite:///{database}")
        table = archive_posts_table
        with engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.created_at, table.c.captured_at)).all()
        engine.dispose()
    captured = {row.id: (row.captured_at - row.created_at.replace(tzinfo=None)) for row in rows}
    ours = [captured[i].total_seconds() for i in crowd.created if i in captured]
    live = [s for s in ours if s <= LIVE_SECONDS]
    steady = [r for r in requests if load_start + 10 <= r.time <= load_end]
    polls = [r for r in steady if r.method == "GET" and r.path.startswith(POLLING_PATHS)]
    steady_posts = sum(
        1
        for created in crowd.created.values()
        if load_start + 10 <= created.timestamp() <= load_end
    )
    print(f"captured:          {len(ours)}/{total} ({100 * len(ours) / total:.2f}%)")
    print(f"  live (<{LIVE_SECONDS:g} s): {len(live)}/{total} ({100 * len(live) / total:.2f}%)")
    print(
        f"latency:           p50 {1000 * percentile(ours, 50):.0f} ms, "
        f"p95 {1000 * percentile(ours, 95):.0f} ms, max {1000 * max(ours):.0f} ms "
        f"(target p95 < {TARGET_P95_MS} ms)"
    )
    print(
        f"requests:          {len(requests)} in all, {len(requests) / max(1, len(ours)):.3f}/post"
    )
    print(
        f"steady polling:    {len(polls)} for {steady_posts} posts "
        f"({len(polls) / max(1, steady_posts):.4f}/post; target <= {TARGET_POLLS_PER_POST:.2f})"
    )
    print(
        f"peak RSS:          {rss:.1f} MB until the capture settled (target < {TARGET_RSS_MB} "
        f"MB; {idle_rss:.1f} MB before the crowd, {end_of_load_rss:.1f} MB as it stopped)"
    )
    print(f"  with the wrap-up: {process_rss:.1f} MB (the whole process, after the capture)")
    during = [mb for at, mb in samples if at <= load_end]
    quarters = [during[min(len(during) - 1, len(during) * q // 4)] for q in range(1, 5)]
    print("RSS by quarter:    " + ", ".join(f"{mb:.1f}" for mb in quarters) + " MB of the load")
    peak_at, peak = max(samples, key=lambda s: s[1])
    print(f"highest sample:    {peak:.1f} MB, {peak_at - load_end:+.0f} s after the load")
    for name, stamp in events:
        if name.startswith(("follow.end", "follow.settled", "wrapup", "occurrence.end")):
            at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            before = [mb for t, mb in samples if t <= at]
            print(f"  {name:<18} {at - load_end:+5.0f} s, RSS {before[-1] if before else 0:.1f} MB")


if __name__ == "__main__":
    main()
