"""Reminders at the kiosk (issue 18, item 5): what is yours to do when you tap in, and the
home screen's end-of-day list of the phones still held. A real SQLite file, the clock moved
by hand (the school is in London: GMT in March, so UTC times read as local ones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.services.app import Services
from kiosk.services.views import PhoneHolding, StaffInfo, StoreInfo
from kiosk.ui.home import HomeScreen, end_of_day_banner
from kiosk.ui.person import PersonScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, press, running, scan, screen_text, settle

pytestmark = pytest.mark.ui


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def banner(app: object) -> str:
    """The end-of-day banner as it reads on the home screen ('' when not shown)."""
    widget = app.screen.query_one("#end-of-day")  # type: ignore[attr-defined]
    return str(widget.visual) if widget.display else ""


# --- a person's screen ---------------------------------------------------------------------


async def test_a_device_due_back_tomorrow_is_marked_one_due_next_week_is_not(
    school: Services,
) -> None:
    # Tuesday 10 March 08:05.
    make_ready(school, "ASMITH")
    make_ready(school, "EPATEL")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports", expected_return=at(11, 8, 30))
    school.devices.sign_out("EPATEL", ["LAP-002"], reason="Planning", expected_return=at(17, 8, 30))
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        text = screen_text(app)
        assert "! DUE BACK TOMORROW Laptop LAP-001, due back Wed 11 Mar 08:30" in text
        assert "OVERDUE" not in text
        await press(pilot, "escape")
        await scan(pilot, "SRK1:S:EPATEL")
        text = screen_text(app)
        assert "Laptop LAP-002, due back Tue 17 Mar 08:30" in text
        assert "DUE BACK" not in text and "OVERDUE" not in text


async def test_a_device_due_back_today_says_so_and_an_overdue_one_still_says_overdue(
    school: Services, kiosk_clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Trip", expected_return=at(10, 16))
    school.devices.sign_out(
        "ASMITH", ["WP-01"], reason="Trip", expected_return=at(10, 9), charged=True
    )
    kiosk_clock.set(at(10, 12))  # midday: the work phone is overdue, the laptop due today
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        text = screen_text(app)
        assert "! DUE BACK TODAY Laptop LAP-001, due back Tue 10 Mar 16:00" in text
        assert "⚠ OVERDUE Work phone WP-01, due back Tue 10 Mar 09:00" in text
        assert "DUE BACK TOMORROW" not in text


async def test_a_phone_left_in_the_store_since_yesterday_is_a_to_do(
    school: Services, kiosk_clock: FakeClock
) -> None:
    kiosk_clock.set(at(9, 16, 40))  # Monday afternoon
    school.phones.deposit("ASMITH")
    kiosk_clock.set(at(10, 7, 50))  # Tuesday morning
    school.phones.deposit("EPATEL")
    kiosk_clock.set(at(10, 8, 5))
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        text = screen_text(app)
        assert (
            "! To collect: your phone has been in the Staff-room secure store since Mon 9 Mar "
            "(16:40)." in text
        )
        await press(pilot, "escape")
        await scan(pilot, "SRK1:S:EPATEL")
        text = screen_text(app)
        assert "✓ In the Staff-room secure store since 07:50." in text
        assert "To collect" not in text


# --- the home screen's end-of-day banner -----------------------------------------------------


async def test_after_the_end_of_a_school_day_home_lists_the_phones_still_held(
    school: Services, kiosk_clock: FakeClock
) -> None:
    school.phones.deposit("ASMITH")
    school.phones.deposit("EPATEL")
    kiosk_clock.set(at(10, 16, 45))  # end of day: 16:30
    app = make_app(school)
    async with running(app) as pilot:
        assert banner(app) == (
            "⚠ After 16:30: 2 phones are still in the stores.\n"
            "In the Staff-room secure store: Alice Smith, Esha Patel."
        )
        # The banner takes nothing from the scan field: typing goes there, focus stays.
        assert app.focused is not None and app.focused.id == "scan"
        assert not app.screen.query_one("#end-of-day").can_focus
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        await press(pilot, "enter")  # collects her phone; the confirmation goes home itself
        app.go_home()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        # Read again when home is shown again: Alice has collected hers.
        assert banner(app) == (
            "⚠ After 16:30: 1 phone is still in the stores.\n"
            "In the Staff-room secure store: Esha Patel."
        )


async def test_before_the_end_of_the_day_there_is_no_banner_then_it_comes_by_itself(
    school: Services, kiosk_clock: FakeClock
) -> None:
    school.phones.deposit("ASMITH")
    kiosk_clock.set(at(10, 16, 20))
    app = make_app(school)
    async with running(app) as pilot:
        assert banner(app) == ""
        assert "still in the stores" not in screen_text(app)
        kiosk_clock.set(at(10, 16, 31))
        assert isinstance(app.screen, HomeScreen)
        app.screen.refresh_end_of_day()  # what its timer does every minute
        await settle(pilot)
        assert "In the Staff-room secure store: Alice Smith." in banner(app)


async def test_no_banner_on_a_day_without_school(school: Services, kiosk_clock: FakeClock) -> None:
    school.school.import_calendar("inset.csv", b"date,kind,name\n2026-03-10,inset,INSET day\n")
    school.phones.deposit("ASMITH")
    kiosk_clock.set(at(10, 17))
    app = make_app(school)
    async with running(app):
        assert banner(app) == ""
        assert "still in the stores" not in screen_text(app)


async def test_the_banner_shows_names_as_written_and_counts_the_rest(
    school: Services, kiosk_clock: FakeClock
) -> None:
    names = ["[bold]Gus[/] Grey", *(f"Teacher {n}" for n in range(1, 8))]
    for n, name in enumerate(names):
        school.people.add_staff(f"T{n:02}", name)
        school.phones.deposit(f"T{n:02}")
    kiosk_clock.set(at(10, 16, 40))
    app = make_app(school)
    async with running(app):
        assert banner(app) == (
            "⚠ After 16:30: 8 phones are still in the stores.\n"
            "In the Staff-room secure store: [bold]Gus[/] Grey, Teacher 1, Teacher 2, "
            "Teacher 3, Teacher 4 and 3 more."
        )


def test_the_banner_is_a_few_lines_however_many_stores() -> None:
    def holding(n: int, store: str) -> PhoneHolding:
        staff = StaffInfo(n, f"S{n}", f"Person {n}", None, None, frozenset())
        return PhoneHolding(staff, StoreInfo(n, store, store), at(10, 8), n)

    held = tuple(holding(n, f"store {n % 5}") for n in range(10))
    lines = end_of_day_banner("16:30", held).plain.splitlines()
    assert lines[0] == "⚠ After 16:30: 10 phones are still in the stores."
    assert lines[1:] == [
        "In the store 0: Person 0, Person 5.",
        "In the store 1: Person 1, Person 6.",
        "And 6 more in other stores.",
    ]
    assert end_of_day_banner("16:30", ()).plain == ""
