"""Composing post texts and measuring them the way each platform does."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

# Mastodon counts every URL as 23 characters, whatever its length.
URL_LENGTH = 23
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
# Mastodon counts a remote mention @user@domain as just @user.
_REMOTE_MENTION = re.compile(r"(@\w+)@[\w.-]+\w", re.UNICODE)

PLACEHOLDERS = ("hashtag", "title", "date", "time", "n")


def placeholders_in(template: str) -> list[str]:
    """Every {name} a template uses; raises ValueError for a malformed template."""
    names = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.append(field)
    return names


def unknown_placeholders(template: str) -> list[str]:
    return [name for name in placeholders_in(template) if name not in PLACEHOLDERS]


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(dict(values))


def has_hashtag(text: str, hashtag: str) -> bool:
    """Whether the hashtag stands in the text as a whole tag, in any case."""
    pattern = re.escape(hashtag) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def with_hashtag(text: str, hashtag: str) -> str:
    """Append the hashtag unless the text carries it: answers are found through it."""
    return text if has_hashtag(text, hashtag) else f"{text} {hashtag}"


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it (code points; URLs 23; remote mentions without domain)."""
    counted = _URL.sub("x" * URL_LENGTH, text)
    counted = _REMOTE_MENTION.sub(r"\1", counted)
    return len(counted)


def length_for(platform: str, text: str) -> int:
    if platform == "mastodon":
        return mastodon_length(text)
    # The console shows everything; count plain characters.
    return len(text)


def contains_url(text: str) -> bool:
    return _URL.search(text) is not None
