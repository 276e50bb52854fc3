"""Workload: off-site sign-outs per person over 4 and 12 weeks, drawn as bars."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Sparkline, Static

from kiosk.services.views import WorkloadRow
from kiosk.ui.admin.tables import fill_table, highlighted_key, new_table
from kiosk.ui.admin.widgets import REGULAR_MARK, FeedbackLine, Pane
from kiosk.ui.text import plain

BAR_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARK = "▁▂▃▄▅▆▇█"


def bar(value: int, most: int, width: int = BAR_WIDTH, style: str = "") -> Text:
    """A horizontal bar in eighths of a cell, then the number."""
    if most <= 0 or value <= 0:
        return Text(f"{'':<{width}} {value:>3}")
    eighths = round(value / most * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    drawn = "█" * full + (_EIGHTHS[part] if part else "")
    text = Text(drawn, style=style or "bold")
    text.append(" " * (width - len(drawn)) + f" {value:>3}")
    return text


def weeks(values: tuple[int, ...]) -> str:
    """Twelve weeks as a line of block heights, oldest first (· for none)."""
    most = max(values, default=0)
    if most == 0:
        return "·" * len(values)
    return "".join("·" if v == 0 else _SPARK[min(7, round(v / most * 7))] for v in values)


class WorkloadPane(Pane):
    DEFAULT_CSS = """
    WorkloadPane #workload-intro { padding: 0 1; height: auto; }
    WorkloadPane #workload-table { height: 1fr; }
    WorkloadPane #workload-spark-title { padding: 0 1; }
    WorkloadPane #workload-spark { height: 3; width: 48; margin: 0 1; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: tuple[WorkloadRow, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="workload-intro")
        table = new_table(id="workload-table", cursor_type="row")
        for key, label in (
            ("mark", ""),
            ("who", "Staff"),
            ("four", "Last 4 weeks"),
            ("twelve", "Last 12 weeks"),
            ("weeks", "Week by week"),
            ("recent", "Last 28 days"),
        ):
            table.add_column(label, key=key)
        yield table
        yield Label("", id="workload-spark-title")
        yield Sparkline([], id="workload-spark")
        yield FeedbackLine()

    def load(self) -> None:
        self.db(self.services.devices.workload, self._show)

    def _show(self, rows: tuple[WorkloadRow, ...]) -> None:
        self.rows = rows
        threshold = self.services.settings.regular_use_threshold
        most4 = max((r.last_4_weeks for r in rows), default=0)
        most12 = max((r.last_12_weeks for r in rows), default=0)
        cells = []
        for row in rows:
            style = "bold red" if row.above_threshold else ""
            cells.append(
                (
                    row.staff.code,
                    [
                        Text(REGULAR_MARK, style="bold red") if row.above_threshold else "",
                        f"{row.staff.name} ({row.staff.code})",
                        bar(row.last_4_weeks, most4, style=style),
                        bar(row.last_12_weeks, most12, style=style),
                        weeks(row.weekly),
                        Text(str(row.last_28_days), style=style),
                    ],
                )
            )
        fill_table(self.query_one("#workload-table", DataTable), cells)
        above = sum(1 for r in rows if r.above_threshold)
        first_week = self.now() - timedelta(weeks=12)
        intro = (
            f"Off-site sign-outs per person since {self.local(first_week, '%d %b %Y')} "
            "(a laptop and a work phone taken together count once). "
            f"{REGULAR_MARK}: more than {threshold} in 28 days, which the policy calls "
            "regular use: it needs the line manager's agreement and is monitored for workload."
        )
        if not rows:
            intro = "No off-site sign-outs in the last 12 weeks."
        elif above:
            intro += f" {above} {'people are' if above != 1 else 'person is'} above it."
        self.query_one("#workload-intro", Static).update(intro)
        self._show_weeks()

    @on(DataTable.RowHighlighted, "#workload-table")
    def _show_weeks(self) -> None:
        key = highlighted_key(self.query_one("#workload-table", DataTable))
        row = next((r for r in self.rows if r.staff.code == key), None)
        spark = self.query_one("#workload-spark", Sparkline)
        title = self.query_one("#workload-spark-title", Label)
        if row is None:
            spark.data = []
            title.update("")
            return
        spark.data = list(row.weekly)
        counts = " ".join(str(v) for v in row.weekly)
        title.update(
            plain(f"{row.staff.name}, week by week (oldest first, this week last): {counts}")
        )
