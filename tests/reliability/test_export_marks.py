"""The subject access export (`kiosk export --staff CODE`) says, for each event, whether the
kiosk recorded it: one written into the database without the school key (the kiosks' login, a
shell) went out to the person as a fact of their record, like the kiosk's own."""

from __future__ import annotations

import json

from kiosk.services.app import Services
from kiosk.services.reference import table_rows
from tests.conftest import FakeClock
from tests.reliability.test_attacks import shift_school
from tests.reliability.test_attacks_round18_rec import _append_unsealed


def test_the_subject_access_export_says_which_events_the_kiosk_did_not_record(
    services: Services, clock: FakeClock
) -> None:
    # A deposit written for Alice by the kiosks' login without the key went out in her
    # subject access export as a fact of her record, like the kiosk's own.
    shift_school(services)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    with services.ctx.engine.connect() as conn:
        alice = table_rows(conn, "staff")
    alice_id = next(k for k, row in alice.items() if row.get("code") == "ASMITH")
    forged = _append_unsealed(
        services.ctx.engine.url.render_as_string(hide_password=False),
        "phone_deposited",
        "phone",
        at=clock(),
        staff_id=alice_id,
    )
    export = json.loads(services.backup.export_staff("ASMITH", "json").content)

    marks = {e["event_id"]: e["recorded_by_kiosk"] for e in export["events"]}
    assert marks[forged].startswith("NO: not recorded by the kiosk"), marks
    assert [m for i, m in marks.items() if i != forged] == ["yes"] * (len(marks) - 1), marks
    csv_text = services.backup.export_staff("ASMITH", "csv").content
    assert "recorded_by_kiosk" in csv_text and "NO: not recorded by the kiosk" in csv_text
