"""Reaching the fake X API from tweepy: a requests adapter that sends X's hosts to the fake."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

X_API_HOSTS = ("https://api.twitter.com", "https://api.x.com")

Timeout = float | tuple[float | None, float | None] | None
Verify = bool | str
Cert = str | tuple[str, str] | None


class RedirectAdapter(HTTPAdapter):
    """Send every request to `base_url`, keeping the path and query.

    tweepy's Client hard-codes its host, so mounting this on `client.session` is the seam to
    reach another server. tweepy also never passes a timeout: `timeout` is used when the caller
    gave none.
    """

    def __init__(self, base_url: str, *, timeout: Timeout = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url)
        self._timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: Verify = True,
        cert: Cert = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        request.url = self._rewrite(request.url or "")
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def _rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))


def mount_redirect(
    session: Session, base_url: str, hosts: Iterable[str] = X_API_HOSTS, **kwargs: Any
) -> RedirectAdapter:
    """Mount one RedirectAdapter for each host prefix on `session`; returns the adapter."""
    adapter = RedirectAdapter(base_url, **kwargs)
    for host in hosts:
        session.mount(host, adapter)
    return adapter
