"""What every staff-facing screen shares: scans, service calls, messages, the idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen

from kiosk.domain.errors import KioskError
from kiosk.ui.tuning.screens import RestyleOnlyWhenChanged
from kiosk.ui.widgets import Notice

if TYPE_CHECKING:
    from kiosk.services.app import Services
    from kiosk.ui.app import KioskApp

T = TypeVar("T")


class KioskScreenMixin:
    """Mixed into Screen and ModalScreen subclasses of the kiosk."""

    ACCEPTS_SCANS: ClassVar[bool] = True
    # Seconds without input before the screen gives up and goes home: a multiple of
    # settings.idle_timeout (None: the screen never times out by itself).
    IDLE_FACTOR: ClassVar[float | None] = 1.0

    app: Any
    query_one: Any

    def __init__(self, *args: Any, classes: str | None = None, **kwargs: Any) -> None:
        # "kiosk-screen": the kiosk's styles apply to its own screens only (not to the admin
        # console's, which runs inside the same app).
        super().__init__(*args, classes=f"kiosk-screen {classes or ''}".strip(), **kwargs)  # type: ignore[call-arg]

    @property
    def kiosk(self) -> KioskApp:
        return self.app  # type: ignore[no-any-return]

    @property
    def idle_seconds(self) -> float | None:
        timeout = self.kiosk.settings.idle_timeout
        if self.IDLE_FACTOR is None or timeout <= 0:  # idle_timeout = 0: never
            return None
        return float(timeout) * self.IDLE_FACTOR

    def on_idle_timeout(self) -> None:
        """Drop whatever was half done (nothing is recorded) and go home."""
        self.kiosk.go_home()

    # --- scans ---------------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        self.show_error("Finish or cancel this first (Esc), then scan again.", title="Not now")

    # --- messages --------------------------------------------------------------------------

    @property
    def notice(self) -> Notice | None:
        try:
            return self.query_one("#notice", Notice)  # type: ignore[no-any-return]
        except Exception:
            return None

    def show_error(self, message: str | KioskError, title: str | None = None) -> None:
        if isinstance(message, KioskError):
            title = title or message.title
            message = message.message
        title = title if title is not None else "Not recorded"
        if title and message.startswith(f"{title}:"):
            title = ""  # said once: "Not recorded: the database..." needs no second title
        notice = self.notice
        if notice is None:
            self.app.notify(message, title=title, severity="error")
            return
        notice.error(message, title=title or None)

    def show_info(self, message: str) -> None:
        notice = self.notice
        if notice is not None:
            notice.info(message)

    def clear_notice(self) -> None:
        notice = self.notice
        if notice is not None and notice.kind != "busy":
            notice.clear()

    def show_busy(self, busy: bool) -> None:
        notice = self.notice
        if notice is None:
            return
        if busy:
            notice.show("busy", "Recording, please wait…")
        elif notice.kind == "busy":
            notice.clear()

    # --- database work -------------------------------------------------------------------------

    def call(
        self,
        work: Callable[[Services], T],
        done: Callable[[T], None],
        failed: Callable[[KioskError], None] | None = None,
    ) -> bool:
        """Run ``work`` in a thread worker; ``done`` or ``failed`` afterwards on the UI thread.
        Returns False (and does nothing) while another call is still running."""
        return self.kiosk.run_service(work, done, failed)


class ReusableScreenMixin(RestyleOnlyWhenChanged):
    """A screen the kiosk builds once and shows again and again (installed in the app, so
    it is not removed when it is left; ``KioskApp.reusable`` hands it out). Tuning piece
    ``screen-resume``: restyled when shown again only if the CSS changed meanwhile."""


class StaffScreen(KioskScreenMixin, Screen[Any]):
    AUTO_FOCUS = ""  # each screen focuses what it needs (often nothing: one-key actions)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Done", show=False),
    ]

    def action_done(self) -> None:
        if self.kiosk.busy:
            return
        self.kiosk.go_home()


class StaffModal(KioskScreenMixin, ModalScreen[Any]):
    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def action_cancel(self) -> None:
        if self.kiosk.busy:
            return
        self.dismiss(None)

    def on_idle_timeout(self) -> None:
        self.kiosk.go_home()
