"""Which posts of a chat the bot may boost, how notable each one is, and what to boost now.

Pure: the runtime gathers the facts (fresh counts, the opt-out list, what was boosted) and
these functions decide. Every decision explains itself: a rejection names the one hard rule
that refused the post, and a score lists what each preference and avoidance added.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.core.answers import Window
from bot.core.config_boost import Boost
from bot.core.html_text import html_to_text
from bot.core.model import ArchivedPost
from bot.core.text import length_for
from bot.core.transcript import author_key

# The hard rules, in the order they are checked: the first that fails rejects the post.
Rule = Literal[
    "public",
    "own",
    "bot",
    "nobot",
    "opted_out",
    "blocked_account",
    "blocked_domain",
    "blocked_word",
    "already_boosted",
    "author_policy",
]
RULES: tuple[Rule, ...] = (
    "public",
    "own",
    "bot",
    "nobot",
    "opted_out",
    "blocked_account",
    "blocked_domain",
    "blocked_word",
    "already_boosted",
    "author_policy",
)

AUTHOR_POLICY = "refused by its author's policy: the server does not let the bot boost it"

# More hashtags than this (the chat's own included) reads as tag spam.
MANY_HASHTAGS = 3

_NOBOT = re.compile(r"(?<![\w#])#nobots?(?!\w)", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+(?:@[\w.-]*\w)?")
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
# "A3", "A 3", "A.3", "A3:" at the start: the answer's number, not its words.
_ANSWER_PREFIX = re.compile(r"^\s*a\s*\.?\s*\d+\s*[:.)-]?", re.IGNORECASE)


def has_nobot(*texts: str) -> bool:
    """``#nobot`` or ``#nobots``, any case, in raw text or in HTML (where a server may have
    wrapped the tag in a link and spans)."""
    return any(_NOBOT.search(text) or _NOBOT.search(html_to_text(text)) for text in texts)


def account_address(handle: str, home: str) -> str:
    """``@user@server`` as ``user@server`` in lower case; a bare ``@user`` lives on ``home``,
    the bot's own server (that is how Mastodon writes local accounts)."""
    user, _, server = handle.strip().lstrip("@").partition("@")
    return f"{user}@{server or home}".lower()


def _server(address: str) -> str:
    # Domains are blocked without a port: a test server's "localhost:3000" is "localhost".
    return address.partition("@")[2].split(":")[0]


def domain_blocked(address: str, domains: Sequence[str]) -> bool:
    """Whether the account's server is a blocked domain or one of its subdomains."""
    server = _server(address)
    return any(server == d or server.endswith("." + d) for d in domains)


def has_word(text: str, words: Sequence[str]) -> str | None:
    """The first blocked word or phrase standing whole in the text, any case."""
    for word in words:
        if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE):
            return word
    return None


def text_fingerprint(text: str) -> str:
    """What a post says, without its answer number, links, mentions, tags and punctuation:
    two posts with the same fingerprint say the same thing."""
    text = _ANSWER_PREFIX.sub(" ", text)
    text = _HASHTAG.sub(" ", _MENTION.sub(" ", _URL.sub(" ", text)))
    words = re.findall(r"\w+", text.lower())
    return " ".join(words)


def is_links_only(text: str) -> bool:
    return _URL.search(text) is not None and not text_fingerprint(text)


def hashtag_count(text: str) -> int:
    return len(_HASHTAG.findall(text))


@dataclass(frozen=True)
class Candidate:
    """An archived post as the server shows it now: fresh counts, author and visibility."""

    post: ArchivedPost
    visibility: str  # public, unlisted, private, direct
    # The author's server says the bot may not boost it (an interaction policy).
    boost_refused: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.post.platform, self.post.id)


@dataclass(frozen=True)
class Facts:
    """What the runtime knows beyond the post itself."""

    home: str  # the bot's own server, for bare @user handles
    bot_ids: Set[str] = frozenset()  # author keys of the bot itself
    opted_out: Set[str] = frozenset()  # author keys
    boosted: Set[str] = frozenset()  # post ids boosted (or being boosted) on this platform
    returning: Set[str] = frozenset()  # author keys seen in earlier occurrences of the chat
    texts: Mapping[str, int] = field(default_factory=dict)  # fingerprint -> posts in the chat


@dataclass(frozen=True)
class Rejection:
    rule: Rule
    reason: str  # for the log and the wrap-up; never names an opted-out person


def eligibility(candidate: Candidate, rules: Boost, facts: Facts) -> Rejection | None:
    """None if the post may be boosted, else the first hard rule it breaks."""
    post, author = candidate.post, candidate.post.author
    key = author_key(author)
    address = account_address(author.handle, facts.home)
    if candidate.visibility != "public":
        return Rejection("public", f"the post is {candidate.visibility}, not public")
    if post.is_own or key in facts.bot_ids:
        return Rejection("own", "the bot's own post")
    if author.is_bot:
        return Rejection("bot", "the author is a bot account")
    if has_nobot(author.bio):
        return Rejection("nobot", "the author's profile says #nobot")
    if key in facts.opted_out:
        return Rejection("opted_out", "the author asked the bot to stop")
    if any(account_address(h, facts.home) == address for h in rules.block.accounts):
        return Rejection("blocked_account", "the host blocked this account")
    if domain_blocked(address, rules.block.domains):
        return Rejection("blocked_domain", f"the host blocked the server {_server(address)}")
    word = has_word(post.text, rules.block.words)
    if word is not None:
        return Rejection("blocked_word", f"the post contains the blocked word {word!r}")
    if post.id in facts.boosted:
        return Rejection("already_boosted", "boosted already")
    if candidate.boost_refused:
        return Rejection("author_policy", AUTHOR_POLICY)
    return None


@dataclass(frozen=True)
class ScoreItem:
    rule: str  # a key of boost.prefer or boost.avoid
    points: float
    why: str


@dataclass(frozen=True)
class Score:
    items: tuple[ScoreItem, ...]

    @property
    def total(self) -> float:
        return sum(item.points for item in self.items)

    def breakdown(self) -> dict[str, float]:
        """Points per rule, for logs and the stored decision."""
        return {item.rule: item.points for item in self.items}


def score(candidate: Candidate, rules: Boost, facts: Facts) -> Score:
    """The notability of a post: every preference and avoidance that applies, with why.

    Rules that do not apply are left out, so the breakdown reads as the reasons."""
    post = candidate.post
    prefer, avoid = rules.prefer, rules.avoid
    items: list[ScoreItem] = []

    def add(rule: str, points: float, why: str) -> None:
        if points:
            items.append(ScoreItem(rule, points, why))

    if post.rule in ("reply", "prefix"):
        how = "replies to the question" if post.rule == "reply" else "starts with its number"
        add("answers", prefer.answers, f"answers Q{post.question} ({how})")
    if author_key(post.author) not in facts.returning:
        add("first_time", prefer.first_time, "first time in this chat")
    if post.replies:
        add(
            "replies_received",
            prefer.replies_received * post.replies,
            f"{post.replies} repl{'y' if post.replies == 1 else 'ies'}",
        )
    if post.favourites:
        add("favourites", prefer.favourites * post.favourites, f"{post.favourites} favourites")
    if is_links_only(post.text):
        add("links_only", avoid.links_only, "only links")
    tags = hashtag_count(post.text)
    if tags > MANY_HASHTAGS:
        add("many_hashtags", avoid.many_hashtags, f"{tags} hashtags")
    fingerprint = text_fingerprint(post.text)
    if fingerprint and facts.texts.get(fingerprint, 0) > 1:
        add("repeated_text", avoid.repeated_text, f"same text {facts.texts[fingerprint]} times")
    return Score(tuple(items))


def text_counts(texts: Iterable[str], *, among: Collection[str] | None = None) -> dict[str, int]:
    """How many posts of the chat (given by their texts) say each thing (for
    ``repeated_text``); only the things ``among`` says, if given (those of a tick's
    candidates: a busy chat says thousands)."""
    counts: dict[str, int] = {}
    for text in texts:
        fingerprint = text_fingerprint(text)
        if fingerprint and (among is None or fingerprint in among):
            counts[fingerprint] = counts.get(fingerprint, 0) + 1
    return counts


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: Score
    always: bool  # by a guest or co-host listed in boost.always

    @property
    def post(self) -> ArchivedPost:
        return self.candidate.post


@dataclass(frozen=True)
class Assessment:
    """Every candidate of a window, sorted out: the eligible ranked best first."""

    eligible: tuple[Scored, ...]
    rejected: tuple[tuple[Candidate, Rejection], ...]


def assess(candidates: Sequence[Candidate], rules: Boost, facts: Facts) -> Assessment:
    eligible: list[Scored] = []
    rejected: list[tuple[Candidate, Rejection]] = []
    always = {account_address(h, facts.home) for h in rules.always}
    for candidate in candidates:
        rejection = eligibility(candidate, rules, facts)
        if rejection is not None:
            rejected.append((candidate, rejection))
            continue
        address = account_address(candidate.post.author.handle, facts.home)
        eligible.append(Scored(candidate, score(candidate, rules, facts), address in always))
    return Assessment(tuple(rank(eligible)), tuple(rejected))


def rank(scored: Sequence[Scored]) -> list[Scored]:
    """Best first; among equals the earlier post, then the id (opaque, compared as text only
    to make the order stable)."""
    return sorted(scored, key=lambda s: (-s.score.total, s.post.created_at, s.post.id))


@dataclass(frozen=True)
class DoneBoost:
    """A boost already made (or claimed) in this occurrence."""

    post_id: str
    author: str  # author key
    window: int
    at: datetime
    always: bool = False


def current_window(windows: Sequence[Window], now: datetime) -> Window | None:
    return next((w for w in windows if w.contains(now)), None)


def in_window(post: ArchivedPost, window: Window) -> bool:
    """Answers to the window's question, and unnumbered posts made during it."""
    if post.question is not None:
        return post.question == window.number
    return window.contains(post.created_at)


def paced_allowance(window: Window, now: datetime, cap: int) -> int:
    """How many capped boosts the window may have had by ``now``.

    The cap is spread over the window, so the answers that gather favourites over the
    minutes get their chance: with 3 per question, the first may go out a quarter of the
    way in, the second halfway, the third at three quarters.
    """
    length = window.end - window.start
    if cap <= 0:
        return 0
    if length <= timedelta(0):
        return cap  # the next question is overdue: the whole window has passed as planned
    elapsed = min(max(now - window.start, timedelta(0)), length)
    return min(cap, int(elapsed * (cap + 1) / length))


def select(
    ranked: Sequence[Scored],
    *,
    rules: Boost,
    window: Window,
    done: Sequence[DoneBoost],
    now: datetime,
) -> list[Scored]:
    """What to boost now, best first, within the host's caps.

    Guests and co-hosts (``always``) come first and do not count against the caps, but keep
    the interval. Others need a positive score, room under ``max_per_question`` (paced over
    the window) and ``max_per_author``. ``min_interval`` separates any two boosts.
    """
    chosen: list[Scored] = []
    last = max((d.at for d in done), default=None)
    in_this_window = sum(1 for d in done if d.window == window.number and not d.always)
    by_author: dict[str, int] = {}
    for d in done:
        if not d.always:
            by_author[d.author] = by_author.get(d.author, 0) + 1
    allowance = paced_allowance(window, now, rules.max_per_question)
    ordered = [s for s in ranked if s.always] + [s for s in ranked if not s.always]
    for item in ordered:
        if last is not None and now - last < rules.min_interval:
            break
        if not item.always:
            author = author_key(item.post.author)
            if item.score.total <= 0 or in_this_window >= allowance:
                continue
            if by_author.get(author, 0) >= rules.max_per_author:
                continue
            in_this_window += 1
            by_author[author] = by_author.get(author, 0) + 1
        chosen.append(item)
        last = now
    return chosen


def to_offer(
    eligible: Sequence[Scored], window: Window, now: datetime, *, most: int
) -> list[Scored]:
    """What a question's approval round puts before the hosts, best first: nothing before
    halfway through its window (its answers need time to come in and gather favourites),
    then up to ``most`` of those that need a host's approval (a guest's or co-host's does
    not) and score above 0."""
    if now < window.start + (window.end - window.start) / 2:
        return []
    return [s for s in eligible if not s.always and s.score.total > 0][:most]


def rule_refusal(rule: str | None, reason: str | None) -> str:
    """What a host is told when a hard rule refuses their boost."""
    return f"refused by the rule {rule}: {reason}"


# What a host may answer to a list of candidates.
_APPROVE = re.compile(r"\s*boost\s+([0-9]+(?:[\s,]+[0-9]+)*)\s*[.!]?\s*", re.IGNORECASE)
_SKIP = re.compile(r"\s*skip\s*[.!]?\s*", re.IGNORECASE)
_STOP = re.compile(r"(?<!\w)stop(?!\w)", re.IGNORECASE)
_FORGET = re.compile(r"(?<!\w)forget\s+me(?!\w)", re.IGNORECASE)

Command = Literal["approve", "skip", "stop", "forget", "none"]


@dataclass(frozen=True)
class Reading:
    command: Command
    numbers: tuple[int, ...] = ()


def read_mention(text: str, *, from_host: bool) -> Reading:
    """What a mention of the bot asks for. Hosts approve (``boost 1 3``) or ``skip``;
    anyone may say ``stop``, or ``forget me`` (which is a stop too)."""
    body = _MENTION.sub(" ", text).strip()
    if from_host:
        approve = _APPROVE.fullmatch(body)
        if approve:
            numbers = tuple(dict.fromkeys(int(n) for n in re.findall(r"\d+", approve.group(1))))
            return Reading("approve", numbers)
        if _SKIP.fullmatch(body):
            return Reading("skip")
    if _FORGET.search(body):
        return Reading("forget")
    if _STOP.search(body):
        return Reading("stop")
    return Reading("none")


def domain_handle(handle: str) -> bool:
    """Whether a handle is a Bluesky one (``@name.domain``): no Mastodon account, whose
    name has no dot (a server would read ``@name`` and mention someone else)."""
    user, at, _ = handle.strip().lstrip("@").partition("@")
    return not at and "." in user


def mention_of(handle: str, home: str) -> str:
    """How the bot writes a mention: ``@user`` for an account on its own server (which every
    server resolves), ``@user@server`` otherwise."""
    user, _, server = account_address(handle, home).partition("@")
    return f"@{user}" if server == home.lower() else f"@{user}@{server}"


@dataclass(frozen=True)
class Offered:
    """One numbered candidate in the message to the hosts."""

    address: str  # user@server
    text: str
    url: str
    score: float


def offer_text(
    *, mentions: Sequence[str], label: str, offered: Sequence[Offered], platform: str, limit: int
) -> tuple[str, int]:
    """The direct message that asks the hosts which candidates to boost, and how many of the
    candidates it lists (excerpts shrink, then the last candidates go, to fit ``limit``).

    Beyond the hosts' mentions it holds no ``@`` at all (candidates are "user on server",
    mentions are stripped from their words, links are escaped): a direct message reaches
    everyone it mentions, and a candidate must not receive it."""
    head = f'{" ".join(mentions)} {label}: reply "boost 1 3" to boost those, or "skip".'
    for count in range(len(offered), 0, -1):
        for width in (120, 80, 50, 30, 15, 0):
            lines = [head]
            for n, item in enumerate(offered[:count], start=1):
                words = " ".join(_MENTION.sub("", item.text).replace("@", "").split())
                if len(words) > width:
                    words = words[: width - 1].rstrip() + "…" if width else ""
                excerpt = f" {words}" if words else ""
                # No "@" anywhere: some servers read one even inside a link or an address.
                user, _, server = item.address.partition("@")
                url = item.url.replace("@", "%40")
                lines.append(f"{n}. {user} on {server} [{item.score:g}]:{excerpt} {url}")
            text = "\n".join(lines)
            if length_for(platform, text) <= limit:
                return text, count
    raise ValueError(f"not even one candidate fits in {limit} characters")
