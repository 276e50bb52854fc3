from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.chain import text_fingerprint
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import ReviewStatus
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def test_seed_policy_is_the_school_aup(school: Services) -> None:
    [policy] = school.policies.current()
    assert (policy.title, policy.version, policy.required) == (
        "School Acceptable Use Policy",
        "Spring 2018",
        True,
    )
    text = school.policies.text(policy.id).text
    assert "administrator's drawer" in text and text_fingerprint(text) == policy.sha256


def test_acknowledge_records_the_fingerprint(school: Services) -> None:
    [policy] = school.policies.outstanding("ASMITH")
    school.policies.acknowledge("ASMITH", policy.id, policy.sha256)
    assert school.policies.outstanding("ASMITH") == ()
    with pytest.raises(RuleViolation, match="already acknowledged"):
        school.policies.acknowledge("ASMITH", policy.id, policy.sha256)
    with pytest.raises(RuleViolation, match="changed while it was open"):
        school.policies.acknowledge("EPATEL", policy.id, "0" * 64)
    [gap] = school.policies.gaps()
    assert [s.code for s in gap.acknowledged] == ["ASMITH"]
    assert len(gap.missing) == 4


def test_new_version_asks_again_and_old_cannot_be_acknowledged(school: Services) -> None:
    [old] = school.policies.current()
    school.policies.acknowledge("ASMITH", old.id, old.sha256)
    new = school.policies.publish(old.title, "Autumn 2026", "New words", required=True)
    assert [p.version for p in school.policies.outstanding("ASMITH")] == ["Autumn 2026"]
    with pytest.raises(RuleViolation, match="replaced by a newer version"):
        school.policies.acknowledge("EPATEL", old.id, old.sha256)
    with pytest.raises(RuleViolation, match="already published"):
        school.policies.publish(old.title, "Autumn 2026", "Again")
    school.policies.acknowledge("ASMITH", new.id, new.sha256)
    assert school.policies.outstanding("ASMITH") == ()


def test_not_required_policy_is_not_outstanding(school: Services) -> None:
    school.policies.publish("Staff handbook", "1", "Text", required=False)
    assert [p.title for p in school.policies.outstanding("ASMITH")] == [
        "School Acceptable Use Policy"
    ]


def test_vdu_training_and_reviews(school: Services, clock: FakeClock) -> None:
    assert "ASMITH" in {s.code for s in school.policies.staff_without_vdu()}
    with pytest.raises(InvalidInput, match="future"):
        school.policies.declare_vdu_training("ASMITH", date(2027, 1, 1))
    school.policies.declare_vdu_training("ASMITH", date(2026, 3, 1))
    assert school.people.status("ASMITH").vdu_trained_on == date(2026, 3, 1)
    assert "ASMITH" not in {s.code for s in school.policies.staff_without_vdu()}

    request = school.policies.request_workstation_review("ASMITH", "A laptop stand")
    [open_review] = school.policies.reviews()
    assert (open_review.needs, open_review.status) == ("A laptop stand", "open")
    with pytest.raises(RuleViolation, match="not an admin"):
        school.policies.update_review(request.event_id, ReviewStatus.DONE, admin_code="EPATEL")
    school.policies.update_review(request.event_id, ReviewStatus.TAKEN_UP, admin_code="DOFFICE")
    assert school.policies.reviews()[0].status == "taken_up"
    school.policies.update_review(request.event_id, ReviewStatus.DONE, admin_code="DOFFICE")
    assert school.policies.reviews() == ()


def test_slt_exemption(school: Services, clock: FakeClock) -> None:
    with pytest.raises(RuleViolation, match="not on the Senior Leadership Team"):
        school.policies.grant_exemption(
            "ASMITH", granted_by="Carol Head", until=date(2026, 7, 20), admin_code="DOFFICE"
        )
    school.policies.grant_exemption(
        "CHEAD", granted_by="Carol Head", until=date(2026, 3, 20), admin_code="DOFFICE"
    )
    status = school.people.status("CHEAD")
    assert status.exemption is not None and status.exemption.until == date(2026, 3, 20)
    clock.advance(days=11)
    assert school.people.status("CHEAD").exemption is None
    assert school.policies.exemptions() == ()
