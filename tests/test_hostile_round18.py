"""Round 18 of the hostile-text red team: files that come in (a school's calendar feed)."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.services.app import Services
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def _ics(*events: tuple[str, str]) -> bytes:
    """An iCalendar file of all-day events, each given as its date lines and its title."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for dates, summary in events:
        lines += ["BEGIN:VEVENT", *dates.split("|"), f"SUMMARY:{summary}", "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


HALF_TERM = ("DTSTART;VALUE=DATE:20261026|DTEND;VALUE=DATE:20261031", "October half term")


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART;VALUE=DATE:20261332",  # no 13th month
        "DTSTART;VALUE=DATE:20260230",  # no 30 February
        "DTSTART;VALUE=DATE:00000101",  # no year 0
        "DTSTART;VALUE=DATE:20261201|DTEND;VALUE=DATE:20261299",
        "DTSTART;VALUE=DATE:00010101|DTEND;VALUE=DATE:00010101",  # the day before: none
        "DTSTART;VALUE=DATE:99991231|DURATION:P5D",  # past the last date
        "DTSTART;VALUE=DATE:20261201|DURATION:P99999999999D",
    ],
)
def test_an_ics_event_with_a_date_that_is_not_one_is_a_line_with_a_problem(
    school: Services, dates: str
) -> None:
    """One event of a feed with a date no calendar has (a typo, a "forever" end) stopped the
    whole import with "something unexpected went wrong (ValueError: month must be in
    1..12)", naming no line, --skip-invalid or not: the school could not import its calendar
    at all. Now it is that event's line with a problem, as in a CSV file."""
    data = _ics(HALF_TERM, (dates, "INSET day"))
    report = school.school.import_calendar("feed.ics", data)
    assert not report.imported
    [problem] = report.problems
    assert problem.blocking
    assert problem.line == 8 and problem.reason.startswith("INSET day: ")
    assert "date" in problem.reason
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert not school.school.is_school_day(date(2026, 10, 27))
