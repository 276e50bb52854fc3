"""Issue 15, third round: an attacker pass on the merged record (helper R, 6 December).

Each attack here said "Register intact" (or let the kiosk confirm an event it did not store)
before this round's fixes in kiosk/services/integrity.py, kiosk/db/guards.py and
kiosk/services/uow.py; see docs/threat-model.md and the README's Reliability table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.conftest import FakeClock, with_settings
from tests.reliability.helpers import Raw, is_sqlite, libpq_url, meddle, sqlite_path
from tests.reliability.test_attacks import _append, said, shift_school
from tests.reliability.test_tamper import event_ids
from tests.school import make_ready


@contextmanager
def as_intruder(url: str) -> Iterator[Raw]:
    """SQLite: the file, triggers dropped and put back (a shell). PostgreSQL: the owner's
    login with the triggers on, so the database applies what is appended (the kiosk's login
    is refused these since revision 0006: tests/reliability/test_least_privilege.py)."""
    if is_sqlite(url):
        with meddle(url) as db:
            yield db
        return
    with psycopg.connect(libpq_url(url)) as conn:
        yield Raw(conn, sqlite=False)


def _row(db: Raw, table: str, key: Any) -> dict[str, Any]:
    for (event_id,) in db.execute(
        "SELECT id FROM events WHERE kind = 'reference_changed' ORDER BY id DESC"
    ):
        details = db.event(event_id)["details"]
        details = details if isinstance(details, dict) else json.loads(details)
        if details["table"] == table and details["key"] == key:
            return dict(details["row"])
    raise AssertionError(f"no reference event for {table} {key}")


def _change(db: Raw, table: str, key: Any, row: dict[str, Any], by: int | None = None) -> None:
    details = {"table": table, "key": key, "row": row}
    _append(
        db,
        {"kind": "reference_changed", "category": "reference", "details": details, "staff_id": by},
    )


def _staff_id(db: Raw, code: str) -> int:
    return int(db.execute("SELECT id FROM staff WHERE code = %s", (code,))[0][0])


RETIRED = "2026-03-10T08:05:00.000000+00:00"


@pytest.mark.parametrize(
    "change", ["retire every admin", "remove the admin role", "an admin's code"]
)
def test_taking_admin_away_recorded_by_no_one_is_named(
    services: Services, db_url: str, change: str
) -> None:
    """With the key: chained, MACed list changes recorded by no one that retire every admin
    (the school falls back to set-up, where commands run without signing in), remove the
    role, or change an admin's code. Verify named only grants before."""
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    assert services.integrity.verify().ok
    with as_intruder(db_url) as db:
        for code in ("CHEAD", "DOFFICE") if change == "retire every admin" else ("DOFFICE",):
            key = _staff_id(db, code)
            row = _row(db, "staff", key)
            if change == "retire every admin":
                row["retired_at"] = RETIRED
            elif change == "remove the admin role":
                row["roles"] = []
            else:
                row["code"] = "ZZZ1"
            _change(db, "staff", key, row)

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "removal(s) of an admin (the role, or retiring them), change(s) of an admin's code" in (
        said(report)
    )


def test_an_admin_may_retire_an_admin(services: Services) -> None:
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    services.people.retire_staff("DOFFICE", admin_code="CHEAD")
    assert services.integrity.verify(save=False).ok


def test_a_published_policy_rewritten_afterwards_is_named(services: Services, db_url: str) -> None:
    """With the key, even named as an admin: the text of a policy people have acknowledged is
    replaced (the kiosk only ever publishes a new version, under a new id)."""
    shift_school(services)
    services.admin.set_pin("428613", admin_code="CHEAD")
    with as_intruder(db_url) as db:
        key = int(db.execute("SELECT min(id) FROM policies")[0][0])
        row = _row(db, "policies", key) | {"text": "Phones may be kept in class."}
        _change(db, "policies", key, row, by=_staff_id(db, "CHEAD"))

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "published polic(ies) rewritten afterwards" in said(report)
    assert f"policy {key} (event" in said(report)


def _stored_time(db_url: str, moment: datetime) -> str:
    if is_sqlite(db_url):
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment.isoformat()


def test_a_backdated_event_is_named(services: Services, db_url: str) -> None:
    """With the key (the kiosk's login on PostgreSQL, a shell on SQLite): a deposit appended
    at the end of the chain but dated last year (was her phone in the store at 10:40?)."""
    shift_school(services)
    assert services.integrity.verify().ok
    with as_intruder(db_url) as db:
        staff = _staff_id(db, "ASMITH")
        store = db.execute("SELECT min(id) FROM stores")[0][0]
        at = _stored_time(db_url, datetime(2025, 1, 6, 10, 40, tzinfo=UTC))
        _append(
            db,
            {
                "kind": "phone_deposited",
                "category": "phone",
                "staff_id": staff,
                "recorded_by_id": staff,
                "store_id": store,
                "occurred_at": at,
            },
        )
    forged = event_ids(db_url)[-1]

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "dated more than 10 minutes before an event recorded ahead of them" in said(report)
    assert f"{forged} (2025-01-06 10:40, recorded by the kiosk test-kiosk, after" in said(report)


def test_kiosks_whose_clocks_differ_by_minutes_still_verify(
    services: Services, clock: FakeClock
) -> None:
    shift_school(services)
    other = with_settings(services, kiosk_name="library")
    clock.advance(minutes=5)
    services.phones.deposit("ASMITH")
    clock.advance(minutes=-4)  # the library kiosk's clock is 4 minutes behind
    other.phones.deposit("BJONES")
    assert services.integrity.verify(save=False).ok


def test_a_trigger_that_drops_events_is_refused_and_named(services: Services, db_url: str) -> None:
    """A shell (SQLite: ``RAISE(IGNORE)``) or the owner (PostgreSQL: a BEFORE INSERT trigger
    returning NULL; the kiosk's login cannot create triggers) adds a trigger that silently
    drops one person's deposits. The kiosk confirmed a deposit that was never stored, and
    verify said intact."""
    shift_school(services)
    if is_sqlite(db_url):
        conn: Any = sqlite3.connect(sqlite_path(db_url))
        conn.execute(
            "CREATE TRIGGER events_quiet BEFORE INSERT ON events "
            "WHEN NEW.kind = 'phone_deposited' "
            "AND NEW.staff_id = (SELECT id FROM staff WHERE code = 'ASMITH') "
            "BEGIN SELECT RAISE(IGNORE); END"
        )
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as owner:
            owner.execute(
                "CREATE FUNCTION events_quiet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.kind = 'phone_deposited' AND NEW.staff_id = "
                "(SELECT id FROM staff WHERE code = 'ASMITH') THEN RETURN NULL; END IF; "
                "RETURN NEW; END $$"
            )
            owner.execute(
                "CREATE TRIGGER events_quiet BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION events_quiet()"
            )
    before = event_ids(db_url)

    with pytest.raises(DatabaseUnavailable, match="did not store it"):
        services.phones.deposit("ASMITH")

    assert event_ids(db_url) == before
    services.phones.deposit("BJONES")  # anyone else's is stored as before
    assert len(event_ids(db_url)) == len(before) + 1
    report = services.integrity.verify(save=False)
    assert not report.ok
    assert "the trigger events_quiet on events is not the kiosk's" in said(report)


def test_a_trigger_that_changes_an_event_on_the_way_in_is_refused(
    services: Services, db_url: str
) -> None:
    """A trigger that is not the kiosk's rewrites one person's deposits as another's on the
    way in (SQLite: a shell drops the append-only trigger and updates the new row; PostgreSQL:
    the owner's BEFORE INSERT trigger changes NEW). The kiosk would have confirmed Alice's
    deposit while the register said Ben's: it says "Not recorded", and nothing is kept."""
    shift_school(services)
    if is_sqlite(db_url):
        conn: Any = sqlite3.connect(sqlite_path(db_url))
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute(
            "CREATE TRIGGER events_swap AFTER INSERT ON events "
            "WHEN NEW.kind = 'phone_deposited' "
            "AND NEW.staff_id = (SELECT id FROM staff WHERE code = 'ASMITH') BEGIN "
            "UPDATE events SET staff_id = (SELECT id FROM staff WHERE code = 'BJONES') "
            "WHERE id = NEW.id; END"
        )
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as owner:
            owner.execute(
                "CREATE FUNCTION events_swap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.kind = 'phone_deposited' AND NEW.staff_id = "
                "(SELECT id FROM staff WHERE code = 'ASMITH') THEN "
                "NEW.staff_id := (SELECT id FROM staff WHERE code = 'BJONES'); END IF; "
                "RETURN NEW; END $$"
            )
            owner.execute(
                "CREATE TRIGGER events_swap BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION events_swap()"
            )
    before = event_ids(db_url)

    with pytest.raises(DatabaseUnavailable, match="did not store it"):
        services.phones.deposit("ASMITH")

    assert event_ids(db_url) == before  # rolled back: neither Alice's nor Ben's
    assert services.people.status("BJONES").phone is None
    services.phones.deposit("CHEAD")  # anyone else's is stored as before
    assert len(event_ids(db_url)) == len(before) + 1
    report = services.integrity.verify(save=False)
    assert not report.ok
    assert "the trigger events_swap on events is not the kiosk's" in said(report)


def test_a_trigger_added_to_a_list_is_named(services: Services, db_url: str) -> None:
    """A trigger on a list table (the owner on PostgreSQL, a shell on SQLite) that changes
    the lists behind the chain, here only once its condition comes true."""
    shift_school(services)
    if is_sqlite(db_url):
        conn: Any = sqlite3.connect(sqlite_path(db_url))
        conn.execute(
            "CREATE TRIGGER later AFTER INSERT ON staff_roles WHEN NEW.role = 'slt' "
            "BEGIN INSERT OR IGNORE INTO staff_roles VALUES (NEW.staff_id, 'admin'); END"
        )
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as owner:
            owner.execute(
                "CREATE FUNCTION later() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN NEW; END $$"
            )
            owner.execute(
                "CREATE TRIGGER later AFTER INSERT ON staff_roles "
                "FOR EACH ROW EXECUTE FUNCTION later()"
            )

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "the trigger later on staff_roles is not the kiosk's" in said(report)


def test_an_old_acknowledgement_replayed_for_a_new_version_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """With the key (the kiosk's login on PostgreSQL): ASMITH's acknowledgement of the old
    version copied as one of the new version (same details: the old text's fingerprint), so
    she no longer appears to owe it."""
    shift_school(services)
    make_ready(services, "ASMITH")
    old = services.policies.current()[0]
    clock.advance(minutes=5)
    new = services.policies.publish(old.title, "Autumn 2026", "New text.", published_by="CHEAD")
    assert [p.id for p in services.policies.outstanding("ASMITH")] == [new.id]
    with as_intruder(db_url) as db:
        ack = db.execute(
            "SELECT max(id) FROM events WHERE kind = 'policy_acknowledged' AND policy_id = %s",
            (old.id,),
        )[0][0]
        copied = db.event(ack)
        details = copied["details"]
        _append(
            db,
            {
                "kind": "policy_acknowledged",
                "category": "policy",
                "staff_id": copied["staff_id"],
                "recorded_by_id": copied["staff_id"],
                "policy_id": new.id,
                "details": details if isinstance(details, dict) else json.loads(details),
            },
        )
    replayed = event_ids(db_url)[-1]
    assert services.policies.outstanding("ASMITH") == ()  # the kiosk takes it as read

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert "acknowledgement(s) of a text other than the policy's own" in said(report)
    assert f"{replayed} (policy {new.id})" in said(report)
