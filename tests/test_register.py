from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from tests.conftest import FakeClock
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)],
)
def test_register_day_follows_the_clock_change(
    school: Services, clock: FakeClock, day: date, hours: int
) -> None:
    from kiosk.domain.timeutil import local_day_bounds

    start, end = local_day_bounds(day, school.settings.zone)
    assert end - start == timedelta(hours=hours)
    # One event just inside each edge of the local day, one just outside each.
    for moment in (start - timedelta(seconds=1), start, end - timedelta(seconds=1), end):
        clock.set(moment)
        school.phones.deposit("ASMITH")
        school.phones.collect("ASMITH")
    page = school.register.day(day, RegisterFilter(kind="phone_deposited"))
    assert [r.occurred_at for r in page.rows] == [start, end - timedelta(seconds=1)]


def test_register_filters_and_paging(school: Services, clock: FakeClock) -> None:
    for code in ("ASMITH", "EPATEL", "DOFFICE"):
        school.phones.deposit(code)
        clock.advance(minutes=1)
    school.phones.collect("EPATEL")
    today = date(2026, 3, 10)
    assert school.register.day(today, RegisterFilter(staff_code="epatel")).total == 2
    assert school.register.day(today, RegisterFilter(kind="phone_deposited")).total == 3
    assert school.register.day(today, RegisterFilter(store_code="DRAWER")).total == 0
    page = school.register.day(today, RegisterFilter(kind="phone_deposited"), offset=1, limit=1)
    assert page.total == 3 and [r.staff_code for r in page.rows] == ["EPATEL"]


def test_void_keeps_the_original(school: Services) -> None:
    receipt = school.phones.deposit("ASMITH")
    with pytest.raises(RuleViolation, match="not an admin"):
        school.register.void(receipt.event_id, reason="mistake", admin_code="ASMITH")
    school.register.void(receipt.event_id, reason="Scanned the wrong badge", admin_code="DOFFICE")
    with pytest.raises(RuleViolation, match="already been voided"):
        school.register.void(receipt.event_id, reason="again", admin_code="DOFFICE")
    rows = school.register.day(date(2026, 3, 10)).rows
    original = next(r for r in rows if r.event_id == receipt.event_id)
    assert original.voided and original.void_reason == "Scanned the wrong badge"
    correction = next(r for r in rows if r.kind == "correction")
    assert correction.target_event_id == receipt.event_id
    assert school.phones.phones_now() == ()


def test_csv_export_matches_the_register_and_is_spreadsheet_safe(
    school: Services, clock: FakeClock
) -> None:
    school.people.add_staff("FORMULA", "=cmd|' /C calc'!A0")
    school.phones.deposit("FORMULA")
    school.phones.deposit("ASMITH")
    out = io.StringIO()
    count = school.register.export_csv(out, date(2026, 3, 10))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    page = school.register.day(date(2026, 3, 10))
    assert count == len(rows) == page.total
    assert [int(r["event_id"]) for r in rows] == [r.event_id for r in page.rows]
    deposit = next(r for r in rows if r["staff_code"] == "FORMULA")
    assert deposit["staff_name"] == "'=cmd|' /C calc'!A0"
    assert deposit["local_time"] == "2026-03-10 08:05:00"
    assert datetime.fromisoformat(deposit["utc_time"]) == datetime(2026, 3, 10, 8, 5, tzinfo=UTC)


def test_due_time_in_the_register_is_local(school: Services, clock: FakeClock) -> None:
    from tests.school import make_ready

    make_ready(school, "ASMITH")
    clock.set(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))  # Monday, British Summer Time
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    [row] = school.register.day(date(2026, 6, 1), RegisterFilter(kind="device_signed_out")).rows
    # Due Tuesday 08:30 in London, which is 07:30 UTC: the register shows the local time.
    assert "due: Tue 02 Jun 2026 08:30" in row.detail
