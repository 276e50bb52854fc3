"""Round 17 of the red team on the record: a shell on the kiosk, the SQLite file, and the
kiosk's PostgreSQL login, against the truth of the register and the kiosks' ability to record.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import KioskError
from kiosk.domain.events import EventKind
from kiosk.domain.timeutil import utc_now
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import libpq_url
from tests.reliability.test_attacks import shift_school
from tests.school import make_school


def _count(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    return int(row[0])


# --- an event dated years ahead, under a kiosk's name, by a login holding the key ----------


@pytest.mark.postgresql
@pytest.mark.parametrize("victim", ["staffroom", "office"])
def test_an_event_dated_years_ahead_does_not_stop_a_kiosk_whose_clock_the_server_agrees_with(
    set_up_school: Services, kiosk_url: str, pg_url: str, victim: str
) -> None:
    """The kiosk login, with the school key every kiosk holds, records one event under a
    kiosk's name (``staffroom``, or ``office``, the office's own commands) with its clock set
    to 2031: chained and MACed, as the kiosk would. That kiosk measured its clock against it,
    "long before the last event it recorded", and refused every write, though its clock and
    the database server's agreed: events are append-only, so nothing could be recorded
    there until 2031 (or the kiosk renamed). The office could not record either. An event
    dated after the server's own clock measures no kiosk's clock; verify names it."""
    set_up_school.close()
    ahead = FakeClock(utc_now() + timedelta(days=5 * 365))
    forger = Services(
        make_engine(kiosk_url), Settings(kiosk_name=victim, database_url=kiosk_url), ahead
    )
    try:
        forger.phones.collect("ASMITH")
    finally:
        forger.close()
    url = kiosk_url if victim == "staffroom" else pg_url
    settings = Settings(kiosk_name=victim, database_url=url)
    honest = Services.open(settings, check_clock=victim == "staffroom")
    try:
        before = _count(pg_url)
        try:
            done: object = honest.phones.deposit("ASMITH").kind
        except KioskError as exc:
            done = exc.message
        assert done == "phone_deposited", done
        assert _count(pg_url) == before + 1
        report = honest.integrity.verify(save=False)
    finally:
        honest.close()
    assert not report.ok
    assert any("dated in the future" in p for p in report.problems), report.problems


@pytest.mark.postgresql
def test_a_kiosk_and_a_server_both_gone_back_still_record_nothing(
    kiosk_url: str, pg_url: str
) -> None:
    """The other side of the fix above. The server's clock and the kiosk's both went back
    (a flat battery on each, one time server gone wrong): the two agree, and the whole
    register, every kiosk's events, is dated more than 30 days after both. That is no
    forged event: the kiosk still records nothing, and says its clock is wrong. (Here the
    register is dated 400 days ahead of the server's clock, which the test cannot set.)"""
    ahead = FakeClock(utc_now() + timedelta(days=400))
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    earlier = Services(make_engine(kiosk_url), settings, ahead)
    try:
        make_school(earlier)
        earlier.phones.deposit("ASMITH")
    finally:
        earlier.close()
    kiosk = Services.open(settings, check_clock=True)
    try:
        before = _count(pg_url)
        with pytest.raises(KioskError, match="long before the last event it recorded"):
            kiosk.phones.collect("ASMITH")
    finally:
        kiosk.close()
    assert _count(pg_url) == before


# --- an event at the largest id the register holds -------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("below_top", [0, 2])
def test_an_event_at_the_largest_id_is_named_by_verify(
    set_up_school: Services,
    kiosk_url: str,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    below_top: int,
) -> None:
    """The kiosk login, with the school key every kiosk holds, records one event (Alice's
    phone collected) at id 9223372036854775807, the largest a ``bigint`` holds (or two below
    it), chained from the newest event and MACed, as the kiosk would record it. Every kiosk
    then said "Not recorded: the register has no id left after 9223372036854775807 (written
    by hand?). Run `kiosk verify` and tell the office." (after two more events), for good,
    and verify said "Register intact". Verify now names the event and what it does. (On a
    register from before revision 0010, which now refuses such an id: see the next test.)"""
    import kiosk.services.uow as uow_module

    set_up_school.close()
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute("DROP TRIGGER events_guard_id ON events")
    real = uow_module._next_id
    top = uow_module.MAX_EVENT_ID - below_top

    def planted(after: int, table: str = "events") -> int:
        return top if table == "events" else real(after, table)

    forger = Services(
        make_engine(kiosk_url),
        Settings(kiosk_name="staffroom", database_url=kiosk_url),
        FakeClock(utc_now()),
    )
    monkeypatch.setattr(uow_module, "_next_id", planted)
    try:
        forger.phones.collect("ASMITH")
    finally:
        monkeypatch.setattr(uow_module, "_next_id", real)
        forger.close()
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    kiosk = Services.open(settings, check_clock=True)
    office = Services(make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url))
    said: list[str] = []
    try:
        for _ in range(below_top + 1):
            try:
                kiosk.phones.deposit("ASMITH")
                kiosk.phones.collect("ASMITH")
            except KioskError as exc:
                said.append(exc.message)
                break
        report = office.integrity.verify(save=False)
    finally:
        kiosk.close()
        office.close()
    assert said and "no id left" in said[0], said
    assert not report.ok, report.summary
    (named,) = [p for p in report.problems if "past the event before" in p]
    assert f"{top} (after " in named, named
    assert "written by hand, or by a database login holding the school key" in named, named
    assert "no kiosk can record anything" in named, named


# --- the copy a restore kept of the events it dropped ----------------------------------------


@pytest.mark.parametrize(
    "shell", ["deleted", "replaced by the backup", "emptied", "a view", "made up"]
)
def test_verify_does_not_say_a_restores_copy_holds_what_a_shell_took_out_of_it(
    sqlite_services: Services, tmp_path: Path, shell: str
) -> None:
    """The office restores Monday's backup with ``--drop-newer --reason`` (recorded): the
    events it drops are kept in a copy beside the register, and verify's note says that copy
    "holds them". A shell with the kiosk user's rights then deletes that copy (or puts the
    backup, which never held them, in its place, empties it, makes ``events`` a view that
    never ends, or writes other events at those ids): the dropped events are gone for good,
    and verify went on saying the copy "holds them". It now looks: a copy that is not there,
    or does not hold the events the restore recorded dropping, following on from the
    register as restored, is said so."""
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    report = services.backup.restore(backup, drop_newer=True, reason="a wrong day")
    honest = " ".join(services.integrity.verify(save=False).notes)
    assert f"{report.safety_copy.name}, holds them" in honest, honest
    # (read as it lies: no -wal or -shm file left beside the copy by the look)
    assert not list(tmp_path.glob(f"{report.safety_copy.name}-*")), list(tmp_path.iterdir())

    copy = report.safety_copy
    if shell == "deleted":
        copy.unlink()
    elif shell == "replaced by the backup":
        copy.write_bytes(backup.read_bytes())
    elif shell == "emptied":
        copy.write_bytes(b"")
    else:
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            if shell == "a view":
                conn.execute("DROP TABLE events")
                conn.execute(
                    "CREATE VIEW events AS WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL "
                    "SELECT id + 1 FROM n) SELECT id, '' AS prev_hash, '' AS hash FROM n"
                )
            else:
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall():
                    conn.execute(f"DROP TRIGGER {name}")
                conn.execute(
                    "UPDATE events SET prev_hash = ? WHERE id = (SELECT max(id) FROM events)",
                    ("0" * 64,),
                )
        finally:
            conn.close()
    checked = services.integrity.verify(save=False)

    notes = " ".join(checked.notes)
    assert f"event {report.event_id} records a restore" in notes, notes
    assert "holds them" not in notes, notes
    assert f"{copy.name}, was to hold them, but " in notes, notes
    expected = {
        "deleted": "it is no longer there",
        "replaced by the backup": f"it holds 0 of the {report.dropped}",
        "emptied": "it cannot be read as a register",
        "a view": "it cannot be read as a register",
        "made up": "its events at those ids do not follow on from the register's",
    }[shell]
    assert expected in notes, notes


@pytest.mark.postgresql
def test_the_database_refuses_an_event_id_far_past_the_newest(
    set_up_school: Services, kiosk_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same attack (an event at the largest id, by the kiosk login with the school key),
    now refused by the database itself (revision 0010): the login's write is not stored, the
    kiosks go on recording, and verify says the register is intact."""
    import kiosk.services.uow as uow_module

    set_up_school.close()
    real = uow_module._next_id

    def planted(after: int, table: str = "events") -> int:
        return uow_module.MAX_EVENT_ID if table == "events" else real(after, table)

    forger = Services(
        make_engine(kiosk_url),
        Settings(kiosk_name="staffroom", database_url=kiosk_url),
        FakeClock(utc_now()),
    )
    monkeypatch.setattr(uow_module, "_next_id", planted)
    try:
        with pytest.raises(KioskError, match="Not recorded") as refused:
            forger.phones.collect("ASMITH")
        # Said as the refusal it is ("the database is unavailable. Please try again": no
        # second try can help).
        said = refused.value.message
        assert "the database refused the event's id" in said, said
        assert "far past the newest event's" in said, said
        assert "run `kiosk verify`" in said and "Please try again" not in said, said
    finally:
        monkeypatch.setattr(uow_module, "_next_id", real)
        forger.close()
    # (A hash of its own: the newest event's would be refused as a copy of it, trigger or not.)
    with (
        psycopg.connect(libpq_url(kiosk_url)) as attacker,
        pytest.raises(psycopg.Error, match="far past the newest event's"),
    ):
        attacker.execute(
            "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
            "hash) SELECT 9223372036854775807, occurred_at, kind, category, kiosk, details, "
            f"hash, '{'cd' * 32}' FROM events ORDER BY id DESC LIMIT 1"
        )
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    kiosk = Services.open(settings, check_clock=True)
    office = Services(make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url))
    try:
        assert kiosk.phones.collect("ASMITH").kind == "phone_collected"
        report = office.integrity.verify(save=False)
    finally:
        kiosk.close()
        office.close()
    assert report.ok, report.summary


@pytest.mark.postgresql
def test_the_database_takes_an_id_exactly_the_leap_past_the_newest(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """The trigger's bound, as verify's: the newest id + 4,294,967,296 is taken (and verify
    names no leap), one more is refused (guard test)."""
    set_up_school.close()
    insert = (
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
        "hash) SELECT max_id + %s, occurred_at, kind, category, kiosk, details, hash, %s "
        "FROM events, (SELECT max(id) AS max_id FROM events) AS m ORDER BY id DESC LIMIT 1"
    )
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as attacker:
        with pytest.raises(psycopg.Error, match="far past the newest event's"):
            attacker.execute(insert, (2**32 + 1, "ef" * 32))
        attacker.execute(insert, (2**32, "ab" * 32))
    office = Services(make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url))
    try:
        report = office.integrity.verify(save=False)
    finally:
        office.close()
    assert not [p for p in report.problems if "past the event before" in p], report.problems


@pytest.fixture
def _in_2022(clock: FakeClock) -> None:
    """The school set up (and recording) from March 2022."""
    clock.set(datetime(2022, 3, 10, 8, 5, tzinfo=UTC))


@pytest.mark.postgresql
def test_an_event_slipped_in_below_the_first_does_not_stop_every_purge(
    _in_2022: None, set_up_school: Services, kiosk_url: str, pg_url: str, clock: FakeClock
) -> None:
    """The kiosk login, without the key, inserts one event below the register's first event
    (id 0). The kiosk never gives such an id: it always records after the newest event.
    Verify names the broken link, rightly; but a purge must remove that event with the ones
    after it, and it refuses a range that does not verify: "Nothing was purged ... tell the
    DPO", at every yearly purge, for good (events are append-only: only a superuser could
    take the row out). The database now refuses an event id at or below the newest's."""
    set_up_school.close()
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as attacker:
        try:
            attacker.execute(
                "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, "
                "prev_hash, hash) SELECT 0, occurred_at, kind, category, kiosk, details, "
                f"prev_hash, '{'ab' * 32}' FROM events WHERE kind <> 'reference_changed' "
                "ORDER BY id LIMIT 1"
            )
        except psycopg.Error as exc:
            refused: str | None = str(exc)
        else:
            refused = None
    clock.set(datetime(2024, 6, 5, 9, 0, tzinfo=UTC))
    office = Services(
        make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url), clock
    )
    try:
        try:
            done: object = office.backup.purge(date(2023, 1, 1), "CHEAD").removed
        except KioskError as exc:
            done = exc.message
    finally:
        office.close()
    assert isinstance(done, int) and done > 0, done
    assert refused is not None and "the newest event's" in refused, refused


# --- a restore's record written by a login with the key ----------------------------------


@pytest.mark.parametrize(
    ("held", "offsets"), [(True, (3, 8)), (False, (1, 10))], ids=["held before it", "after its own"]
)
def test_a_restore_record_of_events_the_register_still_holds_is_named(
    sqlite_services: Services, held: bool, offsets: tuple[int, int]
) -> None:
    """With the school key every kiosk holds (on PostgreSQL the kiosk login: see the next
    test but one; here a shell on the kiosk), an admin action "the database was restored" by
    the head teacher is recorded, saying it dropped events 3 to 8 (which the register holds,
    before it), or ids after its own, with a reason ("tidy up"). Verify said "Register
    intact", with a note that Carol Head's restore had dropped those events and that they
    are not in the register. A restore is recorded after every event it dropped, and the one
    before it is the backup's newest: verify now names such a record. (The ids after its
    own are worked out from the record's own id: the school's event count does not matter.)"""
    services = sqlite_services
    shift_school(services)
    with services.ctx.write() as uow:
        uow._chain_head()
        own = uow._last_id
        assert isinstance(own, int)
        own += 1  # the record's own id: the ids are 3 to 8, or its own + 1 to + 10
        span = offsets if held else (own + offsets[0], own + offsets[1])
        restore = uow.record(
            EventKind.ADMIN_ACTION,
            staff_id=1,
            details={
                "action": "database_restored",
                "dropped_ids": list(span),
                "dropped": span[1] - span[0] + 1,
                "reason": "tidy up",
                "safety_copy": "kiosk.before-restore-20261207T080000Z.sqlite3",
            },
        )
    report = services.integrity.verify(save=False)
    assert not report.ok, report.summary
    (named,) = [p for p in report.problems if f"event {restore.id} records a restore" in p]
    assert restore.id == own
    assert f"dropped the events with ids {span[0]} to {span[1]}" in named, named
    assert "a restore never records that" in named, named
    assert ("before it" if held else "come after its own") in named, named
    assert not [n for n in report.notes if "records a restore" in n], report.notes


# --- review of round 17: a kiosk a little behind; restore records ----------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("victim", "behind"),
    [
        ("staffroom", timedelta(minutes=5)),
        ("staffroom", timedelta(minutes=9)),
        ("office", timedelta(hours=3)),
    ],
    ids=["kiosk 5 min behind", "kiosk 9 min behind", "office 3 h behind"],
)
def test_an_event_dated_just_under_30_days_ahead_does_not_stop_a_clock_a_little_behind(
    set_up_school: Services, kiosk_url: str, pg_url: str, victim: str, behind: timedelta
) -> None:
    """The kiosk login, with the school key, records one event under a kiosk's name dated
    30 days less 30 seconds after the server's clock. A kiosk whose clock is a few minutes
    behind the server's (allowed: up to 10), or the office's machine 3 hours slow (its
    commands do not compare clocks), said "long before the last event it recorded" and
    recorded nothing (one such event every few seconds kept it so). An event this kiosk
    recorded is measured against its clock only if it is not after the server's clock."""
    set_up_school.close()
    forger = Services(
        make_engine(kiosk_url),
        Settings(kiosk_name=victim, database_url=kiosk_url),
        FakeClock(utc_now() + timedelta(days=30) - timedelta(seconds=30)),
    )
    try:
        forger.phones.collect("ASMITH")
    finally:
        forger.close()
    url = kiosk_url if victim == "staffroom" else pg_url
    honest = Services(
        make_engine(url),
        Settings(kiosk_name=victim, database_url=url),
        FakeClock(utc_now() - behind),
    )
    honest.ctx.check_server_clock = victim == "staffroom"
    try:
        before = _count(pg_url)
        try:
            done: object = honest.phones.deposit("ASMITH").kind
        except KioskError as exc:
            done = exc.message
    finally:
        honest.close()
    assert done == "phone_deposited", done
    assert _count(pg_url) == before + 1


def _forge_restore_over_a_gap(
    url: str, monkeypatch: pytest.MonkeyPatch, clock: FakeClock | None = None, last: int = 6
) -> int:
    """With the school key, a restore's record at the newest id + 7, saying it dropped the
    ids from the newest + 1 to the newest + ``last`` (none of them ever recorded): its id."""
    import kiosk.services.uow as uow_module

    real = uow_module._next_id
    forger = Services(
        make_engine(url),
        Settings(kiosk_name="staffroom", database_url=url),
        clock or FakeClock(utc_now()),
    )
    try:
        with forger.ctx.write() as uow:
            uow._chain_head()
            newest = uow._last_id
            assert isinstance(newest, int)
            monkeypatch.setattr(
                uow_module,
                "_next_id",
                lambda after, table="events": newest + 7 if table == "events" else real(after),
            )
            restore = uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=1,
                details={
                    "action": "database_restored",
                    "dropped_ids": [newest + 1, newest + last],
                    "dropped": last,
                    "reason": "tidy up",
                    "safety_copy": "kiosk.before-restore-20261207T080000Z.sqlite3",
                },
            )
    finally:
        monkeypatch.setattr(uow_module, "_next_id", real)
        forger.close()
    assert restore.id == newest + 7
    return restore.id


@pytest.mark.postgresql
def test_a_restore_record_on_postgresql_is_named_whatever_ids_it_names(
    set_up_school: Services, kiosk_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk login, with the school key, records "the database was restored" by the head
    teacher at the newest id + 7, saying it dropped the six ids between (a gap: no event
    was ever recorded there). Verify said "Register intact" with a note that the copy the
    restore kept "holds them", though on PostgreSQL nothing looked at a copy, and `kiosk
    restore` never records anything there (it refuses: a restore on PostgreSQL is the
    server's tools'). Every such record on PostgreSQL is now named."""
    set_up_school.close()
    restore_id = _forge_restore_over_a_gap(kiosk_url, monkeypatch)
    office = Services(make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url))
    try:
        report = office.integrity.verify(save=False)
    finally:
        office.close()
    assert not report.ok, report.summary
    (named,) = [p for p in report.problems if f"event {restore_id} records a restore" in p]
    assert "on PostgreSQL" in named, named
    assert not [n for n in report.notes if "holds them" in n], report.notes


def test_a_restore_record_not_just_after_what_it_dropped_is_named_on_sqlite(
    sqlite_services: Services, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """The same kind of record written into the SQLite register with the key (a shell on the
    kiosk holds it), at the newest id + 7, saying it dropped the newest + 1 to + 3: a
    restore records itself at the id after the last one it dropped, so one with ids no
    event ever had between them and its own is no restore's. (One saying it dropped every
    id between is told from a real restore only by its copy: see the report.)"""
    services = sqlite_services
    shift_school(services)
    url = str(services.ctx.engine.url)
    restore_id = _forge_restore_over_a_gap(url, monkeypatch, clock, last=3)
    report = services.integrity.verify(save=False)
    assert not report.ok, report.summary
    (named,) = [p for p in report.problems if f"event {restore_id} records a restore" in p]
    assert f"its own id is not the one after {restore_id - 4}" in named, named


@pytest.mark.parametrize("hashes", ["left alone", "recomputed", "recomputed, MAC removed"])
def test_verify_does_not_say_a_restores_copy_holds_events_a_shell_rewrote_in_it(
    sqlite_services: Services, tmp_path: Path, hashes: str
) -> None:
    """After `kiosk restore --drop-newer`, a shell (no key) rewrites the dropped events in
    the copy the restore kept: each a "phone collected" with no details, its hash columns
    left alone (or recomputed from the new content, each linked to the one before: no key
    is needed for a hash). Verify's look at the copy compared only the links between the
    hash columns, and its note still said the copy "holds them". Each of those events'
    hash is now recomputed (and its MAC checked, with the key)."""
    from kiosk.domain.chain import hash_of

    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    report = services.backup.restore(backup, drop_newer=True, reason="a wrong day")
    conn = sqlite3.connect(report.safety_copy, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        rows = conn.execute(
            "SELECT * FROM events WHERE id > ? ORDER BY id", (report.verify.head_id,)
        ).fetchall()
        assert len(rows) == 2
        prev = rows[0]["prev_hash"]
        for row in rows:
            mac = None if hashes.endswith("removed") else row["mac"]
            changed = dict(row) | {
                "kind": "phone_collected",
                "details": "{}",
                "prev_hash": prev,
                "mac": mac,
            }
            digest = hash_of(changed) if hashes.startswith("recomputed") else row["hash"]
            conn.execute(
                "UPDATE events SET kind = ?, details = ?, prev_hash = ?, hash = ?, mac = ? "
                "WHERE id = ?",
                ("phone_collected", "{}", prev, digest, mac, row["id"]),
            )
            prev = digest
    finally:
        conn.close()
    notes = " ".join(services.integrity.verify(save=False).notes)
    assert f"event {report.event_id} records a restore" in notes, notes
    assert "holds them" not in notes, notes
    assert "its events at those ids are not as they were recorded" in notes, notes


def test_a_restore_run_without_an_admins_code_is_not_said_to_be_by_staff_null(
    sqlite_services: Services, tmp_path: Path
) -> None:
    """`kiosk restore --drop-newer` run without an admin's code records no one: verify's
    note said "a restore by staff null". It says what ran it."""
    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    report = services.backup.restore(backup, drop_newer=True, reason="a wrong day")
    notes = " ".join(services.integrity.verify(save=False).notes)
    assert (
        f"event {report.event_id} records a restore by a command run without an admin's code"
        in notes
    ), notes
    assert "staff null" not in notes, notes


@pytest.mark.parametrize("shell", ["a link", "too slow to read"])
def test_verify_says_what_it_found_in_place_of_a_restores_copy(
    sqlite_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shell: str
) -> None:
    """A copy a restore kept, replaced by a symbolic link to another file, was said to be
    "something other than a file"; one the look stopped reading at its time limit, "it
    cannot be read as a register". Each is now said as it is."""
    import kiosk.services.integrity as integrity_module

    services = sqlite_services
    shift_school(services)
    backup = tmp_path / "monday.sqlite3"
    services.backup.backup(backup)
    services.phones.deposit("ASMITH")
    report = services.backup.restore(backup, drop_newer=True, reason="a wrong day")
    copy = report.safety_copy
    if shell == "a link":
        moved = tmp_path / "elsewhere.sqlite3"
        copy.rename(moved)
        copy.symlink_to(moved)
        expected = "a link to another file is in its place"
    else:
        # A schema long enough that reading it takes the look past its (here spent) limit.
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            conn.execute("BEGIN")
            for n in range(3000):
                conn.execute(f"CREATE TABLE padding_{n} (x)")
            conn.execute("COMMIT")
        finally:
            conn.close()
        monkeypatch.setattr(integrity_module, "RESTORE_COPY_SECONDS", 0.0)
        expected = "it took longer than 0 seconds to read, so what it holds was not looked at"
    notes = " ".join(services.integrity.verify(save=False).notes)
    assert f"{copy.name}, was to hold them, but {expected}" in notes, notes
