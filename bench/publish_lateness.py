"""How late posts go out, and how fast `tweetchat validate` answers. Run by hand:

    .venv/bin/python -m bench.publish_lateness [--posts 20] [--spacing 1] [--validate-runs 9]

Starts its own mastodon_mock, plays a chat of ``--posts`` posts (intro, questions, closing)
``--spacing`` seconds apart through `tweetchat run`, and prints each post's lateness: the
server's created_at minus the planned time. Then times `tweetchat validate
config/example.yaml` as a subprocess, the way a host runs it.
Targets (issue 2): p99 lateness under 1 s; validate under 0.4 s.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bot.core.html_text import html_to_text
from tests.support.chat_files import TWEETCHAT, run_tweetchat, tweetchat_env, write_chat
from tests.support.mastodon_server import running_mastodon

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example.yaml"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def measure_lateness(posts: int, spacing: float) -> list[tuple[str, float]]:
    with running_mastodon() as server, tempfile.TemporaryDirectory() as tmp:
        bot = server.account("benchbot")
        chat = write_chat(
            Path(tmp) / "bench.yaml",
            instance=server.base_url,
            questions=posts - 2,
            spacing=spacing,
            lead=3,
            chat_id="bench",
            hashtag="#BenchChat",
        )
        env = tweetchat_env(database=Path(tmp) / "ledger.sqlite3", token=bot.token)
        result = run_tweetchat("run", str(chat.path), env=env, timeout=posts * spacing + 60)
        if result.returncode != 0:
            raise SystemExit(f"tweetchat run failed ({result.returncode}):\n{result.stderr}")
        planned = {post.text: post for post in chat.agenda}
        out = []
        for status in server.statuses_of(bot):
            post = planned[html_to_text(status["content"])]
            created = datetime.fromisoformat(status["created_at"].replace("Z", "+00:00"))
            out.append((post.slot, (created - post.at).total_seconds()))
        if len(out) != posts:
            raise SystemExit(f"expected {posts} posts on the server, found {len(out)}")
        return out


def time_validate(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([str(TWEETCHAT), "validate", str(EXAMPLE)], check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20, help="posts in the chat (>= 3)")
    parser.add_argument("--spacing", type=float, default=1.0, help="seconds between posts")
    parser.add_argument("--validate-runs", type=int, default=9)
    args = parser.parse_args()
    if args.posts < 3:
        parser.error("--posts must be at least 3 (intro, a question, closing)")

    print(f"Publishing {args.posts} posts {args.spacing:g} s apart through `tweetchat run`...")
    lateness = measure_lateness(args.posts, args.spacing)
    for slot, late in lateness:
        print(f"  {slot:<8} {late * 1000:8.1f} ms late")
    values = [late for _, late in lateness]
    print(
        f"lateness: p50 {percentile(values, 50) * 1000:.1f} ms, "
        f"p99 {percentile(values, 99) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms "
        "(target: p99 < 1000 ms)"
    )

    times = time_validate(args.validate_runs)
    print(
        f"tweetchat validate {EXAMPLE.name}: median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} runs "
        "(target: < 400 ms)"
    )


if __name__ == "__main__":
    main()
