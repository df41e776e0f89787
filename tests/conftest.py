"""Fixtures shared by every layer of tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mastodon_server import MastodonServer, running_mastodon


@pytest.fixture(scope="session")
def _mastodon_process() -> Iterator[MastodonServer]:
    with running_mastodon() as server:
        yield server


@pytest.fixture
def mastodon(_mastodon_process: MastodonServer) -> MastodonServer:
    """A real Mastodon API server (mastodon_mock), emptied before each test."""
    _mastodon_process.reset()
    return _mastodon_process
