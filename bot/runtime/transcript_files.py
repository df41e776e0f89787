"""The transcript files already written, written again when the archive changed after the
wrap-up: someone said "stop" or "forget me", or deleted a post (see ``bot.runtime.aftercare``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from bot.core.config import ChatConfig
from bot.ports.curation import CurationStore
from bot.ports.following import Archive, ArchiveHistory
from bot.ports.posting import Ledger
from bot.runtime.wrapup import (
    SERIES_MINIMUM,
    folder_lock,
    gather,
    gather_series,
    occurrence_of,
)

# The date in a transcript's file name (``chat-2026-12-02.html``).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TranscriptFiles:
    """The transcript files of a chat's occurrences, as written at their wrap-ups."""

    def __init__(
        self,
        config: ChatConfig,
        *,
        archive: Archive,
        ledger: Ledger,
        curation: CurationStore,
        history: ArchiveHistory,
    ) -> None:
        self._config = config
        self._archive = archive
        self._ledger = ledger
        self._curation = curation
        self._history = history

    def containing(self, platform: str, author_id: str) -> list[str]:
        """The occurrences of the chat with a post of the author (read before a "forget me"
        removes them)."""
        return [
            o
            for o in self._history.occurrences(self._config.chat.id)
            if self._archive.author_posts(o, platform, [author_id])
        ]

    def rewrite(self, occurrences: Collection[str] | None) -> list[Path]:
        """Write again, from the archive as it is now, the files of these occurrences (None:
        of every occurrence) that were written already, and the series' files if there are
        any. Raises OSError when a file cannot be written."""
        with folder_lock(self._config.wrapup.folder):
            return self._rewrite(self._written() if occurrences is None else occurrences)

    def _rewrite(self, occurrences: Collection[str]) -> list[Path]:
        from bot.exports import FORMATS, write_exports
        from bot.series_exports import write_series_exports

        folder = self._config.wrapup.folder
        chat_id = self._config.chat.id
        on_disk = self._written()
        written = []
        for occurrence_id in sorted(occurrences):
            if occurrence_id not in on_disk:
                continue  # not wrapped up yet: its wrap-up will read the archive as it is
            occurrence = occurrence_of(self._config, occurrence_id)
            report = gather(
                self._config,
                occurrence,
                archive=self._archive,
                ledger=self._ledger,
                curation=self._curation,
                history=self._history,
            )
            written += write_exports(report, folder)
        if occurrences and any((folder / f"{chat_id}-series.{f}").exists() for f in FORMATS):
            series = gather_series(
                self._config,
                # The series' files were written at the latest wrap-up, and must not yet
                # speak of an occurrence not wrapped up.
                through=max(on_disk, default=None),
                minimum=SERIES_MINIMUM,
                archive=self._archive,
                ledger=self._ledger,
                curation=self._curation,
                history=self._history,
            )
            if series is not None:
                written += write_series_exports(series, folder)
        return written

    def _written(self) -> set[str]:
        """The occurrences whose transcript files are in the folder: the wrap-ups done (the
        archive may hold nothing of one any more)."""
        from bot.exports import FORMATS

        chat_id = self._config.chat.id
        names = (
            path.name.removeprefix(f"{chat_id}-").rsplit(".", 1)
            for path in self._config.wrapup.folder.glob(f"{chat_id}-*.*")
        )
        return {
            f"{chat_id}/{day}"
            for day, fmt in (n for n in names if len(n) == 2)
            if fmt in FORMATS and _DATE.fullmatch(day)
        }
