"""The kiosk's "Phone in / out" scan, as a use case (kiosk/services/scan.py), on SQLite and
PostgreSQL: what a scan means, what is recorded, and what the confirmation adds."""

from __future__ import annotations

import pytest

from kiosk.domain.errors import NotAKioskCode, NotFound, RuleViolation
from kiosk.services.app import Services
from kiosk.services.scan import collection_note
from tests.conftest import FakeClock
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def test_a_badge_deposits_then_collects(school: Services, clock: FakeClock) -> None:
    first = school.scans.phone_in_or_out("SRK1:S:ASMITH")
    assert first.receipt is not None and first.result is None and first.note == ()
    assert first.receipt.summary == "Phone deposited in the Staff-room secure store"
    assert first.receipt.occurred_at == clock.now
    assert [h.staff.code for h in school.phones.phones_now()] == ["ASMITH"]

    clock.advance(hours=7)
    second = school.scans.phone_in_or_out("asmith")  # typed: the same person
    assert second.receipt is not None and second.note == ()
    assert second.receipt.summary == "Phone collected from the Staff-room secure store"
    assert school.phones.phones_now() == ()


def test_a_collection_says_who_logged_the_phone_in(school: Services) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    done = school.scans.phone_in_or_out("SRK1:S:ASMITH")
    assert done.receipt is not None
    assert done.note == ("It had been logged in for you by Ben Jones.",)
    assert school.phones.phones_now() == ()


def test_a_label_is_looked_up_and_nothing_is_recorded(school: Services) -> None:
    for text in ("SRK1:D:LAP-001", "LAP-001"):
        done = school.scans.phone_in_or_out(text)
        assert done.receipt is None and done.note == ()
        assert done.result is not None and done.result.device is not None
        assert done.result.device.device.tag == "LAP-001"
    assert school.phones.phones_now() == ()


def test_what_is_no_code_is_refused_in_words(school: Services) -> None:
    with pytest.raises(NotAKioskCode, match="not a kiosk code"):
        school.scans.phone_in_or_out("hello world!")
    with pytest.raises(NotFound, match="NOBODY is not a staff code or an asset tag"):
        school.scans.phone_in_or_out("NOBODY")
    with pytest.raises(NotFound, match="Badge NOBODY is not on the staff list"):
        school.scans.phone_in_or_out("SRK1:S:NOBODY")
    school.people.retire_staff("EPATEL")
    with pytest.raises(RuleViolation, match="has left the school"):
        school.scans.phone_in_or_out("SRK1:S:EPATEL")
    assert school.phones.phones_now() == ()


def test_the_collection_note_from_what_the_screen_shows(school: Services) -> None:
    assert collection_note(school.people.status("ASMITH")) == ()  # no phone in
    school.phones.deposit("ASMITH")
    assert collection_note(school.people.status("ASMITH")) == ()  # their own deposit
    school.phones.collect("ASMITH")
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    assert collection_note(school.people.status("ASMITH")) == (
        "It had been logged in for you by Ben Jones.",
    )


def test_collecting_from_a_screen_adds_who_logged_it_in(school: Services) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    done = school.scans.collect(school.people.status("ASMITH"))
    assert done.receipt is not None
    assert done.receipt.summary == (
        "Phone collected from the Administrator's locked drawer (breakfast club)"
    )
    assert done.note == ("It had been logged in for you by Ben Jones.",)
    assert school.phones.phones_now() == ()
    with pytest.raises(RuleViolation, match="no phone in a store"):
        school.scans.collect(school.people.status("ASMITH"))
