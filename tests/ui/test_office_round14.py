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


async def test_the_console_does_not_offer_to_void_a_list_change(
    services: Services, clock: FakeClock
) -> None:
    """ "Correct" on a list change (a member of staff added today) opened the void dialog and
    struck the row out, while the person stayed on the list. Now the console says why it
    cannot be voided, opens no dialog and records nothing; a deposit is still corrected."""
    from textual.widgets import DataTable

    from tests.ui.admin_support import console_in, quiet

    services.admin.set_pin("402718")
    clock.advance(days=1)
    services.people.add_staff("FGREEN", "Fay Green", admin_code="DOFFICE")
    clock.advance(minutes=1)
    services.phones.deposit("BJONES")
    clock.advance(minutes=1)
    async with console_in("office", services, "402718", rows=3) as (app, pilot):
        table = app.screen.query_one("#reg-table", DataTable)
        last = services.register.last_event_id()
        listed = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(3)]
        rows = services.register.day(clock().date()).rows
        change = next(r for r in rows if r.kind == "reference_changed")
        table.move_cursor(row=listed.index(str(change.event_id)))
        await pilot.pause()
        await pilot.press("c")
        await quiet(pilot)
        assert not isinstance(app.screen, FormDialog)
        assert any("cannot be voided" in m for m in messages(app))
        assert services.register.last_event_id() == last
        deposit = next(r for r in rows if r.kind == "phone_deposited")
        table.move_cursor(row=listed.index(str(deposit.event_id)))
        await pilot.pause()
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))


async def test_in_the_browser_the_phones_list_and_labels_reach_the_office(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the office's browser (kiosk admin --serve) the register's export is sent to the
    browser, but the phones list's CSV and the label sheets were only written on the server,
    whose folders the office cannot see: "3 line(s) written to /srv/kiosk/phones.csv" and
    nothing to print. Now they are sent to the browser as well, and the line says so."""
    from kiosk.ui.admin.app import AdminApp

    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(AdminApp, "is_web", property(lambda self: True), raising=False)
    monkeypatch.setattr(ConsoleHost, "is_web", property(lambda self: True), raising=False)

    def deliver(self: object, path: Path, **kwargs: object) -> str:
        sent.append((Path(path).name, str(kwargs.get("mime_type"))))
        return "key"

    monkeypatch.setattr(ConsoleHost, "deliver_text", deliver, raising=False)
    monkeypatch.setattr(ConsoleHost, "deliver_binary", deliver, raising=False)
    services.phones.deposit("BJONES")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await fill(pilot, app, {"path": str(tmp_path / "phones.csv")})
        await wait_until(pilot, lambda: any("sent to your browser" in m for m in messages(app)))
        assert sent == [("phones.csv", "text/csv")]
        await pilot.press("8")
        await pilot.pause()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        await fill(pilot, app, {"which": "devices", "path": str(tmp_path / "labels.pdf")})
        await wait_until(pilot, lambda: len(sent) == 2)
        assert sent[1] == ("labels.pdf", "application/pdf")
        await wait_until(
            pilot, lambda: any("Labels sent to your browser" in m for m in messages(app))
        )
