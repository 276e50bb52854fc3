"""The way out when the database is away (issue 16.3): the PIN pad checks the PIN against the
copy of its hash the kiosk kept when it last could read it, offers only "Exit the kiosk app"
(an admin's badge cannot be checked), says so once, and writes what happened to kiosk.log."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import Settings, data_dir, log_dir
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.pin import PinScreen
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import notice, press, scan, screen_text, settle, wait_for

pytestmark = pytest.mark.ui

COPY = "admin-pin.json"


def _db_folder(settings: Settings) -> Path:
    return Path(make_engine(settings.database_url).url.database or "").parent


async def test_right_pin_closes_the_kiosk_with_the_database_away(
    school: Services, kiosk_settings: Settings
) -> None:
    (data_dir() / COPY).unlink()  # kept again by the kiosk itself when it connects
    folder = _db_folder(kiosk_settings)
    away = folder.with_name(folder.name + "-away")
    app = KioskApp(settings=kiosk_settings, confirm_seconds=60.0, retry_seconds=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "ready")
        assert (data_dir() / COPY).exists()
        assert app.services is not None
        folder.rename(away)
        app.services.ctx.engine.dispose()
        await press(pilot, "f10")
        assert isinstance(app.screen, PinScreen)
        await press(pilot, *"999999", "enter")
        said = notice(app)
        assert "Wrong PIN. 4 attempts left." in said
        assert "Not recorded" not in said and app.screen.stage == "pin"
        await press(pilot, *ADMIN_PIN, "enter")
        await wait_for(pilot, lambda: app.screen.stage == "offline")  # type: ignore[attr-defined]
        text = screen_text(app)
        assert "database cannot be reached" in text and "can only close the kiosk app" in text
        assert "Exit the kiosk app" in text
        assert "Admin console" not in text
        assert "Not recorded: Not recorded" not in text
        # Her badge, scanned out of habit, is not asked for: said so, not "the PIN first".
        await scan(pilot, "SRK1:S:DOFFICE")
        said = notice(app)
        assert "badge was not read" in said and "PIN first" not in said, said
        assert app.screen.stage == "offline"
        await pilot.click("#offline-exit")
        await settle(pilot)
    assert not app.is_running
    away.rename(folder)
    log = (log_dir() / "kiosk.log").read_text()
    assert "while the database was unreachable" in log
    assert "kiosk closed with the admin PIN alone" in log


async def test_a_kiosk_that_never_read_the_pin_says_so(tmp_path: Path) -> None:
    blocked = tmp_path / "db"
    blocked.write_text("a file where the database folder should be")
    settings = Settings(kiosk_name="test-kiosk", database_url=f"sqlite:///{blocked / 'k.sqlite3'}")
    app = KioskApp(settings=settings, confirm_seconds=60.0, retry_seconds=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "unavailable")
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        said = notice(app)
        assert "cannot be checked without the database" in said
        assert said.count("Not ") == 1  # said once
        assert app.is_running and app.screen.stage == "pin"  # type: ignore[attr-defined]
