"""Snapshots of each view of the admin console (a frozen clock, a real SQLite file), and the
README screenshots of the register and the workload chart (docs/admin-*.svg)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from kiosk.config import Settings
from kiosk.services.app import Services
from kiosk.ui.admin.app import AdminApp
from tests.conftest import START, FakeClock
from tests.school import make_ready, make_school
from tests.ui.admin_support import SIZE, ConsoleHost, open_services, settle, wait_until

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    # A week before: the school is set up, two laptops go home, a review is requested.
    clock.set(datetime(2026, 2, 9, 8, 0, tzinfo=UTC))
    make_school(svc)
    # A version published on a known day (the seeded one carries the day the tests run).
    svc.policies.publish("School Acceptable Use Policy", "Spring 2026", "# AUP\n\nPhones stay...")
    for code in ("ASMITH", "EPATEL", "CHEAD"):
        make_ready(svc, code)
    # Alice has taken a laptop home every week (agreed by her line manager): regular use.
    for day in (10, 17, 24):
        clock.set(datetime(2026, 2, day, 15, 45, tzinfo=UTC))
        svc.devices.sign_out(
            "ASMITH",
            ["LAP-002"],
            reason="Planning and marking at home",
            expected_return=clock.now + timedelta(hours=17),
            line_manager="Carol Head",
        )
        clock.advance(hours=16, minutes=30)
        svc.devices.return_device("LAP-002")
    clock.set(datetime(2026, 3, 3, 15, 30, tzinfo=UTC))
    svc.devices.sign_out(
        "EPATEL",
        ["LAP-001"],
        reason="Report writing",
        expected_return=clock.now + timedelta(days=2),
    )
    svc.policies.request_workstation_review("ASMITH", "A laptop stand and a separate keyboard")
    clock.set(datetime(2026, 3, 9, 16, 0, tzinfo=UTC))
    svc.devices.sign_out(
        "ASMITH",
        ["LAP-002", "WP-01"],
        reason="School trip or visit",
        expected_return=datetime(2026, 3, 11, 17, 0, tzinfo=UTC),
        charged=True,
        line_manager="Carol Head",
    )
    # This morning: phones in, one logged into the drawer, one mistake corrected.
    clock.set(START.replace(hour=7, minute=41))
    svc.phones.deposit("DOFFICE", "DRAWER", recorded_by="BJONES")
    clock.set(START.replace(hour=7, minute=52))
    wrong = svc.phones.deposit("CHEAD")
    clock.advance(minutes=1)
    svc.register.void(wrong.event_id, reason="Scanned the wrong badge", admin_code="DOFFICE")
    svc.phones.deposit("BJONES")
    clock.advance(minutes=6)
    svc.phones.deposit("EPATEL")
    clock.advance(minutes=2)
    svc.policies.grant_exemption(
        "CHEAD", granted_by="Carol Head", until=date(2026, 7, 22), admin_code="DOFFICE"
    )
    clock.set(START.replace(hour=10, minute=15))
    yield svc
    svc.close()


def show(number: str, ready: Callable[[Any], bool]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: pilot.app.screen.query("#reg-table"))
        await pilot.press(number)
        await wait_until(pilot, lambda: ready(pilot.app))
        await settle(pilot)

    return run_before


def rows_in(table_id: str, at_least: int = 1) -> Callable[[Any], bool]:
    return lambda app: app.screen.query_one(f"#{table_id}", DataTable).row_count >= at_least


@pytest.mark.parametrize(
    ("number", "ready"),
    [
        pytest.param("1", rows_in("reg-table", 6), id="register"),
        pytest.param("2", rows_in("phones-table", 3), id="phones"),
        pytest.param("3", rows_in("offsite-table", 3), id="offsite"),
        pytest.param("4", rows_in("missing-table"), id="policies"),
        pytest.param("5", rows_in("reviews-table"), id="reviews"),
        pytest.param("6", rows_in("exemptions-table"), id="exemptions"),
        pytest.param("7", rows_in("workload-table"), id="workload"),
        pytest.param("8", rows_in("devices-table", 3), id="people"),
    ],
)
def test_view_snapshot(
    snap_compare: Any, services: Services, number: str, ready: Callable[[Any], bool]
) -> None:
    assert snap_compare(ConsoleHost(services), terminal_size=SIZE, run_before=show(number, ready))


def test_export_view_snapshot(snap_compare: Any, services: Services) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show("9", lambda app: app.screen.query("#export-path"))(pilot)
        path = pilot.app.screen.query_one("#export-path", Input)
        path.value = "/home/office/register-2026-03-10.csv"
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # the focused field's cursor drawn, never half a blink
        await settle(pilot)

    assert snap_compare(ConsoleHost(services), terminal_size=SIZE, run_before=run_before)


def test_correction_dialog_snapshot(snap_compare: Any, services: Services) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show("1", rows_in("reg-table", 6))(pilot)
        table = pilot.app.screen.query_one("#reg-table", DataTable)
        table.move_cursor(row=4)  # Esha Patel's deposit
        await pilot.press("c")
        # Typed once the dialog is on the screen: keys typed before it was shown are not
        # taken as a reason (kiosk/ui/admin/dialogs.py, ``careful``).
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "keys_ready", False))
        await pilot.press(*"Logged twice by mistake")
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # the focused field's cursor drawn, never half a blink
        await settle(pilot)

    assert snap_compare(ConsoleHost(services), terminal_size=SIZE, run_before=run_before)


def test_sign_in_snapshot(snap_compare: Any, services: Services) -> None:
    services.admin.set_pin("402718")

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: pilot.app.screen.has_class("-signin"))
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False  # the focused field's cursor drawn, never half a blink
        await pilot.press(*"1234")
        await settle(pilot)

    assert snap_compare(
        AdminApp(services.settings, services), terminal_size=(80, 24), run_before=run_before
    )


# --- README screenshots: the demo school -------------------------------------------------------

DEMO_NOW = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)  # a Thursday morning in term


async def test_readme_screenshots_of_the_register_and_the_workload(tmp_path: Path) -> None:
    """Writes docs/admin-register.svg and docs/admin-workload.svg when KIOSK_TEST_WRITE_DOCS=1."""
    from kiosk.services.demo import build_demo

    settings = Settings(
        kiosk_name="staff-room-kiosk",
        database_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        school_name="Demo Primary School (sample data)",
    )
    build_demo(settings, now=DEMO_NOW)
    clock = FakeClock(DEMO_NOW)
    services = open_services(
        settings.database_url, clock, admin_idle_timeout=600, school_name=settings.school_name
    )
    # The office corrects a mistaken scan, and the nightly check has run.
    morning = services.register.day(DEMO_NOW.date()).rows
    wrong = next(r for r in morning if r.kind == "phone_deposited" and r.recorded_by is None)
    services.register.void(wrong.event_id, reason="Scanned the wrong badge", admin_code="GEVANS")
    services.integrity.verify()
    target = ROOT / "docs" if os.environ.get("KIOSK_TEST_WRITE_DOCS") == "1" else tmp_path
    app = ConsoleHost(services, admin_code="GEVANS")
    try:
        async with app.run_test(size=(130, 40)) as pilot:
            table = app.screen.query_one("#reg-table", DataTable)
            await wait_until(pilot, lambda: table.row_count > 20, timeout=10)
            table.move_cursor(row=6)
            await settle(pilot)
            register = Path(app.save_screenshot("admin-register.svg", str(target)))
            await pilot.press("7")
            chart = app.screen.query_one("#workload-table", DataTable)
            await wait_until(pilot, lambda: chart.row_count >= 5)
            await settle(pilot)
            workload = Path(app.save_screenshot("admin-workload.svg", str(target)))
    finally:
        services.close()
    shot = register.read_text(encoding="utf-8").replace("&#160;", " ")
    assert "Thursday 26 November 2026" in shot and "✗ VOID" in shot and "register intact" in shot
    drawn = workload.read_text(encoding="utf-8").replace("&#160;", " ")
    assert "▲ REGULAR USE" in drawn and "Last 12 weeks" in drawn
