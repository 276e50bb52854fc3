"""An e-mail address is exactly one bare address wherever one comes in: the roster import,
adding someone, the settings notices go to (the notifier checks again before it sends:
tests/test_notify.py). Services on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from kiosk.config import ConfigError, check_value
from kiosk.domain.address import email_problem
from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from tests.school import make_school

NOT_ONE = [
    ("a@b.example,spy@evil.example", "a comma"),
    ('"x"<spy@evil.example>', "a quotation mark"),
    ("x <spy@evil.example>", "a space"),
    ("a@b.example;spy@evil.example", "a semicolon"),
    ("spy@evil.example(a@b.example)", "a bracket"),
    ("a@b@evil.example", "exactly one @"),
    ("a\x00@b.example", "a control character"),
    ("a@localhost", "not a domain"),
    ("a@b..example", "not a domain"),
    (".a@b.example", "the part before the @"),
    ("x" * 65 + "@b.example", "the part before the @"),
]


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


@pytest.mark.parametrize(("value", "said"), NOT_ONE, ids=[v for v, _ in NOT_ONE])
def test_what_is_not_one_address(value: str, said: str) -> None:
    problem = email_problem(value)
    assert problem is not None and said in problem


@pytest.mark.parametrize(
    "value", ["asmith@school.example", "o'brien+kiosk@mail.school.example", "A.B-C@x-y.org.uk"]
)
def test_one_address_is_one(value: str) -> None:
    assert email_problem(value) is None


def test_the_roster_refuses_an_email_that_names_another_recipient(school: Services) -> None:
    roster = (
        b"code,name,email\n"
        b'FGREEN,Fay Green,"a@b.example,spy@evil.example"\n'
        b'GHILL,Gus Hill,"""x""<spy@evil.example>"\n'
        b"HNEW,Hal New,hal@school.example\n"
    )
    report = school.people.import_staff_csv(roster, admin_code="CHEAD")
    assert not report.imported
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "email 'a@b.example,spy@evil.example' is not one e-mail address such as "
            "name@school.example: it holds a comma (one address only, no name or list)"),
        (3, "email '\"x\"<spy@evil.example>' is not one e-mail address such as "
            "name@school.example: it holds a quotation mark (one address only, no name or "
            "list)"),
    ]  # fmt: skip
    assert "HNEW" not in {p.code for p in school.people.list_staff()}
    with pytest.raises(InvalidInput, match="it holds a semicolon"):
        school.people.add_staff(
            "IHILL", "Ian Hill", email="ian@school.example;spy@evil.example", admin_code="CHEAD"
        )


@pytest.mark.parametrize("key", ["office_email", "head_email", "anchor_email"])
def test_a_setting_notices_go_to_is_one_address(key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key} 'office@school.example,spy@evil.example'"):
        check_value(key, "office@school.example,spy@evil.example")
    assert check_value(key, " office@school.example ") == "office@school.example"
