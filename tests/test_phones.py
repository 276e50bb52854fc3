from __future__ import annotations

import pytest

from kiosk.domain.errors import NotFound, RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def test_deposit_then_collect(school: Services, clock: FakeClock) -> None:
    receipt = school.phones.deposit("asmith")
    assert receipt.summary == "Phone deposited in the Staff-room secure store"
    assert receipt.occurred_at == clock.now
    held = school.phones.phones_now()
    assert [(h.staff.code, h.store.code) for h in held] == [("ASMITH", "STAFFROOM")]

    clock.advance(hours=7)
    out = school.phones.collect("ASMITH")
    assert out.summary == "Phone collected from the Staff-room secure store"
    assert school.phones.phones_now() == ()


def test_second_deposit_is_refused(school: Services) -> None:
    school.phones.deposit("ASMITH")
    with pytest.raises(RuleViolation, match="already in the Staff-room secure store"):
        school.phones.deposit("ASMITH", "DRAWER")
    assert len(school.phones.phones_now()) == 1


def test_collect_only_from_the_store_it_is_in(school: Services) -> None:
    with pytest.raises(RuleViolation, match="no phone in a store"):
        school.phones.collect("ASMITH")
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    with pytest.raises(RuleViolation, match="in the Administrator's locked drawer"):
        school.phones.collect("ASMITH", "STAFFROOM")
    school.phones.collect("ASMITH", "DRAWER")
    assert school.phones.phones_now() == ()


def test_only_the_breakfast_club_lead_logs_for_colleagues(school: Services) -> None:
    with pytest.raises(RuleViolation, match="breakfast club lead or admin"):
        school.phones.deposit("ASMITH", "DRAWER", recorded_by="EPATEL")
    receipt = school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    [held] = school.phones.phones_now()
    assert held.recorded_by == "Ben Jones"
    assert receipt.staff is not None and receipt.staff.code == "ASMITH"


def test_move_all_from_drawer_to_staff_room(school: Services) -> None:
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    school.phones.deposit("DOFFICE")
    moved = school.phones.move_all("BJONES")
    assert {r.staff.code for r in moved if r.staff} == {"ASMITH", "EPATEL"}
    assert {h.store.code for h in school.phones.phones_now()} == {"STAFFROOM"}
    # Collecting from the staff room now works for a phone first logged into the drawer.
    school.phones.collect("ASMITH", "STAFFROOM")


def test_unknown_and_retired_badges(school: Services) -> None:
    with pytest.raises(NotFound, match="No member of staff has the code NOBODY"):
        school.phones.deposit("nobody")
    school.people.retire_staff("EPATEL")
    with pytest.raises(RuleViolation, match="has left the school"):
        school.phones.deposit("EPATEL")


def test_undo_voids_the_deposit(school: Services) -> None:
    receipt = school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    school.register.undo(receipt.event_id, recorded_by="BJONES")
    assert school.phones.phones_now() == ()
    # The original stays in the register, marked voided.
    page = school.register.day(receipt.occurred_at.date())
    deposit = next(r for r in page.rows if r.event_id == receipt.event_id)
    assert deposit.voided and deposit.void_reason == "undone at the kiosk"
    school.phones.deposit("ASMITH")


def test_phone_in_or_out_deposits_then_collects(school: Services, clock: FakeClock) -> None:
    done = school.phones.in_or_out("asmith")
    assert done is not None and not done.collected
    assert done.receipt.summary == "Phone deposited in the Staff-room secure store"
    assert done.receipt.occurred_at == clock.now
    [held] = school.phones.phones_now()
    assert (held.staff.code, held.store.code, held.recorded_by) == (
        "ASMITH",
        "STAFFROOM",
        None,
    )

    clock.advance(hours=7)
    done = school.phones.in_or_out("ASMITH")
    assert done is not None and done.collected and done.logged_in_by is None
    assert done.receipt.summary == "Phone collected from the Staff-room secure store"
    assert school.phones.phones_now() == ()


def test_phone_in_or_out_collects_from_the_drawer_and_says_who_logged_it(
    school: Services,
) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    done = school.phones.in_or_out("ASMITH")
    assert done is not None and done.collected
    assert done.receipt.summary == (
        "Phone collected from the Administrator's locked drawer (breakfast club)"
    )
    assert done.logged_in_by == "Ben Jones"
    assert school.phones.phones_now() == ()
    # Undoing the collection (its owner recorded it) puts the phone back where it was.
    school.register.undo(done.receipt.event_id, recorded_by="ASMITH")
    assert [h.store.code for h in school.phones.phones_now()] == ["DRAWER"]


def test_phone_in_or_out_of_a_code_that_is_no_badge(school: Services) -> None:
    assert school.phones.in_or_out("LAP-001") is None  # a laptop's tag: nothing recorded
    assert school.phones.in_or_out("NOBODY") is None
    school.people.retire_staff("EPATEL")
    with pytest.raises(RuleViolation, match="has left the school"):
        school.phones.in_or_out("EPATEL")
    assert school.phones.phones_now() == ()


def test_phones_still_held_after_the_end_of_a_school_day(
    school: Services, clock: FakeClock
) -> None:
    # Tuesday 10 March (London, GMT): the end of the day is 16:30.
    school.phones.deposit("ASMITH")
    school.phones.deposit("EPATEL", "DRAWER", recorded_by="BJONES")
    clock.advance(hours=8, minutes=20)  # 16:25
    assert school.phones.still_held_after_end_of_day() == ()
    clock.advance(minutes=5)  # 16:30
    held = school.phones.still_held_after_end_of_day()
    assert [(h.staff.name, h.store.code) for h in held] == [
        ("Alice Smith", "STAFFROOM"),
        ("Esha Patel", "DRAWER"),
    ]
    school.phones.collect("ASMITH")
    assert [h.staff.code for h in school.phones.still_held_after_end_of_day()] == ["EPATEL"]


def test_no_phones_still_held_on_a_day_without_school(school: Services, clock: FakeClock) -> None:
    school.school.import_calendar("inset.csv", b"date,kind,name\n2026-03-10,inset,INSET day\n")
    school.phones.deposit("ASMITH")
    clock.advance(hours=9)  # 17:05 on the INSET day
    assert school.phones.still_held_after_end_of_day() == ()
    clock.advance(days=1)  # Wednesday: a school day, the phone still there
    assert [h.staff.code for h in school.phones.still_held_after_end_of_day()] == ["ASMITH"]
