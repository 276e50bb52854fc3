"""Signing laptops and work phones out, returning them, keeping them longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Button, Checkbox, Input, Select

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.returns import ExtendScreen, ReturnScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import VduScreen
from kiosk.ui.widgets import Choice
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import (
    events,
    hold,
    idle,
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    settle,
    type_into,
    wait_for,
    with_settings,
)

pytestmark = pytest.mark.ui


async def test_label_first_then_badge_then_reason_signs_a_laptop_out(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, HomeScreen)
        assert "LAP-001 in school. To take it off site, scan your badge" in notice(app)
        await scan_fast(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, SignOutScreen)
        text = screen_text(app)
        assert "Sign out off site: Alice Smith" in text
        assert "Laptop LAP-001 (Dell Latitude, Year 3)" in text
        # Expected return defaults to the next school day at 08:30.
        assert "Wed 11 Mar 08:30" in text
        assert "Work phone is charged" not in text
        await press(pilot, "down", "down", "down", "down")  # Report writing, on the list
        # The choice shows in the text itself, not only in its colour.
        marks = [c.render().plain[:3] for c in app.screen.query(Choice)]
        assert marks == ["▐ ▌", "▐ ▌", "▐ ▌", "▐●▌", "▐ ▌"]
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "✓ Signed out off site: Laptop LAP-001" in text
        assert "Due back Wed 11 Mar 08:30." in text
    [item] = school.devices.offsite_now()
    assert (item.device.tag, item.staff.code, item.reason) == (
        "LAP-001",
        "ASMITH",
        "Report writing",
    )
    assert item.expected_return == datetime(2026, 3, 11, 8, 30, tzinfo=UTC)


async def test_second_label_adds_a_work_phone_which_must_be_charged(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-002")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "2")  # School trip or visit
        await scan_fast(pilot, "SRK1:D:WP-01")  # the second label, with the form half filled
        text = screen_text(app)
        assert "Added Work phone WP-01." in notice(app)
        assert "Laptop LAP-002" in text and "Work phone WP-01" in text
        charged = app.screen.query_one("#charged", Checkbox)
        assert charged.display
        await type_into(pilot, "#due", "Fri 17:00")
        assert "Work phones leave site charged and ready" in notice(app)
        assert school.devices.offsite_now() == ()
        assert charged.render().plain.startswith("▐ ▌")
        charged.value = True
        await pilot.pause()
        assert charged.render().plain.startswith("▐✓▌")
        await type_into(pilot, "#due", "Fri 17:00")
        text = screen_text(app)
        assert "Signed out off site: Laptop LAP-002, Work phone WP-01" in text
        assert "Due back Fri 13 Mar 17:00." in text
    items = school.devices.offsite_now()
    assert sorted(i.device.tag for i in items) == ["LAP-002", "WP-01"]
    assert len({i.batch for i in items}) == 1
    assert {i.reason for i in items} == {"School trip or visit"}


async def test_a_slow_answer_does_not_wipe_the_message_shown_before_it(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Training recorded, back on the form: "Display-screen training recorded" is shown while
    # the form checks again. When that check took longer than Gateway.BUSY_SECONDS (a slow
    # database, a loaded machine), "Recording, please wait…" replaced the message, and
    # went away with it: the person never saw that their training was recorded.
    for policy in school.policies.outstanding("EPATEL"):
        school.policies.acknowledge("EPATEL", policy.id, policy.sha256)
    gate = hold(monkeypatch, school.devices, "check_sign_out")
    gate.set()
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f3")
        assert isinstance(app.screen, VduScreen)
        gate.clear()  # the form's next check is slow to answer
        field = app.screen.query_one("#vdu-date", Input)
        field.focus()
        field.value = "today"
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, SignOutScreen) and "Recording, please" in notice(app),
        )
        gate.set()
        await settle(pilot)
        assert "Display-screen training recorded (10 Mar 2026)" in notice(app)


async def test_missing_policy_and_training_come_first_then_back_to_the_form(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f3")
        assert isinstance(app.screen, PolicyScreen)
        assert app.screen.chained
        assert "School Acceptable Use Policy" in screen_text(app)
        await press(pilot, "end")
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        await pilot.pause(PolicyScreen.READ_SECONDS)  # a person reads before agreeing
        await press(pilot, "enter")
        assert isinstance(app.screen, VduScreen)
        await type_into(pilot, "#vdu-date", "today")  # not filled in: the person says when
        assert isinstance(app.screen, SignOutScreen)
        assert "Display-screen training recorded (10 Mar 2026)" in notice(app)
        assert app.focused is not None and app.focused.id == "tag"
        await type_into(pilot, "#tag", "lap-001")
        assert "Laptop LAP-001" in screen_text(app)
        await press(pilot, "1")
        await press(pilot, "enter")
        assert "Signed out off site: Laptop LAP-001" in screen_text(app)
    assert school.policies.outstanding("EPATEL") == ()
    assert school.people.status("EPATEL").vdu_trained_on is not None
    assert [i.staff.code for i in school.devices.offsite_now()] == ["EPATEL"]


async def test_regular_use_asks_for_the_line_manager(
    school: Services, kiosk_clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    for _ in range(2):
        school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
        kiosk_clock.advance(hours=16)
        school.devices.return_device("LAP-001")
        kiosk_clock.advance(days=1)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        text = screen_text(app)
        assert "This would be your laptop sign-out number 3 in 28 days" in text
        await press(pilot, "1")
        await press(pilot, "enter")
        assert "Name the line manager who agreed to it" in notice(app)
        # Chosen from the staff list (the person's own line manager first), not typed.
        app.screen.query_one("#manager").focus()
        await press(pilot, "down")  # opens the list
        await press(pilot, *"carol", "enter")  # typing searches it; Enter chooses
        assert "agreed by Carol Head" in app.screen.summary_text()  # type: ignore[attr-defined]
        assert school.devices.offsite_now() == ()
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.line_manager == "Carol Head (CHEAD)"


async def test_the_line_manager_chosen_is_recorded_as_that_persons_code(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # Two people called Carol Head: "agreed by Carol Head" must say which one.
    school.people.add_staff("CHEAD2", "Carol Head", roles=["slt"], admin_code="CHEAD")
    make_ready(school, "ASMITH")
    for _ in range(2):
        school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
        kiosk_clock.advance(hours=16)
        school.devices.return_device("LAP-001")
        kiosk_clock.advance(days=1)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        await press(pilot, "1")  # the reason first: "1" waits in the code field for Enter
        await wait_for(pilot, lambda: bool(getattr(app.screen, "_staff", None)))  # the list
        # The list opened, the second Carol Head reached with the arrows (her own line
        # manager first, then by name: Ben Jones, Carol Head), Enter chooses her: the list's
        # Enter, not the code field's (which read "1" and signed out with no manager).
        manager = app.screen.query_one("#manager", Select)
        manager.focus()
        await press(pilot, "down", "down", "down", "enter")
        await settle(pilot)
        assert manager.value == "CHEAD2"
        assert "agreed by Carol Head (CHEAD2)." in app.screen.summary_text()  # type: ignore[attr-defined]
        assert school.devices.offsite_now() == ()
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    signed = [d for kind, d in events(school) if kind == "device_signed_out"]
    assert signed[-1]["line_manager"] == "CHEAD2"
    [item] = school.devices.offsite_now()
    assert item.line_manager == "Carol Head (CHEAD2)"


async def test_device_already_out_unknown_label_and_retired_device(school: Services) -> None:
    make_ready(school, "ASMITH")
    make_ready(school, "EPATEL")
    school.devices.sign_out("EPATEL", ["LAP-001"], reason="Planning")
    school.people.retire_device("LAP-002")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f3")
        assert isinstance(app.screen, SignOutScreen)
        await type_into(pilot, "#tag", "LAP-001")
        assert "LAP-001 is already signed out to Esha Patel" in notice(app)
        await type_into(pilot, "#tag", "LAP-002")
        assert "LAP-002 has been retired" in notice(app)
        await scan_fast(pilot, "SRK1:D:LAP-999")
        assert "Label LAP-999 is not on the device list" in notice(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
        await scan_fast(pilot, "SRK1:D:LAP-002")
        assert "LAP-002 has been retired. Please hand it to the office." in notice(app)
    assert [i.device.tag for i in school.devices.offsite_now()] == ["LAP-001"]


async def test_label_of_a_device_off_site_offers_the_return(
    school: Services, kiosk_clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    kiosk_clock.advance(days=1, hours=2)  # Wednesday 10:05: overdue
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, ReturnScreen)
        text = screen_text(app)
        assert "Return Laptop LAP-001" in text
        assert "Signed out to Alice Smith since Tue 10 Mar 08:05 (Report writing)." in text
        assert "⚠ OVERDUE: Due back Wed 11 Mar 08:30." in text
        await type_into(pilot, "#condition", "Charger missing")
        text = screen_text(app)
        assert "Laptop LAP-001 returned (it was overdue)" in text
        assert "Condition noted: Charger missing" in text
    assert school.devices.offsite_now() == ()
    rows = school.register.day(kiosk_clock.now.date()).rows
    assert rows[-1].detail == "condition: Charger missing"


async def test_return_of_a_device_that_is_in_school(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f4")
        await scan(pilot, "SRK1:D:WP-01")
        assert isinstance(app.screen, HomeScreen)
        assert "Work phone WP-01 is not signed out: there is nothing to return." in notice(app)


async def test_keep_a_device_longer(school: Services, kiosk_clock: FakeClock) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert "Laptop LAP-001, due back Wed 11 Mar 08:30" in screen_text(app)
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        assert app.screen.query_one("#new-due").value == "Thu 12 Mar 08:30"  # type: ignore[attr-defined]
        await type_into(pilot, "#new-due", "32/13 08:30")
        await type_into(pilot, "#extend-reason", "Reports due Friday")
        assert "is not a day and time I can read" in notice(app)
        await type_into(pilot, "#new-due", "13/03 08:30")
        assert "LAP-001 now due back Fri 13 Mar 08:30" in screen_text(app)
    [item] = school.devices.offsite_now()
    assert item.expected_return == datetime(2026, 3, 13, 8, 30, tzinfo=UTC)
    assert item.expected_return - kiosk_clock.now == timedelta(days=3, minutes=25)


async def test_half_filled_sign_out_is_dropped_after_the_idle_timeout(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(with_settings(school, idle_timeout=10))
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        await press(pilot, "3")
        assert isinstance(app.screen, SignOutScreen)
        await idle(pilot, 11)
        assert isinstance(app.screen, HomeScreen)
        assert app.focused is not None and app.focused.id == "scan"
    assert school.devices.offsite_now() == ()


async def test_other_reason_is_typed(school: Services) -> None:
    make_ready(school, "EPATEL")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await scan_fast(pilot, "SRK1:D:LAP-002")
        await press(pilot, "up")  # "Other" has no digit key: a digit and typed words
        assert app.focused is not None and app.focused.id == "other-reason"
        await type_into(pilot, "#other-reason", "")
        assert "Please say briefly why it is going off site." in notice(app)
        await type_into(pilot, "#other-reason", "Governors' meeting at the LA")
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.reason == "Governors' meeting at the LA"


async def test_a_label_scanned_into_a_focused_field_adds_the_device_not_text(
    school: Services,
) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-002"], reason="Planning")
    school.devices.return_device("LAP-002")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")  # no text field on a person's screen
        await scan_fast(pilot, "SRK1:D:LAP-001")
        await press(pilot, "2")
        due = app.screen.query_one("#due", Input)
        due.focus()
        before = due.value
        await scan(pilot, "SRK1:D:WP-01")  # typed key by key into the focused field
        assert due.value == before
        assert "Added Work phone WP-01." in notice(app)
        assert "Work phone WP-01" in screen_text(app)
