"""Prints the reliability figures (crash trials, events checked, fuzz cases) after the run,
the PostgreSQL kiosk-login fixtures the attack files share, and a kiosk's services on its own
SQLite file (``sqlite_services``).

With ``KIOSK_FUZZ_REPORT=FILE`` the fuzz case counts are also written there as JSON
(``python -m bench.reliability`` reads them).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import FIGURES, FUZZ_CASES, libpq_url
from tests.school import make_ready, make_school

_names = itertools.count()


@pytest.fixture
def sqlite_services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    """A kiosk ("k1") on this test's own SQLite file, at the frozen clock."""
    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    yield services
    services.close()


@pytest.fixture
def kiosk_url(pg_url: str) -> Iterator[str]:
    """A URL for a fresh LOGIN role that is a member of kiosk_app (dropped afterwards)."""
    role = f"kiosk_login_{os.getpid()}_{next(_names)}"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN IN ROLE kiosk_app")
    try:
        yield make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            owner.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def set_up_school(kiosk_url: str, clock: FakeClock) -> Iterator[Services]:
    """A school set up through the kiosk's own login: admins imported and the PIN set (the
    set-up is the kiosk's to record), then a shift of events."""
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    services = Services(make_engine(kiosk_url), settings, clock)
    try:
        make_school(services)
        services.admin.set_pin("428613", admin_code="CHEAD")
        make_ready(services, "ASMITH")
        services.phones.deposit("ASMITH")
        assert services.integrity.verify().ok
        yield services
    finally:
        services.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES and not FUZZ_CASES:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name}: {value:,}")
    if FUZZ_CASES:
        total = sum(FUZZ_CASES.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_CASES.items()))
        terminalreporter.write_line(f"hypothesis cases run: {total:,} ({detail})")


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("KIOSK_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(FUZZ_CASES, indent=2, sort_keys=True))
