"""Round 17 of the typing red team: work left for later (an answer from the gateway, a timer,
a callback after the next refresh) that comes once the person has left the screen, or once
another screen has come over it and gone; a person's screen timing out with a call in flight."""

from __future__ import annotations

import threading

import pytest

from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from tests.ui.clocks import FakeUiClock
from tests.ui.kiosk_support import events, make_app, notice, running, scan, settle, wait_for

pytestmark = pytest.mark.ui

BUSY = "Not recorded: the register is busy (another kiosk is writing). Please try again."


async def test_not_recorded_after_a_slow_call_stays_to_be_read(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Esha presses F2 to deposit her phone; the register is busy and the kiosk says
    # "Recording, please wait…" for longer than a screen's idle timeout. Then the refusal
    # came ("Not recorded") and, a quarter of a second later, the idle timeout (counted from
    # her F2) took her screen home: she saw "please wait", then the home screen, and walked
    # off thinking her phone was recorded. The refusal stays the whole idle timeout now.
    gate = threading.Event()

    def busy(*_args: object, **_kwargs: object) -> object:
        gate.wait(10)
        raise DatabaseUnavailable(BUSY)

    monkeypatch.setattr(school.phones, "deposit", busy)
    app = make_app(school)
    assert isinstance(app.clock, FakeUiClock)
    timeout = school.settings.idle_timeout
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        before = len(events(school))
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.busy)
        app.clock.advance(timeout + 15)  # "Recording, please wait…" all that time
        app.check_idle_timeout()
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert "the register is busy" in notice(app)
        # The idle check (four times a second) comes round: she is still reading it.
        app.clock.advance(1)
        app.check_idle_timeout()
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen), type(app.screen).__name__
        assert "the register is busy" in notice(app)
        # Left alone for the idle timeout after the refusal: home, as always.
        app.clock.advance(timeout)
        app.check_idle_timeout()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert len(events(school)) == before
