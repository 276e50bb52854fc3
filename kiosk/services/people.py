"""Staff and devices: who someone is, what a scan means, and keeping the lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Device, Staff, StaffRole, Store
from kiosk.domain.errors import InvalidInput, NotAKioskCode, NotFound, RuleViolation
from kiosk.domain.events import DeviceKind, EventKind, Role
from kiosk.domain.scan import CODE_PATTERN, SCAN_AGAIN, ScanKind, parse_scan
from kiosk.domain.text import unsafe_characters
from kiosk.domain.timeutil import local_date
from kiosk.services import state
from kiosk.services.common import UseCases
from kiosk.services.uow import UnitOfWork
from kiosk.services.views import (
    DeviceInfo,
    DeviceStatus,
    ImportProblem,
    ImportReport,
    StaffInfo,
    StaffStatus,
    StoreInfo,
)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_FIELD = 1000


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan identified: a person (with their status) or a device (with its state)."""

    staff: StaffStatus | None = None
    device: DeviceStatus | None = None


class PeopleService(UseCases):
    # --- what the kiosk shows -----------------------------------------------------------

    def resolve_scan(self, text: str) -> ScanResult:
        """Badge, label or a typed code -> the person or the device. Raises with a clear message."""
        scan = parse_scan(text)
        with self.ctx.read() as session:
            if scan.kind in (ScanKind.STAFF, ScanKind.EITHER):
                found = state.find_staff(session, scan.code)
                if found is not None:
                    return ScanResult(staff=self._status(session, scan.code, found))
                if scan.kind is ScanKind.STAFF:
                    raise NotFound(f"Badge {scan.code} is not on the staff list. Ask the office.")
            device = session.scalar(select(Device).where(Device.tag == scan.code))
            if device is None:
                if scan.kind is ScanKind.DEVICE:
                    raise NotFound(f"Label {scan.code} is not on the device list. Ask the office.")
                raise NotAKioskCode(
                    f"{scan.code} is not a staff code or an asset tag. {SCAN_AGAIN}"
                )
            if device.retired_at is not None:
                raise RuleViolation(f"{device.tag} has been retired. Please hand it to the office.")
            now = self.ctx.clock()
            return ScanResult(
                device=DeviceStatus(
                    state.device_info(device), state.device_offsite(session, device, now)
                )
            )

    def status(self, staff_code: str) -> StaffStatus:
        with self.ctx.read() as session:
            return self._status(session, staff_code)

    def _status(self, session: Session, staff_code: str, found: Any = None) -> StaffStatus:
        now = self.ctx.clock()
        today = local_date(now, self.ctx.settings.zone)
        return state.staff_status(session, staff_code, now, today, row=found)

    # --- staff -------------------------------------------------------------------------------

    def list_staff(self, *, include_retired: bool = False) -> tuple[StaffInfo, ...]:
        with self.ctx.read() as session:
            stmt = select(Staff).order_by(Staff.name)
            if not include_retired:
                stmt = stmt.where(Staff.retired_at.is_(None))
            people = list(session.scalars(stmt))
            infos = state.staff_infos(session, people)
            return tuple(infos[p.id] for p in people)

    def add_staff(
        self,
        code: str,
        name: str,
        *,
        email: str | None = None,
        line_manager: str | None = None,
        roles: Iterable[str] = (),
        admin_code: str | None = None,
    ) -> StaffInfo:
        row = _staff_row(
            {
                "code": code,
                "name": name,
                "email": email or "",
                "line_manager": line_manager or "",
                "roles": ";".join(roles),
            }
        )
        with self.ctx.write() as uow:
            if uow.session.scalar(select(Staff.id).where(Staff.code == row["code"])) is not None:
                raise RuleViolation(f"Staff code {row['code']} is already in use.")
            staff = _create_staff(uow, row)
            _audit(uow, admin_code, "staff_added", code=row["code"])
            return state.get_staff_info(uow.session, staff.code)

    def retire_staff(self, code: str, *, admin_code: str | None = None) -> StaffInfo:
        with self.ctx.write() as uow:
            staff = state.get_staff(uow.session, code)
            if admin_code and state.get_staff(uow.session, admin_code).id == staff.id:
                raise RuleViolation("You cannot retire yourself: ask another admin.")
            staff.retired_at = uow.now
            _audit(uow, admin_code, "staff_retired", code=staff.code)
            return state.get_staff_info(uow.session, staff.code, active=False)

    def import_staff_csv(
        self, data: bytes, *, skip_invalid: bool = False, admin_code: str | None = None
    ) -> ImportReport:
        """Import a roster (code,name[,email,line_manager,roles]). One transaction."""
        return self._import(
            data,
            required=("code", "name"),
            optional=("email", "line_manager", "roles"),
            parse=_staff_row,
            key="code",
            model=Staff,
            apply=_upsert_staff,
            skip_invalid=skip_invalid,
            what="staff",
            admin_code=admin_code,
        )

    # --- devices -----------------------------------------------------------------------------

    def list_devices(self, *, include_retired: bool = False) -> tuple[DeviceInfo, ...]:
        with self.ctx.read() as session:
            stmt = select(Device).order_by(Device.tag)
            if not include_retired:
                stmt = stmt.where(Device.retired_at.is_(None))
            return tuple(state.device_info(d) for d in session.scalars(stmt))

    def add_device(
        self, tag: str, kind: str, description: str = "", *, admin_code: str | None = None
    ) -> DeviceInfo:
        row = _device_row({"tag": tag, "kind": kind, "description": description})
        with self.ctx.write() as uow:
            if uow.session.scalar(select(Device.id).where(Device.tag == row["tag"])) is not None:
                raise RuleViolation(f"Asset tag {row['tag']} is already in use.")
            device = _create_device(uow, row)
            _audit(uow, admin_code, "device_added", tag=device.tag)
            return state.device_info(device)

    def retire_device(self, tag: str, *, admin_code: str | None = None) -> DeviceInfo:
        with self.ctx.write() as uow:
            device = state.get_device(uow.session, tag)
            if state.device_offsite(uow.session, device, uow.now) is not None:
                raise RuleViolation(
                    f"{device.tag} is off site: record its return before retiring it."
                )
            device.retired_at = uow.now
            _audit(uow, admin_code, "device_retired", tag=device.tag)
            return state.device_info(device)

    def import_devices_csv(
        self, data: bytes, *, skip_invalid: bool = False, admin_code: str | None = None
    ) -> ImportReport:
        """Import devices (tag,kind[,description]). One transaction."""
        return self._import(
            data,
            required=("tag", "kind"),
            optional=("description",),
            parse=_device_row,
            key="tag",
            model=Device,
            apply=_upsert_device,
            skip_invalid=skip_invalid,
            what="devices",
            admin_code=admin_code,
        )

    # --- stores ------------------------------------------------------------------------------

    def add_store(self, code: str, name: str, *, admin_code: str | None = None) -> StoreInfo:
        if not CODE_PATTERN.match(code.strip().upper()) or not name.strip():
            raise InvalidInput("A store needs a short code (letters and digits) and a name.")
        with self.ctx.write() as uow:
            code = code.strip().upper()
            if uow.session.scalar(select(Store.id).where(Store.code == code)) is not None:
                raise RuleViolation(f"A store called {code} already exists.")
            store = Store(code=code, name=name.strip()[:200], created_at=uow.now)
            uow.session.add(store)
            uow.session.flush()
            _audit(uow, admin_code, "store_added", code=code)
            return state.store_info(store)

    # --- CSV import ----------------------------------------------------------------------------

    def _import(
        self,
        data: bytes,
        *,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        parse: Callable[[dict[str, str]], dict[str, Any]],
        key: str,
        model: type[Staff] | type[Device],
        apply: Callable[[UnitOfWork, dict[str, Any], Any], bool],
        skip_invalid: bool,
        what: str,
        admin_code: str | None = None,
    ) -> ImportReport:
        rows, problems = _read_csv(data, required, optional, parse, key)
        if problems and not skip_invalid:
            return ImportReport(0, 0, 0, tuple(problems), imported=False)
        added = updated = unchanged = 0
        with self.ctx.write() as uow:
            if admin_code:
                _acting_admin(uow, admin_code)
            column = getattr(model, key)
            existing = {
                getattr(obj, key): obj
                for obj in uow.session.scalars(
                    select(model).where(column.in_([r[key] for r in rows]))
                )
            }
            for row in rows:
                current = existing.get(row[key])
                changed = apply(uow, row, current)
                if current is None:
                    added += 1
                elif not changed:
                    unchanged += 1
                else:
                    updated += 1
            _audit(uow, admin_code, f"{what}_imported", added=added, updated=updated)
        return ImportReport(added, updated, unchanged, tuple(problems), imported=True)


def _acting_admin(uow: UnitOfWork, admin_code: str) -> StaffInfo:
    """The member of staff named as acting: they must hold the admin role."""
    admin = state.get_staff_info(uow.session, admin_code)
    if not admin.has_role(Role.ADMIN.value):
        raise RuleViolation(f"{admin.name} is not an admin: only admins can change the lists.")
    return admin


def _audit(uow: UnitOfWork, admin_code: str | None, action: str, **details: Any) -> None:
    """An admin action event naming who did it (nobody named: the command line)."""
    admin = _acting_admin(uow, admin_code) if admin_code else None
    uow.record(
        EventKind.ADMIN_ACTION,
        staff_id=admin.id if admin else None,
        details={"action": action, **details},
    )


def _read_csv(
    data: bytes,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    parse: Callable[[dict[str, str]], dict[str, Any]],
    key: str,
) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput("The file is larger than 5 MB: is it the right file?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 (Comma delimited)'."
        ) from None
    if "\x00" in text:
        raise InvalidInput("The file is not a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The file is empty: it needs a header row.") from None
    except csv.Error as exc:
        raise InvalidInput(f"The header row cannot be read: {exc}.") from None
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise InvalidInput(
            f"The header row must have the columns {', '.join(required)}; "
            f"missing: {', '.join(missing)}. Found: {', '.join(columns) or 'nothing'}."
        )
    unknown = [c for c in columns if c and c not in required + optional]
    if unknown:
        raise InvalidInput(
            f"Unknown column(s): {', '.join(unknown)}. Allowed: {', '.join(required + optional)}."
        )
    rows: list[dict[str, Any]] = []
    problems: list[ImportProblem] = []
    seen: dict[str, int] = {}
    line = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(ImportProblem(reader.line_num, f"cannot be read ({exc})"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) > len(columns):
            problems.append(
                ImportProblem(line, f"has {len(raw)} fields, the header has {len(columns)}")
            )
            continue
        record = {c: (raw[i] if i < len(raw) else "") for i, c in enumerate(columns) if c}
        try:
            row = parse(record)
        except InvalidInput as exc:
            problems.append(ImportProblem(line, exc.message))
            continue
        if row[key] in seen:
            problems.append(ImportProblem(line, f"{row[key]} is also on line {seen[row[key]]}"))
            continue
        seen[row[key]] = line
        rows.append(row)
    return rows, problems


def _field(record: dict[str, str], name: str, *, required: bool = False) -> str:
    value = (record.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"{name} is empty")
    if len(value) > MAX_FIELD:
        raise InvalidInput(f"{name} is longer than {MAX_FIELD} characters")
    found = unsafe_characters(value)
    if found:
        raise InvalidInput(
            f"{name} contains {', '.join(found)}: a character that is invisible or that "
            "changes how text is shown (copied from a web page or document?). Type it again."
        )
    return value


def _code(value: str, what: str) -> str:
    code = value.strip().upper()
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            f"{what} {value!r} must be 1-32 letters, digits, '-', '.' or '/', starting with a "
            "letter or digit"
        )
    return code


def _staff_row(record: dict[str, str]) -> dict[str, Any]:
    code = _code(_field(record, "code", required=True), "code")
    name = _field(record, "name", required=True)
    if len(name) > 200:
        raise InvalidInput("name is longer than 200 characters")
    email = _field(record, "email") or None
    if email and ("@" not in email or " " in email or len(email) > 320):
        raise InvalidInput(f"email {email!r} is not an email address")
    manager = _field(record, "line_manager")[:200] or None
    roles = set()
    for part in _field(record, "roles").replace(",", ";").split(";"):
        role = part.strip().lower().replace(" ", "_").replace("-", "_")
        if not role:
            continue
        if role not in {r.value for r in Role}:
            raise InvalidInput(
                f"role {part.strip()!r} is not one of {', '.join(r.value for r in Role)}"
            )
        roles.add(role)
    return {"code": code, "name": name, "email": email, "line_manager": manager, "roles": roles}


def _create_staff(uow: UnitOfWork, row: dict[str, Any]) -> Staff:
    session = uow.session
    staff = Staff(
        code=row["code"],
        name=row["name"],
        email=row["email"],
        line_manager=row["line_manager"],
        created_at=uow.now,
    )
    session.add(staff)
    session.flush()
    session.add_all(StaffRole(staff_id=staff.id, role=r) for r in sorted(row["roles"]))
    session.flush()
    return staff


def _upsert_staff(uow: UnitOfWork, row: dict[str, Any], staff: Staff | None) -> bool:
    """Create or update one person; False when nothing changed."""
    if staff is None:
        _create_staff(uow, row)
        return True
    session = uow.session
    current_roles = state.roles_of(session, [staff.id])[staff.id]
    same = (
        staff.name == row["name"]
        and staff.email == row["email"]
        and staff.line_manager == row["line_manager"]
        and current_roles == frozenset(row["roles"])
        and staff.retired_at is None
    )
    if same:
        return False
    staff.name, staff.email, staff.line_manager = row["name"], row["email"], row["line_manager"]
    staff.retired_at = None
    for role in current_roles - row["roles"]:
        obj = session.get(StaffRole, (staff.id, role))
        if obj is not None:
            session.delete(obj)
    session.add_all(
        StaffRole(staff_id=staff.id, role=r) for r in sorted(row["roles"] - current_roles)
    )
    session.flush()
    return True


def _device_row(record: dict[str, str]) -> dict[str, Any]:
    tag = _code(_field(record, "tag", required=True), "tag")
    kind = _field(record, "kind", required=True).lower().replace(" ", "_").replace("-", "_")
    if kind not in {k.value for k in DeviceKind}:
        raise InvalidInput(f"kind {kind!r} must be laptop or work_phone")
    description = _field(record, "description")
    if len(description) > 200:
        raise InvalidInput("description is longer than 200 characters")
    return {"tag": tag, "kind": kind, "description": description}


def _create_device(uow: UnitOfWork, row: dict[str, Any]) -> Device:
    device = Device(
        tag=row["tag"], kind=row["kind"], description=row["description"], created_at=uow.now
    )
    uow.session.add(device)
    uow.session.flush()
    return device


def _upsert_device(uow: UnitOfWork, row: dict[str, Any], device: Device | None) -> bool:
    """Create or update one device; False when nothing changed."""
    if device is None:
        _create_device(uow, row)
        return True
    if (
        device.kind == row["kind"]
        and device.description == row["description"]
        and device.retired_at is None
    ):
        return False
    device.kind, device.description, device.retired_at = row["kind"], row["description"], None
    uow.session.flush()
    return True
