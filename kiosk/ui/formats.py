"""Times shown on the kiosk. (Dates and times typed by a member of staff are read by
``kiosk.domain.when``, re-exported here for the screens.)

Plain Python (no Textual): what is stored is UTC, what is shown and typed is the school's
local time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.timeutil import format_local
from kiosk.domain.when import DATE_HINT, DATE_TIME_HINT, parse_day, parse_when, when_in_words

__all__ = ["DATE_HINT", "DATE_TIME_HINT", "parse_day", "parse_when", "when_in_words"]


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(zone)


def clock_time(moment: datetime, zone: ZoneInfo) -> str:
    """08:05 (``01:30 BST`` or ``01:30 GMT`` in the hour the clocks go back)"""
    return format_local(local(moment, zone), zone, "%H:%M")


def day_and_time(moment: datetime, zone: ZoneInfo) -> str:
    """Wed 11 Mar 08:30"""
    return format_local(local(moment, zone), zone, "%a %d %b %H:%M")


def long_date(when: datetime | date, zone: ZoneInfo | None = None) -> str:
    """Tuesday 3 March 2026: a day, or the local day of a moment (``zone`` given)."""
    day = local(when, zone).date() if isinstance(when, datetime) and zone else when
    return f"{day:%A} {day.day} {day:%B %Y}"


def since(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """'08:05' today, 'yesterday 16:40', or 'Mon 09 Mar 16:40'."""
    when, today = local(moment, zone), local(now, zone).date()
    if when.date() == today:
        return format_local(when, zone, "%H:%M")
    if when.date() == today - timedelta(days=1):
        return format_local(when, zone, "yesterday %H:%M")
    return format_local(when, zone, "%a %d %b %H:%M")


def short_date(day: date) -> str:
    """10 Mar 2026"""
    return day.strftime("%d %b %Y")


def date_input(day: date) -> str:
    """10/03/2026: how a date is pre-filled in a field."""
    return day.strftime("%d/%m/%Y")
