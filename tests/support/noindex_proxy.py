"""A loopback proxy in front of mastodon_mock that makes some accounts opt out of search
engines: mastodon_mock always answers ``"noindex": null``, where Mastodon says ``true`` for an
account that ticked "Opt-out of search engine indexing".

Every JSON answer is relayed with ``noindex: true`` on the chosen accounts wherever an
account appears (statuses, notifications, contexts). Streaming is not relayed: the instance
is shown without a streaming URL and the streaming path answers 404, so the bot polls, and
every post it sees has come through here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

import httpx

_HOP_BY_HOP = {"connection", "transfer-encoding", "content-encoding", "content-length", "host"}


def _mark(value: Any, usernames: Collection[str]) -> Any:
    """``value`` with noindex set on the accounts named ``usernames``, and no streaming URL."""
    if isinstance(value, list):
        return [_mark(v, usernames) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _mark(v, usernames) for k, v in value.items()}
    if "acct" in out and out.get("username") in usernames:
        out["noindex"] = True
    urls = out.get("urls")
    if isinstance(urls, dict) and ("streaming" in urls or "streaming_api" in urls):
        out["urls"] = {k: v for k, v in urls.items() if not k.startswith("streaming")}
    return out


class NoindexProxy:
    def __init__(self, upstream: str, *, noindex: Collection[str]) -> None:
        self._upstream = httpx.Client(base_url=upstream, timeout=10)
        usernames = frozenset(noindex)
        client = self._upstream

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _relay(self) -> None:
                if self.path.startswith("/api/v1/streaming"):
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                answer = client.request(self.command, self.path, content=body, headers=headers)
                content = answer.content
                if answer.headers.get("content-type", "").startswith("application/json"):
                    content = json.dumps(_mark(answer.json(), usernames)).encode()
                self.send_response(answer.status_code)
                host, port = cast(tuple[str, int], self.server.server_address)[:2]
                here = f"http://{host}:{port}"
                for name, value in answer.headers.items():
                    if name.lower() not in _HOP_BY_HOP:
                        # Pages (Link) are followed as given: through here too.
                        self.send_header(name, value.replace(upstream.rstrip("/"), here))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> NoindexProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._upstream.close()
