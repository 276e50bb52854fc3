"""School-defined data kept as events (no tables): the school calendar and the device kinds.

The value in force is the details of the newest event of its kind (``calendar_set``,
``device_kinds_set``; newest in the chain, not by its date), so it is under the hash chain
like everything else, and a change is a new event that the register shows. One short index
scan (``ix_events_kind_time``, its few rows sorted by id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Event
from kiosk.domain.calendar import SchoolCalendar
from kiosk.domain.chain import UnreadableEvent, details_of
from kiosk.domain.devicekinds import DeviceKinds
from kiosk.domain.events import EventKind
from kiosk.services.integrity import seal_fault, stored_events


def latest_event(session: Session, kind: EventKind) -> tuple[int, Any] | None:
    """The id and details of the event of ``kind`` in force (the newest), or None.

    The newest in the chain, as every stream: by its date, one appended without the school
    key and dated 2999 was in force for good, whatever the office recorded after it."""
    row = session.execute(
        select(Event.id, Event.details)
        .where(Event.kind == kind.value)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def latest_details(session: Session, kind: EventKind) -> dict[str, Any] | None:
    found = latest_event(session, kind)
    if found is None:
        return None
    details = found[1]
    return details if isinstance(details, dict) else None


def latest_sealed_details(session: Session, kind: EventKind, key: bytes) -> dict[str, Any] | None:
    """The details of the newest event of ``kind`` the kiosk recorded: its hash recomputed and
    its MAC the school key's (``key``), as the notices and the last check are read. What an
    admin's change builds on: one appended by a login or a shell without the key (work
    phones no longer "charged and ready") was carried into the admin's change, under the
    key, and stayed in force once verify had named it and the office had moved on."""
    for row in stored_events(session, (kind.value,), newest_first=True, from_table=True):
        if seal_fault(row, key) is not None:
            continue  # not the kiosk's: verify names it
        try:
            return details_of(row["details"])
        except UnreadableEvent:  # (a sealed event always reads)
            continue
    return None


def current_calendar(session: Session) -> SchoolCalendar:
    return SchoolCalendar.from_details(latest_details(session, EventKind.CALENDAR_SET))


def current_device_kinds(session: Session) -> DeviceKinds:
    return DeviceKinds.from_details(latest_details(session, EventKind.DEVICE_KINDS_SET))
