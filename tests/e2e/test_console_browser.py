"""The hosts' console in headless Chromium, on a rehearsal (`tweetchat rehearse --console`):
a host signs in, watches the answers arrive, boosts one from the page (and the rehearsal's
server boosts it), shifts the agenda (the next question goes out at its new time), pauses
and resumes it; at a phone's width and a desktop's, without a console error or a request to
any other host.

Needs Debian's chromium and chromium-driver (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.browser import (
    DESKTOP_WIDTH,
    PHONE_WIDTH,
    chromium_missing,
    console_errors,
    headless_chromium,
    requests_made,
    set_width,
)
from tests.support.chat_files import RunningBot, tweetchat_env
from tests.support.console import SECRET, wait_for
from tests.support.mastodon_server import free_port

pytestmark = pytest.mark.slow

if chromium_missing() and not os.environ.get("CI"):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
SPEED = 20  # the example's questions 8 minutes apart: 24 s
SHIFT_MINUTES = 2  # of the chat: 6 s at this speed


def shown_at(output: str, slot: str) -> datetime:
    """When the rehearsal's server received the bot's post of ``slot``, as it printed it (a
    post is stamped with its planned time: the printed line tells when it really came)."""
    found = re.search(rf"^\[(\d\d):(\d\d):(\d\d) GMT\] mastodon {slot}\b", output, re.MULTILINE)
    assert found, output
    hour, minute, second = map(int, found.groups())
    return datetime.now(UTC).replace(hour=hour, minute=minute, second=second, microsecond=0)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[tuple[RunningBot, str]]:
    # The example chat, with the boosts left to the hosts.
    document = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    document["boost"]["mode"] = "off"
    chat = tmp_path / "chat.yaml"
    chat.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    port = free_port()
    env = tweetchat_env(
        database=tmp_path / "unused.sqlite3", token=None, TWEETCHAT_CONSOLE_TOKEN=SECRET
    )
    options = ["--console", "--console-port", str(port), "--speed", str(SPEED)]
    options += ["--out", str(tmp_path / "out")]
    with RunningBot(chat, env=env, command="rehearse", options=options) as bot:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: "Console on" in bot.stdout, timeout=30, what="the console up")
        yield bot, url


class Api:
    """The console's JSON API, as a script of the hosts would use it."""

    def __init__(self, url: str, occurrence: str) -> None:
        self._http = httpx.Client(
            base_url=url, timeout=10, headers={"Authorization": f"Bearer {SECRET}"}
        )
        self._path = f"/api/occurrences/{occurrence}"

    def state(self) -> dict[str, Any]:
        answer = self._http.get(self._path)
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data

    def slot(self, slot: str) -> dict[str, Any]:
        return next(p for p in self.state()["agenda"] if p["slot"] == slot)

    def command_done(self, kind: str) -> dict[str, Any] | None:
        done = [
            c for c in self.state()["commands"] if c["kind"] == kind and c["state"] != "pending"
        ]
        return done[0] if done else None

    def next_question(self) -> dict[str, Any]:
        return next(
            p for p in self.state()["agenda"] if p["kind"] == "question" and p["state"] == "planned"
        )


def click(driver: Any, selector: str) -> None:
    # In one go in the page: the live part is replaced whenever the chat moves.
    driver.execute_script("document.querySelector(arguments[0]).click()", selector)


def test_a_host_runs_a_rehearsal_from_the_console(
    browser_profile: Path, rehearsal: tuple[RunningBot, str]
) -> None:
    from selenium.webdriver.common.by import By

    bot, url = rehearsal
    date = re.search(r"Rehearsing #HEXIchat \((\d{4}-\d{2}-\d{2})\)", bot.stdout)
    assert date, bot.stdout
    api = Api(url, f"hexichat/{date.group(1)}")
    with headless_chromium(browser_profile, block_all=False) as driver:
        # The browser's own start page made requests of its own: drain them, to see the page's.
        driver.get_log("performance")
        driver.get_log("browser")
        driver.get(f"{url}/signin")
        driver.find_element(By.NAME, "name").send_keys("Ana")
        driver.find_element(By.NAME, "secret").send_keys(SECRET)
        driver.find_element(By.CSS_SELECTOR, "#signin button").click()
        wait_for(lambda: driver.current_url.endswith("/chat/hexichat"), timeout=10, what="in")

        # Answers arrive on the page as they are posted, without a reload.
        wait_for(
            lambda: driver.find_elements(By.CSS_SELECTOR, "#answers article"),
            timeout=40,
            what="answers on the page",
        )
        assert driver.find_element(By.ID, "connection").text == "live"

        # Boost one from the page: the rehearsal's server boosts it.
        article = driver.find_element(By.CSS_SELECTOR, "#answers article:not(.boosted)")
        post_id = article.get_attribute("data-post")
        handle = article.find_element(By.CSS_SELECTOR, ".handle").text
        click(driver, f'#answers article[data-post="{post_id}"] form.boost button')
        wait_for(
            lambda: driver.find_elements(By.CSS_SELECTOR, f'#boosts li[data-post="{post_id}"]'),
            timeout=10,
            what="the boost listed",
        )
        wait_for(lambda: f"boost: {handle}:" in bot.stdout, timeout=5, what="the boost made")

        # Shift the rest of the agenda: the next question goes out that much later.
        planned = api.next_question()
        driver.execute_script(
            "document.querySelector('#shift input[name=minutes]').value = arguments[0]",
            str(SHIFT_MINUTES),
        )
        click(driver, "#shift button")
        wait_for(lambda: api.command_done("shift"), timeout=10, what="the shift done")
        moved = api.slot(planned["slot"])
        assert at(moved["at"]) == at(planned["at"]) + timedelta(minutes=SHIFT_MINUTES) / SPEED
        wait_for(
            lambda: api.slot(planned["slot"])["state"] == "posted",
            timeout=40,
            what="the shifted question out",
        )
        assert shown_at(bot.stdout, planned["slot"]) >= at(moved["at"]).replace(microsecond=0)

        # Pause: nothing more goes out, even past its time, until the agenda resumes.
        held = api.next_question()
        click(driver, "#pause button")
        assert wait_for(lambda: api.command_done("pause"), timeout=10, what="paused")["state"] == (
            "done"
        )
        wait_for(
            lambda: driver.find_elements(
                By.CSS_SELECTOR, f'#agenda li.state-held[data-key="{held["key"]}"]'
            ),
            timeout=10,
            what="held on the page",
        )
        past = at(held["at"]) + timedelta(seconds=2)
        time.sleep(max(0.0, (past - datetime.now(UTC)).total_seconds()))
        assert api.slot(held["slot"])["state"] == "held"
        click(driver, "#resume button")
        resumed = wait_for(lambda: api.command_done("resume"), timeout=10, what="resumed")
        wait_for(
            lambda: api.slot(held["slot"])["state"] == "posted",
            timeout=40,
            what="the held question out",
        )
        assert shown_at(bot.stdout, held["slot"]) >= at(resumed["done_at"]).replace(microsecond=0)

        # The page at a phone's width: nothing wider than the screen.
        driver.execute_script("window.scrollTo(0, 0)")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
        # For a person to look at: kept where TWEETCHAT_SCREENSHOTS says, else with the test.
        shots = Path(os.environ.get("TWEETCHAT_SCREENSHOTS") or browser_profile.parent)
        shots.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shots / "console-phone.png"))
        set_width(driver, DESKTOP_WIDTH)
        assert driver.save_screenshot(str(shots / "console-desktop.png"))

        assert console_errors(driver) == []
        assert [u for u in requests_made(driver) if not u.startswith(f"{url}/")] == []


@pytest.fixture
def browser_profile(tmp_path: Path) -> Path:
    return tmp_path / "profile"
