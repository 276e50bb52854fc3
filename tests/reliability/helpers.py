"""Meddling with a kiosk database the way an intruder would: with the database's own client.

SQLite: a raw ``sqlite3`` connection that drops the append-only triggers first.
PostgreSQL: a psycopg connection as the owner (a superuser here) that either disables the
user triggers (``ALTER TABLE events DISABLE TRIGGER USER``) or sets
``session_replication_role = replica`` (triggers do not fire for replication).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

import kiosk
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.db.guards import SQLITE_TRIGGERS
from kiosk.domain.chain import EVENT_COLUMNS as CHAIN_COLUMNS
from kiosk.services.app import Services
from tests.conftest import FakeClock

# Every column but the id (which stays put when rows are overwritten or swapped).
EVENT_COLUMNS = tuple(c for c in CHAIN_COLUMNS if c != "id")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg (libpq) wants it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> str:
    database = make_url(url).database
    assert database
    return database


@contextmanager
def shell_file(services: Services) -> Iterator[sqlite3.Connection]:
    """A shell's own connection to the kiosk's SQLite file (the kiosk closed meanwhile)."""
    services.close()
    conn = sqlite3.connect(sqlite_path(services.settings.database_url), isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def started_again(services: Services, clock: FakeClock) -> Services:
    """The kiosk started again on the file as it is now."""
    url = services.settings.database_url
    return Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)


def without_triggers(conn: sqlite3.Connection, *statements: str) -> None:
    """Run ``statements`` with every trigger dropped, then put the triggers back as they were."""
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(statement)
    for _name, sql in triggers:
        conn.execute(sql)


def sqlite_copy(source: str | Path, target: str | Path) -> None:
    """A shell's copy of a SQLite file as it is now (SQLite's online backup)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def put_back(copy: Path, path: str) -> None:
    """An older copy put in place of the register, its ``-wal`` and ``-shm`` tidied away."""
    sqlite_copy(copy, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Raw:
    """A raw connection with placeholders normalised to ``%s`` (psycopg) or ``?`` (sqlite3)."""

    def __init__(self, conn: Any, sqlite: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.sqlite:
            sql = sql.replace("%s", "?")
        cur = self.conn.execute(sql, params)
        try:
            return list(cur.fetchall())
        except (psycopg.ProgrammingError, sqlite3.ProgrammingError):
            return []

    def event(self, event_id: int) -> dict[str, Any]:
        """Every column of one event, its id included."""
        cols = ", ".join(CHAIN_COLUMNS)
        rows = self.execute(f"SELECT {cols} FROM events WHERE id = %s", (event_id,))
        assert rows, f"no event {event_id}"
        return dict(zip(CHAIN_COLUMNS, rows[0], strict=True))

    def overwrite(self, event_id: int, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{col} = %s" for col in values)
        params = tuple(_param(v, self.sqlite) for v in values.values())
        self.execute(f"UPDATE events SET {sets} WHERE id = %s", (*params, event_id))

    def swap(self, a: int, b: int) -> None:
        """Swap the whole content of two rows (ids stay): the two events change places."""
        row_a, row_b = self.event(a), self.event(b)
        del row_a["id"], row_b["id"]
        # The hash column is unique: park one row's hash first.
        self.overwrite(a, {"hash": "x" * 64})
        self.overwrite(b, row_a)
        self.overwrite(a, row_b)

    def delete(self, event_id: int) -> None:
        self.execute("DELETE FROM events WHERE id = %s", (event_id,))


def _param(value: Any, sqlite: bool) -> Any:
    if isinstance(value, dict) and not sqlite:
        return psycopg.types.json.Json(value)
    return value


@contextmanager
def meddle(url: str, *, how: str = "disable") -> Iterator[Raw]:
    """A raw connection that can change ``events`` behind the kiosk's back; commits at the end."""
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DROP TRIGGER IF EXISTS events_no_update")
            conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
            yield Raw(conn, sqlite=True)
            # The intruder puts the triggers back, as they were, to cover their tracks.
            for name, sql in SQLITE_TRIGGERS.items():
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
                conn.execute(sql)
            conn.execute("COMMIT")
        finally:
            conn.close()
        return
    with psycopg.connect(libpq_url(url)) as pg:
        if how == "replica":
            pg.execute("SET session_replication_role = replica")
        else:
            pg.execute("ALTER TABLE events DISABLE TRIGGER USER")
        yield Raw(pg, sqlite=False)
        if how != "replica":
            pg.execute("ALTER TABLE events ENABLE TRIGGER USER")


def add_trigger_spelt_upper(path: str, code: str) -> None:
    """A shell files a trigger dropping ``code``'s deposits under the type ``'TRIGGER'``
    (``writable_schema``): SQLite runs it, and ``type = 'trigger'`` does not find it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        (staff_id,) = conn.execute("SELECT id FROM staff WHERE code = ?", (code,)).fetchone()
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
            "VALUES ('TRIGGER', 'quiet', 'events', 0, ?)",
            (
                "CREATE TRIGGER quiet BEFORE INSERT ON events "
                f"WHEN NEW.staff_id = {staff_id} AND NEW.kind = 'phone_deposited' "
                "BEGIN SELECT RAISE(IGNORE); END",
            ),
        )
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def count_events(url: str) -> int:
    return int(raw_scalar(url, "SELECT count(*) FROM events"))


def raw_scalar(url: str, sql: str) -> Any:
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    with psycopg.connect(libpq_url(url)) as pg:
        row = pg.execute(sql).fetchone()
        assert row is not None
        return row[0]


# --- figures reported at the end of the run (see conftest.py) ----------------------------------

FIGURES: dict[str, int] = {}
FUZZ_CASES: dict[str, int] = {}


def record_figure(name: str, value: int) -> None:
    FIGURES[name] = FIGURES.get(name, 0) + value


def count_case(prop: str) -> None:
    """One hypothesis example of ``prop`` ran to the end without an unexpected error."""
    FUZZ_CASES[prop] = FUZZ_CASES.get(prop, 0) + 1


# --- files that never end: a device, a pipe, a huge file ----------------------------------------

HAZARDS = ["/dev/zero", "fifo", "large"]


def plant_hazard(path: Path, what: str, large: bytes) -> None:
    """Put at ``path`` what a reader must refuse unread: a symlink to a device (``what`` a
    path such as /dev/zero: never ends), a FIFO (waits for ever) or the ``large`` bytes."""
    if what == "fifo":
        os.mkfifo(path)
    elif what == "large":
        path.write_bytes(large)
    else:
        path.symlink_to(what)


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))


def run_capped(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    """``argv`` (the kiosk, from this checkout) in its own process, its memory (1 GiB) and time
    (60 s) capped: code that reads a file for ever fails the test instead of taking the
    machine."""
    env = dict(env, PYTHONPATH=str(Path(kiosk.__file__).resolve().parents[1]))
    try:
        return subprocess.run(
            argv,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_cap_memory,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} was still reading its file after 60 s")
