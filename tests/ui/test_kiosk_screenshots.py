"""The README's screenshots are made by a script, on the demo school at a fixed moment."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.ui.home import emergency_line
from kiosk.ui.screenshots import main

pytestmark = pytest.mark.ui


def test_screenshots_of_home_and_a_person(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    home = (tmp_path / "home.svg").read_text()
    person = (tmp_path / "person.svg").read_text()
    assert home.startswith("<svg") and person.startswith("<svg")
    # Text in the SVG has its spaces as &#160;.
    home_text = home.replace("&#160;", " ")
    person_text = person.replace("&#160;", " ")
    assert "Hillside Primary School" in home_text and "0121 496 0000" in home_text
    assert "Tuesday 10 March 2026" in home_text
    assert "OVERDUE" in person_text and "Press Enter" in person_text


def test_emergency_line_reads_well_with_or_without_a_number() -> None:
    assert emergency_line("0121 496 0000").plain == (
        "Family emergency? Families can always ring the school office on 0121 496 0000: "
        "the message reaches you straight away."
    )
    assert emergency_line("the school office").plain == (
        "Family emergency? Families can always ring the school office: "
        "the message reaches you straight away."
    )
