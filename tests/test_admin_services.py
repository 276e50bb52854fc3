"""Service additions the admin console needs, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from tests.conftest import FakeClock
from tests.school import make_school

TODAY = date(2026, 3, 10)


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def _admin_actions(services: Services) -> list[tuple[str, str | None]]:
    rows = services.register.day(TODAY, RegisterFilter(kind="admin_action")).rows
    return [(r.detail, r.staff_code) for r in rows]


def test_last_event_id_follows_every_new_event(services: Services) -> None:
    assert services.register.last_event_id() == 0
    make_school(services)
    first = services.register.last_event_id()
    receipt = services.phones.deposit("ASMITH")
    assert services.register.last_event_id() == receipt.event_id > first
    correction = services.register.void(receipt.event_id, reason="wrong", admin_code="DOFFICE")
    assert services.register.last_event_id() == correction.event_id


def test_imports_name_the_admin_who_ran_them(school: Services) -> None:
    report = school.people.import_staff_csv(
        b"code,name,roles\nFGREEN,Fay Green,laptop_user\n", admin_code="doffice"
    )
    assert report.imported and report.added == 1
    devices = school.people.import_devices_csv(
        b"tag,kind,description\nLAP-009,laptop,Spare\n", admin_code="CHEAD"
    )
    assert devices.imported and devices.added == 1
    actions = _admin_actions(school)
    assert ("action: staff_imported", "DOFFICE") in actions
    assert ("action: devices_imported", "CHEAD") in actions


def test_only_admins_can_be_named_on_list_changes(school: Services) -> None:
    before = school.register.last_event_id()
    with pytest.raises(RuleViolation, match="not an admin"):
        school.people.add_staff("GHILL", "Gus Hill", admin_code="ASMITH")
    with pytest.raises(RuleViolation, match="not an admin"):
        school.people.import_devices_csv(b"tag,kind\nLAP-010,laptop\n", admin_code="BJONES")
    with pytest.raises(RuleViolation, match="not an admin"):
        school.people.retire_device("LAP-001", admin_code="EPATEL")
    # Nothing was stored by the refused attempts.
    assert school.register.last_event_id() == before
    codes = {s.code for s in school.people.list_staff()}
    assert "GHILL" not in codes
    assert "LAP-010" not in {d.tag for d in school.people.list_devices()}
    assert "LAP-001" in {d.tag for d in school.people.list_devices()}


def test_an_admin_cannot_retire_themself(school: Services, clock: FakeClock) -> None:
    with pytest.raises(RuleViolation, match="cannot retire yourself"):
        school.people.retire_staff("DOFFICE", admin_code="doffice")
    retired = school.people.retire_staff("EPATEL", admin_code="DOFFICE")
    assert retired.retired
    assert ("action: staff_retired", "DOFFICE") in _admin_actions(school)


def test_publishing_and_setting_the_pin_name_an_admin(school: Services) -> None:
    before = school.register.last_event_id()
    with pytest.raises(RuleViolation, match="not an admin"):
        school.policies.publish("School AUP", "v2", "Text", published_by="ASMITH")
    with pytest.raises(RuleViolation, match="not an admin"):
        school.admin.set_pin("402718", admin_code="EPATEL")
    assert school.register.last_event_id() == before
    assert not school.admin.is_pin_set()
    assert "v2" not in {p.version for p in school.policies.current()}
    school.policies.publish("School AUP", "v2", "Text", published_by="DOFFICE")
    school.admin.set_pin("402718", admin_code="CHEAD")
    actions = _admin_actions(school)
    assert ("action: policy_published", "DOFFICE") in actions
    assert ("action: admin_pin_set", "CHEAD") in actions


def test_closing_the_kiosk_app_is_recorded_naming_the_admin(school: Services) -> None:
    before = school.register.last_event_id()
    with pytest.raises(RuleViolation, match="not an admin"):
        school.admin.record_app_closed("ASMITH")
    assert school.register.last_event_id() == before
    school.admin.record_app_closed("DOFFICE")
    assert _admin_actions(school)[-1] == ("action: kiosk_app_closed", "DOFFICE")


def test_adding_someone_with_an_unknown_line_manager_is_refused(school: Services) -> None:
    before = school.register.last_event_id()
    with pytest.raises(InvalidInput) as refused:
        school.people.add_staff("GHILL", "Gus Hill", line_manager="XMANAGER", admin_code="CHEAD")
    assert refused.value.message == (
        "GHILL was not added: line manager 'XMANAGER' is not on the staff list "
        "(give their staff code or their name as on the list)."
    )
    assert school.register.last_event_id() == before  # nothing stored
    assert "GHILL" not in {s.code for s in school.people.list_staff()}
    # A code or the name of one person on the list is kept as that person's code.
    by_code = school.people.add_staff("GHILL", "Gus Hill", line_manager="chead")
    by_name = school.people.add_staff("HHILL", "Hal Hill", line_manager="Dina Office")
    assert (by_code.line_manager, by_name.line_manager) == ("CHEAD", "DOFFICE")
    # Two people of the same name: their codes are listed, nobody is chosen.
    school.people.add_staff("DOFFICE2", "Dina Office")
    with pytest.raises(InvalidInput, match=r"name of 2 people: use their code \(DOFFICE, DOFF"):
        school.people.add_staff("IHILL", "Ian Hill", line_manager="Dina Office")
