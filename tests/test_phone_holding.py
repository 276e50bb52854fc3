"""A person's status names who logged their phone, so the owner sees it when collecting."""

from __future__ import annotations

from kiosk.services.app import Services
from tests.school import make_ready, make_school


def test_status_names_the_colleague_who_logged_the_phone(services: Services) -> None:
    make_school(services)
    services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    services.phones.deposit("EPATEL")
    held = services.people.status("ASMITH").phone
    assert held is not None and (held.store.code, held.recorded_by) == ("DRAWER", "Ben Jones")
    own = services.people.status("EPATEL").phone
    assert own is not None and own.recorded_by is None  # (her own: nobody else logged it)
    assert services.people.status("CHEAD").phone is None


def test_status_in_one_go_matches_each_lookup(services: Services) -> None:
    """people.status (a few Core statements) says what the separate lookups say."""
    from datetime import timedelta

    from kiosk.domain.events import ReviewStatus
    from kiosk.domain.timeutil import local_date
    from kiosk.services import state

    make_school(services)
    services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    for code in ("ASMITH", "EPATEL"):
        make_ready(services, code)
    services.devices.sign_out("ASMITH", ["LAP-001", "WP-01"], reason="Trip", charged=True)
    services.devices.sign_out("EPATEL", ["LAP-002"], reason="Planning")
    later = services.ctx.clock() + timedelta(days=3)
    services.devices.extend("WP-01", later, reason="Longer trip", staff_code="ASMITH")
    first = services.policies.request_workstation_review("ASMITH", "A laptop stand")
    second = services.policies.request_workstation_review("ASMITH", "A footrest")
    third = services.policies.request_workstation_review("ASMITH", "A new chair")
    services.policies.request_workstation_review("EPATEL", "A screen filter")
    services.policies.update_review(
        first.event_id, ReviewStatus.TAKEN_UP, admin_code="DOFFICE", note="Ordered"
    )
    services.policies.update_review(third.event_id, ReviewStatus.DONE, admin_code="DOFFICE")
    services.policies.update_review(second.event_id, ReviewStatus.TAKEN_UP, admin_code="DOFFICE")
    services.policies.declare_vdu_training("ASMITH", services.ctx.clock().date())
    today = local_date(services.ctx.clock(), services.settings.zone)
    services.policies.grant_exemption(
        "CHEAD", granted_by="Governors", until=today + timedelta(days=30), admin_code="DOFFICE"
    )
    for code in ("ASMITH", "BJONES", "CHEAD", "EPATEL"):
        status = services.people.status(code)
        now = services.ctx.clock()
        with services.ctx.read() as session:
            staff = state.get_staff_info(session, code)
            assert status.staff == staff
            assert status.phone == state.phone_holding(session, staff)
            assert status.offsite == tuple(state.offsite_now(session, now, staff_id=staff.id))
            assert status.outstanding_policies == tuple(
                state.outstanding_policies(session, staff.id)
            )
            assert status.vdu_trained_on == state.vdu_trained_on(session, staff.id)
            assert status.exemption == state.exemption_of(session, staff, today)
            assert status.open_reviews == tuple(state.review_requests(session, staff_id=staff.id))
    mine = services.people.status("ASMITH").open_reviews
    assert [(r.needs, r.status, r.note) for r in mine] == [
        ("A laptop stand", "taken_up", "Ordered"),
        ("A footrest", "taken_up", None),
    ]
    assert services.people.status("CHEAD").exemption is not None
    assert [i.device.tag for i in services.people.status("ASMITH").offsite] == ["LAP-001", "WP-01"]
