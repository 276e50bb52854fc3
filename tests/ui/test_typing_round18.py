"""Round 18, typing and touch: what a person types at the kiosk is what is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.services.app import Services
from kiosk.ui.returns import ExtendScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, notice, press, running, scan, type_code

pytestmark = pytest.mark.ui


async def test_keep_longer_with_a_weekday_before_the_due_day_shortens_nothing(
    school: Services, kiosk_clock: FakeClock
) -> None:
    """Alice's laptop is due back Friday 13 March 15:30 and she wants it over the weekend.
    On "Keep it longer" she types "Thu" (meaning the Thursday after, as she thinks of the
    week it is due in): read from today (Tuesday 10 March) that is Thursday 12 March, a day
    BEFORE it is due. Recorded, her "keep it longer" brought the return forward: the laptop
    showed as overdue a day early and the office chased her. Refused instead, saying when it
    is due now; the due date is unchanged."""
    make_ready(school, "ASMITH")
    due = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing", expected_return=due)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        await type_code(pilot, "Thu")  # over the suggestion (selected), then Enter
        await type_code(pilot, "Over the weekend")
        assert isinstance(app.screen, ExtendScreen)
        assert "Fri 13 Mar 15:30" in notice(app)
    [item] = school.devices.offsite_now()
    assert item.expected_return == due
    assert "return_extended" not in [r.kind for r in school.register.day(due.date()).rows]
