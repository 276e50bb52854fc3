"""Round 18: a new school office, end to end, in the admin console (Pilot, a real SQLite
file)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import ConfirmDialog
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)

pytestmark = pytest.mark.ui


async def test_retire_after_the_warning_retires_a_leaver_who_still_has_a_laptop(
    services: Services,  # noqa: F811
) -> None:
    # A leaver has not brought the laptop back. The console warns ("still has laptop LAP-001
    # off site. Retiring them does not record it as returned") and offers Retire; Retire
    # then said "retire them anyway with --force": a command-line flag, in the console,
    # and the leaver's badge kept working.
    from tests.school import make_ready

    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    services.phones.deposit("ASMITH")  # and her phone is in the staff room (round 18 too)
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
        assert "Alice Smith still has laptop LAP-001 off site" in said
        assert "record its collection at the kiosk first" in said, said
        app.screen.query_one("#yes").press()
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
    # The laptop stays listed as off site with her, for the office to get back.
    assert any(item.device.tag == "LAP-001" for item in services.devices.offsite_now())


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
