"""Snapshots of the kiosk's main screens (frozen clock, real SQLite file).

Update after a deliberate change of the look: ``pytest tests/ui/test_kiosk_snapshots.py
--snapshot-update``, then look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kiosk.services.app import Services
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, press, scan_fast, settle

pytestmark = pytest.mark.ui

Steps = Callable[[Pilot[Any]], Awaitable[None]]


def _steps(*actions: Steps) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for action in actions:
            await action(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    return run


def _scan(payload: str) -> Steps:
    return lambda pilot: scan_fast(pilot, payload)


def _keys(*keys: str) -> Steps:
    return lambda pilot: press(pilot, *keys)


def test_home_screen(school: Services, snap_compare: Any) -> None:
    assert snap_compare(make_app(school), terminal_size=(100, 30), run_before=_steps())


def test_home_screen_after_the_end_of_the_day_80x24(school: Services, snap_compare: Any) -> None:
    for code in ("ASMITH", "EPATEL"):
        school.phones.deposit(code)
    school.phones.deposit("CHEAD", "DRAWER", recorded_by="BJONES")
    school.ctx.clock.advance(hours=8, minutes=40)  # type: ignore[attr-defined]  # 16:45
    assert snap_compare(make_app(school), terminal_size=(80, 24), run_before=_steps())


def test_home_screen_high_contrast_80x24(school: Services, snap_compare: Any) -> None:
    app = make_app(school, high_contrast=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steps())


def test_person_screen(school: Services, snap_compare: Any) -> None:
    make_ready(school, "EPATEL")
    school.devices.sign_out("EPATEL", ["LAP-002"], reason="Report writing")
    school.phones.deposit("EPATEL", "DRAWER", recorded_by="BJONES")
    school.ctx.clock.advance(days=1, hours=2)  # type: ignore[attr-defined]
    run = _steps(_scan("SRK1:S:EPATEL"))
    assert snap_compare(make_app(school), terminal_size=(100, 30), run_before=run)


def test_person_screen_with_things_to_do_80x24(school: Services, snap_compare: Any) -> None:
    run = _steps(_scan("SRK1:S:ASMITH"))
    assert snap_compare(make_app(school), terminal_size=(80, 24), run_before=run)


def test_sign_out_form(school: Services, snap_compare: Any) -> None:
    make_ready(school, "ASMITH")
    for _ in range(2):
        school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning and marking at home")
        school.ctx.clock.advance(hours=16)  # type: ignore[attr-defined]
        school.devices.return_device("LAP-001")
    run = _steps(_scan("SRK1:S:ASMITH"), _scan("SRK1:D:LAP-001"), _scan("SRK1:D:WP-01"))
    assert snap_compare(make_app(school), terminal_size=(100, 30), run_before=run)


def test_policy_screen(school: Services, snap_compare: Any) -> None:
    run = _steps(_scan("SRK1:S:ASMITH"), _keys("f7"))
    assert snap_compare(make_app(school), terminal_size=(100, 30), run_before=run)


def test_breakfast_club_mode(school: Services, snap_compare: Any) -> None:
    school.phones.deposit("DOFFICE")
    run = _steps(
        _scan("SRK1:S:BJONES"),
        _keys("f5"),
        _scan("SRK1:S:ASMITH"),
        _scan("SRK1:S:EPATEL"),
        _scan("SRK1:S:CHEAD"),
        _keys("f4"),
        _scan("SRK1:S:DOFFICE"),
    )
    assert snap_compare(make_app(school), terminal_size=(100, 30), run_before=run)


def test_an_error_where_the_eye_already_is(school: Services, snap_compare: Any) -> None:
    run = _steps(_scan("SRK1:S:NOBODY"))
    assert snap_compare(make_app(school), terminal_size=(80, 24), run_before=run)


def test_confirmation(school: Services, snap_compare: Any) -> None:
    run = _steps(_scan("SRK1:S:BJONES"), _keys("enter"))
    assert snap_compare(make_app(school), terminal_size=(80, 24), run_before=run)
