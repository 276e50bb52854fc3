"""Round 14 of the red team on the record: the default SQLite file, attacked from a shell as
the kiosk's own OS user (the database, the data folder with this machine's witness file and
the school key, the config and log folders, the clock).

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from kiosk.services.integrity import witness_path
from tests.conftest import FakeClock
from tests.reliability.helpers import put_back, raw_scalar, sqlite_copy, sqlite_path, started_again
from tests.reliability.test_attacks import shift_school
from tests.school import make_school

# --- the register put back to an older copy -------------------------------------------------


def _reopened(services: Services, clock: FakeClock) -> Services:
    """The kiosk started again (on the file as it is now)."""
    services.close()
    return started_again(services, clock)


def test_a_register_put_back_to_an_older_copy_with_the_witness_deleted_is_named(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """A shell (no key needed) keeps a copy of ``kiosk.sqlite3`` after a check, waits for a
    deposit and the next check, then puts the copy back and deletes this machine's witness
    file. The copy's chain is whole and ends with its own stored check: verify said "Register
    intact", and the deposit was gone without a word. The register holds a check made on
    this machine that the witness file should have kept: verify now says it is missing."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    put_back(old, sqlite_path(services.settings.database_url))
    witness_path().unlink()
    services = _reopened(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert "witness file" in report.summary
    assert "older copy" in report.summary


def test_a_register_put_back_with_an_older_witness_file_too_is_named(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The same, with the witness file put back to a copy the shell took earlier than the
    register's (so the witness names an event the copy still holds): verify said "intact".
    The register's own last check, made on this machine, is newer than the witness file's:
    the file was put back, and verify says so."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old_witness = witness_path().read_bytes()
    clock.advance(days=1)
    services.phones.deposit("ASMITH")
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    clock.advance(days=1)
    services.phones.deposit("BJONES")
    services.integrity.verify()

    put_back(old, sqlite_path(services.settings.database_url))
    witness_path().write_bytes(old_witness)
    services = _reopened(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert "witness file" in report.summary


def test_a_backup_of_a_register_put_back_with_the_witness_deleted_is_not_said_verified(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The older copy put back and the witness file deleted, then the nightly ``kiosk
    backup``: it said "verified" (exit 0), and the office kept the register without the
    deposit as a good copy. Its check now looks for the register's checks in the file too."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    put_back(old, sqlite_path(services.settings.database_url))
    witness_path().unlink()
    services = _reopened(services, clock)
    try:
        report = services.backup.backup(tmp_path / "b.sqlite3")
    finally:
        services.close()

    assert not report.verify.ok
    assert "DOES NOT VERIFY" in report.summary


def test_a_backup_says_when_this_machines_witness_file_cannot_be_read(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """A shell overwrites this machine's witness file with garbage. ``kiosk backup``
    checked its copy without it and said only "verified": nothing told the office that the
    end of the copy had not been checked against it (an end cut off since the last check,
    the last check with it, passes). The backup's summary now says so: since round 16's
    review, as a file emptied or overwritten, judged as a deleted one is."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    witness_path().write_text("not a witness")

    report = services.backup.backup(tmp_path / "b.sqlite3")

    assert "DOES NOT VERIFY" in report.summary
    assert "witness file" in " ".join(report.verify.problems), report.verify.problems
    assert "emptied or overwritten" in " ".join(report.verify.problems), report.verify.problems


# --- the clock ------------------------------------------------------------------------------


def test_a_forged_event_on_top_does_not_let_a_kiosk_record_with_its_clock_years_back(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell sets the machine's clock back to 2000 (or the battery went flat) and inserts
    one event under this kiosk's name, dated then, with a made-up hash: the kiosk measured
    its clock against its newest own event only, found that one (not its own: verify names
    it) and went on confirming deposits and collections dated 2000, years before the events
    recorded ahead of them. A forged event measures nothing: the kiosk's own events dated
    long after its clock still stop it."""
    services = sqlite_services
    make_school(services)
    services.phones.deposit("ASMITH")
    clock.set(datetime(2000, 1, 1, 0, 3, tzinfo=UTC))
    path = sqlite_path(services.settings.database_url)
    db = sqlite3.connect(path)
    try:
        head_id, head_hash = db.execute(
            "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1"
        ).fetchone()
        db.execute(
            "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
            "hash, mac) VALUES (?, '2000-01-01 00:00:00.000000', 'register_verified', "
            "'admin', 'k1', '{}', ?, ?, ?)",
            (head_id + 1, head_hash, "f" * 64, "e" * 64),
        )
        db.commit()
    finally:
        db.close()
    before = raw_scalar(services.settings.database_url, "SELECT count(*) FROM events")

    with pytest.raises(KioskError, match="this kiosk's clock says"):
        services.phones.collect("ASMITH")

    assert raw_scalar(services.settings.database_url, "SELECT count(*) FROM events") == before


def test_verify_says_plainly_that_without_an_anchor_a_put_back_copy_cannot_be_ruled_out(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """What nothing on one machine can tell: a shell that puts back an older copy of the
    register AND writes the witness file to agree with it (its entry is the copy's own last
    stored check, which the register holds in plain JSON; the key to seal it would be on the
    same machine). Verify says "intact" then, as it must; it said only that events "cut off
    the end" could not be ruled out, which is not how an office describes a register put back
    to an older copy. It says that in words now."""
    import json

    from kiosk.services.integrity import witness_name

    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    path = sqlite_path(services.settings.database_url)
    put_back(old, path)
    (details,) = (
        sqlite3.connect(old)
        .execute(
            "SELECT details FROM events WHERE kind = 'register_verified' ORDER BY id DESC LIMIT 1"
        )
        .fetchone()
    )
    name = witness_name(services.settings.database_url)
    witness_path().write_text(json.dumps({name: json.loads(details)["report"]}))
    services = _reopened(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert report.ok, report.summary  # nothing here can tell
    said = " ".join(report.cannot_rule_out)
    assert "put back to an older copy" in said, said


# --- symlinks -------------------------------------------------------------------------------


def test_a_register_replaced_by_a_symlink_to_an_older_copy_is_named(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """Guard test. A shell keeps an older copy of the register elsewhere and, the kiosk
    stopped, puts a symlink to it where ``kiosk.sqlite3`` was. Verify names the file by its
    real path (the copy's), for which this machine's witness file has no entry; the entry
    kept under the name as configured is read instead, and the missing end is named."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    old = elsewhere / "kiosk.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    services.close()
    path = Path(sqlite_path(services.settings.database_url))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.symlink_to(old)
    services = _reopened(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert "events were removed from the end" in report.summary


def test_a_symlink_planted_where_the_backup_writes_does_not_truncate_the_register(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """Whoever can write in the folder the nightly backup goes to (a shared folder, a USB
    stick) plants ``<backup>.partial`` as a symlink to the live ``kiosk.sqlite3`` (or to any
    other file of the kiosk's user). ``kiosk backup`` opened that name with O_TRUNC,
    following the link: the live register was cut to 0 bytes, and the backup then hung,
    copying the register into itself. The copy is now written to a new file of its own,
    never through a name planted in advance."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    url = services.settings.database_url
    live = Path(sqlite_path(url))
    events = raw_scalar(url, "SELECT count(*) FROM events")
    size = live.stat().st_size
    services.close()
    share = tmp_path / "share"
    share.mkdir()
    target = share / "nightly.sqlite3"
    Path(f"{target}.partial").symlink_to(live)
    env = {**os.environ, "KIOSK_DATABASE_URL": url, "KIOSK_NAME": "k1"}

    try:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "backup", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the backup hung; the live register is now {live.stat().st_size} bytes")

    assert live.stat().st_size >= size, "the live register was cut"
    assert raw_scalar(url, "SELECT count(*) FROM events") == events
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout
    assert not target.is_symlink()
    assert raw_scalar(f"sqlite:///{target}", "SELECT count(*) FROM events") == events


def test_verify_shows_the_time_by_this_machines_clock(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell that can set the machine's clock puts it a year ahead: the kiosk records every
    event a year late, and verify on this machine (same clock) finds nothing in the future
    and says "intact", nowhere showing what time it took it to be: the office had nothing
    to see the clock by. Verify now prints the time by this machine's clock, with what a
    wrong one means."""
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    before = datetime.now(UTC)
    status = main(["verify"])
    printed = capsys.readouterr().out

    assert status == 0, printed
    (line,) = [x for x in printed.splitlines() if x.startswith("Clock:")]
    assert f"{before:%Y-%m-%d}" in line and "UTC" in line, line
    assert "clock is wrong" in line, line


def test_a_restore_where_the_witness_file_is_gone_is_not_called_tampering(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """The office restores last night's backup on a machine whose data folder was lost (a
    new machine, a disk replaced): this machine's witness file holds nothing of the register.
    The restore itself compares the backup with the live register (or says it could not) and
    is recorded with the admin's name; the check right after it still said "REGISTER
    TAMPERED WITH ... the witness file was deleted or replaced", and kept that in the
    register. The check after a restore now leaves the witness file out of it."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    witness_path().unlink()

    report = services.backup.restore(backup)

    assert report.after.ok, report.after.summary
    assert "TAMPERED" not in report.summary, report.summary
    assert services.integrity.verify().ok


# --- honest registers the witness rule above must not call tampered -------------------------


def test_a_copy_of_the_register_checked_elsewhere_is_not_called_tampered(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The office checks a copy (last night's backup, the file copied to the office PC):
    its last stored check is the live register's, kept in this machine's witness file under
    the live register's name, and the file has no entry for the copy. The rule that names a
    register put back with the witness file deleted said "REGISTER TAMPERED WITH" of every
    such copy, and the next check of it said intact: an alarm that teaches the office to read
    past it. A copy is now said to be one, in a note."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    copy = tmp_path / "copy-of-backup.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), copy)
    url = f"sqlite:///{copy}"
    other = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)
    try:
        report = other.integrity.verify()
    finally:
        other.close()

    assert report.ok, report.summary
    assert any("a copy of that register" in note for note in report.notes), report.notes


def test_a_check_by_another_user_does_not_make_the_kiosks_own_checks_cry_tampered(
    sqlite_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IT checks the register as another user (``sudo kiosk verify``: another data folder,
    another witness file). That check, stored in the register, was in neither the kiosk
    user's witness file nor theirs: the other user's check said "TAMPERED", and so did every
    check and nightly backup of the kiosk's user afterwards, until it checked again itself.
    A check kept in another witness file is now named in a note, not taken for tampering."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()  # the kiosk's user: its witness file keeps this check
    own_data = os.environ["KIOSK_DATA_DIR"]
    it_data = tmp_path / "it-user-data"
    it_data.mkdir(mode=0o700)
    key = Path(own_data) / "school.key"
    (it_data / "school.key").write_bytes(key.read_bytes())  # IT has the school's key too
    os.chmod(it_data / "school.key", 0o600)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(it_data))
    services.phones.deposit("ASMITH")
    # IT's witness file exists already (it checked a copy once).
    copy = tmp_path / "copy.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), copy)
    url = f"sqlite:///{copy}"
    elsewhere = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url))
    try:
        elsewhere.integrity.verify()
    finally:
        elsewhere.close()
    by_it = services.integrity.verify()
    monkeypatch.setenv("KIOSK_DATA_DIR", own_data)
    by_kiosk = services.integrity.verify()
    backup = services.backup.backup(tmp_path / "nightly.sqlite3")

    assert by_it.ok, by_it.summary
    assert by_kiosk.ok, by_kiosk.summary
    assert any("another witness file" in note for note in by_kiosk.notes), by_kiosk.notes
    assert backup.verify.ok, backup.summary


def test_many_forged_events_dated_ahead_do_not_switch_the_clock_check_off(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """The clock check looked at fifty events dated ahead at most (to bound the work of
    passing over forged ones): fifty forged rows under this kiosk's name, dated 2031, filled
    all fifty places, and a kiosk with its clock back in 2000 recorded a collection dated
    then. Every event dated ahead is looked at, however many (verify names the forged)."""
    services = sqlite_services
    make_school(services)
    services.phones.deposit("ASMITH")
    clock.set(datetime(2000, 1, 1, 0, 3, tzinfo=UTC))
    db = sqlite3.connect(sqlite_path(services.settings.database_url))
    try:
        head_id, head_hash = db.execute(
            "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1"
        ).fetchone()
        for n in range(1, 61):
            db.execute(
                "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, "
                "prev_hash, hash, mac) VALUES (?, '2031-01-01 00:00:00.000000', "
                "'register_verified', 'admin', 'k1', '{}', ?, ?, ?)",
                (head_id + n, head_hash, f"{n:064x}", "e" * 64),
            )
        db.commit()
    finally:
        db.close()
    before = raw_scalar(services.settings.database_url, "SELECT count(*) FROM events")

    with pytest.raises(KioskError, match="this kiosk's clock says"):
        services.phones.collect("ASMITH")

    assert raw_scalar(services.settings.database_url, "SELECT count(*) FROM events") == before


def _swap_in_share(share: Path, live: Path) -> None:
    """The attacker watching the backup folder (inotify): every file that has appeared in it
    becomes a symlink to the live register."""
    for entry in share.iterdir():
        if entry.is_file() and not entry.is_symlink():
            entry.unlink()
            entry.symlink_to(live)


def test_a_backup_copy_swapped_for_a_symlink_as_sqlite_opens_it_spares_the_register(
    sqlite_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup's new file of its own in the backup folder was opened again by name when
    SQLite copied into it: whoever watches a folder others can write (a share) swaps it for a
    symlink to the live register in that moment, and SQLite's backup wrote the register into
    itself. The copy is now made and checked in this machine's data folder (the kiosk user's
    alone) and only then written into the backup folder, through a descriptor."""
    from kiosk.services import backup as backup_module

    services = sqlite_services
    shift_school(services)
    url = services.settings.database_url
    live = Path(sqlite_path(url))
    events = raw_scalar(url, "SELECT count(*) FROM events")
    share = tmp_path / "share"
    share.mkdir()
    copy_sqlite = backup_module._copy_sqlite

    def watched(source: sqlite3.Connection, target: Path) -> None:
        _swap_in_share(share, live)
        copy_sqlite(source, target)

    monkeypatch.setattr(backup_module, "_copy_sqlite", watched)

    report = services.backup.backup(share / "nightly.sqlite3")

    assert raw_scalar(url, "SELECT count(*) FROM events") == events
    assert sqlite3.connect(live).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert report.verify.ok, report.summary
    assert not (share / "nightly.sqlite3").is_symlink()
    assert raw_scalar(f"sqlite:///{share / 'nightly.sqlite3'}", "SELECT count(*) FROM events") == (
        events
    )


def test_a_file_written_whole_that_was_swapped_for_a_symlink_is_not_put_in_place(
    tmp_path: Path,
) -> None:
    """A file written whole (a backup, an export, labels, the witness) goes through a new
    file of its own, renamed into place at the end: renamed by name, a symlink swapped in for
    it meanwhile became the target (a backup that "is" the live register). The rename now
    happens only while the name is still the file written."""
    from kiosk.services.wholefile import written_whole

    share = tmp_path / "share"
    share.mkdir()
    elsewhere = tmp_path / "kiosk.sqlite3"
    elsewhere.write_bytes(b"the register")
    target = share / "export.csv"

    with pytest.raises(OSError, match="replaced"), written_whole(target) as fh:
        fh.write(b"rows")
        _swap_in_share(share, elsewhere)

    assert not target.exists() and not target.is_symlink()
    assert elsewhere.read_bytes() == b"the register"


def test_a_register_put_back_with_a_witness_file_of_another_id_is_named(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The witness rule took a witness file with another id for another user's or machine's
    and only noted it: a shell that put back an older copy of the register and wrote
    ``{"$witness-file": {"id": "x"}}`` in its place had verify say "Register intact". Each
    check now says where the witness file that kept it lies: the same place with another id
    is this machine's file replaced."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    sqlite_copy(sqlite_path(services.settings.database_url), old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    put_back(old, sqlite_path(services.settings.database_url))
    witness_path().write_text('{"$witness-file": {"id": "attacker"}}', encoding="utf-8")
    services = _reopened(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert "older copy" in report.summary


def test_a_backup_with_no_room_for_its_copy_in_the_data_folder_says_where(
    sqlite_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup makes and checks its copy in the kiosk's data folder first, often the disk
    the register itself is on. With too little room there, the copy filled the disk while
    the kiosks recorded, and the office read "cannot be written to <the USB stick>" or "the
    database could not be read". It now says, before copying anything, which folder lacks
    room and how much it needs; nothing is written to the backup folder."""
    from collections import namedtuple

    from kiosk.services import backup as backup_module

    services = sqlite_services
    shift_school(services)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        backup_module.shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 10**6, 10**6)
    )
    share = tmp_path / "stick"
    share.mkdir()

    with pytest.raises(KioskError, match="data folder") as refused:
        services.backup.backup(share / "nightly.sqlite3")

    assert str(Path(os.environ["KIOSK_DATA_DIR"])) in str(refused.value)
    assert "MB free" in str(refused.value)
    assert list(share.iterdir()) == []
