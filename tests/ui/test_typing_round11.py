"""Round 11 of the typing red team: keys held down, keypads and keyboard layouts, on a real
database file."""

from __future__ import annotations

import asyncio
import threading
from time import monotonic
from typing import Any

import pytest
from textual import events as textual_events

from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.returns import ReturnScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import ReviewScreen
from tests.school import make_ready
from tests.ui.kiosk_support import (
    burst,
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    settle,
    type_code,
    wait_for,
)

pytestmark = pytest.mark.ui

# A key held down: the terminal repeats it after half a second, 30 times a second.
REPEAT_DELAY = 0.5
REPEAT_EVERY = 1 / 30


async def hold_down(app: KioskApp, key: str, seconds: float) -> None:
    """``key`` pressed and held ``seconds``, as the terminal sends it: the key, then (after
    REPEAT_DELAY) the same key again every REPEAT_EVERY until it is let go, each at its
    own time, in real time."""
    start = monotonic()
    times = [start]
    at = start + REPEAT_DELAY
    while at < start + seconds:
        times.append(at)
        at += REPEAT_EVERY
    for when in times:
        while monotonic() < when:
            await asyncio.sleep(min(0.005, when - monotonic()))
        event = textual_events.Key(key, None)
        event.time = when
        app.post_message(event)


def in_drawer(services: Services) -> list[str]:
    return sorted(h.staff.code for h in services.phones.phones_now() if h.store.code == "DRAWER")


async def test_f8_held_down_in_breakfast_club_moves_nothing(school: Services) -> None:
    # Breakfast club ends: the lead presses F8 to see the question "Move all 2 phones ...?
    # Press F8 again to confirm", and holds it a moment too long. The keyboard repeats it:
    # the repeats after half a second passed for the second press, and every phone in the
    # drawer was moved to the staff room, the question never read.
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        task = asyncio.ensure_future(hold_down(app, "f8", 0.75))
        await asyncio.sleep(REPEAT_DELAY / 2)
        app.clock.advance(READ_SECONDS + 0.05)  # the repeats come after it
        await task
        await settle(pilot)
        assert isinstance(app.screen, BreakfastScreen), type(app.screen).__name__
        assert "Press F8 again to confirm" in notice(app), notice(app)
        assert in_drawer(school) == ["ASMITH", "EPATEL"]
        # Pressed again (a press of its own): that is the confirmation.
        await asyncio.sleep(0.3)
        await press(pilot, "f8")
        assert isinstance(app.screen, ConfirmScreen)
    assert in_drawer(school) == []


async def test_f4_held_down_in_breakfast_club_undoes_one_scan(school: Services) -> None:
    # F4 (undo the last scan) held down a moment: the first repeat, half a second later,
    # undid the colleague's scan before it too. A key held is one press.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:S:EPATEL")
        assert in_drawer(school) == ["ASMITH", "EPATEL"]
        task = asyncio.ensure_future(hold_down(app, "f4", 0.75))
        await asyncio.sleep(REPEAT_DELAY / 2)
        app.clock.advance(READ_SECONDS + 0.05)
        await task
        await settle(pilot)
        assert "Undone: Esha Patel's scan" in notice(app), notice(app)
    assert in_drawer(school) == ["ASMITH"]


async def test_enter_held_down_on_the_review_shows_what_would_be_sent_and_sends_nothing(
    school: Services,
) -> None:
    # The workstation review: Enter shows what will be sent, "Press Enter again to send it".
    # Enter held a moment too long: its repeats, half a second on, sent the request unread.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f12")
        assert isinstance(app.screen, ReviewScreen)
        await type_code(pilot, "a laptop stand", enter=False)
        before = len(events(school))
        await hold_down(app, "enter", 0.75)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen), type(app.screen).__name__
        assert "Press Enter again to send it" in notice(app), notice(app)
        assert events(school)[before:] == []
        await asyncio.sleep(0.3)
        await press(pilot, "enter")  # pressed again: sent
        assert isinstance(app.screen, ConfirmScreen)
        assert [kind for kind, _ in events(school)[before:]] == ["workstation_review_requested"]


async def test_enter_in_the_return_time_reads_the_next_label_typed_first(
    school: Services,
) -> None:
    # Alice's sign-out form for LAP-001, reason 2 chosen. She types the second laptop's tag
    # (it goes to the code field), then Tab (as a scanner set to end with Tab sends it, or
    # to change the return time) and Enter there: LAP-001 alone was signed out, the
    # confirmation came, and LAP-002, still typed in the code field, left unrecorded. The
    # code typed is read first, as Enter in the code field reads it.
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"ASMITH", "enter")
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "down", "down")  # the second reason
        assert "for “School trip or visit”" in app.screen.summary_text()
        await type_code(pilot, "LAP-002", enter=False)
        await press(pilot, "tab")
        assert app.focused is not None and app.focused.id == "due", app.focused
        await press(pilot, "enter")  # the label is read first, as in the code field: added
        assert isinstance(app.screen, SignOutScreen), type(app.screen).__name__
        assert school.devices.offsite_now() == ()
        assert app.screen.tags == ["LAP-001", "LAP-002"]
        assert "Added Laptop LAP-002." in notice(app), notice(app)
        await press(pilot, "enter")  # and then signs out, as the summary line says
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert sorted(i.device.tag for i in school.devices.offsite_now()) == ["LAP-001", "LAP-002"]


async def test_enter_in_the_note_with_words_typed_before_tab_records_no_return(
    school: Services,
) -> None:
    # A return: "charger" typed straight away (the code field has the cursor), Tab, then
    # "missing" and Enter in the note: the return was recorded with the note "missing", the
    # "charger" typed before Tab dropped without a word. It is read first, and refused,
    # saying where a note goes.
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, *"LAP-001", "enter")
        assert isinstance(app.screen, ReturnScreen)
        before = len(events(school))
        await type_code(pilot, "charger ", enter=False)
        await press(pilot, "tab")
        assert app.focused is not None and app.focused.id == "condition", app.focused
        await type_code(pilot, "missing")
        assert isinstance(app.screen, ReturnScreen), type(app.screen).__name__
        assert "“charger” is not a staff code or an asset tag." in notice(app), notice(app)
        assert "press Tab, type it there" in notice(app)
    assert events(school)[before:] == []


async def test_the_enter_that_deposits_after_a_badges_enter_is_not_held_back(
    school: Services,
) -> None:
    # Alice scans her badge, reads her screen, and presses Enter to put her phone in. A
    # scanner's Enter is never held down, so hers is not held back to be told from a key
    # held down: it goes at once, as a person sees. (After a code she typed, an Enter within
    # a second of hers waits 0.15 s to be told from her Enter held down: round 15.)
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert type(app.screen).__name__ == "PersonScreen", notice(app)
        await asyncio.sleep(0.3)  # she reads it: the next Enter is no burst
        app.post_message(textual_events.Key("enter", "\r"))
        await pilot.pause()
        assert not app.keys_pending  # handed on, not waiting for a repeat
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert [kind for kind, _ in events(school)][-1] == "phone_deposited"


async def test_f8_held_down_while_a_scan_is_answered_moves_nothing(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same, with the kiosk busy: Dina's badge is being logged (a slow answer) as the
    # lead holds F8. The press and its first repeat wait behind the call; the screen had not
    # asked yet when they came, so they were not told apart, and the later repeats ran on as
    # "pressed twice at once" until one confirmed the move.
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    gate = threading.Event()
    deposit = school.phones.deposit

    def slow(*args: Any, **kwargs: Any) -> Any:
        gate.wait(10)
        return deposit(*args, **kwargs)

    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        monkeypatch.setattr(school.phones, "deposit", slow)
        burst(app, "DOFFICE⏎")  # Dina's phone, on its way
        await wait_for(pilot, lambda: app.busy)
        task = asyncio.ensure_future(hold_down(app, "f8", 1.2))
        await asyncio.sleep(REPEAT_DELAY + 0.1)  # the press and its first repeat came
        gate.set()
        await wait_for(pilot, lambda: not app.busy)
        app.clock.advance(READ_SECONDS + 0.05)  # the later repeats come after it
        await task
        await settle(pilot)
        assert isinstance(app.screen, BreakfastScreen), type(app.screen).__name__
        assert "Press F8 again to confirm" in notice(app), notice(app)
    assert in_drawer(school) == ["ASMITH", "DOFFICE", "EPATEL"]
