"""Round 15 of the red team on the record: staff codes and device tags swapped in the
database for a while (a shell on the SQLite file, or a login on PostgreSQL; no school key).

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.services.reference import table_rows
from kiosk.services.register import RegisterFilter
from kiosk.services.state import get_staff_info
from tests.conftest import FakeClock
from tests.reliability.helpers import Raw, meddle
from tests.reliability.test_attacks import said, shift_school
from tests.school import make_ready


@contextmanager
def _shell(services: Services, db_url: str) -> Iterator[Raw]:
    """Raw SQL on the kiosk's database, its triggers out of the way (SQLite: the file with
    the kiosk closed; PostgreSQL: the owner, triggers off for replication)."""
    services.close()
    with meddle(db_url, how="replica") as db:
        if db.sqlite:
            triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            for name, _sql in triggers:
                db.execute(f"DROP TRIGGER {name}")
            yield db
            for name, sql in triggers:
                db.execute(f"DROP TRIGGER IF EXISTS {name}")
                db.execute(sql)
        else:
            yield db


def _swap(db: Raw, table: str, column: str, one: str, other: str) -> None:
    db.execute(f"UPDATE {table} SET {column} = 'SWAP' WHERE {column} = %s", (one,))
    db.execute(f"UPDATE {table} SET {column} = %s WHERE {column} = %s", (one, other))
    db.execute(f"UPDATE {table} SET {column} = %s WHERE {column} = 'SWAP'", (other,))


def _started(services: Services, clock: FakeClock) -> Services:
    return Services(make_engine(services.settings.database_url), services.settings, clock)


def _staff_id(services: Services, code: str) -> int:
    with services.ctx.read() as session:
        return get_staff_info(session, code, active=False).id


def test_staff_codes_swapped_for_a_deposit_are_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """A shell (no key) swaps Alice's and Ben's codes in the ``staff`` table; Alice's badge
    (ASMITH) then deposits a phone, which the kiosk records, under the school's key, as
    Ben's; the shell swaps the codes back. Verify said "Register intact": nothing in the
    event said which code was scanned. The event now carries the code the kiosk read, and
    verify names an event whose code the register's lists did not give that person then."""
    shift_school(services)
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "ASMITH", "BJONES")
    services = _started(services, clock)
    try:
        deposited = services.phones.deposit("ASMITH").event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "ASMITH", "BJONES")

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert (
        f"event {deposited} (phone_deposited) is recorded for Ben Jones, whose code was "
        '"BJONES" then, under the code "ASMITH"'
    ) in said(report)
    assert "list was changed in the database when it was recorded" in said(report)


def test_a_device_tag_swapped_for_a_sign_out_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The same with two laptops' tags: Alice signs out the laptop labelled LAP-001, which
    the kiosk records as LAP-002 (its row had LAP-001's tag then); the tags go back. The
    register says LAP-002 is at Alice's home, LAP-001 in school. Verify now names it."""
    shift_school(services)
    make_ready(services, "ASMITH")
    with _shell(services, db_url) as db:
        _swap(db, "devices", "tag", "LAP-001", "LAP-002")
        device = db.execute("SELECT id FROM devices WHERE tag = 'LAP-001'")[0][0]
    services = _started(services, clock)
    try:
        signed = services.devices.sign_out("ASMITH", ["LAP-001"], reason="marking at home")
        signed_out = signed.receipts[0].event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        _swap(db, "devices", "tag", "LAP-001", "LAP-002")

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert (
        f"event {signed_out} (device_signed_out) is recorded for device {device} (Dell "
        'Latitude, Year 4), whose tag was "LAP-002" then, under the tag "LAP-001"'
    ) in said(report)


def test_guard_a_code_changed_through_the_kiosk_is_not_named(
    services: Services, clock: FakeClock
) -> None:
    """Guard test: the office gives Ben a new code through the kiosk (a list change the
    register records); his phone is then deposited under the new code. Verify says nothing
    about it: the lists gave him that code then."""
    shift_school(services)
    ben = _staff_id(services, "BJONES")
    services.phones.deposit("BJONES")
    with services.ctx.write() as uow:
        row = table_rows(uow.session.connection(), "staff", key=ben)[ben]
        uow.change_reference("staff", ben, row | {"code": "BJONES2"}, by=None)
    services.phones.collect("BJONES2")
    services.phones.deposit("BJONES2")

    report = services.integrity.verify()

    assert report.ok, said(report)


def test_a_recorders_code_swapped_with_a_leads_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Esha (no role) swaps her code with Ben's, the breakfast-club lead's: her badge then
    collects Alice's phone for her, recorded by Ben (who holds the role, so the role check
    has nothing to say); the codes go back. Verify now names the recorder's code too."""
    shift_school(services)
    services.phones.deposit("ASMITH")
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "EPATEL", "BJONES")
    services = _started(services, clock)
    try:
        collected = services.phones.collect("ASMITH", recorded_by="EPATEL").event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "EPATEL", "BJONES")

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert (
        f"event {collected} (phone_collected) is recorded by Ben Jones, whose code was "
        '"BJONES" then, under the code "EPATEL"'
    ) in said(report)


def test_the_codes_read_do_not_clutter_the_register_or_a_persons_export(
    services: Services,
) -> None:
    """The code and tag each event now carries are for verify: the register's details
    column and a person's export show them only where they say something new."""
    shift_school(services)
    make_ready(services, "ASMITH")
    services.phones.deposit("ASMITH", recorded_by="BJONES")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="marking at home")

    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    shown = [e["details"] for e in export["events"] if e["kind"] != "admin_action"]
    today = services.ctx.clock().date()
    rows = list(services.register.rows_between(today, today, RegisterFilter(staff_code="ASMITH")))

    assert not any(
        key in details
        for details in shown
        for key in ("staff_code", "recorded_by_code", "device_tag", "store_code")
    ), shown
    assert rows and not any("ASMITH" in r.detail or "LAP-001" in r.detail for r in rows)


def test_store_codes_swapped_for_a_deposit_are_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The same with the two stores' codes: Alice's phone goes into the staff-room box, and
    the kiosk records it in the breakfast-club drawer (its row had the code STAFFROOM then);
    the codes go back. The register then says her phone is in the drawer: whoever checks it
    looks in the wrong place, and the staff room's list is short. Verify now names it."""
    shift_school(services)
    with _shell(services, db_url) as db:
        _swap(db, "stores", "code", "STAFFROOM", "DRAWER")
        drawer = db.execute("SELECT id FROM stores WHERE code = 'STAFFROOM'")[0][0]
    services = _started(services, clock)
    try:
        deposited = services.phones.deposit("ASMITH").event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        _swap(db, "stores", "code", "STAFFROOM", "DRAWER")

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert (
        f"event {deposited} (phone_deposited) is recorded in store {drawer} (Administrator's "
        'locked drawer (breakfast club)), whose code was "DRAWER" then, under the code '
        '"STAFFROOM"'
    ) in said(report)


def test_codes_swapped_after_a_purge_are_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """A school purges its old events (retention), which takes the list events that gave
    each row its code, and records the lists again (carried over) before its checkpoint.
    Verify then stopped comparing for good: the codes swapped after the purge were not
    named. From the purge's checkpoint on the lists are known again, and it names them."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))
    shift_school(services)
    clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
    services.backup.purge(date(2023, 1, 1), "CHEAD")
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "ASMITH", "BJONES")
    services = _started(services, clock)
    try:
        deposited = services.phones.deposit("ASMITH").event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        _swap(db, "staff", "code", "ASMITH", "BJONES")

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert (
        f"event {deposited} (phone_deposited) is recorded for Ben Jones, whose code was "
        '"BJONES" then, under the code "ASMITH"'
    ) in said(report)


def test_guard_a_school_that_purged_verifies_intact(services: Services, clock: FakeClock) -> None:
    """Guard test: after a purge, a school's ordinary use (phones, a sign-out, an admin's
    list change) is not named by the checks that resume from the purge's checkpoint."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))
    shift_school(services)
    clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
    services.backup.purge(date(2023, 1, 1), "CHEAD")
    make_ready(services, "ASMITH")
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    services.phones.deposit("EPATEL", "DRAWER", recorded_by="BJONES")
    services.phones.move_all("BJONES")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="marking at home")
    services.people.retire_device("LAP-002", admin_code="CHEAD")

    report = services.integrity.verify()

    assert report.ok, said(report)


def test_a_role_held_only_in_the_database_after_a_purge_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The role check (verify names an event recorded by someone the register's lists did
    not give the role then) also stopped for good at a school's first purge. Esha, given
    the breakfast-club lead's role in ``staff_roles`` by a shell after the purge, collects
    Alice's phone for her; the role is taken out again. Verify now names it."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))
    shift_school(services)
    clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
    services.backup.purge(date(2023, 1, 1), "CHEAD")
    services.phones.deposit("ASMITH")
    esha = _staff_id(services, "EPATEL")
    with _shell(services, db_url) as db:
        db.execute(
            "INSERT INTO staff_roles (staff_id, role) VALUES (%s, 'breakfast_club_lead')", (esha,)
        )
    services = _started(services, clock)
    try:
        collected = services.phones.collect("ASMITH", recorded_by="EPATEL").event_id
    finally:
        services.close()
    with _shell(services, db_url) as db:
        db.execute(
            "DELETE FROM staff_roles WHERE staff_id = %s AND role = 'breakfast_club_lead'", (esha,)
        )

    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()

    assert not report.ok, report.summary
    assert f"event {collected} (phone_collected) recorded by Esha Patel (EPATEL)" in said(report)


def test_a_person_added_in_the_database_after_a_purge_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """After a purge, verify judged everyone as the lists stood only once the replay had seen
    their row: "the lists are whole from the purge's checkpoint on" was never reached (its
    test sat in the else of the role check, which the purge's own list events had already
    switched on). A person and their admin role added in the database itself, used, then
    deleted again, were never judged: "Register intact". From the purge's checkpoint the
    lists are whole, and someone not on them is named (a newcomer's review found it)."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))
    shift_school(services)
    clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
    services.backup.purge(date(2023, 1, 1), "CHEAD")
    with _shell(services, db_url) as db:
        db.execute(
            "INSERT INTO staff (id, code, name, email, line_manager, created_at) VALUES "
            "(9001, 'XEVIL', 'X Evil', '', '', '2024-06-05 09:00:00.000000')"
        )
        db.execute("INSERT INTO staff_roles (staff_id, role) VALUES (9001, 'admin')")
    services = _started(services, clock)
    try:
        services.people.add_staff("ZNEW", "Zed New", roles=["laptop_user"], admin_code="XEVIL")
    finally:
        services.close()
    with _shell(services, db_url) as db:
        db.execute("DELETE FROM staff_roles WHERE staff_id = 9001")
        db.execute("DELETE FROM staff WHERE id = 9001")
    services = _started(services, clock)
    try:
        report = services.integrity.verify()
    finally:
        services.close()
    assert not report.ok, report.summary
    assert "recorded by staff 9001, who was not an admin then" in said(report)
