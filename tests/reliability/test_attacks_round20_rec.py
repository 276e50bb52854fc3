"""Round 20's red team on the record's trust: a shell on the SQLite file or the kiosks'
PostgreSQL login, without the school key or the admin PIN.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.db import engine as db_engine
from kiosk.db.engine import make_engine, on_network_share
from kiosk.domain.chain import hash_of
from kiosk.domain.errors import KioskError
from kiosk.services import school_events
from kiosk.services.app import Services
from kiosk.services.reference import table_rows
from tests.conftest import FakeClock
from tests.reliability.helpers import CHAIN_COLUMNS, meddle
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_attacks_round18_rec import _forge_dated_ahead
from tests.reliability.test_attacks_round19_rec import _change_unsealed, _recorded_row, _staff_id


def _slip_in_below(db_url: str, kind: str, category: str, *, at: datetime, **columns: Any) -> int:
    """A shell on the SQLite file writes an event without a MAC at id 0, below the first
    event, its hash right for what it holds and its link the first event's own."""
    with meddle(db_url) as db:
        first = db.event(db.execute("SELECT min(id) FROM events")[0][0])
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        row.update(
            id=0,
            occurred_at=at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            kind=kind,
            category=category,
            kiosk="test-kiosk",
            prev_hash=first["prev_hash"],
        )
        row.update({"details": {}} | columns)
        row["hash"] = hash_of(row)
        marks = ", ".join(["%s"] * len(CHAIN_COLUMNS))
        db.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )
    return 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_event_slipped_in_below_the_first_is_not_exported_as_the_kiosks(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # A deposit written for Alice at id 0, without a MAC, below the register's first event:
    # the services took every event without a MAC before the first with one as written by
    # the kiosk before revision 0005, and her subject access export said "yes".
    shift_school(services)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    with services.ctx.engine.connect() as conn:
        alice = table_rows(conn, "staff")
    alice_id = next(k for k, row in alice.items() if row.get("code") == "ASMITH")
    forged = _slip_in_below(db_url, "phone_deposited", "phone", at=clock(), staff_id=alice_id)

    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    marks = {e["event_id"]: e["recorded_by_kiosk"] for e in export["events"]}
    assert marks[forged].startswith("NO: not recorded by the kiosk"), marks
    assert [m for i, m in marks.items() if i != forged] == ["yes"] * (len(marks) - 1), marks


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_list_row_slipped_in_below_the_first_event_is_named_by_put_back(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Mallory added to the staff list by a shell, with a list change for her at id 0: the
    # office's put-back took the change as the register's record and left her unnamed.
    shift_school(services)
    with meddle(db_url) as db:
        db.execute(
            "INSERT INTO staff (id, code, name, created_at) "
            "VALUES (900, 'MALLORY', 'Mallory Grey', '2026-03-10 08:00:00.000000')"
        )
    with services.ctx.engine.connect() as conn:
        row = table_rows(conn, "staff", key=900)[900]
    _slip_in_below(
        db_url,
        "reference_changed",
        "reference",
        at=clock(),
        details={"table": "staff", "key": 900, "row": row},
    )
    said = services.backup.put_back_lists("CHEAD").summary
    assert "added in the database, never recorded" in said, said


def test_a_subject_access_export_of_a_code_swapped_in_the_database_is_refused(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The kiosks' login (or a shell on the file) swapped Alice's and Ben's codes and names
    # on the staff list, without the key. The office's export for ASMITH, Alice's subject
    # access request, went out with Ben's phones and laptops under her name and code.
    shift_school(services)
    services.phones.deposit("BJONES")
    alice, ben = _staff_id(db_url, "ASMITH"), _staff_id(db_url, "BJONES")
    alice_row, ben_row = _recorded_row(db_url, "staff", alice), _recorded_row(db_url, "staff", ben)
    for key, row in (
        (alice, alice_row | {"code": "XSWAP"}),
        (ben, ben_row | {"code": "ASMITH", "name": "Alice Smith"}),
        (alice, alice_row | {"code": "BJONES", "name": "Ben Jones"}),
    ):
        _change_unsealed(db_url, clock, "staff", key, row)
        with meddle(db_url) as db:
            db.execute("UPDATE staff SET name = %s WHERE id = %s", (row["name"], key))
    ben_events = {e["event_id"] for e in _events_of(db_url, ben)}

    with pytest.raises(KioskError) as refused:
        services.backup.export_staff("ASMITH", "json", admin_code="CHEAD")
    message = str(refused.value)
    assert message.startswith("Nothing was exported"), message
    assert "kiosk lists put-back" in message, message
    assert "BJONES" in message, message  # whom the register records under that row

    # Put back, the export for ASMITH is Alice's own record, and none of Ben's.
    services.backup.put_back_lists("CHEAD")
    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    assert export["staff"]["name"] == "Alice Smith"
    assert ben_events.isdisjoint(e["event_id"] for e in export["events"])


def _events_of(db_url: str, staff_id: int) -> list[dict[str, Any]]:
    with meddle(db_url) as db:
        return [
            {"event_id": i}
            for (i,) in db.execute("SELECT id FROM events WHERE staff_id = %s", (staff_id,))
        ]


# --- a register on a share the round-19 list did not know ------------------------------------

SHARES = (
    "22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "50 22 0:45 / /run/user/1000/gvfs rw,nosuid,nodev,relatime shared:300 - fuse.gvfsd-fuse "
    "gvfsd-fuse rw,user_id=1000,group_id=1000\n"
    "51 22 0:46 / /media/sf_kiosk rw,nodev,relatime - vboxsf kiosk rw\n"
    "52 22 0:47 / /mnt/office rw,relatime - fuse office@files.school.example:/srv/kiosk rw\n"
    "53 22 0:48 / /mnt/win rw,relatime - fuse //files/staff rw\n"
    "54 22 0:49 / /mnt/usb rw,relatime - fuseblk /dev/sdb1 rw\n"
    "55 22 0:50 / /var/lib/docker/x rw,relatime - overlay overlay rw,lowerdir=/a:/b\n"
    "56 22 0:51 / /srv/pool rw,relatime - zfs rpool/kiosk rw\n"
    "57 22 0:52 / /mnt/odd rw,relatime - fuse.x\x1b]0;pwned\x07 bob@nas:\x1b[2J/k rw\n"
)


@pytest.mark.parametrize(
    ("path", "share"),
    [
        # GNOME's Files opening smb://files/staff: the path a member of staff copies.
        ("/run/user/1000/gvfs/smb-share:server=files,share=staff/kiosk.sqlite3", "fuse.gvfsd-fuse"),
        ("/media/sf_kiosk/kiosk.sqlite3", "vboxsf"),  # a VirtualBox shared folder
        # A FUSE helper the list does not name, mounting another machine's folder.
        ("/mnt/office/kiosk.sqlite3", "fuse from office@files.school.example:/srv/kiosk"),
        ("/mnt/win/kiosk.sqlite3", "fuse from //files/staff"),
        # A FUSE mount's type and source are its user's to name: shown as text.
        ("/mnt/odd/kiosk.sqlite3", "fuse.x\ufffd]0;pwned\ufffd from bob@nas:\ufffd[2J/k"),
        ("/mnt/usb/kiosk.sqlite3", None),  # a USB disk is this machine's
        ("/var/lib/docker/x/kiosk.sqlite3", None),
        ("/srv/pool/kiosk.sqlite3", None),
        ("/var/lib/kiosk/kiosk.sqlite3", None),
    ],
)
def test_a_register_on_a_share_of_any_kind_is_on_a_share(
    path: str, share: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Round 19 refused writes on NFS, SMB, sshfs ... by the file system's type: a share
    # opened in the desktop's file manager (gvfs), a virtual machine's shared folder, or one
    # mounted by a FUSE helper it did not list was taken as this machine's own disk, and two
    # kiosks writing the file could each write over the other's events.
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(SHARES, encoding="utf-8")
    monkeypatch.setattr(db_engine, "MOUNTINFO", str(mountinfo))
    db_engine._FILE_SYSTEMS.clear()
    try:
        engine = make_engine(f"sqlite:///{path}")
        assert on_network_share(engine) == share
    finally:
        db_engine._FILE_SYSTEMS.clear()


# --- a void written without the key, in the person's export --------------------------------


def test_a_void_without_the_key_is_not_exported_as_the_kiosks(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The kiosks' login voided Alice's deposit with a correction about no one (staff_id
    # left empty), then a second one on top of the office's own void of her collection.
    # Her export said "voided_by_event" of the forged void as of any other, the deposit
    # "recorded_by_kiosk: yes", and listed the collection twice (once per void).
    shift_school(services)
    deposit = services.phones.deposit("ASMITH").event_id
    collect = services.phones.collect("ASMITH").event_id
    services.register.void(collect, reason="scanned twice", admin_code="CHEAD")
    forged = [
        _forge_dated_ahead(
            db_url,
            "correction",
            {"reason": "mistake", "voided_kind": kind},
            at=clock(),
            category="correction",
            target_event_id=target,
        )
        for target, kind in ((deposit, "phone_deposited"), (collect, "phone_collected"))
    ]

    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    rows = [e for e in export["events"] if e["event_id"] in (deposit, collect)]
    assert [e["event_id"] for e in rows] == [deposit, collect], rows
    by_id = {e["event_id"]: e for e in rows}
    assert str(by_id[deposit]["voided_by_event"]).startswith(
        f"{forged[0]}: NOT recorded by the kiosk"
    ), by_id[deposit]
    assert by_id[collect]["voided_by_event"] not in (None, forged[1]), by_id[collect]
    assert isinstance(by_id[collect]["voided_by_event"], int), by_id[collect]
    # The office's register of the day lists the collection once too.
    day = services.register.day(clock().date())
    listed = [r.event_id for r in day.rows if r.event_id in (deposit, collect)]
    assert listed.count(collect) == 1 and day.total == len(day.rows), listed


# --- a correction with no details, in the office's register ----------------------------


def test_a_void_written_with_no_details_shows_the_event_voided_in_the_register(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # A correction voiding Alice's deposit, written by the kiosks' login with no details:
    # every screen took the phone as out of the store, while the office's register showed
    # the deposit in force (it read "voided" from the correction's details).
    shift_school(services)
    deposit = services.phones.deposit("ASMITH").event_id
    forged = _forge_dated_ahead(
        db_url, "correction", {}, at=clock(), category="correction", target_event_id=deposit
    )
    with meddle(db_url) as db:
        db.execute("UPDATE events SET details = 'null' WHERE id = %s", (forged,))

    assert services.people.status("ASMITH").phone is None  # the kiosk takes it as void
    rows = {r.event_id: r for r in services.register.day(clock().date()).rows}
    assert rows[deposit].voided, rows[deposit]


# --- a pile of keyless events over the school's own kinds of device --------------------------


def test_a_pile_of_keyless_device_kinds_does_not_make_the_office_drop_the_schools_own(
    services: Services, clock: FakeClock, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The school set up "iPad (charged and ready)". The kiosks' login appended more
    # "device kinds" events without the key than the office's change looks through (500;
    # 3 here): the change found none the kiosk recorded and built on the built-in kinds,
    # and the office adding "Camera" recorded, under the key, the iPad kind removed. Then
    # (round 20) it refused, and the office could add no kind, nor purge, for good. Events
    # without a MAC after the first with one are never the kiosk's: passed over, the pile
    # hides nothing, and the change builds on the school's own.
    monkeypatch.setattr(school_events, "RECORDED_CANDIDATES", 3)
    shift_school(services)
    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")
    for _ in range(3):
        _forge_dated_ahead(db_url, "device_kinds_set", {"kinds": []}, at=clock(), category="admin")

    kinds = services.school.set_device_kind("camera", "Camera", admin_code="CHEAD")
    assert {"tablet", "camera"} <= {k.code for k in kinds.kinds}, kinds
    with meddle(db_url) as db:
        [(details,)] = db.execute(
            "SELECT details FROM events WHERE kind = 'device_kinds_set' AND mac IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        )
    assert "tablet" in str(details) and "camera" in str(details), details


def test_a_pile_with_macs_not_the_schools_over_the_kinds_is_refused_in_words(
    services: Services, clock: FakeClock, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same pile, each event with a MAC not made with the school key: each is a hash and
    # an HMAC to check, so only the newest 500 (3 here) are looked at. Past them the office's
    # change is refused, saying why, and not built on the built-in kinds.
    monkeypatch.setattr(school_events, "RECORDED_CANDIDATES", 3)
    shift_school(services)
    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")
    for _ in range(3):
        _forge_dated_ahead(
            db_url,
            "device_kinds_set",
            {"kinds": []},
            at=clock(),
            category="admin",
            mac="0" * 64,
        )

    with pytest.raises(KioskError, match="without the school key") as refused:
        services.school.set_device_kind("camera", "Camera", admin_code="CHEAD")
    assert str(refused.value).startswith("Nothing was changed"), str(refused.value)
    assert "any the kiosk recorded is behind them" in str(refused.value)
    # The remedy named is one the register allows: its events cannot be removed.
    assert "restore the latest backup" in str(refused.value)
    assert "remove" not in str(refused.value)
    with meddle(db_url) as db:
        kept = db.execute(
            "SELECT count(*) FROM events WHERE kind = 'device_kinds_set' AND mac IS NOT NULL"
        )[0][0]
    assert kept == 4  # the school's iPad kind and the pile: nothing recorded over them


# --- a policy put back after a rewrite without the key ---------------------------------------


def test_a_policy_put_back_is_not_named_as_a_rewrite_by_the_admin(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # A shell on the file rewrote the published policy ("You agree to pay 500 pounds.")
    # with a list change without the key; the office put the lists back. Verify then named
    # the put-back, recorded by the admin, as a published policy rewritten "(what people
    # acknowledged is no longer what they read)", beside the forgery: the admin who put
    # the school's words back read as the one who changed them.
    shift_school(services)
    with meddle(db_url) as db:
        policy = db.execute("SELECT min(id) FROM policies")[0][0]
    row = _recorded_row(db_url, "policies", policy)
    forged = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "policies", "key": policy, "row": row | {"text": "You agree to pay 500."}},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:
        db.execute("UPDATE policies SET text = 'You agree to pay 500.' WHERE id = %s", (policy,))
    assert services.backup.put_back_lists("CHEAD").put_back

    report = services.integrity.verify(save=False)
    assert f"policy {policy} (event {forged})" in said(report)  # the forgery still named
    assert "1 published polic(ies) rewritten afterwards" in said(report), said(report)
