"""The fake X API as a server: authentication, stopping, unknown paths and malformed
bodies, and the adapter that sends tweepy's requests to it."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import tweepy

from bot.adapters.x_transport import XTransport, mount_transport
from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_fake_client import TAG_QUERY, make_client


def test_request_without_authorization_is_401(x: FakeXApi) -> None:
    response = requests.get(f"{x.base_url}/2/users/me", timeout=5)

    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }


def test_app_only_call_without_bearer_token_is_401(x: FakeXApi, client: Any) -> None:
    # tweepy defaults reads to user_auth=False and then sends "Bearer None".
    with pytest.raises(tweepy.Unauthorized):
        client.search_recent_tweets(TAG_QUERY)


def test_stop_is_prompt_and_closes_pooled_connections(clock: ManualClock) -> None:
    fake = FakeXApi(clock=clock).start()
    client = make_client(fake)
    client.get_me()  # leaves a keep-alive connection in the pool

    started = time.monotonic()
    fake.stop()
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get_me()


def test_the_x_transport_reaches_the_fake_from_either_host(x: FakeXApi) -> None:
    session = requests.Session()
    mount_transport(session, x.base_url, timeout=5)
    auth = {"Authorization": "Bearer token"}

    answers = [
        session.get(f"{host}/2/tweets", params={"ids": "1,2"}, headers=auth, timeout=5)
        for host in ("https://api.twitter.com", "https://api.x.com")
    ]

    for answer in answers:
        assert answer.url.startswith(x.base_url)
        assert [e["resource_id"] for e in answer.json()["errors"]] == ["1", "2"]


def test_the_x_transport_keeps_a_base_path() -> None:
    adapter = XTransport("http://127.0.0.1:9/x-api/", timeout=1)
    request = requests.Request("GET", "https://api.x.com/2/tweets?ids=1").prepare()

    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        adapter.send(request, timeout=1)

    assert request.url == "http://127.0.0.1:9/x-api/2/tweets?ids=1"
    assert refused.value.request is request


def test_unknown_path_and_malformed_body_get_errors_with_rate_headers(x: FakeXApi) -> None:
    auth = {"Authorization": "Bearer token"}

    unknown = requests.get(f"{x.base_url}/2/spaces", headers=auth, timeout=5)
    malformed = requests.post(
        f"{x.base_url}/2/tweets",
        data=b"[not json",
        headers={**auth, "Content-Type": "application/json"},
        timeout=5,
    )

    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == 34
    assert malformed.status_code == 400
    assert x.created_posts == []
    for answer in (unknown, malformed):
        assert "x-rate-limit-remaining" in answer.headers
