"""Hostile text, round 11, in the admin console and the kiosk driven for real (Pilot, a real
SQLite file): stored values written by raw SQL, as someone with the database would."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from textual.widgets import Button, DataTable, Static

from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import ConfirmDialog
from kiosk.ui.policy import PolicyScreen
from tests.hostile import ESC, OSC52
from tests.ui.admin_support import SIZE, ConsoleHost, wait_until
from tests.ui.kiosk_support import make_app, running, scan, settle, wait_for
from tests.ui.test_admin_console import services  # noqa: F401  (the console's school)
from tests.ui.test_kiosk_hostile_text import drawn

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
        assert "Alice Smith (nothing held) (ASMITH): LAP-001 off site" in said, said
        warning = next(w for w in app.screen.query(Static) if "LAP-001 off site" in str(w.visual))
        assert warning.region.height < 8 and app.screen.region.contains_region(warning.region)
        await pilot.press("escape")  # not retired


async def test_a_policy_text_is_drawn_without_escapes_or_overrides(school: Services) -> None:
    # A policy's text is any text but NUL (a file from the local authority, a web page saved
    # as text). Markdown drew it as stored: ESC reached the terminal (OSC 52 writes the
    # clipboard, OSC 0 the title), and a right-to-left override made the sentence a person
    # agrees to read in another order than the one stored and fingerprinted.
    policy = school.policies.publish(
        "Conduct",
        "2026",
        f"# Conduct\n\nYou agree{OSC52} to \u202eevil\u202c things. Be\u200bkind.\n",
        required=True,
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        text, _ = drawn(app)
        assert "You agree\ufffd]52;c;cm0gLXJmIH4=\ufffd to \ufffdevil\ufffd things." in text
        assert ESC not in text and "\u202e" not in text and "\u200b" not in text
