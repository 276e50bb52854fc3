"""Office round 14, reviewer's findings, the console: in the office's browser a console that
is not in use closes, so it does not keep one of the server's few places."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.services.app import Services
from kiosk.ui.admin.app import AdminApp
from tests.conftest import FakeClock
from tests.school import make_school
from tests.ui.admin_support import SIZE, open_services, wait_until
from tests.ui.clocks import FakeUiClock

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    make_school(svc)
    svc.admin.set_pin("402718")
    yield svc
    svc.close()


@pytest.mark.parametrize("where", ["sign-in", "console"])
async def test_in_the_browser_a_console_left_idle_closes(
    services: Services, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """`kiosk admin --serve` opens at most --max-consoles consoles, each a process of its own.
    A tab left open at the PIN pad, or on a console that locked itself when idle (back at the
    PIN pad), kept its place for ever: the next office PC was refused. Now, in the browser,
    the PIN pad left alone for the console's idle time closes the console, as does the
    console's own idle lock (the page then offers to open it again); at the kiosk and in a
    terminal both stay as they were."""
    monkeypatch.setattr(AdminApp, "is_web", property(lambda self: True))
    app = AdminApp(services.settings, services)
    clock = FakeUiClock(services.ctx.clock)
    app.clock = clock  # type: ignore[attr-defined]
    timeout = services.settings.admin_idle_timeout
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: app.screen.query("#pin") and app.screen.query_one("#pin").has_focus
        )
        if where == "console":
            from kiosk.ui.admin import AdminConsoleScreen

            await pilot.press(*"402718", "enter", *"doffice", "enter")
            from textual.widgets import DataTable

            await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
            await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        clock.advance(timeout - 5)
        await pilot.pause(1.2)
        assert app.return_code is None, "closed before its idle time"
        await pilot.press("1" if where == "sign-in" else "down")  # the idle time starts again
        clock.advance(10)
        await pilot.pause(1.2)
        assert app.return_code is None, "closed though a key was pressed"
        clock.advance(timeout)
        await wait_until(pilot, lambda: app.return_code is not None)


async def test_in_the_browser_a_console_refused_its_admin_still_says_why(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console that closes because its admin may no longer use it (the admin role taken
    away meanwhile) says why in a notice, back at the PIN pad. In the browser it is not ended
    at once like a locked one: the page would say only "has closed" and the reason would be
    lost. It stays at the PIN pad, whose own idle time then frees its place."""
    from kiosk.ui.admin.app import SignInScreen

    monkeypatch.setattr(AdminApp, "is_web", property(lambda self: True))
    app = AdminApp(services.settings, services)
    app.clock = FakeUiClock(services.ctx.clock)  # type: ignore[attr-defined]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: bool(app.screen.query("#pin")))
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        screen.open_console("ASMITH", ())  # signed in, then no longer an admin
        notes = lambda: [n.message for n in app._notifications]  # noqa: E731
        await wait_until(pilot, lambda: any("not an admin" in n for n in notes()))
        await pilot.pause(0.5)
        assert app.return_code is None
        assert app.screen is screen
