"""Each admin session gets a new console: it starts clean (today's register, unfiltered, at
the top, the register's tab and focus) for the admin who opened it this time, and nothing of
the last session (its filters, rows, views or answers still in flight) reaches it."""

from __future__ import annotations

import os
import weakref
from datetime import timedelta
from pathlib import Path

import pytest
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from kiosk.config import Settings
from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.console import AdminConsoleScreen
from kiosk.ui.admin.dialogs import FormDialog
from kiosk.ui.admin.register import RegisterPane
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.home import HomeScreen
from tests.conftest import FakeClock
from tests.ui.admin_support import open_console, plain, table_rows, wait_freed, wait_until
from tests.ui.kiosk_support import hold, make_app, running

pytestmark = pytest.mark.ui


def register(app: object) -> RegisterPane:
    return app.screen.query_one(RegisterPane)  # type: ignore[attr-defined, no-any-return]


async def test_a_new_session_starts_clean_for_the_next_admin(
    school: Services, kiosk_clock: FakeClock
) -> None:
    school.phones.deposit("ASMITH")
    kiosk_clock.advance(minutes=2)
    school.phones.deposit("EPATEL")
    kiosk_clock.advance(minutes=2)
    today = school.register.day(kiosk_clock.now.date()).total
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        console = await open_console(pilot, app, "DOFFICE")
        pane = register(app)
        table = pane.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == today, what="today's rows")
        # Dina leaves it filtered, on another day, with a date half typed and the Export
        # view open (its fields changed).
        pane.query_one("#reg-staff", Select).value = "ASMITH"
        await wait_until(pilot, lambda: pane.filters == RegisterFilter(staff_code="ASMITH"))
        await pilot.press("p")
        await wait_until(pilot, lambda: pane._shown_day == pane.today() - timedelta(days=1))
        pane.query_one("#reg-date", Input).value = "01/01/20"
        await pilot.press("9")
        await wait_until(pilot, lambda: console.query("#export-path"))
        console.query_one("#export-path", Input).value = "/tmp/dinas-file.csv"
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))

        # Carol opens it: a new console.
        school.phones.deposit("BJONES")  # an event since
        school.people.add_staff("NNEW", "Nia New", admin_code="DOFFICE")  # a new colleague
        now = school.register.day(kiosk_clock.now.date()).total
        assert now > today
        dinas = console
        console = await open_console(pilot, app, "CHEAD")
        assert console is not dinas
        pane = register(app)
        table = pane.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == now, what="the new events")
        assert pane.day == pane.today() and pane.filters == RegisterFilter()
        staff = pane.query_one("#reg-staff", Select)
        await wait_until(
            pilot,
            lambda: "NNEW" in [value for _, value in staff._options],
            what="the filter's list",
        )
        assert all(select.is_blank() for select in pane.query(Select))
        assert pane.query_one("#reg-date", Input).value == ""
        assert table.cursor_row == 0 and table.scroll_y == 0
        assert app.focused is table
        assert console.query_one("#console-tabs", TabbedContent).active == "tab-register"
        with pytest.raises(NoMatches):  # built when first shown
            console.query_one("#view-export")
        await wait_until(
            pilot,
            lambda: (
                "Carol Head (CHEAD)" in plain(console.query_one("#console-title", Static).content)
            ),
            what="the admin's name",
        )
        await pilot.press("9")
        await wait_until(pilot, lambda: console.query("#export-path"))
        assert console.query_one("#export-path", Input).value != "/tmp/dinas-file.csv"
        # The cursor is in Export's first field (a digit would be typed there): back by a tap.
        await pilot.click("#--content-tab-tab-register")
        await wait_until(pilot, lambda: app.focused is table, what="the register's table")

        # A correction made now names Carol, not Dina.
        table.move_cursor(row=0)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        field = app.screen.query_one("#field-reason", Input)
        field.focus()
        field.value = "Scanned the wrong badge"
        await pilot.press("enter")  # asks for Enter again (a correction is for good)
        await wait_until(pilot, lambda: app.focused is app.screen.query_one("#submit"))
        await pilot.pause(READ_SECONDS)  # read (an Enter sooner is the same press again)
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.row_count == now + 1, what="the correction")
        assert table_rows(table)[-1][6] == "Carol Head"


async def test_a_console_opened_again_still_locks_itself_when_idle(school: Services) -> None:
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        for _ in range(2):
            console = await open_console(pilot, app, "DOFFICE")
            await wait_until(pilot, lambda c=console: c.admin_name == "Dina Office")
            app.clock.advance(school.settings.admin_idle_timeout)
            console.check_idle_timeout()
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen), what="idle lock")


async def test_a_console_taken_off_the_screen_by_the_app_is_closed(school: Services) -> None:
    """The kiosk's way home (after an unexpected error, say) pops whatever is above home:
    the console closes as if locked (its timers stop), and the next opening is a new one."""
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        console = await open_console(pilot, app, "DOFFICE")
        await pilot.press("9")
        await wait_until(pilot, lambda: console.query("#export-path"))
        app.go_home()
        await wait_until(pilot, lambda: console.locked_reason == "left")
        assert all(timer._task is None for timer in console._console_timers)  # stopped
        again = await open_console(pilot, app, "CHEAD")
        assert again is not console
        await wait_until(pilot, lambda: again.admin_name == "Carol Head")
        assert not again.query("#view-export")


@pytest.mark.tuning("thread-worker")  # stock Textual's pool threads keep their last worker
async def test_a_closed_console_is_freed(school: Services) -> None:
    """Nothing keeps a closed console (tens of thousands of objects) alive: the app holds no
    console between sessions (with the thread-worker leak fix of kiosk/ui/tuning/leaks.py)."""
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        console = await open_console(pilot, app, "DOFFICE")
        await wait_until(pilot, lambda: app.screen.admin_name == "Dina Office")
        gone = weakref.ref(console)
        del console
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))

        await wait_freed(pilot, gone, "the closed console freed")


@pytest.mark.tuning("gc")
async def test_a_first_page_drawn_as_the_console_closes_does_not_keep_it(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register's first page is drawn just as the console closes (the office locks it
    while a slow first page comes): the console, built, would freeze what is alive out of the
    collector's passes; closed, it does not, and is freed."""
    release = hold(monkeypatch, school.register, "day", seconds=5)
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        console = await open_console(pilot, app, "DOFFICE")
        await wait_until(pilot, lambda: app.screen.admin_name == "Dina Office")
        gone = weakref.ref(console)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        console.register_drawn()  # the page's call after its refresh, come after the close
        del console
        release.set()
        await wait_freed(pilot, gone, "the closed console freed")


async def test_a_new_console_with_the_database_gone_says_so(
    school: Services, kiosk_settings: Settings
) -> None:
    """Whether the admin may still use the console cannot be checked: it closes and the
    kiosk says why in words; nothing from the last session is shown meanwhile, and it opens
    again once the database is back."""
    path = Path(kiosk_settings.database_url.removeprefix("sqlite:///"))
    school.phones.deposit("ASMITH")
    school.phones.deposit("EPATEL")
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        console = await open_console(pilot, app, "DOFFICE")
        pane = register(app)
        table = pane.query_one("#reg-table", DataTable)
        # The filters' row is made just after the console's first page is drawn.
        await wait_until(pilot, lambda: pane.query("#reg-staff"), what="the filters' row")
        staff = pane.query_one("#reg-staff", Select)
        await wait_until(  # and its lists are filled after that
            pilot, lambda: "ASMITH" in [value for _, value in staff._options], what="the list"
        )
        staff.value = "ASMITH"  # Dina's filtered view
        await wait_until(pilot, lambda: pane.filters.staff_code == "ASMITH" and table.row_count)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        school.ctx.engine.dispose()
        aside = path.with_name("aside.sqlite3")
        os.replace(path, aside)
        path.write_bytes(b"this is not a database" * 100)
        try:
            app.open_admin_console("CHEAD")
            carols = app.screen
            assert isinstance(carols, AdminConsoleScreen) and carols is not console
            await wait_until(pilot, lambda: carols.locked_reason == "refused", what="refused")
            assert isinstance(app.screen, HomeScreen)
            # The notice is a message to the app (App.notify posts it): handled after the
            # close that came with it, a moment later on a busy machine.
            await wait_until(
                pilot,
                lambda: any("unavailable" in n.message for n in app._notifications),
                what="the kiosk saying why",
            )
            # Dina's filtered rows were not shown to Carol.
            assert all(p.filters == RegisterFilter() for p in carols.query(RegisterPane))
        finally:
            school.ctx.engine.dispose()
            os.replace(aside, path)
        again = await open_console(pilot, app, "CHEAD")
        await wait_until(pilot, lambda: again.admin_name == "Carol Head", what="opened again")
