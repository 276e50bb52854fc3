"""Wrong PINs at the pad while the database is away (red team, round T_down).

Five wrong PINs lock the pad and are "recorded as an event and reported to the next admin
who signs in". With the database away (the pad checks the PIN against its kept copy) or
unable to write, the lockout was locked locally but dropped from the register in silence:
someone could pull the cable and guess five PINs every five minutes, and no admin heard of
it. Now the pad keeps the lockout and records it, once, when the database answers again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.admin import check_pin_offline
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import raw_scalar
from tests.reliability.test_unavailable import _immutable
from tests.school import make_school

PIN = "402718"
LOCKOUTS = "SELECT count(*) FROM events WHERE kind = 'admin_lockout'"


def test_a_lockout_at_the_pad_with_the_database_away_is_recorded_once_it_is_back(
    services: Services, clock: FakeClock, db_url: str
) -> None:
    make_school(services)
    services.admin.set_pin(PIN, admin_code="CHEAD")
    assert services.admin.check_pin(PIN).ok  # the kiosk has read the PIN (and kept a copy)

    # The database is away: the pad checks PINs against its copy; five wrong ones lock it.
    for _ in range(5):
        locked_at = clock()
        result = check_pin_offline("000000", locked_at)
        clock.advance(seconds=20)
    assert result.locked_until is not None

    # The database is back; after the lockout an admin signs in and is told of it.
    clock.advance(minutes=6)
    signed = services.admin.check_pin(PIN)
    assert signed.ok
    assert len(signed.lockouts_since_last_sign_in) == 1, "the lockout was dropped"
    assert signed.lockouts_since_last_sign_in[0] == locked_at  # when it happened, not recorded
    assert raw_scalar(db_url, LOCKOUTS) == 1
    # Once: neither the next attempt nor the kiosk's next start records it again.
    assert services.admin.check_pin(PIN).ok
    assert services.admin.keep_local_pin_copy()
    assert raw_scalar(db_url, LOCKOUTS) == 1
    report = services.integrity.verify(save=False)
    assert report.ok, report.problems


def test_a_lockout_the_database_could_not_write_is_recorded_once_it_can(
    sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """The file cannot be written (``chattr +i``) when the fifth wrong PIN locks the pad: the
    pad says "Locked" (its offline check); the lockout is recorded when the file is
    writable again."""
    path = tmp_path / "kiosk.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url), clock)
    try:
        make_school(services)
        services.admin.set_pin(PIN, admin_code="CHEAD")
        assert services.admin.check_pin(PIN).ok
        with _immutable(path):
            for attempt in range(5):
                try:
                    services.admin.check_pin("000000")
                except DatabaseUnavailable:  # the fifth: its lockout could not be written
                    assert attempt == 4
                    # what the pad does then: the offline check, which says "Locked"
                    assert check_pin_offline("000000", clock()).locked_until is not None
                clock.advance(seconds=20)
            assert raw_scalar(url, LOCKOUTS) == 0
        clock.advance(minutes=6)
        signed = services.admin.check_pin(PIN)
        assert signed.ok and len(signed.lockouts_since_last_sign_in) == 1
        assert raw_scalar(url, LOCKOUTS) == 1
        assert services.admin.check_pin(PIN).ok
        assert raw_scalar(url, LOCKOUTS) == 1
    finally:
        services.close()
