from __future__ import annotations

import stat

import pytest

from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.services.admin import secret_path
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def test_pin_rules(school: Services) -> None:
    assert not school.admin.is_pin_set()
    with pytest.raises(RuleViolation, match="No admin PIN"):
        school.admin.check_pin("123456")
    for bad, why in [("12345", "at least 6"), ("12a456", "digits only"), ("111111", "easy")]:
        with pytest.raises(InvalidInput, match=why):
            school.admin.set_pin(bad)
    school.admin.set_pin("402718")
    assert school.admin.is_pin_set()
    assert school.admin.check_pin("402718").ok
    assert stat.S_IMODE(secret_path().stat().st_mode) == 0o600


def test_hash_is_keyed_with_the_secret_file(school: Services) -> None:
    school.admin.set_pin("402718")
    secret_path().write_text("00" * 32)  # a different secret: the stored hash no longer matches
    assert not school.admin.check_pin("402718").ok


def test_five_wrong_pins_lock_for_five_minutes(school: Services, clock: FakeClock) -> None:
    school.admin.set_pin("402718")
    results = [school.admin.check_pin("000000") for _ in range(5)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert results[-1].locked_until is not None and "locked" in results[-1].message
    assert not school.admin.check_pin("402718").ok  # right PIN, but locked
    clock.advance(minutes=5, seconds=1)
    check = school.admin.check_pin("402718")
    assert check.ok and len(check.lockouts_since_last_sign_in) == 1
    # Reported once: the next sign-in sees no new lockout.
    assert school.admin.check_pin("402718").lockouts_since_last_sign_in == ()
    rows = school.register.day(clock.now.date()).rows
    assert [r.kind for r in rows].count("admin_lockout") == 1


def test_only_admins_act(school: Services) -> None:
    assert school.admin.admin("doffice").code == "DOFFICE"
    with pytest.raises(RuleViolation, match="not an admin"):
        school.admin.admin("ASMITH")
