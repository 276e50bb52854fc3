"""Keys for the UI tests as a terminal delivers them, whatever the machine's load.

``pilot.press`` sends a key, then waits until the process looks idle (up to a second, twice)
before it makes the next one, and a key's time is taken when it is made. On a busy machine
(CI runs two test passes beside each other on two cores) a scanner's payload typed so came
with keys more than half a second apart: the scanner watch (kiosk.ui.scanner.ScanWedge)
rightly read that as a person typing, and the test failed on the machine, not the kiosk.

A terminal's keys do not wait for the app: the driver's thread reads them, stamps each as
it comes and posts it, whatever the app is doing. So do these:

- :func:`scanned`: a scanner's payload and its Enter, as one read (all at once);
- :func:`typed`: a person's keys, ``gap`` seconds apart by the wall clock, from a thread of
  their own, each stamped as it is typed, whether or not the app has caught up;
- :func:`burst`: keys posted with no pause (a fast typist, a frozen machine catching up).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from collections.abc import Sequence
from typing import Any

from textual import events
from textual.app import App
from textual.keys import KEY_NAME_REPLACEMENTS, KEY_TO_UNICODE_NAME, REPLACED_KEYS
from textual.pilot import Pilot

# Keys named by one character in the tests' strings.
KEY_NAMES = {" ": "space", "/": "slash", "⏎": "enter", "⎋": "escape"}


def key_event(key: str) -> events.Key:
    """The key event for one character or a key's name ("⏎" Enter, "⎋" Esc), named as
    ``pilot.press`` names it (":" is "colon")."""
    name = KEY_NAMES.get(key, key)
    if len(name) != 1:
        original = REPLACED_KEYS.get(name, name)  # "slash": "solidus"
        try:
            character = unicodedata.lookup(KEY_TO_UNICODE_NAME.get(original, original.upper()))
        except KeyError:  # "enter", "f2": no character, as pilot.press sends them
            character = None
        return events.Key(name, character)
    character = name
    if not name.isalnum():
        with contextlib.suppress(ValueError):  # a character without a name keeps its own
            name = unicodedata.name(name).lower().replace("-", "_").replace(" ", "_")
        name = KEY_NAME_REPLACEMENTS.get(name, name)
    return events.Key(name, character)


def burst(app: App[Any], *keys: str) -> None:
    """Keys posted to the app with no pause between them (a fast typist, a frozen machine
    catching up): one character each, or a key's name; "⏎" is Enter."""
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app.post_message(event)


def scanned(app: App[Any], payload: str) -> None:
    """A USB scanner types ``payload`` and Enter: the terminal hands them over in one read,
    each key stamped as it is read (microseconds apart). The caller waits for what follows."""
    for key in (*payload, "enter"):
        event = key_event(key)
        event.set_sender(app)
        app.post_message(event)


async def typed(pilot: Pilot[Any], keys: str | Sequence[str], gap: float = 0.2) -> None:
    """Keys typed one at a time at a person's speed ("⏎" Enter, "⎋" Esc; or a list of keys
    by name, ``["f8", "f8"]``): at least ``gap`` seconds apart by the wall clock, posted from
    a thread as the driver's would be, so a busy app does not stretch the typing (it may
    fall behind, as it would). Then, as ``pilot.press`` does, until the app has caught up
    with them, and ``gap`` more."""
    app = pilot.app
    loop = asyncio.get_running_loop()

    def typist() -> None:
        for index, key in enumerate(keys):
            if index:
                time.sleep(gap)
            event = key_event(key)  # stamped now, as it is typed
            event.set_sender(app)
            loop.call_soon_threadsafe(app.post_message, event)

    await asyncio.to_thread(typist)
    await caught_up(pilot)
    await pilot.pause(gap)


async def caught_up(pilot: Pilot[Any], within: float = 10.0) -> None:
    """The keys posted so far have been handled: the screen has taken its messages
    (``pilot.pause``) and the app holds none typed ahead (``keys_held``, an app with
    kiosk.ui.keys.KeysInOrder), as far as ``within`` seconds allow."""
    app = pilot.app
    deadline = time.monotonic() + within
    await pilot.pause()
    while getattr(app, "keys_held", 0) and time.monotonic() < deadline:
        await pilot.pause(0.02)
