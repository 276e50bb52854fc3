"""Round 14 of the typing red team: keys meant for one screen landing on the next, two people
at one kiosk, scanners that end a code late, on a real database file, the register read
before and after."""

from __future__ import annotations

import pytest

from kiosk.services.app import Services
from kiosk.ui.person import PersonScreen
from tests.school import make_ready
from tests.ui.kiosk_support import burst, events, make_app, notice, press, running, settle

pytestmark = pytest.mark.ui


async def test_a_scan_whose_enter_comes_late_deposits_nothing(school: Services) -> None:
    # A Bluetooth scanner sends "SRK1:S:ASMITH" and its Enter 0.8 s later. The payload was
    # taken as the scan after half a second without its Enter, her screen came up, and the
    # scanner's Enter, arriving then, was read there as hers: her phone was deposited
    # without her pressing anything. The Enter that ends a scan already read is the scan's.
    make_ready(school, "ASMITH")
    before = events(school)
    app = make_app(school)
    async with running(app) as pilot:
        burst(app, "SRK1:S:ASMITH")
        await pilot.pause(0.8)
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen), notice(app)
        await press(pilot, "enter")  # the scanner's Enter, late
        assert isinstance(app.screen, PersonScreen), notice(app)
        assert events(school) == before
        await pilot.pause(1.2)
        await press(pilot, "enter")  # her own Enter, once she has read her screen
    assert [kind for kind, _ in events(school)[len(before) :]] == ["phone_deposited"]
