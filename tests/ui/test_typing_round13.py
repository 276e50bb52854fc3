"""Round 13 of the typing red team: keys held down told from presses, taps after the
buttons moved, Enter in a form's field, on a real database file."""

from __future__ import annotations

import asyncio
from time import monotonic

import pytest
from textual import events as textual_events

from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.signout import SignOutScreen
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, notice, press, running, scan, settle

pytestmark = pytest.mark.ui


async def presses(app: KioskApp, key: str, *gaps: float) -> None:
    """``key`` pressed once, then again after each of ``gaps`` seconds, in real time, each
    at its own time (as a terminal sends them)."""
    when = monotonic()
    for gap in (0.0, *gaps):
        when += gap
        while monotonic() < when:
            await asyncio.sleep(min(0.005, when - monotonic()))
        event = textual_events.Key(key, None)
        event.time = when
        app.post_message(event)


def in_drawer(services: Services) -> list[str]:
    return sorted(h.staff.code for h in services.phones.phones_now() if h.store.code == "DRAWER")


async def test_f4_pressed_twice_fast_after_an_undo_undoes_again(school: Services) -> None:
    # F4 undid Esha's scan. A moment later the lead sees Amir's scan was wrong too and
    # presses F4 twice, fast (or the key bounces). The first of the two is F4 again after
    # F4, so it waited to be told from a held key's first repeat; the second, within the
    # wait, made both "a key held down", and both were dropped: Amir's scan stayed, and
    # the screen said nothing. A key's first repeat comes within a second of its press:
    # an F4 pressed over a second after the last is a press.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f4")
        await settle(pilot)
        assert "Undone: Esha Patel's scan" in notice(app), notice(app)
        assert in_drawer(school) == ["ASMITH"]
        await asyncio.sleep(1.2)
        app.clock.advance(2.0)
        await presses(app, "f4", 0.08)
        await settle(pilot)
        assert isinstance(app.screen, BreakfastScreen)
        assert "Undone:" in notice(app) and "Esha" not in notice(app), notice(app)
    assert in_drawer(school) == []


async def test_a_reasons_digit_then_the_arrows_to_other_records_the_words_typed(
    school: Services,
) -> None:
    # Alice's sign-out form for LAP-001. She types 2 (the summary says "for School trip or
    # visit"), then sees "↑ for Other": ↑, and she types why in the box that opens, then
    # Enter there. The 2 still in the code field was read first (a reason's digit is the
    # reason): signed out "School trip or visit", her words and the Other she chose
    # dropped. The arrows chose the reason after the digit: the digit is over.
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"ASMITH", "enter")
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "2")
        assert "for “School trip or visit”" in app.screen.summary_text()
        await press(pilot, "up")
        assert app.focused is not None and app.focused.id == "other-reason", app.focused
        await press(pilot, *"dentist", "enter")
        await settle(pilot)
    reasons = [i.reason for i in school.devices.offsite_now()]
    assert reasons == ["dentist"], reasons
