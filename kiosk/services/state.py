"""Lookups and derived state, shared by the use cases. Internal: works on a Session.

State is never stored: it is the latest event of a stream (a person's phone, a device)
that no correction has voided. The indexes on ``events`` make each of these a short
backwards index scan, so they stay fast with millions of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from kiosk.db.models import Device, Event, Policy, Staff, StaffRole, Store
from kiosk.domain.errors import NotFound, RuleViolation
from kiosk.domain.events import DeviceKind, EventKind, ReviewStatus
from kiosk.domain.rules import REGULAR_USE_WINDOW
from kiosk.domain.scan import normalise_code
from kiosk.services.views import (
    DeviceInfo,
    Exemption,
    OffsiteItem,
    PhoneHolding,
    PolicyInfo,
    ReviewRequest,
    StaffInfo,
    StoreInfo,
)

_Correction = aliased(Event, name="correction")


def not_voided(event: type[Event] | Any = Event) -> ColumnElement[bool]:
    """No correction event voids ``event``."""
    return ~exists().where(
        _Correction.kind == EventKind.CORRECTION.value,
        _Correction.target_event_id == event.id,
    )


# --- conversions -----------------------------------------------------------------------


def roles_of(session: Session, staff_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    ids = list(set(staff_ids))
    found: dict[int, set[str]] = defaultdict(set)
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for staff_id, role in session.execute(
            select(StaffRole.staff_id, StaffRole.role).where(StaffRole.staff_id.in_(chunk))
        ):
            found[staff_id].add(role)
    return {i: frozenset(found.get(i, ())) for i in ids}


def staff_info(staff: Staff, roles: frozenset[str]) -> StaffInfo:
    return StaffInfo(
        id=staff.id,
        code=staff.code,
        name=staff.name,
        email=staff.email,
        line_manager=staff.line_manager,
        roles=roles,
        retired=staff.retired_at is not None,
    )


def staff_infos(session: Session, people: Sequence[Staff]) -> dict[int, StaffInfo]:
    roles = roles_of(session, (p.id for p in people))
    return {p.id: staff_info(p, roles[p.id]) for p in people}


def store_info(store: Store) -> StoreInfo:
    return StoreInfo(store.id, store.code, store.name, store.retired_at is not None)


def device_info(device: Device) -> DeviceInfo:
    return DeviceInfo(
        device.id, device.tag, device.kind, device.description, device.retired_at is not None
    )


def policy_info(policy: Policy) -> PolicyInfo:
    return PolicyInfo(
        policy.id, policy.title, policy.version, policy.sha256, policy.required, policy.published_at
    )


# --- lookups ---------------------------------------------------------------------------


def get_staff(session: Session, code: str, *, active: bool = True) -> Staff:
    code = normalise_code(code)
    staff = session.scalar(select(Staff).where(Staff.code == code))
    if staff is None:
        raise NotFound(
            f"No member of staff has the code {code}. Check the badge or ask the office."
        )
    if active and staff.retired_at is not None:
        raise RuleViolation(f"{staff.name} ({code}) has left the school: this badge is retired.")
    return staff


def get_staff_info(session: Session, code: str, *, active: bool = True) -> StaffInfo:
    staff = get_staff(session, code, active=active)
    return staff_info(staff, roles_of(session, [staff.id])[staff.id])


def get_device(session: Session, tag: str, *, active: bool = True) -> Device:
    tag = normalise_code(tag)
    device = session.scalar(select(Device).where(Device.tag == tag))
    if device is None:
        raise NotFound(f"No laptop or work phone has the tag {tag}. Check the label.")
    if active and device.retired_at is not None:
        raise RuleViolation(f"{tag} has been retired and cannot be signed out or in.")
    return device


def get_store(session: Session, code: str) -> Store:
    code = normalise_code(code)
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None or store.retired_at is not None:
        raise NotFound(f"There is no phone store called {code}.")
    return store


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"There is no event number {event_id}.")
    return event


def is_voided(session: Session, event_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Event.kind == EventKind.CORRECTION.value, Event.target_event_id == event_id
                )
            )
        )
    )


# --- streams ---------------------------------------------------------------------------


def _latest(stmt: Select[tuple[Event]]) -> Select[tuple[Event]]:
    return stmt.where(not_voided()).order_by(Event.id.desc()).limit(1)


def phone_event(session: Session, staff_id: int) -> Event | None:
    """The latest non-voided phone event of one person."""
    return session.scalar(
        _latest(select(Event).where(Event.staff_id == staff_id, Event.category == "phone"))
    )


def phone_holding(session: Session, staff: StaffInfo) -> PhoneHolding | None:
    event = phone_event(session, staff.id)
    if event is None or event.kind == EventKind.PHONE_COLLECTED.value or event.store_id is None:
        return None
    store = session.get_one(Store, event.store_id)
    by = _names(session, {event.recorded_by_id}) if event.recorded_by_id else {}
    return PhoneHolding(
        staff,
        store_info(store),
        event.occurred_at,
        event.id,
        recorded_by=by.get(event.recorded_by_id or -1),
    )


def phones_now(session: Session) -> list[PhoneHolding]:
    """Every phone in a store now: one short index scan per member of staff."""
    latest_id = (
        select(Event.id)
        .where(Event.staff_id == Staff.id, Event.category == "phone", not_voided())
        .order_by(Event.id.desc())
        .limit(1)
        .correlate(Staff)
        .scalar_subquery()
    )
    ids = [i for i in session.scalars(select(latest_id).select_from(Staff)) if i is not None]
    if not ids:
        return []
    rows = session.execute(
        select(Event, Staff, Store)
        .join(Staff, Staff.id == Event.staff_id)
        .join(Store, Store.id == Event.store_id)
        .where(Event.id.in_(ids), Event.kind != EventKind.PHONE_COLLECTED.value)
        .order_by(Store.id, Event.occurred_at)
    ).all()
    people = staff_infos(session, [staff for _, staff, _ in rows])
    recorders = _names(session, {e.recorded_by_id for e, _, _ in rows if e.recorded_by_id})
    return [
        PhoneHolding(
            people[staff.id],
            store_info(store),
            event.occurred_at,
            event.id,
            recorded_by=recorders.get(event.recorded_by_id or -1),
        )
        for event, staff, store in rows
    ]


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    return {staff_id: name for staff_id, name in rows}


def device_event(session: Session, device_id: int) -> Event | None:
    return session.scalar(_latest(select(Event).where(Event.device_id == device_id)))


def _offsite_from(
    session: Session, device: Device, event: Event | None, now: datetime
) -> OffsiteItem | None:
    if event is None or event.kind == EventKind.DEVICE_RETURNED.value:
        return None
    sign_out = event
    if event.kind == EventKind.RETURN_EXTENDED.value:
        if event.target_event_id is None or is_voided(session, event.target_event_id):
            return None
        sign_out = get_event(session, event.target_event_id)
    assert sign_out.staff_id is not None and event.due_at is not None
    staff = session.get_one(Staff, sign_out.staff_id)
    person = staff_info(staff, roles_of(session, [staff.id])[staff.id])
    return OffsiteItem(
        device=device_info(device),
        staff=person,
        since=sign_out.occurred_at,
        reason=str(sign_out.details.get("reason", "")),
        expected_return=event.due_at,
        overdue=now > event.due_at,
        event_id=sign_out.id,
        batch=sign_out.batch,
        line_manager=sign_out.details.get("line_manager"),
    )


def device_offsite(session: Session, device: Device, now: datetime) -> OffsiteItem | None:
    return _offsite_from(session, device, device_event(session, device.id), now)


def offsite_now(session: Session, now: datetime, staff_id: int | None = None) -> list[OffsiteItem]:
    """Devices off site now, overdue first, then by expected return."""
    latest_id = (
        select(Event.id)
        .where(Event.device_id == Device.id, not_voided())
        .order_by(Event.id.desc())
        .limit(1)
        .correlate(Device)
        .scalar_subquery()
    )
    pairs = session.execute(select(Device, latest_id)).all()
    ids = [event_id for _, event_id in pairs if event_id is not None]
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))}
    items = []
    for device, event_id in pairs:
        item = _offsite_from(session, device, events.get(event_id), now) if event_id else None
        if item is not None and (staff_id is None or item.staff.id == staff_id):
            items.append(item)
    items.sort(key=lambda i: (not i.overdue, i.expected_return, i.device.tag))
    return items


# --- policies --------------------------------------------------------------------------


def current_policies(session: Session) -> list[Policy]:
    """The newest published version of each policy title."""
    newest = select(func.max(Policy.id)).group_by(Policy.title).scalar_subquery()
    return list(session.scalars(select(Policy).where(Policy.id.in_(newest)).order_by(Policy.id)))


def acknowledged_pairs(session: Session, policy_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(policy_id, staff_id) for every non-voided acknowledgement of these versions."""
    if not policy_ids:
        return set()
    rows = session.execute(
        select(Event.policy_id, Event.staff_id).where(
            Event.kind == EventKind.POLICY_ACKNOWLEDGED.value,
            Event.policy_id.in_(policy_ids),
            not_voided(),
        )
    ).all()
    return {(p, s) for p, s in rows if p is not None and s is not None}


def outstanding_policies(session: Session, staff_id: int) -> list[PolicyInfo]:
    required = [p for p in current_policies(session) if p.required]
    done = acknowledged_pairs(session, [p.id for p in required])
    return [policy_info(p) for p in required if (p.id, staff_id) not in done]


# --- VDU, exemptions, reviews ------------------------------------------------------------


def vdu_trained_on(session: Session, staff_id: int) -> date | None:
    event = session.scalar(
        _latest(select(Event).where(Event.staff_id == staff_id, Event.category == "vdu"))
    )
    if event is None:
        return None
    return date.fromisoformat(str(event.details["completed_on"]))


def vdu_trained_ids(session: Session) -> set[int]:
    rows = session.scalars(
        select(Event.staff_id).where(
            Event.kind == EventKind.VDU_TRAINING_DECLARED.value, not_voided()
        )
    )
    return {i for i in rows if i is not None}


def exemption_of(session: Session, staff: StaffInfo, today: date) -> Exemption | None:
    event = session.scalar(
        _latest(select(Event).where(Event.staff_id == staff.id, Event.category == "exemption"))
    )
    if event is None or event.kind != EventKind.EXEMPTION_GRANTED.value:
        return None
    until = date.fromisoformat(str(event.details["until"]))
    if until < today:
        return None
    return Exemption(staff, str(event.details.get("granted_by", "")), until, event.id)


def review_requests(
    session: Session, *, staff_id: int | None = None, open_only: bool = True
) -> list[ReviewRequest]:
    request = aliased(Event, name="request")
    stmt = select(request).where(
        request.kind == EventKind.WORKSTATION_REVIEW_REQUESTED.value, not_voided(request)
    )
    if staff_id is not None:
        stmt = stmt.where(request.staff_id == staff_id)
    requests = list(session.scalars(stmt.order_by(request.id)))
    if not requests:
        return []
    updates: dict[int, Event] = {}
    for change in session.scalars(
        select(Event)
        .where(
            Event.kind == EventKind.WORKSTATION_REVIEW_UPDATED.value,
            Event.target_event_id.in_([r.id for r in requests]),
            not_voided(),
        )
        .order_by(Event.id)
    ):
        assert change.target_event_id is not None
        updates[change.target_event_id] = change
    people = staff_infos(
        session,
        list(session.scalars(select(Staff).where(Staff.id.in_({r.staff_id for r in requests})))),
    )
    result = []
    for req in requests:
        update = updates.get(req.id)
        status = str(update.details["status"]) if update else ReviewStatus.OPEN.value
        if open_only and status == ReviewStatus.DONE.value:
            continue
        assert req.staff_id is not None
        result.append(
            ReviewRequest(
                event_id=req.id,
                staff=people[req.staff_id],
                requested_at=req.occurred_at,
                needs=str(req.details.get("needs", "")),
                status=status,
                note=str(update.details.get("note") or "") or None if update else None,
            )
        )
    return result


# --- regular use -----------------------------------------------------------------------


def recent_laptop_sign_outs(session: Session, staff_id: int, now: datetime) -> int:
    """Laptop sign-outs (not voided) by this person in the last 28 days."""
    since = now - REGULAR_USE_WINDOW
    return int(
        session.scalar(
            select(func.count(func.distinct(Event.batch)))
            .join(Device, Device.id == Event.device_id)
            .where(
                Event.staff_id == staff_id,
                Event.category == "device",
                Event.kind == EventKind.DEVICE_SIGNED_OUT.value,
                Event.occurred_at >= since,
                Device.kind == DeviceKind.LAPTOP.value,
                not_voided(),
            )
        )
        or 0
    )


def sign_out_times(session: Session, since: datetime) -> list[tuple[int, datetime, str | None]]:
    """(staff_id, occurred_at, batch) of every non-voided sign-out since ``since``."""
    rows = session.execute(
        select(Event.staff_id, Event.occurred_at, Event.batch).where(
            Event.kind == EventKind.DEVICE_SIGNED_OUT.value,
            Event.occurred_at >= since,
            not_voided(),
        )
    ).all()
    return [(s, at, b) for s, at, b in rows if s is not None]


def weeks_ago(now: datetime, weeks: int) -> datetime:
    return (now - timedelta(weeks=weeks)).astimezone(UTC)
