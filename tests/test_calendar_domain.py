"""The school calendar's rules and file readers (kiosk.domain.calendar), and kiosk.domain.dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.calendar import (
    WEEKDAYS_ONLY,
    CalendarEntry,
    SchoolCalendar,
    is_school_day,
    next_school_day,
    parse_csv,
    parse_ics,
    school_weeks_between,
)
from kiosk.domain.dates import parse_date
from kiosk.domain.errors import InvalidInput
from kiosk.domain.timeutil import suggested_extension
from kiosk.resources import assets_dir

AUTUMN = SchoolCalendar(
    (
        CalendarEntry(date(2026, 9, 2), date(2026, 12, 18), "term", "Autumn term"),
        CalendarEntry(date(2026, 10, 26), date(2026, 10, 30), "holiday", "Half term"),
        CalendarEntry(date(2026, 11, 27), date(2026, 11, 27), "inset", "INSET day"),
    )
)


def test_without_a_calendar_weekdays_are_school_days() -> None:
    assert is_school_day(date(2026, 12, 4))  # a Friday
    assert not is_school_day(date(2026, 12, 5))  # Saturday
    assert next_school_day(date(2026, 12, 4)) == date(2026, 12, 7)
    assert next_school_day(date(2026, 12, 23)) == date(2026, 12, 24)  # no holidays known


def test_holidays_inset_days_and_the_time_outside_terms_are_not_school_days() -> None:
    assert AUTUMN.is_school_day(date(2026, 10, 23))
    assert not AUTUMN.is_school_day(date(2026, 10, 28))  # half term
    assert not AUTUMN.is_school_day(date(2026, 11, 27))  # INSET
    assert not AUTUMN.is_school_day(date(2026, 12, 21))  # after the term
    assert AUTUMN.why_not(date(2026, 11, 27)) == "INSET day: INSET day"
    assert AUTUMN.why_not(date(2026, 12, 21)) == "outside term time"


def test_next_school_day_skips_half_term_and_inset_days() -> None:
    assert next_school_day(date(2026, 10, 23), AUTUMN) == date(2026, 11, 2)
    assert AUTUMN.next_school_day(date(2026, 11, 26)) == date(2026, 11, 30)
    # Past the last term it knows, the calendar falls back to weekdays (never stuck).
    assert AUTUMN.next_school_day(date(2026, 12, 18)) == date(2026, 12, 21)


def test_school_weeks_leave_out_weeks_without_a_school_day() -> None:
    assert school_weeks_between(date(2026, 10, 12), date(2026, 11, 8)) == 4
    assert school_weeks_between(date(2026, 10, 12), date(2026, 11, 8), AUTUMN) == 3
    assert AUTUMN.school_weeks_between(date(2026, 11, 8), date(2026, 10, 12)) == 0


def test_the_workload_windows_skip_a_holiday_week() -> None:
    today = date(2026, 11, 6)  # Friday after half term
    assert [WEEKDAYS_ONLY.school_window_index(today, k) for k in range(4)] == [0, 1, 2, 3]
    # Window 1 (24-30 Oct) is half term: it joins the newer window.
    assert [AUTUMN.school_window_index(today, k) for k in range(4)] == [0, 0, 1, 2]
    assert AUTUMN.windows_for_school_weeks(today, 3) == 4
    assert WEEKDAYS_ONLY.windows_for_school_weeks(today, 3) == 3


def test_details_round_trip() -> None:
    again = SchoolCalendar.from_details(AUTUMN.to_details())
    assert again == AUTUMN
    assert SchoolCalendar.from_details(None) is WEEKDAYS_ONLY


def test_the_example_csv_reads_without_problems() -> None:
    text = (assets_dir() / "calendar-example.csv").read_text(encoding="utf-8")
    entries, problems = parse_csv(text)
    assert problems == []
    calendar = SchoolCalendar(tuple(entries))
    assert not calendar.is_school_day(date(2026, 9, 2))  # INSET
    assert calendar.is_school_day(date(2026, 9, 3))


def test_csv_rows_with_problems_are_reported_by_line() -> None:
    text = "date,kind,name\n2026-11-27,inset,Training\n31/02/2026,holiday,X\n2026-12-01,party,Y\n"
    entries, problems = parse_csv(text)
    assert [e.kind for e in entries] == ["inset"]
    assert [p.line for p in problems] == [3, 4]
    assert "not a date" in problems[0].reason
    assert "party" in problems[1].reason


def test_a_semicolon_csv_is_told_to_use_commas() -> None:
    with pytest.raises(InvalidInput, match="use commas"):
        parse_csv("start;end;kind;name\n2026-09-03;2026-12-18;term;Autumn\n")


ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20261026\r
DTEND;VALUE=DATE:20261031\r
SUMMARY:October Half Term\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20261127\r
DTEND;VALUE=DATE:20261128\r
SUMMARY:INSET Day - school closed\r
  to pupils\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20260902\r
DTEND;VALUE=DATE:20261219\r
SUMMARY:Autumn Term\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART:20261112T180000Z\r
DTEND:20261112T200000Z\r
SUMMARY:Parents' evening\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_ics_file_gives_the_same_calendar_as_written_by_hand() -> None:
    entries, problems = parse_ics(ICS)
    assert SchoolCalendar(tuple(entries)).entries == tuple(
        CalendarEntry(e.start, e.end, e.kind, n)
        for e, n in zip(
            AUTUMN.entries,
            ["Autumn Term", "October Half Term", "INSET Day - school closed to pupils"],
            strict=True,
        )
    )
    assert len(problems) == 1 and "Parents' evening" in problems[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/12/2026", date(2026, 12, 5)),
        ("2026-12-05", date(2026, 12, 5)),
        ("5/12", date(2026, 12, 5)),
        ("5.12.26", date(2026, 12, 5)),
        ("5 Dec 2026", date(2026, 12, 5)),
        ("Sat 5 December", date(2026, 12, 5)),
        ("tomorrow", date(2026, 12, 7)),
    ],
)
def test_dates_as_the_screens_take_them(text: str, expected: date) -> None:
    assert parse_date(text, today=date(2026, 12, 6)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12/31/2026", "day comes first"),
        ("31/02/2026", "not a date in the calendar"),
        ("next week", "not a date"),
        ("5 Decmber", "not a month"),
        ("", "no date"),
    ],
)
def test_dates_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text, today=date(2026, 12, 6))


def test_what_a_new_calendar_drops_from_the_one_in_force() -> None:
    spring = CalendarEntry(date(2027, 1, 5), date(2027, 3, 26), "term", "Spring term")
    new = SchoolCalendar((spring,))
    dropped = AUTUMN.not_in(new)
    assert dropped == AUTUMN.entries and spring not in dropped
    assert SchoolCalendar((*AUTUMN.entries, spring)).not_in(AUTUMN) == (spring,)
    assert AUTUMN.not_in(AUTUMN) == () and WEEKDAYS_ONLY.not_in(new) == ()


def test_keeping_a_device_longer_suggests_the_next_school_day() -> None:
    london = ZoneInfo("Europe/London")
    friday = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)  # before half term, 15:00 in London
    due_friday = datetime(2026, 10, 23, 15, 0, tzinfo=UTC)
    # Due today: the school day after it, Monday 2 November (not the half-term Monday).
    assert suggested_extension(due_friday, friday, london, AUTUMN) == (
        datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    )
    assert suggested_extension(due_friday, friday, london) == (
        datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    )
    # Due later than now: the school day after it is due (Thursday before the INSET day).
    due_thursday = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    assert suggested_extension(due_thursday, friday, london, AUTUMN) == (
        datetime(2026, 11, 30, 8, 30, tzinfo=UTC)
    )
    # Overdue since Wednesday: the school day after today.
    overdue = datetime(2026, 10, 21, 7, 30, tzinfo=UTC)
    assert suggested_extension(overdue, friday, london, AUTUMN) == (
        datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("summary", "name"),
    [
        # ❄️ as Google and Outlook write it: the snowflake and VARIATION SELECTOR-16
        ("\u2744\ufe0f Snow day - school closed", "\u2744 Snow day - school closed"),
        # a family: three people joined by ZERO WIDTH JOINERs, each may carry a selector
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467 Family holiday",
            "\U0001f468\U0001f469\U0001f467 Family holiday",
        ),
        ("\U0001f441\ufe0f\u200d\U0001f5e8\ufe0f INSET day", "\U0001f441\U0001f5e8 INSET day"),
    ],
)
def test_an_ics_name_with_emoji_is_read_without_their_joiners(summary: str, name: str) -> None:
    # The whole import was refused ("invisible" characters), or with --skip-invalid the
    # closure was dropped: the snow day counted as a school day, overdue notices went out.
    ics = ICS.replace("SUMMARY:October Half Term", f"SUMMARY:{summary}")
    entries, problems = parse_ics(ics)
    assert name in [entry.name for entry in entries]
    assert [p.reason for p in problems if p.blocking] == []


@pytest.mark.parametrize(
    ("summary", "name"),
    [
        # a keycap: a digit, VARIATION SELECTOR-16 and COMBINING ENCLOSING KEYCAP
        ("1\ufe0f\u20e3 First day of term", "1\u20e3 First day of term"),
        # a selector after a punctuation mark or a symbol that is an emoji with it
        ("\u203c\ufe0f INSET day", "\u203c INSET day"),
        ("\u2194\ufe0f Swap day holiday", "\u2194 Swap day holiday"),
    ],
)
def test_an_ics_name_with_a_keycap_or_a_punctuation_emoji_is_read(summary: str, name: str) -> None:
    # Refused naming "VARIATION SELECTOR-16", which an office will not understand.
    ics = ICS.replace("SUMMARY:October Half Term", f"SUMMARY:{summary}")
    entries, problems = parse_ics(ics)
    assert name in [entry.name for entry in entries], problems
    assert [p.reason for p in problems if p.blocking] == []


@pytest.mark.parametrize(
    "summary",
    [
        # England's and Wales's flags: a black flag and invisible "tag" letters
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f Day holiday",
        "Wales \U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f v holiday",
    ],
)
def test_an_emoji_the_register_cannot_store_is_refused_saying_what_to_do(summary: str) -> None:
    _, problems = parse_ics(ICS.replace("SUMMARY:October Half Term", f"SUMMARY:{summary}"))
    reasons = [p.reason for p in problems if p.blocking]
    assert len(reasons) == 1, problems
    assert "an emoji the register cannot store" in reasons[0], reasons
    assert "remove it and import again" in reasons[0], reasons
    assert "VARIATION SELECTOR" not in reasons[0] and "TAG" not in reasons[0], reasons


@pytest.mark.parametrize(
    "summary", ["Snow\ufe0f day holiday", "Ben\u200dJones holiday", "\u2744\u202e holiday"]
)
def test_an_ics_name_with_a_selector_or_joiner_off_an_emoji_is_refused(summary: str) -> None:
    _, problems = parse_ics(ICS.replace("SUMMARY:October Half Term", f"SUMMARY:{summary}"))
    assert [p.blocking for p in problems if "invisible" in p.reason] == [True]


def test_an_ics_event_never_ended_is_said_not_dropped() -> None:
    # A VEVENT left without its END:VEVENT (a file edited by hand, cut short) was dropped
    # without a word when the next one began, or when the file ended: the half term went
    # and the import said only what it read.
    text = (
        "BEGIN:VCALENDAR\r\n"
        "BEGIN:VEVENT\r\n"
        "DTSTART;VALUE=DATE:20261026\r\n"
        "DTEND;VALUE=DATE:20261031\r\n"
        "SUMMARY:October half term\r\n"
        "BEGIN:VEVENT\r\n"
        "DTSTART;VALUE=DATE:20261106\r\n"
        "DTEND;VALUE=DATE:20261107\r\n"
        "SUMMARY:INSET day\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\n"
        "DTSTART;VALUE=DATE:20261221\r\n"
        "SUMMARY:Christmas holiday\r\n"
        "END:VCALENDAR\r\n"
    )
    entries, problems = parse_ics(text)
    assert [e.name for e in entries] == ["INSET day"]
    said = [(p.line, p.reason, p.blocking) for p in problems]
    assert said == [
        (2, "October half term: has no END:VEVENT before line 6: not read", True),
        (11, "Christmas holiday: has no END:VEVENT before the end of the file: not read", True),
    ]
