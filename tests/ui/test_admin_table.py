"""AdminTable's short cuts (one-line Text cells rendered and measured without rich's full
rendering, row styles worked out once per render) give exactly what DataTable itself gives:
the same segments, styles and mouse metadata for every cell, with and without the cursor,
and the same column widths."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from kiosk.ui.admin.base import AdminTable, fill_table
from kiosk.ui.admin.register import COLUMNS

pytestmark = pytest.mark.ui

CELLS: list[Any] = [
    Text(""),
    Text("✗ VOID", style="bold red"),
    Text("↺ FIX", style="bold yellow"),
    Text("x" * 80, style="strike"),  # cut to its column
    Text("Alice Example (AEXAMPLE)", style=""),
    Text("日本語のテキスト" * 4, style="strike"),  # double-width characters, cut
    Text("VOIDED: scanned the wrong badge | reason: trip"),
    Text("two\nlines"),  # not a one-line cell: DataTable's own way
    "a plain [b]str[/b]",  # not a Text: DataTable's own way
]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table = AdminTable(id="t", cursor_type="row", zebra_stripes=True)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table


def rows(count: int) -> list[tuple[str, list[Any]]]:
    return [(str(n), CELLS[n % 9 :] + CELLS[: n % 9]) for n in range(count)]


async def test_fast_cells_render_and_measure_as_datatable_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(AdminTable)
        fill_table(table, rows(30))
        await pilot.pause()
        table.move_cursor(row=3)
        await pilot.pause()
        widths = [column.content_width for column in table.columns.values()]
        table._clear_caches()
        fast = [list(strip) for strip in table.render_lines(Region(0, 0, 160, 36))]
        cells = [
            table._render_cell(row, column, table.rich_style, 12 + column, cursor=row == 3)
            for row in range(12)
            for column in range(len(COLUMNS))
        ]

        # The same table the way DataTable does it.
        monkeypatch.setattr(AdminTable, "_render_plain_cell", lambda *args: None)
        monkeypatch.setattr(AdminTable, "_get_row_style", DataTable._get_row_style)
        monkeypatch.setattr(AdminTable, "render_lines", DataTable.render_lines)
        monkeypatch.setattr(AdminTable, "_update_dimensions", DataTable._update_dimensions)
        fill_table(table, [])
        for column in table.columns.values():
            column.content_width = 0
        fill_table(table, rows(30))
        await pilot.pause()
        table.move_cursor(row=3)
        await pilot.pause()
        assert [column.content_width for column in table.columns.values()] == widths
        table._clear_caches()
        slow = [list(strip) for strip in table.render_lines(Region(0, 0, 160, 36))]
        assert fast == slow
        assert cells == [
            table._render_cell(row, column, table.rich_style, 12 + column, cursor=row == 3)
            for row in range(12)
            for column in range(len(COLUMNS))
        ]
