"""Round 18, typing at ``kiosk admin``'s sign-in: the PIN stays in its field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from kiosk.services.app import Services
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin.app import AdminApp
from kiosk.ui.admin.dialogs import ConsoleModal
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import (
    SIZE,
    console_in,
    messages,
    open_services,
    quiet,
    text_of,
    wait_until,
)
from tests.ui.keyboard import scanned, typed

pytestmark = pytest.mark.ui

PIN = "402718"


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    svc.admin.set_pin(PIN)
    yield svc
    svc.close()


@pytest.mark.parametrize("key", ["ctrl+c", "ctrl+x"])
async def test_the_pin_is_never_copied_to_the_clipboard(services: Services, key: str) -> None:
    """The office's admin types the PIN, Tabs on, Shift+Tabs back (the field selects all it
    holds as it takes the focus) and presses Ctrl+C to leave (or Ctrl+X). The PIN, masked on
    the screen, went to the clipboard: the app's, which Ctrl+V put in the staff-code field in
    clear, and the office computer's (Textual sends it to the terminal, OSC 52), pasted later
    into an e-mail or a document. It is not copied: the clipboard is left as it was."""
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press(*PIN, "tab", "shift+tab")
        pin = app.screen.query_one("#pin", Input)
        assert app.focused is pin and pin.selected_text == PIN
        await pilot.press(key)
        await pilot.pause()
        await pilot.press("tab", "ctrl+v")
        await pilot.pause()
        assert copied == []
        assert PIN not in app.clipboard
        assert app.screen.query_one("#code", Input).value == ""
        assert pin.value == PIN  # Ctrl+X did not cut it either


async def test_a_badge_scanned_into_the_pin_field_is_not_a_wrong_pin(services: Services) -> None:
    """The office's admin types the PIN and scans her badge straight away, without Enter:
    the scanner typed into the PIN field, which kept the PIN and the "1" of "SRK1:S:...",
    and its Enter moved on to the staff-code field. Her badge scanned again there signed in
    with "4027181": a wrong PIN, counted against the office's keyboard (five lock the
    console), and she never knew why. The PIN field with more than digits typed into it is
    not a PIN: cleared, not sent, not counted, and the field says so."""
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        pin = app.screen.query_one("#pin", Input)
        await pilot.press(*PIN)
        scanned(app, "SRK1:S:DOFFICE")
        await pilot.pause()
        assert app.focused is pin and pin.value == ""
        assert any("not the PIN" in m for m in messages(app))
        # What she does next, the badge again, is not sent with a PIN either.
        scanned(app, "SRK1:S:DOFFICE")
        await pilot.pause()
        assert not any("Wrong PIN" in m for m in messages(app))
        assert app.focused is pin and pin.value == ""
        # The PIN, Enter, the badge: signed in, no wrong PIN on record.
        await pilot.press(*PIN, "enter")
        scanned(app, "SRK1:S:DOFFICE")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
    assert services.admin.check_pin(PIN).lockouts_since_last_sign_in == ()


async def test_the_pin_typed_in_the_staff_code_field_is_masked_as_typed(
    services: Services,
) -> None:
    """A staff code put in the PIN field first (its letters dropped), Enter, then the PIN in
    the staff-code field: it stood there in clear until the sign-in refused it."""
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        code = app.screen.query_one("#code", Input)
        code.focus()
        await pilot.press(*PIN)
        await pilot.pause()
        assert code.value == PIN and code.password
        await pilot.press("backspace")
        await pilot.pause()
        assert not code.password  # five digits: a staff code's shape, shown as typed


@pytest.fixture
def no_pin_yet(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    yield svc
    svc.close()


@pytest.mark.parametrize("enter_between", [True, False])
async def test_a_badge_scanned_into_a_new_pin_field_sets_no_pin(
    no_pin_yet: Services, enter_between: bool
) -> None:
    """First run: the admin types the new PIN and scans her badge without Enter, twice (or
    types the PIN, Enter, the PIN again and the badge). Both fields held "4027181" (the
    badge's letters refused, its "1" kept): they matched, that PIN was set, the console
    opened, and the PIN she knows was refused from then on. A PIN field that refused a key
    after its digits is cleared, with the other, and the screen says why; nothing is set."""
    services = no_pin_yet
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "No admin PIN" in text_of(app.screen.query_one("#signin-status", Static))
        )
        if enter_between:
            await pilot.press(*PIN, "enter", *PIN)
            scanned(app, "SRK1:S:DOFFICE")
        else:
            for _ in range(2):
                await pilot.press(*PIN)
                scanned(app, "SRK1:S:DOFFICE")
        scanned(app, "SRK1:S:DOFFICE")
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, AdminConsoleScreen)
        assert any("not the PIN" in m for m in messages(app))
        for field in ("#new-pin", "#new-pin-again"):
            assert app.screen.query_one(field, Input).value == ""
    assert not services.admin.is_pin_set()


@pytest.mark.parametrize("key", ["ctrl+c", "ctrl+x"])
async def test_the_pin_masked_in_the_staff_code_field_is_never_copied(
    services: Services, key: str
) -> None:
    """The PIN typed in the staff-code field is masked there as it is typed; selected
    (Shift+Tab and Tab back select all) and Ctrl+C (pressed to leave) or Ctrl+X, it went to
    the clipboard all the same, the office computer's too. Masked, it is not copied."""
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        code = app.screen.query_one("#code", Input)
        code.focus()
        await pilot.press(*PIN, "shift+tab", "tab")
        await pilot.pause()
        assert code.password and code.selected_text == PIN
        await pilot.press(key)
        await pilot.pause()
        assert copied == []
        assert code.value == PIN  # not cut either
        # A staff code (not the PIN's shape, shown as typed) is copied as any text.
        code.value = "DOFFICE"
        await pilot.press("shift+tab", "tab", "ctrl+c")
        await pilot.pause()
        assert copied == ["DOFFICE"]


@pytest.mark.parametrize(
    "keys",
    [
        ["d", *PIN],  # a stray key before the PIN
        ["d", "backspace", *PIN],
        [*"dhall", *PIN],  # her staff code typed first, into the PIN field
        ["4", "d", "backspace", "backspace", *PIN],  # rubbed out: the field empty again
    ],
)
async def test_a_stray_letter_before_the_pin_does_not_refuse_it(
    services: Services, keys: list[str]
) -> None:
    """A letter typed into the empty PIN field (a stray key, or her staff code typed there
    first) was remembered: the right PIN typed after it was cleared as "not the PIN (a badge
    scanned there?)", again and again, whatever she did. Only a key refused among digits
    (the PIN, then a badge) makes it not the PIN; the field emptied forgets it."""
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        await pilot.press(*keys, "enter")
        await pilot.pause()
        assert not any("not the PIN" in m for m in messages(app))
        assert app.focused is app.screen.query_one("#code", Input)
        await pilot.press(*"DOFFICE", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))


async def test_a_letter_among_the_pin_digits_is_still_not_the_pin(services: Services) -> None:
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: "Type the admin PIN" in text_of(app.screen.query_one("#signin-status", Static)),
        )
        pin = app.screen.query_one("#pin", Input)
        await pilot.press(*"4027", "x", *"18", "enter")
        await pilot.pause()
        assert any("not the PIN" in m for m in messages(app))
        assert app.focused is pin and pin.value == ""


BADGE_DROPPED = "A badge was scanned: the console does not read badges; nothing was done."


@pytest.mark.parametrize(
    ("badge", "gap"),
    [
        ("SRK1:S:CBAKER", 0.0),
        ("srk1:s:cbaker", 0.0),
        ("SRK1:S:104522", 0.0),
        ("srk1:s:cbaker", 0.15),
    ],
)
@pytest.mark.parametrize("host", ["kiosk", "office"])
async def test_a_badge_scanned_into_the_console_does_nothing_and_says_so(
    services: Services, host: str, badge: str, gap: float
) -> None:
    """A colleague scans her badge at the console left open (the kiosk's after F10, or
    `kiosk admin` with a scanner on the office machine). Its keys went to the console's
    shortcuts: a staff code's digits chose a view; with Caps Lock on and a row chosen, "c"
    opened "Correct the register", the rest went in as the reason, and a second scan's Enter
    voided the event. A whole scan is dropped, and the console says so."""
    services.phones.deposit("ASMITH")
    async with console_in(host, services, PIN, rows=1) as (app, pilot):
        console = app.screen
        table = console.query_one("#reg-table", DataTable)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("enter")  # the row chosen
        await quiet(pilot)
        for _ in range(2):  # scanned twice: nothing made of the first is confirmed by it
            if gap:
                await typed(pilot, badge + "⏎", gap=gap)
            else:
                scanned(app, badge)
            await quiet(pilot)
        assert app.screen is console, [type(s).__name__ for s in app.screen_stack]
        assert not any(isinstance(s, ConsoleModal) for s in app.screen_stack)
        assert console.query_one("#console-tabs", TabbedContent).active == "tab-register"
        assert any(BADGE_DROPPED in m for m in messages(app)), messages(app)
        rows = services.register.day(START.date()).rows
        assert not any(r.voided for r in rows)
        # A key typed by hand still acts: 2 shows the second view.
        await pilot.press("2")
        await quiet(pilot)
        assert console.query_one("#console-tabs", TabbedContent).active != "tab-register"


async def test_a_badge_scanned_into_a_console_dialog_does_nothing(services: Services) -> None:
    """With "Correct the register" open, a badge scanned went in as the reason and its
    Enter asked to void the event (a second scan's Enter voided it)."""
    services.phones.deposit("ASMITH")
    async with console_in("office", services, PIN, rows=1) as (app, pilot):
        table = app.screen.query_one("#reg-table", DataTable)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsoleModal))
        dialog = app.screen
        await quiet(pilot)
        scanned(app, "srk1:s:cbaker")
        scanned(app, "srk1:s:cbaker")
        await quiet(pilot)
        assert app.screen is dialog
        assert all(not field.value for field in dialog.query(Input))
        assert any(BADGE_DROPPED in m for m in messages(app)), messages(app)
        assert not any(r.voided for r in services.register.day(START.date()).rows)
        # A reason typed by hand, "staff error", is typed as it was.
        await typed(pilot, "staff error", gap=0.05)
        await quiet(pilot)
        assert "staff error" in [field.value for field in dialog.query(Input)]


async def test_the_pin_typed_in_the_first_run_staff_code_field_is_masked(
    no_pin_yet: Services,
) -> None:
    """First run: the new PIN typed again where the staff code goes stood there in clear;
    masked as in the sign-in's staff-code field, and never copied."""
    app = AdminApp(no_pin_yet.settings, no_pin_yet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "No admin PIN" in text_of(app.screen.query_one("#signin-status", Static))
        )
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press(*PIN, "enter", *PIN, "enter", *PIN)
        await pilot.pause()
        code = app.screen.query_one("#setup-code", Input)
        assert app.focused is code and code.value == PIN and code.password
        await pilot.press("shift+home", "ctrl+c")
        await pilot.pause()
        assert copied == []
        await pilot.press("end", "backspace")
        await pilot.pause()
        assert code.value == PIN[:-1] and not code.password  # a staff code's shape: shown


async def test_the_pin_typed_as_the_first_run_staff_code_is_not_said_back(
    no_pin_yet: Services,
) -> None:
    """First run: the new PIN typed a third time, where the staff code goes, and Enter: the
    refusal ("no member of staff ...") quoted it and left it in the field."""
    app = AdminApp(no_pin_yet.settings, no_pin_yet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "No admin PIN" in text_of(app.screen.query_one("#signin-status", Static))
        )
        await pilot.press(*PIN, "enter", *PIN, "enter", *PIN, "enter")
        await wait_until(pilot, lambda: any("cleared" in m for m in messages(app)))
        await app.workers.wait_for_complete()
        assert not any(PIN in m for m in messages(app)), messages(app)
        assert app.screen.query_one("#setup-code", Input).value == ""
    assert not no_pin_yet.admin.is_pin_set()


@pytest.mark.parametrize("field", ["#new-pin", "#new-pin-again"])
async def test_the_new_pin_is_never_copied_to_the_clipboard(
    no_pin_yet: Services, field: str
) -> None:
    """The first run's two PIN fields, as the sign-in's: selected and Ctrl+C or Ctrl+X, the
    new PIN is not copied nor cut."""
    app = AdminApp(no_pin_yet.settings, no_pin_yet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: "No admin PIN" in text_of(app.screen.query_one("#signin-status", Static))
        )
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        box = app.screen.query_one(field, Input)
        box.focus()
        await pilot.press(*PIN, "shift+home", "ctrl+c", "ctrl+x")
        await pilot.pause()
        assert box.selected_text == PIN and box.value == PIN
        assert copied == []
