"""Garbage collection while a person reads what was just drawn.

Python's collector runs when allocations make it due, which is in the middle of whatever
allocates: drawing the next screen. A person needs a tenth of a second at least to answer what
they have just been shown, so once a screen has been drawn, the collection that would come
next is done then instead: the middle generation (about 1 ms) whenever it has anything, a full
collection once it is due or nearly (FULL_MARGIN). A big screen that was closed (the office
app's admin console: tens of thousands of objects) is collected whole at the first reading
moment once it can be: its stopped timers still refer to it for a second or two.
"""

from __future__ import annotations

import gc
from time import monotonic
from typing import Any

from textual.app import App
from textual.screen import Screen

# A full collection is done at a reading moment when it would come within this many more
# middle-generation collections: a view change of the admin console makes two or three.
FULL_MARGIN = 3

_pile_from: float | None = None  # when a closed screen's garbage can be collected (monotonic)


def expect_pile(after_seconds: float) -> None:
    """A big screen has just closed: collect in full at the first reading moment once
    ``after_seconds`` have passed (what still refers to it has let go by then). An earlier
    one still waiting keeps its time: screens closed one after another are not all put off
    until the last one can go."""
    global _pile_from
    due = monotonic() + after_seconds
    _pile_from = due if _pile_from is None else min(_pile_from, due)


def collect_once_drawn(app: App[Any]) -> None:
    """Once the screen now on top has been drawn, collect (see the module's note)."""
    app.call_after_refresh(collect_while_read, app, app.screen)


def collect_while_read(app: App[Any], drawn: Screen[Any]) -> None:
    global _pile_from
    if app.screen is not drawn:
        return  # another screen came on top first: its own turn comes when it is drawn
    if _pile_from is not None and monotonic() >= _pile_from:
        _pile_from = None
        gc.collect()
        return
    _, young_collections, middle_collections = gc.get_count()
    full_after = gc.get_threshold()[2]
    if full_after > FULL_MARGIN:  # else (a collector tuned otherwise) only once it is due
        full_after -= FULL_MARGIN
    if middle_collections >= full_after:
        gc.collect()
    elif young_collections:
        gc.collect(1)
