"""A shape for the fault proxy: a Mastodon-API server whose ids differ from mastodon_mock's,
which the mock's own fault rules cannot express (issue 11's conformance profiles).

With ``hex_ids`` every id is an opaque hex string both ways (as snac hands them out), so a
bot that compares or converts ids as numbers breaks here. Headers a server never sends or
ignores are the proxy's ``drop_headers``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["ServerShape"]

# Fixed width makes a hex id recognisable in a path; the letters make int() fail.
_HEX_WIDTH = 16
_HEX = re.compile(rf"[0-9a-f]{{{_HEX_WIDTH}}}")


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key in ("id[]", "ids[]")


def to_hex(value: str) -> str:
    return f"{int(value):0{_HEX_WIDTH}x}"


def from_hex(value: str) -> str:
    return str(int(value, 16)) if _HEX.fullmatch(value) else value


@dataclass(frozen=True)
class ServerShape:
    """What differs from the mock."""

    hex_ids: bool = False

    # -- the request, on its way to the mock ---------------------------------------------

    def request_target(self, target: str) -> str:
        if not self.hex_ids:
            return target
        parts = urlsplit(target)
        path = "/".join(from_hex(segment) for segment in parts.path.split("/"))
        query = urlencode(
            [
                (k, from_hex(v) if _is_id_key(k) else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ]
        )
        return path + (f"?{query}" if query else "")

    def request_body(self, content_type: str, body: bytes | None) -> bytes | None:
        if not self.hex_ids or not body:
            return body
        if content_type.startswith("application/x-www-form-urlencoded"):
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            return urlencode([(k, from_hex(v) if _is_id_key(k) else v) for k, v in pairs]).encode()
        if content_type.startswith("application/json"):
            return json.dumps(_walk(json.loads(body), from_hex)).encode()
        return body

    # -- the answer, on its way back -----------------------------------------------------

    def rewrites_body(self, content_type: str) -> bool:
        return self.hex_ids and content_type.startswith("application/json")

    def response_body(self, body: bytes) -> bytes:
        try:
            document = json.loads(body)
        except ValueError:
            return body
        return json.dumps(_walk(document, _hex_if_numeric)).encode()


def _hex_if_numeric(value: str) -> str:
    return to_hex(value) if value.isdigit() else value


def _walk(document: Any, convert: Any) -> Any:
    if isinstance(document, list):
        return [_walk(item, convert) for item in document]
    if not isinstance(document, dict):
        return document
    out: dict[str, Any] = {}
    for key, value in document.items():
        if _is_id_key(key) and isinstance(value, str):
            out[key] = convert(value)
        elif _is_id_key(key) and isinstance(value, list):
            out[key] = [convert(v) if isinstance(v, str) else v for v in value]
        else:
            out[key] = _walk(value, convert)
    return out
