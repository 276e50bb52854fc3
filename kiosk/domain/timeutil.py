"""Time rules: UTC storage, local school days, the default expected return."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.calendar import WEEKDAYS_ONLY, SchoolCalendar
from kiosk.domain.errors import InvalidInput

DEFAULT_RETURN_TIME = time(8, 30)
# How far two clocks that record into one register may disagree (kiosks on one database, a
# kiosk's clock put right by a few minutes) before a time is taken for a wrong one: verify
# names an event dated more than this before one recorded ahead of it.
CLOCK_SKEW = timedelta(minutes=10)
# How far a kiosk's clock may read before the last event it recorded itself before it is
# taken for a clock gone back (a flat battery: the machine starts in 2000, or at its
# firmware's date) and the kiosk records nothing. Far more than any skew: a clock that ran
# ahead for a while and was put right (an NTP server's bad answer, two kiosks cloned with one
# name) must not stop an honest kiosk, as nobody could set a right clock more right.
CLOCK_GONE_BACK = timedelta(days=30)


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the kiosk only handles timezone-aware times")
    return moment.astimezone(UTC)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a local calendar day (23 h or 25 h around clock changes).

    Raises InvalidInput for a day at the very ends of the calendar (year 1 or 9999), whose
    bounds do not exist as datetimes.
    """
    try:
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{day.isoformat()} is outside the dates the register can handle."
        ) from None
    return start, end


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return ensure_utc(moment).astimezone(zone).date()


def next_school_day(day: date, calendar: SchoolCalendar = WEEKDAYS_ONLY) -> date:
    """The next school day after ``day``: with no calendar, the next weekday; with the
    school's calendar, holidays, INSET days and the time between terms are skipped."""
    return calendar.next_school_day(day)


def default_expected_return(
    now: datetime, zone: ZoneInfo, calendar: SchoolCalendar = WEEKDAYS_ONLY
) -> datetime:
    """Next school day (by the school's calendar) at 08:30 local time, as a UTC instant."""
    local_today = local_date(now, zone)
    due_local = datetime.combine(
        calendar.next_school_day(local_today), DEFAULT_RETURN_TIME, tzinfo=zone
    )
    return due_local.astimezone(UTC)


def suggested_extension(
    due: datetime, now: datetime, zone: ZoneInfo, calendar: SchoolCalendar = WEEKDAYS_ONLY
) -> datetime:
    """What "keep it longer" suggests: the school day (by the school's calendar) after the
    later of now and when the device is due, at 08:30 local time, as a UTC instant."""
    return default_expected_return(max(ensure_utc(now), ensure_utc(due)), zone, calendar)


def in_repeated_hour(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether ``moment``'s local time happens twice (the hour the clocks go back: 01:30 BST,
    then 01:30 GMT an hour later)."""
    local = ensure_utc(moment).astimezone(zone)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def format_local(moment: datetime, zone: ZoneInfo, fmt: str = "%H:%M") -> str:
    """``moment`` in the school's zone, as ``fmt`` says; a time of day in the hour the clocks
    go back is followed by its zone (``01:30 BST``, ``01:30 GMT``): the wall clock shows it
    twice, and the two are an hour apart."""
    local = ensure_utc(moment).astimezone(zone)
    shown = local.strftime(fmt)
    if "%H" in fmt and in_repeated_hour(local, zone):
        shown += f" {local.tzname()}"
    return shown
