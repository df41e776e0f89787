"""Bluesky on a real local AT Protocol network: how late the bot's posts are, and how many
requests it makes per captured post. Run by hand (needs Node 20+ and PostgreSQL):

    .venv/bin/python -m bench.bluesky [--rate 2] [--minutes 10] [--people 10]

Starts `@atproto/dev-env` (tests/bluesky_net), an account for the bot and ``people`` for the
crowd, and runs the bot in this process (bootstrap.run_chats, as `tweetchat run` does) on a
chat of 20 posts spread over ``minutes``, with the default follow settings and boosts on.
The crowd posts ``rate`` answers per second until the closing, half of them tagged, half
untagged replies to the latest question. Afterwards it prints: each agenda post's lateness
(the AppView's indexing time minus the planned time; p50, p99), how many of the crowd's posts
were captured, the bot's requests per captured post (all of them, by XRPC method), how many
posts the reads handed the follower more than once (the hashtag search, the reply
notifications, the threads), and how many post views the server sent in all (the local
AppView ignores the search's ``since`` and ``until``, which production applies).
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
from bot.adapters.bluesky_ids import POST, post_id, post_uri
from bot.chat_files import load_config
from bot.connect import connect_platforms
from bot.ports.following import Fetched
from bot.runtime.clock import SystemClock
from bot.runtime.logs import configure
from bot.settings import Settings
from tests.support.bluesky_network import Account, BlueskyNetwork, running_network
from tests.support.chat_files import write_chat

TAG = "#BenchSky"
POSTS = 20  # intro, 18 questions, closing


class Crowd:
    """People posting answers at a steady rate, straight to the PDS: tagged posts, and
    untagged replies to the bot's latest question."""

    def __init__(
        self, network: BlueskyNetwork, bot: Account, people: list[Account], rate: float
    ) -> None:
        self.network = network
        self.bot = bot
        self.people = people
        self.rate = rate
        self.posted: list[str] = []
        self.failed = 0
        self._question: dict[str, Any] | None = None
        self._looked_at = 0.0

    def run(self, until: float) -> None:
        n = 0
        began = time.monotonic()
        while time.time() < until:
            person = self.people[n % len(self.people)]
            record: dict[str, Any] = {
                "$type": "app.bsky.feed.post",
                "text": f"answer number {n} from the crowd {TAG}",
                "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            }
            question = self.latest_question() if n % 2 else None
            if question is not None:
                record["text"] = f"answer number {n}, a reply without the tag"
                record["reply"] = question
            try:
                created = self.network.http.post(
                    f"{self.network.pds}/xrpc/com.atproto.repo.createRecord",
                    json={"repo": person.did, "collection": POST, "record": record},
                    headers=self.network.auth(person),
                )
                created.raise_for_status()
                self.posted.append(post_id(created.json()["uri"]))
            except Exception:
                self.failed += 1
            n += 1
            time.sleep(max(0.0, began + n / self.rate - time.monotonic()))

    def latest_question(self) -> dict[str, Any] | None:
        """Reply refs to the bot's latest question, looked up every few seconds."""
        if time.monotonic() - self._looked_at > 3:
            self._looked_at = time.monotonic()
            asked = [
                r
                for r in self.network.records(self.bot.did, POST)
                if r["value"]["text"].startswith("Q") and "reply" in r["value"]
            ]
            # People answer what they see: a question the AppView has indexed (a reply
            # indexed before its parent brings the parent's author no notification).
            if asked and self.network.appview_post(asked[-1]["uri"]) is not None:
                last = asked[-1]
                parent = {"uri": last["uri"], "cid": last["cid"]}
                self._question = {"root": last["value"]["reply"]["root"], "parent": parent}
        return self._question


def counting_reads(platform: BlueskyPlatform, handed: Counter[str], sent: Counter[str]) -> None:
    """Count every post the reads hand the follower, and every post view the server sends
    (measurement only)."""

    def counted(read: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            answer = read(*args, **kwargs)
            items: list[Fetched] = answer if isinstance(answer, list) else answer.items
            handed.update(item.id for item in items if item.id)
            return answer

        return wrapper

    for name in ("tag_page", "tag_rest", "new_replies", "replies"):
        setattr(platform, name, counted(getattr(platform, name)))
    query = platform.session.query

    def counting_query(nsid: str, params: Any, **kwargs: Any) -> dict[str, Any]:
        body = query(nsid, params, **kwargs)
        views = body.get("posts") or body.get("notifications") or []
        sent.update(f"{nsid} {v.get('uri')}" for v in views if isinstance(v, dict))
        return body

    platform.session.query = counting_query  # type: ignore[method-assign]


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
        handed: Counter[str] = Counter()
        sent: Counter[str] = Counter()
        counting_reads(platform, handed, sent)
        store = bootstrap.open_store(settings.database_url)
        crowd = Crowd(network, bot, people, args.rate)
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
        report(network, chat.agenda, store, platform, crowd, handed, sent)
        store.close()


def report(
    network: BlueskyNetwork,
    agenda: list[Any],
    store: Any,
    platform: BlueskyPlatform,
    crowd: Crowd,
    handed: Counter[str],
    sent: Counter[str],
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
    for missed in sorted(posted - archived):
        view = network.appview_post(post_uri(missed)) or {}
        record = view.get("record") or {}
        print(
            f"  missed {missed}: {record.get('text')!r}, made {record.get('createdAt')}, "
            f"indexed {view.get('indexedAt')}, handed {handed[missed]} times"
        )
    total = sum(platform.session.requests.values())
    print(
        f"bot requests: {total}, {total / max(len(captured), 1):.3f} per captured post; "
        f"password logins: {platform.session.logins}"
    )
    for method, count in platform.session.requests.most_common():
        print(f"  {method:<45} {count:6d}")
    twice = sum(1 for n in handed.values() if n > 1)
    print(
        f"the reads handed the follower {sum(handed.values())} posts, {len(handed)} distinct; "
        f"{twice} more than once"
    )
    print("post views the server sent, by method (views, distinct posts):")
    methods = sorted({key.split(" ", 1)[0] for key in sent})
    for method in methods:
        mine = [n for key, n in sent.items() if key.startswith(f"{method} ")]
        print(f"  {method:<45} {sum(mine):6d} {len(mine):6d}")
    print(
        "  (the local AppView's search ignores since and until, so a poll reads from the top "
        "of the tag down to its slice; production applies them)"
    )


if __name__ == "__main__":
    main()
