"""Where the bearer token may go to open a stream (issue 12 item 5): only over https when the
instance is https, only to the instance's own host or a subdomain of it unless the chat file
allows another host, and a malformed or scheme-less address (item 1) is ignored, not a crash.
"""

from __future__ import annotations

import pytest

from bot.adapters.mastodon_streaming import streaming_base

INSTANCE = "https://social.example"


@pytest.mark.parametrize(
    ("advertised", "expected"),
    [
        (None, "https://social.example"),
        ("", "https://social.example"),
        ("wss://social.example", "https://social.example"),
        ("wss://streaming.social.example", "https://streaming.social.example"),
        ("wss://Streaming.Social.Example:4000/", "https://streaming.social.example:4000"),
        ("https://streaming.social.example", "https://streaming.social.example"),
    ],
)
def test_the_instances_own_site_over_tls_is_followed(advertised: str, expected: str) -> None:
    base = streaming_base(INSTANCE, advertised)

    assert (base.url, base.warning) == (expected, None)


@pytest.mark.parametrize(
    ("advertised", "why"),
    [
        # Plain text for an https instance: never, even on its own host.
        ("ws://social.example", "not encrypted"),
        ("http://streaming.social.example", "not encrypted"),
        # Elsewhere, however it is dressed up.
        ("wss://evil.example", "not on the instance's own site"),
        ("wss://social.example.evil.example", "not on the instance's own site"),
        ("wss://evilsocial.example", "not on the instance's own site"),
        ("wss://social.example@evil.example", "credentials"),
        ("wss://user:pw@social.example", "credentials"),
        # Issue 12 item 1: no scheme, or not an address at all.
        ("streaming.social.example", "not a ws, wss, http or https address"),
        ("//streaming.social.example", "not a ws, wss, http or https address"),
        ("ftp://social.example", "not a ws, wss, http or https address"),
        ("wss://social.example:99999", "malformed"),
        ("wss://[::1", "malformed"),
        ("wss:\\\\evil.example", "not a ws, wss, http or https address"),
        (["wss://social.example"], "not text"),
    ],
)
def test_any_other_address_is_ignored_for_the_instances_own_with_a_reason(
    advertised: object, why: str
) -> None:
    base = streaming_base(INSTANCE, advertised)

    assert base.url == INSTANCE
    assert base.warning is not None
    assert why in base.warning
    assert "the instance's own address (https://social.example) is used" in base.warning


def test_a_host_the_chat_file_allows_may_receive_the_token_but_only_over_tls() -> None:
    allowed = ["stream.cdn.example"]

    assert streaming_base(INSTANCE, "wss://stream.cdn.example", allowed_hosts=allowed).url == (
        "https://stream.cdn.example"
    )
    refused = streaming_base(INSTANCE, "ws://stream.cdn.example", allowed_hosts=allowed)
    assert refused.url == INSTANCE


def test_a_plain_http_instance_may_stream_in_plain_text() -> None:
    """A loopback or test server: there is no TLS to lose."""
    assert streaming_base("http://127.0.0.1:3000", "ws://127.0.0.1:3000").url == (
        "http://127.0.0.1:3000"
    )


def test_the_chat_file_names_hosts_alone() -> None:
    from pydantic import ValidationError

    from bot.core.config_platforms import MastodonSettings

    settings = MastodonSettings(instance=INSTANCE, streaming_hosts=["Stream.CDN.example"])
    assert settings.streaming_hosts == ["stream.cdn.example"]
    with pytest.raises(ValidationError, match=r"'wss://stream\.cdn\.example' is not a host name"):
        MastodonSettings(instance=INSTANCE, streaming_hosts=["wss://stream.cdn.example"])
    with pytest.raises(ValidationError, match="is not a host name"):
        MastodonSettings(instance=INSTANCE, streaming_hosts=["stream.cdn.example\n"])
