"""Helpers for driving the staff kiosk with Pilot and reading its screen like a person."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static
from textual.worker import WorkerCancelled, WorkerFailed

from kiosk.db.models import Event
from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.widgets import FactList
from tests.ui import keyboard
from tests.ui.clocks import FakeUiClock
from tests.ui.keyboard import scanned

SIZE = (100, 30)


def hold(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, *, seconds: float = 10
) -> threading.Event:
    """``owner.name`` (a service call) waits, in the worker thread that makes it, until the
    gate returned is set (``seconds`` at most): a slow database, for as long as the test
    needs. The gate starts closed."""
    gate = threading.Event()
    call = getattr(owner, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(seconds)
        return call(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)
    return gate


def make_app(services: Services, **kwargs: Any) -> KioskApp:
    """The kiosk app on ``services``, its UI clock moved by hand (``idle``)."""
    kwargs.setdefault("confirm_seconds", 60.0)
    kwargs.setdefault("clock", FakeUiClock(services.ctx.clock))
    return KioskApp(services=services, **kwargs)


def with_settings(services: Services, **changes: Any) -> Services:
    return Services(services.ctx.engine, replace(services.settings, **changes), services.ctx.clock)


@asynccontextmanager
async def running(
    app: KioskApp, size: tuple[int, int] = SIZE, *, notifications: bool = False
) -> AsyncIterator[Pilot[None]]:
    """Run the app; afterwards, no unexpected error may have been swallowed on the way.
    ``notifications``: toasts drawn (Textual's run_test leaves them out by default)."""
    async with app.run_test(size=size, notifications=notifications) as pilot:
        await settle(pilot)
        yield pilot
    assert app.unexpected_errors == [], app.unexpected_errors


async def settle(pilot: Pilot[Any], rounds: int = 40) -> None:
    """Wait until every service call (and what it started) has finished and been drawn."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    for _ in range(rounds):
        # A worker the app cancelled (the console's poll, replaced by the next one) or one
        # whose failure the app handles itself: what counts is what is drawn next.
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        # (a key held back, in case it repeats or starts a scanner's payload, goes on by a
        # timer: waited for, not raced)
        await pilot.pause(0.02 if app.keys_pending else None)
        if not app.busy and not app.queued_scans and not app.keys_pending and not _running(app):
            await pilot.pause()
            if not app.busy and not app.keys_pending and not _running(app):
                return
    raise AssertionError("the kiosk did not settle")


def _running(app: KioskApp) -> bool:
    return any(not w.is_finished for w in app.workers)


async def scan(pilot: Pilot[Any], payload: str) -> None:
    """A USB scanner types the payload and Enter (tests/ui/keyboard.py: as one read)."""
    scanned(pilot.app, payload)
    await settle(pilot)


async def scan_fast(pilot: Pilot[Any], payload: str) -> None:
    """A later scan in the same test: handed to the app as the key stream would be."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    app.receive_scan(payload)
    await settle(pilot)


async def press(pilot: Pilot[Any], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def type_code(pilot: Pilot[Any], text: str, *, enter: bool = True) -> None:
    """A person types ``text`` at the keyboard, one key at a time (each key handled before
    the next), then Enter unless ``enter=False``."""
    for character in text:
        await pilot.press(character)
    if enter:
        await pilot.press("enter")
    await settle(pilot)


async def type_into(pilot: Pilot[Any], selector: str, text: str, *, submit: bool = True) -> None:
    """Put text in a field (as if typed) and, by default, press Enter in it."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = text
    await pilot.pause()
    if submit:
        await press(pilot, "enter")


def screen_text(app: KioskApp) -> str:
    """Everything a person can read on the current screen (visible text widgets)."""
    parts: list[str] = []
    for widget in app.screen.query("Static, Button, Input, Label, Markdown, RadioButton, FactList"):
        if not widget.display or not _shown(widget):
            continue
        if isinstance(widget, FactList):
            parts.append(widget.text)
        elif isinstance(widget, Input):
            parts.append(widget.value)
        elif isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Static):
            parts.append(str(widget.visual))
    return "\n".join(parts)


def _shown(widget: Any) -> bool:
    node = widget
    while node is not None:
        if not getattr(node, "display", True):
            return False
        node = node.parent
    return True


def notice(app: KioskApp) -> str:
    """The message under the field (or in the form) where the eye already is."""
    try:
        widget = app.screen.query_one("#notice", Static)
    except Exception:
        return ""
    return str(widget.visual) if widget.display else ""


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds; on timeout, say what it last gave."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (last := condition()):
        if loop.time() > deadline:
            name = getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(f"{name} still {last!r} after {timeout:g} s")
        await pilot.pause(0.05)


async def idle(pilot: Pilot[Any], seconds: float) -> None:
    """As if nobody had touched the kiosk for ``seconds`` more: the app's clock is moved on
    and the idle check (four times a second in the app) runs now."""
    app = pilot.app
    assert isinstance(app, KioskApp) and isinstance(app.clock, FakeUiClock)
    app.clock.advance(seconds)
    app.check_idle_timeout()
    await settle(pilot)


def events(services: Services) -> list[tuple[str, dict[str, Any]]]:
    """Every event in the register, in order: (kind, details)."""
    with services.ctx.engine.connect() as conn:
        rows = conn.execute(select(Event.kind, Event.details).order_by(Event.id)).all()
    return [(str(kind), dict(details or {})) for kind, details in rows]


def burst(app: KioskApp, typed: str) -> None:
    """The characters of ``typed`` as keys arriving all at once ("⏎" is Enter):
    :func:`tests.ui.keyboard.burst`."""
    keyboard.burst(app, *typed)


def burst_keys(app: KioskApp, *keys: str) -> None:
    """Keys by name ("f2", "escape", "enter", "a"), posted to the app with no pause:
    :func:`tests.ui.keyboard.burst`."""
    keyboard.burst(app, *keys)


async def read_policy_to_end(pilot: Pilot[Any], app: KioskApp, payload: str) -> None:
    """The person's badge (``payload``), F7 to their policy, and Page Down until its end has
    been reached (its text short enough for 30)."""
    from kiosk.ui.policy import PolicyScreen

    await scan(pilot, payload)
    await press(pilot, "f7")
    assert isinstance(app.screen, PolicyScreen)
    for _ in range(30):
        await pilot.press("pagedown")
    await settle(pilot)
    assert "You have reached the end." in screen_text(app)


def tap_at(app: App[Any], x: int, y: int) -> None:
    """A tap at (x, y) as the terminal sends it: mouse down and up, posted to the app behind
    whatever was typed before it."""
    from textual import events as textual_events

    for kind in (textual_events.MouseDown, textual_events.MouseUp):
        app.post_message(kind(None, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y))


def tap(app: App[Any], selector: str) -> None:
    """A tap in the middle of ``selector`` (see :func:`tap_at`)."""
    region = app.screen.query_one(selector).region
    tap_at(app, region.x + region.width // 2, region.y + region.height // 2)
