"""Plain text from the HTML that Mastodon serves, for matching and for plain exports."""

from __future__ import annotations

import html
from html.parser import HTMLParser


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0  # inside <script>/<style>: content that is never text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(content: str) -> str:
    """The visible text of an HTML fragment; plain text passes through unchanged."""
    if "<" not in content and "&" not in content:
        return content.strip()
    collector = _TextCollector()
    collector.feed(content)
    collector.close()
    text = "".join(collector.parts)
    lines = [line.strip() for line in html.unescape(text).split("\n")]
    return "\n".join(lines).strip().replace("\n\n\n", "\n\n")


def same_text(a: str, b: str) -> bool:
    """Whether two post texts say the same, ignoring markup and white space."""
    return " ".join(html_to_text(a).split()) == " ".join(html_to_text(b).split())
