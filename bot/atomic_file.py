"""Writing a file whole or not at all, for files that others read or serve (transcripts).

The text goes to a temporary file of a fresh, unguessable name in the same folder (created
exclusively, so a symlink planted there beforehand is never followed), is flushed to the
disk, and then renamed over the target in one step: a reader sees the old file or the new
one, never half of one, and a failed write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

_DEFAULT_UMASK = 0o022


class NotWritten(OSError):
    """A file could not be written: ``filename`` is the file asked for, ``strerror`` why."""


def write_whole(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically. Raises NotWritten naming ``path`` (not
    the temporary file, which nobody asked for), having cleaned up."""
    try:
        _write(path, text)
    except OSError as exc:
        raise NotWritten(exc.errno, exc.strerror or str(exc), str(path)) from exc
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            # mkstemp makes it private (0600); a transcript is published, so it gets the mode
            # any file the host writes gets (0644 under the usual umask).
            os.fchmod(file.fileno(), 0o666 & ~_umask())
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _umask() -> int:
    """The process's umask, read rather than set: os.umask() sets it, which would race the
    files other threads are creating."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return _DEFAULT_UMASK
    for line in status.splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    return _DEFAULT_UMASK


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable: it lives in the folder's entry, not the file."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # not every system opens folders; the file's own data is on disk already
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
