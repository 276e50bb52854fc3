"""The Register view on a real SQLite file: local time, days, filters, paging, live refresh
with a second writer, corrections."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from rich.text import Text
from textual.widgets import Button, DataTable, Input, Select, Static

from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.dialogs import FormDialog
from kiosk.ui.admin.register import PAGE_SIZE, RegisterPane
from kiosk.ui.base import READ_SECONDS
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import (
    SIZE,
    ConsoleHost,
    click,
    messages,
    open_services,
    plain,
    second_writer,
    table_rows,
    text_of,
    wait_until,
)
from tests.ui.kiosk_support import hold

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    # The school is set up the week before, so the days tested hold only their own events.
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    yield svc
    svc.close()


def register_table(app: ConsoleHost) -> DataTable[object]:
    return app.screen.query_one("#reg-table", DataTable)


def page_buttons(app: ConsoleHost) -> tuple[bool, bool]:
    """Whether ◀ Page and Page ▶ can be pressed."""
    prev, next_ = (app.screen.query_one(f"#reg-page-{b}", Button) for b in ("prev", "next"))
    return not prev.disabled, not next_.disabled


def title(app: ConsoleHost) -> str:
    return text_of(app.screen.query_one("#reg-title", Static))


def column(app: ConsoleHost, key: str) -> list[str]:
    table = register_table(app)
    index = table.get_column_index(key)
    return [row[index] for row in table_rows(table)]


async def test_today_in_local_time_with_who_what_where(
    services: Services, clock: FakeClock
) -> None:
    # 2 June 2026 is in British Summer Time: 07:30 UTC is 08:30 in the staff room.
    clock.set(datetime(2026, 6, 2, 7, 30, tzinfo=UTC))
    services.phones.deposit("ASMITH")
    clock.advance(minutes=5)
    services.phones.deposit("EPATEL", "DRAWER", recorded_by="BJONES")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: register_table(app).row_count == 2, what="two rows")
        assert "Tuesday 2 June 2026 · today · 2 events" in title(app)
        rows = table_rows(register_table(app))
        assert rows[0][1:6] == [
            str(services.register.day(date(2026, 6, 2)).rows[0].event_id),
            "08:30:00",
            "Alice Smith (ASMITH)",
            "Phone deposited",
            "Staff-room secure store",
        ]
        assert rows[1][2] == "08:35:00"
        assert rows[1][3] == "Esha Patel (EPATEL)"
        assert rows[1][6] == "Ben Jones"  # recorded by the breakfast-club lead
        assert rows[1][7] == "test-kiosk"


async def test_previous_next_and_a_typed_date(services: Services, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    services.phones.deposit("ASMITH")
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    services.phones.collect("ASMITH")
    services.phones.deposit("EPATEL")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: register_table(app).row_count == 2)
        assert page_buttons(app) == (False, False)  # one page
        await pilot.press("p")
        await wait_until(pilot, lambda: "Monday 9 March 2026 · 1 event" in title(app))
        assert column(app, "what") == ["Phone deposited"]
        await pilot.press("n")
        await wait_until(pilot, lambda: "Tuesday 10 March 2026 · today · 2 events" in title(app))
        await pilot.press("n")
        await wait_until(pilot, lambda: "Wednesday 11 March 2026 · 0 events" in title(app))
        assert register_table(app).row_count == 0
        # Pick a date: g focuses the field, a British date and Enter.
        await pilot.press("g")
        assert isinstance(app.focused, Input)
        await pilot.press(*"9/3/2026", "enter")
        await wait_until(pilot, lambda: "Monday 9 March 2026" in title(app))
        await pilot.press("t")
        await wait_until(pilot, lambda: "today" in title(app))
        # A date that is not one: said in words, the day shown does not change.
        await pilot.press("g", *"31/02/2026", "enter")
        await wait_until(pilot, lambda: any("is not a date" in m for m in messages(app)))
        assert "Tuesday 10 March 2026" in title(app)
        # The mouse works too.
        await click(pilot, "#reg-prev")
        await wait_until(pilot, lambda: "Monday 9 March 2026" in title(app))


async def test_filters_by_staff_kind_store_and_device(services: Services, clock: FakeClock) -> None:
    from tests.school import make_ready

    make_ready(services, "EPATEL")
    services.phones.deposit("ASMITH")
    services.phones.deposit("EPATEL", "DRAWER")
    services.phones.collect("ASMITH")
    services.devices.sign_out("EPATEL", ["LAP-002"], reason="Report writing")
    app = ConsoleHost(services)
    today = date(2026, 3, 10)
    async with app.run_test(size=SIZE) as pilot:
        everything = services.register.day(today).total
        await wait_until(pilot, lambda: register_table(app).row_count == everything)

        async def choose(select_id: str, value: str, expect: RegisterFilter) -> None:
            app.screen.query_one(select_id, Select).value = value
            expected = services.register.day(today, expect).rows
            await wait_until(
                pilot,
                lambda: column(app, "id") == [str(r.event_id) for r in expected],
                what=f"rows filtered by {value}",
            )

        await choose("#reg-kind", "phone_deposited", RegisterFilter(kind="phone_deposited"))
        assert set(column(app, "what")) == {"Phone deposited"}
        assert "(filtered)" in title(app)
        await choose(
            "#reg-staff",
            "EPATEL",
            RegisterFilter(kind="phone_deposited", staff_code="EPATEL"),
        )
        assert column(app, "staff") == ["Esha Patel (EPATEL)"]
        await pilot.press("x")  # clear filters (the table has the focus)
        await wait_until(pilot, lambda: register_table(app).row_count == everything)
        await choose("#reg-store", "DRAWER", RegisterFilter(store_code="DRAWER"))
        assert column(app, "item") == ["Administrator's locked drawer (breakfast club)"]
        await click(pilot, "#reg-clear")
        await choose("#reg-device", "LAP-002", RegisterFilter(device_tag="LAP-002"))
        assert column(app, "item") == ["Laptop LAP-002"]


async def test_paging_happens_in_sql(services: Services, clock: FakeClock) -> None:
    for _ in range(PAGE_SIZE // 2 + 10):
        services.phones.deposit("ASMITH")
        clock.advance(seconds=30)
        services.phones.collect("ASMITH")
        clock.advance(seconds=30)
    total = services.register.day(date(2026, 3, 10)).total
    assert total > PAGE_SIZE
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        pageinfo = app.screen.query_one("#reg-pageinfo", Static)
        await wait_until(pilot, lambda: text_of(pageinfo) == f"Rows 1 to 100 of {total}")
        assert register_table(app).row_count == PAGE_SIZE
        assert page_buttons(app) == (False, True)  # as the console opened: ◀ no, ▶ yes
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: text_of(pageinfo) == f"Rows 101 to {total} of {total}")
        assert page_buttons(app) == (True, False)
        assert register_table(app).row_count == total - PAGE_SIZE
        last_page = services.register.day(date(2026, 3, 10), offset=PAGE_SIZE).rows
        assert column(app, "id") == [str(r.event_id) for r in last_page]
        await click(pilot, "#reg-page-prev")
        await wait_until(pilot, lambda: text_of(pageinfo) == f"Rows 1 to 100 of {total}")


async def test_a_second_kiosk_writes_and_the_register_keeps_its_place(
    services: Services, clock: FakeClock, sqlite_url: str
) -> None:
    for _ in range(30):
        services.phones.deposit("ASMITH")
        clock.advance(minutes=1)
        services.phones.collect("ASMITH")
        clock.advance(minutes=1)
    app = ConsoleHost(services)
    async with app.run_test(size=(100, 24)) as pilot:
        table = register_table(app)
        await wait_until(pilot, lambda: table.row_count == 60)
        table.focus()
        for _ in range(40):
            await pilot.press("down")
        await pilot.pause()
        selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        scrolled = table.scroll_y
        assert table.cursor_row == 40 and scrolled > 0
        with second_writer(sqlite_url, clock) as hall:
            receipt = hall.phones.deposit("EPATEL")
            voided = int(plain(table.get_row_at(45)[1]))
            hall.register.void(voided, reason="Wrong badge", admin_code="CHEAD")
        # Within a few seconds, without a key pressed: the new events, and the voided mark.
        await wait_until(
            pilot, lambda: table.row_count == 62, timeout=10, what="the second kiosk's events"
        )
        await wait_until(pilot, lambda: plain(table.get_row_at(45)[0]) == "✗ VOID")
        assert column(app, "id")[60] == str(receipt.event_id)
        assert column(app, "kiosk")[60] == "hall-kiosk"
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == selected
        assert table.cursor_row == 40
        assert table.scroll_y == scrolled
        assert "62 events" in title(app)


async def test_correcting_an_event_with_a_reason(services: Services, clock: FakeClock) -> None:
    wrong = services.phones.deposit("ASMITH")
    clock.advance(minutes=1)
    services.phones.deposit("EPATEL")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        table = register_table(app)
        await wait_until(pilot, lambda: table.row_count == 2)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert f"Event {wrong.event_id}: Phone deposited by Alice Smith" in "".join(
            text_of(s) for s in app.screen.query(Static)
        )
        # No reason: refused in words, the dialog stays.
        await click(pilot, "#submit")
        await wait_until(pilot, lambda: any("reason" in m for m in messages(app)))
        assert isinstance(app.screen, FormDialog)
        await click(pilot, "#field-reason")
        # Enter after the reason asks for Enter again (a correction is for good): nothing yet.
        await pilot.press(*"Scanned the wrong badge", "enter")
        await wait_until(pilot, lambda: any("Enter again to void" in m for m in messages(app)))
        assert isinstance(app.screen, FormDialog) and table.row_count == 2
        await pilot.pause(READ_SECONDS)  # she reads it (an Enter sooner is the same press)
        await pilot.press("enter")
        await wait_until(pilot, lambda: table.row_count == 3, what="the correction row")
        original = table.get_row_at(0)
        assert plain(original[0]) == "✗ VOID"
        assert plain(original[8]).startswith("VOIDED: Scanned the wrong badge")
        assert isinstance(original[4], Text) and "strike" in str(original[4].style)
        correction = table_rows(table)[2]
        assert correction[0] == "↺ FIX" and correction[4] == "Correction"
        assert f"voids event {wrong.event_id}: Scanned the wrong badge" in correction[8]
        assert correction[6] == "Dina Office"
        assert any("voided" in m for m in messages(app))
        # The database: the original stays, voided; the correction names the admin.
        rows = services.register.day(date(2026, 3, 10)).rows
        assert next(r for r in rows if r.event_id == wrong.event_id).voided
        assert services.phones.phones_now()[0].staff.code == "EPATEL"
        # A correction cannot itself be voided, and nothing is voided twice.
        table.move_cursor(row=2)
        await pilot.press("c")
        await wait_until(pilot, lambda: any("cannot itself be voided" in m for m in messages(app)))
        table.move_cursor(row=0)
        await pilot.press("c")
        await wait_until(pilot, lambda: any("already been voided" in m for m in messages(app)))
        assert not isinstance(app.screen, FormDialog)


async def test_export_day_from_the_register_goes_to_the_export_view(
    services: Services, clock: FakeClock
) -> None:
    services.phones.deposit("ASMITH")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: register_table(app).row_count == 1)
        await pilot.press("p")
        await wait_until(pilot, lambda: "Monday 9 March" in title(app))
        await pilot.press("e")
        await wait_until(
            pilot, lambda: app.screen.query_one("#export-from", Input).value == "09/03/2026"
        )
        assert app.screen.query_one("#export-to", Input).value == "09/03/2026"
        assert app.screen.query_one("#export-path", Input).value.endswith("register-2026-03-09.csv")
        assert app.screen.query_one(RegisterPane).day == date(2026, 3, 9)
        assert (clock.now - timedelta(days=1)).date() == date(2026, 3, 9)


async def test_a_typed_date_changes_the_view_once_with_the_rows(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter on a date: nothing on the console changes while the day is fetched (a frame
    then would hold up the rows); the field is emptied and the table focused with them."""
    from kiosk.ui.admin import register as register_view

    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    services.phones.deposit("ASMITH")
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "today" in title(app))
        release = hold(monkeypatch, services.register, "day", seconds=5)
        monkeypatch.setattr(register_view, "LOADING_AFTER", 5.0)  # not slow enough to say so
        field = app.screen.query_one("#reg-date", Input)
        await pilot.press("g", *"9/3/2026")
        await wait_until(pilot, lambda: field.value == "9/3/2026")
        refreshed: list[str] = []
        monkeypatch.setattr(field, "refresh", lambda *a, **k: refreshed.append("field"))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert field.value == "9/3/2026" and app.focused is field
        assert refreshed == []
        release.set()
        await wait_until(pilot, lambda: "Monday 9 March 2026" in title(app))
        assert field.value == ""
        assert app.focused is app.screen.query_one("#reg-table", DataTable)


@pytest.mark.tuning("gc")
async def test_garbage_is_collected_once_a_day_is_shown(
    services: Services, clock: FakeClock
) -> None:
    """The office reads the day it asked for: the collection that was coming comes then,
    not while the next day is fetched and drawn (kiosk/ui/collect.py)."""
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    services.phones.deposit("ASMITH")
    app = ConsoleHost(services)
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: register_table(app).row_count == 1)
        # The console is built once its first page is drawn: what is alive then is frozen
        # (gc.freeze also sets the collector's counts back to nought), a frame after the rows.
        await wait_until(pilot, lambda: getattr(app.screen, "_ready", False), what="built")
        thresholds = gc.get_threshold()
        gc.callbacks.append(note)
        try:
            # No collection of its own accord meanwhile; a full one is due (one middle
            # collection since the last full one, of 1 allowed).
            gc.set_threshold(10**9, thresholds[1], 1)
            gc.collect(1)
            await pilot.press("p")
            await wait_until(pilot, lambda: "Monday 9 March 2026 · 0 events" in title(app))
            # Once the day is drawn (the frame after it: not always within one pause).
            await wait_until(pilot, lambda: 2 in seen, timeout=2, what="a full collection")
        finally:
            gc.callbacks.remove(note)
            gc.set_threshold(*thresholds)
    assert 2 in seen
