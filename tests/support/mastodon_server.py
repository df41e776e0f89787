"""A real Mastodon API server for tests: mastodon_mock in its own process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

_BIN = Path(sys.executable).with_name("mastodon_mock")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Account:
    username: str
    id: str
    token: str


class MastodonServer:
    """A handle on a running mastodon_mock: accounts, reset, and reads of what it holds."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def reset(self) -> None:
        self.http.post("/api/v1/_mock/reset").raise_for_status()

    def account(self, username: str, **profile: Any) -> Account:
        """Create an account; ``profile`` goes to update_credentials (note, bot, ...;
        ``fields_attributes=[(name, value), ...]`` for the profile fields)."""
        body = self.http.post("/api/v1/_mock/dev_user", json={"username": username})
        body.raise_for_status()
        data = body.json()
        account = Account(username, str(data["id"]), data["access_token"])
        if profile:
            # As a form, like Mastodon.py sends it: the server ignores a JSON body here.
            form = {k: v for k, v in profile.items() if k != "fields_attributes"}
            for i, (name, value) in enumerate(profile.get("fields_attributes", [])):
                form[f"fields_attributes[{i}][name]"] = name
                form[f"fields_attributes[{i}][value]"] = value
            self.http.patch(
                "/api/v1/accounts/update_credentials", data=form, headers=self.auth(account)
            ).raise_for_status()
        return account

    @staticmethod
    def auth(account: Account) -> dict[str, str]:
        return {"Authorization": f"Bearer {account.token}"}

    def statuses_of(self, account: Account, *, limit: int = 40) -> list[dict[str, Any]]:
        """Every status of an account, oldest first (pages through the timeline)."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = self.http.get(
                f"/api/v1/accounts/{account.id}/statuses", params=params, headers=self.auth(account)
            )
            page.raise_for_status()
            batch = page.json()
            if not batch:
                return list(reversed(out))
            out.extend(batch)
            params["max_id"] = batch[-1]["id"]

    def fault(
        self,
        *,
        path: str | None = None,
        path_regex: str | None = None,
        methods: tuple[str, ...] = ("GET",),
        count: int | None = None,
        **effect: Any,
    ) -> None:
        """Make the server answer matching requests (path only, no query) another way:
        ``type="status", status=404`` (and ``body=...``, ``headers={...}``), ``"latency"``
        with ``delay_ms``, ``"malformed"``... until ``reset``, or ``count`` times."""
        match: dict[str, Any] = {"methods": list(methods)}
        match.update({"path": path} if path is not None else {"path_regex": path_regex})
        rule: dict[str, Any] = {"match": match, "effect": effect}
        if count is not None:
            rule["count"] = count
        self.http.post("/api/v1/_mock/faults", json=rule).raise_for_status()

    def answer(
        self, path_regex: str, status: int, body: Any = None, *, method: str = "GET"
    ) -> None:
        """From now on the server answers requests whose path matches ``path_regex`` with
        ``status`` and ``body``: how a test plays another server. Mastodon.py asks for some
        paths with a trailing "/", so a regex."""
        extra = {} if body is None else {"body": body}
        self.fault(path_regex=path_regex, methods=(method,), type="status", status=status, **extra)

    def post(self, account: Account, text: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post(
            "/api/v1/statuses", json={"status": text, **fields}, headers=self.auth(account)
        )
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


@contextmanager
def running_mastodon(*, config: Path | None = None) -> Iterator[MastodonServer]:
    port = free_port()
    args = [
        str(_BIN),
        "serve",
        "--in-memory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if config is not None:
        args += ["--config", str(config)]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/api/v1/instance", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"mastodon_mock did not start: {err}") from None
                time.sleep(0.05)
        server = MastodonServer(base)
        yield server
        server.http.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def running_mastodon_without_streaming(folder: Path) -> Iterator[MastodonServer]:
    """A server that streams neither over SSE nor WebSocket (its config file in ``folder``)."""
    config = folder / "mastodon_mock.toml"
    config.write_text("[streaming]\nenabled = false\n", "utf-8")
    with running_mastodon(config=config) as server:
        yield server
