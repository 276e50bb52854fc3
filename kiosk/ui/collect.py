"""Garbage collection while a person reads what was just drawn.

Python's collector runs when allocations make it due, which is in the middle of whatever
allocates: drawing the next screen. A person needs a tenth of a second at least to answer what
they have just been shown, so once a screen has been drawn, the collection that would come
next is done then instead: the middle generation (about 1 ms) whenever it has anything, a full
collection once it is due.
"""

from __future__ import annotations

import gc
from typing import Any

from textual.app import App
from textual.screen import Screen


def collect_once_drawn(app: App[Any]) -> None:
    """Once the screen now on top has been drawn, collect (see the module's note)."""
    app.call_after_refresh(collect_while_read, app, app.screen)


def collect_while_read(app: App[Any], drawn: Screen[Any]) -> None:
    if app.screen is not drawn:
        return  # another screen came on top first: its own turn comes when it is drawn
    _, young_collections, middle_collections = gc.get_count()
    if middle_collections >= gc.get_threshold()[2]:
        gc.collect()
    elif young_collections:
        gc.collect(1)
