"""Posted text as X stores and measures it: t.co links, entities, the weighted length.

twitter-text is optional: without it the length is len() and URLs are found by a plain pattern.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.fakes.x_exchange import JsonObject

_HASHTAG = re.compile(r"(?<![\w&#])#(\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_URL_FALLBACK = re.compile(r"https?://\S+")


def _load_twitter_text() -> tuple[Callable[[str], Any] | None, Callable[[str], Any] | None]:
    # Optional and untyped: importlib keeps mypy out of it, and the fake still works without it.
    try:
        parse = importlib.import_module("twitter_text").parse_tweet
        extract = importlib.import_module("twitter_text.extract_urls").extract_urls_with_indices
    except ImportError:
        return None, None
    return parse, extract


_PARSE_TWEET, _EXTRACT_URLS = _load_twitter_text()


def weighted_length(text: str) -> int:
    """X's count (twitter-text v3: CJK and emoji weigh 2, URLs 23), or len() without the lib."""
    if _PARSE_TWEET is None:
        return len(text)
    return int(_PARSE_TWEET(text).weightedLength)


def _find_urls(text: str) -> list[tuple[int, int, str]]:
    if _EXTRACT_URLS is None:
        return [(m.start(), m.end(), m.group()) for m in _URL_FALLBACK.finditer(text)]
    return [(u["indices"][0], u["indices"][1], u["url"]) for u in _EXTRACT_URLS(text)]


def _tco(url: str) -> str:
    # Deterministic, so the same text posted twice is still caught as duplicate content.
    return "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]


def wrap_urls(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace each URL by a t.co link, as X stores posted text; returns (text, [(short, url)])."""
    pieces: list[str] = []
    links: list[tuple[str, str]] = []
    last = 0
    for start, end, url in _find_urls(text):
        short = _tco(url)
        pieces += [text[last:start], short]
        links.append((short, url if "://" in url else "http://" + url))
        last = end
    pieces.append(text[last:])
    return "".join(pieces), links


def entities(
    text: str, links: Sequence[tuple[str, str]], user_ids: Mapping[str, str]
) -> JsonObject:
    found: JsonObject = {}
    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)
    ]
    mentions = [_mention_entity(m, user_ids) for m in _MENTION.finditer(text)]
    urls = [_url_entity(text, short, url) for short, url in links if short in text]
    for name, items in (("hashtags", hashtags), ("mentions", mentions), ("urls", urls)):
        if items:
            found[name] = items
    return found


def _mention_entity(match: re.Match[str], user_ids: Mapping[str, str]) -> JsonObject:
    entity: JsonObject = {"start": match.start(), "end": match.end(), "username": match.group(1)}
    user_id = user_ids.get(match.group(1).casefold())
    if user_id is not None:
        entity["id"] = user_id
    return entity


def _url_entity(text: str, short: str, url: str) -> JsonObject:
    start = text.index(short)
    display = url.split("://", 1)[-1]
    return {
        "start": start,
        "end": start + len(short),
        "url": short,
        "expanded_url": url,
        "display_url": display if len(display) <= 26 else display[:25] + "…",
    }
