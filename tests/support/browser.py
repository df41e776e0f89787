"""Debian's headless Chromium driven by selenium, with the network refused but for this
machine, and what the page asked for and complained about, from DevTools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE_WIDTH = 412
DESKTOP_WIDTH = 1280


def chromium_missing() -> bool:
    return not (CHROMIUM.exists() and CHROMEDRIVER.exists())


@contextmanager
def headless_chromium(profile: Path, *, block_all: bool) -> Iterator[Any]:
    """A browser at a phone's width. Other hosts are unreachable: no name resolves and every
    connection but to loopback (which Chrome never proxies) goes to a closed port; with
    ``block_all``, even loopback is refused, so that any attempt shows as a failed request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND" + ("" if block_all else ", EXCLUDE 127.0.0.1"),
        "--proxy-server=127.0.0.1:9",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Network.enable", {})
        if block_all:
            driver.execute_cdp_cmd(
                "Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]}
            )
        set_width(driver, PHONE_WIDTH)
        yield driver
    finally:
        driver.quit()


def set_width(driver: Any, width: int) -> None:
    # A headless window is never narrower than 500 pixels: a phone's screen is emulated.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 915, "deviceScaleFactor": 1, "mobile": width < 800},
    )


def requests_made(driver: Any) -> list[str]:
    """Every URL the page asked for, from Chrome's DevTools events."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
