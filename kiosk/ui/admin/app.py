"""``kiosk admin``: the admin console on its own, e.g. on the school office's machine.

It connects in a worker (the first frame does not wait for the database), asks for the
admin PIN and the admin's staff code (or badge), then shows the console. When the console
locks (idle or by the admin) it comes back here. On first run, with no PIN set yet, it asks
for a new PIN instead.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from kiosk.config import ConfigError, Settings, load_settings
from kiosk.domain.errors import InvalidInput, NotAKioskCode
from kiosk.domain.scan import MIN_PIN_LENGTH, mask_pin_shaped, may_be_the_pin, parse_scan
from kiosk.ui import tuning
from kiosk.ui.admin.dialogs import ACTIVITY_EVENTS
from kiosk.ui.admin.widgets import FeedbackLine, SecretInput
from kiosk.ui.admin.workers import run_db
from kiosk.ui.clock import clock_of
from kiosk.ui.keys import TAPS, KeysInOrder, ScanWatch, reads_no_badges
from kiosk.ui.logfile import setup_file_logging
from kiosk.ui.scanner import WedgeOutput
from kiosk.ui.signals import exit_on_sigterm, forget_sigterm
from kiosk.ui.text import plain
from kiosk.ui.tuning import memory
from kiosk.ui.tuning.errors import PlainErrors
from kiosk.ui.widgets import MaskedInput

if TYPE_CHECKING:
    from kiosk.services.admin import SignIn
    from kiosk.services.app import Services

log = logging.getLogger("kiosk.ui.admin")


def staff_code_of(text: str) -> str:
    """A typed staff code or a scanned badge payload (SRK1:S:CODE) -> the code."""
    try:
        return parse_scan(text).code
    except NotAKioskCode:
        raise InvalidInput("Type your staff code or scan your badge.") from None


class SignInScreen(Screen[None]):
    """Connect, then the PIN and the acting admin's code (or the first-run PIN setup)."""

    # Keys one at a time (kiosk/ui/keys.py): Enter in the PIN field moves the cursor on to the
    # code field, and a badge scanned straight after it goes there, not into the PIN.
    KEYS_IN_ORDER = True

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen #signin-box {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $primary;
        padding: 0 2;
    }
    SignInScreen #signin-title { text-style: bold; width: 1fr; content-align: center middle; }
    SignInScreen #signin-status { margin: 0 0 1 0; }
    SignInScreen #signin-form, SignInScreen #setup-form { height: auto; display: none; }
    SignInScreen.-signin #signin-form { display: block; }
    SignInScreen.-setup #setup-form { display: block; }
    SignInScreen Button { margin-top: 1; width: 1fr; }
    """

    def __init__(self, settings: Settings | None, services: Services | None) -> None:
        super().__init__()
        self.settings = settings
        self.services = services
        self.busy = False
        self._last_input = 0.0

    @property
    def admin_app(self) -> AdminApp:
        app = self.app
        assert isinstance(app, AdminApp)
        return app

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="signin-box"):
            yield Static("Admin console", id="signin-title")
            yield Static("Connecting to the database…", id="signin-status")
            with Vertical(id="signin-form"):
                yield Label("Admin PIN")
                yield SecretInput(restrict=r"[0-9]*", max_length=32, id="pin")
                yield Label("Your staff code, or scan your badge")
                yield MaskedInput(id="code")
                yield Button("Sign in", id="signin", variant="primary")
            with Vertical(id="setup-form"):
                yield Label("New admin PIN (at least 6 digits)")
                yield SecretInput(restrict=r"[0-9]*", max_length=32, id="new-pin")
                yield Label("The same PIN again")
                yield SecretInput(restrict=r"[0-9]*", max_length=32, id="new-pin-again")
                yield Label("Your staff code (you must have the admin role)")
                yield MaskedInput(id="setup-code")
                yield Button("Set the PIN and sign in", id="setup", variant="primary")
            yield FeedbackLine(id="signin-message")
        yield Footer()

    def on_mount(self) -> None:
        self.connect()
        if self.app.is_web:
            self._last_input = clock_of(self.app).monotonic()
            self.set_interval(1.0, self._close_when_idle, name="signin-idle")

    # --- in the browser: no place kept by a tab nobody uses ----------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, ACTIVITY_EVENTS):
            self._touch()
        await super().on_event(event)

    @on(Input.Changed)
    def _touch(self) -> None:
        """Input happened (a key a field took, a click): the idle time starts again."""
        self._last_input = clock_of(self.app).monotonic()

    def _close_when_idle(self) -> None:
        """In the office's browser (`kiosk admin --serve`) each console is a process and holds
        one of the server's few places: the PIN pad left alone for the console's idle time
        (a tab opened and forgotten) closes it, and the page offers to open it again."""
        now = clock_of(self.app).monotonic()
        if self.app.screen is not self:  # the console is open over it: its own idle lock counts
            self._last_input = now
            return
        settings = self.services.settings if self.services is not None else self.settings
        timeout = (
            settings.admin_idle_timeout if settings is not None else Settings.admin_idle_timeout
        )
        if now - self._last_input >= max(1, timeout):
            self.app.exit()

    # --- connecting ----------------------------------------------------------------------------

    def connect(self) -> None:
        self.query_one("#signin-status", Static).update("Connecting to the database…")

        def open_services() -> tuple[Services, bool]:
            from kiosk.services.app import Services

            services = self.services
            if services is None:
                try:
                    settings = self.settings or load_settings()
                except ConfigError as exc:
                    raise InvalidInput(f"The kiosk's settings are wrong: {exc}") from None
                services = Services.open(settings, create=False)
            return services, services.admin.is_pin_set()

        run_db(self, open_services, self._connected, self._connect_failed, group="connect")

    def _connected(self, result: tuple[Services, bool]) -> None:
        services, pin_set = result
        self.services = services
        self.admin_app.services = services
        school = services.settings.school_name
        self.query_one("#signin-title", Static).update(plain(f"Admin console · {school}"))
        if pin_set:
            self.query_one("#signin-status", Static).update(
                "Type the admin PIN, then your staff code (or scan your badge)."
            )
            self.set_class(True, "-signin")
            self.query_one("#pin", Input).focus()
        else:
            self.query_one("#signin-status", Static).update(
                "No admin PIN is set yet. Choose one now (at least 6 digits, not easy to "
                "guess); only staff with the admin role can set it."
            )
            self.set_class(True, "-setup")
            self.query_one("#new-pin", Input).focus()

    def _connect_failed(self, message: str) -> None:
        self.query_one("#signin-status", Static).update("Could not connect.")
        self.say(f"{message} Press Ctrl+R to try again, or Ctrl+Q to quit.", error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#signin-message", FeedbackLine).say(text, error=error)

    # --- signing in ----------------------------------------------------------------------------

    @on(Input.Submitted, "#pin")
    def _pin_entered(self) -> None:
        if self._not_only_digits("#pin"):
            return
        if not self.query_one("#pin", Input).value:
            # Enter with the PIN field empty: most often a staff code typed into it first,
            # its letters not taken (digits only) without a word; the PIN then went into the
            # staff-code field, in clear.
            self.say(
                "The admin PIN goes here first (digits only), then Enter; then your staff code.",
                error=True,
            )
            return
        self.query_one("#code", Input).focus()

    def _not_only_digits(self, *selectors: str) -> bool:
        """A PIN field (``selectors``: the sign-in's, or the first run's two) refused a key
        since it was last read (a letter: a badge scanned into it, the PIN typed and then the
        badge without Enter, kept the PIN and the "1" of "SRK1:S:..."): what it holds is not
        the PIN as typed. All of them cleared and not sent, so not counted as a wrong PIN,
        nor set as the new PIN; True when so."""
        fields = [self.query_one(selector, SecretInput) for selector in selectors]
        refused = [field.take_refused_key() for field in fields]  # each asked: forgotten
        if not any(refused):
            return False
        had_digits = any(field.value for field in fields)
        for field in fields:
            field.value = ""
        setup = len(fields) > 1
        if had_digits and setup:
            self.say(
                "That was not the PIN: more than digits were typed in a PIN field (a badge "
                "scanned there?). Both PIN fields are cleared and no PIN is set. Type the new "
                "PIN, then Enter; the same PIN again, then Enter; then your staff code.",
                error=True,
            )
        elif had_digits:
            self.say(
                "That was not the PIN: more than digits were typed in the PIN field (a badge "
                "scanned there?). It is cleared, not counted as an attempt. Type the PIN, then "
                "Enter; then your staff code (or scan your badge).",
                error=True,
            )
        else:
            self.say(
                f"The {'new ' if setup else ''}admin PIN goes here first (digits only), then "
                "Enter; then your staff code.",
                error=True,
            )
        fields[0].focus()
        return True

    @on(Input.Changed, "#code")
    @on(Input.Changed, "#setup-code")
    def _mask_pin_shaped(self, event: Input.Changed) -> None:
        """The PIN typed in a staff-code field (after a code put in the PIN field; on the
        first run, the new PIN typed a third time) is not shown in clear while it is typed:
        a run of digits shaped like the PIN is masked (and so never copied: MaskedInput)."""
        event.input.password = may_be_the_pin(event.value)

    @on(Input.Submitted, "#code")
    @on(Button.Pressed, "#signin")
    def sign_in(self) -> None:
        services = self.services
        if services is None or self.busy:
            return
        if self._not_only_digits("#pin"):
            return
        pin = self.query_one("#pin", Input).value
        code_text = self.query_one("#code", Input).value
        if len(pin) < MIN_PIN_LENGTH:
            # No PIN, or too short to be one: most often the admin's staff code typed first
            # into the PIN field (its digits kept, "dina2" as "2"), then the PIN in the
            # staff-code field, in clear. Not sent (no PIN that short exists), and a
            # PIN-shaped staff code is not left on the screen.
            self.query_one("#pin", Input).value = ""
            if may_be_the_pin(code_text):
                self.query_one("#code", Input).value = ""
                self.say(
                    "That looked like the PIN, in the staff-code field: it is cleared. Type "
                    "the PIN in the Admin PIN field (digits only), then your staff code.",
                    error=True,
                )
            elif pin:
                self.say(
                    f"The admin PIN has {MIN_PIN_LENGTH} digits at least: type it in the Admin "
                    "PIN field, then Enter; then your staff code.",
                    error=True,
                )
            else:
                self.say("Type the admin PIN.", error=True)
            self.query_one("#pin", Input).focus()
            return

        def check() -> SignIn:
            # services.admin.sign_in checks the code first: a mistyped code does not use up
            # one of this keyboard's PIN attempts.
            return services.admin.sign_in(pin, staff_code_of(code_text))

        self.busy = True
        self.say("Checking…")
        run_db(self, check, self._checked, self._refused, group="signin")

    def _checked(self, result: SignIn) -> None:
        self.busy = False
        self.query_one("#pin", Input).value = ""
        self.open_console(result.admin.code, result.lockouts_since_last_sign_in)

    def _refused(self, message: str) -> None:
        self.busy = False
        pin = self.query_one("#pin", Input)
        code = self.query_one("#code" if self.has_class("-signin") else "#setup-code", Input)
        if may_be_the_pin(code.value) and code.is_mounted:
            # Most likely the PIN, typed in the staff-code field after a code put in the PIN
            # field ("104522"): neither left on the screen, nor said back in the refusal.
            code.value = ""
            message = f"{mask_pin_shaped(message)} (The staff-code field is cleared.)"
        self.say(message, error=True)
        if pin.value and pin.is_mounted and self.has_class("-signin"):
            pin.value = ""
            # At once (not after this handler): keys typed during the check go on next, and
            # the PIN typed again must reach the PIN field, not the code field (in clear).
            self.set_focus(pin)

    # --- first run: set the PIN ----------------------------------------------------------------

    # A badge scanned into a new PIN field (the PIN typed, then the badge without Enter) kept
    # the PIN and the "1" of "SRK1:S:...": typed so in both, they matched and that PIN was
    # set, one the admin does not know. Checked at each Enter and before it is set.

    @on(Input.Submitted, "#new-pin")
    def _new_pin_entered(self) -> None:
        if self._not_only_digits("#new-pin", "#new-pin-again"):
            return
        self.query_one("#new-pin-again", Input).focus()

    @on(Input.Submitted, "#new-pin-again")
    def _again_entered(self) -> None:
        if self._not_only_digits("#new-pin", "#new-pin-again"):
            return
        self.query_one("#setup-code", Input).focus()

    @on(Input.Submitted, "#setup-code")
    @on(Button.Pressed, "#setup")
    def set_pin(self) -> None:
        services = self.services
        if services is None or self.busy:
            return
        if self._not_only_digits("#new-pin", "#new-pin-again"):
            return
        pin = self.query_one("#new-pin", Input).value
        again = self.query_one("#new-pin-again", Input).value
        code_text = self.query_one("#setup-code", Input).value
        if pin != again:
            self.say("The two PINs are not the same. Type them again.", error=True)
            self.query_one("#new-pin", Input).value = ""
            self.query_one("#new-pin-again", Input).value = ""
            self.query_one("#new-pin", Input).focus()
            return

        def setup() -> str:
            code = staff_code_of(code_text)
            admin = services.admin.admin(code)
            if services.admin.is_pin_set():
                raise InvalidInput("A PIN has been set meanwhile: sign in with it.")
            services.admin.set_pin(pin, admin_code=admin.code)
            return admin.code

        self.busy = True
        self.say("Saving the PIN…")
        run_db(self, setup, self._pin_set, self._refused, group="setup")

    def _pin_set(self, code: str) -> None:
        self.busy = False
        for field in ("#new-pin", "#new-pin-again", "#setup-code"):
            self.query_one(field, Input).value = ""
        self.set_class(False, "-setup")
        self.set_class(True, "-signin")
        self.query_one("#signin-status", Static).update(
            "Type the admin PIN, then your staff code (or scan your badge)."
        )
        self.say("PIN set. Keep it safe: it is stored only as a keyed slow hash.")
        self.open_console(code, ())

    # --- the console -------------------------------------------------------------------------

    def open_console(self, code: str, lockouts: Any) -> None:
        from kiosk.ui.admin.console import AdminConsoleScreen

        assert self.services is not None
        self.query_one("#code", Input).value = ""
        console = AdminConsoleScreen(self.services, code, lockouts=lockouts)
        self.app.push_screen(console, lambda _: self._console_closed(console.locked_reason))

    def _console_closed(self, reason: str | None) -> None:
        if self.app.is_web and reason in ("locked", "idle"):
            # In the office's browser (`kiosk admin --serve`) each console is a process of
            # its own and holds one of the server's few places: back at the PIN, a locked
            # tab left open kept it for ever and the next tab was refused. Locked (by the
            # admin or after the idle time), it closes; the page offers to open it again.
            # Closed for another reason (its admin refused, an unexpected error), it comes
            # back here to say why, and the PIN pad's own idle time frees its place.
            self.app.exit()
            return
        self.query_one("#pin", Input).value = ""
        self.query_one("#code", Input).value = ""
        self.say("The console is locked. Sign in again to continue.")
        self.query_one("#pin", Input).focus()


class AdminApp(PlainErrors, KeysInOrder[None]):
    """The admin console as an app of its own: ``AdminApp().run()``."""

    TITLE = "Staff Room Kiosk: admin console"
    ENABLE_COMMAND_PALETTE = False
    CLOSING_NAME = "the admin console"  # kiosk.ui.tuning.errors.PlainErrors
    # F10 in the console closes this app only: no kiosk app is closed (nor recorded as such).
    CLOSES_KIOSK = False
    BINDINGS = [Binding("ctrl+r", "reconnect", "Reconnect", show=False)]

    def __init__(self, settings: Settings | None = None, services: Services | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.services = services
        self._own_services = services is None
        self.log_file: Path | None = None
        self.unexpected_errors: list[BaseException] = []
        self._scan_watch = ScanWatch(self, self._take_from_wedge)
        self._wedge = self._scan_watch.wedge
        tuning.install(self)  # KIOSK_TUNING: the speed work on, or stock Textual

    def on_load(self) -> None:
        self.log_file = setup_file_logging()

    def on_mount(self) -> None:
        exit_on_sigterm(self)

    # --- unexpected errors (kiosk.ui.tuning.errors.PlainErrors calls these) -------------------

    def report_unexpected(self, error: BaseException) -> None:
        """No traceback reaches the screen: it goes to the log file."""
        log.error(
            "unexpected error in the admin console\n%s",
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        )
        self.unexpected_errors.append(error)

    def stopped_message(self) -> str:
        where = f" Details are in {self.log_file}." if self.log_file else ""
        return f"The admin console stopped after an unexpected problem.{where}"

    def recover_from(self, _broken: object) -> None:
        """Back to the sign-in screen (the console locked), with a plain message."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        screen = self.screen
        if isinstance(screen, SignInScreen) and screen.is_attached:
            where = f" The details are in {self.log_file}." if self.log_file else ""
            screen.say(
                "Something unexpected went wrong, so the console was locked. Please sign in "
                f"again.{where}",
                error=True,
            )

    def get_default_screen(self) -> Screen[Any]:
        return SignInScreen(self.settings, self.services)

    def keys_must_wait(self) -> bool:
        """Keys wait (kiosk/ui/keys.py), and also while a sign-in is being checked: typed
        then (the right PIN straight after a wrong one), they went into the staff-code field,
        the PIN shown there in clear. They go on once it is answered, where the answer put
        the cursor (the PIN field, or the console: the wait for it to be drawn counts from
        the answer)."""
        screen = self.screen if self.screen_stack else None
        if isinstance(screen, SignInScreen) and screen.busy:
            if self.keys_held:
                self.hold_since_now()
            return True
        return super().keys_must_wait()

    # --- a badge scanned at the console ----------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """On the console and its dialogs, the keys go through the kiosk's scanner watch
        (kiosk.ui.scanner.ScanWedge), as at the kiosk: a badge scanned there (a colleague's,
        at the office's scanner) is dropped whole and said, never the console's shortcuts nor
        a form's text. Everything else goes on as typed, in order."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._wedge.pending or (self.screen_stack and reads_no_badges(self.screen)):
                await self._scan_watch.apply(
                    self._wedge.feed(event, event.key, event.character, event.time)
                )
                return
            self._wedge.passed_by()
        elif isinstance(event, (*TAPS, events.Paste)) and not event.is_forwarded:
            if self._wedge.pending:  # the keys held back go first, before the tap or paste
                await self._scan_watch.apply(self._wedge.flush())
            if (
                isinstance(event, events.Paste)
                and self.screen_stack
                and reads_no_badges(self.screen)
                and self._wedge.paste(event.text) is not None
            ):
                self._badge_dropped()
                return
        await super().on_event(event)

    async def _take_from_wedge(self, out: WedgeOutput[events.Key]) -> None:
        for key in out.release:
            await super().on_event(key)  # in order, behind the keys held (kiosk/ui/keys.py)
        if out.scan is not None:
            self._badge_dropped()

    def _badge_dropped(self) -> None:
        screen = self.screen if self.screen_stack else None
        log.info("a badge scanned at the admin console: dropped")
        if screen is not None and reads_no_badges(screen):
            screen.badge_scanned()  # type: ignore[attr-defined]

    def action_reconnect(self) -> None:
        screen = self.screen
        if isinstance(screen, SignInScreen) and screen.services is None:
            screen.connect()

    def on_unmount(self) -> None:
        forget_sigterm()
        memory.release()
        if self._own_services and self.services is not None:
            self.services.close()
