"""The console as a person sees it on a small terminal (80x24) and on a wide one (200x50):
every tab's label on the screen, every field and button of every view and dialog on the
screen once the cursor is in it (a view may scroll, nothing is cut off out of reach), and on
a wide screen the tables and forms spread over the width.

"On the screen" is what Textual's compositor draws: the widget's region, clipped by every
container it is in, is the whole of the widget (nothing of it hidden), inside the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Tab, TabbedContent

from kiosk.services.app import Services
from kiosk.ui.admin.console import VIEWS, AdminConsoleScreen
from kiosk.ui.admin.dialogs import ConsoleModal
from tests.conftest import START, FakeClock
from tests.school import make_ready, make_school
from tests.ui.admin_support import ConsoleHost, open_services, settle, wait_until

pytestmark = pytest.mark.ui

SMALL = (80, 24)
WIDE = (200, 50)
CONTROLS = (Button, Input, Select, Checkbox)


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    make_ready(svc, "ASMITH")
    clock.set(START)
    svc.phones.deposit("ASMITH")
    yield svc
    svc.close()


def hidden_part(widget: Widget) -> str | None:
    """What of ``widget`` a person cannot see now (None: all of it is on the screen)."""
    screen = widget.screen
    try:
        geometry = screen.find_widget(widget)
    except Exception:
        return "not drawn at all"
    region = geometry.region
    shown = region.intersection(geometry.clip).intersection(screen.region)
    if not region.area:
        return "drawn with no size"
    if shown != region:
        return f"drawn at {region}, only {shown} of it on the screen"
    return None


def console(app: ConsoleHost) -> AdminConsoleScreen:
    screen = app.screen_stack[1]
    assert isinstance(screen, AdminConsoleScreen)
    return screen


async def show_view(pilot: Pilot[Any], number: int) -> Widget:
    """Choose view ``number`` as a person would (its number key, the cursor in a table)."""
    app = pilot.app
    screen = console(app)  # type: ignore[arg-type]
    if not isinstance(
        app.focused, DataTable
    ):  # the cursor in a field (Export): the tab is clicked instead
        key = VIEWS[number - 1][0]
        await pilot.click(f"#console-tabs Tab#--content-tab-tab-{key}")
    else:
        await pilot.press(str(number))
    key = VIEWS[number - 1][0]
    await wait_until(pilot, lambda: screen.query_one(TabbedContent).active == f"tab-{key}")
    await wait_until(pilot, lambda: screen.query(f"#view-{key}"))
    await settle(pilot)
    return screen.query_one(f"#view-{key}")


async def out_of_sight(pilot: Pilot[Any], widgets: list[Widget]) -> list[str]:
    """Each widget given the cursor (a view scrolls to it), then what of it is hidden."""
    hidden = []
    for widget in widgets:
        if widget.disabled or not widget.display:
            continue
        widget.focus()
        await pilot.pause()
        await pilot.pause()
        part = hidden_part(widget)
        if part is not None:
            hidden.append(f"{widget!r}: {part}")
    return hidden


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "200x50"])
async def test_every_tab_label_is_on_the_screen(services: Services, size: tuple[int, int]) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#reg-table"))
        await settle(pilot)
        tabs = list(console(app).query_one("#console-tabs").query(Tab))
        assert [str(tab.label) for tab in tabs] == [f"{n} {v[1]}" for n, v in enumerate(VIEWS, 1)]
        hidden = {str(tab.label): hidden_part(tab) for tab in tabs}
        assert {label: part for label, part in hidden.items() if part} == {}
        # Whichever is chosen, all nine stay where they are (nothing scrolls out of sight).
        await show_view(pilot, 9)
        assert [t for t in tabs if hidden_part(t)] == []
        assert tabs[-1].has_class("-active")


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "200x50"])
async def test_every_field_and_button_of_every_view_can_be_seen(
    services: Services, size: tuple[int, int]
) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#reg-table"))
        await settle(pilot)
        screen = console(app)
        hidden = await out_of_sight(pilot, list(screen.query_one("#console-bar").query(Button)))
        for number in range(1, len(VIEWS) + 1):
            pane = await show_view(pilot, number)
            controls = [w for w in pane.query("*") if isinstance(w, CONTROLS)]
            assert controls or number in (3, 7), f"view {number} has no fields or buttons"
            hidden += await out_of_sight(pilot, controls)
            # Each table shows at least its heading and a row.
            for table in pane.query(DataTable):
                geometry = screen.find_widget(table)
                shown = geometry.region.intersection(geometry.clip)
                if not (shown.height >= 2 and shown.width >= min(40, table.virtual_size.width)):
                    hidden.append(f"{table!r} shows only {shown}")
            # The cursor back in a table, so that the next number key chooses a view.
            tables = list(pane.query(DataTable))
            if tables:
                tables[0].focus()
                await pilot.pause()
        assert hidden == []


DIALOGS = [
    # (view number, the pane's action) for the dialogs with the most to fill in
    pytest.param(8, "add_staff", id="add-staff"),
    pytest.param(8, "add_device", id="add-device"),
    pytest.param(8, "import_csv", id="import"),
    pytest.param(8, "labels", id="labels"),
    pytest.param(4, "publish", id="publish"),
    pytest.param(6, "grant", id="grant"),
    pytest.param(2, "export", id="phones-export"),
]


@pytest.mark.parametrize(("number", "action"), DIALOGS)
async def test_every_field_of_a_dialog_can_be_seen_at_80x24(
    services: Services, number: int, action: str
) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#reg-table"))
        await settle(pilot)
        pane = await show_view(pilot, number)
        await pane.run_action(action)
        await wait_until(pilot, lambda: isinstance(app.screen, ConsoleModal))
        await settle(pilot)
        dialog = app.screen
        controls = [w for w in dialog.query("*") if isinstance(w, CONTROLS)]
        # The cursor is in the first field (what is typed at once goes there), in sight.
        assert app.focused is controls[0] and hidden_part(controls[0]) is None
        assert len(controls) >= 3  # a field or two, Cancel and the action
        assert await out_of_sight(pilot, controls) == []


async def test_on_a_wide_screen_the_tables_and_the_export_form_use_the_width(
    services: Services,
) -> None:
    app = ConsoleHost(services)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#reg-table"))
        await settle(pilot)
        screen = console(app)
        register = screen.query_one("#reg-table", DataTable)
        assert register.region.width >= WIDE[0] - 2
        # The register's longest columns are wider than on a small screen.
        staff = register.columns[next(k for k in register.columns if k.value == "staff")]
        assert staff.get_render_width(register) > 30
        for number in range(2, len(VIEWS) + 1):
            pane = await show_view(pilot, number)
            # The view's tables, side by side or one above the other, span the screen.
            regions = [table.region for table in pane.query(DataTable)]
            if regions:
                left = min(r.x for r in regions)
                right = max(r.right for r in regions)
                assert left <= 2 and right >= WIDE[0] - 2, f"view {number}: tables {regions}"
            if number == 9:
                path = pane.query_one("#export-path", Input)
                assert path.region.width >= WIDE[0] // 2
            tables = list(pane.query(DataTable))
            if tables:
                tables[0].focus()
                await pilot.pause()


async def test_the_console_opens_on_the_day_before_its_filter_lists_are_made(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fewer widgets at opening (issue 17): today's rows are shown before the four filter
    lists are made (the costliest widgets of the console); they come just after, and F (the
    filters) puts the cursor in the first of them."""
    from kiosk.ui.admin.register import RegisterPane

    seen: list[int] = []
    original = RegisterPane._show

    def show(pane: RegisterPane, page: Any) -> None:
        seen.append(len(pane.screen.query(Select)))
        original(pane, page)

    monkeypatch.setattr(RegisterPane, "_show", show)
    app = ConsoleHost(services)
    async with app.run_test(size=SMALL) as pilot:
        table = await wait_until_table(pilot)
        assert seen[0] == 0
        await wait_until(pilot, lambda: len(app.screen.query(Select)) == 4)
        table.focus()
        await pilot.press("f")
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "reg-staff")
        assert hidden_part(app.screen.query_one("#reg-staff")) is None


async def wait_until_table(pilot: Pilot[Any]) -> DataTable[Any]:
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.query_one("#reg-table", DataTable).row_count >= 1)
    return app.screen.query_one("#reg-table", DataTable)
