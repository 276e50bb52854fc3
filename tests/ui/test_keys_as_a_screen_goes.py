"""A function key pressed as a screen went by itself (a timeout) was meant for that screen:
it does not act on the one that came instead."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.services.app import Services
from kiosk.ui.person import PersonScreen
from kiosk.ui.pin import PinScreen
from tests.ui.conftest import ADMIN_PIN
from tests.ui.keyboard import key_event
from tests.ui.kiosk_support import (
    events,
    idle,
    make_app,
    notice,
    press,
    running,
    scan,
    settle,
    type_code,
)

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("going", ["the admin's menu", "a person's screen"])
async def test_f2_pressed_as_a_screen_times_out_does_not_arm_home(
    school: Services, going: str
) -> None:
    # Gareth signed in at the PIN pad; "What would you like to do?" offers F2 Admin console.
    # He reaches for F2 just as the menu times out: home came instead, and his F2 armed
    # "Phone in or out: scan your badge", which records the next badge's phone on the badge
    # alone (the colleague who scans to see her screen). The same for a person's screen
    # that times out as they press F2 to deposit. The key is dropped, and home says so.
    app = make_app(school)
    async with running(app) as pilot:
        if going == "the admin's menu":
            await press(pilot, "f10", *ADMIN_PIN, "enter")
            await type_code(pilot, "CHEAD")
            assert isinstance(app.screen, PinScreen)
            assert app.screen.stage != "pin"
        else:
            await scan(pilot, "SRK1:S:EPATEL")
            assert isinstance(app.screen, PersonScreen)
        f2 = key_event("f2")  # pressed now, on the screen about to go
        f2.set_sender(app)
        await idle(pilot, 3600)
        assert app.home is not None and app.screen is app.home
        before = len(events(school))
        app.post_message(f2)
        await settle(pilot)
        assert app.home.intent is None
        said = notice(app)
        assert "F2 came as this screen appeared: nothing was done" in said, said
        await scan(pilot, "SRK1:S:ASMITH")  # the next person: her own screen, nothing done
        assert isinstance(app.screen, PersonScreen)
        assert events(school)[before:] == []
        await press(pilot, "escape")
        assert app.screen is app.home
        # Read, then pressed: home's F2 arms Phone in / out as always.
        await asyncio.sleep(app.DOUBLE_TAP_SECONDS + 0.1)
        await press(pilot, "f2")
        assert app.home.intent == "phone"
