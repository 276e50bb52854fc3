"""The home screen: school name, a large clock, the office telephone for family emergencies,
the always-focused scan field and big buttons for a mouse or touch screen."""

from __future__ import annotations

from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Digits, Input, Static

from kiosk.domain.errors import KioskError
from kiosk.domain.events import Role
from kiosk.domain.scan import SCAN_AGAIN
from kiosk.domain.timeutil import local_date
from kiosk.ui.base import StaffScreen, said_on_the_kiosk
from kiosk.ui.formats import clock_time, long_date
from kiosk.ui.widgets import (
    WARN_MARK,
    CodeField,
    Notice,
    TouchButton,
    assemble,
    plain,
    update_if_changed,
)

if TYPE_CHECKING:
    from kiosk.services.people import ScanResult
    from kiosk.services.scan import PhoneScan
    from kiosk.services.views import DeviceStatus, PhoneHolding, StaffStatus

SCAN_PROMPT = SCAN_AGAIN.removesuffix(".")

INTENTS = {
    "phone": "Phone in or out: scan your badge.",
    "signout": "Sign a laptop or work phone out: scan your badge, then the label.",
    "return": "Return a laptop or work phone: scan its label.",
    "breakfast": "Breakfast club: the lead scans their badge to start drawer mode.",
}


def emergency_line(office_phone: str) -> Content:
    """What the policy promises: families reach staff through the school's own number."""
    if any(ch.isdigit() for ch in office_phone):
        ring = ("Families can always ring the school office on ", (office_phone, "bold"))
    else:
        ring = ("Families can always ring ", (office_phone, "bold"))
    return assemble(
        ("Family emergency? ", "bold"), *ring, ": the message reaches you straight away."
    )


# The end-of-day banner: names shown per store, and stores, before "and N more".
BANNER_NAMES = 5
BANNER_STORES = 2


def end_of_day_banner(end_of_day: str, held: tuple[PhoneHolding, ...]) -> Content:
    """Phones still in the stores after the end of the school day, a few lines at most:
    a line per store (names are data, shown as plain text), the rest counted."""
    if not held:
        return Content("")
    per_store: dict[str, list[str]] = {}
    for holding in held:
        per_store.setdefault(holding.store.name, []).append(holding.staff.name)
    count = len(held)
    lines = [
        assemble(
            (f"{WARN_MARK} After {end_of_day}: ", "bold"),
            f"{count} phone{'s are' if count != 1 else ' is'} still in the stores.",
        )
    ]
    stores = list(per_store.items())
    for store, names in stores[:BANNER_STORES]:
        shown = ", ".join(names[:BANNER_NAMES])
        more = f" and {len(names) - BANNER_NAMES} more" if len(names) > BANNER_NAMES else ""
        lines.append(assemble(f"In the {store}: {shown}{more}."))
    rest = sum(len(names) for _, names in stores[BANNER_STORES:])
    if rest:
        lines.append(assemble(f"And {rest} more in other stores."))
    return Content("\n").join(lines)


class HomeScreen(StaffScreen):
    AUTO_FOCUS = "#scan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", show=False),
        Binding("f2", "intent('phone')", "Phone", show=False),
        Binding("f3", "intent('signout')", "Sign out", show=False),
        Binding("f4", "intent('return')", "Return", show=False),
        Binding("f5", "intent('breakfast')", "Breakfast club", show=False),
        Binding("f10", "app.request_exit", "Admin", show=False),
    ]

    # An error under the scan field is cleared by the next key typed, or after this long (by
    # the app's UI clock, read each second with the clock on the screen).
    ERROR_SECONDS = 60.0
    # The end-of-day banner is read again this often (and whenever home is shown again).
    END_OF_DAY_SECONDS = 60.0
    # A button armed (F2 Phone in / out...) is dropped after this long without a key: the
    # person who pressed it walked away, and the next person's badge is not for it.
    INTENT_SECONDS = 10.0

    def __init__(self) -> None:
        super().__init__(id="home-screen")
        self._error_until: float | None = None  # UI clock's monotonic() when it goes
        self.intent: str | None = None
        self._intent_touched_at = 0.0  # when the button was armed, or a key last came since
        self.pending_tags: list[str] = []
        # Changes made while another screen is in front are drawn when home is shown again
        # (restyling and drawing a screen nobody sees would delay the one in front).
        self._stale = False
        self._clock_shown: tuple[str, str] | None = None  # (time, date) on the screen now

    def compose(self) -> ComposeResult:
        settings = self.kiosk.settings
        now = self.kiosk.clock()
        self._clock_shown = (clock_time(now, settings.zone), long_date(now, settings.zone))
        with Vertical(id="home"):
            with Horizontal(id="masthead"):
                yield Static(plain(settings.school_name), id="school")
                yield Static(plain(self._clock_shown[1]), id="date")
            yield Digits(self._clock_shown[0], id="clock")
            yield Static("", id="db-status", markup=False)
            banner = Static("", id="end-of-day", markup=False)
            banner.display = False
            yield banner
            yield Static(SCAN_PROMPT, id="scan-label", markup=False)
            yield CodeField(placeholder="Scan or type here", id="scan", max_length=80)
            yield Notice(id="notice")
            with Grid(id="actions"):
                yield TouchButton("Phone in / out", key="F2", id="act-phone")
                yield TouchButton("Sign a laptop out", key="F3", id="act-signout")
                yield TouchButton("Return a laptop", key="F4", id="act-return")
                yield TouchButton("Breakfast club", key="F5", id="act-breakfast")
                yield TouchButton("High contrast", key="F9", id="act-contrast")
                yield TouchButton("Admin", key="F10", id="act-admin")
            yield Static(emergency_line(settings.office_phone), id="emergency")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick, name="clock")
        self.set_interval(self.END_OF_DAY_SECONDS, self.refresh_end_of_day, name="end-of-day")
        self.show_db_state()

    def on_idle_timeout(self) -> None:
        self.reset()

    @property
    def shown(self) -> bool:
        """On screen: in front, or behind a see-through (modal) screen. (Textual's
        ``is_current`` also counts the screen just under an opaque one.)"""
        try:
            top = self.app.screen
        except Exception:
            return False
        return top is self or (top.styles.background.a < 1 and self.is_current)

    def reset(self) -> None:
        """Forget a half-typed code, an armed button and the last message."""
        self.intent = None
        self.pending_tags = []
        self._reset_display()

    def _reset_display(self) -> None:
        if not self.shown:
            self._stale = True
            return
        self._stale = False
        scan = self.find_one("#scan", Input)
        scan.value = ""
        self.clear_notice()
        self._highlight_intent()
        scan.focus()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._reset_display()
        self._tick()
        self.refresh_end_of_day()

    def show_busy(self, busy: bool) -> None:
        super().show_busy(busy)
        if not busy and self._stale:
            # After the call's own callback (which may have shown another screen).
            self.call_later(self._redraw_if_shown)

    def _redraw_if_shown(self) -> None:
        if self._stale and self.shown:
            self._stale = False
            self._highlight_intent()

    def _tick(self) -> None:
        self._drop_intent_left()
        if self._error_until is not None and self.kiosk.clock.monotonic() >= self._error_until:
            self._clear_error()
        if not self.shown:  # behind another screen: drawn again when home is shown
            return
        settings = self.kiosk.settings
        now = self.kiosk.clock()
        shown = (clock_time(now, settings.zone), long_date(now, settings.zone))
        if shown == self._clock_shown:
            return  # the same minute: updating would lay the screen out again for nothing
        self._clock_shown = shown
        self.find_one("#clock", Digits).update(shown[0])
        self.find_one("#date", Static).update(plain(shown[1]))

    def show_db_state(self) -> None:
        status = self.find_one("#db-status", Static)
        gateway = self.kiosk.gateway
        state = gateway.state
        status.set_class(state in ("unavailable", "too_new"), "-problem")
        if state == "connecting":
            status.update("Opening the register…")
        elif state == "unavailable":
            status.update(
                assemble(
                    (f"{WARN_MARK} The register is unavailable: ", "bold"),
                    "nothing can be recorded at the moment. The kiosk keeps trying by itself. ",
                    gateway.message,
                )
            )
        elif state == "too_new":
            status.update(
                assemble((f"{WARN_MARK} Kiosk software is out of date: ", "bold"), gateway.message)
            )
        else:
            status.update("")
        if status.display != (state != "ready"):
            self._banner_moved()
        status.display = state != "ready"
        if state == "ready":
            self.refresh_end_of_day()

    # --- the end-of-day banner ------------------------------------------------------------

    def refresh_end_of_day(self) -> None:
        """After the end of the school day, read the phones still held (in a thread of its
        own, beside the scans: nothing typed waits for it) and list them above the field.
        Before the end of the day nothing is read at all."""
        if not self.shown:  # read again when home is shown again
            return
        settings = self.kiosk.settings
        now = self.kiosk.clock()
        today = local_date(now, settings.zone)
        if now < datetime.combine(today, settings.end_of_day_time, tzinfo=settings.zone):
            self._show_end_of_day(())
            return
        self.kiosk.gateway.read(
            lambda s: s.phones.still_held_after_end_of_day(), self._show_end_of_day
        )

    def _show_end_of_day(self, held: tuple[PhoneHolding, ...]) -> None:
        banner = self.find_one("#end-of-day", Static)
        if not held:
            if banner.display:
                self._banner_moved()
                banner.display = False
            return
        text = end_of_day_banner(self.kiosk.settings.end_of_day, held)
        if not banner.display or banner.visual != text:
            self._banner_moved()
        update_if_changed(banner, text)
        banner.display = True

    def _banner_moved(self) -> None:
        """A banner above the buttons comes, goes or changes while home is shown: the buttons
        move under a finger on its way (a tap this soon after is dropped: KioskApp's
        ``DOUBLE_TAP_SECONDS``). Said here as well as after each layout (KioskScreenMixin):
        on home shown again, the banner's may be the first layout of the showing."""
        if self.shown:
            self.tap_targets_moved_at = monotonic()

    # --- an error goes away by itself ----------------------------------------------------------

    def show_error(self, message: str | KioskError, title: str | None = None) -> None:
        if self.pending_tags:
            # Labels still wait for a badge: the error must not hide them (the next badge
            # would take them off site without the person seeing it).
            if isinstance(message, KioskError):
                title = title or message.title
                message = said_on_the_kiosk(message)
            message = f"{message} {self._pending_line()}"
        super().show_error(message, title)
        self._error_until = self.kiosk.clock.monotonic() + self.ERROR_SECONDS

    def _clear_error(self) -> None:
        self._error_until = None
        notice = self.notice
        if notice is not None and notice.kind == "error":
            if self.pending_tags:
                self.show_info(self._pending_line())
            else:
                notice.clear()

    def _pending_line(self) -> str:
        listed = ", ".join(self.pending_tags)
        return f"{listed} in school. To take it off site, scan your badge (Esc: cancel)."

    @on(Input.Changed, "#scan")
    def _typing(self, event: Input.Changed) -> None:
        # The next code is being typed: the last one's error is over. (The field as it is
        # now: a change message can arrive after the code it was part of has been read.)
        if event.input.value:
            self._clear_error()

    # --- buttons and keys ---------------------------------------------------------------------

    def action_clear(self) -> None:
        self.reset()

    def _drop_intent_left(self) -> None:
        """A button armed INTENT_SECONDS ago with no key since: dropped (its hint too)."""
        if self.intent is None:
            return
        if self.kiosk.clock.monotonic() - self._intent_touched_at < self.INTENT_SECONDS:
            return
        shown = INTENTS[self.intent]
        self.intent = None
        if not self.shown:
            self._stale = True
            return
        self._highlight_intent()
        notice = self.notice
        if notice is not None and notice.kind == "info" and notice.message == shown:
            notice.clear()

    def take_key(self, event: events.Key) -> bool:
        self._drop_intent_left()  # before the key: a code typed now is not for a left button
        self._intent_touched_at = self.kiosk.clock.monotonic()
        return super().take_key(event)

    def action_intent(self, intent: str) -> None:
        self._intent_touched_at = self.kiosk.clock.monotonic()
        self.intent = intent
        self.pending_tags = []
        self.show_info(INTENTS[intent])
        self._highlight_intent()

    def _highlight_intent(self) -> None:
        for name in INTENTS:
            self.find_one(f"#act-{name}", TouchButton).set_class(name == self.intent, "-armed")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button == "act-contrast":
            self.kiosk.action_toggle_contrast()
        elif button == "act-admin":
            self.kiosk.action_request_exit()
        elif button.startswith("act-"):
            self.action_intent(button.removeprefix("act-"))
        self.find_one("#scan", Input).focus()

    # --- scans ------------------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        self._drop_intent_left()  # a badge scanned now is not for a button left armed
        # The last message stays until the answer replaces it (or another screen is
        # shown): drawing home again now would only slow the call down.

        if self.intent == "phone":
            self.call(lambda s: s.scans.phone_in_or_out(text), self._phone_scanned)
        else:
            self.call(lambda s: s.people.resolve_scan(text), self._resolved)

    def _phone_scanned(self, outcome: PhoneScan) -> None:
        if outcome.receipt is None:
            if outcome.result is not None:  # not a badge: a label
                self._resolved(outcome.result)
            return
        self.intent, self.pending_tags = None, []
        self._stale = True
        self.confirm_receipt(outcome.receipt, *outcome.note)

    def take_result(self, result: ScanResult) -> None:
        """A code read on another screen, handled as if it had been typed here."""
        self._resolved(result)

    def _resolved(self, result: ScanResult) -> None:
        self.clear_notice()
        if result.staff is not None:
            self._person(result.staff)
        elif result.device is not None:
            self._device(result.device)

    def _person(self, status: StaffStatus) -> None:
        # (the screens a code leads to are imported when first needed, not at start-up)

        intent, tags = self.intent, self.pending_tags
        self.intent, self.pending_tags = None, []
        # The armed button is cleared on screen once the flow has gone on (another screen
        # shown, or the call below answered): not drawn now, while the call is running.
        self._stale = True
        if intent == "breakfast":
            if not status.staff.has_role(Role.BREAKFAST_CLUB_LEAD.value, Role.ADMIN.value):
                self._redraw_if_shown()
                self.show_error(
                    f"Only the breakfast-club lead or an admin can start breakfast-club mode; "
                    f"{status.staff.name} is neither.",
                    title="Not allowed",
                )
                return
            from kiosk.ui.breakfast import start_breakfast

            start_breakfast(self, status.staff)
        elif tags or intent == "signout":
            from kiosk.ui.signout import start_sign_out

            if not start_sign_out(self, status, tags):
                self._redraw_if_shown()
        else:
            from kiosk.ui.person import show_person

            show_person(self.kiosk, status)

    def _device(self, status: DeviceStatus) -> None:
        from kiosk.ui.returns import offer_return

        device = status.device
        if status.offsite is not None:
            self.intent, self.pending_tags = None, []
            self._highlight_intent()
            offer_return(self, status, recorded_by=None)
            return
        if self.intent == "return":
            self.show_error(
                f"{device.kind_label} {device.tag} is not signed out: there is nothing to return.",
                title="Not recorded",
            )
            return
        if device.tag not in self.pending_tags:
            self.pending_tags.append(device.tag)
        self.intent = "signout"
        self._highlight_intent()
        self.show_info(self._pending_line())
