"""Text is text on the kiosk's own screens (issue 15.7): hostile names written straight into
the database are shown as typed, with no action, style or control in them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from textual.geometry import Region

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.pin import PinScreen
from tests.conftest import FakeClock
from tests.hostile import ESC, SHOWN, make_hostile_school
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import make_app, press, running, scan, settle

pytestmark = pytest.mark.ui


@pytest.fixture
def hostile(kiosk_settings: Settings, kiosk_clock: FakeClock) -> Iterator[Services]:
    services = Services(make_engine(kiosk_settings.database_url), kiosk_settings, kiosk_clock)
    make_hostile_school(services)
    services.admin.set_pin(ADMIN_PIN)
    with services.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET name = :name WHERE code = 'DOFFICE'"),
            {"name": "[@click=app.quit]Dina[/]\x1b]0;t\x07"},
        )
    yield services
    services.close()


def drawn(app: KioskApp) -> tuple[str, list[Any]]:
    lines: list[str] = []
    actions: list[Any] = []
    for screen in app.screen_stack:
        for widget in screen.query("*"):
            if not widget.display or not widget.size.area:
                continue
            region = Region(0, 0, widget.size.width, widget.size.height)
            for strip in widget.render_lines(region):
                text = ""
                for segment in strip:
                    text += segment.text
                    meta = segment.style.meta if segment.style is not None else {}
                    if "@click" in meta:
                        actions.append(meta["@click"])
                lines.append(text)
    return "\n".join(lines), actions


def clean(app: KioskApp) -> str:
    text, actions = drawn(app)
    assert ESC not in text and "\x07" not in text
    assert "\u202e" not in text and "\u200b" not in text
    assert actions == []
    return text


@pytest.mark.parametrize("code", ["ASMITH", "BJONES", "CHEAD", "EPATEL"])
async def test_a_person_and_their_confirmation_show_the_name_as_typed(
    hostile: Services, code: str
) -> None:
    app = make_app(hostile)
    async with running(app, size=(120, 40)) as pilot:
        await scan(pilot, f"SRK1:S:{code}")
        text = clean(app)
        assert SHOWN[code][:14] in text.replace("\n", " ") or code in text
        await press(pilot, "enter")
        await settle(pilot)
        clean(app)
        assert app.is_running


async def test_the_pin_pad_names_a_hostile_admin_as_typed(hostile: Services) -> None:
    app = make_app(hostile)
    async with running(app, size=(120, 40)) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "menu"
        text = clean(app)
        assert "[@click=app.quit]Dina[/]" in text
        assert app.is_running
