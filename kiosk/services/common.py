"""Helpers shared by the use-case modules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.orm import Session

from kiosk.db.models import Event
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.services import state
from kiosk.services.uow import UNREADABLE_ERRORS, ServiceContext, UnitOfWork
from kiosk.services.views import EventReceipt, StaffInfo


class UseCases:
    """Base of each group of use cases: holds the shared context."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx


def receipt(event: Event, staff: StaffInfo | None, summary: str) -> EventReceipt:
    return EventReceipt(event.id, event.kind, event.occurred_at, staff, summary)


def recorder(
    uow: UnitOfWork, staff: StaffInfo, recorded_by: str | None, *allowed: Role
) -> StaffInfo:
    """Who is recording the event: the person themself, or a colleague with a role."""
    if recorded_by is None:
        return staff
    by = state.get_staff_info(uow.session, recorded_by)
    if by.id == staff.id:
        return staff
    if not by.has_role(*(role.value for role in allowed)):
        needed = " or ".join(role.value.replace("_", " ") for role in allowed)
        raise RuleViolation(f"Only the {needed} can record this for a colleague.")
    return by


def kind_label(kind: str) -> str:
    try:
        return EventKind(kind).label
    except ValueError:
        return kind


def item_label(
    tag: str | None,
    device_kind: str | None,
    store: str | None,
    title: str | None,
    version: str | None,
    kinds: DeviceKinds = DEFAULT_KINDS,
) -> str:
    """What an event is about, in words: a device, a store or a policy version."""
    if tag and device_kind:
        return f"{kinds.label(device_kind)} {tag}"
    if store:
        return store
    if title:
        return f"{title} ({version})"
    return ""


# --- rows that cannot be read ----------------------------------------------------------------

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An event whose stored values cannot be read: listings mark it, ``kiosk verify`` names
    it."""

    event_id: int
    reason: str


def read_rows(
    connection: Connection | Session, stmt: Select[Any], id_column: Any, *, yield_per: int = 0
) -> Iterator[Any]:
    """The rows of ``stmt`` in its order, each event that cannot be read given as
    ``Unreadable`` in its place instead of failing the whole listing."""
    done = 0
    try:
        query = stmt.execution_options(yield_per=yield_per) if yield_per else stmt
        for values in connection.execute(query):
            done += 1
            yield values
        return
    except UNREADABLE_ERRORS:
        pass
    ids = list(connection.execute(stmt.with_only_columns(id_column)).scalars())[done:]
    plain = stmt.offset(None).limit(None)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        try:
            yield from connection.execute(plain.where(id_column.in_(chunk))).all()
            continue
        except UNREADABLE_ERRORS:
            pass
        for event_id in chunk:
            try:
                yield connection.execute(plain.where(id_column == event_id)).one()
            except UNREADABLE_ERRORS as exc:
                yield Unreadable(int(event_id), f"{type(exc).__name__}: {exc}"[:120])
