"""structlog set-up: JSON lines when not a terminal, readable lines otherwise.

Every secret the process knows (bot.core.masking) is masked in every event, whatever field
or message it hides in: a token must never reach a log line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any, TextIO

from bot.core.masking import MASK, mask_value, register_secret
from bot.core.printable import printable

__all__ = ["MASK", "configure", "get_logger", "mask_secrets", "register_secret"]


def mask_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    return {key: mask_value(value) for key, value in event.items()}


def plain_values(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Values as plain text for a terminal: a server's message or a post quoted in an event
    must not drive it (JSON lines escape control characters already)."""
    return {key: _plain(value) for key, value in event.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value, newlines=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def configure(
    *, json: bool | None = None, level: str = "INFO", stream: TextIO | None = None
) -> None:
    stream = stream or sys.stdout
    if json is None:
        json = not stream.isatty()
    # Imported here, not at the top: commands that never log, like `export`, import this
    # module through bootstrap.
    structlog = _import_structlog(pretty_tracebacks=not json)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_secrets,
            *([] if json else [plain_values]),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library; keep their chatter out of our stream.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


# What structlog imports, if installed, for the tracebacks of its console renderer.
_TRACEBACK_LIBRARIES = ("rich", "better_exceptions")


def _import_structlog(*, pretty_tracebacks: bool) -> ModuleType:
    """structlog, loaded without rich unless its console tracebacks are wanted.

    structlog imports rich (and with it pygments) as it loads, for the tracebacks of its
    console renderer: about 6 MB that stay resident all the life of a worker writing JSON
    lines, which format exceptions as plain text. Hidden while structlog loads, they count
    as not installed, for structlog only: the CLI's tables still import rich when they print.
    """
    if pretty_tracebacks or "structlog" in sys.modules:
        import structlog

        return structlog
    hidden = [name for name in _TRACEBACK_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import structlog
    finally:
        for name in hidden:
            del sys.modules[name]
    return structlog


def get_logger(**bound: Any) -> Any:
    import structlog

    return structlog.get_logger().bind(**bound)
