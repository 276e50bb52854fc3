"""What is where now: phones in the stores, laptops and work phones off site."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.services.register import RegisterFilter, neutralise
from kiosk.services.views import OffsiteItem, PhoneHolding, RegisterRow
from kiosk.ui.admin.dialogs import ConfirmDialog, Field, FormDialog
from kiosk.ui.admin.files import write_text_file
from kiosk.ui.admin.tables import fill_table, new_table, selected_key
from kiosk.ui.admin.widgets import OVERDUE_MARK, FeedbackLine, Pane
from kiosk.ui.text import plain


@dataclass(frozen=True, slots=True)
class PhoneLine:
    """One line of the Phones view: a phone in a store now, or collected today."""

    store: str
    staff_code: str
    staff_name: str
    since: datetime
    held: bool
    collected_at: datetime | None = None
    recorded_by: str | None = None


def phone_lines(
    held: tuple[PhoneHolding, ...],
    collected: tuple[RegisterRow, ...],
    *,
    after_end_of_day: bool,
) -> list[PhoneLine]:
    """Phones in a store now, then (for people whose phone is not in) today's collections.

    Per store by time during the day; after the end of the school day the phones still held
    come first, ready to print, then the day's collections.
    """
    lines = [
        PhoneLine(
            h.store.name,
            h.staff.code,
            h.staff.name,
            h.since,
            True,
            None,
            h.recorded_by,
        )
        for h in held
    ]
    in_store = {h.staff.code for h in held}
    latest: dict[str, RegisterRow] = {}
    for row in collected:
        if row.voided or row.staff_code is None or row.staff_code in in_store:
            continue
        latest[row.staff_code] = row
    for code, row in latest.items():
        lines.append(
            PhoneLine(
                row.item, code, row.staff_name or code, row.occurred_at, False, row.occurred_at
            )
        )
    if after_end_of_day:
        lines.sort(key=lambda line: (not line.held, line.store, line.since))
    else:
        lines.sort(key=lambda line: (line.store, not line.held, line.since))
    return lines


class PhonesPane(Pane):
    DEFAULT_CSS = """
    PhonesPane #phones-summary { padding: 0 1; height: auto; }
    PhonesPane #phones-table { height: 1fr; }
    PhonesPane .toolbar { height: auto; }
    PhonesPane .toolbar Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("e", "export", "Export CSV"),
        Binding("h", "hand_back", "Handed back"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: list[PhoneLine] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="phones-summary")
        table = new_table(id="phones-table", cursor_type="row", zebra_stripes=True)
        table.add_column("Status", key="status")
        table.add_column("Store", key="store")
        table.add_column("Staff", key="staff")
        table.add_column("Since", key="since")
        table.add_column("Logged by", key="by")
        yield table
        with Horizontal(classes="toolbar"):
            yield Button("Export to CSV…", id="phones-export", compact=True)
            yield Button("Handed back by the office…", id="phones-hand-back", compact=True)
        yield FeedbackLine()

    def end_of_day(self) -> datetime:
        return datetime.combine(
            self.today(), self.services.settings.end_of_day_time, tzinfo=self.zone
        )

    def load(self) -> None:
        today = self.today()

        def fetch() -> tuple[tuple[PhoneHolding, ...], tuple[RegisterRow, ...], bool]:
            held = self.services.phones.phones_now()
            page = self.services.register.day(
                today, RegisterFilter(kind="phone_collected"), limit=5000
            )
            return held, page.rows, self.services.school.is_school_day(today)

        self.db(fetch, self._show)

    def _show(self, data: tuple[tuple[PhoneHolding, ...], tuple[RegisterRow, ...], bool]) -> None:
        held, collected, school_day = data
        # After the end of a school day (by the school's calendar: not on a holiday or an
        # INSET day, when nobody was expected to collect a phone).
        late = school_day and self.now() >= self.end_of_day()
        self.lines = phone_lines(held, collected, after_end_of_day=late)
        rows = []
        for line in self.lines:
            if line.held:
                status = Text("⚠ STILL HELD", style="bold red") if late else Text("In store")
                since = self.local(line.since, "%a %d %b %H:%M")
            else:
                status = Text(f"Collected {self.local(line.collected_at, '%H:%M')}", style="dim")
                since = ""
            rows.append(
                (
                    f"{'held' if line.held else 'collected'}-{line.staff_code}",
                    [
                        status,
                        line.store,
                        f"{line.staff_name} ({line.staff_code})",
                        since,
                        line.recorded_by or "",
                    ],
                )
            )
        fill_table(self.query_one("#phones-table", DataTable), rows)
        per_store = Counter(h.store.name for h in held)
        stores = " · ".join(
            f"{name}: {count} phone{'s' if count != 1 else ''}" for name, count in per_store.items()
        )
        end = self.services.settings.end_of_day
        if late and held:
            summary = (
                f"⚠ After {end}: {len(held)} phone{'s are' if len(held) != 1 else ' is'} "
                f"still held, listed first. {stores}"
            )
        elif held:
            summary = f"Phones in the stores now: {stores}."
        else:
            summary = "No phones are in the stores now."
        self.query_one("#phones-summary", Static).update(plain(summary))

    def action_export(self) -> None:
        today = self.today()
        default = str(Path.cwd() / f"phones-{today.isoformat()}.csv")

        def export(values: dict[str, str]) -> str:
            return write_text_file(values["path"], self._csv(), replace=values["replace"] == "yes")

        self.app.push_screen(
            FormDialog(
                "Export the phones list",
                [
                    Field("path", "Save as (a .csv file)", value=default),
                    Field(
                        "replace",
                        "If the file exists",
                        value="no",
                        options=[("Keep it: stop", "no"), ("Replace it", "yes")],
                    ),
                ],
                export,
                submit="Export",
                activity=self.activity,
            ),
            self._exported,
        )

    def _exported(self, path: Any) -> None:
        if not path:
            return
        if self.app.is_web:
            # In the office's browser (kiosk admin --serve) the server's folders are out of
            # sight: the file is downloaded there too, as the register's export is.
            target = Path(path)
            self.app.deliver_text(target, save_filename=target.name, mime_type="text/csv")
            self.say(
                f"{len(self.lines)} line(s) sent to your browser, and written to {path}", ok=True
            )
            return
        self.say(f"{len(self.lines)} line(s) written to {path}", ok=True)

    def _csv(self) -> str:
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["status", "store", "staff_code", "staff_name", "since", "collected_at"])
        for line in self.lines:
            writer.writerow(
                [
                    "held" if line.held else "collected",
                    neutralise(line.store),
                    neutralise(line.staff_code),
                    neutralise(line.staff_name),
                    self.local(line.since, "%Y-%m-%d %H:%M") if line.held else "",
                    self.local(line.collected_at, "%Y-%m-%d %H:%M"),
                ]
            )
        return out.getvalue()

    @on(Button.Pressed, "#phones-export")
    def _export(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#phones-hand-back")
    def _hand_back(self) -> None:
        self.action_hand_back()

    def action_hand_back(self) -> None:
        """The office hands the chosen phone back from its store (a leaver's badge is refused
        at the kiosk): recorded as its collection, by the admin signed in."""
        table = self.query_one("#phones-table", DataTable)
        key = selected_key(table)
        line = next((x for x in self.lines if x.held and f"held-{x.staff_code}" == key), None)
        if line is None:
            self.no_row(table, "Choose a phone still in a store in the list first.")
            return
        code, name, store = line.staff_code, line.staff_name, line.store

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.db(
                    lambda: self.services.phones.hand_back(code, admin_code=self.admin_code),
                    self._handed_back,
                    group="change",
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Record that the office handed {name} ({code}) their phone back from the "
                f"{store}? It is recorded as collected, by you. For someone at school, their "
                "badge at the kiosk does this.",
                yes="Handed back",
                activity=self.activity,
            ),
            confirmed,
        )

    def _handed_back(self, done: Any) -> None:
        name = done.staff.name if done.staff else "The phone"
        self.say(f"{name}: {done.summary}, handed back by the office.", ok=True)
        self.load()


class OffsitePane(Pane):
    DEFAULT_CSS = """
    OffsitePane #offsite-summary { padding: 0 1; height: auto; }
    OffsitePane #offsite-table { height: 1fr; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items: tuple[OffsiteItem, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="offsite-summary")
        table = new_table(id="offsite-table", cursor_type="row", zebra_stripes=True)
        table.add_column("Status", key="status")
        table.add_column("Device", key="device")
        table.add_column("Who has it", key="who")
        # Before the reason (free text, wide): after it, it was past the right edge of a
        # 100- or 80-column screen, and the office could not see when anything was due.
        table.add_column("Expected back", key="due")
        table.add_column("Since", key="since")
        table.add_column("Reason", key="reason")
        table.add_column("Line manager", key="manager")
        yield table
        yield FeedbackLine()

    def load(self) -> None:
        self.db(self.services.devices.offsite_now, self._show)

    def _show(self, items: tuple[OffsiteItem, ...]) -> None:
        self.items = items
        rows = []
        for item in items:
            status = Text(OVERDUE_MARK, style="bold red") if item.overdue else Text("out")
            rows.append(
                (
                    item.device.tag,
                    [
                        status,
                        f"{item.device.kind_label} {item.device.tag}",
                        f"{item.staff.name} ({item.staff.code})",
                        Text(
                            self.local(item.expected_return),
                            style="bold red" if item.overdue else "",
                        ),
                        self.local(item.since),
                        item.reason,
                        item.line_manager or "",
                    ],
                )
            )
        fill_table(self.query_one("#offsite-table", DataTable), rows)
        overdue = sum(1 for i in items if i.overdue)
        if not items:
            summary = "Nothing is signed out off site."
        else:
            summary = f"{len(items)} device{'s' if len(items) != 1 else ''} off site"
            summary += (
                f", {overdue} overdue (listed first, marked {OVERDUE_MARK})." if overdue else "."
            )
        self.query_one("#offsite-summary", Static).update(summary)

    def selected(self) -> OffsiteItem | None:
        key = selected_key(self.query_one("#offsite-table", DataTable))
        return next((i for i in self.items if i.device.tag == key), None)
