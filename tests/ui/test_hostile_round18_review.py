"""Round 18's review, on the kiosk: the sign-out form's line-manager list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Select

from kiosk.services.app import Services
from kiosk.services.views import StaffInfo
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.signout import SignOutScreen
from tests.conftest import FakeClock
from tests.school import make_ready
from tests.ui.kiosk_support import (
    make_app,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    settle,
    wait_for,
)

pytestmark = pytest.mark.ui


class _Counted(tuple[StaffInfo, ...]):
    """The staff list, counting how often it is read through."""

    reads = 0

    def __iter__(self) -> Iterator[StaffInfo]:
        type(self).reads += 1
        return super().__iter__()


def _labels(manager: Select[str]) -> list[str]:
    """The list's lines as the person sees them when it opens (no private attribute)."""
    overlay: Any = manager.query_one("SelectOverlay")
    lines = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    return [line for line in lines if line != str(manager.prompt)]


def _ready(school: Services, kiosk_clock: FakeClock, code: str) -> None:
    """``code`` ready to sign LAP-001 out with no step first (as tests/ui/test_hostile_round18)."""
    make_ready(school, code)
    for _ in range(2):
        school.devices.sign_out(code, ["LAP-001"], reason="Planning")
        kiosk_clock.advance(hours=16)
        school.devices.return_device("LAP-001")
        kiosk_clock.advance(days=1)


async def _form(pilot: Any, code: str) -> Select[str]:
    await scan(pilot, f"SRK1:S:{code}")
    await scan_fast(pilot, "SRK1:D:LAP-001")
    await press(pilot, "1")
    app = pilot.app
    await wait_for(pilot, lambda: bool(getattr(app.screen, "_staff", None)))
    assert isinstance(app.screen, SignOutScreen)
    return app.screen.query_one("#manager", Select)


async def test_the_line_manager_list_reads_the_staff_list_once_not_per_name(
    school: Services, kiosk_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each line of the list was named by a scan of the whole staff list, on the UI
    thread: 0.24 s at 3,000 staff, the form frozen as it opened. Now the list is read a few
    times in all, whatever its length."""
    listed = school.people.list_staff
    monkeypatch.setattr(school.people, "list_staff", lambda **kw: _Counted(listed(**kw)))
    for n in range(12):
        school.people.add_staff(f"EXTRA{n}", f"Extra Person {n}", admin_code="CHEAD")
    _ready(school, kiosk_clock, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        _Counted.reads = 0
        await _form(pilot, "ASMITH")
        await settle(pilot)
        assert _Counted.reads <= 4, _Counted.reads


async def test_the_person_signing_out_counts_as_a_name_on_the_list(
    school: Services, kiosk_clock: FakeClock
) -> None:
    """Carol Head (CHEAD) signs a laptop out, agreed by the other Carol Head (CHEAD2). The
    names were counted without the person signing out, so the other's name was nobody
    else's: the summary said "agreed by Carol Head.", read as herself. Now the code is
    shown, in the list and the summary."""
    school.people.add_staff("CHEAD2", "Carol Head", roles=["slt"], admin_code="CHEAD")
    _ready(school, kiosk_clock, "CHEAD")
    app = make_app(school)
    async with running(app) as pilot:
        manager = await _form(pilot, "CHEAD")
        assert "Carol Head (CHEAD2)" in _labels(manager)
        assert "Ben Jones" in _labels(manager)
        manager.value = "CHEAD2"
        await settle(pilot)
        summary = app.screen.summary_text()  # type: ignore[attr-defined]
        assert "agreed by Carol Head (CHEAD2)." in summary


async def test_breakfast_clubs_drawer_line_stays_two_lines_on_a_busy_morning(
    school: Services,
) -> None:
    """Sixty phones in the drawer: "In the drawer now" listed every name, a dozen lines that
    pushed the list of scans off the screen. Now it is two lines at most: the names that
    fit, then "… and N more"."""
    for n in range(60):
        school.people.add_staff(f"EXTRA{n}", f"Extra Person {n}", admin_code="CHEAD")
        school.phones.deposit(f"EXTRA{n}", "DRAWER", recorded_by="BJONES")
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        await settle(pilot)
        text = screen_text(app)
        assert "In the drawer now: 60 phones  Extra Person 0, " in text
        assert " more" in text and "… and " in text
        assert app.screen.query_one("#bc-drawer").size.height <= 2
