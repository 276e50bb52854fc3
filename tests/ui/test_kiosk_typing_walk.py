"""What a tester typing at human speed (one key at a time, in tmux) found on the merged typing
model of issue 16: each on a real database file, the register read before and after."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.events import MouseDown, MouseUp
from textual.widgets import Input, Select

from kiosk.config import Settings, log_dir
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.pin import PinScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.returns import ReturnScreen
from kiosk.ui.signout import ReasonSet, SignOutScreen
from kiosk.ui.wellbeing import ReviewScreen
from kiosk.ui.widgets import CodeField
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.conftest import ADMIN_PIN
from tests.ui.keyboard import scanned
from tests.ui.kiosk_support import (
    burst,
    burst_keys,
    events,
    hold,
    make_app,
    notice,
    press,
    read_policy_to_end,
    running,
    scan,
    scan_fast,
    screen_text,
    settle,
    wait_for,
)

pytestmark = pytest.mark.ui


async def test_the_line_manager_list_starts_with_the_persons_own_manager(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # Imported now: the roster keeps the manager's staff code.
    school.people.add_staff("FNEW", "Fay New", line_manager="CHEAD", roles=["laptop_user"])
    make_ready(school, "FNEW")
    assert school.people.status("FNEW").staff.line_manager == "CHEAD"
    for _ in range(2):
        school.devices.sign_out("FNEW", ["LAP-001"], reason="Planning")
        kiosk_clock.advance(hours=16)
        school.devices.return_device("LAP-001")
        kiosk_clock.advance(days=1)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:FNEW")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        await settle(pilot)
        options = app.screen.query_one("#manager", Select)._options
        first = next((str(p), v) for p, v in options if isinstance(v, str))
        assert first == ("Carol Head (your line manager)", "CHEAD")  # recorded: the code


# --- the PIN pad -------------------------------------------------------------------------


async def test_a_label_typed_at_the_pin_pad_is_not_a_pin_and_not_an_attempt(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        for _ in range(8):  # 8 of them locked the keyboard
            await press(pilot, *"LAP-014", "enter")
            said = notice(app)
            assert "is not a PIN" in said and "LAP-014" not in said, said  # never quoted
            assert "attempts left" not in said
        await press(pilot, *"999999", "enter")
        assert "Wrong PIN. 4 attempts left." in notice(app)
        await press(pilot, *ADMIN_PIN, "enter")
        assert app.screen.stage == "badge"  # type: ignore[attr-defined]


async def test_backspace_at_the_pin_pad_rubs_out_the_key_typed_last(school: Services) -> None:
    # A letter hit by mistake in the middle of the PIN (no dot for it), then Backspace to rub
    # it out: the digits typed stay, and the PIN is accepted, not counted as a wrong one.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        await press(pilot, *ADMIN_PIN[:4], "t", "backspace", *ADMIN_PIN[4:], "enter")
        assert "Wrong PIN" not in notice(app), notice(app)
        assert app.screen.stage == "badge"  # type: ignore[attr-defined]


async def test_the_admin_menu_has_no_letter_keys_and_a_typed_code_goes_nowhere(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:CHEAD")
        assert app.screen.stage == "menu"  # type: ignore[attr-defined]
        await press(pilot, *"dofficeax", "enter")  # a lowercase code: a, x were actions
        await press(pilot, "A", "X", "shift+a", "shift+x")
        assert isinstance(app.screen, PinScreen) and app.is_running
        assert app.screen.stage == "menu"
        assert "F2" in screen_text(app) and "F3" in screen_text(app)
        await press(pilot, "f2")
        assert type(app.screen).__name__ == "AdminConsoleScreen"


async def test_closing_from_the_pin_pad_is_recorded_with_the_admins_name(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        await press(pilot, "f3")
        await pilot.pause()
        assert not app.is_running
    [(kind, details)] = [e for e in events(school) if e[1].get("action") == "kiosk_app_closed"]
    assert kind == "admin_action" and details["from"] == "kiosk PIN pad"
    assert "kiosk closed by Dina Office" in (log_dir() / "kiosk.log").read_text()


async def test_closing_from_the_pin_pad_with_the_database_away_logs_the_admin(
    school: Services, kiosk_settings: Settings
) -> None:
    folder = Path(make_engine(kiosk_settings.database_url).url.database or "").parent
    away = folder.with_name(folder.name + "-away")
    app = KioskApp(settings=kiosk_settings, confirm_seconds=60.0, retry_seconds=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "ready")
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        assert app.screen.stage == "menu"  # type: ignore[attr-defined]
        assert app.services is not None
        folder.rename(away)
        app.services.ctx.engine.dispose()
        await press(pilot, "f3")
        await settle(pilot)
    assert not app.is_running
    away.rename(folder)
    log = (log_dir() / "kiosk.log").read_text()
    assert "kiosk app closed by Dina Office (DOFFICE) from the PIN pad; NOT recorded" in log


# --- another person's code on an unfinished screen ---------------------------------------


async def test_a_second_persons_code_on_an_open_policy_closes_it_records_nothing_for_her(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await read_policy_to_end(pilot, app, "SRK1:S:EPATEL")
        before = len(events(school))
        await press(pilot, *"BJONES", "enter")
        assert "Esha Patel's screen was closed: nothing recorded for them." in notice(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    added = events(school)[before:]
    assert [kind for kind, _ in added] == ["phone_deposited"]
    assert [h.staff.code for h in school.phones.phones_now()] == ["BJONES"]
    assert school.policies.outstanding("EPATEL") != ()


async def test_keys_typed_while_a_hand_over_is_read_go_to_the_next_persons_screen_at_once(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Esha's policy, opened over her screen; Ben types his code there, Enter, and goes on
    # typing a label while it is read. His screen is the kiosk's one person screen, taken off
    # the stack and shown again in one go: Textual told it "suspended" (for being taken off)
    # after "resumed" (for being shown again), so the kiosk kept what he had typed for 2 s
    # (KEYS_WAIT_SECONDS, its wait for a screen still being shown) instead of at once.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f7")
        assert isinstance(app.screen, PolicyScreen)
        gate = hold(monkeypatch, school.people, "resolve_scan")
        await pilot.press(*"BJONES", "enter")
        assert app.busy
        await pilot.press(*"LAP")  # typed while his code is read
        gate.set()
        await wait_for(pilot, lambda: isinstance(app.screen, PersonScreen) and not app.busy)
        assert "Ben Jones" in screen_text(app)
        field = app.screen.query_one(CodeField)
        await wait_for(pilot, lambda: field.value == "LAP", timeout=1.0)


async def test_a_second_persons_code_on_a_sign_out_form_closes_it(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        app.screen.query_one("#reason", ReasonSet).choose(0)
        await settle(pilot)
        before = len(events(school))
        await press(pilot, *"BJONES", "enter")
        assert isinstance(app.screen, PersonScreen)
        assert "Alice Smith's screen was closed: nothing recorded" in notice(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [kind for kind, _ in events(school)[before:]] == ["phone_deposited"]
    assert school.devices.offsite_now() == ()


async def test_a_second_persons_code_on_a_return_screen_returns_nothing(school: Services) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, ReturnScreen)
        before = len(events(school))
        await press(pilot, *"BJONES", "enter")
        assert isinstance(app.screen, PersonScreen)
        assert "screen was closed" in notice(app)
        await press(pilot, "enter")
    assert [kind for kind, _ in events(school)[before:]] == ["phone_deposited"]
    assert [i.device.tag for i in school.devices.offsite_now()] == ["LAP-001"]


async def test_a_refused_code_disarms_the_next_empty_enter_once(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await read_policy_to_end(pilot, app, "SRK1:S:EPATEL")
        before = len(events(school))
        await press(pilot, *"LAP-001", "enter")  # a label: refused here
        assert "was read: finish or cancel this first" in notice(app)
        await press(pilot, "enter")  # meant for the code, not "agree"
        assert isinstance(app.screen, PolicyScreen)
        assert len(events(school)) == before
        await press(pilot, "enter")  # now meant
        assert isinstance(app.screen, ConfirmScreen)
    assert [kind for kind, _ in events(school)[before:]] == ["policy_acknowledged"]


async def test_a_staff_code_typed_as_the_review_text_is_not_sent(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f12")
        assert isinstance(app.screen, ReviewScreen)
        before = len(events(school))
        await press(pilot, *"BJONES", "enter")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)  # Ben Jones's phone, as on home
        await press(pilot, "escape")
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f12")
        scanned(app, "SRK1:S:NOBODY")
        await press(pilot, "enter")  # straight after the scan
        assert isinstance(app.screen, ReviewScreen)
        assert "This records a request" not in notice(app)
    kinds = [kind for kind, _ in events(school)[before:]]
    assert "workstation_review_requested" not in kinds
    assert kinds == ["phone_deposited"]


# --- home: labels waiting for a badge --------------------------------------------------------


async def test_an_error_on_home_keeps_saying_which_labels_wait_and_esc_clears_them(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"LAP-001", "enter")
        await press(pilot, *"LAP-002", "enter")
        assert "LAP-001, LAP-002 in school" in notice(app)
        await press(pilot, *"DELL-5CG1234XYZ", "enter")
        said = notice(app)
        assert "DELL-5CG1234XYZ is not a staff code or an asset tag" in said
        assert "LAP-001, LAP-002 in school. To take it off site, scan your badge" in said
        await press(pilot, "A")  # the next code begins: the error goes, the labels stay said
        assert "LAP-001, LAP-002 in school" in notice(app)
        await press(pilot, "backspace", "escape")
        assert "LAP-001" not in notice(app)
        await press(pilot, *"EPATEL", "enter")
        assert isinstance(app.screen, PersonScreen)  # not a sign-out form for both


# --- the sign-out form: a reason's digit is a whole code ------------------------------------


async def test_the_next_label_typed_on_the_sign_out_form_is_not_a_reason(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"ASMITH", "enter")
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, SignOutScreen)
        reason = app.screen.query_one("#reason", ReasonSet)
        await press(pilot, *"LAP-002", "enter")  # the next label: its 2 is not a reason
        assert reason.pressed_index == -1
        assert app.screen.tags == ["LAP-001", "LAP-002"]
        assert "Added Laptop LAP-002" in notice(app)
        await press(pilot, "2")
        assert "for “School trip or visit”" in app.screen.summary_text()
        assert school.devices.offsite_now() == ()
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    items = school.devices.offsite_now()
    assert sorted(i.device.tag for i in items) == ["LAP-001", "LAP-002"]
    assert {i.reason for i in items} == {"School trip or visit"}


# --- keys in a burst: each Enter ends exactly one code, in order ---------------------------


async def test_codes_typed_in_a_burst_in_breakfast_club_are_read_one_by_one(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        before = len(events(school))
        burst(app, "EPATEL⏎ASMITH⏎CHEAD⏎")
        await settle(pilot)
        await wait_for(pilot, lambda: len(events(school)) >= before + 3)
        await settle(pilot)
    added = events(school)[before:]
    assert [kind for kind, _ in added] == ["phone_deposited"] * 3
    assert sorted(h.staff.code for h in school.phones.phones_now()) == [
        "ASMITH",
        "CHEAD",
        "EPATEL",
    ]


async def test_a_badge_and_enter_typed_in_a_burst_on_home_deposits(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        before = len(events(school))
        burst(app, "EPATEL⏎⏎")  # the second Enter is for the screen the first one opens
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    assert [kind for kind, _ in events(school)[before:]] == ["phone_deposited"]
    assert [h.staff.code for h in school.phones.phones_now()] == ["EPATEL"]


async def test_keys_typed_while_a_code_is_answered_go_to_the_next_screen(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"EPATEL")
        await pilot.press("enter")  # not settled: the answer is still on its way
        burst(app, "ASMITH⏎⏎")  # typed meanwhile: the next person, and their deposit
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await settle(pilot)
    assert [h.staff.code for h in school.phones.phones_now()] == ["ASMITH"]


async def test_a_code_typed_in_a_burst_on_the_confirmation_is_read_whole(
    school: Services,
) -> None:
    # The next person's code arrives all at once while the last deposit's confirmation is
    # shown: the first key takes the kiosk home, and every key after it, Enter included,
    # is read there in order (the first key alone once reached home).
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"EPATEL", "enter")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
        burst(app, "ASMITH⏎")
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, PersonScreen), timeout=3)
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "ASMITH"
    assert [h.staff.code for h in school.phones.phones_now()] == ["EPATEL"]


async def test_one_burst_through_a_deposit_and_the_next_persons_code(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        burst(app, "EPATEL⏎⏎ASMITH⏎⏎")
        await settle(pilot)
        await wait_for(pilot, lambda: len(school.phones.phones_now()) == 2, timeout=3)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert [kind for kind, _ in events(school)[-2:]] == ["phone_deposited"] * 2
    assert sorted(h.staff.code for h in school.phones.phones_now()) == ["ASMITH", "EPATEL"]


async def test_a_function_key_then_a_code_in_one_burst_is_read_in_that_order(
    school: Services,
) -> None:
    # F2 (phone in or out) then a badge typed: the badge's phone goes in at once. In one
    # burst the same, not the code read first and F2 after it (on home or on the screen the
    # code opens).
    app = make_app(school)
    async with running(app) as pilot:
        burst_keys(app, "f2", *"EPATEL", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=3)
    assert [h.staff.code for h in school.phones.phones_now()] == ["EPATEL"]


async def test_esc_then_the_next_code_in_one_burst_leaves_the_first_screen_first(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        burst_keys(app, "escape", *"ASMITH", "enter", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=3)
        await settle(pilot)
    assert [h.staff.code for h in school.phones.phones_now()] == ["ASMITH"]


@pytest.mark.parametrize("typing", ["one key at a time", "in one burst"])
async def test_a_function_key_after_another_persons_code_on_a_screen_does_nothing(
    school: Services, typing: str
) -> None:
    # Daniel's screen is open; Claire walks up, types her code and presses F2 (as she would
    # on home, where F2 then a code deposits). F2 here is Daniel's "deposit": it deposited
    # his phone, and her code was dropped. Neither is guessed now: the kiosk says what was
    # typed and how to go on, and records nothing.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        if typing == "one key at a time":
            await press(pilot, *"ASMITH", "f2")
        else:
            burst_keys(app, *"ASMITH", "f2")
            await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"
        assert "“ASMITH” is typed: press Enter to read it, or Esc to clear it." in notice(app)
        assert school.phones.phones_now() == ()
        await press(pilot, "enter")  # read: Alice's code, on Esha's screen, hands over
        await wait_for(
            pilot,
            lambda: (
                getattr(app.screen, "status", None) is not None
                and app.screen.status.staff.code == "ASMITH"
            ),
        )
    assert school.phones.phones_now() == ()


async def test_a_tap_straight_after_typing_takes_every_key_typed(school: Services) -> None:
    # A word ending in "s" typed into a form, then the button tapped at once: the "s" (held
    # back for a moment in case a scanner's "SRK1:" follows) is part of what is recorded, and
    # it does not turn up afterwards on the next screen.
    make_ready(school, "EPATEL")
    school.devices.sign_out("EPATEL", ["LAP-002"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f4")
        assert type(app.screen).__name__ == "ExtendScreen"
        await press(pilot, "enter")  # the suggested new time: on to the reason
        assert app.focused is not None and app.focused.id == "extend-reason"
        before = len(events(school))
        for key in "Parents evenings":
            await pilot.press(key)
        await tap(pilot, "#submit")
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause(0.6)  # longer than a key is ever held back
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
    new = events(school)[before:]
    assert [(kind, details.get("reason")) for kind, details in new] == [
        ("return_extended", "Parents evenings")
    ]


async def tap(pilot: Any, selector: str) -> None:
    """A tap on ``selector`` as the terminal sends it: mouse down and up, to the app (which
    makes the click). Pilot's ``click`` hands its events to the screen, past the app."""
    app = pilot.app
    region = app.screen.query_one(selector).region
    x, y = region.x + region.width // 2, region.y + region.height // 2
    for kind in (MouseDown, MouseUp):
        app.post_message(kind(None, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y))
    await pilot.pause()


async def test_a_function_key_on_the_confirmation_is_not_lost(school: Services) -> None:
    # The next person presses F3 (Sign a laptop out) while the last one's confirmation is
    # still up: it goes home (as any key does) and Sign a laptop out is armed there, as a
    # letter typed there starts the next code, so their badge then opens the form. (F2 only
    # goes home: Phone in / out would record on the badge alone, and F2 there is as often
    # the last person's "press any key": tests/ui/test_typing_round21.py.)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "enter")  # her phone in: the confirmation
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.pause(0.6)  # the confirmation read
        await press(pilot, "f3")
        assert type(app.screen).__name__ == "HomeScreen"
        assert app.screen.intent == "signout"  # type: ignore[attr-defined]
        before = len(events(school))
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PolicyScreen)  # her sign-out's first step
    assert events(school)[before:] == []


async def test_a_note_typed_before_tab_on_a_return_is_told_where_it_goes(school: Services) -> None:
    # "charger missing" typed straight away (the code field has the cursor), then Enter: read
    # as a code, refused, nothing recorded; the message quotes what was typed and says where
    # a note goes (it said "CHARGERMISSING is not a staff code or an asset tag").
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, ReturnScreen)
        before = len(events(school))
        await press(pilot, *"charger missing", "enter")
        said = notice(app)
        assert "“charger missing”" in said and "Tab" in said, said
        assert "CHARGERMISSING" not in said
        await press(pilot, "tab", *"charger missing", "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [(kind, details.get("condition")) for kind, details in events(school)[before:]] == [
        ("device_returned", "charger missing")
    ]


async def test_a_double_press_of_f2_leaves_nothing_armed_for_the_next_person(
    school: Services,
) -> None:
    # F2 pressed twice in a hurry on a person's screen: the first records her phone, the
    # second (typed while it was recorded) must not arm Phone in / out on home, where the
    # next person's badge would then record their phone without showing their screen.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        burst_keys(app, "f2", "f2")  # the second typed while the first is recorded, on any machine
        await settle(pilot)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HomeScreen", timeout=5)
        await settle(pilot)
        assert app.screen.intent is None  # type: ignore[attr-defined]
        before = len(events(school))
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
    assert events(school)[before:] == []


async def test_not_recorded_stays_up_before_the_next_persons_keys_take_the_screen(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found with the database file locked: Esha's deposit waited ~15 s, then "Not recorded"
    # was replaced within 250 ms by the screen of the code the next person had typed
    # meanwhile; Esha saw no failure at all.
    from kiosk.domain.errors import DatabaseUnavailable

    gate = threading.Event()

    def locked(*_args: Any, **_kwargs: Any) -> Any:
        gate.wait(10)
        raise DatabaseUnavailable("Not recorded: the database file is locked. Please try again.")

    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        monkeypatch.setattr(school.phones, "deposit", locked)
        await pilot.press("enter")  # her deposit, on its way
        burst(app, "ASMITH⏎")  # Alice, typed meanwhile
        await pilot.pause(0.1)
        assert app.queued_scans == len("ASMITH⏎")  # held: the deposit is not answered yet
        gate.set()
        await wait_for(pilot, lambda: "Not recorded" in notice(app))
        await pilot.pause(0.3)  # (settle would wait for the keys held back)
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"
        assert "the database file is locked" in notice(app)
        app.clock.advance(app.NOT_RECORDED_READ_SECONDS)  # read
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PersonScreen) and app.screen.status.staff.code == "ASMITH"
            ),
        )
    assert school.phones.phones_now() == ()


async def test_enter_in_a_field_then_the_next_fields_text_in_one_burst(school: Services) -> None:
    # On the Extend screen, Enter takes the suggested return time and moves on to the
    # reason. Typed in one burst, the reason went into the time field the Enter had just
    # left (its handler moved the focus on after the next keys had arrived), where a reason
    # like "Friday" would have been read as a new return time.
    make_ready(school, "EPATEL")
    school.devices.sign_out("EPATEL", ["LAP-002"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f4")
        assert type(app.screen).__name__ == "ExtendScreen"
        suggested = app.screen.query_one("#new-due", Input).value
        burst_keys(app, "enter", *"Parents evening", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    kind, details = events(school)[-1]
    assert (kind, details.get("reason")) == ("return_extended", "Parents evening")
    assert suggested
