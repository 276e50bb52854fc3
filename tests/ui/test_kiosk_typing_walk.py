"""What a tester typing at human speed (one key at a time, in tmux) found on the merged typing
model of issue 16: each on a real database file, the register read before and after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Select

from kiosk.config import Settings, log_dir
from kiosk.db.engine import make_engine
from kiosk.db.models import Event
from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.pin import PinScreen
from kiosk.ui.signout import SignOutScreen
from tests.conftest import FakeClock
from tests.school import make_ready
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
    wait_for,
)

pytestmark = pytest.mark.ui


def events(services: Services) -> list[tuple[str, dict[str, Any]]]:
    with services.ctx.engine.connect() as conn:
        rows = conn.execute(select(Event.kind, Event.details).order_by(Event.id)).all()
    return [(str(kind), dict(details or {})) for kind, details in rows]


async def test_the_line_manager_list_starts_with_the_persons_own_manager(
    school: Services, kiosk_clock: FakeClock
) -> None:
    # Imported now: the roster keeps the manager's staff code.
    school.people.add_staff("FNEW", "Fay New", line_manager="CHEAD", roles=["laptop_user"])
    make_ready(school, "FNEW")
    assert school.people.status("FNEW").staff.line_manager == "CHEAD"
    for _ in range(2):
        school.devices.sign_out("FNEW", ["LAP-001"], reason="Planning")
        kiosk_clock.advance(hours=16)
        school.devices.return_device("LAP-001")
        kiosk_clock.advance(days=1)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:FNEW")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        await settle(pilot)
        options = app.screen.query_one("#manager", Select)._options
        first = next((str(p), v) for p, v in options if isinstance(v, str))
        assert first == ("Carol Head (your line manager)", "Carol Head")


# --- the PIN pad -------------------------------------------------------------------------


async def test_a_label_typed_at_the_pin_pad_is_not_a_pin_and_not_an_attempt(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        for _ in range(8):  # 8 of them locked the keyboard
            await press(pilot, *"LAP-014", "enter")
            said = notice(app)
            assert "“LAP-014” is not a PIN" in said, said
            assert "attempts left" not in said
        await press(pilot, *"999999", "enter")
        assert "Wrong PIN. 4 attempts left." in notice(app)
        await press(pilot, *ADMIN_PIN, "enter")
        assert app.screen.stage == "badge"  # type: ignore[attr-defined]


async def test_the_admin_menu_has_no_letter_keys_and_a_typed_code_goes_nowhere(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:CHEAD")
        assert app.screen.stage == "menu"  # type: ignore[attr-defined]
        await press(pilot, *"dofficeax", "enter")  # a lowercase code: a, x were actions
        await press(pilot, "A", "X", "shift+a", "shift+x")
        assert isinstance(app.screen, PinScreen) and app.is_running
        assert app.screen.stage == "menu"
        assert "F2" in screen_text(app) and "F3" in screen_text(app)
        await press(pilot, "f2")
        assert type(app.screen).__name__ == "AdminConsoleScreen"


async def test_closing_from_the_pin_pad_is_recorded_with_the_admins_name(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        await press(pilot, "f3")
        await pilot.pause()
        assert not app.is_running
    [(kind, details)] = [e for e in events(school) if e[1].get("action") == "kiosk_app_closed"]
    assert kind == "admin_action" and details["from"] == "kiosk PIN pad"
    assert "kiosk closed by Dina Office" in (log_dir() / "kiosk.log").read_text()


async def test_closing_from_the_pin_pad_with_the_database_away_logs_the_admin(
    school: Services, kiosk_settings: Settings
) -> None:
    folder = Path(make_engine(kiosk_settings.database_url).url.database or "").parent
    away = folder.with_name(folder.name + "-away")
    app = KioskApp(settings=kiosk_settings, confirm_seconds=60.0, retry_seconds=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "ready")
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        assert app.screen.stage == "menu"  # type: ignore[attr-defined]
        assert app.services is not None
        folder.rename(away)
        app.services.ctx.engine.dispose()
        await press(pilot, "f3")
        await settle(pilot)
    assert not app.is_running
    away.rename(folder)
    log = (log_dir() / "kiosk.log").read_text()
    assert "kiosk app closed by Dina Office (DOFFICE) from the PIN pad; NOT recorded" in log
