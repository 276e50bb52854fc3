"""kiosk verify / backup / restore / export / purge, through kiosk.cli.main, as people run them."""

from __future__ import annotations

import csv
import io
import json
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import count_events, meddle, raw_scalar
from tests.reliability.test_tamper import event_ids, record_shift
from tests.school import make_school

PIN = "402718"
SIGNED_IN = {"restore", "export", "purge"}  # commands that change the register


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``kiosk ARGS``; the commands that change the register sign in as an admin (CHEAD,
    unless --admin names another) with the PIN on standard input."""
    argv = list(args)
    if argv and argv[0] in SIGNED_IN:
        if "--admin" not in argv:
            argv += ["--admin", "CHEAD"]
        argv.append("--pin-stdin")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(PIN + "\n"))
        status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def school(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The CLI's database (KIOSK_DATABASE_URL) with a school and a shift in it."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    services.admin.set_pin(PIN, admin_code="CHEAD")
    record_shift(services, rounds=1)
    yield services
    services.close()


@pytest.mark.parametrize("command", ["verify", "backup", "restore", "export", "purge"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: kiosk {command}")


def test_verify_passes_then_names_every_tampered_event(
    school: Services, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "verify")
    assert status == 0, err
    assert out.startswith("Register intact")
    # The check is recorded after it (a register_verified event).
    assert f"Events checked: {count_events(db_url) - 1}" in out

    ids = event_ids(db_url)
    with meddle(db_url) as db:
        db.overwrite(ids[3], {"kiosk": "elsewhere"})
        db.delete(ids[7])
        db.swap(ids[10], ids[12])
    status, out, err = run(capsys, "verify")

    assert status == 1
    assert out.startswith("REGISTER TAMPERED WITH")
    # Swapped rows are changed too: their content (version 2) covers their id.
    assert f"Changed after recording (3): {ids[3]}, {ids[10]}, {ids[12]}" in out
    broken = f"{ids[8]}, {ids[10]}, {ids[11]}, {ids[12]}, {ids[13]}"
    assert f"Broken links (5): {broken}" in out
    assert err.startswith("kiosk: the register does not verify")
    assert len(err.strip().splitlines()) == 1
    # The admin console's "last check" agrees.
    last = school.integrity.last_result()
    assert last is not None and not last.ok and last.mismatched == (ids[3], ids[10], ids[12])


def test_backup_restore_round_trip_on_sqlite(
    school: Services, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "sqlite" not in db_url:
        target = tmp_path / "kiosk.dump"
        status, _out, err = run(capsys, "backup", str(target))
        assert status == 1 and "pg_dump --format=custom --file" in err and str(target) in err
        status, _out, err = run(capsys, "restore", str(target), "--yes")
        assert status == 1 and "pg_restore" in err and "kiosk verify" in err
        return
    target = tmp_path / "monday.sqlite3"
    status, out, err = run(capsys, "backup", str(target))
    assert status == 0, err
    assert out.startswith(f"Backup written to {target}") and "verified" in out
    assert run(capsys, "backup", str(target))[0] == 1  # never overwrites

    school.phones.deposit("ASMITH")
    status, out, err = run(capsys, "restore", str(target), "--yes")
    assert status == 1 and "1 event(s) newer than the backup" in err
    status, out, err = run(
        capsys, "restore", str(target), "--yes", "--drop-newer", "--reason", "a test deposit"
    )
    assert status == 0, err
    assert "chain verified" in out and "1 newer event(s)" in out
    assert school.phones.phones_now() == ()

    with meddle(f"sqlite:///{target}") as db:
        db.delete(4)
    status, out, err = run(capsys, "restore", str(target), "--yes")
    assert status == 1 and "does not verify" in err


def test_export_for_a_subject_access_request(
    school: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "export", "--staff", "asmith")
    assert status == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert ["code", "ASMITH"] in rows
    assert sum(1 for r in rows if r and r[0].isdigit()) == 2  # one deposit, one collection

    target = tmp_path / "asmith.json"
    status, out, err = run(capsys, "export", "--staff", "ASMITH", "--out", str(target))
    assert status == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["staff"]["name"] == "Alice Smith"
    # The deposit, the collection, and the first export (recorded against her).
    assert [e["kind"] for e in data["events"]] == [
        "phone_deposited",
        "phone_collected",
        "admin_action",
    ]
    assert data["events"][2]["details"]["action"] == "subject_access_export"
    assert "Wrote 3 events about Alice Smith" in err
    status, _out, err = run(capsys, "export", "--staff", "ASMITH", "--out", str(target))
    assert status == 1 and "already exists" in err
    status, _out, err = run(capsys, "export", "--staff", "NOBODY")
    assert status == 1 and "NOBODY" in err


def _event_count(services: Services) -> int:
    from sqlalchemy import func, select

    from kiosk.db.models import Event

    with services.ctx.read() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_an_export_that_cannot_be_written_records_no_export(
    school: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk export --staff --out` checked the name with ``exists()`` (False for a dangling
    symbolic link), recorded the subject access export, then failed to create the file: the
    register said Alice's data had been exported when nothing was written. And an export
    refused (nobody of that code) left an empty file behind, had it been made first."""
    before = _event_count(school)
    dangling = tmp_path / "asmith.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    status, _out, err = run(capsys, "export", "--staff", "ASMITH", "--out", str(dangling))
    assert status == 1 and "already exists" in err and "Nothing was exported" in err
    status, _out, err = run(
        capsys, "export", "--staff", "NOBODY", "--out", str(tmp_path / "nobody.csv")
    )
    assert status == 1 and "NOBODY" in err
    assert not (tmp_path / "nobody.csv").exists()
    assert _event_count(school) == before


def test_purge_through_the_command(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command runs on the real clock: the old events are recorded in early 2024."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    clock = FakeClock(datetime(2024, 1, 9, 8, 0, tzinfo=UTC))
    services = Services(make_engine(db_url), Settings(database_url=db_url), clock)
    try:
        make_school(services)
        services.admin.set_pin(PIN, admin_code="CHEAD")
        record_shift(services, rounds=1)
        old = count_events(db_url)
        clock.set(datetime.now(UTC))
        services.phones.deposit("ASMITH")

        status, _out, err = run(capsys, "purge", "--before", "2025-01-01", "--admin", "asmith")
        assert status == 1 and "not an admin" in err
        with pytest.raises(SystemExit) as usage:
            main(["purge", "--before", "next week", "--admin", "CHEAD"])
        assert usage.value.code == 2 and "not a date" in capsys.readouterr().err
        status, out, err = run(capsys, "purge", "--before", "2025-01-01", "--admin", "CHEAD")

        assert status == 0, err
        assert out.startswith(f"Removed {old} event(s) recorded before 01 January 2025")
        # Today's deposit, the reference rows carried over, the checkpoint.
        kinds = raw_scalar(db_url, "SELECT count(*) FROM events WHERE kind <> 'reference_changed'")
        assert kinds == 2
        status, out, _err = run(capsys, "verify")
        assert status == 0 and "from checkpoint" in out
    finally:
        services.close()
