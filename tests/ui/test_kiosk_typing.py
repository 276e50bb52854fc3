"""What a person types or a scanner sends is read as a code, never as one-key commands
(issue 16): typed key by key, as at the kiosk, on a real database file; the register is read
before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import Checkbox, Input

from kiosk.domain.events import BREAKFAST_DRAWER_STORE
from kiosk.services.app import Services
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.widgets import CodeField
from tests.school import make_ready
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
    wait_for,
    with_settings,
)

pytestmark = pytest.mark.ui


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        # A laptop's service tag: D was "deposit".
        ("DELL-5CG1234XYZ", "DELL-5CG1234XYZ is not a staff code or an asset tag"),
        # A typed asset tag that is not on the list: A was "deposit in the drawer".
        ("LAP-008", "LAP-008 is not a staff code or an asset tag"),
        # An over-long label.
        ("LAP-" + "X" * 60, "is not a kiosk code"),
        # A URL: W was "workstation review".
        ("https://www.example.com/w", "“https://www.example.com/w” is not a kiosk code"),
    ],
)
async def test_on_a_persons_screen_a_typed_code_records_nothing_and_says_what_was_read(
    school: Services, typed: str, said: str
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        before = events(school)
        await type_code(pilot, typed)
        assert isinstance(app.screen, PersonScreen), type(app.screen).__name__
        assert said in notice(app)
        assert events(school) == before
        # The field is empty again. The first Enter after a refused code does nothing (it
        # was meant for the code); the next does the screen's own thing: deposit.
        assert app.screen.query_one(CodeField).value == ""
        await press(pilot, "enter")
        assert isinstance(app.screen, PersonScreen)
        assert events(school) == before
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [kind for kind, _ in events(school)[len(before) :]] == ["phone_deposited"]


async def test_a_pasted_url_on_a_persons_screen_opens_nothing(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        before = events(school)
        app.post_message(_paste("https://intranet.example/vdu-review?w=1"))
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, PersonScreen)
        assert "is not a kiosk code" in notice(app)
        assert events(school) == before


def _paste(text: str) -> Any:
    from textual import events as textual_events

    return textual_events.Paste(text)


async def test_breakfast_club_a_typed_staff_code_logs_that_phone(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        before = len(events(school))
        # H was "hand phones back": the E, P, A, T, E, L must not change the mode either.
        await type_code(pilot, "ehatel")
        assert "No member of staff has the code EHATEL" in notice(app)
        await type_code(pilot, "epatel")
        assert app.screen.mode == "in"
        assert "Esha Patel" in notice(app)
        await type_code(pilot, "CHEAD")  # H, E, A, D: no mode change, no deposit by letters
        assert app.screen.mode == "in"
    added = events(school)[before:]
    assert [kind for kind, _ in added] == ["phone_deposited", "phone_deposited"]
    holdings = {h.staff.code: h for h in school.phones.phones_now()}
    assert holdings["EPATEL"].store.code == BREAKFAST_DRAWER_STORE
    assert holdings["EPATEL"].recorded_by == "Ben Jones"
    assert "CHEAD" in holdings


async def test_a_time_typed_in_the_return_field_changes_the_time_not_the_reason(
    school: Services,
) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "4")  # Report writing (a whole code of one digit)
        await press(pilot, "tab")  # from the reason list to the expected return
        due = app.screen.query_one("#due", Input)
        assert app.focused is due
        await press(pilot, *"Fri 15:30")  # replaces the default (it was selected)
        assert due.value == "Fri 15:30"
        summary = app.screen.summary_text()
        assert "“Report writing”" in summary
        assert "back Friday 13 March at 15:30" in summary
        assert school.devices.offsite_now() == ()
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.reason == "Report writing"
    assert item.expected_return == datetime(2026, 3, 13, 15, 30, tzinfo=UTC)


async def test_a_return_time_that_cannot_be_read_is_refused_with_a_reason(
    school: Services,
) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:LAP-001")
        await press(pilot, "1")
        app.screen.query_one("#due", Input).focus()
        await pilot.pause()
        await press(pilot, *"08:00", "enter")  # earlier today
        assert isinstance(app.screen, SignOutScreen)
        assert "has already passed" in notice(app)
        assert "has already passed" in app.screen.summary_text()
    assert school.devices.offsite_now() == ()


async def test_enter_on_the_ticked_charged_box_signs_out(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:WP-01")
        await press(pilot, "2")
        charged = app.screen.query_one("#charged", Checkbox)
        charged.focus()
        await press(pilot, "space")
        assert charged.value
        await press(pilot, "enter")  # signs out (it used to untick the box)
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.device.tag == "WP-01"


async def test_a_reason_digit_counts_only_as_a_whole_code(school: Services) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan(pilot, "SRK1:D:LAP-001")
        reason = app.screen.query_one("#reason")
        assert app.focused is reason
        await press(pilot, "3")
        # Shown before Enter records it, not chosen yet.
        assert "for “Training or meeting off site”" in app.screen.summary_text()  # type: ignore[attr-defined]
        assert reason.pressed_index == -1  # type: ignore[attr-defined]
        # More characters: the start of a code, not a reason.
        await type_code(pilot, "1234")
        assert reason.pressed_index == -1  # type: ignore[attr-defined]
        assert "31234 is not a staff code or an asset tag" in notice(app)


async def test_a_key_on_the_confirmation_starts_the_next_code(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        await type_code(pilot, "epatel")  # the first letter is not lost
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"


async def test_a_home_screen_error_clears_at_the_next_key_or_after_a_minute(
    school: Services,
) -> None:
    app = make_app(with_settings(school, idle_timeout=0))  # never idle: the error's own timer
    async with running(app) as pilot:
        await type_code(pilot, "lap-008")
        assert "LAP-008 is not a staff code or an asset tag" in notice(app)
        await press(pilot, "a")  # the next code begins: the last one's error is over
        assert notice(app) == ""
        await press(pilot, "backspace")
        await type_code(pilot, "lap-008")
        assert "LAP-008" in notice(app)
        await idle(pilot, 59)  # (by the app's clock: a loaded machine cannot hurry it)
        await pilot.pause(1.2)  # the screen's clock ticks once a second
        assert "LAP-008" in notice(app)
        await idle(pilot, 1)
        await wait_for(pilot, lambda: notice(app) == "", timeout=3)
