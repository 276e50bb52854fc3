"""Tuning pieces ``styles-cache`` and ``thread-worker``: work-arounds for two leaks of the
Textual we pin (``textual==8.2.8``).

Each one applies only while the bug is there (it checks for the buggy shape first), and each
has a test that fails if the bug comes back (tests/ui/test_textual_fixes.py). Remove one when
the Textual release that fixes it is the one we pin.

Textualize/textual#6665 (open for 8.2.8): ``StylesCache.get_inner_outer`` is an instance
method wrapped in ``functools.lru_cache(1024)``, so the cache keys hold ``self``: the style
caches of the last 1,024 widgets drawn, with their rendered lines, stay alive after the widgets
are gone. A kiosk that shows a screen per scan all day grew by tens of MiB that way (see
bench/README.md, "memory over a day"). The result depends only on the two colours, so the fix
caches on the colours alone.

Thread workers keep their last widget: Textual's thread worker sets ``active_worker`` in the
pool thread's own context (``run_in_executor`` copies none), so each of the pool's threads keeps
the last worker it ran, and the widget or screen that started it, until it runs another one. A
closed admin console (tens of thousands of objects) stayed alive that way for seconds, and was
then freed by a full collection in the middle of whatever the office did next. The kiosk's
thread jobs end with :func:`worker_done`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style
from textual.worker import active_worker


@lru_cache(maxsize=1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What ``StylesCache.get_inner_outer`` returns, cached on the colours only."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(
    _styles_cache: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def styles_cache_holds_widgets() -> bool:
    """Whether this Textual has bug #6665 (an lru_cache over the instance method)."""
    method = StylesCache.__dict__.get("get_inner_outer")
    return method is not _get_inner_outer and hasattr(method, "cache_info")


_original_get_inner_outer = StylesCache.__dict__.get("get_inner_outer")


def apply() -> None:
    """Apply the #6665 fix if this Textual needs it (idempotent)."""
    if styles_cache_holds_widgets():
        StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[assignment, method-assign]


def remove() -> None:
    """Textual's own ``get_inner_outer`` again (``KIOSK_TUNING`` without ``styles-cache``)."""
    if StylesCache.__dict__.get("get_inner_outer") is _get_inner_outer:
        StylesCache.get_inner_outer = _original_get_inner_outer  # type: ignore[assignment, method-assign]


def forget_thread_worker() -> None:
    """The last thing a thread worker's job does: the pool thread forgets the worker (and so
    the widget that started it). Nothing after this in the thread may ask which worker it is
    running."""
    none: Any = None
    active_worker.set(none)
