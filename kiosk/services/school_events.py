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
from kiosk.domain.devicekinds import DeviceKinds
from kiosk.domain.events import EventKind


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


def current_calendar(session: Session) -> SchoolCalendar:
    return SchoolCalendar.from_details(latest_details(session, EventKind.CALENDAR_SET))


def current_device_kinds(session: Session) -> DeviceKinds:
    return DeviceKinds.from_details(latest_details(session, EventKind.DEVICE_KINDS_SET))
