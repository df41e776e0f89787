"""What the bot finds out about a server, read from mastodon_mock shaped by its fault rules
as the servers hosts run (each shape's source in a line), and what it logs once.

Detection never writes and never blames the token: a missing endpoint means a fallback.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.adapters.mastodon import MastodonPlatform
from bot.core.config_platforms import MastodonSettings
from tests.fakes.fault_proxy import FaultProxy
from tests.support.mastodon_server import MastodonServer

GONE = (404, {"error": "Not Found"})


def platform_on(server: MastodonServer) -> MastodonPlatform:
    bot = server.account("capbot", bot=True)
    settings = MastodonSettings(instance=server.base_url, max_characters=640)
    return MastodonPlatform(settings, token=bot.token)


def test_mastodon_4_6_offers_everything_and_nothing_is_logged(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    found = platform_on(mastodon).capabilities()

    assert (found.software, found.version, found.version_source) == (
        "mastodon",
        "4.6.0",
        "NodeInfo",
    )
    assert (found.max_characters, found.limit_source) == (500, "/api/v2/instance")
    assert found.multi_status_read
    assert found.id_format == "numeric"
    assert found.fallbacks == ()
    assert not [e for e in logs if e["event"] == "server.fallback"]


def test_the_start_does_not_ask_the_multi_status_read_the_first_re_read_does_once(
    mastodon: MastodonServer,
) -> None:
    # A start needs the limit, the domain and the streaming address; only curation (and the
    # doctor) needs to know how posts are re-read.
    bot = mastodon.account("capbot", bot=True)
    with FaultProxy(mastodon.base_url) as proxy:
        settings = MastodonSettings(instance=proxy.base_url, max_characters=640)
        platform = MastodonPlatform(settings, token=bot.token)

        def multi_reads() -> int:
            return sum(r.path.startswith("/api/v1/statuses?") for r in proxy.log)

        platform.max_characters()
        platform.home()
        at_start = multi_reads()
        platform.refresh_limit(timedelta(seconds=30))  # the first curation tick asks
        platform.refresh_limit(timedelta(seconds=30))

        assert (at_start, multi_reads()) == (0, 1)
        assert platform.capabilities().multi_status_read
        assert multi_reads() == 1


def test_akkoma_is_read_from_its_v1_instance_and_its_max_toot_chars(
    mastodon: MastodonServer, logs: list[dict[str, Any]]
) -> None:
    # Akkoma/Pleroma: /api/v1/instance says "(compatible; Akkoma x)" and max_toot_chars
    # (akkoma lib/pleroma/web/mastodon_api/views/instance_view.ex); no /api/v2/instance
    # before Akkoma 3.10, no multi-status read.
    mastodon.answer("^/api/v2/instance/?$", *GONE)
    mastodon.answer("^/api/v1/statuses/?$", *GONE)
    mastodon.answer("^/nodeinfo/2.0$", *GONE)
    mastodon.answer(
        "^/api/v1/instance/?$",
        200,
        {
            "uri": "https://akkoma.example",
            "version": "2.7.2 (compatible; Akkoma 3.13.2)",
            "max_toot_chars": 5000,
        },
    )
    platform = platform_on(mastodon)

    found = platform.capabilities()
    platform.capabilities()  # once per run: detected and logged once

    assert (found.software, found.version, found.version_source) == (
        "akkoma",
        "3.13.2",
        "/api/v1/instance",
    )
    assert (found.max_characters, found.limit_source) == (5000, "/api/v1/instance")
    assert found.domain == "akkoma.example"
    assert platform.home() == "akkoma.example"
    assert not found.multi_status_read
    assert [e["capability"] for e in logs if e["event"] == "server.fallback"] == [
        "/api/v2/instance",
        "multi-status read (GET /api/v1/statuses?id[]=)",
    ]


def test_a_server_that_says_nothing_falls_back_to_the_chat_file(mastodon: MastodonServer) -> None:
    for path in ("^/api/v2/instance/?$", "^/api/v1/instance/?$", "^/api/v1/statuses/?$"):
        mastodon.answer(path, 501, {"error": "Not implemented"})
    mastodon.answer("^/.well-known/nodeinfo$", *GONE)
    platform = platform_on(mastodon)

    found = platform.capabilities()
    facts = platform.account_facts()  # the token itself is fine: no credential failure

    assert (found.software, found.version_source) == ("unknown", "nothing")
    assert (found.max_characters, found.limit_source) == (
        640,
        "the chat file (platforms.mastodon.max_characters)",
    )
    assert facts.username == "capbot"
    assert facts.max_characters == 640


def test_a_nodeinfo_link_to_another_site_is_not_followed(mastodon: MastodonServer) -> None:
    # The index is the server's word, but its links are untrusted input.
    mastodon.answer(
        "^/.well-known/nodeinfo$",
        200,
        {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": "http://169.254.169.254/nodeinfo/2.0",
                }
            ]
        },
    )

    found = platform_on(mastodon).capabilities()

    assert (found.software, found.version, found.version_source) == (
        "mastodon",
        "4.6.0",
        "/api/v1/instance",
    )


@pytest.mark.parametrize(
    ("policy", "refused"),
    [
        ({"always": ["urn:mastodon:author"], "with_approval": ["urn:mastodon:followers"]}, True),
        ({"always": [], "with_approval": []}, True),
        ({"always": ["urn:mastodon:public"], "with_approval": []}, False),
        ({"always": ["urn:mastodon:author"], "with_approval": ["urn:mastodon:me"]}, False),
        ({"always": ["urn:mastodon:author", "urn:mastodon:mentioned"]}, False),
        ({"always": "urn:mastodon:author"}, False),  # not the documented shape: no conclusion
        (None, False),
    ],
)
def test_a_gotosocial_interaction_policy_refuses_only_when_it_clearly_excludes_the_bot(
    mastodon: MastodonServer, policy: dict[str, Any] | None, refused: bool
) -> None:
    # GoToSocial (internal/api/model/interactionpolicy.go): interaction_policy.can_reblog
    # lists who may boost, "always" or "with_approval".
    platform = platform_on(mastodon)
    alice = mastodon.account("alice")
    status = mastodon.post(alice, "A1 my answer #CapChat")
    body = {**status, "interaction_policy": {"can_reblog": policy}} if policy else status
    mastodon.answer("^/api/v1/statuses/?$", *GONE)  # read one by one, as GoToSocial does
    mastodon.answer(f"^/api/v1/statuses/{status['id']}$", 200, body)

    [state] = platform.fetch_posts([status["id"]])

    assert state.reblog_refused is refused


def test_scopes_come_from_the_oauth_token_info_where_the_app_read_does_not_say(
    mastodon: MastodonServer,
) -> None:
    # Mastodon before 4.3: /api/v1/apps/verify_credentials has no scopes; Doorkeeper's
    # /oauth/token/info does (mastodon config/routes.rb, use_doorkeeper).
    platform = platform_on(mastodon)  # a token made outside an app: the app read is a 401
    mastodon.answer("^/oauth/token/info$", 200, {"resource_owner_id": "1", "scope": ["read"]})

    allowed = [platform.allows(c) for c in ("read", "post", "boost")]

    assert allowed == [True, False, False]


def test_scopes_are_unknown_where_the_server_does_not_say(mastodon: MastodonServer) -> None:
    platform = platform_on(mastodon)

    assert [platform.allows(c) for c in ("read", "post", "boost")] == [None, None, None]
