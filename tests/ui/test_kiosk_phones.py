"""Tapping in, depositing and collecting phones, on a real SQLite file."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from tests.conftest import FakeClock
from tests.ui.kiosk_support import (
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    type_into,
    wait_for,
)

pytestmark = pytest.mark.ui


async def test_home_screen_shows_school_clock_office_phone_and_focused_scan_field(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app):
        text = screen_text(app)
        assert "Hillside Primary School" in text
        assert "Tuesday 10 March 2026" in text
        assert "0121 496 0000" in text and "Family emergency" in text
        assert "Scan your badge or a laptop label, or type your staff code" in text
        assert app.focused is not None and app.focused.id == "scan"
        assert str(app.screen.query_one("#clock").value) == "08:05"  # type: ignore[attr-defined]
        # The big buttons never take the focus away from the scan field.
        assert not any(b.can_focus for b in app.screen.query("TouchButton"))


async def test_badge_scan_then_enter_deposits_the_phone(
    school: Services, kiosk_clock: FakeClock
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        text = screen_text(app)
        assert "Alice Smith" in text and "Not deposited" in text
        assert " Press Enter  to deposit your phone in the staff-room store" in text
        await press(pilot, "enter")  # one scan plus one key
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "✓ Phone deposited in the Staff-room secure store" in text
        assert "Alice Smith" in text and "Recorded at 08:05" in text
        # What the benchmark reads: the Enter key, then the confirmation drawn after it.
        assert 0 < app.last_key_at <= app.confirmation_drawn_at
    held = school.people.status("ASMITH").phone
    assert held is not None and held.store.code == "STAFFROOM" and held.since == kiosk_clock.now


async def test_typed_staff_code_and_the_drawer_key(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await type_into(pilot, "#scan", "  epatel ")
        assert isinstance(app.screen, PersonScreen)
        await press(pilot, "f6")
        assert "Administrator's locked drawer" in screen_text(app)
    held = school.people.status("EPATEL").phone
    assert held is not None and held.store.code == "DRAWER"


async def test_collect_confirms_a_phone_logged_by_the_breakfast_club_lead(
    school: Services, kiosk_clock: FakeClock
) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    kiosk_clock.advance(hours=7)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        text = screen_text(app)
        assert "since 08:05, logged by Ben Jones" in text
        assert " Press Enter  to collect your phone" in text
        await press(pilot, "enter")
        text = screen_text(app)
        assert "Phone collected from the Administrator's locked drawer" in text
        assert "It had been logged in for you by Ben Jones." in text
        assert "Recorded at 15:05" in text
    assert school.people.status("ASMITH").phone is None
    kinds = [r.kind for r in school.register.day(date(2026, 3, 10)).rows]
    assert kinds[-2:] == [EventKind.PHONE_DEPOSITED.value, EventKind.PHONE_COLLECTED.value]


async def test_phone_button_on_home_then_badge_is_one_scan(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f2")
        assert "Phone in or out: scan your badge." in notice(app)
        await scan(pilot, "SRK1:S:BJONES")
        assert "Phone deposited in the Staff-room secure store" in screen_text(app)
        await press(pilot, "escape")  # any key: back home
        assert isinstance(app.screen, HomeScreen)
        await press(pilot, "f2")
        await scan_fast(pilot, "SRK1:S:BJONES")
        assert "Phone collected from the Staff-room secure store" in screen_text(app)
    assert school.people.status("BJONES").phone is None


async def test_phone_button_then_badge_collects_a_phone_logged_for_them(
    school: Services,
) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f2")
        await scan(pilot, "SRK1:S:ASMITH")
        text = screen_text(app)
        assert "Phone collected from the Administrator's locked drawer" in text
        assert "It had been logged in for you by Ben Jones." in text
        await press(pilot, "escape")
        # Not a badge: an unknown one, then a laptop's label. Nothing is recorded.
        await press(pilot, "f2")
        await scan_fast(pilot, "SRK1:S:NOBODY")
        assert isinstance(app.screen, HomeScreen)
        assert "Badge NOBODY is not on the staff list. Ask the office." in notice(app)
        await scan_fast(pilot, "SRK1:D:LAP-001")
        assert "LAP-001 in school. To take it off site, scan your badge" in notice(app)
    assert school.phones.phones_now() == ()
    assert school.devices.offsite_now() == ()


async def test_a_second_deposit_is_refused_in_plain_words(school: Services) -> None:
    school.phones.deposit("ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f6")  # the drawer's key (not shown while the phone is in a store)
        assert isinstance(app.screen, PersonScreen)
        assert "Your phone is already in a store: collect it first." in notice(app)
    assert len(school.phones.phones_now()) == 1


async def test_slt_exemption_is_shown_instead_of_nagging(school: Services) -> None:
    school.policies.grant_exemption(
        "CHEAD", granted_by="Mrs H. Teacher", until=date(2026, 7, 31), admin_code="DOFFICE"
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:CHEAD")
        text = screen_text(app)
        assert (
            "Phone use permitted at the Head Teacher's discretion until 31 Jul 2026 "
            "(granted by Mrs H. Teacher)." in text
        )
        assert "Not deposited (you have an exemption)." in text
        assert "Phones stay in the staff room" not in text
        assert " Press Enter  to finish." in text
        await press(pilot, "enter")
        assert isinstance(app.screen, HomeScreen)
    assert school.people.status("CHEAD").phone is None


async def test_confirmation_returns_home_by_itself(school: Services) -> None:
    app = make_app(school, confirm_seconds=1.5)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.focused is not None and app.focused.id == "scan"
