"""Staff and devices: who someone is, what a scan means, and keeping the lists."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk.db.models import Device, Staff, StaffRole, Store
from kiosk.domain.address import email_problem, not_an_email
from kiosk.domain.csvtext import read_header, read_lines, semicolon_separated
from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import (
    InvalidInput,
    KioskError,
    NotAKioskCode,
    NotFound,
    RuleViolation,
)
from kiosk.domain.events import BREAKFAST_DRAWER_STORE, EventKind, Role
from kiosk.domain.scan import (
    CODE_PATTERN,
    SCAN_AGAIN,
    ScanKind,
    parse_scan,
)
from kiosk.domain.text import (
    bracketed_parts,
    check_typed_line,
    code_skeleton,
    lookalike_letters,
    name_key,
    plain_line,
    unsafe_characters,
)
from kiosk.domain.timeutil import local_date
from kiosk.services import school_events, state
from kiosk.services.common import Unreadable, UseCases, read_rows
from kiosk.services.uow import UNREADABLE_ERRORS, UnitOfWork
from kiosk.services.views import (
    DeviceInfo,
    DeviceStatus,
    Holding,
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
                    if scan.kind is ScanKind.EITHER and state.is_device_tag(session, scan.code):
                        # typed: the person or the device? Neither is guessed.
                        raise state.ambiguous_code(scan.code)
                    return ScanResult(staff=self._status(session, scan.code, found))
                if scan.kind is ScanKind.STAFF:
                    raise NotFound(
                        f"Badge {scan.code} is not on the staff list. Ask the office.",
                        quoted=scan.code,
                    )
            device = session.scalar(select(Device).where(Device.tag == scan.code))
            if device is None:
                if scan.kind is ScanKind.DEVICE:
                    raise NotFound(
                        f"Label {scan.code} is not on the device list. Ask the office.",
                        quoted=scan.code,
                    )
                raise NotAKioskCode(
                    f"{scan.code} is not a staff code or an asset tag. {SCAN_AGAIN}",
                    quoted=scan.code,
                )
            if device.retired_at is not None:
                raise RuleViolation(f"{device.tag} has been retired. Please hand it to the office.")
            now = self.ctx.clock()
            kinds = school_events.current_device_kinds(session)
            return ScanResult(
                device=DeviceStatus(
                    state.device_info(device, kinds), state.device_offsite(session, device, now)
                )
            )

    def refuse_ambiguous(self, text: str) -> None:
        """Raises AmbiguousCode when ``text`` is a code typed without a prefix that is both a
        staff code and a device's tag (what ``resolve_scan`` refuses); a badge's or label's
        payload, or anything else, passes."""
        try:
            scan = parse_scan(text)
        except KioskError:
            return
        if scan.kind is ScanKind.EITHER:
            with self.ctx.read(recording=True) as session:  # checked before a phone is logged
                state.refuse_ambiguous(session, scan.code)

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
            people = _readable(session, stmt, Staff.id, "staff")
            try:
                infos = state.staff_infos(session, people)
            except UNREADABLE_ERRORS:  # a role or manager row that cannot be read
                infos = {}
                for person in _readable_each(people, "staff", partial(_staff_info, session)):
                    infos[person.id] = person
            return tuple(infos[p.id] for p in people if p.id in infos)

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
            if state.is_device_tag(uow.session, row["code"]):
                raise RuleViolation(
                    f"{row['code']} was not added: {_IS_A_DEVICE_TAG.format(code=row['code'])}."
                )
            lookalike = _shapes(uow.session).other(row["code"], "staff code")
            if lookalike is not None:
                raise RuleViolation(f"{row['code']} was not added: {lookalike}.")
            codes = set(uow.session.scalars(select(Staff.code)))
            shown = _names_another(row["name"], row["code"], codes)
            if shown is not None:
                raise InvalidInput(f"{row['code']} was not added: {_SHOWS_A_CODE.format(shown)}.")
            if row["line_manager"]:
                try:
                    row["line_manager"] = manager_code(uow.session, row["line_manager"])
                except InvalidInput as exc:
                    raise InvalidInput(f"{row['code']} was not added: {exc.message}.") from None
            staff = _create_staff(uow, row, _by(uow, admin_code))
            _audit(uow, admin_code, "staff_added", code=row["code"])
            return state.get_staff_info(uow.session, staff.code)

    def holding(self, code: str) -> Holding | None:
        """What ``code`` still holds (devices off site, a phone in a store), said as
        retiring them says it; None when nothing."""
        with self.ctx.read() as session:
            return _holders(session, self.ctx.clock(), [code]).get(code)

    def retire_staff(
        self, code: str, *, admin_code: str | None = None, force: bool = False
    ) -> StaffInfo:
        """Mark someone as having left. Refused for the last admin, and while they have a
        device off site or a phone in a store unless ``force`` (the screens warn first,
        then pass force)."""
        with self.ctx.write() as uow:
            staff = state.get_staff(uow.session, code)
            if admin_code and state.get_staff(uow.session, admin_code).id == staff.id:
                raise RuleViolation("You cannot retire yourself: ask another admin.")
            _refuse_last_admin(uow.session, [staff.id])
            if not force:
                holding = _holders(uow.session, uow.now, [staff.code]).get(staff.code)
                if holding is not None:
                    raise RuleViolation(
                        f"{holding.said}. {_LEAVING}: {holding.first} first, or retire them "
                        f"anyway with --force ({holding.kept})."
                    )
            roles = state.roles_of(uow.session, [staff.id])[staff.id]
            row = _staff_values(staff, roles) | {"retired_at": uow.now}
            uow.change_reference("staff", staff.id, row, by=_by(uow, admin_code))
            _audit(uow, admin_code, "staff_retired", code=row["code"])
            return state.get_staff_info(uow.session, staff.code, active=False)

    def import_staff_csv(
        self,
        data: bytes,
        *,
        skip_invalid: bool = False,
        admin_code: str | None = None,
        retire_missing: bool = False,
        force: bool = False,
    ) -> ImportReport:
        """Import a roster (code,name[,email,line_manager,roles]). One transaction.

        A line manager is a member of staff (their code or their name, on the list or in the
        file) and is stored as their code; an unknown one makes its line invalid. An import
        that would leave no admin is refused. With ``retire_missing``, active staff not in
        the file are retired, except anyone with a device off site or a phone in a store (a
        warning says so) unless ``force``."""
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
            check=partial(_check_roster, retire_missing=retire_missing, force=force),
            force=force,
        )

    # --- devices -----------------------------------------------------------------------------

    def list_devices(self, *, include_retired: bool = False) -> tuple[DeviceInfo, ...]:
        with self.ctx.read() as session:
            stmt = select(Device).order_by(Device.tag)
            if not include_retired:
                stmt = stmt.where(Device.retired_at.is_(None))
            kinds = school_events.current_device_kinds(session)
            devices = _readable(session, stmt, Device.id, "device")
            return tuple(_readable_each(devices, "device", partial(state.device_info, kinds=kinds)))

    def add_device(
        self, tag: str, kind: str, description: str = "", *, admin_code: str | None = None
    ) -> DeviceInfo:
        with self.ctx.write() as uow:
            kinds = school_events.current_device_kinds(uow.session)
            row = _device_row({"tag": tag, "kind": kind, "description": description}, kinds)
            if uow.session.scalar(select(Device.id).where(Device.tag == row["tag"])) is not None:
                raise RuleViolation(f"Asset tag {row['tag']} is already in use.")
            if state.is_staff_code(uow.session, row["tag"]):
                raise RuleViolation(
                    f"{row['tag']} was not added: {_IS_A_STAFF_CODE.format(tag=row['tag'])}."
                )
            lookalike = _shapes(uow.session).other(row["tag"], "tag")
            if lookalike is not None:
                raise RuleViolation(f"{row['tag']} was not added: {lookalike}.")
            device = _create_device(uow, row, _by(uow, admin_code))
            _audit(uow, admin_code, "device_added", tag=device.tag)
            return state.device_info(device, kinds)

    def retire_device(self, tag: str, *, admin_code: str | None = None) -> DeviceInfo:
        with self.ctx.write() as uow:
            device = state.get_device(uow.session, tag)
            if state.device_offsite(uow.session, device, uow.now) is not None:
                raise RuleViolation(
                    f"{device.tag} is off site: record its return before retiring it."
                )
            row = _device_values(device) | {"retired_at": uow.now}
            uow.change_reference("devices", device.id, row, by=_by(uow, admin_code))
            _audit(uow, admin_code, "device_retired", tag=row["tag"])
            return state.device_info(
                uow.session.get_one(Device, device.id),
                school_events.current_device_kinds(uow.session),
            )

    def import_devices_csv(
        self, data: bytes, *, skip_invalid: bool = False, admin_code: str | None = None
    ) -> ImportReport:
        """Import devices (tag,kind[,description]). One transaction."""
        with self.ctx.read() as session:
            kinds = school_events.current_device_kinds(session)
        return self._import(
            data,
            required=("tag", "kind"),
            optional=("description",),
            parse=partial(_device_row, kinds=kinds),
            key="tag",
            model=Device,
            apply=_upsert_device,
            skip_invalid=skip_invalid,
            what="devices",
            admin_code=admin_code,
            check=_check_devices,
        )

    # --- stores ------------------------------------------------------------------------------

    def add_store(self, code: str, name: str, *, admin_code: str | None = None) -> StoreInfo:
        if not CODE_PATTERN.match(code.strip().upper()) or not name.strip():
            raise InvalidInput("A store needs a short code (letters and digits) and a name.")
        check_typed_line(name, "store name")
        with self.ctx.write() as uow:
            code = code.strip().upper()
            if uow.session.scalar(select(Store.id).where(Store.code == code)) is not None:
                raise RuleViolation(f"A store called {code} already exists.")
            store_id = uow.next_id("stores")
            uow.change_reference(
                "stores",
                store_id,
                {
                    "code": code,
                    "name": name.strip()[:200],
                    "created_at": uow.now,
                    "retired_at": None,
                },
                by=_by(uow, admin_code),
            )
            store = uow.session.get_one(Store, store_id)
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
        apply: Callable[[UnitOfWork, dict[str, Any], Any, int | None], bool],
        skip_invalid: bool,
        what: str,
        admin_code: str | None = None,
        check: RosterCheck,
        force: bool = False,
    ) -> ImportReport:
        rows, problems, unread = _read_csv(data, required, optional, parse, key)
        warnings: list[str] = []
        added = updated = unchanged = 0
        with self.ctx.write() as uow:
            by = _by(uow, admin_code)
            # The rows read are checked against the list (line managers) even when some
            # could not be read (``unread``: their code and name cells, still in the file):
            # the report names every line with a problem at once.
            try:
                rows, more, retired = check(uow, rows, unread)
            except RuleViolation as exc:
                if problems and not skip_invalid:
                    raise RuleViolation(f"{exc.message} {_also_said(problems)}") from None
                raise
            problems = sorted([*problems, *more], key=lambda p: p.line)
            if problems and not skip_invalid:
                return ImportReport(0, 0, 0, tuple(problems), imported=False)
            column = getattr(model, key)
            existing = {
                getattr(obj, key): obj
                for obj in uow.session.scalars(
                    select(model).where(column.in_([r[key] for r in rows]))
                )
            }
            for row in rows:
                current = existing.get(row[key])
                changed = apply(uow, row, current, by)
                if current is None:
                    added += 1
                elif not changed:
                    unchanged += 1
                else:
                    updated += 1
            if retired:
                for code, holding in _holders(uow.session, uow.now, retired).items():
                    held = "; ".join(holding.held)
                    if force:
                        warnings.append(f"{code} retired (--force): {held} ({holding.kept})")
                    else:
                        retired.remove(code)
                        warnings.append(
                            f"{code} not retired: {held} ({_LEAVING}: {holding.first} first, "
                            "or use --force)"
                        )
                _retire_codes(uow, retired, by)
            _audit(
                uow,
                admin_code,
                f"{what}_imported",
                added=added,
                updated=updated,
                **({"retired": ", ".join(retired)} if retired else {}),
            )
        return ImportReport(
            added,
            updated,
            unchanged,
            tuple(problems),
            imported=True,
            retired=tuple(retired),
            warnings=tuple(warnings),
        )


# A code typed at the kiosk without a badge's or label's prefix is looked up as a staff code
# and as a device tag: one code must not be both (resolve_scan refuses one that is).
_IS_A_DEVICE_TAG = (
    "{code} is a device's label (asset tag): a staff code must not be one, or typing it at "
    "the kiosk could mean either. Give this person another code"
)
_IS_A_STAFF_CODE = (
    "{tag} is a member of staff's code: an asset tag must not be one, or typing it at the "
    "kiosk could mean either. Give the device another tag"
)
# Codes are typed by hand at the kiosk as often as scanned: one a dot, a dash, a slash or a
# letter's case apart from another (LAP.001 beside LAP-001, D.HALL beside DHALL) is the other
# one mistyped, and the register then names the wrong laptop or person.
_READS_AS = (
    "{code} reads as {other}, {whose} (they differ only in dots, dashes, slashes or "
    "spaces): typed at the kiosk, one would be taken for the other. Give it another {what}"
)


class _Shapes:
    """The codes in use (staff codes and asset tags) by how each reads (``code_skeleton``)."""

    def __init__(self, staff: Iterable[str], tags: Iterable[str]) -> None:
        self.by_shape: dict[str, list[tuple[str, str]]] = {}
        for code in staff:
            self.add(code, "a member of staff's code")
        for tag in tags:
            self.add(tag, "a device's tag")

    def add(self, code: str, whose: str) -> None:
        self.by_shape.setdefault(code_skeleton(code), []).append((code, whose))

    def other(self, code: str, what: str) -> str | None:
        """Why ``code`` (a new one) may not be added, or None."""
        for other, whose in self.by_shape.get(code_skeleton(code), ()):
            if other.upper() != code.upper():
                return _READS_AS.format(code=code, other=other, whose=whose, what=what)
        return None


def _shapes(session: Session) -> _Shapes:
    return _Shapes(session.scalars(select(Staff.code)), session.scalars(select(Device.tag)))


def _also_said(problems: list[ImportProblem]) -> str:
    """The lines with a problem, said after a refusal of the whole file."""
    listed = "; ".join(f"line {p.line}: {p.reason}" for p in problems[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    return f"The file also has {len(problems)} line(s) with a problem: {listed}{more}."


def _check_devices(
    uow: UnitOfWork, rows: list[dict[str, Any]], unread: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[ImportProblem], list[str]]:
    """A device's tag that is a staff code (current or retired, without case) is a problem."""
    codes = {c.upper() for c in uow.session.scalars(select(Staff.code))}
    shapes = _shapes(uow.session)
    tags = set(uow.session.scalars(select(Device.tag)))
    kept: list[dict[str, Any]] = []
    problems: list[ImportProblem] = []
    for row in rows:
        if row["tag"].upper() in codes:
            problems.append(ImportProblem(row["line"], _IS_A_STAFF_CODE.format(tag=row["tag"])))
            continue
        if row["tag"] not in tags:  # a new device: not one another code reads as
            lookalike = shapes.other(row["tag"], "tag")
            if lookalike is not None:
                problems.append(ImportProblem(row["line"], lookalike))
                continue
            shapes.add(row["tag"], f"a device's tag on line {row['line']}")
        kept.append(row)
    return kept, problems, []


RosterCheck = Callable[
    [UnitOfWork, list[dict[str, Any]], list[dict[str, Any]]],
    tuple[list[dict[str, Any]], list[ImportProblem], list[str]],
]


def _active_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.retired_at.is_(None))))


def manager_code(session: Session, manager: str) -> str:
    """The code of the member of staff ``manager`` names (their code, or the name of one
    person on the list). Raises InvalidInput when it names nobody, or several people."""
    code = manager.strip().upper()
    known = session.scalar(select(Staff.id).where(Staff.code == code)) is not None
    named = set(
        session.scalars(
            select(Staff.code).where(
                func.lower(Staff.name) == manager.strip().lower(), Staff.retired_at.is_(None)
            )
        )
    )
    return _resolved_manager(manager, known=known, named=named, where="on the staff list")


def _resolved_manager(manager: str, *, known: bool, named: set[str], where: str) -> str:
    """A line manager as typed -> the code kept: the code itself when ``known`` (a staff
    code), else the code of the one person ``named`` so. The roster import and adding one
    person read it alike (InvalidInput saying why not)."""
    if known:
        return manager.strip().upper()
    if len(named) == 1:
        return next(iter(named))
    if named:
        raise InvalidInput(
            f"line manager {manager!r} is the name of {len(named)} people: "
            f"use their code ({', '.join(sorted(named))})"
        )
    raise InvalidInput(
        f"line manager {manager!r} is not {where} "
        "(give their staff code or their name as on the list)"
    )


def _refuse_last_admin(session: Session, leaving: list[int]) -> None:
    admins = set(
        session.scalars(
            select(StaffRole.staff_id)
            .join(Staff, Staff.id == StaffRole.staff_id)
            .where(StaffRole.role == Role.ADMIN.value, Staff.retired_at.is_(None))
        )
    )
    if admins and not admins - set(leaving):
        raise RuleViolation(
            "That would leave the school with no admin: give someone else the admin role first."
        )


def _retire_codes(uow: UnitOfWork, codes: list[str], by: int | None) -> None:
    """Retire each of ``codes``: a recorded change of their reference row."""
    people = list(uow.session.scalars(select(Staff).where(Staff.code.in_(codes))))
    roles = state.roles_of(uow.session, [p.id for p in people]) if people else {}
    for staff in people:
        row = _staff_values(staff, roles.get(staff.id, ())) | {"retired_at": uow.now}
        uow.change_reference("staff", staff.id, row, by=by)


# Every list shows a person as "Name (CODE)": a name carrying another's code in brackets,
# "Alice Smith (ASMITH)" for ASMITH2, reads as that other person at a glance. Any brackets do
# (full-width, superscript, ornamental, < >, « »), and a code is read by its shape: without
# case, spaces, dots or dashes, letters of other alphabets drawn as Latin ones as those.
_SHOWS_A_CODE = (
    "the name shows {0} in brackets, the staff code of another member of staff, so every "
    "list would seem to name {0}. Leave the code out of the name (a nickname in brackets "
    "too, when it is someone's staff code)"
)


def _names_another(name: str, own: str, codes: set[str]) -> str | None:
    """The other person's staff code ``name`` shows in brackets, or None."""
    own_text = own.strip().casefold()
    shown = {
        code_skeleton(part)
        for part in bracketed_parts(name)
        if unicodedata.normalize("NFKC", part).strip().casefold() != own_text
    }
    shown.discard("")
    if not shown:
        return None
    for code in sorted(codes):
        if code.upper() != own.upper() and code_skeleton(code) in shown:
            return code
    return None


def _check_roster(
    uow: UnitOfWork,
    rows: list[dict[str, Any]],
    unread: list[dict[str, Any]],
    *,
    retire_missing: bool,
    force: bool = False,
) -> tuple[list[dict[str, Any]], list[ImportProblem], list[str]]:
    """Line managers named by code or name (on the list or in the file) become codes; the
    rows naming an unknown one are problems, and so, saying so, are those naming someone
    whose own line could not be read (``unread``: its line, code and name cells). Then: the
    school keeps an admin, and with ``retire_missing`` the active staff missing from the
    file (a line that could not be read still names its code) are to be retired."""
    session = uow.session
    unread_lines: dict[str, int] = {}
    for bad in unread:
        for cell in (bad["code"].upper(), bad["name"].lower()):
            if cell:
                unread_lines.setdefault(cell, bad["line"])
    people = list(session.scalars(select(Staff)))
    codes = {p.code for p in people} | {r["code"] for r in rows}
    by_name: dict[str, set[str]] = {}
    for p in people:
        if p.retired_at is None:
            by_name.setdefault(p.name.strip().lower(), set()).add(p.code)
    for r in rows:
        by_name.setdefault(r["name"].strip().lower(), set()).add(r["code"])
    tags = {t.upper() for t in session.scalars(select(Device.tag))}
    kept: list[dict[str, Any]] = []
    problems: list[ImportProblem] = []
    shapes = _Shapes((p.code for p in people), tags)
    existing = {p.code for p in people}
    for row in rows:
        if row["code"].upper() in tags:
            problems.append(ImportProblem(row["line"], _IS_A_DEVICE_TAG.format(code=row["code"])))
            continue
        if row["code"] not in existing:  # someone new: not at a code another reads as
            lookalike = shapes.other(row["code"], "staff code")
            if lookalike is not None:
                problems.append(ImportProblem(row["line"], lookalike))
                continue
            shapes.add(row["code"], f"a staff code on line {row['line']}")
        shown = _names_another(row["name"], row["code"], codes)
        if shown is not None:
            problems.append(ImportProblem(row["line"], _SHOWS_A_CODE.format(shown)))
            continue
        manager = row.get("line_manager")
        if manager:
            named = by_name.get(manager.strip().lower(), set())
            if manager.strip().upper() not in codes and not named:
                on_line = unread_lines.get(manager.strip().upper()) or unread_lines.get(
                    manager.strip().lower()
                )
                if on_line is not None:
                    problems.append(
                        ImportProblem(
                            row["line"],
                            f"line manager {manager!r} is on line {on_line}, which has a problem",
                        )
                    )
                    continue
            try:
                code = _resolved_manager(
                    manager,
                    known=manager.strip().upper() in codes,
                    named=named,
                    where="on the staff list or in this file",
                )
            except InvalidInput as exc:
                problems.append(ImportProblem(row["line"], exc.message))
                continue
            row = {**row, "line_manager": code}
            if row["line_manager"] == row["code"]:
                problems.append(ImportProblem(row["line"], "is their own line manager"))
                continue
        kept.append(row)
    in_file = {r["code"] for r in rows} | {b["code"].upper() for b in unread if b["code"]}
    # A line left out still names whoever its code cell reads as ("BJONES" and a zero-width
    # space, a soft hyphen, bidi marks round it), or, without a code, its name: they are in
    # the file, and were retired as not in it, their line listed as a problem.
    unread_codes = {code_skeleton(b["code"]) for b in unread if b["code"]} - {""}
    unread_names = {name_key(b["name"]) for b in unread if b["name"]} - {""}
    missing = [
        p
        for p in people
        if p.retired_at is None
        and p.code not in in_file
        and code_skeleton(p.code) not in unread_codes
        and name_key(p.name) not in unread_names
    ]
    retired = [p.code for p in missing] if retire_missing else []
    active_count = sum(1 for p in people if p.retired_at is None)
    if len(retired) > max(3, active_count // 4) and not force:
        # A file that is not the roster (the new starters, one department) with the flag
        # kept from last year's command retired everyone else: a school's leavers are a
        # few a term, not a quarter of the staff at once.
        raise RuleViolation(
            f"Nothing imported: --retire-missing would retire {len(retired)} of the "
            f"{active_count} staff on the list (everyone not in the file). Is it the whole "
            "roster? Import it without --retire-missing, or, if they have all left, give "
            "--force too (it also retires those still holding a laptop, a work phone or a "
            "phone in a store; each is named)."
        )
    # Who is admin after the import: the rows imported with the role, and those kept as
    # they are (not retired, and not imported: not in the file, or on a line left out).
    # A row without a roles column keeps the person's roles.
    all_roles = state.roles_of(session, [p.id for p in people]) if people else {}
    roles_by_code = {p.code: all_roles.get(p.id, frozenset()) for p in people}
    admins_after = {
        r["code"]
        for r in kept
        if Role.ADMIN.value in r.get("roles", roles_by_code.get(r["code"], ()))
    }
    imported = {r["code"] for r in kept}
    active = [p for p in people if p.retired_at is None]
    untouched = [p for p in active if p.code not in imported and p.code not in retired]
    admins_after |= {p.code for p in untouched if Role.ADMIN.value in all_roles.get(p.id, ())}
    had_admin = any(Role.ADMIN.value in all_roles.get(p.id, ()) for p in active)
    if had_admin and not admins_after:
        raise RuleViolation(
            "Nothing imported: after this import the school would have no admin. Give "
            "someone the admin role in the file (roles column: admin)."
        )
    return kept, problems, retired


_LEAVING = "Their badge stops working once they have left"


def _holders(session: Session, now: Any, codes: list[str]) -> dict[str, Holding]:
    """For each of ``codes`` with a device off site or a phone in a store now: what they
    hold, what to do first, and what stays listed with them if retired anyway. The one
    rule behind retire's refusal, the import's warnings and the console's warning."""
    found: dict[str, tuple[str, list[str], list[str], list[str]]] = {}

    def add(staff: StaffInfo, held: str, todo: str, stays: str) -> None:
        entry = found.setdefault(staff.code, (staff.name, [], [], []))
        entry[1].append(held)
        entry[2].append(todo)
        entry[3].append(stays)

    for item in state.offsite_now(session, now):
        if item.staff.code in codes:
            tag = item.device.tag
            add(
                item.staff,
                f"{tag} off site",
                f"record the return of {tag}",
                f"{tag} stays listed as off site with them",
            )
    for phone in state.phones_now(session):
        if phone.staff.code in codes:
            in_drawer = phone.store.code == BREAKFAST_DRAWER_STORE
            add(
                phone.staff,
                f"their phone is in the {phone.store.name}",
                # The drawer is locked: the lead hands phones back from it (F3).
                "have the breakfast-club lead hand the phone back (Breakfast club, F3)"
                if in_drawer
                else "record the phone's collection at the kiosk",
                f"the phone stays listed in the {phone.store.name}",
            )
    return {
        code: Holding(code, name, tuple(held), tuple(todo), tuple(stays))
        for code, (name, held, todo, stays) in found.items()
    }


def _acting_admin(uow: UnitOfWork, admin_code: str) -> StaffInfo:
    """The member of staff named as acting: they must hold the admin role."""
    admin = state.get_staff_info(uow.session, admin_code)
    if not admin.has_role(Role.ADMIN.value):
        raise RuleViolation(f"{admin.name} is not an admin: only admins can change the lists.")
    return admin


_log = logging.getLogger("kiosk.services")


def _readable(session: Session, stmt: Any, id_column: Any, what: str) -> list[Any]:
    """The objects ``stmt`` selects, leaving out (and logging) each row whose stored values
    cannot be read (written around the kiosk): one such row does not empty the listing;
    ``kiosk verify`` names it."""
    found = []
    for row in read_rows(session, stmt, id_column):
        if isinstance(row, Unreadable):
            _log.warning("%s %s left out of a listing: %s", what, row.event_id, row.reason)
            continue
        found.append(row[0])
    return found


def _readable_each(items: Iterable[Any], what: str, make: Callable[[Any], Any]) -> list[Any]:
    made = []
    for item in items:
        try:
            made.append(make(item))
        except (*UNREADABLE_ERRORS, AttributeError, KeyError) as exc:
            _log.warning("%s %s left out of a listing: %s", what, getattr(item, "id", "?"), exc)
    return made


def _staff_info(session: Session, person: Staff) -> StaffInfo:
    return state.staff_infos(session, [person])[person.id]


def _by(uow: UnitOfWork, admin_code: str | None) -> int | None:
    """The staff id of the admin named as acting (checked), or None."""
    return _acting_admin(uow, admin_code).id if admin_code else None


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
) -> tuple[list[dict[str, Any]], list[ImportProblem], list[dict[str, Any]]]:
    """The rows read (each with its ``line``), the problems, and for each line that could
    not be read its ``line`` and its ``key`` and name cells as written ("code"/"name"),
    which the roster still counts as in the file."""
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
    reader, columns = read_header(text)
    missing = [c for c in required if c not in columns]
    if missing and semicolon_separated(columns):
        raise InvalidInput(
            "The columns are separated by ';': use commas. In Excel, save it as "
            "'CSV UTF-8 (Comma delimited)'."
        )
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
    unread: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, raw, unreadable in read_lines(reader):
        if unreadable:
            problems.append(ImportProblem(line, unreadable))
            continue
        if not any(cell.strip() for cell in raw):
            continue
        record = {c: (raw[i] if i < len(raw) else "") for i, c in enumerate(columns) if c}
        if len(raw) > len(columns):
            problems.append(
                ImportProblem(line, f"has {len(raw)} fields, the header has {len(columns)}")
            )
            unread.append(_unread(line, record, key))
            continue
        try:
            row = parse(record)
        except InvalidInput as exc:
            problems.append(ImportProblem(line, exc.message))
            unread.append(_unread(line, record, key))
            continue
        if row[key] in seen:
            problems.append(ImportProblem(line, f"{row[key]} is also on line {seen[row[key]]}"))
            unread.append(_unread(line, record, key))
            continue
        seen[row[key]] = line
        rows.append({**row, "line": line})
    return rows, problems, unread


def _unread(line: int, record: dict[str, str], key: str) -> dict[str, Any]:
    """A line that could not be read: its number, and its key and name cells as written."""
    return {
        "line": line,
        "code": plain_line(record.get(key) or "").strip(),
        "name": plain_line(record.get("name") or "").strip(),
    }


def _field(record: dict[str, str], name: str, *, required: bool = False) -> str:
    value = plain_line(record.get(name) or "")
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
    if len(code) == 1 and code.isdigit():
        # On the sign-out form a digit typed alone, then Enter, chooses a reason: a person or
        # a device with such a code could never be scanned there by hand.
        raise InvalidInput(
            f"{what} {code} is one digit: typed at the kiosk a digit alone chooses from a list "
            "(the sign-out form's reasons). Use two characters or more"
        )
    return code


def _staff_row(record: dict[str, str]) -> dict[str, Any]:
    code = _code(_field(record, "code", required=True), "code")
    name = _field(record, "name", required=True)
    if len(name) > 200:
        raise InvalidInput("name is longer than 200 characters")
    lookalike = lookalike_letters(name)
    if lookalike:
        # "C" CYRILLIC SMALL LETTER A "rol Head" went in as a second Carol Head, the same as
        # the head's name on every list and in every "granted by".
        raise InvalidInput(
            f"name mixes alphabets or letter forms: {', '.join(lookalike[:3])}"
            f"{f' and {len(lookalike) - 3} more' if len(lookalike) > 3 else ''} looks like a "
            "letter it is not, so the name would look like another (copied from a document, "
            "or another keyboard layout?). Type it again."
        )
    email = _field(record, "email") or None
    problem = email_problem(email) if email else None
    if email and problem:
        raise InvalidInput(not_an_email("email", email, problem))
    manager = _field(record, "line_manager")[:200] or None
    roles: set[str] = set()
    for part in _field(record, "roles").replace(",", ";").split(";"):
        role = part.strip().lower().replace(" ", "_").replace("-", "_")
        if not role:
            continue
        if role not in {r.value for r in Role}:
            raise InvalidInput(
                f"role {part.strip()!r} is not one of {', '.join(r.value for r in Role)}"
            )
        roles.add(role)
    row = {"code": code, "name": name, "email": email, "line_manager": manager, "roles": roles}
    # A column the file does not have leaves that field as it is (an empty cell in a column
    # the file has clears it): only the columns present are in the row.
    return {k: v for k, v in row.items() if k in ("code", "name") or k in record}


def _staff_values(staff: Staff, roles: Iterable[str]) -> dict[str, Any]:
    """A person's full reference row, as the chain records it."""
    return {
        "code": staff.code,
        "name": staff.name,
        "email": staff.email,
        "line_manager": staff.line_manager,
        "created_at": staff.created_at,
        "retired_at": staff.retired_at,
        "roles": sorted(roles),
    }


def _create_staff(uow: UnitOfWork, row: dict[str, Any], by: int | None = None) -> Staff:
    staff_id = uow.next_id("staff")
    uow.change_reference(
        "staff",
        staff_id,
        {
            "code": row["code"],
            "name": row["name"],
            "email": row.get("email"),
            "line_manager": row.get("line_manager"),
            "created_at": uow.now,
            "retired_at": None,
            "roles": sorted(row.get("roles", ())),
        },
        by=by,
    )
    return uow.session.get_one(Staff, staff_id)


def _upsert_staff(
    uow: UnitOfWork, row: dict[str, Any], staff: Staff | None, by: int | None = None
) -> bool:
    """Create or update one person; False when nothing changed. A field whose column the
    file does not have (absent from ``row``) is kept as it is."""
    if staff is None:
        _create_staff(uow, row, by)
        return True
    session = uow.session
    current_roles = state.roles_of(session, [staff.id])[staff.id]
    current = _staff_values(staff, current_roles)
    new = current | {k: row[k] for k in ("name", "email", "line_manager") if k in row}
    new |= {"retired_at": None}
    if "roles" in row:
        new["roles"] = sorted(row["roles"])
    if new == current:
        return False
    uow.change_reference("staff", staff.id, new, by=by)
    return True


def _device_row(record: dict[str, str], kinds: DeviceKinds = DEFAULT_KINDS) -> dict[str, Any]:
    tag = _code(_field(record, "tag", required=True), "tag")
    kind = kinds.require(_field(record, "kind", required=True)).code
    description = _field(record, "description")
    if len(description) > 200:
        raise InvalidInput("description is longer than 200 characters")
    if "description" not in record:  # no such column: the description is kept as it is
        return {"tag": tag, "kind": kind}
    return {"tag": tag, "kind": kind, "description": description}


def _device_values(device: Device) -> dict[str, Any]:
    """A device's full reference row, as the chain records it."""
    return {
        "tag": device.tag,
        "kind": device.kind,
        "description": device.description,
        "created_at": device.created_at,
        "retired_at": device.retired_at,
    }


def _create_device(uow: UnitOfWork, row: dict[str, Any], by: int | None = None) -> Device:
    device_id = uow.next_id("devices")
    uow.change_reference(
        "devices",
        device_id,
        {
            "tag": row["tag"],
            "kind": row["kind"],
            "description": row.get("description", ""),
            "created_at": uow.now,
            "retired_at": None,
        },
        by=by,
    )
    return uow.session.get_one(Device, device_id)


def _upsert_device(
    uow: UnitOfWork, row: dict[str, Any], device: Device | None, by: int | None = None
) -> bool:
    """Create or update one device; False when nothing changed."""
    if device is None:
        _create_device(uow, row, by)
        return True
    current = _device_values(device)
    new = current | {k: row[k] for k in ("kind", "description") if k in row}
    new |= {"retired_at": None}
    if new == current:
        return False
    uow.change_reference("devices", device.id, new, by=by)
    return True
