"""Tamper evidence: rows edited, deleted, reordered or forged behind the kiosk's back are found.

The meddling uses the database's own client around the append-only triggers (see helpers).
"""

from __future__ import annotations

import threading

import pytest

from kiosk.db.engine import make_engine
from kiosk.domain.chain import GENESIS_HASH, hash_of
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.reliability.helpers import count_events, meddle, raw_scalar
from tests.school import make_school

STAFF = ("ASMITH", "BJONES", "CHEAD", "DOFFICE", "EPATEL")


def record_shift(services: Services, rounds: int = 3) -> None:
    """A little shift: everyone deposits and collects their phone a few times."""
    for _ in range(rounds):
        for code in STAFF:
            services.phones.deposit(code)
        for code in STAFF:
            services.phones.collect(code)


def event_ids(db_url: str) -> list[int]:
    from tests.reliability.helpers import is_sqlite, libpq_url, sqlite_path

    if is_sqlite(db_url):
        import sqlite3

        conn = sqlite3.connect(sqlite_path(db_url))
        try:
            return [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(libpq_url(db_url)) as pg:
        return [r[0] for r in pg.execute("SELECT id FROM events ORDER BY id")]


def test_an_untouched_register_verifies_and_the_result_is_kept(
    services: Services, db_url: str
) -> None:
    make_school(services)
    record_shift(services)
    assert services.integrity.last_result() is None

    report = services.integrity.verify()

    assert report.ok, report.summary
    # The check itself is recorded after it (a register_verified event).
    assert report.events_checked == count_events(db_url) - 1
    assert report.anchor == "genesis"
    assert report.first_broken_link is None and report.mismatched == ()
    assert report.head_id == max(event_ids(db_url)) - 1
    assert report.summary.startswith("Register intact")
    # Another kiosk (a fresh Services on the same database) sees the same last result.
    other = Services(make_engine(db_url), services.settings, services.ctx.clock)
    try:
        last = other.integrity.last_result()
    finally:
        other.close()
    assert last is not None
    assert (last.ok, last.events_checked, last.head_hash) == (
        True,
        report.events_checked,
        report.head_hash,
    )


def test_edits_deletions_reorders_and_forgeries_are_all_found(
    services: Services, db_url: str
) -> None:
    # On PostgreSQL this meddler uses session_replication_role; the others disable triggers.
    how = "replica"
    make_school(services)
    record_shift(services, rounds=4)
    ids = event_ids(db_url)
    assert services.integrity.verify().ok
    edited, deleted, swap_a, swap_b, forged = ids[8], ids[14], ids[20], ids[22], ids[30]

    with meddle(db_url, how=how) as db:
        # 1. Someone changes which kiosk recorded an event (its hash left as it was).
        db.overwrite(edited, {"kiosk": "somewhere-else"})
        # 2. Someone removes an event.
        db.delete(deleted)
        # 3. Two events change places.
        db.swap(swap_a, swap_b)
        # 4. Someone edits an event and recomputes its own hash to match.
        row = db.event(forged)
        row["kiosk"] = "forged"
        db.overwrite(forged, {"kiosk": "forged", "hash": hash_of(row)})

    report = services.integrity.verify()

    assert not report.ok
    after = {i: n for n, i in enumerate(ids)}
    next_of = {i: ids[after[i] + 1] for i in ids[:-1]}
    # Swapped rows no longer match their ids (content version 2 covers the id).
    assert report.mismatched == (edited, swap_a, swap_b)
    assert set(report.broken_links) == {
        next_of[deleted],  # the event after the gap no longer follows its predecessor
        swap_a,
        next_of[swap_a],
        swap_b,
        next_of[swap_b],
        next_of[forged],  # the forged hash no longer matches what the next event recorded
    }
    assert report.first_broken_link == next_of[deleted]
    assert "REGISTER TAMPERED WITH" in report.summary
    last = services.integrity.last_result()
    assert last is not None and not last.ok and last.mismatched == (edited, swap_a, swap_b)


def test_removing_the_first_events_is_found(services: Services, db_url: str) -> None:
    make_school(services)
    record_shift(services, rounds=1)
    ids = event_ids(db_url)
    with meddle(db_url) as db:
        for event_id in ids[:3]:
            db.delete(event_id)

    report = services.integrity.verify()

    assert not report.ok
    assert report.anchor == "missing"
    assert report.first_broken_link == ids[3]


def test_cutting_events_off_the_end_is_found_by_the_next_check(
    services: Services, db_url: str
) -> None:
    make_school(services)
    record_shift(services, rounds=1)
    first = services.integrity.verify()
    assert first.ok
    with meddle(db_url) as db:  # the newest event and the recorded check after it
        db.execute("DELETE FROM events WHERE id >= %s", (first.head_id or 0,))

    report = services.integrity.verify()

    assert not report.ok
    assert report.tail_problem is not None and str(first.head_id) in report.tail_problem
    assert report.broken_link_count == 0 and report.mismatch_count == 0
    # The problem does not go away by checking again.
    assert not services.integrity.verify().ok


def test_new_events_after_a_check_are_fine(services: Services) -> None:
    make_school(services)
    assert services.integrity.verify().ok
    record_shift(services, rounds=1)
    report = services.integrity.verify()
    assert report.ok, report.summary


def test_the_kiosk_itself_cannot_update_or_delete_events(services: Services) -> None:
    """The triggers (not only the chain) stop ordinary UPDATE and DELETE on both engines."""
    from sqlalchemy import text

    make_school(services)
    services.phones.deposit("ASMITH")
    for statement in ("UPDATE events SET kiosk = 'x'", "DELETE FROM events"):
        with pytest.raises(DatabaseUnavailable), services.ctx.write() as uow:
            uow.session.execute(text(statement))
    assert services.integrity.verify().ok


@pytest.mark.parametrize("threads", [4])
def test_the_chain_stays_linear_with_concurrent_writers(
    services: Services, db_url: str, threads: int
) -> None:
    """Several writers at once (threads sharing the pool): no two events share a parent."""
    make_school(services)
    codes = [f"T{n:02d}" for n in range(threads)]
    for code in codes:
        services.people.add_staff(code, f"Teacher {code}")
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(code: str) -> None:
        try:
            barrier.wait()
            for _ in range(15):
                services.phones.deposit(code)
                services.phones.collect(code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(c,)) for c in codes]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert errors == []
    total = count_events(db_url)
    assert raw_scalar(db_url, "SELECT count(DISTINCT prev_hash) FROM events") == total
    assert (
        raw_scalar(db_url, "SELECT count(*) FROM events WHERE prev_hash = '" + GENESIS_HASH + "'")
        == 1
    )
    report = services.integrity.verify()
    assert report.ok and report.events_checked == total


def _iso(value: object) -> str:
    from datetime import UTC, datetime

    if isinstance(value, str):  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC)
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _details(value: object) -> dict[str, object]:
    import json

    if isinstance(value, str):
        loaded = json.loads(value)
        assert isinstance(loaded, dict)
        return loaded
    assert isinstance(value, dict)
    return value
