"""Helpers shared by the use-case modules."""

from __future__ import annotations

from kiosk.db.models import Event
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.services import state
from kiosk.services.uow import ServiceContext, UnitOfWork
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
