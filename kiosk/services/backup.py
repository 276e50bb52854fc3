"""Backup, restore, subject access exports and the retention purge.

* ``backup(path)``: on SQLite, the online backup API copies a consistent snapshot while
  kiosks keep recording; the copy's chain is verified. On PostgreSQL the database server
  has its own tool: ``backup`` refuses with the exact ``pg_dump`` command to run instead.
* ``restore(path)``: copies the file aside, checks it is a kiosk database no newer than this
  code, that its kiosk tables are declared as the kiosk declares them and that its chain
  verifies, keeps a safety copy of the current database, then copies the kiosk's columns over
  the live database and commits only if the register as restored verifies (SQLite).
  PostgreSQL: the exact ``pg_restore`` steps.
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
import secrets
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, delete, func, or_, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from kiosk.config import data_dir
from kiosk.db import migrate
from kiosk.db.engine import null_pool_engine
from kiosk.db.guards import SQLITE_TRIGGERS, protected_min_sql, purge_function
from kiosk.db.models import Base, Device, Event, KioskSetting, Policy, Staff, Store
from kiosk.domain.chain import GENESIS_HASH, sealed_event
from kiosk.domain.errors import (
    DatabaseUnavailable,
    InvalidInput,
    RuleViolation,
    SchemaTooNew,
)
from kiosk.domain.events import EventKind, Role
from kiosk.domain.reference import REFERENCE_FIELDS, REFERENCE_KIND, normalise_key
from kiosk.domain.text import check_typed_line, display_text, field_value
from kiosk.domain.timeutil import format_local, local_date, local_day_bounds
from kiosk.services import school_events, state
from kiosk.services.common import (
    Unreadable,
    UseCases,
    item_label,
    kind_label,
    read_rows,
)
from kiosk.services.integrity import (
    PURGE_ACTION,
    Anchor,
    IntegrityService,
    VerifyReport,
    chain_faults_upto,
    chain_offset,
    is_recorded_by_kiosk,
    read_last,
    stored_events,
    verify_session,
    verify_with_witnesses,
    with_earlier_alarm,
    with_witness_behind,
    witness_behind,
)
from kiosk.services.reference import differing_fields, table_rows
from kiosk.services.register import neutralise
from kiosk.services.secret import school_key_if_present
from kiosk.services.uow import UNREADABLE_ERRORS, old_events, refuse_on_a_share
from kiosk.services.views import StaffInfo
from kiosk.services.wholefile import written_whole

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
    # Why the copy was not checked against this machine's witness file (None: it was).
    witness_note: str | None = None

    @property
    def summary(self) -> str:
        state_ = "verified" if self.verify.ok else "COPIED, BUT ITS CHAIN DOES NOT VERIFY"
        note = f" Note: {display_text(self.witness_note)}." if self.witness_note else ""
        return (
            f"Backup written to {self.path} ({self.size_bytes // 1024} KiB, "
            f"{self.verify.events_checked} events, {state_}). Head hash "
            f"{self.verify.head_hash}.{note}"
        )


@dataclass(frozen=True, slots=True)
class RestoreReport:
    path: Path
    verify: VerifyReport
    safety_copy: Path
    revision_before: str | None
    dropped: int = 0
    event_id: int | None = None
    after: VerifyReport | None = None  # kiosk verify once committed (witnesses included)
    # Why the backup was not compared with the live register (None: it was).
    not_compared: str | None = None

    @property
    def summary(self) -> str:
        dropped = (
            f" {self.dropped} newer event(s) of the live register were dropped, as asked; "
            f"event {self.event_id} records it and the reason."
            if self.dropped
            else ""
        )
        if self.after is not None and not self.after.ok:
            # Verified before it was committed; what verify says now (this machine's witness
            # of newer events that were dropped, another process since) is said as it is.
            return (
                f"Restored {self.verify.events_checked} events from {self.path}; the register "
                f"as restored verified before it was committed, but kiosk verify now says: "
                f"{self.after.summary}{dropped} The database as it was is kept in "
                f"{self.safety_copy}."
            )
        if self.not_compared is not None:
            # Nothing to compare with: "the same as the live register" would be untrue, and
            # a backup rewritten with the key would pass for the register's own past.
            anchored = (
                f"it holds the {self.verify.anchors_checked} anchor(s) given, unchanged"
                if self.verify.anchors_checked
                else "NOTHING shows that it is the register's own past and not a rewritten "
                "copy: check it now with the latest anchor (kiosk verify --anchor FILE)"
            )
            return (
                f"Restored {self.verify.events_checked} events from {self.path} (chain "
                f"verified; append-only triggers put back and checked). It was NOT compared "
                f"with the live register, which {self.not_compared}: {anchored}.{dropped} "
                f"The database as it was is kept in {self.safety_copy}."
            )
        return (
            f"Restored {self.verify.events_checked} events from {self.path} (chain verified, "
            f"the same as the live register up to event {self.verify.head_id}; append-only "
            f"triggers put back and checked).{dropped} "
            f"The database as it was is kept in {self.safety_copy}."
        )


RESTORE_LOCK_SECONDS = 2.0


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


def _libpq_url(engine: Engine) -> URL:
    """A PostgreSQL engine's URL for libpq's tools, with no password: neither the one before
    the ``@`` nor one in its query string (``?password=``, ``?sslpassword=``). A printed
    command is seen on the screen, kept in the shell's history and shown by ``ps``; the
    tools take the password from ``~/.pgpass`` or ``PGPASSWORD`` (``PASSWORD_FROM``).
    (``url.set(password=None)`` changes nothing: SQLAlchemy takes None as "not given".)"""
    url = engine.url
    secret = [k for k in url.query if "password" in k.lower() or "passwd" in k.lower()]
    return URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.difference_update_query(secret).query,
    )


# Said with each command printed for the server's tools, which holds no password.
PASSWORD_FROM = "(the password from ~/.pgpass or PGPASSWORD: none is printed here)"


def _plain_url(engine: Engine) -> str:
    """The libpq URL of a PostgreSQL engine, without the password (``_libpq_url``)."""
    return _libpq_url(engine).render_as_string(hide_password=False)


def pg_dump_command(engine: Engine, path: str | Path) -> list[str]:
    """The owner's backup of the register. Without large objects (``--no-blobs``, every
    PostgreSQL since 10): the register holds none, and any login may make one (``SELECT
    lo_from_bytea(0, ...)`` needs no right), its own, which the owner may not read: a kiosk
    login's one made pg_dump fail ("permission denied for large object") every night."""
    return [
        "pg_dump",
        "--format=custom",
        "--file",
        str(path),
        "--no-blobs",
        "--dbname",
        _plain_url(engine),
    ]


# The owner of the register's database, by name: the default privileges of the restore kept
# are its own (revision 0003's grant the kiosk role each table a revision adds).
_DATABASE_OWNER = text(
    "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database "
    "WHERE datname = pg_catalog.current_database()"
)


def _database_owner(engine: Engine) -> str | None:
    """The register's database owner's name; None when it cannot be asked."""
    try:
        with engine.connect() as conn:
            owner = conn.scalar(_DATABASE_OWNER)
    except SQLAlchemyError:
        return None
    return owner if isinstance(owner, str) else None


def pg_restore_steps(engine: Engine, path: str | Path) -> list[str]:
    """The owner's restore of a dump into a new database, each step a line for a shell (every
    path, name and URL quoted: a backup folder named "Backup Drive" sent the list to another
    file). Default privileges other roles set for themselves are left out (``--use-list``):
    any login may set its own (``ALTER DEFAULT PRIVILEGES ...``, a kiosk's too), pg_dump
    keeps them, and only that login or a superuser may restore them, so ``--exit-on-error``
    stopped the owner's whole restore. The database owner's own are kept (they grant the
    kiosk role the tables a revision adds), by its name as the database gives it (the URL's
    user name was none with peer authentication, and a superuser's restore left the owner's
    out). The list is written to a file of its own in the temporary folder: the backup's
    folder may be read-only."""
    url = _libpq_url(engine)
    new_db = f"{url.database}_restore"
    target = url.set(database=new_db).render_as_string(hide_password=False)
    # (not asked: the URL's user, if it names one; else every default privilege is left
    # out, and verify on the copy names what is missing)
    owner = _database_owner(engine) or url.username
    if owner is None:
        program = "!/ DEFAULT ACL /"
    else:
        quoted = owner.replace("\\", "\\\\").replace('"', '\\"')
        program = f'!/ DEFAULT ACL / || $NF == "{quoted}"'
    listing = str(Path(tempfile.gettempdir()) / f"kiosk-restore-{secrets.token_hex(6)}.list")
    file, q = str(path), shlex.quote
    createdb = ["createdb"]
    for option, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            createdb += [option, str(value)]
    return [
        shlex.join([*createdb, new_db]),
        f"pg_restore --list {q(file)} | awk {q(program)} > {q(listing)}",
        shlex.join(
            [
                "pg_restore",
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--use-list",
                listing,
                "--dbname",
                target,
                file,
            ]
        ),
        f"KIOSK_DATABASE_URL={q(target)} kiosk verify",
        f"then point KIOSK_DATABASE_URL at {new_db} on every kiosk",
    ]


class BackupService(UseCases):
    # --- backup ---------------------------------------------------------------------------

    def backup(self, path: str | Path) -> BackupReport:
        """Copy the live SQLite database to ``path`` (a new file) and verify the copy."""
        engine = self.ctx.engine
        if engine.dialect.name != "sqlite":
            raise RuleViolation(
                f"On PostgreSQL, back up with the server's own tool {PASSWORD_FROM}, as the "
                "database owner: " + shlex.join(pg_dump_command(engine, path))
            )
        target = Path(path).expanduser()
        if target.exists():
            raise InvalidInput(f"{target} already exists: choose a new file name.")
        if not target.parent.is_dir():
            raise InvalidInput(f"The folder {target.parent} does not exist.")
        try:
            # The copy is made and checked in a folder of this machine's data folder (the
            # kiosk user's alone), then written into the backup folder through the descriptor
            # of a new file of its own (written_whole), put in place only while it is still
            # that file. Opened by name in the backup folder (``<file>.partial``, later a new
            # random name), whoever can write there (a share, a USB stick) swapped it for a
            # symlink to the live register as SQLite opened it: the register was cut to
            # nothing, or copied into itself.
            private_root = data_dir()
            private_root.mkdir(parents=True, exist_ok=True, mode=0o700)
            _room_for_the_copy(engine, private_root)
            with tempfile.TemporaryDirectory(prefix=".backup-", dir=private_root) as private:
                copy = Path(private) / "copy.sqlite3"
                with engine.connect() as conn:
                    source = conn.connection.dbapi_connection
                    assert isinstance(source, sqlite3.Connection)
                    try:
                        _copy_sqlite(source, copy)
                    except (sqlite3.Error, OSError) as exc:
                        raise InvalidInput(
                            f"Not backed up: the copy could not be made in the kiosk's data "
                            f"folder {private_root}, where it is checked first ({exc})."
                        ) from None
                # This machine's witness of the live register: the copy is that register,
                # and an end cut since the last check must not be backed up as "verified".
                integrity = IntegrityService(self.ctx)
                witness, unreadable, garbled = integrity.read_witness()
                try:
                    report = _verify_file(
                        copy,
                        now=self.ctx.clock(),
                        key=school_key_if_present(self.ctx.settings),
                        witness=witness,
                        database=None if unreadable else integrity.database_name(),
                        garbled=garbled,
                    )
                    if unreadable:
                        report = replace(report, notes=(*report.notes, unreadable))
                except UNREADABLE_ERRORS as exc:
                    _write_copy(copy, target)  # a copy of what there is, kept all the same
                    raise InvalidInput(
                        f"The copy was written to {target}, but it could not be checked: an "
                        f"event in the register cannot be read ({type(exc).__name__}: {exc}). "
                        "Run kiosk verify to have it named, and keep this database as it is."
                    ) from None
                _write_copy(copy, target)
        except OSError as exc:
            raise InvalidInput(
                f"Not backed up: the backup cannot be written to {target}: {exc.strerror}."
            ) from None
        except (sqlite3.Error, SQLAlchemyError) as exc:
            raise DatabaseUnavailable(
                f"Not backed up: the database could not be read ({type(exc).__name__})."
            ) from exc
        return BackupReport(target, target.stat().st_size, report, unreadable)

    # --- restore --------------------------------------------------------------------------

    def restore(
        self,
        path: str | Path,
        *,
        anchors: tuple[Anchor, ...] = (),
        drop_newer: bool = False,
        reason: str | None = None,
        admin_code: str | None = None,
    ) -> RestoreReport:
        """Replace the live SQLite database with a backup whose chain verifies and is the
        live chain's own past (or is given anchors'). Refused while another process holds
        the write lock; newer live events are dropped only with ``drop_newer`` and a
        ``reason``, both recorded. The append-only triggers are put back and checked."""
        engine = self.ctx.engine
        if engine.dialect.name != "sqlite":
            raise RuleViolation(
                "On PostgreSQL, restore into a new database with the server's tools "
                f"{PASSWORD_FROM}, check it, then switch: "
                + "; ".join(pg_restore_steps(engine, path))
            )
        refuse_on_a_share(engine, "Not restored")
        if drop_newer and not (reason or "").strip():
            raise InvalidInput("Dropping newer events needs a reason: it is recorded.")
        # Recorded in the register and shown wherever the register is: checked as every reason
        # typed at the kiosk or the console is (a line break, ESC, a bidi override refused).
        reason = check_typed_line(reason, "reason") if reason else None
        by = None
        if admin_code:
            with self.ctx.read() as session:
                admin = state.get_staff_info(session, admin_code)
            if not admin.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{admin.name} is not an admin: only admins can restore.")
            by = admin.id
        source = Path(path).expanduser()
        if not source.is_file():
            raise InvalidInput(f"There is no backup file {source}.")
        live = Path(engine.url.database or "")
        key = school_key_if_present(self.ctx.settings)
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
                migrate.upgrade(copy_engine)
                _check_declarations(copy, source)
                with Session(copy_engine) as session, session.begin():
                    report = verify_session(
                        session, now=self.ctx.clock(), key=key, anchors=anchors, guards=False
                    )
            except SQLAlchemyError as exc:
                raise InvalidInput(
                    f"{source} cannot be read as a kiosk database ({type(exc).__name__})."
                ) from None
            finally:
                copy_engine.dispose()
            if not report.ok:
                raise RuleViolation(
                    f"Not restored: the register in {source} does not verify. {report.summary}"
                )
            stamp = self.ctx.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            safety = live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}")
            restored = _RestoreEvent(
                by=by,
                kiosk=self.ctx.settings.kiosk_name[:64],
                at=self.ctx.clock(),
                key=self.ctx.key,
                details={
                    "action": "database_restored",
                    "file": display_text(source.name),
                    "events": report.events_checked,
                    "head_id": report.head_id,
                    "head_hash": report.head_hash,
                    "reason": reason or None,
                    # Where what it drops is kept (verify's note names it).
                    "safety_copy": safety.name,
                },
            )
            dropped, event_id, not_compared = _replace_sqlite(
                live,
                copy,
                safety,
                report,
                drop_newer=drop_newer,
                source=source,
                event=restored,
                check=_Check(now=self.ctx.clock(), key=key, anchors=anchors),
            )
        # The restore was recorded in its own transaction; kiosks may write again.
        self.ctx.baseline_checked = False
        integrity = IntegrityService(self.ctx)
        if dropped:
            # Newer events dropped as asked (recorded, with the reason): this machine's
            # witness of the old end names one of them, and is not a register cut short.
            integrity.forget_witness()
        # This machine's witness: the restored head. The restore compared the backup with the
        # live register itself (or said it could not), and is recorded with the admin's name:
        # a witness file that holds nothing of the register (a new machine, the data folder
        # lost) is no sign of a copy put back behind the office's back here.
        after = integrity.verify(after_restore=True)
        return RestoreReport(source, report, safety, before, dropped, event_id, after, not_compared)

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
            not_recorded = _refuse_a_row_not_recorded(uow, person)
            by = state.get_staff_info(session, admin_code) if admin_code else None
            records = [
                _export_record(values, person, zone) for values in _person_events(session, person)
            ]
            _mark_not_recorded_by_kiosk(session, records, school_key_if_present(self.ctx.settings))
            staff_row = session.get_one(Staff, person.id)
            profile = {  # as stored (the read model shows a name as one line)
                "code": person.code,
                "name": staff_row.name,
                "email": person.email,
                "line_manager": staff_row.line_manager,
                "roles": sorted(person.roles),
                "on_list_since": staff_row.created_at.isoformat(),
                "left": staff_row.retired_at.isoformat() if staff_row.retired_at else None,
                # What of these the register never recorded (changed in the database by the
                # kiosks' login or a shell, without the key), with what it does record: a
                # made-up address went to the person as the school's record of them.
                "not_as_the_register_recorded": not_recorded,
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

    def put_back_lists(self, admin_code: str) -> PutBackReport:
        """Put every list row (staff, devices, stores, policies, settings) changed, added or
        removed in the database itself back as the register's newest record of it by the
        kiosk, each as a list change recorded by the admin (``admin_code``), so that the
        kiosk reads, and the office can change, what the register recorded. The office's
        next change to such a row was refused ("changed directly in the database") with no
        way on but a restore, and verify named every event recorded on it meanwhile. A row
        added in the database, never recorded, is left (a person or a device is never
        removed) and said. The changes made in the database stay in the history, named by
        verify."""
        with self.ctx.write() as uow:
            session = uow.session
            admin = state.get_staff_info(session, admin_code)
            if not admin.has_role(Role.ADMIN.value):
                raise RuleViolation(
                    f"{admin.name} is not an admin: only admins can put the lists back."
                )
            conn = session.connection()
            recorded = uow.recorded_lists()
            # The admin as the register records them, not only as the table says: a role or
            # a code given in the database itself (what this puts back) signed in the person
            # it was given to, and every row put back was recorded as their change.
            mine = recorded["staff"].get(admin.id) or {}
            if (
                mine.get("code") != admin.code
                or Role.ADMIN.value not in (mine.get("roles") or ())
                or mine.get("retired_at") is not None
            ):
                raise RuleViolation(
                    f"Nothing was put back: the register does not record {admin.code} as an "
                    f"admin's code (the staff list read {display_text(admin.name)} as one, "
                    "changed in the database). Another admin puts the lists back; `kiosk "
                    "verify` names the change."
                )
            stored = {table: table_rows(conn, table) for table in REFERENCE_FIELDS}
            todo, left = _put_back_plan(recorded, stored)
            # A code (or tag, title and version) is held by one row at a time: a row whose
            # recorded code is held now by another row being put back (two codes swapped)
            # goes back once that row has been moved aside, to a code of its own.
            holders = {
                (table, _label(table, row)): key
                for table in _UNIQUE
                for key, row in stored[table].items()
            }
            going = {(table, key) for table, key, _row, _said in todo}

            def record(table: str, key: Any, row: dict[str, Any] | None, why: str) -> None:
                uow.record(
                    EventKind.REFERENCE_CHANGED,
                    staff_id=admin.id,
                    details={"table": table, "key": key, "row": row, "reason": why},
                )
                before = stored[table].get(key) if table in _UNIQUE else None
                if holders.get((table, _label(table, before))) == key:
                    del holders[(table, _label(table, before))]
                if table in _UNIQUE and row is not None:
                    holders[(table, _label(table, row))] = key
                    stored[table][key] = row

            # A row whose code is held by one not going back (added in the database) cannot
            # go back, nor then the row holding its own code, and so on: none of them is
            # moved aside (to a code nobody chose, recorded as the admin's change).
            stuck = True
            while stuck:
                stuck = False
                for table, key, row, _said in todo:
                    holder = holders.get((table, _label(table, row)))
                    held = holder not in (None, key) and (table, holder) not in going
                    if (table, key) in going and held:
                        going.discard((table, key))
                        stuck = True
            for table, key, row, _said in todo:
                holder = holders.get((table, _label(table, row)))
                if (table, key) in going and holder not in (None, key) and (table, holder) in going:
                    aside = dict(recorded[table][holder] or {})
                    # "~7", or "~7.1" ... when a row (one added in the database) holds it.
                    aside[_UNIQUE[table][0]] = f"~{holder}"
                    tries = 0
                    while (table, _label(table, aside)) in holders:
                        tries += 1
                        aside[_UNIQUE[table][0]] = f"~{holder}.{tries}"
                    record(table, holder, aside, f"{PUT_BACK_REASON} (moved aside first)")
            put_back = []
            for table, key, row, said in todo:
                holder = holders.get((table, _label(table, row)))
                if holder is not None and holder != key:
                    by = f"the {_LIST_ROW[table]} number {holder}"
                    if holder not in recorded[table]:
                        by += ", added in the database and never recorded"
                    left.append(
                        f"{said}: not put back: its {' and '.join(_UNIQUE[table])} is held by "
                        f"{by} (the kiosk reads that row for it)"
                    )
                    continue
                record(table, key, row, PUT_BACK_REASON)
                put_back.append(said)
            session.expire_all()
            return PutBackReport(tuple(put_back), tuple(left))

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
            purge_call: str | None = None
            if session.get_bind().dialect.name == "postgresql":
                found = purge_function(session.connection())
                if found is None:
                    raise RuleViolation(
                        "Nothing was purged: the register's purge function kiosk_purge_events "
                        "is missing from this database. Run kiosk verify, and ask whoever "
                        "looks after the database to put the register's functions back."
                    )
                purge_call, allowed = found
                if not allowed:
                    raise RuleViolation(
                        "On PostgreSQL only the database owner may purge: run kiosk purge "
                        "with the owner's KIOSK_DATABASE_URL (the kiosks' login may not)."
                    )
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
            upto = _purge_limit(session, cutoff, uow.now, today, uow.ctx.key, uow.recorded_lists())
            older = select(func.count()).select_from(Event).where(Event.occurred_at < cutoff)
            if upto is None:
                kept = session.scalar(older) or 0
                return PurgeReport(before, 0, None, None, None, kept, None)
            faults = chain_faults_upto(
                session, upto, now=uow.now, key=school_key_if_present(self.ctx.settings)
            )
            if faults:
                raise RuleViolation(
                    "Nothing was purged: the events it would remove do not verify ("
                    f"{faults.said()}), and a purge would hide that for good. Run kiosk "
                    "verify, keep the database as it is and tell the DPO."
                )
            offset = chain_offset(session)
            _carry_over_reference(uow, upto, admin.id)
            _carry_over_school_settings(uow, upto, admin.id)
            removed, first_id, last_hash, digest = _range_digest(session, upto)
            last_at = session.scalar(select(Event.occurred_at).where(Event.id == upto))
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
                    "last_removed_at": last_at.isoformat() if last_at else None,
                    "last_removed_position": offset + removed if offset is not None else None,
                },
            )
            if purge_call is not None:
                deleted = session.scalar(text(f"SELECT {purge_call}(:cp)"), {"cp": checkpoint.id})
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


# Room left in the data folder after the copy: the kiosks' own writes (the register often
# lies there too) must not find the disk full while a backup runs.
BACKUP_HEADROOM = 64 * 1024 * 1024


def _room_for_the_copy(engine: Engine, folder: Path) -> None:
    """InvalidInput, saying so, when ``folder`` has no room for a copy of the register at
    ``engine`` and BACKUP_HEADROOM besides (the copy is made and checked there first)."""
    path = engine.url.database or ""
    need = 0
    for name in (path, f"{path}-wal"):
        with suppress(OSError):
            need += os.stat(name).st_size
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # said by making the copy, if at all
    if free < need + BACKUP_HEADROOM:
        raise InvalidInput(
            f"Not backed up: the copy is made and checked in the kiosk's data folder {folder} "
            f"first, and needs about {_megabytes(need + BACKUP_HEADROOM)} there (the register, "
            f"and room for the kiosks to go on recording); it has {_megabytes(free)} free. "
            "Free some space on that disk, then back up again."
        )


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB"


def _write_copy(copy: Path, target: Path) -> None:
    """The checked copy, written into ``target``'s folder through a descriptor of a new file
    of its own, put in place whole (OSError: not, saying why)."""
    with copy.open("rb") as source, written_whole(target) as fh:
        shutil.copyfileobj(source, fh)
        fh.flush()
        os.fsync(fh.fileno())


def _copy_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup: a consistent snapshot, even while others write."""
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()


def _verify_file(
    path: Path,
    *,
    now: datetime,
    key: bytes | None = None,
    witness: VerifyReport | None = None,
    database: str | None = None,
    garbled: str | None = None,
) -> VerifyReport:
    """Verify the copy at ``path`` with its own last stored check and ``witness`` (this
    machine's witness of the register it was copied from): each must still be there.
    ``database``: the register's name in this machine's witness file (``witness`` was read
    from it), where the copy's own last check must be too; ``garbled``: why that file was
    emptied or overwritten (judged as a deleted one)."""
    engine = null_pool_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session, session.begin():
            last_id, last, _unreadable = read_last(session, key)
            report = verify_with_witnesses(session, now=now, key=key, witnesses=(witness, last))
    finally:
        engine.dispose()
    if database is not None:
        # The register's own last check, made here, not in this machine's witness file:
        # an older copy put back, the witness file deleted or put back with it.
        behind = witness_behind(witness, last_id, last, database, garbled)
        report = with_earlier_alarm(with_witness_behind(report, behind), last)
    return report


def _refuse_a_row_not_recorded(uow: Any, person: StaffInfo) -> str | None:
    """RuleViolation, nothing exported, when the staff list's row found for the code asked
    does not hold that code in the register's record of it (a code changed, or the row
    added, in the database itself): two codes swapped there by the kiosks' login or a shell
    sent Ben's phones and laptops out as Alice's subject access export, under her code. A
    name or an e-mail changed there leaves the events the person's own: exported, with
    what the register records of each such field said (None: the row is as recorded)."""
    recorded = uow.recorded_lists()["staff"].get(person.id)
    stored = table_rows(uow.session.connection(), "staff", key=person.id).get(person.id)
    if recorded is not None and stored is not None:
        if recorded.get("code") == stored.get("code"):
            fields = differing_fields("staff", recorded, stored)
            if not fields:
                return None
            held = "; ".join(
                f"{field} (the register records {field_value(_as_recorded(recorded.get(field)))})"
                for field in fields
            )
            return (
                f"{held}: changed in the database, not recorded by the kiosk (kiosk verify "
                "names it; `kiosk lists put-back` puts it back)"
            )
        who = (
            f"the register records that person as {display_text(str(recorded.get('code')))[:40]}"
            f", {display_text(str(recorded.get('name')))[:80]}"
        )
    else:
        who = "the register never recorded that person"
    raise RuleViolation(
        f"Nothing was exported: the staff list's row for {display_text(person.code)[:40]} "
        f"({display_text(person.name)[:80]}) is not as the register recorded it ({who}): it "
        "was changed directly in the database, and the export would be someone else's "
        "record. `kiosk lists put-back --admin CODE` puts the lists back as the register "
        "recorded them; then export again. `kiosk verify` names the change."
    )


def _as_recorded(value: Any) -> str:
    """A field of a recorded list row as the export says it (a list of roles as words)."""
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return display_text(str(value))[:200]


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
        .outerjoin(void, state.first_correction(void))
        .where(or_(Event.staff_id == person.id, Event.recorded_by_id == person.id))
        .order_by(Event.id)
    )
    yield from read_rows(session, stmt, Event.id)  # an unreadable event comes as Unreadable


def _shown_details(details: Any, code: str, tag: str | None) -> dict[str, Any]:
    """An event's details for the person's export: the code and tag the kiosk read when it
    recorded it only where they are not the person's code and the device's tag shown anyway
    (a code changed since), and never the code of the colleague who recorded it (their
    name is given) nor the store's (the item names it)."""
    shown = dict(details or {})
    shown.pop("recorded_by_code", None)
    shown.pop("store_code", None)  # (the item names the store)
    if shown.get("staff_code") == code:
        del shown["staff_code"]
    if tag is not None and shown.get("device_tag") == tag:
        del shown["device_tag"]
    return shown


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
        "local_time": format_local(event.occurred_at, zone, "%Y-%m-%d %H:%M:%S"),  # 01:30 BST/GMT
        "utc_time": event.occurred_at.isoformat(),
        "what": kind_label(event.kind),
        "kind": event.kind,
        "about": "you" if about else "a colleague (recorded by you)",
    }
    if about:
        record |= {
            "item": item_label(tag, device_kind, store, title, version),
            "details": _shown_details(event.details, person.code, tag),
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


def _mark_not_recorded_by_kiosk(
    session: Session, records: list[dict[str, Any]], key: bytes | None
) -> None:
    """Each exported event says whether the kiosk recorded it (its hash and MAC hold, as
    verify checks; ``integrity.is_recorded_by_kiosk``): one written into the database by a
    login or a shell without the school key went out to the person as a fact of their
    record. Without the key on this machine nothing can be told: "not checked"."""
    if key is None:
        for record in records:
            record["recorded_by_kiosk"] = "not checked (no school key on this machine)"
        return
    old = old_events(session)
    wanted = [r["event_id"] for r in records if r["kind"] != "unreadable"]
    # The correction that voids each one too: a void the kiosk did not record (the kiosks'
    # login, a correction about no one) read as the register's own "voided by event N".
    voids = [r["voided_by_event"] for r in records if isinstance(r["voided_by_event"], int)]
    kinds = {str(r["kind"]) for r in records} | {EventKind.CORRECTION.value}
    sealed: set[int] = set()
    for ids in (wanted, voids):
        for start in range(0, len(ids), 500):
            for row in stored_events(session, kinds, ids=ids[start : start + 500]):
                if is_recorded_by_kiosk(row, key, old):
                    sealed.add(int(row["id"]))
    for record in records:
        record["recorded_by_kiosk"] = (
            "yes"
            if record["event_id"] in sealed
            else "NO: not recorded by the kiosk (kiosk verify names it)"
        )
        void = record["voided_by_event"]
        if isinstance(void, int) and void not in sealed:
            record["voided_by_event"] = f"{void}: NOT recorded by the kiosk (kiosk verify names it)"


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
    "recorded_by_kiosk",
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
            "details": "; ".join(f"{k}: {field_value(v)}" for k, v in sorted(details.items())),
        }
        writer.writerow([neutralise(record[col]) for col in EXPORT_COLUMNS])
    return out.getvalue()


# The lists as the register records them (``uow.recorded_lists``): table -> key -> row.
RecordedLists = Mapping[str, Mapping[Any, Any]]


def _recorded_in_force(recorded: RecordedLists) -> tuple[set[int], set[int]]:
    """The staff still there and the newest version of each policy title as the kiosk
    recorded them (the register's own list changes), whatever the tables hold now."""
    staying = {
        key
        for key, row in recorded.get("staff", {}).items()
        if isinstance(row, dict) and type(key) is int and row.get("retired_at") is None
    }
    newest: dict[str, int] = {}
    for key, row in recorded.get("policies", {}).items():
        if isinstance(row, dict) and type(key) is int:
            title = str(row.get("title"))
            newest[title] = max(newest.get(title, key), key)
    return staying, set(newest.values())


def _live_event_ids(
    session: Session, now: datetime, today: date, recorded: RecordedLists | None = None
) -> set[int]:
    """Events that still define the current state: never purged. ``recorded``: the lists
    as the kiosk recorded them, whose staff still there and policy versions in force count
    besides the tables': a version published, or a person marked as having left, without
    the school key (the kiosks' login may add policies and retire anyone but an admin) made
    every agreement to the school's own policy, or the person's training and exemption,
    history, and the purge removed them for good."""
    staying, recorded_policies = _recorded_in_force(recorded or {})
    ids: set[int] = {held.event_id for held in state.phones_now(session)}
    for item in state.offsite_now(session, now):
        ids.add(item.event_id)
        latest = state.device_event(session, item.device.id)
        if latest is not None:
            ids.add(latest.id)
    people = [
        person
        for person in session.scalars(select(Staff))
        if person.retired_at is None or person.id in staying
    ]
    for person in state.staff_infos(session, people).values():
        exemption = state.exemption_of(session, person, today)
        if exemption is not None:
            ids.add(exemption.event_id)
        vdu = state.latest_event_id(session, "vdu", person.id)
        if vdu is not None:
            ids.add(vdu)
    current = sorted({p.id for p in state.current_policies(session)} | recorded_policies)
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


def _purge_limit(
    session: Session,
    cutoff: datetime,
    now: datetime,
    today: date,
    key: bytes,
    recorded: RecordedLists,
) -> int | None:
    """The id of the last event to remove (a prefix of the chain), or None."""
    first_young = session.scalar(select(func.min(Event.id)).where(Event.occurred_at >= cutoff))
    newest = session.scalar(select(func.max(Event.id)))
    if newest is None:
        return None
    upto = first_young - 1 if first_young is not None else newest
    live = _live_event_ids(session, now, today, recorded)
    if live:
        upto = min(upto, min(live) - 1)
    # The database's own rule (guards.protected_min_sql), reference rows aside: the purge
    # records those again first (_carry_over_reference).
    dialect = session.get_bind().dialect.name
    protected = session.scalar(text(protected_min_sql(dialect, reference=False)))
    if protected is not None:
        upto = min(upto, int(protected) - 1)
    upto = _before_unrecorded(session, upto, key)
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


# The streams whose newest event is the current state (a person's phone, a device, ...),
# each named by these columns of its events (``state``'s latest-of-a-stream statements).
_STREAMS = {
    "phone": ("staff_id",),
    "device": ("device_id",),
    "exemption": ("staff_id",),
    "vdu": ("staff_id",),
    "review": ("staff_id",),
    "policy": ("staff_id", "policy_id"),
}


def _before_unrecorded(session: Session, upto: int, key: bytes) -> int:
    """``upto`` lowered so that each stream's newest event the kiosk recorded is kept
    where an event after it in that stream, kept by the purge, is one the kiosk did not
    record (its hash or MAC is not the school key's). The current state is read from the
    newest event of a stream whoever wrote it: a return of LAP-001 appended by the kiosks'
    login made Alice's sign-out of two years before no longer "the laptop's state", and the
    office's purge removed it for good, under the admin's checkpoint, leaving only the
    forged return (named by verify) and nothing of who has the laptop. Each kept event of a
    stream is a hash and an HMAC: the purge's own check of what it removes is the same."""
    old = old_events(session)
    kinds = [k for k in EventKind if k.category in _STREAMS]
    for row in stored_events(session, [k.value for k in kinds], after_id=upto):
        if is_recorded_by_kiosk(row, key, old):
            continue
        category = EventKind(row["kind"]).category
        same = [k.value for k in kinds if k.category == category]
        named = [
            getattr(Event, column).is_(None)
            if row[column] is None
            else getattr(Event, column) == row[column]
            for column in _STREAMS[category]
        ]
        before = session.scalar(
            select(func.max(Event.id)).where(Event.kind.in_(same), Event.id <= upto, *named)
        )
        if before is not None:
            upto = int(before) - 1
    return upto


# What a list row is called in what put_back_lists says, and the column(s) no two rows of
# its table may share (a code swapped in the database is put back through a code aside).
_LIST_ROW = {"staff": "person", "devices": "device", "stores": "store", "policies": "policy"}
_UNIQUE = {
    "staff": ("code",),
    "devices": ("tag",),
    "stores": ("code",),
    "policies": ("title", "version"),
}
PUT_BACK_REASON = "put back as the register recorded it"


@dataclass(frozen=True, slots=True)
class PutBackReport:
    put_back: tuple[str, ...]  # each row put back, as "the person ASMITH (name, roles)"
    left: tuple[str, ...]  # rows it could not put back, and why

    @property
    def summary(self) -> str:
        if not self.put_back and not self.left:
            return "Every list row is as the register recorded it: nothing to put back."
        lines = []
        if self.put_back:
            lines.append(
                f"Put back {len(self.put_back)} list row(s) as the register recorded them "
                "(each change recorded, by you):"
            )
            lines += [f"  {line}" for line in self.put_back]
        if self.left:
            lines.append(f"Left as they are ({len(self.left)}):")
            lines += [f"  {line}" for line in self.left]
        lines.append(
            "kiosk verify still names the changes made in the database (they stay in the "
            "register's history), and events recorded while they were in force."
        )
        return "\n".join(lines)


def _row_said(table: str, key: Any, row: dict[str, Any] | None) -> str:
    if table == "kiosk_settings":
        return f"the setting {display_text(str(key))[:40]}"
    label = (row or {}).get(_UNIQUE[table][0])
    shown = display_text(label)[:40] if isinstance(label, str) else f"number {key}"
    return f"the {_LIST_ROW[table]} {shown}"


def _put_back_plan(
    recorded: dict[str, dict[Any, dict[str, Any] | None]],
    stored: dict[str, dict[Any, dict[str, Any]]],
) -> tuple[list[tuple[str, Any, dict[str, Any] | None, str]], list[str]]:
    """Which rows differ from the register's record of them, and the row to record for
    each (with what differed), or why it is left."""
    todo: list[tuple[str, Any, dict[str, Any] | None, str]] = []
    left: list[str] = []
    for table in REFERENCE_FIELDS:
        mine, theirs = recorded.get(table, {}), stored.get(table, {})
        for key in sorted(set(mine) | set(theirs), key=str):
            if key not in mine:
                said = _row_said(table, key, theirs[key])
                if table == "kiosk_settings":
                    todo.append((table, key, None, f"{said} (never recorded: removed)"))
                else:
                    left.append(
                        f"{said}: added in the database, never recorded in the register "
                        "(the kiosk cannot remove it; a restore, or whoever looks after the "
                        "database, can)"
                    )
                continue
            row, now = mine[key], theirs.get(key)
            if row is None:
                if now is not None:  # a setting removed in the register, back in the table
                    todo.append((table, key, None, f"{_row_said(table, key, now)} (removed)"))
                continue
            if now is None:
                todo.append((table, key, row, f"{_row_said(table, key, row)} (was missing)"))
                continue
            fields = differing_fields(table, row, now)
            if fields:
                todo.append(
                    (table, key, row, f"{_row_said(table, key, row)} ({', '.join(fields)})")
                )
    return todo, left


def _label(table: str, row: dict[str, Any] | None) -> tuple[Any, ...] | None:
    if table not in _UNIQUE or row is None:
        return None
    return tuple(row.get(c) for c in _UNIQUE[table])


def _carry_over_reference(uow: Any, upto: int, by: int) -> int:
    """Record again every reference row whose newest event would be purged: the table keeps
    a recorded origin in the chain that remains, recorded by the admin purging (``by``).
    What is recorded is the register's own record of the row, and a row changed in the
    database itself stops the purge (RuleViolation, nothing changed): taken from the table,
    an edit that verify names before the purge went into the register under the school's
    key, "carried over by a purge", and verify said intact after it. Returns how many."""
    session = uow.session
    events: dict[tuple[str, Any], list[int]] = {}
    for event_id, details in session.execute(
        select(Event.id, Event.details).where(Event.kind == REFERENCE_KIND).order_by(Event.id)
    ):
        if isinstance(details, dict):
            events.setdefault((str(details.get("table")), details.get("key")), []).append(event_id)
    # A row's record kept after the purge counts only if the kiosk recorded it: the kiosks'
    # login recording Alice's row again, as it was, without the key, made the purge take
    # that for her row's record and carry nothing over; her row was then "never recorded",
    # and every change the office made to it refused, with no way back.
    after = [i for ids in events.values() for i in ids if i > upto]
    recorded_after: set[int] = set()
    old = old_events(session)
    for start in range(0, len(after), 500):
        for row in stored_events(session, (REFERENCE_KIND,), ids=after[start : start + 500]):
            if is_recorded_by_kiosk(row, uow.ctx.key, old):
                recorded_after.add(int(row["id"]))
    stale = {
        k
        for k, ids in events.items()
        if ids[0] <= upto and not any(i > upto and i in recorded_after for i in ids)
    }
    if not stale:
        return 0
    recorded = uow.recorded_lists()
    count = 0
    # The purging admin's own row first: the rest is then recorded by someone the replay
    # already knows as an admin (verify checks who grants admin).
    for table, key in sorted(stale, key=lambda k: (k != ("staff", by), str(k))):
        if table not in recorded:
            continue  # (an event verify names as unreadable)
        try:
            key = normalise_key(table, key)
        except (TypeError, ValueError, OverflowError):
            continue
        uow.refuse_changed_directly(table, key)
        row = recorded[table].get(key)
        if row is None:
            continue
        uow.record(
            EventKind.REFERENCE_CHANGED,
            staff_id=by,
            details={"table": table, "key": key, "row": row, "reason": "carried over by a purge"},
        )
        count += 1
    return count


def _carry_over_school_settings(uow: Any, upto: int, by: int) -> int:
    """Record again the school calendar and the device kinds in force when the event that
    holds them would be purged: each is the details of the newest event of its kind the
    kiosk recorded (``school_events.latest_recorded``), so a calendar or a kind set more
    than a year ago and not changed since went with it, and the school was back to every
    weekday a school day and the built-in kinds only. Recorded by the admin purging
    (``by``). Returns how many."""
    count = 0
    for kind in (EventKind.CALENDAR_SET, EventKind.DEVICE_KINDS_SET):
        # The newest the kiosk recorded, as an office change builds on: the newest of all
        # was one appended without the key after the purge point, and the school's own
        # calendar, older, went with the purge.
        found = school_events.latest_recorded(uow.session, kind, uow.ctx.key)
        if found is None or found[0] > upto:
            continue  # kept, or none
        details = dict(found[1])
        details["reason"] = "carried over by a purge"
        uow.record(kind, staff_id=by, details=details)
        count += 1
    return count


@lru_cache(maxsize=1)
def kiosk_tables() -> dict[str, tuple[tuple[str, str], ...]]:
    """The kiosk's tables and their columns (name, declared type) as the kiosk declares them
    on SQLite: its models (the migrations declare the same: every restore of a backup,
    upgraded by them, is checked against this), and Alembic's version table."""
    dialect = sqlite_dialect.dialect()
    tables = {
        table.name: tuple((c.name, c.type.compile(dialect=dialect)) for c in table.columns)
        for table in Base.metadata.sorted_tables
    }
    tables["alembic_version"] = (("version_num", "VARCHAR(32)"),)
    return tables


_HIDDEN = {1: "hidden", 2: "generated", 3: "generated"}  # PRAGMA table_xinfo's hidden flag


def _declaration_problems(
    conn: sqlite3.Connection, table: str, columns: tuple[tuple[str, str], ...]
) -> list[str]:
    """How ``table`` in ``conn`` is not declared as the kiosk declares it (empty: it is)."""
    found = conn.execute(
        "SELECT type, sql FROM main.sqlite_master WHERE lower(name) = ? ORDER BY type",
        (table.lower(),),
    ).fetchall()
    kinds = [str(kind).lower() for kind, _sql in found]
    if "table" not in kinds:
        return [f"it is a {kinds[0]}" if kinds else "it is missing"]
    sql = " ".join(str(found[kinds.index("table")][1] or "").split()).upper()
    if sql.startswith("CREATE VIRTUAL TABLE"):
        return ["it is a virtual table"]
    problems: list[str] = []
    expected = {name.lower(): (name, kind) for name, kind in columns}
    seen: set[str] = set()
    for _cid, name, kind, _notnull, _default, _pk, hidden in conn.execute(
        f'PRAGMA main.table_xinfo("{table}")'
    ):
        name = str(name)
        seen.add(name.lower())
        want = expected.get(name.lower())
        if hidden:
            problems.append(f"column {name} is {_HIDDEN.get(int(hidden), 'hidden')}")
        elif want is None:
            problems.append(f"column {name} is not the kiosk's")
        elif " ".join(str(kind or "").split()).upper() != want[1].upper():
            declared = f"declared {kind}" if kind else "declared without a type"
            problems.append(f"column {name} is {declared}, the kiosk's {want[1]}")
    problems.extend(
        f"column {name} is missing" for key, (name, _k) in expected.items() if key not in seen
    )
    return problems


def _check_declarations(copy: Path, source: Path) -> None:
    """Refuse a backup whose kiosk tables are not declared as the kiosk declares them (a view
    or virtual table in place of one, generated or hidden columns, columns missing or not the
    kiosk's, other types): what verify reads there is not what the copy into the live
    register would carry."""
    try:
        conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        raise InvalidInput(f"{source} cannot be read as a kiosk database.") from None
    try:
        for table, columns in kiosk_tables().items():
            problems = _declaration_problems(conn, table, columns)
            if problems:
                raise RuleViolation(
                    f"Not restored: the {table} table in {source} is not the kiosk's "
                    f"({'; '.join(problems)}). Nothing was changed."
                )
    except sqlite3.Error as exc:
        raise InvalidInput(
            f"{source} cannot be read as a kiosk database ({type(exc).__name__}: {exc})."
        ) from None
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class _Check:
    """How the restored register is verified before the restore commits."""

    now: datetime
    key: bytes | None
    anchors: Sequence[Anchor]


@dataclass(frozen=True, slots=True)
class _RestoreEvent:
    """The restore's own event, recorded in the transaction that replaces the rows."""

    by: int | None
    kiosk: str
    at: datetime
    key: bytes
    details: dict[str, Any]

    def insert(self, conn: sqlite3.Connection, dropped: int, span: tuple[int, int] | None) -> int:
        head = conn.execute("SELECT id, hash FROM main.events ORDER BY id DESC LIMIT 1").fetchone()
        head_id, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
        at = self.at.astimezone(UTC)
        row = sealed_event(
            max(head_id, span[1] if span else 0) + 1,  # dropped ids are not used again
            at,
            EventKind.ADMIN_ACTION,
            kiosk=self.kiosk,
            details={
                **self.details,
                "dropped": dropped,
                "dropped_ids": list(span) if span else None,
            },
            prev_hash=prev,
            key=self.key,
            staff_id=self.by,
            recorded_by_id=self.by,
        )
        stored = dict(
            row,
            occurred_at=at.replace(tzinfo=None).isoformat(" ", "microseconds"),
            details=json.dumps(row["details"]),
        )
        columns = ", ".join(stored)
        marks = ", ".join("?" * len(stored))
        conn.execute(
            f"INSERT INTO main.events ({columns}) VALUES ({marks})", tuple(stored.values())
        )
        return int(row["id"])


def _replace_sqlite(
    live: Path,
    copy: Path,
    safety: Path,
    report: VerifyReport,
    *,
    drop_newer: bool,
    source: Path,
    event: _RestoreEvent,
    check: _Check,
) -> tuple[int, int, str | None]:
    """Under the live database's write lock: compare, keep a safety copy, replace every
    kiosk table's rows with the copy's (the kiosk's columns), record the restore, put the
    triggers back and check them, verify the register as restored; one transaction, committed
    only when that verify passes. Returns (newer live events dropped, the restore event's id,
    why the backup could not be compared with the live register or None)."""
    engine = null_pool_engine(f"sqlite:///{live}")
    try:
        try:
            sa = engine.connect()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(
                f"Not restored: the live database cannot be opened ({exc})."
            ) from exc
        try:
            conn = sa.connection.dbapi_connection
            assert isinstance(conn, sqlite3.Connection)
            # Rows go in table by table: the foreign keys hold once all are in (verify checks).
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute(f"PRAGMA busy_timeout = {int(RESTORE_LOCK_SECONDS * 1000)}")
            conn.execute("ATTACH DATABASE ? AS src", (str(copy),))
            dropped, event_id, not_compared = _replace_rows(
                sa, conn, live, safety, report, drop_newer, source, event, check
            )
            conn.execute("DETACH DATABASE src")
            # The append-only triggers work: an UPDATE of the newest event is refused.
            try:
                conn.execute(
                    "UPDATE events SET kiosk = kiosk WHERE id = (SELECT max(id) FROM events)"
                )
            except sqlite3.DatabaseError:
                pass
            else:
                if conn.execute("SELECT count(*) FROM events").fetchone()[0]:
                    raise DatabaseUnavailable(
                        "Restored, but the append-only triggers do not refuse an UPDATE: run "
                        "`kiosk db upgrade` and `kiosk verify` before using the kiosk."
                    )
        finally:
            sa.close()
    except (sqlite3.Error, SQLAlchemyError) as exc:
        raise DatabaseUnavailable(
            f"Not restored: the live database could not be replaced ({exc})."
        ) from exc
    finally:
        engine.dispose()
    return dropped, event_id, not_compared


def _replace_rows(
    sa: Any,
    conn: sqlite3.Connection,
    live: Path,
    safety: Path,
    report: VerifyReport,
    drop_newer: bool,
    source: Path,
    event: _RestoreEvent,
    check: _Check,
) -> tuple[int, int, str | None]:
    """The transaction of ``_replace_sqlite``, on ``sa`` (a SQLAlchemy connection: verify
    reads through it) and its SQLite connection ``conn``."""
    try:
        sa.execution_options(kiosk_write=True).begin()  # BEGIN IMMEDIATE (kiosk.db.engine)
    except SQLAlchemyError as exc:
        if not isinstance(getattr(exc, "orig", None), sqlite3.OperationalError):
            raise
        raise RuleViolation(
            "Not restored: another process is writing to the register (its write lock "
            f"was held for more than {RESTORE_LOCK_SECONDS:.0f} s). Stop the kiosks, then "
            "restore."
        ) from None
    try:
        dropped, dropped_range, not_compared = _compare_with_live(conn, report, drop_newer, source)
        # A second connection reads the live file as it is under our write lock (WAL:
        # readers go on) into the safety copy; nothing can be written meanwhile.
        reader = sqlite3.connect(live, timeout=RESTORE_LOCK_SECONDS)
        try:
            _copy_sqlite(reader, safety)
        finally:
            reader.close()
        os.chmod(safety, 0o600)
        # SQLite runs a trigger whose schema row spells its type 'TRIGGER', but DROP
        # TRIGGER only deletes rows spelt 'trigger': spell them so first.
        # (Only when there is one: a SQLite built defensive refuses writable_schema.)
        odd = "lower(type) = 'trigger' AND type <> 'trigger'"
        if conn.execute(f"SELECT 1 FROM main.sqlite_master WHERE {odd}").fetchone():
            conn.execute("PRAGMA writable_schema = ON")
            try:
                conn.execute(f"UPDATE main.sqlite_master SET type = 'trigger' WHERE {odd}")
            finally:
                conn.execute("PRAGMA writable_schema = OFF")
        triggers = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM main.sqlite_master WHERE lower(type) = 'trigger'"
            )
        ]
        for name in triggers:
            conn.execute(f'DROP TRIGGER main."{name}"')
        # The kiosk's tables and columns, not the backup's own list of them: SQLite's
        # table_info leaves generated columns out (_check_declarations refused those).
        for table, columns in kiosk_tables().items():
            names = ", ".join(f'"{name}"' for name, _type in columns)
            conn.execute(f'DELETE FROM main."{table}"')
            conn.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM src."{table}"')
        event_id = event.insert(conn, dropped, dropped_range)
        for sql in SQLITE_TRIGGERS.values():
            conn.execute(sql)
        have = {
            name: " ".join(str(sql).split())
            for name, sql in conn.execute(
                "SELECT name, sql FROM main.sqlite_master WHERE lower(type) = 'trigger'"
            )
        }
        for name, sql in SQLITE_TRIGGERS.items():
            if have.get(name) != " ".join(sql.split()):
                raise DatabaseUnavailable(f"Not restored: the trigger {name} did not stick.")
        # The register as restored, verified before anything is committed: what the copy's
        # check read is not always what the live tables now hold.
        with Session(bind=sa) as session:
            result = verify_session(session, now=check.now, key=check.key, anchors=check.anchors)
        if not result.ok:
            raise RuleViolation(
                f"Not restored: the register as it would be restored from {source} does not "
                f"verify, so the restore was undone. {result.summary} Nothing was changed."
            )
        sa.commit()
    except BaseException:
        if sa.in_transaction():
            sa.rollback()
        raise
    return dropped, event_id, not_compared


def _compare_with_live(
    conn: sqlite3.Connection, report: VerifyReport, drop_newer: bool, source: Path
) -> tuple[int, tuple[int, int] | None, str | None]:
    """Refuse a backup that is not the live register's own past; count newer live events.
    The third value says why there was nothing to compare with (None: compared)."""
    try:
        live_first, _live_last, live_count = conn.execute(
            "SELECT min(id), max(id), count(*) FROM main.events"
        ).fetchone()
    except sqlite3.DatabaseError:
        # No readable live register: nothing to compare with or to drop.
        return 0, None, "cannot be read"
    if not live_count:
        return 0, None, "holds no events"
    head = report.head_id
    if head is None:
        raise RuleViolation(
            f"Not restored: {source} holds no events, the live register holds {live_count}."
        )
    found = conn.execute("SELECT hash FROM main.events WHERE id = ?", (head,)).fetchone()
    if found is None or found[0] != report.head_hash:
        if found is None and live_first is not None and live_first > head:
            why = "the live register no longer holds its newest event (purged since?)"
        elif found is None:
            why = f"the live register has no event {head}"
        else:
            why = (
                f"its event {head} has hash {report.head_hash[:16]}..., the live register's "
                f"{str(found[0])[:16]}..."
            )
        raise RuleViolation(
            f"Not restored: {source} is not the live register's past ({why}): it was "
            "rewritten, or belongs to another register. Nothing was changed."
        )
    newer = conn.execute(
        "SELECT count(*), min(id), max(id) FROM main.events WHERE id > ?", (head,)
    ).fetchone()
    count = int(newer[0] or 0)
    if count and not drop_newer:
        raise RuleViolation(
            f"Not restored: the live register has {count} event(s) newer than the backup "
            f"(events {newer[1]} to {newer[2]}); restoring would drop them. To drop them, "
            "pass --drop-newer with --reason (both are recorded). Nothing was changed."
        )
    return count, ((int(newer[1]), int(newer[2])) if count else None), None


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
