"""Round 12 of the red team on the record.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from psycopg import errors

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.chain import EVENT_COLUMNS
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import Raw, libpq_url
from tests.reliability.test_attacks import _append
from tests.reliability.test_least_privilege import _is_admin, _latest_row, _snapshot, _staff_id
from tests.reliability.test_tamper import record_shift
from tests.school import make_school

# --- PostgreSQL: an admin's row recorded without its roles -----------------------------------


def _without(db: Raw, code: str, *fields: str) -> dict[str, Any]:
    """An admin's row as last recorded, with ``fields`` left out (or, for "null", roles null)."""
    key = _staff_id(db, code)
    row = _latest_row(db, "staff", key)
    for field in fields:
        row.pop(field, None)
    return {"table": "staff", "key": key, "row": row}


@pytest.mark.postgresql
@pytest.mark.parametrize("admin", ["DOFFICE", "CHEAD"])
def test_the_kiosk_login_cannot_remove_admin_by_leaving_the_roles_out(
    set_up_school: Services, kiosk_url: str, admin: str
) -> None:
    """Revision 0006's guard computed "will be an admin" as ``jsonb_typeof(roles) = 'array'
    AND roles @> '["admin"]' AND retired_at IS NULL``: with no ``roles`` in the row that is
    NULL, and ``was_admin <> NULL`` is not true, so the guard let it through; the apply
    function then deleted every role of the person (``jsonb_array_elements_text(NULL)`` gives
    no row). The kiosk's login (the key only to MAC it, named as recorded by an admin) took
    admin from every admin: the school then counted as "not set up", and the login could
    record admins and a PIN of its own."""
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        chead = _staff_id(db, "CHEAD")
        details = _without(db, admin, "roles")
        with pytest.raises(errors.InsufficientPrivilege, match="grant or remove admin"):
            _append(
                db,
                {
                    "kind": "reference_changed",
                    "category": "reference",
                    "staff_id": chead,
                    "recorded_by_id": chead,
                    "details": details,
                },
            )
        kiosk.rollback()
        assert _is_admin(db, admin) == [(1,)]
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok


# --- PostgreSQL: the apply function fired by a trigger of the login's own ----------------------


@pytest.mark.postgresql
def test_the_apply_function_writes_the_lists_only_for_the_register(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """``kiosk_apply_reference`` is SECURITY DEFINER: it writes the lists with the owner's
    rights. Revision 0005 revoked EXECUTE on it from PUBLIC, but a function made again with
    DROP and CREATE, or a dump restored with ``--no-privileges``, is executable by every role
    again. The kiosk's login (no key needed) then made a temporary table of its own with an
    AFTER INSERT trigger calling it: each row it inserted there was applied to the lists as the
    owner, with no event in the chain and no revision 0006 guard (that is a trigger on events):
    it replaced the PIN hash, and verify named no privilege. The function now refuses to run
    for any table but the register's events, and verify names a kiosk role that may call it."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute("GRANT EXECUTE ON FUNCTION kiosk_apply_reference() TO PUBLIC")
    try:
        before = _snapshot(kiosk_url)
        with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
            kiosk.execute("CREATE TEMP TABLE changes (kind varchar(40), details json)")
            kiosk.execute(
                "CREATE TRIGGER apply AFTER INSERT ON changes FOR EACH ROW "
                "EXECUTE FUNCTION public.kiosk_apply_reference()"
            )
            change = (
                '{"table": "kiosk_settings", "key": "admin_pin", "row": '
                '{"value": "{\\"alg\\": \\"x\\", \\"hash\\": \\"00\\"}", '
                '"updated_at": "2026-03-10T08:05:00+00:00"}}'
            )
            with pytest.raises(errors.InsufficientPrivilege, match="only as the trigger on events"):
                kiosk.execute("INSERT INTO changes VALUES ('reference_changed', %s)", (change,))
        assert _snapshot(kiosk_url) == before
        report = set_up_school.integrity.verify(save=False)
        assert not report.ok
        assert any("may call kiosk_apply_reference" in p for p in report.problems)
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute("REVOKE EXECUTE ON FUNCTION kiosk_apply_reference() FROM PUBLIC")
    assert set_up_school.integrity.verify(save=False).ok


# --- PostgreSQL: purged events put back by the kiosk's login (guard test) ---------------------


@pytest.mark.postgresql
def test_guard_purged_events_put_back_by_the_kiosk_login_are_named(
    pg_url: str, kiosk_url: str, clock: FakeClock
) -> None:
    """Guard test. The kiosk's login reads every event, so it can keep a copy of those the
    owner's purge is about to remove, and INSERT them again verbatim afterwards (their ids
    are free again; genuine hashes, links and MACs, no key needed): the register then starts
    at its beginning again, with the purged history back. Verify names the checkpoint that
    no longer accounts for any missing event."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))
    office = Services(
        make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url), clock
    )
    try:
        make_school(office)
        record_shift(office, rounds=2)
        clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
        office.phones.deposit("ASMITH")
        columns = ", ".join("details::text" if c == "details" else c for c in EVENT_COLUMNS)
        with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
            kept = kiosk.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall()
        purge = office.backup.purge(date(2023, 1, 1), "CHEAD")
        assert purge.last_removed_id is not None
        assert office.integrity.verify(save=False).ok
        # A register from before revision 0010, which refuses an id at or below the newest
        # event's (tests/reliability/test_attacks_round17_rec.py).
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute("DROP TRIGGER events_guard_id ON events")
        with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
            marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
            for row in kept:
                if row[0] <= purge.last_removed_id:
                    kiosk.execute(
                        f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({marks})", row
                    )
        report = office.integrity.verify(save=False)
    finally:
        office.close()
    assert not report.ok
    assert (
        f"purge checkpoint {purge.checkpoint_event_id} says it removed events up to "
        f"{purge.last_removed_id}, but the register still starts at event 1"
    ) in " ".join(report.problems)


# --- PostgreSQL: a function of the register dropped ------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("function", "drop"),
    [
        # The apply trigger on events depends on it: it goes too (named as well).
        ("kiosk_apply_reference", "DROP FUNCTION kiosk_apply_reference() CASCADE"),
        ("kiosk_purge_events", "DROP FUNCTION kiosk_purge_events(bigint)"),
    ],
)
def test_verify_names_a_dropped_function_and_does_not_stop(
    set_up_school: Services, pg_url: str, function: str, drop: str
) -> None:
    """Verify asked ``has_function_privilege(role, 'kiosk_apply_reference()', 'EXECUTE')``
    (and the same of ``kiosk_purge_events(bigint)``) of each kiosk role, the function found by
    name through the session's search_path. Dropped (by the owner, or by a role that owns the
    register's schema, round 11), PostgreSQL raises "function ... does not exist" there rather
    than answering false: verify stopped with a database error instead of saying the register
    is not intact and naming the missing function."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(drop)
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    assert f"the function {function} is missing" in report.problems
    assert not any(f"may call {function}" in p for p in report.problems)
