"""SIGTERM (a service manager stopping the app): the app leaves its own way, so the terminal is
given back as it was, and the exit status is 0."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from textual.app import App

from kiosk.services.app import Services
from kiosk.ui.admin.app import AdminApp
from tests.ui.kiosk_support import make_app

pytestmark = pytest.mark.ui


async def _terminated(app: App[None]) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            if not app.is_running:
                break
            await asyncio.sleep(0.05)
        assert not app.is_running
    assert app.return_code == 0


async def test_sigterm_closes_the_kiosk_with_status_0(school: Services) -> None:
    await _terminated(make_app(school))


async def test_sigterm_closes_the_admin_console_with_status_0(school: Services) -> None:
    await _terminated(AdminApp(school.settings, school))
