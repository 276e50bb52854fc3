"""Tuning piece ``gc``: garbage collection while a person reads what was just drawn, and what
lives for good kept out of the collector's full passes. Every ``gc`` call of the kiosk is here.

Python's collector runs when allocations make it due, which is in the middle of whatever
allocates: drawing the next screen. A person needs a tenth of a second at least to answer what
they have just been shown, so once a screen has been drawn, the collection that would come
next is done then instead: the middle generation (about 1 ms) whenever it has anything, a full
collection once it is due or nearly (FULL_MARGIN). A big screen that was closed (the admin
console: tens of thousands of objects) is collected whole at the first reading moment once it
can be: its stopped timers still refer to it for a second or two.

What the imports made is frozen out of the full passes as the kiosk app is made
(:func:`freeze_loaded`), so the first full pass, due while the home screen is built, walks
only what is new. Once the kiosk is up (home drawn, database open), what exists (modules, the
ORM, the app and its home screen: some 100,000 objects) is frozen out of the full passes
(:func:`settle`); while an admin console is open, it is too (:func:`console_ready`), and given
back when it closes (:func:`console_closed`), so that a closed console is freed.

Every function here does nothing unless the ``gc`` piece is on (``KIOSK_TUNING``).
"""

from __future__ import annotations

import gc
import weakref
from time import monotonic
from typing import Any

from textual.app import App
from textual.screen import Screen

# A full collection is done at a reading moment when it would come within this many more
# middle-generation collections: a view change of the admin console makes two or three.
FULL_MARGIN = 3
# A closed screen still referred to at its pile's time (a stopped timer late to let go, on a
# loaded machine) is looked for again this much later, up to PILE_TRIES times in all.
PILE_RETRY_SECONDS = 0.5
PILE_TRIES = 20

_pile_from: float | None = None  # when a closed screen's garbage can be collected (monotonic)
_piles: list[weakref.ref[Any]] = []  # the closed screens that pile is to free
_pile_tries = 0
_settled = False  # settle() has frozen what lives for good
_frozen = False  # gc.freeze() is in force
_paused = False  # pause() disabled the collector


def _on() -> bool:
    from kiosk.ui import tuning

    return tuning.enabled("gc")


def settled() -> bool:
    return _settled


def freeze_loaded() -> None:
    """As the kiosk app is made: what exists (the modules, classes and functions imported:
    they live for good) is frozen out of the collector's passes. The first full collection
    comes due while the home screen is built (some 80,000 objects made by then) and walked
    them all: 13 to 27 ms before the first frame. :func:`settle` collects and freezes again
    once the kiosk is up; :func:`release` gives them back."""
    global _frozen
    if _settled or not _on():
        return
    gc.freeze()
    _frozen = True


def settle() -> None:
    """Once the kiosk is up: collect, then freeze what exists (once)."""
    global _settled, _frozen
    if _settled or not _on():
        return
    gc.collect()
    gc.freeze()
    _settled = _frozen = True


def release() -> None:
    """Back to plain collection (an app closing, or the ``gc`` piece switched off)."""
    global _settled, _frozen, _pile_from, _pile_tries
    resume()
    if _frozen:
        gc.unfreeze()
    _settled = _frozen = False
    _pile_from = None
    _piles.clear()
    _pile_tries = 0


def console_ready() -> None:
    """An admin console is built and drawn: what is alive now stays out of the full passes
    while it is open (they walk every object: 80-180 ms at 1M events, every few views)."""
    global _frozen
    resume()
    if not _on():
        return
    gc.freeze()
    _frozen = True


def console_closed(after_seconds: float, console: Any = None) -> None:
    """An admin console closed: its objects can be freed again (unfrozen), in full at the
    first reading moment after ``after_seconds`` (see :func:`expect_pile`)."""
    global _frozen
    resume()
    if not _on():
        return
    if _frozen:
        gc.unfreeze()
        _frozen = False
    expect_pile(after_seconds, console)


def pause() -> None:
    """No collection while a big screen is built (resumed by :func:`resume`, or by
    ``console_ready``/``console_closed``)."""
    global _paused
    if _on() and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def expect_pile(after_seconds: float, screen: Any = None) -> None:
    """A big screen has just closed: collect in full at the first reading moment once
    ``after_seconds`` have passed (what still refers to it has let go by then). An earlier
    one still waiting keeps its time: screens closed one after another are not all put off
    until the last one can go.

    With ``screen`` given, that collection checks it was freed before freezing what is alive
    again: still referred to (a stopped timer that had not ticked yet on a loaded machine),
    it would have been frozen with the rest, out of every later collection, and kept until
    the next console closed. Then nothing is frozen and the pile is tried again
    PILE_RETRY_SECONDS later (up to PILE_TRIES times: a screen still held after that is
    kept by something other than its timers)."""
    global _pile_from, _pile_tries
    if not _on():
        return
    due = monotonic() + after_seconds
    _pile_from = due if _pile_from is None else min(_pile_from, due)
    _pile_tries = 0
    if screen is not None:
        _piles.append(weakref.ref(screen))


def collect_once_drawn(app: App[Any]) -> None:
    """Once the screen now on top has been drawn, collect (see the module's note)."""
    if _on():
        app.call_after_refresh(collect_while_read, app, app.screen)


def collect_while_read(app: App[Any], drawn: Screen[Any]) -> None:
    global _pile_from, _frozen, _pile_tries
    if not _on() or not app.is_running or not app.screen_stack:
        return
    if app.screen is not drawn:
        return  # another screen came on top first: its own turn comes when it is drawn
    if _pile_from is not None and monotonic() >= _pile_from:
        _pile_from = None
        gc.collect()
        _piles[:] = [screen for screen in _piles if screen() is not None]
        if _piles and _pile_tries < PILE_TRIES - 1:
            _pile_from = monotonic() + PILE_RETRY_SECONDS
            _pile_tries += 1
            return
        _piles.clear()
        _pile_tries = 0
        if _settled and not _frozen:  # what is alive now is what the kiosk keeps
            gc.freeze()
            _frozen = True
        return
    _, young_collections, middle_collections = gc.get_count()
    full_after = gc.get_threshold()[2]
    if full_after > FULL_MARGIN:  # else (a collector tuned otherwise) only once it is due
        full_after -= FULL_MARGIN
    if middle_collections >= full_after:
        gc.collect()
    elif young_collections:
        gc.collect(1)
