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
from kiosk.domain.errors import RuleViolation
from kiosk.domain.events import EventKind
from kiosk.services.integrity import is_recorded_by_kiosk, stored_events
from kiosk.services.uow import first_mac_id, old_events


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


# The newest events of a kind looked at for one the kiosk recorded, at most (as
# ``integrity.LAST_ANCHOR_CANDIDATES``): each is a hash and an HMAC, and a pile appended
# without the key must not make each change slow. The office sets these a few times a year.
RECORDED_CANDIDATES = 500


def latest_recorded(
    session: Session, kind: EventKind, key: bytes
) -> tuple[int, dict[str, Any]] | None:
    """The id and details of the newest event of ``kind`` recorded by the kiosk
    (``integrity.is_recorded_by_kiosk`` with ``key``, the school's: its hash and MAC, or the
    old format before the first event with a MAC, as verify's walk takes it), or None.

    What an admin's change builds on and what the purge carries over: one appended by a
    login or a shell without the key (work phones no longer "charged and ready") was carried
    into the admin's change, under the key; and one set by a school before it upgraded (no
    MAC) must count, or adding a kind dropped the school's own kinds."""
    old = old_events(session)
    looked = 0
    for row in stored_events(
        session,
        (kind.value,),
        newest_first=True,
        from_table=True,
        limit=RECORDED_CANDIDATES,
        # One without a MAC after the first with one is never the kiosk's: passed over in
        # SQL, a pile of them appended by the kiosks' login hides nothing behind it.
        keyed_or_before=first_mac_id(session),
    ):
        looked += 1
        if not is_recorded_by_kiosk(row, key, old):
            continue  # not the kiosk's: verify names it
        try:
            return int(row["id"]), details_of(row["details"])
        except UnreadableEvent:  # (an event the kiosk recorded always reads)
            continue
    if looked >= RECORDED_CANDIDATES:
        # None of the newest with a MAC is the kiosk's (a pile with MACs not made with the
        # school key): not "none was ever set". The office's change built on the built-in
        # kinds (the school's own dropped, under the key, as the admin's), and the purge
        # carried nothing over.
        raise RuleViolation(
            f"Nothing was changed: the newest {RECORDED_CANDIDATES} events setting the "
            f"{_SETTING_NAMES.get(kind, kind.value)} were all written into the database "
            "without the school key (`kiosk verify` names them), and any the kiosk recorded "
            "is behind them. The register keeps every event, so they stay: tell whoever "
            "looks after the database to restore the latest backup from before them."
        )
    return None


_SETTING_NAMES = {
    EventKind.DEVICE_KINDS_SET: "kinds of device",
    EventKind.CALENDAR_SET: "school calendar",
}


def current_calendar(session: Session) -> SchoolCalendar:
    return SchoolCalendar.from_details(latest_details(session, EventKind.CALENDAR_SET))


def current_device_kinds(session: Session) -> DeviceKinds:
    return DeviceKinds.from_details(latest_details(session, EventKind.DEVICE_KINDS_SET))
