"""Every request to a platform ends by a total deadline and reads a bounded answer, whatever
the server does: drip-feeding bytes (the loopback fault proxy), or an enormous body
(mastodon_mock's fault rules)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests

from bot.adapters.bounded_http import MAX_BODY_BYTES
from bot.adapters.mastodon import MastodonPlatform
from bot.adapters.x_transport import mount_transport
from bot.core.config_platforms import MastodonSettings
from bot.ports.errors import PlatformError, TransientError
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.proxy_faults import Drip
from tests.support.mastodon_server import MastodonServer

pytestmark = pytest.mark.slow

TAG = "DripChat"
# Without a total deadline, a byte every 0.5 s through a 1 s read timeout would take minutes.
TIMEOUT = 1.0
DRIP = Drip(interval_seconds=0.5)
# What "about the timeout" allows for a loaded machine; far below what a drip would take.
PATIENCE = 15.0


def outcome_within(seconds: float, call: Callable[[], Any]) -> BaseException | None:
    """What ``call`` raised (None if it returned), or a failure if it did not end in time."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            result.append(exc)
        else:
            result.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the request was still running after {seconds} s")
    return result[0]


def platform_behind(proxy: FaultProxy, mastodon: MastodonServer) -> MastodonPlatform:
    bot = mastodon.account("dripbot", bot=True)
    settings = MastodonSettings(instance=proxy.base_url, request_timeout=timedelta(seconds=TIMEOUT))
    return MastodonPlatform(settings, token=bot.token)


def test_a_drip_fed_answer_fails_as_transient_within_the_timeout(
    mastodon: MastodonServer,
) -> None:
    """Issue 12 item 3: a server sending a byte every 0.5 s (headers included) holds a
    Mastodon request no longer than about its 1 s timeout; the failure is transient."""
    with FaultProxy(mastodon.base_url) as proxy:
        platform = platform_behind(proxy, mastodon)
        platform.home()  # the instance, read before the drip starts
        platform.account_id()
        proxy.inject(DRIP, path_prefix=f"/api/v1/timelines/tag/{TAG}")

        error = outcome_within(PATIENCE, lambda: platform.tag_page(TAG))

        assert isinstance(error, TransientError), error
        assert f"within {TIMEOUT:g} s" in error.reason
        # The next request, undisturbed, works.
        assert platform.tag_page(TAG).items == []


def test_the_stream_s_connect_phase_has_a_deadline_too(mastodon: MastodonServer) -> None:
    """Issue 12 item 3: a streaming server that drips its headers is given up on within
    about the timeout (then the follower polls), not held open."""
    with FaultProxy(mastodon.base_url) as proxy:
        platform = platform_behind(proxy, mastodon)
        platform.home()
        platform.account_id()
        proxy.inject(DRIP, path_prefix="/api/v1/streaming")

        error = outcome_within(PATIENCE, lambda: platform.open_stream(TAG))

        assert isinstance(error, TransientError), error


def test_an_oversized_answer_is_refused(mastodon: MastodonServer) -> None:
    """Issue 12 item 3: an answer larger than the cap is refused, not read into memory."""
    bot = mastodon.account("bigbot", bot=True)
    mastodon.http.post(
        "/api/v1/_mock/faults",
        json={
            "match": {"methods": ["GET"], "path": f"/api/v1/timelines/tag/{TAG}"},
            "effect": {"type": "status", "status": 200, "body": "x" * (MAX_BODY_BYTES + 1)},
            "count": 1,
        },
    ).raise_for_status()
    settings = MastodonSettings(instance=mastodon.base_url, request_timeout=timedelta(seconds=10))
    platform = MastodonPlatform(settings, token=bot.token)

    with pytest.raises(PlatformError) as refused:
        platform.tag_page(TAG)

    assert f"larger than {MAX_BODY_BYTES} bytes" in refused.value.reason
    assert platform.tag_page(TAG).items == []


def test_x_requests_have_the_same_deadline(mastodon: MastodonServer) -> None:
    """Issue 12 item 3: tweepy's requests go through the same bounded transport (any HTTP
    server shows it: the deadline does not care what is dripped)."""
    with FaultProxy(mastodon.base_url) as proxy:
        session = requests.Session()
        mount_transport(session, proxy.base_url, timeout=TIMEOUT)
        proxy.inject(DRIP, path_prefix="/2/")

        error = outcome_within(
            PATIENCE, lambda: session.get("https://api.x.com/2/tweets/search/recent")
        )

        assert isinstance(error, requests.exceptions.Timeout), error
