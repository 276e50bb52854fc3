"""The school calendar: which days are school days (term dates, holidays, INSET days).

Plain data and rules, no database: the services read the newest ``calendar_set`` event and
hand its details to :meth:`SchoolCalendar.from_details`.

The rules:

- with no calendar (``WEEKDAYS_ONLY``), Monday to Friday are school days;
- Saturdays and Sundays are never school days;
- a day inside a ``holiday`` or ``inset`` entry is not a school day (an INSET day is a
  staff training day: pupils are not in, nobody is expected back with a laptop for it);
- when the calendar has ``term`` entries, a weekday outside every term is not a school day
  (the summer holiday need not be listed as well).

The CSV format (``kiosk calendar import FILE.csv``), one entry per line, with a header row::

    start,end,kind,name
    2026-09-03,2026-12-18,term,Autumn term
    2026-10-26,2026-10-30,holiday,October half term
    2026-09-02,,inset,INSET day

``end`` may be left empty (one day); a ``date`` column may be used instead of ``start`` and
``end``. Dates are ``YYYY-MM-DD`` or ``DD/MM/YYYY``. ``kind`` is term, holiday or inset
(``training``, ``half term``, ``bank holiday`` and ``closed`` are read as those).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import unsafe_characters

TERM = "term"
HOLIDAY = "holiday"
INSET = "inset"
KINDS = (TERM, HOLIDAY, INSET)
KIND_LABELS = {TERM: "Term", HOLIDAY: "Holiday", INSET: "INSET day"}

_KIND_WORDS = {
    "term": TERM,
    "holiday": HOLIDAY,
    "holidays": HOLIDAY,
    "half_term": HOLIDAY,
    "halfterm": HOLIDAY,
    "bank_holiday": HOLIDAY,
    "closed": HOLIDAY,
    "closure": HOLIDAY,
    "inset": INSET,
    "inset_day": INSET,
    "training": INSET,
    "training_day": INSET,
}

# How far ahead next_school_day looks before giving up on the calendar (then: next weekday).
_HORIZON = 400
MAX_ENTRIES = 2000


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    start: date
    end: date  # inclusive
    kind: str
    name: str

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class CalendarProblem:
    line: int
    reason: str
    # False: an event left out on purpose (a parents' evening in a school's .ics feed), which
    # does not stop the import; True: a line that cannot be read.
    blocking: bool = True


class _LeftOut(InvalidInput):
    """An .ics event that is none of term, holiday or INSET: listed, not an error."""


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """Term dates, holidays and INSET days; empty: Monday to Friday are school days."""

    entries: tuple[CalendarEntry, ...] = ()
    source: str = ""
    sha256: str = ""
    _terms: tuple[CalendarEntry, ...] = field(default=(), init=False, repr=False, compare=False)
    _closed: tuple[CalendarEntry, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.entries, key=lambda e: (e.start, e.end, e.kind, e.name)))
        object.__setattr__(self, "entries", ordered)
        object.__setattr__(self, "_terms", tuple(e for e in ordered if e.kind == TERM))
        object.__setattr__(self, "_closed", tuple(e for e in ordered if e.kind != TERM))

    @property
    def empty(self) -> bool:
        return not self.entries

    def closure(self, day: date) -> CalendarEntry | None:
        """The holiday or INSET entry that closes ``day`` to pupils, if any."""
        return next((e for e in self._closed if e.covers(day)), None)

    def in_term(self, day: date) -> bool:
        return not self._terms or any(e.covers(day) for e in self._terms)

    def is_school_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.in_term(day) and self.closure(day) is None

    def why_not(self, day: date) -> str | None:
        """Why ``day`` is not a school day, in words (None: it is one)."""
        if day.weekday() >= 5:
            return "weekend"
        closed = self.closure(day)
        if closed is not None:
            return f"{closed.label}: {closed.name}" if closed.name else closed.label
        if not self.in_term(day):
            return "outside term time"
        return None

    def next_school_day(self, after: date) -> date:
        """The first school day after ``after`` (a weekday if the calendar has none ahead)."""
        day = after
        for _ in range(_HORIZON):
            day += timedelta(days=1)
            if self.is_school_day(day):
                return day
        return WEEKDAYS_ONLY.next_school_day(after)

    def school_days_between(self, a: date, b: date) -> int:
        """School days from ``a`` to ``b``, both included (0 when b is before a)."""
        count, day = 0, a
        while day <= b:
            count += self.is_school_day(day)
            day += timedelta(days=1)
        return count

    def school_weeks_between(self, a: date, b: date) -> int:
        """Weeks (Monday to Sunday) from the week of ``a`` to the week of ``b``, both included,
        with at least one school day: a half-term week does not count."""
        if b < a:
            return 0
        monday = a - timedelta(days=a.weekday())
        count = 0
        while monday <= b:
            if any(self.is_school_day(monday + timedelta(days=i)) for i in range(5)):
                count += 1
            monday += timedelta(weeks=1)
        return count

    def has_school_day(self, first: date, last: date) -> bool:
        day = first
        while day <= last:
            if self.is_school_day(day):
                return True
            day += timedelta(days=1)
        return False

    def school_window_index(self, today: date, window: int) -> int:
        """For the 7-day windows counted back from ``today`` (window 0 ends today, window k
        covers today-7k-6 .. today-7k), the index of window ``window`` counting school
        windows only; a window with no school day joins the newer one. With every window
        holding a school day (no calendar), this is ``window`` itself."""
        newer = sum(1 for k in range(window) if self._window_has_school_day(today, k))
        if self._window_has_school_day(today, window):
            return newer
        return max(0, newer - 1)

    def windows_for_school_weeks(self, today: date, weeks: int, *, limit: int = 52) -> int:
        """How many 7-day windows back from ``today`` hold ``weeks`` school windows."""
        found = k = 0
        while k < limit:
            found += self._window_has_school_day(today, k)
            k += 1
            if found >= weeks:
                break
        return k

    def _window_has_school_day(self, today: date, k: int) -> bool:
        last = today - timedelta(days=7 * k)
        return self.has_school_day(last - timedelta(days=6), last)

    def not_in(self, other: SchoolCalendar) -> tuple[CalendarEntry, ...]:
        """This calendar's entries that ``other`` does not have (same dates and kind; a name
        is only a title: the website's "Autumn Term 2026" is the CSV's "Autumn term"): what
        replacing this calendar with ``other`` drops."""
        kept = {(e.start, e.end, e.kind) for e in other.entries}
        return tuple(e for e in self.entries if (e.start, e.end, e.kind) not in kept)

    # --- stored as an event's details ------------------------------------------------------

    def to_details(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "entries": [
                {
                    "start": e.start.isoformat(),
                    "end": e.end.isoformat(),
                    "kind": e.kind,
                    "name": e.name,
                }
                for e in self.entries
            ],
        }

    @classmethod
    def from_details(cls, details: Mapping[str, Any] | None) -> SchoolCalendar:
        if not details:
            return WEEKDAYS_ONLY
        entries = []
        for raw in details.get("entries") or ():
            try:
                entries.append(
                    CalendarEntry(
                        date.fromisoformat(str(raw["start"])),
                        date.fromisoformat(str(raw["end"])),
                        str(raw["kind"]),
                        str(raw.get("name") or ""),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry is left out, never a traceback
        return cls(
            tuple(entries),
            source=str(details.get("source") or ""),
            sha256=str(details.get("sha256") or ""),
        )


WEEKDAYS_ONLY = SchoolCalendar()


def is_school_day(day: date, calendar: SchoolCalendar = WEEKDAYS_ONLY) -> bool:
    return calendar.is_school_day(day)


def next_school_day(after: date, calendar: SchoolCalendar = WEEKDAYS_ONLY) -> date:
    return calendar.next_school_day(after)


def school_weeks_between(a: date, b: date, calendar: SchoolCalendar = WEEKDAYS_ONLY) -> int:
    return calendar.school_weeks_between(a, b)


# --- reading files -----------------------------------------------------------------------------


def fingerprint(data: bytes) -> str:
    import hashlib  # here: the kiosk imports this module before its first frame

    return hashlib.sha256(data).hexdigest()


def kind_of(text: str) -> str | None:
    word = re.sub(r"[\s-]+", "_", text.strip().lower())
    return _KIND_WORDS.get(word)


def _emoji_joiners_dropped(name: str) -> str:
    """``name`` without its emoji's presentation selectors (VARIATION SELECTOR-15 or -16
    after one) and the ZERO WIDTH JOINERs between two (a symbol, a skin tone): how Google's
    and Outlook's calendars write "❄️" or a family. Each is invisible, and the emoji are
    the same without them. Any other stays, for ``unsafe_characters`` to name ("Ben" ZWJ
    "Jones", a selector after a letter). A selector also goes after a punctuation mark or a
    symbol that it makes an emoji ("‼️", "↔️"), and between a digit, "#" or "*" and the
    keycap it is drawn in ("1️⃣")."""
    if name.isascii():
        return name
    kept: list[str] = []
    for at, char in enumerate(name):
        before = kept[-1] if kept else ""
        after = name[at + 1 : at + 2]
        if char in "\ufe0e\ufe0f" and (
            _is_emoji(before)
            or (bool(before) and unicodedata.category(before) in ("Po", "Pd", "Sm"))
            or (len(before) == 1 and before in "0123456789#*" and after == "\u20e3")
        ):
            continue
        if char == "\u200d" and _is_emoji(before) and _is_emoji(after):
            continue
        kept.append(char)
    return "".join(kept)


# The names ``unsafe_characters`` gives an emoji's invisible parts: its selectors, joiners and
# the "tag" letters of a flag of England, Scotland or Wales.
_EMOJI_PART = re.compile(r"VARIATION SELECTOR|ZERO WIDTH JOINER|TAG |CANCEL TAG")


def _is_emoji(char: str) -> bool:
    return bool(char) and unicodedata.category(char) in ("So", "Sk")


def _entry(start: date, end: date, kind: str, name: str) -> CalendarEntry:
    if end < start:
        raise InvalidInput(f"ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y})")
    if (end - start).days > 366:
        raise InvalidInput("is longer than a year")
    if len(name) > 200:
        raise InvalidInput("name is longer than 200 characters")
    # The same rule as for a person's name: a name is printed by `kiosk calendar` and
    # recorded in the register, and one holding a line break wrote lines of its own there.
    # An emoji's own selector and joiners go first: "❄️ Snow day" refused left the closure
    # out, and the snow day counted as a school day (overdue notices sent).
    name = _emoji_joiners_dropped(name)
    found = unsafe_characters(name)
    if found and any(_is_emoji(char) for char in name) and all(map(_EMOJI_PART.match, found)):
        # (its invisible parts' names, "TAG LATIN SMALL LETTER G", tell an office nothing)
        raise InvalidInput(
            "the name holds an emoji the register cannot store (with invisible characters in "
            "it, as a flag of England, Scotland or Wales has): remove it and import again"
        )
    if found:
        raise InvalidInput(
            f"the name contains {', '.join(found)}: a character that is invisible or that "
            "changes how text is shown (copied from a web page or document?)"
        )
    return CalendarEntry(start, end, kind, name)


def parse_csv(text: str) -> tuple[list[CalendarEntry], list[CalendarProblem]]:
    """Entries and problems (by line) of a calendar CSV (format: the module's docstring)."""
    from kiosk.domain.csvtext import read_header, read_lines, semicolon_separated
    from kiosk.domain.dates import parse_date

    reader, columns = read_header(text, empty="The calendar file is empty: it needs a header row.")
    if semicolon_separated(columns):
        raise InvalidInput("The columns are separated by ';': use commas (save as CSV UTF-8).")
    has_range = "start" in columns
    if not ("kind" in columns and (has_range or "date" in columns)):
        raise InvalidInput(
            "The header row must be start,end,kind,name (or date,kind,name); "
            f"found: {', '.join(columns) or 'nothing'}."
        )
    entries: list[CalendarEntry] = []
    problems: list[CalendarProblem] = []
    anchor = date(2000, 1, 1)
    for line, raw, unreadable in read_lines(reader):
        if unreadable:
            problems.append(CalendarProblem(line, unreadable))
            continue
        if not any(cell.strip() for cell in raw):
            continue
        record = {c: (raw[i].strip() if i < len(raw) else "") for i, c in enumerate(columns)}
        try:
            kind = kind_of(record.get("kind", ""))
            if kind is None:
                raise InvalidInput(f"kind {record.get('kind', '')!r} is not term, holiday or inset")
            first_text = record.get("start") if has_range else record.get("date")
            if not first_text:
                raise InvalidInput("the date is empty")
            start = parse_date(first_text, today=anchor, year_required=True)
            end_text = record.get("end", "") if has_range else ""
            end = parse_date(end_text, today=anchor, year_required=True) if end_text else start
            entries.append(_entry(start, end, kind, record.get("name", "")))
        except (InvalidInput, ValueError) as exc:
            problems.append(CalendarProblem(line, str(exc)))
        if len(entries) > MAX_ENTRIES:
            raise InvalidInput(f"More than {MAX_ENTRIES} entries: is it the right file?")
    return entries, problems


# --- iCalendar (.ics) -------------------------------------------------------------------------

_INSET_WORDS = (
    "inset",
    "training day",
    "staff training",
    "staff development",
    "teacher day",
    "non-pupil",
    "pupil free",
    "pd day",
)
_HOLIDAY_WORDS = (
    "holiday",
    "half term",
    "half-term",
    "halfterm",
    "closed",
    "closure",
    "bank holiday",
)
# "Break" in a school's calendar is the daily break ("Break time changes", "Lunch break
# extended", "Sports day (break and lunch times change)") and "breaking up" the last day of
# term, a school day ("School breaks up for Christmas", "Break-up day"): each of these made a
# school day a holiday. A break is a holiday when a time of year names it ("Christmas break",
# "October half-term break", "Summer break", "Christmas and New Year break", "End of term
# break", "Break (Christmas)") and it is not the breaking up ("Christmas break up").
_TIMES_OF_YEAR = (
    "christmas",
    "xmas",
    "festive",
    "new year",
    "winter",
    "february",
    "spring",
    "easter",
    "may",
    "whitsun",
    "summer",
    "october",
    "autumn",
    "half term",
    "half-term",
    "halfterm",
    "mid-term",
    "mid term",
    "term",  # "End of term break", "Term break": between terms
)
_TIME_OF_YEAR = rf"(?:{'|'.join(re.escape(w) for w in _TIMES_OF_YEAR)})"
_HOLIDAY_BREAK = re.compile(
    # "Christmas break", "Christmas & New Year holiday break", "Summer hols break"
    rf"(?<![^\W_]){_TIME_OF_YEAR}(?:\s*(?:and|&|/|,|-|\+)\s*{_TIME_OF_YEAR}){{0,3}}"
    r"(?:'s)?(?:\s+(?:holidays?|hols))?\s+breaks?(?![^\W_])(?!\s*-?\s*up(?![^\W_]))"
    # "Break (Christmas)", "Break: Easter"
    rf"|(?<![^\W_])breaks?\s*[(:]\s*{_TIME_OF_YEAR}(?![^\W_])"
)
_MIN_TERM_DAYS = 5


def _ics_lines(text: str) -> list[tuple[int, str]]:
    """The file's lines, each folded line joined to the one it goes on: with the number of
    the line of the file it starts on (a problem names that line, as the office sees it)."""
    lines: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(
        text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1
    ):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1][1].append(raw[1:])  # a folded line goes on
        else:
            lines.append((number, [raw]))
    return [(number, "".join(parts)) for number, parts in lines]


# RFC 5545's escapes in a TEXT value, read in one pass left to right: an escaped backslash
# before an "n" is a backslash and an "n", not a backslash and a line break (the title
# written "Half term\\new timetable" in the file was read "Half term\ ew timetable").
# A line break is a space here: a title is one line.
_ICS_ESCAPE = re.compile(r"\\([\\;,nN])")
_ICS_ESCAPED = {"n": " ", "N": " "}


def _ics_unescape(value: str) -> str:
    return _ICS_ESCAPE.sub(lambda m: _ICS_ESCAPED.get(m[1], m[1]), value).strip()


# A content line's name and parameters end at the first colon outside double quotes: a
# parameter's value may hold a colon when quoted (RFC 5545 3.1), as an address does
# (SUMMARY;ALTREP="https://...":Half term). Split at the first colon, the title was
# '//...":Half term' and a date '...":20270301', not read.
_ICS_NAME = re.compile(r'[^":]*(?:"[^"]*"[^":]*)*')


def _ics_split(line: str) -> tuple[str, str]:
    """A content line's name (with its parameters) and its value."""
    head = _ICS_NAME.match(line)
    at = head.end() if head is not None else 0
    if line[at : at + 1] != ":":  # no colon outside quotes (a quote left open)
        name, _, value = line.partition(":")
        return name, value
    return line[:at], line[at + 1 :]


# A timed event starting before noon and as long as this covers the pupils' day: an INSET
# day written as times, which is a blocking line; a shorter or later one is left out.
_PUPILS_GONE = time(12)
_PUPILS_DAY = timedelta(hours=4)


def _ics_when(value: str) -> datetime:
    """An .ics date or date-time (a date alone: its midnight), as written (its TZID or Z
    not applied: a school's feed is in its own time zone)."""
    day = _ics_date(value)
    at = re.match(r"T(\d\d)(\d\d)(\d\d)?", value.strip()[8:].upper())
    if at is None:
        return datetime.combine(day, time())
    try:
        return datetime.combine(day, time(int(at[1]), int(at[2]), min(int(at[3] or 0), 59)))
    except ValueError:  # 25:61
        raise InvalidInput(f"{value.strip()!r} is not a date and time") from None


def _ics_date(value: str) -> date:
    digits = value.strip()[:8]
    if not re.fullmatch(r"\d{8}", digits):
        raise InvalidInput(f"{value!r} is not a date")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:  # a 13th month, a 30 February: the event's line, not the whole file
        raise InvalidInput(f"{value.strip()!r} is not a date") from None


# RFC 5545's dur-value: weeks (P1W), or days and a time (P5D, P1DT12H, PT2H); at most 9
# digits each (a value of 5,000 digits was past what int() reads: "something unexpected").
_DURATION = re.compile(
    r"\+?P(?:(?P<weeks>\d{1,9})W|(?:(?P<days>\d{1,9})D)?"
    r"(?:T(?:(?P<hours>\d{1,9})H)?(?:(?P<minutes>\d{1,9})M)?(?:(?P<seconds>\d{1,9})S)?)?)"
)


def _ics_duration(value: str) -> timedelta:
    match = _DURATION.fullmatch(value.strip().upper())
    if match is None or match.group(0).rstrip("T").endswith("P"):
        shown = value.strip() if len(value.strip()) <= 20 else value.strip()[:20] + "..."
        raise InvalidInput(
            f"its DURATION {shown!r} is not a length of time (P5D, P1W), so its end date "
            "cannot be read: give it a DTEND"
        )
    amounts = {unit: int(digits) for unit, digits in match.groupdict().items() if digits}
    return timedelta(**amounts)  # OverflowError past 999,999,999 days: "out of range"


def _has_word(text: str, words: Iterable[str]) -> bool:
    """Whether ``text`` holds one of ``words`` as a word (or its plural: "holidays"), not
    as letters inside another ("break" in "Breakfast club", "closed" in "Enclosed")."""
    return any(re.search(rf"(?<![^\W_]){re.escape(word)}s?(?![^\W_])", text) for word in words)


# A closure from a time of day ("Open evening (office closed from 3pm)", "School closed at
# 1.30pm for Christmas"): the pupils are in school before it, so the day is a school day, as
# an event at a time of day is (a morning's training). Read as a holiday, the day was a day
# off for the kiosk: laptops due then moved, no reminders. Only a time of day (3pm, 3 pm,
# 1.30pm, 12.00, 10:00, noon): a closure from or until a date ("closed from 25 Dec", "until
# 5 January") is days the school is shut, a holiday.
_TIME_OF_DAY = (
    r"(?:\d{1,2}(?:[.:]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)(?![^\W_])"
    r"|\d{1,2}[.:]\d{2}(?![.:/]?\d)|noon|midday|lunchtime|lunch)"
)
_CLOSED_AT_A_TIME = re.compile(
    r"(?<![^\W_])(?:closed|closure|closes|closing)\s+(?:from|at|after|until|till|between)\s+"
    rf"(?:\d{{1,2}}(?:[.:]\d{{2}})?\s*(?:-|\u2013|to|and)\s*)?{_TIME_OF_DAY}"
)
# A place closed to some people ("Coffee morning - closed to visitors", "Car park closed to
# parents", "Library closed to Year 11"): the school is open to its pupils, a school day.
# Closed to the pupils (students, children, all; "staff and pupils") it is not.
_CLOSED_TO_SOME = re.compile(
    r"(?<![^\W_])(?:closed|closure|closes)\s+to\s+"
    # (pupils named among them, before any punctuation: "closed to staff and pupils")
    r"(?![^.,;:()\-]{0,40}?(?<![^\W_])(?:pupils?|students?|children|everyone|everybody|all)"
    r"(?![^\W_]))"
    r"(?=[^\W_])"
)


def ics_kind(summary: str) -> str | None:
    """term, holiday or inset from an event's title, by its words; None when it is none of
    them."""
    words = summary.lower()
    if _has_word(words, _INSET_WORDS):
        return INSET
    # (Only the closure at a time, or to some people, goes: "Half term (office closed from
    # 3pm)" is a holiday.)
    rest = _CLOSED_TO_SOME.sub(" ", _CLOSED_AT_A_TIME.sub(" ", words))
    if _has_word(rest, _HOLIDAY_WORDS) or _HOLIDAY_BREAK.search(rest):
        return HOLIDAY
    if _has_word(words, ("term",)):
        return TERM
    return None


# What an event's lines are read for (an RRULE or RDATE: to say its repeats are not read).
_ICS_KEYS = frozenset({"DTSTART", "DTEND", "SUMMARY", "DURATION", "STATUS", "RRULE", "RDATE"})


def parse_ics(text: str) -> tuple[list[CalendarEntry], list[CalendarProblem]]:
    """Entries from the VEVENTs of an iCalendar file: all-day DTSTART/DTEND (DTEND not
    included, as RFC 5545 says) and SUMMARY, classified by the words of the summary.
    Events that are none of term, holiday or INSET (a parents' evening) are reported."""
    if "BEGIN:VCALENDAR" not in text.upper():
        raise InvalidInput("The file is not an iCalendar (.ics) file: no BEGIN:VCALENDAR.")
    entries: list[CalendarEntry] = []
    problems: list[CalendarProblem] = []
    event: dict[str, str] | None = None
    start_line = 0
    # Components inside the event (a VALARM: Google's e-mail reminder has a SUMMARY of its
    # own, "Alarm notification", and a DURATION): their lines are not the event's.
    inside: list[str] = []
    for number, line in _ics_lines(text):
        name, value = _ics_split(line)
        key = name.split(";", 1)[0].strip().upper()
        component = value.strip().upper()
        if event is not None and key == "BEGIN" and component != "VEVENT":
            inside.append(component)
        elif inside and not (key == "END" and component == "VEVENT"):
            if key == "END" and component == inside[-1]:
                inside.pop()
        elif key == "BEGIN" and component == "VEVENT":
            if event is not None:  # the one before never ended: not dropped without a word
                problems.append(_unended(event, start_line, f"before line {number}"))
            event, start_line = {}, number
        elif key == "END" and component == "VEVENT" and event is not None:
            inside.clear()  # one left open ends with its event
            try:
                try:
                    entry = _ics_entry(event)
                except OverflowError:  # a day before 1 January of year 1, or after 9999
                    raise InvalidInput("has a date out of range") from None
                if entry is not None:
                    entries.append(entry)
            except InvalidInput as exc:
                what = _ics_unescape(event.get("SUMMARY", "?"))
                problems.append(
                    CalendarProblem(
                        start_line, f"{what}: {exc}", blocking=not isinstance(exc, _LeftOut)
                    )
                )
            event = None
        elif event is not None and key in _ICS_KEYS:
            event[key] = value
        if len(entries) > MAX_ENTRIES:
            raise InvalidInput(f"More than {MAX_ENTRIES} events: is it the right file?")
    if event is not None:
        problems.append(_unended(event, start_line, "before the end of the file"))
    return entries, problems


def _unended(event: Mapping[str, str], line: int, where: str) -> CalendarProblem:
    """An event whose END:VEVENT never came (a file cut short, or edited by hand): said, not
    read (its dates may be a holiday's, or only half there)."""
    what = _ics_unescape(event.get("SUMMARY", "?"))
    return CalendarProblem(line, f"{what}: has no END:VEVENT {where}: not read")


def _ics_entry(event: Mapping[str, str]) -> CalendarEntry | None:
    summary = _ics_unescape(event.get("SUMMARY", ""))
    if event.get("STATUS", "").strip().upper() == "CANCELLED":
        # Called off, and kept in the feed so (Google's and Outlook's calendars): not a day
        # off, whatever its title says.
        raise _LeftOut("cancelled in the calendar (left out)")
    if "DTSTART" not in event:
        raise InvalidInput("has no DTSTART")
    begins = _ics_when(event["DTSTART"])
    if "DTEND" in event:
        ends = _ics_when(event["DTEND"])
    elif "DURATION" in event:
        ends = begins + _ics_duration(event["DURATION"])
    else:
        ends = begins
    start = begins.date()
    # The end is not in the event (RFC 5545): an all-day DTEND is the day after the last,
    # and so is one at midnight (an INSET day midnight to midnight was two days off).
    end = max(start, (ends - timedelta(seconds=1)).date())
    kind = ics_kind(summary)
    if kind is None:
        raise _LeftOut("not a term, holiday or INSET day (left out)")
    if begins.time() != time() or ends.time() != time():  # midnight to midnight: all day
        if begins.time() < _PUPILS_GONE and ends - begins >= _PUPILS_DAY:
            # An INSET day 08:30-15:30: the pupils' day, written as times. Left out, the
            # day was a school day (laptops due, reminders sent); read, a morning's
            # training would be a day off as well.
            shown = f"{begins:%H:%M} to {ends:%H:%M}"
            if ends.date() != begins.date():
                shown = f"{begins:%H:%M} on {begins:%d/%m/%Y} to {ends:%H:%M} on {ends:%d/%m/%Y}"
            raise InvalidInput(
                f"is at times of day ({shown}), not all day: make it all-day in the "
                "calendar and import again"
            )
        # A "Twilight INSET" 15:30-17:30, after the pupils have gone, or a morning's
        # training: not a day off.
        raise _LeftOut(f"at a time of day ({begins:%H:%M}), not all day (left out)")
    if "RRULE" in event or "RDATE" in event:
        # Only the first day was read: a closure repeating yearly from 2019 was one in 2019.
        raise InvalidInput(
            "repeats (RRULE or RDATE), which the import does not read: only its first day "
            "would be; list each day as an event of its own, or use a CSV calendar"
        )
    if kind == TERM and (end - start).days + 1 < _MIN_TERM_DAYS:
        raise _LeftOut(
            "a term event of a day or two (e.g. 'term starts') is not the term's span (left out)"
        )
    # Cut to 200 characters once an emoji's own joiners and selectors are dropped: cut
    # before, "👩" ZWJ "👧" left a joiner at the end, an invisible character, and the
    # whole event (a half term) was refused.
    return _entry(start, end, kind, _emoji_joiners_dropped(summary)[:200].rstrip("\u200d"))


def calendar_from(entries: Iterable[CalendarEntry], *, source: str, data: bytes) -> SchoolCalendar:
    return SchoolCalendar(tuple(entries), source=source, sha256=fingerprint(data))
