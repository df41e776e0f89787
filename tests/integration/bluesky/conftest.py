"""One local AT Protocol network per test session; each test makes its own accounts and
hashtag, so tests never see each other's posts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import postgres
from tests.support.bluesky_network import BlueskyNetwork, node_problem, running_network


@pytest.fixture(scope="session")
def bluesky() -> Iterator[BlueskyNetwork]:
    """A real PLC, PDS and AppView on loopback. Skipped without Node 20+ or PostgreSQL,
    except under CI=true, where that fails."""
    problem = node_problem() or postgres.unreachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    with running_network() as network:
        yield network
