"""Round 18 of the hostile-text red team, on the kiosk: names two people share."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Select

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import (
    events,
    make_app,
    press,
    running,
    scan,
    scan_fast,
    settle,
    wait_for,
)

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("namesake", ["Carol Head", "CAROL head"])
async def test_the_line_manager_list_tells_apart_two_people_of_one_name(
    school: Services, kiosk_clock: FakeClock, namesake: str
) -> None:
    """Two people called Carol Head (or "CAROL head", which reads as the same name). The
    sign-out form listed "Carol Head" twice and its summary said "agreed by Carol Head":
    whoever signed out chose one of two identical lines, and the register named as the one
    who agreed whichever it happened to be. Now a name another on the list shares is shown
    with the code, in the list and in the summary, as the admin console does."""
    school.people.add_staff("CHEAD2", namesake, roles=["slt"], admin_code="CHEAD")
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
        await press(pilot, "1")
        await wait_for(pilot, lambda: bool(getattr(app.screen, "_staff", None)))
        manager = app.screen.query_one("#manager", Select)
        overlay: Any = manager.query_one("SelectOverlay")  # the list as it opens
        labels = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
        assert "Carol Head (CHEAD) (your line manager)" in labels
        assert f"{namesake} (CHEAD2)" in labels
        assert "Ben Jones" in labels  # a name nobody else has: as it was
        manager.focus()
        await press(pilot, "down", "down", "down", "enter")
        await settle(pilot)
        assert manager.value == "CHEAD2"
        summary = app.screen.summary_text()  # type: ignore[attr-defined]
        assert f"agreed by {namesake} (CHEAD2)." in summary
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    signed = [d for kind, d in events(school) if kind == "device_signed_out"]
    assert signed[-1]["line_manager"] == "CHEAD2"
