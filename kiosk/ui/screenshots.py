"""Save the README's screenshots: ``python -m kiosk.ui.screenshots [OUT_DIR]``.

Builds the demo school in a temporary SQLite file at a fixed moment (Tuesday 10 March 2026,
08:05 in London), runs the kiosk on it headless at 100x30, and writes ``home.svg`` and
``person.svg`` (a member of staff with a phone in a store, a laptop off site and a policy
still to read) to OUT_DIR (default ``docs/``). The same input gives the same pictures.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from kiosk.config import Settings
from kiosk.domain.scan import staff_payload
from kiosk.services.app import Services
from kiosk.services.demo import build_demo
from kiosk.services.views import StaffStatus
from kiosk.ui.app import KioskApp

MOMENT = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
SIZE = (100, 30)


def _interest(status: StaffStatus) -> int:
    return (
        (status.phone is not None)
        + 2 * bool(status.offsite)
        + 3 * any(item.overdue for item in status.offsite)
        + 2 * bool(status.outstanding_policies)
        + (status.vdu_trained_on is not None)
    )


def _person(services: Services) -> str:
    """The member of staff whose screen shows the most (ties: the first by name)."""
    best, best_score = "", -1
    for staff in services.people.list_staff():
        score = _interest(services.people.status(staff.code))
        if score > best_score:
            best, best_score = staff.code, score
    return best


async def _shoot(app: KioskApp, code: str, out: Path) -> list[Path]:
    saved: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        saved.append(Path(app.save_screenshot("home.svg", str(out))))
        app.receive_scan(staff_payload(code))
        for _ in range(50):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if type(app.screen).__name__ == "PersonScreen" and not app.busy:
                break
        await pilot.pause()
        saved.append(Path(app.save_screenshot("person.svg", str(out))))
    return saved


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0] if args else "docs")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            school_name="Hillside Primary School",
            office_phone="0121 496 0000",
            kiosk_name="staff-room-kiosk",
            database_url=f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
        )
        build_demo(settings, now=MOMENT)
        opened = Services.open(settings)
        services = Services(opened.ctx.engine, settings, lambda: MOMENT)
        try:
            app = KioskApp(services=services)
            for path in asyncio.run(_shoot(app, _person(services), out)):
                print(f"saved {path}")
        finally:
            services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
