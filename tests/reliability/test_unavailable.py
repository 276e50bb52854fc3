"""The database goes away mid-shift and comes back: nothing is confirmed, the kiosk recovers.

PostgreSQL: a throwaway cluster of this module's own is stopped (``pg_ctl stop -m fast``,
which also ends the sessions in progress) and started again.

SQLite: the tests run as root, and ``chmod`` does not stop root writing. Two real ways:

* **immutable**: ``chattr +i`` on the database file and its WAL. The kernel then refuses
  every write, to root too, and through descriptors that were already open ("disk I/O
  error"; a connection opened meanwhile is read-only: "attempt to write a readonly
  database"). The ``-shm`` file is left alone: it is memory-mapped, and an immutable one
  would kill the process with SIGBUS. Needs ext4/xfs and CAP_LINUX_IMMUTABLE.
* **disk full**: the database lives on a 16 MB tmpfs that a filler file fills up
  ("database or disk is full"). Needs CAP_SYS_ADMIN to mount.

Either way reads still work (the kiosk can still show who has what) and every action
raises DatabaseUnavailable; when the file is writable again the same Services object
records again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.pg import Cluster, PgServer, PgUnavailable
from tests.reliability.helpers import count_events
from tests.school import add_seed_policy, make_ready, make_school

Call = Callable[[Services], Any]


def prepare_shift(services: Services) -> dict[str, Call]:
    """A school mid-shift, and one valid action of each kind for the outage."""
    make_school(services)
    make_ready(services, "ASMITH")
    make_ready(services, "EPATEL")
    services.phones.deposit("ASMITH")
    services.devices.sign_out("EPATEL", ["LAP-002"], reason="Report writing")
    policy = services.policies.outstanding("BJONES")[0]
    first_event = next(  # a correctable event that no other call here depends on
        r.event_id
        for r in services.register.day(services.ctx.clock().date()).rows
        if r.kind == "vdu_training_declared" and r.staff_code == "EPATEL"
    )
    return {
        "deposit": lambda s: s.phones.deposit("BJONES"),
        "collect": lambda s: s.phones.collect("ASMITH"),
        "sign out": lambda s: s.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing"),
        "return": lambda s: s.devices.return_device("LAP-002"),
        "acknowledge": lambda s: s.policies.acknowledge("BJONES", policy.id, policy.sha256),
        "vdu": lambda s: s.policies.declare_vdu_training("BJONES", date(2026, 3, 1)),
        "add staff": lambda s: s.people.add_staff("NEWBIE", "New Person"),
        "import": lambda s: s.people.import_staff_csv(b"code,name\nNEWTWO,Another Person\n"),
        "void": lambda s: s.register.void(first_event, reason="typo", admin_code="CHEAD"),
        "export": lambda s: s.backup.export_staff("ASMITH"),
    }


READS: dict[str, Call] = {
    "scan": lambda s: s.people.resolve_scan("SRK1:S:ASMITH"),
    "status": lambda s: s.people.status("ASMITH"),
    "phones now": lambda s: s.phones.phones_now(),
    "off site": lambda s: s.devices.offsite_now(),
    "register": lambda s: s.register.day(s.ctx.clock().date()),
    "staff list": lambda s: s.people.list_staff(),
    "outstanding": lambda s: s.policies.outstanding("BJONES"),
    "last check": lambda s: s.integrity.last_result(),
    "verify": lambda s: s.integrity.verify(),  # checks; saves its result when it can
}
CHANGING = {"last check", "verify"}  # their answers carry the time of the check


def assert_all_refused(services: Services, calls: dict[str, Call]) -> None:
    for name, call in calls.items():
        with pytest.raises(DatabaseUnavailable) as err:
            call(services)
        message = str(err.value)
        assert "Please try again" in message or "try again" in message, (name, message)


def assert_all_work(services: Services, calls: dict[str, Call]) -> None:
    for name, call in calls.items():
        try:
            call(services)
        except Exception as exc:  # pragma: no cover - the message names the action
            pytest.fail(f"{name} failed after the database came back: {exc!r}")


# --- PostgreSQL stopped and started again ------------------------------------------------------


class RestartableCluster(Cluster):
    """tests/pg.py's cluster, with stop and start that keep the data folder."""

    def halt(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self.start_server()


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[tuple[RestartableCluster, PgServer]]:
    try:
        cluster = RestartableCluster()
        server = cluster.start()
    except PgUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        yield cluster, server
    finally:
        cluster.stop()


_databases = iter(range(1000))


def count_register(url: str) -> int:
    """Events other than reference changes (a new person is one of each) and recorded checks
    (verify is one of the reads, and records its result)."""
    from tests.reliability.helpers import raw_scalar

    sql = "SELECT count(*) FROM events WHERE kind NOT IN ('reference_changed', 'register_verified')"
    return int(raw_scalar(url, sql))


@pytest.fixture
def own_pg(
    own_cluster: tuple[RestartableCluster, PgServer], clock: FakeClock
) -> Iterator[tuple[RestartableCluster, Services]]:
    cluster, server = own_cluster
    name = f"outage_{next(_databases)}"
    with psycopg.connect(
        f"host={server.host} port={server.port} user={server.user} dbname=postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = server.url(name)
    engine = null_pool_engine(url)
    migrate.upgrade(engine)
    add_seed_policy(engine)  # the school of the other tests: its AUP in force
    engine.dispose()
    services = Services(make_engine(url), Settings(kiosk_name="staffroom", database_url=url), clock)
    try:
        yield cluster, services
    finally:
        services.close()
        with contextlib.suppress(PgUnavailable):
            cluster.resume()  # a failed test may have left it stopped


@pytest.mark.postgresql
def test_postgresql_stopped_every_call_says_try_again_then_it_recovers(
    own_pg: tuple[RestartableCluster, Services],
) -> None:
    cluster, services = own_pg
    writes = prepare_shift(services)
    url = services.settings.database_url
    before = count_register(url)

    cluster.halt()
    try:
        assert_all_refused(services, writes)
        assert_all_refused(services, READS)
    finally:
        cluster.resume()

    assert count_register(url) == before  # nothing was recorded while it was down
    assert_all_work(services, READS)  # the same Services object, no restart
    assert_all_work(services, writes)
    # one register event per action (reference changes are their own events besides)
    assert count_register(url) == before + len(writes)
    assert services.integrity.verify().ok


def test_sqlite_file_unwritable_by_chattr(
    sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    shutil.copy(sqlite_template, path)
    _sqlite_outage(path, clock, _immutable)


def test_sqlite_disk_full(sqlite_template: Path, tmp_path: Path, clock: FakeClock) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with _tmpfs(disk, "16m"):
        path = disk / "kiosk.sqlite3"
        shutil.copy(sqlite_template, path)
        _sqlite_outage(path, clock, _disk_full, strict=False)


@pytest.mark.postgresql
def test_postgresql_stopped_while_kiosks_record(
    own_pg: tuple[RestartableCluster, Services],
) -> None:
    """A kiosk recording all the time while the server stops and starts: every confirmation
    shown is in the database afterwards, every failure was DatabaseUnavailable."""
    cluster, services = own_pg
    _record_through_outage(services, cluster.halt, cluster.resume)


def test_sqlite_unwritable_while_kiosks_record(
    sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), clock)
    stack = contextlib.ExitStack()
    try:
        _record_through_outage(services, lambda: stack.enter_context(_immutable(path)), stack.close)
    finally:
        stack.close()
        services.close()


# --- helpers -----------------------------------------------------------------------------------


def _sqlite_outage(
    path: Path,
    clock: FakeClock,
    outage: Callable[[Path], contextlib.AbstractContextManager[None]],
    *,
    strict: bool = True,
) -> None:
    """``strict``: every action is refused. Otherwise (a full disk) an action may still fit
    in space SQLite had already allocated; then it must really be stored."""
    url = f"sqlite:///{path}"
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), clock)
    try:
        writes = prepare_shift(services)
        before = count_events(url)
        answers = {name: call(services) for name, call in READS.items() if name not in CHANGING}
        stored: list[int] = []
        with outage(path):
            if strict:
                assert_all_refused(services, writes)
            else:
                refused = 0
                for call in writes.values():
                    try:
                        result = call(services)
                    except DatabaseUnavailable:
                        refused += 1
                        continue
                    if hasattr(result, "event_id"):
                        stored.append(result.event_id)
                assert refused >= 1
            # A kiosk started during the outage...
            late = Services(make_engine(url), services.settings, clock)
            if strict:
                assert_all_refused(late, writes)
            # ...and reads keep answering, the same as before.
            for name, call in READS.items():
                if name in answers and strict:
                    assert call(services) == answers[name], name
                    assert call(late) == answers[name], name
            if strict:  # the register can still be checked; the result is not kept
                report = late.integrity.verify()
                assert report.ok and any("could not be saved" in n for n in report.notes)
        if strict:
            assert count_events(url) == before
        from bench.reliability import _existing

        assert _existing(url, stored) == set(stored)
        if strict:
            assert_all_work(services, writes)
        services.phones.deposit("CHEAD")
        # The kiosk that started during the outage records too, without a restart.
        late.phones.deposit("DOFFICE")
        late.close()
        assert services.integrity.verify().ok
    finally:
        services.close()


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    files = [path, Path(f"{path}-wal")]
    for f in files:
        f.touch(exist_ok=True)
    done: list[Path] = []
    try:
        for f in files:
            result = subprocess.run(["chattr", "+i", str(f)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"chattr +i is not possible here: {result.stderr.strip()}")
            done.append(f)
        yield
    finally:
        for f in done:
            subprocess.run(["chattr", "-i", str(f)], check=True)


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[None]:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@contextlib.contextmanager
def _disk_full(path: Path) -> Iterator[None]:
    filler = path.parent / "filler"
    try:
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for size in (1 << 16, 1 << 12, 1):  # to the last byte
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)
        yield
    finally:
        filler.unlink(missing_ok=True)


def _record_through_outage(
    services: Services, stop: Callable[[], object], start: Callable[[], object]
) -> None:
    from bench.reliability import _existing, prepare, record_one

    url = services.settings.database_url
    prepare(url, 1)
    # prepare() records with the real clock: the kiosk records after it, at the real time
    # too (verify names events dated well before an event recorded ahead of them).
    clock = services.ctx.clock
    if isinstance(clock, FakeClock):
        clock.set(max(clock(), datetime.now(UTC)))
    confirmed: list[int] = []
    failures: list[BaseException] = []
    running = threading.Event()
    running.set()

    def kiosk() -> None:
        n = 0
        while running.is_set():
            try:
                confirmed.append(record_one(services, f"K00S{n % 3}"))
            except BaseException as exc:
                failures.append(exc)
                time.sleep(0.02)
            n += 1

    worker = threading.Thread(target=kiosk)
    worker.start()
    try:
        _wait_for(lambda: len(confirmed) >= 10)
        stop()
        during = len(failures)
        _wait_for(lambda: len(failures) >= during + 5)
        start()
        after = len(confirmed)
        _wait_for(lambda: len(confirmed) >= after + 10)
    finally:
        running.clear()
        worker.join(timeout=60)
    assert failures, "the outage was never noticed"
    assert all(isinstance(f, DatabaseUnavailable) for f in failures), {
        type(f).__name__: str(f) for f in failures
    }
    assert _existing(url, confirmed) == set(confirmed)
    assert services.integrity.verify().ok


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the kiosk thread")
        time.sleep(0.02)


def test_a_full_disk_is_said_to_be_full_not_try_again(
    sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    # The disk holding the register filled up (a log, backups kept beside it): every scan
    # at every kiosk said "Not recorded: the database is unavailable. Please try again",
    # and a kiosk started then "The database cannot be opened (OperationalError). Check
    # KIOSK_DATABASE_URL": no retry and no setting helps, and nobody was told what does.
    from kiosk.services.app import prepare_database

    disk = tmp_path / "disk"
    disk.mkdir()
    with _tmpfs(disk, "16m"):
        path = disk / "kiosk.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), clock)
        try:
            make_school(services)
            services.phones.deposit("ASMITH")
            with _disk_full(path):
                said: list[str] = []
                for code in ("BJONES", "CHEAD", "DOFFICE", "EPATEL"):
                    try:
                        services.phones.deposit(code)
                    except DatabaseUnavailable as exc:
                        said.append(exc.message)
                assert said
                for message in said:
                    assert message.startswith("Not recorded: the disk that holds the register")
                    assert "is full" in message and "Please try again" not in message
            services.close()
            # A kiosk starting anew on the full disk: SQLite makes its shared-memory file
            # again (none is left once the last connection closes).
            Path(f"{path}-shm").unlink(missing_ok=True)
            with _disk_full(path):
                engine = make_engine(url)
                try:
                    with pytest.raises(DatabaseUnavailable) as opened:
                        prepare_database(engine)
                finally:
                    engine.dispose()
                assert "the disk that holds the register is full" in opened.value.message
                assert "KIOSK_DATABASE_URL" not in opened.value.message
            services = Services(make_engine(url), services.settings, clock)
            services.phones.deposit("CHEAD")
            assert services.integrity.verify().ok
        finally:
            services.close()


@pytest.mark.postgresql
def test_a_full_disk_under_postgresql_is_said_to_be_full(
    own_cluster: tuple[RestartableCluster, PgServer],
    own_pg: tuple[RestartableCluster, Services],
) -> None:
    # The register's table on a disk that fills up (a tablespace on a 4 MB tmpfs): 53100.
    cluster, server = own_cluster
    _cluster, services = own_pg
    name = services.ctx.engine.url.database
    disk = cluster.root / f"space_{name}"  # (a folder the server's user may reach)
    disk.mkdir()
    with _tmpfs(disk, "4m"):
        if cluster.as_root:
            shutil.chown(disk, "postgres", "postgres")
        space = f"full_{name}"
        with psycopg.connect(
            f"host={server.host} port={server.port} user={server.user} dbname={name}",
            autocommit=True,
        ) as owner:
            owner.execute(f"CREATE TABLESPACE {space} LOCATION '{disk}'")
            owner.execute(f"ALTER TABLE events SET TABLESPACE {space}")
        try:
            make_school(services)
            with _disk_full(disk / "register"):
                said = ""
                for _ in range(2000):  # until the table's last page is full
                    try:
                        services.phones.in_or_out("BJONES")
                    except DatabaseUnavailable as exc:
                        said = exc.message
                        break
                assert said.startswith("Not recorded: the disk that holds the register is full")
            services.phones.in_or_out("BJONES")
            assert services.integrity.verify().ok
        finally:
            with psycopg.connect(
                f"host={server.host} port={server.port} user={server.user} dbname={name}",
                autocommit=True,
            ) as owner:
                owner.execute("ALTER TABLE events SET TABLESPACE pg_default")
                owner.execute(f"DROP TABLESPACE {space}")
