"""Round 18, typing and touch: what a person types at the kiosk is what is recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import Input, RadioButton, RadioSet, Static

from kiosk.services.app import Services
from kiosk.ui.pin import PinScreen
from kiosk.ui.returns import ExtendScreen
from kiosk.ui.widgets import CodeField
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import (
    hold,
    make_app,
    notice,
    press,
    running,
    scan,
    settle,
    tap,
    tap_at,
    type_code,
    wait_for,
)

pytestmark = pytest.mark.ui


async def test_keep_longer_with_a_weekday_before_the_due_day_shortens_nothing(
    school: Services, kiosk_clock: FakeClock
) -> None:
    """Alice's laptop is due back Friday 13 March 15:30 and she wants it over the weekend.
    On "Keep it longer" she types "Thu" (meaning the Thursday after, as she thinks of the
    week it is due in): read from today (Tuesday 10 March) that is Thursday 12 March, a day
    BEFORE it is due. Recorded, her "keep it longer" brought the return forward: the laptop
    showed as overdue a day early and the office chased her. Refused instead, saying when it
    is due now; the due date is unchanged."""
    make_ready(school, "ASMITH")
    due = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing", expected_return=due)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        await type_code(pilot, "Thu")  # over the suggestion (selected), then Enter
        await type_code(pilot, "Over the weekend")
        assert isinstance(app.screen, ExtendScreen)
        assert "Fri 13 Mar 15:30" in notice(app)
    [item] = school.devices.offsite_now()
    assert item.expected_return == due
    assert "return_extended" not in [r.kind for r in school.register.day(due.date()).rows]


async def test_pin_pad_taps_while_the_last_pin_is_checked_are_kept(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin typed a wrong PIN and Enter, and at once tapped the right one on the pad
    while the wrong one was still being checked (a wrong PIN's check is slowed on purpose).
    The taps made meanwhile were dropped without a word: the PIN sent next lacked its first
    digits, another wrong PIN counted towards locking the pad. (Digits typed at the keyboard
    wait and are kept.) Tapped digits are kept as well."""
    gate = hold(monkeypatch, school.admin, "check_pin")  # checked once the taps are made
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *"111111")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.busy)
        pad = app.screen
        assert isinstance(pad, PinScreen)
        await _tap_pin(pilot, app, pad)
        assert app.busy  # all made while the wrong PIN was being checked
        gate.set()
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        assert "Wrong PIN" in notice(app)
        await press(pilot, "enter")
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PinScreen) and screen.stage == "badge"


async def test_choosing_the_device_after_typing_the_return_keeps_what_was_typed(
    school: Services,
) -> None:
    """Alice has two laptops out. On "Keep it longer" she taps the return field first and
    types "Fri 15:30", then taps which laptop. Choosing it put that laptop's suggested return
    over what she had typed (the field's text changed under her eyes, the reason next), and
    Enter kept it until the suggestion, not Friday 15:30. What she typed stays."""
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001", "LAP-002"], reason="Report writing")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        tap(app, "#new-due")
        await settle(pilot)
        due = app.screen.query_one("#new-due", Input)
        due.value = ""
        await type_code(pilot, "Fri 15:30", enter=False)
        assert due.value == "Fri 15:30"
        second = list(app.screen.query_one("#which", RadioSet).query(RadioButton))[1]
        region = second.region
        tap_at(app, region.x + 2, region.y)
        await settle(pilot)
        assert due.value == "Fri 15:30"
        reason = app.screen.query_one("#extend-reason", Input)
        reason.focus()
        await settle(pilot)
        await type_code(pilot, "Reports")
    kept = {i.device.tag: i.expected_return for i in school.devices.offsite_now()}
    assert kept["LAP-002"] == datetime(2026, 3, 13, 15, 30, tzinfo=UTC)


async def test_keep_longer_says_what_enter_records_before_it_records_it(
    school: Services,
) -> None:
    """The sign-out form's summary line says what Enter records; "Keep it longer" said
    nothing until it was recorded. "Tue 15:30" typed on a Tuesday is next week's Tuesday,
    and "Sat" a day the school is closed: both are said as the return is typed."""
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        screen = app.screen
        assert isinstance(screen, ExtendScreen)
        summary = screen.query_one("#summary", Static)
        await type_code(pilot, "Tue 15:30", enter=False)
        assert "Enter records: Laptop LAP-001 kept until Tuesday 17 March at 15:30" in str(
            summary.visual
        )
        due = screen.query_one("#new-due", Input)
        due.value = ""
        await type_code(pilot, "Sat", enter=False)
        assert "Saturday 14 March is not a school day" in str(summary.visual)
        due.value = ""
        await type_code(pilot, "Wed 8:00", enter=False)
        assert "must be later" in str(summary.visual)


@pytest.mark.parametrize(
    ("keys", "read"),
    [
        # "LAP-01", ← to after "LAP-0", then the 0 left out: the field showed the cursor
        # there, and the 0 went on the end ("LAP-010", another laptop's tag, read as it).
        ([*"LAP-01", "left", "0"], "LAP-001"),
        ([*"HALL", "home", "D"], "DHALL"),
        ([*"DHAXLL", "left", "left", "backspace"], "DHALL"),
        # Shift+arrows select, as the field shows: a key typed replaces what is selected.
        ([*"DHAXX", "shift+left", "shift+left", *"LL"], "DHALL"),
        ([*"DHALLXX", "shift+left", "shift+left", "backspace"], "DHALL"),
    ],
)
async def test_a_key_typed_after_moving_the_cursor_goes_where_the_cursor_is(
    school: Services, keys: list[str], read: str
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        for key in keys:
            await pilot.press(key)
        await settle(pilot)
        assert app.screen.query_one(CodeField).value == read


async def test_the_pin_typed_again_for_the_badge_is_not_shown_in_clear(school: Services) -> None:
    """The PIN accepted, the admin (thinking it was not) types it again where her staff code
    goes: it stood in large type in the staff room until Enter. Masked as it is typed."""
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        screen = app.screen
        assert isinstance(screen, PinScreen) and screen.stage == "badge"
        for digit in ADMIN_PIN:
            await pilot.press(digit)
        await settle(pilot)
        code = screen.query_one("#admin-code", Input)
        assert code.value == ADMIN_PIN and code.password
        assert ADMIN_PIN not in "".join(
            strip.text for strip in code.render_lines(code.region.reset_offset)
        )


@pytest.mark.parametrize("key", ["ctrl+c", "ctrl+x"])
async def test_the_pin_masked_where_the_badge_goes_is_never_copied(
    school: Services, key: str
) -> None:
    """The PIN typed again where the admin's staff code goes is masked; selected (Shift+Home)
    and copied or cut, it went to the clipboard (and the terminal's, OSC 52) all the same."""
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        screen = app.screen
        assert isinstance(screen, PinScreen) and screen.stage == "badge"
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        for digit in ADMIN_PIN:
            await pilot.press(digit)
        await pilot.press("shift+home")
        await settle(pilot)
        code = screen.query_one("#admin-code", Input)
        assert code.password and code.selected_text == ADMIN_PIN
        await pilot.press(key)
        await settle(pilot)
        assert copied == []
        assert code.value == ADMIN_PIN


async def test_pin_pad_ok_tapped_while_the_last_pin_is_checked_says_so(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong PIN and Enter, then the right one tapped on the pad and OK at once, while the
    wrong one was still being checked: the digits were kept (a full row of dots), and OK did
    nothing, without a word. It says to press OK again, and says so again with the answer."""
    gate = hold(monkeypatch, school.admin, "check_pin")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *"111111")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.busy)
        pad = app.screen
        assert isinstance(pad, PinScreen)
        await _tap_pin(pilot, app, pad)
        tap(app, "#pin-ok")
        await wait_for(pilot, lambda: "press OK again" in notice(app))
        assert "Still checking the last PIN" in notice(app)
        gate.set()
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        assert "Wrong PIN" in notice(app) and "press OK again" in notice(app)
        assert pad.digits == ADMIN_PIN
        await pilot.pause(0.6)  # read, then tapped (a tap as the answer came is dropped)
        tap(app, "#pin-ok")
        await settle(pilot)
        assert pad.stage == "badge"


async def test_keep_longer_with_two_devices_the_return_typed_at_once_goes_in_whole(
    school: Services,
) -> None:
    """Alice has two laptops out; "Keep it longer" opens with the cursor on the device list,
    and she types the return straight away, "Wed 8:00". The list took no letters: "Wed" was
    dropped without a word, the Space chose the first laptop (one she never chose) and
    "8:00" replaced the suggestion. What she types goes into the return, whole, and no
    device is chosen for her."""
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001", "LAP-002"], reason="Report writing")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        screen = app.screen
        assert isinstance(screen, ExtendScreen)
        which = screen.query_one("#which", RadioSet)
        assert app.focused is which
        await type_code(pilot, "Wed 8:00", enter=False)
        due = screen.query_one("#new-due", Input)
        assert due.value == "Wed 8:00"
        assert which.pressed_index == -1
        assert "Choose which device" in str(screen.query_one("#summary", Static).visual)
        # Space and the arrows at the list still choose, as they did.
        which.focus()
        await settle(pilot)
        await press(pilot, "down", "space")
        assert which.pressed_index >= 0 and due.value == "Wed 8:00"


async def _tap_pin(pilot: Any, app: Any, pad: PinScreen) -> None:
    """The admin PIN tapped on the pad while the last PIN is checked, a tap at a time: each
    aimed at its key as the pad is drawn then (the "checking" line may move the pad as it
    comes), each kept before the next."""
    for digit in ADMIN_PIN:
        wanted = pad.digits + digit
        await pilot.pause()
        tap(app, f"#pin-{digit}")
        await wait_for(pilot, lambda wanted=wanted: pad.digits == wanted)
    assert pad.digits == ADMIN_PIN
