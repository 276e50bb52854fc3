"""One code, one meaning: a staff code typed at the kiosk is never also a device's label, and
a digit alone (a choice on the sign-out form) is never a code. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk.domain.errors import AmbiguousCode, InvalidInput, RuleViolation
from kiosk.services.app import Services
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


def _problems(report: object) -> list[tuple[int, str]]:
    return [(p.line, p.reason) for p in report.problems]  # type: ignore[attr-defined]


def test_a_staff_code_that_is_a_device_tag_is_refused_with_its_line(school: Services) -> None:
    school.people.retire_device("LAP-002", admin_code="CHEAD")
    report = school.people.import_staff_csv(
        b"code,name\nFGREEN,Fay Green\nlap-001,Lap One Person\nLAP-002,Retired Lap Person\n",
        admin_code="CHEAD",
    )
    assert not report.imported
    assert _problems(report) == [
        (3, "LAP-001 is a device's label (asset tag): a staff code must not be one, or typing "
            "it at the kiosk could mean either. Give this person another code"),
        (4, "LAP-002 is a device's label (asset tag): a staff code must not be one, or typing "
            "it at the kiosk could mean either. Give this person another code"),
    ]  # fmt: skip
    codes = {p.code for p in school.people.list_staff(include_retired=True)}
    assert not codes & {"FGREEN", "LAP-001", "LAP-002"}
    with pytest.raises(RuleViolation, match="LAP-001 was not added: LAP-001 is a device's label"):
        school.people.add_staff("lap-001", "Lap One Person", admin_code="CHEAD")


def test_a_device_tag_that_is_a_staff_code_is_refused_with_its_line(school: Services) -> None:
    school.people.retire_staff("EPATEL", admin_code="CHEAD")
    report = school.people.import_devices_csv(
        b"tag,kind\nLAP-009,laptop\nasmith,laptop\nEPATEL,laptop\n", admin_code="CHEAD"
    )
    assert not report.imported
    assert [line for line, _ in _problems(report)] == [3, 4]
    assert _problems(report)[0][1].startswith("ASMITH is a member of staff's code")
    assert "Give the device another tag" in _problems(report)[1][1]
    assert {d.tag for d in school.people.list_devices()} == {"LAP-001", "LAP-002", "WP-01"}
    with pytest.raises(RuleViolation, match="BJONES was not added: BJONES is a member of staff"):
        school.people.add_device("BJONES", "laptop", admin_code="CHEAD")


def test_a_typed_code_that_is_both_is_refused_and_nothing_is_recorded(school: Services) -> None:
    # Data from before the rule, or written by hand: a person whose code is a laptop's tag.
    with school.ctx.engine.begin() as connection:
        connection.execute(sa.text("UPDATE staff SET code = 'LAP-001' WHERE code = 'EPATEL'"))
    before = school.register.last_event_id()
    message = (
        "LAP-001 is both a staff code and a device label: scan the badge or the label, or ask "
        "the office."
    )
    for typed in ("lap-001", " LAP-001 "):
        with pytest.raises(AmbiguousCode) as refused:
            school.people.resolve_scan(typed)
        assert refused.value.message == message
        with pytest.raises(AmbiguousCode):
            school.scans.phone_in_or_out(typed)  # "Phone in / out", then the code typed
    assert school.register.last_event_id() == before
    # The badge and the label still say which one they are.
    badge = school.people.resolve_scan("SRK1:S:LAP-001").staff
    assert badge is not None and badge.staff.name == "Esha Patel"
    label = school.people.resolve_scan("SRK1:D:LAP-001").device
    assert label is not None and label.device.tag == "LAP-001"


@pytest.mark.parametrize("code", ["3", "0"])
def test_a_code_of_one_digit_is_refused(school: Services, code: str) -> None:
    report = school.people.import_staff_csv(
        f"code,name\n{code},Three Person\n".encode(), admin_code="CHEAD"
    )
    assert not report.imported
    assert _problems(report) == [
        (2, f"code {code} is one digit: typed at the kiosk a digit alone chooses from a list "
            "(the sign-out form's reasons). Use two characters or more"),
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match=f"tag {code} is one digit"):
        school.people.add_device(code, "laptop", admin_code="CHEAD")
    assert school.people.add_staff("T3", "Tee Three", admin_code="CHEAD").code == "T3"
