"""Issue 15's attacks on the record, items 1-4, each tried as an intruder would (raw SQL on the
database, the file, a backup) and each named by `kiosk verify` or refused by the database.

Every test here fails on the main branch before revision 0005: there, verify said "intact"
or the database let the change happen (see docs/threat-model.md, reliability table).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kiosk.db.guards import SQLITE_TRIGGERS
from kiosk.domain.chain import EVENT_COLUMNS as CHAIN_COLUMNS
from kiosk.domain.chain import GENESIS_HASH, event_mac, hash_of
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.services.app import Services
from kiosk.services.integrity import Anchor, VerifyReport, witness_path
from kiosk.services.secret import school_key
from tests.conftest import FakeClock
from tests.reliability.helpers import Raw, count_events, is_sqlite, meddle, sqlite_path
from tests.reliability.test_tamper import event_ids, record_shift
from tests.school import make_ready, make_school


def said(report: VerifyReport) -> str:
    """Everything verify says about what is wrong, as one text."""
    return "\n".join([report.summary, *report.problems, report.tail_problem or ""])


def rechain(db: Raw, start: int, *, key: bytes | None, version: int | None = None) -> None:
    """Recompute the hashes (and MACs, with the key) of every event from ``start`` on, as
    someone who knows the algorithm would after an edit: a consistent rewrite."""
    ids = [r[0] for r in db.execute("SELECT id FROM events WHERE id >= %s ORDER BY id", (start,))]
    before = db.execute("SELECT hash FROM events WHERE id < %s ORDER BY id DESC LIMIT 1", (start,))
    prev = before[0][0] if before else GENESIS_HASH
    for event_id in ids:
        row = db.event(event_id)
        row["prev_hash"] = prev
        if version == 1:
            row["mac"] = None
        digest = hash_of(row, version=version)
        mac = event_mac(key, digest) if key is not None and version != 1 else row["mac"]
        # The hash column is unique: write a placeholder first when needed.
        db.overwrite(event_id, {"hash": digest, "prev_hash": prev, "mac": mac})
        prev = digest


def shift_school(services: Services) -> None:
    make_school(services)
    record_shift(services, rounds=1)


# --- 1. columns outside the hash ---------------------------------------------------------


def test_a_phone_deposit_recategorised_is_named(services: Services, db_url: str) -> None:
    shift_school(services)
    services.phones.deposit("ASMITH")
    deposit = event_ids(db_url)[-1]
    with meddle(db_url) as db:
        db.overwrite(deposit, {"category": "device"})

    report = services.integrity.verify()

    assert not report.ok
    assert deposit in report.mismatched
    assert f"event {deposit} (phone_deposited) has category 'device'" in said(report)


def test_old_events_still_verify_and_their_category_is_checked(
    services: Services, db_url: str
) -> None:
    """A register recorded before revision 0005 (content version 1, no MACs) still verifies;
    its category, which its hash did not cover, is checked against its kind."""
    shift_school(services)
    ids = event_ids(db_url)
    with meddle(db_url) as db:  # make it what an old database looks like (no new kinds)
        db.execute(
            "UPDATE events SET kind = 'admin_action', category = 'admin' "
            "WHERE kind IN ('reference_changed', 'register_verified')"
        )
        rechain(db, ids[0], key=None, version=1)
    witness_path().unlink(missing_ok=True)
    services.ctx.baseline_checked = False  # a kiosk started on the upgraded database
    upgraded = services.integrity.verify(save=False)  # its first write: the baseline
    assert upgraded.ok, said(upgraded)
    deposit = next(i for i in ids if services_kind(db_url, i) == "phone_deposited")
    with meddle(db_url) as db:
        db.overwrite(deposit, {"category": "device"})

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert deposit not in report.mismatched  # version 1 did not hash it...
    assert f"event {deposit} (phone_deposited) has category 'device'" in said(report)  # ...named


def test_a_whole_register_downgraded_to_the_old_format_is_named(
    services: Services, db_url: str
) -> None:
    """Rewriting every event in the old format (no MACs, hashes recomputed) is still named:
    the reference events exist only since revision 0005, always in the new format."""
    shift_school(services)
    with meddle(db_url) as db:
        rechain(db, event_ids(db_url)[0], key=None, version=1)
    witness_path().unlink(missing_ok=True)

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "(reference_changed) is in the old format" in said(report)


def services_kind(db_url: str, event_id: int) -> str:
    from tests.reliability.helpers import raw_scalar

    return str(raw_scalar(db_url, f"SELECT kind FROM events WHERE id = {event_id}"))


def test_a_new_event_cannot_be_downgraded_to_the_old_content(
    services: Services, db_url: str
) -> None:
    shift_school(services)
    services.phones.deposit("ASMITH")
    last = event_ids(db_url)[-1]
    with meddle(db_url) as db:  # edit it, then hash it the old way (category not covered)
        db.overwrite(last, {"category": "device"})
        rechain(db, last, key=None, version=1)

    report = services.integrity.verify()

    assert not report.ok
    assert f"event {last} has no MAC although event" in said(report)


# --- 2. reference data ---------------------------------------------------------------------

REFERENCE_EDITS = {
    "rename": (["UPDATE staff SET name = 'Someone Else' WHERE code = 'ASMITH'"], "name"),
    "swap two people's code and name": (
        [
            "UPDATE staff SET code = 'TMP', name = 'Ben Jones' WHERE code = 'ASMITH'",
            "UPDATE staff SET code = 'ASMITH', name = 'Alice Smith' WHERE code = 'BJONES'",
            "UPDATE staff SET code = 'BJONES' WHERE code = 'TMP'",
        ],
        "code",
    ),
    "grant admin": (
        [
            "INSERT INTO staff_roles (staff_id, role) SELECT id, 'admin' FROM staff "
            "WHERE code = 'ASMITH'"
        ],
        "roles",
    ),
    "retire": (["UPDATE staff SET retired_at = created_at WHERE code = 'EPATEL'"], "retired_at"),
    "policy text": (["UPDATE policies SET text = text || ' (amended)'"], "text"),
    "device": (["UPDATE devices SET description = 'gone' WHERE tag = 'LAP-001'"], "description"),
    "store": (["UPDATE stores SET name = 'Bin' WHERE code = 'STAFFROOM'"], "name"),
    "PIN hash": (["UPDATE kiosk_settings SET value = '{}' WHERE key = 'admin_pin'"], "value"),
}


@pytest.mark.parametrize("edit", list(REFERENCE_EDITS))
def test_reference_data_edited_directly_is_named(
    services: Services, db_url: str, edit: str
) -> None:
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    assert services.integrity.verify().ok
    statements, column = REFERENCE_EDITS[edit]
    with meddle(db_url) as db:
        for statement in statements:
            db.execute(statement)

    report = services.integrity.verify()

    assert not report.ok, edit
    assert f"column {column}: stored" in said(report), said(report)
    assert "recorded" in said(report)


def test_a_person_added_directly_is_named(services: Services, db_url: str) -> None:
    shift_school(services)
    with meddle(db_url) as db:
        db.execute(
            "INSERT INTO staff (id, code, name, created_at) "
            "VALUES (99, 'XSTRANGER', 'A Stranger', '2026-03-10 08:00:00.000000')"
            if is_sqlite(db_url)
            else "INSERT INTO staff (id, code, name, created_at) "
            "VALUES (99, 'XSTRANGER', 'A Stranger', now())"
        )

    report = services.integrity.verify()

    assert "staff 99: in the table but never recorded" in said(report)


def test_a_legitimate_rename_is_recorded_and_verifies(services: Services, db_url: str) -> None:
    shift_school(services)
    before = count_events(db_url)
    services.people.import_staff_csv(b"code,name\nASMITH,Alice Smith-Jones\n", admin_code="CHEAD")
    assert count_events(db_url) == before + 2  # the reference change and the admin action
    assert services.integrity.verify().ok
    # The register shows the rename, dated, next to what was recorded before it.
    rows = services.register.day(services.ctx.clock().date()).rows
    renames = [r for r in rows if r.kind == "reference_changed" and "Smith-Jones" in r.detail]
    assert len(renames) == 1 and "name: Alice Smith-Jones" in renames[0].detail


# --- 3. the end of the chain, rewrites, forgeries ---------------------------------------


def test_cut_off_the_end_is_named_by_the_witness_file_or_an_anchor(
    services: Services, db_url: str, tmp_path: Path
) -> None:
    shift_school(services)
    anchor = services.integrity.anchor()
    record_shift(services, rounds=1)
    assert services.integrity.verify().ok
    with meddle(db_url) as db:  # cut the anchor and everything after it
        db.execute("DELETE FROM events WHERE id >= %s", (anchor.event_id,))

    by_witness = services.integrity.verify(save=False)
    assert not by_witness.ok and "removed from the end" in said(by_witness)

    witness_path().unlink()  # the intruder removes this machine's witness too
    blind = services.integrity.verify(save=False)
    assert any("cannot rule out" in line for line in blind.cannot_rule_out)
    anchored = services.integrity.verify(save=False, anchors=(anchor,))
    assert not anchored.ok
    assert f"event {anchor.event_id}" in said(anchored) and "no longer in the register" in said(
        anchored
    )


def test_a_consistent_rewrite_is_named_by_an_anchor_or_the_macs(
    services: Services, db_url: str
) -> None:
    shift_school(services)
    anchor = services.integrity.anchor()
    services.phones.deposit("EPATEL")
    target = event_ids(db_url)[10]

    # Without the key: the recomputed hashes verify, the MACs do not.
    with meddle(db_url) as db:
        db.overwrite(target, {"kiosk": "elsewhere"})
        rechain(db, target, key=b"not the school's key" * 2)
    witness_path().unlink(missing_ok=True)
    report = services.integrity.verify(save=False)
    assert not report.ok and "without a valid MAC" in said(report)

    # With the key (a shell on the kiosk): only the anchor shows it.
    with meddle(db_url) as db:
        rechain(db, target, key=school_key())
    assert services.integrity.verify(save=False).ok  # the limit, said plainly:
    assert services.integrity.verify(save=False).cannot_rule_out
    anchored = services.integrity.verify(save=False, anchors=(anchor,))
    assert not anchored.ok
    assert f"event {anchor.event_id}" in said(anchored) and "hash is now" in said(anchored)


@pytest.mark.parametrize("mac", [None, "f" * 64])
def test_a_forged_event_appended_with_a_correct_hash_is_named(
    services: Services, db_url: str, mac: str | None
) -> None:
    shift_school(services)
    services.phones.deposit("ASMITH")
    last = event_ids(db_url)[-1]
    with meddle(db_url) as db:
        row = db.event(last)
        forged: dict[str, Any] = dict(row, id=last + 1, kind="phone_collected", category="phone")
        forged["prev_hash"] = row["hash"]
        forged["mac"] = mac
        forged["hash"] = hash_of(forged, version=2 if mac is None else None)
        columns = ", ".join(forged)
        marks = ", ".join(["%s"] * len(forged))
        db.execute(
            f"INSERT INTO events ({columns}) VALUES ({marks})",
            tuple(json.dumps(v) if isinstance(v, dict) else v for v in forged.values()),
        )

    report = services.integrity.verify()

    assert not report.ok
    assert str(last + 1) in said(report) or (last + 1) in report.mismatched


def test_an_unreadable_row_is_named_not_a_traceback(sqlite_services: Services) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    ids = event_ids(url)
    with meddle(url) as db:
        db.overwrite(ids[3], {"details": "{not json"})
        db.overwrite(ids[5], {"occurred_at": "yesterday-ish"})
        db.overwrite(ids[6], {"due_at": "not a time"})

    report = services.integrity.verify()

    assert not report.ok
    for event_id in (ids[3], ids[5], ids[6]):
        assert f"event {event_id} cannot be read" in said(report)


# --- 4. purge and restore ----------------------------------------------------------------


def _forge_checkpoint(db: Raw, upto: int, *, staff_id: int | None, before: str) -> int:
    last = db.event(max(r[0] for r in db.execute("SELECT id FROM events")))
    hashes = [
        r[0] for r in db.execute("SELECT hash FROM events WHERE id <= %s ORDER BY id", (upto,))
    ]
    removed = len(hashes)
    last_removed = db.event(upto)
    details = {
        "action": "events_purged",
        "before": before,
        "removed": removed,
        "first_removed_id": 1,
        "last_removed_id": upto,
        "last_removed_hash": last_removed["hash"],
        "range_digest": hashlib.sha256("\n".join(hashes).encode()).hexdigest(),
        "kept_older": 0,
    }
    forged: dict[str, Any] = dict(
        last, id=last["id"] + 1, kind="admin_action", category="admin", details=details
    )
    forged["staff_id"] = forged["recorded_by_id"] = staff_id
    forged["prev_hash"] = last["hash"]
    forged["hash"] = hash_of(forged)
    forged["mac"] = event_mac(school_key(), forged["hash"])
    columns = ", ".join(forged)
    marks = ", ".join(["%s"] * len(forged))
    db.execute(
        f"INSERT INTO events ({columns}) VALUES ({marks})",
        tuple(json.dumps(v) if isinstance(v, dict) else v for v in forged.values()),
    )
    return int(forged["id"])


def test_sqlite_forged_checkpoint_and_guard_row_cannot_delete_recent_history(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    ids = event_ids(url)
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:  # no trigger dropped: only what any writer of the file can do
        conn.execute("BEGIN IMMEDIATE")
        raw = Raw(conn, sqlite=True)
        _forge_checkpoint(raw, ids[-1], staff_id=_staff_id(url, "CHEAD"), before="2000-01-01")
        conn.execute(
            "INSERT INTO kiosk_settings (key, value, updated_at) "
            f"VALUES ('events_purge_guard', '{ids[-1]}', '2026-01-01 00:00:00')"
        )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(f"DELETE FROM events WHERE id <= {ids[-1]}")
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert event_ids(url) == ids


def test_sqlite_forged_checkpoint_cannot_delete_what_defines_current_state(
    sqlite_services: Services, clock: FakeClock
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    clock.set(datetime(2022, 3, 10, 8, 0, tzinfo=UTC))  # history well over a year old
    shift_school(services)
    services.phones.deposit("ASMITH")  # still held
    ids = event_ids(url)
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        _forge_checkpoint(
            Raw(conn, sqlite=True), ids[-1], staff_id=_staff_id(url, "CHEAD"), before="2022-12-01"
        )
        conn.execute(
            "INSERT INTO kiosk_settings (key, value, updated_at) "
            f"VALUES ('events_purge_guard', '{ids[-1]}', '2026-01-01 00:00:00')"
        )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(f"DELETE FROM events WHERE id <= {ids[-1]}")
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert [h.staff.code for h in services.phones.phones_now()] == ["ASMITH"]


def test_verify_names_a_purge_its_checkpoint_does_not_account_for(
    services: Services, db_url: str
) -> None:
    shift_school(services)
    ids = event_ids(db_url)
    upto = ids[len(ids) // 2]
    with meddle(db_url) as db:  # triggers dropped: a forged checkpoint, then the delete
        _forge_checkpoint(db, upto, staff_id=None, before="2026-03-01")
        db.execute("DELETE FROM events WHERE id <= %s", (upto,))

    report = services.integrity.verify()

    assert not report.ok
    assert "was not recorded by an admin" in said(report)
    assert "less than a year old" in said(report)


def test_restore_refuses_a_consistently_rewritten_backup(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    target = event_ids(f"sqlite:///{backup}")[5]
    with meddle(f"sqlite:///{backup}") as db:  # with the key, even the MACs are right
        db.overwrite(target, {"kiosk": "rewritten"})
        rechain(db, target, key=school_key())
    before = count_events(services.settings.database_url)

    with pytest.raises(RuleViolation, match="is not the live register's past"):
        services.backup.restore(backup)

    assert count_events(services.settings.database_url) == before


def test_restore_refuses_a_backup_without_a_given_anchor(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    anchor = services.integrity.anchor()  # newer than the backup

    with pytest.raises(RuleViolation, match=f"event {anchor.event_id}"):
        services.backup.restore(backup, anchors=(anchor,), drop_newer=True, reason="test")


def test_restore_refuses_while_another_process_is_writing(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    before = event_ids(url)
    held = threading.Event()
    release = threading.Event()

    def writer() -> None:  # a kiosk in the middle of a write transaction
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(10)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(RuleViolation, match="another process is writing"):
            services.backup.restore(backup, drop_newer=True, reason="test")
    finally:
        release.set()
        thread.join()
    assert event_ids(url) == before


def test_restore_never_drops_newer_events_silently_and_puts_the_triggers_back(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    backup = tmp_path / "b.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    services.phones.deposit("BJONES")
    with pytest.raises(RuleViolation, match=r"2 event\(s\) newer"):
        services.backup.restore(backup)
    with pytest.raises(InvalidInput, match="needs a reason"):
        services.backup.restore(backup, drop_newer=True)
    # The live file lost its triggers (an intruder, or an old restore): restore puts them back.
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.close()

    newest_before = event_ids(url)[-1]

    report = services.backup.restore(backup, drop_newer=True, reason="wrong deposits")

    assert report.dropped == 2
    # The dropped events' ids are not handed out again: the restore's event comes after them.
    assert report.event_id == newest_before + 1
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET kiosk = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")
    finally:
        conn.close()
    assert services.integrity.verify().ok


def test_an_anchor_is_a_short_text_that_round_trips(services: Services) -> None:
    shift_school(services)
    anchor = services.integrity.anchor()
    content = anchor.to_text()
    assert len(content.splitlines()) <= 12
    parsed = Anchor.parse(content)
    assert (parsed.event_id, parsed.hash, parsed.position) == (
        anchor.event_id,
        anchor.hash,
        anchor.position,
    )
    assert services.integrity.verify(anchors=(parsed,)).ok
    last = services.integrity.last_result()
    assert last is not None and last.last_anchor_at is not None
    with pytest.raises(InvalidInput):
        Anchor.parse("Event: x\nHash: 12\n")
    _ = time


# --- randomized: any column of any row, changed behind the kiosk's back, is named ----------

_TABLES = {
    "events": ("id", [c for c in CHAIN_COLUMNS]),
    "staff": ("id", ["code", "name", "email", "line_manager", "created_at", "retired_at"]),
    "staff_roles": ("rowid", ["role", "staff_id"]),
    "stores": ("id", ["code", "name", "created_at", "retired_at"]),
    "devices": ("id", ["tag", "kind", "description", "created_at", "retired_at"]),
    "policies": ("id", ["title", "version", "text", "sha256", "required", "published_at"]),
    "kiosk_settings": ("key", ["value", "updated_at"]),
}


@pytest.fixture(scope="module")
def tamper_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One small school on SQLite with every kind of reference row, and its key file."""
    import os

    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    folder = tmp_path_factory.mktemp("tamper")
    key_file = folder / "school.key"
    old = os.environ.get("KIOSK_SECRET_FILE")
    os.environ["KIOSK_SECRET_FILE"] = str(key_file)
    try:
        url = f"sqlite:///{folder / 'school.sqlite3'}"
        opened = Services.open(Settings(kiosk_name="k", database_url=url))
        opened.close()
        services = Services(
            make_engine(url), Settings(kiosk_name="k", database_url=url), FakeClock()
        )
        try:
            shift_school(services)
            # A new database has no policy (issue 16): publish one, so every table has rows.
            services.policies.publish("School AUP", "2026", "Use school laptops with care.")
            services.admin.set_pin("428613", admin_code="CHEAD")
            services.people.add_store("HALL", "Hall drawer")
            make_ready(services, "ASMITH")
            services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
            assert services.integrity.verify().ok
        finally:
            services.close()
    finally:
        if old is None:
            os.environ.pop("KIOSK_SECRET_FILE", None)
        else:
            os.environ["KIOSK_SECRET_FILE"] = old
    return folder / "school.sqlite3", key_file


_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=400),
    st.text(max_size=12),
    st.sampled_from(["phone", "device", "admin", "2026-03-10 08:05:00.000000", "{}", "[]"]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_change_to_any_row_is_named(
    tamper_template: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
) -> None:
    import shutil

    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    template, key_file = tamper_template
    monkeypatch.setenv("KIOSK_SECRET_FILE", str(key_file))
    path = tmp_path_factory.mktemp("copy") / "school.sqlite3"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    table = data.draw(st.sampled_from(sorted(_TABLES)))
    key_column, columns = _TABLES[table]
    column = data.draw(st.sampled_from(columns))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        keys = [r[0] for r in conn.execute(f"SELECT {key_column} FROM {table} ORDER BY 1")]
        row_key = data.draw(st.sampled_from(keys))
        old = conn.execute(
            f"SELECT {column} FROM {table} WHERE {key_column} = ?", (row_key,)
        ).fetchone()[0]
        new = data.draw(_VALUES.filter(lambda v: v != old and str(v) != str(old)))
        conn.execute("BEGIN IMMEDIATE")
        for name in SQLITE_TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        try:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key_column} = ?", (new, row_key))
        except sqlite3.IntegrityError:
            conn.execute("ROLLBACK")
            assume(False)
        for sql in SQLITE_TRIGGERS.values():
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), FakeClock())
    try:
        report = services.integrity.verify(save=False)
    finally:
        services.close()
    assert not report.ok, (table, row_key, column, old, new)
    named = said(report) + " " + " ".join(map(str, (*report.mismatched, *report.broken_links)))
    if table == "events" and column != "id":
        assert str(row_key) in named, (column, old, new, named)
    elif table in ("staff", "stores", "devices", "policies", "kiosk_settings"):
        assert f"{table} " in named, (column, old, new, named)


@pytest.mark.postgresql
def test_verify_names_disabled_triggers_and_widened_privileges_on_postgresql(
    pg_url: str, clock: FakeClock
) -> None:
    """What a restore with the wrong options, or an owner, could leave behind is named."""
    import psycopg

    from kiosk.config import Settings
    from kiosk.db.engine import make_engine
    from tests.reliability.helpers import libpq_url

    services = Services(make_engine(pg_url), Settings(kiosk_name="k", database_url=pg_url), clock)
    try:
        shift_school(services)
        assert services.integrity.verify().ok
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
            owner.execute("GRANT UPDATE ON staff TO kiosk_app")
            owner.execute("GRANT EXECUTE ON FUNCTION kiosk_purge_events(bigint) TO kiosk_app")

        report = services.integrity.verify()

        assert not report.ok
        text = said(report)
        assert "the trigger events_no_update_delete is disabled" in text
        assert "the kiosk role may UPDATE staff" in text
        assert "the kiosk role may call kiosk_purge_events" in text
    finally:
        services.close()


# --- issue 15, second round: the independent attacker's gaps --------------------------------


def _same_instant_elsewhere(stored: str) -> tuple[str, str]:
    """The same UTC instant written with a -09:00 offset (another local day) and as an ISO
    week date: both hash as the original, both compare differently as text."""
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    offset = moment.astimezone(timezone(timedelta(hours=-9)))
    year, week, day = moment.isocalendar()
    return (
        offset.isoformat(sep=" ", timespec="microseconds"),
        f"{year}-W{week:02d}-{day} {moment:%H:%M:%S.%f}",
    )


def test_an_event_moved_to_another_day_by_its_stored_form_is_named(
    sqlite_services: Services, tmp_path: Path
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    services.phones.deposit("ASMITH")
    ids = event_ids(url)
    moved, hidden = ids[-1], ids[-2]
    backup = tmp_path / "b.sqlite3"
    with meddle(url) as db:
        other_day, _ = _same_instant_elsewhere(db.event(moved)["occurred_at"])
        _, week_date = _same_instant_elsewhere(db.event(hidden)["occurred_at"])
        hashes = {i: hash_of(db.event(i)) for i in (moved, hidden)}
        db.overwrite(moved, {"occurred_at": other_day})
        db.overwrite(hidden, {"occurred_at": week_date})
        # Same instant: the hashes (and so the MACs) still hold.
        assert {i: hash_of(db.event(i)) for i in (moved, hidden)} == hashes
        created = db.execute("SELECT created_at FROM staff WHERE id = 1")[0][0]
        db.execute(
            "UPDATE staff SET created_at = %s WHERE id = 1",
            (_same_instant_elsewhere(created)[0],),
        )

    report = services.integrity.verify(save=False, anchors=(services.integrity.anchor(),))

    assert not report.ok
    for event_id in (moved, hidden):
        assert f"event {event_id} has its occurred_at stored as" in said(report)
    assert "staff 1 column created_at: stored \"(not in the kiosk's form" in said(report)

    # A backup holding such a row is refused by restore (it checks the copy as verify does).
    conn = sqlite3.connect(sqlite_path(url))
    try:
        conn.execute("VACUUM INTO ?", (str(backup),))
    finally:
        conn.close()
    before = count_events(url)
    with pytest.raises(RuleViolation, match=f"event {moved}|does not verify"):
        services.backup.restore(backup)
    assert count_events(url) == before


def _admin_id(db: Raw) -> int:
    return int(db.execute("SELECT min(staff_id) FROM staff_roles WHERE role = 'admin'")[0][0])


def _append(db: Raw, fields: dict[str, Any]) -> dict[str, Any]:
    """Append one event after the head as someone with the school's key would: chained, MACed."""
    last = db.execute("SELECT max(id) FROM events")[0][0]
    head = (
        db.event(last)
        if last is not None
        else {"kiosk": "k", "hash": "", "id": 0, "occurred_at": None}
    )
    row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
    row.update(kiosk=head["kiosk"], occurred_at=head["occurred_at"], details={})
    row.update(fields)
    row.setdefault("prev_hash", head["hash"])
    row["id"] = fields.get("id", head["id"] + 1)
    if row["prev_hash"] is None:
        row["prev_hash"] = head["hash"]
    row["mac"] = "x"
    row["hash"] = hash_of(row)
    row["mac"] = event_mac(school_key(), row["hash"])
    marks = ", ".join(["%s"] * len(CHAIN_COLUMNS))
    db.execute(
        f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
        tuple(json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS),
    )
    return row


def _carry_over(db: Raw, upto: int) -> None:
    """Copies of the newest reference event of each row among the events to be deleted."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for (event_id,) in db.execute(
        "SELECT id FROM events WHERE kind = 'reference_changed' ORDER BY id"
    ):
        row = db.event(event_id)
        details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"])
        newest[(details["table"], str(details["key"]))] = row
    for row in newest.values():
        if row["id"] <= upto:
            _append(
                db,
                {
                    "kind": "reference_changed",
                    "category": row["category"],
                    "details": row["details"]
                    if isinstance(row["details"], dict)
                    else json.loads(row["details"]),
                },
            )


def test_a_purge_checkpoint_without_its_dates_and_position_is_named(
    services: Services, db_url: str
) -> None:
    """forge_prefix.py: with the key, recent events deleted behind a checkpoint that leaves
    out ``before``, ``last_removed_at`` and ``last_removed_position``."""
    shift_school(services)
    record_shift(services, rounds=1)
    anchor = services.integrity.anchor()
    services.phones.deposit("ASMITH")
    ids = event_ids(db_url)
    upto = ids[len(ids) // 3]
    with meddle(db_url) as db:
        gone = db.event(upto)
        _carry_over(db, upto)
        admin = _admin_id(db)
        details = {
            "action": "events_purged",
            "last_removed_id": upto,
            "last_removed_hash": gone["hash"],
            "removed": len([i for i in ids if i <= upto]),
        }
        _append(
            db,
            {
                "kind": "admin_action",
                "category": "admin",
                "staff_id": admin,
                "recorded_by_id": admin,
                "details": details,
            },
        )
        db.execute("DELETE FROM events WHERE id <= %s", (upto,))

    report = services.integrity.verify(save=False, anchors=(anchor,))

    assert not report.ok
    assert "is not a valid checkpoint: it does not say before, last_removed_at" in said(report)
    assert "the anchors cannot be checked: positions in the register are not known" in said(report)


@pytest.mark.parametrize("dated", ["in a year", "now"])
def test_history_rewritten_behind_a_forged_checkpoint_is_named(
    services: Services, db_url: str, dated: str
) -> None:
    """forge_cp.py: a complete-looking checkpoint covering every old id (dated a year ahead,
    or now), then the history re-inserted under new ids without one event."""
    shift_school(services)
    anchor = services.integrity.anchor()
    services.phones.deposit("ASMITH")
    ids = event_ids(db_url)
    with meddle(db_url) as db:
        old = [db.event(i) for i in ids]
        now = db.event(ids[-1])["occurred_at"]
        at = datetime.fromisoformat(now).replace(tzinfo=UTC) if isinstance(now, str) else now
        cp_at = at + timedelta(days=400) if dated == "in a year" else at
        stored_cp_at: Any = (
            cp_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(now, str)
            else cp_at
        )
        db.execute("DELETE FROM events")
        prev = "f" * 64
        nid = ids[-1] + 1
        newest: dict[tuple[str, str], dict[str, Any]] = {}
        for row in old:
            if row["kind"] == "reference_changed":
                d = (
                    row["details"]
                    if isinstance(row["details"], dict)
                    else json.loads(row["details"])
                )
                newest[(d["table"], str(d["key"]))] = row
        for row in newest.values():
            made = _append_at(
                db,
                nid,
                prev,
                {
                    "kind": "reference_changed",
                    "category": row["category"],
                    "occurred_at": row["occurred_at"],
                    "details": row["details"],
                },
            )
            prev, nid = made["hash"], nid + 1
        admin = _admin_id(db)
        before = (cp_at - timedelta(days=366)).date().isoformat()
        made = _append_at(
            db,
            nid,
            prev,
            {
                "kind": "admin_action",
                "category": "admin",
                "staff_id": admin,
                "recorded_by_id": admin,
                "occurred_at": stored_cp_at,
                "details": {
                    "action": "events_purged",
                    "before": before,
                    "last_removed_id": ids[-1],
                    "last_removed_hash": "f" * 64,
                    "last_removed_at": "2020-01-01T00:00:00+00:00",
                    "last_removed_position": len(ids),
                    "removed": len(ids),
                },
            },
        )
        prev, nid = made["hash"], nid + 1
        dropped = next(r["id"] for r in old if r["kind"] == "phone_deposited")
        for row in old:
            if row["kind"] in ("reference_changed", "register_verified", "anchor_taken"):
                continue
            if row["id"] == dropped:
                continue
            fields = {c: row[c] for c in CHAIN_COLUMNS if c not in ("id", "prev_hash", "hash")}
            made = _append_at(db, nid, prev, fields)
            prev, nid = made["hash"], nid + 1

    report = services.integrity.verify(save=False, anchors=(anchor,))

    assert not report.ok
    if dated == "in a year":
        assert "is dated" in said(report) and "in the future" in said(report)
    else:
        assert "an anchored event less than a year old was purged" in said(report)


def _append_at(db: Raw, event_id: int, prev: str, fields: dict[str, Any]) -> dict[str, Any]:
    return _append(db, {**fields, "id": event_id, "prev_hash": prev})


# --- one unreadable row does not block a whole listing ---------------------------------------


def _staff_id(url: str, code: str) -> int:
    """The id of the member of staff ``code`` in the SQLite file at ``url``."""
    conn = sqlite3.connect(sqlite_path(url))
    try:
        return int(conn.execute("SELECT id FROM staff WHERE code = ?", (code,)).fetchone()[0])
    finally:
        conn.close()


def _sqlite_edit(url: str, sql: str) -> None:
    """A change written straight to the file (foreign keys off, as sqlite3 defaults)."""
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        conn.execute(sql)
    finally:
        conn.close()


def test_a_garbled_staff_time_leaves_the_rest_of_the_staff_list(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    _sqlite_edit(url, "UPDATE staff SET created_at = 'garbage' WHERE code = 'BJONES'")

    codes = [s.code for s in services.people.list_staff(include_retired=True)]

    assert "BJONES" not in codes and {"ASMITH", "CHEAD", "DOFFICE", "EPATEL"} <= set(codes)
    report = services.integrity.verify(save=False)
    bjones = _staff_id(url, "BJONES")
    assert not report.ok and f"staff {bjones} column created_at: stored" in said(report)
    assert "garbage" in said(report)


def test_a_binary_retired_at_leaves_the_rest_of_the_device_list(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    _sqlite_edit(url, "UPDATE devices SET retired_at = X'00ff10' WHERE tag = 'LAP-001'")

    tags = [d.tag for d in services.people.list_devices(include_retired=True)]

    assert tags == ["LAP-002", "WP-01"]
    report = services.integrity.verify(save=False)
    assert not report.ok and "column retired_at" in said(report)


def test_details_that_are_not_an_object_are_marked_in_the_register(
    sqlite_services: Services, clock: FakeClock
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    services.phones.deposit("ASMITH")
    last = event_ids(url)[-1]
    with meddle(url) as db:
        db.overwrite(last, {"details": "[1]"})

    page = services.register.day(clock().date())

    marked = [r for r in page.rows if r.event_id == last]
    assert marked and marked[0].what == "UNREADABLE ROW"
    assert len(page.rows) > 1  # the rest of the day is still there
    assert f"event {last} cannot be read" in said(services.integrity.verify(save=False))


def test_a_renumbered_person_does_not_blank_the_device_list(
    sqlite_services: Services,
) -> None:
    services = sqlite_services
    url = services.settings.database_url
    shift_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    _sqlite_edit(url, "UPDATE staff SET id = 500 WHERE code = 'ASMITH'")

    tags = [d.tag for d in services.people.list_devices()]
    out = services.devices.offsite_now()

    assert tags == ["LAP-001", "LAP-002", "WP-01"]
    assert [item.device.tag for item in out] == ["LAP-001"]
    assert "not on the list" in out[0].staff.name
    report = services.integrity.verify(save=False)
    assert not report.ok and "staff 500: in the table but never recorded" in said(report)


# --- a change to the lists recorded by no admin -------------------------------------------------


@pytest.mark.parametrize("grant", ["admin role", "PIN hash"])
def test_a_grant_recorded_by_no_admin_is_named(services: Services, db_url: str, grant: str) -> None:
    """pgforge.py: with the key, a plain INSERT of a chained, MACed ``reference_changed``
    event (recorded by nobody) that makes BJONES an admin, or replaces the PIN hash; the
    database applies it to the lists."""
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    assert services.integrity.verify().ok
    with meddle(db_url) as db:
        if grant == "admin role":
            bjones = db.execute("SELECT id FROM staff WHERE code = 'BJONES'")[0][0]
            rows = db.execute(
                "SELECT id FROM events WHERE kind = 'reference_changed' ORDER BY id DESC"
            )
            for (event_id,) in rows:
                details = db.event(event_id)["details"]
                details = details if isinstance(details, dict) else json.loads(details)
                if details["table"] == "staff" and details["key"] == bjones:
                    break
            details["row"]["roles"] = sorted({*details["row"]["roles"], "admin"})
        else:
            setting = db.execute("SELECT value FROM kiosk_settings WHERE key = 'admin_pin'")
            value = json.loads(setting[0][0])
            value["hash"] = "0" * len(value["hash"])
            details = {
                "table": "kiosk_settings",
                "key": "admin_pin",
                "row": {"value": json.dumps(value), "updated_at": "2026-03-10T08:05:00+00:00"},
            }
        _append(db, {"kind": "reference_changed", "category": "reference", "details": details})

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "grant(s) of admin or change(s) of the admin PIN not recorded by an admin" in said(
        report
    )


def test_a_new_school_imports_its_admins_and_verifies(services: Services) -> None:
    """kiosk setup's first run: the roster, admins included, imported before any admin
    exists (by no one), then the PIN set by an admin: nothing to name."""
    services.admin.set_pin("428613")  # setup asks for the PIN before the roster
    services.people.import_staff_csv(
        b"code,name,roles\nGHEAD,Gail Head,admin;slt\nOOFFICE,Omar Office,admin\nTT,Tia T,\n"
    )
    services.people.add_device("LAP-9", "laptop", admin_code="GHEAD")

    assert services.integrity.verify(save=False).ok
