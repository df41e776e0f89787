"""Reading chat files: one file, or every chat file of a folder, each chat id once."""

from __future__ import annotations

from pathlib import Path

from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.problems import ConfigError, ConfigErrors, Problem


def load_config(path: Path) -> ChatConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            str(path), [Problem((), f"cannot read the file: {exc.strerror}", "check the path")]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), [Problem((), "the file is not UTF-8 text")]) from None
    return parse_config(text, filename=str(path))


def load_chats(path: Path) -> list[ChatConfig]:
    """One chat file, or every chat file (``*.yaml``, ``*.yml``) of a folder."""
    if not path.is_dir():
        return [load_config(path)]
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise ConfigError(
            str(path),
            [Problem((), "the folder holds no chat file", "put one *.yaml file per chat in it")],
        )
    chats: list[ChatConfig] = []
    errors: list[ConfigError] = []
    first_file: dict[str, Path] = {}
    for file in files:
        try:
            chat = load_config(file)
        except ConfigError as exc:
            errors.append(exc)
            continue
        first = first_file.setdefault(chat.chat.id, file)
        if first != file:
            problem = Problem(
                ("chat", "id"),
                f"the chat id {chat.chat.id!r} is taken by {first.name}",
                "give each chat its own id: it names the chat's posts in the ledger",
            )
            errors.append(ConfigError(str(file), [problem]))
            continue
        chats.append(chat)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)
    return chats
