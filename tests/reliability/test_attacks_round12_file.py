"""Round 12 of the red team on the record: the SQLite file, what verify checked, anchors.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Settings, config_file, data_dir
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.services.secret import school_key
from tests.reliability.helpers import meddle, raw_scalar, sqlite_path
from tests.reliability.test_attacks import rechain, shift_school
from tests.reliability.test_tamper import event_ids
from tests.school import make_school

# --- the database file replaced under a running kiosk --------------------------------------


def _swap_in_copy(path: str) -> None:
    """A shell's move: a copy of the register as it is now (SQLite's online backup), renamed
    over the file the running kiosk has open, its ``-wal`` and ``-shm`` tidied away."""
    copy = f"{path}.copy"
    source = sqlite3.connect(path)
    dest = sqlite3.connect(copy)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    os.replace(copy, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_deposit_after_the_file_was_replaced_is_in_the_file_everyone_reads(
    sqlite_url: str,
) -> None:
    """A shell renames another file over ``kiosk.sqlite3`` while the kiosk runs (no key
    needed). SQLite's open connections keep the old file, now unlinked: the kiosk went on
    confirming deposits into a file nobody can open again (the deleted ``-wal`` rescue
    checkpointed into it too), while every other process, ``kiosk verify`` included, read
    the new one and said "intact": a confirmed deposit was in no register, and no anchor
    or witness could ever name it."""
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    try:
        make_school(services)
        services.phones.deposit("ASMITH")
        _swap_in_copy(sqlite_path(sqlite_url))
        try:
            receipt = services.phones.deposit("BJONES")
        except Exception:  # refused in words is honest too: nothing was confirmed
            receipt = None
        if receipt is not None:
            found = raw_scalar(
                sqlite_url, f"SELECT count(*) FROM events WHERE id = {receipt.event_id}"
            )
            assert found == 1, (
                f"deposit {receipt.event_id} was confirmed into the replaced (unlinked) file: "
                "it is in no register anyone can read"
            )
        # And the kiosk goes on recording into the file at its path.
        after = services.phones.collect("ASMITH")
        assert (
            raw_scalar(sqlite_url, f"SELECT kind FROM events WHERE id = {after.event_id}")
            == "phone_collected"
        )
    finally:
        services.close()


def test_a_write_during_which_the_file_is_replaced_is_not_confirmed(sqlite_url: str) -> None:
    """The same rename between the kiosk's BEGIN and its COMMIT: the commit would go into the
    unlinked file. It is rolled back and said, and the next write uses the file in place."""
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    try:
        make_school(services)
        with (
            pytest.raises(DatabaseUnavailable, match="replaced"),
            services.ctx.write() as uow,
        ):
            uow.session.connection()  # BEGIN IMMEDIATE: the old file is this write's
            _swap_in_copy(sqlite_path(sqlite_url))
            uow.record(EventKind.ANCHOR_TAKEN, staff_id=None, details={})
        assert (
            raw_scalar(sqlite_url, "SELECT count(*) FROM events WHERE kind = 'anchor_taken'") == 0
        )
        receipt = services.phones.deposit("BJONES")
        assert (
            raw_scalar(sqlite_url, f"SELECT kind FROM events WHERE id = {receipt.event_id}")
            == "phone_deposited"
        )
    finally:
        services.close()


# --- what verify checked -------------------------------------------------------------------


def _copy_file(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    dest = sqlite3.connect(target)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def test_verify_names_the_register_it_checked_and_the_one_checked_here_before(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell (as the kiosk's user) writes ``database_url`` into the kiosk's own
    ``config.toml``, pointing at a copy of the register taken now: the running kiosk goes on
    recording into the real file, while every ``kiosk verify`` the office runs (``kiosk-as
    verify``, with the latest anchor too: the copy holds it) checks the frozen copy, which
    has no witness here, and said "Register intact" without saying which database it had
    checked. Now verify names the database, where its URL came from and the file's size,
    and says that this machine last checked another register."""
    real = data_dir() / "kiosk.sqlite3"
    real.parent.mkdir(parents=True, exist_ok=True)
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    make_school(services)
    services.close()
    _copy_file(sqlite_path(sqlite_url), real)
    assert main(["verify"]) == 0  # the office's check of the real register
    capsys.readouterr()

    pristine = real.with_name("pristine.sqlite3")
    _copy_file(str(real), pristine)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(f'database_url = "sqlite:///{pristine}"\n', encoding="utf-8")
    kiosk = Services(make_engine(f"sqlite:///{real}"), Settings(kiosk_name="k"))
    try:
        kiosk.phones.deposit("ASMITH")  # the kiosk goes on recording into the real file
    finally:
        kiosk.close()

    main(["verify"])
    out = capsys.readouterr().out
    assert str(pristine) in out, out
    assert str(config_file()) in out, out  # where the URL came from
    assert str(real) in out, "verify did not say that this machine checked another register"


# --- restore: what it compared the backup with ---------------------------------------------


def test_a_restore_over_an_emptied_register_does_not_say_it_matched_the_live_one(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """A shell with the key rewrites the latest backup (hashes and MACs recomputed), then
    empties the live events table (the triggers dropped) so that the office restores. The
    live register held nothing to compare with, yet the restore said "chain verified, the
    same as the live register up to event N": the office took a rewritten copy for the
    register's own past (the threat model said such a backup is refused). Now it says it
    was not compared, and that only an anchor can show it."""
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    target = event_ids(f"sqlite:///{backup}")[5]
    with meddle(f"sqlite:///{backup}") as db:
        db.overwrite(target, {"kiosk": "rewritten"})
        rechain(db, target, key=school_key())
    with meddle(services.settings.database_url) as db:
        db.execute("DELETE FROM events")

    report = services.backup.restore(backup)

    assert "the same as the live register" not in report.summary, report.summary
    assert "NOT compared with the live register, which holds no events" in report.summary
    assert "kiosk verify --anchor" in report.summary


# --- backup: what its check compared the copy with -----------------------------------------


def test_a_backup_of_a_register_cut_at_the_end_is_not_said_verified(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """A shell (no key needed) cuts the newest events off the end, the last stored check
    with them, and leaves this machine's witness file alone. ``kiosk verify`` names the
    missing end; the nightly ``kiosk backup`` checked its copy without this machine's witness
    and said "verified" (exit 0): the office kept, and might later restore, a copy cut short
    on the word of a check that had not looked. Now the copy's check reads the witness too."""
    services = sqlite_services
    shift_school(services)
    services.integrity.verify()  # the office's last check: the witness names the head
    url = services.settings.database_url
    ids = event_ids(url)
    with meddle(url) as db:
        db.execute("DELETE FROM events WHERE id >= %s", (ids[-4],))

    report = services.backup.backup(tmp_path / "b.sqlite3")

    assert not report.verify.ok, report.summary
    assert "DOES NOT VERIFY" in report.summary


def test_a_write_after_the_file_was_removed_says_it_is_gone(sqlite_url: str) -> None:
    """The file removed (not replaced) while the kiosk has it open: every write went into the
    removed file and was refused as "replaced ... the kiosk now uses the file in its place",
    which there is none of, again and again. It says the file is gone and what to do."""
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    try:
        make_school(services)
        services.phones.deposit("BJONES")  # the pool holds the file open
        Path(sqlite_path(sqlite_url)).unlink()
        for _ in range(2):
            with pytest.raises(DatabaseUnavailable) as refused:
                services.phones.deposit("ASMITH")
            assert "has been removed" in refused.value.message, refused.value.message
            assert "kiosk restore" in refused.value.message
    finally:
        services.close()
