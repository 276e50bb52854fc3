"""Round 18's review: what a school's calendar file, roster or template could still do past
this round's fixes."""

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


_LONG = "x" * 140_000  # past Python's CSV field limit (131,072 characters)


@pytest.mark.parametrize("cell", [_LONG, f'"{_LONG}"'], ids=["unquoted", "quoted"])
def test_a_calendar_csv_line_too_long_to_read_leaves_the_lines_after_it_read(
    school: Services, cell: str
) -> None:
    """An INSET day with a notes cell pasted from a document (140 KB): the import stopped
    reading at that line. With --skip-invalid, Christmas and February half term after it
    were never read, and only the INSET day's line was named: both counted as school days
    (overdue notices sent over Christmas). Now the lines after it are read, and the line
    says what to do."""
    data = (
        "start,end,kind,name,notes\n"
        "2026-10-26,2026-10-30,holiday,October half term,\n"
        f"2026-11-02,,inset,INSET day,{cell}\n"
        "2026-12-21,2027-01-01,holiday,Christmas,\n"
        "2027-02-15,2027-02-19,holiday,February half term,\n"
    ).encode()
    report = school.school.import_calendar("calendar.csv", data, skip_invalid=True)
    assert report.imported
    [problem] = report.problems
    assert problem.line == 3
    assert problem.reason == "a cell is longer than 131,072 characters: shorten it"
    assert not school.school.is_school_day(date(2026, 12, 22))
    assert not school.school.is_school_day(date(2027, 2, 16))


def test_a_roster_line_too_long_to_read_leaves_the_lines_after_it_read(school: Services) -> None:
    """The roster import had the same copy of the loop: a long cell on one line left every
    later person out, unnamed."""
    roster = (
        f"code,name,email\nNNEW,Nia New,\nONEW,Oli New,{_LONG}\nPNEW,Pip New,\nQNEW,Quin New,\n"
    ).encode()
    report = school.people.import_staff_csv(roster, skip_invalid=True)
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "a cell is longer than 131,072 characters: shorten it")
    ]
    codes = {p.code for p in school.people.list_staff()}
    assert {"NNEW", "PNEW", "QNEW"} <= codes


def _ics(*events: tuple[str, str]) -> bytes:
    """An iCalendar file, each event given as its date lines and its title."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for dates, summary in events:
        lines += ["BEGIN:VEVENT", *dates.split("|"), f"SUMMARY:{summary}", "END:VEVENT"]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


_AUTUMN = ("DTSTART;VALUE=DATE:20260902|DTEND;VALUE=DATE:20261219", "Autumn term")


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART:20261102T000000|DTEND:20261103T000000",
        "DTSTART:20261102T000000Z|DTEND:20261103T000000Z",
        "DTSTART;TZID=Europe/London:20261102T000000|DTEND;TZID=Europe/London:20261103T000000",
    ],
)
def test_an_ics_inset_day_from_midnight_to_midnight_is_one_day(
    school: Services, dates: str
) -> None:
    """A one-day INSET day on a Monday written midnight to midnight (DTEND the next day at
    T000000, as some calendars write all-day events): the end was read as a day off too, so
    Tuesday was no school day (a laptop due back "next school day" skipped it, its reminders
    not sent). An end at midnight is the day after the last, as a date is."""
    report = school.school.import_calendar("feed.ics", _ics(_AUTUMN, (dates, "INSET day")))
    assert report.imported and report.problems == ()
    assert not school.school.is_school_day(date(2026, 11, 2))
    assert school.school.is_school_day(date(2026, 11, 3))


def test_an_ics_duration_of_thousands_of_digits_is_its_events_problem(school: Services) -> None:
    """DURATION:P, 5,000 digits, D: past the digits int() reads (4,300), a ValueError no one
    caught: the whole import stopped with "something unexpected went wrong (ValueError...)",
    naming no line. Now it is that event's line, saying what to do."""
    data = _ics(_AUTUMN, ("DTSTART;VALUE=DATE:20261102|DURATION:P" + "9" * 5000 + "D", "INSET"))
    report = school.school.import_calendar("feed.ics", data)
    assert not report.imported
    [problem] = report.problems
    assert problem.blocking and problem.line == 8
    assert "DURATION" in problem.reason and "give it a DTEND" in problem.reason
    assert len(problem.reason) < 200


@pytest.mark.parametrize("duration", ["P1W", "P7D", "+P1W"])
def test_an_ics_half_term_a_week_long_is_the_whole_week(school: Services, duration: str) -> None:
    """A week's half term written DURATION:P1W (weeks): only days (P7D) were read, so it
    went in as its first day alone and the rest of the week were school days (laptops due
    back, reminders sent to staff on holiday)."""
    data = _ics(_AUTUMN, (f"DTSTART;VALUE=DATE:20261026|DURATION:{duration}", "Half term"))
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported and report.problems == ()
    assert not school.school.is_school_day(date(2026, 10, 30))
    assert school.school.is_school_day(date(2026, 11, 2))


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART;TZID=Europe/London:20261102T083000|DTEND;TZID=Europe/London:20261102T153000",
        "DTSTART:20261102T083000Z|DURATION:PT7H",
        "DTSTART:20261102T000000|DTEND:20261102T170000",
    ],
)
def test_an_ics_inset_day_written_as_the_pupils_day_is_a_problem(
    school: Services, dates: str
) -> None:
    """An INSET day written 08:30 to 15:30 (the school day, as times) was left out as "at a
    time of day", not stopping the import: the day was a school day, laptops due back on it
    and their reminders sent. It is a line with a problem now, saying what to do."""
    data = _ics(_AUTUMN, (dates, "INSET day"))
    report = school.school.import_calendar("feed.ics", data)
    assert not report.imported
    [problem] = report.problems
    assert problem.blocking and problem.line == 8
    assert "make it all-day" in problem.reason


@pytest.mark.parametrize(
    "dates",
    [
        "DTSTART:20261102T153000|DTEND:20261102T173000",  # after school
        "DTSTART:20261102T083000|DTEND:20261102T103000",  # a morning's training
        "DTSTART:20261102T120000|DTEND:20261102T170000",  # the afternoon
        "DTSTART:20261102T090000",  # no end: no length
    ],
)
def test_an_ics_inset_event_short_or_after_school_is_still_left_out(
    school: Services, dates: str
) -> None:
    data = _ics(_AUTUMN, (dates, "INSET: safeguarding"))
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported
    [problem] = report.problems
    assert not problem.blocking and "time of day" in problem.reason
    assert school.school.is_school_day(date(2026, 11, 2))


def test_a_template_not_utf8_is_named_by_the_file_read(services: Services, tmp_path: Path) -> None:
    """device_due.txt in UTF-8 includes footer.txt, saved in Notepad as "ANSI": the
    message named device_due.txt, and the office opened a file that was right. Now it names
    footer.txt."""
    (tmp_path / "device_due.txt").write_text(
        'Subject: Laptop due back\n{{ name }}\n{% include "footer.txt" %}\n', encoding="utf-8"
    )
    (tmp_path / "footer.txt").write_bytes(b"The office \x96 ext. 201\n")
    templates = Templates(replace(services.settings, notice_templates=str(tmp_path)))
    with pytest.raises(InvalidInput) as refused:
        templates.render(
            "device_due",
            {"name": "Ben", "device": "LAP-001", "description": "", "since": "", "due": ""},
        )
    assert refused.value.message.startswith("The notice template footer.txt is not UTF-8 text")


def test_who_logged_a_phone_is_told_by_the_person_not_by_the_name(school: Services) -> None:
    """Who logged a phone in was told from the person by comparing names, in four places: a
    namesake whose name reads the same but is written otherwise ("CAROL head") was shown
    without her code, as if "Carol Head" had logged her own phone with a typo; the
    sign-out list, a screen away, told them apart as the same name. Now "someone else" is
    by id, and the name as read (``name_key``) decides when the code is shown."""
    school.people.add_staff(
        "CHEAD2", "CAROL head", roles=["breakfast_club_lead"], admin_code="CHEAD"
    )
    school.phones.deposit("CHEAD", BREAKFAST_DRAWER_STORE, recorded_by="CHEAD2")
    held = school.people.status("CHEAD").phone
    assert held is not None and held.recorded_by == "CAROL head (CHEAD2)"
    done = school.scans.phone_in_or_out("SRK1:S:CHEAD")
    assert done.receipt is not None
    assert done.note == ("It had been logged in for you by CAROL head (CHEAD2).",)
    # Her own deposit: nobody else logged it.
    school.phones.deposit("CHEAD")
    held = school.people.status("CHEAD").phone
    assert held is not None and held.recorded_by is None


def test_calendar_import_help_says_which_ics_events_are_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kiosk calendar import --help` said only "all-day events ... other events are listed
    and left out": nothing of cancelled events, of times of day, or of repeating events,
    which stop the import."""
    from kiosk.cli import main

    with pytest.raises(SystemExit):
        main(["calendar", "import", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "cancelled" in said and "a time of day" in said
    assert "make it all-day" in said
    assert "repeats (RRULE, RDATE) is a line with a problem" in said


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("environment", "idle_timeout", "1"),
        ("environment", "admin_idle_timeout", "0"),
        ("file", "idle_timeout", "2"),
        ("file", "admin_idle_timeout", "0"),
    ],
)
def test_an_idle_timeout_under_five_seconds_is_refused_however_it_is_given(
    tmp_path: Path, where: str, key: str, value: str
) -> None:
    """`kiosk config set idle_timeout 1` is refused (at least 5 seconds), but the same in the
    config file or the environment was taken: each staff screen went home before anyone
    could read it, and admin_idle_timeout = 0 was a console that never locked."""
    from kiosk.config import ConfigError, load_settings

    path = tmp_path / "config.toml"
    env = {"KIOSK_CONFIG": str(path)}
    if where == "file":
        path.write_text(f"{key} = {value}\n", encoding="utf-8")
    else:
        env[f"KIOSK_{key.upper()}"] = value
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert f"{key} (" in str(refused.value)
    assert "must be at least 5 seconds" in str(refused.value)
    path.write_text(f"{key} = 5\n", encoding="utf-8")
    assert getattr(load_settings({"KIOSK_CONFIG": str(path)}), key) == 5
