"""Round 16 of the red team on the record: a shell on the kiosk and its SQLite file (rollback,
the purge, the school key on the machine, what verify can and cannot prove).

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.chain import hash_of
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from kiosk.services.integrity import witness_name, witness_path
from tests.conftest import FakeClock
from tests.reliability.helpers import (
    put_back,
    shell_file,
    sqlite_copy,
    sqlite_path,
    started_again,
    without_triggers,
)
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_tamper import record_shift
from tests.school import make_school

# --- the purge launders what a shell did to the events it removes --------------------------

EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)


def _old_school(services: Services, clock: FakeClock) -> None:
    """A school recorded from 2022 and a deposit in 2024: a purge up to 2023 is allowed."""
    clock.set(EARLY)
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")


@pytest.mark.parametrize(
    "edit",
    [
        # a 2022 deposit erased (no key needed: the triggers dropped for a moment)
        "DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE kind = 'phone_deposited')",
        # a 2022 deposit put on someone else (its hash left as it was)
        "UPDATE events SET staff_id = staff_id + 1 WHERE id = (SELECT min(id) FROM events "
        "WHERE kind = 'phone_deposited')",
        # its MAC not the school key's (the school key on this machine: the purge checks it)
        f"UPDATE events SET mac = '{'00' * 32}' WHERE id = (SELECT min(id) FROM events "
        "WHERE kind = 'phone_deposited')",
    ],
    ids=["erased", "edited", "bad MAC"],
)
def test_a_purge_does_not_fold_events_a_shell_erased_or_edited_into_its_checkpoint(
    sqlite_services: Services, clock: FakeClock, edit: str
) -> None:
    """A shell (no key) erases or edits an event from over a year ago in the SQLite file.
    ``kiosk verify`` names it (a broken link, a changed event). Then the office runs its
    yearly ``kiosk purge``: the purge counted and digested whatever rows were there, signed a
    checkpoint in the admin's name over them and removed them, and verify said "Register
    intact" from then on: the erasure was laundered by the office's own command, and no check
    afterwards could ever find it. The purge now checks the chain of what it would remove and
    refuses, nothing changed, while it does not hold."""
    services = sqlite_services
    _old_school(services, clock)
    with shell_file(services) as conn:
        victim = conn.execute(
            "SELECT min(id) FROM events WHERE kind = 'phone_deposited'"
        ).fetchone()[0]
        without_triggers(conn, edit)
    services = started_again(services, clock)
    try:
        assert not services.integrity.verify(save=False).ok
        count = _events(services)
        with pytest.raises(KioskError) as refused:
            services.backup.purge(date(2023, 1, 1), "CHEAD")
        assert _events(services) == count  # nothing removed, no checkpoint
        message = refused.value.message
        assert "Nothing was purged" in message, message
        assert "kiosk verify" in message, message
        # The event named is the one there: the link before the next one is what broke.
        if edit.startswith("DELETE"):
            assert f"the link before event {victim + 1} is broken" in message, message
            assert "erased or inserted" in message, message
        elif edit.startswith("UPDATE events SET mac"):
            assert f"event(s) {victim} without a valid MAC" in message, message
        else:
            assert f"event(s) {victim} changed" in message, message
        report = services.integrity.verify(save=False)
        assert not report.ok, report.summary
    finally:
        services.close()


# --- an anchor covers the register up to its event, not after it ---------------------------


def test_verify_with_an_anchor_says_what_came_after_it_is_not_covered(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The office keeps the morning's anchor (e-mailed off the machine) and checks with it.
    A shell on the kiosk keeps a copy of the register after the anchor, waits for the
    afternoon's deposits (and a check), puts the copy back and writes this machine's witness
    file to agree (its entry is the copy's own last check, plain JSON in the register).
    ``kiosk verify --anchor`` then said "Register intact" and nothing else: no "Cannot rule
    out" line at all (it is printed only without an anchor), so the office read the
    afternoon as proven. An anchor proves the register up to its event: verify now says
    that what came after it can still have been put back, cut off or rewritten."""
    services = sqlite_services
    shift_school(services)
    anchor = services.integrity.anchor()
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    path = sqlite_path(services.settings.database_url)
    sqlite_copy(path, old)
    clock.advance(hours=5)
    services.phones.deposit("ASMITH")
    services.integrity.verify()
    services.close()

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
    services = started_again(services, clock)
    try:
        report = services.integrity.verify(anchors=(anchor,))
    finally:
        services.close()

    assert report.ok, report.summary  # nothing on this machine can tell
    said_ = " ".join(report.cannot_rule_out).lower()
    assert f"after event {anchor.event_id}" in said_, said_
    assert "put back to an older copy" in said_, said_


# --- the school key is on the machine -------------------------------------------------------


def test_verify_says_the_macs_prove_nothing_against_whoever_can_read_the_key_here(
    sqlite_services: Services,
) -> None:
    """A shell as the kiosk's own user reads ``school.key`` in the data folder (it must be
    readable by that user: the kiosk MACs every event with it) and appends a collection of
    Alice's phone she never made, chained and MACed like the kiosk's own. Verify cannot tell
    (the threat model says so); it said "Register intact ... MACs: checked" and its "Cannot
    rule out" line spoke of recomputed hashes only, which an office reads as "the MACs would
    have caught a forgery". Verify now says that whoever can read the key can make valid
    MACs, and that a valid MAC shows an event was made with the key, not by the kiosk app."""
    from kiosk.domain.chain import event_mac
    from kiosk.services.secret import key_path

    services = sqlite_services
    shift_school(services)
    services.phones.deposit("ASMITH")
    services.integrity.verify()
    services.close()

    key = bytes.fromhex(key_path().read_text().strip())  # what the shell reads
    conn = sqlite3.connect(sqlite_path(services.settings.database_url), isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        last = dict(conn.execute("SELECT * FROM events ORDER BY id DESC LIMIT 1").fetchone())
        row = dict(
            conn.execute(
                "SELECT * FROM events WHERE kind = 'phone_deposited' ORDER BY id DESC LIMIT 1"
            ).fetchone()
        )
        forged = dict(row, id=last["id"] + 1, kind="phone_collected", prev_hash=last["hash"])
        forged["occurred_at"] = last["occurred_at"]
        forged["hash"] = hash_of(forged)
        forged["mac"] = event_mac(key, forged["hash"])
        conn.execute(
            f"INSERT INTO events ({', '.join(forged)}) VALUES ({', '.join('?' * len(forged))})",
            tuple(forged.values()),
        )
    finally:
        conn.close()
    services = started_again(services, FakeClock())
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert report.ok, report.summary  # the documented limit: nothing here can tell
    said_ = " ".join(report.cannot_rule_out)
    assert "school key" in said_ and "whoever can read the key" in said_, said_
    assert "not that the kiosk" in said_, said_
    # Where the key is, the check does not know (KIOSK_SCHOOL_KEY_FILE, removable media).
    assert "on this machine" not in said_, said_


# --- an office's own restore of an old backup ------------------------------------------------


def test_verify_names_the_recorded_restore_that_dropped_an_anchored_event(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """The office restores last night's backup with ``--drop-newer --reason`` (recorded), and
    the morning's anchor named an event the restore dropped. ``kiosk verify --anchor`` said
    "REGISTER TAMPERED WITH: ... events were removed (cut off the end or deleted)", as for
    an intruder, and without the anchor verify said "Register intact" and nothing of the
    events the restore dropped. Verify now names the restore that dropped them (its event,
    the ids, who, why) with the anchor as a problem, and without it in a note."""
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    anchor = services.integrity.anchor()
    report = services.backup.restore(backup, drop_newer=True, reason="deposit by mistake")

    plain = services.integrity.verify(save=False)
    anchored = services.integrity.verify(save=False, anchors=(anchor,))

    assert plain.ok, plain.summary
    notes = " ".join(plain.notes)
    assert f"event {report.event_id} records a restore" in notes, notes
    assert "deposit by mistake" in notes, notes
    # The count the event records, and the copy by its own name (the register's file
    # is not always kiosk.sqlite3).
    assert f"dropped {report.dropped} newer event(s)" in notes, notes
    assert report.safety_copy.name in notes, notes
    assert "kiosk.before-restore-*" not in notes, notes
    assert not anchored.ok
    assert f"the restore recorded in event {report.event_id} dropped" in said(anchored), said(
        anchored
    )
    assert "cut off the end or deleted" not in said(anchored)


def _purged_once(services: Services, clock: FakeClock) -> int:
    """A school recorded from 2022, purged up to 2023 in June 2024 (its checkpoint comes
    after the 2023 events it keeps); then January 2025. The checkpoint's id."""
    clock.set(EARLY)
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(datetime(2023, 6, 5, 9, 0, tzinfo=UTC))
    record_shift(services, rounds=1)
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    first = services.backup.purge(date(2023, 1, 1), "CHEAD")
    clock.set(datetime(2025, 1, 10, 9, 0, tzinfo=UTC))
    assert first.checkpoint_event_id is not None
    return first.checkpoint_event_id


def test_guard_a_second_purge_of_an_honest_register_is_not_refused(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Guard test for the purge's own check: a register that starts after an earlier
    purge's checkpoint (recorded after the events the next purge removes) is purged again."""
    services = sqlite_services
    checkpoint = _purged_once(services, clock)

    second = services.backup.purge(date(2024, 1, 1), "CHEAD")

    assert second.removed and second.last_removed_id is not None
    assert second.last_removed_id < checkpoint
    report = services.integrity.verify(save=False)
    assert report.ok, report.summary


def test_a_second_purge_does_not_fold_the_start_a_shell_cut_after_a_checkpoint(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """After a first purge the register starts at the event its checkpoint vouches for. A
    shell (no key) deletes the oldest kept events (2023: nobody looks at them), so the
    register starts where no checkpoint says; verify names it. The next purge removed from
    the new start and signed a checkpoint over it, and verify said intact from then on."""
    services = sqlite_services
    _purged_once(services, clock)
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT 3)",
        )
    services = started_again(services, clock)
    try:
        assert not services.integrity.verify(save=False).ok
        count = _events(services)
        with pytest.raises(KioskError, match="Nothing was purged"):
            services.backup.purge(date(2024, 1, 1), "CHEAD")
        assert _events(services) == count
        assert not services.integrity.verify(save=False).ok
    finally:
        services.close()


# --- a witness file that cannot be read, in honest ways -------------------------------------


@pytest.mark.parametrize("garbage", [b"", b"not a witness", b"[]"])
def test_a_register_put_back_with_the_witness_file_emptied_is_named_twice(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock, garbage: bytes
) -> None:
    """A shell keeps a copy of ``kiosk.sqlite3`` after a check, waits for a deposit and the
    next check, puts the copy back and, instead of deleting this machine's witness file
    (named since round 14), empties it (``: > verify-witness.json``) or writes over it.
    Verify said "Register intact" with a note ("a power cut while it was written?"; the
    file is written whole and synced, so a power cut leaves none empty), wrote the file
    anew, and the next check was clean. It is judged as a deleted file is: the put-back
    alarm, in words that say so; the next check says what this one found."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    path = sqlite_path(services.settings.database_url)
    sqlite_copy(path, old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()
    services.close()

    put_back(old, path)
    witness_path().write_bytes(garbage)
    services = started_again(services, clock)
    try:
        backup = services.backup.backup(tmp_path / "b.sqlite3")
        report = services.integrity.verify()
        again = services.integrity.verify()
    finally:
        services.close()

    assert not backup.verify.ok, backup.summary
    assert "DOES NOT VERIFY" in backup.summary
    assert not report.ok, said(report)
    assert "emptied or overwritten" in said(report), said(report)
    assert "older copy" in said(report), said(report)
    notes = " ".join(again.notes)
    assert "the check before this one" in notes and "older copy" in notes, notes


def test_the_check_after_a_put_back_alarm_says_what_it_found(
    sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    """The witness file deleted (round 14): the first check named it, wrote the file anew,
    and the next one said "Register intact" without a word of it."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    witness_path().unlink()

    first = services.integrity.verify()
    again = services.integrity.verify()
    third = services.integrity.verify()

    assert not first.ok, said(first)
    assert again.ok, said(again)
    assert any("the check before this one" in note for note in again.notes), again.notes
    assert not any("the check before this one" in note for note in third.notes), third.notes


def test_a_witness_file_the_kiosk_user_may_not_read_is_a_note_saying_whose_check_to_run(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root ran ``kiosk verify`` with the kiosk's environment (``sudo -E``) and left the
    witness file root's, 0600; the next check, as the kiosk user, said "REGISTER TAMPERED
    ... tell the DPO". It is a note that says to run checks as the kiosk user."""
    from kiosk.services import integrity

    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    services.phones.deposit("ASMITH")
    services.integrity.verify()

    def refused(path: Path, limit: int) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    os.chown(witness_path(), 65534, 65534)  # root's file, as the kiosk user sees it
    monkeypatch.setattr(integrity.os, "geteuid", lambda: 1000)  # (the tests run as root)
    monkeypatch.setattr(integrity, "read_small_file", refused)
    report = services.integrity.verify(save=False)

    assert report.ok, said(report)
    notes = " ".join(report.notes)
    assert "Permission denied" in notes and "run checks as the kiosk user" in notes, notes


@pytest.mark.parametrize("left", ["own file unreadable", "link to itself"])
def test_a_register_put_back_with_the_witness_file_made_unreadable_is_named(
    sqlite_services: Services,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    left: str,
) -> None:
    """A shell with the kiosk user's rights puts back an older copy of the register, then,
    rather than delete or empty the witness file, makes it unreadable: ``chmod 000`` on the
    user's own file, a link to itself (or to a file the user may not read). Any failed
    read was a note (meant for the file ``sudo`` leaves root's): verify said "Register
    intact", wrote the file anew, and the next check was clean too. Only a file another user
    owns is a note now; the rest is judged as a deleted file is."""
    from kiosk.services import integrity

    services = sqlite_services
    shift_school(services)
    services.integrity.verify()
    old = tmp_path / "old.sqlite3"
    path = sqlite_path(services.settings.database_url)
    sqlite_copy(path, old)
    services.phones.deposit("ASMITH")
    services.integrity.verify()
    services.close()

    put_back(old, path)
    witness = witness_path()
    if left == "own file unreadable":  # chmod 000 (the tests run as root, who reads it all)
        real = integrity.read_small_file

        def refused(file: Path, limit: int) -> bytes:
            if Path(file) == witness:
                raise PermissionError(13, "Permission denied", str(file))
            return real(file, limit)

        monkeypatch.setattr(integrity, "read_small_file", refused)
    else:  # a link to itself: "Too many levels of symbolic links"
        witness.unlink()
        witness.symlink_to(witness.name)
    services = started_again(services, clock)
    try:
        report = services.integrity.verify(save=False)
    finally:
        services.close()
    assert not report.ok, said(report)
    assert "older copy" in said(report), said(report)


def test_a_file_written_whole_is_on_the_disk_before_and_after_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """written_whole renamed without fsync: a power cut could leave the witness file (or a
    badge sheet, an export) empty under its name. The file and then its folder are synced."""
    from kiosk.services import wholefile

    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(wholefile.os, "fsync", fsync)
    target = tmp_path / "w.json"
    with wholefile.written_whole(target) as fh:
        fh.write(b"{}")

    assert synced == [target.stat().st_ino, tmp_path.stat().st_ino], synced


# --- an honest school's third yearly purge ---------------------------------------------------


def test_three_honest_yearly_purges_each_leave_a_register_that_verifies(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """After a third yearly purge ``kiosk verify`` said "purge checkpoint N was not recorded
    by an admin" of the second purge's checkpoint: the third had removed the row that named
    its admin, and recorded it again only after that checkpoint. An honest school got
    "REGISTER TAMPERED" in year three."""
    services = sqlite_services
    _purged_once(services, clock)
    assert services.integrity.verify(save=False).ok
    record_shift(services, rounds=1)  # January 2025
    clock.set(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")

    second = services.backup.purge(date(2024, 1, 1), "CHEAD")
    after_second = services.integrity.verify(save=False)
    third = services.backup.purge(date(2025, 2, 1), "CHEAD")
    after_third = services.integrity.verify(save=False)

    assert second.removed and third.removed
    assert after_second.ok, said(after_second)
    assert after_third.ok, said(after_third)


# --- the purge's check with the school key: MACs ---------------------------------------------


def _events(services: Services) -> int:
    """How many events the register holds."""
    with services.ctx.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


def _erased_and_rechained(conn: sqlite3.Connection, where: str) -> int:
    """A shell without the key erases the event ``where`` names and recomputes the hash of
    every later event (their MACs left as they were): the links hold again. Its id."""
    conn.row_factory = sqlite3.Row
    victim = conn.execute(f"SELECT id, prev_hash FROM events WHERE {where}").fetchone()
    statements = [f"DELETE FROM events WHERE id = {victim['id']}"]
    prev = victim["prev_hash"]
    later = conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (victim["id"],))
    for found in later.fetchall():
        row = dict(found, prev_hash=prev)
        row["hash"] = hash_of(row)
        statements.append(
            f"UPDATE events SET prev_hash = '{prev}', hash = '{row['hash']}' WHERE id = {row['id']}"
        )
        prev = row["hash"]
    without_triggers(conn, *statements)
    return int(victim["id"])


def test_a_purge_with_the_key_does_not_fold_an_erasure_whose_hashes_were_recomputed(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) erases a 2022 deposit and recomputes the hash of every later event:
    the links hold, only the MACs give it away, and verify names them. The purge checked
    links and hashes only: it removed the range, its checkpoint signed it, and verify then
    named only the two events after the range: the erased deposit was gone for good. With
    the school key here the purge checks MACs, and refuses, nothing changed."""
    services = sqlite_services
    _old_school(services, clock)
    with shell_file(services) as conn:
        erased = _erased_and_rechained(
            conn, "id = (SELECT min(id) FROM events WHERE kind = 'phone_deposited')"
        )
    services = started_again(services, clock)
    try:
        assert "without a valid MAC" in said(services.integrity.verify(save=False))
        count = _events(services)
        with pytest.raises(KioskError, match="Nothing was purged") as refused:
            services.backup.purge(date(2023, 1, 1), "CHEAD")
        assert str(erased + 1) in refused.value.message, refused.value.message
        assert _events(services) == count
    finally:
        services.close()


def test_a_purge_does_not_take_a_forged_checkpoint_for_where_the_register_starts(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """After a first purge a shell (no key) deletes the oldest kept events and appends a
    checkpoint, hashed and chained but with a MAC it cannot make, vouching for the new
    start. Verify names the MAC; the purge took the forged checkpoint for the start and went
    through. It is judged as the events the purge removes are, and the purge refuses."""
    services = sqlite_services
    checkpoint = _purged_once(services, clock)
    with shell_file(services) as conn:
        conn.row_factory = sqlite3.Row
        without_triggers(
            conn, "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT 3)"
        )
        first = conn.execute("SELECT id, prev_hash FROM events ORDER BY id LIMIT 1").fetchone()
        real = dict(conn.execute("SELECT * FROM events WHERE id = ?", (checkpoint,)).fetchone())
        head = conn.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC").fetchone()
        details = json.loads(real["details"])
        details["last_removed_id"] = first["id"] - 1
        details["last_removed_hash"] = first["prev_hash"]
        details["last_removed_position"] += 3
        forged = dict(
            real,
            id=head["id"] + 1,
            prev_hash=head["hash"],
            details=json.dumps(details),
            occurred_at=head["occurred_at"],
            mac="00" * 32,
        )
        forged["hash"] = hash_of(dict(forged, details=details))
        columns = ", ".join(forged)
        conn.execute(
            f"INSERT INTO events ({columns}) VALUES ({', '.join('?' * len(forged))})",
            tuple(forged.values()),
        )
    services = started_again(services, clock)
    try:
        assert "without a valid MAC" in said(services.integrity.verify(save=False))
        count = _events(services)
        with pytest.raises(KioskError, match="Nothing was purged"):
            services.backup.purge(date(2024, 1, 1), "CHEAD")
        assert _events(services) == count
        assert not services.integrity.verify(save=False).ok
    finally:
        services.close()


def test_the_restore_note_names_the_copy_kept_beside_a_register_of_any_name(
    sqlite_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The note said the dropped events were in "kiosk.before-restore-*" whatever the
    register's file was called: a school whose register is school.db looked for a file that
    was never made. It names the copy the restore made, and the count the event records."""
    path = tmp_path / "school.db"
    path.write_bytes(Path(sqlite_path(sqlite_url)).read_bytes())
    url = f"sqlite:///{path}"
    services = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)
    try:
        shift_school(services)
        backup = tmp_path / "monday.sqlite3"
        services.backup.backup(backup)
        services.phones.deposit("ASMITH")
        services.phones.collect("ASMITH")
        report = services.backup.restore(backup, drop_newer=True, reason="a wrong day")
        notes = " ".join(services.integrity.verify(save=False).notes)
    finally:
        services.close()

    assert report.safety_copy.name.startswith("school.before-restore-"), report.safety_copy
    assert report.safety_copy.name in notes, notes
    assert f"dropped {report.dropped} newer event(s)" in notes, notes


def test_verify_says_the_macs_were_checked_with_the_school_key_not_where_it_is(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kiosk verify`` printed "MACs: checked, with the school key on this machine", though
    the key it read may be elsewhere (KIOSK_SCHOOL_KEY_FILE, removable media, a check run on
    an office machine): it says whose reading of the key matters, not where it is."""
    from tests.reliability.test_cli_reliability import run

    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    try:
        shift_school(services)
    finally:
        services.close()

    status, out, _err = run(capsys, "verify")

    assert status == 0, out
    assert "MACs:           checked, with the school key\n" in out, out
    macs = [line for line in out.splitlines() if "MAC" in line]
    assert not any("on this machine" in line for line in macs), macs
    assert any("whoever can read the key" in line for line in macs), macs
