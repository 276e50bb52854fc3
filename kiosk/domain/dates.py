"""Dates as people type them: the one reader for the command line (and the screens).

``parse_date("05/12/2026", today=...)`` is 5 December 2026 (day first, as in the UK);
``2026-12-05`` (ISO), ``5/12`` (this year), ``5 Dec 2026``, ``Sat 5 Dec``, ``today``,
``tomorrow`` and ``yesterday`` are read too (a weekday written before a date must be that
date's: ``Fri 5 Dec 2026`` is refused, 5 December 2026 being a Saturday). Anything else raises
ValueError with the reason in words, fit for a message.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

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
# Each weekday's names, Monday first (date.weekday()'s numbers).
WEEKDAY_NUMBERS = {
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
_WEEKDAY_NAMES = set(WEEKDAY_NUMBERS)

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?")
_WORDS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?")

EXAMPLES = "05/12/2026 or 2026-12-05"


def _make(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date in the calendar (day {day}, month {month})"
        ) from None


def date_parts(text: str) -> tuple[int, int, int | None]:
    """(day, month, year or None) of an explicit date: ``2026-12-05``, ``05/12/2026``,
    ``5/12``, ``5 Dec 2026``, ``5th December`` (a weekday before it is checked against the
    date once its year is known: :func:`check_weekday`). The one reader of written dates: the
    command line, the console and the kiosk's forms (``kiosk.domain.when``) all come here.
    Raises ValueError with the reason in words."""
    raw = " ".join(str(text).split())
    words = raw.lower().replace(",", " ").split()
    if words and words[0].rstrip(".") in _WEEKDAY_NAMES and len(words) > 1:
        words = words[1:]  # "Sat 5 Dec": the weekday is decoration
    clean = " ".join(words)
    if match := _ISO.fullmatch(clean):
        return int(match[3]), int(match[2]), int(match[1])
    if match := _NUMERIC.fullmatch(clean):
        day, month = int(match[1]), int(match[2])
        if month > 12 and day <= 12:
            raise ValueError(
                f"{raw!r}: the day comes first ({EXAMPLES}); month {month} does not exist"
            )
        year = None if match[3] is None else _full_year(match[3])
        return day, month, year
    if match := _WORDS.fullmatch(clean):
        month_number = _MONTHS.get(match[2])
        if month_number is None:
            raise ValueError(f"{raw!r}: {match[2]!r} is not a month")
        return int(match[1]), month_number, None if match[3] is None else int(match[3])
    raise ValueError(f"{raw!r} is not a date: write it like {EXAMPLES}")


class WrongWeekday(ValueError):
    """A weekday written with a date that falls on another day ("Fri 12/03" when 12 March is
    a Thursday): which of the two was meant cannot be known."""


_FULL_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_weekday(text: str, day: date) -> None:
    """Raise :class:`WrongWeekday` when ``text`` (a written date) names a weekday that is not
    ``day``'s: the weekday before a date is read as a check, never ignored."""
    words = str(text).lower().replace(",", " ").split()
    if len(words) < 2:
        return
    named = WEEKDAY_NUMBERS.get(words[0].rstrip("."))
    if named is not None and named != day.weekday():
        raise WrongWeekday(
            f"{day.day} {day:%B %Y} is a {_FULL_NAMES[day.weekday()]}, not a "
            f"{_FULL_NAMES[named]}: give a date and a day that go together"
        )


def _full_year(raw: str) -> int:
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def parse_date(text: str, *, today: date, year_required: bool = False) -> date:
    """The date ``text`` names (see the module's docstring). Raises ValueError with why not."""
    raw = " ".join(str(text).split())
    if not raw:
        raise ValueError(f"no date given: write one like {EXAMPLES}")
    relative = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if raw.lower() in relative and not year_required:
        return today + timedelta(days=relative[raw.lower()])
    day, month, year = date_parts(raw)
    if year is None:
        if year_required:
            raise ValueError(f"{raw!r} has no year: write it in full, e.g. {EXAMPLES}")
        year = today.year
    found = _make(year, month, day, raw)
    check_weekday(raw, found)
    return found
