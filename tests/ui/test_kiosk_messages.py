"""Crashes become messages on the kiosk (issue 15.8): a database URL the kiosk cannot use and
a corrupt school key are said in words on the screen; nothing breaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.services.app import Services
from kiosk.services.secret import key_path
from kiosk.ui.app import KioskApp
from kiosk.ui.pin import PinScreen
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import make_app, notice, press, running, screen_text, wait_for

pytestmark = pytest.mark.ui


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://kiosk@db/register", "names mysql, which the kiosk does not support"),
        ("not a url", "is not a database URL"),
    ],
)
async def test_a_database_url_the_kiosk_cannot_use_is_said(url: str, said: str) -> None:
    app = KioskApp(settings=Settings(kiosk_name="test-kiosk", database_url=url), retry_seconds=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "unavailable")
        await pilot.pause()
        assert said in screen_text(app).replace("\n", " ")
        assert app.unexpected_errors == []


async def test_a_corrupt_school_key_is_said_on_the_pin_pad(school: Services) -> None:
    key_path().write_text("this is not a key\n")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        assert isinstance(app.screen, PinScreen) and app.screen.stage == "pin"
        said = notice(app)
        assert "does not hold a school key" in said and "kiosk secret import" in said
        assert "ValueError" not in said and app.is_running


async def test_a_kiosk_pointed_at_no_register_says_so_and_makes_none(tmp_path: Path) -> None:
    """A mistyped path, or the kiosk run as another user than the one who set the school up:
    the kiosk says there is no register there, instead of starting an empty one."""
    missing = tmp_path / "nope" / "kiosk.sqlite3"
    settings = Settings(kiosk_name="test-kiosk", database_url=f"sqlite:///{missing}")
    app = KioskApp(settings=settings, retry_seconds=30)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.db_state == "unavailable")
        await pilot.pause()
        said = screen_text(app).replace("\n", " ")
        assert "There is no register at" in said and "kiosk setup" in said
        assert app.unexpected_errors == []
    assert not missing.exists() and not missing.parent.exists()


async def test_a_message_with_markup_in_it_is_shown_as_written_where_there_is_no_notice_line(
    school: Services,
) -> None:
    """Over the confirmation (no message line of its own) a refusal is a toast: a name or a
    typed text quoted in it (``Jo [/] Bloggs``, ``[@click=app.quit]``) is shown as written,
    not read as markup (an unbalanced ``[/]`` is a markup error: the kiosk stopped)."""
    from textual.widgets._toast import Toast

    from kiosk.domain.errors import RuleViolation
    from kiosk.ui.confirm import ConfirmScreen

    app = make_app(school)
    async with running(app, notifications=True) as pilot:
        app.confirm("Phone deposited", ["Jo Bloggs"], None)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.show_error(RuleViolation("Not recorded: Jo [/] Bloggs [@click=app.quit]x[/] \x1b[2J"))
        await pilot.pause()
        await wait_for(pilot, lambda: app.screen.query(Toast))
        await pilot.pause()
        shown = " ".join(str(toast.render()) for toast in app.screen.query(Toast))
        assert app.is_running and not app.unexpected_errors
    assert "Jo [/] Bloggs [@click=app.quit]x[/] \ufffd[2J" in shown
