"""What a school defines for itself and keeps as events: its calendar and its device kinds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.domain.calendar import (
    KINDS,
    CalendarEntry,
    CalendarProblem,
    SchoolCalendar,
    calendar_from,
    parse_csv,
    parse_ics,
)
from kiosk.domain.devicekinds import DeviceKindDef, DeviceKinds, normalise_kind_code
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.domain.text import display_text, unsafe_characters
from kiosk.domain.timeutil import local_date
from kiosk.services import school_events, state
from kiosk.services.common import UseCases
from kiosk.services.uow import UnitOfWork

MAX_CALENDAR_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CalendarImport:
    calendar: SchoolCalendar
    problems: tuple[CalendarProblem, ...]
    imported: bool
    event_id: int | None = None
    # The entries of the calendar in force that the file does not have: the import replaces
    # the calendar whole, so these are dropped (or would have been).
    dropped: tuple[CalendarEntry, ...] = ()
    # Not imported because some of ``dropped`` are still ahead (end today or later) and
    # ``replace`` was not given.
    needs_replace: bool = False

    def upcoming_dropped(self, today: date) -> tuple[CalendarEntry, ...]:
        return tuple(e for e in self.dropped if e.end >= today)


def _admin_id(uow: UnitOfWork, admin_code: str | None) -> int | None:
    if not admin_code:
        return None
    admin = state.get_staff_info(uow.session, admin_code)
    if not admin.has_role(Role.ADMIN.value):
        raise RuleViolation(f"{admin.name} is not an admin: only admins can change this.")
    return admin.id


def calendar_summary(calendar: SchoolCalendar) -> str:
    if calendar.empty:
        return "no calendar: Monday to Friday are school days"
    counts = {kind: sum(1 for e in calendar.entries if e.kind == kind) for kind in KINDS}
    first = min(e.start for e in calendar.entries)
    last = max(e.end for e in calendar.entries)
    return (
        f"{counts['term']} term(s), {counts['holiday']} holiday(s), {counts['inset']} INSET "
        f"day(s), {first:%d %b %Y} to {last:%d %b %Y}"
    )


class SchoolService(UseCases):
    # --- the calendar ----------------------------------------------------------------------

    def calendar(self) -> SchoolCalendar:
        """The calendar in force (no calendar imported: weekdays are school days)."""
        with self.ctx.read() as session:
            return school_events.current_calendar(session)

    def is_school_day(self, day: date | None = None) -> bool:
        """Whether ``day`` (default: today, in the school's zone) is a school day."""
        if day is None:
            day = local_date(self.ctx.clock(), self.ctx.settings.zone)
        return self.calendar().is_school_day(day)

    def import_calendar(
        self,
        name: str,
        data: bytes,
        *,
        skip_invalid: bool = False,
        admin_code: str | None = None,
        replace: bool = False,
    ) -> CalendarImport:
        """Read a calendar (.csv or .ics, by ``name``) and record it whole as the calendar in
        force. With a line in error, nothing is recorded unless ``skip_invalid``. The entries
        of the calendar in force that the file does not have are returned as ``dropped``;
        when some of them are still ahead of today, nothing is recorded unless ``replace``
        (a spring-term file must not silently drop the autumn term)."""
        if len(data) > MAX_CALENDAR_BYTES:
            raise InvalidInput("The file is larger than 2 MB: is it the right file?")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("The file is not UTF-8 text.") from None
        if name.lower().endswith((".ics", ".ical", ".ifb")) or text.lstrip().upper().startswith(
            "BEGIN:VCALENDAR"
        ):
            entries, problems = parse_ics(text)
        else:
            entries, problems = parse_csv(text)
        # The file's name, kept as the calendar's source: in the register and its exports, so
        # shown as every stored name is (a bidi override in "Term dates" U+202E "scv.2026"
        # drew it reversed in Excel).
        source = display_text(name.replace("\\", "/").rsplit("/", 1)[-1][:200])
        calendar = calendar_from(entries, source=source, data=data)
        if not entries:
            raise InvalidInput(
                "No term, holiday or INSET entry was found in the file"
                + (f" ({len(problems)} line(s) could not be read)." if problems else ".")
            )
        if any(p.blocking for p in problems) and not skip_invalid:
            return CalendarImport(calendar, tuple(problems), imported=False)
        with self.ctx.write() as uow:
            # Compared with the calendar the kiosk recorded, as a change of the kinds builds
            # on: one written without the key (the kiosks' login, a calendar with nothing in
            # it) let a summer-term file drop the spring term still running, unasked, and
            # the import went into the register, under the key, as the admin's.
            recorded = school_events.latest_recorded(
                uow.session, EventKind.CALENDAR_SET, self.ctx.key
            )
            dropped = SchoolCalendar.from_details(recorded[1] if recorded else None).not_in(
                calendar
            )
            today = local_date(uow.now, self.ctx.settings.zone)
            if not replace and any(e.end >= today for e in dropped):
                return CalendarImport(
                    calendar, tuple(problems), imported=False, dropped=dropped, needs_replace=True
                )
            details = calendar.to_details()
            details["summary"] = f"{source}: {calendar_summary(calendar)}"
            event = uow.record(
                EventKind.CALENDAR_SET, staff_id=_admin_id(uow, admin_code), details=details
            )
        return CalendarImport(
            calendar, tuple(problems), imported=True, event_id=event.id, dropped=dropped
        )

    # --- device kinds ------------------------------------------------------------------------

    def device_kinds(self) -> DeviceKinds:
        with self.ctx.read() as session:
            return school_events.current_device_kinds(session)

    def set_device_kind(
        self,
        code: str,
        label: str,
        *,
        needs_charged: bool | None = None,
        regular_use: bool | None = None,
        admin_code: str | None = None,
    ) -> DeviceKinds:
        """Add a kind of device (or change one's label and rules); recorded as the whole
        definition in force, so the register keeps each version. A rule given as None is
        the kind's own (off for a new kind): a new label alone took a laptop's line manager
        away."""
        kind_code = normalise_kind_code(code)
        text = " ".join(label.split())
        hidden = unsafe_characters(text)
        if hidden:  # shown wherever a device is named: as staff names and descriptions
            raise InvalidInput(
                f"The label contains {', '.join(hidden)}: a character that is invisible or "
                "that changes how text is shown (copied from a web page or document?). "
                "Type it again."
            )
        if not text or len(text) > 40:
            raise InvalidInput("A kind needs a label of 1 to 40 characters, e.g. 'iPad'.")
        with self.ctx.write() as uow:
            # Built on the kinds the kiosk recorded, never on one written without the key.
            recorded = school_events.latest_recorded(
                uow.session, EventKind.DEVICE_KINDS_SET, self.ctx.key
            )
            before = DeviceKinds.from_details(recorded[1] if recorded else None)
            own = before.get(kind_code)
            if needs_charged is None:
                needs_charged = own.needs_charged if own is not None else False
            if regular_use is None:
                regular_use = own.regular_use if own is not None else False
            kinds = before.with_kind(DeviceKindDef(kind_code, text, needs_charged, regular_use))
            details = kinds.to_details()
            rules = [
                r for r, on in (("charged", needs_charged), ("regular use", regular_use)) if on
            ]
            details["summary"] = f"{kind_code} ({text})" + (
                f": {', '.join(rules)}" if rules else ""
            )
            uow.record(
                EventKind.DEVICE_KINDS_SET, staff_id=_admin_id(uow, admin_code), details=details
            )
            return kinds
