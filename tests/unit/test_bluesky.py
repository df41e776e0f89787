"""Bluesky's length in graphemes (300), the bluesky section of the chat file, the record
keys derived from ledger keys, facets as HTML, and waiting out a used-up rate limit."""

from __future__ import annotations

import re
import time
from datetime import datetime

import httpx
import pytest

from bot.adapters.bluesky_ids import BadId, post_id, post_uri, tid_for
from bot.adapters.bluesky_posts import facets_html
from bot.adapters.bluesky_session import BlueskySession
from bot.core.config_platforms import BlueskySettings
from bot.core.configfile import parse_config
from bot.core.problems import ConfigError
from bot.core.text import bluesky_length, length_for
from bot.ports.errors import TransientError
from bot.runtime.clock import SystemClock
from tests.unit.test_x_text import chat_file


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain text", 10),
        ("漢字", 2),  # CJK counts 1, unlike X
        ("👩‍👩‍👧", 1),  # a family: seven code points, one grapheme
        ("🇫🇷", 1),  # a flag: two regional indicators
        ("cafe\u0301", 4),  # e + combining acute
        ("👍🏽", 1),  # with a skin tone
        ("https://example.org/" + "a" * 50, 70),  # a URL counts in full
    ],
)
def test_bluesky_length_counts_graphemes(text: str, length: int) -> None:
    assert bluesky_length(text) == length
    assert length_for("bluesky", text) == length


def test_validate_measures_bluesky_posts_in_graphemes() -> None:
    bluesky = {"bluesky": {"handle": "hexichat.bsky.social"}}
    fits = "👩‍👩‍👧" * 289  # 2023 code points, 289 graphemes, plus " #hexichat" is 299
    parse_config(chat_file(fits, bluesky), filename="chat.yaml")

    with pytest.raises(ConfigError) as refused:
        parse_config(chat_file(fits + "é" * 2, bluesky), filename="chat.yaml")
    [problem] = refused.value.problems
    assert problem.loc == ("posts", "intro", "text")
    assert "301 characters on bluesky, over its limit of 300" in problem.message
    assert "Bluesky counts graphemes" in (problem.hint or "")


@pytest.mark.parametrize(
    "handle", ["https://bsky.app/profile/hexi", "hexi", "hexi@bsky.social", "-bad-.bsky.social"]
)
def test_a_bluesky_handle_must_be_a_domain_name(handle: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(chat_file("Hello", {"bluesky": {"handle": handle}}), filename="chat.yaml")
    [problem] = refused.value.problems
    assert problem.loc == ("platforms", "bluesky", "handle")
    assert "is not a Bluesky handle" in problem.message
    assert "hexichat.bsky.social" in (problem.hint or "")


def test_a_bluesky_handle_loses_its_at_sign_and_case() -> None:
    config = parse_config(
        chat_file("Hello", {"bluesky": {"handle": "@HexiChat.bsky.social"}}), filename="c.yaml"
    )
    assert config.platforms.bluesky is not None
    assert config.platforms.bluesky.handle == "hexichat.bsky.social"
    assert config.platforms.bluesky.app_password_env == "BLUESKY_APP_PASSWORD"


def test_record_keys_are_valid_tids_stable_per_ledger_key() -> None:
    keys = [f"hexichat/2026-12-{d:02d}/q{n}/bluesky" for d in range(1, 29) for n in range(9)]
    tids = [tid_for(k) for k in keys]
    # 13 characters of base32-sortable, the first one keeping the top bit clear.
    assert all(
        re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", t) for t in tids
    )
    assert len(set(tids)) == len(keys)
    assert tid_for(keys[0]) == tids[0]


def test_post_ids_fit_the_store_and_name_their_record() -> None:
    uri = "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jzfcijpj2z2a"
    assert post_id(uri) == "did:plc:ewvi7nxzyoun6zhxrhs64oiz/3jzfcijpj2z2a"
    assert len(post_id(uri)) <= 64
    assert post_uri(post_id(uri)) == uri
    with pytest.raises(BadId):
        post_id("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.like/3jzfcijpj2z2a")
    with pytest.raises(BadId):
        post_id(f"at://did:web:{'x' * 80}.example/app.bsky.feed.post/3jzfcijpj2z2a")


def test_facets_become_links_over_their_bytes_and_hostile_ones_are_left_out() -> None:
    text = "é #tag <b> https://example.org"
    raw = text.encode()
    link = raw.index(b"https")
    facets = [
        {
            "index": {"byteStart": link, "byteEnd": len(raw)},
            "features": [{"uri": "https://example.org"}],
        },
        {"index": {"byteStart": 0, "byteEnd": 1}, "features": [{"uri": "https://cut.example"}]},
        {"index": {"byteStart": 5, "byteEnd": 999}, "features": [{"uri": "https://out.example"}]},
        {"index": {"byteStart": 3, "byteEnd": 7}, "features": [{"uri": "javascript:alert(1)"}]},
    ]
    html = facets_html(text, facets)
    assert html == ('<p>é #tag &lt;b&gt; <a href="https://example.org">https://example.org</a></p>')


class _NoSessions:
    """A session store that holds nothing and records what is saved."""

    def __init__(self) -> None:
        self.saved: list[str] = []

    def load(self, service: str, handle: str) -> str | None:
        return None

    def save(self, service: str, handle: str, session: str, *, now: datetime) -> None:
        self.saved.append(session)

    def forget(self, service: str, handle: str) -> None:
        return None


def test_when_the_rate_limit_is_used_up_the_next_request_waits_for_the_reset() -> None:
    settings = BlueskySettings(service="http://127.0.0.1:9", handle="hexichat.bsky.social")
    sessions = _NoSessions()
    session = BlueskySession(
        settings, password="app-pass-word-1234", sessions=sessions, clock=SystemClock()
    )
    reset = int(time.time()) + 30
    answer = httpx.Response(
        200,
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": f"{reset}",
        },
        request=httpx.Request("GET", "http://127.0.0.1:9/xrpc/app.bsky.feed.searchPosts"),
    )
    session.limits.note(answer)

    with pytest.raises(TransientError) as waiting:
        session.call(lambda client: client.com.atproto.server.get_session())
    assert waiting.value.retry_after is not None
    assert 25 < waiting.value.retry_after <= 30
    assert session.requests == {}  # nothing was sent
    assert sessions.saved == []

    session.limits.note(
        httpx.Response(200, headers={"ratelimit-remaining": "2999"}, request=answer.request)
    )
    assert session.limits.wait_needed() is None
