"""Round 5 of the red team on the record: attacks the earlier rounds did not try.

Each test here failed on main before its fix (see the commit that added it).
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import _admin_id, _append, said, shift_school

# --- a forged purge checkpoint in the middle of the chain excused a missing witness ------------


def test_a_checkpoint_that_removed_nothing_does_not_excuse_the_missing_witness(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A shell with the key cuts the newest events off (a deposit among them: the newest event
    at the last check, named by this machine's witness file) and appends, in the deposit's
    place but under the next id, a purge checkpoint with lawful dates "removing" everything up
    to the deposit. Nothing before it was removed: the register still starts at its first
    event. Verify took the checkpoint's word that the witness had been purged: "Register
    intact", the witness file left in place and never heeded."""
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
    finally:
        services.close()


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
