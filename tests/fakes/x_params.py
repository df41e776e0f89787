"""Query parameters checked as X checks them, each refusal a 400 in X's words.

A parameter X's description names but this fake does not implement is a `not_implemented` 400.
The paging token is opaque to clients: here, the id of the last post of the previous page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime

from tests.fakes.x_errors import invalid, not_implemented


def check_params(
    params: Mapping[str, str], known: frozenset[str], implemented: frozenset[str]
) -> None:
    for name, value in params.items():
        if name not in known:
            allowed = ",".join(sorted(known))
            raise invalid(name, value, f"The query parameter [{name}] is not one of [{allowed}]")
        if name not in implemented:
            raise not_implemented(f"the query parameter {name}")


def int_param(params: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(
            name, raw, f"The `{name}` query parameter value [{raw}] is not between {low} and {high}"
        )
    return int(raw)


def id_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
    return int(raw)


def time_param(params: Mapping[str, str], name: str) -> datetime | None:
    """X's timestamps in parameters: YYYY-MM-DDTHH:mm:ssZ (fractions allowed)."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise invalid(name, raw, f"Invalid '{name}':'{raw}'. '{name}' must be a timestamp")
    return moment


def cursor_param(params: Mapping[str, str], *names: str) -> int | None:
    """Decode our opaque paging token: the id of the last post of the previous page."""
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if not decoded.isdigit():
            raise invalid(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
        return int(decoded)
    return None


def cursor(tweet_id: str) -> str:
    return base64.urlsafe_b64encode(tweet_id.encode()).decode().rstrip("=")


def list_param(
    params: Mapping[str, str],
    name: str,
    valid: frozenset[str],
    refused: Mapping[str, frozenset[str]] | None = None,
) -> frozenset[str]:
    raw = params.get(name)
    if not raw:
        return frozenset()
    values = frozenset(raw.split(","))
    valid = valid - (refused or {}).get(name, frozenset())
    wrong = sorted(values - valid)
    if wrong:
        allowed = ",".join(sorted(valid))
        message = f"The `{name}` query parameter value [{wrong[0]}] is not one of [{allowed}]"
        raise invalid(name, wrong[0], message)
    return values
