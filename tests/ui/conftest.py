"""Fixtures for the staff kiosk's Pilot and snapshot tests: a real SQLite file, the test
school, a frozen clock. (The admin console's tests keep their own helpers.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

ADMIN_PIN = "246810"


@pytest.fixture
def kiosk_settings(sqlite_url: str) -> Settings:
    return Settings(
        kiosk_name="test-kiosk",
        database_url=sqlite_url,
        school_name="Hillside Primary School",
        office_phone="0121 496 0000",
    )


@pytest.fixture
def kiosk_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def school(kiosk_settings: Settings, kiosk_clock: FakeClock) -> Iterator[Services]:
    """The test school on a migrated SQLite file, with the admin PIN set."""
    services = Services(make_engine(kiosk_settings.database_url), kiosk_settings, kiosk_clock)
    make_school(services)
    services.admin.set_pin(ADMIN_PIN, admin_code="CHEAD")
    yield services
    services.close()
