"""Round 19's red team on the record's trust: a shell on the SQLite file or the kiosks'
PostgreSQL login, without the school key or the admin PIN.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest

from kiosk.domain.chain import text_fingerprint
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_attacks_round18_rec import _forge_dated_ahead
from tests.school import make_ready


def _recorded_row(db_url: str, table: str, key: int) -> dict[str, Any]:
    """The newest row the register recorded for ``table`` ``key``."""
    with meddle(db_url) as db:
        rows = [
            json.loads(d) if isinstance(d, str) else d
            for (d,) in db.execute(
                "SELECT CAST(details AS TEXT) FROM events "
                "WHERE kind = 'reference_changed' ORDER BY id"
            )
        ]
    return dict([d for d in rows if d["table"] == table and d["key"] == key][-1]["row"])


def _staff_id(db_url: str, code: str) -> int:
    with meddle(db_url) as db:
        return int(db.execute("SELECT id FROM staff WHERE code = %s", (code,))[0][0])


def _change_unsealed(
    db_url: str, clock: FakeClock, table: str, key: int, row: dict[str, Any]
) -> int:
    """A list change appended without the school key, and the list changed as the database
    applies it (SQLite's trigger; on PostgreSQL the kiosks' login's event is applied by the
    register's own trigger, which ``meddle`` turns off while it writes)."""
    forged = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": table, "key": key, "row": row},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:
        db.execute(f"UPDATE {table} SET code = %s WHERE id = %s", (row["code"], key))
    return forged


def test_an_event_recorded_under_a_code_only_a_change_without_the_key_gave_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login (or a shell on the file), without the key, appends list changes
    that swap Alice's and Ben's staff codes (the database applies them). Alice scans her
    badge and deposits her phone: the kiosk records it, under the key, for Ben (the row her
    code now finds), with the code it read, ASMITH. Verify named the list changes as
    written without the key, but not the deposit: the code matched the lists as replayed,
    the forged changes included, so the register said Ben's phone was in the store and
    nothing said the event was not his. It names the deposit too."""
    shift_school(services)
    alice, ben = _staff_id(db_url, "ASMITH"), _staff_id(db_url, "BJONES")
    alice_row, ben_row = _recorded_row(db_url, "staff", alice), _recorded_row(db_url, "staff", ben)
    forged = [
        _change_unsealed(db_url, clock, "staff", alice, alice_row | {"code": "XSWAP"}),
        _change_unsealed(db_url, clock, "staff", ben, ben_row | {"code": "ASMITH"}),
        _change_unsealed(db_url, clock, "staff", alice, alice_row | {"code": "BJONES"}),
    ]
    deposit = services.phones.deposit("ASMITH").event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    for event_id in forged:
        assert f"event {event_id} has no MAC" in said(report)
    assert f"event {deposit} (phone_deposited) is recorded for Ben Jones" in said(report)
    assert "written without the school key" in said(report)


def test_an_event_recorded_by_a_role_only_a_change_without_the_key_gave_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The same with a role: a list change without the key makes Esha breakfast-club lead,
    she logs Alice's phone into the drawer (recorded under the key, by her), and a second
    change takes the role away. Verify named the two changes, not the event they let her
    record: the replay, forged changes included, gave her the role then."""
    shift_school(services)
    esha = _staff_id(db_url, "EPATEL")
    row = _recorded_row(db_url, "staff", esha)
    given = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": esha, "row": row | {"roles": ["breakfast_club_lead"]}},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:
        db.execute(
            "INSERT INTO staff_roles (staff_id, role) SELECT %s, 'breakfast_club_lead' "
            "WHERE NOT EXISTS (SELECT 1 FROM staff_roles WHERE staff_id = %s "
            "AND role = 'breakfast_club_lead')",
            (esha, esha),
        )
    logged = services.phones.deposit("ASMITH", "DRAWER", recorded_by="EPATEL").event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {given} has no MAC" in said(report)
    assert (
        f"event {logged} (phone_deposited) recorded by Esha Patel (EPATEL), who was not a "
        f"breakfast club lead or admin then (the list changed by event {given}"
    ) in said(report), said(report)


def test_guard_events_on_rows_the_kiosk_recorded_again_are_not_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Once the office records the row again (under the key), events on it are the kiosk's
    as ever: only the list change without the key is named."""
    shift_school(services)
    ben = _staff_id(db_url, "BJONES")
    row = _recorded_row(db_url, "staff", ben)
    forged = _change_unsealed(db_url, clock, "staff", ben, row | {"code": "BJ2"})
    with meddle(db_url) as db:  # the row put back as the kiosk recorded it,
        db.execute("UPDATE staff SET code = 'BJONES' WHERE id = %s", (ben,))
    services.people.import_staff_csv(  # and the office records it again
        b"code,name,email\nBJONES,Ben Jones,ben@school.example\n", admin_code="CHEAD"
    )
    services.phones.deposit("BJONES")
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "as a list change it did not record" not in said(report)


def test_an_agreement_to_a_policy_only_a_change_without_the_key_published_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login (or a shell on the file), without the key, publishes a new version
    of the school's policy with words the office never wrote (the database applies it: new
    policies are the kiosk's to record). The kiosk asks Alice to agree to it, and records
    her agreement under the key. Verify named the publication only: the agreement, checked
    against the policies as replayed, forged one included, read as Alice's agreement to the
    school's policy."""
    shift_school(services)
    with meddle(db_url) as db:
        policy_id = int(db.execute("SELECT max(id) FROM policies")[0][0]) + 1
        title = str(db.execute("SELECT title FROM policies ORDER BY id LIMIT 1")[0][0])
    words = "Staff agree to pay 500 pounds for every phone left in the store overnight."
    row = {
        "title": title,
        "version": "2027",
        "text": words,
        "sha256": text_fingerprint(words),
        "required": True,
        "published_at": clock().astimezone(UTC).isoformat(timespec="microseconds"),
    }
    forged = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "policies", "key": policy_id, "row": row},
        at=clock(),
        category="reference",
    )
    stored_at = clock().astimezone(UTC)
    with meddle(db_url) as db:
        if not db.execute("SELECT 1 FROM policies WHERE id = %s", (policy_id,)):
            db.execute(
                "INSERT INTO policies (id, title, version, text, sha256, required, "
                "published_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    policy_id,
                    title,
                    "2027",
                    words,
                    row["sha256"],
                    True,
                    stored_at.strftime("%Y-%m-%d %H:%M:%S.%f") if db.sqlite else stored_at,
                ),
            )
    owed = [p for p in services.policies.outstanding("ASMITH") if p.id == policy_id]
    assert owed, "the kiosk asks Alice to agree to the forged version"
    agreed = services.policies.acknowledge("ASMITH", policy_id, owed[0].sha256).event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)
    assert (
        f"event {agreed} (policy_acknowledged) is about policy {policy_id}, "
        f'"{title}" version "2027", as event {forged} wrote it without the school key'
    ) in said(report), said(report)


def test_a_sign_out_under_device_kinds_written_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login (or a shell on the file), without the key, records kinds of device
    in which a work phone need not be charged and ready. The kiosk signs the trip phone out
    to Alice without asking (under the key, no "charged" in it), as those kinds say. Verify
    named the kinds only; the sign-out, recorded under rules the school never set, read as
    any other. It names the sign-out too."""
    shift_school(services)
    make_ready(services, "ASMITH")
    with pytest.raises(KioskError):  # the school's rule: a work phone goes charged
        services.devices.sign_out("ASMITH", ["WP-01"], reason="Trip")
    forged = _forge_dated_ahead(
        db_url,
        "device_kinds_set",
        {"kinds": [{"code": "work_phone", "label": "Work phone", "needs_charged": False}]},
        at=clock(),
    )
    out = services.devices.sign_out("ASMITH", ["WP-01"], reason="Trip").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)
    assert (
        f"event {out} (device_signed_out) was recorded under the kinds of device event "
        f"{forged} wrote without the school key"
    ) in said(report), said(report)


def test_guard_kinds_recorded_again_by_the_office_end_it(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    make_ready(services, "ASMITH")
    forged = _forge_dated_ahead(
        db_url,
        "device_kinds_set",
        {"kinds": [{"code": "work_phone", "label": "Work phone", "needs_charged": False}]},
        at=clock(),
    )
    services.school.set_device_kind("camera", "Camera", needs_charged=True, admin_code="CHEAD")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "wrote without the school key" not in said(report)


def test_a_sign_out_resting_on_agreements_written_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice has agreed to no policy and declared no display-screen training: the kiosk will
    not sign a laptop out to her. The kiosks' login (or a shell on the file), without the
    key, appends her agreement to each policy owed and her training; the kiosk then signs
    LAP-001 out to her, under the key. Verify named the agreements and the training as
    written by hand, but not the sign-out that only they allowed."""
    shift_school(services)
    alice = _staff_id(db_url, "ASMITH")
    forged = [
        _forge_dated_ahead(
            db_url,
            "policy_acknowledged",
            {"version": p.version, "sha256": p.sha256, "title": p.title},
            at=clock(),
            category="policy",
            staff_id=alice,
            policy_id=p.id,
        )
        for p in services.policies.outstanding("ASMITH")
    ]
    forged.append(
        _forge_dated_ahead(
            db_url,
            "vdu_training_declared",
            {"completed_on": clock().date().isoformat()},
            at=clock(),
            category="vdu",
            staff_id=alice,
        )
    )
    out = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    for event_id in forged:
        assert f"event {event_id} has no MAC" in said(report)
    assert f"event {out} (device_signed_out) for Alice Smith (ASMITH) rests on event" in said(
        report
    ), said(report)


def test_guard_an_agreement_recorded_again_by_the_kiosk_ends_it(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    alice = _staff_id(db_url, "ASMITH")
    forged = _forge_dated_ahead(
        db_url,
        "vdu_training_declared",
        {"completed_on": clock().date().isoformat()},
        at=clock(),
        category="vdu",
        staff_id=alice,
    )
    make_ready(services, "ASMITH")  # she agrees, and declares her training, at the kiosk
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports")
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "rests on event" not in said(report)


def test_a_leaver_put_back_on_the_list_without_the_key_is_named_with_what_she_did(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Esha has left: the office retired her. The kiosks' login (or a shell on the file),
    without the key, puts her back on the staff list (her row as before, not retired); her
    badge works again and the kiosk signs LAP-001 out to her, under the key. Verify named
    the list change, not the sign-out: her code and roles were as the kiosk recorded them;
    only her leaving was undone."""
    shift_school(services)
    make_ready(services, "EPATEL")
    services.people.retire_staff("EPATEL", admin_code="CHEAD")
    esha = _staff_id(db_url, "EPATEL")
    row = _recorded_row(db_url, "staff", esha)
    assert row["retired_at"] is not None
    forged = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": esha, "row": row | {"retired_at": None}},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:
        db.execute("UPDATE staff SET retired_at = NULL WHERE id = %s", (esha,))
    out = services.devices.sign_out("EPATEL", ["LAP-001"], reason="Reports").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)
    assert f"event {out} (device_signed_out)" in said(report), said(report)
    assert "retired_at" in said(report)


def test_a_device_signed_out_again_after_a_void_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice signs LAP-001 out. The kiosks' login (or a shell on the file), without the key,
    appends a correction voiding her sign-out: the kiosk sees the laptop in school, and
    signs it out to Esha, under the key, while Alice still has it. Verify named the
    correction only; the second sign-out, which only it allowed, read as any other."""
    shift_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    forged = _forge_dated_ahead(
        db_url,
        "correction",
        {"reason": "mistake", "voided_kind": "device_signed_out"},
        at=clock(),
        category="correction",
        target_event_id=first.event_id,
    )
    again = services.devices.sign_out("EPATEL", ["LAP-001"], reason="Trip").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {forged} has no MAC" in said(report)
    assert f"event {again} (device_signed_out)" in said(report), said(report)


def test_a_device_signed_out_again_after_a_return_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The same with a return appended without the key in place of the correction."""
    shift_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    with meddle(db_url) as db:
        device = int(
            db.execute("SELECT device_id FROM events WHERE id = %s", (first.event_id,))[0][0]
        )
    forged = _forge_dated_ahead(
        db_url,
        "device_returned",
        {},
        at=clock(),
        category="device",
        staff_id=_staff_id(db_url, "ASMITH"),
        device_id=device,
        target_event_id=first.event_id,
    )
    again = services.devices.sign_out("EPATEL", ["LAP-001"], reason="Trip").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert (
        f"event {again} (device_signed_out) signs device {device} out again, in school only "
        f"through event {forged}"
    ) in said(report), said(report)


def test_guard_a_device_back_and_out_again_at_the_kiosk_is_not_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports")
    services.devices.return_device("LAP-001")
    services.devices.sign_out("EPATEL", ["LAP-001"], reason="Trip")
    report = services.integrity.verify(save=False)
    assert report.ok, said(report)


def test_a_device_signed_out_again_after_any_event_on_it_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosk reads a device's place from the newest event on it that no correction
    voids, whatever its kind. The kiosks' login (or a shell on the file), without the key,
    appends an extension of no sign-out on LAP-001 while Alice has it: the kiosk sees the
    laptop in school and signs it out to Esha, under the key. Verify named the extension
    only (round 19 followed returns and voids, not the other kinds)."""
    shift_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    with meddle(db_url) as db:
        device = int(
            db.execute("SELECT device_id FROM events WHERE id = %s", (first.event_id,))[0][0]
        )
    forged = _forge_dated_ahead(
        db_url,
        "return_extended",
        {},
        at=clock(),
        category="device",
        staff_id=_staff_id(db_url, "ASMITH"),
        device_id=device,
        due_at=clock(),
    )
    again = services.devices.sign_out("EPATEL", ["LAP-001"], reason="Trip").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert (
        f"event {again} (device_signed_out) signs device {device} out again, in school only "
        f"through event {forged}"
    ) in said(report), said(report)


def _publish_unsealed(db_url: str, clock: FakeClock, titles: list[str]) -> list[int]:
    """The kiosks' login (or a shell on the file), without the key, publishes a new version
    of each policy titled, not required (the database applies it). The forged events."""
    with meddle(db_url) as db:
        base = int(db.execute("SELECT max(id) FROM policies")[0][0])
    forged = []
    for n, title in enumerate(titles, start=1):
        words = "Nothing to agree to."
        row = {
            "title": title,
            "version": "2027",
            "text": words,
            "sha256": text_fingerprint(words),
            "required": False,
            "published_at": clock().astimezone(UTC).isoformat(timespec="microseconds"),
        }
        forged.append(
            _forge_dated_ahead(
                db_url,
                "reference_changed",
                {"table": "policies", "key": base + n, "row": row},
                at=clock(),
                category="reference",
            )
        )
        stored_at = clock().astimezone(UTC)
        with meddle(db_url) as db:
            if not db.execute("SELECT 1 FROM policies WHERE id = %s", (base + n,)):
                db.execute(
                    "INSERT INTO policies (id, title, version, text, sha256, required, "
                    "published_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        base + n,
                        title,
                        "2027",
                        words,
                        row["sha256"],
                        False,
                        stored_at.strftime("%Y-%m-%d %H:%M:%S.%f") if db.sqlite else stored_at,
                    ),
                )
    return forged


def test_a_sign_out_a_policy_published_without_the_key_let_through_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice has agreed to no policy: the kiosk will not sign a laptop out to her. The
    kiosks' login (or a shell on the file), without the key, publishes a new version of
    each policy, not required (new policies are the kiosk's to record). Nothing is owed
    now, and the kiosk signs LAP-001 out to her, under the key. Verify named the
    publications only: the sign-out is about no policy, and no agreement was forged."""
    shift_school(services)
    owed = services.policies.outstanding("ASMITH")
    assert owed
    forged = _publish_unsealed(db_url, clock, [p.title for p in owed])
    assert not services.policies.outstanding("ASMITH")
    services.policies.declare_vdu_training("ASMITH", clock().date())
    out = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0].event_id
    report = services.integrity.verify(save=False)

    assert not report.ok
    for event_id in forged:
        assert f"event {event_id} has no MAC" in said(report)
    assert (
        f"event {out} (device_signed_out) was recorded under the policies as event(s) "
    ) in said(report), said(report)


def test_guard_a_version_the_office_publishes_after_ends_it(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    titles = [p.title for p in services.policies.outstanding("ASMITH")]
    forged = _publish_unsealed(db_url, clock, titles)
    for title in titles:
        services.policies.publish(title, "2028", "The school's words.", published_by="CHEAD")
    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports")
    report = services.integrity.verify(save=False)

    assert f"event {forged[0]} has no MAC" in said(report)
    assert "recorded under the policies" not in said(report), said(report)


def test_a_sign_out_without_a_line_manager_after_a_void_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Alice took a laptop home twice this month: a third sign-out needs her line manager's
    agreement. The kiosks' login (or a shell on the file), without the key, voids her first
    sign-out (long since returned): the kiosk counts one, and signs LAP-002 out to her
    without a line manager, under the key. Verify named the correction only."""
    shift_school(services)
    make_ready(services, "ASMITH")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    services.devices.return_device("LAP-001")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports")
    services.devices.return_device("LAP-001")
    with pytest.raises(KioskError):  # the school's rule: the third needs her line manager
        services.devices.sign_out("ASMITH", ["LAP-002"], reason="Reports")
    forged = _forge_dated_ahead(
        db_url,
        "correction",
        {"reason": "mistake", "voided_kind": "device_signed_out"},
        at=clock(),
        category="correction",
        target_event_id=first.event_id,
    )
    third = services.devices.sign_out("ASMITH", ["LAP-002"], reason="Reports").receipts[0]
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert f"event {third.event_id} (device_signed_out)" in said(report), said(report)


def test_guard_a_sign_out_with_the_line_manager_named_is_not_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    make_ready(services, "ASMITH")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    services.devices.return_device("LAP-001")
    forged = _forge_dated_ahead(
        db_url,
        "correction",
        {"reason": "mistake", "voided_kind": "device_signed_out"},
        at=clock(),
        category="correction",
        target_event_id=first.event_id,
    )
    services.devices.sign_out("ASMITH", ["LAP-002"], reason="Reports", line_manager="CHEAD")
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "with no line manager named" not in said(report), said(report)


def test_guard_a_void_without_the_key_of_a_sign_out_returned_since_frees_nothing(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """A correction without the key voiding a sign-out the kiosk has since taken back (its
    return the kiosk's) did not put the device in school: a sign-out of it after is not
    said to be "in school only through" the correction (it was not true)."""
    shift_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    first = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0]
    services.devices.return_device("LAP-001")
    forged = _forge_dated_ahead(
        db_url,
        "correction",
        {"reason": "mistake", "voided_kind": "device_signed_out"},
        at=clock(),
        category="correction",
        target_event_id=first.event_id,
    )
    services.devices.sign_out("EPATEL", ["LAP-001"], reason="Trip")
    report = services.integrity.verify(save=False)

    assert f"event {forged} has no MAC" in said(report)
    assert "in school only through" not in said(report), said(report)
