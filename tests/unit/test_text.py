import pytest

from bot.core.text import (
    has_hashtag,
    mastodon_length,
    placeholders_in,
    unknown_placeholders,
    with_hashtag,
)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("plain text", 10),
        ("https://example.org", 23),
        ("https://example.org/" + "a" * 200, 23),
        ("see https://example.org/a/very/long/path/to/the/transcript/page", 4 + 23),
        # Trailing punctuation is not part of the URL for Mastodon.
        ("see https://example.org/transcript.", 4 + 23 + 1),
        ("(https://example.org/x)", 1 + 23 + 1),
        ("two: http://a.example/x http://b.example/y", 5 + 23 + 1 + 23),
        # A remote mention counts as the user part only.
        ("@alice@mastodon.example.org hello", len("@alice hello")),
        ("@alice hello", 12),
        ("cc @bob@example.social.", len("cc @bob.")),
        # An e-mail address is not a mention.
        ("mail bob@example.org", 20),
        ("é 😀", 3),
    ],
)
def test_mastodon_length_counts_as_the_server_does(text: str, length: int) -> None:
    assert mastodon_length(text) == length


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("Join #HEXIchat tonight", True),
        ("join #hexichat tonight", True),  # tags are case-insensitive
        ("#HEXIchat", True),
        ("Thanks, #HEXIchat!", True),
        ("Join #HEXIchat2 tonight", False),  # another tag
        ("Join #HEXIchat_archive", False),
        ("no tag here", False),
        ("HEXIchat without the #", False),
        ("https://example.org/#HEXIchat", False),  # a URL fragment is not a tag
    ],
)
def test_has_hashtag_finds_the_whole_tag_only(text: str, present: bool) -> None:
    assert has_hashtag(text, "#HEXIchat") is present


def test_with_hashtag_appends_only_when_missing() -> None:
    assert with_hashtag("Welcome!", "#HEXIchat") == "Welcome! #HEXIchat"
    assert with_hashtag("Welcome to #hexichat!", "#HEXIchat") == "Welcome to #hexichat!"
    assert with_hashtag("See #HEXIchat2", "#HEXIchat") == "See #HEXIchat2 #HEXIchat"


def test_placeholders() -> None:
    assert placeholders_in("{hashtag} at {time} on {date}") == ["hashtag", "time", "date"]
    assert placeholders_in("literal {{braces}}") == []
    assert unknown_placeholders("{hashtag} {hashtg} {n}") == ["hashtg"]
    with pytest.raises(ValueError, match="Single '}'"):
        placeholders_in("a } alone")
