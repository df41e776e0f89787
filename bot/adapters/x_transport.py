"""tweepy's Client hard-codes X's host and never passes a timeout to requests: a transport
adapter mounted on its session sends every request to ``platforms.x.api_base``, with a
timeout that bounds the whole request, and a cap on the answer's size."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from bot.adapters.bounded_http import BoundedAdapter, Timeout

# The hosts tweepy may use; both are sent to api_base.
OFFICIAL_HOSTS = ("https://api.twitter.com", "https://api.x.com")


class XTransport(BoundedAdapter):
    """Sends tweepy's requests to ``base_url`` (when it is not X itself), with a timeout that
    bounds the whole request, and a cap on the answer's size."""

    def __init__(self, base_url: str | None, *, timeout: float) -> None:
        super().__init__(deadline=timeout)
        self._base = urlsplit(base_url) if base_url else None
        self._timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        if self._base is not None:
            parts = urlsplit(request.url or "")
            path = self._base.path.rstrip("/") + parts.path
            request.url = urlunsplit(
                (self._base.scheme, self._base.netloc, path, parts.query, parts.fragment)
            )
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def mount_transport(session: requests.Session, api_base: str, *, timeout: float) -> None:
    official = api_base.rstrip("/") in OFFICIAL_HOSTS
    transport = XTransport(None if official else api_base, timeout=timeout)
    for host in OFFICIAL_HOSTS:
        session.mount(host, transport)
