"""`tweetchat doctor` and `tweetchat run` on servers that are not Mastodon 4.3+, as a host
runs them: the doctor writes nothing anywhere and says what the bot will do instead; `run`
starts where `/api/v2/instance` is missing rather than blaming the token.

mastodon_mock plays each server through its fault rules: Mastodon 3.5 has neither
``/api/v2/instance`` (added in 4.0) nor the multi-status read ``GET /api/v1/statuses``
(added in 4.3), and its NodeInfo says 3.5 (docs.joinmastodon.org/methods/instance,
/methods/statuses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_operations import table_rows
from tests.support.chat_files import RunningBot, run_tweetchat, tweetchat_env, write_chat
from tests.support.mastodon_server import Account, MastodonServer


def shape_as_mastodon_3_5(server: MastodonServer) -> None:
    # Mastodon.py asks for "/api/v2/instance/": Mastodon answers with or without "/".
    server.answer("^/api/v2/instance/?$", 404, {"error": "Not Found"})
    server.answer("^/api/v1/statuses/?$", 404, {"error": "Not Found"})
    server.answer(
        "^/nodeinfo/2.0$",
        200,
        {"version": "2.0", "software": {"name": "mastodon", "version": "3.5.19"}},
    )


def what_the_server_holds(server: MastodonServer, bot: Account) -> dict[str, Any]:
    """Every status anyone made public, the bot's own (boosts and direct ones too), and the
    bot's conversations."""

    def read(path: str, **params: Any) -> Any:
        response = server.http.get(path, params=params, headers=server.auth(bot))
        response.raise_for_status()
        return response.json()

    return {
        "public": read("/api/v1/timelines/public", limit=40),
        "bot": server.statuses_of(bot),
        "conversations": read("/api/v1/conversations"),
    }


@pytest.mark.parametrize("profile", ["Mastodon 4.6", "Mastodon 3.5"])
def test_the_doctor_writes_nothing_and_ends_with_what_the_bot_does_differently(
    tmp_path: Path, mastodon: MastodonServer, profile: str
) -> None:
    bot = mastodon.account("chatbot", bot=True)
    alice = mastodon.account("alice")
    mastodon.post(alice, "Hello #DoctorChat")
    if profile == "Mastodon 3.5":
        shape_as_mastodon_3_5(mastodon)
    chat = write_chat(tmp_path / "chat.yaml", instance=mastodon.base_url)
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token)
    assert run_tweetchat("db", "upgrade", env=env).returncode == 0
    before = what_the_server_holds(mastodon, bot)

    result = run_tweetchat("doctor", str(chat.path), env=env)

    assert what_the_server_holds(mastodon, bot) == before
    assert result.returncode == 0, result.stdout + result.stderr
    rows = table_rows(result.stdout)
    assert rows[("mastodon", "token")][1] == "works: signed in as @chatbot"
    assert "only the chat itself will tell" in result.stdout
    assert "Idempotency-Key" in result.stdout
    ending = result.stdout.rstrip().rsplit("\n\n", 1)[-1]
    if profile == "Mastodon 4.6":
        assert rows[("mastodon", "server")][1] == "Mastodon 4.6.0 (from NodeInfo)"
        assert ending == "This mastodon server offers everything the bot uses: nothing changes."
    else:
        assert rows[("mastodon", "server")][1] == "Mastodon 3.5.19 (from NodeInfo)"
        assert "from /api/v1/instance" in rows[("mastodon", "limits")][1]
        assert rows[("mastodon", "multi-status read")][1].startswith("not offered")
        lines = ending.splitlines()
        assert lines[0] == "What the bot does differently on this mastodon server:"
        assert lines[1].startswith("- /api/v2/instance: not offered; the limits from")
        assert lines[2].startswith("- multi-status read (GET /api/v1/statuses?id[]=): not offered")
    assert bot.token not in result.stdout + result.stderr


def test_run_starts_and_hosts_the_chat_on_a_server_without_the_v2_instance(
    tmp_path: Path, mastodon: MastodonServer
) -> None:
    bot = mastodon.account("chatbot", bot=True)
    shape_as_mastodon_3_5(mastodon)
    chat = write_chat(
        tmp_path / "chat.yaml", instance=mastodon.base_url, questions=1, spacing=1, lead=2
    )
    env = tweetchat_env(database=tmp_path / "tweetchat.sqlite3", token=bot.token)

    with RunningBot(chat.path, env=env) as running:
        assert running.wait_for_event("post.published") is not None, running.output
        fallbacks = [e for e in running.events if e["event"] == "server.fallback"]
        running.kill()

    assert [e["capability"] for e in fallbacks][:1] == ["/api/v2/instance"]
    assert "MASTODON_ACCESS_TOKEN" not in running.output
    assert mastodon.statuses_of(bot)[0]["content"]  # the intro went out
