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
