"""Office red-team round 14, the console: what it writes on the server's disk is what the
admin asked for, and nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.services.app import Services
from kiosk.ui.admin.dialogs import FormDialog
from tests.conftest import FakeClock
from tests.school import make_school
from tests.ui.admin_support import SIZE, ConsoleHost, messages, open_services, wait_until
from tests.ui.test_admin_views import fill

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    make_school(svc)
    yield svc
    svc.close()


async def test_printing_labels_keeps_a_file_already_there_unless_told_to_replace_it(
    services: Services, tmp_path: Path
) -> None:
    """ "Print labels to a file" wrote over whatever had the name (in the browser the admin
    cannot see the server's folders): the head's signed policy scan, last term's sheet. Now
    the file is kept and the dialog says so; "Replace it" writes over it."""
    kept = tmp_path / "labels.pdf"
    kept.write_bytes(b"%PDF-1.4 the head's signed copy\n")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8")
        await pilot.pause()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await fill(pilot, app, {"which": "devices", "path": str(kept)})
        await wait_until(pilot, lambda: any("already exists" in m for m in messages(app)))
        assert kept.read_bytes() == b"%PDF-1.4 the head's signed copy\n"
        assert isinstance(app.screen, FormDialog)  # still open, to choose another name
        await fill(pilot, app, {"replace": "yes"})
        await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
        assert b"signed copy" not in kept.read_bytes()
        assert any("Labels written to" in m for m in messages(app))
