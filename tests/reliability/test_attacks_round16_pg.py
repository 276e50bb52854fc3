"""Round 16 of the red team on the record, on PostgreSQL: what the kiosk's own database login
plants for the kiosks and the office's commands to run into later.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from tests.conftest import FakeClock

pytestmark = pytest.mark.postgresql


def _kiosk(url: str, clock: FakeClock, name: str = "k2") -> Services:
    return Services(make_engine(url), Settings(kiosk_name=name, database_url=url), clock)


def _try(work: Callable[[], object]) -> object:
    try:
        return work()
    except KioskError as exc:
        return exc.message


# --- a list row at the largest id the database allows ------------------------------------


@pytest.mark.parametrize("top", [2**31 - 1, 2**31 - 2])
def test_a_device_planted_at_the_largest_id_does_not_stop_new_devices(
    set_up_school: Services, kiosk_url: str, pg_url: str, clock: FakeClock, top: int
) -> None:
    """The kiosk login, with the school key every kiosk holds, records a device (a list change
    the kiosks may record, chained and MACed: verify has nothing to name) under the id
    2147483647 (or one below it), the largest a PostgreSQL ``integer`` holds. Each new device
    took the id after the largest: "integer out of range" inside the database, so every kiosk
    and the office's own login said "Not recorded: the database is unavailable. Please try
    again" at each device added, for good. A new row now takes an id never used below it."""
    set_up_school.close()
    kiosk = _kiosk(kiosk_url, clock)
    office = _kiosk(pg_url, clock, "office")
    try:
        with kiosk.ctx.write() as uow:
            row = {"tag": "LT-TOP", "kind": "laptop", "description": "", "created_at": uow.now}
            uow.change_reference("devices", top, row | {"retired_at": None})
        added = _try(lambda: kiosk.people.add_device("LT-98", "laptop", admin_code="CHEAD"))
        assert not isinstance(added, str), added
        added = _try(lambda: office.people.add_device("LT-99", "laptop", admin_code="CHEAD"))
        assert not isinstance(added, str), added
        tags = {d.tag for d in office.people.list_devices()}
        assert {"LT-TOP", "LT-98", "LT-99"} <= tags
        assert office.integrity.verify(save=False).ok
    finally:
        kiosk.close()
        office.close()
