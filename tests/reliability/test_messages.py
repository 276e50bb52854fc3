"""Crashes become messages (issue 15.8): a locked SQLite file, a wrong database URL, a corrupt
school key each get a sentence on the command line and on the kiosk; the SQLite file is
created 0600."""

from __future__ import annotations

import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_database_file_and_its_folder_are_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "school" / "kiosk.sqlite3"
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{path}")
    status, _, err = run(capsys, "db", "upgrade")
    assert status == 0, err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    other = tmp_path / "kiosk2.sqlite3"
    Services.open(Settings(database_url=f"sqlite:///{other}")).close()
    assert stat.S_IMODE(other.stat().st_mode) == 0o600


@contextmanager
def locked(url: str) -> Iterator[None]:
    """Another program holds the SQLite file: a database tool with a write open."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def school(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    monkeypatch.setattr("kiosk.db.engine.SQLITE_BUSY_TIMEOUT_MS", 300)
    services = Services(
        make_engine(sqlite_url, connect_args={"timeout": 0.3}),
        Settings(database_url=sqlite_url),
        FakeClock(),
    )
    make_school(services)
    yield services
    services.close()


def test_a_locked_file_is_said_in_words(
    school: Services,
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "staff.csv"
    roster.write_text("code,name\nZED,Zed Zane\n", encoding="utf-8")
    school.ctx.engine.dispose()
    with locked(sqlite_url):
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="locked by another program"):
            school.phones.deposit("ASMITH")
        status, out, err = run(capsys, "staff", "import", str(roster))
        assert time.monotonic() - started < 30
    assert status == 1 and "locked by another program" in err, (out, err)
    assert err.startswith("kiosk: ") and err.count("\n") == 1 and "Traceback" not in err
    assert school.phones.phones_now() == ()


def test_a_locked_file_is_said_in_the_same_words_reading_writing_and_opening(
    school: Services, sqlite_url: str
) -> None:
    """One sentence for a locked file: what the office reads on the kiosk (a list that
    cannot be shown, an event not recorded) and on the command line (the database cannot
    be opened) names the same likely causes."""
    from kiosk.services.app import prepare_database

    school.ctx.engine.dispose()
    with locked(sqlite_url):
        said = []
        for attempt in (
            school.phones.phones_now,
            lambda: school.phones.deposit("ASMITH"),
            lambda: prepare_database(make_engine(sqlite_url, connect_args={"timeout": 0.3})),
        ):
            with pytest.raises(DatabaseUnavailable) as caught:
                attempt()
            said.append(str(caught.value))
    assert [m.split(": ", 1)[0] for m in said] == [
        "This cannot be shown",
        "Not recorded",
        "The database cannot be opened",
    ]
    for message in said:
        assert "backup or restore running, or the file open in a database tool?" in message


def test_a_corrupt_school_key_is_a_sentence_on_the_command_line(
    school: Services,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    from kiosk.services.secret import key_path

    school.admin.set_pin("402718", admin_code="DOFFICE")
    key_path().write_text("zz" * 32)
    monkeypatch.setattr(sys, "stdin", io.StringIO("402718\n"))
    status, _, err = run(
        capsys, "devices", "add", "LAP-9", "--kind", "laptop", "--admin", "DOFFICE", "--pin-stdin"
    )
    assert status == 1 and "does not hold a school key" in err and "kiosk secret import" in err
    assert err.count("\n") == 1 and "ValueError" not in err
