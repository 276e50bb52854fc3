"""Round 18 of the hostile-text red team: files that come in (a school's calendar feed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import BREAKFAST_DRAWER_STORE
from kiosk.services.app import Services
from kiosk.services.notices import Templates
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def _ics(*events: tuple[str, str]) -> bytes:
    """An iCalendar file of all-day events, each given as its date lines and its title."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for dates, summary in events:
        lines += ["BEGIN:VEVENT", *dates.split("|"), *f"SUMMARY:{summary}".split("|"), "END:VEVENT"]
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


def test_a_calendar_csv_line_too_long_to_read_is_a_line_with_a_problem(school: Services) -> None:
    """A calendar CSV with a cell over Python's CSV field limit (128 KB: a notes column
    pasted from a document) stopped the import with "something unexpected went wrong
    (Error: field larger than field limit (131072))". Now that line has the problem, as a
    roster's does, and the lines before it are read."""
    data = (
        "start,end,kind,name,notes\n"
        "2026-10-26,2026-10-30,holiday,October half term,\n"
        f'2026-12-21,2027-01-01,holiday,Christmas,"{"x" * 140_000}"\n'
    ).encode()
    report = school.school.import_calendar("calendar.csv", data)
    assert not report.imported
    [problem] = report.problems
    assert problem.blocking and problem.line == 3
    assert "a cell is longer than" in problem.reason
    report = school.school.import_calendar("calendar.csv", data, skip_invalid=True)
    assert report.imported
    assert not school.school.is_school_day(date(2026, 10, 27))


def test_a_phone_logged_in_by_a_namesake_says_who_logged_it(school: Services) -> None:
    """Two people called Carol Head; the second, running breakfast club, logs the first's
    phone into the drawer. Who logged a phone was told from the person by name: her screen
    said nothing of it ("logged by" left out, as for her own deposit), nor did the
    collection's confirmation ("It had been logged in for you by ..."). Now the other Carol
    Head is named, with her code."""
    school.people.add_staff(
        "CHEAD2", "Carol Head", roles=["breakfast_club_lead"], admin_code="CHEAD"
    )
    school.phones.deposit("CHEAD", BREAKFAST_DRAWER_STORE, recorded_by="CHEAD2")
    held = school.people.status("CHEAD").phone
    assert held is not None
    assert held.recorded_by == "Carol Head (CHEAD2)"
    done = school.scans.phone_in_or_out("SRK1:S:CHEAD")
    assert done.receipt is not None
    assert done.note == ("It had been logged in for you by Carol Head (CHEAD2).",)
    # Her own deposit: nobody else is named.
    school.phones.deposit("CHEAD")
    held = school.people.status("CHEAD").phone
    assert held is not None and held.recorded_by is None
    assert school.scans.phone_in_or_out("SRK1:S:CHEAD").note == ()


def test_a_cancelled_ics_event_is_left_out_not_a_closure(school: Services) -> None:
    """A school's feed keeps an INSET day it called off, marked STATUS:CANCELLED (as
    Google's and Outlook's calendars write it). It went in as an INSET day: that Monday was
    no school day, so a laptop due back "next school day" was due on the Tuesday and the
    day's reminders were not sent, though pupils and staff were in. Now a cancelled event
    is listed as left out, as a parents' evening is."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term"),
        HALF_TERM,
        ("DTSTART;VALUE=DATE:20261102|DTEND;VALUE=DATE:20261103|STATUS:CANCELLED", "INSET day"),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported
    assert school.school.is_school_day(date(2026, 11, 2))
    assert not school.school.is_school_day(date(2026, 10, 27))
    [problem] = report.problems
    assert not problem.blocking
    assert "INSET day" in problem.reason and "cancelled" in problem.reason


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART:20261104T153000|DTEND:20261104T173000",
        "DTSTART;TZID=Europe/London:20261104T153000|DTEND;TZID=Europe/London:20261104T173000",
        "DTSTART:20261104T153000Z|DURATION:PT2H",
    ],
)
def test_an_ics_event_at_a_time_of_day_is_left_out_not_a_day_off(
    school: Services, dates: str
) -> None:
    """A "Twilight INSET" from 15:30 to 17:30, after the pupils have gone home, was read as
    an INSET day (only the date of its start was read): the day was no school day, so a
    laptop due back "next school day" skipped it and its reminders were not sent. The
    import reads all-day events (README); one at a time of day is now listed as left out."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term"),
        HALF_TERM,
        (dates, "Twilight INSET: safeguarding"),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported
    assert school.school.is_school_day(date(2026, 11, 4))
    assert not school.school.is_school_day(date(2026, 10, 27))
    [problem] = report.problems
    assert not problem.blocking and "time of day" in problem.reason


def test_an_ics_all_day_event_written_from_midnight_to_midnight_is_still_read(
    school: Services,
) -> None:
    # Some calendars write an all-day event as midnight to midnight: still a day off.
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term"),
        ("DTSTART:20261026T000000|DTEND:20261031T000000", "October half term"),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported and report.problems == ()
    assert not school.school.is_school_day(date(2026, 10, 30))


def test_an_ics_event_that_repeats_is_a_problem_not_its_first_day_alone(school: Services) -> None:
    """A feed's Christmas Day set to repeat every year (RRULE) from 2019: only its first
    day was read (25 December 2019), and the repeats in term time were school days (laptops
    due back, reminders sent). The import does not read repeats: the event is a line with a
    problem, saying so."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term"),
        HALF_TERM,
        (
            "DTSTART;VALUE=DATE:20191225|DTEND;VALUE=DATE:20191226|RRULE:FREQ=YEARLY",
            "Christmas Day bank holiday",
        ),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert not report.imported
    [problem] = report.problems
    assert problem.blocking and "repeats" in problem.reason


def test_an_ics_events_reminder_does_not_stand_in_for_its_title(school: Services) -> None:
    """Google Calendar writes an e-mail reminder inside its event (BEGIN:VALARM ...
    SUMMARY:Alarm notification ... END:VALARM). The reminder's SUMMARY was read as the
    event's: "October half term" became "Alarm notification", no term, holiday or INSET
    day, and was left out, so the week was school days. Now only the event's own lines are
    read."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term"),
        (
            "DTSTART;VALUE=DATE:20261026|DTEND;VALUE=DATE:20261031",
            "October half term|BEGIN:VALARM|ACTION:EMAIL|DESCRIPTION:This is an event "
            "reminder|SUMMARY:Alarm notification|TRIGGER:-P0DT0H30M0S|DURATION:PT15M|"
            "REPEAT:1|END:VALARM",
        ),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported and report.problems == ()
    assert not school.school.is_school_day(date(2026, 10, 27))
    [half_term] = [e for e in school.school.calendar().entries if e.kind == "holiday"]
    assert half_term.name == "October half term"


def test_a_calendar_files_name_carries_no_override_into_the_register(school: Services) -> None:
    """A calendar downloaded as "Term dates" U+202E "scv.2026": the file's name, kept as
    the calendar's source, went into the register as it was, and the CSV export carried the
    override to Excel, which draws the name reversed. Names and reasons are refused such
    characters where they come in; a file's name is now kept with each one as "�"."""
    import io

    name = "Term dates \u202escv.2026"
    data = b"start,end,kind,name\n2026-10-26,2026-10-30,holiday,October half term\n"
    report = school.school.import_calendar(name, data)
    assert report.imported
    assert school.school.calendar().source == "Term dates \ufffdscv.2026"
    out = io.StringIO()
    school.register.export_csv(out, date(2026, 1, 1), date(2027, 12, 31))
    assert "\u202e" not in out.getvalue()
    assert "Term dates \ufffdscv.2026" in out.getvalue()


@pytest.mark.parametrize("kind", ["device_due.txt", "device_due.html"])
def test_a_notice_template_saved_in_another_encoding_is_refused_naming_it(
    services: Services, tmp_path: Path, kind: str
) -> None:
    """A school's template edited in Notepad and saved as "ANSI" (Windows-1252: an en dash is
    byte 0x96): `kiosk notify` stopped with "something unexpected went wrong
    (UnicodeDecodeError: 'utf-8' codec can't decode byte 0x96 ...)", naming no file. Now it
    is refused as every unusable template is: by name, saying what to do."""
    (tmp_path / kind).write_bytes(b"Subject: Laptop due back \x96 tomorrow\n{{ name }}\n")
    templates = Templates(replace(services.settings, notice_templates=str(tmp_path)))
    with pytest.raises(InvalidInput) as refused:
        templates.render(
            "device_due",
            {"name": "Ben", "device": "LAP-001", "description": "", "since": "", "due": ""},
        )
    said = refused.value.message
    assert said.startswith(f"The notice template {kind} is not UTF-8 text")
    assert "nothing was sent" in said


def test_an_ics_problem_names_the_line_of_the_file(school: Services) -> None:
    """Calendars fold long lines (a DESCRIPTION over 75 characters goes on, on lines that
    start with a space). A problem named the line counted with those joined up: "line 9"
    for an event that starts on line 13 of the file, so the office looked at another
    event. Now it is the line of the file."""
    description = "DESCRIPTION:The school is closed to pupils" + "\r\n more words" * 4
    data = _ics(
        (
            "DTSTART;VALUE=DATE:20261026|DTEND;VALUE=DATE:20261031|" + description,
            "October half term",
        ),
        ("DTSTART;VALUE=DATE:20261332", "INSET day"),
    )
    lines = data.decode().split("\r\n")
    assert lines[12] == "BEGIN:VEVENT"  # line 13 of the file
    report = school.school.import_calendar("feed.ics", data)
    [problem] = report.problems
    assert problem.line == 13
