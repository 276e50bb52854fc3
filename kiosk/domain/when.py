"""Days and times typed by a person, read in the school's time zone: the one parser for the
kiosk's forms (the expected return, keeping a device longer, the VDU training date).

Plain Python and pure: the school's zone and ``now`` are passed in. Dates are typed the British
way, day first. What can be read:

* a time alone: ``15:30``, ``9.00``, ``3pm`` (today; refused once it has passed; ``3:30``,
  a one-digit hour from 1 to 6 with neither am nor pm, is refused as it could be either half
  of the day: ``03:30`` or ``15:30`` say which);
* (``10.12``, which is a date and a time, is refused as either; ``31.12`` is a date and
  ``15.30`` a time);
* a day alone: ``tomorrow``, ``today``, ``Fri`` (the next Friday, never today), ``12/12``,
  ``12/12/2026``, ``12 Dec``, ``2026-12-12``, ``next school day`` (by the school's calendar:
  holidays and INSET days skipped) (at the default time, 08:30);
* a day and a time: ``Fri 15:30``, ``12/12 9:00``, ``Wed 11 Mar 08:30``, ``tomorrow at 3pm``.

Anything else is refused with a reason a person can act on (:class:`InvalidInput`): a time in
the past, a date that does not exist (``31/02``), a time that does not exist on that day
(clocks going forward) or happens twice (clocks going back), or words that are not a day and
time.

A day named literally (``tomorrow``, ``Mon``, ``26/10``) is that day even when the school is
closed; :func:`not_a_school_day` says so in words, for the form to warn.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.calendar import WEEKDAYS_ONLY, SchoolCalendar
from kiosk.domain.dates import WEEKDAY_NUMBERS, WrongWeekday, check_weekday, date_parts
from kiosk.domain.errors import InvalidInput
from kiosk.domain.timeutil import DEFAULT_RETURN_TIME, format_local, next_school_day

_TIME = re.compile(r"^(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?P<ampm>am|pm)?$")

DATE_TIME_HINT = "Type a day and time like Fri 15:30, 12/12 9:00, 15:30 or tomorrow."
DATE_HINT = "Type a date like 10/03/2026, 10 Mar or today."


class _Unreadable(ValueError):
    pass


class _EitherHalfOfTheDay(Exception):
    """A one-digit hour from 1 to 6 with neither am nor pm: ``3:30`` is said for half past
    three in the afternoon, and read as 24-hour time it was 03:30 at night."""

    def __init__(self, at: time) -> None:
        super().__init__(at)
        self.at = at


def _shown(text: str) -> str:
    """What was typed, short and printable, for a message."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return cleaned if len(cleaned) <= 40 else cleaned[:39] + "…"


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text.strip().lower()) if w and w != "at"]


def _time(text: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise _Unreadable(text)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise _Unreadable(text)
        if match["ampm"] == "pm" and hour < 12:
            hour += 12
        if match["ampm"] == "am" and hour == 12:
            hour = 0
    elif match["m"] is None:
        raise _Unreadable(text)  # "12" alone is not a time (nor a date): "12:00" is
    if hour > 23 or minute > 59:
        raise _Unreadable(text)
    if not match["ampm"] and len(match["h"]) == 1 and 1 <= hour <= 6:
        raise _EitherHalfOfTheDay(time(hour, minute))  # "3:30": 03:30 or 15:30?
    return time(hour, minute)


def _date(
    words: list[str], today: date, *, future: bool, calendar: SchoolCalendar = WEEKDAYS_ONLY
) -> date:
    """The date named by ``words`` (a year may be left out: the next such date when
    ``future``, the last one otherwise; the next school day by ``calendar``)."""
    text = " ".join(words)
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text in ("next school day", "next day"):
        return next_school_day(today, calendar)
    if len(words) == 1 and words[0] in WEEKDAY_NUMBERS:
        target = WEEKDAY_NUMBERS[words[0]]
        if future:
            return today + timedelta(days=(target - today.weekday()) % 7 or 7)
        return today - timedelta(days=(today.weekday() - target) % 7)
    try:
        day, month, year = date_parts(text)  # the one reader of written dates
    except ValueError:
        raise _Unreadable(text) from None
    if year is not None:
        candidate = date(year, month, day)  # ValueError for 31/02
    else:
        candidate = date(today.year, month, day)
        if future and candidate < today:
            candidate = date(today.year + 1, month, day)
        if not future and candidate > today:
            candidate = date(today.year - 1, month, day)
    check_weekday(text, candidate)  # "Fri 12/03" on a Thursday: refused (WrongWeekday)
    return candidate


def _not_a_date_too(word: str, text: str, at: time, today: date) -> None:
    """Raise InvalidInput when ``word``, read as the time ``at``, is a date as well (``10.12``:
    10:12 today, or 10 December?); ``31.12`` and ``15.30`` can only be one of them."""
    try:
        day = _date([word], today, future=True)
    except ValueError:
        return
    raise InvalidInput(
        f"“{_shown(text)}” could be {day.day} {day:%B} or {at:%H:%M} today: type "
        f"{day:%d/%m} for the date, {at:%H:%M} for the time."
    )


def parse_when(
    text: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    default_time: time = DEFAULT_RETURN_TIME,
    calendar: SchoolCalendar = WEEKDAYS_ONLY,
) -> datetime:
    """A day and time typed by a person (local, day first) -> an aware UTC datetime, in the
    future. A date alone means ``default_time``; a time alone means today; ``next school
    day`` is the next day ``calendar`` (the school's) has school on.

    Raises InvalidInput saying why (and what to type instead).
    """
    words = _words(text)
    if not words:
        raise InvalidInput("Please give the day and time. " + DATE_TIME_HINT)
    today = now.astimezone(zone).date()
    try:
        try:
            at = _time(words[-1])
            date_words = words[:-1]
        except _Unreadable:
            at, date_words = default_time, words
        if not date_words and "." in words[-1]:
            _not_a_date_too(words[-1], text, at, today)
        day = _date(date_words, today, future=True, calendar=calendar) if date_words else today
        naive = datetime.combine(day, at)
    except _EitherHalfOfTheDay as exc:
        night, afternoon = exc.at, exc.at.replace(hour=exc.at.hour + 12)
        twelve_hour = f"{night.hour}:{night:%M}"
        also_a_date = ""
        if len(words) == 1 and "." in words[0]:  # "5.12": 05:12, 17:12, or 5 December?
            with contextlib.suppress(ValueError):
                day = _date(words, today, future=True)
                also_a_date = f" or {day.day} {day:%B} (type {day:%d/%m})"
        raise InvalidInput(
            f"“{_shown(text)}” could be {night:%H:%M} or {afternoon:%H:%M}{also_a_date}: type "
            f"{afternoon:%H:%M} (or {twelve_hour}pm) for the afternoon, {night:%H:%M} (or "
            f"{twelve_hour}am) for the early morning."
        ) from None
    except WrongWeekday as exc:
        raise InvalidInput(f"“{_shown(text)}”: {exc}. " + DATE_TIME_HINT) from None
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"“{_shown(text)}” is not a day and time I can read. " + DATE_TIME_HINT
        ) from None
    moment = naive.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise InvalidInput(
            f"{at:%H:%M} does not exist on {day:%a %d %b} (the clocks go forward). "
            "Please choose another time."
        )
    moment_utc = moment.astimezone(UTC)
    if moment.replace(fold=1).astimezone(UTC) != moment_utc:
        # The clocks go back: this wall time is two instants an hour apart (01:30 BST, then
        # 01:30 GMT); taking either would record a time the person may not have meant.
        raise InvalidInput(
            f"{at:%H:%M} happens twice on {day:%a %d %b} (the clocks go back). "
            "Please choose another time."
        )
    if moment_utc <= now.astimezone(UTC):
        raise InvalidInput(
            f"“{_shown(text)}” reads as {day:%a %d %b} {at:%H:%M}, which has already passed. "
            + DATE_TIME_HINT
        )
    return moment_utc


def not_a_school_day(
    moment: datetime, *, zone: ZoneInfo, calendar: SchoolCalendar = WEEKDAYS_ONLY
) -> str | None:
    """Why the local day of ``moment`` is not a school day, as a form warns of it
    (``Saturday 24 October is not a school day (weekend).``); None when it is one."""
    day = moment.astimezone(zone).date()
    why = calendar.why_not(day)
    if why is None:
        return None
    return f"{day:%A} {day.day} {day:%B} is not a school day ({why})."


def parse_day(text: str, *, today: date) -> date:
    """A date typed by a person (day first), today or in the past (a year may be left out:
    the last such date). Raises InvalidInput saying why."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w]
    if not words:
        raise InvalidInput("Please give the date. " + DATE_HINT)
    try:
        day = _date(words, today, future=False)
    except WrongWeekday as exc:
        raise InvalidInput(f"“{_shown(text)}”: {exc}.") from None
    except (ValueError, OverflowError):
        raise InvalidInput(f"“{_shown(text)}” is not a date I can read. " + DATE_HINT) from None
    if day > today:
        raise InvalidInput(f"{day:%d/%m/%Y} is in the future: give the day it was done.")
    return day


def when_in_words(moment: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """A moment as a person says it: ``today at 15:30``, ``tomorrow (Wednesday 11 March) at
    08:30``, ``Friday 13 March at 08:30``; the year when it is not this one."""
    local = moment.astimezone(zone)
    today = now.astimezone(zone).date()
    day = local.date()
    named = f"{local:%A} {day.day} {local:%B}"
    if day.year != today.year:
        named += f" {day.year}"
    if day == today:
        said = "today"
    elif day == today + timedelta(days=1):
        said = f"tomorrow ({named})"
    else:
        said = named
    return f"{said} at {format_local(local, zone)}"
