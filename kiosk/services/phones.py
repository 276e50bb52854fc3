"""Personal phones: deposit, collect, move between stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from kiosk.db.models import Store
from kiosk.domain.errors import NotFound, RuleViolation
from kiosk.domain.events import BREAKFAST_DRAWER_STORE, STAFF_ROOM_STORE, EventKind, Role
from kiosk.domain.timeutil import format_local, local_date
from kiosk.services import school_events, state
from kiosk.services.common import UseCases, receipt, recorder
from kiosk.services.uow import UnitOfWork
from kiosk.services.views import EventReceipt, PhoneHolding, PhoneInOut, StaffInfo, StoreInfo

LOGGERS = (Role.BREAKFAST_CLUB_LEAD, Role.ADMIN)


class PhoneService(UseCases):
    def deposit(
        self, staff_code: str, store_code: str | None = None, *, recorded_by: str | None = None
    ) -> EventReceipt:
        """Record that a phone went into a store. Refused while one is already in."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            by = recorder(uow, staff, recorded_by, *LOGGERS)
            store = state.get_store(uow.session, store_code or STAFF_ROOM_STORE)
            held = state.phone_holding(uow.session, staff)
            if held is not None:
                since = format_local(held.since, self.ctx.settings.zone)
                raise RuleViolation(
                    f"{staff.name}'s phone is already in the {held.store.name} "
                    f"(since {since}). Collect it before depositing again."
                )
            return _deposited(uow, staff, by, store)

    def collect(
        self, staff_code: str, store_code: str | None = None, *, recorded_by: str | None = None
    ) -> EventReceipt:
        """Record that a phone left its store; only from the store it is in."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            by = recorder(uow, staff, recorded_by, *LOGGERS)
            held = state.phone_holding(uow.session, staff)
            if held is None:
                raise RuleViolation(f"{staff.name} has no phone in a store to collect.")
            if store_code is not None:
                store = state.get_store(uow.session, store_code)
                if store.id != held.store.id:
                    raise RuleViolation(
                        f"{staff.name}'s phone is in the {held.store.name}, not the {store.name}."
                    )
            return _collected(uow, staff, by, held)

    def hand_back(self, staff_code: str, *, admin_code: str) -> EventReceipt:
        """The office records that it handed a phone back from its store: a collection,
        recorded by the admin. For a leaver (retired with --force, or the console's "Retire
        anyway") whose badge the kiosk refuses, so that the phone leaves the store honestly,
        not by voiding the deposit."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code, active=False)
            by = state.get_staff_info(uow.session, admin_code)
            if not by.has_role(Role.ADMIN.value):
                raise RuleViolation(
                    f"{by.name} is not an admin: only an admin records a phone handed back "
                    "by the office."
                )
            held = state.phone_holding(uow.session, staff)
            if held is None:
                raise RuleViolation(f"{staff.name} has no phone in a store to hand back.")
            return _collected(uow, staff, by, held)

    def in_or_out(self, staff_code: str) -> PhoneInOut | None:
        """ "Phone in / out", then a badge: the person's phone is collected if it is in a
        store, deposited in the staff-room store if not; one transaction. None when no
        member of staff has this code (it may be a device's tag)."""
        with self.ctx.write() as uow:
            try:
                staff = state.get_staff_info(uow.session, staff_code)
            except NotFound:
                return None
            held = state.phone_holding(uow.session, staff)
            if held is None:
                store = state.get_store(uow.session, STAFF_ROOM_STORE)
                return PhoneInOut(_deposited(uow, staff, staff, store), collected=False)
            return PhoneInOut(_collected(uow, staff, staff, held), True, held.recorded_by)

    def move_all(
        self,
        recorded_by: str,
        from_store: str = BREAKFAST_DRAWER_STORE,
        to_store: str = STAFF_ROOM_STORE,
    ) -> tuple[EventReceipt, ...]:
        """Move every phone in one store to another (end of breakfast club), in one go."""
        with self.ctx.write() as uow:
            by = state.get_staff_info(uow.session, recorded_by)
            if not by.has_role(*(r.value for r in LOGGERS)):
                raise RuleViolation("Only the breakfast club lead or an admin can move phones.")
            source = state.get_store(uow.session, from_store)
            target = state.get_store(uow.session, to_store)
            if source.id == target.id:
                raise RuleViolation("Choose two different stores.")
            receipts = []
            for held in state.phones_now(uow.session):
                if held.store.id != source.id:
                    continue
                event = uow.record(
                    EventKind.PHONE_MOVED,
                    staff_id=held.staff.id,
                    recorded_by_id=by.id,
                    store_id=target.id,
                    details={"from_store": source.code},
                )
                receipts.append(
                    receipt(
                        event,
                        held.staff,
                        f"Phone moved from the {source.name} to the {target.name}",
                    )
                )
            return tuple(receipts)

    def phones_now(self) -> tuple[PhoneHolding, ...]:
        with self.ctx.read() as session:
            return tuple(state.phones_now(session))

    def still_held_after_end_of_day(self) -> tuple[PhoneHolding, ...]:
        """The phones still in a store after the end of a school day (settings.end_of_day,
        the school's calendar): none before the end of the day, nor on a day without school
        (a holiday, an INSET day, a weekend), when nobody was expected to collect one."""
        now = self.ctx.clock()
        zone = self.ctx.settings.zone
        today = local_date(now, zone)
        end = datetime.combine(today, self.ctx.settings.end_of_day_time, zone)
        if now < end.astimezone(UTC):
            return ()
        with self.ctx.read() as session:
            if not school_events.current_calendar(session).is_school_day(today):
                return ()
            return tuple(state.phones_now(session))

    def stores(self) -> tuple[StoreInfo, ...]:
        with self.ctx.read() as session:
            rows = session.scalars(
                select(Store).where(Store.retired_at.is_(None)).order_by(Store.id)
            )
            return tuple(state.store_info(s) for s in rows)


def _deposited(uow: UnitOfWork, staff: StaffInfo, by: StaffInfo, store: StoreInfo) -> EventReceipt:
    event = uow.record(
        EventKind.PHONE_DEPOSITED, staff_id=staff.id, recorded_by_id=by.id, store_id=store.id
    )
    return receipt(event, staff, f"Phone deposited in the {store.name}")


def _collected(
    uow: UnitOfWork, staff: StaffInfo, by: StaffInfo, held: PhoneHolding
) -> EventReceipt:
    event = uow.record(
        EventKind.PHONE_COLLECTED,
        staff_id=staff.id,
        recorded_by_id=by.id,
        store_id=held.store.id,
    )
    return receipt(event, staff, f"Phone collected from the {held.store.name}")
