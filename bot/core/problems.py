"""A problem in a chat file, said so a host can find and fix it."""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


def field_name(loc: Loc) -> str:
    """``("posts", "questions", 2, "at")`` as a host reads it: ``posts.questions[3].at``.

    Lists are numbered from 1 in messages, like the questions themselves.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out or "(file)"


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    hint: str | None = None
    line: int | None = None

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        text = f"{where}: {field_name(self.loc)}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ConfigError(Exception):
    """A chat file that cannot be run; every problem found, not just the first."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(p.render(self.filename) for p in self.problems)


class ConfigErrors(ConfigError):
    """Problems in several chat files of a folder, each file's under its own name."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__(
            ", ".join(e.filename for e in errors), [p for e in errors for p in e.problems]
        )

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)
