"""Times shown on the kiosk, and dates and times typed by a member of staff.

Plain Python (no Textual): what is stored is UTC, what is shown and typed is the school's
local time. Dates are typed the British way: day first.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.errors import InvalidInput
from kiosk.domain.timeutil import DEFAULT_RETURN_TIME, next_school_day

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_TIME = re.compile(r"^(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?P<ampm>am|pm)?$")
_NUMERIC_DATE = re.compile(r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?$")
_ISO_DATE = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")

DATE_TIME_HINT = "Type a day and time like 11/03 08:30, Wed 08:30 or tomorrow 15:00."
DATE_HINT = "Type a date like 10/03/2026, 10 Mar or today."


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(zone)


def clock_time(moment: datetime, zone: ZoneInfo) -> str:
    """08:05"""
    return local(moment, zone).strftime("%H:%M")


def day_and_time(moment: datetime, zone: ZoneInfo) -> str:
    """Wed 11 Mar 08:30"""
    return local(moment, zone).strftime("%a %d %b %H:%M")


def long_date(when: datetime | date, zone: ZoneInfo | None = None) -> str:
    """Tuesday 3 March 2026: a day, or the local day of a moment (``zone`` given)."""
    day = local(when, zone).date() if isinstance(when, datetime) and zone else when
    return f"{day:%A} {day.day} {day:%B %Y}"


def since(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """'08:05' today, 'yesterday 16:40', or 'Mon 09 Mar 16:40'."""
    when, today = local(moment, zone), local(now, zone).date()
    if when.date() == today:
        return when.strftime("%H:%M")
    if when.date() == today - timedelta(days=1):
        return when.strftime("yesterday %H:%M")
    return when.strftime("%a %d %b %H:%M")


def short_date(day: date) -> str:
    """10 Mar 2026"""
    return day.strftime("%d %b %Y")


def date_input(day: date) -> str:
    """10/03/2026: how a date is pre-filled in a field."""
    return day.strftime("%d/%m/%Y")


def _time(text: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise ValueError(text)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ampm"] == "pm" and hour < 12:
        hour += 12
    if match["ampm"] == "am" and hour == 12:
        hour = 0
    return time(hour, minute)


def _date(words: list[str], today: date, *, future: bool) -> date:
    """The date named by ``words`` (a year may be left out)."""
    text = " ".join(words)
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text in ("next school day", "next day"):
        return next_school_day(today)
    if len(words) == 1 and words[0] in _WEEKDAYS:
        target = _WEEKDAYS[words[0]]
        ahead = (target - today.weekday()) % 7
        if future:
            return today + timedelta(days=ahead or 7)
        return today - timedelta(days=(today.weekday() - target) % 7)
    if words and words[0] in _WEEKDAYS:  # "Wed 11 Mar": the weekday is decoration
        words = words[1:]
        text = " ".join(words)
    if match := _ISO_DATE.match(text):
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    day = month = None
    year: int | None = None
    if match := _NUMERIC_DATE.match(text):
        day, month = int(match["d"]), int(match["m"])
        if match["y"]:
            year = int(match["y"]) + (2000 if len(match["y"]) == 2 else 0)
    elif len(words) in (2, 3) and words[0].isdigit() and words[1] in _MONTHS:
        day, month = int(words[0]), _MONTHS[words[1]]
        if len(words) == 3:
            if not words[2].isdigit():
                raise ValueError(text)
            year = int(words[2])
    else:
        raise ValueError(text)
    if year is not None:
        return date(year, month, day)
    candidate = date(today.year, month, day)
    if future and candidate < today:
        candidate = date(today.year + 1, month, day)
    if not future and candidate > today:
        candidate = date(today.year - 1, month, day)
    return candidate


def parse_when(
    text: str, *, now: datetime, zone: ZoneInfo, default_time: time = DEFAULT_RETURN_TIME
) -> datetime:
    """A day and time typed by a person (local, day first) -> an aware UTC datetime.

    A date without a time means ``default_time``; a time without a date means today.
    Raises InvalidInput with a hint when it cannot be read.
    """
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w and w != "at"]
    if not words:
        raise InvalidInput("Please give the day and time. " + DATE_TIME_HINT)
    today = local(now, zone).date()
    try:
        try:
            at = _time(words[-1])
            date_words = words[:-1]
        except ValueError:
            at, date_words = default_time, words
        day = _date(date_words, today, future=True) if date_words else today
        moment = datetime.combine(day, at, tzinfo=zone)
    except ValueError:
        raise InvalidInput(
            f"“{text.strip()[:40]}” is not a day and time I can read. " + DATE_TIME_HINT
        ) from None
    return moment.astimezone(UTC)


def parse_day(text: str, *, today: date) -> date:
    """A date typed by a person (day first), in the past or today."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w]
    if not words:
        raise InvalidInput("Please give the date. " + DATE_HINT)
    try:
        return _date(words, today, future=False)
    except ValueError:
        raise InvalidInput(
            f"“{text.strip()[:40]}” is not a date I can read. " + DATE_HINT
        ) from None
