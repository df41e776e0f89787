"""The log set-up of a worker: JSON lines that keep exceptions whole, without keeping the console
renderer's traceback libraries in memory (a fresh process, as a worker starts)."""

from __future__ import annotations

import json
import subprocess
import sys

WORKER = """
import json, sys
from bot.runtime.logs import configure, get_logger

configure(json=True)
try:
    1 / 0
except ZeroDivisionError:
    get_logger(chat="c").exception("chat.crashed")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("rich", "pygments"))
from rich.table import Table  # the CLI's tables still work

print(json.dumps(loaded), file=sys.stderr)
"""


def test_json_logs_keep_exceptions_whole_without_loading_rich() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", WORKER], capture_output=True, text=True, check=True, timeout=60
    )
    event = json.loads(ran.stdout)
    assert (event["event"], event["chat"], event["level"]) == ("chat.crashed", "c", "error")
    assert "ZeroDivisionError: division by zero" in event["exception"]
    assert json.loads(ran.stderr) == []


CONSOLE = """
import io, sys
from bot.runtime.logs import configure, get_logger

class Terminal(io.StringIO):
    def isatty(self):
        return True

terminal = Terminal()
configure(json=False, stream=terminal)
get_logger(chat="c").warning(
    "post.failed",
    reason="\\x1b]8;;https://evil.example\\x1b\\\\login\\x1b]8;;\\x1b\\\\\\x1b[2J\\x07",
    name="\\x9b31m\\u202eredro",
)
sys.stdout.write(terminal.getvalue())
"""


def test_console_logs_show_a_servers_message_without_its_escapes() -> None:
    """Issue 12 item 8: a server's message in a log value reached the terminal raw (values
    without spaces are not quoted by the console renderer)."""
    ran = subprocess.run(
        [sys.executable, "-c", CONSOLE], capture_output=True, text=True, check=True, timeout=60
    )

    line = ran.stdout
    assert "post.failed" in line
    assert "]8;;https://evil.example" in line
    for sequence in ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\u202e"):
        assert sequence not in line
