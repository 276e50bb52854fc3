"""The console as a whole: who may use it, views by key and mouse, lock, idle lock, exit,
lockouts and integrity reported, a database that goes away."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, TabbedContent
from textual.widgets._tabbed_content import ContentTab, ContentTabs

from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin import console as console_module
from kiosk.ui.admin.dialogs import ConfirmDialog, FormDialog
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import SIZE, ConsoleHost, click, open_services, text_of, wait_until

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    yield svc
    svc.close()


def active_tab(app: ConsoleHost) -> str:
    return app.screen.query_one(TabbedContent).active


async def test_the_console_opens_on_today_for_an_admin(services: Services) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        title = app.screen.query_one("#console-title", Static)
        await wait_until(pilot, lambda: "Dina Office (DOFFICE)" in text_of(title))
        assert "Hillside Primary" in text_of(title)
        who = text_of(app.screen.query_one("#console-who", Static))
        assert "Tue 10 Mar 2026" in who and "integrity never checked" in who
        assert active_tab(app) == "tab-register"
        assert isinstance(app.focused, DataTable) and app.focused.id == "reg-table"


async def test_collection_waits_only_while_the_console_is_built(services: Services) -> None:
    """The garbage collector is paused while the console is composed, and back on once the
    register's first page is drawn; a console locked before that turns it back on too."""
    import gc

    assert gc.isenabled()
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        screen = app.screen
        assert isinstance(screen, AdminConsoleScreen)
        await wait_until(pilot, lambda: screen._ready, what="the register drawn")
        assert gc.isenabled()
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: not isinstance(app.screen, AdminConsoleScreen))
        app.open_console()
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        app.screen.action_lock()  # before its first page is drawn, perhaps
        await wait_until(pilot, lambda: not isinstance(app.screen, AdminConsoleScreen))
        assert gc.isenabled()
    assert gc.isenabled()


async def test_todays_first_page_is_fetched_once_while_the_console_is_built(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register asks for today's first page as it is made (the query runs while the
    console is built) and shows it: one query."""
    services.phones.deposit("ASMITH")
    calls: list[object] = []
    day = services.register.day

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return day(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services.register, "day", counted)
    # The console's first poll (after POLL_SECONDS) reads the view again once, by design: on
    # a machine busy enough for the build to take that long, that was a second query here.
    monkeypatch.setattr(console_module, "POLL_SECONDS", 3600.0)
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        table = None

        def rows() -> int:
            nonlocal table
            table = app.screen.query_one("#reg-table", DataTable)
            return table.row_count

        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen) and rows())
        await pilot.pause()
        assert rows() == day(START.date()).total
        assert len(calls) == 1


async def test_only_an_admin_can_use_the_console(services: Services) -> None:
    app = ConsoleHost(services, admin_code="ASMITH")
    async with app.run_test(size=SIZE) as pilot:
        # Refused in words, and back to the kiosk's home screen.
        await wait_until(pilot, lambda: not isinstance(app.screen, AdminConsoleScreen))
        assert app.screen.query_one("#home", Static)
        notes = [n.message for n in app._notifications]
        assert any("Alice Smith is not an admin" in n for n in notes)


async def test_views_by_number_keys_ctrl_page_and_mouse(services: Services) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        expected = [
            "tab-register",
            "tab-phones",
            "tab-offsite",
            "tab-policies",
            "tab-reviews",
            "tab-exemptions",
            "tab-workload",
            "tab-people",
            "tab-export",
        ]
        for number, tab in enumerate(expected, start=1):
            await pilot.press("1")  # back to a table, so the next digit is not typed into a field
            await pilot.press(str(number))
            await wait_until(pilot, lambda tab=tab: active_tab(app) == tab)
        # Export puts the cursor in its first field: a digit now is typed there, not a tab key.
        await click(pilot, "#--content-tab-tab-register")
        await wait_until(pilot, lambda: active_tab(app) == "tab-register")
        await pilot.press("1")
        await pilot.press("ctrl+pagedown")
        await wait_until(pilot, lambda: active_tab(app) == "tab-phones")
        await pilot.press("ctrl+pageup", "ctrl+pageup")
        await wait_until(pilot, lambda: active_tab(app) == "tab-export")
        await click(pilot, "#--content-tab-tab-workload")
        await wait_until(pilot, lambda: active_tab(app) == "tab-workload")


async def test_lock_returns_to_the_kiosk_home(services: Services) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: not isinstance(app.screen, AdminConsoleScreen))
        assert app.screen.query_one("#home", Static)
        app.open_console()
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        await click(pilot, "#console-lock")
        await wait_until(pilot, lambda: not isinstance(app.screen, AdminConsoleScreen))


async def test_idle_console_locks_itself_even_under_a_dialog(
    sqlite_url: str, clock: FakeClock
) -> None:
    services = open_services(sqlite_url, clock, admin_idle_timeout=3)
    make_school(services)
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        console = app.screen
        assert isinstance(console, AdminConsoleScreen)
        # Input keeps it open: a key every second, for longer than the timeout.
        for _ in range(4):
            app.clock.advance(1.0)
            await pilot.press("down")
            console.check_idle_timeout()
        assert app.screen is console
        # Input in a dialog counts too.
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        for _ in range(4):
            app.clock.advance(1.0)
            await pilot.press("tab")
            console.check_idle_timeout()
        assert isinstance(app.screen, ConfirmDialog)
        # Then nothing: the dialog and the console close, back to the kiosk's home.
        app.clock.advance(3.0)
        console.check_idle_timeout()
        await wait_until(pilot, lambda: app.screen.id == "_default")
        assert app.screen.query_one("#home", Static)
        assert not any(isinstance(s, AdminConsoleScreen) for s in app.screen_stack)
        assert any("locked itself after 3 seconds" in n.message for n in app._notifications)
    services.close()


async def test_exit_the_kiosk_app_asks_first(services: Services) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")  # changed my mind
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
        assert app.is_running
        await click(pilot, "#console-exit")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await click(pilot, "#yes")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    # Recorded before it closed, naming the admin.
    closed = services.register.day(START.date(), RegisterFilter(kind="admin_action")).rows
    assert [(r.detail, r.staff_code) for r in closed] == [("action: kiosk_app_closed", "DOFFICE")]


async def test_exit_works_with_the_database_away_and_the_log_says_so(
    services: Services, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        services.ctx.engine.dispose()
        aside = path.with_name("aside.sqlite3")
        os.replace(path, aside)
        path.write_bytes(b"this is not a database" * 100)
        try:
            await pilot.press("f10")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await click(pilot, "#yes")
            await wait_until(pilot, lambda: not app.is_running, timeout=8)
        finally:
            services.ctx.engine.dispose()
            os.replace(aside, path)
    assert app.return_code == 0
    assert "NOT recorded in the register" in caplog.text
    assert "DOFFICE" in caplog.text
    closed = services.register.day(START.date(), RegisterFilter(kind="admin_action")).rows
    assert not closed


async def test_lockouts_and_a_failed_integrity_check_are_reported(
    services: Services, clock: FakeClock
) -> None:
    services.admin.set_pin("402718", admin_code="CHEAD")
    for _ in range(5):
        services.admin.check_pin("000000")
        clock.advance(seconds=10)  # wrong PINs make the next one wait a little
    clock.advance(minutes=6)
    check = services.admin.check_pin("402718")
    assert check.ok and len(check.lockouts_since_last_sign_in) == 1
    app = ConsoleHost(services, lockouts=check.lockouts_since_last_sign_in)
    async with app.run_test(size=SIZE) as pilot:
        alert = app.screen.query_one("#console-alert", Static)
        await wait_until(pilot, lambda: alert.has_class("-shown"))
        assert "five wrong PINs locked the console 1 time: Tue 10 Mar 08:05" in text_of(alert)
        who = app.screen.query_one("#console-who", Static)
        await wait_until(pilot, lambda: "integrity" in text_of(who))
    # An intact register, checked: said so quietly.
    services.integrity.verify()
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        who = app.screen.query_one("#console-who", Static)
        await wait_until(pilot, lambda: "register intact at the last check" in text_of(who))
        assert not app.screen.query_one("#console-alert", Static).has_class("-shown")


async def test_a_database_that_goes_away_is_said_in_words(
    services: Services, sqlite_url: str
) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        alert = app.screen.query_one("#console-alert", Static)
        services.ctx.engine.dispose()
        aside = path.with_name("aside.sqlite3")
        os.replace(path, aside)
        path.write_bytes(b"this is not a database" * 100)
        try:
            await wait_until(pilot, lambda: alert.has_class("-shown"), timeout=8)
            assert "database is unavailable" in text_of(alert)
            assert "out of date" in text_of(alert)
            # Still usable: nothing crashed, the views stay, a lock still works.
            assert isinstance(app.screen, AdminConsoleScreen)
        finally:
            services.ctx.engine.dispose()
            os.replace(aside, path)
        await wait_until(pilot, lambda: not alert.has_class("-shown"), timeout=8)


async def test_dialog_escape_cancels_and_records_nothing(
    services: Services, clock: FakeClock
) -> None:
    receipt = services.phones.deposit("ASMITH")
    before = services.register.last_event_id()
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await pilot.press(*"half typed", "escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
    assert services.register.last_event_id() == before == receipt.event_id
    assert datetime(2026, 3, 10, tzinfo=UTC) < clock.now


async def test_all_tabs_fit_100_columns_and_80_columns_scrolls_to_the_active_one(
    services: Services,
) -> None:
    def tab_regions(app: ConsoleHost) -> list[tuple[str, int, int]]:
        tabs = app.screen.query(ContentTab)
        return [(str(t.label.plain), t.region.x, t.region.right) for t in tabs]

    app = ConsoleHost(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        regions = tab_regions(app)
        assert [label for label, _, _ in regions][-1] == "9 Export"
        assert len(regions) == 9
        assert all(left >= 0 and right <= 100 for _, left, right in regions)

    app = ConsoleHost(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("9")
        await wait_until(pilot, lambda: active_tab(app) == "tab-export")

        def export_tab_in_view() -> bool:
            tab = app.screen.query_one("#--content-tab-tab-export", ContentTab)
            bar = app.screen.query_one(ContentTabs)
            visible = bar.region.intersection(tab.region)
            return visible.width == tab.region.width > 0

        await wait_until(pilot, export_tab_in_view, what="the Export tab scrolled into view")
        assert app.screen.query_one("#export-go")


async def test_a_notice_that_could_not_be_sent_is_shown_in_the_console(
    services: Services,
) -> None:
    """`kiosk notify` retries a failed send at its next run; meanwhile the office sees it."""
    from kiosk.domain.events import EventKind

    with services.ctx.write() as uow:
        uow.record(
            EventKind.NOTICE_FAILED,
            staff_id=None,
            details={
                "key": "overdue:1:2026-03-10",
                "notice": "device_overdue",
                "to": "gina@school.example",
                "subject": "Overdue: please return Laptop LAP-002",
                "error": "SMTP 451: try again later",
            },
        )
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        who = app.screen.query_one("#console-who", Static)
        await wait_until(pilot, lambda: "notice" in text_of(who))
        assert "⚠ 1 notice(s) not sent (kiosk notify --status)" in text_of(who)


async def test_the_filters_row_is_not_filled_on_a_console_that_is_closing(
    services: Services,
) -> None:
    # The register's filters arrive after the first page or a second after opening; a console
    # closed in between (a refused sign-in, F10, the idle lock) must not get them: the lists
    # would be mounted on a screen being taken down, and their own set-up then fails.
    from kiosk.ui.admin.register import RegisterPane

    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        pane = app.screen.query_one(RegisterPane)
        # Its filters' row in place first (a busy machine may still be mounting it), then
        # put back as before its first page: the row still empty.
        await wait_until(
            pilot, lambda: len(pane.query("#reg-filters > *")) == 5, what="the filters' row"
        )
        for select in pane.query("#reg-filters > *"):
            await select.remove()
        # No await from here on: the pane's own one-second timer, firing while the row was
        # being emptied, would otherwise fill it again on the open console (DuplicateIds).
        pane._filters_added = False
        app.pop_screen()  # the console closes; its pane is still attached for a moment
        pane._add_filters()  # the timer's call, in that moment
        await pilot.pause()
        await pilot.pause()
        assert app.screen.query_one("#home", Static)
    # Leaving run_test re-raises any error the app met (a NoMatches from a half-mounted list).


@pytest.mark.parametrize(
    ("forged", "with_key"),
    [
        ({"ok": True, "mismatch_count": 0, "mismatched": [], "problems": []}, False),
        ({"ok": False, "mismatch_count": 1, "mismatched": []}, True),
        ({"checked_at": "9999-12-31T23:59:59-14:00"}, True),
    ],
    ids=["intact-without-the-key", "contradictory", "year-9999"],
)
async def test_a_stored_check_the_console_cannot_believe_is_said_in_words(
    services: Services, sqlite_url: str, forged: dict[str, object], with_key: bool
) -> None:
    """The console showed the newest stored check as it was. Appended without the school key
    after a check that found tampering, one saying "intact" made the console say "✓ register
    intact" until the next verify; one counting a changed event without naming it (IndexError)
    or dated in the year 9999 at -14:00 (OverflowError) made every sign-in fail. Each is now
    a sentence: the last stored check cannot be trusted, or cannot be read."""
    import json

    from tests.reliability.helpers import meddle
    from tests.reliability.test_attacks import _append
    from tests.reliability.test_attacks_round7 import forge_check

    services.admin.set_pin("402718", admin_code="CHEAD")
    with meddle(sqlite_url) as db:
        db.overwrite(db.execute("SELECT min(id) FROM events")[0][0], {"kiosk": "elsewhere"})
    tampered = services.integrity.verify()
    assert not tampered.ok
    report = json.loads(tampered.to_json()) | forged
    with meddle(sqlite_url) as db:
        if with_key:
            _append(
                db,
                {"kind": "register_verified", "category": "admin", "details": {"report": report}},
            )
        else:
            forge_check(db, report)

    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        who = app.screen.query_one("#console-who", Static)
        await wait_until(pilot, lambda: "last stored check" in text_of(who))
        words = "cannot be read" if with_key else "cannot be trusted"
        assert "⚠ the last stored check (event" in text_of(who) and words in text_of(who)
        assert "intact" not in text_of(who)
        alert = app.screen.query_one("#console-alert", Static)
        assert alert.has_class("-shown") and "run kiosk verify" in text_of(alert)
        assert isinstance(app.screen, AdminConsoleScreen) and not app.unexpected_errors
