"""Round 8 of the typing red team, the admin console's side: ``kiosk admin``'s sign-in typed
in one burst (the PIN, Enter, then a badge), on a real database file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from textual import events
from textual.widgets import Input, Static

from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin.app import AdminApp
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import SIZE, messages, open_services, text_of, wait_until

pytestmark = pytest.mark.ui

PIN = "402718"


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    svc.admin.set_pin(PIN)
    yield svc
    svc.close()


def burst(app: AdminApp, typed: str) -> None:
    """Keys arriving all at once (a scanner's payload straight after the Enter, a loaded
    office machine, the console in a browser); "⏎" is Enter."""
    for char in typed:
        if char == "⏎":
            app.post_message(events.Key("enter", "\r"))
        else:
            app.post_message(events.Key(char, char))


async def test_the_pin_then_a_badge_in_one_burst_signs_in(services: Services) -> None:
    app = AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        status = app.screen.query_one("#signin-status", Static)
        await wait_until(pilot, lambda: "Type the admin PIN" in text_of(status))
        # The PIN, Enter, then the badge scanned straight away: its payload's "1" went into
        # the PIN field the Enter had just left (7 dots), and "Wrong PIN. 4 attempts left."
        burst(app, f"{PIN}⏎SRK1:S:DOFFICE⏎")
        pin = app.screen.query_one("#pin", Input)
        # Until the console is shown or the sign-in is refused ("Checking…" comes first).
        with contextlib.suppress(AssertionError):
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, AdminConsoleScreen)
                    or any("Checking" not in m for m in messages(app))
                ),
                timeout=10,
            )
        said = " ".join(messages(app))
        assert len(pin.value) == len(PIN) or pin.value == "", pin.value
        assert "Wrong PIN" not in said
        assert isinstance(app.screen, AdminConsoleScreen), said
        assert app.screen.admin_code == "DOFFICE"
        assert services.register.day(START.date(), RegisterFilter(kind="admin_lockout")).total == 0
        assert not isinstance(app.focused, Input) or app.focused.id != "pin"
