"""The hosts' console on loopback: nothing shows or changes without signing in, a change
needs its CSRF token, a wrong secret is refused slowly and then not at all, strangers' text
renders inert, and the secret never comes back out."""

from __future__ import annotations

import subprocess
import threading
import time
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bot.adapters.commands_sql import HostCommandsSql
from bot.console.access import MAX_FAILURES, WRONG_SECRET_DELAY
from tests.support.chat_files import TWEETCHAT, tweetchat_env
from tests.support.console import SECRET, running_console
from tests.support.hostile import hostile_chat
from tests.support.posts import OCCURRENCE, person, post

API = f"/api/occurrences/{OCCURRENCE}"


def answers() -> list[Any]:
    return [
        post(f"a{n}", person(f"p{n}"), 11 + n, f"A1 my secret answer {n}", question=1)
        for n in range(3)
    ]


def test_nothing_shows_and_nothing_changes_without_signing_in(tmp_path: Path) -> None:
    with running_console(tmp_path, answers()) as rig, rig.client() as client:
        page = client.get("/chat/hexichat")
        stream = client.get("/chat/hexichat/events")
        state = client.get(API)
        command = client.post(f"{API}/commands", json={"kind": "pause"})
        form = client.post("/chat/hexichat/commands", data={"kind": "pause"})
        spec = client.get("/api/openapi.json")

        assert (page.status_code, page.headers["location"]) == (303, "/signin")
        assert stream.status_code == 401
        assert state.status_code == 401
        assert command.status_code == 401
        assert spec.status_code == 401
        assert (form.status_code, form.headers["location"]) == (303, "/signin")
        for answer in (page, stream, state, command, form):
            assert "my secret answer" not in answer.text
        assert HostCommandsSql(rig.store.engine).commands(OCCURRENCE) == []


def test_a_change_without_its_csrf_token_is_refused(tmp_path: Path) -> None:
    with running_console(tmp_path, answers()) as rig:
        client, csrf = rig.signed_in()
        with closing(client):
            bare_form = client.post("/chat/hexichat/commands", data={"kind": "pause"})
            wrong_form = client.post(
                "/chat/hexichat/commands", data={"kind": "pause", "csrf": csrf[::-1]}
            )
            bare_api = client.post(f"{API}/commands", json={"kind": "pause"})
            assert HostCommandsSql(rig.store.engine).commands(OCCURRENCE) == []

            good_form = client.post("/chat/hexichat/commands", data={"kind": "pause", "csrf": csrf})
            good_api = client.post(
                f"{API}/commands", json={"kind": "resume"}, headers={"X-CSRF-Token": csrf}
            )

        assert [bare_form.status_code, wrong_form.status_code, bare_api.status_code] == [403] * 3
        assert good_form.status_code == 303
        assert good_api.status_code == 202
        stored = HostCommandsSql(rig.store.engine).commands(OCCURRENCE)
        assert [(c.kind, c.by, c.state) for c in stored] == [
            ("pause", "Ana", "pending"),
            ("resume", "Ana", "pending"),
        ]


def test_a_wrong_secret_is_refused_slowly_then_the_client_is_shut_out(tmp_path: Path) -> None:
    with running_console(tmp_path, answers()) as rig, rig.client() as client:
        started = time.monotonic()
        wrong = client.post("/signin", data={"name": "eve", "secret": "guess"})
        took = time.monotonic() - started
        assert wrong.status_code == 401
        assert took >= WRONG_SECRET_DELAY
        assert "tweetchat_console" not in wrong.headers.get("set-cookie", "")
        wrong_bearer = client.get(API, headers={"Authorization": "Bearer guess"})
        assert wrong_bearer.status_code == 401

        # The rest of the allowance at once, as a guesser would: then even the right
        # secret is refused for a while.
        def guess() -> None:
            with rig.client() as other:
                other.post("/signin", data={"name": "eve", "secret": "guess again"})

        guessers = [threading.Thread(target=guess) for _ in range(MAX_FAILURES - 2)]
        for thread in guessers:
            thread.start()
        for thread in guessers:
            thread.join()
        shut_out = client.post("/signin", data={"name": "eve", "secret": SECRET})
        assert shut_out.status_code == 429
        assert client.get(API, headers={"Authorization": f"Bearer {SECRET}"}).status_code == 429


def test_the_api_takes_the_secret_as_a_bearer_token(tmp_path: Path) -> None:
    with running_console(tmp_path, answers()) as rig, rig.client() as client:
        bearer = {"Authorization": f"Bearer {SECRET}", "X-Host-Name": "Ben"}
        state = client.get(API, headers=bearer).json()
        stored = client.post(
            f"{API}/commands", json={"kind": "shift", "minutes": 5}, headers=bearer
        )
        bad = client.post(f"{API}/commands", json={"kind": "shift", "minutes": 0}, headers=bearer)
        spec = client.get("/api/openapi.json", headers=bearer).json()

    assert state["current_question"] == 1
    assert [a["id"] for a in state["answers"]] == ["a2", "a1", "a0"]  # newest first
    assert all(a["first_time"] for a in state["answers"])
    assert [(p["slot"], p["state"]) for p in state["agenda"]] == [
        ("intro", "posted"),
        ("q1", "posted"),
        ("q2", "planned"),
        ("closing", "planned"),
    ]
    assert stored.status_code == 202
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("minutes:")
    assert set(spec["paths"]) == {
        "/api/occurrences/{occurrence}",
        "/api/occurrences/{occurrence}/commands",
    }
    (command,) = HostCommandsSql(rig.store.engine).commands(OCCURRENCE)
    assert (command.kind, command.minutes, command.by) == ("shift", 5.0, "Ben")


class _Markup(HTMLParser):
    """Every tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_hostile_posts_render_inert(tmp_path: Path) -> None:
    posts, _questions = hostile_chat()
    with running_console(tmp_path, posts) as rig:
        client, _csrf = rig.signed_in()
        with closing(client):
            page = client.get("/chat/hexichat")
            with client.stream("GET", "/chat/hexichat/events") as stream:
                first = next(line for line in stream.iter_lines() if line.startswith("data:"))

    assert page.status_code == 200
    for markup in (page.text, first):
        parser = _Markup()
        parser.feed(markup.replace("\\n", "\n").replace('\\"', '"'))
        tags = parser.tags
        # Every answer to Q1 is there, hostile as it is.
        shown = [a["data-post"] for t, a in tags if t == "article"]
        assert {p.id for p in posts if p.question == 1 and not p.is_own} <= set(shown)
        assert [a for t, a in tags if t == "script"] in (
            [{"src": "/static/console.js", "defer": None}],
            [],
        )
        assert not {t for t, _ in tags} & {
            "img",
            "iframe",
            "object",
            "embed",
            "style",
            "base",
            "svg",
            "math",
            "video",
            "audio",
        }
        assert [a for t, a in tags if t == "link"] in (
            [{"rel": "stylesheet", "href": "/static/console.css"}],
            [],
        )
        for tag, attrs in tags:
            assert not [name for name in attrs if name.startswith("on") or name == "style"], tag
            # A link keeps a web address or none at all (nh3 drops javascript: and the like).
            if "href" in attrs:
                assert (attrs["href"] or "").startswith(("https://", "http://", "/static/"))
            if tag == "form":
                assert (attrs.get("action") or "").startswith("/"), attrs
    assert page.headers["content-security-policy"].startswith(
        "default-src 'none'; script-src 'self'"
    )


def test_the_secret_never_shows_in_a_page_an_answer_or_a_log(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    with running_console(tmp_path, answers()) as rig:
        client, csrf = rig.signed_in()
        with closing(client):
            for answer in (
                client.get("/chat/hexichat"),
                client.get(API),
                client.get("/api/occurrences/nochat/2026-12-02"),
                client.post(
                    f"{API}/commands", json={"kind": "boost"}, headers={"X-CSRF-Token": csrf}
                ),
                client.post(f"{API}/commands", content=b"{", headers={"X-CSRF-Token": csrf}),
                client.get("/chat/nochat"),
                client.post("/signin", data={"name": SECRET, "secret": "wrong"}),
            ):
                seen.append(answer.text + str(answer.headers))
    seen.append(repr(logs))
    assert any(e["event"] == "console.signin" and e["who"] == "Ana" for e in logs)
    assert not [text for text in seen if SECRET in text]


def test_the_console_does_not_start_without_its_secret(tmp_path: Path) -> None:
    (tmp_path / "chat.yaml").write_text(
        (Path(__file__).parents[2] / "config" / "example.yaml").read_text("utf-8"), "utf-8"
    )
    result = subprocess.run(
        [str(TWEETCHAT), "console", str(tmp_path / "chat.yaml")],
        env=tweetchat_env(database=tmp_path / "store.sqlite3", token=None),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "TWEETCHAT_CONSOLE_TOKEN is not set" in result.stderr
    assert "does not start without a secret" in result.stderr


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(tmp_path: Path) -> None:
    with running_console(tmp_path, answers()) as rig, rig.client() as client:
        plain = client.post("/signin", data={"name": "Ana", "secret": SECRET})
        # Behind a proxy that ended https (Heroku's router says so in a header).
        https = client.post(
            "/signin",
            data={"name": "Ana", "secret": SECRET},
            headers={"X-Forwarded-Proto": "https"},
        )
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie.replace("console=", "")
    assert "secure" in https.headers["set-cookie"].lower()
