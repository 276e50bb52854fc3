"""Days and times typed at the kiosk (day first, local time) and how times are shown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.ui.formats import day_and_time, parse_day, parse_when, since

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)  # Tuesday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Wed 11 Mar 08:30", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("11/03 08:30", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("11/03/2026 8.30", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("2026-03-12 17:00", datetime(2026, 3, 12, 17, 0, tzinfo=UTC)),
        ("fri", datetime(2026, 3, 13, 8, 30, tzinfo=UTC)),
        ("Friday 3pm", datetime(2026, 3, 13, 15, 0, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 3, 11, 8, 30, tzinfo=UTC)),
        ("tue", datetime(2026, 3, 17, 8, 30, tzinfo=UTC)),  # next Tuesday, not today
        ("17:00", datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
        ("2 Jan", datetime(2027, 1, 2, 8, 30, tzinfo=UTC)),  # the next 2 January
        # After the clocks go forward, 08:30 in London is 07:30 UTC.
        ("30 March 8:30", datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),
    ],
)
def test_parse_when(typed: str, expected: datetime) -> None:
    assert parse_when(typed, now=NOW, zone=LONDON) == expected


@pytest.mark.parametrize("typed", ["", "soon", "32/03 08:30", "11/03 25:00", "Wed 11 Foo"])
def test_parse_when_refuses_with_a_hint(typed: str) -> None:
    with pytest.raises(InvalidInput, match="12/12 9:00"):
        parse_when(typed, now=NOW, zone=LONDON)


def test_parse_day_looks_back() -> None:
    today = date(2026, 3, 10)
    assert parse_day("today", today=today) == today
    assert parse_day("3 feb", today=today) == date(2026, 2, 3)
    assert parse_day("20/12", today=today) == date(2025, 12, 20)
    assert parse_day("Mon", today=today) == date(2026, 3, 9)
    with pytest.raises(InvalidInput, match="10/03/2026"):
        parse_day("next week", today=today)


def test_times_are_shown_in_local_time() -> None:
    summer = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)
    assert day_and_time(summer, LONDON) == "Mon 01 Jun 08:30"
    assert since(summer, datetime(2026, 6, 1, 12, 0, tzinfo=UTC), LONDON) == "08:30"
    assert since(summer, datetime(2026, 6, 2, 12, 0, tzinfo=UTC), LONDON) == "yesterday 08:30"
