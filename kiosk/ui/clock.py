"""The clock the UI takes from its app: ``now()`` for what is shown and recorded (the
services' clock), ``monotonic()`` for timeouts (idle, the console's lock and refresh).

Screens and the console read ``app.clock``; tests hand the app a clock they move by hand
(``tests/ui/clocks.py``), so an idle timeout is tested without waiting for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kiosk.domain.timeutil import utc_now


class UiClock:
    """``now()`` from ``now`` (the services' clock), ``monotonic()`` from ``time``. Calling
    the clock is ``now()``."""

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    def __call__(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        return time.monotonic()


def clock_of(app: Any) -> UiClock:
    """The app's clock (``app.clock``), or the real one for an app without one."""
    clock = getattr(app, "clock", None)
    return clock if isinstance(clock, UiClock) else UiClock()
