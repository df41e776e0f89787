"""`tweetchat export` of a chat whose closing the bot threaded under the last question."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from bot.ports.posting import Published
from tests.support.chat_files import run_tweetchat, tweetchat_env
from tests.support.posts import BOT, OCCURRENCE, person, post

CHAT = Path(__file__).resolve().parents[1] / "data" / "golden_chat.yaml"  # hexichat, 2 Dec


def test_the_closing_and_the_thanks_it_gets_are_their_own_section(tmp_path: Path) -> None:
    """Issue 12 item 17: they were filed under the last question, as its answers' replies."""
    database = tmp_path / "store.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{database}")
    ana, ben = person("ana"), person("ben")
    posts = [
        post("q6", BOT, 45, "Q6: How do you keep the stories alongside the scores?", own=True),
        post("a6", ana, 46, "A6 quotes in reports #HEXIchat", question=6),
        post("bye", BOT, 55, "Thank you all for joining #HEXIchat!", own=True, reply_to="q6"),
        post("thx", ben, 56, "Thanks for hosting!", reply_to="bye"),
    ]
    archive = SqlArchive(store.engine)
    for item in posts:
        archive.save(item, now=item.created_at)
    for slot, item in (("q6", posts[0]), ("closing", posts[2])):
        key = f"{OCCURRENCE}/{slot}/mastodon"
        store.claim(
            key,
            occurrence=OCCURRENCE,
            platform="mastodon",
            planned_at=item.created_at,
            now=item.created_at,
        )
        store.record(key, Published(item.id, item.url), now=item.created_at)
    store.close()
    env = tweetchat_env(database=database, token=None)

    def export(fmt: str) -> str:
        done = run_tweetchat(
            "export", str(CHAT), "--occurrence", "2026-12-02", "--format", fmt, "-o", "-", env=env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    markdown = export("md")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(export("csv")))}

    q6, closing = markdown.split("## Q6: ")[1].split("## Closing\n")
    assert "A6 quotes in reports" in q6
    assert "Thank you" not in q6
    assert "Thanks for hosting" not in q6
    assert closing.index("Thank you all for joining") < closing.index("  - **Ben**")
    assert "Thanks for hosting!" in closing
    assert "## Other posts" not in markdown
    assert "- 2 participants" in markdown
    assert "- 2 posts, 1 answer to 6 questions" in markdown
    assert (rows["thx"]["question"], rows["thx"]["is_answer"]) == ("", "false")
    assert (rows["bye"]["question"], rows["a6"]["question"]) == ("", "6")
