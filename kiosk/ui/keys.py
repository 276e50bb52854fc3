"""Keys in the order they were typed: one queue for every screen of the app, in whichever app
shows them (the kiosk app and ``kiosk admin``).

Textual hands a key to the focused widget, and runs the screen's key bindings only once the
key has come back up to the app, behind whatever was queued meanwhile: a key typed right
after a shortcut reached the widget that had the cursor *before* the shortcut's action moved
it (to a field) or opened a dialog over it; and a key typed while a screen is still being
shown reached the screen it was leaving. An app with :class:`KeysInOrder` holds the keys
typed while they must wait, in one queue, in order, and hands them on one at a time once
they may go (``keys_must_wait``):

* a key sent on with :meth:`KeysInOrder.send_key_followed` is still on its way (followed up
  each widget's queue until handled: F2 then a badge in one burst is F2's, then the badge's);
* the screen on top says it is not ready for keys yet (``keys_ready`` False: a dialog not
  drawn, a kiosk screen not yet resumed), at most ``KEYS_WAIT_SECONDS``: a screen that never
  says so must not eat the keyboard;
* whatever the app adds (the kiosk: a code being answered, scans queued, "Not recorded" being
  read).

A tap (a press of the mouse or of the touch screen) made while keys typed before it are still
waiting or on their way waits behind them, in the same queue: the button it pressed acts on
everything typed before it ("Joe Bloggs" typed fast, then Add: "Joe Blog" was saved, and the
"gs" went on to the console's table). Its turn come, it goes to the screen it was made on, or
nowhere if that screen has gone meanwhile, or shows something else now (a kept screen shown
again: ``showing``): what is under it now is not what was tapped. A tap handed on is followed
as a key sent on is: the keys typed after it wait until what it pressed has been handled.

Where a key goes once its turn has come is :meth:`KeysInOrder.dispatch_key`: a screen with
``KEYS_IN_ORDER = True`` (the admin console and its dialogs) gets each key followed, after its
``refuse_key(event)`` (True: the key is dropped); the kiosk app sends a kiosk screen's keys to
the screen's code field first. Stock Textual public API only: ``on_event``, ``call_later``,
``set_timer``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.errors import NoWidget
from textual.timer import Timer
from textual.widget import Widget

from kiosk.ui.scanner import ScanWedge, WedgeOutput

ReturnT = TypeVar("ReturnT")

# A press of the mouse or a tap of the touch screen.
TAPS = (events.MouseDown, events.MouseUp, events.Click)


@dataclass(frozen=True)
class HeldTap:
    """A tap made while keys typed before it waited, the screen it was made on, and what
    that screen showed then (:func:`showing`)."""

    event: events.MouseEvent
    screen: object
    showing: object = None


def showing(screen: object) -> object:
    """What ``screen`` shows now, as far as a tap on it goes: a screen that is kept and shown
    again for something else (the kiosk's person's screen, for the next badge) counts its
    showings (``showing``); a tap made on one is not for the next."""
    return getattr(screen, "showing", None)


# What a screen is handed from the queue: a key, or (in an app that reads scans: the kiosk) a
# scanner's code read while keys typed before it were waiting. A tap waits there too.
Held = events.Key | str


def reads_no_badges(screen: object) -> bool:
    """Whether ``screen`` (the admin console and its dialogs) takes no badge: a scanner's
    payload typed there is found among the keys (kiosk.ui.scanner.ScanWedge) and dropped,
    the screen's ``badge_scanned()`` saying so, in whichever app shows it."""
    return bool(getattr(screen, "READS_NO_BADGES", False))


class ScanWatch:
    """An app's scanner watch (:class:`kiosk.ui.scanner.ScanWedge`) and the timer that lets
    the keys it holds back go (or takes them as a scan ended without its Enter) when no key
    follows within its ``hold_seconds``: one for the kiosk and for ``kiosk admin``, which
    differ only in what they do with what comes out (``take``: the keys released, in order,
    then the scan, if any)."""

    def __init__(
        self, app: App[Any], take: Callable[[WedgeOutput[events.Key]], Awaitable[None]]
    ) -> None:
        self.wedge: ScanWedge[events.Key] = ScanWedge()
        self._app = app
        self._take = take
        self._timer: Timer | None = None

    async def apply(self, out: WedgeOutput[events.Key]) -> None:
        """Hands ``out`` on, then waits again for the keys still held, if any."""
        await self._take(out)
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.wedge.pending:
            self._timer = self._app.set_timer(self.wedge.hold_seconds + 0.02, self._expire)

    async def _expire(self) -> None:
        self._timer = None
        out = self.wedge.expire(monotonic())
        if out.release or out.scan is not None:
            await self.apply(out)
        elif self.wedge.pending:  # a key came meanwhile: its hold has not run out yet
            self._timer = self._app.set_timer(self.wedge.hold_seconds / 2, self._expire)


def orders_keys(screen: object) -> bool:
    """Whether ``screen`` wants each key followed (see the module's docstring)."""
    return bool(getattr(screen, "KEYS_IN_ORDER", False))


class KeysInOrder(App[ReturnT]):
    """A mixin for an App (before ``App`` in its bases): keys are handed on in the order they
    were typed, one at a time while they must wait (see the module's docstring)."""

    # A key sent on is followed at most this long (a safety net: its widget went away).
    KEY_FLIGHT_SECONDS = 1.0
    # Keys wait at most this long for a screen that does not say it is ready.
    KEYS_WAIT_SECONDS = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[Held | HeldTap] = deque()
        self._held_since = 0.0
        self._held_timer: Timer | None = None
        # A key sent on, or the release of a tap (see _send_tap), still on its way.
        self._flying: events.Key | events.MouseUp | None = None
        self._flying_since = 0.0

    @property
    def keys_held(self) -> int:
        """Keys (and scans) typed ahead, waiting for the last key or for the screen on top."""
        return len(self._held)

    def key_in_flight(self) -> bool:
        """A key sent on with :meth:`send_key_followed` is still on its way (at most
        ``KEY_FLIGHT_SECONDS``)."""
        if self._flying is None:
            return False
        if monotonic() - self._flying_since < self.KEY_FLIGHT_SECONDS:
            return True
        self._flying = None
        return False

    def keys_must_wait(self) -> bool:
        """The next key must wait: the last one is still on its way, or the screen on top is
        not ready for keys yet (for at most ``KEYS_WAIT_SECONDS``). An app adds its own
        reasons (``super()`` first or last)."""
        if self.key_in_flight():
            return True
        if not self.screen_stack or getattr(self.screen, "keys_ready", True):
            return False
        since = self._held_since if self._held else monotonic()
        return monotonic() - since < self.KEYS_WAIT_SECONDS

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self.deliver_key(event)
            return
        if (
            isinstance(event, TAPS)
            and not event.is_forwarded
            and self.screen_stack
            and (self._held or self.key_in_flight())
        ):
            screen = self.screen
            self.hold_key(HeldTap(event, screen, showing(screen)))  # behind the keys before it
            return
        if isinstance(event, TAPS) and not event.is_forwarded:
            await self._send_tap(event)
            return
        await super().on_event(event)

    async def deliver_key(self, item: Held) -> None:
        """A key (or a scan) typed now: handed on at once, or held behind those before it."""
        if self._held or self.keys_must_wait():
            self.hold_key(item)
            return
        await self.dispatch_key(item)

    def hold_key(self, item: Held | HeldTap, *, first: bool = False) -> None:
        """Keep ``item`` for later: after the keys held already, or before them (``first``:
        a key read again on the screen that reads keys next)."""
        if not self._held:
            self._held_since = monotonic()
        if first:
            self._held.appendleft(item)
        else:
            self._held.append(item)
        self._release_later()

    def hold_since_now(self) -> None:
        """The keys held wait for the screen on top from now (``KEYS_WAIT_SECONDS``): what
        they waited for until now (the app's own reason) is over only later."""
        self._held_since = monotonic()

    async def dispatch_key(self, item: Held) -> None:
        """Hand ``item`` on, its turn having come. An app that reads scans handles a ``str``
        (here there is nothing to read it) and may send keys elsewhere first; the rest come
        here: to the screen on top."""
        if isinstance(item, str) or not self.screen_stack:
            return  # closing: nothing to type into
        screen = self.screen
        if orders_keys(screen):
            refuse = getattr(screen, "refuse_key", None)
            if not (callable(refuse) and refuse(item)):
                await self.send_key_followed(item)
            return
        await super().on_event(item)

    async def send_key_followed(self, event: events.Key) -> None:
        """Hand ``event`` to Textual (the priority bindings, else the focused widget, then up
        to the bindings) and follow it until it has been handled: :meth:`key_in_flight`
        meanwhile, :meth:`key_landed` once it is over."""
        target: Widget = self.focused or self.screen
        self._flying = event
        self._flying_since = monotonic()
        await super().on_event(event)  # Textual: the priority bindings, else on to ``target``
        if self._flying is event and not target.call_later(
            self._follow_key_up, event, target, target, self.FOLLOW_PASSES - 1
        ):
            self.key_landed(event)

    # The key's own way up, then once more from where it was sent: what its handlers posted
    # on the way (Enter in a field: the field's Submitted, whose handler moves the focus on
    # with a call on the app) is handled before the next key (typed "⏎Parents" on the
    # Extend screen went into the date field the Enter had just left).
    FOLLOW_PASSES = 2

    def _follow_key_up(
        self,
        key: events.Key | events.MouseUp,
        node: Widget | App[Any],
        start: Widget,
        passes_left: int,
    ) -> None:
        """Follow ``key`` up the way it bubbles (its widget, the parents, the screen, the
        app), one step behind it in each one's queue: at the app, its bindings have run, or
        a widget on the way used it; then again from ``start`` while passes are left."""
        if self._flying is not key:
            return
        parent = node.parent if node is not self else None
        step = self._follow_key_up
        if isinstance(parent, Widget | App) and parent.call_later(
            step, key, parent, start, passes_left
        ):
            return
        if passes_left > 0 and start.call_later(step, key, start, start, passes_left - 1):
            return
        self.key_landed(key)

    def key_landed(self, key: events.Key | events.MouseUp) -> None:
        """``key`` has been handled: the keys after it go on."""
        if self._flying is key:
            self._flying = None
        self.release_keys()

    def release_keys(self) -> None:
        """Something keys waited for is over (a key landed, a screen is ready): the keys held
        go on now, as far as they may."""
        if self._held:
            self.call_later(self._release_keys)

    def _release_later(self) -> None:
        if self._held_timer is None:
            self._held_timer = self.set_timer(0.02, self._release_keys, name="keys-in-order")

    async def _release_keys(self) -> None:
        if self._held_timer is not None:
            self._held_timer.stop()
            self._held_timer = None
        while self._held and not self.keys_must_wait():
            item = self._held.popleft()
            if isinstance(item, HeldTap):
                await self._tap(item)
            else:
                await self.dispatch_key(item)
        if self._held:
            self._release_later()

    async def _tap(self, tap: HeldTap) -> None:
        """A tap whose turn has come: to Textual, if the screen it was made on is still the
        one on top, showing what it showed then (else it is dropped: what is under it now is
        not what was tapped)."""
        if self.screen_stack and self.screen is tap.screen and showing(self.screen) == tap.showing:
            await self._send_tap(tap.event)

    async def _send_tap(self, event: events.MouseEvent) -> None:
        """Hand a tap to Textual; its release (where Textual makes the click) is followed
        up from the widget under it as a key sent on is (:meth:`send_key_followed`): the
        keys typed after it wait until what it pressed has been handled. (Done tapped, then
        Enter: the Enter, read at once, overtook the tap and deposited the phone on the
        screen Done was leaving.)"""
        await super().on_event(event)
        if not isinstance(event, events.MouseUp) or not self.screen_stack:
            return
        try:
            target, _ = self.get_widget_at(event.x, event.y)
        except NoWidget:
            return
        self._flying = event
        self._flying_since = monotonic()
        if not target.call_later(
            self._follow_key_up, event, target, target, self.FOLLOW_PASSES - 1
        ):
            self.key_landed(event)


# --- a key held down ---------------------------------------------------------------------------

# The function keys (F1 to F12, as Textual names them): a repeat of one held down is always
# told from a second press (see HeldKeys).
FUNCTION_KEYS = re.compile(r"f\d{1,2}")
# Keys that act (read a code, do a screen's main action, press one of its function keys): a
# key of these held down is one press. (Letters, arrows, Page Down, Backspace repeat as the
# person sees them on the screen, and as they mean them to.)
ACTING_KEYS = re.compile(rf"enter|ctrl\+m|ctrl\+j|{FUNCTION_KEYS.pattern}")


class HeldKeys:
    """A key held down is one press: its repeats (the terminal sends the key again, after a
    delay, many times a second, until it is let go) are dropped.

    A terminal sends no key-up: a repeat is told by what comes after it. The first repeat
    comes a delay after the press (a quarter to a whole second, as a second press might),
    the next ones ``GAP`` apart at most (a function key's, ``FUNCTION_GAP``: see there). So
    an acting key that is the same key as the last one, ``GAP`` or more after it (and at
    most ``FIRST_REPEAT_WITHIN``: later, it is a press), waits (at most ``GAP``) for what
    comes next: the same key again within ``GAP`` makes it the first repeat of a key held
    down, and it and the rest of the run are dropped; anything else (or nothing) makes it a
    press of its own, handed on. The same key twice within ``GAP`` of a press (a double
    press, keys that waited while the kiosk was busy and came in one go) is two presses, as
    before: a key's first repeat never comes that soon.

    Only where a second press does more than the first (``matters``: the screen says so,
    ``KioskScreenMixin.repeat_matters``: F8's "press again to confirm" asked, F4's undo, the
    review's "Press Enter again to send it") does a key wait: elsewhere a second Enter does
    what the first did or nothing (a deposit's confirmation goes home), and the wait would
    put 0.15 s on every Enter typed after a badge's Enter. A function key always waits so: a
    function key held down on one screen does not land, repeated, on the next one, which
    gives it another meaning (F2 held on a person's screen deposited her phone, and its
    repeats ran through the confirmation onto home's "Phone in / out", armed for the next
    person's badge: his phone was recorded without his screen being shown). A second press
    of a function key within a second is rare, and waits up to ``FUNCTION_GAP``. (The kiosk
    also makes an Enter matter when the Enter before it may have read a typed code: its
    repeats, held down, would land on the screen that code opened and deposit a phone
    there; ``KioskApp.on_event``.)

    Plain Python: ``feed`` takes events with ``key`` and ``time`` (the time the key came) and
    returns those to hand on now, in order."""

    GAP = 0.15
    # A function key's repeats may come this far apart: a keyboard set to repeat slowly (a
    # common accessibility setting, five times a second) sends them 0.2 s apart, the Linux
    # console at its slowest (kbdrate -r 2.0 to 2.5) 0.4 to 0.5 s apart, with some tens of
    # ms of jitter on top (hence 0.65, not 0.5), and a held F2 counted each as a new press,
    # went through the confirmation and armed home's "Phone in / out". A second press of one
    # within a second waits this long to be told from a first repeat; once held, the run
    # goes on while the same key comes again within half as long again as its repeats come
    # (at most this, at least GAP): a press of its own, a moment after letting go of a key
    # that repeats fast, is a press.
    FUNCTION_GAP = 0.65
    # A key's first repeat comes at most this long after its press (terminals and keyboards
    # wait a quarter to a whole second, with some jitter): the same key again later is a
    # press of its own, handed on at once. (It waited, and a quick second press within GAP,
    # F4 twice after an undo a moment before, made both "a key held down": both dropped,
    # nothing undone.)
    FIRST_REPEAT_WITHIN = 1.2

    def __init__(self) -> None:
        self._last_key: str | None = None
        self._last_at = float("-inf")
        self._repeating = False  # the last key was a repeat of a key held down
        self._run_gap = self.GAP  # while repeating: the same key within this is still held
        self.waiting: Any = None  # an acting key waiting to be told from a first repeat
        self.dropped = 0  # repeats dropped (for the log and the tests)

    def feed(self, event: Any, *, matters: bool = True) -> list[Any]:
        key, at = str(event.key), float(event.time)
        function = bool(FUNCTION_KEYS.fullmatch(key))
        run_gap = self.FUNCTION_GAP if function else self.GAP  # repeats come closer than this
        out = []
        waiting, self.waiting = self.waiting, None
        if waiting is not None:
            if key == waiting.key and at - waiting.time < run_gap:
                self._repeating = True  # it was the first repeat, this the second
                every = at - float(waiting.time)  # how often this keyboard repeats
                self._run_gap = min(run_gap, max(self.GAP, 1.5 * every))
                self._last_at = at
                self.dropped += 2
                return []
            out.append(waiting)  # a press of its own
        same, gap = key == self._last_key, at - self._last_at
        self._last_key, self._last_at = key, at
        if not ACTING_KEYS.fullmatch(key):
            self._repeating = False
            return [*out, event]
        if same and gap < self._run_gap and self._repeating:
            self.dropped += 1
            return out  # still held down
        if same and gap < self.GAP:
            return [*out, event]  # pressed twice at once: two presses
        self._repeating = False
        matters = matters or function
        if same and matters and gap <= self.FIRST_REPEAT_WITHIN:
            self.waiting = event  # a second press, or the first repeat: the next key says
            return out
        return [*out, event]

    def expire(self, now: float) -> list[Any]:
        """Nothing came ``GAP`` after the key waiting: it was a press of its own."""
        waiting = self.waiting
        if waiting is None:
            return []
        run_gap = self.FUNCTION_GAP if FUNCTION_KEYS.fullmatch(str(waiting.key)) else self.GAP
        if now - float(waiting.time) < run_gap:
            return []
        self.waiting = None
        return [waiting]

    def flush(self) -> list[Any]:
        """Something that is not a key comes (a tap, a paste): the key waiting was a press."""
        waiting, self.waiting = self.waiting, None
        return [waiting] if waiting is not None else []
