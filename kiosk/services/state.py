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

from sqlalchemy import ColumnElement, FromClause, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased

from kiosk.db.models import Device, Event, Policy, Staff, StaffRole, Store
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
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
    StaffStatus,
    StoreInfo,
)


def not_voided(event: type[Event] | Any = Event) -> ColumnElement[bool]:
    """No correction event voids ``event``: the Event entity, an ``aliased()`` of it, or an
    alias of the events table (the Core statements of ``staff_status``)."""
    correction = Event.__table__.alias("correction")
    ident = event.c.id if isinstance(event, FromClause) else event.id
    return ~exists().where(
        correction.c.kind == EventKind.CORRECTION.value,
        correction.c.target_event_id == ident,
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


def staff_info(staff: Staff | Any, roles: frozenset[str]) -> StaffInfo:
    """A person as the use cases hand them out: from a Staff or a Core row of its columns."""
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


def device_info(device: Device, kinds: DeviceKinds = DEFAULT_KINDS) -> DeviceInfo:
    return device_info_of(
        device.id, device.tag, device.kind, device.description, device.retired_at, kinds
    )


def device_info_of(
    ident: int,
    tag: str,
    kind: str,
    description: str,
    retired_at: datetime | None,
    kinds: DeviceKinds = DEFAULT_KINDS,
) -> DeviceInfo:
    """A device's info, with its kind's label and rules from ``kinds`` (the school's, where
    the caller has read them; the built-in ones otherwise)."""
    definition = kinds.get(kind)
    return DeviceInfo(
        ident,
        tag,
        kind,
        description,
        retired_at is not None,
        label=kinds.label(kind),
        needs_charged=definition is not None and definition.needs_charged,
    )


def policy_info(policy: Policy) -> PolicyInfo:
    return PolicyInfo(
        policy.id, policy.title, policy.version, policy.sha256, policy.required, policy.published_at
    )


# --- lookups ---------------------------------------------------------------------------


def _no_such_staff(code: str) -> NotFound:
    return NotFound(f"No member of staff has the code {code}. Check the badge or ask the office.")


def _retired_badge(name: str, code: str) -> RuleViolation:
    return RuleViolation(f"{name} ({code}) has left the school: this badge is retired.")


def get_staff(session: Session, code: str, *, active: bool = True) -> Staff:
    code = normalise_code(code)
    staff = session.scalar(select(Staff).where(Staff.code == code))
    if staff is None:
        raise _no_such_staff(code)
    if active and staff.retired_at is not None:
        raise _retired_badge(staff.name, code)
    return staff


def get_staff_info(session: Session, code: str, *, active: bool = True) -> StaffInfo:
    """The person with this code (as ``get_staff`` finds them), from one Core statement:
    every use case starts with it."""
    code = normalise_code(code)
    session.flush()  # a person added in this transaction is found too (a no-op when clean)
    found = find_staff(session, code)
    if found is None:
        raise _no_such_staff(code)
    person, roles = found
    if active and person.retired_at is not None:
        raise _retired_badge(person.name, code)
    return staff_info(person, roles)


def get_device(session: Session, tag: str, *, active: bool = True) -> Device:
    tag = normalise_code(tag)
    device = session.scalar(select(Device).where(Device.tag == tag))
    if device is None:
        raise NotFound(f"No laptop or work phone has the tag {tag}. Check the label.")
    if active and device.retired_at is not None:
        raise RuleViolation(f"{tag} has been retired and cannot be signed out or in.")
    return device


def get_store(session: Session, code: str) -> StoreInfo:
    """A phone store in use, by its code."""
    code = normalise_code(code)
    store = session.connection().execute(_STORE_BY_CODE, {"code": code}).first()
    if store is None or store.retired_at is not None:
        raise NotFound(f"There is no phone store called {code}.")
    return StoreInfo(store.id, store.code, store.name, retired=False)


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


def phone_holding(session: Session, staff: StaffInfo) -> PhoneHolding | None:
    """Where this person's phone is now (None: not in a store), from one Core statement."""
    event = session.connection().execute(_PHONE_NOW, {"staff_id": staff.id}).first()
    return None if event is None else _phone_held(staff, event)


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
    staff = session.get(Staff, sign_out.staff_id)
    if staff is None:  # the person's row was removed or renumbered around the kiosk
        person = StaffInfo(
            sign_out.staff_id,
            "?",
            f"(staff {sign_out.staff_id}: not on the list)",
            None,
            None,
            frozenset(),
            retired=True,
        )
    else:
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


def acknowledged_pairs(
    session: Session, policy_ids: Sequence[int], staff_id: int | None = None
) -> set[tuple[int, int]]:
    """(policy_id, staff_id) for every non-voided acknowledgement of these versions (of one
    person's only, when ``staff_id`` is given: a short search of ix_events_policy_staff
    instead of every acknowledgement of the versions)."""
    if not policy_ids:
        return set()
    stmt = select(Event.policy_id, Event.staff_id).where(
        Event.kind == EventKind.POLICY_ACKNOWLEDGED.value,
        Event.policy_id.in_(policy_ids),
        not_voided(),
    )
    if staff_id is not None:
        stmt = stmt.where(Event.staff_id == staff_id)
    rows = session.execute(stmt).all()
    return {(p, s) for p, s in rows if p is not None and s is not None}


def outstanding_policies(session: Session, staff_id: int) -> list[PolicyInfo]:
    required = [p for p in current_policies(session) if p.required]
    done = acknowledged_pairs(session, [p.id for p in required], staff_id)
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
        # With the category, one person's requests are a short search of
        # ix_events_staff_stream (staff_id, category) instead of all their events.
        stmt = stmt.where(
            request.staff_id == staff_id,
            request.category == EventKind.WORKSTATION_REVIEW_REQUESTED.category,
        )
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


def recent_laptop_sign_outs(
    session: Session,
    staff_id: int,
    now: datetime,
    kinds: Sequence[str] = (DeviceKind.LAPTOP.value,),
) -> int:
    """Sign-outs (not voided) of the given kinds (laptops; those with the regular-use rule)
    by this person in the last 28 days."""
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
                Device.kind.in_(list(kinds)),
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


# --- one person's status, for the kiosk's person screen ----------------------------------
#
# A badge scan shows the person's screen, so this is on the kiosk's critical path. Plain
# Core statements, built once (no ORM objects loaded, no statement built per call), and few
# round trips: the person with their roles; the latest phone, VDU and exemption events (with
# the phone's store and who logged it) in one; the current required policies with whether
# they have acknowledged each; their open review requests; the devices off site.

_staff_t = Staff.__table__
_roles_t = StaffRole.__table__
_stores_t = Store.__table__
_devices_t = Device.__table__
_policies_t = Policy.__table__
_events_t = Event.__table__
_recorder_t = _staff_t.alias("recorder")


def _latest_in_category(category: str) -> Any:
    stream = _events_t.alias(f"latest_{category}")
    return (
        select(stream.c.id)
        .where(
            stream.c.staff_id == bindparam("staff_id"),
            stream.c.category == category,
            not_voided(stream),
        )
        .order_by(stream.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_STAFF_BY_CODE = (
    select(
        _staff_t.c.id,
        _staff_t.c.code,
        _staff_t.c.name,
        _staff_t.c.email,
        _staff_t.c.line_manager,
        _staff_t.c.retired_at,
        _roles_t.c.role,
    )
    .select_from(_staff_t.outerjoin(_roles_t, _roles_t.c.staff_id == _staff_t.c.id))
    .where(_staff_t.c.code == bindparam("code"))
)

# A stream's event with its store and who recorded it: what a person's screen shows of it.
_stream_event = select(
    _events_t.c.id,
    _events_t.c.kind,
    _events_t.c.category,
    _events_t.c.occurred_at,
    _events_t.c.store_id,
    _events_t.c.recorded_by_id,
    _events_t.c.details,
    _stores_t.c.code,
    _stores_t.c.name,
    _stores_t.c.retired_at,
    _recorder_t.c.name.label("recorder"),
).select_from(
    _events_t.outerjoin(_stores_t, _stores_t.c.id == _events_t.c.store_id).outerjoin(
        _recorder_t, _recorder_t.c.id == _events_t.c.recorded_by_id
    )
)
_LATEST_STREAMS = _stream_event.where(
    _events_t.c.id.in_(
        [
            _latest_in_category("phone"),
            _latest_in_category("vdu"),
            _latest_in_category("exemption"),
        ]
    )
)
_PHONE_NOW = _stream_event.where(_events_t.c.id == _latest_in_category("phone"))


def _phone_held(staff: StaffInfo, event: Any) -> PhoneHolding | None:
    """Where the phone is after ``event`` (a row of ``_stream_event``): None when collected."""
    if event.kind == EventKind.PHONE_COLLECTED.value or event.store_id is None:
        return None
    store = StoreInfo(event.store_id, event.code, event.name, event.retired_at is not None)
    return PhoneHolding(staff, store, event.occurred_at, event.id, recorded_by=event.recorder)


_STORE_BY_CODE = select(
    _stores_t.c.id, _stores_t.c.code, _stores_t.c.name, _stores_t.c.retired_at
).where(_stores_t.c.code == bindparam("code"))

_newest_versions = select(func.max(_policies_t.c.id)).group_by(_policies_t.c.title)
_ack = _events_t.alias("ack")
_POLICIES_TO_READ = (
    select(
        _policies_t.c.id,
        _policies_t.c.title,
        _policies_t.c.version,
        _policies_t.c.sha256,
        _policies_t.c.required,
        _policies_t.c.published_at,
    )
    .where(
        _policies_t.c.id.in_(_newest_versions.scalar_subquery()),
        _policies_t.c.required.is_(True),
        ~exists().where(
            _ack.c.kind == EventKind.POLICY_ACKNOWLEDGED.value,
            _ack.c.policy_id == _policies_t.c.id,
            _ack.c.staff_id == bindparam("staff_id"),
            not_voided(_ack),
        ),
    )
    .order_by(_policies_t.c.id)
)

_review_t = _events_t.alias("request")
_REVIEW_REQUESTS = (
    select(_review_t.c.id, _review_t.c.occurred_at, _review_t.c.details)
    .where(
        _review_t.c.staff_id == bindparam("staff_id"),
        _review_t.c.category == EventKind.WORKSTATION_REVIEW_REQUESTED.category,
        _review_t.c.kind == EventKind.WORKSTATION_REVIEW_REQUESTED.value,
        not_voided(_review_t),
    )
    .order_by(_review_t.c.id)
)
_update_t = _events_t.alias("review_update")
_REVIEW_UPDATES = (
    select(_update_t.c.target_event_id, _update_t.c.details)
    .where(
        _update_t.c.kind == EventKind.WORKSTATION_REVIEW_UPDATED.value,
        _update_t.c.target_event_id.in_(bindparam("request_ids", expanding=True)),
        not_voided(_update_t),
    )
    .order_by(_update_t.c.id)
)

_device_latest = _events_t.alias("device_latest")
_latest_device_event = (
    select(_device_latest.c.id)
    .where(_device_latest.c.device_id == _devices_t.c.id, not_voided(_device_latest))
    .order_by(_device_latest.c.id.desc())
    .limit(1)
    .correlate(_devices_t)
    .scalar_subquery()
)
_DEVICES_OUT = (
    select(
        _devices_t.c.id,
        _devices_t.c.tag,
        _devices_t.c.kind,
        _devices_t.c.description,
        _devices_t.c.retired_at,
        _events_t.c.id,
        _events_t.c.kind,
        _events_t.c.staff_id,
        _events_t.c.occurred_at,
        _events_t.c.target_event_id,
        _events_t.c.due_at,
        _events_t.c.batch,
        _events_t.c.details,
    )
    .select_from(_devices_t.join(_events_t, _events_t.c.id == _latest_device_event))
    .where(_events_t.c.kind != EventKind.DEVICE_RETURNED.value)
    .order_by(_devices_t.c.id)
)
_SIGN_OUT = select(
    _events_t.c.id,
    _events_t.c.staff_id,
    _events_t.c.occurred_at,
    _events_t.c.batch,
    _events_t.c.details,
).where(_events_t.c.id == bindparam("event_id"), not_voided(_events_t))


def find_staff(session: Session, code: str) -> tuple[Any, frozenset[str]] | None:
    """The staff row with this (normalised) code and their roles; None when there is none."""
    rows = session.connection().execute(_STAFF_BY_CODE, {"code": code}).all()
    if not rows:
        return None
    return rows[0], frozenset(row.role for row in rows if row.role is not None)


def staff_status(
    session: Session, code: str, now: datetime, today: date, *, row: Any = None
) -> StaffStatus:
    """Everything a person's screen shows (as ``get_staff_info`` and the stream lookups
    above would give it), in a few cheap statements. ``row``: what ``find_staff`` gave."""
    code = normalise_code(code)
    found = row if row is not None else find_staff(session, code)
    if found is None:
        raise _no_such_staff(code)
    person, roles = found
    if person.retired_at is not None:
        raise _retired_badge(person.name, code)
    staff = staff_info(person, roles)
    conn = session.connection()
    params = {"staff_id": staff.id}
    phone: PhoneHolding | None = None
    vdu: date | None = None
    exemption: Exemption | None = None
    for event in conn.execute(_LATEST_STREAMS, params):
        ident, kind, category, details = event.id, event.kind, event.category, event.details
        if category == "phone":
            phone = _phone_held(staff, event)
        elif category == "vdu":
            vdu = date.fromisoformat(str(details["completed_on"]))
        elif category == "exemption" and kind == EventKind.EXEMPTION_GRANTED.value:
            until = date.fromisoformat(str(details["until"]))
            if until >= today:
                exemption = Exemption(staff, str(details.get("granted_by", "")), until, ident)
    policies = tuple(
        PolicyInfo(p.id, p.title, p.version, p.sha256, p.required, p.published_at)
        for p in conn.execute(_POLICIES_TO_READ, params)
    )
    return StaffStatus(
        staff=staff,
        phone=phone,
        offsite=tuple(_offsite_of(conn, staff, now)),
        outstanding_policies=policies,
        vdu_trained_on=vdu,
        exemption=exemption,
        open_reviews=tuple(_open_reviews_of(conn, staff)),
    )


def _open_reviews_of(conn: Any, staff: StaffInfo) -> list[ReviewRequest]:
    """What ``review_requests(session, staff_id=staff.id)`` gives, from Core rows."""
    requests = conn.execute(_REVIEW_REQUESTS, {"staff_id": staff.id}).all()
    if not requests:
        return []
    updates: dict[int, dict[str, Any]] = {}
    ids = [request.id for request in requests]
    for target_id, details in conn.execute(_REVIEW_UPDATES, {"request_ids": ids}):
        updates[target_id] = details
    result = []
    for ident, requested_at, details in requests:
        update = updates.get(ident)
        status = str(update["status"]) if update else ReviewStatus.OPEN.value
        if status == ReviewStatus.DONE.value:
            continue
        result.append(
            ReviewRequest(
                event_id=ident,
                staff=staff,
                requested_at=requested_at,
                needs=str(details.get("needs", "")),
                status=status,
                note=str(update.get("note") or "") or None if update else None,
            )
        )
    return result


def _offsite_of(conn: Any, staff: StaffInfo, now: datetime) -> list[OffsiteItem]:
    """What ``offsite_now(session, now, staff_id=staff.id)`` gives, from Core rows."""
    items = []
    for row in conn.execute(_DEVICES_OUT):
        (device_id, tag, device_kind, description, retired_at) = row[:5]
        (event_id, kind, staff_id, occurred_at, target_id, due_at, batch, details) = row[5:]
        if kind == EventKind.RETURN_EXTENDED.value:
            if target_id is None:
                continue
            sign_out = conn.execute(_SIGN_OUT, {"event_id": target_id}).first()
            if sign_out is None:  # voided (or missing: get_event would refuse it)
                continue
            event_id, staff_id, occurred_at, batch, details = sign_out
        if staff_id != staff.id:
            continue
        assert due_at is not None
        items.append(
            OffsiteItem(
                device=device_info_of(device_id, tag, device_kind, description, retired_at),
                staff=staff,
                since=occurred_at,
                reason=str(details.get("reason", "")),
                expected_return=due_at,
                overdue=now > due_at,
                event_id=event_id,
                batch=batch,
                line_manager=details.get("line_manager"),
            )
        )
    items.sort(key=lambda i: (not i.overdue, i.expected_return, i.device.tag))
    return items
