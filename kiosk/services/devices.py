"""Laptops and work phones: the off-site register."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Staff
from kiosk.domain.errors import InvalidInput, MissingAcknowledgement, RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.domain.rules import (
    DAY_TIME,
    check_extension,
    check_sign_out_details,
    needs_line_manager,
)
from kiosk.domain.text import check_typed_line
from kiosk.domain.timeutil import default_expected_return, format_local, local_date
from kiosk.services import school_events, state
from kiosk.services.common import UseCases, receipt, recorder
from kiosk.services.people import manager_code
from kiosk.services.views import (
    DeviceStatus,
    EventReceipt,
    OffsiteItem,
    SignOutCheck,
    SignOutReceipt,
    StaffInfo,
    WorkloadRow,
)


class DeviceService(UseCases):
    def status(self, tag: str) -> DeviceStatus:
        """A device and, when it is off site, who has it."""
        with self.ctx.read() as session:
            device = state.get_device(session, tag, active=False)
            return DeviceStatus(
                state.device_info(device, school_events.current_device_kinds(session)),
                state.device_offsite(session, device, self.ctx.clock()),
            )

    def check_sign_out(self, staff_code: str, tags: Sequence[str]) -> SignOutCheck:
        """What the sign-out form must ask for. Raises if a device cannot go at all."""
        with self.ctx.read() as session:
            return self._check(session, staff_code, tags, self.ctx.clock())

    def _check(
        self, session: Session, staff_code: str, tags: Sequence[str], now: datetime
    ) -> SignOutCheck:
        staff = state.get_staff_info(session, staff_code)
        kinds = school_events.current_device_kinds(session)
        devices = []
        seen = set()
        for tag in tags:
            device = state.get_device(session, tag)
            if device.id in seen:
                continue
            seen.add(device.id)
            out = state.device_offsite(session, device, now)
            if out is not None:
                raise RuleViolation(
                    f"{device.tag} is already signed out to {out.staff.name} "
                    f"(since {format_local(out.since, self.ctx.settings.zone, '%a %d %b %H:%M')}). "
                    "It must be returned first."
                )
            devices.append(state.device_info(device, kinds))
        codes = [d.kind for d in devices]
        recent = state.recent_laptop_sign_outs(session, staff.id, now, kinds.regular_use_codes())
        threshold = self.ctx.settings.regular_use_threshold
        calendar = school_events.current_calendar(session)
        return SignOutCheck(
            staff=staff,
            devices=tuple(devices),
            missing_policies=tuple(state.outstanding_policies(session, staff.id)),
            vdu_missing=state.vdu_trained_on(session, staff.id) is None,
            needs_line_manager=any(needs_line_manager(k, recent, threshold, kinds) for k in codes),
            needs_charged=kinds.needs_charged(codes),
            recent_laptop_sign_outs=recent,
            default_expected_return=default_expected_return(now, self.ctx.settings.zone, calendar),
            calendar=calendar,
        )

    def sign_out(
        self,
        staff_code: str,
        tags: Sequence[str],
        *,
        reason: str,
        expected_return: datetime | None = None,
        line_manager: str | None = None,
        charged: bool = False,
        recorded_by: str | None = None,
    ) -> SignOutReceipt:
        """Sign one or more devices out to a member of staff, as one entry of the register."""
        with self.ctx.write() as uow:
            check = self._check(uow.session, staff_code, tags, uow.now)
            staff = check.staff
            by = recorder(uow, staff, recorded_by, Role.ADMIN)
            if check.missing_policies or check.vdu_missing:
                raise MissingAcknowledgement(
                    _missing_message(staff, check), tuple(p.id for p in check.missing_policies)
                )
            due = expected_return or check.default_expected_return
            check_sign_out_details(
                kinds=[d.kind for d in check.devices],
                reason=reason,
                expected_return=due,
                now=uow.now,
                charged=charged,
                definitions=school_events.current_device_kinds(uow.session),
            )
            manager = (line_manager or "").strip() or None
            if manager is not None:
                # Kept as the manager's staff code: "agreed with Gareth Evans" names one
                # person even when two share the name (given by name: the one who has it).
                manager = manager_code(uow.session, manager)
                _check_agreeing_manager(uow.session, manager, staff.code)
            if check.needs_line_manager and manager is None:
                raise RuleViolation(
                    f"This would be {staff.name}'s laptop sign-out number "
                    f"{check.recent_laptop_sign_outs + 1} in 28 days. Laptops are not taken home "
                    "regularly: name the line manager who agreed it."
                )
            batch = str(uuid.uuid4())
            receipts = []
            for device in check.devices:
                details: dict[str, object] = {"reason": reason.strip()}
                if manager:
                    details["line_manager"] = manager
                if device.needs_charged:
                    details["charged"] = True
                event = uow.record(
                    EventKind.DEVICE_SIGNED_OUT,
                    staff_id=staff.id,
                    recorded_by_id=by.id,
                    device_id=device.id,
                    batch=batch,
                    due_at=due,
                    details=details,
                )
                receipts.append(
                    receipt(event, staff, f"{device.kind_label} {device.tag} signed out off site")
                )
            return SignOutReceipt(batch, tuple(receipts), due)

    def return_device(
        self, tag: str, *, condition: str = "", recorded_by: str | None = None
    ) -> EventReceipt:
        """Close an off-site entry. Whoever brings the device back may scan it in."""
        with self.ctx.write() as uow:
            device = state.get_device(uow.session, tag, active=False)
            out = state.device_offsite(uow.session, device, uow.now)
            if out is None:
                raise RuleViolation(f"{device.tag} is not signed out: there is nothing to return.")
            by_id = None
            if recorded_by:
                by_id = state.get_staff_info(uow.session, recorded_by).id
            note = check_typed_line(condition, "condition note")
            if len(note) > 500:
                raise InvalidInput("The condition note is too long (500 characters at most).")
            event = uow.record(
                EventKind.DEVICE_RETURNED,
                staff_id=out.staff.id,
                recorded_by_id=by_id,
                device_id=device.id,
                target_event_id=out.event_id,
                details={"condition": note} if note else {},
            )
            late = " (it was overdue)" if out.overdue else ""
            return receipt(
                event,
                out.staff,
                f"{school_events.current_device_kinds(uow.session).label(device.kind)} "
                f"{device.tag} returned{late}",
            )

    def extend(
        self, tag: str, new_expected_return: datetime, *, reason: str, staff_code: str
    ) -> EventReceipt:
        """Move the expected return of a device the person has off site."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            device = state.get_device(uow.session, tag, active=False)
            out = state.device_offsite(uow.session, device, uow.now)
            if out is None:
                raise RuleViolation(f"{device.tag} is not signed out.")
            if out.staff.id != staff.id and not staff.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{device.tag} is signed out to {out.staff.name}, not to you.")
            check_extension(
                device.tag,
                new_expected_return,
                out.expected_return,
                uow.now,
                self.ctx.settings.zone,
            )
            if not reason.strip():
                raise InvalidInput("Please give a reason for keeping it longer.")
            check_typed_line(reason, "reason")
            event = uow.record(
                EventKind.RETURN_EXTENDED,
                staff_id=out.staff.id,
                recorded_by_id=staff.id,
                device_id=device.id,
                target_event_id=out.event_id,
                due_at=new_expected_return,
                details={"reason": reason.strip()},
            )
            when = format_local(new_expected_return, self.ctx.settings.zone, DAY_TIME)
            return receipt(event, out.staff, f"{device.tag} now due back {when}")

    def offsite_now(self) -> tuple[OffsiteItem, ...]:
        """What is off site now; a line manager kept as a staff code is shown as
        "Name (CODE)" (one recorded before then as a name is shown as recorded)."""
        with self.ctx.read() as session:
            items = tuple(state.offsite_now(session, self.ctx.clock()))
            codes = {i.line_manager for i in items if i.line_manager}
            if not codes:
                return items
            rows = session.execute(select(Staff.code, Staff.name).where(Staff.code.in_(codes)))
            names: dict[str, str] = {code: name for code, name in rows}
        return tuple(
            replace(i, line_manager=f"{names[i.line_manager]} ({i.line_manager})")
            if i.line_manager in names
            else i
            for i in items
        )

    def overdue(self) -> tuple[OffsiteItem, ...]:
        return tuple(item for item in self.offsite_now() if item.overdue)

    def workload(self) -> tuple[WorkloadRow, ...]:
        """Off-site sign-outs per person over the last 4 and 12 weeks, busiest first."""
        now = self.ctx.clock()
        threshold = self.ctx.settings.regular_use_threshold
        with self.ctx.read() as session:
            # Weeks are school weeks: a 7-day window with no school day in it (half term)
            # joins the newer one, and the 12 weeks reach back past it.
            calendar = school_events.current_calendar(session)
            today = local_date(now, self.ctx.settings.zone)
            windows = calendar.windows_for_school_weeks(today, 12)
            bucket = [calendar.school_window_index(today, k) for k in range(windows + 1)]
            since = state.weeks_ago(now, windows)
            batches: dict[int, set[tuple[str | None, int]]] = defaultdict(set)
            weekly: dict[int, list[int]] = defaultdict(lambda: [0] * 12)
            recent28: dict[int, set[str | None]] = defaultdict(set)
            for staff_id, at, batch in state.sign_out_times(session, since):
                key = (batch, int(at.timestamp()) if batch is None else 0)
                if key in batches[staff_id]:
                    continue
                batches[staff_id].add(key)
                window = min(windows, int((now - at) / timedelta(weeks=1)))
                week = min(11, bucket[window])
                weekly[staff_id][11 - week] += 1
                if now - at <= timedelta(days=28):
                    recent28[staff_id].add(batch)
            if not batches:
                return ()
            people = state.staff_infos(
                session, list(session.scalars(select(Staff).where(Staff.id.in_(batches))))
            )
        rows = []
        for staff_id, weeks in weekly.items():
            last4 = sum(weeks[-4:])
            rows.append(
                WorkloadRow(
                    staff=people[staff_id],
                    last_4_weeks=last4,
                    last_12_weeks=sum(weeks),
                    last_28_days=len(recent28[staff_id]),
                    above_threshold=len(recent28[staff_id]) > threshold,
                    weekly=tuple(weeks),
                )
            )
        rows.sort(key=lambda r: (-r.last_4_weeks, -r.last_12_weeks, r.staff.name))
        return tuple(rows)


def _missing_message(staff: StaffInfo, check: SignOutCheck) -> str:
    needs = [f"{p.title} ({p.version})" for p in check.missing_policies]
    if check.vdu_missing:
        needs.append("display-screen (VDU) training")
    return (
        f"Before a device goes off site, {staff.name} must first complete: "
        + "; ".join(needs)
        + "."
    )


def _check_agreeing_manager(session: Session, code: str, signing_out: str) -> None:
    """The line manager who agreed a sign-out is someone else still on the staff list: the
    kiosk's list offers no one else, and a call from elsewhere (or a manager retired while
    the form was open) recorded a leaver, or the person herself, as having agreed."""
    if code == signing_out:
        raise RuleViolation(
            "The line manager who agreed it must be someone else: choose them from the list."
        )
    row = session.execute(select(Staff.name, Staff.retired_at).where(Staff.code == code)).first()
    if row is not None and row.retired_at is not None:
        raise RuleViolation(
            f"{row.name} has left the school: choose the line manager who agreed it from the list."
        )
