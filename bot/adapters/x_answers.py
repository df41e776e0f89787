"""Reading X's answers: JSON bodies, their lists and includes, error messages and times.

Untrusted like any network content: a value of the wrong type is treated as absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests
import tweepy

from bot.adapters.x_post import x_id
from bot.ports.errors import TransientError


def json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        raise TransientError(f"X answered {response.status_code} with no readable JSON") from None
    if not isinstance(body, dict):
        raise TransientError("X answered with JSON that is not an object")
    return body


def error_body(response: requests.Response | None) -> dict[str, Any]:
    if response is None:
        return {}
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def data_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data")
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


def included_users(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    out = {}
    for user in users:
        if isinstance(user, dict):
            user_id = x_id(user.get("id"))
            if user_id is not None:
                out[user_id] = user
    return out


def messages(exc: tweepy.HTTPException) -> str:
    messages = [str(m) for m in getattr(exc, "api_messages", []) if m]
    status = getattr(exc.response, "status_code", "?")
    return "; ".join(messages)[:500] if messages else f"HTTP {status}"


def epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
