"""A damaged SQLite file (red team, round T_down): said to be damaged, not "try again".

A disk going bad, a power cut on a card without a proper flush, a copy taken half-way: pages
of the file are garbage. Every scan said "Not recorded: the database is unavailable. Please
try again." (and `kiosk verify` "The database is unavailable, so this cannot be shown.
Please try again."), for ever: nobody was told that trying again cannot help and that the
latest backup has to be restored. A file that is not a database at all was "cannot be opened
(DatabaseError). Check KIOSK_DATABASE_URL", though the URL was right.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import sqlite_path
from tests.school import make_school


def _school(url: str, clock: FakeClock) -> Path:
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), clock)
    make_school(services)
    services.phones.deposit("ASMITH")
    services.close()
    path = Path(sqlite_path(url))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file itself
    return path


def _said_damaged(call: object) -> None:
    with pytest.raises(DatabaseUnavailable) as err:
        call()  # type: ignore[operator]
    said = str(err.value)
    assert "damaged" in said and "backup" in said, said
    assert "try again" not in said.lower(), said


def test_a_damaged_events_table_is_said_to_be_damaged_not_try_again(
    sqlite_url: str, clock: FakeClock
) -> None:
    path = _school(sqlite_url, clock)
    with sqlite3.connect(path) as conn:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as fh:  # the events table's first page, garbage
        fh.seek((root[0] - 1) * page_size)
        fh.write(b"\xa5" * page_size)

    settings = Settings(kiosk_name="k", database_url=sqlite_url)
    services = Services.open(settings, create=False)  # opens: its schema pages are sound
    try:
        _said_damaged(lambda: services.phones.deposit("BJONES"))  # a scan at the kiosk
        _said_damaged(lambda: services.people.status("ASMITH"))  # a person's screen
        _said_damaged(lambda: services.integrity.verify(save=False))  # the office's check
    finally:
        services.close()


def test_a_file_that_is_not_a_database_is_said_to_be_damaged(
    sqlite_url: str, clock: FakeClock
) -> None:
    path = _school(sqlite_url, clock)
    with path.open("r+b") as fh:  # its header, garbage
        fh.write(b"\xa5" * 100)
    settings = Settings(kiosk_name="k", database_url=sqlite_url)
    _said_damaged(lambda: Services.open(settings, create=False))
