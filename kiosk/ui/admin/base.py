"""Shared pieces of the admin console: database work in thread workers, plain-words
messages, dates typed the British way, and tables that refresh without losing their place."""

from __future__ import annotations

import contextlib
import logging
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.css.query import NoMatches
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import Button, DataTable, Footer, Input, Select, Static
from textual.widgets._footer import FooterKey
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay
from textual.widgets.data_table import RowKey
from textual.worker import get_current_worker

from kiosk.domain.errors import KioskError
from kiosk.domain.text import display_text
from kiosk.domain.timeutil import format_local, local_date
from kiosk.ui.collect import collect_once_drawn
from kiosk.ui.text import plain_cell
from kiosk.ui.textual_fixes import forget_thread_worker

if TYPE_CHECKING:
    from kiosk.services.app import Services

log = logging.getLogger("kiosk.ui.admin")

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

UNEXPECTED = (
    "Something unexpected went wrong; the details are in the kiosk's log file. Please try again."
)

# Marks that do not rely on colour alone.
OVERDUE_MARK = "⚠ OVERDUE"
VOID_MARK = "✗ VOID"
REGULAR_MARK = "▲ REGULAR USE"


_TOKENS: weakref.WeakKeyDictionary[Any, dict[str, object]] = weakref.WeakKeyDictionary()


def run_db(
    owner: Any,
    call: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None],
    *,
    group: str = "db",
) -> None:
    """Run ``call`` (a service call) in a thread worker of ``owner`` (a widget or screen).

    ``done`` or ``failed`` (with a message fit for a person) runs afterwards on the UI thread,
    only if ``owner`` is still on screen and no newer call of the same group has started.
    No exception ever escapes to Textual: an unexpected one is logged, and a plain message
    is shown.
    """
    app: App[Any] = owner.app
    tokens = _TOKENS.setdefault(owner, {})
    token = object()
    tokens[group] = token

    def apply(callback: Callable[[Any], None], value: Any) -> None:
        if tokens.get(group) is not token or not owner.is_attached:
            return
        callback(value)
        collect_once_drawn(app)  # while the office reads what it shows

    def deliver(callback: Callable[[Any], None], value: Any) -> None:
        if get_current_worker().is_cancelled:
            return
        # Run ``apply`` in the owner's own message loop, so an error in it is handled like
        # any other handler's (logged, the console locked) instead of vanishing in this thread.
        with contextlib.suppress(RuntimeError):  # the app is closing
            app.call_from_thread(owner.call_later, apply, callback, value)

    def work() -> None:
        try:
            result = call()
        except KioskError as exc:
            deliver(failed, exc.message)
            return
        except Exception:
            log.exception("admin console: %s failed", group)
            deliver(failed, UNEXPECTED)
            return
        deliver(done, result)

    def job() -> None:
        try:
            work()
        finally:
            forget_thread_worker()  # or the pool thread keeps ``owner`` alive

    owner.run_worker(job, thread=True, group=group, exclusive=True, exit_on_error=False)


def forget_calls(owner: Any) -> None:
    """The answers of ``owner``'s calls still in flight (``run_db``) are dropped when they
    come: e.g. a kept console closed, whose next opening is another admin's session."""
    tokens = _TOKENS.get(owner)
    if tokens is not None:
        tokens.clear()


class Message(Static):
    """One line of feedback under a view: what happened, or what went wrong, in words."""

    DEFAULT_CSS = """
    Message {
        height: auto;
        min-height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    Message.-error { color: $text-error; text-style: bold; }
    Message.-ok { color: $text-success; }
    """

    _said: tuple[str, bool, bool] = ("", False, False)

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        # Saying nothing again (each date gone to clears the line) is not a change: an update
        # lays the view out again (its height is auto) before the new day is drawn.
        said = (text, error, ok and not error)
        if said == self._said:
            return
        self._said = said
        prefix = "⚠ " if error else ("✓ " if ok else "")
        self.update(Text(prefix + display_text(text, multiline=True)))
        self.set_class(error, "-error")
        self.set_class(ok and not error, "-ok")


class Pane(Vertical):
    """One view of the console. ``load()`` fetches what it shows, in a worker."""

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    """

    LOADS_ON_MOUNT = False
    """True when the view fetches its data itself when mounted (else when first shown)."""

    def __init__(self, services: Services, admin_code: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.admin_code = admin_code

    # --- helpers ------------------------------------------------------------------------

    @property
    def zone(self) -> Any:
        return self.services.settings.zone

    def now(self) -> datetime:
        return self.services.ctx.clock()

    def today(self) -> date:
        return local_date(self.now(), self.zone)

    def local(self, moment: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
        return "" if moment is None else format_local(moment, self.zone, fmt)

    @property
    def message(self) -> Message:
        return self.query_one(Message)

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.say(text, error=error, ok=ok)

    def fail(self, text: str) -> None:
        self.say(text, error=True)

    def db(
        self,
        call: Callable[[], T],
        done: Callable[[T], None],
        *,
        group: str = "load",
        failed: Callable[[str], None] | None = None,
    ) -> None:
        run_db(self, call, done, failed or self.fail, group=group)

    def activity(self) -> None:
        """Input in a dialog of this view keeps the console awake."""
        touch = getattr(self.screen, "touch", None)
        if callable(touch):
            touch()

    # --- overridden by each view -----------------------------------------------------------

    def load(self) -> None:
        """Fetch and show the view's data (called when shown and when events arrive)."""


class AdminFooter(Footer):
    """Textual's Footer, cheaper to keep up to date.

    Footer builds its keys anew whenever the screen's bindings may have changed (each focus
    change, each mount): opening the console did that three times, and each FooterKey was
    styled three times as it mounted (its ``compact`` starts True, adding ``-compact``, then
    the footer's False removes it). Here the keys are rebuilt only when what the footer
    shows changed, and each starts with the footer's ``compact``: styled once.
    """

    _shown: tuple[Any, ...] | None = None

    def _showing(self) -> tuple[Any, ...] | None:
        """What the footer shows (every active binding, enabled or not, and its options)."""
        if not self._bindings_ready:
            return None
        bindings = tuple(
            (binding, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
        )
        return bindings, self.compact, self.show_command_palette

    async def recompose(self) -> None:
        if not self.is_attached or self._pruning:
            return
        showing = self._showing()
        if showing is not None and showing == self._shown:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._shown = self._showing()
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget


# --- light controls ----------------------------------------------------------------------
#
# Compact buttons, fields and lists set their ``compact``/``flat``/``variant`` reactives as
# they are made, and each such setting styled the widget (an unattached one, 0.5 ms each),
# before it was styled again on mounting. Given as classes from the start, the reactives find
# them already there: each widget is styled once, as it mounts. They look and behave the same.
# ``compact`` toggles its class from its default first (False: the preset class removed, the
# widget styled), then to the value given (added back, styled again): so these widgets are
# made with the default and made compact after, without a restyle (``_compact``).


def _classes(*names: str, extra: str | None = None) -> str:
    return " ".join([*names, *(extra.split() if extra else ())])


Compactable = TypeVar("Compactable", Button, Input, Select[Any])


def _compact(widget: Compactable) -> Compactable:
    """``widget`` (made with ``compact=False``) compact, as ``compact=True`` would have made
    it: the reactive set and its class added, without styling it (it is styled as it mounts)."""
    widget.set_reactive(type(widget).compact, True)
    widget.add_class("-textual-compact", update=False)
    return widget


def button(
    label: str,
    *,
    id: str | None = None,
    variant: Any = "default",
    classes: str | None = None,
    disabled: bool = False,
) -> Button:
    """A compact Button (what the console's toolbars use), styled once."""
    # Button adds its variant's class only when it is not the default one.
    shown = () if variant == "default" else (f"-{variant}",)
    preset = _classes("-style-default", *shown, extra=classes)
    return _compact(Button(label, variant, id=id, classes=preset, disabled=disabled))


def field(*, id: str | None = None, placeholder: str = "", classes: str | None = None) -> Input:
    """A compact Input, styled once."""
    return _compact(Input(placeholder=placeholder, id=id, classes=classes))


class PlainSelectCurrent(SelectCurrent):
    """SelectCurrent drawn by itself: the value (or the prompt, dimmed) and the arrow, as
    SelectCurrent's three Statics draw them (one widget, not four, to style and lay out:
    a console opens with four of them). The value is shown as plain text, cut to its width
    with an ellipsis (a Static would wrap it, and read it as markup)."""

    DEFAULT_CSS = """
    PlainSelectCurrent {
        color: $foreground 50%;
        &.-has-value { color: $foreground; }
        & > .plain-select-current--arrow { color: $foreground 50%; }
    }
    """

    COMPONENT_CLASSES = {"plain-select-current--arrow"}

    def compose(self) -> ComposeResult:
        return iter(())

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1  # one line, though it is a Horizontal with no children (which measure 0)

    def update(self, label: Any) -> None:
        self.label = label
        self.has_value = label is not Select.NULL
        self.refresh()

    def render(self) -> Content:
        label = self.placeholder if isinstance(self.label, NoSelection) else self.label
        if isinstance(label, Text):
            text = Content.from_rich_text(label)
        elif isinstance(label, Content):
            text = label
        else:
            text = Content(str(label))
        parent = self.parent
        up = parent is not None and parent.has_class("-expanded")
        arrow = Content.styled(
            "▲" if up else "▼", self.get_visual_style("plain-select-current--arrow")
        )
        # The arrow's column, and the space before it (its left padding in SelectCurrent).
        width = max(0, self.size.width - 2)
        return Content.assemble(text.truncate(width, ellipsis=True, pad=True), " ", arrow)


class LazySelect(Select[T]):
    """A compact Select whose drop-down list is built the first time it is opened.

    Textual's Select mounts its list (an OptionList holding every option: all the staff, for
    the register's staff filter) with the Select, though most are never opened. Here only the
    current value is mounted, as one widget (PlainSelectCurrent); the list is mounted, filled
    and highlighted when the Select is first expanded (Enter, space, a click). Choosing,
    ``value``, ``clear()``, ``set_options`` and ``Changed`` behave as in Select.
    """

    def __init__(
        self,
        options: Iterable[tuple[Any, T]],
        *,
        prompt: str = "Select",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(options, prompt=prompt, id=id, classes=classes)
        _compact(self)
        self._first_on_open = False

    def compose(self) -> ComposeResult:
        yield PlainSelectCurrent(self.prompt)

    def _overlay(self) -> SelectOverlay | None:
        try:
            return self.query_one(SelectOverlay)
        except NoMatches:
            return None

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:
            super()._setup_options_renderables()

    def _watch_value(self, value: Any) -> None:
        if self._overlay() is not None:
            super()._watch_value(value)
            return
        # Select's own, without the list's highlight (set when the list is built).
        self._value = value
        try:
            current = self.query_one(SelectCurrent)
        except NoMatches:
            return
        if value == self.NULL:
            current.update(self.NULL)
        else:
            for prompt, option in self._options:
                if option == value:
                    current.update(prompt)
                    break
        self.post_message(self.Changed(self, value))

    def _watch_prompt(self, prompt: str) -> None:
        if self._overlay() is not None:
            super()._watch_prompt(prompt)
            return
        if not self.is_mounted:
            return
        current = self.query_one(SelectCurrent)
        current.placeholder = prompt
        if self._allow_blank and self.value == self.NULL:
            current.update(self.NULL)

    def _watch_expanded(self, expanded: bool) -> None:
        if expanded and self._overlay() is None:
            self.call_later(self._build_overlay)
            return
        super()._watch_expanded(expanded)
        with contextlib.suppress(NoMatches):
            self.query_one(SelectCurrent).refresh()  # its arrow points the other way

    def action_show_overlay(self) -> None:
        if self._overlay() is None:
            self._first_on_open = True
            self.query_one(SelectCurrent).has_value = True
            self.expanded = True
            return
        super().action_show_overlay()

    async def _build_overlay(self) -> None:
        if self._overlay() is None:
            built = SelectOverlay(type_to_search=self._type_to_search).data_bind(
                compact=Select.compact
            )
            await self.mount(built)
            self._setup_options_renderables()
            if self.value != self.NULL:
                for index, (_prompt, option) in enumerate(self._options):
                    if option == self.value:
                        built.highlighted = index
                        break
        if self.expanded:
            super()._watch_expanded(True)
            overlay = self._overlay()
            if self._first_on_open and overlay is not None and overlay.highlighted is None:
                overlay.action_first()
        self._first_on_open = False


# --- tables ------------------------------------------------------------------------------


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

# DataTable's caches (LRUCache each, made in its __init__; see AdminTable.__init__).
_TABLE_CACHES = (
    "_row_render_cache",
    "_cell_render_cache",
    "_row_renderable_cache",
    "_line_cache",
    "_offset_cache",
    "_ordered_row_cache",
)


class AdminTable(DataTable[Any]):
    """A DataTable that repaints when its column widths settle.

    DataTable measures new cells when it is next idle; a row painted before that (likely on
    a busy machine) stays cached at the old widths, cut short. Repaint when widths change.
    """

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

    def _column_widths(self) -> list[int]:
        return [column.get_render_width(self) for column in self.columns.values()]

    async def _on_idle(self, event: events.Idle) -> None:
        before = self._column_widths()
        await super()._on_idle(event)
        if self._column_widths() != before:
            self.notify_style_update()  # drops the cached cells, repaints


def _is_plain_line(cell: object) -> TypeGuard[Text]:
    """A rich Text of one line without tabs (its width is the width of its text)."""
    return isinstance(cell, Text) and "\n" not in cell.plain and "\t" not in cell.plain


Row = tuple[str, Sequence[Any]]


def fill_table(table: DataTable[Any], rows: Sequence[Row]) -> None:
    """Show ``rows`` (key, cells) keeping the highlighted row and the scroll position.

    When the old rows are a prefix of the new ones (new events at the end of the day), the
    changed cells are updated in place and new rows appended; otherwise the table is rebuilt
    and the cursor put back on the same key, if it is still there.
    """
    # Data is text: a str cell would be read as markup by DataTable, and a name may hold
    # control or bidi characters. Every cell of every console table passes here.
    rows = [(key, [plain_cell(cell) for cell in cells]) for key, cells in rows]
    old_keys = [row.key.value for row in table.ordered_rows]
    new_keys = [key for key, _ in rows]
    selected = selected_key(table)
    columns = list(table.columns)
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


def _same(old: Any, new: Any) -> bool:
    """Cell equality that sees styles (rich's Text compares only text and spans)."""
    if isinstance(old, Text) and isinstance(new, Text):
        return old.plain == new.plain and old.style == new.style and old.spans == new.spans
    return type(old) is type(new) and bool(old == new)


def selected_key(table: DataTable[Any]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # no valid cursor
        return None
    return key


# --- dates -------------------------------------------------------------------------------

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\s*$")


def parse_date(text: str, today: date) -> date:
    """A date typed by a person: 2026-03-10, 10/03/2026, 10/3/26, today, yesterday, tomorrow."""
    raw = text.strip().lower()
    if not raw:
        raise ValueError("Type a date, e.g. 10/03/2026.")
    words = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if raw in words:
        return today + timedelta(days=words[raw])
    match = _DMY.match(raw)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            if year < 100:
                year += 2000
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        pass
    raise ValueError(f"{text.strip()!r} is not a date. Type it like 10/03/2026 or 2026-03-10.")


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
