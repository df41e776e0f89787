"""`tweetchat export` writes a file whole or not at all, through a temporary file nobody can
plant in advance, and says in one line when it cannot."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from bot.adapters.archive_sql import SqlArchive
from bot.adapters.store_sql import SqlStore
from tests.support.chat_files import TWEETCHAT, run_tweetchat, tweetchat_env
from tests.support.mastodon_server import MastodonServer
from tests.support.posts import BOT, START, person, post

CHAT = Path(__file__).resolve().parents[1] / "data" / "golden_chat.yaml"  # hexichat, 2 Dec
LONG_ANSWER = "A1 " + "a long answer, " * 20_000  # 300 KB, whatever the format
FILE_SIZE_LIMIT = 128 * 1024


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    store = SqlStore.from_url(f"sqlite:///{path}")
    archive = SqlArchive(store.engine)
    for item in (
        post("100", BOT, 5, "Q1: How do you gather data? #HEXIchat", own=True, question=1),
        post("101", person("alice"), 6, LONG_ANSWER, question=1),
    ):
        archive.save(item, now=START)
    store.close()
    return path


def _export(
    database: Path, target: Path, *, file_size_limit: int | None = None, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        os.umask(umask)
        # A disk that fills up: any write past the limit fails with EFBIG (Python ignores
        # the SIGXFSZ that would otherwise end the process).
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [str(TWEETCHAT), "export", str(CHAT), "--occurrence", "2026-12-02", "-o", str(target)],
        env=tweetchat_env(database=database, token=None),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=limit_file_size,
    )


@pytest.mark.parametrize("name", ["hexichat-2026-12-02.html.partial", "hexichat-2026-12-02.html"])
def test_a_planted_symlink_is_replaced_and_its_target_untouched(
    database: Path, tmp_path: Path, name: str
) -> None:
    """Issue 12 item 11: a link at `<file>.partial` made `export` overwrite what it named."""
    folder = tmp_path / "site"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (folder / name).symlink_to(victim)

    result = _export(database, folder / "hexichat-2026-12-02.html")

    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "keep me"
    page = folder / "hexichat-2026-12-02.html"
    assert not page.is_symlink()
    assert "a long answer" in page.read_text(encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == sorted({name, "hexichat-2026-12-02.html"})


def test_a_write_that_fails_keeps_the_old_file_leaves_nothing_and_says_one_line(
    database: Path, tmp_path: Path
) -> None:
    """Issue 12 item 11: a failed write left `<file>.partial` behind and printed a traceback."""
    folder = tmp_path / "site"
    folder.mkdir()
    page = folder / "hexichat-2026-12-02.html"
    page.write_text("the transcript as it was")

    result = _export(database, page, file_size_limit=FILE_SIZE_LIMIT)

    assert result.returncode == 1
    assert result.stderr == f"cannot write {page}: File too large\n"
    assert result.stdout == ""
    assert [p.name for p in folder.iterdir()] == [page.name]
    assert page.read_text() == "the transcript as it was"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_the_written_file_has_the_mode_the_hosts_umask_gives(
    database: Path, tmp_path: Path, umask: int, mode: int
) -> None:
    """Readable by a web server under the usual umask, as a file written plainly would be,
    though the temporary file it was written to starts private."""
    page = tmp_path / "hexichat-2026-12-02.html"

    assert _export(database, page, umask=umask).returncode == 0
    assert page.stat().st_mode & 0o777 == mode


def test_wrapup_says_in_one_line_which_file_it_could_not_write(
    database: Path, tmp_path: Path, mastodon: MastodonServer
) -> None:
    """Issue 12 item 11: a transcript that cannot be written is one line, not a traceback."""
    bot = mastodon.account("hexibot")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    chat = tmp_path / "chat.yaml"
    chat.write_text(
        CHAT.read_text(encoding="utf-8")
        .replace("instance: https://example.social", f"instance: {mastodon.base_url}")
        .replace("  x: {}\n", "")
        + f"  folder: {blocker / 'out'}\n",
        encoding="utf-8",
    )

    result = run_tweetchat(
        "wrapup",
        str(chat),
        "--occurrence",
        "2026-12-02",
        env=tweetchat_env(database=database, token=bot.token),
    )

    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert line == (
        f"tweetchat wrapup: cannot write {blocker / 'out' / 'hexichat-2026-12-02.html'}: "
        "Not a directory; the wrap-up thread was not posted"
    )
    assert blocker.read_text() == "a file where the folder should be"
