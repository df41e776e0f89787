"""Composing post texts and measuring them the way each platform does."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

# Mastodon counts every URL as 23 characters, whatever its length. Trailing punctuation
# ("see https://x.org/a.") is not part of a URL for Mastodon, so it is counted apart: when
# in doubt this overcounts, and a post that passes here is never refused by the server.
URL_LENGTH = 23
_URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
# Mastodon counts a remote mention @user@domain as just @user.
_REMOTE_MENTION = re.compile(r"(?<![\w/])(@\w+)@[\w.-]+\w", re.UNICODE)

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
    # As Mastodon reads tags: not inside a word or a URL, and not followed by more tag letters.
    pattern = r"(?<![/)\w])" + re.escape(hashtag) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def with_hashtag(text: str, hashtag: str) -> str:
    """Append the hashtag unless the text carries it: answers are found through it."""
    return text if has_hashtag(text, hashtag) else f"{text} {hashtag}"


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it (URLs 23; remote mentions without domain).

    Mastodon counts grapheme clusters; code points are never fewer, so a composed emoji
    may be overcounted but a text that passes here is never too long.
    """
    counted = _URL.sub("x" * URL_LENGTH, text)
    counted = _REMOTE_MENTION.sub(r"\1", counted)
    return len(counted)


# X's limit for accounts without a subscription, in weighted characters.
X_MAX_CHARACTERS = 280


def x_length(text: str) -> int:
    """Weighted length as X counts it (twitter-text v3: CJK and emoji 2, URLs 23)."""
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def x_urls(text: str) -> list[str]:
    """The URLs X finds in a text, bare domains like example.org included: X charges more
    for a post that carries one."""
    from twitter_text.extract_urls import extract_urls

    return [str(url) for url in extract_urls(text)]


# Bluesky's limit: a post's text holds at most 300 graphemes (and 3000 UTF-8 bytes).
BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 3000


def bluesky_length(text: str) -> int:
    """Length as Bluesky counts it: extended grapheme clusters (a flag, a family emoji or a
    letter with combining accents is one), URLs at their full length."""
    import regex

    return len(regex.findall(r"\X", text))


def length_for(platform: str, text: str) -> int:
    if platform == "mastodon":
        return mastodon_length(text)
    if platform == "x":
        return x_length(text)
    if platform == "bluesky":
        return bluesky_length(text)
    # The console shows everything; count plain characters.
    return len(text)


def contains_url(text: str) -> bool:
    return _URL.search(text) is not None


def urls_in(text: str) -> list[str]:
    """The web addresses a text carries, without the punctuation that ends a sentence."""
    return list(_URL.findall(text))


def counted(n: int, singular: str, plural: str) -> str:
    """``1 post``, ``1,204 posts``: a number and its noun, for people to read."""
    return f"{n:,} {singular if n == 1 else plural}"
