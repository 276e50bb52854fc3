"""The kiosk on a register kept on a network share says so at the first scan, in words, and
records nothing (tests/reliability/test_network_share.py: why)."""

from __future__ import annotations

import pytest

from kiosk.db import engine as db_engine
from kiosk.services.app import Services
from tests.ui.kiosk_support import make_app, notice, running, scan

pytestmark = pytest.mark.ui


async def test_the_kiosk_on_a_share_says_so_at_the_first_scan(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_engine, "file_system_of", lambda path, mountinfo=None: "cifs")
    db_engine._FILE_SYSTEMS.clear()
    try:
        app = make_app(school)
        async with running(app) as pilot:
            await scan(pilot, "SRK1:S:ASMITH")
            await pilot.press("enter")
            await pilot.pause()
            said = notice(app)
        assert "Not recorded" in said and "network share (cifs)" in said, said
        assert school.people.status("ASMITH").phone is None
    finally:
        db_engine._FILE_SYSTEMS.clear()
