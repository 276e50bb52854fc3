"""Round 5 of the red team on the record: attacks the earlier rounds did not try.

Each test here failed on main before its fix (see the commit that added it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import _admin_id, _append, said, shift_school
from tests.school import make_ready

# --- a forged purge checkpoint in the middle of the chain excused a missing witness ------------


def test_a_checkpoint_that_removed_nothing_does_not_excuse_the_missing_witness(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """A shell with the key cuts the newest events off (a deposit among them: the newest event
    at the last check, named by this machine's witness file) and appends, in the deposit's
    place but under the next id, a purge checkpoint with lawful dates "removing" everything up
    to the deposit. Nothing before it was removed: the register still starts at its first
    event. Verify took the checkpoint's word that the witness had been purged: "Register
    intact", the witness file left in place and never heeded."""
    services = sqlite_services
    shift_school(services)
    deposit = services.phones.deposit("BJONES").event_id
    checked = services.integrity.verify()  # witness: the deposit (file and chain)
    assert checked.ok and checked.witness_id == deposit
    with meddle(sqlite_url) as db:
        db.execute("DELETE FROM events WHERE id >= %s", (deposit,))
        head = db.event(deposit - 1)
        at = head["occurred_at"]
        admin = _admin_id(db)
        _append(
            db,
            {
                "id": deposit + 1,  # the deposit's id is left empty: "purged"
                "kind": "admin_action",
                "category": "admin",
                "staff_id": admin,
                "recorded_by_id": admin,
                "details": {
                    "action": "events_purged",
                    "before": "2020-01-01",
                    "last_removed_id": deposit,
                    "last_removed_hash": "f" * 64,
                    "last_removed_at": "2019-12-31T08:00:00.000000+00:00",
                    "last_removed_position": deposit,
                    "removed": deposit,
                },
                "occurred_at": at,
            },
        )
    assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}

    report = services.integrity.verify()
    again = services.integrity.verify()  # the witness stays put: still named

    for result in (report, again):
        assert not result.ok
        assert f"event {deposit}, the newest at an earlier check, is missing" in said(result)
        assert f"purge checkpoint {deposit + 1} says it removed events up to {deposit}" in (
            said(result)
        )


# --- details nested deeper than Python's JSON reader goes --------------------------------------


DEEP = "[" * 5000 + "]" * 5000


def _insert_deep_event(db: Any) -> int:
    """An event whose details nest 5,000 arrays deep, as a login without the key can INSERT
    it (its hash and MAC are wrong: verify would name it, if it could read it)."""
    head = db.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1")[0]
    db.execute(
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, hash, "
        "mac) VALUES (%s, %s, 'notice_sent', 'notice', 'k', %s, %s, %s, 'x')",
        (head[0] + 1, head[2], '{"notice": ' + DEEP + "}", head[1], "f" * 64),
    )
    return int(head[0]) + 1


def test_details_nested_too_deep_to_read_are_named_not_a_crash(
    services: Services, db_url: str
) -> None:
    """Python's JSON reader stops at about 1,000 levels (RecursionError, not a ValueError);
    PostgreSQL's ``json`` and SQLite keep 5,000. One such event stopped every later `kiosk
    verify` with "something unexpected went wrong" (it could never again say "tampered
    with"), and every listing that read it. On PostgreSQL the kiosk's own login can INSERT
    it, without the key."""
    shift_school(services)
    assert services.integrity.verify().ok
    with meddle(db_url) as db:
        deep = _insert_deep_event(db)

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert deep in report.mismatched
    assert f"event {deep} cannot be read: its details are nested too deep to read" in said(report)
    day = services.register.day(services.ctx.clock().date())
    (row,) = [r for r in day.rows if r.event_id == deep]
    assert "UNREADABLE" in f"{row.what} {row.detail}"


@pytest.mark.postgresql
def test_the_kiosk_login_cannot_stop_verify_with_deep_details(
    set_up_school: Services, kiosk_url: str
) -> None:
    """The same, INSERTed by the kiosk's own login (no key, no owner)."""
    import psycopg

    from tests.reliability.helpers import Raw, libpq_url

    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        deep = _insert_deep_event(Raw(conn, sqlite=False))

    report = set_up_school.integrity.verify(save=False)

    assert not report.ok
    assert f"event {deep} cannot be read" in said(report)


# --- details stored as a JSON string holding the object's text: same hash, another value -------


def _details_as_a_json_string(db_url: str, event_id: int) -> None:
    """Rewrite one event's details from the object ``{...}`` to the JSON string ``"{...}"``:
    every other column, the hash and the MAC stay as they were."""
    with meddle(db_url) as db:
        if db.sqlite:
            db.execute("UPDATE events SET details = json_quote(details) WHERE id = %s", (event_id,))
        else:
            db.execute(
                "UPDATE events SET details = to_json(details::text) WHERE id = %s", (event_id,)
            )


def test_details_rewritten_as_a_json_string_are_named(services: Services, db_url: str) -> None:
    """The hash covered the details as verify parsed them, and verify parsed a JSON string
    holding JSON text a second time: ``"{\\"reason\\": ...}"`` hashed as the object itself.
    The kiosk reads the stored value once (a string, not the sign-out's details): the register
    marked the sign-out "UNREADABLE ... kiosk verify names it", while verify said "Register
    intact". No key is needed: a shell on the SQLite file (or the PostgreSQL owner)."""
    shift_school(services)
    make_ready(services, "ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    signed_out = services.register.last_event_id()
    services.phones.deposit("BJONES")
    assert services.integrity.verify().ok

    _details_as_a_json_string(db_url, signed_out)

    day = services.register.day(services.ctx.clock().date())
    (row,) = [r for r in day.rows if r.event_id == signed_out]
    assert row.what == "UNREADABLE ROW"  # the kiosk reads what is stored now
    report = services.integrity.verify(save=False)
    assert not report.ok
    assert signed_out in report.mismatched
    assert f"event {signed_out} cannot be read: its details are not a JSON object" in said(report)


def test_a_trigger_that_stores_the_details_as_a_json_string_is_not_confirmed(
    services: Services, db_url: str
) -> None:
    """The same change made on the way in by a trigger that is not the kiosk's (SQLite: a
    shell drops the append-only trigger and updates the new row; PostgreSQL: the owner's
    BEFORE INSERT trigger). The kiosk read its event back and parsed the string twice, as
    verify did: it confirmed a sign-out whose details it could then not read."""
    import sqlite3

    import psycopg

    from kiosk.domain.errors import DatabaseUnavailable
    from tests.reliability.helpers import libpq_url, sqlite_path
    from tests.reliability.test_tamper import event_ids

    shift_school(services)
    make_ready(services, "ASMITH")
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(db_url))
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute(
            "CREATE TRIGGER events_quote AFTER INSERT ON events "
            "WHEN NEW.kind = 'device_signed_out' BEGIN "
            "UPDATE events SET details = json_quote(details) WHERE id = NEW.id; END"
        )
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as owner:
            owner.execute(
                "CREATE FUNCTION events_quote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.kind = 'device_signed_out' THEN "
                "NEW.details := to_json(NEW.details::text); END IF; RETURN NEW; END $$"
            )
            owner.execute(
                "CREATE TRIGGER events_quote BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION events_quote()"
            )
    before = event_ids(db_url)

    with pytest.raises(DatabaseUnavailable, match="did not store it"):
        services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")

    assert event_ids(db_url) == before
    services.phones.deposit("BJONES")  # anything else is stored as before
    assert len(event_ids(db_url)) == len(before) + 1


# --- PostgreSQL: the kiosk's login turns synchronous_commit off for itself ---------------------


@pytest.mark.postgresql
def test_a_kiosk_login_cannot_have_its_writes_confirmed_before_they_are_on_disk(
    set_up_school: Services, kiosk_url: str, clock: FakeClock
) -> None:
    """Any login may ``ALTER ROLE CURRENT_USER SET synchronous_commit = off``: PostgreSQL then
    answers every COMMIT of that login's kiosks before the commit is on disk, and a power
    cut or crash in the next moment loses events the kiosk had confirmed ("Deposited"), with
    nothing for verify to see (the chain just ends earlier). Every other thing a login can do
    to its own role shows as "Not recorded" (docs/threat-model.md); this showed as a
    confirmation. The kiosk's write transaction now commits durably whatever the login's (or
    the server's) default says."""
    import psycopg
    from sqlalchemy import text

    from tests.reliability.helpers import libpq_url

    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        conn.execute("ALTER ROLE CURRENT_USER SET synchronous_commit = off")
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    services = Services(make_engine(kiosk_url), settings, clock)  # new sessions: the new default
    try:
        with services.ctx.read() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
        with services.ctx.write() as uow:  # every use case that records writes in one
            # What this transaction's COMMIT will wait for.
            in_effect = uow.session.execute(text("SHOW synchronous_commit")).scalar()
        assert in_effect == "on", f"a write commits with synchronous_commit {in_effect}"
        services.phones.deposit("BJONES")
        assert "BJONES" in {h.staff.code for h in services.phones.phones_now()}
    finally:
        services.close()


# --- a last check in the chain whose witness is not an event id --------------------------------


@pytest.mark.parametrize("witness", ["x", [1], {"id": 1}])
def test_a_last_check_naming_no_event_id_does_not_stop_verify(
    services: Services, db_url: str, witness: Any
) -> None:
    """verify compares this machine's witness file with the chain's newest
    ``register_verified`` event, read as it was stored. One whose witness is not an event id
    (text, a list), INSERTed without the key (on PostgreSQL by the kiosk's own login), made
    every later `kiosk verify` on a machine with a witness file stop with "something
    unexpected went wrong (TypeError ...)": it stays the newest check, since no check could
    be recorded after it. It is read as no check (its MAC, or its hash, is named)."""
    shift_school(services)
    checked = services.integrity.verify()  # a witness file on this machine
    assert checked.ok
    forged = json.loads(checked.to_json()) | {"witness_id": witness}
    with meddle(db_url) as db:
        head = db.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1")[0]
        db.execute(
            "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
            "hash, mac) VALUES (%s, %s, 'register_verified', 'admin', 'k', %s, %s, %s, 'x')",
            (head[0] + 1, head[2], json.dumps({"report": forged}), head[1], "f" * 64),
        )
        forged_id = head[0] + 1

    report = services.integrity.verify()

    assert not report.ok
    assert forged_id in report.mismatched
    assert services.integrity.verify().mismatched == report.mismatched  # and again


# --- numbers and times out of Python's range -----------------------------------------------------


def _insert_event(db: Any, kind: str, category: str, details: str, at: Any = None) -> int:
    """An event INSERTed without the key (its hash and MAC are wrong)."""
    head = db.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1")[0]
    db.execute(
        "INSERT INTO events (id, occurred_at, kind, category, staff_id, kiosk, details, "
        "prev_hash, hash, mac) VALUES (%s, %s, %s, %s, "
        "(SELECT min(staff_id) FROM staff_roles WHERE role = 'admin'), 'k', %s, %s, %s, 'x')",
        (head[0] + 1, at or head[2], kind, category, details, head[1], "f" * 64),
    )
    return int(head[0]) + 1


def test_a_checkpoint_naming_an_id_too_large_for_python_is_named_not_a_crash(
    services: Services, db_url: str
) -> None:
    """``1e999`` is a JSON number PostgreSQL's ``json`` and SQLite keep; Python reads it as
    infinity, and ``int()`` of that is an OverflowError, which verify did not expect: one
    purge checkpoint saying it removed up to event ``1e999``, INSERTed without the key (on
    PostgreSQL by the kiosk's own login), stopped every later `kiosk verify` with "something
    unexpected went wrong"."""
    shift_school(services)
    details = '{"action": "events_purged", "last_removed_id": 1e999, "last_removed_hash": "x"}'
    with meddle(db_url) as db:
        forged = _insert_event(db, "admin_action", "admin", details)

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"checkpoint event {forged} is incomplete" in said(report)


@pytest.mark.parametrize("column", ["occurred_at", "due_at"])
def test_a_time_before_year_one_in_utc_is_named_not_a_crash(
    sqlite_services: Services, sqlite_url: str, column: str
) -> None:
    """SQLite keeps times as text: ``0001-01-01T00:00:00+01:00`` is a time Python reads, but
    in UTC it falls before the year 1 (OverflowError, not a ValueError). One such time written
    into the file stopped every later `kiosk verify` with "something unexpected went wrong"."""
    import sqlite3

    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    deposit = services.phones.deposit("BJONES").event_id
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        f"UPDATE events SET {column} = '0001-01-01T00:00:00+01:00' WHERE id = ?", (deposit,)
    )
    conn.commit()
    conn.close()

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"event {deposit} cannot be read" in said(report)


def test_a_checkpoint_dated_in_the_year_one_is_named_not_a_crash(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """A purge checkpoint is checked against a year before its own date: dated in the year 1
    (a time SQLite keeps as text), that was an OverflowError, and verify stopped."""
    services = sqlite_services
    shift_school(services)
    details = json.dumps(
        {
            "action": "events_purged",
            "before": "0001-01-01",
            "last_removed_id": 0,
            "last_removed_hash": "x",
            "last_removed_at": "0001-01-01T00:00:00+00:00",
            "last_removed_position": 0,
        }
    )
    with meddle(sqlite_url) as db:
        forged = _insert_event(
            db, "admin_action", "admin", details, at="0001-01-01 00:00:00.000000"
        )

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert forged in report.mismatched


@pytest.mark.postgresql
def test_the_kiosk_login_cannot_stop_verify_with_an_infinite_checkpoint(
    set_up_school: Services, kiosk_url: str
) -> None:
    """The same checkpoint, INSERTed by the kiosk's own login (no key, no owner)."""
    import psycopg

    from tests.reliability.helpers import Raw, libpq_url

    details = '{"action": "events_purged", "last_removed_id": 1e999, "last_removed_hash": "x"}'
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        forged = _insert_event(Raw(conn, sqlite=False), "admin_action", "admin", details)

    report = set_up_school.integrity.verify(save=False)

    assert not report.ok
    assert f"checkpoint event {forged} is incomplete" in said(report)


# --- a correction voiding an event before the register's first --------------------------------


def test_a_correction_of_an_id_before_the_first_event_is_named_not_a_crash(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """verify lets a correction void an event purged before the register's first (a
    checkpoint accounts for it), then looked that event up to see who recorded it: a
    KeyError. One correction of event 0, recorded by someone who is not an admin, written
    into the SQLite file without the key (sqlite3 does not check foreign keys unless asked),
    stopped every later `kiosk verify` with "something unexpected went wrong"."""
    import sqlite3

    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    (staff,) = conn.execute(
        "SELECT id FROM staff WHERE id NOT IN "
        "(SELECT staff_id FROM staff_roles WHERE role = 'admin') LIMIT 1"
    ).fetchone()
    head = conn.execute(
        "SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.execute(
        "INSERT INTO events (id, occurred_at, kind, category, staff_id, recorded_by_id, "
        "kiosk, target_event_id, details, prev_hash, hash, mac) "
        "VALUES (?, ?, 'correction', 'correction', ?, ?, 'k', 0, '{}', ?, ?, 'x')",
        (head[0] + 1, head[2], staff, staff, head[1], "f" * 64),
    )
    conn.commit()
    conn.close()

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert head[0] + 1 in report.mismatched
    # Nothing was purged: the register starts at its beginning.
    assert f"correction {head[0] + 1} voids event 0, which is not in the register" in said(report)


# --- a list row holding binary data --------------------------------------------------------------


@pytest.mark.parametrize(("table", "column"), [("staff", "name"), ("kiosk_settings", "value")])
def test_binary_data_in_a_list_row_is_named_not_a_crash(
    sqlite_services: Services, sqlite_url: str, table: str, column: str
) -> None:
    """verify names each list column that differs from the chain, showing both values as
    JSON: binary data (a BLOB, which SQLite keeps in any column) could not be shown, and the
    TypeError stopped every later `kiosk verify`. No key needed (a shell on the file)."""
    import sqlite3

    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    assert services.integrity.verify(save=False).ok
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    conn.execute(
        f"UPDATE {table} SET {column} = X'41' WHERE rowid = (SELECT min(rowid) FROM {table})"
    )
    conn.commit()
    conn.close()

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert f"column {column}: stored" in said(report)


# --- the newest event's hash stored as binary data -----------------------------------------------


def test_a_binary_hash_on_the_newest_event_is_named_not_a_crash(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """verify keeps the newest event's stored hash as the witness (a file, a
    ``register_verified`` event: JSON). Stored as binary data by a shell without the key, it
    could not be written: every later `kiosk verify` stopped with a TypeError, and every
    write at the kiosk with an UnreadableEvent (a traceback, not "Not recorded")."""
    import sqlite3

    from kiosk.domain.errors import DatabaseUnavailable
    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    newest = services.phones.deposit("BJONES").event_id
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET hash = X'00' WHERE id = ?", (newest,))
    conn.commit()
    conn.close()

    report = services.integrity.verify()
    again = services.integrity.verify()

    for result in (report, again):
        assert not result.ok
        assert newest in result.mismatched
    # Nothing can be chained after it: said in words, not a traceback.
    with pytest.raises(DatabaseUnavailable, match="Not recorded: the newest event"):
        services.phones.deposit("ASMITH")


# --- SQLite: an event with the largest id there is -----------------------------------------------


def test_an_event_with_the_largest_id_is_not_recorded_in_words_on_sqlite(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """The next id after 9223372036854775807 does not fit SQLite's INTEGER: Python's sqlite3
    raises OverflowError before the statement runs (PostgreSQL says "bigint out of range",
    which the kiosk reports as "Not recorded"). One event written into the file with that id
    (no key needed) made every later write at the kiosk fail with a traceback, and `kiosk
    verify`, which records its result, stop with "something unexpected went wrong"."""
    import sqlite3

    from kiosk.domain.errors import DatabaseUnavailable
    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    head = conn.execute(
        "SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.execute(
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
        "hash, mac) VALUES (?, ?, 'notice_sent', 'notice', 'k', '{}', ?, ?, 'x')",
        (2**63 - 1, head[2], head[1], "f" * 64),
    )
    conn.commit()
    conn.close()

    with pytest.raises(DatabaseUnavailable, match="Not recorded"):
        services.phones.deposit("ASMITH")
    report = services.integrity.verify()

    assert not report.ok
    assert 2**63 - 1 in report.mismatched
    assert "this result could not be saved" in " ".join(report.notes)


# --- PostgreSQL: the kiosk's login sets its own client encoding ----------------------------------


@pytest.mark.postgresql
def test_a_kiosk_login_that_sets_its_client_encoding_still_records_and_verifies(
    set_up_school: Services, kiosk_url: str, clock: FakeClock
) -> None:
    """``ALTER ROLE CURRENT_USER SET client_encoding = 'SQL_ASCII'`` (any login may): psycopg
    then hands text over as bytes, and every deposit, listing and `kiosk verify` of that
    login's kiosks failed with a TypeError ("something unexpected went wrong"), not in the
    words the threat model promises for what a login does to its own role. The kiosk now
    asks for UTF-8 when it connects, which a role's default does not override."""
    import psycopg

    from tests.reliability.helpers import libpq_url

    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        conn.execute("ALTER ROLE CURRENT_USER SET client_encoding = 'SQL_ASCII'")
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    services = Services(make_engine(kiosk_url), settings, clock)  # new sessions: the new default
    try:
        services.phones.deposit("BJONES")
        assert "BJONES" in {h.staff.code for h in services.phones.phones_now()}
        assert services.integrity.verify(save=False).ok
    finally:
        services.close()


# --- a lone surrogate in stored text: no UTF-8 for it, so every writer of it failed -----------


def test_a_lone_surrogate_in_the_details_is_shown_and_exported_as_a_replacement(
    services: Services, db_url: str, tmp_path: Any
) -> None:
    """JSON may spell a lone surrogate (``\\ud800``): PostgreSQL's ``json`` and SQLite keep the
    escape, and Python reads it back as a ``str`` that no UTF-8 writer takes. A login without
    the key (the kiosk's own, on PostgreSQL) could plant one: the CSV export of that day then
    failed, and a terminal could not be written it. It is shown, exported and printed as ``�``
    (U+FFFD), as every character a screen must not be given; verify names the event."""
    from kiosk.domain.text import display_text, terminal_text

    shift_school(services)
    with meddle(db_url) as db:
        planted = _insert_event(db, "notice_sent", "notice", '{"subject": "Jo\\ud800 Bloggs"}')
    day = services.register.day(services.ctx.clock().date())
    (row,) = [r for r in day.rows if r.event_id == planted]
    shown = display_text(f"{row.what} {row.detail}")
    shown.encode("utf-8")  # what the terminal is given
    assert "Jo\ufffd Bloggs" in shown
    assert terminal_text("Jo\ud800") == "Jo\ufffd"

    path = tmp_path / "day.csv"
    today = services.ctx.clock().date()
    with open(path, "w", encoding="utf-8", newline="") as out:
        services.register.export_csv(out, today, today)
    assert "Jo\ufffd Bloggs" in path.read_text(encoding="utf-8")

    report = services.integrity.verify(save=False)
    assert not report.ok
    assert planted in report.mismatched


def test_a_list_row_with_the_largest_id_does_not_stop_the_list_on_sqlite(
    sqlite_services: Services, sqlite_url: str
) -> None:
    """The same for a list: a staff row written into the file with the id 9223372036854775807
    (no key needed). Adding anyone to the staff list then said "the database is unavailable.
    Please try again" (the next id did not fit the column), which no retry mends. Round 5
    refused it in words; since round 16 (uow.next_id, on both engines) the new row takes the
    id after the largest below the top that no row has and the register never recorded, and
    verify names the row written by hand."""
    import sqlite3

    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'staff'"
    ).fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute(
        "INSERT INTO staff (id, code, name, created_at) "
        "SELECT ?, 'ZZTOP', 'Zed Top', created_at FROM staff LIMIT 1",
        (2**63 - 1,),
    )
    conn.commit()
    conn.close()

    services.people.add_staff("GHILL", "Gus Hill", admin_code="CHEAD")
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    (gus,) = conn.execute("SELECT id FROM staff WHERE code = 'GHILL'").fetchone()
    conn.close()
    assert gus < 2**63 - 1  # the id after the largest below the top
    assert services.phones.deposit("ASMITH").event_id  # the rest goes on
    report = services.integrity.verify()
    assert not report.ok
    said_ = " ".join(report.problems)
    assert f"staff {2**63 - 1}: in the table but never recorded" in said_, said_


# --- a list value its column cannot read back: the kiosk said "something unexpected" ------------


@pytest.mark.parametrize("garbled", ["x", "0001-01-01T00:00:00+01:00", b"\x00\xff"])
def test_a_garbled_list_value_is_said_in_words_at_the_kiosk(
    sqlite_services: Services, sqlite_url: str, garbled: object
) -> None:
    """A store's ``retired_at`` written into the file by hand as something no time is (no key
    needed): every deposit at the kiosk failed with "something unexpected went wrong" (a
    ValueError out of SQLAlchemy reading the row). It says "Not recorded" and why; `kiosk
    verify` names the list row; nothing is stored."""
    import sqlite3

    from kiosk.domain.errors import DatabaseUnavailable
    from tests.reliability.helpers import sqlite_path

    services = sqlite_services
    shift_school(services)
    before = services.integrity.verify(save=False)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'stores'"
    ).fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("UPDATE stores SET retired_at = ?", (garbled,))
    conn.commit()
    conn.close()
    reader = sqlite3.connect(sqlite_path(sqlite_url))
    count = reader.execute("SELECT count(*) FROM events").fetchone()[0]

    with pytest.raises(DatabaseUnavailable, match="Not recorded: a value stored in the"):
        services.phones.deposit("ASMITH")

    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == count
    reader.close()
    assert before.ok
    assert not services.integrity.verify(save=False).ok


def test_a_bug_in_the_kiosks_own_use_of_the_database_is_not_called_a_value_written_by_hand(
    sqlite_services: Services,
) -> None:
    """Only an error out of SQLAlchemy reading a fetched row is "a value stored in the
    database cannot be read": the kiosk calling SQLAlchemy wrongly stays the bug it is."""
    from kiosk.db.models import Event

    services = sqlite_services
    with pytest.raises(TypeError), services.ctx.write():
        Event(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError), services.ctx.read():
        Event(bogus=1)  # type: ignore[call-arg]
