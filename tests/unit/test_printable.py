"""What a terminal or a page is given of a stranger's text: its characters, no controls."""

from bot.core.printable import printable


def test_escapes_bells_and_direction_overrides_are_removed() -> None:
    """Issue 12 item 8: a terminal acts on ESC, BEL and the 8-bit CSI/OSC; a page on RLO."""
    text = "a\x1b[31mb\x07c\x9b2Jd\x9d0;t\x9ce\u202ef\u2066g"

    assert printable(text) == "a[31mbc2Jd0;tefg"


def test_spacing_controls_become_spaces_and_newlines_stay_only_when_asked() -> None:
    assert printable("a\tb\rc\nd") == "a b c d"
    assert printable("a\tb\r\nc", newlines=True) == "a b \nc"


def test_markup_and_ordinary_text_are_kept_as_typed() -> None:
    text = "[/archive] [link=https://evil.example]x[/link] 👩‍👩‍👧‍👦 café"
    assert printable(text) == text
