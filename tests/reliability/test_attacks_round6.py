"""Round 6 of the red team on the record: details the state rules could not read.

Each test here failed on main before its fix (see the commit that added it). The column-level
grants of the same round are in tests/reliability/test_least_privilege.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.services.app import Services
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import said, shift_school

# --- an event whose details the state rules cannot read broke one person's screen ---------------


def _insert_for(db: Any, code: str, kind: str, category: str, details: str, target: Any) -> int:
    """An event about ``code`` INSERTed without the key (its hash and MAC are wrong), as the
    kiosk's login can on PostgreSQL and a shell on the SQLite file."""
    head = db.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1")[0]
    db.execute(
        "INSERT INTO events (id, occurred_at, kind, category, staff_id, recorded_by_id, kiosk, "
        "details, target_event_id, prev_hash, hash, mac) VALUES (%s, %s, %s, %s, "
        "(SELECT id FROM staff WHERE code = %s), "
        "(SELECT min(staff_id) FROM staff_roles WHERE role = 'admin'), 'staffroom', "
        "%s, %s, %s, %s, %s)",
        (head[0] + 1, head[2], kind, category, code, details, target, head[1], "e" * 64, "c" * 64),
    )
    return int(head[0]) + 1


# (kind, category, details as stored)
ODD_DETAILS: dict[str, tuple[str, str, str]] = {
    "an exemption until 'soon'": ("exemption_granted", "exemption", '{"until": "soon"}'),
    "an exemption without an end": ("exemption_granted", "exemption", '{"granted_by": "X"}'),
    "an exemption that is a string": ("exemption_granted", "exemption", '"until 2030"'),
    "VDU training on 'soon'": ("vdu_training_declared", "vdu", '{"completed_on": "soon"}'),
    "VDU training without a date": ("vdu_training_declared", "vdu", "[1, 2]"),
    "a review update without a status": ("workstation_review_updated", "review", '{"note": "x"}'),
}


@pytest.mark.parametrize("odd", list(ODD_DETAILS))
def test_an_event_with_details_the_rules_cannot_read_is_left_out_and_said(
    services: Services, db_url: str, odd: str
) -> None:
    """No key needed (the kiosk's login on PostgreSQL, a shell on the SQLite file): one event
    about a person whose details the state rules cannot read (an exemption "until soon", a VDU
    declaration without a date, a review update without a status). Her status raised a raw
    ValueError or KeyError (`date.fromisoformat`, ``details["until"]``), so her screen never
    showed. Now the event is left out (no exemption, no training, the review as it was), her
    status says so in a sentence naming the event, her phone goes in and out, and verify
    names the event."""
    shift_school(services)
    request = services.policies.request_workstation_review("ASMITH", "A laptop stand").event_id
    kind, category, details = ODD_DETAILS[odd]
    target = request if category == "review" else None
    with meddle(db_url) as db:
        forged = _insert_for(db, "ASMITH", kind, category, details, target)

    status = services.people.status("ASMITH")

    assert status.staff.code == "ASMITH"
    assert status.exemption is None
    assert status.vdu_trained_on is None
    assert [(r.event_id, r.status) for r in status.open_reviews] == [(request, "open")]
    assert status.unreadable == (forged,)
    assert status.unreadable_note == (
        f"Part of this record cannot be read (event {forged}) and is left out: "
        "please tell the office (kiosk verify names it)."
    )
    # The office's lists are not stopped either.
    assert services.policies.exemptions() == ()
    assert [r.event_id for r in services.policies.reviews()] == [request]
    # Phone in and out as ever.
    services.phones.deposit("ASMITH")
    assert services.people.status("ASMITH").phone is not None
    services.phones.collect("ASMITH")
    assert services.people.status("ASMITH").phone is None

    report = services.integrity.verify(save=False)
    assert not report.ok
    assert forged in report.mismatched, said(report)


def test_a_readable_person_has_nothing_left_out(services: Services) -> None:
    shift_school(services)
    status = services.people.status("ASMITH")
    assert status.unreadable == ()
    assert status.unreadable_note == ""


@pytest.mark.parametrize("details", ['"sent"', "[1, 2]", "7"])
def test_a_notice_event_whose_details_are_not_an_object_does_not_stop_notify(
    services: Services, db_url: str, details: str
) -> None:
    """No key needed: a notice claim whose details are a string, a list or a number stopped
    `kiosk notify` (what is due, and its status) with AttributeError ('str' object has no
    attribute 'get'), so no reminder went out. It claims nothing now, and verify names it."""
    shift_school(services)
    due_before, _ = services.notify.due()
    with meddle(db_url) as db:
        forged = _insert_for(db, "ASMITH", "notice_claimed", "notice", details, None)

    due, _problems = services.notify.due()
    assert [n.key for n in due] == [n.key for n in due_before]
    assert services.notify.status() == ()
    report = services.integrity.verify(save=False)
    assert forged in report.mismatched, said(report)


@pytest.mark.parametrize("manager", ['["x"]', '{"code": "CHEAD"}'])
def test_a_sign_out_whose_line_manager_is_no_text_does_not_stop_the_lists(
    services: Services, db_url: str, manager: str
) -> None:
    """Found by a reviewer: a sign-out's line manager stored as a list or an object (no key
    needed) made the off-site list raise TypeError (unhashable), and with it the console's
    Off site view and `kiosk notify` (the anchor e-mail too). It is no manager now, and
    verify names the event."""
    shift_school(services)
    from tests.school import make_ready

    make_ready(services, "ASMITH")
    receipt = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    event_id = receipt.receipts[0].event_id
    with meddle(db_url) as db:
        details = f'{{"reason": "Planning", "line_manager": {manager}}}'
        db.overwrite(event_id, {"details": details})

    [item] = services.devices.offsite_now()
    assert (item.device.tag, item.line_manager) == ("LAP-001", None)
    services.notify.due()  # does not stop
    report = services.integrity.verify(save=False)
    assert event_id in report.mismatched, said(report)
