"""The one door to the kiosk's speed and memory work on Textual.

Everything that patches, subclasses or reads Textual's private parts, and every call of the
garbage collector, lives in this package; the rest of ``kiosk/ui`` is stock Textual and asks
here through the functions below (a table, "a screen was drawn").
``tests/test_layers.py`` walks ``kiosk/`` and fails if any of it shows up elsewhere.

Nothing is patched on import: :func:`install` is called by each app as it is made, and reads
``KIOSK_TUNING``:

- unset, ``all`` or ``1``: every piece;
- ``0`` or ``none``: stock Textual (stock DataTable, no gc calls, no style memo, no
  work-arounds);
- a comma list of piece names (``gc,table``) for those only, or ``all,-gc`` for every piece
  but those named with ``-``.

One piece is a correctness fix, not speed work: ``escape``, Esc followed straight away by
another key read as Esc and that key (``escape.py``; Textual read Esc, Enter typed 60 ms apart
as one Enter, which deposited a phone). It is a piece all the same, so that ``KIOSK_TUNING=0``
is Textual as it comes.

The pieces (:data:`PIECES`) are each switchable so that ``make bench`` can measure each with
and without it; docs/architecture.md has the table of what each one buys.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.widgets import DataTable

TUNING_ENV = "KIOSK_TUNING"

# name -> what it does (one line). Leak fixes first: they stay whatever the figures say.
PIECES: dict[str, str] = {
    "styles-cache": "leak fix, Textual #6665: StylesCache.get_inner_outer cached on colours",
    "thread-worker": "leak fix: a pool thread forgets the last thread worker it ran",
    "style-memo": "Stylesheet.apply memoised per place in the DOM",
    "gc": "collect while a screen is read; freeze what lives for good; no gc while opening",
    "table": "DataTable: plain one-line cells drawn directly; caches freed at once",
    "table-widths": "DataTable repainted when its column widths settle (cut-short cells)",
    "escape": "Esc then another key at once read as Esc and that key (not one Alt+key)",
}
LEAK_FIXES = frozenset({"styles-cache", "thread-worker"})

_active: frozenset[str] = frozenset()


def parse(spec: str | None) -> frozenset[str]:
    """The pieces a ``KIOSK_TUNING`` value names (unknown names are an error)."""
    text = (spec if spec is not None else "all").strip().lower()
    if text in ("", "all", "1", "on"):
        return frozenset(PIECES)
    if text in ("0", "none", "off"):
        return frozenset()
    chosen: set[str] = set()
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name == "all":
            chosen |= set(PIECES)
        elif name.startswith("-") and name[1:] in PIECES:
            chosen.discard(name[1:])
        elif name in PIECES:
            chosen.add(name)
        else:
            known = ", ".join(PIECES)
            raise ValueError(f"{TUNING_ENV}: unknown piece {name!r} (known: all, 0, {known})")
    return frozenset(chosen)


def install(app: Any = None, spec: str | None = None) -> frozenset[str]:
    """Switch the pieces named by ``spec`` (default: ``KIOSK_TUNING``) on, and the others off.

    Called by each app as it is made (``KioskApp``, ``AdminApp``); the patches are
    process-wide, so the last app made decides. Returns the pieces now active."""
    global _active
    if spec is None:
        spec = os.environ.get(TUNING_ENV)
    active = parse(spec)
    from kiosk.ui.tuning import escape, leaks, memory, style_memo

    if "escape" in active:
        escape.apply()
    else:
        escape.remove()

    if "styles-cache" in active:
        leaks.apply()
    else:
        leaks.remove()
    if "style-memo" in active:
        style_memo.install()
    else:
        style_memo.uninstall()
    if "gc" not in active:
        memory.release()
    _active = active
    if app is not None:
        app.tuning = active
    return active


def active() -> frozenset[str]:
    return _active


def enabled(name: str) -> bool:
    """Whether piece ``name`` is on (all are off until :func:`install`)."""
    assert name in PIECES, name
    return name in _active


# --- what the UI asks for: the tuned widget when its piece is on, else Textual's ----------------


def table(**kwargs: Any) -> DataTable[Any]:
    """A DataTable (piece ``table``: :class:`kiosk.ui.tuning.fast_table.TunedTable`)."""
    if enabled("table"):
        from kiosk.ui.tuning.fast_table import TunedTable

        return TunedTable(**kwargs)
    if enabled("table-widths"):
        from kiosk.ui.tuning.fast_table import SettlingTable

        return SettlingTable(**kwargs)
    from textual.widgets import DataTable  # not before the kiosk's first frame: it has none

    return DataTable(**kwargs)


def worker_done() -> None:
    """The last call of each of the kiosk's thread jobs (piece ``thread-worker``)."""
    if enabled("thread-worker"):
        from kiosk.ui.tuning.leaks import forget_thread_worker

        forget_thread_worker()
