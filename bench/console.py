"""How fast a post shows on the hosts' console, with many consoles open. Run by hand:

    .venv/bin/python -m bench.console [--rate 5] [--minutes 1] [--consoles 10]

Starts its own mastodon_mock, `tweetchat run` on a chat that lasts as long as the load, and
`tweetchat console` on the same database. ``consoles`` hosts sign in and keep the live page's
event stream open while a crowd posts ``rate`` tagged answers per second. For every post and
every console it measures the time from the post's creation on the server to the first event
of that console that shows it (worker capture, the store, the console's poll and the stream
together), and prints p50, p95 and max, with the console process's RSS (now and its peak).
Targets (issue 14): p95 under 1 s at 5 posts/s with 10 consoles; RSS under 120 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from bench.capture import TAG, Crowd, percentile, rss_mb
from tests.support.chat_files import RunningBot, tweetchat_env, write_chat
from tests.support.mastodon_server import free_port, running_mastodon

TARGET_P95_MS = 1000
TARGET_RSS_MB = 120
SECRET = "bench-console-secret"  # noqa: S105 (the benchmark's own, in no environment)
_POST = re.compile(r'data-post="([^"]+)"')


class Watcher:
    """One host's console: signs in and reads the live stream, noting when each post id
    first shows."""

    def __init__(self, url: str, chat_id: str, name: str) -> None:
        self.seen: dict[str, float] = {}
        self.events = 0
        self._url, self._chat, self._name = url, chat_id, name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(base_url=self._url, timeout=httpx.Timeout(10, read=60)) as client:
            client.post("/signin", data={"name": self._name, "secret": SECRET})
            try:
                self._read(client)
            except httpx.TransportError:
                if not self._stop.is_set():
                    raise

    def _read(self, client: httpx.Client) -> None:
        with client.stream("GET", f"/chat/{self._chat}/events") as stream:
            for line in stream.iter_lines():
                if self._stop.is_set():
                    return
                if not line.startswith("data:"):
                    continue
                now = time.time()
                self.events += 1
                for post_id in _POST.findall(json.loads(line[5:])["html"]):
                    self.seen.setdefault(post_id, now)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="posts per second")
    parser.add_argument("--minutes", type=float, default=1.0, help="how long the crowd posts")
    parser.add_argument("--consoles", type=int, default=10, help="consoles open")
    parser.add_argument("--people", type=int, default=40, help="accounts in the crowd")
    args = parser.parse_args()
    total = int(args.rate * args.minutes * 60)
    load_seconds = total / args.rate

    with running_mastodon() as server, tempfile.TemporaryDirectory() as tmp:
        bot = server.account("benchbot", bot=True)
        people = [server.account(f"bench{i:03d}") for i in range(args.people)]
        spacing = (load_seconds + 4) / 8
        chat = write_chat(
            Path(tmp) / "bench.yaml",
            instance=server.base_url,
            questions=6,
            spacing=spacing,
            lead=8,
            chat_id="benchconsole",
            hashtag=TAG,
            sections={
                "wrapup": {"after": "1m"},
                "follow": {"margin": "5s"},
                "boost": {"mode": "off"},
            },
        )
        env = tweetchat_env(
            database=Path(tmp) / "store.sqlite3",
            token=bot.token,
            TWEETCHAT_CONSOLE_TOKEN=SECRET,
            TWEETCHAT_LOG_LEVEL="WARNING",
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with (
            RunningBot(chat.path, env=env) as worker,
            RunningBot(chat.path, env=env, command="console", options=["--port", str(port)]) as ui,
        ):
            deadline = time.monotonic() + 30
            while "Console on" not in ui.stdout:
                if time.monotonic() > deadline or ui.process.poll() is not None:
                    raise SystemExit(f"the console did not start:\n{ui.output}")
                time.sleep(0.1)
            idle_rss = rss_mb(ui.process.pid, "VmRSS")
            watchers = [Watcher(url, "benchconsole", f"host{n}") for n in range(args.consoles)]
            for watcher in watchers:
                watcher.start()
            time.sleep(max(0.0, chat.occurrence.start.timestamp() + 1 - time.time()))
            print(
                f"posting {total} statuses at {args.rate:g}/s for {load_seconds:.0f} s, "
                f"{args.consoles} consoles open ..."
            )
            crowd = Crowd(server, people)
            crowd.run(total=total, rate=args.rate)
            time.sleep(5)  # the last posts reach the consoles
            rss_now = rss_mb(ui.process.pid, "VmRSS")
            rss_peak = rss_mb(ui.process.pid)
            for watcher in watchers:
                watcher.stop()
            ui.signal(signal.SIGTERM)
            worker.signal(signal.SIGTERM)
            ui.wait(timeout=20)
            worker.wait(timeout=20)
    created = {post_id: at.timestamp() for post_id, at in crowd.created.items()}
    latencies = [
        seen - created[post_id]
        for watcher in watchers
        for post_id, seen in watcher.seen.items()
        if post_id in created
    ]
    shown = sum(1 for w in watchers for post_id in w.seen if post_id in created)
    expected = len(created) * len(watchers)
    print(f"shown:             {shown}/{expected} (post, console) pairs")
    print(f"events:            {sum(w.events for w in watchers)} across {len(watchers)} streams")
    if latencies:
        print(
            f"post -> console:   p50 {1000 * percentile(latencies, 50):.0f} ms, "
            f"p95 {1000 * percentile(latencies, 95):.0f} ms, max {1000 * max(latencies):.0f} ms "
            f"(target p95 < {TARGET_P95_MS} ms)"
        )
    print(
        f"console RSS:       {rss_now:.1f} MB at the end, peak {rss_peak:.1f} MB "
        f"(target < {TARGET_RSS_MB} MB; {idle_rss:.1f} MB before any console was open)"
    )
    print(f"(first post at {datetime.fromtimestamp(min(created.values())):%H:%M:%S})")


if __name__ == "__main__":
    main()
