"""Nothing leaves the kiosk but the admin PIN and an admin's badge."""

from __future__ import annotations

import asyncio
import sys

import pytest

from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.pin import PinScreen
from tests.conftest import FakeClock
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import (
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    settle,
)

pytestmark = pytest.mark.ui


async def test_ctrl_c_ctrl_q_the_palette_and_quit_actions_do_not_exit(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "ctrl+c")
        await press(pilot, "ctrl+p")
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, (HomeScreen, PinScreen))
        await press(pilot, "escape")
        await press(pilot, "ctrl+q")
        assert app.is_running and isinstance(app.screen, PinScreen)
        assert "Admin only: enter the PIN" in screen_text(app)
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen)
        for action in ("quit", "app.quit", "suspend_process", "command_palette"):
            await app.run_action(action)
            await pilot.pause()
        assert app.is_running and app.return_code is None
        assert not any(type(s).__name__ == "CommandPalette" for s in app.screen_stack)


async def test_markup_in_a_name_is_shown_as_typed_and_does_nothing(school: Services) -> None:
    school.people.add_staff("MALLORY", "[@click=app.quit]Mallory[/] [b]Bold[/b]")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:MALLORY")
        assert isinstance(app.screen, PersonScreen)
        assert "[@click=app.quit]Mallory[/] [b]Bold[/b]" in screen_text(app)
        await pilot.click("#person-head", offset=(2, 0))
        await pilot.click("#person-head", offset=(20, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_wrong_pins_count_down_then_lock(school: Services, kiosk_clock: FakeClock) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        await press(pilot, *"111111", "enter")
        assert "Wrong PIN. 4 attempts left." in notice(app)
        assert "●" not in screen_text(app)  # the pad was cleared
        await press(pilot, *"999999", "enter")
        assert "Wrong PIN. 3 attempts left. Wait 1 s before the next." in notice(app)
        await press(pilot, *"999999", "enter")  # too soon: not even tried
        assert "wait" in notice(app)
        for _ in range(3):
            kiosk_clock.advance(seconds=20)
            await press(pilot, *"999999", "enter")
        assert "Too many wrong PINs: the admin console is locked for 5 more minute(s)." in notice(
            app
        )
        await press(pilot, *ADMIN_PIN, "enter")  # even the right PIN waits now
        assert "locked" in notice(app)
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "pin"
    kinds = [r.kind for r in school.register.day(school.ctx.clock().date()).rows]
    assert kinds.count(EventKind.ADMIN_LOCKOUT.value) == 1


async def test_pin_is_masked_and_can_be_typed_on_the_pad(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "ctrl+q")
        for digit in ADMIN_PIN[:3]:
            await pilot.click(f"#pin-{digit}")
        await pilot.pause()
        assert screen_text(app).count("●") == 3
        assert ADMIN_PIN[:3] not in screen_text(app)
        await pilot.click("#pin-back")
        await press(pilot, *ADMIN_PIN[2:])
        await pilot.click("#pin-ok")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "badge"


async def test_after_the_pin_an_admin_badge_then_exit(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the admin console were not installed on this kiosk.
    monkeypatch.setitem(sys.modules, "kiosk.ui.admin", None)
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "ctrl+q", *ADMIN_PIN, "enter")
        assert "PIN accepted. Scan your badge" in screen_text(app)
        await scan(pilot, "SRK1:S:ASMITH")
        assert "Alice Smith is not an admin: only admins can act here." in notice(app)
        assert app.screen.stage == "badge"  # type: ignore[attr-defined]
        await scan_fast(pilot, "SRK1:S:DOFFICE")
        assert "Signed in as Dina Office." in notice(app)
        assert "Admin console" in screen_text(app) and "Exit kiosk" in screen_text(app)
        await press(pilot, "f2")
        assert "The admin console is not installed on this kiosk." in notice(app)
        assert app.is_running
        await press(pilot, "f3")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_admin_console_opens_after_the_pin_and_an_admin_badge(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "ctrl+q", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:CHEAD")
        await press(pilot, "f2")
        assert type(app.screen).__name__ == "AdminConsoleScreen"
        # Scans are not taken from the admin console's fields, and it does not time out as
        # a staff screen would.
        assert not getattr(app.screen, "ACCEPTS_SCANS", False)
        assert getattr(app.screen, "idle_seconds", None) is None


async def test_the_pin_pad_opens_without_the_last_message_behind_it(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan_fast(pilot, "SRK1:S:NOBODY")
        assert "NOBODY" in notice(app)
        await press(pilot, "ctrl+q")
        assert isinstance(app.screen, PinScreen)
        assert app.home is not None and "NOBODY" not in str(app.home.query_one("#notice").visual)
        await press(pilot, "escape")
        assert isinstance(app.screen, HomeScreen) and notice(app) == ""


@pytest.mark.parametrize("turns", [0, 1, 2, 4])
async def test_the_kiosk_closing_while_the_console_is_being_built_closes_cleanly(
    school: Services, monkeypatch: pytest.MonkeyPatch, turns: int
) -> None:
    """The kiosk is told to close (SIGTERM at shutdown, say) just as the admin console adds
    its register's filter lists: it closes as asked, not as after a crash (stock Textual's
    Select breaks when its screen is taken down half mounted). What broke is logged."""
    from kiosk.config import log_dir
    from kiosk.ui.admin.register import RegisterPane

    add_filters = RegisterPane._add_filters

    def add_then_exit(pane: RegisterPane) -> object:
        mounting = add_filters(pane)
        if mounting is not None:
            if turns:
                pane.app.call_later(_exit_after, pane.app, turns)
            else:
                pane.app.exit()
        return mounting

    monkeypatch.setattr(RegisterPane, "_add_filters", add_then_exit)
    app = make_app(school)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_admin_console("DOFFICE")
        for _ in range(400):
            if not app.is_running:
                break
            await asyncio.sleep(0.01)
    assert app.return_code == 0
    assert app.unexpected_errors == []
    logged = (log_dir() / "kiosk.log").read_text(encoding="utf-8")
    assert "unexpected error" not in logged
    if turns == 0:  # the lists were taken away half mounted: said in the log
        assert "error in a widget while the kiosk was closing" in logged


async def _exit_after(app: object, turns: int) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)
    app.exit()  # type: ignore[attr-defined]
