"""Backup, restore, subject access exports and the retention purge.

* ``backup(path)``: on SQLite, the online backup API copies a consistent snapshot while
  kiosks keep recording; the copy's chain is verified. On PostgreSQL the database server
  has its own tool: ``backup`` refuses with the exact ``pg_dump`` command to run instead.
* ``restore(path)``: copies the file aside, checks it is a kiosk database no newer than this
  code and that its chain verifies, keeps a safety copy of the current database, then copies
  it over the live database (SQLite). PostgreSQL: the exact ``pg_restore`` steps.
* ``export_staff(code)``: everything the register holds about one person (a subject access
  request), as CSV (spreadsheet-safe) or JSON. The export itself is recorded.
* ``purge(before, admin_code)``: the school's retention period. Removing old events is never
  a silent delete: one transaction records a *checkpoint* event (how many events were
  removed, the id and hash of the last one, a SHA-256 digest of the removed hashes) and then
  deletes that prefix of the chain through the only path the triggers allow (revision 0003).
  The chain continues from the checkpoint; ``verify`` accepts a chain whose first event
  follows a checkpoint's ``last_removed_hash``. Events that still define the current state
  (a phone in a store, a device off site, acknowledgements of current policies, VDU
  declarations, exemptions, open review requests) and anything a kept event refers to are
  never removed: the purge stops just before the oldest of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from kiosk.db import migrate
from kiosk.db.engine import null_pool_engine
from kiosk.db.models import Device, Event, KioskSetting, Policy, Staff, Store
from kiosk.domain.errors import (
    DatabaseUnavailable,
    InvalidInput,
    RuleViolation,
    SchemaTooNew,
)
from kiosk.domain.events import EventKind, Role
from kiosk.domain.timeutil import local_date, local_day_bounds
from kiosk.services import state
from kiosk.services.common import (
    UNREADABLE_ERRORS,
    Unreadable,
    UseCases,
    item_label,
    kind_label,
    read_rows,
)
from kiosk.services.integrity import (
    PURGE_ACTION,
    VerifyReport,
    load_last,
    save_last,
    verify_session,
)
from kiosk.services.register import neutralise
from kiosk.services.views import StaffInfo

# A safety rail under whatever retention period the school chooses: the register keeps at
# least a year (the 28-day and 12-week rules, and a school year of evidence).
MIN_RETENTION_DAYS = 365
GUARD_KEY = "events_purge_guard"
EXPORT_FORMATS = ("csv", "json")


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    verify: VerifyReport

    @property
    def summary(self) -> str:
        state_ = "verified" if self.verify.ok else "COPIED, BUT ITS CHAIN DOES NOT VERIFY"
        return (
            f"Backup written to {self.path} ({self.size_bytes // 1024} KiB, "
            f"{self.verify.events_checked} events, {state_}). Head hash {self.verify.head_hash}."
        )


@dataclass(frozen=True, slots=True)
class RestoreReport:
    path: Path
    verify: VerifyReport
    safety_copy: Path
    revision_before: str | None

    @property
    def summary(self) -> str:
        return (
            f"Restored {self.verify.events_checked} events from {self.path} (chain verified). "
            f"The database as it was is kept in {self.safety_copy}."
        )


@dataclass(frozen=True, slots=True)
class StaffExport:
    staff: StaffInfo
    fmt: str
    events: int
    content: str


@dataclass(frozen=True, slots=True)
class PurgeReport:
    before: date
    removed: int
    first_removed_id: int | None
    last_removed_id: int | None
    checkpoint_event_id: int | None
    kept_older: int
    range_digest: str | None

    @property
    def summary(self) -> str:
        if not self.removed:
            extra = (
                f" {self.kept_older} older event(s) are kept: they still define who has what, "
                "or later events refer to them."
                if self.kept_older
                else ""
            )
            return f"Nothing to remove before {self.before:%d %B %Y}.{extra}"
        kept = (
            f" {self.kept_older} older event(s) were kept: they still define who has what, "
            "or later events refer to them."
            if self.kept_older
            else ""
        )
        return (
            f"Removed {self.removed} event(s) recorded before {self.before:%d %B %Y} "
            f"(events {self.first_removed_id} to {self.last_removed_id}); checkpoint "
            f"event {self.checkpoint_event_id} records what was removed.{kept}"
        )


def _plain_url(engine: Engine) -> str:
    """The libpq URL of a PostgreSQL engine, without the password (use ~/.pgpass)."""
    url = engine.url.set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def pg_dump_command(engine: Engine, path: str | Path) -> list[str]:
    return ["pg_dump", "--format=custom", "--file", str(path), "--dbname", _plain_url(engine)]


def pg_restore_steps(engine: Engine, path: str | Path) -> list[str]:
    url = engine.url.set(drivername="postgresql", password=None)
    new_db = f"{url.database}_restore"
    target = url.set(database=new_db).render_as_string(hide_password=False)
    return [
        f"createdb --host {url.host} --port {url.port or 5432} --username {url.username} {new_db}",
        f"pg_restore --exit-on-error --single-transaction --no-owner --dbname {target} {path}",
        f"KIOSK_DATABASE_URL={target} kiosk verify",
        f"then point KIOSK_DATABASE_URL at {new_db} on every kiosk",
    ]


class BackupService(UseCases):
    # --- backup ---------------------------------------------------------------------------

    def backup(self, path: str | Path) -> BackupReport:
        """Copy the live SQLite database to ``path`` (a new file) and verify the copy."""
        engine = self.ctx.engine
        if engine.dialect.name != "sqlite":
            raise RuleViolation(
                "On PostgreSQL, back up with the server's own tool, as the database owner: "
                + " ".join(pg_dump_command(engine, path))
            )
        target = Path(path).expanduser()
        if target.exists():
            raise InvalidInput(f"{target} already exists: choose a new file name.")
        if not target.parent.is_dir():
            raise InvalidInput(f"The folder {target.parent} does not exist.")
        partial = target.with_name(target.name + ".partial")
        try:
            # Created private before anything is copied into it (0600 from the first byte).
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            os.chmod(partial, 0o600)
            with engine.connect() as conn:
                source = conn.connection.dbapi_connection
                assert isinstance(source, sqlite3.Connection)
                _copy_sqlite(source, partial)
            os.chmod(partial, 0o600)
            try:
                report = _verify_file(partial, now=self.ctx.clock())
            except UNREADABLE_ERRORS as exc:
                os.replace(partial, target)  # a copy of what there is, kept all the same
                raise InvalidInput(
                    f"The copy was written to {target}, but it could not be checked: an event "
                    f"in the register cannot be read ({type(exc).__name__}: {exc}). Run kiosk "
                    "verify to have it named, and keep this database as it is."
                ) from None
            os.replace(partial, target)
        except OSError as exc:
            raise InvalidInput(
                f"The backup cannot be written to {target}: {exc.strerror}."
            ) from None
        except (sqlite3.Error, SQLAlchemyError) as exc:
            raise DatabaseUnavailable(
                f"Not backed up: the database could not be read ({type(exc).__name__})."
            ) from exc
        finally:
            with suppress(OSError):
                partial.unlink()
        return BackupReport(target, target.stat().st_size, report)

    # --- restore --------------------------------------------------------------------------

    def restore(self, path: str | Path) -> RestoreReport:
        """Replace the live SQLite database with a backup whose chain verifies."""
        engine = self.ctx.engine
        if engine.dialect.name != "sqlite":
            raise RuleViolation(
                "On PostgreSQL, restore into a new database with the server's tools, check it, "
                "then switch: " + "; ".join(pg_restore_steps(engine, path))
            )
        source = Path(path).expanduser()
        if not source.is_file():
            raise InvalidInput(f"There is no backup file {source}.")
        live = Path(engine.url.database or "")
        with tempfile.TemporaryDirectory(prefix="kiosk-restore-", dir=live.parent) as tmp:
            copy = Path(tmp) / "restore.sqlite3"
            try:
                reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    _copy_sqlite(reader, copy)
                finally:
                    reader.close()
            except sqlite3.Error:
                raise InvalidInput(
                    f"{source} is not a kiosk backup (not an SQLite database)."
                ) from None
            copy_engine = null_pool_engine(f"sqlite:///{copy}")
            try:
                before = self._check_backup(copy_engine, source)
                with Session(copy_engine) as session, session.begin():
                    report = verify_session(
                        session, now=self.ctx.clock(), previous=load_last(session)
                    )
                if not report.ok:
                    raise RuleViolation(
                        f"Not restored: the register in {source} does not verify. {report.summary}"
                    )
                migrate.upgrade(copy_engine)
            except SQLAlchemyError as exc:
                raise InvalidInput(
                    f"{source} cannot be read as a kiosk database ({type(exc).__name__})."
                ) from None
            finally:
                copy_engine.dispose()
            stamp = self.ctx.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            safety = live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}")
            try:
                with engine.connect() as conn:
                    current = conn.connection.dbapi_connection
                    assert isinstance(current, sqlite3.Connection)
                    _copy_sqlite(current, safety)
                os.chmod(safety, 0o600)
                replacement = sqlite3.connect(copy)
                target = sqlite3.connect(live, timeout=15)
                try:
                    replacement.backup(target)
                finally:
                    target.close()
                    replacement.close()
            except (sqlite3.Error, SQLAlchemyError, OSError) as exc:
                raise DatabaseUnavailable(
                    f"Not restored: the live database could not be replaced ({exc})."
                ) from exc
        with self.ctx.write() as uow:
            save_last(uow, report)
            uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=None,
                details={
                    "action": "database_restored",
                    "file": source.name,
                    "events": report.events_checked,
                    "head_hash": report.head_hash,
                },
            )
        return RestoreReport(source, report, safety, before)

    @staticmethod
    def _check_backup(copy_engine: Engine, source: Path) -> str | None:
        try:
            revision = migrate.check_not_newer(copy_engine)
        except SchemaTooNew as exc:
            raise SchemaTooNew(f"Not restored: {exc}") from None
        if revision is None:
            raise InvalidInput(f"{source} is not a kiosk backup (it has no kiosk schema).")
        return revision

    # --- subject access -------------------------------------------------------------------

    def export_staff(
        self, code: str, fmt: str = "csv", *, admin_code: str | None = None
    ) -> StaffExport:
        """Everything recorded about one person, for a subject access request."""
        fmt = fmt.strip().lower()
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput("The export format must be csv or json.")
        zone = self.ctx.settings.zone
        with self.ctx.write() as uow:
            session = uow.session
            person = state.get_staff_info(session, code, active=False)
            by = state.get_staff_info(session, admin_code) if admin_code else None
            records = [
                _export_record(values, person, zone) for values in _person_events(session, person)
            ]
            staff_row = session.get_one(Staff, person.id)
            profile = {
                "code": person.code,
                "name": person.name,
                "email": person.email,
                "line_manager": person.line_manager,
                "roles": sorted(person.roles),
                "on_list_since": staff_row.created_at.isoformat(),
                "left": staff_row.retired_at.isoformat() if staff_row.retired_at else None,
            }
            uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=person.id,
                recorded_by_id=by.id if by else None,
                details={
                    "action": "subject_access_export",
                    "code": person.code,
                    "events": len(records),
                    "format": fmt,
                },
            )
            exported_at = uow.now
        if fmt == "json":
            content = json.dumps(
                {
                    "exported_at": exported_at.isoformat(),
                    "school_time_zone": self.ctx.settings.timezone,
                    "staff": profile,
                    "events": records,
                },
                ensure_ascii=False,
                indent=2,
            )
        else:
            content = _export_csv(profile, records)
        return StaffExport(person, fmt, len(records), content)

    # --- retention ------------------------------------------------------------------------

    def purge(self, before: date, admin_code: str) -> PurgeReport:
        """Remove events recorded before ``before`` (local date), leaving a checkpoint."""
        if isinstance(before, datetime) or not isinstance(before, date):
            raise InvalidInput("Give the purge date as a calendar date, like 2019-09-01.")
        zone = self.ctx.settings.zone
        with self.ctx.write() as uow:
            session = uow.session
            admin = state.get_staff_info(session, admin_code)
            if not admin.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{admin.name} is not an admin: only admins can purge.")
            today = local_date(uow.now, zone)
            latest = today - timedelta(days=MIN_RETENTION_DAYS)
            if before > latest:
                raise RuleViolation(
                    "The register keeps at least a year of events: choose a date on or before "
                    f"{latest:%d %B %Y}."
                )
            try:
                cutoff, _ = local_day_bounds(before, zone)
            except (OverflowError, ValueError):
                raise InvalidInput(f"{before} is not a date the register can use.") from None
            upto = _purge_limit(session, cutoff, uow.now, today)
            older = select(func.count()).select_from(Event).where(Event.occurred_at < cutoff)
            if upto is None:
                kept = session.scalar(older) or 0
                return PurgeReport(before, 0, None, None, None, kept, None)
            removed, first_id, last_hash, digest = _range_digest(session, upto)
            kept = session.scalar(older.where(Event.id > upto)) or 0
            checkpoint = uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=admin.id,
                details={
                    "action": PURGE_ACTION,
                    "before": before.isoformat(),
                    "removed": removed,
                    "first_removed_id": first_id,
                    "last_removed_id": upto,
                    "last_removed_hash": last_hash,
                    "range_digest": digest,
                    "kept_older": kept,
                },
            )
            if session.get_bind().dialect.name == "postgresql":
                deleted = session.scalar(
                    text("SELECT kiosk_purge_events(:cp)"), {"cp": checkpoint.id}
                )
            else:
                session.add(KioskSetting(key=GUARD_KEY, value=str(upto), updated_at=uow.now))
                session.flush()
                result = session.execute(
                    delete(Event)
                    .where(Event.id <= upto)
                    .execution_options(synchronize_session=False)
                )
                deleted = getattr(result, "rowcount", removed)
                session.execute(delete(KioskSetting).where(KioskSetting.key == GUARD_KEY))
            if deleted != removed:  # pragma: no cover - the SQL function checks this too
                raise RuleViolation("The purge removed a different number of events: undone.")
            return PurgeReport(before, removed, first_id, upto, checkpoint.id, kept, digest)


# --- helpers --------------------------------------------------------------------------------


def _copy_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot, even while others write."""
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()


def _verify_file(path: Path, *, now: datetime) -> VerifyReport:
    engine = null_pool_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session, session.begin():
            return verify_session(session, now=now, previous=load_last(session))
    finally:
        engine.dispose()


def _person_events(session: Session, person: StaffInfo) -> Iterator[Any]:
    by = aliased(Staff, name="by")
    void = aliased(Event, name="void")
    stmt = (
        select(
            Event,
            by.name,
            Store.name,
            Device.tag,
            Device.kind,
            Policy.title,
            Policy.version,
            void.id,
        )
        .outerjoin(by, by.id == Event.recorded_by_id)
        .outerjoin(Store, Store.id == Event.store_id)
        .outerjoin(Device, Device.id == Event.device_id)
        .outerjoin(Policy, Policy.id == Event.policy_id)
        .outerjoin(
            void,
            (void.target_event_id == Event.id) & (void.kind == EventKind.CORRECTION.value),
        )
        .where(or_(Event.staff_id == person.id, Event.recorded_by_id == person.id))
        .order_by(Event.id)
    )
    yield from read_rows(session, stmt, Event.id)  # an unreadable event comes as Unreadable


def _export_record(values: Any, person: StaffInfo, zone: Any) -> dict[str, Any]:
    if isinstance(values, Unreadable):
        return {
            "event_id": values.event_id,
            "local_time": "",
            "utc_time": "",
            "what": "UNREADABLE ROW",
            "kind": "unreadable",
            "about": f"event {values.event_id} cannot be read ({values.reason})",
            "item": "",
            "details": {},
            "due": None,
            "recorded_by": None,
            "kiosk": "",
            "voided_by_event": None,
            "hash": "",
        }
    event, by_name, store, tag, device_kind, title, version, void_id = values
    about = event.staff_id == person.id
    record: dict[str, Any] = {
        "event_id": event.id,
        "local_time": event.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        "utc_time": event.occurred_at.isoformat(),
        "what": kind_label(event.kind),
        "kind": event.kind,
        "about": "you" if about else "a colleague (recorded by you)",
    }
    if about:
        record |= {
            "item": item_label(tag, device_kind, store, title, version),
            "details": dict(event.details or {}),
            "due": event.due_at.isoformat() if event.due_at else None,
            "recorded_by": by_name if event.recorded_by_id not in (None, person.id) else None,
            "kiosk": event.kiosk,
            "voided_by_event": void_id,
            "hash": event.hash,
        }
    else:  # the colleague's own data is theirs, not part of this person's request
        record |= {
            "item": "",
            "details": {},
            "due": None,
            "recorded_by": person.name,
            "kiosk": event.kiosk,
            "voided_by_event": void_id,
            "hash": event.hash,
        }
    return record


EXPORT_COLUMNS = (
    "event_id",
    "local_time",
    "utc_time",
    "what",
    "kind",
    "about",
    "item",
    "details",
    "due",
    "recorded_by",
    "kiosk",
    "voided_by_event",
    "hash",
)


def _export_csv(profile: dict[str, Any], records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["field", "value"])
    for key, value in profile.items():
        shown = ";".join(value) if isinstance(value, list) else value
        writer.writerow([key, neutralise(shown)])
    writer.writerow([])
    writer.writerow(EXPORT_COLUMNS)
    for record in records:
        details = record["details"]
        record = {
            **record,
            "details": "; ".join(f"{k}: {v}" for k, v in sorted(details.items())),
        }
        writer.writerow([neutralise(record[col]) for col in EXPORT_COLUMNS])
    return out.getvalue()


def _live_event_ids(session: Session, now: datetime, today: date) -> set[int]:
    """Events that still define the current state: never purged."""
    ids: set[int] = {held.event_id for held in state.phones_now(session)}
    for item in state.offsite_now(session, now):
        ids.add(item.event_id)
        latest = state.device_event(session, item.device.id)
        if latest is not None:
            ids.add(latest.id)
    people = list(session.scalars(select(Staff).where(Staff.retired_at.is_(None))))
    for person in state.staff_infos(session, people).values():
        exemption = state.exemption_of(session, person, today)
        if exemption is not None:
            ids.add(exemption.event_id)
        vdu = session.scalar(
            select(Event.id)
            .where(Event.staff_id == person.id, Event.category == "vdu", state.not_voided())
            .order_by(Event.id.desc())
            .limit(1)
        )
        if vdu is not None:
            ids.add(vdu)
    current = [p.id for p in state.current_policies(session)]
    if current:
        oldest_ack = session.scalar(
            select(func.min(Event.id)).where(
                Event.kind == EventKind.POLICY_ACKNOWLEDGED.value,
                Event.policy_id.in_(current),
                state.not_voided(),
            )
        )
        if oldest_ack is not None:
            ids.add(oldest_ack)
    ids.update(r.event_id for r in state.review_requests(session, open_only=True))
    return ids


def _purge_limit(session: Session, cutoff: datetime, now: datetime, today: date) -> int | None:
    """The id of the last event to remove (a prefix of the chain), or None."""
    first_young = session.scalar(select(func.min(Event.id)).where(Event.occurred_at >= cutoff))
    newest = session.scalar(select(func.max(Event.id)))
    if newest is None:
        return None
    upto = first_young - 1 if first_young is not None else newest
    live = _live_event_ids(session, now, today)
    if live:
        upto = min(upto, min(live) - 1)
    while True:  # keep whatever a kept event refers to
        referred = session.scalar(
            select(func.min(Event.target_event_id)).where(
                Event.id > upto, Event.target_event_id <= upto
            )
        )
        if referred is None:
            break
        upto = referred - 1
    first = session.scalar(select(func.min(Event.id)))
    if first is None or upto < first:
        return None
    return upto


def _range_digest(session: Session, upto: int) -> tuple[int, int, str, str]:
    """(count, first id, last hash, SHA-256 over the hashes joined by newlines) of ids <= upto."""
    digest = hashlib.sha256()
    count = 0
    first_id = 0
    last_hash = ""
    stmt = (
        select(Event.id, Event.hash)
        .where(Event.id <= upto)
        .order_by(Event.id)
        .execution_options(yield_per=10_000)
    )
    for event_id, event_hash_ in session.execute(stmt):
        if count:
            digest.update(b"\n")
        else:
            first_id = event_id
        digest.update(event_hash_.encode("ascii"))
        last_hash = event_hash_
        count += 1
    return count, first_id, last_hash, digest.hexdigest()
