"""Export: the register of one day or a date range, as a spreadsheet-safe CSV file."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Static

from kiosk.domain.dates import parse_date
from kiosk.domain.errors import InvalidInput
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.dialogs import ConfirmDialog
from kiosk.ui.admin.files import csv_target, write_with
from kiosk.ui.admin.widgets import FeedbackLine, Pane
from kiosk.ui.text import plain
from kiosk.ui.widgets import Tick

# What a filter's words become in a file name (a code, a kind, a tag): anything else is "-".
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def describe(filters: RegisterFilter) -> str:
    parts = []
    if filters.staff_code:
        parts.append(f"staff {filters.staff_code}")
    if filters.kind:
        parts.append(f"kind {filters.kind.replace('_', ' ')}")
    if filters.store_code:
        parts.append(f"store {filters.store_code}")
    if filters.device_tag:
        parts.append(f"device {filters.device_tag}")
    return ", ".join(parts)


class ExportPane(Pane):
    DEFAULT_CSS = """
    ExportPane { padding: 0 1; }
    ExportPane .row { height: auto; margin-bottom: 1; }
    ExportPane .row Label { width: 22; padding: 1 1 0 0; }
    ExportPane .row Input { width: 1fr; }
    ExportPane #export-from, ExportPane #export-to { width: 20; }
    ExportPane #export-hint { width: 1fr; padding: 1 0 0 1; color: $text-muted; }
    ExportPane .buttons { height: auto; }
    ExportPane .buttons Button { margin-right: 2; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = RegisterFilter()
        # The file name the pane last chose from the dates (None: the admin typed their own):
        # while it stands, it follows the dates (a file named for one day held a week).
        self._named_for: str | None = None

    def compose(self) -> ComposeResult:
        today = self.today()
        yield Static(
            "The register as a CSV file for a spreadsheet: one row per event, in local time, "
            "with voided entries marked. Dates like 10/03/2026.",
            classes="row",
        )
        with Horizontal(classes="row"):
            yield Label("From")
            yield Input(today.strftime("%d/%m/%Y"), id="export-from")
            yield Label("To (inclusive)")
            yield Input(today.strftime("%d/%m/%Y"), id="export-to")
        with Horizontal(classes="row"):
            yield Label("Save as")
            self._named_for = str(self._default_path(today, today))
            yield Input(self._named_for, id="export-path")
        with Horizontal(classes="row"):
            yield Tick("Only events matching the register's filters", id="export-filtered")
            yield Static("", id="export-hint")
        with Horizontal(classes="buttons"):
            yield Button("Export", id="export-go", variant="primary")
        yield FeedbackLine()

    def on_mount(self) -> None:
        self._show_filters()

    @staticmethod
    def _default_path(first: date, last: date, filters: RegisterFilter | None = None) -> Path:
        """The file's name: its dates, and the filters it is limited to (a file named for a
        day that holds one person's events would be taken for the day's register)."""
        name = (
            f"register-{first.isoformat()}"
            if first == last
            else f"register-{first.isoformat()}-to-{last.isoformat()}"
        )
        if filters is not None and filters != RegisterFilter():
            name += "-only-" + _FILE_UNSAFE.sub("-", describe(filters)).strip("-")
        return Path.cwd() / f"{name}.csv"

    def _chosen_filters(self) -> RegisterFilter | None:
        """The filters the export is limited to (None: the whole register)."""
        return self.filters if self.query_one("#export-filtered", Checkbox).value else None

    def prefill(self, day: date, filters: RegisterFilter) -> None:
        """The register's shown day (and its filters) ready to export."""
        self.filters = filters
        self.query_one("#export-from", Input).value = day.strftime("%d/%m/%Y")
        self.query_one("#export-to", Input).value = day.strftime("%d/%m/%Y")
        self.query_one("#export-filtered", Checkbox).value = filters != RegisterFilter()
        self._show_filters()
        self._name_file(day, day)
        self.say(f"Ready to export {day:%A %d %B %Y}. Check the file name, then Export.")
        self.query_one("#export-go", Button).focus()

    def offer(self, filters: RegisterFilter) -> None:
        """Shown (its tab chosen): the register's current filters are offered (ticked when
        there are any), and the cursor is in the first field, so that a date typed at once
        goes there (not to the console's tab keys)."""
        if filters != self.filters:
            self.filters = filters
            self.query_one("#export-filtered", Checkbox).value = filters != RegisterFilter()
            self._show_filters()
            self._follow_name()
        focused = self.screen.focused
        if focused is None or focused not in self.query("*"):  # (prefill chose the button)
            self.query_one("#export-from", Input).focus()

    def _show_filters(self) -> None:
        text = describe(self.filters)
        box = self.query_one("#export-filtered", Checkbox)
        box.disabled = not text
        if not text:
            box.value = False
        self.query_one("#export-hint", Static).update(
            plain(f"({text})" if text else "(the register has no filters set)")
        )

    def _name_file(self, first: date, last: date) -> None:
        path = self.query_one("#export-path", Input)
        self._named_for = str(self._default_path(first, last, self._chosen_filters()))
        path.value = self._named_for

    @on(Input.Changed, "#export-from, #export-to")
    @on(Checkbox.Changed, "#export-filtered")
    def _follow_name(self) -> None:
        """The file name the pane chose follows the dates typed and whether the register's
        filters are kept (not a name the admin typed)."""
        if self._named_for is None:
            return
        if self.query_one("#export-path", Input).value != self._named_for:
            self._named_for = None  # edited by hand: theirs from now on
            return
        today = self.today()
        try:
            first = parse_date(self.query_one("#export-from", Input).value, today=today)
            last = parse_date(self.query_one("#export-to", Input).value, today=today)
        except ValueError:
            return  # not a date yet (being typed)
        if first <= last:
            self._name_file(first, last)

    @on(Input.Submitted, "#export-from, #export-to")
    def _next_field(self, event: Input.Submitted) -> None:
        """Enter in a date moves on to the next field, as in the console's forms; Enter in
        the file name (the last field) or the button exports. (Enter after the From date
        exported at once, under the name of the day the tab opened with.)"""
        event.stop()
        following = "#export-to" if event.input.id == "export-from" else "#export-path"
        self.query_one(following, Input).focus()

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-go")
    def export(self) -> None:
        today = self.today()
        try:
            first = parse_date(self.query_one("#export-from", Input).value, today=today)
            last = parse_date(self.query_one("#export-to", Input).value, today=today)
        except ValueError as exc:
            self.fail(str(exc))
            return
        if last < first:
            self.fail("The end date is before the start date.")
            return
        path = self.query_one("#export-path", Input).value
        filters = (
            self.filters if self.query_one("#export-filtered", Checkbox).value else RegisterFilter()
        )
        try:
            target = csv_target(path)
        except InvalidInput as exc:
            self.fail(exc.message)
            return
        if target.exists() and not target.is_dir():

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._write(str(target), first, last, filters, replace=True)

            self.app.push_screen(
                ConfirmDialog(
                    f"{target} already exists. Replace it?", yes="Replace", activity=self.activity
                ),
                confirmed,
            )
            return
        self._write(str(target), first, last, filters, replace=False)

    def _write(
        self, path: str, first: date, last: date, filters: RegisterFilter, *, replace: bool
    ) -> None:
        counted: list[int] = []

        def run() -> tuple[Path, int]:
            target = write_with(
                path,
                lambda fh: counted.append(
                    self.services.register.export_csv(fh, first, last, filters)
                ),
                replace=replace,
            )
            return target, counted[0]

        self.say("Exporting…")
        # Locked meanwhile (the export outlasting the idle time), the export goes on and
        # what it wrote is shown by the console opened next.
        self.db(run, self._written, group="export", kept=_written_text, kept_as="The export")

    def _written(self, result: tuple[Path, int]) -> None:
        target, count = result
        events = f"{count} event{'s' if count != 1 else ''}"
        if self.app.is_web:
            # In the office's browser (kiosk admin --serve): the file is downloaded there too.
            self.app.deliver_text(target, save_filename=target.name, mime_type="text/csv")
            # What matters to the office first: a long path is cut at the screen's edge.
            self.say(f"{events} sent to your browser, and written to {target}", ok=True)
            return
        self.say(f"{events} written to {target}", ok=True)


def _written_text(result: tuple[Path, int]) -> str:
    target, count = result
    return f"the export wrote {count} event{'s' if count != 1 else ''} to {target}."
