"""Garbage collection waits for the moments a person is reading a screen just drawn."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.tuning import memory as collect
from tests.ui.admin_support import open_console, wait_freed, wait_until
from tests.ui.kiosk_support import make_app, press, running, scan

pytestmark = pytest.mark.tuning("gc")


@contextmanager
def collections_noted() -> Iterator[list[int]]:
    """The generations collected meanwhile (0 young, 1 middle, 2 full)."""
    seen: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def make_young_collections() -> None:
    for _ in range(3):
        garbage = []
        for _ in range(gc.get_threshold()[0] + 10):
            pair: list[object] = []
            pair.append(pair)  # a cycle: only the collector frees it
            garbage.append(pair)
        del garbage


async def test_each_screen_drawn_is_followed_by_the_collections_that_were_coming(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        assert collect.settled()  # the kiosk is up: what it holds for good is frozen
        with collections_noted() as seen:
            await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        assert 1 in seen  # the middle generation, once the person's screen was drawn

        # A full collection that is due is done after the next screen, not left to a scan.
        thresholds = gc.get_threshold()
        try:
            gc.set_threshold(thresholds[0], thresholds[1], 1)
            # Young collections first: with the full threshold at 1 they may run a full
            # collection themselves. Then one middle collection since the last full one: a
            # full one is due (not left to the deposit allocating enough for another).
            make_young_collections()
            gc.collect(1)
            with collections_noted() as seen:
                await press(pilot, "enter")  # deposit
            assert isinstance(app.screen, ConfirmScreen)
            assert 2 in seen
        finally:
            gc.set_threshold(*thresholds)

    assert school.phones.phones_now()[0].staff.code == "ASMITH"


async def test_nothing_is_collected_before_the_kiosk_is_up_or_under_another_screen(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        home = app.screen
        collect.release()  # as before the first frame and the database
        make_young_collections()
        with collections_noted() as seen:
            app._collect_once_drawn()
            await pilot.pause()
        assert seen == []
        collect.settle()
        # Going home and straight on to another screen (the admin console does): the
        # collection waits for the next screen drawn, not the one never shown.
        await scan(pilot, "SRK1:S:ASMITH")
        make_young_collections()
        with collections_noted() as seen:
            collect.collect_while_read(app, home)
        assert isinstance(app.screen, PersonScreen)
        assert seen == []


async def test_a_closed_console_is_collected_whole_at_the_next_reading_moment(
    school: Services,
) -> None:
    """The admin console, closed, is tens of thousands of objects: collected in full once it
    can be, after the next screen is drawn, not in the middle of a scan."""
    app = make_app(school)
    async with running(app) as pilot:
        thresholds = gc.get_threshold()
        try:
            gc.set_threshold(10**9, thresholds[1], thresholds[2])  # none of its own accord
            gc.collect()  # no full collection due
            collect.expect_pile(after_seconds=0.0)
            with collections_noted() as seen:
                await scan(pilot, "SRK1:S:ASMITH")
            assert isinstance(app.screen, PersonScreen)
            assert seen == [2]
            with collections_noted() as seen:  # once only
                await press(pilot, "escape")
            assert 2 not in seen
        finally:
            gc.set_threshold(*thresholds)


async def test_a_full_collection_nearly_due_is_done_while_the_screen_is_read(
    school: Services,
) -> None:
    """A view change of the admin console makes two or three middle collections: a full one
    due within FULL_MARGIN of them is done at the reading moment, not in the next view."""
    app = make_app(school)
    async with running(app):
        gc.collect()
        for _ in range(gc.get_threshold()[2] - collect.FULL_MARGIN):
            gc.collect(1)
        assert gc.get_count()[2] < gc.get_threshold()[2]  # not due yet
        with collections_noted() as seen:
            collect.collect_while_read(app, app.screen)
        assert seen == [2]


async def test_a_closed_console_still_held_at_its_pile_is_not_frozen_with_what_lives(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its pile's time comes while something still refers to the closed console (a stopped
    timer late to tick on a loaded machine): what is alive is not frozen then, or the console
    would be kept, out of every collection, until the next one closed; it is tried again."""
    app = make_app(school)
    async with running(app, size=(120, 36)) as pilot:
        held = await open_console(pilot, app, "DOFFICE")  # held as its late timer does
        await wait_until(pilot, lambda: app.screen.admin_name == "Dina Office")
        gone = weakref.ref(held)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        later = time.monotonic() + 60
        monkeypatch.setattr(collect, "monotonic", lambda: later)  # its pile is due
        with collections_noted() as seen:
            collect.collect_while_read(app, app.screen)
        assert 2 in seen  # the pile was collected...
        assert gc.get_freeze_count() == 0  # ...and nothing frozen while the console lives
        del held  # let go (its own stopped timers let go after their next tick)
        await wait_freed(pilot, gone, "the closed console freed")
        later += collect.PILE_RETRY_SECONDS
        collect.collect_while_read(app, app.screen)  # tried again: gone, so what lives is
        assert gc.get_freeze_count() > 0  # frozen out of the full passes again
