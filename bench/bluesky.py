"""Bluesky on a real local AT Protocol network: how late the bot's posts are, and how many
requests it makes per captured post. Run by hand (needs Node 20+ and PostgreSQL):

    .venv/bin/python -m bench.bluesky [--rate 2] [--minutes 10] [--people 10]

Starts `@atproto/dev-env` (tests/bluesky_net), an account for the bot and ``people`` for the
crowd, and runs the bot in this process (bootstrap.run_chats, as `tweetchat run` does) on a
chat of 20 posts spread over ``minutes``, with the default follow settings and boosts on.
The crowd posts ``rate`` tagged answers per second until the closing. Afterwards it prints:
each agenda post's lateness (the AppView's indexing time minus the planned time; p50, p99),
how many of the crowd's posts were captured, the bot's requests per captured post (all of
them, by XRPC method), and how many posts the hashtag search returned more than once.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import bootstrap
from bot.adapters.bluesky import BlueskyPlatform
from bot.adapters.bluesky_follow import INDEX_LAG
from bot.adapters.bluesky_ids import post_id, post_uri
from bot.chat_files import load_config
from bot.connect import connect_platforms
from bot.ports.following import TagPage
from bot.runtime.clock import SystemClock
from bot.runtime.logs import configure
from bot.settings import Settings
from tests.support.bluesky_network import Account, BlueskyNetwork, running_network
from tests.support.chat_files import write_chat

TAG = "#BenchSky"
POSTS = 20  # intro, 18 questions, closing


class Crowd:
    """People posting tagged answers at a steady rate, straight to the PDS."""

    def __init__(self, network: BlueskyNetwork, people: list[Account], rate: float) -> None:
        self.network = network
        self.people = people
        self.rate = rate
        self.posted: list[str] = []
        self.failed = 0

    def run(self, until: float) -> None:
        n = 0
        began = time.monotonic()
        while time.time() < until:
            person = self.people[n % len(self.people)]
            try:
                created = self.network.http.post(
                    f"{self.network.pds}/xrpc/com.atproto.repo.createRecord",
                    json={
                        "repo": person.did,
                        "collection": "app.bsky.feed.post",
                        "record": {
                            "$type": "app.bsky.feed.post",
                            "text": f"answer number {n} from the crowd {TAG}",
                            "createdAt": datetime.now(UTC).isoformat(),
                        },
                    },
                    headers=self.network.auth(person),
                )
                created.raise_for_status()
                self.posted.append(post_id(created.json()["uri"]))
            except Exception:
                self.failed += 1
            n += 1
            time.sleep(max(0.0, began + n / self.rate - time.monotonic()))


def counting_search(platform: BlueskyPlatform, reads: Counter[str]) -> None:
    """Count every post the hashtag search hands the follower (measurement only)."""
    search = platform.tag_page

    def tag_page(tag: str, **kwargs: Any) -> TagPage:
        page = search(tag, **kwargs)
        reads.update(item.id for item in page.items if item.id)
        return page

    platform.tag_page = tag_page  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0, help="crowd posts per second")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the chat")
    parser.add_argument("--people", type=int, default=10)
    args = parser.parse_args()
    configure(json=True, level="WARNING")
    spacing = args.minutes * 60 / (POSTS - 1)

    with running_network() as network, tempfile.TemporaryDirectory() as tmp:
        bot = network.create_account("benchbot")
        people = [network.create_account(f"p{i}") for i in range(args.people)]
        chat = write_chat(
            Path(tmp) / "bench.yaml",
            instance=network.pds,
            questions=POSTS - 2,
            spacing=spacing,
            lead=5,
            chat_id="benchsky",
            hashtag=TAG,
            platforms={"bluesky": {"service": network.pds, "handle": bot.handle}},
            sections={
                "wrapup": {"after": "30s", "folder": str(Path(tmp) / "out")},
                "follow": {},
                "boost": {},
            },
        )
        env = {
            "BLUESKY_APP_PASSWORD": bot.password,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'store.sqlite3'}",
        }
        config = load_config(chat.path)
        settings = Settings.from_env(env)
        platforms = connect_platforms(config, env=env)
        platform = platforms["bluesky"]
        assert isinstance(platform, BlueskyPlatform)
        reads: Counter[str] = Counter()
        counting_search(platform, reads)
        store = bootstrap.open_store(settings.database_url)
        crowd = Crowd(network, people, args.rate)
        closing = chat.agenda[-1].at.timestamp()
        print(
            f"A {args.minutes:g}-minute chat on a local AT Protocol network, {args.rate:g} "
            f"posts/s from {args.people} people..."
        )
        crowd_thread = threading.Thread(target=crowd.run, args=(closing,), daemon=True)
        began = time.monotonic()
        crowd_thread.start()
        finished = bootstrap.run_chats(
            [(config, platforms)],
            store=store,
            settings=settings,
            clock=SystemClock(),
            stop_event=threading.Event(),
        )
        crowd_thread.join()
        print(f"the chat ran {time.monotonic() - began:.0f} s; finished cleanly: {finished}")
        report(network, chat.agenda, store, platform, crowd, reads)
        store.close()


def report(
    network: BlueskyNetwork,
    agenda: list[Any],
    store: Any,
    platform: BlueskyPlatform,
    crowd: Crowd,
    reads: Counter[str],
) -> None:
    occurrence = agenda[0].occurrence
    entries = {e.key: e for e in store.entries(occurrence)}
    lateness = []
    for post in agenda:
        entry = entries.get(post.key)
        if entry is None or entry.remote_id is None:
            print(f"  {post.slot}: not posted ({entry.state if entry else 'absent'})")
            continue
        view = network.appview_post(post_uri(entry.remote_id))
        if view is None:
            continue
        indexed = datetime.fromisoformat(view["indexedAt"].replace("Z", "+00:00"))
        lateness.append((indexed - post.at).total_seconds())
    cuts = statistics.quantiles(lateness, n=100, method="inclusive")
    print(
        f"lateness of {len(lateness)} agenda posts (AppView indexing time - planned): "
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, "
        f"max {max(lateness) * 1000:.0f} ms"
    )
    archived = bootstrap.open_archive(store).ids(occurrence, "bluesky")
    posted = set(crowd.posted)
    captured = posted & archived
    print(
        f"captured {len(captured)} of {len(posted)} crowd posts "
        f"({len(captured) / max(len(posted), 1):.1%}); {crowd.failed} crowd posts failed"
    )
    total = sum(platform.session.requests.values())
    print(
        f"bot requests: {total}, {total / max(len(captured), 1):.3f} per captured post; "
        f"password logins: {platform.session.logins}"
    )
    for method, count in platform.session.requests.most_common():
        print(f"  {method:<45} {count:6d}")
    twice = sum(1 for n in reads.values() if n > 1)
    print(
        f"search returned {sum(reads.values())} posts, {len(reads)} distinct; "
        f"{twice} returned more than once (the overlap of {INDEX_LAG.total_seconds():g} s "
        "below each poll's mark)"
    )


if __name__ == "__main__":
    main()
