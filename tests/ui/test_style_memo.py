"""The style memo (kiosk/ui/tuning/style_memo.py) gives every widget the styles Textual would.

Each test drives real screens with the memo on, then styles every node again with Textual's
own ``Stylesheet.apply`` and compares: the rules of each node and of each of its component
classes, and the flags ``apply`` sets. The memo must also have been used (hits), or the
comparison would prove nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

from kiosk.services.app import Services
from kiosk.ui import tuning
from kiosk.ui.admin.console import VIEWS
from kiosk.ui.tuning import style_memo
from tests.ui.admin_support import SIZE, ConsoleHost, settle, wait_until
from tests.ui.kiosk_support import make_app, press, running, scan

pytestmark = [pytest.mark.ui, pytest.mark.tuning("style-memo")]

FLAGS = ("_has_hover_style", "_has_focus_within", "_has_order_style", "_has_odd_or_even")


def styles_of(node: DOMNode) -> tuple[Any, ...]:
    components = {
        name: dict(styles.base._rules) for name, styles in sorted(node._component_styles.items())
    }
    flags = tuple(getattr(node, flag, None) for flag in FLAGS)
    return dict(node.styles.base._rules), components, flags


def nodes(app: App[Any]) -> Iterator[DOMNode]:
    for screen in app.screen_stack:
        yield from screen.walk_children(with_self=True)


def assert_same_as_textual(app: App[Any]) -> int:
    """Restyle every node of the app's screens with Textual's own apply: nothing changes.
    Returns how many nodes were compared."""
    ours = {id(node): (node, styles_of(node)) for node in nodes(app)}
    stylesheet = app.stylesheet
    for node, _ in ours.values():
        style_memo._original_apply(stylesheet, node)
    different = [
        f"{node!r}: {before} != {styles_of(node)}"
        for node, before in ours.values()
        if styles_of(node) != before
    ]
    assert not different, "\n".join(different[:5])
    return len(ours)


def memo_of(app: App[Any]) -> Any:
    return app.stylesheet.__dict__["_kiosk_style_memo"]


def test_installed_by_install_only() -> None:
    """Importing the UI patches nothing; ``tuning.install`` does, as each app starts."""
    tuning.install(spec="0")
    try:
        assert not style_memo.installed()
        assert Stylesheet.apply is style_memo._original_apply
        tuning.install(spec="style-memo")
        assert style_memo.installed()
        assert Stylesheet.apply is not style_memo._original_apply
    finally:
        tuning.install()


async def test_every_view_of_the_console(school: Services) -> None:
    app = ConsoleHost(school)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for number in range(1, len(VIEWS) + 1):
            await pilot.press(str(number))
            await settle(pilot)
        await pilot.press("1", "f")  # the register's filters, focused
        await settle(pilot)
        assert assert_same_as_textual(app) > 100
        # Lock, open again: the second console is styled from the memo.
        hits = memo_of(app).hits
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: len(app.screen_stack) == 1)
        app.open_console()
        await wait_until(pilot, lambda: app.screen.query("#reg-table"))
        await settle(pilot)
        assert memo_of(app).hits > hits + 50
        assert assert_same_as_textual(app) >= 50


async def test_the_kiosk_screens(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        # (home and the person's screen: 27 nodes since the person's keys are one ActionPad)
        assert assert_same_as_textual(app) > 20
        await press(pilot, "enter")  # deposit: the confirmation
        assert assert_same_as_textual(app) > 10
        await press(pilot, "escape")
        await scan(pilot, "SRK1:S:BJONES")  # the person's screen again, someone else
        assert memo_of(app).hits > 0
        assert assert_same_as_textual(app) > 20


class Ids(App[None]):
    """Ids named only in an ancestor's part of a selector (Textual's rules map knows only
    the last part of each)."""

    CSS = """
    #left Button { color: red; }
    #right Button { color: blue; }
    """

    def compose(self) -> Any:
        from textual.containers import Horizontal
        from textual.widgets import Button

        with Horizontal(id="left"):
            yield Button("L")
        with Horizontal(id="right"):
            yield Button("R")


async def test_ids_anywhere_in_a_selector_keep_places_apart() -> None:
    app = Ids()
    async with app.run_test() as pilot:
        await pilot.pause()
        left, right = app.query("Button")
        assert left.styles.color != right.styles.color
        assert assert_same_as_textual(app) >= 5
