"""The tuned table's (tuning piece ``table``) short cuts (one-line Text cells rendered and
measured without rich's full rendering, row styles worked out once per render) give exactly
what DataTable itself gives: the same segments, styles and mouse metadata for every cell,
with and without the cursor, and the same column widths."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.geometry import Region
from textual.widgets import DataTable

from kiosk.ui.admin.register import COLUMNS
from kiosk.ui.admin.tables import fill_table
from kiosk.ui.tuning.fast_table import _TABLE_CACHES, UnlinkedLRUCache
from kiosk.ui.tuning.fast_table import TunedTable as AdminTable

pytestmark = [pytest.mark.ui, pytest.mark.tuning("table")]

CELLS: list[Any] = [
    Text(""),
    Text("✗ VOID", style="bold red"),
    Text("↺ FIX", style="bold yellow"),
    Text("x" * 80, style="strike"),  # cut to its column
    Text("Alice Example (AEXAMPLE)", style=""),
    Text("日本語のテキスト" * 4, style="strike"),  # double-width characters, cut
    Text("VOIDED: scanned the wrong badge | reason: trip"),
    Text("two\nlines"),  # not a one-line cell: DataTable's own way
    "a plain [b]str[/b]",  # a str: fill_table makes it a literal Text (never markup)
]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table = AdminTable(id="t", cursor_type="row", zebra_stripes=True)
        for key, label, width, _wide in COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table


PLAIN = [cell for cell in CELLS if isinstance(cell, Text) and "\n" not in cell.plain]


def rows(count: int) -> list[tuple[str, list[Any]]]:
    """Rows of one-line Text cells only (most of them), and rows with other cells too."""
    return [
        (str(n), CELLS[n % 9 :] + CELLS[: n % 9])
        if n % 3 == 2
        else (str(n), [PLAIN[(n + c) % len(PLAIN)] for c in range(9)])
        for n in range(count)
    ]


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
        fast_rows: list[Any] = []
        plain_row = AdminTable._render_plain_row

        def counted(*args: Any) -> Any:
            row = plain_row(*args)
            fast_rows.append(row)
            return row

        monkeypatch.setattr(AdminTable, "_render_plain_row", counted)
        fast = [list(strip) for strip in table.render_lines(Region(0, 0, 160, 36))]
        # Both ways were taken: the short cut for the plain rows, DataTable's for the others.
        taken = [row is not None for row in fast_rows]
        assert taken.count(True) >= 20 and taken.count(False) >= 10
        table._clear_caches()  # DataTable's cell cache is not keyed on the width
        cells = [
            table._render_cell(row, column, table.rich_style, 12 + column, cursor=row == 3)
            for row in range(12)
            for column in range(len(COLUMNS))
        ]

        # The same table the way DataTable does it.
        monkeypatch.setattr(AdminTable, "_render_plain_cell", lambda *args: None)
        monkeypatch.setattr(AdminTable, "_render_line_in_row", DataTable._render_line_in_row)
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
        table._clear_caches()
        assert cells == [
            table._render_cell(row, column, table.rich_style, 12 + column, cursor=row == 3)
            for row in range(12)
            for column in range(len(COLUMNS))
        ]


class Held:
    """A value that can be watched (weakref) as a cache lets it go."""


class WatchedText(Text):
    """A Text that can be watched (rich's has no weak references)."""


def test_unlinked_cache_frees_its_values_when_cleared() -> None:
    """Textual's LRUCache leaves its ring of entries to the garbage collector when cleared
    (the premise); UnlinkedLRUCache frees them at once, and still works as an LRU cache."""
    gc.disable()
    try:
        plain: LRUCache[int, Held] = LRUCache(3)
        plain[1] = kept_plain = Held()
        plain[2] = Held()
        watch_plain = weakref.ref(kept_plain)
        del kept_plain
        plain.clear()
        assert watch_plain() is not None  # in a ring: waits for the collector

        cache: UnlinkedLRUCache[int, Held] = UnlinkedLRUCache(3)
        values = [Held() for _ in range(5)]
        for key, value in enumerate(values):
            cache[key] = value
        assert list(cache.keys()) == [2, 3, 4]  # the oldest went
        assert cache.get(3) is values[3] and 3 in cache and 0 not in cache
        cache[5] = Held()
        assert list(cache.keys()) == [3, 4, 5]  # 2 was the least recently used
        watches = [weakref.ref(v) for v in values]
        del values, value
        cache.clear()
        assert len(cache) == 0 and cache.get(3) is None
        assert [w() for w in watches] == [None] * 5
        cache[1] = Held()
        assert 1 in cache
    finally:
        gc.enable()
        gc.collect()


async def test_table_frees_a_page_when_the_next_one_comes() -> None:
    """Every LRUCache of the register's table unlinks when cleared: a day's cells (and their
    rendered lines) are freed when the next day is shown, not by a full GC pass."""
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(AdminTable)
        caches = {name: value for name, value in vars(table).items() if isinstance(value, LRUCache)}
        assert set(_TABLE_CACHES) <= set(caches)
        own = {"_query_one_cache", "_box_model_cache"}  # every widget's, rarely cleared
        assert {n for n, c in caches.items() if type(c) is LRUCache} <= own
        first = [
            (
                key,
                [WatchedText(c.plain, style=c.style) if isinstance(c, Text) else c for c in cells],
            )
            for key, cells in rows(30)
        ]
        fill_table(table, first)
        await pilot.pause()
        table.render_lines(Region(0, 0, 160, 36))
        watches = [weakref.ref(c) for _key, cells in first for c in cells if type(c) is WatchedText]
        del first
        gc.disable()
        try:
            fill_table(table, [(f"next-{key}", cells) for key, cells in rows(30)])
            table.render_lines(Region(0, 0, 160, 36))
            alive = sum(w() is not None for w in watches)
        finally:
            gc.enable()
        assert alive == 0
