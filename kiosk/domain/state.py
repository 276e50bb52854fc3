"""Current state, worked out from the events that define it: the one place its rules are written.

State is never stored. The queries (``kiosk.services.state``) find the rows that can define
it, and these functions say what those rows mean:

* a person's phone: the latest event of their phone stream -> in a store or not;
* a device: its latest event, and for an extension the sign-out it extends -> off site
  (whose, since when, due back when, overdue) or not;
* an SLT exemption: the latest event of the person's exemption stream -> in force today or not;
* VDU training: the latest declaration -> the day it was completed;
* a workstation review request: its updates -> its status and note, open or done;
* the current policy versions, each with whether this person acknowledged it -> what they
  still have to read.

An event whose details these rules cannot read (written around the kiosk: not a JSON object, a
date that is not one, a key missing) is left out, as if it were not there: the rules give no
exemption, no training date, and keep a review's earlier state; :func:`details_unreadable`
tells the services which event it was, so the person's screen can say so (and `kiosk verify`
names it: its hash no longer matches).

What the queries guarantee, and these functions rely on: every row handed over is one that no
correction voids (``not_voided`` in the services), "latest" is the highest event id of the
stream, and the current policy versions are the newest of each title. The kiosk's scan (a few
Core statements) and the office's lists feed the same functions, so they cannot disagree.

Any object with the attributes named in the Protocols will do: a SQLAlchemy row, an ORM
object, a test's dataclass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from kiosk.domain.events import EventKind, ReviewStatus
from kiosk.domain.rules import is_overdue

# The kinds as stored (plain strings: these functions run on every scan, and an enum member's
# ``.value`` is a property call each time).
_SIGNED_OUT = EventKind.DEVICE_SIGNED_OUT.value
_EXTENDED = EventKind.RETURN_EXTENDED.value
_GRANTED = EventKind.EXEMPTION_GRANTED.value
_VDU_DECLARED = EventKind.VDU_TRAINING_DECLARED.value
_REVIEW_UPDATED = EventKind.WORKSTATION_REVIEW_UPDATED.value
_DONE = ReviewStatus.DONE.value

# The kinds after which a phone is in a store, and a device off site. The queries may narrow
# their rows with these; the functions below decide.
PHONE_IN_STORE_KINDS = frozenset({EventKind.PHONE_DEPOSITED.value, EventKind.PHONE_MOVED.value})
OFF_SITE_KINDS = frozenset({_SIGNED_OUT, _EXTENDED})


# --- what each rule reads of a row ---------------------------------------------------------


class KindOf(Protocol):
    @property
    def kind(self) -> str: ...


class PhoneEvent(KindOf, Protocol):
    @property
    def store_id(self) -> int | None: ...


class EventWithDetails(KindOf, Protocol):
    @property
    def details(self) -> Any: ...  # a mapping, unless written around the kiosk


class DeviceEvent(EventWithDetails, Protocol):
    @property
    def id(self) -> int: ...
    @property
    def staff_id(self) -> int | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def target_event_id(self) -> int | None: ...
    @property
    def due_at(self) -> datetime | None: ...


class ReviewUpdate(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def target_event_id(self) -> int | None: ...
    @property
    def details(self) -> Any: ...  # a mapping, unless written around the kiosk


class CurrentPolicy(Protocol):
    @property
    def required(self) -> bool: ...
    @property
    def acknowledged(self) -> bool: ...


E = TypeVar("E", bound=DeviceEvent)
P = TypeVar("P", bound=CurrentPolicy)


# --- phones ----------------------------------------------------------------------------------


def phone_in_store(latest: PhoneEvent | None) -> bool:
    """Is the phone in a store after ``latest``, the newest event of the person's phone
    stream? Deposited (or moved) into a store: yes. Collected, or no event at all: no."""
    return (
        latest is not None and latest.kind in PHONE_IN_STORE_KINDS and latest.store_id is not None
    )


# --- devices off site -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OffSite(Generic[E]):
    """A device off site: the sign-out that took it (who, since when, why, which batch) and
    the return it is now expected by (the sign-out's, or the latest extension's)."""

    sign_out: E
    expected_return: datetime
    overdue: bool


def extended_sign_out(latest: DeviceEvent | None) -> int | None:
    """The sign-out ``latest`` extends, when it is an extension: the query fetches it (if no
    correction voids it) for :func:`off_site`."""
    if latest is None or latest.kind != _EXTENDED:
        return None
    return latest.target_event_id


class DeviceStep(KindOf, Protocol):
    """What :func:`standing_sign_out` reads of a device's event."""

    @property
    def target_event_id(self) -> int | None: ...


S = TypeVar("S", bound=DeviceStep)


def standing_sign_out(latest: S | None, sign_outs: Mapping[int, S]) -> S | None:
    """THE rule of a device off site: the sign-out it stands under after ``latest``, the
    newest event of its stream no correction voids. Signed out: that sign-out. Extended:
    the sign-out it extends (looked up in ``sign_outs``, the non-voided events by id), when
    that is still there. Returned, or no event: None (on site). Read by :func:`off_site` for
    the kiosk and the office, and by verify as it replays the register."""
    if latest is None:
        return None
    if latest.kind == _SIGNED_OUT:
        return latest
    if latest.kind == _EXTENDED and latest.target_event_id is not None:
        extended = sign_outs.get(latest.target_event_id)
        if extended is not None and extended.kind == _SIGNED_OUT:
            return extended
    return None


def off_site(latest: E | None, sign_outs: Mapping[int, E], now: datetime) -> OffSite[E] | None:
    """Where a device stands after ``latest``, the newest event of its stream
    (:func:`standing_sign_out`): off site, due back when the sign-out, or the extension,
    said; overdue once ``now`` is past that. Returned, or no event: on site (None)."""
    sign_out = standing_sign_out(latest, sign_outs)
    if latest is None or sign_out is None:
        return None
    due = latest.due_at
    assert due is not None, f"event {latest.id}: a sign-out or extension without a return date"
    return OffSite(sign_out, due, is_overdue(due, now))


# --- reading an event's details ------------------------------------------------------------------


def detail(details: Any, key: str, default: Any = None) -> Any:
    """``details[key]``, or ``default`` when it has none or the details are not an object."""
    return details.get(key, default) if isinstance(details, Mapping) else default


def _date_in(details: Any, key: str) -> date | None:
    """The day stored under ``key`` (ISO text, as the kiosk writes it); None when there is
    none that can be read."""
    value = detail(details, key)
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _review_status(details: Any) -> str | None:
    status = detail(details, "status")
    return status if isinstance(status, str) else None


def details_unreadable(event: EventWithDetails) -> bool:
    """Whether the rules below cannot read what they need of ``event``'s details: they leave
    it out (see the module's notes)."""
    kind = event.kind
    if kind == _GRANTED:
        return _date_in(event.details, "until") is None
    if kind == _VDU_DECLARED:
        return _date_in(event.details, "completed_on") is None
    if kind == _REVIEW_UPDATED:
        return _review_status(event.details) is None
    return not isinstance(event.details, Mapping)


# --- exemptions and VDU training ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExemptionTerms:
    granted_by: str
    until: date


def exemption_in_force(latest: EventWithDetails | None, today: date) -> ExemptionTerms | None:
    """The SLT phone exemption in force ``today`` after ``latest``, the newest event of the
    person's exemption stream: a grant, up to and including its last day. A revocation, or a
    grant whose last day has passed, leaves none; so does a grant whose last day cannot be
    read."""
    if latest is None or latest.kind != _GRANTED:
        return None
    until = _date_in(latest.details, "until")
    if until is None or until < today:
        return None
    return ExemptionTerms(str(detail(latest.details, "granted_by", "")), until)


def vdu_trained_on(latest: EventWithDetails | None) -> date | None:
    """The day of the person's VDU training, from their newest declaration (a later one
    replaces an earlier; a voided one is not handed over). None when there is none, or its
    day cannot be read."""
    if latest is None or latest.kind != _VDU_DECLARED:
        return None
    return _date_in(latest.details, "completed_on")


# --- workstation reviews -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewState:
    status: str = ReviewStatus.OPEN.value
    note: str | None = None

    @property
    def open(self) -> bool:
        return self.status != _DONE


REVIEW_NOT_UPDATED = ReviewState()


def review_states(updates: Iterable[ReviewUpdate]) -> dict[int, ReviewState]:
    """Each review request's state from its updates, by the request's event id: the newest
    update (highest id) says the status and the note. A request with no update is open
    (:data:`REVIEW_NOT_UPDATED`). An update whose status cannot be read is left out."""
    newest: dict[int, tuple[int, str, Any]] = {}
    for update in updates:
        target, status = update.target_event_id, _review_status(update.details)
        if target is None or status is None:
            continue
        if target not in newest or update.id > newest[target][0]:
            newest[target] = (update.id, status, detail(update.details, "note"))
    return {
        target: ReviewState(status, str(note or "") or None)
        for target, (_id, status, note) in newest.items()
    }


# --- policies ------------------------------------------------------------------------------------


def policies_to_read(current: Iterable[P]) -> list[P]:
    """Of the current policy versions (each with whether this person acknowledged it), the
    ones they must still read: required and not acknowledged. Acknowledging an older version
    does not count for a newer one (the query asks about the current version only)."""
    return [policy for policy in current if policy.required and not policy.acknowledged]
