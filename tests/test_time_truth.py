"""Times and dates that must say what truly happened, and typed input that must never record
what was not meant: clock changes, weekdays that contradict dates, kiosks whose clocks differ."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.domain.when import parse_when

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)  # Tuesday 10 March 2026, 08:05 in London


# --- the clocks go back: 01:00-01:59 happens twice on Sunday 25 October 2026 ---------------


@pytest.mark.parametrize("typed", ["25/10/2026 01:30", "25 Oct 1:30am", "25/10 01:00"])
def test_a_time_that_happens_twice_is_not_guessed(typed: str) -> None:
    """01:30 on 25 October is 00:30 UTC (BST) and 01:30 UTC (GMT): an hour apart. Taking the
    first silently recorded an expected return the person may not have meant."""
    with pytest.raises(InvalidInput, match="happens twice on Sun 25 Oct"):
        parse_when(typed, now=NOW, zone=LONDON)


def test_the_hours_around_the_repeated_one_are_read() -> None:
    assert parse_when("25/10 00:59", now=NOW, zone=LONDON) == datetime(
        2026, 10, 24, 23, 59, tzinfo=UTC
    )
    assert parse_when("25/10 02:00", now=NOW, zone=LONDON) == datetime(
        2026, 10, 25, 2, 0, tzinfo=UTC
    )
