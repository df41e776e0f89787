"""The bot's side of a Bluesky test: an account on the local network and the platform adapter
logged in to it, its session kept in a SQLite store of the test's own."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog

from bot.adapters.bluesky import BlueskyPlatform
from bot.adapters.bluesky_session import BlueskySession
from bot.adapters.store_bluesky import BlueskySessionsSql
from bot.core.config_platforms import BlueskySettings
from bot.ports.clock import Clock
from bot.ports.posting import Ledger
from bot.runtime.publisher import PostPublisher
from tests.support.bluesky_network import Account, BlueskyNetwork


@dataclass
class BotRig:
    network: BlueskyNetwork
    account: Account
    settings: BlueskySettings
    database_url: str

    def platform(self, clock: Clock, *, password: str | None = None) -> BlueskyPlatform:
        """A fresh adapter, as after a restart: its session comes from the store."""
        session = BlueskySession(
            self.settings,
            password=password or self.account.password,
            sessions=BlueskySessionsSql(self.database_url),
            clock=clock,
        )
        return BlueskyPlatform(self.settings, session=session, clock=clock)


def publisher_for(store: Ledger, platform: BlueskyPlatform, clock: Clock) -> PostPublisher:
    """The bot's publisher on Bluesky alone, as `run` wires it (10 minutes of grace)."""
    return PostPublisher(
        ledger=store,
        platforms={"bluesky": platform},
        clock=clock,
        grace=timedelta(minutes=10),
        stop_event=threading.Event(),
        log=structlog.get_logger(),
    )


def bot_rig(network: BlueskyNetwork, tmp_path: Path, **profile: object) -> BotRig:
    account = network.create_account("bot", **profile)
    settings = BlueskySettings(service=network.pds, handle=account.handle)
    return BotRig(network, account, settings, f"sqlite:///{tmp_path / 'store.sqlite3'}")
