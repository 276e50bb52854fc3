"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, a fake clock."""

from __future__ import annotations

import gc
import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from pytest_postgresql.janitor import DatabaseJanitor

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.services.app import Services
from kiosk.ui import tuning
from tests.pg import Cluster, PgServer, PgUnavailable, from_env
from tests.school import add_seed_policy

# Hypothesis in CI: the same examples every run (a property test takes the same time and fails
# the same way on a rerun; the failing example is printed to reproduce it), nothing written to
# .hypothesis/. Tests that ask for fresh examples (tests/reliability/test_fuzz.py:
# ``derandomize=False``) still get them. Locally, the default profile explores.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# Tuesday 10 March 2026, 08:05 in London (GMT).
START = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the developer's real config, data or logs."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith("KIOSK_") and not key.startswith(("KIOSK_TEST", "KIOSK_TUNING")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("KIOSK_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("KIOSK_LOG_DIR", str(home / "log"))
    monkeypatch.setenv("KIOSK_NAME", "test-kiosk")


# Collect in full every this many tests (see _earlier_tests_frozen).
FULL_COLLECTION_EVERY = 10
_tests_since_collection = itertools.count()
_TUNING_ACTIVE = tuning.parse(os.environ.get(tuning.TUNING_ENV))


@pytest.fixture(autouse=True)
def _earlier_tests_frozen(request: pytest.FixtureRequest) -> None:
    """What exists when a test starts (pytest's own objects, the imported modules, what
    earlier tests left) is frozen out of the garbage collector's full passes for this test;
    every tenth test first collects it in full, so what earlier tests left is freed. Without
    this, each full pass of a test walked the whole test process (a few hundred thousand
    objects, up to two million): about a fifth of the UI tests' CPU, in both passes. A full
    pass is due the same as before, the kiosk's own (kiosk/ui/tuning/memory.py) included;
    it walks what the test made. Tests that check freezing unfreeze first.

    Not for a UI test with the tuning piece ``gc`` on: the kiosk collects, then freezes, once
    it is up (kiosk/ui/tuning/memory.py) and gives it back as it closes, so this was done
    twice there (tests/ui with -n 4: 147 s of CPU with it, 139 s without). On stock Textual
    (the Makefile's second pass) it stays: without it, that pass took 188 s of CPU, not 137."""
    if request.node.get_closest_marker("ui") is not None and "gc" in _TUNING_ACTIVE:
        return  # the kiosk's gc piece collects and freezes as the app starts
    if next(_tests_since_collection) % FULL_COLLECTION_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL server of this test process. Under pytest-xdist (``make test``: ``-n 3``,
    beside the stock-Textual UI pass, which has no PostgreSQL test) each worker is a process of
    its own and starts its own throwaway cluster, on its own port
    (tests/pg.py picks a free one, and another if a parallel worker took it first), with its
    databases named after the worker's pid: workers share nothing. ``KIOSK_TEST_PG`` names
    one server for all of them instead (databases still per pid)."""
    external = from_env()
    if external is not None:
        yield external
        return
    try:
        cluster = Cluster()
        server = cluster.start()
    except PgUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        yield server
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    """A database migrated to head once, cloned for each test."""
    name = f"kiosk_template_{os.getpid()}"
    janitor = DatabaseJanitor(
        user=pg_server.user,
        host=pg_server.host,
        port=pg_server.port,
        dbname=name,
        password=pg_server.password,
        as_template=True,
    )
    with janitor:
        engine = null_pool_engine(pg_server.url(name))
        migrate.upgrade(engine)
        add_seed_policy(engine)
        engine.dispose()
        yield name


_pg_counter = itertools.count()


@pytest.fixture
def pg_url(pg_server: PgServer, pg_template: str) -> Iterator[str]:
    """A database of its own for the test, cloned from the template. On this run's own
    cluster it is not dropped afterwards: the cluster's folder is removed at the end, and
    dropping each of some 270 databases (8 MB of files each) cost the server about 0.1 s of
    CPU apiece. On a server named by ``KIOSK_TEST_PG`` it is dropped."""
    name = f"kiosk_test_{os.getpid()}_{next(_pg_counter)}"
    janitor = DatabaseJanitor(
        user=pg_server.user,
        host=pg_server.host,
        port=pg_server.port,
        dbname=name,
        template_dbname=pg_template,
        password=pg_server.password,
    )
    janitor.init()
    try:
        yield pg_server.url(name)
    finally:
        if not pg_server.throwaway:
            janitor.drop()


# --- SQLite ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = null_pool_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    add_seed_policy(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "kiosk.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


# --- both -----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest) -> str:
    return str(
        request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_url")
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(kiosk_name="test-kiosk", database_url=db_url)


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    engine = make_engine(settings.database_url)
    svc = Services(engine, settings, clock)
    yield svc
    svc.close()


def with_settings(services: Services, **changes: object) -> Services:
    """The same database and clock with other settings (e.g. a lower threshold)."""
    return Services(services.ctx.engine, replace(services.settings, **changes), services.ctx.clock)


# --- CI guard: PostgreSQL tests must run, never silently skip --------------------------------


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    ran = sum(
        1
        for report in terminalreporter.stats.get("passed", [])
        if "postgresql" in report.keywords and report.when == "call"
    )
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "postgresql" in r.keywords]
    terminalreporter.write_line(f"PostgreSQL tests passed: {ran}, skipped: {len(skipped)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller counts
        return
    if os.environ.get("CI") and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        ran = [
            r
            for r in reporter.stats.get("passed", [])
            if "postgresql" in r.keywords and r.when == "call"
        ]
        skipped = [r for r in reporter.stats.get("skipped", []) if "postgresql" in r.keywords]
        # KIOSK_PG_EXPECTED=0: a run of tests that has no PostgreSQL test in it (the Makefile's
        # second run of tests/ui on stock Textual); a skipped one still fails it.
        expected = os.environ.get("KIOSK_PG_EXPECTED", "1") != "0"
        if skipped or (expected and not ran):
            reporter.write_line(
                f"CI: {len(skipped)} PostgreSQL tests skipped, {len(ran)} ran: that is a failure."
            )
            session.exitstatus = 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test of a tuning piece (``@pytest.mark.tuning("gc")``) runs when ``KIOSK_TUNING``
    has the piece on (the default: every piece); the run on stock Textual
    (``KIOSK_TUNING=0``, see the Makefile) has nothing of it to test."""
    active = tuning.parse(os.environ.get(tuning.TUNING_ENV))
    for item in items:
        marker = item.get_closest_marker("tuning")
        if marker is not None and not set(marker.args) <= active:
            off = ", ".join(sorted(set(marker.args) - active))
            item.add_marker(pytest.mark.skip(reason=f"tuning piece off: {off} (KIOSK_TUNING)"))
