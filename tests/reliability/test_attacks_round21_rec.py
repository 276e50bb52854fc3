"""Round 21's red team on the record's trust: a shell on the SQLite file or the kiosks'
PostgreSQL login, without the school key or the admin PIN.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from kiosk.resources import SEED_POLICY_TITLE
from kiosk.services import integrity
from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_attacks_round18_rec import _forge_dated_ahead
from tests.reliability.test_attacks_round19_rec import _change_unsealed, _recorded_row, _staff_id
from tests.reliability.test_purge import BEFORE, EARLY, LATER
from tests.school import make_ready, make_school

# --- the register under codes swapped in the database ----------------------------------------


def _swap_alice_and_ben(db_url: str, clock: FakeClock) -> None:
    """The kiosks' login (or a shell on the file) swaps Alice's and Ben's codes and names on
    the staff list, without the key (list changes the database applies)."""
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


def test_the_register_says_the_code_an_event_was_recorded_under_when_the_list_differs(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Ben and then Alice deposited their phones; the kiosks' login swapped their codes and
    # names on the staff list. The office's register listed Alice's deposit as Ben Jones's
    # (BJONES), the day's CSV too, and the register filtered by ASMITH (a question about
    # Alice) listed Ben's deposit as hers, with nothing to say so: the kiosk recorded each
    # event with the code it read, ASMITH for Alice's.
    shift_school(services)
    ben_deposit = services.phones.deposit("BJONES").event_id
    alice_deposit = services.phones.deposit("ASMITH").event_id
    _swap_alice_and_ben(db_url, clock)
    today = clock().date()

    rows = {r.event_id: r for r in services.register.day(today).rows}
    assert "recorded under the code ASMITH (the staff list says BJONES now)" in (
        rows[alice_deposit].detail
    ), rows[alice_deposit]
    asked = services.register.day(today, RegisterFilter(staff_code="ASMITH")).rows
    shown = {r.event_id: r for r in asked}
    assert ben_deposit in shown  # (the list's row for ASMITH is Ben's)
    assert "recorded under the code BJONES (the staff list says ASMITH now)" in (
        shown[ben_deposit].detail
    ), shown[ben_deposit]
    out = io.StringIO()
    services.register.export_csv(out, today)
    by_id = {row["event_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert "recorded under the code ASMITH" in by_id[str(alice_deposit)]["detail"]
    # An event the list still names as recorded says nothing more.
    assert "recorded under" not in rows[ben_deposit - 1].detail


def test_the_register_says_the_tag_and_recorder_an_event_was_recorded_with(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The same for a device's tag and a colleague who recorded the event: LAP-001's tag
    # changed in the database to LAP-099 listed Alice's sign-out of LAP-001 as of LAP-099.
    shift_school(services)
    make_ready(services, "ASMITH")
    signed = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports").receipts[0].event_id
    with meddle(db_url) as db:
        device = int(db.execute("SELECT id FROM devices WHERE tag = 'LAP-001'")[0][0])
    row = _recorded_row(db_url, "devices", device)
    _change_unsealed_tag(db_url, clock, device, row | {"tag": "LAP-099"})

    shown = {r.event_id: r for r in services.register.day(clock().date()).rows}[signed]
    assert "recorded for the tag LAP-001 (the device list says LAP-099 now)" in shown.detail


def _change_unsealed_tag(db_url: str, clock: FakeClock, key: int, row: dict[str, object]) -> None:
    _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "devices", "key": key, "row": row},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:
        db.execute("UPDATE devices SET tag = %s WHERE id = %s", (row["tag"], key))


# --- the yearly purge past an event written without the key ----------------------------------


def test_the_purge_keeps_what_an_event_without_the_key_alone_made_history(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Alice signed LAP-001 out in March 2022 and never brought it back. Two years on, the
    # kiosks' login (or a shell on the file) appended a return of it, without the school
    # key (naming no sign-out). The office's yearly purge took the return for the laptop's
    # state and removed Alice's sign-out with the old events: the record of who has the
    # laptop went for good, under the admin's checkpoint, and only a return the kiosk never
    # recorded was left (verify names it, but nothing says who had the laptop).
    clock.set(EARLY)
    make_school(services)
    make_ready(services, "ASMITH")
    signed = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Reports")
    sign_out = signed.receipts[0].event_id
    clock.set(datetime(2022, 7, 20, 9, 0, tzinfo=UTC))  # she left, the laptop with her
    services.people.retire_staff("ASMITH", admin_code="CHEAD", force=True)
    clock.set(datetime(2023, 6, 1, 9, 0, tzinfo=UTC))  # the policy's yearly version
    services.policies.publish(SEED_POLICY_TITLE, "2023", "Use school laptops with care.")
    make_ready(services, "BJONES")
    clock.set(LATER)
    services.phones.deposit("BJONES")
    with meddle(db_url) as db:
        alice = int(db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0])
        device = int(db.execute("SELECT id FROM devices WHERE tag = 'LAP-001'")[0][0])
    forged = _forge_dated_ahead(
        db_url,
        "device_returned",
        {},
        at=clock(),
        category="device",
        device_id=device,
        staff_id=alice,
    )

    report = services.backup.purge(BEFORE, "CHEAD")

    assert report.last_removed_id is None or report.last_removed_id < sign_out, report
    kept = {r.event_id for r in services.register.day(EARLY.date()).rows}
    assert sign_out in kept, report.summary
    said = services.integrity.verify(save=False)
    assert f"event {forged} has no MAC" in "\n".join(said.problems), said.problems


def test_the_purge_keeps_agreements_to_the_policy_behind_a_version_without_the_key(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Alice agreed to the school's policy in March 2022 (her VDU training declared again
    # since). In 2024 the kiosks' login published a "new version" of it, without the key
    # (on PostgreSQL it may add policies: the database applies it). The purge took that
    # version for the policy in force and removed Alice's agreement to the school's own
    # for good: the office could not show she had ever agreed.
    clock.set(EARLY)
    make_school(services)
    make_ready(services, "ASMITH")
    with meddle(db_url) as db:
        alice = int(db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0])
        [(agreed, policy)] = db.execute(
            "SELECT id, policy_id FROM events WHERE kind = 'policy_acknowledged' AND staff_id = %s",
            (alice,),
        )
    clock.set(datetime(2023, 6, 1, 9, 0, tzinfo=UTC))
    services.policies.declare_vdu_training("ASMITH", clock().date())
    clock.set(LATER)
    services.phones.deposit("BJONES")
    row = _recorded_row(db_url, "policies", policy)
    forged_id = policy + 1000
    forged_row = row | {"version": "2024", "text": "You agree to pay 500.", "required": True}
    _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "policies", "key": forged_id, "row": forged_row},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:  # (applied on SQLite by its trigger, on PostgreSQL by hand)
        db.execute(
            "INSERT INTO policies (id, title, version, text, sha256, required, published_at) "
            "SELECT %s, title, '2024', 'You agree to pay 500.', sha256, required, published_at "
            "FROM policies WHERE id = %s AND NOT EXISTS (SELECT 1 FROM policies WHERE id = %s)",
            (forged_id, policy, forged_id),
        )

    report = services.backup.purge(BEFORE, "CHEAD")

    assert report.last_removed_id is None or report.last_removed_id < agreed, report
    kept = {r.event_id for r in services.register.day(EARLY.date()).rows}
    assert agreed in kept, report.summary


def test_the_purge_carries_over_a_list_row_recorded_again_without_the_key(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Alice was added to the staff list in 2022. In 2024 the kiosks' login appended a list
    # change recording her row again, as it was, without the school key. The purge took that
    # for her row's newest record, removed the office's own and carried nothing over: her
    # row was then "on the list but never recorded in the register", and every change the
    # office made to it (her leaving) was refused, with no way back (put-back leaves a row
    # never recorded as it is).
    clock.set(EARLY)
    make_school(services)
    services.phones.deposit("BJONES")
    services.phones.collect("BJONES")
    clock.set(LATER)
    services.phones.deposit("BJONES")
    alice = _staff_id(db_url, "ASMITH")
    forged = _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": alice, "row": _recorded_row(db_url, "staff", alice)},
        at=clock(),
        category="reference",
    )

    report = services.backup.purge(BEFORE, "CHEAD")
    assert report.removed, report

    left = services.people.retire_staff("ASMITH", admin_code="CHEAD")
    assert left.retired
    said = services.integrity.verify(save=False)
    assert f"event {forged} has no MAC" in "\n".join(said.problems), said.problems


# --- the office's calendar import over a calendar written without the key -------------------

YEAR = b"""start,end,kind,name
2025-09-03,2025-12-19,term,Autumn term
2026-01-05,2026-03-27,term,Spring term
2026-04-13,2026-07-22,term,Summer term
"""


def test_a_calendar_import_warns_of_the_schools_terms_it_drops_behind_one_without_the_key(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The school's calendar holds the whole year. The kiosks' login appended a calendar with
    # nothing in it, without the school key. The office then imported the summer term's
    # file: it was compared with that empty calendar, so the spring term still running was
    # dropped without the question ("would drop ... still ahead: replace?"), and the import
    # was recorded, under the key, as the admin's: the school had no spring term.
    shift_school(services)
    services.school.import_calendar("year.csv", YEAR, admin_code="CHEAD")
    _forge_dated_ahead(db_url, "calendar_set", {"entries": []}, at=clock(), category="admin")

    summer = b"start,end,kind,name\n2026-04-13,2026-07-22,term,Summer term\n"
    result = services.school.import_calendar("summer.csv", summer, admin_code="CHEAD")

    assert not result.imported and result.needs_replace, result
    assert [e.name for e in result.upcoming_dropped(clock().date())] == ["Spring term"]


def test_the_purge_keeps_a_persons_training_behind_a_leaving_without_the_key(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # Alice declared her display-screen training in March 2022; the office changed her
    # e-mail address in 2024. Then the kiosks' login marked her as having left, without the
    # school key (on PostgreSQL it may retire anyone but an admin: the database applies
    # it). The purge keeps the training of the staff still there only, read from the list:
    # it removed Alice's for good, and put back on the list she was asked to declare it
    # again, the register holding no record she ever had.
    clock.set(EARLY)
    make_school(services)
    make_ready(services, "ASMITH")
    with meddle(db_url) as db:
        alice = int(db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0])
        [(trained,)] = db.execute(
            "SELECT id FROM events WHERE kind = 'vdu_training_declared' AND staff_id = %s",
            (alice,),
        )
    clock.set(datetime(2023, 6, 1, 9, 0, tzinfo=UTC))  # the policy's yearly version
    services.policies.publish(SEED_POLICY_TITLE, "2023", "Use school laptops with care.")
    make_ready(services, "BJONES")
    clock.set(LATER)
    services.people.import_staff_csv(
        b"code,name,email\nASMITH,Alice Smith,alice.smith@school.example\n", admin_code="CHEAD"
    )
    row = _recorded_row(db_url, "staff", alice)
    _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": alice, "row": row | {"retired_at": "2024-06-05T09:00:00+00:00"}},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:  # (applied on SQLite by its trigger, on PostgreSQL by hand)
        db.execute("UPDATE staff SET retired_at = %s WHERE id = %s", (clock(), alice))

    report = services.backup.purge(BEFORE, "CHEAD")

    assert report.last_removed_id is None or report.last_removed_id < trained, report
    kept = {r.event_id for r in services.register.day(EARLY.date()).rows}
    assert trained in kept, report.summary


# --- PIN pad lockouts the kiosk did not record ----------------------------------------------


def test_a_lockout_written_without_the_key_is_not_reported_at_the_admins_sign_in(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The kiosks' login appended "Admin console locked (wrong PINs)" events without the
    # school key, one dated in the year 2999. Each admin signing in was told "Since the last
    # admin sign-in, five wrong PINs locked the console 2 times: ... Each is in the
    # register", at every sign-in for ever: someone guessing the PIN, that never happened.
    shift_school(services)
    services.admin.set_pin("402718", admin_code="CHEAD")
    assert services.admin.check_pin("402718").ok
    clock.advance(minutes=5)
    for at in (clock(), datetime(2999, 1, 1, tzinfo=UTC)):
        _forge_dated_ahead(
            db_url,
            "admin_lockout",
            {"failures": 5, "locked_until": at.isoformat(), "kiosk": "test-kiosk"},
            at=at,
        )
    clock.advance(minutes=5)

    check = services.admin.check_pin("402718")

    assert check.ok and check.lockouts_since_last_sign_in == (), check


# --- the console's "last anchor taken" behind a pile without the key ------------------------


def test_a_pile_of_anchors_without_the_key_does_not_hide_the_last_anchor(
    services: Services, clock: FakeClock, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The office took an anchor and kept it. The kiosks' login appended more "anchor taken"
    # events without the school key than the console looks through (500; 3 here): the
    # console said "no anchor taken yet (kiosk anchor)" of a register anchored that day.
    monkeypatch.setattr(integrity, "LAST_ANCHOR_CANDIDATES", 3)
    shift_school(services)
    services.integrity.anchor(admin_code="CHEAD")
    taken = clock()
    clock.advance(minutes=5)
    for _ in range(3):
        _forge_dated_ahead(db_url, "anchor_taken", {}, at=clock())
    services.integrity.verify()

    last = services.integrity.last_result()
    assert last is not None and last.last_anchor_at == taken, last


def test_a_pile_of_anchors_with_a_mac_not_the_keys_does_not_hide_the_last_anchor(
    services: Services, clock: FakeClock, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As above, the pile given a MAC column (any 64 hex digits, not the school key's): the
    # kiosks' login writes every column. Passed over in SQL only without a MAC, the pile
    # filled the 500 (3 here) looked through, and the console said "no anchor taken yet".
    # Each is an HMAC to check, so the console still looks through no more: it says it
    # cannot tell.
    monkeypatch.setattr(integrity, "LAST_ANCHOR_CANDIDATES", 3)
    shift_school(services)
    services.integrity.anchor(admin_code="CHEAD")
    clock.advance(minutes=5)
    for _ in range(3):
        _forge_dated_ahead(db_url, "anchor_taken", {}, at=clock(), mac="f" * 64)
    services.integrity.verify()

    from kiosk.ui.admin.console import check_line

    line = check_line(services.integrity.last_check(), services.ctx.settings.zone)
    assert "no anchor taken yet" not in line, line
    assert "last anchor unknown: the newest were not recorded by the kiosk" in line, line


# --- the subject access export's details of the person ---------------------------------------


def test_the_subject_access_export_says_which_details_the_register_did_not_record(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The kiosks' login changed Alice's e-mail address and name on the staff list, without
    # the school key (the database applies it). Her subject access export gave them as her
    # details, with nothing to say the register never recorded them: a made-up address went
    # to her as the school's record of her.
    shift_school(services)
    alice = _staff_id(db_url, "ASMITH")
    row = _recorded_row(db_url, "staff", alice)
    changed = row | {"email": "alice@elsewhere.example", "name": "Alice Smyth"}
    _forge_dated_ahead(
        db_url,
        "reference_changed",
        {"table": "staff", "key": alice, "row": changed},
        at=clock(),
        category="reference",
    )
    with meddle(db_url) as db:  # (applied on SQLite by its trigger, on PostgreSQL by hand)
        db.execute(
            "UPDATE staff SET email = %s, name = %s WHERE id = %s",
            (changed["email"], changed["name"], alice),
        )

    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    said = str(export["staff"].get("not_as_the_register_recorded"))
    assert "email" in said and "name" in said, export["staff"]
    assert row["email"] in said and "Alice Smith" in said, said  # what the register holds
    # A person whose row is as recorded says nothing of it.
    plain = json.loads(services.backup.export_staff("BJONES", "json").content)
    assert plain["staff"]["not_as_the_register_recorded"] is None


# --- a correction slipped in below the event it voids -----------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_correction_below_the_event_it_voids_is_no_void(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The office voided Alice's deposit ("scanned twice"). A shell on the SQLite file then
    # wrote a second correction of it at id 0, below it, "Phone confiscated by the Head":
    # the register showed that reason as the void's, and her subject access export said
    # the deposit was voided by event 0, "NOT recorded by the kiosk", of a void the office
    # had recorded. A correction always comes after what it voids (the kiosk never writes
    # one below; verify names it as "an id after its own").
    from tests.reliability.test_attacks_round20_rec import _slip_in_below

    shift_school(services)
    deposit = services.phones.deposit("ASMITH").event_id
    void = services.register.void(deposit, reason="scanned twice", admin_code="CHEAD").event_id
    _slip_in_below(
        db_url,
        "correction",
        "correction",
        at=clock(),
        target_event_id=deposit,
        details={"reason": "Phone confiscated by the Head", "voided_kind": "phone_deposited"},
    )

    row = {r.event_id: r for r in services.register.day(clock().date()).rows}[deposit]
    assert row.voided and row.void_reason == "scanned twice", row
    export = json.loads(services.backup.export_staff("ASMITH", "json").content)
    [mine] = [e for e in export["events"] if e["event_id"] == deposit]
    assert mine["voided_by_event"] == void, mine


# --- a check written without the key, naming a head the register never had -----------------


def test_a_check_without_the_key_naming_a_head_never_recorded_does_not_say_events_were_cut(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    # The kiosks' login appended a "Register checked" event, without the school key, whose
    # report says the newest event at that check was event 1,000,000,000. Verify took it for
    # the last check and said "event 1000000000, the newest at an earlier check, is missing:
    # events were removed from the end", and kept that head as its witness, so every check
    # after it said the same, for good: the register accused of losing events it never had.
    shift_school(services)
    services.integrity.verify()
    with meddle(db_url) as db:
        [(details,)] = db.execute(
            "SELECT CAST(details AS TEXT) FROM events WHERE kind = 'register_verified' "
            "ORDER BY id DESC LIMIT 1"
        )
    report = json.loads(details)["report"]
    report |= {"witness_id": 1_000_000_000, "witness_hash": "f" * 64}
    clock.advance(minutes=5)
    forged = _forge_dated_ahead(db_url, "register_verified", {"report": report}, at=clock())
    clock.advance(minutes=5)

    first = services.integrity.verify()
    again = services.integrity.verify()

    for checked in (first, again):
        assert "removed from the end" not in said(checked), said(checked)
        assert f"event {forged} has no MAC" in said(checked), said(checked)
