"""Round 19 of the typing and hostile-text red team."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.services.app import Services
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def _ics(*events: tuple[str, ...]) -> bytes:
    """An iCalendar file of events, each given as its lines."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for event in events:
        lines += ["BEGIN:VEVENT", *event, "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def test_an_ics_line_is_read_as_written_quoted_parameters_and_escapes_included(
    school: Services,
) -> None:
    """A parameter's value may hold a colon when quoted (RFC 5545: an ALTREP address, a
    TZID or an X- parameter a calendar adds). The import split each line at its first
    colon: "Christmas holiday" went into the register as '//school.example/hols":Christmas
    holiday', and an INSET day whose DTSTART carried such a parameter was refused as "not a
    date". An escaped backslash before an "n" ("Half term\\\\new timetable") was read as a
    backslash and a line break, "Half term\\ ew timetable". Now a line is split at its
    first colon outside quotes, and escapes are read left to right."""
    data = _ics(
        (
            "DTSTART;VALUE=DATE:20261221",
            "DTEND;VALUE=DATE:20270102",
            'SUMMARY;ALTREP="https://school.example/hols";LANGUAGE=en-GB:Christmas holiday',
        ),
        (
            "DTSTART;VALUE=DATE:20270215",
            "DTEND;VALUE=DATE:20270220",
            "SUMMARY:Half term\\\\new timetable\\, week B\\nall day",
        ),
        (
            'DTSTART;X-NOTE="agreed: governors";VALUE=DATE:20270301',
            'SUMMARY;X-SOURCE="a:b":INSET day',
        ),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.problems == ()
    assert report.imported
    names = {entry.start: entry.name for entry in school.school.calendar().entries}
    assert names == {
        date(2026, 12, 21): "Christmas holiday",
        date(2027, 2, 15): "Half term\\new timetable, week B all day",
        date(2027, 3, 1): "INSET day",
    }
    assert not school.school.is_school_day(date(2027, 3, 1))
