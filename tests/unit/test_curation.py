"""Eligibility, score and selection of boosts, on posts in the shape Mastodon serves them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.mastodon_status import to_post
from bot.core.answers import Window
from bot.core.config_boost import Boost
from bot.core.curation import (
    RULES,
    Candidate,
    DoneBoost,
    Facts,
    Offered,
    Score,
    Scored,
    ScoreItem,
    account_address,
    assess,
    eligibility,
    has_nobot,
    in_window,
    mention_of,
    offer_text,
    paced_allowance,
    rank,
    read_mention,
    score,
    select,
    text_counts,
    text_fingerprint,
    to_offer,
)
from bot.core.model import ArchivedPost
from bot.core.text import mastodon_length
from bot.core.transcript import author_key
from tests.support.windows import planned_windows

HOME = "example.social"
T0 = datetime(2026, 12, 2, 20, 5, tzinfo=UTC)
TAG_HTML = (
    '<a href="https://example.social/tags/HEXIchat" class="mention hashtag" rel="tag">'
    "#<span>HEXIchat</span></a>"
)


def account(**overrides: Any) -> dict[str, Any]:
    """An account as GET /api/v1/statuses/:id serves it (trimmed to what we read)."""
    data: dict[str, Any] = {
        "id": "109302",
        "username": "nurse_kim",
        "acct": "nurse_kim",
        "display_name": "Kim, practice nurse",
        "bot": False,
        "note": "<p>Practice nurse in Leeds. Views my own.</p>",
        "url": "https://example.social/@nurse_kim",
        "followers_count": 211,
        "fields": [{"name": "Pronouns", "value": "she/her", "verified_at": None}],
    }
    data.update(overrides)
    return data


def status(
    text_html: str = f"<p>A1 We ask at the desk, and we read every comment card. {TAG_HTML}</p>",
    **overrides: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "113650000000000001",
        "created_at": "2026-12-02T20:06:10.000Z",
        "in_reply_to_id": None,
        "visibility": "public",
        "language": "en",
        "url": "https://example.social/@nurse_kim/113650000000000001",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "content": text_html,
        "reblog": None,
        "account": account(),
    }
    data.update(overrides)
    return data


def post_from(data: dict[str, Any], **fields: Any) -> ArchivedPost:
    converted = to_post(data, home=HOME, own_account_id="1")
    assert isinstance(converted, ArchivedPost), converted
    defaults: dict[str, Any] = {"occurrence": "hexichat/2026-12-02", "question": 1}
    defaults["rule"] = "prefix"
    return replace(converted, **{**defaults, **fields})


def candidate(
    data: dict[str, Any] | None = None, *, visibility: str = "public", **fields: Any
) -> Candidate:
    return Candidate(post_from(data or status(), **fields), visibility)


def rules(**data: Any) -> Boost:
    return Boost.model_validate(data)


FACTS = Facts(home=HOME, bot_ids=frozenset({"mastodon:1"}))


# -- eligibility: each hard rule, both sides ----------------------------------------------


def test_a_plain_public_answer_is_eligible() -> None:
    assert eligibility(candidate(), rules(), FACTS) is None


@pytest.mark.parametrize("visibility", ["unlisted", "private", "direct"])
def test_only_public_posts_are_boosted(visibility: str) -> None:
    rejection = eligibility(candidate(visibility=visibility), rules(), FACTS)
    assert rejection is not None
    assert rejection.rule == "public"
    assert visibility in rejection.reason


def test_the_bots_own_posts_are_not_boosted() -> None:
    own = candidate(status(account=account(id="1", acct="chatbot")))
    assert own.post.is_own  # marked by the archive
    rejection = eligibility(own, rules(), FACTS)
    assert rejection is not None
    assert rejection.rule == "own"
    # Known as the bot's account even if the archive did not mark it.
    unmarked = Candidate(replace(own.post, is_own=False), "public")
    rejection = eligibility(unmarked, rules(), FACTS)
    assert rejection is not None
    assert rejection.rule == "own"


def test_bot_accounts_are_not_boosted() -> None:
    rejection = eligibility(candidate(status(account=account(bot=True))), rules(), FACTS)
    assert rejection is not None
    assert rejection.rule == "bot"
    assert eligibility(candidate(status(account=account(bot=False))), rules(), FACTS) is None


@pytest.mark.parametrize(
    "profile",
    [
        {"note": f"<p>Nurse. {TAG_HTML.replace('HEXIchat', 'NoBot')}</p>"},  # Mastodon's HTML
        {"note": "<p>Nurse. #nobot</p>"},
        {"note": "no bots please #NOBOTS"},  # raw text, as mastodon_mock serves it
        {"fields": [{"name": "Bots", "value": "#NoBots", "verified_at": None}]},
        {"fields": [{"name": "#nobot", "value": "really", "verified_at": None}]},
    ],
)
def test_nobot_in_bio_or_fields_any_case_rejects(profile: dict[str, Any]) -> None:
    rejection = eligibility(candidate(status(account=account(**profile))), rules(), FACTS)
    assert rejection is not None
    assert rejection.rule == "nobot"


@pytest.mark.parametrize(
    "note", ["I build #robots", "#nobotany fan", "mail me at x#nobot.example", "no bots here"]
)
def test_words_that_only_look_like_nobot_do_not_reject(note: str) -> None:
    assert eligibility(candidate(status(account=account(note=note))), rules(), FACTS) is None


def test_nobot_is_found_in_raw_html_too() -> None:
    # A bio kept as the server's HTML (not converted) is read the same way.
    assert has_nobot('<p><a href="x" class="hashtag">#<span>NoBot</span></a></p>')
    assert has_nobot("#NoBots")
    assert not has_nobot("<p>#nobotany</p>")


def test_opted_out_authors_are_not_boosted() -> None:
    post = candidate()
    facts = replace(FACTS, opted_out=frozenset({author_key(post.post.author)}))
    rejection = eligibility(post, rules(), facts)
    assert rejection is not None
    assert rejection.rule == "opted_out"
    assert "@" not in rejection.reason  # never names them
    other = replace(FACTS, opted_out=frozenset({"mastodon:999"}))
    assert eligibility(post, rules(), other) is None


@pytest.mark.parametrize("blocked", ["@nurse_kim@example.social", "@Nurse_Kim", "@nurse_kim"])
def test_blocked_accounts_are_not_boosted(blocked: str) -> None:
    # A bare @user is an account of the bot's own server.
    rejection = eligibility(candidate(), rules(block={"accounts": [blocked]}), FACTS)
    assert rejection is not None
    assert rejection.rule == "blocked_account"


def test_a_blocked_account_elsewhere_is_someone_else() -> None:
    other = rules(block={"accounts": ["@nurse_kim@other.example", "@kim@example.social"]})
    assert eligibility(candidate(), other, FACTS) is None


@pytest.mark.parametrize("acct", ["spammer@spam.example", "x@eu.spam.example"])
def test_blocked_domains_and_their_subdomains_are_not_boosted(acct: str) -> None:
    post = candidate(status(account=account(acct=acct)))
    rejection = eligibility(post, rules(block={"domains": ["Spam.Example"]}), FACTS)
    assert rejection is not None
    assert rejection.rule == "blocked_domain"
    assert "spam.example" in rejection.reason


def test_other_domains_pass_a_domain_block() -> None:
    post = candidate(status(account=account(acct="kim@notspam.example")))
    assert eligibility(post, rules(block={"domains": ["spam.example"]}), FACTS) is None
    # The bot's own server can be blocked too (local accounts have no domain in acct).
    local = candidate()
    rejection = eligibility(local, rules(block={"domains": ["example.social"]}), FACTS)
    assert rejection is not None
    assert rejection.rule == "blocked_domain"


def test_blocked_words_any_case_reject() -> None:
    post = candidate(status(f"<p>A1 Buy CRYPTO now {TAG_HTML}</p>"))
    rejection = eligibility(post, rules(block={"words": ["crypto"]}), FACTS)
    assert rejection is not None
    assert rejection.rule == "blocked_word"
    assert "crypto" in rejection.reason


def test_a_blocked_word_inside_another_word_does_not_reject() -> None:
    post = candidate(status(f"<p>A1 cryptography matters {TAG_HTML}</p>"))
    assert eligibility(post, rules(block={"words": ["crypto"]}), FACTS) is None


def test_a_post_boosted_already_is_not_boosted_again() -> None:
    post = candidate()
    rejection = eligibility(post, rules(), replace(FACTS, boosted=frozenset({post.post.id})))
    assert rejection is not None
    assert rejection.rule == "already_boosted"
    assert eligibility(post, rules(), replace(FACTS, boosted=frozenset({"other"}))) is None


def test_the_first_rule_broken_in_order_is_named() -> None:
    # Unlisted, by a bot, with #nobot, opted out: "public" comes first.
    bad = candidate(status(account=account(bot=True, note="#nobot")), visibility="unlisted")
    facts = replace(FACTS, opted_out=frozenset({author_key(bad.post.author)}))
    rejection = eligibility(bad, rules(), facts)
    assert rejection is not None
    assert rejection.rule == RULES[0] == "public"
    public = replace(bad, visibility="public")
    rejection = eligibility(public, rules(), facts)
    assert rejection is not None
    assert rejection.rule == "bot"


# -- score: each preference and avoidance, both sides --------------------------------------


def points(c: Candidate, facts: Facts = FACTS, **data: Any) -> dict[str, float]:
    return score(c, rules(**data), facts).breakdown()


def test_an_answer_earns_the_answers_bonus() -> None:
    assert points(candidate(rule="prefix"))["answers"] == 3
    assert points(candidate(rule="reply"))["answers"] == 3
    assert "answers" not in points(candidate(rule="window"))
    assert "answers" not in points(candidate(question=None, rule=None))


def test_a_first_timer_earns_the_first_time_bonus() -> None:
    post = candidate()
    assert points(post)["first_time"] == 2
    returning = replace(FACTS, returning=frozenset({author_key(post.post.author)}))
    assert "first_time" not in points(post, returning)


def test_replies_and_favourites_add_per_count() -> None:
    post = candidate(status(replies_count=2, favourites_count=4))
    got = points(post, prefer={"replies_received": 1.5, "favourites": 1})
    assert got["replies_received"] == 3
    assert got["favourites"] == 4
    quiet = points(candidate())
    assert "replies_received" not in quiet
    assert "favourites" not in quiet


def test_links_only_is_penalised() -> None:
    links = candidate(
        status(f'<p><a href="https://shop.example/x">https://shop.example/x</a> {TAG_HTML}</p>')
    )
    assert points(links)["links_only"] == -3
    link = '<a href="https://nhs.example/g">https://nhs.example/g</a>'
    words = candidate(status(f"<p>A1 this guide helped us {link} {TAG_HTML}</p>"))
    assert "links_only" not in points(words)


def test_many_hashtags_are_penalised() -> None:
    tags = " ".join(TAG_HTML.replace("HEXIchat", t) for t in ("a", "b", "c"))
    many = candidate(status(f"<p>A1 we survey {tags} {TAG_HTML}</p>"))
    assert points(many)["many_hashtags"] == -2
    three = " ".join(TAG_HTML.replace("HEXIchat", t) for t in ("a", "b"))
    assert "many_hashtags" not in points(
        candidate(status(f"<p>A1 we survey {three} {TAG_HTML}</p>"))
    )


def test_repeated_text_is_penalised_whatever_the_answer_number() -> None:
    first = post_from(status("<p>A1 Buy my course! #HEXIchat</p>", id="11"))
    again = post_from(status("<p>a2: buy my COURSE #hexichat https://x.example</p>", id="12"))
    unique = post_from(status("<p>A1 We read every card.</p>", id="13"))
    facts = replace(FACTS, texts=text_counts(p.text for p in (first, again, unique)))
    assert points(Candidate(first, "public"), facts)["repeated_text"] == -5
    assert points(Candidate(again, "public"), facts)["repeated_text"] == -5
    assert "repeated_text" not in points(Candidate(unique, "public"), facts)
    # A tick counts, in the whole chat, only what its candidates say.
    wanted = text_fingerprint(first.text)
    assert text_counts((p.text for p in (first, again, unique)), among={wanted}) == {wanted: 2}


def test_the_score_explains_itself() -> None:
    post = candidate(status(favourites_count=2))
    result = score(post, rules(), FACTS)
    assert result.total == 3 + 2 + 2
    assert {item.rule: item.why for item in result.items} == {
        "answers": "answers Q1 (starts with its number)",
        "first_time": "first time in this chat",
        "favourites": "2 favourites",
    }


def test_a_zero_weight_turns_a_rule_off() -> None:
    assert "first_time" not in points(candidate(), prefer={"first_time": 0})


# -- selection: caps, pacing, interval, guests -----------------------------------------------

WINDOW = Window(1, T0, T0 + timedelta(minutes=8), T0 + timedelta(minutes=8))


def scored(post_id: str, total: float, *, author: str = "a", always: bool = False) -> Scored:
    post = post_from(status(id=post_id, account=account(id=author, acct=f"user{author}")))
    return Scored(Candidate(post, "public"), Score((ScoreItem("answers", total, "set"),)), always)


def test_pacing_spreads_the_cap_over_the_window() -> None:
    # 3 per question over 8 minutes: one from 2 min, two from 4 min, three from 6 min.
    assert paced_allowance(WINDOW, T0, 3) == 0
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=1, seconds=59), 3) == 0
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=2), 3) == 1
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=4), 3) == 2
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=7, seconds=59), 3) == 3
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=30), 3) == 3
    assert paced_allowance(WINDOW, T0 + timedelta(minutes=5), 0) == 0


def test_the_best_goes_first_and_the_interval_holds() -> None:
    ranked = rank([scored("1", 2), scored("2", 5, author="b"), scored("3", 4, author="c")])
    late = T0 + timedelta(minutes=7)
    chosen = select(ranked, rules=rules(min_interval="45s"), window=WINDOW, done=[], now=late)
    assert [s.post.id for s in chosen] == ["2"]  # one per interval
    recent = [DoneBoost("9", "mastodon:x", 1, late - timedelta(seconds=44))]
    assert (
        select(ranked, rules=rules(min_interval="45s"), window=WINDOW, done=recent, now=late) == []
    )
    older = [DoneBoost("9", "mastodon:x", 1, late - timedelta(seconds=45))]
    chosen = select(ranked, rules=rules(min_interval="45s"), window=WINDOW, done=older, now=late)
    assert [s.post.id for s in chosen] == ["2"]


def test_caps_per_question_and_per_author_hold() -> None:
    ranked = rank(
        [scored("1", 5), scored("2", 4), scored("3", 3, author="b"), scored("4", 2, author="c")]
    )
    end = WINDOW.end - timedelta(seconds=1)
    cap = rules(min_interval="0s", max_per_question=2, max_per_author=1)
    # Author a's second post and anything past the question's cap of 2 wait.
    assert [s.post.id for s in select(ranked, rules=cap, window=WINDOW, done=[], now=end)] == [
        "1",
        "3",
    ]
    done = [DoneBoost("0", "mastodon:a", 0, T0 - timedelta(minutes=5))]  # a, in the intro
    assert [s.post.id for s in select(ranked, rules=cap, window=WINDOW, done=done, now=end)] == [
        "3",
        "4",
    ]


def test_a_post_with_no_positive_score_is_not_boosted() -> None:
    ranked = rank([scored("1", 0), scored("2", -1, author="b")])
    end = WINDOW.end - timedelta(seconds=1)
    assert select(ranked, rules=rules(min_interval="0s"), window=WINDOW, done=[], now=end) == []


def test_guests_are_boosted_outside_the_caps_but_within_the_interval() -> None:
    guest = scored("7", 0, author="g", always=True)
    ranked = [guest, scored("1", 5)]
    full = [DoneBoost(str(i), f"mastodon:{i}", 1, T0) for i in range(3)]
    now = T0 + timedelta(minutes=1)  # before pacing allows anything
    chosen = select(ranked, rules=rules(min_interval="45s"), window=WINDOW, done=full, now=now)
    assert [s.post.id for s in chosen] == ["7"]
    too_soon = select(ranked, rules=rules(min_interval="2m"), window=WINDOW, done=full, now=now)
    assert too_soon == []


def test_assess_splits_and_ranks_and_marks_guests() -> None:
    guest = candidate(status(id="5", account=account(id="77", acct="guest")))
    bot = candidate(status(id="6", account=account(id="78", acct="helper", bot=True)))
    liked = candidate(status(id="7", favourites_count=3, account=account(id="79", acct="fan")))
    result = assess([guest, bot, liked], rules(always=["@guest@example.social"]), FACTS)
    assert [s.post.id for s in result.eligible] == ["7", "5"]
    assert [s.always for s in result.eligible] == [False, True]
    assert [(c.post.id, r.rule) for c, r in result.rejected] == [("6", "bot")]


def test_an_approval_round_offers_the_best_that_need_approval_from_halfway() -> None:
    ranked = rank(
        [
            scored("1", 5),
            scored("2", 0, author="b"),  # nothing to recommend it
            scored("3", 4, author="c"),
            scored("7", 9, author="g", always=True),  # a guest's: boosted without approval
            scored("4", 3, author="d"),
        ]
    )
    halfway = WINDOW.start + (WINDOW.end - WINDOW.start) / 2
    assert to_offer(ranked, WINDOW, halfway - timedelta(seconds=1), most=5) == []
    assert [s.post.id for s in to_offer(ranked, WINDOW, halfway, most=5)] == ["1", "3", "4"]
    assert [s.post.id for s in to_offer(ranked, WINDOW, WINDOW.end, most=2)] == ["1", "3"]


# -- windows, mentions, the message to the hosts ------------------------------------------


def test_windows_run_from_each_question_to_the_next(tmp_path: Any) -> None:
    from bot.core.agenda import build_agenda, occurrence_at
    from bot.core.configfile import parse_config

    config = parse_config(
        """
chat: {id: c, title: T, hashtag: "#t", timezone: UTC, start: 2026-12-02 20:00, duration: 1h}
platforms: {mastodon: {instance: https://example.social}}
posts:
  intro: {text: hi}
  questions: [{at: 5m, text: one}, {at: 13m, text: two}]
  closing: {at: 55m, text: bye}
""",
        filename="chat.yaml",
    )
    assert config.chat.start is not None
    occurrence = occurrence_at(config, config.chat.start)
    windows = planned_windows(build_agenda(config, occurrence), "mastodon", occurrence.end)
    start = occurrence.start
    assert windows == [
        Window(0, start, *[start + timedelta(minutes=5)] * 2),
        Window(1, start + timedelta(minutes=5), *[start + timedelta(minutes=13)] * 2),
        Window(2, start + timedelta(minutes=13), *[start + timedelta(minutes=55)] * 2),
    ]
    late_answer = post_from(status(), question=1, created_at=start + timedelta(minutes=20))
    assert in_window(late_answer, windows[1])
    assert not in_window(late_answer, windows[2])
    chatter = post_from(status(), question=None, rule=None, created_at=start + timedelta(minutes=2))
    assert in_window(chatter, windows[0])


@pytest.mark.parametrize(
    ("text", "host", "command", "numbers"),
    [
        ("@chatbot STOP", False, "stop", ()),
        ("@chatbot please stop boosting me.", False, "stop", ()),
        ("@chatbot Stop!", True, "stop", ()),
        ("@chatbot my stopwatch broke", False, "none", ()),
        ("@chatbot Forget me, please", False, "forget", ()),
        ("@chatbot boost 1 3", True, "approve", (1, 3)),
        ("@chatbot Boost 2, 4.", True, "approve", (2, 4)),
        ("@chatbot boost 1 3", False, "none", ()),  # only hosts approve
        ("@chatbot skip", True, "skip", ()),
        ("@chatbot great chat tonight!", False, "none", ()),
    ],
)
def test_mentions_are_read_as_commands(
    text: str, host: bool, command: str, numbers: tuple[int, ...]
) -> None:
    reading = read_mention(text, from_host=host)
    assert (reading.command, reading.numbers) == (command, numbers)


def test_handles_are_compared_and_written_the_way_servers_resolve_them() -> None:
    assert account_address("@Kim", HOME) == "kim@example.social"
    assert account_address("@kim@Other.Example", HOME) == "kim@other.example"
    assert mention_of("@host@example.social", HOME) == "@host"
    assert mention_of("@host@other.example", HOME) == "@host@other.example"


def test_the_message_to_hosts_mentions_no_candidate_and_fits() -> None:
    offered = [
        Offered(
            "kim@example.social",
            "A1 thanks @alex@x.example for the idea " * 3,
            "https://example.social/@kim/1",
            7,
        ),
        Offered("sam@other.example", "A1 short", "https://other.example/@sam/2", 5),
    ]
    text, count = offer_text(
        mentions=["@host"], label="Q1", offered=offered, platform="mastodon", limit=500
    )
    assert count == 2
    assert mastodon_length(text) <= 500
    assert text.startswith("@host Q1")
    assert "1. kim on example.social [7]: A1 thanks for the idea" in text
    assert "2. sam on other.example [5]: A1 short" in text
    # The only mention is the host's: even the links' "@" is escaped.
    assert [w for w in text.split() if w.startswith("@")] == ["@host"]
    assert text.count("@") == 1
    assert "https://example.social/%40kim/1" in text
    tight, count = offer_text(
        mentions=["@host"], label="Q1", offered=offered * 5, platform="mastodon", limit=200
    )
    assert mastodon_length(tight) <= 200
    assert 1 <= count < 10
