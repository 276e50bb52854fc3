"""What a tester typing at human speed (one key at a time, in tmux) found on the merged typing
model of issue 16: each on a real database file, the register read before and after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Select

from kiosk.db.models import Event
from kiosk.services.app import Services
from kiosk.ui.signout import SignOutScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, running, scan, scan_fast, settle

pytestmark = pytest.mark.ui


def events(services: Services) -> list[tuple[str, dict[str, Any]]]:
    with services.ctx.engine.connect() as conn:
        rows = conn.execute(select(Event.kind, Event.details).order_by(Event.id)).all()
    return [(str(kind), dict(details or {})) for kind, details in rows]


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
        assert first == ("Carol Head (your line manager)", "Carol Head")
