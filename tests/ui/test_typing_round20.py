"""Round 20, typing under load: a question's "press it again" counts the time the person had
to read it, by when the keys were pressed, not by when the kiosk got round to them."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.services.app import Services
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.clock import UiClock
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import ReviewScreen
from tests.school import make_ready
from tests.ui.keyboard import key_event, typed
from tests.ui.kiosk_support import (
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    settle,
    type_code,
)

pytestmark = pytest.mark.ui


def _in_drawer(school: Services) -> list[str]:
    return sorted(h.staff.code for h in school.phones.phones_now() if h.store.code == "DRAWER")


async def test_f8_pressed_twice_a_third_of_a_second_apart_moves_nothing(school: Services) -> None:
    # Breakfast club's lead presses F8 twice, 0.3 s apart (a double press, a second press to
    # be sure). The first asks "Move all 2 phones ...? Press F8 again to confirm"; the
    # second, pressed before anyone could read that, moved every phone: a second press of a
    # function key within a second waits (up to 0.65 s) to be told from a key held down, and
    # the question's half second to be read was counted to when the kiosk handled the key,
    # the wait included, not to when it was pressed. (Reproduced in tmux on the demo.)
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    app = make_app(school, clock=UiClock(school.ctx.clock))  # the real clock: keys' own
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        await typed(pilot, ["f8", "f8"], gap=0.3)
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert isinstance(app.screen, BreakfastScreen), type(app.screen).__name__
        assert "Press F8 again to confirm" in notice(app)
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        await pilot.pause(READ_SECONDS)  # read
        await press(pilot, "f8")
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert _in_drawer(school) == []


async def test_f4_pressed_twice_a_third_of_a_second_apart_undoes_one_scan(school: Services) -> None:
    # Two colleagues logged; the lead presses F4 twice, 0.3 s apart. The second undid the
    # colleague before too, "Undone: Esha Patel's scan" on the screen for less time than it
    # takes to read (as above: the key's wait counted as reading time).
    app = make_app(school, clock=UiClock(school.ctx.clock))
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:S:EPATEL")
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        await typed(pilot, ["f4", "f4"], gap=0.3)
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert "Undone: Esha Patel's scan" in notice(app)
        assert _in_drawer(school) == ["ASMITH"]
        await pilot.pause(READ_SECONDS)  # read: F4 again undoes the one before
        await press(pilot, "f4")
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert "Undone: Alice Smith's scan" in notice(app)
    assert _in_drawer(school) == []


async def test_enter_pressed_twice_on_a_review_within_half_a_second_sends_nothing(
    school: Services,
) -> None:
    # "laptop stand", then Enter twice 0.45 s apart: the first shows what will be sent, the
    # second (an Enter that may be a key held down waits 0.15 s to be told) was handled more
    # than half a second after it was shown, and sent it unread.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f12")
        assert isinstance(app.screen, ReviewScreen)
        await type_code(pilot, "laptop stand", enter=False)
        await typed(pilot, "⏎⏎", gap=0.45)
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen), type(app.screen).__name__
        assert "Press Enter again to send it" in notice(app)
        assert school.policies.reviews() == ()
        await pilot.pause(READ_SECONDS)  # read
        await press(pilot, "enter")
        await pilot.pause(HELD_WAIT)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    [review] = school.policies.reviews()
    assert review.needs == "laptop stand"


async def test_a_plain_label_scanned_into_a_reason_on_a_busy_kiosk_is_not_the_reason(
    school: Services,
) -> None:
    # As round 14's: "Parents ev" typed as her "Other" reason, then a second laptop's plain
    # label scanned there (no badge prefix: its keys and Enter go into the field). The
    # terminal reads the label's keys together; a busy kiosk handles them a tenth of a second
    # apart. The screen timed them by when it handled them: typed by hand, so the label was
    # not seen at the end of the reason, and LAP-001 was signed out "for Parents evLAP-002",
    # LAP-002 not at all.
    make_ready(school, "ASMITH")
    before = events(school)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:LAP-001")
        await press(pilot, "up")  # Other
        await type_code(pilot, "Parents ev", enter=False)
        await pilot.pause(0.2)  # she reaches for the scanner
        label = [key_event(key) for key in "LAP-002⏎"]  # read at once: stamped together
        for event in label:
            event.set_sender(app)
            app.post_message(event)
            await asyncio.sleep(0.1)  # handled late, one by one
        await settle(pilot)
        assert isinstance(app.screen, SignOutScreen), notice(app)
        assert "“LAP-002” is a kiosk code, not a reason" in notice(app), notice(app)
    assert events(school) == before


# Longer than a key pressed again waits to be told from a key held down (HeldKeys).
HELD_WAIT = 0.8
