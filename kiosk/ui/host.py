"""What a kiosk screen needs from the app it runs in: ``KioskHost`` (the screens never import
``kiosk.ui.app``; ``KioskApp`` is checked against this by mypy, in ``app.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from textual import events
from textual.screen import Screen

if TYPE_CHECKING:
    from kiosk.config import Settings
    from kiosk.services.people import ScanResult
    from kiosk.ui.clock import UiClock
    from kiosk.ui.gateway import Gateway
    from kiosk.ui.widgets import CodeField

S = TypeVar("S", bound=Screen[Any])


class Home(Protocol):
    """The home screen, as another screen hands a code over to it."""

    def reset(self) -> None: ...

    def take_result(self, result: ScanResult) -> None: ...

    @property
    def code_field(self) -> CodeField | None: ...


class KioskHost(Protocol):
    """The kiosk app, as its screens see it: settings and clock, the gateway to the use
    cases, and the few moves between screens that the app keeps (home, the screens it keeps
    for reuse, the confirmation, the scan queue)."""

    confirmation_drawn_at: float  # (for the bench: when a confirmation was first drawn)

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> UiClock: ...

    @property
    def confirm_seconds(self) -> float: ...

    @property
    def gateway(self) -> Gateway: ...

    @property
    def busy(self) -> bool: ...

    @property
    def keys_held(self) -> int: ...

    @property
    def home(self) -> Home | None: ...

    def go_home(self, *, by_itself: bool = False) -> None: ...

    def reusable(self, kind: type[S], build: Callable[[], S]) -> S: ...

    def show_over_home(self, screen: Screen[Any]) -> None: ...

    def confirm(self, title: str, lines: list[str], at: datetime | None) -> None: ...

    def receive_scan(self, text: str, *, from_scanner: bool = False) -> None: ...

    def requeue_scan(self, text: str) -> None: ...

    def requeue_key(self, event: events.Key) -> None: ...

    def release_keys(self) -> None: ...

    def action_request_exit(self) -> None: ...

    def action_toggle_contrast(self) -> None: ...

    def open_admin_console(self, admin_code: str, lockouts: Sequence[datetime] = ()) -> bool: ...

    def exit_kiosk(self, by: str | None = None) -> None: ...
