"""Round 18's review of the red team's fixes on the record: one rule for "recorded by the
kiosk" (its hash and MAC the school key's, or the old format before the first event with a
MAC), and the ways round the round's fixes the review found.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from kiosk.domain.chain import GENESIS_HASH, hash_of
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import CHAIN_COLUMNS, shell_file, started_again
from tests.reliability.test_attacks import said
from tests.school import make_school

TABLET_KINDS = {
    "kinds": [
        {"code": "laptop", "label": "Laptop", "needs_charged": False, "regular_use": True},
        {"code": "work_phone", "label": "Work phone", "needs_charged": True, "regular_use": False},
        {"code": "tablet", "label": "iPad", "needs_charged": True, "regular_use": False},
    ]
}


def _old_format_register(services: Services, clock: FakeClock, kind: str, details: Any) -> None:
    """A school's register from before revision 0005: its first event, ``kind`` with
    ``details``, in the old format (no MAC), as the kiosk then recorded it."""
    services.close()
    with shell_file(services) as conn:
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        row.update(
            id=1,
            occurred_at=clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            kind=kind,
            category="admin",
            kiosk="staffroom-1",
            details=details,
            prev_hash=GENESIS_HASH,
        )
        row["hash"] = hash_of(row)
        conn.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(CHAIN_COLUMNS))})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )


# --- a school's own kinds of device set before it upgraded ----------------------------------


def test_adding_a_kind_keeps_the_kinds_a_school_set_before_it_upgraded(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """A school set up "tablet (charged and ready)" before revision 0005 (events without a
    MAC). The office's next kind was built only on kinds whose MAC is the school key's, so
    on the built-in kinds: the tablet kind disappeared, and verify said "Register intact".
    An event in the old format before the first with a MAC is the kiosk's, as verify takes
    it."""
    services = sqlite_services
    _old_format_register(services, clock, "device_kinds_set", TABLET_KINDS)
    services = started_again(services, clock)
    try:
        make_school(services)
        services.school.set_device_kind("camera", "Camera", needs_charged=True, admin_code="CHEAD")
        kinds = services.school.device_kinds()
        report = services.integrity.verify(save=False)
    finally:
        services.close()

    tablet = kinds.get("tablet")
    assert tablet is not None and tablet.needs_charged and tablet.label == "iPad"
    assert kinds.get("camera") is not None
    assert report.ok, said(report)
