"""Days and times typed at the kiosk, read by the one parser (kiosk.domain.when): local time in
the school's zone, day first, ``now`` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.calendar import CalendarEntry, SchoolCalendar
from kiosk.domain.errors import InvalidInput
from kiosk.domain.when import not_a_school_day, parse_day, parse_when, when_in_words

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)  # Tuesday 10 March 2026, 08:05 in London


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # The forms a member of staff types (issue 16).
        ("Fri 15:30", datetime(2026, 3, 13, 15, 30, tzinfo=UTC)),
        ("15:30", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("12/12 9:00", datetime(2026, 12, 12, 9, 0, tzinfo=UTC)),
        ("12/12/2026", datetime(2026, 12, 12, 8, 30, tzinfo=UTC)),  # a date alone: 08:30
        ("tomorrow at 3pm", datetime(2026, 3, 11, 15, 0, tzinfo=UTC)),
        ("FRI", datetime(2026, 3, 13, 8, 30, tzinfo=UTC)),
        ("tue", datetime(2026, 3, 17, 8, 30, tzinfo=UTC)),  # next Tuesday, not today
        ("Wed 11 Mar 08:30", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("2026-03-12 17:00", datetime(2026, 3, 12, 17, 0, tzinfo=UTC)),
        ("2 Jan", datetime(2027, 1, 2, 8, 30, tzinfo=UTC)),  # the next 2 January
        ("9/3", datetime(2027, 3, 9, 8, 30, tzinfo=UTC)),  # yesterday's date: next year's
        # After the clocks go forward, 08:30 in London is 07:30 UTC.
        ("30 March 8:30", datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),
    ],
)
def test_reads_a_day_and_time(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, zone=LONDON) == expected


def test_the_school_zone_is_the_one_passed_in() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # 17:05 there at NOW
    assert parse_when("18:00", now=NOW, zone=tokyo) == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "Please give the day and time"),
        ("soon", "“soon” is not a day and time I can read"),
        ("32/03 08:30", "not a day and time I can read"),
        ("31/02/2027", "not a day and time I can read"),
        ("11/03 25:00", "not a day and time I can read"),
        ("12", "“12” is not a day and time"),  # a bare number is neither a date nor a time
        ("13pm", "not a day and time"),
        ("LAP-008", "“LAP-008” is not a day and time"),
        ("08:00", "has already passed"),  # earlier today
        ("today", "has already passed"),  # today 08:30 is still ahead: see below
        ("9/3/2026 10:00", "has already passed"),
        ("29/03/2026 01:30", "does not exist"),  # the clocks go forward at 01:00
    ],
)
def test_refuses_with_a_reason(typed: str, reason: str) -> None:
    now = NOW.replace(hour=9) if typed == "today" else NOW
    with pytest.raises(InvalidInput, match=reason):
        parse_when(typed, now=now, zone=LONDON)


def test_every_refusal_says_what_to_type() -> None:
    with pytest.raises(InvalidInput, match=r"Fri 15:30, 12/12 9:00, 15:30 or tomorrow"):
        parse_when("next week", now=NOW, zone=LONDON)


def test_a_day_is_today_or_before() -> None:
    today = date(2026, 3, 10)
    assert parse_day("today", today=today) == today
    assert parse_day("3 feb", today=today) == date(2026, 2, 3)
    assert parse_day("20/12", today=today) == date(2025, 12, 20)
    assert parse_day("Mon", today=today) == date(2026, 3, 9)
    assert parse_day("12/12/2025", today=today) == date(2025, 12, 12)
    with pytest.raises(InvalidInput, match="10/03/2026"):
        parse_day("next week", today=today)
    with pytest.raises(InvalidInput, match="in the future"):
        parse_day("12/12/2026", today=today)
    with pytest.raises(InvalidInput, match="not a date"):
        parse_day("ASMITH", today=today)


def test_in_words() -> None:
    assert when_in_words(datetime(2026, 3, 10, 15, 30, tzinfo=UTC), now=NOW, zone=LONDON) == (
        "today at 15:30"
    )
    assert when_in_words(datetime(2026, 3, 11, 8, 30, tzinfo=UTC), now=NOW, zone=LONDON) == (
        "tomorrow (Wednesday 11 March) at 08:30"
    )
    assert when_in_words(datetime(2027, 1, 4, 8, 30, tzinfo=UTC), now=NOW, zone=LONDON) == (
        "Monday 4 January 2027 at 08:30"
    )


# The school calendar: an autumn term with a half term (26-30 October 2026) and an INSET day.
HALF_TERM = SchoolCalendar(
    (
        CalendarEntry(date(2026, 9, 2), date(2026, 12, 18), "term", "Autumn term"),
        CalendarEntry(date(2026, 10, 26), date(2026, 10, 30), "holiday", "October half term"),
        CalendarEntry(date(2026, 11, 27), date(2026, 11, 27), "inset", "INSET day"),
    )
)
FRIDAY_BEFORE_HALF_TERM = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)  # 15:00 in London (BST)


def test_next_school_day_follows_the_school_calendar() -> None:
    now = FRIDAY_BEFORE_HALF_TERM
    # Monday 2 November, after half term (08:30 GMT: the clocks went back on 25 October).
    after_half_term = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert parse_when("next school day", now=now, zone=LONDON, calendar=HALF_TERM) == (
        after_half_term
    )
    assert parse_when("next school day 09:15", now=now, zone=LONDON, calendar=HALF_TERM) == (
        datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    )
    # Without the calendar: the next weekday, Monday 26 October.
    assert parse_when("next school day", now=now, zone=LONDON) == (
        datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    )
    # The day before an INSET day: the school day after it.
    thursday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert parse_when("next school day", now=thursday, zone=LONDON, calendar=HALF_TERM) == (
        datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    )


def test_a_day_named_literally_is_that_day_and_is_warned_of() -> None:
    now = FRIDAY_BEFORE_HALF_TERM
    monday = parse_when("Mon", now=now, zone=LONDON, calendar=HALF_TERM)
    assert monday == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # still that Monday
    assert not_a_school_day(monday, zone=LONDON, calendar=HALF_TERM) == (
        "Monday 26 October is not a school day (Holiday: October half term)."
    )
    tomorrow = parse_when("tomorrow", now=now, zone=LONDON, calendar=HALF_TERM)
    assert tomorrow == datetime(2026, 10, 24, 7, 30, tzinfo=UTC)
    assert not_a_school_day(tomorrow, zone=LONDON, calendar=HALF_TERM) == (
        "Saturday 24 October is not a school day (weekend)."
    )
    assert not_a_school_day(monday, zone=LONDON) is None  # no calendar: a weekday
    after = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert not_a_school_day(after, zone=LONDON, calendar=HALF_TERM) is None
