"""Issue 15, fourth round: an independent attacker pass (helper Z, 6 December).

Each attack here got past the database's guards, past ``kiosk verify`` or past the kiosk's
confirmation before this round's fixes; see docs/threat-model.md and the README's
Reliability table.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import psycopg
import pytest
from psycopg import errors

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import (
    Raw,
    add_trigger_spelt_upper,
    libpq_url,
    meddle,
    sqlite_path,
)
from tests.reliability.test_attacks import _append, said, shift_school
from tests.reliability.test_attacks_round3 import as_intruder
from tests.reliability.test_least_privilege import _snapshot, _staff_change

# --- PostgreSQL: the kiosk's login shadows the register's tables with temporary ones ----------


@pytest.mark.postgresql
def test_a_temporary_settings_table_does_not_open_the_owners_changes_to_the_kiosk_login(
    set_up_school: Services, kiosk_url: str
) -> None:
    """Every login may create temporary tables, and PostgreSQL looks a name up in the
    session's temporary schema FIRST unless the search_path says otherwise. Revision 0006's
    guard reads ``kiosk_settings`` and ``staff_roles`` unqualified: an empty temporary
    ``kiosk_settings`` made the school look "not set up", and the kiosk's login (with the
    school key) granted itself admin; the database applied it."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = _staff_change("BJONES", roles=["admin", "breakfast_club_lead"])(db)
        kiosk.execute("CREATE TEMP TABLE kiosk_settings (key text, value text)")
        with pytest.raises(errors.InsufficientPrivilege, match="only the database owner"):
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok


_AS_THE_OWNER = """
CREATE FUNCTION pg_temp.as_the_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Runs with the rights of whoever fires it: inside kiosk_apply_reference (SECURITY
    -- DEFINER), the owner. What the purge function does, without its rules: a guard row,
    -- then DELETE one event from the middle of the chain.
    INSERT INTO public.kiosk_settings (key, value, updated_at)
    VALUES ('events_purge_guard', '999999', now());
    DELETE FROM public.events WHERE id = 3;
    DELETE FROM public.kiosk_settings WHERE key = 'events_purge_guard';
    INSERT INTO public.staff_roles (staff_id, role)
    SELECT id, 'admin' FROM public.staff WHERE code = 'BJONES';
    RETURN NULL;
END $$
"""


@pytest.mark.postgresql
def test_a_temporary_table_with_a_trigger_does_not_run_the_kiosk_logins_code_as_the_owner(
    set_up_school: Services, kiosk_url: str
) -> None:
    """The SECURITY DEFINER function that applies list changes wrote to the first
    ``staff_roles`` on its search_path: a temporary one of the kiosk's login, with a trigger
    whose function (also temporary) then ran as the owner: it deleted an event and made
    someone an admin straight in the table. A rename, which the kiosk's login may record,
    was enough to set it off."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = _staff_change("BJONES", name="Ben Jones-Smith")(db)
        kiosk.execute("CREATE TEMP TABLE staff_roles (staff_id int, role text)")
        kiosk.execute(_AS_THE_OWNER)
        kiosk.execute(
            "CREATE TRIGGER as_the_owner AFTER DELETE ON pg_temp.staff_roles "
            "FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.as_the_owner()"
        )
        _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        kiosk.commit()
    count, _head = before[0]
    after = _snapshot(kiosk_url)
    assert after[0][0] == count + 1  # the rename, and nothing taken away
    assert after[2] == before[2]  # the roles as they were: nobody made an admin
    assert set_up_school.integrity.verify(save=False).ok


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "how",
    [
        "ALTER FUNCTION kiosk_apply_reference() SET search_path FROM CURRENT",
        "ALTER FUNCTION kiosk_guard_reference() RESET search_path",
        "ALTER FUNCTION kiosk_purge_events(bigint) SET search_path = pg_temp, public",
    ],
)
def test_verify_names_a_function_that_looks_in_temporary_tables_first(
    set_up_school: Services, pg_url: str, how: str
) -> None:
    """A database restored from a dump taken before revision 0007, or a function put back by
    hand: verify names it, so the office knows the kiosk's login can step round the guards."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(how)
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    name = how.split()[2].partition("(")[0]
    assert any(
        p.startswith(f"the function {name} looks tables up in a session's temporary tables")
        for p in report.problems
    ), report.problems


# --- corrections: a chained, MACed correction voids an event whoever records it ---------------


def _staff(db: Raw, code: str) -> int:
    return int(db.execute("SELECT id FROM staff WHERE code = %s", (code,))[0][0])


def _correction(db: Raw, target: int, by: int | None, staff: int | None) -> dict[str, object]:
    return _append(
        db,
        {
            "kind": "correction",
            "category": "correction",
            "staff_id": staff,
            "recorded_by_id": by,
            "target_event_id": target,
            "details": {"reason": "undone at the kiosk", "voided_kind": "phone_deposited"},
        },
    )


def test_a_correction_recorded_by_nobody_entitled_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosk voids an event only for an admin, or for the person who recorded it ("Undo
    last"). A correction appended with the key (the kiosk's login, a shell on a kiosk) by
    anyone else voided last week's deposit: the phone left the store in the register and in
    every listing, and verify said the register was intact."""
    shift_school(services)
    deposit = services.phones.deposit("BJONES").event_id
    clock.advance(days=7)
    # What the kiosk itself does stays fine: an admin's void, an undo by the recorder.
    services.register.void(
        services.phones.deposit("ASMITH").event_id, reason="wrong person", admin_code="CHEAD"
    )
    services.register.undo(services.phones.deposit("EPATEL").event_id, recorded_by="EPATEL")
    assert services.integrity.verify(save=False).ok
    with as_intruder(db_url) as db:
        asmith, bjones = _staff(db, "ASMITH"), _staff(db, "BJONES")
        forged = _correction(db, deposit, by=asmith, staff=bjones)["id"]
    assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"correction {forged} voids event {deposit}" in said(report)
    assert "not recorded by an admin or by whoever recorded the event they void" in said(report)


def test_a_correction_of_an_event_not_yet_recorded_is_named_and_voids_nothing(
    sqlite_url: str, clock: FakeClock
) -> None:
    """SQLite (a shell with the key; sqlite3 does not check the file's foreign keys): a
    correction naming the id the NEXT event will get. The kiosk then confirmed a deposit that
    was void from the moment it was stored: "Phone deposited" on the screen, no phone in the
    register. Now the kiosk never gives a new event an id something already names, and
    verify names the correction."""
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    try:
        shift_school(services)
        with meddle(sqlite_url) as db:
            head = int(db.execute("SELECT max(id) FROM events")[0][0])
            forged = _correction(db, head + 2, by=None, staff=_staff(db, "ASMITH"))["id"]
        deposit = services.phones.deposit("ASMITH")
        assert deposit.event_id != head + 2
        assert deposit.event_id in {h.event_id for h in services.phones.phones_now()}
        report = services.integrity.verify(save=False)
        assert not report.ok
        assert f"correction {forged} voids event {head + 2}, an id after its own" in said(report)
        assert len(report.problems) == 1, report.problems
    finally:
        services.close()


# --- SQLite: an index that does not hold what its table holds ----------------------------------


def _index_without(path: str, index: str, columns: str, event_id: int) -> None:
    """A shell on the file: rebuild ``index`` leaving one event out (a partial index), then
    write the original CREATE INDEX back into the schema (writable_schema): the text is the
    kiosk's again, the index is not."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        original = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (index,)
        ).fetchone()[0]
        conn.execute(f"DROP INDEX {index}")
        conn.execute(f"CREATE INDEX {index} ON events ({columns}) WHERE id <> {event_id}")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (original, index))
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def test_an_index_that_hides_an_event_from_the_register_is_named(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Verify walks the table itself (by rowid); the register and the current state find a
    person's events through ``ix_events_staff_stream``. An index rebuilt without one
    deposit, its CREATE text put back as it was: the phone was not in the store in any
    listing, and verify said the register was intact."""
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    try:
        shift_school(services)
        deposit = services.phones.deposit("BJONES").event_id
        services.close()
        _index_without(
            sqlite_path(sqlite_url), "ix_events_staff_stream", "staff_id, category, id", deposit
        )
        services = Services(
            make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
        )
        assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}
        report = services.integrity.verify(save=False)
        assert not report.ok
        assert f"row {deposit} missing from index ix_events_staff_stream" in said(report), (
            report.problems
        )
    finally:
        services.close()


# --- PostgreSQL: the kiosk's login holds the register's write lock -----------------------------


@pytest.mark.postgresql
def test_a_write_lock_held_by_another_login_is_not_recorded_in_words_not_a_hang(
    set_up_school: Services, kiosk_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write takes one advisory lock first (the chain stays linear). Any login may take
    it too, at session level, and keep it: every kiosk's next scan then waited forever, a
    frozen screen instead of "Not recorded". Now a write waits as long as on SQLite's lock,
    then says so; once the lock is let go the kiosk records again."""
    from kiosk.services import uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 500)
    services = set_up_school
    outcome: list[BaseException | str] = []

    def scan() -> None:
        try:
            services.phones.deposit("BJONES")
            outcome.append("recorded")
        except BaseException as exc:  # what the kiosk would show
            outcome.append(exc)

    holder = psycopg.connect(libpq_url(kiosk_url), autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (uow.CHAIN_LOCK_KEY,))
        worker = threading.Thread(target=scan, daemon=True)
        worker.start()
        worker.join(timeout=20)
        finished = not worker.is_alive()
    finally:
        holder.close()  # lets a waiting write through, so the thread ends either way
    worker.join(timeout=20)
    assert finished, "the write was still waiting for the lock"
    assert isinstance(outcome[0], DatabaseUnavailable), outcome
    assert "Not recorded" in str(outcome[0]) and "lock" in str(outcome[0])
    services.phones.deposit("BJONES")  # the lock let go: recorded
    assert "BJONES" in {h.staff.code for h in services.phones.phones_now()}


# --- SQLite: a trigger whose schema row does not say 'trigger' --------------------------------


def test_a_trigger_filed_under_another_spelling_is_named(sqlite_url: str, clock: FakeClock) -> None:
    """SQLite loads a schema row by its CREATE text and reads its type without regard to
    case: a trigger whose row says ``TRIGGER`` works, and ``type = 'trigger'`` (how verify
    listed the triggers) does not find it. Here it drops every deposit of one person: the
    kiosk says "Not recorded" each time (round 3), but verify said the register was intact
    and named no trigger."""
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    try:
        shift_school(services)
        services.close()
        add_trigger_spelt_upper(sqlite_path(sqlite_url), "BJONES")
        services = Services(
            make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
        )
        with pytest.raises(DatabaseUnavailable, match="Not recorded"):
            services.phones.deposit("BJONES")
        report = services.integrity.verify(save=False)
        assert not report.ok
        assert "the trigger quiet on events is not the kiosk's" in report.problems
    finally:
        services.close()


# --- PostgreSQL: verify reads one snapshot --------------------------------------------------


@pytest.mark.postgresql
def test_a_list_change_committed_while_verify_reads_is_no_false_alarm(
    set_up_school: Services, kiosk_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verify read the lists, then the events, in PostgreSQL's default READ COMMITTED: each
    statement its own snapshot. A list change (or a correction) committed in between, by any
    kiosk, made verify say "REGISTER TAMPERED WITH" about an honest register; the kiosk's
    login could do it at will during the nightly check, until the office stopped believing
    verify. Now verify reads one snapshot."""
    from kiosk.services import integrity

    read_lists = integrity.all_table_rows

    def lists_then_a_rename(conn: object) -> object:
        found = read_lists(conn)  # type: ignore[arg-type]
        with psycopg.connect(libpq_url(kiosk_url)) as other:
            db = Raw(other, sqlite=False)
            details = _staff_change("BJONES", name="Ben Jones-Smith")(db)
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        return found

    monkeypatch.setattr(integrity, "all_table_rows", lists_then_a_rename)
    report = set_up_school.integrity.verify(save=False)
    assert report.ok, report.problems
    monkeypatch.setattr(integrity, "all_table_rows", read_lists)
    after = set_up_school.integrity.verify(save=False)
    assert after.ok, after.problems


# --- the witness: a forged register_verified event outbid this machine's witness file ----------


def test_a_forged_check_in_the_chain_does_not_outbid_the_witness_file(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A shell with the key cuts the newest events off (a deposit among them), appends others
    in their place, then a forged ``register_verified`` event naming a newer head. Verify
    took whichever witness named the newer event, the forged one, and never looked at this
    machine's witness file, which names the deposit: "Register intact". Now each witness is
    checked."""
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    try:
        shift_school(services)
        deposit = services.phones.deposit("BJONES").event_id
        checked = services.integrity.verify()  # witness: the deposit (file and chain)
        assert checked.ok and checked.witness_id == deposit
        with meddle(sqlite_url) as db:
            db.execute("DELETE FROM events WHERE id >= %s", (deposit,))
            for _ in range(2):
                head = _append(
                    db,
                    {"kind": "notice_sent", "category": "notice", "details": {"notice": "x"}},
                )
            forged = replace(checked, witness_id=head["id"], witness_hash=head["hash"])
            _append(
                db,
                {
                    "kind": "register_verified",
                    "category": "admin",
                    "details": {"report": json.loads(forged.to_json())},
                },
            )
        assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}

        report = services.integrity.verify()
        again = services.integrity.verify()  # the witness stays put: still named

        for result in (report, again):
            assert not result.ok
            assert f"event {deposit}, the newest at an earlier check, has been changed" in said(
                result
            )
    finally:
        services.close()


# --- PostgreSQL: a time psycopg cannot load (infinity, year 10000, BC) -------------------------


def _insert_raw_event(db: Raw, occurred_at: str) -> int:
    """An event as the kiosk's login can INSERT it without the key (the MAC is wrong, which
    verify would name: if verify could still read the register)."""
    head = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1")[0]
    db.execute(
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, hash, "
        "mac) VALUES (%s, %s, 'phone_deposited', 'phone', 'k', '{}', %s, %s, 'x')",
        (head[0] + 1, occurred_at, head[1], "f" * 64),
    )
    return int(head[0]) + 1


@pytest.mark.postgresql
@pytest.mark.parametrize("moment", ["infinity", "-infinity", "10000-01-01", "0044-03-15 BC"])
def test_a_time_no_reader_can_load_is_refused_by_the_database(
    set_up_school: Services, kiosk_url: str, moment: str
) -> None:
    """``timestamptz`` holds ``infinity``, years after 9999 and BC dates; psycopg (Python's
    datetime) loads none of them. One such event, INSERTed by the kiosk's login without the
    key, made every later `kiosk verify` say "The database is unavailable": verify could
    never again say the register was tampered with, while the kiosks went on recording."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk, pytest.raises(errors.CheckViolation):
        _insert_raw_event(Raw(kiosk, sqlite=False), moment)
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok


@pytest.mark.postgresql
def test_a_list_time_no_reader_can_load_is_refused_by_the_database(
    set_up_school: Services, kiosk_url: str
) -> None:
    """The same through a list change the kiosk's login may record (retiring someone who is
    not an admin): ``retired_at`` 'infinity' in ``staff`` made every read of the staff list
    fail, every scan at every kiosk and verify alike."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = _staff_change("BJONES", retired_at="infinity")(db)
        with pytest.raises(errors.CheckViolation):
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok


@pytest.mark.postgresql
def test_verify_names_an_event_whose_time_cannot_be_loaded(
    set_up_school: Services, pg_url: str
) -> None:
    """Such a row from before revision 0007 (or put in by the owner, the check dropped):
    verify names the event as unreadable instead of stopping."""
    with psycopg.connect(libpq_url(pg_url)) as owner:
        owner.execute("ALTER TABLE events DROP CONSTRAINT ck_events_occurred_at_readable")
        bad = _insert_raw_event(Raw(owner, sqlite=False), "infinity")
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    assert f"event {bad} cannot be read" in said(report)


@pytest.mark.postgresql
def test_an_unreadable_time_from_before_0007_does_not_stop_the_upgrade(
    set_up_school: Services, pg_url: str
) -> None:
    """Revision 0007 on a register that already holds such an event: the upgrade goes
    through (the check guards new rows), and verify names the event."""
    from kiosk.db import migrate
    from kiosk.db.engine import null_pool_engine

    engine = null_pool_engine(pg_url)
    try:
        migrate.downgrade(engine, "0006")
        with psycopg.connect(libpq_url(pg_url)) as owner:
            bad = _insert_raw_event(Raw(owner, sqlite=False), "infinity")
        migrate.upgrade(engine)
        assert migrate.is_at_head(engine)
    finally:
        engine.dispose()
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    assert f"event {bad} cannot be read" in said(report)


# --- PostgreSQL: row-level security and rules hide rows from the kiosk's login only -----------


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("setup", "said_"),
    [
        (
            "ALTER TABLE events ENABLE ROW LEVEL SECURITY; "
            "CREATE POLICY everyone ON events TO PUBLIC USING (true); "
            "CREATE POLICY hide ON events AS RESTRICTIVE FOR SELECT TO kiosk_app "
            "USING (staff_id IS DISTINCT FROM {bjones})",
            "the table events has row-level security",
        ),
        (
            "CREATE RULE quiet AS ON INSERT TO staff_roles WHERE NEW.role = 'admin' "
            "DO INSTEAD NOTHING",
            "the rule quiet on staff_roles is not the kiosk's",
        ),
    ],
)
def test_verify_names_row_security_and_rules_on_the_register(
    set_up_school: Services, pg_url: str, setup: str, said_: str
) -> None:
    """The owner (or a restored dump) turns row-level security on for events with a policy
    that hides one person's events from the kiosks' role: the register on every kiosk loses
    her deposit, while verify run on the owner's login (which the policy does not bind)
    walked every row and said "Register intact". A RULE works like a trigger that verify
    did not list. Both are now named."""
    services = set_up_school
    services.phones.deposit("BJONES")
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        bjones = _staff(Raw(owner, sqlite=False), "BJONES")
        for statement in setup.format(bjones=bjones).split("; "):
            owner.execute(statement)
    if "ROW LEVEL" in setup:
        assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}
    office = Services(
        make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url), services.ctx.clock
    )
    try:
        report = office.integrity.verify(save=False)
    finally:
        office.close()
    assert not report.ok
    assert any(p.startswith(said_) for p in report.problems), report.problems
