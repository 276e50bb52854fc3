"""The school calendar on the kiosk's forms: "next school day", the default expected return
and the "keep it longer" suggestion skip half term and INSET days; a return typed for a day
without school is warned of (issue 16, item 5). A real SQLite file, the calendar imported as
a school would (``kiosk calendar import``'s service)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Input

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.returns import ExtendScreen
from kiosk.ui.signout import SignOutScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, press, running, scan, scan_fast, screen_text

pytestmark = pytest.mark.ui

CALENDAR = b"""start,end,kind,name
2026-09-02,2026-12-18,term,Autumn term
2026-10-26,2026-10-30,holiday,October half term
2026-11-27,,inset,INSET day
"""
# Friday before half term, 15:00 in London (BST).
FRIDAY_BEFORE_HALF_TERM = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)
# Monday after half term, 08:30 in London (GMT: the clocks went back on 25 October).
MONDAY_AFTER = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def _school_with_calendar(school: Services, clock: FakeClock) -> None:
    clock.set(FRIDAY_BEFORE_HALF_TERM)
    result = school.school.import_calendar("calendar.csv", CALENDAR, admin_code="CHEAD")
    assert result.imported
    make_ready(school, "ASMITH")


def _summary(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, SignOutScreen)
    return screen.summary_text()


async def test_sign_out_before_half_term_is_due_back_after_it(
    school: Services, kiosk_clock: FakeClock
) -> None:
    _school_with_calendar(school, kiosk_clock)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "4")  # Report writing
        due = app.screen.query_one("#due", Input)
        # The default: the Monday after half term, not the half-term Monday.
        assert due.value == "Mon 02 Nov 08:30"
        assert "back Monday 2 November at 08:30." in _summary(app)
        assert "not a school day" not in _summary(app)
        due.value = "tomorrow"  # literally tomorrow, with a warning
        await press(pilot)
        assert "back tomorrow (Saturday 24 October) at 08:30" in _summary(app)
        assert "⚠ Saturday 24 October is not a school day (weekend)." in _summary(app)
        due.value = "Mon 10:00"
        await press(pilot)
        assert "back Monday 26 October at 10:00" in _summary(app)
        assert "⚠ Monday 26 October is not a school day (Holiday: October half term)." in _summary(
            app
        )
        due.value = "next school day 09:15"
        await press(pilot)
        assert "back Monday 2 November at 09:15." in _summary(app)
        assert "not a school day" not in _summary(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Due back Mon 02 Nov 09:15." in screen_text(app)
    [item] = school.devices.offsite_now()
    assert item.expected_return == MONDAY_AFTER.replace(hour=9, minute=15)


async def test_keep_it_longer_suggests_the_school_day_after_half_term(
    school: Services, kiosk_clock: FakeClock
) -> None:
    _school_with_calendar(school, kiosk_clock)
    due_today = datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # 16:00 today
    school.devices.sign_out(
        "ASMITH", ["LAP-001"], reason="Report writing", expected_return=due_today
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        new_due = app.screen.query_one("#new-due", Input)
        assert new_due.value == "Mon 02 Nov 08:30"
        new_due.value = "next school day"
        await press(pilot)
        app.screen.query_one("#extend-reason", Input).value = "Reports over half term"
        await press(pilot, "enter")
        assert "LAP-001 now due back Mon 02 Nov 08:30" in screen_text(app)
    [item] = school.devices.offsite_now()
    assert item.expected_return == MONDAY_AFTER
