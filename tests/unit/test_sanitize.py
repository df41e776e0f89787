"""Post HTML is hostile until sanitized: only p, br, a (http/https) and span survive."""

from __future__ import annotations

import pytest

from bot.core.sanitize import sanitize_html

MASTODON_CONTENT = (
    '<p>A1 we ask <span class="h-card"><a href="https://example.social/@bob" '
    'class="u-url mention">@<span>bob</span></a></span> <a href="https://example.social/tags/'
    'hexichat" class="mention hashtag" rel="tag">#<span>HEXIchat</span></a><br>see '
    '<a href="https://example.org/a-long-report" rel="nofollow noopener" target="_blank">'
    '<span class="invisible">https://</span><span class="ellipsis">example.org/a-long-</span>'
    '<span class="invisible">report</span></a></p>'
)


def test_mastodon_markup_keeps_its_links_and_shortened_urls() -> None:
    assert sanitize_html(MASTODON_CONTENT) == (
        '<p>A1 we ask <span><a href="https://example.social/@bob" class="mention" '
        'rel="nofollow noopener noreferrer">@<span>bob</span></a></span> '
        '<a href="https://example.social/tags/hexichat" class="mention hashtag" '
        'rel="nofollow noopener noreferrer">#<span>HEXIchat</span></a><br>see '
        '<a href="https://example.org/a-long-report" rel="nofollow noopener noreferrer">'
        '<span class="invisible">https://</span><span class="ellipsis">example.org/a-long-</span>'
        '<span class="invisible">report</span></a></p>'
    )


@pytest.mark.parametrize(
    ("hostile", "safe"),
    [
        ("<p>hi<script>alert(1)</script></p>", "<p>hi</p>"),
        ('<p><img src=x onerror="alert(1)">x</p>', "<p>x</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<a href="data:text/html,<b>">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<a href="/relative">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<p style="position:fixed" onclick="x()">x</p>', "<p>x</p>"),
        (
            '<span class="invisible evil" style="color:red">x</span>',
            '<span class="invisible">x</span>',
        ),
        ("<iframe src=https://evil.example></iframe>x", "x"),
        ("<style>p{display:none}</style><p>x</p>", "<p>x</p>"),
        ("<svg><a href=https://evil.example>x</a></svg>", ""),
        ("<p>x<!-- <script> --></p>", "<p>x</p>"),
        (
            "<p>unclosed <a href=https://ok.example>link",
            (
                '<p>unclosed <a href="https://ok.example" rel="nofollow noopener noreferrer">link'
                "</a></p>"
            ),
        ),
    ],
)
def test_hostile_markup_is_neutralised(hostile: str, safe: str) -> None:
    assert sanitize_html(hostile) == safe


def test_plain_text_is_escaped_and_given_paragraphs() -> None:
    assert sanitize_html("a & b\nsecond line\n\nnew paragraph") == (
        "<p>a &amp; b<br>second line</p><p>new paragraph</p>"
    )
