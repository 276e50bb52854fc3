"""Current state after corrections, said the same by every path that shows it.

A person's screen (``people.status``: the kiosk's scan, a few Core statements) and the
office's lists (phones in store, devices off site, a device's status, reviews, exemptions,
policies to read) are fed through the same rules (``kiosk.domain.state``); these tests record
events and corrections through the services, as the kiosk and the office do, on SQLite and
PostgreSQL, and check what each path says.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.domain.errors import RuleViolation
from kiosk.domain.events import ReviewStatus
from kiosk.domain.timeutil import local_date
from kiosk.services.app import Services
from kiosk.services.views import OffsiteItem
from tests.conftest import FakeClock
from tests.school import make_ready, make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def void(school: Services, event_id: int) -> None:
    school.register.void(event_id, reason="Recorded by mistake", admin_code="DOFFICE")


def phone_everywhere(school: Services, code: str) -> tuple[str, ...] | None:
    """Where each path says this person's phone is: one answer, or the test fails."""
    status = school.people.status(code).phone
    listed = [h for h in school.phones.phones_now() if h.staff.code == code]
    assert len(listed) <= 1
    assert status == (listed[0] if listed else None), (status, listed)
    return None if status is None else (status.store.code, str(status.event_id))


def offsite_everywhere(school: Services, code: str) -> list[OffsiteItem]:
    """The devices each path says this person has off site: one answer, or the test fails."""
    status = list(school.people.status(code).offsite)
    listed = [i for i in school.devices.offsite_now() if i.staff.code == code]
    assert status == listed, (status, listed)
    for item in listed:
        assert school.devices.status(item.device.tag).offsite == item
    overdue = [i for i in school.devices.overdue() if i.staff.code == code]
    assert overdue == [i for i in listed if i.overdue]
    return listed


def test_a_voided_deposit_leaves_no_phone_in_a_store(school: Services) -> None:
    deposit = school.phones.deposit("ASMITH")
    assert phone_everywhere(school, "ASMITH") == ("STAFFROOM", str(deposit.event_id))
    void(school, deposit.event_id)
    assert phone_everywhere(school, "ASMITH") is None


def test_a_voided_collection_puts_the_phone_back_where_it_was(
    school: Services, clock: FakeClock
) -> None:
    deposit = school.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    clock.advance(hours=7)
    collect = school.phones.collect("ASMITH")
    assert phone_everywhere(school, "ASMITH") is None
    void(school, collect.event_id)
    assert phone_everywhere(school, "ASMITH") == ("DRAWER", str(deposit.event_id))
    assert school.people.status("ASMITH").phone.recorded_by == "Ben Jones"  # type: ignore[union-attr]


def test_a_corrected_return_puts_the_laptop_back_off_site_and_overdue_in_time(
    school: Services, clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    due = clock.now + timedelta(days=1)
    out = school.devices.sign_out("ASMITH", ["LAP-001"], reason="Marking", expected_return=due)
    back = school.devices.return_device("LAP-001")
    assert offsite_everywhere(school, "ASMITH") == []
    void(school, back.event_id)
    [item] = offsite_everywhere(school, "ASMITH")
    assert (item.device.tag, item.event_id, item.expected_return, item.overdue) == (
        "LAP-001",
        out.receipts[0].event_id,
        due,
        False,
    )
    clock.set(due)
    assert not offsite_everywhere(school, "ASMITH")[0].overdue
    clock.advance(minutes=1)
    assert offsite_everywhere(school, "ASMITH")[0].overdue


def test_an_extension_moves_the_return_and_a_voided_one_moves_it_back(
    school: Services, clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    due = clock.now + timedelta(days=1)
    out = school.devices.sign_out(
        "ASMITH", ["WP-01"], reason="Trip", expected_return=due, charged=True
    )
    later = due + timedelta(days=3)
    extended = school.devices.extend("WP-01", later, reason="Longer trip", staff_code="ASMITH")
    clock.set(due + timedelta(days=1))
    [item] = offsite_everywhere(school, "ASMITH")
    assert (item.event_id, item.reason, item.expected_return, item.overdue) == (
        out.receipts[0].event_id,
        "Trip",
        later,
        False,
    )
    void(school, extended.event_id)
    [item] = offsite_everywhere(school, "ASMITH")
    assert (item.expected_return, item.overdue) == (due, True)


def test_an_extension_of_a_voided_sign_out_leaves_the_device_on_site(
    school: Services, clock: FakeClock
) -> None:
    make_ready(school, "ASMITH")
    out = school.devices.sign_out("ASMITH", ["LAP-001"], reason="Marking")
    school.devices.extend(
        "LAP-001", clock.now + timedelta(days=5), reason="Reports", staff_code="ASMITH"
    )
    void(school, out.receipts[0].event_id)
    assert offsite_everywhere(school, "ASMITH") == []
    assert school.devices.status("LAP-001").offsite is None


def test_a_device_out_with_someone_who_has_left_stays_listed_with_them(school: Services) -> None:
    make_ready(school, "EPATEL")
    school.devices.sign_out("EPATEL", ["LAP-002"], reason="Planning")
    school.people.retire_staff("EPATEL", admin_code="DOFFICE", force=True)
    [item] = [i for i in school.devices.offsite_now() if i.device.tag == "LAP-002"]
    assert (item.staff.code, item.staff.retired) == ("EPATEL", True)
    assert school.devices.status("LAP-002").offsite == item
    with pytest.raises(RuleViolation, match="has left the school"):
        school.people.status("EPATEL")


def test_a_voided_review_update_reopens_the_request(school: Services) -> None:
    request = school.policies.request_workstation_review("ASMITH", "A laptop stand")
    school.policies.update_review(
        request.event_id, ReviewStatus.TAKEN_UP, admin_code="DOFFICE", note="Ordered"
    )
    done = school.policies.update_review(
        request.event_id, ReviewStatus.DONE, admin_code="DOFFICE", note="Delivered"
    )
    assert school.people.status("ASMITH").open_reviews == ()
    assert school.policies.reviews(open_only=True) == ()
    void(school, done.event_id)
    mine = school.people.status("ASMITH").open_reviews
    assert [(r.needs, r.status, r.note) for r in mine] == [
        ("A laptop stand", "taken_up", "Ordered")
    ]
    assert school.policies.reviews(open_only=True) == mine


def test_an_exemption_ends_after_its_last_day_and_when_voided(
    school: Services, clock: FakeClock
) -> None:
    today = local_date(clock.now, school.settings.zone)
    grant = school.policies.grant_exemption(
        "CHEAD", granted_by="Governors", until=today, admin_code="DOFFICE"
    )
    held = school.people.status("CHEAD").exemption
    assert held is not None and (held.until, held.event_id) == (today, grant.event_id)
    assert school.policies.exemptions() == (held,)
    clock.advance(days=1)
    assert school.people.status("CHEAD").exemption is None
    assert school.policies.exemptions() == ()
    clock.advance(days=-1)
    void(school, grant.event_id)
    assert school.people.status("CHEAD").exemption is None
    assert school.policies.exemptions() == ()


def test_a_voided_acknowledgement_puts_the_policy_back_to_read(school: Services) -> None:
    [policy] = school.policies.outstanding("ASMITH")
    assert school.people.status("ASMITH").outstanding_policies == (policy,)
    ack = school.policies.acknowledge("ASMITH", policy.id, policy.sha256)
    assert school.people.status("ASMITH").outstanding_policies == ()
    assert school.policies.outstanding("ASMITH") == ()
    void(school, ack.event_id)
    assert school.people.status("ASMITH").outstanding_policies == (policy,)
    assert school.policies.outstanding("ASMITH") == (policy,)


def test_a_voided_vdu_declaration_gives_the_one_before(school: Services, clock: FakeClock) -> None:
    first = clock.now.date() - timedelta(days=30)
    school.policies.declare_vdu_training("ASMITH", first)
    second = school.policies.declare_vdu_training("ASMITH", clock.now.date())
    assert school.people.status("ASMITH").vdu_trained_on == clock.now.date()
    void(school, second.event_id)
    assert school.people.status("ASMITH").vdu_trained_on == first
    check = school.devices.check_sign_out("ASMITH", ["LAP-001"])
    assert not check.vdu_missing
