"""A tap aimed at a button that has just moved: the screen's layout shifted by itself (a
banner came or went) between the person seeing the button and their finger landing. The
tap would land on whatever is there now; it is dropped instead. A real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import Button

from kiosk.services.app import Services
from kiosk.ui.home import HomeScreen
from tests.conftest import FakeClock
from tests.ui.kiosk_support import events, make_app, notice, running, scan, settle, tap_at

pytestmark = pytest.mark.ui

# The window a tap is dropped in, for the tests that tap in it: the real half second can pass
# between the banner and the tap on a machine running the tests in parallel.
SLOW_MACHINE = 5.0


def buttons(screen: Any) -> dict[str, Any]:
    """Where each of the screen's buttons is now (id -> region)."""
    return {b.id: b.region for b in screen.query(Button) if b.display and b.region}


def under(screen: Any, x: int, y: int) -> str | None:
    """The id of the button under (x, y) now, if any."""
    for name, region in buttons(screen).items():
        if region.contains(x, y):
            return str(name)
    return None


async def test_a_tap_on_a_button_that_moved_as_the_end_of_day_banner_came_is_dropped(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # 16:29: Alice's phone is still in the store. Ben reaches for a button; at 16:30 the
    # end-of-day banner appears above the field and the buttons move under his finger. His
    # tap landed on the button now there (reaching for "Breakfast club", he armed "Phone in /
    # out": his badge would then have recorded his phone without showing his screen).
    school.phones.deposit("ASMITH")
    kiosk_clock.set(datetime(2026, 3, 10, 16, 29, tzinfo=UTC))
    app = make_app(school)
    app.DOUBLE_TAP_SECONDS = SLOW_MACHINE  # type: ignore[misc]
    async with running(app) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        seen = buttons(home)
        theme = app.theme
        kiosk_clock.set(datetime(2026, 3, 10, 16, 31, tzinfo=UTC))
        home.refresh_end_of_day()  # what its timer does every minute
        await settle(pilot)
        assert home.query_one("#end-of-day").display
        # A place where he saw one button and another is now.
        x, y, aimed, landed = next(
            (x, y, name, under(home, x, y))
            for name, region in seen.items()
            for y in range(region.y, region.bottom)
            for x in (region.x + region.width // 2,)
            if under(home, x, y) not in (None, name)
        )
        assert (aimed, landed) != (None, None)
        before = len(events(school))
        tap_at(app, x, y)  # his finger lands where he saw the button
        await pilot.pause(0.1)
        await settle(pilot)
        assert app.screen is home, (aimed, landed, type(app.screen).__name__)
        assert home.intent is None, (aimed, landed, notice(app))
        assert app.theme == theme, (aimed, landed)
        # The next badge is read as a badge: his screen, nothing recorded for him.
        await scan(pilot, "SRK1:S:BJONES")
        assert type(app.screen).__name__ == "PersonScreen", notice(app)
    assert events(school)[before:] == []


async def test_a_tap_a_moment_after_the_buttons_moved_is_a_tap(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # The same, but Ben looks again and taps the button where it is now: it is pressed.
    school.phones.deposit("ASMITH")
    kiosk_clock.set(datetime(2026, 3, 10, 16, 29, tzinfo=UTC))
    app = make_app(school)
    async with running(app) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        kiosk_clock.set(datetime(2026, 3, 10, 16, 31, tzinfo=UTC))
        home.refresh_end_of_day()
        await settle(pilot)
        await pilot.pause(app.DOUBLE_TAP_SECONDS + 0.1)
        region = home.query_one("#act-phone").region
        tap_at(app, region.x + region.width // 2, region.y + 1)
        await pilot.pause(0.1)
        await settle(pilot)
        assert home.intent == "phone", notice(app)


async def test_the_banner_coming_on_home_shown_again_drops_a_tap_too(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # Home shown again after Alice's screen (Esc), then the end-of-day list comes: the
    # buttons move on this showing too.
    school.phones.deposit("ASMITH")
    kiosk_clock.set(datetime(2026, 3, 10, 16, 29, tzinfo=UTC))
    app = make_app(school)
    app.DOUBLE_TAP_SECONDS = SLOW_MACHINE  # type: ignore[misc]
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await pilot.press("escape")
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        seen = buttons(home)
        kiosk_clock.set(datetime(2026, 3, 10, 16, 31, tzinfo=UTC))
        home.refresh_end_of_day()
        await settle(pilot)
        assert home.query_one("#end-of-day").display
        x, y, aimed, landed = next(
            (x, y, name, under(home, x, y))
            for name, region in seen.items()
            for y in range(region.y, region.bottom)
            for x in (region.x + region.width // 2,)
            if under(home, x, y) not in (None, name)
        )
        tap_at(app, x, y)
        await pilot.pause(0.1)
        await settle(pilot)
        assert app.screen is home, (aimed, landed, type(app.screen).__name__)
        assert home.intent is None, (aimed, landed, notice(app))
