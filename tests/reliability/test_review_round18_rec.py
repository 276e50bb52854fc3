"""Round 18's review of the red team's fixes on the record: one rule for "recorded by the
kiosk" (its hash and MAC the school key's, or the old format before the first event with a
MAC), and the ways round the round's fixes the review found.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, timedelta
from typing import Any

import pytest

from kiosk.domain.chain import GENESIS_HASH, hash_of
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
from tests.reliability.test_attacks_round18_rec import (
    CALENDAR,
    CLOSED_FOR_EVER,
    EARLY,
    LATER,
    _append_unsealed,
    _forge_dated_ahead,
)
from tests.reliability.test_tamper import record_shift
from tests.school import make_ready, make_school

TABLET_KINDS = {
    "kinds": [
        {"code": "laptop", "label": "Laptop", "needs_charged": False, "regular_use": True},
        {"code": "work_phone", "label": "Work phone", "needs_charged": True, "regular_use": False},
        {"code": "tablet", "label": "iPad", "needs_charged": True, "regular_use": False},
    ]
}


def _old_format_register(services: Services, clock: FakeClock, kind: str, details: Any) -> None:
    """A school's register from before revision 0005: its first event, ``kind`` with
    ``details``, in the old format (no MAC), as the kiosk then recorded it."""
    services.close()
    with shell_file(services) as conn:
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        row.update(
            id=1,
            occurred_at=clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            kind=kind,
            category="admin",
            kiosk="staffroom-1",
            details=details,
            prev_hash=GENESIS_HASH,
        )
        row["hash"] = hash_of(row)
        conn.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(CHAIN_COLUMNS))})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )


# --- a school's own kinds of device set before it upgraded ----------------------------------


def test_adding_a_kind_keeps_the_kinds_a_school_set_before_it_upgraded(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A school set up "tablet (charged and ready)" before revision 0005 (events without a
    MAC). The office's next kind was built only on kinds whose MAC is the school key's, so
    on the built-in kinds: the tablet kind disappeared, and verify said "Register intact".
    An event in the old format before the first with a MAC is the kiosk's, as verify takes
    it."""
    services = sqlite_services
    _old_format_register(services, clock, "device_kinds_set", TABLET_KINDS)
    services = started_again(services, clock)
    try:
        make_school(services)
        services.school.set_device_kind("camera", "Camera", needs_charged=True, admin_code="CHEAD")
        kinds = services.school.device_kinds()
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    tablet = kinds.get("tablet")
    assert tablet is not None and tablet.needs_charged and tablet.label == "iPad"
    assert kinds.get("camera") is not None
    assert report.ok, said(report)


# --- a collection or a return voided by a correction written without the key ---------------


def test_a_phone_moved_after_a_collection_voided_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice deposits her phone in the breakfast-club drawer and collects it. The kiosks'
    login (or a shell on the file), no key, appends a correction voiding her collection:
    the kiosk sees her phone back in the drawer, and Ben's end of breakfast club moved it to
    the staff room, under the key in his name ("Alice's phone moved"). Verify named the
    correction only; it names the move too."""
    shift_school(services)
    services.phones.deposit("ASMITH", "DRAWER")
    collected = services.phones.collect("ASMITH").event_id
    forged = _append_unsealed(
        db_url, "correction", "correction", at=clock(), target_event_id=collected
    )

    moved = services.phones.move_all("BJONES")
    report = services.integrity.verify(save=False)

    assert [m.staff.code for m in moved] == ["ASMITH"]
    assert f"event {forged} has no MAC" in said(report)
    assert f"event {moved[0].event_id} (phone_moved) follows event {forged}" in said(report)


def test_a_sign_out_extended_after_its_return_voided_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice signs out LAP-001 and returns it. A correction without the key voids the
    return: the laptop is off site again on the kiosk, and Alice keeping it longer was
    recorded under the key, as hers. Verify names the extension with the correction."""
    make_school(services)
    make_ready(services, "ASMITH")
    signed_out = (
        services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
        .receipts[0]
        .event_id
    )
    returned = services.devices.return_device("LAP-001").event_id
    forged = _append_unsealed(
        db_url, "correction", "correction", at=clock(), target_event_id=returned
    )

    extended = services.devices.extend(
        "LAP-001", clock() + timedelta(days=30), reason="Long project", staff_code="ASMITH"
    ).event_id
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert (
        f"event {extended} (return_extended) extends event {signed_out}, out again only "
        f"through event {forged}"
    ) in said(report)


def test_guard_a_collection_voided_by_the_office_is_not_named(
    services: Services, clock: FakeClock
) -> None:
    shift_school(services)
    services.phones.deposit("ASMITH", "DRAWER")
    collected = services.phones.collect("ASMITH").event_id
    services.register.void(collected, reason="scanned by mistake", admin_code="CHEAD")
    services.phones.move_all("BJONES")
    report = services.integrity.verify(save=False)
    assert report.ok, said(report)


# --- a list change stored as binary data in another encoding ------------------------------


def _role_removal_as_blob(services: Services, stored: Callable[[str], bytes]) -> int:
    """The office takes Ben's breakfast-club lead role away; a shell on the file, no key,
    stores that event's details as the bytes ``stored`` makes of its JSON text and puts the
    role back in ``staff_roles``. The event's id (the kiosk is closed)."""
    shift_school(services)
    services.phones.deposit("ASMITH")
    services.people.import_staff_csv(b"code,name,roles\nBJONES,Ben Jones,\n", admin_code="CHEAD")
    services.close()
    with shell_file(services) as conn:
        removal, text = conn.execute(
            "SELECT id, details FROM events WHERE kind = 'reference_changed' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        without_triggers(
            conn,
            f"UPDATE events SET details = X'{stored(text).hex()}' WHERE id = {removal}",
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'breakfast_club_lead' "
            "FROM staff WHERE code = 'BJONES'",
        )
    return int(removal)


def test_a_role_removal_stored_as_utf16_is_read_as_the_kiosk_reads_it(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """As round 18's BLOB, in UTF-16 (with its BOM): the kiosk's JSON reader takes those
    bytes, verify decoded them as UTF-8, skipped the removal and replayed Ben as the lead
    still; his collection of Alice's phone was not named."""
    removal = _role_removal_as_blob(sqlite_services, lambda text: text.encode("utf-16"))
    services = started_again(sqlite_services, clock)
    try:
        collected = services.phones.collect("ASMITH", recorded_by="BJONES").event_id
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    assert f"event {removal} has its details stored as binary data" in said(report)
    assert f"event {collected} (phone_collected) recorded by Ben Jones (BJONES)" in said(report)


def test_a_list_change_stored_as_bytes_no_reader_takes_says_what_is_not_ruled_out(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Bytes that are no JSON in any encoding: verify names the event, and says it cannot
    rule out a role used after it (the lists are not replayed past it)."""
    removal = _role_removal_as_blob(sqlite_services, lambda text: b"\xff\x00" + text.encode())
    services = started_again(sqlite_services, clock)
    try:
        services.phones.collect("ASMITH", recorded_by="BJONES")
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    assert f"event {removal} has its details stored as binary data" in said(report)
    assert f"event {removal} is a list change whose details" in said(report)
    assert "verify cannot rule out an event after it recorded by someone without" in said(report)


# --- the purge carries over the calendar the kiosk recorded -------------------------------


def test_the_purge_carries_over_the_calendar_the_kiosk_recorded_not_a_keyless_one(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The school imports its calendar in 2022. The kiosks' login (or a shell), no key,
    appends a calendar after the purge point; the purge looked only at the newest calendar
    (the forged one, kept) and removed the school's, carrying nothing over: once the office
    dealt with the forged one, the school had no calendar. The purge now carries over the
    newest the kiosk recorded, which is in force again after it."""
    clock.set(EARLY)
    make_school(services)
    services.school.import_calendar("calendar.csv", CALENDAR, admin_code="CHEAD")
    calendar = services.school.calendar()
    record_shift(services, rounds=1)
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    forged = _forge_dated_ahead(db_url, "calendar_set", CLOSED_FOR_EVER, at=LATER)

    services.backup.purge(date(2023, 1, 1), "CHEAD")

    assert services.school.calendar().entries == calendar.entries
    report = services.integrity.verify(save=False)
    assert f"event {forged} has no MAC" in said(report)


# --- the lists a change starts from: only what the kiosk recorded -------------------------


def test_an_office_change_is_not_built_on_a_list_change_without_the_key(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """A list change appended without the key gives Ben the SLT role (the database applies
    it to the list). The kiosk took the lists from every list event, so the office's next
    change of Ben's row (a roster import without a roles column keeps the roles) passed its
    "changed in the database" check and recorded the role again, under the key, as the
    admin's. Only list events the kiosk recorded count now: the change is refused in words,
    and nothing is recorded."""
    shift_school(services)
    with meddle(db_url) as db:
        ben = db.execute("SELECT id FROM staff WHERE code = 'BJONES'")[0][0]
        rows = [
            json.loads(d) if isinstance(d, str) else d
            for (d,) in db.execute(
                "SELECT details FROM events WHERE kind = 'reference_changed' ORDER BY id"
            )
        ]
    row = [d for d in rows if d["table"] == "staff" and d["key"] == ben][-1]["row"]
    _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": ben, "row": row | {"roles": ["breakfast_club_lead", "slt"]}},
        at=clock(),
        category="reference",
    )
    if not is_sqlite(db_url):  # (the database applies it, as from the kiosks' login)
        with meddle(db_url) as db:
            db.execute(f"INSERT INTO staff_roles (staff_id, role) VALUES ({ben}, 'slt')")
    assert "slt" in services.people.status("BJONES").staff.roles
    before = services.integrity.verify(save=False)

    with pytest.raises(RuleViolation, match=r"BJONES differs from what the register recorded"):
        services.people.import_staff_csv(
            b"code,name,email\nBJONES,Ben Jones,ben@school.example\n", admin_code="CHEAD"
        )

    after = services.integrity.verify(save=False)
    assert after.events_checked == before.events_checked  # nothing recorded


# --- a name twice in stored JSON -----------------------------------------------------------


def test_a_list_change_holding_a_name_twice_is_named(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A shell on the file, no key, writes the SLT role into the row of a list change as a
    second ``roles`` before the one recorded: Python's reader takes the last copy (the hash
    still recomputed, "Register intact"), SQLite's JSON functions, which the purge and the
    list triggers use, the first. Such details are no longer read, and the event is named."""
    services = sqlite_services
    shift_school(services)
    services.close()
    with shell_file(services) as conn:
        change, stored = conn.execute(
            "SELECT id, details FROM events WHERE kind = 'reference_changed' "
            "AND json_extract(details, '$.table') = 'staff' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        twice = re.sub(r'"row":\s*\{', '"row": {"roles": ["slt"], ', stored, count=1)
        assert twice != stored
        without_triggers(conn, f"UPDATE events SET details = '{twice}' WHERE id = {change}")
    services = started_again(services, clock)
    try:
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    assert not report.ok
    assert f"event {change} cannot be read: its details hold the name 'roles' twice" in said(report)
