"""Round 18 of the red team on the record: the yearly purge and what it keeps, the school's
settings kept as events (calendar, device kinds), and what verify reads of a list change
written without the key or stored as binary data.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from kiosk.domain.chain import hash_of
from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import (
    CHAIN_COLUMNS,
    is_sqlite,
    meddle,
    shell_file,
    started_again,
    without_triggers,
)
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_tamper import record_shift
from tests.school import make_school

EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
FAR_AHEAD = datetime(2999, 1, 1, tzinfo=UTC)

CALENDAR = (
    b"start,end,kind,name\n"
    b"2022-01-04,2022-04-01,term,Spring term 2022\n"
    b"2024-04-15,2024-07-19,term,Summer term 2024\n"
    b"2024-05-27,2024-05-31,holiday,May half term\n"
    b"2024-09-04,2024-12-20,term,Autumn term 2024\n"
)


def test_the_yearly_purge_keeps_the_calendar_and_device_kinds_in_force(
    services: Services, clock: FakeClock
) -> None:
    """The school's calendar and its own kinds of device are the details of the newest
    ``calendar_set`` and ``device_kinds_set`` events. Set once at the start (2022) and not
    changed since, the first yearly purge removed them with the rest of 2022: the tablets
    lost "charged and ready", every weekday was a school day (the half term included), and
    nothing said so; verify said "Register intact"."""
    clock.set(EARLY)
    make_school(services)
    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")
    services.school.import_calendar("calendar.csv", CALENDAR, admin_code="CHEAD")
    record_shift(services, rounds=1)
    kinds_before = services.school.device_kinds()
    calendar_before = services.school.calendar()
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")

    report = services.backup.purge(date(2023, 1, 1), "CHEAD")

    assert report.removed
    assert services.school.device_kinds() == kinds_before
    tablet = services.school.device_kinds().get("tablet")
    assert tablet is not None and tablet.needs_charged
    assert services.school.calendar().entries == calendar_before.entries
    assert not services.school.calendar().is_school_day(date(2024, 5, 28))  # half term
    after = services.integrity.verify(save=False)
    assert after.ok, said(after)


# --- a calendar or device kinds dated ahead stays in force over the office's ----------------


def _forge_dated_ahead(
    db_url: str,
    kind: str,
    details: dict[str, Any],
    *,
    at: datetime = FAR_AHEAD,
    category: str = "admin",
    **columns: Any,
) -> int:
    """The kiosks' login (or a shell on the file) appends an event of ``kind``, chained but
    without the school key (no MAC), dated ``at`` (the year 2999). Its id."""
    with meddle(db_url) as db:
        last = db.execute("SELECT max(id) FROM events")[0][0]
        head = db.event(last)
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        row.update(
            id=head["id"] + 1,
            occurred_at=at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if is_sqlite(db_url)
            else at,
            kind=kind,
            category=category,
            kiosk="staffroom-2",
            details=details,
            prev_hash=head["hash"],
            **columns,
        )
        row["hash"] = hash_of(row)
        marks = ", ".join(["%s"] * len(CHAIN_COLUMNS))
        db.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )
    return int(row["id"])


CLOSED_FOR_EVER = {
    "entries": [{"start": "2000-01-01", "end": "2999-12-31", "kind": "holiday", "name": "Closed"}]
}


def test_a_calendar_dated_ahead_does_not_outlive_the_calendar_the_office_imports(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The calendar in force was the newest ``calendar_set`` by its date, not by its place in
    the chain: one appended without the school key and dated 2999 (every day a holiday) was
    in force for good. The office imported the school's calendar again and was told
    "imported"; every kiosk still said no day was a school day, and nothing the office could
    do (a correction voids nothing here) took it away. Now the newest recorded is in force."""
    clock.set(LATER)
    make_school(services)
    services.school.import_calendar("calendar.csv", CALENDAR, admin_code="CHEAD")
    forged = _forge_dated_ahead(db_url, "calendar_set", CLOSED_FOR_EVER)
    assert not services.school.calendar().is_school_day(date(2024, 6, 10))

    again = services.school.import_calendar(
        "calendar.csv", CALENDAR, admin_code="CHEAD", replace=True
    )

    assert again.imported
    assert services.school.calendar().is_school_day(date(2024, 6, 10))
    report = services.integrity.verify(save=False)
    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)


def test_device_kinds_dated_ahead_do_not_outlive_the_kinds_the_office_sets(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """As the calendar: device kinds dated 2999 without the key hid every kind the office
    added after them ("Device kind added", and no such kind at the kiosk)."""
    clock.set(LATER)
    make_school(services)
    forged = _forge_dated_ahead(db_url, "device_kinds_set", {"kinds": []})

    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")

    tablet = services.school.device_kinds().get("tablet")
    assert tablet is not None and tablet.needs_charged
    report = services.integrity.verify(save=False)
    assert f"event {forged} has no MAC" in said(report)


# --- a list event's details stored as a BLOB ------------------------------------------------


def test_a_role_removal_stored_as_binary_data_does_not_hide_the_role_put_back(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """The office takes Ben's breakfast-club lead role away (a list change, recorded). A shell
    on the file, without the key, casts that event's details to a BLOB (same bytes: its hash
    and MAC still hold) and puts the role back in ``staff_roles``; Ben collects a colleague's
    phone. Verify read only text details, skipped the removal, and replayed Ben as the lead
    still: "Register intact". Verify now reads the BLOB as the kiosk does and names it, and
    the collection by someone the register had taken the role from."""
    services = sqlite_services
    shift_school(services)
    services.phones.deposit("ASMITH")
    services.people.import_staff_csv(b"code,name,roles\nBJONES,Ben Jones,\n", admin_code="CHEAD")
    services.close()
    with shell_file(services) as conn:
        removal = conn.execute(
            "SELECT max(id) FROM events WHERE kind = 'reference_changed'"
        ).fetchone()[0]
        without_triggers(
            conn,
            f"UPDATE events SET details = CAST(details AS BLOB) WHERE id = {removal}",
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'breakfast_club_lead' "
            "FROM staff WHERE code = 'BJONES'",
        )
    services = started_again(services, clock)
    try:
        collected = services.phones.collect("ASMITH", recorded_by="BJONES").event_id
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    assert not report.ok, said(report)
    assert f"event {removal} has its details stored as binary data" in said(report)
    assert f"event {collected} (phone_collected) recorded by Ben Jones (BJONES)" in said(report)


def test_guard_details_as_text_are_not_named_as_binary(
    sqlite_services: Services, clock: FakeClock
) -> None:
    services = sqlite_services
    shift_school(services)
    report = services.integrity.verify(save=False)
    assert report.ok, said(report)
    assert "binary data" not in said(report)


# --- device kinds written without the key, carried into the office's next change -----------


def test_device_kinds_written_without_the_key_are_not_carried_into_the_offices_change(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login (or a shell on the file), without the key, appends device kinds in
    which work phones need no "charged and ready" and laptops no line manager for regular
    use. Verify names that event; but the office's next kind (a tablet) was built on the
    kinds in force, the forged ones, and recorded them again under the key, by the admin:
    the forged rules stayed in force for good, in an event verify takes as the admin's. The
    office's change is now built on the kinds the kiosk recorded."""
    clock.set(LATER)
    make_school(services)
    services.school.set_device_kind("camera", "Camera", needs_charged=True, admin_code="CHEAD")
    forged = {
        "kinds": [
            {"code": "laptop", "label": "Laptop", "needs_charged": False, "regular_use": False},
            {"code": "work_phone", "label": "Work phone", "needs_charged": False},
        ]
    }
    forged_id = _forge_dated_ahead(db_url, "device_kinds_set", forged, at=LATER)

    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")

    kinds = services.school.device_kinds()
    work_phone, laptop = kinds.get("work_phone"), kinds.get("laptop")
    assert work_phone is not None and work_phone.needs_charged
    assert laptop is not None and laptop.regular_use
    assert kinds.get("camera") is not None and kinds.get("tablet") is not None
    report = services.integrity.verify(save=False)
    assert f"event {forged_id} has no MAC" in said(report)


# --- a list change written without the key, carried into the office's next change ----------


def test_a_list_change_without_the_key_carried_into_an_admins_change_is_named(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell on the file (on PostgreSQL, the kiosks' login: the database applies it), no
    key, appends a list change giving Ben the SLT and breakfast-club lead roles. Verify names
    that event as written by hand; the office then imports the roster with e-mail addresses
    (no roles column: each person's roles are kept), and the import recorded Ben's row,
    roles and all, under the key, as Carol's change. Verify named only the hand-written
    event, not that an admin's event now gave Ben the roles; it names both now."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        staff_id = conn.execute("SELECT id FROM staff WHERE code = 'BJONES'").fetchone()[0]
        recorded = [
            json.loads(d)
            for (d,) in conn.execute(
                "SELECT details FROM events WHERE kind = 'reference_changed' ORDER BY id"
            )
        ]
    row = [d for d in recorded if d["table"] == "staff" and d["key"] == staff_id][-1]["row"]
    forged = _forge_dated_ahead(
        services.ctx.engine.url.render_as_string(hide_password=False),
        "reference_changed",
        {"table": "staff", "key": staff_id, "row": row | {"roles": ["breakfast_club_lead", "slt"]}},
        at=clock(),
        category="reference",
    )
    assert "slt" in services.people.status("BJONES").staff.roles

    # (Since round 18's review the kiosk builds only on list events it recorded: the import
    # is refused, as for a row changed in the table, and records nothing.)
    with pytest.raises(RuleViolation, match=r"BJONES differs from what the register recorded"):
        services.people.import_staff_csv(
            b"code,name,email\nBJONES,Ben Jones,ben@school.example\n", admin_code="CHEAD"
        )
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)
    assert "wrote without the school key" not in said(report)  # nothing carried it


def test_guard_honest_list_changes_are_not_said_to_carry_anything(
    sqlite_services: Services, clock: FakeClock
) -> None:
    services = sqlite_services
    shift_school(services)
    services.people.import_staff_csv(
        b"code,name,email,roles\nBJONES,Ben Jones,ben@school.example,slt\n", admin_code="CHEAD"
    )
    report = services.integrity.verify(save=False)
    assert report.ok, said(report)


# --- a deposit written without the key, moved by the breakfast-club lead --------------------


def test_a_phone_moved_on_from_a_deposit_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login (or a shell on the file), no key, appends Alice's phone deposited in
    the breakfast-club drawer. At the end of breakfast club Ben moves every phone in the
    drawer to the staff room: the kiosk recorded "Alice's phone moved", under the key, by
    Ben, and verify named the hand-written deposit alone: the register then said, in an
    event verify took as the kiosk's, that her phone went to the staff room. Verify names the
    move too."""
    shift_school(services)
    with meddle(db_url) as db:
        alice = db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0]
        drawer = db.execute("SELECT id FROM stores WHERE code = 'DRAWER'")[0][0]
    forged = _append_unsealed(
        db_url, "phone_deposited", "phone", at=clock(), staff_id=alice, store_id=drawer
    )
    moved = services.phones.move_all("BJONES")

    report = services.integrity.verify(save=False)

    assert [m.staff.code for m in moved] == ["ASMITH"]
    assert f"event {forged} has no MAC" in said(report)
    assert f"event {moved[0].event_id} (phone_moved) follows event {forged}" in said(report)


def test_guard_voiding_an_event_without_the_key_is_not_named_with_it(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    with meddle(db_url) as db:
        alice = db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0]
        drawer = db.execute("SELECT id FROM stores WHERE code = 'DRAWER'")[0][0]
    forged = _append_unsealed(
        db_url, "phone_deposited", "phone", at=clock(), staff_id=alice, store_id=drawer
    )
    services.register.void(forged, reason="not recorded by the kiosk", admin_code="CHEAD")

    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "on top of an event it did not record" not in said(report)


def _append_unsealed(db_url: str, kind: str, category: str, *, at: datetime, **columns: Any) -> int:
    """An event chained after the head without the school key (no MAC). Its id."""
    with meddle(db_url) as db:
        head = db.event(db.execute("SELECT max(id) FROM events")[0][0])
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        row.update(
            id=head["id"] + 1,
            occurred_at=at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if is_sqlite(db_url)
            else at,
            kind=kind,
            category=category,
            kiosk="staffroom-2",
            details={},
            prev_hash=head["hash"],
            **columns,
        )
        row["hash"] = hash_of(row)
        marks = ", ".join(["%s"] * len(CHAIN_COLUMNS))
        db.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )
    return int(row["id"])
