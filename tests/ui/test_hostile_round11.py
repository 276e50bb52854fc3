"""Hostile text, round 11, in the admin console and the kiosk driven for real (Pilot, a real
SQLite file): stored values written by raw SQL, as someone with the database would."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from textual.widgets import DataTable, Static

from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import ConfirmDialog
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)

pytestmark = pytest.mark.ui


async def test_a_name_with_line_breaks_does_not_push_the_warning_off_the_retire_dialog(
    services: Services,  # noqa: F811
) -> None:
    # Retiring someone who still has a laptop off site warns first. A name stored as
    # "Alice Smith" and forty line breaks pushed that warning below the bottom of the dialog
    # (36 rows): the office saw "Retire Alice Smith" and the buttons, and nothing said the
    # laptop was still out. A stored name is one line wherever it is shown.
    from tests.school import make_ready

    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    with services.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET name = :n WHERE code = 'ASMITH'"),
            {"n": "Alice Smith" + "\n" * 40 + "(nothing held)"},
        )
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
        await pilot.pause()
        said = " ".join(str(w.visual) for w in app.screen.query(Static))
        assert "Alice Smith (nothing held) still has laptop LAP-001 off site" in said, said
        warning = next(w for w in app.screen.query(Static) if "still has" in str(w.visual))
        assert warning.region.height < 8 and app.screen.region.contains_region(warning.region)
        await pilot.press("escape")  # not retired
