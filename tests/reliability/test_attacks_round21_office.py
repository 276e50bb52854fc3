"""Round 21, the office's side: what the office records on top of an event the kiosk never
recorded (written by the kiosks' login or a shell, without the school key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import is_sqlite, meddle
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_attacks_round18_rec import _append_unsealed


@pytest.mark.parametrize("who", ["the office", "the person"])
def test_a_phone_collected_from_a_deposit_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock, who: str
) -> None:
    """The kiosks' login, no key, appends "Alice's phone deposited in the staff room". The
    office lists it among the phones still held and hands it back (`kiosk staff hand-back`,
    the console's h), or Alice collects it at the kiosk: the register then said, under the
    key, that a phone the kiosk never took in was handed back from its store, and verify
    named the deposit alone ("has no MAC"), not the collection that rests on it, as it
    names a phone moved from such a deposit."""
    shift_school(services)
    with meddle(db_url) as db:
        alice = db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0]
        store = db.execute("SELECT id FROM stores WHERE code <> 'DRAWER' ORDER BY id")[0][0]
    forged = _append_unsealed(
        db_url, "phone_deposited", "phone", at=clock(), staff_id=alice, store_id=store
    )
    if who == "the office":
        admin = next(p.code for p in services.people.list_staff() if "admin" in p.roles)
        done = services.phones.hand_back("ASMITH", admin_code=admin).event_id
    else:
        done = services.phones.collect("ASMITH").event_id

    text = said(services.integrity.verify(save=False))

    assert f"event {forged} has no MAC" in text
    assert f"event {done} (phone_collected) follows event {forged} for that phone" in text


def test_a_review_marked_by_the_office_on_a_request_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """The kiosks' login, no key, appends "Alice asked for a workstation review". The
    console's VDU view lists it, and the office marks it done: the register then said,
    under the key and naming the admin, that the school completed a review Alice had asked
    for, and verify named the request alone."""
    shift_school(services)
    with meddle(db_url) as db:
        alice = db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0]
    forged = _append_unsealed(
        db_url,
        "workstation_review_requested",
        "review",
        at=clock(),
        staff_id=alice,
    )
    from kiosk.domain.events import ReviewStatus

    admin = next(p.code for p in services.people.list_staff() if "admin" in p.roles)
    done = services.policies.update_review(forged, ReviewStatus.DONE, admin_code=admin)

    text = said(services.integrity.verify(save=False))

    assert f"event {forged} has no MAC" in text
    assert f"event {done.event_id} (workstation_review_updated)" in text
    assert f"event {forged}" in text.split(f"event {done.event_id} (workstation_review_updated)")[1]


def test_a_laptop_returned_from_a_sign_out_without_the_key_is_named(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    """As for a phone collected from a deposit the kiosk never recorded: the kiosks' login,
    no key, appends "LAP-001 signed out to Alice"; the office lists it off site and scans it
    back in. The register then said, under the key, that a laptop came back from a sign-out
    nobody recorded, and verify named the sign-out alone."""
    shift_school(services)
    with meddle(db_url) as db:
        alice = db.execute("SELECT id FROM staff WHERE code = 'ASMITH'")[0][0]
        device = db.execute("SELECT id FROM devices WHERE tag = 'LAP-001'")[0][0]
    forged = _append_unsealed(
        db_url,
        "device_signed_out",
        "device",
        at=clock(),
        staff_id=alice,
        device_id=device,
        due_at=_stored_time(db_url, clock() + timedelta(days=1)),
    )
    done = services.devices.return_device("LAP-001").event_id

    text = said(services.integrity.verify(save=False))

    assert f"event {forged} has no MAC" in text
    assert f"event {done} (device_returned) returns event {forged}" in text, text


def _stored_time(db_url: str, at: datetime) -> Any:
    """``at`` as the kiosk stores a time (SQLite: UTC text)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if is_sqlite(db_url) else at
