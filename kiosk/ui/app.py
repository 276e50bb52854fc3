"""The staff kiosk: a full-screen Textual app that cannot be left without the admin PIN.

Start-up draws the home screen first and opens the database afterwards, in a thread worker
(the ORM, Alembic and the rest are imported there, not here): the scan field is ready at
once, and a scan typed while the database is still opening is kept and handled when it is.
Every service call goes through the gateway (``kiosk/ui/gateway.py``): in a thread worker, one
at a time; scans that arrive meanwhile wait in a queue, in order. Nothing is confirmed on
screen unless the service call returned. The app knows its screens only as kiosk screens
(``kiosk/ui/base.py``); the screens know the app only as ``KioskHost`` (``kiosk/ui/host.py``).
"""

from __future__ import annotations

import logging
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from kiosk import malloc
from kiosk.config import Settings, load_settings
from kiosk.domain.errors import KioskError
from kiosk.domain.text import one_line
from kiosk.domain.timeutil import utc_now
from kiosk.ui import tuning
from kiosk.ui.base import KioskScreenMixin, said_on_the_kiosk
from kiosk.ui.clock import UiClock
from kiosk.ui.gateway import UNEXPECTED, Gateway
from kiosk.ui.keys import (
    FUNCTION_KEYS,
    TAPS,
    HeldKeys,
    KeysInOrder,
    ScanWatch,
    reads_no_badges,
    showing,
)
from kiosk.ui.logfile import setup_file_logging
from kiosk.ui.scanner import WedgeOutput
from kiosk.ui.signals import exit_on_sigterm, forget_sigterm
from kiosk.ui.text import show_toast
from kiosk.ui.theme import HIGH_CONTRAST, KIOSK, THEMES
from kiosk.ui.tuning import memory
from kiosk.ui.tuning.errors import PlainErrors

if TYPE_CHECKING:
    from kiosk.services.app import Services
    from kiosk.ui.home import HomeScreen

log = logging.getLogger("kiosk.ui")

S = TypeVar("S", bound=Screen[Any])

# Enter, as a terminal sends it.
ENTER_KEYS = frozenset({"enter", "ctrl+m"})

# Actions that would leave the app (or open a way out): refused whatever asks for them,
# a key binding, the command palette or a markup link.
FORBIDDEN_ACTIONS = frozenset(
    {"quit", "suspend_process", "command_palette", "help_quit", "toggle_dark", "screenshot"}
)


def breakpoint_classes(app: App[Any]) -> list[str]:
    """The classes the app's breakpoints give a screen of the terminal's size now (as
    Textual works them out on a screen's Resize: the largest breakpoint not above it)."""
    classes: list[str] = []
    width, height = app.size
    for dimension, points in (
        (width, app.HORIZONTAL_BREAKPOINTS or []),
        (height, app.VERTICAL_BREAKPOINTS or []),
    ):
        for threshold, name in sorted(points, reverse=True):
            if dimension >= threshold:
                classes.append(name)
                break
    return classes


@dataclass(frozen=True)
class QueuedScan:
    """A code waiting to be read: its text, whether it was read from the scanner (a device
    of its own, so the keys typed around it may be someone else's; not a code typed at the
    keyboard), and whether a screen handed it on (read over that screen first)."""

    text: str
    from_scanner: bool = False
    requeued: bool = False


class KioskApp(PlainErrors, KeysInOrder[None]):
    """The staff-room kiosk. ``KioskApp().run()`` runs it with the configured settings."""

    # Home and what every screen shares; the other screens' styles (SCREENS_CSS) are read
    # once home is on the screen (load_screens_css). Absolute: subclasses live elsewhere.
    CSS_PATH = str(Path(__file__).with_name("kiosk.tcss"))
    SCREENS_CSS = str(Path(__file__).with_name("screens.tcss"))
    TITLE = "Staff Room Kiosk"
    ENABLE_COMMAND_PALETTE = False
    CLOSING_NAME = "the kiosk"  # kiosk.ui.tuning.errors.PlainErrors
    ALLOW_SELECT = False
    AUTO_FOCUS = ""
    # -wide from 120 columns (a person's four buttons in one row), -wider from 150 (home's
    # six and breakfast club's five in one row: narrower, their labels were cut short).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide"), (150, "-wider")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "request_exit", show=False, priority=True),
        Binding("ctrl+c", "request_exit", show=False, system=True),
        Binding("f9", "toggle_contrast", show=False),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        services: Services | None = None,
        clock: Callable[[], datetime] | UiClock | None = None,
        retry_seconds: float = 5.0,
        confirm_seconds: float = 4.0,
        high_contrast: bool = False,
    ) -> None:
        # Given its services (tests, tools), the kiosk can show any screen at once.
        super().__init__(css_path=None if services is None else [self.CSS_PATH, self.SCREENS_CSS])
        malloc.settle()  # one C heap for the process, before its first thread (kiosk/malloc.py)
        tuning.install(self)  # KIOSK_TUNING: the speed work on, or stock Textual
        memory.freeze_loaded()  # what the imports made, out of the first full collection
        if settings is None:
            settings = services.settings if services is not None else load_settings()
        self.settings = settings
        if clock is None:
            clock = services.ctx.clock if services is not None else utc_now
        # The UI's clock (kiosk/ui/clock.py): now() for what is shown, monotonic() for the
        # idle timeout; a test hands one it moves by hand.
        self.clock: UiClock = clock if isinstance(clock, UiClock) else UiClock(clock)
        self.confirm_seconds = confirm_seconds
        # The one way from a screen to a use case (and the database's state).
        self.gateway = Gateway(
            self,
            settings,
            services,
            tell=self.show_error,
            answered=self._answered,
            connected=self._database_changed,
            retry_seconds=retry_seconds,
            not_recorded=self.pause_typeahead,
        )
        path = setup_file_logging()
        self.log_file: str | None = str(path) if path else None
        self.home: HomeScreen | None = None
        self._reusable: dict[str, Screen[Any]] = {}
        self._scans: deque[QueuedScan] = deque()
        # Keys typed ahead (and scans made behind them) wait in the one queue of
        # kiosk/ui/keys.py; after "Not recorded" they wait until this (by the app's clock:
        # see pause_typeahead).
        self._typeahead_paused_until = 0.0
        self._scan_watch = ScanWatch(self, self._take_from_wedge)
        self._wedge = self._scan_watch.wedge
        self._held_keys = HeldKeys()  # a key held down: one press (kiosk/ui/keys.py)
        # The last Enter came as a code might be read with it (see _may_open_a_screen).
        self._enter_may_open = False
        self._held_keys_timer: Timer | None = None
        # The last press of the mouse or the touch screen (time, x, y, its screen, weakly:
        # not kept alive by it, and the screen's showing), and whether the one now down is
        # dropped (see _second_tap).
        self._last_press: tuple[float, int, int, weakref.ref[Screen[Any]], object] | None = None
        self._press_dropped = False
        self._moved_by_itself_at = float("-inf")  # (time.monotonic(), a tap's own clock)
        # The screen (weakly) and its showing a scan was read on, while that scan is being
        # answered, when it was read over a screen someone may be tapping (see _scan_answered).
        # (And whether it came from the scanner.)
        self._scan_read_on: tuple[weakref.ref[Any], object, bool] | None = None
        self._scan_now: QueuedScan | None = None  # the scan being handed to a screen
        # The screen (weakly) such a scan's answer brought up, and when (time.monotonic(), a
        # key's own clock): see _came_as_it_appeared.
        self._brought_up: tuple[weakref.ref[Any], float] | None = None
        # The screen (weakly) that came up by itself (a timeout), and when: a key that acts,
        # pressed before then or this soon after, was meant for the one that went.
        self._came_by_itself: tuple[weakref.ref[Any], float] | None = None
        self._last_input = self.clock.monotonic()
        # For measurements (bench): when the last key arrived, when the last confirmation
        # was first drawn (time.monotonic()).
        self.last_key_at = 0.0
        self.confirmation_drawn_at = 0.0
        self._exit_allowed = False
        self._own_services = services is None
        self.title = settings.school_name
        for theme in THEMES:
            self.register_theme(theme)
        # Before the app runs: set without a change event (which would restyle everything
        # once more at start-up); the theme is applied as the app starts.
        theme_name: str = HIGH_CONTRAST.name if high_contrast else KIOSK.name
        self.set_reactive(App.theme, theme_name)
        self.stylesheet.set_variables(self.get_css_variables())
        self.add_class(f"-theme-{theme_name}")

    # --- the gateway's state, as the tests and the screens read it ----------------------------

    @property
    def services(self) -> Services | None:
        return self.gateway.services

    @property
    def db_state(self) -> str:
        """ "connecting", "ready", "unavailable" or "too_new"."""
        return self.gateway.state

    @property
    def db_message(self) -> str:
        return self.gateway.message

    @property
    def busy(self) -> bool:
        """A service call is running (one at a time)."""
        return self.gateway.busy

    @property
    def unexpected_errors(self) -> list[BaseException]:
        return self.gateway.unexpected_errors

    # --- screens ------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        from kiosk.ui.home import HomeScreen

        self.home = HomeScreen()
        # Born with the size classes (-wide, -tall...) Textual gives it on its first Resize,
        # which comes once its widgets have been styled: changing them then styles every
        # widget of the home screen a second time before the first frame.
        self.home.add_class(*breakpoint_classes(self), update=False)
        return self.home

    def on_mount(self) -> None:
        exit_on_sigterm(self)
        self.set_interval(0.25, self.check_idle_timeout, name="idle")
        if self.services is not None:
            self.call_after_refresh(self._settle_memory)

    def on_ready(self) -> None:
        """The home screen has been laid out (Textual's ``Ready``: once, at start-up)."""
        if self.services is None:
            # Once that first frame, focused scan field included, is on the screen: the
            # database opens in a thread, and importing the ORM and Alembic there must not
            # hold up drawing the home screen (the GIL is shared). A timer from on_mount
            # (50 ms) used to fire before the first frame on a loaded machine, and the two
            # shared the interpreter until the field was drawn.
            self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        self.load_screens_css()  # nothing shows another screen before the database is open
        self.gateway.connect()

    def load_screens_css(self) -> None:
        """Read the other screens' styles (screens.tcss), once: not needed for the home
        screen's first frame (the register must be open before a scan shows a screen; the PIN
        pad, which works without it, asks for them too)."""
        if self.stylesheet.has_source(self.SCREENS_CSS):
            return
        self.stylesheet.read(self.SCREENS_CSS)
        self.css_path.append(Path(self.SCREENS_CSS))
        self.refresh_css(animate=False)

    def on_unmount(self) -> None:
        forget_sigterm()
        memory.release()  # what the app held can be collected again
        self.gateway.close()
        if self._own_services and self.services is not None:
            self.services.close()

    def _settle_memory(self) -> None:
        """Once the kiosk is up (home drawn, database open), once: collect, then keep what
        exists (modules, the ORM, the app and its home screen: some 100,000 objects) out of
        the garbage collector's full collections (tuning piece ``gc``). Those stopped the
        kiosk for 50 to 300 ms now and then, in the middle of a scan."""
        if self.is_running:
            memory.settle()

    def _collect_once_drawn(self) -> None:
        """Garbage collection once the screen now on top has been drawn, while the person
        reads it (tuning piece ``gc``; before the kiosk is up, start-up collects and
        freezes)."""
        if memory.settled():
            memory.collect_once_drawn(self)

    def go_home(self, *, by_itself: bool = False) -> None:
        """Back to the home screen, dropping every screen above it (nothing is recorded).
        ``by_itself``: nobody asked (a timer): a tap made as it goes was not meant for home."""
        home = self.home
        if home is None:
            return
        while len(self.screen_stack) > 1 and self.screen is not home:
            self.pop_screen()
        if by_itself:
            self._moved_by_itself()
        home.reset()
        self._last_input = self.clock.monotonic()
        self._collect_once_drawn()

    def show_error(self, error: KioskError | str, title: str | None = None) -> None:
        screen = self.screen
        if isinstance(screen, KioskScreenMixin):
            screen.show_error(error, title)
        else:
            message = said_on_the_kiosk(error) if isinstance(error, KioskError) else error
            own = error.title if isinstance(error, KioskError) else None
            show_toast(self, message, title=title or own or "Not recorded")

    def confirm(self, title: str, lines: list[str], at: datetime | None) -> None:
        """The big confirmation, straight above home (it returns home by itself)."""
        from kiosk.ui.confirm import ConfirmScreen

        when = at or self.clock()
        screen = self.reusable(ConfirmScreen, lambda: ConfirmScreen(title, lines, when))
        screen.show(title, lines, when)
        self.show_over_home(screen)

    def reusable(self, kind: type[S], build: Callable[[], S]) -> S:
        """The one screen of this kind the kiosk keeps (built by ``build`` the first time, or
        again when the terminal changed size since it was last shown)."""
        name = f"kiosk-{kind.__name__}"
        screen = self._reusable.get(name)
        stale = screen is not None and screen.is_mounted and screen.size != self.size
        if stale and screen not in self.screen_stack:
            self._drop_reusable(screen)
            screen = None
        if screen is None or not isinstance(screen, kind):
            screen = build()
            self._reusable[name] = screen
            self.install_screen(screen, name)
        return screen

    def _drop_reusable(self, screen: Screen[Any] | Widget | None) -> None:
        """Forget a kept screen, off the stack already (it broke, or it is out of date), and
        remove it: popped while installed, Textual keeps it mounted."""
        for name, kept in list(self._reusable.items()):
            if kept is screen:
                del self._reusable[name]
                self.uninstall_screen(name)
                if kept.is_mounted:
                    kept.remove()

    def show_over_home(self, screen: Screen[Any]) -> None:
        """Make ``screen`` the one above home, dropping what is above home (nothing is
        recorded). The top screen is replaced by the new one: the home screen is not shown
        (restyled, laid out and drawn) on the way."""
        home = self.home
        if home is None or home not in self.screen_stack:
            self.push_screen(screen)
            return
        if screen in self.screen_stack[1:-1]:  # under another screen: not the usual way
            self.go_home()
        while len(self.screen_stack) > 2 and self.screen is not screen:
            self.pop_screen()
        if self.screen is screen:
            pass
        elif len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)
        home.reset()
        self._last_input = self.clock.monotonic()

    # --- the database -------------------------------------------------------------------------

    def _database_changed(self) -> None:
        """The gateway tried to open the database (it tries again by itself while away)."""
        if self.home is not None:
            self.home.show_db_state()
        self._pump_scans()
        if self.db_state == "ready":
            self.call_after_refresh(self._settle_memory)

    def _answered(self) -> None:
        """A service call's answer has been handled: keys typed and scans made meanwhile
        go on. The screen's idle timeout counts from now: what the answer shows ("Not
        recorded", a form) is read from now, however long the call took (the idle check
        waits while one runs; counted from the key that started it, a refusal after a slow
        call went home a quarter of a second after it was shown, unread)."""
        self._last_input = self.clock.monotonic()
        self._scan_answered()
        if self.keys_held:
            self._release_later()
        self.call_later(self._pump_scans)
        self._collect_once_drawn()

    # --- scans ------------------------------------------------------------------------------

    def receive_scan(self, text: str, *, from_scanner: bool = False) -> None:
        """A badge or label was scanned (``from_scanner``: read from the scanner, a device
        of its own) or a code typed (at the keyboard, on the home screen): queue it."""
        self._scans.append(QueuedScan(text, from_scanner=from_scanner))
        self._pump_scans()

    def requeue_scan(self, text: str) -> None:
        """Handle ``text`` next, before anything else queued (a screen hands on the scan it
        was given: from the scanner if that was; read over another screen first: see
        _pump_scans)."""
        now = self._scan_now
        from_scanner = now is not None and now.from_scanner and now.text == text
        self._scans.appendleft(QueuedScan(text, from_scanner=from_scanner, requeued=True))
        self.call_later(self._pump_scans)

    @property
    def queued_scans(self) -> int:
        """Scans waiting, and keys typed ahead waiting for their screen."""
        return len(self._scans) + self.keys_held

    @property
    def keys_pending(self) -> bool:
        """Keys typed and not yet read: held back a moment in case a scanner's payload is
        coming (or a key held down repeats), one on its way through Textual, or keys
        waiting behind it."""
        return (
            self._held_keys.waiting is not None
            or self._wedge.pending
            or self.key_in_flight()
            or self.keys_held > 0
        )

    # --- type-ahead -------------------------------------------------------------------------

    def keys_must_wait(self) -> bool:
        """Keys must wait (kiosk/ui/keys.py: the last key still on its way, or the screen on
        top still being shown), and here also while a code or an action is being answered
        (its answer may change the screen, and what was typed after it belongs to the screen
        that comes next), or while "Not recorded" is being read."""
        if self.busy or self._scans:
            return True
        if self.keys_held and self.clock.monotonic() < self._typeahead_paused_until:
            return True
        return super().keys_must_wait()

    async def dispatch_key(self, item: events.Key | str) -> None:
        """A key (or a scan) whose turn has come: a kiosk screen reads it first."""
        if not self.screen_stack:
            # The kiosk is closing (its screens are gone): a key or scan typed ahead has no
            # screen to go to; reading self.screen here stopped it with a traceback.
            log.info("a key typed ahead dropped: the kiosk is closing")
            return
        if isinstance(item, str):  # (only a scanner's code waits among the keys: _apply)
            self.receive_scan(item, from_scanner=True)
            return
        # The kiosk screen reads what is typed into its code field here, at once and in
        # order: a key sent to a widget is handled later, in that widget's own queue, and an
        # Enter would overtake (or be overtaken by) the characters around it.
        screen = self.screen
        if isinstance(screen, KioskScreenMixin) and self._came_as_it_appeared(screen, item):
            return
        if isinstance(screen, KioskScreenMixin) and screen.take_key(item):
            return
        if isinstance(screen, KioskScreenMixin) and not item.is_printable:
            # Left to Textual: the focused part, then the bindings (which Textual checks once
            # the key has come back up to the app, behind whatever is queued there by then).
            # Keys typed after it wait until it has been handled (followed up its way, as
            # the console's keys are: kiosk/ui/keys.py): F2 then a badge in one burst is
            # F2's, then the badge's, as when typed one at a time.
            await self.send_key_followed(item)
            return
        await super().dispatch_key(item)  # the console's screens, and the rest

    # After "Not recorded" (the database failed a write), keys the next person typed ahead
    # wait this long: the person whose action failed reads it before their screen goes.
    NOT_RECORDED_READ_SECONDS = 3.0

    def pause_typeahead(self) -> None:
        """Something was not recorded: keys already typed ahead (the next person's) wait
        NOT_RECORDED_READ_SECONDS before going on. With none waiting, nothing waits (a
        retry typed now is read at once)."""
        if self.keys_held:
            until = self.clock.monotonic() + self.NOT_RECORDED_READ_SECONDS
            self._typeahead_paused_until = max(self._typeahead_paused_until, until)

    def requeue_key(self, event: events.Key) -> None:
        """Read ``event`` again, before any key typed after it, on whatever screen reads
        keys next (the screen it reached has just handed over to another one)."""
        self.hold_key(event, first=True)

    def _pump_scans(self) -> None:
        while self._scans and not self.busy and self.db_state != "connecting":
            scan = self._scans.popleft()
            screen = self.screen
            if not isinstance(screen, KioskScreenMixin):
                if reads_no_badges(screen):  # the admin console: dropped, and said
                    log.info("a badge scanned at the admin console: dropped")
                    screen.badge_scanned()  # type: ignore[attr-defined]
                else:
                    log.info("scan ignored on %s", type(screen).__name__)
                continue
            # Read over a screen other than home (a person's, a form, a confirmation; or
            # handed on from one to home): what its answer shows comes under the finger of
            # whoever was using that screen (see _scan_answered).
            over = scan.requeued or cast(object, screen) is not self.home
            read_on = (weakref.ref(screen), showing(screen), scan.from_scanner)
            self._scan_read_on = read_on if over else None
            screen.reading_code = True
            self._scan_now = scan
            try:
                self.gateway.safely(screen.handle_scan, scan.text)
            finally:
                self._scan_now = None
            if not self.busy:
                screen.reading_code = False  # answered at once
                self._scan_answered()

    def _scans_wanted(self) -> bool:
        """The screen on top reads scans, or drops them whole (the admin console: a badge's
        keys were its shortcuts)."""
        screen = self.screen
        if reads_no_badges(screen):
            return True
        return isinstance(screen, KioskScreenMixin) and screen.ACCEPTS_SCANS

    def _scan_answered(self) -> None:
        """A scan read from the scanner over a screen other than home has been answered (and
        whatever call its answer started): if what is on top is another screen now, or the
        same one showing someone else, it came under the finger of the person using the
        screen before. A tap this soon
        after (``DOUBLE_TAP_SECONDS``) was aimed at what was there: dropped. (Emma reached
        for "Deposit phone" as Ben scanned his badge behind her: his screen replaced hers,
        its keys in the same places, and her tap deposited his phone.)"""
        if self.busy and self._scan_read_on is not None:
            # Its answer started another call (a label on a person's screen: what the
            # sign-out form must ask): the screen changes with that one's answer.
            return
        read_on, self._scan_read_on = self._scan_read_on, None
        if read_on is None or not self.screen_stack:
            return
        screen = self.screen
        # (From the scanner only: a code typed at the keyboard, and the tap or key after it,
        # are one person's: Alice types her laptop's label on her screen and taps "Sign out"
        # on the form it brings up.)
        if read_on[2] and (read_on[0]() is not screen or read_on[1] != showing(screen)):
            self._moved_by_itself_at = now = monotonic()
            self._brought_up = (weakref.ref(screen), now)

    # A key that acts (Enter with nothing typed, a function key) pressed before a screen a
    # colleague's badge brought up, or this soon after it appeared, was pressed with the badge:
    # meant for the screen that was there (her Enter came a tenth of a second after his badge).
    # Later, it is the next person's own key, read off their screen (the morning queue: badge,
    # Enter): it acts. (A code typed at the keyboard, then Enter, are one person's: the
    # typed-ahead Enter goes on, as it did.)
    BROUGHT_UP_SECONDS = 0.15

    def _came_as_it_appeared(self, screen: KioskScreenMixin, event: events.Key) -> bool:
        """``event`` acts on ``screen``, which a badge (or label) read from the scanner over
        the screen before has just brought up (``_scan_answered``), and was pressed before it
        appeared or within ``BROUGHT_UP_SECONDS`` of it: it was meant for the screen that was
        there (Emma pressed Enter on her screen as Ben scanned his badge behind her: her Enter
        went to his screen and deposited his phone). So is a function key on a screen that
        came up by itself (``_moved_by_itself``), pressed before it or within
        ``DOUBLE_TAP_SECONDS``. True: dropped, and the screen says so."""
        brought = self._brought_up
        came = self._came_by_itself
        window = (
            (brought, self.BROUGHT_UP_SECONDS, False),
            # A timeout took away the screen a function key was pressed for (the admin's
            # menu, a person's screen): F2 for "Admin console" as the menu went armed home's
            # Phone in / out for the next badge. As for a tap (DOUBLE_TAP_SECONDS). (Home's
            # Enter with nothing typed does nothing: not said.)
            (came, self.DOUBLE_TAP_SECONDS, True),
        )
        for which, seconds, function_keys_only in window:
            if which is None:
                continue
            ref, at = which
            if ref() is not screen or event.time >= at + seconds:
                continue
            name = self._acts(screen, event)
            if name is None or (function_keys_only and name == "Enter"):
                return False
            self._say_dropped(screen, name, f"Press {name}")
            return True
        return False

    def _moved_by_itself(self) -> None:
        """The screen on top changed with nobody asking (a timeout): a tap or a key that acts
        pressed as it went was aimed at the screen that was there (see
        ``DOUBLE_TAP_SECONDS``)."""
        self._moved_by_itself_at = now = monotonic()
        if self.screen_stack:
            self._came_by_itself = (weakref.ref(self.screen), now)

    def _acts(self, screen: KioskScreenMixin, event: events.Key) -> str | None:
        """The key's name as said on the screen, when ``event`` acts there (Enter with
        nothing typed, a function key), else None."""
        field = screen.code_field
        typed = field is not None and bool(field.value.strip())
        if event.key in ENTER_KEYS and not typed:
            return "Enter"
        return event.key.upper() if FUNCTION_KEYS.fullmatch(event.key) else None

    def _say_dropped(self, screen: KioskScreenMixin, name: str, again: str) -> None:
        """Say on ``screen`` that ``name`` (a key, a tap) came as it appeared and did nothing."""
        owner = screen.screen_owner
        whose = f"{one_line(owner.name)}'s screen" if owner is not None else "this screen"
        log.info("%s dropped: pressed as %s appeared", name, whose)
        screen.show_info(
            f"{name} came as {whose} appeared: nothing was done. "
            f"{again} again if it was meant for this screen."
        )

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self._last_input = self.clock.monotonic()
            if isinstance(event, events.Key):
                self.last_key_at = monotonic()
                # A key held down is one press: its repeats go no further (kiosk/ui/keys.py).
                screen = self.screen if self.screen_stack else None
                matters = isinstance(screen, KioskScreenMixin) and screen.repeat_matters(event.key)
                if event.key in ENTER_KEYS:
                    # An Enter again after one that may have opened another screen (it read
                    # a code): told from that Enter held down, whose repeats would act there.
                    matters = matters or self._enter_may_open
                    self._enter_may_open = self._may_open_a_screen(screen)
                for key_event in self._held_keys.feed(event, matters=matters):
                    await self._key_typed(key_event)
                self._expire_held_later()
                return
            if isinstance(event, TAPS) and self._second_tap(event):
                return
            if isinstance(event, TAPS):
                for key_event in self._held_keys.flush():  # a key typed before the tap
                    await self._key_typed(key_event)
            if isinstance(event, TAPS) and self._wedge.pending:
                # A key held back (an "S" that might start a scanner's payload) was typed
                # before this tap: it goes first, into the field it was typed in, not after
                # the button's action and onto the next screen.
                await self._scan_watch.apply(self._wedge.flush())
        elif isinstance(event, events.Paste) and not event.is_forwarded:
            self._last_input = self.clock.monotonic()
            for key_event in self._held_keys.flush():
                await self._key_typed(key_event)
            if self._wedge.pending:
                await self._scan_watch.apply(self._wedge.flush())
            scan = self._wedge.paste(event.text) if self._scans_wanted() else None
            if scan is not None:
                self.receive_scan(scan, from_scanner=True)
                return
        await super().on_event(event)

    def _may_open_a_screen(self, screen: Screen[Any] | None) -> bool:
        """An Enter coming now may read a code and so open another screen: a code is typed
        in the screen's field, or keys typed before it wait to be read, or a code is being
        read (then a repeat of this Enter, were it held down, would land on that screen)."""
        field = screen.code_field if isinstance(screen, KioskScreenMixin) else None
        typed = field is not None and bool(field.value.strip())
        return typed or self.keys_pending or self.busy or bool(self._scans)

    async def _key_typed(self, event: events.Key) -> None:
        """A key typed (not a repeat of a key held down): to the scanner's watch, else on
        to the keys' queue."""
        if self._wedge.pending or self._scans_wanted():
            reading = self.busy or bool(self._scans) or self.keys_pending
            # Timed by when the key came from the terminal, not when it is handled here: a
            # busy kiosk handles a scanner's keys, read together, a tenth of a second or
            # more apart (its Tab suffix then looked typed by hand and went into the form).
            at = event.time
            out = self._wedge.feed(event, event.key, event.character, at, reading=reading)
            if out.scan is not None and event.key in ENTER_KEYS:
                # A scanner's Enter, which ends its payload, is never held down: the person's
                # Enter after it (to deposit) goes at once.
                self._enter_may_open = False
            await self._scan_watch.apply(out)
            return
        self._wedge.passed_by()
        await super().on_event(event)

    def _expire_held_later(self) -> None:
        if self._held_keys.waiting is not None and self._held_keys_timer is None:
            self._held_keys_timer = self.set_timer(
                self._held_keys.GAP + 0.02, self._expire_held, name="held-keys"
            )

    async def _expire_held(self) -> None:
        self._held_keys_timer = None
        for key_event in self._held_keys.expire(monotonic()):
            await self._key_typed(key_event)
        self._expire_held_later()

    # A press in the same place as the last one, this soon after it, on a screen that came up
    # in between, is the second tap of a double tap: aimed at the screen the first one left.
    # (Done tapped twice: the second landed on home's "Phone in / out", in the same place,
    # and armed it for the next person's badge.) So is a press this soon after the screen
    # changed by itself (the idle timeout, the confirmation's own timer), or by a scan read
    # over a screen someone was using (a colleague's badge behind them): aimed at the one
    # that was there (a tap to leave the confirmation, as it left, armed home's button). And
    # so is a press this soon after the screen's buttons moved under the finger (a banner
    # came above them: KioskScreenMixin.tap_targets_moved_at).
    DOUBLE_TAP_SECONDS = 0.5

    def _second_tap(self, event: events.Event) -> bool:
        """A press aimed at a screen that has gone (see ``DOUBLE_TAP_SECONDS``): dropped,
        from the finger going down to its coming up."""
        if isinstance(event, events.MouseDown) and self.screen_stack:
            screen = self.screen
            now = (event.time, event.x, event.y, weakref.ref(screen), showing(screen))
            last, self._last_press = self._last_press, now
            second = (
                last is not None
                and event.time - last[0] < self.DOUBLE_TAP_SECONDS
                and abs(event.x - last[1]) <= 1
                and abs(event.y - last[2]) <= 1
                and (last[3]() is not screen or last[4] != showing(screen))
            )
            if second:
                self._last_press = last  # (a third tap is measured from the first)
            moved_at = max(
                self._moved_by_itself_at, getattr(screen, "tap_targets_moved_at", float("-inf"))
            )
            moved = event.time - moved_at < self.DOUBLE_TAP_SECONDS
            self._press_dropped = second or moved
            if self._press_dropped:
                log.info("a tap dropped: the screen it was aimed at has gone")
                brought = self._brought_up
                if (
                    isinstance(screen, KioskScreenMixin)
                    and brought is not None
                    and brought[0]() is screen
                    and event.time - brought[1] < self.DOUBLE_TAP_SECONDS
                ):  # a code read over the screen in use brought this one: said, as for Enter
                    self._say_dropped(screen, "A tap", "Tap")
            return self._press_dropped
        dropped = self._press_dropped
        if isinstance(event, events.MouseUp):
            self._press_dropped = False
        return dropped

    async def _take_from_wedge(self, out: WedgeOutput[events.Key]) -> None:
        for key_event in out.release:
            await self.deliver_key(key_event)
        if out.scan is not None:
            if self.keys_held:  # after the keys typed before it
                self.hold_key(out.scan)  # (a scanner's code: dispatch_key)
            else:
                self.receive_scan(out.scan, from_scanner=True)

    # --- idle timeout -------------------------------------------------------------------------

    def check_idle_timeout(self) -> None:
        """Four times a second: the screen's idle timeout, against ``clock.monotonic()``."""
        if self.busy or not self.is_running or not self.screen_stack:
            # Not running: the app is closing, its screens' widgets are being taken away (a
            # reset of home then met a half-removed screen: NoMatches, logged as a bug).
            return
        screen = self.screen
        if not isinstance(screen, KioskScreenMixin):
            return
        seconds = screen.idle_seconds
        now = self.clock.monotonic()
        if seconds is None or now - self._last_input < seconds:
            return
        self._last_input = now
        self.gateway.safely(lambda _: screen.on_idle_timeout(), None)
        if self.screen_stack and self.screen is not screen:
            self._moved_by_itself()  # a tap or key now was aimed at ``screen``

    def touch(self) -> None:
        """Count as input (resets the idle timeout)."""
        self._last_input = self.clock.monotonic()

    # --- leaving ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in FORBIDDEN_ACTIONS:
            return False
        return super().check_action(action, parameters)

    async def action_quit(self) -> None:
        self.action_request_exit()

    def action_request_exit(self) -> None:
        """Ctrl+Q and the Admin button: the PIN pad (leaving needs the admin PIN)."""
        from kiosk.ui.pin import PinScreen

        if isinstance(self.screen, PinScreen) or not self._scans_wanted():
            return
        # The last message of the screen underneath is not about the PIN: it would show
        # through the pad and read as if it were.
        screen = self.screen
        if isinstance(screen, KioskScreenMixin):
            screen.clear_notice()
        self.load_screens_css()
        self.push_screen(PinScreen())

    def action_toggle_contrast(self) -> None:
        self.theme = KIOSK.name if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def allow_exit(self) -> None:
        """The app is being stopped from outside (SIGTERM): it may close."""
        self._exit_allowed = True

    def exit_kiosk(self, by: str | None = None) -> None:
        """Leave the app: only after a correct admin PIN and an admin's badge."""
        self._exit_allowed = True
        log.info("kiosk closed by %s", by or "an admin")
        self.exit()

    def open_admin_console(self, admin_code: str, lockouts: Sequence[datetime] = ()) -> bool:
        """Push the admin console; False when it is not installed."""
        try:
            from kiosk.ui.admin import AdminConsoleScreen
        except ImportError:
            return False
        assert self.services is not None
        self.go_home()
        # A new console for each admin session: nothing of the last one is kept.
        self.push_screen(AdminConsoleScreen(self.services, admin_code, lockouts=lockouts))
        return True

    # --- unexpected errors ----------------------------------------------------------------

    # (kiosk.ui.tuning.errors.PlainErrors calls these three)

    def report_unexpected(self, error: BaseException) -> None:
        """No traceback ever reaches the screen: it goes to the log file."""
        log.error(
            "unexpected error\n%s",
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        )
        self.unexpected_errors.append(error)

    def stopped_message(self) -> str:
        where = f" Details are in {self.log_file}." if self.log_file else ""
        return f"The kiosk stopped after an unexpected problem.{where}"

    def recover_from(self, pump: object) -> None:
        """An error in a screen's or widget's handler: tell the person, carry on."""
        broken = pump if isinstance(pump, Screen) else getattr(pump, "screen", None)
        self._recover(broken)

    def _recover(self, broken: Screen[Any] | Widget | None) -> None:
        from kiosk.ui.home import HomeScreen

        self.gateway.busy = False
        if broken is not None and broken in self._reusable.values():
            self.go_home()
            self._drop_reusable(broken)
        if broken is self.home or self.home is None or not self.home.is_attached:
            self.home = HomeScreen()
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self.push_screen(self.home)
        else:
            self.go_home()
        self.call_later(self.show_error, UNEXPECTED, "Not recorded")


if TYPE_CHECKING:
    from kiosk.ui.host import KioskHost

    def _screens_see_a_host(app: KioskApp) -> KioskHost:
        return app  # mypy checks here that the app is what its screens take it for
