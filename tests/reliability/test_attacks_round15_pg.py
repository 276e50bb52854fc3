"""Round 15 of the red team on the record, on PostgreSQL: the kiosk's own database login
against the other kiosks (their locks, their sessions) and the objects it may create.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.domain.errors import DatabaseUnavailable, KioskError, RuleViolation
from kiosk.services.app import Services, prepare_database
from kiosk.services.uow import CHAIN_LOCK_KEY
from tests.conftest import FakeClock
from tests.pg import Cluster, PgServer, PgUnavailable, _bin_dir
from tests.reliability.helpers import libpq_url
from tests.reliability.test_attacks_round14_pg import _append_copy_of_head
from tests.school import make_school

pytestmark = pytest.mark.postgresql


def _kiosk(url: str, clock: FakeClock, name: str = "k2") -> Services:
    return Services(make_engine(url), Settings(kiosk_name=name, database_url=url), clock)


@pytest.fixture
def second_kiosk(set_up_school: Services, kiosk_url: str, clock: FakeClock) -> Iterator[str]:
    """The kiosk login's URL once the school is set up (and its first kiosk closed)."""
    set_up_school.close()
    yield kiosk_url


def _try(work: Callable[[], object]) -> object:
    try:
        return work()
    except KioskError as exc:
        return exc.message


# --- the register's write lock held by a session left idle -----------------------------------


def test_a_kiosk_names_the_connection_that_holds_the_write_lock(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk login takes the chain's advisory lock at session level
    (``SELECT pg_advisory_lock(...)`` in a database tool) and leaves the session idle: no
    transaction is open, so no idle limit ends it, and every kiosk says "Not recorded ...
    Please try again in a moment" for as long as it stays (days). Neither the kiosk's
    screen nor `kiosk verify` said which connection it was, so whoever looks after the
    database could not end it. Now both name it: its server process, login, program and
    since when, and how to end it."""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 300)
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    holder = psycopg.connect(
        libpq_url(second_kiosk), autocommit=True, application_name="pgAdmin 4 - \x1b[2Jx"
    )
    services = _kiosk(second_kiosk, clock)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (CHAIN_LOCK_KEY,))
        pid = holder.info.backend_pid
        said = _try(lambda: services.phones.deposit("EPATEL"))
        report = services.integrity.verify()
    finally:
        holder.close()
        services.close()
    assert isinstance(said, str) and said.startswith("Not recorded: another connection holds")
    for words in (f"server process {pid}", f"login {login}", "program 'pgAdmin 4 - ?[2Jx'"):
        assert words in said, said
    assert f"SELECT pg_terminate_backend({pid})" in said
    assert "\x1b" not in said
    assert any(f"server process {pid}" in note for note in report.notes), report.notes


# --- another kiosk's session ended mid-write ------------------------------------------------


def _writes_statements(url: str, clock: FakeClock) -> int:
    """How many statements (and the COMMIT) one deposit sends on a fresh kiosk."""
    services = _kiosk(url, clock, name="k3")
    sent: list[str] = []
    try:
        services.phones.deposit("EPATEL")  # the baseline checked once
        services.phones.collect("EPATEL")
        engine = services.ctx.engine
        count = lambda *_: sent.append("x")  # noqa: E731
        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine, "commit", count)
        try:
            services.phones.deposit("EPATEL")
        finally:
            event.remove(engine, "before_cursor_execute", count)
            event.remove(engine, "commit", count)
        services.phones.collect("EPATEL")
    finally:
        services.close()
    return len(sent)


def test_a_kiosk_whose_session_is_ended_mid_write_never_confirms_a_lost_event(
    second_kiosk: str, clock: FakeClock
) -> None:
    """Guard test. Every kiosk shares one login, and a login may end its own role's sessions
    (``SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename =
    current_user``). Ended before each statement of a deposit in turn, and before its
    COMMIT: the kiosk either confirms the deposit and it is in the register, or says so in
    words ("Not recorded", or "Not confirmed") and nothing it confirmed is missing; the next
    scan records, and verify finds the register intact."""
    steps = _writes_statements(second_kiosk, clock)
    assert steps >= 5
    services = _kiosk(second_kiosk, clock)
    killer = psycopg.connect(libpq_url(second_kiosk), autocommit=True)
    try:
        services.phones.deposit("EPATEL")  # baseline checked, pool warm
        services.phones.collect("EPATEL")
        engine = services.ctx.engine
        for target in range(steps):
            seen = [0]

            def end_session(conn: Any, *_: Any, seen: list[int] = seen, at: int = target) -> None:
                if seen[0] == at:
                    pid = conn.connection.dbapi_connection.info.backend_pid
                    killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
                seen[0] += 1

            before = _events_count(killer)
            event.listen(engine, "before_cursor_execute", end_session)
            event.listen(engine, "commit", end_session)
            try:
                outcome = _try(lambda: services.phones.deposit("EPATEL"))
            finally:
                event.remove(engine, "before_cursor_execute", end_session)
                event.remove(engine, "commit", end_session)
            after = _events_count(killer)
            if isinstance(outcome, str):
                assert outcome.startswith(("Not recorded", "Not confirmed")), outcome
                assert after == before, (target, outcome)
            else:
                assert after == before + 1, target
                services.phones.collect("EPATEL")
        services.phones.deposit("EPATEL")
        report = services.integrity.verify(save=False)
        assert report.ok, report.problems
    finally:
        killer.close()
        services.close()


def _events_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    return int(row[0])


# --- objects a kiosk login may create: large objects ----------------------------------------

_OWNER_COUNTER = itertools.count()


def test_a_large_object_of_a_kiosk_login_does_not_stop_the_owners_backups(
    pg_server: PgServer, clock: FakeClock, tmp_path: Path
) -> None:
    """A login with no CREATE anywhere may still make large objects (``SELECT
    lo_from_bytea(0, 'x')``: PostgreSQL lets every role). Each is the login's own, and the
    owner (docs/deploy.md: a plain login that owns the database) may not read it: the
    ``pg_dump`` command `kiosk backup` prints for the owner then failed ("permission denied
    for large object"), and no backup was taken from that night on. The register holds no
    large object: the command leaves them out, and the backup is taken."""
    suffix = f"{os.getpid()}_{next(_OWNER_COUNTER)}"
    owner, login, database = f"lo_owner_{suffix}", f"lo_kiosk_{suffix}", f"lo_db_{suffix}"
    admin = f"host={pg_server.host} port={pg_server.port} user={pg_server.user}"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE DATABASE {database} OWNER {owner}")
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kiosk_app') "
            "THEN CREATE ROLE kiosk_app NOLOGIN; END IF; END $$"
        )
        conn.execute(f"CREATE ROLE {login} LOGIN IN ROLE kiosk_app")
    base = make_url(pg_server.url(database)).set(password=None)
    owner_url = base.set(username=owner).render_as_string(hide_password=False)
    kiosk_url = base.set(username=login).render_as_string(hide_password=False)
    engine = null_pool_engine(owner_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    services = _kiosk(kiosk_url, clock)
    try:
        make_school(services)
        services.phones.deposit("EPATEL")
    finally:
        services.close()
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as kiosk:
        kiosk.execute("SELECT lo_from_bytea(0, 'not the register')")
    office = _kiosk(owner_url, clock, name="office")
    dump = tmp_path / "kiosk.dump"
    try:
        with pytest.raises(RuleViolation, match="pg_dump") as err:
            office.backup.backup(dump)
    finally:
        office.close()
    command = str(err.value).split("owner: ", 1)[1].split()
    done = subprocess.run(
        [str(_bin_dir() / "pg_dump"), *command[1:]], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [str(_bin_dir() / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "TABLE DATA public events" in listed


@pytest.fixture(scope="module")
def two_phase_server() -> Iterator[PgServer]:
    """A cluster of its own that allows two-phase commit (the tests' cluster does not, as
    PostgreSQL ships; a school's server shared with another application may)."""
    cluster = Cluster(max_prepared_transactions=4)
    try:
        server = cluster.start()
    except PgUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        yield server
    finally:
        cluster.stop()


def _school_on(server: PgServer, clock: FakeClock) -> tuple[str, str]:
    """A register on ``server`` (migrated by its superuser) with a school set up through a
    kiosk login: the kiosk login's URL and the owner's."""
    suffix = f"{os.getpid()}_{next(_OWNER_COUNTER)}"
    login, database = f"tp_kiosk_{suffix}", f"tp_db_{suffix}"
    admin = f"host={server.host} port={server.port} user={server.user}"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    owner_url = server.url(database)
    engine = null_pool_engine(owner_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {login} LOGIN IN ROLE kiosk_app")
    kiosk_url = make_url(owner_url).set(username=login).render_as_string(hide_password=False)
    services = _kiosk(kiosk_url, clock)
    try:
        make_school(services)
        services.phones.deposit("EPATEL")
    finally:
        services.close()
    return kiosk_url, owner_url


@pytest.mark.parametrize("held", ["write lock", "next event"])
def test_a_prepared_transaction_holding_the_register_is_named(
    two_phase_server: PgServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, held: str
) -> None:
    """Where the server allows two-phase commit, the kiosk login takes the chain's lock (or
    inserts the next event, uncommitted) and ``PREPARE TRANSACTION``s it: the transaction
    outlives its session, holds its locks until someone commits or rolls it back, and no
    session can be ended to let it go. Every kiosk said "Not recorded: another connection
    holds the register's write lock ... Please try again in a moment", for ever, and nothing
    said what held it (a server process that does not exist). Now the kiosk names the
    prepared transaction and how to end it."""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 300)
    kiosk_url, owner_url = _school_on(two_phase_server, clock)
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(kiosk_url)) as attacker:
        if held == "write lock":
            attacker.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_KEY,))
        else:
            _append_copy_of_head(attacker)
        attacker.execute("PREPARE TRANSACTION 'kiosk-held'")
    services = _kiosk(kiosk_url, clock)
    try:
        said = _try(lambda: services.phones.deposit("CHEAD"))
    finally:
        services.close()
        with psycopg.connect(libpq_url(owner_url), autocommit=True) as owner:
            owner.execute("ROLLBACK PREPARED 'kiosk-held'")
    assert isinstance(said, str) and said.startswith("Not recorded: another connection holds")
    assert "prepared transaction 'kiosk-held'" in said, said
    assert f"login {login}" in said, said
    assert "ROLLBACK PREPARED 'kiosk-held'" in said, said


# --- an upgrade of the register held up ----------------------------------------------------


def test_an_upgrade_held_up_by_a_kiosk_logins_open_transaction_says_so(
    pg_url: str,
    kiosk_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The kiosk login begins a transaction, reads one event and leaves the session idle
    (its own idle limit off). A revision that changes the events table (0006 replaces a
    trigger on it) waits for that transaction, and gives up after the lock timeout:
    `kiosk db upgrade` (and each kiosk starting the new version) said "The database cannot
    be opened (OperationalError). Check KIOSK_DATABASE_URL.": the URL was right, and nothing
    named the session. Now it says a connection holds a lock on the register, names it and
    how to end it, and that nothing was changed."""
    import kiosk.db.engine as engine_module
    from kiosk.cli import main
    from kiosk.db import migrate as migrations

    monkeypatch.setattr(engine_module, "PG_LOCK_TIMEOUT_MS", 500)
    owner = null_pool_engine(pg_url)
    try:
        migrations.downgrade(owner, "0005")
        before = migrations.current_revision(owner)
    finally:
        owner.dispose()
    holder = psycopg.connect(libpq_url(kiosk_url))
    try:
        holder.execute("SET idle_in_transaction_session_timeout = 0")
        holder.execute("SELECT 1 FROM events LIMIT 1")  # inside a transaction, left open
        pid = holder.info.backend_pid
        monkeypatch.setenv("KIOSK_DATABASE_URL", pg_url)
        status = main(["db", "upgrade"])
        _out, err = capsys.readouterr()
    finally:
        holder.close()
    assert status != 0
    assert "Check KIOSK_DATABASE_URL" not in err, err
    assert "another connection holds a lock on the register" in err, err
    assert f"server process {pid}" in err and f"pg_terminate_backend({pid})" in err, err
    assert "Nothing was changed" in err, err
    owner = null_pool_engine(pg_url)
    try:
        assert migrations.current_revision(owner) == before
        migrations.upgrade(owner)  # the session ended: the upgrade goes through
        assert migrations.is_at_head(owner)
    finally:
        owner.dispose()


# --- every connection of the server taken ---------------------------------------------------


@pytest.fixture(scope="module")
def small_server() -> Iterator[PgServer]:
    """A cluster of its own with few connections (8, 3 of them kept for superusers)."""
    cluster = Cluster(max_connections=8)
    try:
        server = cluster.start()
    except PgUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        yield server
    finally:
        cluster.stop()


def test_a_kiosk_login_holding_every_connection_is_said_in_words(
    small_server: PgServer, clock: FakeClock
) -> None:
    """The kiosk login opens connections until the server has none left for anyone but a
    superuser (``FATAL: sorry, too many clients already``, or "remaining connection slots
    are reserved"). Every kiosk's next scan said "Not recorded: the database is unavailable.
    Please try again." as if the server or the network were down. Now it says the server has
    no connection left, that a login may be holding them all, and what limits it."""
    kiosk_url, _owner = _school_on(small_server, clock)
    services = _kiosk(kiosk_url, clock)
    services.phones.collect("EPATEL")
    services.ctx.engine.dispose()  # the kiosk's pooled connection closed: it must connect
    held: list[psycopg.Connection[Any]] = []
    try:
        while True:
            try:
                held.append(psycopg.connect(libpq_url(kiosk_url), connect_timeout=5))
            except psycopg.OperationalError:
                break
            assert len(held) < 20
        said = _try(lambda: services.phones.deposit("EPATEL"))
        starting = make_engine(kiosk_url)  # a kiosk starting now
        try:
            with pytest.raises(DatabaseUnavailable) as refused:
                prepare_database(starting)
        finally:
            starting.dispose()
    finally:
        for conn in held:
            conn.close()
        services.close()
    assert isinstance(said, str), said
    assert said.startswith("Not recorded: the database server has no connection left"), said
    assert "CONNECTION LIMIT" in said, said
    assert str(refused.value).startswith(
        "The database cannot be opened: the database server has no connection left"
    ), refused.value


def test_a_holder_whose_details_the_server_hides_is_not_said_to_be_local() -> None:
    """PostgreSQL shows another role's session's address and times only to a member of it
    (or of pg_read_all_stats): a kiosk that finds the owner's psql holding the lock sees no
    address, and must not say the connection came from the server itself."""
    from datetime import UTC, datetime

    from kiosk.services.uow import lock_holders_said

    hidden = lock_holders_said([(41, "kiosk_owner", None, None, None, None)])
    assert hidden.startswith(": held by server process 41 (login kiosk_owner). ")
    local_time = datetime(2026, 12, 7, 9, 14, tzinfo=UTC)
    local = lock_holders_said([(42, "k", "psql", None, local_time, local_time)])
    assert "(login k, program 'psql', on the server itself, connected 2026-12-07 09:14 UTC" in local


def test_a_kiosk_whose_session_is_ended_or_cancelled_says_so(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk login ends (``pg_terminate_backend``) or cancels (``pg_cancel_backend``)
    the other kiosks' sessions as they record, in a loop. Nothing is lost (the guard test
    above), but every kiosk said "Not recorded: the database is unavailable. Please try
    again.", as if the server or the network were down. Now it says the server ended (or
    cancelled) what the kiosk was doing, and who can do that."""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 10_000)
    services = _kiosk(second_kiosk, clock)
    other = psycopg.connect(libpq_url(second_kiosk), autocommit=True)
    try:
        services.phones.deposit("EPATEL")
        services.phones.collect("EPATEL")
        said: dict[str, object] = {}
        for how in ("terminate", "cancel"):
            other.execute("SELECT pg_advisory_lock(%s)", (CHAIN_LOCK_KEY,))
            scan = threading.Thread(
                target=lambda how=how: said.update(
                    {how: _try(lambda: services.phones.deposit("EPATEL"))}
                )
            )
            scan.start()
            waiting = None
            for _ in range(100):
                waiting = other.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND usename = current_user"
                ).fetchone()
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting is not None
            other.execute(f"SELECT pg_{how}_backend(%s)", (waiting[0],))
            scan.join(20)
            other.execute("SELECT pg_advisory_unlock(%s)", (CHAIN_LOCK_KEY,))
    finally:
        other.close()
        services.close()
    assert said["terminate"] == (
        "Not recorded: the database server ended this kiosk's connection (the server "
        "stopping or restarting, or someone ending the kiosk's session with "
        "pg_terminate_backend). Please try again; if it keeps happening, tell whoever looks "
        "after the database."
    )
    assert said["cancel"] == (
        "Not recorded: the database server cancelled what this kiosk asked of it (someone "
        "cancelling it with pg_cancel_backend, or a time limit set in KIOSK_DATABASE_URL or "
        "PGOPTIONS). Please try again; if it keeps happening, tell whoever looks after the "
        "database."
    )


# --- the login's own commit level, weaker than the server's ----------------------------------


@pytest.mark.parametrize("level", ["local", "remote_write"])
def test_a_kiosk_login_cannot_have_its_writes_confirmed_before_the_standby_has_them(
    second_kiosk: str, clock: FakeClock, level: str
) -> None:
    """Round 5 turned a login's ``synchronous_commit = off`` back on for each write. A login
    may as well set its own role to ``local`` (or ``remote_write``): where the school runs a
    synchronous standby, its kiosks' COMMITs were then answered before the standby had them
    on disk, and a failover lost events the kiosks had confirmed. A level set on the login's
    role is now turned back on for each write, like ``off``; one given in
    KIOSK_DATABASE_URL or PGOPTIONS (the school's own choice) is kept."""
    from sqlalchemy import text as sql

    with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE CURRENT_USER SET synchronous_commit = {level}")
    services = _kiosk(second_kiosk, clock)
    chosen = f"{second_kiosk}?options=-c%20synchronous_commit%3D{level}"
    school = _kiosk(chosen, clock)
    try:
        with services.ctx.read() as session:
            assert session.execute(sql("SHOW synchronous_commit")).scalar() == level
        with services.ctx.write() as uow:
            in_effect = uow.session.execute(sql("SHOW synchronous_commit")).scalar()
        assert in_effect == "on", f"a write commits with synchronous_commit {in_effect}"
        with school.ctx.write() as uow:
            kept = uow.session.execute(sql("SHOW synchronous_commit")).scalar()
        assert kept == level
        services.phones.deposit("EPATEL")
    finally:
        services.close()
        school.close()
