"""The transcript files already written, written again when the archive changed after the
wrap-up: someone said "stop" or "forget me", or deleted a post (see ``bot.runtime.aftercare``).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from bot.core.agenda import occurrence_date
from bot.core.config import ChatConfig
from bot.ports import Archive, ArchiveHistory, CurationStore, Ledger
from bot.runtime.wrapup import (
    SERIES_MINIMUM,
    folder_lock,
    gather,
    gather_series,
    occurrence_of,
)


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

    def rewrite(self, occurrences: Collection[str]) -> list[Path]:
        """Write again, from the archive as it is now, the files of these occurrences that
        were written already, and the series' files if there are any. Raises OSError when
        a file cannot be written."""
        with folder_lock(self._config.wrapup.folder):
            return self._rewrite(occurrences)

    def _rewrite(self, occurrences: Collection[str]) -> list[Path]:
        from bot.exports import FORMATS, transcript_basename, write_exports
        from bot.series_exports import write_series_exports

        folder = self._config.wrapup.folder
        chat_id = self._config.chat.id
        written = []
        for occurrence_id in sorted(occurrences):
            occurrence = occurrence_of(self._config, occurrence_id)
            base = folder / transcript_basename(chat_id, occurrence.date)
            if not any(base.with_name(f"{base.name}.{fmt}").exists() for fmt in FORMATS):
                continue  # not wrapped up yet: its wrap-up will read the archive as it is
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
                through=self._latest_written(),
                minimum=SERIES_MINIMUM,
                archive=self._archive,
                ledger=self._ledger,
                curation=self._curation,
                history=self._history,
            )
            if series is not None:
                written += write_series_exports(series, folder)
        return written

    def _latest_written(self) -> str | None:
        """The latest occurrence whose transcript is on disk: the series' files were
        written at its wrap-up, and must not yet speak of a chat not wrapped up."""
        from bot.exports import transcript_basename

        folder = self._config.wrapup.folder
        chat_id = self._config.chat.id
        written = [
            o
            for o in self._history.occurrences(chat_id)
            if (folder / f"{transcript_basename(chat_id, occurrence_date(o))}.html").exists()
        ]
        return written[-1] if written else None
