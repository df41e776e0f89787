"""Small chat files for unit tests: a valid base, changed section by section."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from bot.core.config import ChatConfig
from bot.core.configfile import parse_config

BASE: dict[str, Any] = {
    "chat": {
        "id": "hexichat",
        "title": "Patient experience in primary care",
        "hashtag": "#HEXIchat",
        "timezone": "Europe/London",
        "start": "2026-12-02 20:00",
        "duration": "1h",
    },
    "platforms": {"mastodon": {"instance": "https://example.social"}},
    "posts": {
        "reminders": [{"before": "1d", "text": "Tomorrow: {hashtag}"}],
        "intro": {"text": "Welcome to {hashtag}!"},
        "questions": [
            {"at": f"{5 + 8 * i}m", "text": f"Question number {i + 1}?"} for i in range(6)
        ],
        "closing": {"at": "55m", "text": "Thank you for joining {hashtag}."},
    },
}


def chat_text(**sections: dict[str, Any]) -> str:
    """The base chat file with keys of its sections replaced (None removes a key)."""
    data = copy.deepcopy(BASE)
    for name, changes in sections.items():
        section = data.setdefault(name, {})
        for key, value in changes.items():
            if value is None:
                section.pop(key, None)
            else:
                section[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def chat_config(**sections: dict[str, Any]) -> ChatConfig:
    return parse_config(chat_text(**sections), filename="chat.yaml")
