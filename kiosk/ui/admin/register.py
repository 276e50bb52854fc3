"""The Register view: any day's events, filtered and paged in SQL, live, with corrections."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import date, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message as TextualMessage
from textual.timer import Timer
from textual.types import NoActiveAppError
from textual.widget import AwaitMount, Widget
from textual.widgets import Button, DataTable, Input, Select, Static

from kiosk.domain.dates import parse_date
from kiosk.domain.events import EventKind, not_correctable_message
from kiosk.domain.text import field_value
from kiosk.domain.timeutil import local_date
from kiosk.services.register import RegisterFilter
from kiosk.services.views import RegisterPage, RegisterRow
from kiosk.ui.admin.controls import button, field, select
from kiosk.ui.admin.dialogs import Field, FormDialog
from kiosk.ui.admin.tables import Row, chosen, fill_table, new_table, selected_key
from kiosk.ui.admin.widgets import VOID_MARK, FeedbackLine, Pane
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.formats import long_date
from kiosk.ui.text import plain_cell

if TYPE_CHECKING:
    from kiosk.services.app import Services

PAGE_SIZE = 100
LOADING_AFTER = 0.25  # seconds before the title says a day is still loading
FILTERS_AFTER = 1.0  # the filters' row is filled at the latest this long after opening

# (key, heading, width, width on a wide view: None fits the content). Long names are cut so
# Detail stays in view; a view WIDE_FROM columns wide or more has room for longer ones.
COLUMNS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("mark", "", 6, 6),
    ("id", "#", None, None),
    ("time", "Time", None, None),  # 8 wide; 12 on the day the clocks go back (01:30:00 BST)
    ("staff", "Staff", 28, 40),
    ("what", "What", 20, 26),
    ("item", "Device or store", 24, 34),
    ("by", "Recorded by", None, None),
    ("kiosk", "Kiosk", None, None),
    ("detail", "Detail", None, None),
)
WIDE_FROM = 160


def add_columns(table: DataTable[Any], *, wide: bool) -> None:
    """The register's columns, at their widths for a narrow or a wide view."""
    for key, label, width, wide_width in COLUMNS:
        table.add_column(label, key=key, width=wide_width if wide else width)


def first_page(services: Services) -> RegisterPage:
    """The register's first page of today, unfiltered: what the console opens on."""
    today = local_date(services.ctx.clock(), services.settings.zone)
    return services.register.day(today, RegisterFilter(), offset=0, limit=PAGE_SIZE)


class ExportRequested(TextualMessage):
    """The register asks the Export view to export the shown day (with its filters)."""

    def __init__(self, day: date, filters: RegisterFilter) -> None:
        super().__init__()
        self.day = day
        self.filters = filters


class RegisterPane(Pane):
    DEFAULT_CSS = """
    RegisterPane .toolbar { height: 1; }
    RegisterPane .toolbar Button { margin-right: 1; min-width: 8; height: 1; }
    RegisterPane #reg-date { width: 18; margin-right: 1; }
    RegisterPane #reg-title { height: 1; padding: 0 1; text-style: bold; }
    RegisterPane .toolbar Select { width: 1fr; margin-right: 1; height: 1; }
    RegisterPane .toolbar SelectCurrent { height: 1; }
    RegisterPane #reg-table { height: 1fr; }
    RegisterPane #reg-pageinfo { width: 1fr; min-width: 22; padding: 0 1; }
    """

    BINDINGS = [
        Binding("p", "previous_day", "Prev day"),
        Binding("n", "next_day", "Next day"),
        Binding("t", "today", "Today"),
        Binding("g", "pick_date", "Go to date"),
        Binding("f", "filters", "Filter"),
        Binding("x", "clear_filters", "Clear filters", show=False),
        Binding("c", "correct", "Correct"),
        Binding("e", "export_day", "Export day", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
    ]

    LOADS_ON_MOUNT = True

    def __init__(
        self,
        services: Services,
        admin_code: str,
        *,
        id: str | None = None,
        first: RegisterPage | None = None,
    ) -> None:
        super().__init__(services, admin_code, id=id)
        self.day = self.today()
        self.filters = RegisterFilter()
        self.page_offset = 0
        self.rows: dict[str, RegisterRow] = {}
        self.total = 0
        self._shown_day: date | None = None
        self._shown_list: tuple[date, RegisterFilter, int] | None = None
        self._loading_timer: Timer | None = None
        # What the date field held, and what had the focus, when its Enter (or Go) asked for
        # the day (None: no focus to take).
        self._focus_on_show: tuple[str, Widget | None] | None = None
        self._date_left: tuple[str, float] | None = None  # (date Entered, when it left)
        self._choices_asked = False
        self._filters_added = False
        self._wide = False  # the columns' widths (see compose and on_resize)
        # The first page is asked for now, as the console is being built: the query runs in
        # its worker while the widgets are composed and styled (30-60 ms at 1M events), and
        # the rows are usually there for the console's first layout: one frame, with them.
        # Or the console fetched it before building anything (``first``): shown on mount.
        self._first = first if first is not None and first.day == self.day else None
        self._asked_early = False
        if self._first is None:
            with contextlib.suppress(NoActiveAppError):  # made outside a running app: on mount
                self.load()
                self._asked_early = True

    # The toolbars and their compact controls are one line high: said so (not ``auto``), the
    # console's layout does not measure their content to find it out (reflow at opening
    # 12-20 -> 8-14 ms).

    def compose(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield button("◀ Prev day", id="reg-prev")
            yield button("Today", id="reg-today")
            yield button("Next day ▶", id="reg-next")
            yield field(placeholder="dd/mm/yyyy", id="reg-date")
            yield button("Go", id="reg-go")
        # The filters' row, filled once the first page is drawn (see _add_filters): its
        # four lists and button are the costliest widgets of the console to make (a fifth of
        # its opening), and nobody has chosen a filter before seeing the day.
        yield Horizontal(classes="toolbar", id="reg-filters")
        yield Static(long_date(self.day), id="reg-title")
        grid = new_table(id="reg-table", cursor_type="row", zebra_stripes=True)
        self._wide = self.app.size.width >= WIDE_FROM
        add_columns(grid, wide=self._wide)
        yield grid
        # With today's first page already here, the page buttons are made as it will leave
        # them (see _show): set after they are mounted, each would be styled again.
        first = self._first
        with Horizontal(classes="toolbar"):
            yield Static("", id="reg-pageinfo")
            yield button("◀ Page", id="reg-page-prev", disabled=first is not None)
            yield button(
                "Page ▶",
                id="reg-page-next",
                disabled=first is not None and first.offset + len(first.rows) >= first.total,
            )
            yield button("Correct…", id="reg-correct", variant="warning")
            yield button("Export day…", id="reg-export")
        yield FeedbackLine()

    def _add_filters(self) -> AwaitMount | None:
        """The filters' row filled (once): staff, kind, store, device, Clear filters. Their
        lists of staff, stores and devices are fetched once they are there."""
        if (
            self._filters_added
            or not self.is_attached
            or self.screen not in self.app.screen_stack  # closing: being taken down
        ):
            return None
        self._filters_added = True
        row = self.query_one("#reg-filters", Horizontal)
        mounting = row.mount_all(
            [
                select([], prompt="Any staff", id="reg-staff"),
                select(
                    [(kind.label, kind.value) for kind in EventKind],
                    prompt="Any kind",
                    id="reg-kind",
                ),
                select([], prompt="Any store", id="reg-store"),
                select([], prompt="Any device", id="reg-device"),
                button("Clear filters", id="reg-clear"),
            ]
        )
        self._ask_choices()
        return mounting

    def _ask_choices(self) -> None:
        if not self._choices_asked and self._filters_added:
            self._choices_asked = True
            self.call_after_refresh(self.db, self._choices, self._show_choices, group="choices")

    def fail(self, text: str) -> None:
        super().fail(text)
        self._add_filters()  # the first page did not come: the filters are there all the same

    def on_mount(self) -> None:
        # At the latest a second after opening, whatever the first page does.
        self.set_timer(FILTERS_AFTER, self._add_filters)
        if self._first is not None:
            page, self._first = self._first, None
            self._show(page)
        elif not self._asked_early:
            self.load()
        # The filters' lists (every member of staff, store and device) come once the first
        # page is drawn (see _show): fetched alongside it, they slowed the page the admin
        # waits for.

    def on_resize(self, event: events.Resize) -> None:
        """Made narrower or wider than WIDE_FROM: the columns at the widths for it (the rows
        shown again, the cursor on the same event)."""
        wide = event.size.width >= WIDE_FROM
        if wide == self._wide:
            return
        self._wide = wide
        table = self.query_one("#reg-table", DataTable)
        selected = selected_key(table)
        table.clear(columns=True)
        add_columns(table, wide=wide)
        rows = [self._cells(row) for row in self.rows.values()]
        fill_table(table, rows)
        keys = [key for key, _ in rows]
        if selected in keys:
            table.move_cursor(row=keys.index(selected))

    # --- data --------------------------------------------------------------------------------

    def _choices(self) -> tuple[Any, Any, Any]:
        return (
            self.services.people.list_staff(include_retired=True),
            self.services.phones.stores(),
            self.services.people.list_devices(include_retired=True),
        )

    def _show_choices(self, choices: tuple[Any, Any, Any]) -> None:
        staff, stores, devices = choices
        with self.prevent(Select.Changed):
            self.query_one("#reg-staff", Select).set_options(
                (plain_cell(f"{s.name} ({s.code})"), s.code) for s in staff
            )
            self.query_one("#reg-store", Select).set_options(
                (plain_cell(s.name), s.code) for s in stores
            )
            self.query_one("#reg-device", Select).set_options(
                (plain_cell(f"{d.tag} {d.kind_label}"), d.tag) for d in devices
            )

    def load(self) -> None:
        day, filters, offset = self.day, self.filters, self.page_offset
        self.db(
            lambda: self.services.register.day(day, filters, offset=offset, limit=PAGE_SIZE),
            self._show,
        )

    def _show(self, page: RegisterPage) -> None:
        if page.total and page.offset >= page.total:
            # The filter or day shrank under the page we were on: back to the last page.
            self.page_offset = max(0, (page.total - 1) // PAGE_SIZE * PAGE_SIZE)
            self.load()
            return
        self.total = page.total
        # The same list read again (the same day, filters and page), or another one: only
        # in the same list does a highlighted event that went leave no event chosen.
        shown = (page.day, self.filters, page.offset)
        same_list = shown == self._shown_list
        self._shown_list = shown
        self._shown_day = page.day
        self._take_focus()
        self.rows = {str(row.event_id): row for row in page.rows}
        fill_table(
            self.query_one("#reg-table", DataTable),
            [self._cells(r) for r in page.rows],
            same_list=same_list,
        )
        filtered = " (filtered)" if self.filters != RegisterFilter() else ""
        count = f"{page.total} event{'s' if page.total != 1 else ''}{filtered}"
        today = " · today" if page.day == self.today() else ""
        self.query_one("#reg-title", Static).update(f"{long_date(page.day)}{today} · {count}")
        first = page.offset + 1 if page.rows else 0
        last = page.offset + len(page.rows)
        self.query_one("#reg-pageinfo", Static).update(
            f"Rows {first} to {last} of {page.total}" if page.total else "No events on this day."
        )
        self.query_one("#reg-page-prev", Button).disabled = page.offset == 0
        self.query_one("#reg-page-next", Button).disabled = last >= page.total
        drawn = getattr(self.screen, "register_drawn", None)
        if callable(drawn):
            self.call_after_refresh(drawn)
        if not self._filters_added:
            self.call_after_refresh(self._add_filters)
        self._ask_choices()

    def _cells(self, row: RegisterRow) -> Row:
        strike = "strike" if row.voided else ""
        detail = row.detail
        if row.voided:
            detail = f"VOIDED: {field_value(row.void_reason or '')}" + (
                f" | {detail}" if detail else ""
            )
        staff = f"{row.staff_name} ({row.staff_code})" if row.staff_name else ""
        values = [
            str(row.event_id),
            self.local(row.occurred_at, "%H:%M:%S"),
            staff,
            row.what,
            row.item,
            row.recorded_by or "",
            row.kiosk,
        ]
        mark = Text(VOID_MARK, style="bold red") if row.voided else Text("")
        if row.kind == EventKind.CORRECTION.value:
            mark = Text("↺ FIX", style="bold yellow")
        cells: list[Any] = [mark, *(Text(value, style=strike) for value in values)]
        # The detail says VOIDED in plain words, so it is not struck through.
        cells.append(Text(detail))
        return str(row.event_id), cells

    def reset(self, page: RegisterPage | None) -> None:
        """As a new console opens (a kept console, opened again): without ``page``, back to
        today, unfiltered, at the top, the field and message empty, the table focused; with
        ``page`` (today's first page), shown."""
        if page is not None:
            self._show(page)
            return
        today = self.today()
        # Not today's first page, unfiltered: not shown under today's date until it comes.
        other = self._shown_day != today or self.filters != RegisterFilter() or self.page_offset
        self.day = today
        self.page_offset = 0
        self._focus_on_show = None
        self._choices_asked = False  # the filters' lists are fetched again (staff may be new)
        if self.filters != RegisterFilter():
            self.filters = RegisterFilter()
            with self.prevent(Select.Changed):
                for select in self.query(Select):
                    select.clear()
        self.query_one("#reg-date", Input).value = ""
        self.say("")
        table = self.query_one("#reg-table", DataTable)
        if other:
            self._shown_day = self._shown_list = None
            fill_table(table, [])
            self.query_one("#reg-title", Static).update(f"{long_date(today)} · loading…")
            self.query_one("#reg-pageinfo", Static).update("")
        elif table.row_count:
            table.move_cursor(row=0, column=0, scroll=False)
        chosen(table)  # a new session: nothing is left of the last one's choice
        table.scroll_home(animate=False)
        self.screen.set_focus(table, scroll_visible=False)

    # --- navigation --------------------------------------------------------------------------

    def go_to(self, day: date) -> None:
        self.day = day
        self.page_offset = 0
        self.load()
        # Said only if the day is slow to come (a few ms usually): drawing it at once would
        # take the UI thread from the query's worker, for a word nobody has time to read.
        if self._loading_timer is not None:
            self._loading_timer.stop()
        self._loading_timer = self.set_timer(LOADING_AFTER, lambda: self._say_loading(day))

    def _say_loading(self, day: date) -> None:
        self._loading_timer = None
        if self._shown_day != day:
            self.query_one("#reg-title", Static).update(f"{long_date(day)} · loading…")

    def action_previous_day(self) -> None:
        self.go_to(self.day - timedelta(days=1))

    def action_next_day(self) -> None:
        self.go_to(self.day + timedelta(days=1))

    def action_today(self) -> None:
        self.go_to(self.today())

    def action_pick_date(self) -> None:
        self.query_one("#reg-date", Input).focus()

    async def action_filters(self) -> None:
        mounting = self._add_filters()
        if mounting is not None:
            await mounting
        self.query_one("#reg-staff", Select).focus()

    def action_page(self, step: int) -> None:
        offset = self.page_offset + step * PAGE_SIZE
        if offset < 0 or offset >= max(self.total, 1):
            return
        self.page_offset = offset
        self.load()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for select in self.query(Select):
                select.clear()
        self.filters = RegisterFilter()
        self.page_offset = 0
        self.load()

    @on(Button.Pressed, "#reg-prev")
    def _prev(self) -> None:
        self.action_previous_day()

    @on(Button.Pressed, "#reg-next")
    def _next(self) -> None:
        self.action_next_day()

    @on(Button.Pressed, "#reg-today")
    def _today(self) -> None:
        self.action_today()

    @on(Button.Pressed, "#reg-page-prev")
    def _page_prev(self) -> None:
        self.action_page(-1)

    @on(Button.Pressed, "#reg-page-next")
    def _page_next(self) -> None:
        self.action_page(1)

    @on(Button.Pressed, "#reg-clear")
    def _clear(self) -> None:
        self.action_clear_filters()

    @on(Input.Submitted, "#reg-date")
    @on(Button.Pressed, "#reg-go")
    def _go(self) -> None:
        field = self.query_one("#reg-date", Input)
        try:
            day = parse_date(field.value, today=self.today())
        except ValueError as exc:
            self.fail(str(exc))
            return
        self.say("")
        self.go_to(day)
        # The field is emptied and the table takes the focus with the new day's rows (see
        # _show): focus restyles every cell and the footer, and either, done now, would draw
        # the console once more while the query runs (15-20 ms of the UI thread, the query's
        # worker waiting for it), then again with the rows. If the day is slow to come, they
        # change anyway.
        self._focus_on_show = (field.value, self.app.focused)
        self.set_timer(LOADING_AFTER, self._take_focus)

    def _take_focus(self) -> None:
        """The date Entered has been read: the field is emptied and the table takes the
        focus. Not if the office has gone on typing in the field meanwhile (another date:
        the one Entered had a typo) or gone elsewhere: emptied then, what she typed was lost
        and the keys after it went to the table, where a digit shows another view and a
        letter is a shortcut."""
        asked, self._focus_on_show = self._focus_on_show, None
        if asked is None:
            return
        field = self.query_one("#reg-date", Input)
        if (field.value, self.app.focused) != asked:
            return
        field.value = ""
        self.query_one("#reg-table", DataTable).focus()
        self._date_left = (asked[0], monotonic())

    # What can be typed into a date (kiosk.domain.dates.parse_date), Backspace too.
    DATE_KEYS = frozenset("0123456789/-.")

    def refuse_key(self, event: events.Key) -> bool:
        """The console asks before a key goes in (kiosk/ui/keys.py). A key for the date field
        typed within READ_SECONDS of the table taking the focus from it (the date Entered
        had a typo, seen at once): it goes to the field, with the date Entered back in it,
        not to the table, where a digit shows another view. True: taken here."""
        left, self._date_left = self._date_left, None
        if left is None:
            return False
        text, at = left
        table = self.query_one("#reg-table", DataTable)
        if event.time >= at + READ_SECONDS or self.app.focused is not table:
            return False
        if event.key == "backspace":
            value = text[:-1]
        elif event.is_printable and event.character in self.DATE_KEYS:
            value = text + (event.character or "")
        else:
            return False
        field = self.query_one("#reg-date", Input)
        field.value = value
        field.cursor_position = len(value)
        # Her next keys go on where she was, not over the whole date selected on focus.
        field.select_on_focus = False
        field.focus()
        field.call_later(setattr, field, "select_on_focus", True)
        return True

    @on(Select.Changed)
    def _filter(self, event: Select.Changed) -> None:
        value = None if event.select.is_blank() else str(event.value)
        name = {
            "reg-staff": "staff_code",
            "reg-kind": "kind",
            "reg-store": "store_code",
            "reg-device": "device_tag",
        }.get(event.select.id or "")
        if name is None:
            return
        self.filters = replace(self.filters, **{name: value})
        self.page_offset = 0
        self.load()

    # --- corrections and export -----------------------------------------------------------------

    def selected_row(self) -> RegisterRow | None:
        key = selected_key(self.query_one("#reg-table", DataTable))
        return self.rows.get(key) if key is not None else None

    def action_correct(self) -> None:
        row = self.selected_row()
        if row is None:
            self.no_row(
                self.query_one("#reg-table", DataTable),
                "Choose an event in the table first (arrow keys or a click).",
            )
            return
        refused = not_correctable_message(row.kind, row.event_id)
        if refused is not None and row.kind != "unreadable":
            self.fail(refused)
            return
        if row.voided:
            self.fail(f"Event {row.event_id} has already been voided ({row.void_reason}).")
            return
        who = f" by {row.staff_name}" if row.staff_name else ""
        when = self.local(row.occurred_at, "%a %d %b %H:%M")
        described = f"Event {row.event_id}: {row.what}{who}, {when}"
        if row.item:
            described += f" ({row.item})"
        event_id = row.event_id

        def void(values: dict[str, str]) -> Any:
            return self.services.register.void(
                event_id, reason=values["reason"], admin_code=self.admin_code
            )

        dialog = FormDialog(
            "Correct the register",
            [
                Field(
                    "reason", "Why is this entry wrong?", placeholder="e.g. scanned the wrong badge"
                )
            ],
            void,
            submit="Void this entry",
            intro=(
                f"{described}\n\nThe entry stays in the register, struck through, with a "
                "correction naming you and the reason."
            ),
            activity=self.activity,
            careful=f"void event {event_id}",
        )
        self.app.push_screen(dialog, self._corrected)

    def _corrected(self, receipt: Any) -> None:
        if receipt:
            self.say(f"{receipt.summary}. The correction is event {receipt.event_id}.", ok=True)
            self.load()

    @on(Button.Pressed, "#reg-correct")
    def _correct_pressed(self) -> None:
        self.action_correct()

    def action_export_day(self) -> None:
        self.post_message(ExportRequested(self.day, self.filters))

    @on(Button.Pressed, "#reg-export")
    def _export_pressed(self) -> None:
        self.action_export_day()
