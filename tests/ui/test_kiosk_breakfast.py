"""Breakfast-club mode: the lead logs colleagues' phones into the administrator's drawer."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from tests.ui.keyboard import scanned
from tests.ui.kiosk_support import (
    burst_keys,
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    settle,
    wait_for,
)

pytestmark = pytest.mark.ui


def _in_drawer(services: Services) -> list[str]:
    return sorted(h.staff.code for h in services.phones.phones_now() if h.store.code == "DRAWER")


async def test_only_the_lead_or_an_admin_can_start_it(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, HomeScreen)
        assert "Only the breakfast-club lead or an admin can start breakfast-club mode" in notice(
            app
        )
        await scan_fast(pilot, "SRK1:S:ASMITH")  # the button was used up: Alice's own screen
        assert "Breakfast club" not in screen_text(app)
        await press(pilot, "f5")
        assert not isinstance(app.screen, BreakfastScreen)
        assert "Only the breakfast-club lead or an admin" in notice(app)
    assert school.phones.phones_now() == ()


async def test_each_badge_logs_a_phone_into_the_drawer_recorded_by_the_lead(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        assert "recorded by Ben Jones" in screen_text(app)
        assert "LOGGING PHONES IN" in screen_text(app)
        # Three colleagues scanned one after the other, faster than they are stored.
        for code in ("ASMITH", "EPATEL", "CHEAD"):
            app.receive_scan(f"SRK1:S:{code}")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        text = screen_text(app)
        assert "In the drawer now: 3 phones" in text
        for name in ("Alice Smith", "Esha Patel", "Carol Head"):
            assert f"✓ {name}: phone into the drawer" in text
        assert "Breakfast-club mode logs phones: scan a colleague's badge." in notice(app)
        # F4 after the refused label: that recorded nothing, and F4 says so before it undoes
        # the scan before it (tests/ui/test_typing_round17.py).
        await press(pilot, "f4")
        assert "“SRK1:D:LAP-001” was not recorded" in notice(app)
        await pilot.pause(READ_SECONDS)  # read (timed by the keys' own clock)
        await press(pilot, "f4")
        text = screen_text(app)
        assert "✗ UNDONE Carol Head: phone into the drawer" in text
        assert "In the drawer now: 2 phones" in text
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
    assert _in_drawer(school) == ["ASMITH", "EPATEL"]
    rows = school.register.day(date(2026, 3, 10)).rows
    deposits = [r for r in rows if r.kind == EventKind.PHONE_DEPOSITED.value]
    assert {r.recorded_by for r in deposits} == {"Ben Jones"}
    [voided] = [r for r in deposits if r.voided]
    assert voided.staff_code == "CHEAD"
    assert rows[-1].kind == EventKind.CORRECTION.value


async def test_handing_back_and_a_phone_not_in_the_drawer(school: Services) -> None:
    school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    school.phones.deposit("EPATEL")  # in the staff room, not the drawer
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert "In the drawer now: 1 phone  Alice Smith" in screen_text(app)
        await press(pilot, "f3")
        assert "HANDING PHONES BACK" in screen_text(app)
        # Each scan is a service call: wait for its outcome on the screen, not a fixed turn.
        await scan_fast(pilot, "SRK1:S:EPATEL")
        await wait_for(
            pilot,
            lambda: (
                "Esha Patel's phone is in the Staff-room secure store, not the "
                "Administrator's locked drawer" in notice(app)
            ),
        )
        await scan_fast(pilot, "SRK1:S:ASMITH")
        await wait_for(pilot, lambda: "✓ Alice Smith: phone handed back" in screen_text(app))
        await wait_for(pilot, lambda: "In the drawer now: 0 phones" in screen_text(app))
        await scan_fast(pilot, "SRK1:S:NOBODY")
        await wait_for(pilot, lambda: "No member of staff has the code NOBODY" in notice(app))
        await settle(pilot)
    assert _in_drawer(school) == []
    assert school.people.status("EPATEL").phone is not None


async def test_move_all_to_the_staff_room_when_breakfast_club_ends(school: Services) -> None:
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:DOFFICE")  # an admin may run it too
        await press(pilot, "f8")
        assert (
            "Move all 2 phones from the drawer to the staff-room store? Press F8 again"
            in notice(app)
        )
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        await press(pilot, "f8")  # at once: a double press, the question not yet read
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        assert "Press F8 again" in notice(app)
        await pilot.pause(READ_SECONDS)  # read (timed by the keys' own clock)
        await press(pilot, "f8")
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "2 phones moved to the staff-room store" in text
        assert "Recorded by Dina Office." in text
    assert _in_drawer(school) == []
    assert sorted(h.staff.code for h in school.phones.phones_now()) == ["ASMITH", "EPATEL"]
    assert {h.store.code for h in school.phones.phones_now()} == {"STAFFROOM"}


async def test_f8_pressed_twice_at_once_moves_nothing(school: Services) -> None:
    # F8 twice 80 ms apart (a double press, a bouncing key, a burst): the question "Move
    # all ... ? Press F8 again" was never seen, and every phone was moved.
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code, "DRAWER", recorded_by="BJONES")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        burst_keys(app, "f8", "f8")
        await settle(pilot)
        assert "Press F8 again to confirm" in notice(app)
        assert isinstance(app.screen, BreakfastScreen)
    assert _in_drawer(school) == ["ASMITH", "EPATEL"]


async def test_a_colleague_not_logged_is_said_before_the_next_codes_typed_go_on(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lead types a queue of colleagues' codes; the database fails Esha's deposit. Its
    # "Not recorded for EPATEL" (a sentence of the screen's own, not the service's error)
    # was replaced at once by what the next codes did: now it stays up first.
    import threading

    from kiosk.domain.errors import DatabaseUnavailable

    gate = threading.Event()
    deposit = school.phones.deposit

    def failing_for_esha(code: str, *args: object, **kwargs: object) -> object:
        if code == "EPATEL":
            gate.wait(10)
            raise DatabaseUnavailable("Not recorded: the database file is locked.")
        return deposit(code, *args, **kwargs)  # type: ignore[arg-type]

    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        monkeypatch.setattr(school.phones, "deposit", failing_for_esha)
        burst_keys(app, *"EPATEL", "enter", *"ASMITH", "enter")
        await pilot.pause(0.2)
        gate.set()
        await wait_for(pilot, lambda: "for EPATEL" in notice(app))
        await pilot.pause(0.3)
        assert "for EPATEL" in notice(app)
        assert _in_drawer(school) == []
        app.clock.advance(app.NOT_RECORDED_READ_SECONDS)
        await wait_for(pilot, lambda: _in_drawer(school) == ["ASMITH"])


async def test_a_phone_stored_is_logged_when_the_drawer_cannot_be_read_after_it(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The database went away just after a colleague's phone was stored (another kiosk's
    # server restarted, the link dropped): the drawer's list, read after it, failed, and the
    # lead saw "Not recorded for Alice Smith" for a phone the register holds. Scanned again,
    # it was "already in the drawer"; F4 could not undo it.
    from kiosk.domain.errors import DatabaseUnavailable

    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)

        def gone() -> object:
            raise DatabaseUnavailable("This cannot be shown: the database is unavailable.")

        monkeypatch.setattr(school.phones, "phones_now", gone)
        await scan(pilot, "SRK1:S:ASMITH")
        await settle(pilot)
        assert "Not recorded" not in notice(app)
        assert "Alice Smith (" in notice(app)
        assert "✓ Alice Smith: phone into the drawer" in screen_text(app)
        # Its undo is stored, and said, with the drawer still unreadable.
        app.clock.advance(READ_SECONDS + 1)
        await press(pilot, "f4")
        await settle(pilot)
        assert "Undone: Alice Smith's scan" in notice(app)
        assert "✗ UNDONE Alice Smith: phone into the drawer" in screen_text(app)
        monkeypatch.undo()
    assert _in_drawer(school) == []


async def test_leaving_before_the_drawer_is_read_again_says_nothing_went_wrong(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The drawer could not be read after a colleague's phone was stored, and was read again
    # beside the next calls; the database slow, the lead left breakfast club before that read
    # answered. It then drew on the screen left behind, and home said "Not recorded: Something
    # went wrong, so this was not recorded" of a phone the register holds.
    import threading

    from kiosk.domain.errors import DatabaseUnavailable

    app = make_app(school)
    slow = threading.Event()
    phones_now, reads = school.phones.phones_now, []

    def away_then_slow() -> object:
        reads.append(1)
        if len(reads) == 1:
            raise DatabaseUnavailable("This cannot be shown: the database is unavailable.")
        slow.wait(10)
        return phones_now()

    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        monkeypatch.setattr(school.phones, "phones_now", away_then_slow)
        scanned(app, "SRK1:S:ASMITH")
        await wait_for(pilot, lambda: len(reads) == 2)  # the drawer read again, slowly
        assert "Alice Smith (" in notice(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        slow.set()
        await settle(pilot)
        assert "Something went wrong" not in notice(app)
        assert app.unexpected_errors == []
        monkeypatch.undo()
    assert _in_drawer(school) == ["ASMITH"]


async def test_f8_does_not_call_the_drawer_empty_from_a_list_that_could_not_be_read(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The drawer could not be read after Alice's phone went in (and its read again came back
    # empty-handed, skipped or failed): the list on the screen still showed no phone, and F8
    # said "The drawer is empty: there is nothing to move." of a drawer the register says
    # holds Alice's phone. The lead left it there. F8 asks the register when its list is empty.
    from kiosk.domain.errors import DatabaseUnavailable

    app = make_app(school)
    phones_now = school.phones.phones_now
    away = [True]

    def away_for_a_while() -> object:
        if away[0]:
            raise DatabaseUnavailable("This cannot be shown: the database is unavailable.")
        return phones_now()

    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        monkeypatch.setattr(school.phones, "phones_now", away_for_a_while)
        await scan(pilot, "SRK1:S:ASMITH")
        await settle(pilot)
        assert app.screen.in_drawer == ()  # the list could not be read
        away[0] = False
        await press(pilot, "f8")
        said = notice(app)
        assert "empty" not in said, said
        assert "Alice Smith's phone" in said and "Press F8 again" in said, said
        await pilot.pause(READ_SECONDS)  # read (timed by the keys' own clock)
        await press(pilot, "f8")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
        monkeypatch.undo()
    assert _in_drawer(school) == []


async def test_an_answer_coming_after_its_screen_has_gone_is_not_drawn_there(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app closed (or the screen went) while Esha's deposit was being recorded: its answer
    # was drawn on the breakfast screen already taken apart (NoMatches "#bc-mode", told as
    # "Something went wrong" and kept as an unexpected error). It is not drawn; the deposit
    # is in the register.
    import threading

    gate = threading.Event()
    deposit = school.phones.deposit

    def slow(code: str, *args: object, **kwargs: object) -> object:
        gate.wait(10)
        return deposit(code, *args, **kwargs)  # type: ignore[arg-type]

    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        screen = app.screen
        assert isinstance(screen, BreakfastScreen)
        monkeypatch.setattr(school.phones, "deposit", slow)
        scanned(app, "SRK1:S:EPATEL")
        await wait_for(pilot, lambda: app.busy)
        await screen.remove()  # taken apart, as the app does when it closes
        gate.set()
        await wait_for(pilot, lambda: not app.busy)
        await settle(pilot)
        assert "Something went wrong" not in notice(app)
        monkeypatch.undo()
    assert _in_drawer(school) == ["EPATEL"]
