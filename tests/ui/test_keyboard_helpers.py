"""The tests' keyboard (tests/ui/keyboard.py) sends what a terminal sends: the keys Pilot
names, and a person's keys spaced by the wall clock, not by how busy the app is."""

from __future__ import annotations

import itertools
import time

import pytest
from textual import events
from textual.app import App

from tests.ui.keyboard import key_event, scanned, typed

pytestmark = pytest.mark.ui

KEYS = ["L", "-", "0", ":", "enter", "escape", "space", "slash", "f2", "tab", "backspace"]
KEYS += ["full_stop", "at", "é", "ctrl+c", "up", "minus", "colon"]


class Keys(App[None]):
    """Notes each key it is handed: its name, character and time; ``busy`` seconds of work
    (the event loop blocked) for each."""

    def __init__(self, busy: float = 0.0) -> None:
        super().__init__()
        self.got: list[tuple[str, str | None, float]] = []
        self.busy = busy

    def on_key(self, event: events.Key) -> None:
        self.got.append((event.key, event.character, event.time))
        time.sleep(self.busy)


async def test_a_key_is_named_as_pilot_names_it() -> None:
    app = Keys()
    async with app.run_test() as pilot:
        await pilot.press(*KEYS)
        by_pilot = [(key, character) for key, character, _ in app.got]
    assert [(key_event(k).key, key_event(k).character) for k in KEYS] == by_pilot


async def test_a_scan_comes_in_one_read_in_order() -> None:
    app = Keys()
    async with app.run_test() as pilot:
        scanned(app, "SRK1:S:A-1")
        await pilot.pause()
        keys = [(key, character) for key, character, _ in app.got]
        stamps = [at for _, _, at in app.got]
    assert keys == [(key_event(k).key, key_event(k).character) for k in [*"SRK1:S:A-1", "enter"]]
    assert stamps[-1] - stamps[0] < 0.05  # a scanner's pace, however busy the machine


async def test_typed_keys_are_spaced_by_the_clock_not_by_the_app() -> None:
    """The app takes 0.8 s over each key: a person's keys, 0.15 s apart, still come (and are
    stamped) 0.15 s apart, as a terminal's do, not 0.8 s apart as pilot.press would make
    them."""
    app = Keys(busy=0.8)
    async with app.run_test() as pilot:
        await typed(pilot, "abcd", gap=0.15)
        await pilot.pause()
        stamps = [at for _, _, at in app.got]
    assert [key for key, _, _ in app.got] == list("abcd")
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(0.15 <= gap < 0.7 for gap in gaps), gaps
