"""Round 21: typing in the console's forms. Enter in a field moves on to the next field,
choices included: it never jumps over a choice to save, or to the field after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Select

from kiosk.domain.scan import MIN_PIN_LENGTH
from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import FormDialog
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.pin import PinScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.conftest import ADMIN_PIN
from tests.ui.keyboard import typed
from tests.ui.kiosk_support import (
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
)
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)

pytestmark = pytest.mark.ui


async def test_enter_after_the_policy_file_goes_to_the_acknowledge_choice_not_publish(
    services: Services,  # noqa: F811
    tmp_path: Path,
) -> None:
    # The office publishes a document for reference: title, Enter, version, Enter, the
    # file, Enter (as in every field before it), expecting "Must staff acknowledge it?"
    # next. That Enter published it at once, "Yes: everyone is asked" never put before
    # her: every member of staff was asked to acknowledge it, and a published version
    # cannot be changed.
    text = tmp_path / "guide.md"
    text.write_text("# Lunch rota guide\n\nWho is on duty when.\n", encoding="utf-8")
    before = {p.title for p in services.policies.current()}
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("4")  # Policies
        await wait_until(
            pilot, lambda: app.focused is not None and app.focused.id == "policies-table"
        )
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        title = dialog.query_one("#field-title")
        await wait_until(pilot, lambda: app.focused is title)
        title.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Lunch rota guide", "enter", *"Dec 2026", "enter")
        await pilot.press(*str(text), "enter")
        await pilot.pause()
        assert app.screen is dialog, "published on the Enter after the file's path"
        assert {p.title for p in services.policies.current()} == before
        required = dialog.query_one("#field-required", Select)
        await wait_until(pilot, lambda: app.focused is required)
        # Enter opens the choice, Down and Enter choose "No: for reference"; the cursor goes
        # on to Publish, and Enter there publishes what the form shows.
        await pilot.press("enter")
        await wait_until(pilot, lambda: required.expanded)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: required.value == "no")
        submit = dialog.query_one("#submit", Button)
        await wait_until(pilot, lambda: app.focused is submit)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not dialog)
    published = next(p for p in services.policies.current() if p.title == "Lunch rota guide")
    assert published.required is False


async def test_enter_after_a_device_tag_goes_to_its_kind_not_past_it(
    services: Services,  # noqa: F811
) -> None:
    # "TAB-03", Enter, "iPad 3", Enter added a laptop: Enter after the tag jumped over
    # "Kind" (a laptop, as it opens) to the description.
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")  # People
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "staff-table")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        await wait_until(pilot, lambda: app.focused is dialog.query_one("#field-tag"))
        await pilot.press(*"TAB-03", "enter")
        await pilot.pause()
        kind = dialog.query_one("#field-kind", Select)
        await wait_until(pilot, lambda: app.focused is kind)
        await pilot.press(*"iPad 3", "enter")
        await pilot.pause()
        assert app.screen is dialog
    assert "TAB-03" not in {d.tag for d in services.people.list_devices()}


# --- the kiosk's PIN pad ---------------------------------------------------------------------


async def test_the_end_of_a_pin_typed_after_a_badge_cleared_its_start_is_no_attempt(
    school: Services,
) -> None:
    # "2468", a colleague's badge scanned (the pad clears what was typed, not an attempt),
    # "10" and Enter, the admin typing on: "10" was checked as a PIN, "Wrong PIN. 4 attempts
    # left.", towards locking the pad. No PIN is that short (kiosk admin's sign-in sends
    # none either): it is refused, saying so, and not counted.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        await press(pilot, *"2468")
        await scan(pilot, "SRK1:S:CBAKER")
        await press(pilot, *"10", "enter")
        said = notice(app)
        assert "attempts left" not in said and "Wrong PIN" not in said, said
        assert f"{MIN_PIN_LENGTH} digits at least" in said and "not counted" in said, said
        assert "●" not in screen_text(app)  # cleared, for the PIN typed again
        await press(pilot, *"99999", "enter")  # one digit short: no attempt either
        assert "attempts left" not in notice(app)
        await press(pilot, *"999999", "enter")
        assert "Wrong PIN. 4 attempts left." in notice(app)
        await press(pilot, *ADMIN_PIN, "enter")
        assert app.screen.stage == "badge"  # type: ignore[attr-defined]


# --- the confirmation's "press any key" --------------------------------------------------------


async def test_f2_pressed_to_leave_a_confirmation_records_nothing_for_the_next_badge(
    school: Services,
) -> None:
    # Esha deposits her phone with F2; her confirmation says "press any key", and the key
    # under her finger is F2 again (or she presses it again, not sure it took). Home was
    # armed with Phone in / out, and Alice's badge a moment later recorded her phone (her
    # phone collected from the store, in the register, without her screen or a key of
    # hers). F2 on a confirmation goes home and arms nothing: Alice's badge shows her
    # screen, and her own Enter deposits.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f2")  # her phone in: the confirmation
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.pause(0.6)  # the confirmation read
        await press(pilot, "f2")
        assert type(app.screen).__name__ == "HomeScreen"
        assert app.screen.intent is None  # type: ignore[attr-defined]
        before = len(events(school))
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        assert events(school)[before:] == []
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [(kind, d["staff_code"]) for kind, d in events(school)[before:]] == [
        ("phone_deposited", "ASMITH")
    ]


# --- the console's Export ---------------------------------------------------------------------


async def test_an_export_limited_to_the_registers_filters_is_named_for_them(
    services: Services,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The register filtered to Alice (a question about her phone), then "Export day…" and
    # Enter: the file held Alice's events only ("Only events matching the register's
    # filters" is ticked for the office, after the file name that Enter exports from), and
    # was named register-2026-03-10.csv, as the day's whole register is: sent on as the
    # day's register, it left out everyone else. The name says what the file holds, and
    # follows the tick.
    monkeypatch.chdir(tmp_path)
    services.phones.deposit("ASMITH")
    services.phones.deposit("EPATEL")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        rows = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: rows.row_count == 2)
        staff = app.screen.query_one("#reg-staff", Select)
        await wait_until(pilot, lambda: "ASMITH" in [v for _, v in staff._options])
        staff.value = "ASMITH"
        await wait_until(pilot, lambda: rows.row_count == 1)
        await pilot.press("e")  # Export day…
        tick = app.screen.query_one("#export-filtered", Checkbox)
        await wait_until(pilot, lambda: tick.value)
        path = app.screen.query_one("#export-path", Input)
        await wait_until(pilot, lambda: path.value.endswith("-only-staff-ASMITH.csv"))
        assert path.value == str(tmp_path / "register-2026-03-10-only-staff-ASMITH.csv")
        tick.value = False  # the whole day after all
        await wait_until(pilot, lambda: path.value == str(tmp_path / "register-2026-03-10.csv"))


# --- the sign-out form's line manager --------------------------------------------------------


async def test_a_line_manager_typed_a_key_at_a_time_slowly_is_one_search(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # Alice's third laptop in 28 days: the list of line managers opened, "Dina" typed the
    # way a person hunting for each key types it (1.2 s a key), Enter. The list's search
    # started again 0.7 s after each key handled: "D", "i", "n", "a" were four searches, the last
    # ending on Carol Head, and the register said "agreed by Carol Head".
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
        await press(pilot, "1", "enter")  # the reason; then "name the line manager"
        app.screen.query_one("#manager").focus()
        await press(pilot, "down")  # opens the list
        await typed(pilot, "Dina", gap=1.2)
        await press(pilot, "enter")  # chooses
        assert "agreed by Dina Office" in app.screen.summary_text()  # type: ignore[attr-defined]


async def test_a_consoles_list_typed_a_key_at_a_time_slowly_is_one_search(
    services: Services,  # noqa: F811
) -> None:
    # The same in the console's forms: "Add a member of staff", the line manager's list,
    # "Dina" typed at 1.2 s a key chose Alice Smith (the last search, "a", alone).
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")  # People
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "staff-table")
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        dialog = app.screen
        await wait_until(pilot, lambda: app.focused is dialog.query_one("#field-code"))
        await pilot.press(*"JBLOGGS", "enter", *"Joe Bloggs", "enter", "enter")
        manager = dialog.query_one("#field-manager", Select)
        await wait_until(pilot, lambda: app.focused is manager)
        await pilot.press("enter")  # opens the list
        await wait_until(pilot, lambda: manager.expanded)
        await typed(pilot, "Dina", gap=1.2)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not manager.expanded)
        assert manager.value == "DOFFICE"
