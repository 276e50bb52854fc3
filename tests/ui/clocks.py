"""A UI clock the tests move by hand: an idle timeout is tested without waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.ui.clock import UiClock


class FakeUiClock(UiClock):
    """``now()`` from the services' (fake) clock; ``monotonic()`` moves only by
    :meth:`advance` (the wall clock is left alone: what the screens show stays put)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        super().__init__(now)
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
