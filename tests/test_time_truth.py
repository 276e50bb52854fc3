"""Times and dates that must say what truly happened, and typed input that must never record
what was not meant: clock changes, weekdays that contradict dates, kiosks whose clocks differ."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.dates import parse_date
from kiosk.domain.errors import InvalidInput
from kiosk.domain.timeutil import format_local
from kiosk.domain.when import parse_day, parse_when, when_in_words
from kiosk.services.app import Services
from kiosk.ui.formats import clock_time, day_and_time, since
from tests.conftest import FakeClock
from tests.school import make_school

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)  # Tuesday 10 March 2026, 08:05 in London


# --- the clocks go back: 01:00-01:59 happens twice on Sunday 25 October 2026 ---------------


@pytest.mark.parametrize("typed", ["25/10/2026 01:30", "25 Oct 1:30am", "25/10 01:00"])
def test_a_time_that_happens_twice_is_not_guessed(typed: str) -> None:
    """01:30 on 25 October is 00:30 UTC (BST) and 01:30 UTC (GMT): an hour apart. Taking the
    first silently recorded an expected return the person may not have meant."""
    with pytest.raises(InvalidInput, match="happens twice on Sun 25 Oct"):
        parse_when(typed, now=NOW, zone=LONDON)


def test_the_hours_around_the_repeated_one_are_read() -> None:
    assert parse_when("25/10 00:59", now=NOW, zone=LONDON) == datetime(
        2026, 10, 24, 23, 59, tzinfo=UTC
    )
    assert parse_when("25/10 02:00", now=NOW, zone=LONDON) == datetime(
        2026, 10, 25, 2, 0, tzinfo=UTC
    )


# --- a weekday typed with a date must be that date's weekday -------------------------------


@pytest.mark.parametrize(
    "typed",
    ["Fri 12/03", "Fri 12 Mar 15:30", "Friday 12/03/2026", "Mon 2026-03-17"],
)
def test_a_weekday_that_contradicts_the_date_is_refused(typed: str) -> None:
    """12 March 2026 is a Thursday: "Fri 12/03" was recorded as Thursday 12 March, though the
    person may have meant Friday 13th."""
    with pytest.raises(InvalidInput, match=r"is a (Thursday|Tuesday), not a (Friday|Monday)"):
        parse_when(typed, now=NOW, zone=LONDON)


def test_a_weekday_that_agrees_with_the_date_is_read() -> None:
    assert parse_when("Thu 12/03 15:30", now=NOW, zone=LONDON) == datetime(
        2026, 3, 12, 15, 30, tzinfo=UTC
    )
    assert parse_when("Sat 5 Dec", now=NOW, zone=LONDON) == datetime(2026, 12, 5, 8, 30, tzinfo=UTC)


def test_a_day_typed_in_the_past_or_in_the_console_is_checked_too() -> None:
    today = date(2026, 3, 10)
    with pytest.raises(InvalidInput, match="is a Thursday, not a Friday"):
        parse_day("Fri 5 Mar", today=today)  # the VDU training date
    assert parse_day("Thu 5 Mar", today=today) == date(2026, 3, 5)
    with pytest.raises(ValueError, match="is a Saturday, not a Friday"):
        parse_date("Fri 5 Dec 2026", today=today)  # the console's register day, the CLI
    assert parse_date("Sat 5 Dec 2026", today=today) == date(2026, 12, 5)


# --- a time shown in the hour the clocks go back says which of the two it is ----------------


def test_a_time_in_the_repeated_hour_is_shown_with_its_zone() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT, an hour later
    assert format_local(first, LONDON) == "01:30 BST"
    assert format_local(second, LONDON) == "01:30 GMT"
    assert format_local(second, LONDON, "%a %d %b %Y %H:%M") == "Sun 25 Oct 2026 01:30 GMT"
    assert day_and_time(first, LONDON) == "Sun 25 Oct 01:30 BST"
    assert clock_time(second, LONDON) == "01:30 GMT"
    assert since(first, second, LONDON) == "01:30 BST"
    assert when_in_words(first, now=NOW, zone=LONDON) == "Sunday 25 October at 01:30 BST"
    # Any other time, and a date alone, as before.
    assert format_local(datetime(2026, 10, 25, 2, 30, tzinfo=UTC), LONDON) == "02:30"
    assert format_local(first, LONDON, "%a %d %b %Y") == "Sun 25 Oct 2026"


# --- a time that reads as the small hours or the afternoon is not guessed -----------------


@pytest.mark.parametrize("typed", ["Fri 3:30", "tomorrow 4.15", "12/03 6:00", "Fri 1:05"])
def test_a_one_digit_afternoon_hour_is_not_read_as_the_night(typed: str) -> None:
    """ "Fri 3:30" was recorded as 03:30 on Friday morning: in the staff room "half three" is
    the afternoon, and the laptop was overdue from the small hours."""
    with pytest.raises(
        InvalidInput, match=r"could be 0\d:\d\d or 1\d:\d\d: type 1\d:\d\d \(or \d:\d\dpm\)"
    ):
        parse_when(typed, now=NOW, zone=LONDON)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Fri 03:30", datetime(2026, 3, 13, 3, 30, tzinfo=UTC)),  # written as a 24-hour time
        ("Fri 3:30am", datetime(2026, 3, 13, 3, 30, tzinfo=UTC)),
        ("Fri 3:30pm", datetime(2026, 3, 13, 15, 30, tzinfo=UTC)),
        ("Fri 15:30", datetime(2026, 3, 13, 15, 30, tzinfo=UTC)),
        ("Fri 3pm", datetime(2026, 3, 13, 15, 0, tzinfo=UTC)),
        ("Fri 7:45", datetime(2026, 3, 13, 7, 45, tzinfo=UTC)),  # the school day's morning
        ("Fri 9.00", datetime(2026, 3, 13, 9, 0, tzinfo=UTC)),
    ],
)
def test_times_that_say_which_half_of_the_day_are_read(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, zone=LONDON) == expected


# --- "10.12": a date with dots, or a time? -----------------------------------------------


@pytest.mark.parametrize(("typed", "day"), [("10.12", "10 December"), ("11.03", "11 March")])
def test_numbers_with_a_dot_that_read_as_a_date_and_as_a_time_are_not_guessed(
    typed: str, day: str
) -> None:
    """ "31.12" was read as 31 December (no time has 31 hours) but "10.12" as 10:12 today:
    a laptop meant to come back on 10 December was due back (and overdue) this morning."""
    with pytest.raises(InvalidInput, match=f"could be {day} or"):
        parse_when(typed, now=NOW, zone=LONDON)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("31.12", datetime(2026, 12, 31, 8, 30, tzinfo=UTC)),  # only a date
        ("15.30", datetime(2026, 3, 10, 15, 30, tzinfo=UTC)),  # only a time
        ("9.00", datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),
        ("10:12", datetime(2026, 3, 10, 10, 12, tzinfo=UTC)),
        ("10/12", datetime(2026, 12, 10, 8, 30, tzinfo=UTC)),
        ("Fri 10.12", datetime(2026, 3, 13, 10, 12, tzinfo=UTC)),  # after a day: a time
        ("10.12 9:00", datetime(2026, 12, 10, 9, 0, tzinfo=UTC)),  # before a time: a date
    ],
)
def test_numbers_with_a_dot_that_read_one_way_only(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, zone=LONDON) == expected


# --- the day register: local days of 23 and 25 hours, midnight, the machine's own zone -------


@pytest.fixture
def machine_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The kiosk machine's own zone is not the school's (a machine set up abroad, or in UTC)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_in_new_york")
def test_guard_each_event_is_on_its_local_day_once(services: Services, clock: FakeClock) -> None:
    """Guard test: the register's days are the school's local days whatever the machine's
    zone: an event at 23:59:59.999999 is on that day, one at 00:00 on the next; the day the
    clocks go forward has 23 hours, the day they go back 25, and no event is lost or shown
    on two days."""
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    make_school(services)
    moments = [
        datetime(2026, 3, 28, 23, 59, 59, 999999, tzinfo=UTC),  # Sat 28 Mar 23:59:59.999999 GMT
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),  # Sun 29 Mar 00:00 GMT
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 00:59 GMT, then the clocks go forward
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 02:00 BST
        datetime(2026, 3, 29, 22, 59, 59, 999999, tzinfo=UTC),  # 23:59:59.999999 BST
        datetime(2026, 3, 29, 23, 0, tzinfo=UTC),  # Mon 30 Mar 00:00 BST
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC),  # Sun 25 Oct 00:00 BST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT
        datetime(2026, 10, 25, 23, 59, 59, 999999, tzinfo=UTC),  # 23:59:59.999999 GMT
        datetime(2026, 10, 26, 0, 0, tzinfo=UTC),  # Mon 26 Oct 00:00 GMT
    ]
    ids = []
    for n, moment in enumerate(moments):
        clock.set(moment)
        code = "ASMITH" if n % 2 == 0 else "EPATEL"
        receipt = services.phones.deposit(code) if n % 4 < 2 else services.phones.collect(code)
        ids.append(receipt.event_id)
    expected = {
        date(2026, 3, 28): ids[0:1],
        date(2026, 3, 29): ids[1:5],
        date(2026, 3, 30): ids[5:6],
        date(2026, 10, 24): [],
        date(2026, 10, 25): ids[6:10],
        date(2026, 10, 26): ids[10:11],
    }
    for day, wanted in expected.items():
        page = services.register.day(day)
        assert [r.event_id for r in page.rows] == wanted, day
        assert [r.occurred_at for r in page.rows] == [moments[ids.index(i)] for i in wanted]
    every = [
        r.event_id for r in services.register.rows_between(date(2026, 3, 28), date(2026, 10, 26))
    ]
    assert [i for i in every if i in ids] == ids  # each once, in order


# --- digits of other scripts ------------------------------------------------------------------


FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))


def test_guard_full_width_and_arabic_indic_digits_are_read_as_their_values() -> None:
    """Guard test: a keyboard in another mode types the same numbers in other digits; they
    are read as those numbers (and the summary shows them back in ASCII digits)."""
    for digits in (FULL_WIDTH, ARABIC_INDIC):
        assert parse_when("12/12 15:30".translate(digits), now=NOW, zone=LONDON) == datetime(
            2026, 12, 12, 15, 30, tzinfo=UTC
        )
        with pytest.raises(InvalidInput, match="could be 03:30 or 15:30"):
            parse_when("Fri 3:30".translate(digits), now=NOW, zone=LONDON)


def test_a_dotted_number_that_may_be_either_half_of_the_day_or_a_date_names_all_three() -> None:
    # "5.12": 05:12, 17:12, or 5 December. The message named the two times only.
    now = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        parse_when("5.12", now=now, zone=ZoneInfo("Europe/London"))
    message = refused.value.message
    assert "05:12" in message and "17:12" in message and "5 December" in message, message
