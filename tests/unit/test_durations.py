from datetime import timedelta

import pytest

from bot.core.durations import format_duration, parse_duration, suggest_duration


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("45s", 45),
        ("5m", 300),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        (" 2M ", 120),
        ("1.5h", 5400),
        ("0s", 0),
        (0, 0),  # the one bare number that means the same in every unit
    ],
)
def test_parse_reads_what_hosts_write(written: object, seconds: float) -> None:
    assert parse_duration(written) == timedelta(seconds=seconds)


def test_parse_passes_a_timedelta_through() -> None:
    assert parse_duration(timedelta(minutes=3)) == timedelta(minutes=3)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1 hour", "'1 hour' is not a duration"),
        ("", "'' is not a duration"),
        ("5", "'5' is not a duration"),
        ("-5m", "'-5m' is not a duration"),
        ("5m later", "'5m later' is not a duration"),
        (-1, "a duration cannot be negative"),
        # YAML gives a bare number as an int: minutes or seconds? Refused rather than guessed.
        (300, "300 has no unit"),
        (2.5, "2.5 has no unit"),
        (True, "True is not a duration"),
        (None, "None is not a duration"),
        ([5], "[5] is not a duration"),
    ],
)
def test_parse_refuses_anything_else(written: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        parse_duration(written)


@pytest.mark.parametrize(
    ("written", "suggestion"),
    [
        ("1 hour", "1h"),
        ("1 hour 30 minutes", "1h30m"),
        ("90 mins", "90m"),
        ("2 Days", "2d"),
        ("45 secs", "45s"),
        ("soon", None),
        ("5m", None),  # already right: nothing to suggest
        (5, "5m or 5s"),
        (1.5, "1.5m or 1.5s"),
        (0, None),
    ],
)
def test_suggest_gives_the_short_spelling(written: object, suggestion: str | None) -> None:
    assert suggest_duration(written) == suggestion


@pytest.mark.parametrize(
    ("seconds", "spelled"),
    [(0, "0s"), (45, "45s"), (300, "5m"), (5400, "1h30m"), (90061, "1d1h1m1s"), (-300, "-5m")],
)
def test_format_is_the_shortest_exact_spelling(seconds: int, spelled: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == spelled
    if seconds >= 0:
        assert parse_duration(spelled) == timedelta(seconds=seconds)
