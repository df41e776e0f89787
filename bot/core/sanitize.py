"""Post HTML made safe to show on a transcript page.

Everything a server sends is hostile until it has passed through here: only paragraphs,
line breaks, links and spans survive; links keep an absolute http(s) address and are marked
so that a reader's browser neither passes on the transcript's address nor lends it credit.
"""

from __future__ import annotations

import html
import re

import nh3

_TAGS = {"p", "br", "a", "span"}
_ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}}
# Mastodon shortens long links with these spans; keeping them lets a stylesheet do the same.
_CLASSES = {"span": ("invisible", "ellipsis"), "a": ("mention", "hashtag")}
# noreferrer too: a transcript's readers should not be announced to every linked site.
_LINK_REL = "nofollow noopener noreferrer"
# Any tag at all: a server that sends plain text (some do) gets it escaped, not parsed.
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def sanitize_html(content: str) -> str:
    """Safe HTML for display: plain text is escaped and given paragraphs and line breaks."""
    if not _TAG.search(content):
        paragraphs = [p for p in re.split(r"\n\s*\n", content.strip()) if p.strip()]
        content = "".join(
            "<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs
        )
    return nh3.clean(
        content,
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=_known_classes,
        url_schemes={"http", "https"},
        url_relative="deny",
        link_rel=_LINK_REL,
        strip_comments=True,
    )


def _known_classes(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    kept = [name for name in value.split() if name in _CLASSES.get(tag, ())]
    return " ".join(dict.fromkeys(kept)) or None
