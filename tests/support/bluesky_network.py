"""A real AT Protocol network for tests: `@atproto/dev-env` (PLC, PDS, AppView) on loopback.

The Node packages come from tests/bluesky_net's lockfile, installed with ``npm ci`` once into a
cache folder outside the work tree (keyed by the lockfile's hash: a new lockfile, a new
install); start.mjs runs from a copy beside them. Each network gets a fresh letters-only
PostgreSQL schema and its own TMPDIR (the PDS keeps SQLite files there); stopping it ends the
process by its id and drops the schemas.

The PDS sits behind a fault proxy of the test's own, at the public URL that every DID
document names: clients that follow a DID document (the bot, once logged in) pass it.

The AppView indexes what the PDS holds asynchronously (10-700 ms): helpers here wait for it
with bounded polls, never with fixed sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import string
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
from psycopg import sql

from tests.fakes.fault_proxy import FaultProxy
from tests.support.mastodon_server import free_port
from tests.support.postgres import ADMIN_URL

NET_DIR = Path(__file__).resolve().parent.parent / "bluesky_net"
MIN_NODE = 20
_READY_TIMEOUT = 120.0  # the first start after an install compiles nothing, but is slow
T = TypeVar("T")


class NetworkUnavailable(Exception):
    """Node or its packages are missing; says how to fix it."""


def node_problem() -> str | None:
    """Why the network cannot run here (no Node, or too old), or None."""
    node = shutil.which("node")
    if node is None:
        return "Node.js is not installed (the Bluesky tests need Node 20 or newer)"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout.strip()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE:
        return f"Node.js {version or '?'} is too old: the Bluesky tests need {MIN_NODE} or newer"
    return None


def installed_packages() -> Path:
    """The folder holding node_modules for the lockfile, installed with ``npm ci`` if absent."""
    lock = (NET_DIR / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (NET_DIR / "package.json").read_bytes()).hexdigest()[:16]
    root = Path(
        os.environ.get("TWEETCHAT_ATPROTO_CACHE", Path.home() / ".cache" / "tweetchat-atproto")
    )
    folder = root / digest
    if not (folder / "node_modules" / ".installed").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(NET_DIR / name, folder / name)
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            raise NetworkUnavailable(f"npm ci failed in {folder}:\n{done.stderr[-2000:]}")
        (folder / "node_modules" / ".installed").touch()
    return folder


def placed_script(folder: Path) -> str:
    """The name of start.mjs's copy in ``folder``, where it resolves the cached packages.

    The copy is named by its content: worktrees that share the cache but differ in the
    script never run each other's, and a copy appears whole (renamed into place) or not at
    all, so a network starting meanwhile never reads half of one.
    """
    script = (NET_DIR / "start.mjs").read_bytes()
    name = f"start-{hashlib.sha256(script).hexdigest()[:12]}.mjs"
    if not (folder / name).exists():
        staged = folder / f".{name}.{os.getpid()}"
        staged.write_bytes(script)
        staged.replace(folder / name)
    return name


@dataclass(frozen=True)
class Account:
    handle: str
    did: str
    password: str
    access_jwt: str


class BlueskyNetwork:
    """A handle on a running network: accounts, and reads of what the PDS and AppView hold."""

    def __init__(self, *, pds: str, bsky: str, plc: str, pds_proxy: FaultProxy) -> None:
        self.pds = pds
        # Everything addressed to the PDS's public URL passes it, these helpers' requests too.
        self.pds_proxy = pds_proxy
        self.bsky = bsky
        self.plc = plc
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def create_account(self, prefix: str, **profile: Any) -> Account:
        """A fresh account (``<prefix><random>.test``), indexed by the AppView before this
        returns; ``profile``: description, labels (self-labels) for its profile record."""
        handle = f"{prefix}{secrets.token_hex(3)}.test"
        password = secrets.token_urlsafe(12)
        answer = self.http.post(
            f"{self.pds}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{handle}@example.test", "password": password},
        )
        answer.raise_for_status()
        data = answer.json()
        account = Account(handle, data["did"], password, data["accessJwt"])
        record: dict[str, Any] = {"$type": "app.bsky.actor.profile", "displayName": prefix}
        if "description" in profile:
            record["description"] = profile["description"]
        if profile.get("labels"):
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": v} for v in profile["labels"]],
            }
        self.put_record(account, "app.bsky.actor.profile", "self", record)
        self.wait_for(lambda: self._profile(account.did), what=f"the profile of {handle}")
        return account

    def put_record(
        self, account: Account, collection: str, rkey: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.pds}/xrpc/com.atproto.repo.putRecord",
            json={"repo": account.did, "collection": collection, "rkey": rkey, "record": record},
            headers=self.auth(account),
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def create_post(
        self,
        account: Account,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        facets: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A post by a participant (uri, cid), once the AppView has indexed it.
        ``reply_to``: ``{"root": {uri, cid}, "parent": {uri, cid}}``."""
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            # Milliseconds, as clients write it: the search sorts by this time.
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        }
        if reply_to is not None:
            record["reply"] = reply_to
        if facets is not None:
            record["facets"] = facets
        answer = self.http.post(
            f"{self.pds}/xrpc/com.atproto.repo.createRecord",
            json={"repo": account.did, "collection": "app.bsky.feed.post", "record": record},
            headers=self.auth(account),
        )
        answer.raise_for_status()
        created: dict[str, Any] = answer.json()
        self.wait_for(lambda: self.appview_post(created["uri"]), what=f"{created['uri']} indexed")
        return created

    def delete_post(self, account: Account, uri: str) -> None:
        answer = self.http.post(
            f"{self.pds}/xrpc/com.atproto.repo.deleteRecord",
            json={
                "repo": account.did,
                "collection": "app.bsky.feed.post",
                "rkey": uri.rsplit("/", 1)[1],
            },
            headers=self.auth(account),
        )
        answer.raise_for_status()
        self.wait_for(lambda: self.appview_post(uri) is None or None, what=f"{uri} gone")

    def block(self, account: Account, subject_did: str) -> None:
        self.http.post(
            f"{self.pds}/xrpc/com.atproto.repo.createRecord",
            json={
                "repo": account.did,
                "collection": "app.bsky.graph.block",
                "record": {
                    "$type": "app.bsky.graph.block",
                    "subject": subject_did,
                    "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                },
            },
            headers=self.auth(account),
        ).raise_for_status()

    def records(self, did: str, collection: str) -> list[dict[str, Any]]:
        """Every record of a collection in a repo, as the PDS holds it, oldest first."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            answer = self.http.get(f"{self.pds}/xrpc/com.atproto.repo.listRecords", params=params)
            answer.raise_for_status()
            page = answer.json()
            out += page.get("records", [])
            cursor = page.get("cursor")
            if not cursor or not page.get("records"):
                return sorted(out, key=lambda r: str(r["value"].get("createdAt", "")))

    def appview_post(self, uri: str) -> dict[str, Any] | None:
        answer = self.http.get(f"{self.bsky}/xrpc/app.bsky.feed.getPosts", params={"uris": uri})
        answer.raise_for_status()
        posts: list[dict[str, Any]] = answer.json().get("posts", [])
        return posts[0] if posts else None

    def _profile(self, did: str) -> dict[str, Any] | None:
        answer = self.http.get(f"{self.bsky}/xrpc/app.bsky.actor.getProfile", params={"actor": did})
        return answer.json() if answer.status_code == 200 else None

    @staticmethod
    def auth(account: Account) -> dict[str, str]:
        return {"Authorization": f"Bearer {account.access_jwt}"}

    @staticmethod
    def wait_for(probe: Callable[[], T | None], *, what: str, timeout: float = 15.0) -> T:
        """Poll until ``probe`` gives something (the AppView indexes asynchronously)."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f}s for {what}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _schema() -> str:
    # Letters only: dev-env builds schema names from it.
    return "tc" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def _drop_schemas(schema: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"%{schema}%",)
        ).fetchall()
        for (name,) in rows:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@contextmanager
def running_network() -> Iterator[BlueskyNetwork]:
    """Start a network, yield it, and stop it (by its pid) and drop its schemas afterwards.

    The PDS's public URL, the address every DID document names, is a fault proxy's: the PDS
    listens on a port of its own behind it, so a test can hold back an answer the PDS gave
    the bot (``BlueskyNetwork.pds_proxy``)."""
    problem = node_problem()
    if problem is not None:
        raise NetworkUnavailable(problem)
    folder = installed_packages()
    schema = _schema()
    pds_listen, plc, bsky, ozone = (free_port() for _ in range(4))
    tmp = Path(tempfile.mkdtemp(prefix="tweetchat-atproto-"))
    with FaultProxy(f"http://127.0.0.1:{pds_listen}") as proxy:
        ports = [plc, proxy.port, pds_listen, bsky, ozone]
        with _network_process(folder, placed_script(folder), schema, ports, tmp) as urls:
            network = BlueskyNetwork(
                pds=urls["pds"], bsky=urls["bsky"], plc=urls["plc"], pds_proxy=proxy
            )
            try:
                yield network
            finally:
                network.close()


@contextmanager
def _network_process(
    folder: Path, script: str, schema: str, ports: list[int], tmp: Path
) -> Iterator[dict[str, str]]:
    """start.mjs (``script`` in ``folder``) running on ``ports`` (plc, pds, pds-listen,
    bsky, ozone): yields the addresses it prints once ready; stops it by its pid and drops
    its schemas after."""
    log = (tmp / "network.log").open("w+")
    process = subprocess.Popen(
        ["node", script, ADMIN_URL, schema, *map(str, ports)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp), "LOG_ENABLED": "false", "NODE_ENV": "test"},
    )
    try:
        assert process.stdout is not None
        line = _first_line(process, timeout=_READY_TIMEOUT)
        if not line:
            log.seek(0)
            raise NetworkUnavailable(f"the network did not start:\n{log.read()[-3000:]}")
        urls: dict[str, str] = json.loads(line)
        yield urls
    finally:
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()
        _drop_schemas(schema)
        shutil.rmtree(tmp, ignore_errors=True)


def _first_line(process: subprocess.Popen[str], *, timeout: float) -> str:
    """The script's ready line, or "" if it ended (or took too long) before printing it."""
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().strip()
