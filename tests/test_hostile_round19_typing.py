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


def test_who_revoked_an_exemption_is_named_in_the_register_and_must_be_given(
    school: Services,
) -> None:
    """The console's "Revoke" asks who revoked it (the Head Teacher, from the SLT list).
    The register recorded the choice but never showed it: its table and its CSV export said
    "granted by" for a grant and nothing for a revocation. With nobody chosen, the admin's
    own name was recorded as the one who revoked it. Now the register says "revoked by",
    nobody chosen is refused as for a grant, and the name is checked as a typed line."""
    import io

    from kiosk.domain.errors import InvalidInput

    policies = school.policies
    today = school.ctx.clock().date()
    until = date(today.year + 1, 7, 22)
    policies.grant_exemption("CHEAD", granted_by="Carol Head", until=until, admin_code="DOFFICE")
    for nobody in ("", "   "):
        with pytest.raises(InvalidInput, match="who revoked it"):
            policies.revoke_exemption("CHEAD", revoked_by=nobody, admin_code="DOFFICE")
    with pytest.raises(InvalidInput, match="U\\+000A"):
        policies.revoke_exemption("CHEAD", revoked_by="Carol\nHead", admin_code="DOFFICE")
    assert [e.staff.code for e in policies.exemptions()] == ["CHEAD"]

    revoked = policies.revoke_exemption("CHEAD", revoked_by="Carol Head", admin_code="DOFFICE")
    [row] = [r for r in school.register.day(today).rows if r.event_id == revoked.event_id]
    assert row.detail == "revoked by: Carol Head"
    out = io.StringIO()
    school.register.export_csv(out, today)
    assert "revoked by: Carol Head" in out.getvalue()


@pytest.mark.parametrize(
    "summary",
    [
        "School breaks up for Christmas",
        "Break-up day (finish 1.30pm)",
        "Christmas break up",
        "Break time changes",
        "Lunch break extended",
        "Sports day (break and lunch times change)",
    ],
)
def test_an_ics_days_break_or_breaking_up_is_a_school_day(school: Services, summary: str) -> None:
    """In a school's calendar "break" is the daily break, and breaking up the last day of
    term, a school day. An all-day event titled so ("School breaks up for Christmas", "Lunch
    break extended") was imported as a holiday: the last day of term, or a sports day, was
    not a school day (laptops due then, reminders, workload). A break a time of year names
    ("Christmas break", "October half-term break") is still a holiday; these are listed and
    left out."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902", "DTEND;VALUE=DATE:20261219", "SUMMARY:Autumn term"),
        ("DTSTART;VALUE=DATE:20261026", "DTEND;VALUE=DATE:20261031", "SUMMARY:Half-term break"),
        ("DTSTART;VALUE=DATE:20261218", "DTEND;VALUE=DATE:20261219", f"SUMMARY:{summary}"),
        ("DTSTART;VALUE=DATE:20261221", "DTEND;VALUE=DATE:20270102", "SUMMARY:Christmas break"),
    )
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert school.school.is_school_day(date(2026, 12, 18))
    assert not school.school.is_school_day(date(2026, 10, 27))
    assert not school.school.is_school_day(date(2026, 12, 22))
    assert any(summary in p.reason and "left out" in p.reason for p in report.problems)


@pytest.mark.parametrize(
    "typed",
    [
        "acceptable use policy",  # the case changed
        "ACCEPTABLE USE POLICY",
        "Acceptable  Use Policy",  # two spaces
        "Acceptable\u00a0Use Policy",  # a no-break space
        "\uff21cceptable Use Policy",  # a full-width A
    ],
)
def test_a_new_version_under_a_title_that_reads_the_same_is_refused(
    school: Services, typed: str
) -> None:
    """A new version of the Acceptable Use Policy published with its title typed a little
    differently ("acceptable use policy", two spaces) went in as a second policy: both in
    force, read the same on every list, staff asked to agree to both, and the old version
    never replaced. Now it is refused, naming the title to use for a new version."""
    from kiosk.domain.errors import InvalidInput

    policies = school.policies
    policies.publish("Acceptable Use Policy", "2026", "Be kind.\n")
    before = [(p.title, p.version) for p in policies.current()]
    with pytest.raises(InvalidInput, match="Acceptable Use Policy") as refused:
        policies.publish(typed, "2027", "Be kinder.\n")
    assert "reads the same" in str(refused.value)
    assert [(p.title, p.version) for p in policies.current()] == before
    policies.publish("Acceptable Use Policy", "2027", "Be kinder.\n")  # the title as it is
    assert ("Acceptable Use Policy", "2027") in [(p.title, p.version) for p in policies.current()]


def test_two_titles_that_read_the_same_from_before_still_take_new_versions(
    school: Services,
) -> None:
    """Two policies whose titles read the same, published before such a title was refused
    (or by a login with the school key), each still take a new version under its own title:
    refusing both would stop the school publishing either, for good."""
    import sqlalchemy as sa

    policies = school.policies
    policies.publish("Phones", "1", "Phones stay in the staff room.\n")
    policies.publish("Laptops", "1", "Laptops are signed out.\n")
    with school.ctx.engine.begin() as connection:  # as an older kiosk could have published it
        connection.execute(sa.text("UPDATE policies SET title = 'phones' WHERE title = 'Laptops'"))
    policies.publish("Phones", "2", "Phones stay in the staff room, off.\n")
    policies.publish("phones", "2", "Laptops are signed out, charged.\n")
    current = {(p.title, p.version) for p in policies.current()}
    assert {("Phones", "2"), ("phones", "2")} <= current


@pytest.mark.parametrize(
    "summary",
    [
        "Open evening (office closed from 3pm)",
        "School closed at 1.30pm for Christmas",
        "Closed until 10am (snow)",
    ],
)
def test_an_ics_closure_from_a_time_of_day_is_a_school_day(school: Services, summary: str) -> None:
    """An all-day event whose title closes something from a time of day ("office closed
    from 3pm", "school closed at 1.30pm") was imported as a holiday: a day the pupils are in
    school was a day off for the kiosk (laptops due then moved, no reminders). It is listed
    and left out, as an event at a time of day is; a holiday named beside it stays one."""
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902", "DTEND;VALUE=DATE:20261219", "SUMMARY:Autumn term"),
        ("DTSTART;VALUE=DATE:20261117", "DTEND;VALUE=DATE:20261118", f"SUMMARY:{summary}"),
        (
            "DTSTART;VALUE=DATE:20261026",
            "DTEND;VALUE=DATE:20261031",
            "SUMMARY:Half term (office closed from 3pm)",
        ),
    )
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert school.school.is_school_day(date(2026, 11, 17))
    assert not school.school.is_school_day(date(2026, 10, 27))
    assert any(summary in p.reason and "left out" in p.reason for p in report.problems)


@pytest.mark.parametrize(
    "summary",
    [
        "School closed from 25 Dec",
        "Closed until 5 January",
        "Closed from 23 Dec to 2 Jan",
        "Closed between 1 and 5 Jan",
        "School closed until 2027",
    ],
)
def test_an_ics_closure_from_a_date_is_still_a_holiday(school: Services, summary: str) -> None:
    """Review of round 19: a closure "from a time of day" was taken as any digit after from,
    at, until or between, so a closure from or until a date ("School closed from 25 Dec",
    "Closed until 5 January"), days the school is shut, was listed and left out: those days
    were school days for the kiosk (laptops due, reminders sent). Only a time of day (3pm,
    1.30pm, 10:00, noon) makes a closure part of a school day."""
    from kiosk.domain.calendar import ics_kind

    assert ics_kind(summary) == "holiday"
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902", "DTEND;VALUE=DATE:20261219", "SUMMARY:Autumn term"),
        ("DTSTART;VALUE=DATE:20261221", "DTEND;VALUE=DATE:20270102", f"SUMMARY:{summary}"),
    )
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert not school.school.is_school_day(date(2026, 12, 22))


@pytest.mark.parametrize(
    "summary",
    [
        "School closed at 12.00",
        "Office closed after 3 pm",
        "Closed until 10:00 (snow)",
        "School closed from noon",
        "Closed from 1-3pm",
    ],
)
def test_a_closure_at_a_time_of_day_in_any_usual_spelling_is_not_a_holiday(summary: str) -> None:
    """The times a closure is written with (12.00, 3 pm, 10:00, noon) are a time of day."""
    from kiosk.domain.calendar import ics_kind

    assert ics_kind(summary) is None


@pytest.mark.parametrize(
    "summary",
    [
        "Christmas and New Year break",
        "Christmas & New Year Break",
        "Christmas/New Year break",
        "New Year break",
        "End of term break",
        "Term break",
        "Summer hols break",
        "Easter holidays break",
        "Break (Christmas)",
    ],
)
def test_an_ics_break_a_time_of_year_names_in_other_words_is_still_a_holiday(
    school: Services, summary: str
) -> None:
    """Review of round 19: a break was a holiday only when one time of year from a list
    stood right before it, so "Christmas and New Year break", "New Year break" or "Break
    (Christmas)" (a fortnight off, a holiday on ba3635f) was listed and left out, and "End
    of term break" or "Term break" became a term: the holidays were school days for the
    kiosk (laptops due, reminders sent)."""
    from kiosk.domain.calendar import ics_kind

    assert ics_kind(summary) == "holiday"
    data = _ics(
        ("DTSTART;VALUE=DATE:20260902", "DTEND;VALUE=DATE:20261219", "SUMMARY:Autumn term"),
        ("DTSTART;VALUE=DATE:20261221", "DTEND;VALUE=DATE:20270102", f"SUMMARY:{summary}"),
    )
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert not school.school.is_school_day(date(2026, 12, 22))


@pytest.mark.parametrize(
    "summary",
    ["Christmas and New Year break up", "Term breaks up", "End of term - break up at 1.30pm"],
)
def test_breaking_up_after_a_time_of_year_is_still_not_a_holiday(summary: str) -> None:
    """Breaking up stays a school day however the time of year before it is written."""
    from kiosk.domain.calendar import ics_kind

    assert ics_kind(summary) != "holiday"


@pytest.mark.parametrize(
    ("summary", "kind"),
    [
        ("Coffee morning - closed to visitors", None),
        ("Car park closed to parents", None),
        ("Library closed to Year 11 (exams)", None),
        ("School closed to the public (polling station)", None),
        ("School closed to pupils", "holiday"),
        ("Closed to students", "holiday"),
        ("School closed to all pupils (snow)", "holiday"),
        ("School closed to staff and pupils", "holiday"),
        ("Christmas holiday - office closed to visitors", "holiday"),
    ],
)
def test_a_place_closed_to_some_people_is_not_a_holiday(summary: str, kind: str | None) -> None:
    """Round 19's first "not fixed": an all-day event "Coffee morning - closed to visitors"
    was read as a holiday, a school day off for the kiosk. Closed to someone (visitors,
    parents, the public, a year group) the school is open to its pupils: a school day, as a
    closure from a time of day is. Closed to the pupils (students, children, everyone) it is
    not; and a holiday named beside it stays one."""
    from kiosk.domain.calendar import ics_kind

    assert ics_kind(summary) == kind
