"""A name in the roster looks like what it is: no invisible or unassigned character, and a
space is a space (issue 15.7's rule, carried to every hidden category). On SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from kiosk.domain.text import display_text, plain_line
from kiosk.services.app import Services
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Ben\u2065Jones", "U+2065 (not a character: unassigned)"),
        ("Ben Jones\ufff0", "U+FFF0 (not a character: unassigned)"),
        ("Ben Jones\U000e0080", "U+E0080 (not a character: unassigned)"),
        ("Ben\ue000Jones", "U+E000 (a private-use character)"),
        ("Ben\u0600Jones", "ARABIC NUMBER SIGN"),
    ],
)
def test_a_hidden_or_unassigned_character_in_a_name_is_refused(
    school: Services, name: str, said: str
) -> None:
    report = school.people.import_staff_csv(f"code,name\nBJ2,{name}\n".encode(), admin_code="CHEAD")
    assert not report.imported
    [problem] = report.problems
    assert problem.line == 2 and problem.reason.startswith(f"name contains {said}: ")
    assert "\ufffd" in display_text(name)  # written by hand: shown as something there


@pytest.mark.parametrize("space", ["\u00a0", "\u2002", "\u200a", "\u202f", "\u205f", "\u3000"])
def test_a_unicode_space_in_a_name_is_a_plain_space(school: Services, space: str) -> None:
    report = school.people.import_staff_csv(
        f"code,name\nCHEAD2,Carol{space}{space}Head \n".encode(), admin_code="CHEAD"
    )
    assert report.imported, report.problems
    [twin] = [p for p in school.people.list_staff() if p.code == "CHEAD2"]
    assert twin.name == "Carol Head"  # what it looks like: a line manager by name is ambiguous
    with pytest.raises(Exception, match="is the name of 2 people"):
        school.people.add_staff("FNEW", "Fay New", line_manager=f"Carol{space}Head")


def test_a_name_typed_with_a_separate_accent_is_the_accented_name() -> None:
    assert plain_line("Zoe\u0301 Lee") == "Zo\u00e9 Lee"
