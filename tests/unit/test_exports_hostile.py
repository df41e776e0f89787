"""Hostile posts through every export: nothing executable or loading survives, the page holds."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.stats import compute_series_stats, compute_stats
from bot.core.transcript import build_transcript
from bot.export_common import safe_url
from bot.exports import ExportContext, render, write_exports
from bot.series_exports import SeriesContext, render_series
from tests.support.hostile import (
    BIG_POST_CHARACTERS,
    FAMILY,
    FLAGS,
    HOSTILE_HTML,
    RTL_OVERRIDE,
    SKIN_TONES,
    hostile_chat,
)
from tests.support.posts import OCCURRENCE, START

# Elements that run code, load something or submit something.
FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "object", "embed", "img", "image", "link", "base", "form",
    "input", "button", "video", "audio", "source", "track", "picture", "applet", "math",
    "template", "noscript", "portal",
}  # fmt: skip
LOADING_ATTRIBUTES = {
    "src", "srcset", "srcdoc", "action", "formaction", "poster", "data", "background",
    "ping", "codebase", "manifest", "lowsrc",
}  # fmt: skip
VOID = {"meta", "br", "hr", "wbr", "col", "area"}


class PageAudit(HTMLParser):
    """Reads a page as a browser's tokenizer would and notes everything that could act."""

    def __init__(self, *, sibling_pages: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        # The series page links to the transcripts written beside it: a file name, no more.
        self._links = re.compile(
            r"^(https?://|#)" + (r"|^[\w-]+\.html(#[\w-]+)?$" if sibling_pages else "")
        )
        self.tags: Counter[str] = Counter()
        self.problems: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self._style = False
        self._heading: str | None = None
        self._heading_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in LOADING_ATTRIBUTES:
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "xlink:href") and not self._links.match(value):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self._check_css(value, f"<{tag} style>")
        if tag == "meta":
            http_equiv = dict(attrs).get("http-equiv")
            if http_equiv not in (None, "Content-Security-Policy"):
                self.problems.append(f"<meta http-equiv={http_equiv}>")
        if tag == "style":
            self._style = True
        if tag in ("h1", "h2"):
            self._heading, self._heading_text = tag, []
        if tag not in VOID:
            self._stack.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False
        if tag == self._heading:
            self.headings.append((tag, "".join(self._heading_text).strip()))
            self._heading = None
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._style:
            self._check_css(data, "<style>")
        if self._heading:
            self._heading_text.append(data)
        if RTL_OVERRIDE in data and not any(
            tag == "bdi" or attrs.get("dir") == "auto" for tag, attrs in self._stack
        ):
            self.problems.append(f"direction override outside an isolate: {data[:40]!r}")

    def _check_css(self, css: str, where: str) -> None:
        # Only references inside the page itself (the chart's clip paths) may remain.
        if re.search(r"url\(\s*['\"]?(?!#)", css) or "@import" in css or "expression(" in css:
            self.problems.append(f"{where}: {css[:80]!r}")


@pytest.fixture(scope="module")
def context() -> ExportContext:
    posts, questions = hostile_chat()
    transcript = build_transcript(OCCURRENCE, posts, questions, opted_out=frozenset())
    return ExportContext(
        title="Hostile <b>chat</b> & friends",
        hashtag="#HEXIchat",
        chat_id="hexichat",
        date="2026-12-02",
        start=START,
        end=START + timedelta(hours=1),
        zone=ZoneInfo("Europe/London"),
        transcript=transcript,
        stats=compute_stats(transcript),
    )


@pytest.fixture(scope="module")
def page(context: ExportContext) -> str:
    return render(context, "html")


@pytest.fixture(scope="module")
def audit(page: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(page)
    parser.close()
    return parser


def test_nothing_executable_or_loading_survives_in_the_html(audit: PageAudit) -> None:
    assert audit.problems == []
    assert audit.tags["script"] == 0


def test_the_page_keeps_its_structure(audit: PageAudit, context: ExportContext) -> None:
    posts = sum(1 for _ in context.transcript.rows())

    assert audit.tags["article"] == posts
    assert (audit.tags["main"], audit.tags["footer"], audit.tags["h1"]) == (1, 1, 1)
    assert audit.headings == [
        ("h1", "Hostile <b>chat</b> & friends"),
        ("h2", "The chat in numbers"),
        ("h2", "Q1: What breaks a page? <script>alert(17)</script>"),
        ("h2", "Q2: And what survives?"),
    ]


def test_text_survives_as_text(page: str) -> None:
    assert "fake heading" in page  # its <h1> is gone, its words stay
    assert "&lt;script&gt;alert(12)&lt;/script&gt; stays text" in page
    assert f"{FAMILY} {FLAGS} {SKIN_TONES} emoji sequences" in page
    assert "unbrokenstring" * 1000 in page
    assert len(page) > BIG_POST_CHARACTERS
    assert 'href="https://ok.example/page"' in page  # a plain web link stays a link


def test_the_page_forbids_itself_every_request(page: str) -> None:
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)


def test_markdown_carries_no_raw_html_and_no_script_link(context: ExportContext) -> None:
    markdown = render(context, "md")

    assert "<script" not in markdown
    assert "<img" not in markdown
    assert "&lt;script>" in markdown
    assert "](javascript:" not in markdown
    assert "](<javascript:" not in markdown
    # The post with a javascript: address gets no link at all.
    assert "alert(15)" not in markdown


def test_csv_neutralizes_formulas_and_round_trips_the_text(context: ExportContext) -> None:
    rows = list(csv.DictReader(io.StringIO(render(context, "csv"))))
    by_id = {row["id"]: row for row in rows}

    assert by_id["plain"]["text"] == '\'=HYPERLINK("https://evil.example","click")'
    assert by_id['"><script>alert(16)</script>']["url"] == ""  # javascript: is no address
    assert by_id["h0"]["text"] == f"A1 {HOSTILE_HTML[0]}"
    assert all(row["author"] in ("@ana@example.social", '\'@m"><script>alert(14)</script>',
                                  "@hexibot@example.social") for row in rows)  # fmt: skip


def test_json_is_valid_and_holds_no_unsafe_address(context: ExportContext) -> None:
    document = json.loads(render(context, "json"))

    urls = [p["url"] for p in document["posts"]]
    assert all(url == "" or url.startswith("https://") for url in urls)
    assert any(p["text"].startswith("A2 word word") for p in document["posts"])


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.social/@ana/1", True),
        ("http://example.org/a?b=c#d", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        (" https://example.org", False),
        ("data:text/html,hi", False),
        ("//evil.example/x", False),
        ('https://example.org/"onmouseover="alert(1)', False),
        ("https://example.org/a b", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, safe: bool) -> None:
    assert (safe_url(url) is not None) is safe


def test_files_are_written_whole_under_the_chat_and_date(
    context: ExportContext, tmp_path: Path
) -> None:
    folder = tmp_path / "out"

    paths = write_exports(context, folder)

    assert sorted(p.name for p in folder.iterdir()) == [
        "hexichat-2026-12-02.csv",
        "hexichat-2026-12-02.html",
        "hexichat-2026-12-02.json",
        "hexichat-2026-12-02.md",
    ]
    assert {p.suffix: p.read_text(encoding="utf-8") for p in paths}[".html"] == render(
        context, "html"
    )


def test_the_audit_itself_sees_each_kind_of_trouble() -> None:
    parser = PageAudit()
    parser.feed(
        "<script>x</script><p onclick=x>a</p><a href='javascript:x'>b</a><img src=y>"
        "<meta http-equiv=refresh content=0><style>p{background:url(https://e/x)}</style>"
        f"<p>{RTL_OVERRIDE}loose</p><bdi>{RTL_OVERRIDE}held</bdi>"
    )

    assert parser.problems == [
        "<script>",
        "<p onclick>",
        "<a href='javascript:x'>",
        "<img>",
        "<img src='y'>",
        "<meta http-equiv=refresh>",
        "<style>: 'p{background:url(https://e/x)}'",
        f"direction override outside an isolate: {RTL_OVERRIDE + 'loose'!r}",
    ]


def test_a_series_of_hostile_chats_renders_nothing_executable() -> None:
    posts, questions = hostile_chat()
    earlier = [replace(p, occurrence="hexichat/2026-11-25", id=f"e-{p.id}") for p in posts]
    earlier_questions = [
        replace(q, post_refs=frozenset((pl, f"e-{i}") for pl, i in q.post_refs)) for q in questions
    ]
    stats = compute_series_stats(
        [
            build_transcript("hexichat/2026-11-25", earlier, earlier_questions),
            build_transcript(OCCURRENCE, posts, questions),
        ]
    )
    context = SeriesContext("Hostile <b>series</b>", "#HEXIchat", "hexichat", stats)

    page = render_series(context, "html")
    parser = PageAudit(sibling_pages=True)
    parser.feed(page)
    parser.close()

    assert stats.most_engaged  # the page lists hostile posts and names
    assert parser.problems == []
    assert parser.tags["script"] == 0
    assert parser.headings[0] == ("h1", "Hostile <b>series</b>: the series")
    markdown = render_series(context, "md")
    assert "<script" not in markdown
    assert "](javascript:" not in markdown
    assert all(url == "" or url.startswith("https://") for url in _series_urls(context))


def _series_urls(context: SeriesContext) -> list[str]:
    document = json.loads(render_series(context, "json"))
    return [e["url"] for e in document["statistics"]["most_engaged"]] + [
        o["most_engaged"]["url"] for o in document["occurrences"] if o["most_engaged"]
    ]
