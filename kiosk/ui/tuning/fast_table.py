"""Tuning piece ``table``: the console's DataTable, drawn faster and freeing what it cached.

The fast paths build the same segments DataTable builds (styles and mouse metadata included)
for the usual cell and row of the console's tables; anything else goes DataTable's way.
tests/ui/test_admin_table.py checks both give the same lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

K = TypeVar("K")
V = TypeVar("V")


class UnlinkedLRUCache(LRUCache[K, V]):
    """Textual's LRUCache, whose ``clear()`` unlinks its entries first.

    LRUCache keeps its entries in a ring (each entry a list ``[prev, next, key, value]``);
    ``clear()`` drops the dict and leaves the ring to the garbage collector, with every value
    in it. A DataTable clears its caches on each new page: some 3,000 objects (rendered cells,
    lines, rows) a page, freed only by the full passes (40-60k objects at a time, 50-100 ms,
    in the middle of a view change). Unlinked, they are freed at once."""

    def clear(self) -> None:
        entries = getattr(self, "_cache", None)
        if isinstance(entries, dict):
            for entry in entries.values():
                if type(entry) is list:
                    entry.clear()
        super().clear()


SegmentLines = list[list[Segment]]

# DataTable's caches (LRUCache each, made in its __init__; see TunedTable.__init__).
_TABLE_CACHES = (
    "_row_render_cache",
    "_cell_render_cache",
    "_row_renderable_cache",
    "_line_cache",
    "_offset_cache",
    "_ordered_row_cache",
)


class SettlingTable(DataTable[Any]):
    """Tuning piece ``table-widths`` (a work-around of a Textual behaviour, not a speed
    piece): a DataTable that repaints when its column widths settle.

    DataTable measures new cells when it is next idle; a row painted before that (likely on
    a busy machine) stays cached at the old widths, cut short. Repaint when widths change.
    """

    def _column_widths(self) -> list[int]:
        return [column.get_render_width(self) for column in self.columns.values()]

    async def _on_idle(self, event: events.Idle) -> None:
        before = self._column_widths()
        await super()._on_idle(event)
        if self._column_widths() != before:
            self.notify_style_update()  # drops the cached cells, repaints


class TunedTable(SettlingTable):
    """Tuning piece ``table``: the console's table drawn faster (and repainted when its
    widths settle, as SettlingTable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Its caches free what they held when cleared (see UnlinkedLRUCache).
        for name in _TABLE_CACHES:
            cache = getattr(self, name, None)
            if type(cache) is LRUCache:
                setattr(self, name, UnlinkedLRUCache(cache.maxsize))

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell rendering, with a short cut for the usual cell: one line of plain
        text with one style. DataTable renders every cell through rich (padding, wrapping,
        cropping: about 0.15 ms a cell, so 60-100 ms for a screenful of a new day); the same
        segments are built here directly. Anything else goes the usual way."""
        fast = self._render_plain_cell(row_index, column_index, base_style, width, cursor, hover)
        if fast is not None:
            return fast
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    def _render_plain_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        if row_index < 0 or column_index < 0 or self.fixed_rows or self.fixed_columns:
            return None
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        if cache_key in cache:
            return cache[cache_key]
        row = self.rows.get(row_key)
        if row is None or row.height != 1:
            return None
        _label, cells = self._get_row_renderables(row_index)
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        if (
            not _is_plain_line(cell)
            or cell._spans
            or cell.overflow not in (None, "fold", "crop")
            or cell.justify not in (None, "default", "left")
        ):
            return None
        assert isinstance(cell, Text)
        plain = cell.plain
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style += component_style
        padding = self.cell_padding
        inner = max(0, width - 2 * padding)
        if cell_len(plain) > inner:
            plain = set_cell_size(plain, inner)
        text_style = self.app.console.get_style(cell.style) if cell.style else None

        def styled(style: Style | None) -> Style:
            # What rich's Styled does: pre_style + the segment's style + post_style.
            combined = pre_style + style
            return combined + post_style if post_style else combined

        blank = styled(Style.null())
        line = [Segment(" " * padding, blank)] if padding else []
        line.append(Segment(plain, styled(text_style) if text_style else styled(None)))
        fill = inner - cell_len(plain)
        if fill > 0:
            line.append(Segment(" " * fill, blank))
        if padding:
            line.append(Segment(" " * padding, blank))
        lines = [line]
        cache[cache_key] = lines
        return lines

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        """DataTable's line of a row, with a short cut for the usual row of the console's
        tables: one line of plain one-line Text cells, a row cursor, no labels or fixed
        columns. DataTable works out, for every line, styles it does not use for such a row
        (the header's and the background's, each from the CSS of every ancestor) and renders
        each cell on its own; here the row's shared styles are worked out once and its cells
        laid out in one pass (about a third of the time of a new page's first frame). The
        segments are the same, styles and mouse metadata included; anything else goes the
        usual way."""
        fast = self._render_plain_row(row_key, line_no, base_style, cursor_location, hover_location)
        if fast is not None:
            return fast
        return super()._render_line_in_row(
            row_key, line_no, base_style, cursor_location, hover_location
        )

    def _render_plain_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines] | None:
        cursor_type = self.cursor_type
        if (
            line_no != 0
            or cursor_type != "row"
            or self.fixed_rows
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return None
        row_index = self._row_locations.get(row_key)
        if row_index is None:  # the header, or a row gone
            return None
        show_cursor = self.show_cursor
        show_hover = self._show_hover_cursor
        cache_key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            cursor_type,
            show_cursor,
            show_hover,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._row_render_cache
        if cache_key in cache:
            return cache[cache_key]
        row = self.rows.get(row_key)
        if row is None or row.height != 1:
            return None
        _label, cells = self._get_row_renderables(row_index)
        columns = self.ordered_columns
        if len(cells) != len(columns):
            return None
        texts: list[Text] = []
        for cell in cells:
            if (
                not _is_plain_line(cell)
                or cell._spans
                or cell.overflow not in (None, "fold", "crop")
                or cell.justify not in (None, "default", "left")
            ):
                return None
            texts.append(cell)
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            show_cursor,
            show_hover,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # DataTable's cell style is ((row style + the cell's meta) + component style) + the
        # text's style + post style; with no other meta about, the meta can come last.
        if row_style._meta or component_style._meta or post_style._meta:
            return None
        shared = row_style + component_style
        padding = self.cell_padding
        pad = " " * padding
        get_style = self.app.console.get_style
        scrollable: SegmentLines = []
        widths: list[int] = []
        for column_index, (column, cell) in enumerate(zip(columns, texts, strict=True)):
            width = column.get_render_width(self)
            widths.append(width)
            text_style = get_style(cell.style) if cell.style else None
            if text_style is not None and text_style._meta:
                return None
            meta = self._cell_meta(row_index, column_index)
            blank = (shared + post_style if post_style else shared) + meta
            styled = shared + text_style if text_style else shared
            if post_style:
                styled = styled + post_style
            styled = styled + meta
            plain = cell.plain
            inner = max(0, width - 2 * padding)
            if cell_len(plain) > inner:
                plain = set_cell_size(plain, inner)
            line = [Segment(pad, blank)] if padding else []
            line.append(Segment(plain, styled))
            fill = inner - cell_len(plain)
            if fill > 0:
                line.append(Segment(" " * fill, blank))
            if padding:
                line.append(Segment(pad, blank))
            scrollable.append(line)
        # DataTable's extension of the row to the table's width, as it builds it.
        remaining = max(0, self.size.width - (sum(widths) + self._row_label_column_width))
        extend_style, _ = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover_location.row == (row_index or 0),
            cursor,
            show_cursor,
            show_hover,
            False,
            False,
        )
        extend_style = row_style + extend_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable.append([Segment(" " * remaining, extend_style)])
        row_pair: tuple[SegmentLines, SegmentLines] = ([], scrollable)
        cache[cache_key] = row_pair
        return row_pair

    _cell_metas: dict[tuple[int, int], Style] | None = None

    def _cell_meta(self, row_index: int, column_index: int) -> Style:
        """The mouse metadata of a cell (its row and column), made once per place."""
        metas = self._cell_metas
        if metas is None:
            metas = self._cell_metas = {}
        key = (row_index, column_index)
        meta = metas.get(key)
        if meta is None:
            if len(metas) > 10_000:
                metas.clear()
            meta = metas[key] = Style.from_meta({"row": row_index, "column": column_index})
        return meta

    _row_styles: dict[tuple[int, Style], Style] | None = None
    _render_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._row_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._row_styles = None
            self._render_style = None

    @property
    def rich_style(self) -> Style:
        """DataTable asks for its own style (worked out from every ancestor's CSS) for each
        line it draws; within one render it is worked out once."""
        if self._row_styles is None:
            return super().rich_style
        if self._render_style is None:
            self._render_style = super().rich_style
        return self._render_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable works a row's style out from the CSS for every line it draws (the same
        two zebra styles, 0.1 ms each); within one render they are worked out once."""
        kind = -1 if row_index < max(0, self.fixed_rows) else row_index % 2
        if row_index == -1:
            kind = -2
        cache = self._row_styles
        if cache is None:
            return super()._get_row_style(row_index, base_style)
        key = (kind, base_style)
        style = cache.get(key)
        if style is None:
            style = cache[key] = super()._get_row_style(row_index, base_style)
        return style

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Column widths of new rows: a one-line Text cell is as wide as its text, so it is
        not measured through rich (about 20 ms for a page of 100 rows). Other rows (labels,
        auto height, other renderables) are measured by DataTable as usual."""
        rest: list[RowKey] = []
        columns = self.ordered_columns
        for row_key in new_rows:
            row_index = self._row_locations.get(row_key)
            row = self.rows.get(row_key)
            if row_index is None or row is None:
                continue
            if row.label is not None or row.auto_height:
                rest.append(row_key)
                continue
            _label, cells = self._get_row_renderables(row_index)
            texts = [cell for cell in cells if _is_plain_line(cell)]
            if len(texts) != len(cells):
                rest.append(row_key)
                continue
            for column, cell in zip(columns, texts, strict=False):
                width = cell_len(cell.plain)
                if width > column.content_width:
                    column.content_width = width
        super()._update_dimensions(rest)  # also sets the scrollable size


def _is_plain_line(cell: object) -> TypeGuard[Text]:
    """A rich Text of one line without tabs (its width is the width of its text)."""
    return isinstance(cell, Text) and "\n" not in cell.plain and "\t" not in cell.plain
