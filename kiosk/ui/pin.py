"""The admin PIN pad: the only way out of the kiosk, and into the admin console.

Digits by keyboard or on-screen buttons, shown masked. After a correct PIN, the acting
admin scans their badge (or types their staff code); then "Admin console" or "Exit kiosk".
The two steps are the two halves of ``services.admin.sign_in``. Wrong PINs slow down and then
lock this keyboard for five minutes (the service decides; the lockout is an event).

With the database away, the PIN is checked against the copy of its hash this kiosk kept when
it last read it (``kiosk.services.admin.check_pin_offline``). An admin's badge cannot be
checked without the database, so the right PIN alone offers one thing only: "Exit the kiosk
app", said so on the screen and written to kiosk.log.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.widgets import Button, Input, Static

from kiosk.domain.errors import DatabaseUnavailable, KioskError
from kiosk.domain.scan import MIN_PIN_LENGTH, may_be_the_pin, parse_scan
from kiosk.domain.text import display_text
from kiosk.ui.base import StaffModal, said_on_the_kiosk
from kiosk.ui.widgets import MaskedInput, Notice, TouchButton

if TYPE_CHECKING:
    from kiosk.services.admin import PinCheck, SignIn
    from kiosk.services.views import StaffInfo

log = logging.getLogger(__name__)

MAX_DIGITS = 32
STILL_CHECKING = "Still checking the last PIN: press OK again."
TITLES = {
    "pin": "Admin only: enter the PIN",
    "badge": "PIN accepted. Scan your badge or type your staff code (admins only).",
    "menu": "What would you like to do?",
    "offline": "PIN accepted, but the register's database cannot be reached: an admin's badge "
    "cannot be checked, so the PIN alone can only close the kiosk app (this is written to the "
    "kiosk's log).",
}


class PinScreen(StaffModal):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("backspace", "delete", "Delete", show=False),
        Binding("enter", "submit", "OK", show=False),
        *(Binding(str(d), f"digit({d})", str(d), show=False) for d in range(10)),
        # Function keys: no letter typed at the pad (a staff code, a label) is an action.
        Binding("f2", "console", "Admin console", show=False),
        Binding("f3", "exit_kiosk", "Exit kiosk", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="pin-screen")
        self.stage = "pin"
        self.digits = ""
        # Everything typed at the PIN stage since the last Enter: a PIN is digits only, and
        # a label or a code typed here (``LAP-014``) is not a wrong PIN.
        self.typed = ""
        self.admin: StaffInfo | None = None
        self._accepted_pin = ""  # the PIN the pad accepted, for sign_in with the badge
        self._ok_while_checked = False  # OK tapped while the last PIN was checked
        self.lockouts: tuple[datetime, ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box"):
            yield Static(TITLES["pin"], id="pin-title", markup=False)
            yield Static("", id="pin-dots", markup=False)
            with Grid(id="pin-pad"):
                for digit in "123456789":
                    yield TouchButton(digit, id=f"pin-{digit}", classes="pin-key")
                yield TouchButton("Clear", id="pin-clear", classes="pin-key")
                yield TouchButton("0", id="pin-0", classes="pin-key")
                yield TouchButton("⌫", id="pin-back", classes="pin-key")
            yield MaskedInput(placeholder="Staff code", id="admin-code", max_length=40)
            with Grid(id="admin-menu"):
                yield TouchButton("Admin console", key="F2", id="menu-console", variant="primary")
                yield TouchButton("Exit kiosk", key="F3", id="menu-exit", variant="error")
            yield TouchButton("Exit the kiosk app", key="F3", id="offline-exit", variant="error")
            yield Notice(id="notice")
            with Grid(id="pin-actions"):
                yield TouchButton("OK", key="Enter", id="pin-ok", variant="primary")
                yield TouchButton("Cancel", key="Esc", id="pin-cancel")

    def on_mount(self) -> None:
        self._show_stage()

    def _show_stage(self) -> None:
        stage = self.stage
        self.query_one("#pin-title", Static).update(TITLES[stage])
        self.query_one("#pin-dots").display = stage == "pin"
        self.query_one("#pin-pad").display = stage == "pin"
        self.query_one("#pin-ok").display = stage not in ("menu", "offline")
        code = self.query_one("#admin-code", Input)
        code.display = stage == "badge"
        self.query_one("#admin-menu").display = stage == "menu"
        self.query_one("#offline-exit").display = stage == "offline"
        if stage == "badge":
            code.focus()
        else:
            self.set_focus(None)
        self._show_dots()

    def _show_dots(self) -> None:
        dots = " ".join("●" for _ in self.digits) if self.digits else "(type the PIN)"
        self.query_one("#pin-dots", Static).update(dots)

    # --- the PIN --------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        """A printable key that is not a digit: at the PIN stage it is remembered (what was
        typed is then "not a PIN", not a wrong PIN); at the menu it does nothing (the
        actions are F2 and F3). Digits go on to their bindings."""
        char = event.character
        if not (event.is_printable and char) or self.stage not in ("pin", "menu", "offline"):
            return
        if self.stage == "pin":
            if char.isdigit():
                return
            if len(self.typed) < MAX_DIGITS:
                self.typed += char
        event.stop()
        event.prevent_default()

    def action_digit(self, digit: int) -> None:
        # Also while the last PIN is being checked: the digits of the next attempt, tapped on
        # the pad at once (keys typed wait their turn), were dropped, and the PIN sent next
        # lacked them. (The PIN checked was taken at its Enter.)
        if self.stage != "pin" or len(self.digits) >= MAX_DIGITS:
            return
        self.digits += str(digit)
        self.typed += str(digit)
        self._show_dots()

    def action_delete(self) -> None:
        """Backspace rubs out the key typed last: a digit (and its dot), or a letter typed by
        mistake (which has no dot), never the digit before that letter."""
        if self.stage == "pin":
            if self.typed[-1:].isdigit():
                self.digits = self.digits[:-1]
            self.typed = self.typed[:-1]
            self._show_dots()

    def action_submit(self) -> None:
        if self.kiosk.busy:
            if self.stage == "pin" and self.digits:
                # OK tapped while the last PIN is checked (Enter typed then waits its turn):
                # the digits tapped meanwhile are kept, and it was dropped without a word.
                self._ok_while_checked = True
                self.show_info(STILL_CHECKING)
            return
        self._ok_while_checked = False
        if self.stage == "pin":
            typed, self.typed = self.typed, ""
            if typed and not typed.isdigit():
                # A label or a code typed at the pad: not an attempt at the PIN.
                self.digits = ""
                self._show_dots()
                # Never quoted: one stray key beside the PIN put the PIN in large type.
                self.show_error(
                    "What was typed is not a PIN (it had more than digits in it): the PIN is "
                    "digits only. It was not counted as an attempt; type the PIN again.",
                    title="Not a PIN",
                )
                return
            if not self.digits:
                self.show_error("Type the PIN first.", title="PIN")
                return
            if len(self.digits) < MIN_PIN_LENGTH:
                # No PIN is that short: the end of one whose start a badge cleared ("2468",
                # a badge, "10"), or a slip. Not checked, so not counted against the pad
                # (five lock it), as `kiosk admin`'s sign-in sends none either.
                self.digits = ""
                self._show_dots()
                self.show_error(
                    f"Too short for the PIN: it has {MIN_PIN_LENGTH} digits at least. It was "
                    "not counted as an attempt; type the whole PIN, then Enter.",
                    title="Not a PIN",
                )
                return
            pin, self.digits = self.digits, ""
            self._show_dots()
            if self.kiosk.gateway.services is None:
                self._check_offline(pin)
                return
            self.call(
                lambda s: s.admin.check_pin(pin),
                lambda result: self._checked(result, pin),
                lambda error: self._not_checked(error, pin),
            )
        elif self.stage == "badge":
            code = self.query_one("#admin-code", Input)
            text, code.value = code.value, ""
            if text.strip():
                self.handle_scan(text)

    def _checked(self, result: PinCheck, pin: str) -> None:
        if not result.ok:
            title = "Locked" if result.locked_until is not None else "Not accepted"
            self.show_error(self._and_ok_again(result.message), title=title)
            return
        self._ok_while_checked = False
        self._accepted_pin = pin
        self.stage = "badge"
        self.digits = self.typed = ""  # tapped while it was checked: no next attempt now
        self.clear_notice()
        self.lockouts = result.lockouts_since_last_sign_in
        if result.lockouts_since_last_sign_in:
            count = len(result.lockouts_since_last_sign_in)
            self.show_info(
                f"Note: the PIN pad was locked {count} time{'s' if count != 1 else ''} "
                "by wrong PINs since the last admin sign-in."
            )
        self._show_stage()

    def _and_ok_again(self, message: str) -> str:
        """The answer to a PIN refused, and, when OK was tapped while it was checked with
        digits tapped since, what to do with them (they are kept: the dots show them)."""
        again, self._ok_while_checked = self._ok_while_checked, False
        if again and self.stage == "pin" and self.digits:
            return f"{message} The PIN tapped since is kept: press OK again."
        return message

    def _not_checked(self, error: KioskError, pin: str) -> None:
        if isinstance(error, DatabaseUnavailable):
            self._check_offline(pin)
        else:
            self.show_error(self._and_ok_again(said_on_the_kiosk(error)), title=error.title)

    def _check_offline(self, pin: str) -> None:
        """The database is away: the PIN against this kiosk's copy of its hash."""
        from kiosk.services.admin import check_pin_offline

        try:
            result = check_pin_offline(pin)
        except KioskError as exc:
            log.warning("PIN pad with the database away: %s", exc.message)
            self.show_error(self._and_ok_again(exc.message), title="Not accepted")
            return
        if not result.ok:
            title = "Locked" if result.locked_until is not None else "Not accepted"
            self.show_error(self._and_ok_again(result.message), title=title)
            return
        self._ok_while_checked = False
        log.warning("right admin PIN typed while the database was unreachable: exit offered")
        self.stage = "offline"
        self.clear_notice()
        self._show_stage()

    # --- the admin's badge ------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        if self.stage == "pin" and (self.digits or self.typed):
            # A badge with a PIN half typed: the digits may be someone's who walked away,
            # and joined to the PIN typed next they made one wrong PIN, counted against this
            # keyboard. What was typed is dropped (it was not an attempt).
            self.digits = self.typed = ""
            self._show_dots()
            self.show_error(
                "A badge was scanned with a PIN half typed: what was typed was cleared (not "
                "counted as an attempt). Type the PIN, then Enter; then scan your badge.",
                title="PIN",
            )
            return
        if self.stage == "menu" and self.admin is not None:
            # A colleague's badge behind the admin signed in: the menu stays hers.
            self.show_error(
                display_text(
                    f"Signed in as {self.admin.name}: the badge was not read. Choose from "
                    "the menu, or Cancel."
                ),
                title="Badge",
            )
            return
        if self.stage == "offline":
            self.show_error(
                "The database cannot be reached, so the badge was not read: you can only "
                "close the kiosk app.",
                title="Badge",
            )
            return
        if self.stage != "badge":
            self.show_error("Enter the PIN first.", title="PIN")
            return
        try:
            code = parse_scan(text).code
        except KioskError as exc:
            self.show_error(exc)
            return
        pin = self._accepted_pin
        # THE admin sign-in (services.admin.sign_in): the admin's code, then the PIN the pad
        # accepted a moment ago, checked again with it.
        self.call(lambda s: s.admin.sign_in(pin, code), self._admin_ok, self._not_signed_in)

    def _not_signed_in(self, error: KioskError) -> None:
        from kiosk.services.admin import WrongPin

        if isinstance(error, WrongPin):  # changed or locked meanwhile: the PIN again
            self._accepted_pin = ""
            self.stage = "pin"
            self._show_stage()
        self.show_error(error)

    def _admin_ok(self, signed: SignIn) -> None:
        admin = signed.admin
        self.admin = admin
        self._accepted_pin = ""
        self.stage = "menu"
        self.show_info(display_text(f"Signed in as {admin.name}."))
        self._show_stage()

    @on(Input.Changed, "#admin-code")
    def _mask_pin_shaped(self, event: Input.Changed) -> None:
        """The PIN typed again where the staff code goes (the admin thought it not taken) was
        shown in clear, in the staff room, until Enter: a run of digits shaped like the PIN
        is masked as it is typed (by its shape, as everywhere on the kiosk)."""
        event.input.password = may_be_the_pin(event.value)

    @on(Input.Submitted, "#admin-code")
    def _code_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    # --- the menu -------------------------------------------------------------------------------

    def action_console(self) -> None:
        if self.stage != "menu" or self.admin is None:
            return
        if not self.kiosk.open_admin_console(self.admin.code, self.lockouts):
            self.show_error(
                "The admin console is not installed on this kiosk.", title="Not available"
            )

    def action_exit_kiosk(self) -> None:
        if self.stage == "offline":
            log.warning(
                "kiosk closed with the admin PIN alone while the database was unreachable "
                "(no admin could be named; nothing was recorded in the register)"
            )
            self.kiosk.exit_kiosk()
            return
        if self.stage != "menu" or self.admin is None or self.kiosk.busy:
            return
        admin = self.admin

        def recorded(event_id: int) -> None:
            log.info(
                "kiosk app closed by %s (%s) from the PIN pad (event %s)",
                admin.name,
                admin.code,
                event_id,
            )
            self.kiosk.exit_kiosk(by=admin.name)

        def not_recorded(error: KioskError) -> None:
            log.warning(
                "kiosk app closed by %s (%s) from the PIN pad; NOT recorded in the register: %s",
                admin.name,
                admin.code,
                error.message,
            )
            self.kiosk.exit_kiosk(by=admin.name)

        # Who closed it is recorded first (services.admin.record_app_closed); with the
        # database away it closes all the same, and kiosk.log names the admin.
        self.call(
            lambda s: s.admin.record_app_closed(admin.code, where="kiosk PIN pad"),
            recorded,
            not_recorded,
        )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("pin-") and button[4:].isdigit():
            self.action_digit(int(button[4:]))
        elif button == "pin-clear":
            self.digits = self.typed = ""
            self._show_dots()
        elif button == "pin-back":
            self.action_delete()
        elif button == "pin-ok":
            self.action_submit()
        elif button == "pin-cancel":
            self.action_cancel()
        elif button == "menu-console":
            self.action_console()
        elif button in ("menu-exit", "offline-exit"):
            self.action_exit_kiosk()
