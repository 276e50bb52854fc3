"""Retention: old events go through a recorded checkpoint, never a silent delete."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import psycopg
import pytest
from sqlalchemy import text

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable, InvalidInput, NotFound, RuleViolation
from kiosk.services.app import Services
from kiosk.services.backup import MIN_RETENTION_DAYS
from tests.conftest import FakeClock
from tests.reliability.helpers import count_events, libpq_url, meddle, raw_scalar
from tests.reliability.test_tamper import event_ids, record_shift
from tests.school import make_ready, make_school

# The school keeps its register for two years; "now" is well past that for the old events.
# The database checks the one-year minimum against its own clock too (revision 0005), so the
# history here starts well over a year before the real today.
EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
BEFORE = date(2023, 1, 1)


@pytest.fixture(autouse=True)
def _early(clock: FakeClock) -> None:
    clock.set(EARLY)


def hashes(db_url: str, upto: int) -> list[str]:
    from tests.reliability.helpers import is_sqlite, libpq_url, sqlite_path

    sql = f"SELECT hash FROM events WHERE id <= {upto} ORDER BY id"
    if is_sqlite(db_url):
        import sqlite3

        conn = sqlite3.connect(sqlite_path(db_url))
        try:
            return [r[0] for r in conn.execute(sql)]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(libpq_url(db_url)) as pg:
        return [r[0] for r in pg.execute(sql)]


def test_purge_removes_old_events_through_a_checkpoint_the_chain_continues_from(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    make_school(services)
    record_shift(services, rounds=2)  # March 2026: all phones collected again
    old_ids = event_ids(db_url)
    expected_digest = hashlib.sha256("\n".join(hashes(db_url, old_ids[-1])).encode()).hexdigest()
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    assert services.integrity.verify().ok

    report = services.backup.purge(BEFORE, "CHEAD")

    assert report.removed == len(old_ids)
    assert (report.first_removed_id, report.last_removed_id) == (old_ids[0], old_ids[-1])
    assert report.range_digest == expected_digest
    assert report.kept_older == 0
    assert "checkpoint" in report.summary and str(len(old_ids)) in report.summary
    remaining = event_ids(db_url)
    assert remaining[0] > old_ids[-1] and remaining[-1] == report.checkpoint_event_id
    # The checkpoint is an ordinary, visible entry in today's register.
    rows = services.register.day(date(2024, 6, 5)).rows
    assert [r.detail for r in rows if r.event_id == report.checkpoint_event_id] == [
        "action: events_purged"
    ]
    verified = services.integrity.verify()
    assert verified.ok, verified.summary
    assert verified.anchor == f"checkpoint {report.checkpoint_event_id}"
    assert verified.events_checked == len(remaining)
    # The state the kiosk shows did not change; the chain carries on.
    assert [h.staff.code for h in services.phones.phones_now()] == ["ASMITH"]
    services.phones.collect("ASMITH")
    assert services.integrity.verify().ok
    # A second purge later continues from the newest checkpoint.
    clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    second = services.backup.purge(date(2024, 12, 31), "CHEAD")
    # Everything left from the first purge goes, its checkpoint too (and the reference rows
    # it carried over, and the recorded checks: they are over a year old as well).
    assert second.first_removed_id == remaining[0]
    assert second.last_removed_id is not None
    assert second.last_removed_id >= report.checkpoint_event_id
    final = services.integrity.verify()
    assert final.ok and final.anchor == f"checkpoint {second.checkpoint_event_id}"


def test_events_that_define_the_current_state_are_kept(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    make_school(services)
    record_shift(services, rounds=1)
    first_kept = event_ids(db_url)[-1] + 1
    make_ready(services, "ASMITH")  # acknowledgement of the current policy, VDU declaration
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    services.phones.deposit("EPATEL")
    for code in ("BJONES", "CHEAD"):
        services.phones.deposit(code)
        services.phones.collect(code)
    clock.set(LATER)
    before_purge = event_ids(db_url)

    report = services.backup.purge(BEFORE, "DOFFICE")

    assert report.last_removed_id == first_kept - 1
    assert report.kept_older == len([i for i in before_purge if i >= first_kept])
    assert "kept" in report.summary
    status = services.people.status("ASMITH")
    assert status.outstanding_policies == () and status.vdu_trained_on is not None
    assert [o.device.tag for o in status.offsite] == ["LAP-001"]
    assert [h.staff.code for h in services.phones.phones_now()] == ["EPATEL"]
    assert services.integrity.verify().ok
    # Nothing more can go while those are still current: no second checkpoint.
    again = services.backup.purge(BEFORE, "DOFFICE")
    assert again.removed == 0 and again.checkpoint_event_id is None
    assert "Nothing to remove" in again.summary


def test_a_kept_event_keeps_what_it_refers_to(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    make_school(services)
    make_ready(services, "ASMITH")
    receipt = services.devices.sign_out("ASMITH", ["LAP-002"], reason="School trip or visit")
    sign_out = receipt.receipts[0].event_id
    clock.advance(days=1)
    services.devices.return_device("LAP-002")
    clock.set(datetime(2023, 3, 1, 9, 0, tzinfo=UTC))
    services.register.void(sign_out, reason="entered by mistake", admin_code="CHEAD")
    clock.set(LATER)

    report = services.backup.purge(BEFORE, "CHEAD")

    # The correction (2027, kept) voids the sign-out: it and everything after it stay.
    assert report.last_removed_id is not None and report.last_removed_id < sign_out
    assert sign_out in event_ids(db_url)
    assert services.integrity.verify().ok


def test_purge_is_refused_too_early_to_non_admins_and_for_unknown_people(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(LATER)
    total = count_events(db_url)
    with pytest.raises(RuleViolation, match="at least a year"):
        services.backup.purge(date(2024, 1, 1), "CHEAD")
    with pytest.raises(RuleViolation, match="not an admin"):
        services.backup.purge(BEFORE, "ASMITH")
    with pytest.raises(NotFound):
        services.backup.purge(BEFORE, "NOBODY")
    with pytest.raises(InvalidInput, match="calendar date"):
        services.backup.purge(LATER, "CHEAD")  # type: ignore[arg-type]
    assert count_events(db_url) == total
    assert MIN_RETENTION_DAYS >= 365


def test_ordinary_deletes_are_still_refused_after_revision_0003(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The guard opens only for a purge: a delete without the guard row and checkpoint fails."""
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(LATER)
    services.backup.purge(BEFORE, "CHEAD")
    services.phones.deposit("ASMITH")
    for statement in (
        "DELETE FROM events",
        "UPDATE events SET kiosk = 'x'",
    ):
        with pytest.raises(DatabaseUnavailable), services.ctx.write() as uow:
            uow.session.execute(text(statement))
    # Even with a guard row in place, SQLite insists the newest event is a checkpoint, and
    # PostgreSQL lets only the purge function delete (the guard row is its own).
    if "sqlite" in db_url:
        with pytest.raises(DatabaseUnavailable), services.ctx.write() as uow:
            uow.session.execute(
                text(
                    "INSERT INTO kiosk_settings (key, value, updated_at) "
                    "VALUES ('events_purge_guard', '999999', CURRENT_TIMESTAMP)"
                )
            )
            uow.session.execute(text("DELETE FROM events"))
    assert services.integrity.verify().ok
    assert (
        raw_scalar(db_url, "SELECT count(*) FROM kiosk_settings WHERE key = 'events_purge_guard'")
        == 0
    )


def test_a_silent_delete_of_old_events_is_caught(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """Removing a prefix without a checkpoint (around the triggers) breaks the chain's start."""
    make_school(services)
    record_shift(services, rounds=1)
    ids = event_ids(db_url)
    with meddle(db_url) as db:
        for event_id in ids[: len(ids) // 2]:
            db.delete(event_id)
    report = services.integrity.verify()
    assert not report.ok and report.anchor == "missing"
    assert report.first_broken_link == ids[len(ids) // 2]


@pytest.mark.postgresql
def test_purge_with_the_purge_function_dropped_says_so(pg_url: str, clock: FakeClock) -> None:
    """The purge asked PostgreSQL whether it may call ``kiosk_purge_events`` by the
    function's name: with the function dropped (by the owner, or a role owning the schema),
    that question itself failed, and the office read a database error and "try again", which
    can never work. Now the purge names the missing function and sends the office to
    ``kiosk verify``, and nothing is recorded."""
    services = Services(
        make_engine(pg_url), Settings(kiosk_name="test-kiosk", database_url=pg_url), clock
    )
    make_school(services)
    record_shift(services, rounds=1)
    clock.set(LATER)
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as pg:
        pg.execute("DROP FUNCTION kiosk_purge_events(bigint)")
    total = count_events(pg_url)
    with pytest.raises(RuleViolation, match=r"kiosk_purge_events.*missing.*kiosk verify"):
        services.backup.purge(BEFORE, "CHEAD")
    assert count_events(pg_url) == total
    services.close()
