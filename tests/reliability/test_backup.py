"""Backup, restore (only of a copy whose chain verifies) and subject access exports."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
import subprocess
from pathlib import Path

import psycopg
import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import InvalidInput, NotFound, RuleViolation, SchemaTooNew
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.pg import PgServer, _bin_dir
from tests.reliability.helpers import (
    add_trigger_spelt_upper,
    count_events,
    libpq_url,
    meddle,
    raw_scalar,
)
from tests.reliability.test_tamper import record_shift
from tests.school import make_school


def test_backup_is_a_verified_private_copy(sqlite_services: Services, tmp_path: Path) -> None:
    services = sqlite_services
    make_school(services)
    record_shift(services, rounds=2)
    target = tmp_path / "backup.sqlite3"

    report = services.backup.backup(target)

    assert report.verify.ok
    assert report.verify.events_checked == count_events(services.settings.database_url)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = Services(make_engine(f"sqlite:///{target}"), services.settings, services.ctx.clock)
    try:
        assert [s.code for s in copy.people.list_staff()] == [
            s.code for s in services.people.list_staff()
        ]
        assert copy.integrity.verify().head_hash == report.verify.head_hash
    finally:
        copy.close()
    with pytest.raises(InvalidInput, match="already exists"):
        services.backup.backup(target)
    with pytest.raises(InvalidInput, match="does not exist"):
        services.backup.backup(tmp_path / "nowhere" / "b.sqlite3")


def test_restore_verifies_the_copy_then_replaces_the_register(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    make_school(services)
    record_shift(services, rounds=1)
    backup = tmp_path / "monday.sqlite3"
    taken = services.backup.backup(backup)
    services.phones.deposit("ASMITH")  # after the backup: lost by the restore, kept aside
    after_backup = count_events(services.settings.database_url)

    # The live register has an event the backup does not: refused without the flag.
    with pytest.raises(RuleViolation, match=r"1 event\(s\) newer than the backup"):
        services.backup.restore(backup)
    assert count_events(services.settings.database_url) == after_backup

    report = services.backup.restore(backup, drop_newer=True, reason="deposit recorded by mistake")

    assert report.verify.ok and report.verify.events_checked == taken.verify.events_checked
    assert report.dropped == 1 and "1 newer event(s)" in report.summary
    # The same Services object carries on with the restored register.
    assert services.phones.phones_now() == ()
    # The restore is recorded (with how many were dropped and why), then checked.
    assert count_events(services.settings.database_url) == taken.verify.events_checked + 2
    details = raw_scalar(
        services.settings.database_url,
        f"SELECT details FROM events WHERE id = {report.event_id}",
    )
    assert '"dropped": 1' in details and "deposit recorded by mistake" in details
    check = services.integrity.verify()
    assert check.ok, check.summary
    # The database as it was before the restore is kept.
    assert report.safety_copy.exists()
    assert count_events(f"sqlite:///{report.safety_copy}") == after_backup
    # The backup file itself was not changed by the restore.
    again = services.backup.restore(backup, drop_newer=True, reason="again")
    assert again.verify.head_hash == taken.verify.head_hash
    # The check after it is of the register as restored: this machine's witness of the end
    # it had (the restore and check above, dropped as asked) is not a missing end.
    assert again.dropped == 3 and again.after is not None and again.after.ok, again.summary
    assert "chain verified" in again.summary


def test_restore_refuses_a_backup_whose_chain_is_broken(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    make_school(services)
    record_shift(services, rounds=1)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    with meddle(f"sqlite:///{backup}") as db:
        db.overwrite(3, {"kiosk": "edited"})
    services.phones.deposit("BJONES")
    before = count_events(services.settings.database_url)

    with pytest.raises(RuleViolation, match="does not verify") as err:
        services.backup.restore(backup)

    assert "changed after they were recorded (first: 3)" in str(err.value)
    assert count_events(services.settings.database_url) == before
    assert [h.staff.code for h in services.phones.phones_now()] == ["BJONES"]


def test_restore_refuses_what_is_not_a_kiosk_backup(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    make_school(services)
    with pytest.raises(InvalidInput, match="There is no backup file"):
        services.backup.restore(tmp_path / "missing.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidInput, match="not a kiosk backup"):
        services.backup.restore(junk)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(InvalidInput, match="no kiosk schema"):
        services.backup.restore(empty)
    newer = tmp_path / "newer.sqlite3"
    services.backup.backup(newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer version"):
        services.backup.restore(newer)
    assert len(services.people.list_staff()) == 5


@pytest.mark.postgresql
def test_postgresql_backup_gives_a_pg_dump_command_that_works(
    pg_url: str, pg_server: PgServer, clock: FakeClock, tmp_path: Path
) -> None:
    services = Services(make_engine(pg_url), Settings(kiosk_name="k1", database_url=pg_url), clock)
    try:
        make_school(services)
        record_shift(services, rounds=1)
        dump = tmp_path / "kiosk.dump"
        with pytest.raises(RuleViolation, match="pg_dump") as err:
            services.backup.backup(dump)
        command = str(err.value).split("owner: ", 1)[1].split()
        assert command[0] == "pg_dump"
        subprocess.run([str(_bin_dir() / "pg_dump"), *command[1:]], check=True, timeout=120)
        with pytest.raises(RuleViolation, match="pg_restore") as err:
            services.backup.restore(dump)
        assert "kiosk verify" in str(err.value)
        # Follow the restore steps into a fresh database and check the copy verifies.
        restored = f"{pg_url.rsplit('/', 1)[1]}_restore"
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as pg:
            pg.execute(f'CREATE DATABASE "{restored}"')
        target = pg_url.rsplit("/", 1)[0] + "/" + restored
        try:
            subprocess.run(
                [
                    str(_bin_dir() / "pg_restore"),
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-owner",
                    "--dbname",
                    libpq_url(target),
                    str(dump),
                ],
                check=True,
                timeout=120,
            )
            copy = Services(make_engine(target), services.settings, clock)
            try:
                report = copy.integrity.verify()
            finally:
                copy.close()
            assert report.ok and report.events_checked == count_events(pg_url)
        finally:
            with psycopg.connect(libpq_url(pg_url), autocommit=True) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
    finally:
        services.close()


# --- subject access ---------------------------------------------------------------------------


def test_subject_access_export_has_the_persons_events_only(services: Services) -> None:
    make_school(services)
    services.people.add_staff("XEVIL", "=cmd|' /C calc'!A0", email="x@school.example")
    services.phones.deposit("ASMITH")
    services.phones.deposit("XEVIL")
    services.phones.deposit("BJONES", "DRAWER", recorded_by="BJONES")
    services.phones.deposit("EPATEL", "DRAWER", recorded_by="BJONES")  # BJONES for a colleague
    services.phones.collect("ASMITH")

    as_json = services.backup.export_staff("asmith", "json", admin_code="DOFFICE")
    data = json.loads(as_json.content)
    assert data["staff"]["code"] == "ASMITH" and data["staff"]["email"] == "asmith@school.example"
    assert [e["kind"] for e in data["events"]] == ["phone_deposited", "phone_collected"]
    assert as_json.events == 2

    lead = json.loads(services.backup.export_staff("BJONES", "json").content)
    mine, colleague = lead["events"]
    assert mine["about"] == "you" and mine["item"]
    assert colleague["about"].startswith("a colleague") and colleague["details"] == {}
    assert "Esha" not in json.dumps(colleague)

    evil = services.backup.export_staff("XEVIL", "csv")
    cells = [cell for row in csv.reader(io.StringIO(evil.content)) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    # Each export is itself on the record, against the person it was about.
    rows = services.register.day(services.ctx.clock().date()).rows
    exports = [r for r in rows if "subject_access_export" in r.detail]
    assert [r.staff_code for r in exports] == ["ASMITH", "BJONES", "XEVIL"]

    with pytest.raises(InvalidInput, match="csv or json"):
        services.backup.export_staff("ASMITH", "xml")
    with pytest.raises(NotFound):
        services.backup.export_staff("NOBODY")


def test_restore_takes_out_a_trigger_however_its_schema_row_spells_its_type(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """A shell files a trigger that drops one person's deposits under the type 'TRIGGER'
    (SQLite still runs it). A restore puts back the kiosk's triggers and only those: this one
    goes too, and the register records that person's deposit again."""
    services = sqlite_services
    make_school(services)
    record_shift(services, rounds=1)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    path = services.settings.database_url.removeprefix("sqlite:///")
    add_trigger_spelt_upper(path, "BJONES")

    report = services.backup.restore(backup)

    assert report.verify.ok
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")]
    assert "quiet" not in names
    before = count_events(services.settings.database_url)
    services.phones.deposit("BJONES")
    assert count_events(services.settings.database_url) == before + 1
    assert services.integrity.verify(save=False).ok
