"""Crashes become messages (issue 15.8): one row written around the kiosk so that it cannot be
read makes no listing fail with a traceback: the register, the CSV, the subject access export
and the backup mark it (or skip it) and say so."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

PIN = "402718"
DAY = date(2026, 3, 10)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(PIN + "\n"))
        status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def _break(url: str, statement: str) -> None:
    """As the file's owner or the database owner can: the append-only guard set aside."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TRIGGER IF EXISTS events_no_update"))
        connection.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture
def school(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """On SQLite: PostgreSQL checks a JSON value on the way in, whoever writes it."""
    db_url = sqlite_url
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    services.admin.set_pin(PIN, admin_code="DOFFICE")
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    services.phones.deposit("BJONES")
    yield services
    services.close()


def _deposit_ids(services: Services) -> list[int]:
    rows = services.register.day(DAY).rows
    return [r.event_id for r in rows if r.kind == "phone_deposited"]


def test_details_that_are_not_json_are_marked_not_a_traceback(
    school: Services, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _deposit_ids(school)[0]
    _break(sqlite_url, f"UPDATE events SET details = '{{not json' WHERE id = {broken}")
    school.ctx.engine.dispose()
    page = school.register.day(DAY)
    marked = [r for r in page.rows if r.event_id == broken]
    assert marked and marked[0].detail.startswith("UNREADABLE")
    for command in (
        ["register", "--date", DAY.isoformat()],
        ["register", "--date", DAY.isoformat(), "--csv", "-"],
        ["export", "--staff", "ASMITH", "--admin", "DOFFICE", "--pin-stdin"],
    ):
        status, out, err = run(capsys, *command)
        assert "Traceback" not in err and "JSONDecodeError" not in err, command
        assert status == 0, (command, err)
        assert "UNREADABLE" in out or "_unreadable: {not json" in out, command


def test_a_time_that_is_not_a_time_is_marked_not_a_traceback(
    school: Services, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _deposit_ids(school)[-1]
    _break(sqlite_url, f"UPDATE events SET occurred_at = '2026-03-10 09:99:99' WHERE id = {broken}")
    school.ctx.engine.dispose()
    page = school.register.day(DAY)
    marked = [r for r in page.rows if r.event_id == broken]
    assert marked and marked[0].what.startswith("UNREADABLE"), page.rows
    assert len(page.rows) == page.total
    for command in (
        ["register", "--date", DAY.isoformat()],
        ["register", "--date", DAY.isoformat(), "--csv", "-"],
        ["export", "--staff", "BJONES", "--admin", "DOFFICE", "--pin-stdin"],
    ):
        status, out, err = run(capsys, *command)
        assert "Traceback" not in err and "ValueError" not in err, command
        assert status == 0 and f"event {broken}" in out, (command, out, err)


def test_a_backup_of_a_register_with_an_unreadable_row_says_so(
    school: Services, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _deposit_ids(school)[-1]
    _break(sqlite_url, f"UPDATE events SET occurred_at = '2026-03-10 09:99:99' WHERE id = {broken}")
    school.ctx.engine.dispose()
    status, _out, err = run(capsys, "backup", str(tmp_path / "copy.sqlite3"))
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # The copy's check (verify) names the row it cannot read, as `kiosk verify` does.
    assert status == 1 and f"event {broken} cannot be read" in err
    assert (tmp_path / "copy.sqlite3").exists()  # the copy is kept all the same
