"""A register on a network share (NFS, SMB, sshfs...): SQLite's locks and its WAL's shared
memory do not reach across machines there, so two kiosks writing one file over a shared
folder could each write from a view of the register the other had moved on from (lost
events, a damaged file), and nothing said so. Writes are refused there in words; reading
(the office checking a copy on a share) goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from kiosk.db import engine as db_engine
from kiosk.db.engine import file_system_of
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services

MOUNTINFO = (
    "22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "40 22 0:40 / /mnt/staff\\040share rw,relatime shared:1 - nfs4 srv:/kiosk rw,vers=4.2\n"
    "41 22 0:41 / /mnt/staffroom rw,relatime - ext4 /dev/sdb1 rw\n"
    "42 40 0:42 / /mnt/staff\\040share/local rw,relatime - tmpfs tmpfs rw\n"
    "43 22 0:43 / /srv/sync rw,relatime - fuse.sshfs office:/sync rw\n"
)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/mnt/staff share/kiosk.sqlite3", "nfs4"),  # a space, as mountinfo escapes it
        ("/mnt/staffroom/kiosk.sqlite3", "ext4"),  # a longer name, not inside the share
        ("/mnt/staff share/local/kiosk.sqlite3", "tmpfs"),  # a mount inside the share
        ("/srv/sync/school/kiosk.sqlite3", "fuse.sshfs"),
        ("/var/lib/kiosk/kiosk.sqlite3", "ext4"),
    ],
)
def test_the_file_system_under_the_register_is_read_from_mountinfo(path: str, kind: str) -> None:
    assert file_system_of(path, MOUNTINFO) == kind


def _on_a_share(monkeypatch: pytest.MonkeyPatch, kind: str = "nfs4") -> None:
    monkeypatch.setattr(db_engine, "file_system_of", lambda path, mountinfo=None: kind)
    db_engine._FILE_SYSTEMS.clear()


def test_a_register_on_a_network_share_records_nothing_and_says_why(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.school import make_school

    make_school(sqlite_services)
    before = len(sqlite_services.register.day(sqlite_services.ctx.clock().date()).rows)
    _on_a_share(monkeypatch)
    try:
        with pytest.raises(DatabaseUnavailable, match=r"network share \(nfs4\)"):
            sqlite_services.phones.deposit("ASMITH")
        # Reading goes on: the office can still look at (and verify) what is there.
        assert sqlite_services.people.status("ASMITH").phone is None
        assert len(sqlite_services.register.day(sqlite_services.ctx.clock().date()).rows) == (
            before
        )
    finally:
        db_engine._FILE_SYSTEMS.clear()


def test_a_local_disk_records_as_before(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.school import make_school

    make_school(sqlite_services)
    _on_a_share(monkeypatch, "ext4")
    try:
        sqlite_services.phones.deposit("ASMITH")
    finally:
        db_engine._FILE_SYSTEMS.clear()
    assert sqlite_services.people.status("ASMITH").phone is not None


def test_a_register_file_linked_to_a_share_is_on_the_share(tmp_path: Path) -> None:
    """The file itself a symbolic link into the share (the folder a local one): SQLite
    opens the file it points to, on the share; the link's folder was looked up."""
    (tmp_path / "share").mkdir()
    (tmp_path / "local").mkdir()
    link = tmp_path / "local" / "kiosk.sqlite3"
    link.symlink_to(tmp_path / "share" / "kiosk.sqlite3")
    share = os.path.realpath(tmp_path / "share")
    mountinfo = MOUNTINFO + f"44 22 0:44 / {share} rw,relatime - nfs4 srv:/kiosk rw\n"
    assert file_system_of(str(link), mountinfo) == "nfs4"


def test_a_restore_onto_a_share_is_refused_and_the_register_left_as_it_is(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A restore replaces the file and records itself outside the kiosk's writes: on a
    share it replaced the register and recorded the restore, its lock no guard against
    another machine writing meanwhile, and the kiosk then recorded nothing after it."""
    from tests.school import make_school

    make_school(sqlite_services)
    sqlite_services.backup.backup(tmp_path / "backup.sqlite3")
    sqlite_services.phones.deposit("ASMITH")
    live = Path(sqlite_services.ctx.engine.url.database or "")
    before = live.stat().st_ino
    _on_a_share(monkeypatch)
    try:
        with pytest.raises(DatabaseUnavailable, match=r"Not restored: .*network share \(nfs4\)"):
            sqlite_services.backup.restore(
                tmp_path / "backup.sqlite3", drop_newer=True, reason="test", admin_code="CHEAD"
            )
    finally:
        db_engine._FILE_SYSTEMS.clear()
    assert live.stat().st_ino == before
    assert sqlite_services.people.status("ASMITH").phone is not None


def test_verify_of_a_register_never_written_on_a_share_says_why_its_lists_are_not_recorded(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new register on a share: the lists' starting point is recorded at the first write,
    which the share refuses, so verify named every seeded row "in the table but never
    recorded (added directly)" and nothing said why."""
    _on_a_share(monkeypatch)
    try:
        report = sqlite_services.integrity.verify(save=False)
    finally:
        db_engine._FILE_SYSTEMS.clear()
    assert report.events_checked == 0
    assert any(
        "network share (nfs4)" in note and "never recorded" in note for note in report.notes
    ), report.notes


# --- creating or upgrading the register on a share ------------------------------------------


def test_a_new_register_is_not_created_on_a_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kiosk (or `kiosk db upgrade`) pointed at a file on a share that is not there yet
    created it and wrote its schema and first events there: the file a second machine
    would write too. Nothing is created, and the command says why."""
    from kiosk.cli import main

    register = tmp_path / "share" / "kiosk.sqlite3"
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{register}")
    _on_a_share(monkeypatch)
    try:
        status = main(["db", "upgrade"])
    finally:
        db_engine._FILE_SYSTEMS.clear()
    assert status != 0
    assert "Not created: the register's SQLite file is on a network share (nfs4)" in (
        capsys.readouterr().err
    )
    assert not register.exists()


def test_a_register_on_a_share_is_not_upgraded_and_one_up_to_date_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A register of an older kiosk on a share: the upgrade (schema and events) is refused
    and the file left at its revision. One already at this kiosk's revision opens as ever
    (read: the office looks at, and verifies, a copy kept on a share)."""
    from kiosk.db import migrate
    from kiosk.services.app import prepare_database

    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    engine = db_engine.make_engine(url)
    script = ScriptDirectory.from_config(migrate.alembic_config())
    older = [r.revision for r in script.walk_revisions()][1]  # the one before head
    try:
        migrate.upgrade(engine, older)
        _on_a_share(monkeypatch)
        try:
            with pytest.raises(DatabaseUnavailable, match=r"^Not upgraded: .*network share"):
                prepare_database(engine)
            assert migrate.current_revision(engine) == older
            _on_a_share(monkeypatch, "ext4")  # moved to a local disk: upgraded there
            prepare_database(engine)
            _on_a_share(monkeypatch)  # and back on the share: up to date, opened
            prepare_database(engine)
        finally:
            db_engine._FILE_SYSTEMS.clear()
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
