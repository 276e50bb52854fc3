"""The kiosk's PIN pad signs an admin in through the one use case, services.admin.sign_in: the
PIN it accepted is checked again with the admin's badge, so a PIN changed in between (at the
office) does not let the old one through."""

from __future__ import annotations

import pytest

from kiosk.services.app import Services
from kiosk.ui.pin import PinScreen
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import make_app, notice, press, running, scan

pytestmark = pytest.mark.ui


async def test_a_pin_changed_before_the_badge_is_asked_again(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "badge"
        school.admin.set_pin("583920", admin_code="DOFFICE", current_pin=ADMIN_PIN)
        await scan(pilot, "SRK1:S:DOFFICE")
        assert app.screen.stage == "pin"  # type: ignore[attr-defined]
        assert "Wrong PIN" in notice(app)
        await press(pilot, *"583920", "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        assert app.screen.stage == "menu"  # type: ignore[attr-defined]
        assert "Signed in as Dina Office." in notice(app)


async def test_a_badge_scanned_over_the_signed_in_menu_says_what_the_pad_is_showing(
    school: Services,
) -> None:
    # Dina is signed in (the menu: Admin console, Exit kiosk) and a colleague's badge is
    # scanned behind her. The pad said "Enter the PIN first." under a menu that asks for no
    # PIN: untrue, and it sent her to type the PIN again. It says who is signed in and that
    # the badge was not read; the menu stays hers.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await scan(pilot, "SRK1:S:DOFFICE")
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "menu"
        await scan(pilot, "SRK1:S:CBAKER")
        said = notice(app)
        assert "PIN first" not in said
        assert "Signed in as Dina Office" in said and "not read" in said, said
        assert app.screen.stage == "menu"
