"""Round 17: a new member of staff and a new school office walk every flow at human speed;
what each screen says afterwards is compared with what the register holds."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.breakfast import BreakfastScreen
from tests.ui.kiosk_support import events, make_app, press, running, scan, type_code

pytestmark = pytest.mark.ui


def _breakfast_log(app: KioskApp) -> str:
    """The running list under the breakfast-club code field (what the lead looks back at)."""
    return str(app.screen.query_one("#bc-entries", Static).visual)


async def test_breakfast_list_keeps_a_refused_code_after_the_next_scan(school: Services) -> None:
    # Ben logs a queue of colleagues at the breakfast-club door, a code and Enter each. He
    # mistypes Esha's code ("epatle"), then types it right, then Alice's. The refusal was
    # shown under the field only until the next code came, a second later: the running list
    # he looks back at showed only the phones logged, so a code refused in the queue (its
    # phone in the drawer, nothing recorded) left no trace on the screen.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        before = len(events(school))
        await type_code(pilot, "epatle")
        await type_code(pilot, "epatel")
        await type_code(pilot, "asmith")
        await type_code(pilot, "asmith")  # her badge again: already in the drawer
        log = _breakfast_log(app)
        assert "Esha Patel: phone into the drawer" in log
        assert "Alice Smith: phone into the drawer" in log
        assert "EPATLE" in log.upper() and "NOT RECORDED" in log.upper(), log
        lines = log.splitlines()
        refused = [line for line in lines if "NOT RECORDED" in line.upper()]
        assert len(refused) == 2, log
        assert any("already" in line for line in refused), log
    recorded = [(kind, d.get("store")) for kind, d in events(school)[before:]]
    assert [kind for kind, _ in recorded] == ["phone_deposited", "phone_deposited"]
