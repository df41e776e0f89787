"""Fixtures for the fake X API's own tests: a manual clock, the running fake, tweepy clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.x_api import FakeXApi
from tests.support.clock import ManualClock
from tests.support.x_fake_client import START, make_client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def x(clock: ManualClock) -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot", clock=clock) as fake:
        yield fake


@pytest.fixture
def client(x: FakeXApi) -> Any:
    return make_client(x)


@pytest.fixture
def raw_client(x: FakeXApi) -> Any:
    """A client that hands back the requests.Response, to check X's exact JSON and headers."""
    return make_client(x, return_type=requests.Response)
