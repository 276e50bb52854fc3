"""Round 15 of the red team on the record: what is hashed, what verify reads and what the
office is shown (the SQLite file and the kiosk's PostgreSQL login).

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from kiosk.services.reference import table_rows
from tests.conftest import FakeClock
from tests.reliability.helpers import shell_file, started_again, without_triggers
from tests.reliability.test_attacks import said, shift_school

# --- the lists taken in again as a "baseline" ---------------------------------------------


def _hide_list_events_from_the_kind_index(conn: sqlite3.Connection) -> None:
    """Rebuild ``ix_events_kind_time`` without the list events and write its CREATE text back
    (``writable_schema``): "is there a list event?" asked through the index says no."""
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'ix_events_kind_time'"
    ).fetchone()[0]
    conn.execute("DROP INDEX ix_events_kind_time")
    conn.execute(
        "CREATE INDEX ix_events_kind_time ON events (kind, occurred_at) "
        "WHERE kind <> 'reference_changed'"
    )
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'ix_events_kind_time'", (sql,))
    conn.execute("PRAGMA writable_schema = OFF")


def test_lists_edited_in_the_file_are_not_taken_in_as_a_new_baseline(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) renames Alice in the ``staff`` table, makes her a breakfast-club lead
    and hides the register's list events from the index the kiosk asked "has the register
    its lists yet?". The next ``kiosk verify`` (or scan) recorded every list row as it stood
    as a new baseline, MACed with the school key; the shell then ran REINDEX, and verify said
    "Register intact" while the console showed "Mallory Smith", a breakfast-club lead. The
    kiosk now asks the table itself, records no baseline on a register already written, and
    verify names the edited row."""
    services = sqlite_services
    shift_school(services)
    assert services.integrity.verify().ok
    with shell_file(services) as conn:
        _hide_list_events_from_the_kind_index(conn)
        without_triggers(
            conn,
            "UPDATE staff SET name = 'Mallory Smith' WHERE code = 'ASMITH'",
            "INSERT INTO staff_roles (staff_id, role) "
            "SELECT id, 'breakfast_club_lead' FROM staff WHERE code = 'ASMITH'",
        )
    services = started_again(services, clock)
    services.integrity.verify()  # what the office runs (it names the index: see below)
    services.close()
    with shell_file(services) as conn:
        conn.execute("REINDEX")  # the shell tidies the index away

    services = started_again(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert 'staff 2 column name: stored "Mallory Smith", recorded "Alice Smith"' in said(report)


def test_a_list_change_recorded_as_a_late_baseline_is_named(sqlite_services: Services) -> None:
    """The same rename written into the register as the kiosk writes a baseline (a list row
    by no one, reason "baseline"), after the register already held its lists (a kiosk older
    than the fix above, misled the same way, or a shell with the key): verify took it as an
    ordinary list change and said "Register intact". A baseline comes once, before any other
    event with a MAC: verify names a later one and what it changed."""
    services = sqlite_services
    shift_school(services)
    with services.ctx.write() as uow:
        alice = table_rows(uow.session.connection(), "staff")[2]
        assert alice["name"] == "Alice Smith"
        row = alice | {"name": "Mallory Smith"}
        late = uow.change_reference("staff", 2, row, reason="baseline").id

    report = services.integrity.verify()

    assert not report.ok, report.summary
    assert f'event {late} (staff 2): name "Alice Smith" -> "Mallory Smith"' in said(report)
    assert "after the register already held its lists" in said(report)


# --- a list row edited in the file, carried into the register by the office's next change --


def test_a_role_added_in_the_file_is_not_carried_into_the_register_by_an_admin(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) adds the admin role to Ben's row of ``staff_roles`` and renames
    him. Later an admin imports a roster that only changes Ben's e-mail (no roles column:
    "keep the person's roles"): the kiosk read Ben's roles and name from the table, and
    recorded them as the admin's change. Verify then said "Register intact", Ben an admin
    granted by CHEAD. Now the change is refused in words, the row named, and nothing is
    recorded; verify still names the row."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'admin' FROM staff "
            "WHERE code = 'BJONES'",
            "UPDATE staff SET name = 'Benedict Jones' WHERE code = 'BJONES'",
        )
    services = started_again(services, clock)
    try:
        with pytest.raises(KioskError) as refused:
            services.people.import_staff_csv(
                b"code,name,email\nBJONES,Benedict Jones,ben@school.example\n",
                admin_code="CHEAD",
            )
        report = services.integrity.verify()
    finally:
        services.close()

    assert "BJONES" in str(refused.value)
    assert "changed directly in the database" in str(refused.value)
    assert not report.ok, report.summary
    assert 'staff 3 column roles: stored ["admin", "breakfast_club_lead"]' in said(report)


def test_a_device_edited_in_the_file_is_not_carried_into_the_register_when_retired(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """The same on the device list: a laptop's description changed in the file, then the
    office retires it; the edit went into the register as the admin's."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(
            conn, "UPDATE devices SET description = 'Broken on arrival' WHERE tag = 'LAP-002'"
        )
    services = started_again(services, clock)
    try:
        with pytest.raises(KioskError) as refused:
            services.people.retire_device("LAP-002", admin_code="CHEAD")
        report = services.integrity.verify()
    finally:
        services.close()

    assert "LAP-002" in str(refused.value)
    assert not report.ok, report.summary
    assert "column description" in said(report)


# --- what verify prints ------------------------------------------------------------------


def test_verify_prints_no_terminal_escapes_stored_in_a_list_row(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell (no key) adds a row to ``kiosk_settings`` whose key is terminal escapes: clear
    the screen, print "Register intact: ..." and hide what follows. ``kiosk verify`` named
    it ("kiosk_settings <key>: in the table but never recorded"), the key first on its
    summary line: printed raw, the office's terminal would show "Register intact". Guard
    test: everything ``kiosk`` prints goes through its terminal-safe output."""
    services = sqlite_services
    shift_school(services)
    url = services.settings.database_url
    forged = "\x1b[2J\x1b[HRegister intact: 40 events checked.\x1b[8m\u202e"
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "INSERT INTO kiosk_settings (key, value, updated_at) "
            f"VALUES ('{forged}', 'x', '2026-12-01 08:00:00.000000')",
        )
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)

    assert main(["verify"]) != 0
    out = capsys.readouterr().out

    assert "in the table but never recorded" in out, out
    assert "\x1b" not in out and "\u202e" not in out, repr(out)
    assert out.startswith("REGISTER TAMPERED WITH"), out


# --- a role held only in the file while it was used ------------------------------------------


def test_a_colleagues_phone_logged_with_a_role_held_only_in_the_file_is_named(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) gives Esha the breakfast-club lead role in ``staff_roles``; the kiosk
    lets her collect Alice's phone from the staff room for her ("for a colleague" needs
    that role), then the shell takes the row out again. Verify said "Register intact": the
    collection was recorded by Esha, who never held the role in the register. Verify now
    names every event recorded for a colleague, or by an admin's hand, by someone the
    register's lists did not give that role then."""
    services = sqlite_services
    shift_school(services)
    services.phones.deposit("ASMITH")
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'breakfast_club_lead' "
            "FROM staff WHERE code = 'EPATEL'",
        )
    services = started_again(services, clock)
    collected = services.phones.collect("ASMITH", recorded_by="EPATEL").event_id
    services.close()
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "DELETE FROM staff_roles WHERE role = 'breakfast_club_lead' AND staff_id = "
            "(SELECT id FROM staff WHERE code = 'EPATEL')",
        )

    services = started_again(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert f"event {collected} (phone_collected) recorded by Esha Patel (EPATEL)" in said(report)
    assert "breakfast club lead or admin" in said(report)


# --- the admin PIN put back in the file -----------------------------------------------------


def test_an_old_pin_put_back_in_the_file_does_not_open_the_console(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """The school changed its admin PIN after the old one got about. A shell (no key) copies
    the old PIN's stored hash back into ``kiosk_settings`` (it is in the file: the table held
    it, and the register's list event still does). The old PIN then signed in as any admin
    (codes are on badges), whose every action the register records as that admin's; the
    shell puts the new hash back after, and verify has nothing to name. The PIN is now
    checked against the register's own newest record of it (hash and MAC checked), so the
    old PIN is refused and the school's PIN still works."""
    services = sqlite_services
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    with shell_file(services) as conn:
        old = conn.execute("SELECT value FROM kiosk_settings WHERE key = 'admin_pin'").fetchone()
    services = started_again(services, clock)
    services.admin.set_pin("975310", admin_code="CHEAD", current_pin="428613")
    with shell_file(services) as conn:
        without_triggers(
            conn, f"UPDATE kiosk_settings SET value = '{old[0]}' WHERE key = 'admin_pin'"
        )

    services = started_again(services, clock)
    try:
        with pytest.raises(KioskError):
            services.admin.sign_in("428613", "CHEAD")
        assert services.admin.sign_in("975310", "CHEAD").admin.code == "CHEAD"
    finally:
        services.close()


def test_a_pin_row_deleted_in_the_file_does_not_let_a_new_pin_be_set_without_the_old(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) deletes the ``admin_pin`` row of ``kiosk_settings``: "no PIN is set
    yet", so ``kiosk admin set-pin`` took a new PIN without the current one, recorded as set
    by the admin it named (codes are on badges). Verify then said "Register intact", and the
    shell knew the PIN. A PIN the register records is set, whatever the table holds."""
    services = sqlite_services
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    with shell_file(services) as conn:
        without_triggers(conn, "DELETE FROM kiosk_settings WHERE key = 'admin_pin'")

    services = started_again(services, clock)
    try:
        with pytest.raises(KioskError, match="current PIN"):
            services.admin.set_pin("730518", admin_code="CHEAD")
        assert services.admin.sign_in("428613", "CHEAD").admin.code == "CHEAD"
    finally:
        services.close()


def test_list_changes_by_an_admin_only_in_the_file_are_named(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell (no key) gives Ben the admin role in ``staff_roles``; Ben, who knows the PIN,
    retires a laptop in the console (a list change and an admin action, both his), then the
    shell takes the row out again. Verify said "Register intact": list changes and admin
    actions were checked against the register's admins only when they granted or took away
    admin. Verify now names every one recorded by someone who was not an admin then."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(conn, "INSERT INTO staff_roles (staff_id, role) VALUES (3, 'admin')")
    services = started_again(services, clock)
    services.people.retire_device("LAP-002", admin_code="BJONES")
    services.close()
    with shell_file(services) as conn:
        without_triggers(conn, "DELETE FROM staff_roles WHERE staff_id = 3 AND role = 'admin'")

    services = started_again(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert "who was not a admin then" not in said(report)
    assert "(reference_changed) recorded by Ben Jones (BJONES), who was not an admin then" in (
        said(report)
    )
    assert "(admin_action) recorded by Ben Jones (BJONES), who was not an admin then" in said(
        report
    )


def test_a_list_event_whose_details_are_a_number_does_not_stop_the_pin(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Guard for the PIN's record read from the register: a list event whose details a
    shell stored as a number is passed over (verify names it), and the PIN still works."""
    services = sqlite_services
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "UPDATE events SET details = 7 WHERE id = (SELECT max(id) FROM events "
            "WHERE kind = 'reference_changed')",
        )
    services = started_again(services, clock)
    try:
        assert services.admin.sign_in("428613", "CHEAD").admin.code == "CHEAD"
    finally:
        services.close()


def test_a_restore_by_an_admin_added_after_the_backup_is_not_named(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """Guard for the rule above: an admin added after a backup was taken restores it
    (dropping the newer events, with a reason). The restore is recorded as hers, though the
    restored lists do not have her yet: that is not a list change by someone who was not an
    admin, and verify says the register is intact."""
    services = sqlite_services
    shift_school(services)
    copy = tmp_path / "backup.sqlite3"
    services.backup.backup(copy)
    services.people.add_staff("FNEW", "Fay New", roles=["admin"], admin_code="CHEAD")

    services.backup.restore(copy, drop_newer=True, reason="test", admin_code="FNEW")
    report = services.integrity.verify()

    assert report.ok, said(report)


# --- the schema's version record ------------------------------------------------------------


def test_a_schema_version_put_back_in_the_file_is_said_in_words(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shell (no key) sets ``alembic_version`` back to 0004: every kiosk start and every
    ``kiosk verify`` tried revision 0005 again, failed, and said "The database cannot be
    opened (OperationalError). Check KIOSK_DATABASE_URL." (the URL was right; verify could
    check nothing). Now it says what the database records, what this kiosk expects, that the
    version record may have been changed by hand, and that nothing was changed."""
    services = sqlite_services
    shift_school(services)
    url = services.settings.database_url
    with shell_file(services) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0004'")
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)

    assert main(["verify"]) != 0
    said_ = capsys.readouterr()
    out = said_.out + said_.err

    assert "Check KIOSK_DATABASE_URL" not in out, out
    assert "revision 0004" in out, out
    assert "changed by hand" in out, out
    assert "Nothing was changed" in out, out


# --- a purge (round 15's review) ---------------------------------------------------------------

EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)


def _old_school(services: Services, clock: FakeClock) -> None:
    """A school recorded from 2022, and a deposit in 2024: a purge up to 2023 takes the
    lists' first records, and carries the rows over."""
    from tests.reliability.test_tamper import record_shift
    from tests.school import make_school

    clock.set(EARLY)
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(LATER)
    services.phones.deposit("ASMITH")


def test_a_purge_does_not_carry_a_row_edited_in_the_file_into_the_register(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """The purge records again each list row whose newest event it removes. It took the row
    from the table: a role added in the file (which verify named before the purge) went into
    the register under the school key, "carried over by a purge", and verify said intact
    after it, Alice an admin. The purge now carries the register's own record of each row,
    and a row changed in the database stops it, nothing changed."""
    from datetime import date

    services = sqlite_services
    _old_school(services, clock)
    services.close()
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'admin' FROM staff "
            "WHERE code = 'ASMITH'",
        )
    services = started_again(services, clock)
    try:
        assert not services.integrity.verify(save=False).ok
        with pytest.raises(KioskError) as refused:
            services.backup.purge(date(2023, 1, 1), "CHEAD")
        assert "Nothing was changed: the person ASMITH differs from what the register" in (
            refused.value.message
        )
        report = services.integrity.verify(save=False)
        assert not report.ok
        assert "roles" in said(report)
    finally:
        services.close()


def test_after_a_purge_verify_still_names_a_role_held_only_in_the_file(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Who held which role was checked only on a register kept from its start: after a
    school's first purge the check was off for good. It now judges each person once the
    kept events (or the purge's records of the rows it took) have recorded their row."""
    from datetime import date

    services = sqlite_services
    _old_school(services, clock)
    services.phones.collect("ASMITH")
    services.backup.purge(date(2023, 1, 1), "CHEAD")
    assert services.integrity.verify(save=False).ok
    services.close()
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'breakfast_club_lead' "
            "FROM staff WHERE code = 'EPATEL'",
        )
    services = started_again(services, clock)
    deposited = services.phones.deposit("ASMITH", recorded_by="EPATEL").event_id
    services.close()
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "DELETE FROM staff_roles WHERE role = 'breakfast_club_lead' AND staff_id = "
            "(SELECT id FROM staff WHERE code = 'EPATEL')",
        )
    services = started_again(services, clock)
    try:
        report = services.integrity.verify(save=False)
    finally:
        services.close()
    assert not report.ok
    assert (
        f"event {deposited} (phone_deposited) recorded by Esha Patel (EPATEL), who was not a "
        "breakfast club lead or admin then"
    ) in said(report)
