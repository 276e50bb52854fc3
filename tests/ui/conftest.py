"""Fixtures for the staff kiosk's Pilot and snapshot tests: a real SQLite file, the test
school, a frozen clock. (The admin console's tests keep their own helpers.)"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import textual._wait
import textual.constants

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import START, FakeClock
from tests.school import make_school

ADMIN_PIN = "246810"
# How long before the frozen clock's start the test school was set up.
SET_UP_BEFORE = timedelta(days=28)

# The kiosk's own folders (tests/conftest.py gives each test its own): the school key and the
# local copy of the PIN are written in the data folder when the PIN is set.
_DIRS = ("KIOSK_DATA_DIR", "KIOSK_CONFIG_DIR", "KIOSK_LOG_DIR")


def _settings(url: str) -> Settings:
    return Settings(
        kiosk_name="test-kiosk",
        database_url=url,
        school_name="Hillside Primary School",
        office_phone="0121 496 0000",
    )


@pytest.fixture(autouse=True)
def _animations_end_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made in a test animate at Textual's level ``none``: an animation (a scroll by
    Page Down or End, a transition) sets its final value and runs its callback at the next
    animation tick instead of over a fifth of a second. Pilot waits for every animation to
    finish after each key anyway, so the tests see the same states, without waiting in real
    time (30 Page Downs on the policy were 3-4 s of one test)."""
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")


# How often Pilot looks whether the app has gone idle (see _pilot_looks_often).
PILOT_POLL_SECONDS = 0.004


@pytest.fixture(autouse=True)
def _pilot_looks_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot waits for the app to go idle after each key and each ``pause()``: it sleeps, and
    counts the app idle when the process used under a twentieth of that sleep in CPU
    (``textual._wait.wait_for_idle``). It sleeps 20 ms a look, at least two looks a key: of
    4,511 keys pressed in tests/ui, 62 ms each, 57% of the UI tests' wall time. It looks
    every 4 ms here, with the same rule (idle: under a twentieth of the sleep in CPU). Each
    key is still handled, and the app idle, before the next (a scanner's keys are as fast)."""
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", PILOT_POLL_SECONDS)
    monkeypatch.setattr(textual._wait, "SLEEP_IDLE", PILOT_POLL_SECONDS / 20)


@pytest.fixture
def kiosk_settings(sqlite_url: str) -> Settings:
    return _settings(sqlite_url)


@pytest.fixture
def kiosk_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def school_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test school built once per test process, as :func:`school` built it in each test
    before (through the services, four weeks before the frozen clock's start, the PIN set by
    CHEAD): its database file and the kiosk's folders (school key, PIN copy, log) are copied
    into each test. Building it costs ~0.1 s of CPU (the PIN's scrypt, a dozen transactions)
    that some 130 tests, run twice by ``make test``, no longer pay each."""
    root = tmp_path_factory.mktemp("school-template")
    path = root / "kiosk.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):  # as tests/conftest.py's _isolated_environment
            if key.startswith("KIOSK_") and not key.startswith(("KIOSK_TEST", "KIOSK_TUNING")):
                mp.delenv(key)
        for key in _DIRS:
            mp.setenv(key, str(root / key))
        mp.setenv("KIOSK_NAME", "test-kiosk")
        # Set up four weeks before the tests' clock starts: a test may record history from
        # before its day (a kiosk whose clock reads well before its own last event records
        # nothing: kiosk/services/uow.py).
        services = Services(make_engine(url), _settings(url), FakeClock(START - SET_UP_BEFORE))
        make_school(services)
        services.admin.set_pin(ADMIN_PIN, admin_code="CHEAD")
        services.close()
    return root


@pytest.fixture
def school(
    school_template: Path, kiosk_settings: Settings, kiosk_clock: FakeClock
) -> Iterator[Services]:
    """The test school on a migrated SQLite file, with the admin PIN set: a copy of
    :func:`school_template` on this test's file and in this test's folders."""
    url = kiosk_settings.database_url
    assert url.startswith("sqlite:///"), url
    target = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal"):  # no WAL is left once the last connection has closed
        source = school_template / f"kiosk.sqlite3{suffix}"
        if source.exists():
            shutil.copy(source, f"{target}{suffix}")
    for key in _DIRS:
        if (school_template / key).exists():
            shutil.copytree(school_template / key, os.environ[key], dirs_exist_ok=True)
    services = Services(make_engine(url), kiosk_settings, kiosk_clock)
    yield services
    services.close()
