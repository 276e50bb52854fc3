"""Round 18: a new school, end to end: what the office and staff are told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_ready, make_school


def test_the_due_tomorrow_notice_says_how_to_keep_a_laptop_longer(
    services: Services, clock: FakeClock
) -> None:
    # "Laptop LAP-001 is due back tomorrow" told staff "If you need it for longer, ask the
    # office to extend the return date": the office has no way to (no console view or
    # command extends a sign-out); the person does it at the kiosk, F4 "Keep it longer", as
    # the overdue notice's text says (its HTML said "tell the office"). Sent to the office,
    # they left it overdue.
    make_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason="Report writing",
        expected_return=datetime(2026, 3, 11, 16, 30, tzinfo=UTC),
    )
    clock.set(datetime(2026, 3, 10, 10, tzinfo=UTC))
    notices, _ = services.notify.due(is_school_day=lambda day: day.weekday() < 5)
    (due,) = [n for n in notices if n.kind == "device_due"]
    for body in (due.text, due.html):
        assert "ask the office" not in body, body
        assert "Keep it longer" in body and "F4" in body, body

    # Overdue next week: both of its bodies say the same.
    clock.set(datetime(2026, 3, 12, 10, tzinfo=UTC))
    notices, _ = services.notify.due(is_school_day=lambda day: day.weekday() < 5)
    (overdue,) = [n for n in notices if n.kind == "device_overdue"]
    for body in (overdue.text, overdue.html):
        assert "Keep it longer" in body and "F4" in body, body
        assert "or you need it for longer, please tell the office" not in body, body


def test_a_leaver_whose_phone_is_in_a_store_is_retired_only_with_force(
    services: Services, clock: FakeClock
) -> None:
    # Retired at 15:00 on their last day, their phone still in the staff room: their badge
    # was refused when they came to collect it ("has left the school"), so the register
    # held the phone in the store for good. The office's digest listed it every school day,
    # and the leaver was e-mailed every school day to "collect it and tap out at the kiosk",
    # which their badge could no longer do.
    make_school(services)
    services.phones.deposit("ASMITH")
    with pytest.raises(RuleViolation, match="phone is in the Staff-room secure store"):
        services.people.retire_staff("ASMITH")
    roster = b"code,name,roles\nCHEAD,Carol Head,slt;admin\nDOFFICE,Dina Office,admin\n"
    report = services.people.import_staff_csv(roster, retire_missing=True)
    assert "ASMITH" not in report.retired
    assert any("ASMITH not retired: their phone is in the Staff" in w for w in report.warnings)
    assert "ASMITH" in {p.code for p in services.people.list_staff()}

    # Retired all the same (--force, or the console after its warning): the office is told
    # of the phone, the leaver is not e-mailed about it.
    services.people.retire_staff("ASMITH", force=True)
    assert "ASMITH" not in {p.code for p in services.people.list_staff()}
    clock.set(datetime(2026, 3, 10, 17, tzinfo=UTC))
    office = replace(services.settings, office_email="office@school.example")
    with_office = Services(services.ctx.engine, office, clock)
    notices, _ = with_office.notify.due(is_school_day=lambda day: day.weekday() < 5)
    assert not [n for n in notices if n.kind == "phone_left" and "asmith" in n.to]
    (digest,) = [n for n in notices if n.kind == "office_digest"]
    assert "Alice Smith (ASMITH)" in digest.text


def test_a_roster_with_problems_of_both_kinds_names_every_line_at_once(
    services: Services,
) -> None:
    # A new school's first roster: line 2 names a line manager nobody is, line 3 a role
    # that is not one. The report said "1 invalid line" (line 3): corrected and imported
    # again, the file was refused for line 2, which had not been mentioned.
    make_school(services)
    roster = (
        b"code,name,line_manager,roles\n"
        b"NNEW,Nia New,Nobody Known,laptop_user\n"
        b"ONEW,Oli New,,teacher\n"
        b"PNEW,Pip New,,\n"
    )
    report = services.people.import_staff_csv(roster)
    assert not report.imported
    assert [p.line for p in report.problems] == [2, 3], report.problems
    assert "PNEW" not in {p.code for p in services.people.list_staff()}
    # With --skip-invalid the good row goes in, and both lines are named.
    report = services.people.import_staff_csv(roster, skip_invalid=True)
    assert [p.line for p in report.problems] == [2, 3]
    assert "PNEW" in {p.code for p in services.people.list_staff()}


def test_a_line_manager_on_a_line_with_a_problem_is_named_so(services: Services) -> None:
    # The head of maths's line has a role that is not one ("Head of Dept"); the four maths
    # teachers name her as their line manager. The report said each of them named someone
    # "not on the staff list or in this file": five lines to correct, four of them right.
    make_school(services)
    roster = (
        b"code,name,line_manager,roles\nHOD,Hana Head-of-Maths,CHEAD,Head of Dept\n"
        + b"".join(
            f"M{i},Maths Teacher {i},Hana Head-of-Maths,laptop_user\n".encode() for i in range(1, 5)
        )
    )
    report = services.people.import_staff_csv(roster)
    assert not report.imported
    assert [p.line for p in report.problems] == [2, 3, 4, 5, 6], report.problems
    assert "Head of Dept" in report.problems[0].reason
    for problem in report.problems[1:]:
        assert "not on the staff list" not in problem.reason, problem
        assert "line manager 'Hana Head-of-Maths' is on line 2, which has a problem" in (
            problem.reason
        ), problem
    # By code too, and a code given twice: the second line is the problem, not the
    # line naming its name.
    roster = (
        b"code,name,line_manager,roles\n"
        b"ONEW,Oli New,,\n"
        b"ONEW,Oli Newer,,\n"
        b"PNEW,Pip New,Oli Newer,\n"
        b"QNEW,Qui New,onew,\n"
    )
    report = services.people.import_staff_csv(roster)
    assert [p.line for p in report.problems] == [3, 4], report.problems
    assert "is on line 3, which has a problem" in report.problems[1].reason


def test_skip_invalid_retire_missing_keeps_someone_whose_line_has_a_problem(
    services: Services,
) -> None:
    # Alice's line has a role that is not one ("teacher"): --skip-invalid leaves it out, and
    # --retire-missing then retired her as if she had left, though she is in the file.
    make_school(services)
    lines = [b"code,name,roles"]
    for person in services.people.list_staff():
        roles = b"teacher" if person.code == "ASMITH" else ";".join(sorted(person.roles)).encode()
        lines.append(person.code.encode() + b"," + person.name.encode() + b"," + roles)
    report = services.people.import_staff_csv(
        b"\n".join(lines) + b"\n", skip_invalid=True, retire_missing=True
    )
    assert report.imported
    assert report.retired == (), report
    assert [p.line for p in report.problems] == [
        i for i, line in enumerate(lines, 1) if line.startswith(b"ASMITH,")
    ]
    assert "ASMITH" in {p.code for p in services.people.list_staff()}


def test_no_admin_left_is_said_with_the_lines_that_have_a_problem(services: Services) -> None:
    # A roster with a bad line and no admin in it: the report named the bad line only;
    # corrected, the file was then refused for leaving the school with no admin.
    make_school(services)
    roster = b"code,name,roles\nCHEAD,Carol Head,slt\nDOFFICE,Dina Office,\nENEW,Eve New,teacher\n"
    with pytest.raises(RuleViolation) as refused:
        services.people.import_staff_csv(roster)
    assert "no admin" in refused.value.message
    assert "line 4" in refused.value.message and "teacher" in refused.value.message


def test_a_leaver_with_a_laptop_out_is_not_emailed_to_keep_it_longer_at_the_kiosk(
    services: Services, clock: FakeClock
) -> None:
    # Retired with a laptop out (--force, or the console after its warning): the leaver was
    # e-mailed "due back tomorrow", then "overdue", each day, to scan their badge and choose
    # "Keep it longer" (F4) or return it at the kiosk; their badge is refused ("has left").
    make_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason="Report writing",
        expected_return=datetime(2026, 3, 11, 16, 30, tzinfo=UTC),
    )
    services.people.retire_staff("ASMITH", force=True)
    office = replace(services.settings, office_email="office@school.example")
    with_office = Services(services.ctx.engine, office, clock)
    for day in (10, 12):
        clock.set(datetime(2026, 3, day, 17, tzinfo=UTC))
        notices, _ = with_office.notify.due(is_school_day=lambda d: d.weekday() < 5)
        assert not [n for n in notices if n.kind.startswith("device_")], notices
    # The office's digest lists it once it is overdue.
    (digest,) = [n for n in notices if n.kind == "office_digest"]
    assert "LAP-001" in digest.text and "Alice Smith (ASMITH)" in digest.text, digest.text


def test_a_phone_left_in_the_breakfast_club_drawer_is_asked_back_from_the_lead(
    services: Services, clock: FakeClock
) -> None:
    # Logged into the breakfast-club drawer at 07:45, still there at the end of the day:
    # the e-mail told the person to "collect it and tap out at the kiosk". The drawer is
    # locked; the lead hands phones back (Breakfast club, F3), or the office.
    make_school(services)
    services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    clock.set(datetime(2026, 3, 10, 17, tzinfo=UTC))
    notices, _ = services.notify.due(is_school_day=lambda day: day.weekday() < 5)
    (drawer,) = [n for n in notices if n.kind == "phone_left" and n.to.startswith("asmith")]
    for body in (drawer.text, drawer.html):
        assert "ask the breakfast-club lead or the office to hand it back" in body, body
        assert "collect it and tap out" not in body, body


def test_retiring_someone_who_holds_a_laptop_and_a_phone_names_both_at_once(
    services: Services,
) -> None:
    # The refusal named the laptop only; once it was returned, retiring was refused again,
    # for the phone. Each refusal (retire, the import's warning) is built from one rule.
    make_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    services.phones.deposit("ASMITH")
    with pytest.raises(RuleViolation) as refused:
        services.people.retire_staff("ASMITH")
    said = refused.value.message
    assert "LAP-001 off site" in said and "phone is in the Staff-room secure store" in said, said
    assert "record the return of LAP-001" in said and "collection at the kiosk" in said, said
    roster = b"code,name,roles\nCHEAD,Carol Head,slt;admin\nDOFFICE,Dina Office,admin\n"
    report = services.people.import_staff_csv(roster, retire_missing=True)
    (warning,) = [w for w in report.warnings if w.startswith("ASMITH")]
    assert "LAP-001 off site" in warning and "Staff-room secure store" in warning, warning
    holding = services.people.holding("ASMITH")
    assert holding is not None and len(holding.held) == 2, holding
    assert services.people.holding("EPATEL") is None


def test_retiring_someone_whose_phone_is_in_the_drawer_says_the_lead_hands_it_back(
    services: Services,
) -> None:
    # "Record its collection at the kiosk": a phone in the locked breakfast-club drawer is
    # handed back by the lead (Breakfast club, F3).
    make_school(services)
    services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    with pytest.raises(RuleViolation) as refused:
        services.people.retire_staff("ASMITH")
    said = refused.value.message
    assert "have the breakfast-club lead hand the phone back" in said, said
    assert "collection at the kiosk" not in said, said


def test_a_new_policy_version_with_the_same_text_is_refused(services: Services) -> None:
    # The office chose last term's file again for "Autumn 2026": published as a new version,
    # every member of staff was asked to acknowledge the same words again, and nothing said so.
    make_school(services)
    services.policies.publish("Phones policy", "Spring 2026", "# Phones\n\nIn the store.\n")
    with pytest.raises(RuleViolation) as refused:
        services.policies.publish("Phones policy", "Autumn 2026", "# Phones\n\nIn the store.\n")
    said = refused.value.message
    assert "the same as version Spring 2026" in said and "acknowledge" in said, said
    assert [p.version for p in services.policies.current() if p.title == "Phones policy"] == [
        "Spring 2026"
    ]
    # Another title with the same words, or the same text made required, is published.
    services.policies.publish(
        "Phones (breakfast club)", "Spring 2026", "# Phones\n\nIn the store.\n"
    )
    services.policies.publish(
        "Phones policy", "Spring 2026 (optional)", "# Phones\n\nIn the store.\n", required=False
    )


def test_the_office_records_a_leavers_phone_handed_back(services: Services) -> None:
    # Retired with their phone in a store (--force, "Retire anyway"): their badge is refused,
    # so nobody could record its collection; the phone stayed in the store for good, in the
    # office's digest every school day, unless a real deposit was voided.
    make_school(services)
    services.phones.deposit("ASMITH")
    services.people.retire_staff("ASMITH", force=True)
    with pytest.raises(RuleViolation, match="not an admin"):
        services.phones.hand_back("ASMITH", admin_code="BJONES")
    done = services.phones.hand_back("ASMITH", admin_code="DOFFICE")
    assert "Staff-room secure store" in done.summary
    assert not [p for p in services.phones.phones_now() if p.staff.code == "ASMITH"]
    with pytest.raises(RuleViolation, match="no phone in a store"):
        services.phones.hand_back("ASMITH", admin_code="DOFFICE")
    assert services.integrity.verify().ok
