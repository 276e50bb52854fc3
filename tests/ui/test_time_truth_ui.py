"""Times on the screens that must say what truly happened: the hour the clocks go back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from textual.widgets import DataTable, Static

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_ready, make_school
from tests.ui.admin_support import SIZE, ConsoleHost, open_services, table_rows, text_of, wait_until
from tests.ui.kiosk_support import make_app, notice, press, running, scan, scan_fast, type_into

pytestmark = pytest.mark.ui

CLOCKS_GO_BACK = date(2026, 10, 25)  # 01:00-01:59 happens twice: BST, then GMT


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(datetime(2026, 10, 18, 9, 0, tzinfo=UTC))
    make_school(svc)
    yield svc
    svc.close()


async def test_the_register_tells_the_two_0130s_apart(services: Services, clock: FakeClock) -> None:
    """A phone deposited at 01:30 BST and collected at 01:10 GMT, forty minutes later: the
    register showed 01:30:00 then 01:10:00, a collection before the deposit; two events an
    hour apart showed the same time."""
    clock.set(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 01:30 BST
    services.phones.deposit("ASMITH")
    clock.set(datetime(2026, 10, 25, 1, 10, tzinfo=UTC))  # 01:10 GMT
    services.phones.collect("ASMITH")
    clock.set(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 01:30 GMT
    services.phones.deposit("EPATEL")
    clock.set(datetime(2026, 10, 25, 9, 0, tzinfo=UTC))
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, what="three rows")
        assert "Sunday 25 October 2026 · today · 3 events" in text_of(
            app.screen.query_one("#reg-title", Static)
        )
        times = [row[2] for row in table_rows(table)]
        assert times == ["01:30:00 BST", "01:10:00 GMT", "01:30:00 GMT"]


async def test_the_sign_out_summary_never_promises_a_return_enter_would_refuse(
    school: Services,
) -> None:
    """2062 typed for 2026: the summary said "Enter records: ... back Tuesday 12 December
    2062", and Enter then refused it (within 120 days). What the summary says Enter records
    is what Enter records."""
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        await press(pilot, "1")
        await type_into(pilot, "#due", "12/12/2062", submit=False)
        summary = app.screen.summary_text()  # type: ignore[attr-defined]
        assert "Enter records" not in summary, summary
        assert "within 120 days" in summary, summary
        await press(pilot, "enter")
        assert "within 120 days" in notice(app)
        # A date within 120 days is promised, and recorded.
        await type_into(pilot, "#due", "Fri 17:00", submit=False)
        assert "Enter records" in app.screen.summary_text()  # type: ignore[attr-defined]
        await press(pilot, "enter")
    assert [i.device.tag for i in school.devices.offsite_now()] == ["LAP-001"]
