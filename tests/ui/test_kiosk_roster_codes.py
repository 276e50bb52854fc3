"""A code typed by hand that is both a staff code and a device's label (data from before the
import refused such codes, or written by hand) is refused in words on every screen that reads
it: nothing is guessed and nothing is recorded."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk.services.app import Services
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from tests.school import make_ready
from tests.ui.kiosk_support import events, make_app, notice, press, running, scan, type_code

pytestmark = pytest.mark.ui

BOTH = "LAP-001 is both a staff code and a device label: scan the badge or the label, or ask"


@pytest.fixture
def clash(school: Services) -> Services:
    """Esha Patel's staff code is the laptop LAP-001's tag; the laptop is off site with
    Alice Smith, so typing its tag then Enter is its return."""
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Working from home")
    with school.ctx.engine.begin() as connection:
        connection.execute(sa.text("UPDATE staff SET code = 'LAP-001' WHERE code = 'EPATEL'"))
    return school


@pytest.mark.parametrize("before", [(), ("f2",)], ids=["home", "phone in or out"])
async def test_a_typed_code_that_is_both_is_refused_at_home(
    clash: Services, before: tuple[str, ...]
) -> None:
    app = make_app(clash)
    async with running(app) as pilot:
        if before:
            await press(pilot, *before)
        recorded = events(clash)
        # The documented hand-typed return: the label, Enter (and Enter again on its screen).
        await type_code(pilot, "lap-001")
        await press(pilot, "enter")
        assert isinstance(app.screen, HomeScreen), type(app.screen).__name__
        assert BOTH in notice(app).replace("\n", " ")
        assert events(clash) == recorded


async def test_a_typed_code_that_is_both_is_refused_in_breakfast_club(clash: Services) -> None:
    app = make_app(clash)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, PersonScreen)
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        recorded = events(clash)
        await type_code(pilot, "lap-001")
        assert BOTH in notice(app).replace("\n", " ")
        assert events(clash) == recorded
        await scan(pilot, "SRK1:S:LAP-001")  # her badge says it is her
        assert len(events(clash)) == len(recorded) + 1
