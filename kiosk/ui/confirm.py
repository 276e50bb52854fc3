"""The large confirmation shown after the database has committed; it returns home by itself."""

from __future__ import annotations

from datetime import datetime
from time import monotonic

from textual import events
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Static

from kiosk.ui.base import KioskScreenMixin
from kiosk.ui.formats import clock_time, long_date
from kiosk.ui.widgets import OK_MARK, assemble, plain


class ConfirmScreen(KioskScreenMixin, Screen[None]):
    IDLE_FACTOR = None  # it has its own, shorter timer
    AUTO_FOCUS = ""

    def __init__(self, title: str, lines: list[str], at: datetime) -> None:
        super().__init__(classes="confirm-screen")
        self.title_text = title
        self.lines = lines
        self.at = at

    def compose(self) -> ComposeResult:
        zone = self.kiosk.settings.zone
        seconds = round(self.kiosk.confirm_seconds)
        with Vertical(id="confirm-box"):
            yield Static(
                assemble((f"{OK_MARK} ", "bold"), (self.title_text, "bold")), id="confirm-title"
            )
            for line in self.lines:
                yield Static(plain(line), classes="confirm-line")
            with Center():
                yield Digits(clock_time(self.at, zone), id="confirm-time")
            yield Static(
                plain(f"Recorded at {clock_time(self.at, zone)}, {long_date(self.at, zone)}."),
                id="confirm-when",
            )
            yield Static(
                plain(f"Back to the start in {seconds} seconds, or press any key."),
                id="confirm-hint",
            )

    def on_mount(self) -> None:
        self.set_timer(self.kiosk.confirm_seconds, self._leave, name="confirm")
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        self.kiosk.confirmation_drawn_at = monotonic()

    def _leave(self) -> None:
        if self.is_current:
            self.kiosk.go_home()

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self._leave()

    def on_click(self, event: events.Click) -> None:
        self._leave()

    def handle_scan(self, text: str) -> None:
        """The next person is already scanning: go home and handle it there."""
        self.kiosk.go_home()
        self.kiosk.requeue_scan(text)
