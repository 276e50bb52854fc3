"""A school's own definitions on SQLite and PostgreSQL: its calendar, its kinds of device,
and the staff list's rules (line managers, the last admin, leavers)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_ready, make_school

# Tuesday 10 March 2026 (the tests' clock): an INSET day on Wednesday, then two days' holiday.
CALENDAR = b"""date,kind,name
11/03/2026,inset,Staff training
"""


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    make_ready(services, "ASMITH")
    return services


def _register_kinds(services: Services) -> list[str]:
    return [row.kind for row in services.register.rows_between(date(2026, 3, 1), date(2026, 4, 30))]


# --- the calendar ---------------------------------------------------------------------------------


def test_the_default_return_skips_inset_days_and_holidays(school: Services) -> None:
    before = school.devices.check_sign_out("ASMITH", ["LAP-001"]).default_expected_return
    assert before == datetime(2026, 3, 11, 8, 30, tzinfo=UTC)  # no calendar: Wednesday

    school.school.import_calendar("inset.csv", CALENDAR)
    check = school.devices.check_sign_out("ASMITH", ["LAP-001"])
    assert check.default_expected_return == datetime(2026, 3, 12, 8, 30, tzinfo=UTC)

    # A new calendar replaces the old one whole (the newest calendar_set is in force).
    school.school.import_calendar(
        "calendar.csv",
        b"start,end,kind,name\n2026-03-11,,inset,Staff training\n"
        b"12/03/2026,13/03/2026,holiday,Snow days\n",
    )
    out = school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    assert out.expected_return == datetime(2026, 3, 16, 8, 30, tzinfo=UTC)  # Monday
    assert _register_kinds(school).count(EventKind.CALENDAR_SET.value) == 2
    calendar = school.school.calendar()
    assert not calendar.is_school_day(date(2026, 3, 12))
    assert calendar.source == "calendar.csv" and len(calendar.sha256) == 64
    assert not school.school.is_school_day(date(2026, 3, 11))
    assert school.school.is_school_day()  # today, Tuesday


YEAR = b"""start,end,kind,name
2025-09-03,2025-12-19,term,Autumn term
2026-01-05,2026-03-27,term,Spring term
2026-04-13,2026-07-22,term,Summer term
"""


def test_a_calendar_that_would_drop_entries_still_ahead_needs_replace(school: Services) -> None:
    # Tuesday 10 March 2026: the whole year is in force; a summer-term file would drop the
    # spring term, still running (and the autumn term, past).
    school.school.import_calendar("year.csv", YEAR)
    summer = b"start,end,kind,name\n2026-04-13,2026-07-22,term,Summer term\n"
    result = school.school.import_calendar("summer.csv", summer)
    assert not result.imported and result.needs_replace
    assert [e.name for e in result.dropped] == ["Autumn term", "Spring term"]
    assert [e.name for e in result.upcoming_dropped(date(2026, 3, 10))] == ["Spring term"]
    assert school.school.calendar().source == "year.csv"
    assert school.school.is_school_day(date(2026, 3, 11))
    assert _register_kinds(school).count(EventKind.CALENDAR_SET.value) == 1

    result = school.school.import_calendar("summer.csv", summer, replace=True)
    assert result.imported and [e.name for e in result.dropped] == [
        "Autumn term",
        "Spring term",
    ]
    assert not school.school.is_school_day(date(2026, 3, 11))  # now outside every term


def test_a_calendar_that_drops_only_past_entries_is_imported_and_says_so(
    school: Services,
) -> None:
    school.school.import_calendar("year.csv", YEAR)
    later = YEAR.replace(b"2025-09-03,2025-12-19,term,Autumn term\n", b"")
    result = school.school.import_calendar("later.csv", later)
    assert result.imported and [e.name for e in result.dropped] == ["Autumn term"]


def test_a_calendar_with_a_bad_line_is_not_recorded(school: Services) -> None:
    data = b"date,kind,name\n2026-03-11,inset,Training\n2026-02-30,holiday,Nope\n"
    result = school.school.import_calendar("bad.csv", data)
    assert not result.imported and [p.line for p in result.problems] == [3]
    assert school.school.calendar().empty
    assert EventKind.CALENDAR_SET.value not in _register_kinds(school)
    result = school.school.import_calendar("bad.csv", data, skip_invalid=True)
    assert result.imported and not school.school.calendar().is_school_day(date(2026, 3, 11))


def test_an_ics_calendar_is_imported(school: Services) -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260311\r\n"
        b"DTEND;VALUE=DATE:20260312\r\nSUMMARY:INSET day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = school.school.import_calendar("school.ics", ics)
    assert result.imported
    check = school.devices.check_sign_out("ASMITH", ["LAP-001"])
    assert check.default_expected_return == datetime(2026, 3, 12, 8, 30, tzinfo=UTC)


def test_workload_counts_school_weeks(school: Services, clock: FakeClock) -> None:
    clock.advance(hours=1)
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    school.devices.return_device("LAP-001")
    clock.set(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))  # three weeks later
    [row] = school.devices.workload()
    assert row.weekly[8] == 1  # no calendar: three weeks back

    # With the week of 18-24 March a holiday, the sign-out was two school weeks back.
    school.school.import_calendar(
        "easter.csv", b"start,end,kind,name\n2026-03-18,2026-03-24,holiday,Early Easter\n"
    )
    [row] = school.devices.workload()
    assert row.weekly[9] == 1 and sum(row.weekly) == 1


# --- kinds of device ------------------------------------------------------------------------------


def test_a_school_adds_a_kind_with_its_own_rule(school: Services) -> None:
    with pytest.raises(InvalidInput, match="must be one of laptop, work_phone"):
        school.people.add_device("TAB-01", "tablet")
    kinds = school.school.set_device_kind("tablet", "iPad", needs_charged=True)
    assert kinds.codes == ("laptop", "work_phone", "tablet")
    school.school.set_device_kind("camera", "Camera")
    school.people.import_devices_csv(b"tag,kind,description\nTAB-01,tablet,Reception\n")
    school.people.add_device("CAM-1", "Camera")  # its label works too

    check = school.devices.check_sign_out("ASMITH", ["TAB-01"])
    assert check.needs_charged and check.devices[0].needs_charged
    assert check.devices[0].kind_label == "iPad"
    with pytest.raises(RuleViolation, match="iPads must be charged"):
        school.devices.sign_out("ASMITH", ["TAB-01"], reason="School trip")
    out = school.devices.sign_out("ASMITH", ["TAB-01"], reason="School trip", charged=True)
    assert out.receipts[0].summary == "iPad TAB-01 signed out off site"
    [row] = [r for r in school.register.day(date(2026, 3, 10)).rows if r.item == "iPad TAB-01"]
    assert row.what == "Signed out off site" and "charged: yes" in row.detail

    camera = school.devices.check_sign_out("ASMITH", ["CAM-1"])
    assert not camera.needs_charged and not camera.needs_line_manager
    school.devices.sign_out("ASMITH", ["CAM-1"], reason="School trip")
    assert {i.device.tag for i in school.devices.offsite_now()} == {"TAB-01", "CAM-1"}
    assert _register_kinds(school).count(EventKind.DEVICE_KINDS_SET.value) == 2
    # Every kind needs the policies acknowledged first, as laptops do.
    with pytest.raises(RuleViolation, match="must first complete"):
        school.devices.sign_out("BJONES", ["LAP-002"], reason="Planning")


def test_the_built_in_kinds_keep_their_rules(school: Services) -> None:
    kinds = school.school.device_kinds()
    assert [(k.code, k.needs_charged, k.regular_use) for k in kinds.kinds] == [
        ("laptop", False, True),
        ("work_phone", True, False),
    ]
    assert school.devices.check_sign_out("ASMITH", ["WP-01"]).devices[0].needs_charged


# --- the staff list ----------------------------------------------------------------------


def test_an_unknown_line_manager_is_refused_with_its_line(school: Services) -> None:
    roster = (
        b"code,name,line_manager,roles\n"
        b"FNEW,Fay New,Carol Head,\n"
        b"GNEW,Gus New,Zed Nobody,\n"
        b"HNEW,Hal New,FNEW,\n"
    )
    report = school.people.import_staff_csv(roster)
    assert not report.imported
    assert [(p.line, "Zed Nobody" in p.reason) for p in report.problems] == [(3, True)]
    assert "FNEW" not in {p.code for p in school.people.list_staff()}

    report = school.people.import_staff_csv(roster.replace(b"Zed Nobody", b"Fay New"))
    assert report.imported and report.added == 3
    managers = {p.code: p.line_manager for p in school.people.list_staff()}
    assert (managers["FNEW"], managers["GNEW"], managers["HNEW"]) == ("CHEAD", "FNEW", "FNEW")


def test_an_import_that_leaves_no_admin_is_refused(school: Services) -> None:
    roster = b"code,name,roles\nCHEAD,Carol Head,slt\nDOFFICE,Dina Office,\n"
    with pytest.raises(RuleViolation, match="no admin"):
        school.people.import_staff_csv(roster)
    assert {p.code for p in school.people.list_staff() if p.has_role("admin")} == {
        "CHEAD",
        "DOFFICE",
    }


def test_retiring_the_last_admin_is_refused(school: Services) -> None:
    school.people.retire_staff("DOFFICE")
    with pytest.raises(RuleViolation, match="no admin"):
        school.people.retire_staff("CHEAD")
    assert "CHEAD" in {p.code for p in school.people.list_staff()}


def test_someone_with_a_device_off_site_is_retired_only_with_force(school: Services) -> None:
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    with pytest.raises(RuleViolation, match="LAP-001 off site"):
        school.people.retire_staff("ASMITH")
    school.people.retire_staff("ASMITH", force=True)
    assert "ASMITH" not in {p.code for p in school.people.list_staff()}


def test_retire_missing_leaves_device_holders_with_a_warning(school: Services) -> None:
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    roster = b"code,name,roles\nCHEAD,Carol Head,slt;admin\nDOFFICE,Dina Office,admin\n"
    report = school.people.import_staff_csv(roster, retire_missing=True)
    assert report.retired == ("BJONES", "EPATEL")
    assert len(report.warnings) == 1 and "ASMITH not retired: LAP-001" in report.warnings[0]
    assert {p.code for p in school.people.list_staff()} == {"ASMITH", "CHEAD", "DOFFICE"}

    report = school.people.import_staff_csv(roster, retire_missing=True, force=True)
    assert report.retired == ("ASMITH",)
    assert {p.code for p in school.people.list_staff()} == {"CHEAD", "DOFFICE"}
    # Without the option, staff missing from the file stay.
    school.people.import_staff_csv(b"code,name\nZNEW,Zoe New\n")
    assert {p.code for p in school.people.list_staff()} == {"CHEAD", "DOFFICE", "ZNEW"}


def test_a_semicolon_separated_roster_is_told_to_use_commas(school: Services) -> None:
    with pytest.raises(InvalidInput, match="use commas"):
        school.people.import_staff_csv(b"code;name;roles\nFNEW;Fay New;\n")


# --- imports with fewer columns -------------------------------------------------------------------


def _person(services: Services, code: str) -> tuple[object, ...]:
    p = next(p for p in services.people.list_staff() if p.code == code)
    return (p.name, p.email, p.line_manager, p.roles)


def test_a_roster_without_a_column_leaves_that_field_as_it_is(school: Services) -> None:
    report = school.people.import_staff_csv(b"code,name\nASMITH,Alice Smith-Jones\n")
    assert (report.added, report.updated) == (0, 1)
    assert _person(school, "ASMITH") == (
        "Alice Smith-Jones",
        "asmith@school.example",
        "CHEAD",  # the line manager, kept as her staff code
        frozenset({"laptop_user"}),
    )
    # The same file again changes nothing.
    assert school.people.import_staff_csv(b"code,name\nASMITH,Alice Smith-Jones\n").unchanged == 1
    # A file with e-mails only: the roles and line manager stay.
    school.people.import_staff_csv(b"code,name,email\nBJONES,Ben Jones,bj@school.example\n")
    assert _person(school, "BJONES") == (
        "Ben Jones",
        "bj@school.example",
        "CHEAD",
        frozenset({"breakfast_club_lead"}),
    )
    # An empty cell in a column the file has clears that field.
    school.people.import_staff_csv(b"code,name,email,roles\nBJONES,Ben Jones,,\n")
    assert _person(school, "BJONES") == ("Ben Jones", None, "CHEAD", frozenset())


def test_a_roster_without_roles_keeps_the_admins(school: Services) -> None:
    report = school.people.import_staff_csv(
        b"code,name\nCHEAD,Carol Head\nDOFFICE,Dina Office\n", retire_missing=True
    )
    assert report.imported
    assert {p.code for p in school.people.list_staff() if p.has_role("admin")} == {
        "CHEAD",
        "DOFFICE",
    }


def test_a_device_file_without_descriptions_keeps_them(school: Services) -> None:
    report = school.people.import_devices_csv(b"tag,kind\nLAP-001,laptop\nLAP-009,laptop\n")
    assert (report.added, report.updated, report.unchanged) == (1, 0, 1)
    described = {d.tag: d.description for d in school.people.list_devices()}
    assert described["LAP-001"] == "Dell Latitude, Year 3"
    assert described["LAP-009"] == ""
    school.people.import_devices_csv(b"tag,kind,description\nLAP-001,laptop,\n")
    assert {d.tag: d.description for d in school.people.list_devices()}["LAP-001"] == ""
