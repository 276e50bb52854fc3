"""Times on the screens that must say what truly happened: the hour the clocks go back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from textual.widgets import DataTable, Static

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school
from tests.ui.admin_support import SIZE, ConsoleHost, open_services, table_rows, text_of, wait_until

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
