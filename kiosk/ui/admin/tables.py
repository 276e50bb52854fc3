"""The admin console's tables: made (stock or tuned, see kiosk.ui.tuning), filled keeping
their place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from kiosk.ui import tuning
from kiosk.ui.text import plain_cell


def new_table(
    *, id: str | None = None, cursor_type: Any = "row", zebra_stripes: bool = False
) -> DataTable[Any]:
    """A table of the console (piece ``table`` of kiosk.ui.tuning, or Textual's DataTable)."""
    return tuning.table(id=id, cursor_type=cursor_type, zebra_stripes=zebra_stripes)


Row = tuple[str, Sequence[Any]]

# A table whose highlighted row went from the list as it was read again (another console or
# a kiosk changed it): the key of that row, until the admin moves the cursor or chooses a row
# (Enter, a click). Meanwhile no row is chosen (selected_key is None): the cursor falls on
# another row, which the admin never chose; the next key of an action meant for the row
# that went ("d", a note, Enter) would act on that one.
_LOST: WeakKeyDictionary[DataTable[Any], str] = WeakKeyDictionary()
_WATCHED: WeakSet[DataTable[Any]] = WeakSet()
_FILLING: WeakSet[DataTable[Any]] = WeakSet()


def fill_table(table: DataTable[Any], rows: Sequence[Row], *, same_list: bool = True) -> None:
    """Show ``rows`` (key, cells) keeping the highlighted row and the scroll position.

    When the old rows are a prefix of the new ones (new events at the end of the day), the
    changed cells are updated in place and new rows appended; otherwise the table is rebuilt
    and the cursor put back on the same key, if it is still there. If it is not (and
    ``same_list``: the list read again, not another day or filter), no row is chosen until
    the admin moves the cursor (see lost_choice).
    """
    _FILLING.add(table)
    try:
        _fill(table, rows, same_list=same_list)
    finally:
        _FILLING.discard(table)


def _fill(table: DataTable[Any], rows: Sequence[Row], *, same_list: bool) -> None:
    # Data is text: a str cell would be read as markup by DataTable, and a name may hold
    # control or bidi characters. Every cell of every console table passes here.
    rows = [(key, [plain_cell(cell) for cell in cells]) for key, cells in rows]
    old_keys = [row.key.value for row in table.ordered_rows]
    new_keys = [key for key, _ in rows]
    selected = _cursor_key(table)
    if not same_list:
        _LOST.pop(table, None)
    columns = list(table.columns)
    _widen_columns(table, rows)
    if old_keys and old_keys == new_keys[: len(old_keys)]:
        for key, cells in rows[: len(old_keys)]:
            current = table.get_row(key)
            for column, old, new in zip(columns, current, cells, strict=False):
                if not _same(old, new):
                    table.update_cell(key, column, new, update_width=True)
        for key, cells in rows[len(old_keys) :]:
            table.add_row(*cells, key=key)
        return
    scroll_x, scroll_y = table.scroll_x, table.scroll_y
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if selected is not None and selected in new_keys:
        table.move_cursor(row=new_keys.index(selected), scroll=False)
        table.call_after_refresh(table.scroll_to, scroll_x, scroll_y, animate=False)
    elif selected is not None and same_list and table.row_count and table not in _LOST:
        _lose(table, selected)


def _widen_columns(table: DataTable[Any], rows: Sequence[Row]) -> None:
    """Each column as wide as its widest cell, at once: what DataTable works out itself only
    when it is next idle. A frame drawn in between (a loaded machine) kept the narrower
    widths on stock Textual (8.2.8): a row's drawing is cached by an update count that the
    later measuring does not change, so the Off site tab showed "Thu 12 Mar 08" for
    "Thu 12 Mar 08:05", and "Planni" for the reason, until the cursor moved."""
    columns = table.ordered_columns
    for _key, cells in rows:
        for column, cell in zip(columns, cells, strict=False):
            if isinstance(cell, Text):
                width = max(cell_len(line) for line in cell.plain.split("\n"))
                if width > column.content_width:
                    column.content_width = width


def _lose(table: DataTable[Any], key: str) -> None:
    """The admin's row ``key`` went from ``table``: nothing chosen until they move."""
    _LOST[table] = key
    if table not in _WATCHED:
        _WATCHED.add(table)

        def moved() -> None:
            if table not in _FILLING:
                _LOST.pop(table, None)

        table.watch(table, "cursor_coordinate", moved, init=False)


def lost_choice(table: DataTable[Any]) -> str | None:
    """The key of the row the admin had chosen in ``table`` and that went from it as it was
    read again, while they have not chosen another (moved the cursor, Enter, a click)."""
    return _LOST.get(table)


def chosen(table: DataTable[Any]) -> None:
    """The admin chose the highlighted row (Enter, a click on it): it is theirs now."""
    _LOST.pop(table, None)


def _same(old: Any, new: Any) -> bool:
    """Cell equality that sees styles (rich's Text compares only text and spans)."""
    if isinstance(old, Text) and isinstance(new, Text):
        return old.plain == new.plain and old.style == new.style and old.spans == new.spans
    return type(old) is type(new) and bool(old == new)


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row the admin has chosen: the highlighted one, unless the one they had
    chosen went from the list under it (lost_choice): then none."""
    if table in _LOST:
        return None
    return _cursor_key(table)


def highlighted_key(table: DataTable[Any]) -> str | None:
    """The key of the highlighted row, chosen or not: for what a view shows beside the table
    (never for what an action records: that is selected_key)."""
    return _cursor_key(table)


def _cursor_key(table: DataTable[Any]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # no valid cursor
        return None
    return key
