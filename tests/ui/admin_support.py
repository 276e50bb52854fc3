"""Helpers for the admin console's Pilot and snapshot tests: a real SQLite file, a fake
clock, a host app standing in for the kiosk, and ways to read the screen as a person would."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.ui import tuning
from kiosk.ui.admin.console import POLL_SECONDS, AdminConsoleScreen
from kiosk.ui.admin.widgets import FeedbackLine
from kiosk.ui.keys import KeysInOrder
from kiosk.ui.tuning.errors import PlainErrors
from tests.ui.clocks import FakeUiClock

SIZE = (120, 36)


def open_services(url: str, clock: Callable[[], datetime], **changes: Any) -> Services:
    changes.setdefault("school_name", "Hillside Primary")
    settings = Settings(kiosk_name="test-kiosk", database_url=url, **changes)
    return Services(make_engine(url), settings, clock)


@contextmanager
def second_writer(url: str, clock: Callable[[], datetime]) -> Iterator[Services]:
    """Another kiosk on the same database file: its own engine and connections."""
    other = Services(make_engine(url), Settings(kiosk_name="hall-kiosk", database_url=url), clock)
    try:
        yield other
    finally:
        other.close()


class ConsoleHost(PlainErrors, KeysInOrder[None]):
    """Stands in for the kiosk app: a home screen, with the console pushed over it. An error
    in a widget while it is closing is noted and it closes, as the kiosk's apps do (a test
    that ends just as the console adds its filter lists takes them down half mounted);
    any other error stops it, and the test fails with that error."""

    ENABLE_COMMAND_PALETTE = False  # as in the kiosk app
    # Keys for the console in order (kiosk/ui/keys.py), as in both of the kiosk's apps.

    def __init__(
        self,
        services: Services,
        admin_code: str = "DOFFICE",
        lockouts: Sequence[datetime] | None = None,
    ) -> None:
        super().__init__()
        tuning.install(self)  # as the kiosk's apps do at start-up (KIOSK_TUNING)
        self.clock = FakeUiClock(services.ctx.clock)  # the console's idle lock goes by it
        self.services = services
        self.admin_code = admin_code
        self.lockouts = lockouts
        self.unexpected_errors: list[BaseException] = []
        self.errors_while_closing: list[BaseException] = []

    # kiosk.ui.tuning.errors.PlainErrors calls these.
    def report_unexpected(self, error: BaseException) -> None:
        self.unexpected_errors.append(error)

    def report_while_closing(self, error: BaseException) -> None:
        self.errors_while_closing.append(error)

    def stopped_message(self) -> str:
        return "The console's test host stopped after an unexpected error."

    def recover_from(self, _broken: object) -> None:
        raise self.unexpected_errors[-1]  # no recovery in a test: it stops the host

    def compose(self) -> ComposeResult:
        yield Static("Kiosk home screen", id="home")

    def on_mount(self) -> None:
        self.open_console()

    def open_console(self) -> None:
        self.push_screen(AdminConsoleScreen(self.services, self.admin_code, lockouts=self.lockouts))


# --- reading the screen ----------------------------------------------------------------------


def plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def table_rows(table: DataTable[Any]) -> list[list[str]]:
    return [[plain(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(widget: Static) -> str:
    return plain(widget.content)


def messages(app: App[Any]) -> list[str]:
    """The feedback lines under the views (and in dialogs) shown now."""
    return [text_of(m) for m in app.screen.query(FeedbackLine) if text_of(m)]


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run (workers, timers) until ``predicate()`` holds.

    While waiting, an exception from ``predicate`` counts as "not yet" (a widget not mounted
    yet...); on timeout the failure says what was last seen: the last value, or the last
    exception (chained, with its traceback)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_value: Any = None
    last_error: Exception | None = None
    while True:
        await pilot.pause()
        try:
            last_value = predicate()
            last_error = None
            if last_value:
                return
        except Exception as exc:  # reported if it is still so at the deadline
            last_error = exc
        if loop.time() > deadline:
            waited = what or getattr(predicate, "__qualname__", repr(predicate))
            seen = (
                f"the last check raised {type(last_error).__name__}: {last_error}"
                if last_error is not None
                else f"the last check gave {last_value!r}"
            )
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {waited}; {seen}"
            ) from last_error
        await asyncio.sleep(0.05)


async def wait_freed(pilot: Pilot[Any], gone: weakref.ref[Any], what: str = "") -> None:
    """Until the closed screen ``gone`` refers to is freed (a full collection each look); if it
    is not, the failure says how many objects are frozen and what holds it.

    The app runs POLL_SECONDS + 0.5 first: a closed console's stopped timers let go of it at
    their next tick, which comes only while the app's loop runs. A full collection of a test
    process late in a make test took 12.5 s (the process holds what earlier tests left), the
    loop stopped meanwhile: made before those ticks, the first look used up the wait alone."""
    await pilot.pause(POLL_SECONDS + 0.5)

    def freed() -> bool:
        gc.collect()
        return gone() is None

    try:
        await wait_until(pilot, freed, what=what or "the closed screen freed")
    except AssertionError as failure:
        held = gone()
        holders = [type(r).__name__ for r in gc.get_referrers(held) if r is not held]
        raise AssertionError(
            f"{failure}; {gc.get_freeze_count()} objects frozen, held by {holders}"
        ) from None


async def open_console(pilot: Pilot[Any], app: Any, admin_code: str) -> AdminConsoleScreen:
    """The kiosk's admin console opened for ``admin_code`` (as its PIN pad does), once it is
    the screen on top."""
    app.open_admin_console(admin_code)
    await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
    console = app.screen
    assert isinstance(console, AdminConsoleScreen)
    return console


async def click(pilot: Pilot[Any], selector: str) -> None:
    """Click a widget as a person would. A button ignores a click while it still shows the
    previous press (a fifth of a second, longer on a busy machine): wait for that first."""
    widget = pilot.app.screen.query_one(selector)
    await wait_until(pilot, lambda: not widget.has_class("-active"), what=f"{selector} ready")
    await pilot.click(selector)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the database work in flight, then for the screen to catch up (tables size
    their columns on their next idle moment, which a busy machine can delay)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()

    def tables_sized() -> bool:
        return not any(
            table._require_update_dimensions or table._updated_cells
            for table in pilot.app.screen.query(DataTable)
        )

    await wait_until(pilot, tables_sized, what="tables to size their columns")
    # Stock DataTable keeps a row painted before its widths settled (a busy machine) cut
    # short until something repaints it (kiosk/ui/tuning piece ``table-widths`` does, as
    # the widths settle): what is shown once settled is what a snapshot compares.
    for table in pilot.app.screen.query(DataTable):
        table.notify_style_update()
    await pilot.pause(0.1)


# --- keys and the console, in both apps that show it ------------------------------------------


async def quiet(pilot: Pilot[Any]) -> None:
    """Whatever the keys started has finished, and the screen has caught up."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)


@asynccontextmanager
async def console_in(
    host: str, services: Services, pin: str, *, rows: int = 1
) -> AsyncIterator[tuple[App[Any], Pilot[Any]]]:
    """The console for DOFFICE, its register drawn (at least ``rows`` rows) and its filters
    there: in the kiosk app (as after the PIN pad, ``host`` "kiosk") or in ``kiosk admin``
    (``host`` "office", signed in by keys with ``pin``)."""
    from kiosk.ui.admin.app import AdminApp, SignInScreen
    from tests.ui.kiosk_support import make_app

    app: App[Any] = make_app(services) if host == "kiosk" else AdminApp(services.settings, services)
    async with app.run_test(size=SIZE) as pilot:
        if host == "kiosk":
            await wait_until(pilot, lambda: app.db_state == "ready")  # type: ignore[attr-defined]
            await open_console(pilot, app, "DOFFICE")
        else:
            await wait_until(pilot, lambda: isinstance(app.focused, Input))
            assert isinstance(app.screen, SignInScreen)
            await pilot.press(*pin, "enter", *"DOFFICE", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        table = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count >= rows, what="the register")
        await wait_until(pilot, lambda: app.screen.query_one("#reg-staff", Select))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.focused, DataTable)
        yield app, pilot
