"""Keys typed in the console at a person's speed and in bursts, in both apps that show it (the
kiosk app after F10, ``kiosk admin`` on the office machine), on a real SQLite file: a letter
or digit typed in a filter or a form field is never one of the console's shortcuts, keys
typed after a shortcut that opens a dialog go to that dialog, the Correct dialog records
nothing from keys typed before it was shown, and Ctrl+L locks from a dialog."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Select, Static, TabbedContent

from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin.app import SignInScreen
from kiosk.ui.admin.dialogs import FormDialog
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import (
    console_in,
    messages,
    open_services,
    quiet,
    text_of,
    wait_until,
)
from tests.ui.keyboard import burst, typed

pytestmark = pytest.mark.ui

PIN = "402718"
TODAY = date(2026, 3, 10)
HOSTS = ["kiosk", "office"]


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    svc.admin.set_pin(PIN)
    clock.set(START)
    svc.phones.deposit("ASMITH")
    clock.advance(minutes=1)
    svc.phones.deposit("CHEAD")
    yield svc
    svc.close()


def register(app: App[Any]) -> DataTable[Any]:
    return app.screen.query_one("#reg-table", DataTable)


def tab(app: App[Any]) -> str:
    console = next(s for s in app.screen_stack if isinstance(s, AdminConsoleScreen))
    return console.query_one("#console-tabs", TabbedContent).active


def corrections(services: Services) -> int:
    return services.register.day(TODAY, RegisterFilter(kind="correction")).total


@pytest.mark.parametrize("host", HOSTS)
async def test_a_name_typed_in_the_staff_filter_records_nothing(
    services: Services, host: str
) -> None:
    # f: the cursor in the "Any staff" filter; "claire" and Enter at a person's speed. Before,
    # c opened "Correct the register" for the selected row, "laire" became the reason and
    # Enter voided the row.
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        last = services.register.last_event_id()
        await typed(pilot, "f")
        staff = app.screen.query_one("#reg-staff", Select)
        assert app.focused is staff
        await typed(pilot, "claire⏎", gap=0.25)
        await quiet(pilot)
        assert isinstance(app.screen, AdminConsoleScreen)
        assert tab(app) == "tab-register"
        assert services.register.last_event_id() == last
        assert corrections(services) == 0
        assert all(not row.voided for row in services.register.day(TODAY).rows)


@pytest.mark.parametrize("host", HOSTS)
async def test_letters_and_digits_in_a_filter_are_no_shortcuts_in_a_burst(
    services: Services, host: str
) -> None:
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        last = services.register.last_event_id()
        await typed(pilot, "f")
        burst(app, *"emily", *"5c9", "⏎")
        await quiet(pilot)
        # Not the Export view (e), not a tab (5, 9), no correction (c).
        assert isinstance(app.screen, AdminConsoleScreen)
        assert tab(app) == "tab-register"
        assert (
            isinstance(app.focused, Select | type(None))
            or app.screen.query_one("#reg-staff", Select).expanded
        )
        assert services.register.last_event_id() == last


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("keys", "shown"),
    [("5 Dec 2026", "Saturday 5 December 2026"), ("04/12/2026", "Friday 4 December 2026")],
)
async def test_a_date_typed_right_after_g_goes_to_the_date_field(
    services: Services, host: str, keys: str, shown: str
) -> None:
    # Before: the digit after g switched tab (the field had not taken the cursor yet) and
    # the c of "Dec" opened "Correct the register".
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        last = services.register.last_event_id()
        burst(app, "g", *keys, "⏎")
        await wait_until(
            pilot,
            lambda: shown in text_of(app.screen.query_one("#reg-title", Static)),
            what=shown,
        )
        await quiet(pilot)
        assert isinstance(app.screen, AdminConsoleScreen)
        assert tab(app) == "tab-register"
        assert services.register.last_event_id() == last


@pytest.mark.parametrize("host", HOSTS)
async def test_keys_typed_after_a_shortcut_go_to_the_dialog_it_opens(
    services: Services, host: str
) -> None:
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        await typed(pilot, "2")
        await wait_until(pilot, lambda: tab(app) == "tab-phones")
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        burst(app, "e", "end", *"-x1")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        field = app.screen.query_one("#field-path", Input)
        await wait_until(pilot, lambda: field.value.endswith(".csv-x1"), what="typed into it")
        assert tab(app) == "tab-phones"


@pytest.mark.parametrize("host", HOSTS)
async def test_the_correct_dialog_takes_no_reason_typed_before_it_was_shown(
    services: Services, host: str
) -> None:
    # "claire" and Enter typed in one go on the table: c opens the dialog; "laire" and the
    # Enter came before it was shown, so they are not a reason, and nothing is voided.
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        last = services.register.last_event_id()
        burst(app, *"claire", "⏎")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await quiet(pilot)
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        assert dialog.query_one("#field-reason", Input).value == ""
        assert any("typed before" in m for m in messages(app))
        assert services.register.last_event_id() == last
        # At a person's speed once it is shown: Enter after the reason asks to check first,
        # Enter again voids.
        await typed(pilot, "Wrong badge⏎", gap=0.02)
        await quiet(pilot)
        assert isinstance(app.screen, FormDialog)
        assert services.register.last_event_id() == last
        assert any("Enter again" in m for m in messages(app))
        await typed(pilot, "⏎")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        assert corrections(services) == 1
        voided = [row for row in services.register.day(TODAY).rows if row.voided]
        assert [row.void_reason for row in voided] == ["Wrong badge"]


@pytest.mark.parametrize("host", HOSTS)
async def test_ctrl_l_locks_the_console_from_a_dialog(services: Services, host: str) -> None:
    async with console_in(host, services, PIN, rows=2) as (app, pilot):
        last = services.register.last_event_id()
        await typed(pilot, "2")
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await typed(pilot, "e")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await typed(pilot, "x")
        await pilot.press("ctrl+l")
        await wait_until(
            pilot,
            lambda: not any(isinstance(s, AdminConsoleScreen) for s in app.screen_stack),
            what="the console locked",
        )
        assert not isinstance(app.screen, FormDialog)
        if host == "office":
            assert isinstance(app.screen, SignInScreen)
            assert "The console is locked" in " ".join(messages(app))
        await quiet(pilot)
    assert services.register.last_event_id() == last
    assert corrections(services) == 0
