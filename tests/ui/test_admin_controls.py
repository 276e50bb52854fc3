"""The console's light controls (compact buttons, fields and lists) are what Textual's own
``compact=True`` widgets are (reactives and classes), and each is styled once: as it mounts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.css.stylesheet import Stylesheet
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from kiosk.ui.admin.base import LazySelect, button, field

pytestmark = pytest.mark.ui


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
