"""The console's light controls (compact buttons, fields and lists) are what Textual's own
``compact=True`` widgets are (reactives and classes), and each is styled once: as it mounts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.stylesheet import Stylesheet
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from kiosk.ui.tuning.controls import LazySelect
from kiosk.ui.tuning.controls import tuned_button as button
from kiosk.ui.tuning.controls import tuned_field as field

pytestmark = [pytest.mark.ui, pytest.mark.tuning("controls", "select")]


class Empty(App[None]):
    def compose(self) -> ComposeResult:
        yield Vertical(id="box")


def reactives(widget: Widget) -> dict[str, Any]:
    return {
        name: getattr(widget, name)
        for name in ("compact", "disabled", "variant", "flat")
        if name in widget._reactives
    }


async def test_compact_controls_match_textuals_and_are_styled_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Empty()
    async with app.run_test(size=(100, 20)) as pilot:
        styled: Counter[int] = Counter()
        apply = Stylesheet.apply

        def counted(self: Stylesheet, node: Any, *args: Any, **kwargs: Any) -> Any:
            styled[id(node)] += 1
            return apply(self, node, *args, **kwargs)

        monkeypatch.setattr(Stylesheet, "apply", counted)
        ours: list[Widget] = [
            button("Go", id="b1"),
            button("Fix", id="b2", variant="warning", classes="x"),
            field(placeholder="dd/mm/yyyy", id="f1"),
            LazySelect([("A", "a")], prompt="Any", id="s1"),
        ]
        await app.query_one("#box").mount_all(ours)
        await pilot.pause()
        assert [styled[id(w)] for w in ours] == [1, 1, 1, 1]
        monkeypatch.setattr(Stylesheet, "apply", apply)

        theirs: list[Widget] = [
            Button("Go", compact=True),
            Button("Fix", "warning", classes="x", compact=True),
            Input(placeholder="dd/mm/yyyy", compact=True),
            Select([("A", "a")], prompt="Any", compact=True),
        ]
        for mine, textuals in zip(ours, theirs, strict=True):
            assert reactives(mine) == reactives(textuals)
            assert mine.classes == textuals.classes


class TwoSelects(App[None]):
    """Our LazySelect and Textual's compact Select, side by side on one line."""

    CSS = """
    #row { height: 1; }
    #row > Select { width: 30; height: 1; }
    """

    def compose(self) -> ComposeResult:
        options = [("Alice Smith (ASMITH)", "ASMITH"), ("Bob Jones (BJONES)", "BJONES")]
        with Horizontal(id="row"):
            yield LazySelect(options, prompt="Any staff", id="ours")
            yield Select(options, prompt="Any staff", compact=True, id="theirs")


def cells(app: App[Any], x: int, width: int) -> list[tuple[Any, ...]]:
    """The first line of the screen from column x, as it is seen: each cell's character, its
    background, and the colour and attributes of what is drawn in it (a space shows none)."""
    strip = app.screen._compositor.render_strips()[0].crop(x, x + width)
    seen = []
    for segment in strip:
        style = segment.style or Style()
        for char in segment.text:
            ink = (style.color, style.bold, style.dim, style.italic) if char != " " else None
            seen.append((char, style.bgcolor, style.reverse, style.underline, ink))
    return seen


async def test_lazy_select_looks_like_textuals_compact_select() -> None:
    """Its current value is one widget drawn by itself (not four): it must look the same,
    blank, focused, chosen and open."""
    app = TwoSelects()
    async with app.run_test(size=(80, 12)) as pilot:
        ours = app.query_one("#ours", Select)
        theirs = app.query_one("#theirs", Select)

        async def looks(select: Select[Any]) -> list[tuple[Any, ...]]:
            await pilot.pause()
            return cells(app, select.region.x, select.region.width)

        app.set_focus(None)
        assert await looks(ours) == await looks(theirs)
        assert "Any staff" in "".join(cell[0] for cell in await looks(ours))
        for select in (ours, theirs):
            select.focus()
            await pilot.pause()
        focused_theirs = await looks(theirs)
        ours.focus()
        assert await looks(ours) == focused_theirs
        for select in (ours, theirs):
            select.value = "BJONES"
        app.set_focus(None)
        assert await looks(ours) == await looks(theirs)
        assert "Bob Jones (BJONES)" in "".join(cell[0] for cell in await looks(ours))
        ours.focus()
        await pilot.press("enter")  # its list is built and opens
        await pilot.pause()
        assert ours.expanded
        open_ours = await looks(ours)
        await pilot.press("escape")
        theirs.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert theirs.expanded
        assert open_ours == await looks(theirs)
        assert "▲" in "".join(cell[0] for cell in open_ours)
