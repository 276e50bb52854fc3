"""The register: any day's events in local time, CSV export, and corrections."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from kiosk.db.engine import UNREADABLE
from kiosk.db.models import Device, Event, Policy, Staff, Store
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import EventKind, Role, not_correctable_message
from kiosk.domain.text import check_typed_line, encodable_text, field_value
from kiosk.domain.timeutil import format_local, local_day_bounds
from kiosk.services import school_events, state
from kiosk.services.common import (
    Unreadable,
    UseCases,
    item_label,
    kind_label,
    read_rows,
    receipt,
)
from kiosk.services.uow import UNREADABLE_ERRORS
from kiosk.services.views import EventReceipt, RegisterPage, RegisterRow

CSV_COLUMNS = (
    "event_id",
    "local_time",
    "utc_time",
    "what",
    "kind",
    "staff_code",
    "staff_name",
    "item",
    "detail",
    "recorded_by",
    "kiosk",
    "voided",
    "void_reason",
)
# A cell starting with one of these is a formula in Excel/LibreOffice: prefix a quote. The
# start is read as a spreadsheet may read it: full-width forms as ASCII (U+FF1D is = to a Japanese
# or Chinese locale's Excel) and after leading spaces (LibreOffice's "trim spaces" import).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    staff_code: str | None = None
    kind: str | None = None
    store_code: str | None = None
    device_tag: str | None = None


def neutralise(value: object) -> str:
    """Make a CSV cell safe to open in a spreadsheet (no formula injection) and to write as
    UTF-8 (a lone surrogate, which a login without the key could plant, is ``�``)."""
    text = "" if value is None else encodable_text(str(value))
    if text.startswith(_FORMULA_START) or _looks_like_formula(text):
        return "'" + text
    return text


def _looks_like_formula(text: str) -> bool:
    """``text`` starts with a formula character once its start is read as a spreadsheet may
    read it: in compatibility form (full-width = + - @, U+FF1D and so on) or after spaces."""
    if text.isascii() and not text.startswith(" "):
        return False
    start = unicodedata.normalize("NFKC", text[:40]).lstrip()
    return start.startswith(_FORMULA_START)


# Time order. Ordering by id alone makes SQLite scan the whole table in rowid order instead
# of the occurred_at range (354 ms p95 for a busy day at 1M events; 14 ms this way).
_TIME_ORDER = (Event.occurred_at, Event.id)

_Who = aliased(Staff, name="who")
_By = aliased(Staff, name="by")
_Void = aliased(Event, name="void")


# Columns, not the Event entity: no ORM objects are built (an export of a school year,
# about 26,000 rows, spent most of its time building them).
_COLUMNS = (
    Event.id,
    Event.occurred_at,
    Event.kind,
    Event.staff_id,
    Event.recorded_by_id,
    Event.kiosk,
    Event.due_at,
    Event.target_event_id,
    Event.details,
    _Who.code,
    _Who.name,
    _By.name,
    Store.name,
    Device.tag,
    Device.kind,
    Policy.title,
    Policy.version,
    _Void.details,
    _Void.id,
    _By.code,
    Store.code,
)


def _base(filters: RegisterFilter) -> Select[Any]:
    stmt = (
        select(*_COLUMNS)
        .outerjoin(_Who, _Who.id == Event.staff_id)
        .outerjoin(_By, _By.id == Event.recorded_by_id)
        .outerjoin(Store, Store.id == Event.store_id)
        .outerjoin(Device, Device.id == Event.device_id)
        .outerjoin(Policy, Policy.id == Event.policy_id)
        .outerjoin(_Void, state.first_correction(_Void))
    )
    if filters.staff_code:
        stmt = stmt.where(_Who.code == filters.staff_code.strip().upper())
    if filters.kind:
        stmt = stmt.where(Event.kind == filters.kind)
    if filters.store_code:
        stmt = stmt.where(Store.code == filters.store_code.strip().upper())
    if filters.device_tag:
        stmt = stmt.where(Device.tag == filters.device_tag.strip().upper())
    return stmt


_DETAIL_KEYS = (
    "reason",
    "condition",
    "needs",
    "status",
    "note",
    "granted_by",
    "revoked_by",
    "until",
    "completed_on",
    "from_store",
    "line_manager",
    "action",
    "summary",
    "to",
    "subject",
    "error",
)
_DETAIL_LABELS = tuple((key, key.replace("_", " ")) for key in _DETAIL_KEYS)


def _detail(details: dict[str, Any] | None) -> str:
    d = details or {}
    if UNREADABLE in d:
        return "UNREADABLE: this event's details cannot be read (kiosk verify names it)"
    parts = [f"{label}: {field_value(d[key])}" for key, label in _DETAIL_LABELS if d.get(key)]
    if d.get("charged"):
        parts.append("charged: yes")
    return "; ".join(parts)


# What a list change shows in the register: the row's identifying and visible fields (a
# policy's text and a setting's value, e.g. the PIN hash, are left out; they are in the event).
_REFERENCE_SHOWN = {
    "staff": ("code", "name", "email", "line_manager", "roles", "retired_at"),
    "stores": ("code", "name", "retired_at"),
    "devices": ("tag", "kind", "description", "retired_at"),
    "policies": ("title", "version", "required"),
    "kiosk_settings": (),
}


def _reference_detail(details: dict[str, Any] | None) -> str:
    d = details or {}
    table, key, row = str(d.get("table", "")), d.get("key"), d.get("row")
    head = f"{table.replace('_', ' ')} {key}"
    if not isinstance(row, dict):
        return f"{head} removed"
    parts = []
    for field in _REFERENCE_SHOWN.get(table, ()):
        value = row.get(field)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "none"
        if value not in (None, ""):
            parts.append(f"{field.replace('_', ' ')}: {field_value(value)}")
    reason = f" ({field_value(d['reason'])})" if d.get("reason") else ""
    return f"{head}{reason}" + (": " + "; ".join(parts) if parts else "")


# The codes the kiosk read from the lists as it recorded an event (``uow.LABEL_KEYS``), and
# how a row of the register names what now holds that row of the list.
_LABELS = (
    ("staff_code", "under the code", "the staff list"),
    ("recorded_by_code", "by the code", "the staff list"),
    ("device_tag", "for the tag", "the device list"),
    ("store_code", "in the store", "the store list"),
)


def _labels_changed(details: Any, *now: str | None) -> str:
    """What the event says was recorded where the list now names its row otherwise
    (``now``: the staff code, the recorder's code, the device's tag and the store's code
    the lists hold today, in ``_LABELS``' order): two codes swapped in the database (the
    kiosks' login, a shell on the file) listed Alice's deposit as Ben Jones's (BJONES), and
    the register filtered by ASMITH listed Ben's as hers. "" when each is as recorded (or
    the event, recorded before the codes were kept, holds none)."""
    if not isinstance(details, dict):
        return ""
    said = []
    for (name, how, where), current in zip(_LABELS, now, strict=True):
        recorded = details.get(name)
        if isinstance(recorded, str) and recorded != current:
            holds = (
                f"{where} has no such row now"
                if current is None
                else f"{where} says {field_value(current)} now"
            )
            said.append(f"recorded {how} {field_value(recorded)} ({holds})")
    return "; ".join(said)


def _row(values: Any, zone: ZoneInfo, kinds: DeviceKinds = DEFAULT_KINDS) -> RegisterRow:
    (
        event_id,
        occurred_at,
        kind,
        staff_id,
        recorded_by_id,
        kiosk,
        due_at,
        target_event_id,
        details,
        who_code,
        who_name,
        by_name,
        store,
        tag,
        device_kind,
        title,
        version,
        void,
        void_id,
        by_code,
        store_code,
    ) = values
    item = item_label(tag, device_kind, store, title, version, kinds)
    detail = (
        _reference_detail(details)
        if kind == EventKind.REFERENCE_CHANGED.value
        else _detail(details)
    )
    relabelled = _labels_changed(details, who_code, by_code, tag, store_code)
    if relabelled:
        detail = (detail + "; " if detail else "") + relabelled
    if due_at is not None:
        due = format_local(due_at, zone, "%a %d %b %Y %H:%M")
        detail = (detail + "; " if detail else "") + f"due: {due}"
    if target_event_id is not None and kind == EventKind.CORRECTION.value:
        detail = f"voids event {target_event_id}: {field_value((details or {}).get('reason', ''))}"
    return RegisterRow(
        event_id=event_id,
        occurred_at=occurred_at,
        kind=kind,
        what=kind_label(kind),
        staff_code=who_code,
        staff_name=who_name,
        item=item,
        recorded_by=by_name if recorded_by_id != staff_id else None,
        kiosk=kiosk,
        detail=detail,
        # Voided by the correction's presence, not its details: one written with none (the
        # kiosks' login) left the event shown as in force while every screen took it as void.
        voided=void_id is not None,
        void_reason=void.get("reason") if isinstance(void, dict) else None,
        target_event_id=target_event_id,
    )


def _time_of(conn: Any, values: Any, near: datetime) -> datetime:
    """An event that could not be read as a row: its own time where that alone can be read
    (another column is what is garbled), else ``near``."""
    if not isinstance(values, Unreadable):
        return near
    try:
        at = conn.scalar(select(Event.occurred_at).where(Event.id == values.event_id))
    except UNREADABLE_ERRORS:
        return near
    return at if isinstance(at, datetime) and at.tzinfo is not None else near


def _row_or_mark(
    values: Any, zone: ZoneInfo, near: datetime, kinds: DeviceKinds = DEFAULT_KINDS
) -> RegisterRow:
    """A row of the register; an event that cannot be read, marked as such, at its own time
    where that was read (``near``, the start of the day or range asked for, where not)."""
    if not isinstance(values, Unreadable):
        try:
            return _row(values, zone, kinds)
        except (*UNREADABLE_ERRORS, AttributeError, KeyError) as exc:
            # Readable columns holding what no event holds (details '[1]'): marked too,
            # at the time read with them (not another one: an export would say it).
            if isinstance(values[1], datetime) and values[1].tzinfo is not None:
                near = values[1]
            values = Unreadable(int(values[0]), f"{type(exc).__name__}: {exc}"[:120])
    return RegisterRow(
        event_id=values.event_id,
        occurred_at=near,
        kind="unreadable",
        what="UNREADABLE ROW",
        staff_code=None,
        staff_name=None,
        item="",
        recorded_by=None,
        kiosk="",
        detail=f"event {values.event_id} cannot be read ({values.reason}); kiosk verify names it",
        voided=False,
    )


class RegisterService(UseCases):
    def day(
        self,
        day: date,
        filters: RegisterFilter | None = None,
        *,
        offset: int = 0,
        limit: int = 500,
    ) -> RegisterPage:
        """One local day's events (23 or 25 hours around the clock changes), filtered in SQL."""
        start, end = local_day_bounds(day, self.ctx.settings.zone)
        stmt = _base(filters or RegisterFilter()).where(
            Event.occurred_at >= start, Event.occurred_at < end
        )
        with self.ctx.read() as session:
            conn = session.connection()
            total = conn.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            page = stmt.order_by(*_TIME_ORDER).offset(offset).limit(limit)
            zone = self.ctx.settings.zone
            kinds = school_events.current_device_kinds(session)
            rows = tuple(
                _row_or_mark(r, zone, _time_of(conn, r, start), kinds)
                for r in read_rows(conn, page, Event.id)
            )
            return RegisterPage(day, rows, total, offset, limit)

    def rows_between(
        self, first: date, last: date, filters: RegisterFilter | None = None
    ) -> Iterator[RegisterRow]:
        """Every event from ``first`` to ``last`` inclusive (local days), streamed."""
        if last < first:
            raise InvalidInput("The end date is before the start date.")
        start, _ = local_day_bounds(first, self.ctx.settings.zone)
        _, end = local_day_bounds(last, self.ctx.settings.zone)
        stmt = _base(filters or RegisterFilter()).where(
            Event.occurred_at >= start, Event.occurred_at < end
        )
        zone = self.ctx.settings.zone
        with self.ctx.read() as session:
            kinds = school_events.current_device_kinds(session)
            ordered = stmt.order_by(*_TIME_ORDER)
            conn = session.connection()
            for values in read_rows(conn, ordered, Event.id, yield_per=2000):
                yield _row_or_mark(values, zone, _time_of(conn, values, start), kinds)

    def export_csv(
        self,
        out: TextIO,
        first: date,
        last: date | None = None,
        filters: RegisterFilter | None = None,
    ) -> int:
        """Write the register as CSV (spreadsheet-safe). Returns the number of rows."""
        zone = self.ctx.settings.zone
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        count = 0
        for row in self.rows_between(first, last or first, filters):
            writer.writerow(
                [
                    row.event_id,
                    format_local(row.occurred_at, zone, "%Y-%m-%d %H:%M:%S"),  # 01:30 BST/GMT
                    row.occurred_at.isoformat(),
                    *(
                        neutralise(v)  # every text cell: a kind rewritten in the database too
                        for v in (
                            row.what,
                            row.kind,
                            row.staff_code,
                            row.staff_name,
                            row.item,
                            row.detail,
                            row.recorded_by,
                            row.kiosk,
                        )
                    ),
                    "yes" if row.voided else "",
                    neutralise(row.void_reason),
                ]
            )
            count += 1
        return count

    def void(self, event_id: int, *, reason: str, admin_code: str) -> EventReceipt:
        """Correct a mistake: a new event voids the old one, which stays in the register."""
        reason = check_typed_line(reason, "reason")
        if not reason:
            raise InvalidInput("Please give the reason for the correction.")
        with self.ctx.write() as uow:
            return _void(uow.session, uow, event_id, reason, admin_code, Role.ADMIN)

    def undo(self, event_id: int, *, recorded_by: str) -> EventReceipt:
        """'Undo last' in breakfast-club mode: void an event the same person just recorded."""
        with self.ctx.write() as uow:
            target = state.get_event(uow.session, event_id)
            by = state.get_staff_info(uow.session, recorded_by)
            if target.recorded_by_id != by.id:
                raise RuleViolation("You can only undo what you recorded yourself.")
            return _void(uow.session, uow, event_id, "undone at the kiosk", recorded_by, None)

    def last_event_id(self) -> int:
        """The newest event's id (0 when there is none): events are append-only, so a
        register on screen is up to date while this has not changed."""
        with self.ctx.read() as session:
            return int(session.scalar(select(func.max(Event.id))) or 0)

    def event_time(self, event_id: int) -> datetime:
        with self.ctx.read() as session:
            return state.get_event(session, event_id).occurred_at


def _void(
    session: Session, uow: Any, event_id: int, reason: str, actor_code: str, role: Role | None
) -> EventReceipt:
    actor = state.get_staff_info(session, actor_code)
    if role is not None and not actor.has_role(role.value):
        raise RuleViolation(f"{actor.name} is not an admin: only admins can correct the register.")
    target = state.get_event(session, event_id)
    refused = not_correctable_message(target.kind, target.id)
    if refused is not None:
        raise RuleViolation(refused)
    if state.is_voided(session, event_id):
        raise RuleViolation(f"Event {event_id} has already been voided.")
    event = uow.record(
        EventKind.CORRECTION,
        staff_id=target.staff_id,
        recorded_by_id=actor.id,
        target_event_id=target.id,
        details={"reason": reason[:500], "voided_kind": target.kind},
    )
    return receipt(event, None, f"{kind_label(target.kind)} (event {event_id}) voided")
