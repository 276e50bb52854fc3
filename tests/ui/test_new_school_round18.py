"""Round 18: a new school office, end to end, in the admin console (Pilot, a real SQLite
file)."""

from __future__ import annotations

import pytest
from textual.widgets import Button, DataTable, Input, Static

from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import ConfirmDialog
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)

pytestmark = pytest.mark.ui


HOLDS = {
    # what she holds: the warning's words, and how it stays listed once she is retired
    "laptop": ("LAP-001 off site", "record the return of LAP-001"),
    "phone": (
        "their phone is in the Staff-room secure store",
        "record the phone's collection at the kiosk",
    ),
    "drawer phone": (
        "their phone is in the",
        "have the breakfast-club lead hand the phone back (Breakfast club, F3)",
    ),
}


@pytest.mark.parametrize("holds", list(HOLDS))
async def test_retire_anyway_after_the_warning_retires_a_leaver_who_still_holds_it(
    services: Services,  # noqa: F811
    holds: str,
) -> None:
    # A leaver has not brought the laptop back, or their phone is still in a store. The
    # console warns and offers Retire; Retire then said "retire them anyway with --force":
    # a command-line flag, in the console, and the leaver's badge kept working. A phone
    # alone was never tried; the warning said "record its collection at the kiosk first"
    # and the button retired them all the same (and for the drawer, the lead hands it back).
    from tests.school import make_ready

    make_ready(services, "ASMITH")
    if holds == "laptop":
        services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    elif holds == "phone":
        services.phones.deposit("ASMITH")
    else:
        services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")
        staff = app.screen.query_one("#staff-table", DataTable)
        await wait_until(pilot, lambda: staff.row_count == 5 and app.focused is staff)
        row = [str(staff.get_row_at(i)[0]) for i in range(staff.row_count)].index("ASMITH")
        staff.move_cursor(row=row)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        said = " ".join(str(w.visual) for w in app.screen.query(Static))
        held, first = HOLDS[holds]
        assert f"Alice Smith (ASMITH): {held}" in said, said
        assert f"{first} first" in said and "Retired anyway" in said, said
        yes = app.screen.query_one("#yes", Button)
        assert str(yes.label) == "Retire anyway"
        yes.press()
        await wait_until(
            pilot,
            lambda: (
                not isinstance(app.screen, ConfirmDialog)
                and any(
                    word in " ".join(str(w.visual) for w in app.screen.query(Static))
                    for word in ("retired.", "--force")
                )
            ),
        )
        shown = " ".join(str(w.visual) for w in app.screen.query(Static))
        assert "--force" not in shown, shown
        assert "Alice Smith retired." in shown, shown
    assert all(s.code != "ASMITH" for s in services.people.list_staff())
    # What she holds stays listed with her, for the office to get back.
    if holds == "laptop":
        assert any(item.device.tag == "LAP-001" for item in services.devices.offsite_now())
    else:
        assert any(p.staff.code == "ASMITH" for p in services.phones.phones_now())


async def test_the_office_consoles_footer_says_f10_closes_the_console(
    services: Services,  # noqa: F811
) -> None:
    # `kiosk admin` on the office machine: the bar said "Close console (F10)" and the
    # footer, on every view, "f10 Exit kiosk app": the office did not know whether F10
    # would close the staff-room kiosk. Inside the kiosk app F10 exits it, and says so.
    from kiosk.ui.admin.app import AdminApp
    from kiosk.ui.admin.console import AdminConsoleScreen
    from tests.ui.test_admin_signin import PIN

    services.admin.set_pin(PIN)
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, Input))
        await pilot.press(*PIN, "enter", *"doffice", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        await pilot.pause()
        shown = {b.binding.key: b.binding.description for b in app.screen.active_bindings.values()}
        assert shown.get("f10") == "Close console", shown
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        said = " ".join(str(w.visual) for w in app.screen.query(Static))
        assert "kiosk in the staff room keeps running" in said
        await pilot.press("escape")


async def test_the_office_records_a_leavers_phone_handed_back_in_the_phones_view(
    services: Services,  # noqa: F811
) -> None:
    # Retired anyway with her phone in the staff room: her badge is refused at the kiosk, and
    # the console had no way to record the office handing it back (only voiding a deposit).
    services.phones.deposit("ASMITH")
    services.people.retire_staff("ASMITH", force=True)
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("2")
        phones = app.screen.query_one("#phones-table", DataTable)
        await wait_until(pilot, lambda: phones.row_count == 1 and app.focused is phones)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        said = " ".join(str(w.visual) for w in app.screen.query(Static))
        assert "handed Alice Smith (ASMITH) their phone back" in said, said
        app.screen.query_one("#yes").press()
        await wait_until(
            pilot,
            lambda: (
                "handed back by the office"
                in " ".join(str(w.visual) for w in app.screen.query(Static))
            ),
        )
    assert not services.phones.phones_now()
