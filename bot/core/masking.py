"""The secrets this process knows, and their masking wherever text leaves it.

Every output path goes through ``mask``: log lines (bot.runtime.logs), everything the CLI
writes to stdout and stderr (a masking stream, see ``MaskingStream``), the reasons platform
errors carry (``PlatformError``) and the reasons the store keeps. A server that echoes the
bot's token in an error message must not get it printed, logged or stored.
"""

from __future__ import annotations

import threading
from typing import Any, TextIO

MASK = "***"
# Short values would mask ordinary words; real tokens are long.
_MIN_SECRET_CHARS = 8

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    if len(value) >= _MIN_SECRET_CHARS:
        with _lock:
            _secrets.add(value)


def mask(text: str) -> str:
    """``text`` with every known secret replaced by ``MASK`` (longest first, so a secret
    that contains another is masked whole)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_value(value: Any) -> Any:
    """A log field masked, whatever its shape (text, containers, an exception)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    if isinstance(value, BaseException):
        return mask(f"{type(value).__name__}: {value}")
    return value


class MaskingStream:
    """A text stream that masks what is written to it before passing it on; everything
    else (isatty, fileno, encoding) is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.wrapped = stream

    def write(self, text: str) -> int:
        self.wrapped.write(mask(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
