"""The large confirmation shown after the database has committed; it returns home by itself.

The kiosk builds one ConfirmScreen and shows it again for every confirmation (``show``
changes its text): building and styling a new screen for each deposit took longer than
the deposit itself.
"""

from __future__ import annotations

from datetime import datetime
from time import monotonic

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Digits, Static

from kiosk.ui.base import (
    READ_SECONDS,
    KioskScreenMixin,
    PlainBackgroundMixin,
    ReusableScreenMixin,
)
from kiosk.ui.formats import clock_time, long_date
from kiosk.ui.widgets import OK_MARK, assemble, plain, update_if_changed

# Keys that, on the confirmation, mean "back to the start" and nothing more. F2 too: home's
# F2 (Phone in / out) records the next badge's phone on the badge alone, and F2 on the
# confirmation is as often the last person's "press any key" (the key that just did the
# deposit, under their finger) or a second press, not sure the first took: carried home, the
# next colleague's badge, a moment later, recorded their phone in or out unseen. The keys
# that only lead to a screen (F3, F4, F5, F10) are carried home.
HOME_ONLY = frozenset({"enter", "ctrl+m", "ctrl+j", "escape", "f2"})
# A function key within READ_SECONDS of the confirmation being drawn (or typed before it) is
# the second press of a double press on the screen before, not the next person's choice.


class ConfirmScreen(PlainBackgroundMixin, ReusableScreenMixin, KioskScreenMixin, Screen[None]):
    IDLE_FACTOR = None  # it has its own, shorter timer
    AUTO_FOCUS = ""

    def __init__(self, title: str, lines: list[str], at: datetime) -> None:
        super().__init__(classes="confirm-screen")
        self.title_text = title
        self.lines = lines
        self.at = at
        self._timer: Timer | None = None
        self._drawn_at: float | None = None  # time.monotonic(), a key's own clock on Linux

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self._title(), id="confirm-title")
            lines = Static(self._lines(), id="confirm-lines", classes="confirm-line")
            lines.display = bool(self.lines)
            yield lines
            # Centred by its own text-align (no Center container: one node fewer to style,
            # lay out and draw each time the screen is shown on stock Textual).
            yield Digits(self._time(), id="confirm-time")
            yield Static(self._when(), id="confirm-when")
            yield Static(self._hint(), id="confirm-hint")

    def show(self, title: str, lines: list[str], at: datetime) -> None:
        """Another confirmation on this screen (before it is shown again). Only what changed
        is updated (the hint never changes, the time once a minute)."""
        self.title_text, self.lines, self.at = title, lines, at
        self.showing += 1  # a tap held for the last confirmation is not for this one
        if not self.is_mounted:  # composed from these when it is first shown
            return
        update_if_changed(self.query_one("#confirm-title", Static), self._title())
        shown = self.query_one("#confirm-lines", Static)
        update_if_changed(shown, self._lines())
        shown.display = bool(lines)
        clock = self.query_one("#confirm-time", Digits)
        if clock.value != self._time():
            clock.update(self._time())
        update_if_changed(self.query_one("#confirm-when", Static), self._when())
        update_if_changed(self.query_one("#confirm-hint", Static), self._hint())
        if self.is_active:  # shown already: as if shown again
            self.on_screen_resume()

    def _title(self) -> Content:
        return assemble((f"{OK_MARK} ", "bold"), (self.title_text, "bold"))

    def _lines(self) -> Content:
        return Content("\n").join(plain(line) for line in self.lines)

    def _time(self) -> str:
        return clock_time(self.at, self.kiosk.settings.zone)

    def _when(self) -> Content:
        zone = self.kiosk.settings.zone
        return plain(f"Recorded at {clock_time(self.at, zone)}, {long_date(self.at, zone)}.")

    def _hint(self) -> Content:
        seconds = round(self.kiosk.confirm_seconds)
        return plain(f"Back to the start in {seconds} seconds, or press any key.")

    def on_screen_resume(self) -> None:
        self._stop_timer()
        self._drawn_at = None
        self._timer = self.set_timer(self.kiosk.confirm_seconds, self._time_up, name="confirm")
        self.call_after_refresh(self._drawn)

    def on_screen_suspend(self) -> None:
        # A pending timer would fire on the next confirmation (and keeps what it holds).
        self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _drawn(self) -> None:
        self._drawn_at = self.kiosk.confirmation_drawn_at = monotonic()

    def _leave(self, *, by_itself: bool = False) -> None:
        if self.is_current:
            self.kiosk.go_home(by_itself=by_itself)

    def _time_up(self) -> None:
        self._leave(by_itself=True)

    def take_key(self, event: events.Key) -> bool:
        """Any key returns home (the app hands every key to the screen on top here, in the
        order typed). A printable one is the start of the next person's code: it is read
        again on the home screen, into its code field, before any key typed after it (not
        lost, never an action; the rest of a code typed in one burst follows it there). A
        function key that leads to a screen (F3 Sign a laptop out, F10 Admin...) pressed
        once the confirmation has been seen is read again there too, as home's key. Enter,
        Esc and F2 (Phone in / out: it records on the next badge alone) only return home,
        and so does a key typed before it was drawn (a double press on the screen before)."""
        if not self.is_current:
            return False
        again = (event.is_printable and bool(event.character)) or (
            event.key not in HOME_ONLY and self._pressed_here(event)
        )
        self.kiosk.go_home()
        if again and self.kiosk.home is not None:
            self.kiosk.requeue_key(event)
        return True

    def _pressed_here(self, event: events.Key) -> bool:
        drawn = self._drawn_at
        return drawn is not None and event.time >= drawn + READ_SECONDS

    def on_click(self, event: events.Click) -> None:
        self._leave()

    def handle_scan(self, text: str) -> None:
        """The next person is already scanning: go home and handle it there."""
        self.kiosk.go_home()
        self.kiosk.requeue_scan(text)
