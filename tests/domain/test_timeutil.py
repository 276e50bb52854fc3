"""Times: stored UTC, school days local (clock changes included)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.domain.timeutil import (
    default_expected_return,
    ensure_utc,
    format_local,
    local_date,
    local_day_bounds,
    next_school_day,
)

LONDON = ZoneInfo("Europe/London")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 3, 10, 8, 0))  # noqa: DTZ001


def test_a_local_day_is_23_or_25_hours_around_clock_changes() -> None:
    start, end = local_day_bounds(date(2026, 3, 29), LONDON)  # clocks go forward
    assert (end - start).total_seconds() == 23 * 3600
    start, end = local_day_bounds(date(2026, 10, 25), LONDON)  # clocks go back
    assert (end - start).total_seconds() == 25 * 3600
    start, _ = local_day_bounds(date(2026, 7, 1), LONDON)
    assert start == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)


def test_the_ends_of_the_calendar_are_refused_in_words() -> None:
    with pytest.raises(InvalidInput, match="outside the dates"):
        local_day_bounds(date(9999, 12, 31), LONDON)


def test_local_date_of_a_late_utc_time_in_summer() -> None:
    assert local_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), LONDON) == date(2026, 7, 2)


def test_next_school_day_skips_the_weekend() -> None:
    assert next_school_day(date(2026, 3, 10)) == date(2026, 3, 11)  # Tue -> Wed
    assert next_school_day(date(2026, 3, 13)) == date(2026, 3, 16)  # Fri -> Mon
    assert next_school_day(date(2026, 3, 14)) == date(2026, 3, 16)  # Sat -> Mon


def test_default_expected_return_is_next_school_day_at_0830_local() -> None:
    friday = datetime(2026, 7, 3, 15, 0, tzinfo=UTC)
    assert default_expected_return(friday, LONDON) == datetime(2026, 7, 6, 7, 30, tzinfo=UTC)


def test_format_local() -> None:
    assert format_local(datetime(2026, 7, 1, 7, 5, tzinfo=UTC), LONDON) == "08:05"
