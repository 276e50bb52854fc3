"""Work-arounds for Textual leaks (kiosk/ui/tuning/leaks.py) keep working."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from kiosk.ui import tuning
from kiosk.ui.tuning import leaks as textual_fixes

pytestmark = pytest.mark.tuning("styles-cache", "thread-worker")


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    tuning.install()  # as each app of the kiosk does as it starts (KIOSK_TUNING)
    yield
    tuning.install()


class Cards(App[None]):
    CSS = "Static { background: $panel; border: round $primary; }"

    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")


async def test_widgets_removed_leave_no_style_cache_behind() -> None:
    """Textualize/textual#6665: removed widgets' style caches (with their drawn lines) were
    kept alive by an lru_cache over an instance method: 50 cards removed, 50 caches kept."""
    caches: list[weakref.ref[object]] = []
    app = Cards()
    async with app.run_test(size=(60, 60)) as pilot:
        for _ in range(5):
            cards = [Static(f"card {i}") for i in range(10)]
            await app.query_one("#cards").mount_all(cards)
            await pilot.pause()  # drawn: each card's style cache has worked out its lines
            caches.extend(weakref.ref(card._styles_cache) for card in cards)
            await app.query_one("#cards").remove_children()
            await pilot.pause()
        del cards
        # Something of Textual's keeps the last widgets removed until the next change.
        await app.query_one("#cards").mount(Static("the last card"))
        await pilot.pause()
    gc.collect()  # the app closed: only a cache outside it could hold them now
    alive = sum(1 for ref in caches if ref() is not None)
    assert len(caches) == 50
    assert alive == 0


def test_the_fix_is_applied_once_and_only_by_install() -> None:
    assert not textual_fixes.styles_cache_holds_widgets()
    textual_fixes.apply()  # again: nothing changes
    assert not textual_fixes.styles_cache_holds_widgets()
    tuning.install(spec="0")  # stock Textual: its bug is back
    assert textual_fixes.styles_cache_holds_widgets()


async def test_a_thread_worker_does_not_keep_its_screen_alive() -> None:
    """Textual's thread workers set ``active_worker`` in the pool thread's own context; the
    thread kept the last worker, and the screen that started it, until its next job. The
    kiosk's jobs end with forget_thread_worker()."""
    app = App[None]()
    async with app.run_test(size=(40, 10)) as pilot:
        screen = Screen[None]()
        await app.push_screen(screen)

        def job() -> None:
            textual_fixes.forget_thread_worker()

        await screen.run_worker(job, thread=True).wait()
        gone = weakref.ref(screen)
        app.pop_screen()
        del screen
        for _ in range(5):  # the screen's own timers wind down
            await pilot.pause(0.05)
        gc.collect()
        assert gone() is None
