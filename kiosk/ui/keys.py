"""Keys in the order they were typed, for the screens that ask for it (the admin console and
its dialogs), in whichever app shows them: the kiosk app and ``kiosk admin``.

Textual hands a key to the focused widget, and runs the screen's key bindings only once the
key has come back up to the app, behind whatever was queued meanwhile: a key typed right
after a shortcut reached the widget that had the cursor *before* the shortcut's action moved
it (to a field) or opened a dialog over it. An app with :class:`KeysInOrder` sends such keys
one at a time: the next one goes once the last has been handled all the way up (followed in
each widget's queue; the kiosk app sends a kiosk screen's function keys, Esc and Tab the same
way, ``send_key_followed``), and once the screen on top
says it is ready for keys (a dialog drawn, its first field focused). Stock Textual public API
only: ``on_event``, ``call_later``, ``set_timer``.

A screen takes part with ``KEYS_IN_ORDER = True``; it may say ``keys_ready`` (False while it
is being shown: keys typed meanwhile wait for it, at most ``KEYS_WAIT_SECONDS``) and refuse
a key with ``refuse_key(event)`` (True: the key is dropped).
"""

from __future__ import annotations

from collections import deque
from time import monotonic
from typing import Any, TypeVar

from textual import events
from textual.app import App
from textual.timer import Timer
from textual.widget import Widget

ReturnT = TypeVar("ReturnT")


def orders_keys(screen: object) -> bool:
    """Whether ``screen`` wants its keys in order (see the module's docstring)."""
    return bool(getattr(screen, "KEYS_IN_ORDER", False))


class KeysInOrder(App[ReturnT]):
    """A mixin for an App (before ``App`` in its bases): keys for screens with
    ``KEYS_IN_ORDER`` are sent one at a time, in order (see the module's docstring)."""

    # A key sent on is followed at most this long (a safety net: its widget went away).
    KEY_FLIGHT_SECONDS = 1.0
    # Keys wait at most this long for a screen that does not say it is ready.
    KEYS_WAIT_SECONDS = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ordered_held: deque[events.Key] = deque()
        self._ordered_held_since = 0.0
        self._ordered_flying: events.Key | None = None
        self._ordered_flying_since = 0.0
        self._ordered_next: events.Key | None = None
        self._ordered_timer: Timer | None = None

    @property
    def keys_held(self) -> int:
        """Keys typed ahead, waiting for the last one or for the screen on top."""
        return len(self._ordered_held)

    def key_in_flight(self) -> bool:
        """A key sent on with :meth:`send_key_followed` is still on its way (at most
        ``KEY_FLIGHT_SECONDS``)."""
        if self._ordered_flying is None:
            return False
        if monotonic() - self._ordered_flying_since < self.KEY_FLIGHT_SECONDS:
            return True
        self._ordered_flying = None
        return False

    def _keys_wait(self) -> bool:
        """The next key must wait: the last one is still on its way, or the screen on top
        is not ready for keys yet."""
        now = monotonic()
        if self.key_in_flight():
            return True
        if not self.screen_stack:
            return False
        screen = self.screen
        if not orders_keys(screen) or getattr(screen, "keys_ready", True):
            return False
        since = self._ordered_held_since if self._ordered_held else now
        return now - since < self.KEYS_WAIT_SECONDS

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if event is self._ordered_next:
                self._ordered_next = None
            elif self._ordered_held or self._keys_wait():
                if not self._ordered_held:
                    self._ordered_held_since = monotonic()
                self._ordered_held.append(event)
                self._release_later()
                return
            if self.screen_stack and orders_keys(self.screen):
                await self._send_key(event)
                return
        await super().on_event(event)

    async def _send_key(self, event: events.Key) -> None:
        screen = self.screen
        refuse = getattr(screen, "refuse_key", None)
        if callable(refuse) and refuse(event):
            return
        await self.send_key_followed(event)

    async def send_key_followed(self, event: events.Key) -> None:
        """Hand ``event`` to Textual (the priority bindings, else the focused widget, then up
        to the bindings) and follow it until it has been handled: :meth:`key_in_flight`
        meanwhile, :meth:`key_landed` once it is over. (The kiosk app sends a kiosk screen's
        function keys, Esc and Tab this way: F2 then a badge in one burst is F2's, then the
        badge's.)"""
        target: Widget = self.focused or self.screen
        self._ordered_flying = event
        self._ordered_flying_since = monotonic()
        await super().on_event(event)  # Textual: the priority bindings, else on to ``target``
        if self._ordered_flying is event and not target.call_later(
            self._follow_key_up, event, target, target, self.FOLLOW_PASSES - 1
        ):
            self.key_landed(event)

    # The key's own way up, then once more from where it was sent: what its handlers posted
    # on the way (Enter in a field: the field's Submitted, whose handler moves the focus on
    # with a call on the app) is handled before the next key (typed "⏎Parents" on the
    # Extend screen went into the date field the Enter had just left).
    FOLLOW_PASSES = 2

    def _follow_key_up(
        self, key: events.Key, node: Widget | App[Any], start: Widget, passes_left: int
    ) -> None:
        """Follow ``key`` up the way it bubbles (its widget, the parents, the screen, the
        app), one step behind it in each one's queue: at the app, its bindings have run, or
        a widget on the way used it; then again from ``start`` while passes are left."""
        if self._ordered_flying is not key:
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

    def key_landed(self, key: events.Key) -> None:
        """``key`` has been handled: the keys after it go on."""
        if self._ordered_flying is key:
            self._ordered_flying = None
        if self._ordered_held:
            self.call_later(self._release_keys)

    def _release_later(self) -> None:
        if self._ordered_timer is None:
            self._ordered_timer = self.set_timer(0.02, self._release_keys, name="keys-in-order")

    async def _release_keys(self) -> None:
        if self._ordered_timer is not None:
            self._ordered_timer.stop()
            self._ordered_timer = None
        while self._ordered_held and not self._keys_wait():
            key = self._ordered_held.popleft()
            if not self.screen_stack:
                continue  # closing: nothing to type into
            self._ordered_next = key
            await self.on_event(key)  # the app's own way with a key (the kiosk's included)
        if self._ordered_held:
            self._release_later()
