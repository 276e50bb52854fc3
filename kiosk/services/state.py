"""Lookups and derived state, shared by the use cases. Internal: works on a Session.

State is never stored: it is worked out from the latest event of a stream (a person's phone,
a device, ...) that no correction has voided. The statements here find those rows (the
indexes on ``events`` make each a short backwards index scan, so they stay fast with millions
of events); what the rows mean is decided once, by the rules in ``kiosk.domain.state``, for
the kiosk's scan (``staff_status``) and the office's lists alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from kiosk.db.engine import UNREADABLE
from kiosk.db.models import Device, Event, Policy, Staff, StaffRole, Store
from kiosk.domain import state as domain
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import AmbiguousCode, NotFound, RuleViolation
from kiosk.domain.events import DeviceKind, EventKind
from kiosk.domain.rules import REGULAR_USE_WINDOW
from kiosk.domain.scan import normalise_code
from kiosk.domain.text import name_key
from kiosk.services.reference import note_label
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
    alias of the events table (the Core statements of ``staff_status``). A correction
    voids only an event before it in the chain: one written below it (a shell on the SQLite
    file, id 0; the kiosk never writes one, and verify names it) is none."""
    correction = Event.__table__.alias("correction")
    ident = event.c.id if isinstance(event, FromClause) else event.id
    return ~exists().where(
        correction.c.kind == EventKind.CORRECTION.value,
        correction.c.target_event_id == ident,
        correction.c.id > ident,
    )


def first_correction(void: Any, event: Any = Event) -> ColumnElement[bool]:
    """The condition joining ``void`` (an ``aliased`` Event) to the first correction that
    voids ``event``, and to no other: the kiosk never voids an event twice, but the kiosks'
    login or a shell can append a second correction of one, and each listing joined to
    every correction showed the event once per correction (the register, a day's CSV, a
    person's subject access export)."""
    other = Event.__table__.alias("later_correction")
    return and_(
        void.target_event_id == event.id,
        void.kind == EventKind.CORRECTION.value,
        void.id > event.id,  # (one below what it voids is none: ``not_voided``)
        ~exists().where(
            other.c.kind == EventKind.CORRECTION.value,
            other.c.target_event_id == event.id,
            other.c.id > event.id,
            other.c.id < void.id,
        ),
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
    return NotFound(
        f"No member of staff has the code {code}. Check the badge or ask the office.",
        quoted=code,
    )


def _usable(person: Any, code: str, active: bool) -> None:
    """Refuse a badge no one has, or (``active``) the badge of someone who has left."""
    if person is None:
        raise _no_such_staff(code)
    if active and person.retired_at is not None:
        raise RuleViolation(f"{person.name} ({code}) has left the school: this badge is retired.")


def _person(found: tuple[Any, frozenset[str]] | None, code: str, active: bool) -> StaffInfo:
    """What ``find_staff`` found, as a person whose badge may be used."""
    person, roles = found if found is not None else (None, frozenset[str]())
    _usable(person, code, active)
    return staff_info(person, roles)


def get_staff(session: Session, code: str, *, active: bool = True) -> Staff:
    code = normalise_code(code)
    staff = session.scalar(select(Staff).where(Staff.code == code))
    _usable(staff, code, active)
    assert staff is not None
    note_label(session.info, "staff", staff.id, staff.code)
    return staff


def get_staff_info(session: Session, code: str, *, active: bool = True) -> StaffInfo:
    """The person with this code (as ``get_staff`` finds them), from one Core statement:
    every use case starts with it."""
    code = normalise_code(code)
    session.flush()  # a person added in this transaction is found too (a no-op when clean)
    return _person(find_staff(session, code), code, active)


def get_device(session: Session, tag: str, *, active: bool = True) -> Device:
    tag = normalise_code(tag)
    device = session.scalar(select(Device).where(Device.tag == tag))
    if device is None:
        raise NotFound(f"No laptop or work phone has the tag {tag}. Check the label.", quoted=tag)
    note_label(session.info, "devices", device.id, device.tag)
    if active and device.retired_at is not None:
        raise RuleViolation(f"{tag} has been retired and cannot be signed out or in.")
    return device


def is_device_tag(session: Session, code: str) -> bool:
    """True when a device, in use or retired, has the tag ``code`` (compared without case,
    as a typed code is read)."""
    tag = code.strip().upper()
    return (
        session.scalar(select(Device.id).where(func.upper(Device.tag) == tag).limit(1)) is not None
    )


def is_staff_code(session: Session, code: str) -> bool:
    """True when a member of staff, current or retired, has the code ``code`` (without case)."""
    wanted = code.strip().upper()
    return (
        session.scalar(select(Staff.id).where(func.upper(Staff.code) == wanted).limit(1))
        is not None
    )


def ambiguous_code(code: str) -> AmbiguousCode:
    return AmbiguousCode(
        f"{code} is both a staff code and a device label: scan the badge or the label, or "
        "ask the office."
    )


def refuse_ambiguous(session: Session, code: str) -> None:
    """A code typed without a prefix (``ScanKind.EITHER``) that is both a staff code and a
    device's tag is refused: nothing is guessed (the import refuses such codes; older data or
    data written by hand may still hold one)."""
    if is_device_tag(session, code) and is_staff_code(session, code):
        raise ambiguous_code(code)


def get_store(session: Session, code: str) -> StoreInfo:
    """A phone store in use, by its code."""
    code = normalise_code(code)
    store = session.connection().execute(_STORE_BY_CODE, {"code": code}).first()
    if store is None or store.retired_at is not None:
        raise NotFound(f"There is no phone store called {code}.")
    note_label(session.info, "stores", store.id, store.code)
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
                    Event.kind == EventKind.CORRECTION.value,
                    Event.target_event_id == event_id,
                    Event.id > event_id,  # (one below what it voids is none: ``not_voided``)
                )
            )
        )
    )


# --- the statements ----------------------------------------------------------------------
#
# Plain Core statements, built once (no ORM objects loaded, no statement built per call).
# They find the rows that can define the current state (the latest non-voided event of a
# stream, an extension's sign-out, a review's updates, the current policy versions) and hand
# them to the rules in ``kiosk.domain.state``: the kiosk's scan and the office's lists run
# the same statements through the same rules.

_staff_t = Staff.__table__
_roles_t = StaffRole.__table__
_stores_t = Store.__table__
_devices_t = Device.__table__
_policies_t = Policy.__table__
_events_t = Event.__table__
_recorder_t = _staff_t.alias("recorder")


def _latest_in_category(category: str, *, each_staff: bool = False) -> Any:
    """The id of the latest non-voided event of a person's stream: the person ``:staff_id``,
    or (``each_staff``) each row of ``staff`` in the enclosing statement."""
    stream = _events_t.alias(f"latest_{category}")
    stmt = (
        select(stream.c.id)
        .where(
            stream.c.staff_id == (_staff_t.c.id if each_staff else bindparam("staff_id")),
            stream.c.category == category,
            not_voided(stream),
        )
        .order_by(stream.c.id.desc())
        .limit(1)
    )
    return (stmt.correlate(_staff_t) if each_staff else stmt).scalar_subquery()


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

_STORE_BY_CODE = select(
    _stores_t.c.id, _stores_t.c.code, _stores_t.c.name, _stores_t.c.retired_at
).where(_stores_t.c.code == bindparam("code"))

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
    _recorder_t.c.code.label("recorder_code"),
).select_from(
    _events_t.outerjoin(_stores_t, _stores_t.c.id == _events_t.c.store_id).outerjoin(
        _recorder_t, _recorder_t.c.id == _events_t.c.recorded_by_id
    )
)
# The latest event of one person's phone, VDU and exemption streams: each alone, or the three
# in one statement for the scan.
_LATEST = {
    category: _stream_event.where(_events_t.c.id == _latest_in_category(category))
    for category in ("phone", "vdu", "exemption")
}
_LATEST_STREAMS = _stream_event.where(
    _events_t.c.id.in_([_latest_in_category(category) for category in _LATEST])
)
# Every phone in a store: the latest phone event of each member of staff (one short backwards
# index scan each), then those events (by id alone: narrowed by kind as well, SQLite would
# search ix_events_kind_time, every deposit in the history, instead).
_LATEST_PHONE_IDS = select(_latest_in_category("phone", each_staff=True)).select_from(_staff_t)
_PHONES_IN = (
    _stream_event.add_columns(
        _events_t.c.staff_id,
        _staff_t.c.code.label("staff_code"),
        _staff_t.c.name.label("staff_name"),
        _staff_t.c.email.label("staff_email"),
        _staff_t.c.line_manager.label("staff_line_manager"),
        _staff_t.c.retired_at.label("staff_retired_at"),
    )
    .join(_staff_t, _staff_t.c.id == _events_t.c.staff_id)
    .where(_events_t.c.id.in_(bindparam("event_ids", expanding=True)))
    .order_by(_events_t.c.store_id, _events_t.c.occurred_at)
)

# Each device with its latest non-voided event, narrowed to the kinds that can leave it off
# site (as equalities: an IN list costs SQLite a table built on each call); an extension's
# sign-out is fetched by :data:`_SIGN_OUT`.
_device_latest = _events_t.alias("device_latest")
_latest_device_event = (
    select(_device_latest.c.id)
    .where(_device_latest.c.device_id == _devices_t.c.id, not_voided(_device_latest))
    .order_by(_device_latest.c.id.desc())
    .limit(1)
    .correlate(_devices_t)
    .scalar_subquery()
)
_device_event_columns = (
    _events_t.c.id,
    _events_t.c.kind,
    _events_t.c.staff_id,
    _events_t.c.occurred_at,
    _events_t.c.target_event_id,
    _events_t.c.due_at,
    _events_t.c.batch,
    _events_t.c.details,
)
_DEVICES_OUT = (
    select(
        _devices_t.c.id.label("device_id"),
        _devices_t.c.tag,
        _devices_t.c.kind.label("device_kind"),
        _devices_t.c.description,
        _devices_t.c.retired_at.label("device_retired_at"),
        *_device_event_columns,
    )
    .select_from(_devices_t.join(_events_t, _events_t.c.id == _latest_device_event))
    .where(or_(*(_events_t.c.kind == kind for kind in sorted(domain.OFF_SITE_KINDS))))
    .order_by(_devices_t.c.id)
)
_DEVICE_OUT = _DEVICES_OUT.where(_devices_t.c.id == bindparam("device_id"))
# One at a time: there are few, and a plain parameter keeps the statement cached whole (an
# expanding IN is rendered again on each call, which costs a scan more than the round trip).
_SIGN_OUT = select(*_device_event_columns).where(
    _events_t.c.id == bindparam("event_id"), not_voided(_events_t)
)

# The current version of each policy (the newest of its title) and whether this person has an
# acknowledgement of it that no correction voids.
_newest_versions = select(func.max(_policies_t.c.id)).group_by(_policies_t.c.title)
_ack = _events_t.alias("ack")
_CURRENT_POLICIES_FOR = (
    select(
        _policies_t.c.id,
        _policies_t.c.title,
        _policies_t.c.version,
        _policies_t.c.sha256,
        _policies_t.c.required,
        _policies_t.c.published_at,
        exists()
        .where(
            _ack.c.kind == EventKind.POLICY_ACKNOWLEDGED.value,
            _ack.c.policy_id == _policies_t.c.id,
            _ack.c.staff_id == bindparam("staff_id"),
            not_voided(_ack),
        )
        .label("acknowledged"),
    )
    .where(_policies_t.c.id.in_(_newest_versions.scalar_subquery()))
    .order_by(_policies_t.c.id)
)

# Workstation review requests (everyone's, or one person's: with the category a short search
# of ix_events_staff_stream), then their updates; none of either voided.
_review_t = _events_t.alias("request")
_REVIEW_REQUESTS = (
    select(
        _review_t.c.id,
        _review_t.c.kind,
        _review_t.c.staff_id,
        _review_t.c.occurred_at,
        _review_t.c.details,
    )
    .where(_review_t.c.kind == EventKind.WORKSTATION_REVIEW_REQUESTED.value, not_voided(_review_t))
    .order_by(_review_t.c.id)
)
_REVIEW_REQUESTS_OF = _REVIEW_REQUESTS.where(
    _review_t.c.staff_id == bindparam("staff_id"),
    _review_t.c.category == EventKind.WORKSTATION_REVIEW_REQUESTED.category,
)
_update_t = _events_t.alias("review_update")
_REVIEW_UPDATES = select(
    _update_t.c.id, _update_t.c.kind, _update_t.c.target_event_id, _update_t.c.details
).where(
    _update_t.c.kind == EventKind.WORKSTATION_REVIEW_UPDATED.value,
    _update_t.c.target_event_id.in_(bindparam("request_ids", expanding=True)),
    not_voided(_update_t),
)


def _latest_of(session: Session, category: str, staff_id: int) -> Any:
    """The latest non-voided event of one person's ``category`` stream (a row of
    ``_stream_event``), or None."""
    return session.connection().execute(_LATEST[category], {"staff_id": staff_id}).first()


def latest_event_id(session: Session, category: str, staff_id: int) -> int | None:
    """The id of the latest non-voided event of one person's phone, VDU or exemption stream."""
    latest = _latest_of(session, category, staff_id)
    return None if latest is None else int(latest.id)


# --- phones ------------------------------------------------------------------------------


def _phone_held(staff: StaffInfo, event: Any) -> PhoneHolding | None:
    """Where the phone is after ``event``, the latest of its stream (a row of
    ``_stream_event``): None when it is not in a store."""
    return _holding(staff, event) if domain.phone_in_store(event) else None


def _holding(staff: StaffInfo, event: Any) -> PhoneHolding:
    store = StoreInfo(event.store_id, event.code, event.name, event.retired_at is not None)
    # Who logged it when it was not the person (by id: two Carol Heads are two people).
    recorder: str | None = None
    if event.recorded_by_id not in (None, staff.id) and event.recorder is not None:
        recorder = event.recorder
        if name_key(recorder) == name_key(staff.name):
            # Someone of the same name (or one that reads the same, "CAROL head"): named
            # with their code, as the console names two people of one name.
            recorder = f"{recorder} ({event.recorder_code})"
    return PhoneHolding(staff, store, event.occurred_at, event.id, recorded_by=recorder)


def phone_holding(session: Session, staff: StaffInfo) -> PhoneHolding | None:
    """Where this person's phone is now (None: not in a store), from one Core statement."""
    held = _phone_held(staff, _latest_of(session, "phone", staff.id))
    if held is not None:
        note_label(session.info, "stores", held.store.id, held.store.code)
    return held


def phones_now(session: Session) -> list[PhoneHolding]:
    """Every phone in a store now, by store and time deposited."""
    conn = session.connection()
    ids = [i for i in conn.execute(_LATEST_PHONE_IDS).scalars() if i is not None]
    if not ids:
        return []
    rows = [
        row for row in conn.execute(_PHONES_IN, {"event_ids": ids}) if domain.phone_in_store(row)
    ]
    roles = roles_of(session, (row.staff_id for row in rows))
    for row in rows:
        note_label(session.info, "staff", row.staff_id, row.staff_code)
        note_label(session.info, "stores", row.store_id, row.code)
    return [
        _holding(
            StaffInfo(
                row.staff_id,
                row.staff_code,
                row.staff_name,
                row.staff_email,
                row.staff_line_manager,
                roles[row.staff_id],
                retired=row.staff_retired_at is not None,
            ),
            row,
        )
        for row in rows
    ]


# --- devices off site --------------------------------------------------------------------


def device_event(session: Session, device_id: int) -> Event | None:
    return session.scalar(
        select(Event)
        .where(Event.device_id == device_id, not_voided())
        .order_by(Event.id.desc())
        .limit(1)
    )


def _off_site(
    conn: Any, now: datetime, device_id: int | None = None
) -> list[tuple[Any, domain.OffSite[Any]]]:
    """(device row, ``domain.OffSite``) for each device off site now (of one device only,
    when ``device_id`` is given), in device order."""
    if device_id is None:
        rows = conn.execute(_DEVICES_OUT).all()
    else:
        rows = conn.execute(_DEVICE_OUT, {"device_id": device_id}).all()
    sign_outs = {}
    for wanted in {i for i in map(domain.extended_sign_out, rows) if i is not None}:
        sign_out = conn.execute(_SIGN_OUT, {"event_id": wanted}).first()
        if sign_out is not None:  # voided (or missing) otherwise
            sign_outs[wanted] = sign_out
    found = []
    for row in rows:
        off = domain.off_site(row, sign_outs, now)
        if off is not None:
            found.append((row, off))
    return found


def _offsite_item(row: Any, off: domain.OffSite[Any], staff: StaffInfo) -> OffsiteItem:
    sign_out = off.sign_out
    return OffsiteItem(
        device=device_info_of(
            row.device_id, row.tag, row.device_kind, row.description, row.device_retired_at
        ),
        staff=staff,
        since=sign_out.occurred_at,
        reason=str(domain.detail(sign_out.details, "reason", "")),
        expected_return=off.expected_return,
        overdue=off.overdue,
        event_id=sign_out.id,
        batch=sign_out.batch,
        line_manager=_text_or_none(domain.detail(sign_out.details, "line_manager")),
    )


def _text_or_none(value: Any) -> str | None:
    """A detail that is text as the kiosk writes it, else None (a list or an object written
    around the kiosk: verify names the event; the lists must not stop on it)."""
    return value if isinstance(value, str) else None


def _by_due(items: list[OffsiteItem]) -> list[OffsiteItem]:
    """Overdue first, then by expected return."""
    return sorted(items, key=lambda i: (not i.overdue, i.expected_return, i.device.tag))


def _not_on_the_list(staff_id: int) -> StaffInfo:
    """Who signed a device out when their row was removed or renumbered around the kiosk."""
    return StaffInfo(
        staff_id,
        "?",
        f"(staff {staff_id}: not on the list)",
        None,
        None,
        frozenset(),
        retired=True,
    )


def _offsite_items(
    session: Session, found: list[tuple[Any, domain.OffSite[Any]]]
) -> list[OffsiteItem]:
    ids = {off.sign_out.staff_id for _, off in found}
    people = staff_infos(session, list(session.scalars(select(Staff).where(Staff.id.in_(ids)))))
    for person in people.values():
        note_label(session.info, "staff", person.id, person.code)
    items = []
    for row, off in found:
        staff_id = off.sign_out.staff_id
        assert staff_id is not None
        person = people.get(staff_id) or _not_on_the_list(staff_id)
        items.append(_offsite_item(row, off, person))
    return items


def device_offsite(session: Session, device: Device, now: datetime) -> OffsiteItem | None:
    found = _off_site(session.connection(), now, device.id)
    return _offsite_items(session, found)[0] if found else None


def offsite_now(session: Session, now: datetime, staff_id: int | None = None) -> list[OffsiteItem]:
    """Devices off site now (one person's, when ``staff_id`` is given), overdue first, then
    by expected return."""
    found = _off_site(session.connection(), now)
    if staff_id is not None:
        found = [(row, off) for row, off in found if off.sign_out.staff_id == staff_id]
    return _by_due(_offsite_items(session, found)) if found else []


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


def _policies_to_read(conn: Any, staff_id: int) -> list[PolicyInfo]:
    current = conn.execute(_CURRENT_POLICIES_FOR, {"staff_id": staff_id}).all()
    return [
        PolicyInfo(p.id, p.title, p.version, p.sha256, p.required, p.published_at)
        for p in domain.policies_to_read(current)
    ]


def outstanding_policies(session: Session, staff_id: int) -> list[PolicyInfo]:
    """The current required policies this person has still to read."""
    return _policies_to_read(session.connection(), staff_id)


# --- VDU, exemptions, reviews ------------------------------------------------------------


def vdu_trained_on(session: Session, staff_id: int) -> date | None:
    return domain.vdu_trained_on(_latest_of(session, "vdu", staff_id))


def vdu_trained_ids(session: Session) -> set[int]:
    rows = session.scalars(
        select(Event.staff_id).where(
            Event.kind == EventKind.VDU_TRAINING_DECLARED.value, not_voided()
        )
    )
    return {i for i in rows if i is not None}


def _exemption(staff: StaffInfo, event: Any, today: date) -> Exemption | None:
    terms = domain.exemption_in_force(event, today)
    if terms is None:
        return None
    return Exemption(staff, terms.granted_by, terms.until, event.id)


def exemption_of(session: Session, staff: StaffInfo, today: date) -> Exemption | None:
    return _exemption(staff, _latest_of(session, "exemption", staff.id), today)


def _reviews(
    conn: Any,
    requests: Sequence[Any],
    people: Mapping[int, StaffInfo],
    open_only: bool,
    unreadable: list[Any] | None = None,
) -> list[ReviewRequest]:
    """Review requests (rows of ``_REVIEW_REQUESTS``) with their state; the events among them
    and their updates whose details cannot be read are added to ``unreadable``, if given."""
    if not requests:
        return []
    ids = [request.id for request in requests]
    updates = conn.execute(_REVIEW_UPDATES, {"request_ids": ids}).all()
    states = domain.review_states(updates)
    if unreadable is not None:
        unreadable.extend(requests)
        unreadable.extend(updates)
    result = []
    for request in requests:
        now = states.get(request.id, domain.REVIEW_NOT_UPDATED)
        if open_only and not now.open:
            continue
        result.append(
            ReviewRequest(
                event_id=request.id,
                staff=people[request.staff_id],
                requested_at=request.occurred_at,
                needs=str(domain.detail(request.details, "needs", "")),
                status=now.status,
                note=now.note,
            )
        )
    return result


def review_status(session: Session, request_id: int) -> str:
    """The status of one review request now (open, taken_up, done), from its updates."""
    updates = session.connection().execute(_REVIEW_UPDATES, {"request_ids": [request_id]}).all()
    return domain.review_states(updates).get(request_id, domain.REVIEW_NOT_UPDATED).status


def review_requests(
    session: Session, *, staff_id: int | None = None, open_only: bool = True
) -> list[ReviewRequest]:
    conn = session.connection()
    if staff_id is None:
        requests = conn.execute(_REVIEW_REQUESTS).all()
    else:
        requests = conn.execute(_REVIEW_REQUESTS_OF, {"staff_id": staff_id}).all()
    if not requests:
        return []
    requesters = {request.staff_id for request in requests}
    people = staff_infos(
        session, list(session.scalars(select(Staff).where(Staff.id.in_(requesters))))
    )
    return _reviews(conn, requests, people, open_only)


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
# A badge scan shows the person's screen, so this is on the kiosk's critical path: few round
# trips through the statements above (the person with their roles; the latest phone, VDU and
# exemption events in one; the current policies with whether they acknowledged each; their
# review requests and updates; the devices off site), read by the same rules as the lists.


def find_staff(session: Session, code: str) -> tuple[Any, frozenset[str]] | None:
    """The staff row with this (normalised) code and their roles; None when there is none."""
    rows = session.connection().execute(_STAFF_BY_CODE, {"code": code}).all()
    if not rows:
        return None
    note_label(session.info, "staff", rows[0].id, rows[0].code)
    return rows[0], frozenset(row.role for row in rows if row.role is not None)


def staff_status(
    session: Session, code: str, now: datetime, today: date, *, row: Any = None
) -> StaffStatus:
    """Everything a person's screen shows (what ``get_staff_info`` and the lookups above give
    one by one), in a few cheap statements. ``row``: what ``find_staff`` gave."""
    code = normalise_code(code)
    staff = _person(row if row is not None else find_staff(session, code), code, True)
    conn = session.connection()
    params = {"staff_id": staff.id}
    latest = {event.category: event for event in conn.execute(_LATEST_STREAMS, params)}
    mine = [(r, off) for r, off in _off_site(conn, now) if off.sign_out.staff_id == staff.id]
    read: list[Any] = [*latest.values(), *(off.sign_out for _r, off in mine)]
    requests = conn.execute(_REVIEW_REQUESTS_OF, params).all()
    reviews = _reviews(conn, requests, {staff.id: staff}, True, read)
    return StaffStatus(
        staff=staff,
        phone=_phone_held(staff, latest.get("phone")),
        offsite=tuple(_by_due([_offsite_item(r, off, staff) for r, off in mine])),
        outstanding_policies=tuple(_policies_to_read(conn, staff.id)),
        vdu_trained_on=domain.vdu_trained_on(latest.get("vdu")),
        exemption=_exemption(staff, latest.get("exemption"), today),
        open_reviews=tuple(reviews),
        unreadable=_unreadable_ids(read),
    )


def _unreadable_ids(events: Iterable[Any]) -> tuple[int, ...]:
    """The ids of the events whose details the state rules leave out (see
    ``kiosk.domain.state``), or that are not JSON at all (``kiosk.db.engine.read_json``)."""
    return tuple(
        sorted(
            {
                int(event.id)
                for event in events
                if domain.details_unreadable(event)
                or domain.detail(event.details, UNREADABLE) is not None
            }
        )
    )
