"""The cold-start baseline: a bare Textual app with the kiosk home screen's widgets, and the
probe that times a start-up (bare or kiosk) from inside the started process.

``python -m bench.ui_bench`` (the ``ui`` suite) starts each in a fresh process on a
pseudo-terminal, many times, through :func:`child`:

* ``bare``: :class:`BareApp`: the same widget tree as the kiosk's home screen (a masthead of
  two Statics, Digits, three Statics, the scan Input, six Buttons in a Grid, a Static: the
  count is checked against the kiosk's own, in the results' notes), Textual's default styles,
  no database, no configuration, no log file.
* ``kiosk``: the ``kiosk`` command itself (``kiosk.cli.main([])``: configuration from the
  environment, log file, ``KioskApp``), with :class:`KioskApp` swapped for a subclass that
  only adds the probe. The database is the one ``KIOSK_DATABASE_URL`` names.

The probe (:class:`StartProbe`, mixed into both) waits for Textual's ``Ready`` event (sent
after the first frame has been composed and written to the terminal), then for the focus to
be on the scan field (``Input#scan``), then for the screen to have drawn everything pending
(``call_after_refresh``: the focused field's cursor included), and writes
``time.monotonic()`` (CLOCK_MONOTONIC: the same clock in the parent, which noted it just
before starting the process), the CPU time the process has used so far (less sensitive to
other work on the machine than the wall clock) and its peak RSS so far (VmHWM) to the
result file.
The kiosk then waits until its database has opened (in its worker thread, after the first
frame) and writes that moment and the peak RSS again. Then the process leaves at once
(``os._exit``): the terminal is a throwaway pseudo-terminal.

This module imports only Textual (the kiosk imports it too), so it adds nothing to a start.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Digits, Input, Static

RESULT_ENV = "KIOSK_BENCH_PROBE_RESULT"


def peak_rss_kib() -> int:
    """VmHWM of this process (KiB): the peak resident set size so far."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def widget_count(screen: Screen[Any]) -> int:
    """Widgets under the screen (the screen itself not counted)."""
    return sum(1 for _ in screen.walk_children(with_self=False))


class StartProbe:
    """Mixed into an App: notes when the focused scan field is first on the screen."""

    _probe_result: dict[str, Any]
    _probe_done = False

    def on_ready(self) -> None:
        app: Any = self
        app._probe_result = {"ready_at": time.monotonic()}
        self._probe_focus()

    def _probe_focus(self) -> None:
        app: Any = self
        focused = app.focused
        if isinstance(focused, Input) and focused.id == "scan":
            app.call_after_refresh(self._probe_drawn)
        else:
            app.set_timer(0.001, self._probe_focus)

    def _probe_drawn(self) -> None:
        app: Any = self
        if self._probe_done:
            return
        self._probe_done = True
        result = app._probe_result
        result["drawn_at"] = time.monotonic()
        result["drawn_cpu_ms"] = time.process_time() * 1000  # every thread, since exec
        result["drawn_hwm_kib"] = peak_rss_kib()
        result["widgets"] = widget_count(app.screen)
        result["size"] = list(app.size)
        self._probe_after_drawn()

    def _probe_after_drawn(self) -> None:
        self._probe_finish()

    def _probe_finish(self) -> None:
        app: Any = self
        result = app._probe_result
        result["end_hwm_kib"] = peak_rss_kib()
        path = os.environ.get(RESULT_ENV)
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(result, out)
        os._exit(0)


class BareScreen(Screen[None]):
    AUTO_FOCUS = "#scan"

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield Static("School name")
                yield Static("Wednesday 11 March 2026")
            yield Digits("10:31")
            yield Static("")
            yield Static("Scan your badge or a laptop label, or type your staff code")
            yield Input(placeholder="Scan or type here", id="scan")
            yield Static("")
            with Grid():
                for label in ("Phone", "Sign out", "Return", "Breakfast", "Contrast", "Admin"):
                    yield Button(label)
            yield Static("Family emergency? Families can always ring the school office.")


class BareApp(StartProbe, App[None]):
    """A bare Textual app with the same widgets as the kiosk's home screen."""

    CSS = "Grid { grid-size: 3; height: auto; } Button { width: 1fr; }"

    def get_default_screen(self) -> Screen[Any]:
        return BareScreen()


def _kiosk() -> int:
    import kiosk.ui.app as ui_app
    from kiosk.cli import main

    class ProbedKioskApp(StartProbe, ui_app.KioskApp):
        """The kiosk, plus the probe; then waits for the database to have opened."""

        def _probe_after_drawn(self) -> None:
            self._probe_wait_db()

        def _probe_wait_db(self) -> None:
            if self.db_state == "connecting":
                self.set_timer(0.005, self._probe_wait_db)
                return
            self._probe_result["db_at"] = time.monotonic()
            self._probe_result["db_state"] = self.db_state
            self._probe_finish()

    ui_app.KioskApp = ProbedKioskApp  # type: ignore[misc]  # kiosk.cli imports it when run
    return main([])


def child(which: str) -> int:
    """Entry of a started process: ``bare`` or ``kiosk``."""
    if which == "bare":
        BareApp().run()
        return 0
    if which == "kiosk":
        return _kiosk()
    raise SystemExit(f"unknown app {which!r}")


if __name__ == "__main__":
    sys.exit(child(sys.argv[1] if len(sys.argv) > 1 else "bare"))
