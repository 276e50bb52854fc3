"""Round 18: a new school, end to end: what the office and staff are told."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_ready, make_school


def test_the_due_tomorrow_notice_says_how_to_keep_a_laptop_longer(
    services: Services, clock: FakeClock
) -> None:
    # "Laptop LAP-001 is due back tomorrow" told staff "If you need it for longer, ask the
    # office to extend the return date": the office has no way to (no console view or
    # command extends a sign-out); the person does it at the kiosk, F4 "Keep it longer", as
    # the overdue notice's text says (its HTML said "tell the office"). Sent to the office,
    # they left it overdue.
    make_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason="Report writing",
        expected_return=datetime(2026, 3, 11, 16, 30, tzinfo=UTC),
    )
    clock.set(datetime(2026, 3, 10, 10, tzinfo=UTC))
    notices, _ = services.notify.due(is_school_day=lambda day: day.weekday() < 5)
    (due,) = [n for n in notices if n.kind == "device_due"]
    for body in (due.text, due.html):
        assert "ask the office" not in body, body
        assert "Keep it longer" in body and "F4" in body, body

    # Overdue next week: both of its bodies say the same.
    clock.set(datetime(2026, 3, 12, 10, tzinfo=UTC))
    notices, _ = services.notify.due(is_school_day=lambda day: day.weekday() < 5)
    (overdue,) = [n for n in notices if n.kind == "device_overdue"]
    for body in (overdue.text, overdue.html):
        assert "Keep it longer" in body and "F4" in body, body
        assert "or you need it for longer, please tell the office" not in body, body
