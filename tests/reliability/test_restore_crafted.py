"""A backup whose kiosk tables are not declared as the kiosk declares them, and a restore whose
result does not verify (security tester's finding: "restore says chain verified, verify says
every event changed").

The copy into the live register listed the columns to copy from the backup's own
``PRAGMA table_info``, which leaves generated columns out: a backup whose ``events.mac`` was a
GENERATED column verified (the copy's check read the generated values) while the live rows were
inserted without any MAC. The restore then ran verify, ignored its result and said "chain
verified". Each test here failed on the code before its fix.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from tests.reliability.helpers import count_events, sqlite_path
from tests.reliability.test_attacks import shift_school


def _recreate(path: Path, table: str, change: Callable[[str, sqlite3.Connection], str]) -> None:
    """A shell on the backup file: ``table`` declared again as ``change`` rewrites its CREATE
    TABLE, its rows copied into the columns both declarations share (as SQLite lists them)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        old = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        created = change(sql.replace(f"CREATE TABLE {table}", f"CREATE TABLE {table}_new", 1), conn)
        conn.execute(created)
        new = [r[1] for r in conn.execute(f"PRAGMA table_info({table}_new)")]
        shared = ", ".join(c for c in old if c in new)
        conn.execute(f"INSERT INTO {table}_new ({shared}) SELECT {shared} FROM {table}")
        conn.execute(f"DROP TABLE {table}")
        conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    finally:
        conn.close()


def _generated_mac(kind: str) -> Callable[[str, sqlite3.Connection], str]:
    """``events.mac`` GENERATED from a CASE over the ids: every stored MAC, read back right."""

    def change(sql: str, conn: sqlite3.Connection) -> str:
        rows = conn.execute("SELECT id, mac FROM events").fetchall()
        case = "CASE id " + " ".join(f"WHEN {i} THEN '{m}'" for i, m in rows) + " END"
        return re.sub(
            r"\bmac\s+VARCHAR\(\d+\)", f"mac VARCHAR(64) GENERATED ALWAYS AS ({case}) {kind}", sql
        )

    return change


def _extra_column(sql: str, _conn: sqlite3.Connection) -> str:
    return sql.replace("mac VARCHAR(64)", "mac VARCHAR(64), note TEXT", 1)


def _hidden_column(sql: str, _conn: sqlite3.Connection) -> str:
    # A generated column nobody reads: hidden from table_info, as the kiosk never declares one.
    return sql.replace("mac VARCHAR(64)", "mac VARCHAR(64), extra TEXT AS ('x')", 1)


def _missing_column(sql: str, _conn: sqlite3.Connection) -> str:
    return re.sub(r"\s*batch VARCHAR\(36\),", "", sql)


def _other_type(sql: str, _conn: sqlite3.Connection) -> str:
    return sql.replace("kiosk VARCHAR(64)", "kiosk BLOB", 1)


CRAFTED = {
    "generated-virtual": (_generated_mac("VIRTUAL"), "column mac is generated"),
    "generated-stored": (_generated_mac("STORED"), "column mac is generated"),
    "extra": (_extra_column, "column note is not the kiosk's"),
    "hidden": (_hidden_column, "column extra is generated"),
    "missing": (_missing_column, "column batch is missing"),
    "other-type": (_other_type, "column kiosk is declared BLOB, the kiosk's VARCHAR(64)"),
}


@pytest.mark.parametrize("craft", sorted(CRAFTED))
def test_a_backup_whose_events_table_is_not_the_kiosks_is_refused(
    sqlite_services: Services, tmp_path: Path, craft: str
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    backup = tmp_path / "crafted.sqlite3"
    services.backup.backup(backup)
    change, named = CRAFTED[craft]
    _recreate(backup, "events", change)
    before = count_events(url)

    with pytest.raises(KioskError) as err:
        services.backup.restore(backup)

    assert str(err.value).startswith(
        f"Not restored: the events table in {backup} is not the kiosk's ({named})"
    ), str(err.value)
    assert count_events(url) == before
    check = services.integrity.verify(save=False)
    assert check.ok, check.summary


def test_a_backup_whose_kiosk_table_is_a_view_is_refused(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """``staff`` a view over a table of another name: the copy read the view, the copy into
    the live register went by the backup's own list of tables."""
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    backup = tmp_path / "crafted.sqlite3"
    services.backup.backup(backup)
    conn = sqlite3.connect(backup, isolation_level=None)
    try:
        conn.execute("ALTER TABLE staff RENAME TO people")
        conn.execute("CREATE VIEW staff AS SELECT * FROM people")
    finally:
        conn.close()
    before = count_events(url)

    with pytest.raises(KioskError) as err:
        services.backup.restore(backup)

    assert str(err.value).startswith(
        f"Not restored: the staff table in {backup} is not the kiosk's (it is a view)"
    ), str(err.value)
    assert count_events(url) == before


def _ignore_rows_without(path: str, column: str) -> None:
    """A shell on the live file: ``column`` of events declared NOT NULL ON CONFLICT IGNORE,
    written into the schema (writable_schema; the rows stored are as they were): SQLite then
    drops, without a word, every row inserted without a value there."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        changed = re.sub(
            rf"\b{column} (\w+)", rf"{column} \1 NOT NULL ON CONFLICT IGNORE", sql, count=1
        )
        assert changed != sql
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'events'", (changed,))
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def test_a_restore_whose_result_does_not_verify_is_refused(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """The backup is sound; the live file's events table is not the kiosk's: a constraint
    that drops every event without a due date as it is inserted. The copy's check passed,
    the rows copied in did not all arrive. Before: "Restored ... (chain verified ...)", exit
    0, and verify failed right after on most of the register."""
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    services.ctx.engine.dispose()
    _ignore_rows_without(sqlite_path(url), "due_at")
    before = count_events(url)

    with pytest.raises(KioskError) as err:
        services.backup.restore(backup)

    said = str(err.value)
    assert said.startswith(
        f"Not restored: the register as it would be restored from {backup} does not verify"
    ), said
    assert "Nothing was changed" in said and "chain verified" not in said
    assert count_events(url) == before


def test_a_restore_says_chain_verified_only_when_verify_agrees(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """Newer events dropped after this machine checked them: the register as restored
    verifies, kiosk verify once committed names the missing head it saw. The summary says
    what verify says, not "chain verified" (before: it said so and ignored verify)."""
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    services.integrity.verify()  # this machine's witness: the deposit

    report = services.backup.restore(backup, drop_newer=True, reason="deposit by mistake")

    assert report.after is not None
    if report.after.ok:
        assert "chain verified" in report.summary
    else:
        assert "chain verified" not in report.summary
        assert f"kiosk verify now says: {report.after.summary}" in report.summary
