"""The console's dialogs and its Export view put the cursor in their first field, also inside
the kiosk app (which focuses nothing by itself): what the office types at once goes there, and
digits are not taken for the console's tab keys."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.dialogs import ConfirmDialog, FormDialog
from kiosk.ui.admin.export import ExportPane
from kiosk.ui.admin.register import RegisterPane
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)

pytestmark = pytest.mark.ui


class InKiosk(ConsoleHost):
    AUTO_FOCUS = ""  # as the kiosk app: no screen focuses anything unless it says so


async def test_a_dialog_takes_what_is_typed_at_once(services: Services) -> None:  # noqa: F811
    app = InKiosk(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")  # People
        await wait_until(pilot, lambda: app.focused is not None and app.focused.id == "staff-table")
        await pilot.press("a")  # Add staff
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press(*"JBLOGGS")
        assert app.screen.query_one("#field-code", Input).value == "JBLOGGS"


async def test_export_puts_the_cursor_in_its_first_field_and_offers_the_filter(
    services: Services,  # noqa: F811
) -> None:
    app = InKiosk(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        register = app.screen.query_one(RegisterPane)
        register.filters = RegisterFilter(kind="phone_deposited")
        await pilot.press("9")  # Export
        first = app.screen.query_one("#export-from", Input)
        await wait_until(pilot, lambda: app.focused is first)
        first.value = ""
        await pilot.press(*"01/03/2026")  # digits: a date, not the tabs 1, 0, 3...
        assert first.value == "01/03/2026"
        assert app.screen.query_one("#console-tabs").active == "tab-export"  # type: ignore[attr-defined]
        export = app.screen.query_one(ExportPane)
        assert export.filters == RegisterFilter(kind="phone_deposited")
        assert app.screen.query_one("#export-filtered", Checkbox).value


async def test_retiring_someone_with_a_device_off_site_warns_first(
    services: Services,  # noqa: F811
) -> None:
    from tests.school import make_ready

    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
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
        assert "Alice Smith (ASMITH): LAP-001 off site" in said, said
        assert "record the return of LAP-001 first" in said, said
        await pilot.press("escape")  # not retired
    assert any(s.code == "ASMITH" for s in services.people.list_staff())


async def test_a_line_manager_chosen_by_name_is_kept_as_that_persons_code_when_two_share_it(
    services: Services,  # noqa: F811
) -> None:
    # Two current members of staff called Carol Head: the office picks the first one in the
    # list, and the new person's line manager is that one (her code), not a refusal for a
    # name that is not unique.
    services.people.add_staff("CHEAD2", "Carol Head", admin_code="CHEAD")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")  # People: add a member of staff
        staff = app.screen.query_one("#staff-table", DataTable)
        await wait_until(pilot, lambda: staff.row_count == 6 and app.focused is staff)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press(*"JBLOGGS", "tab", *"Joe Bloggs")
        manager = app.screen.query_one("#field-manager", Select)
        manager.value = "CHEAD2"
        await pilot.pause()
        app.screen.query_one("#field-roles", Input).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
    added = next(s for s in services.people.list_staff() if s.code == "JBLOGGS")
    assert added.line_manager == "CHEAD2"


async def test_line_manager_and_granted_by_are_chosen_from_the_staff_list(
    services: Services,  # noqa: F811
) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("8")  # People: add a member of staff
        staff = app.screen.query_one("#staff-table", DataTable)
        await wait_until(pilot, lambda: staff.row_count == 5 and app.focused is staff)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        manager = app.screen.query_one("#field-manager")
        assert isinstance(manager, Select)
        assert "CHEAD" in [value for _, value in manager._options]
        await pilot.press("escape")
        await pilot.press("6")  # Exemptions: grant one
        await wait_until(
            pilot, lambda: app.focused is not None and app.focused.id == "exemptions-table"
        )
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        head = app.screen.query_one("#field-head")
        assert isinstance(head, Select)
        assert [value for _, value in head._options if value != Select.NULL] == ["Carol Head"]
