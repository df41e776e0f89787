"""How long `tweetchat validate` takes on chat files built to exhaust it. Run by hand:

    .venv/bin/python -m bench.config_reader

For alias bombs (each level an anchor holding 9 aliases of the one before, so that level n
stands for 9**n values) of 5 to 12 levels, and for lists nested 1,000 to 100,000 deep, it
runs `tweetchat validate` and prints the exit status, the wall time and the peak RSS of the
process, and the time the reader itself takes in this process (without the CLI's start-up,
which the first line, a valid chat file, measures alone). Target (issue 12 item 7): every one
refused (exit 2) in under a second, at a memory that does not grow with the file's expansion.
"""

from __future__ import annotations

import contextlib
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from bot.core.configfile import parse_config
from bot.core.problems import ConfigError
from tests.support.chat_files import TWEETCHAT
from tests.support.config_text import chat_text

TARGET_SECONDS = 1.0


def alias_bomb(levels: int) -> str:
    lines = ["bomb:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"  a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return chat_text() + "\n".join(lines) + "\n"


def deep_nesting(depth: int) -> str:
    return chat_text() + "deep: " + "[" * depth + "]" * depth + "\n"


def run(path: Path) -> tuple[int, float, float]:
    """Exit status, seconds, and the child's peak RSS in MB (the largest child so far)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(TWEETCHAT), "validate", str(path)], capture_output=True, timeout=600, check=False
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return done.returncode, seconds, peak_mb


def reader_seconds(text: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(ConfigError):
        parse_config(text, filename="chat.yaml")
    return time.perf_counter() - started


def main() -> None:
    cases = [("a valid chat file", chat_text())]
    cases += [(f"alias bomb, {n} levels", alias_bomb(n)) for n in (5, 7, 9, 12)]
    cases += [(f"nesting {d:,} deep", deep_nesting(d)) for d in (1_000, 10_000, 100_000)]
    with tempfile.TemporaryDirectory() as folder:
        for label, text in cases:
            path = Path(folder) / "chat.yaml"
            path.write_text(text, encoding="utf-8")
            status, seconds, peak_mb = run(path)
            reader = reader_seconds(text)
            verdict = "ok" if status in (0, 2) and seconds < TARGET_SECONDS else "MISSED"
            print(
                f"{label:24} {len(text.encode()):>8,} bytes  exit {status}  {seconds:5.2f} s "
                f"(reader {reader * 1000:4.0f} ms)  peak RSS so far {peak_mb:4.0f} MB  {verdict}"
            )


if __name__ == "__main__":
    main()
