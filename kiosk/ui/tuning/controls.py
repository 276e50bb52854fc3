"""Tuning pieces ``controls`` and ``select``: compact controls styled once, and a Select
whose option list is built when it is first opened."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.widgets import Button, Input, Select
from textual.widgets._select import NoSelection, SelectCurrent, SelectOverlay

T = TypeVar("T")

# --- light controls ----------------------------------------------------------------------
#
# Compact buttons, fields and lists set their ``compact``/``flat``/``variant`` reactives as
# they are made, and each such setting styled the widget (an unattached one, 0.5 ms each),
# before it was styled again on mounting. Given as classes from the start, the reactives find
# them already there: each widget is styled once, as it mounts. They look and behave the same.
# ``compact`` toggles its class from its default first (False: the preset class removed, the
# widget styled), then to the value given (added back, styled again): so these widgets are
# made with the default and made compact after, without a restyle (``compact_now``).


def classes_of(*names: str, extra: str | None = None) -> str:
    return " ".join([*names, *(extra.split() if extra else ())])


Compactable = TypeVar("Compactable", Button, Input, Select[Any])


def compact_now(widget: Compactable) -> Compactable:
    """``widget`` (made with ``compact=False``) compact, as ``compact=True`` would have made
    it: the reactive set and its class added, without styling it (it is styled as it mounts)."""
    widget.set_reactive(type(widget).compact, True)
    widget.add_class("-textual-compact", update=False)
    return widget


def tuned_button(
    label: str,
    *,
    id: str | None = None,
    variant: Any = "default",
    classes: str | None = None,
    disabled: bool = False,
) -> Button:
    """A compact Button (what the console's toolbars use), styled once."""
    # Button adds its variant's class only when it is not the default one.
    shown = () if variant == "default" else (f"-{variant}",)
    preset = classes_of("-style-default", *shown, extra=classes)
    return compact_now(Button(label, variant, id=id, classes=preset, disabled=disabled))


def tuned_field(
    *, id: str | None = None, placeholder: str = "", classes: str | None = None
) -> Input:
    """A compact Input, styled once."""
    return compact_now(Input(placeholder=placeholder, id=id, classes=classes))


class PlainSelectCurrent(SelectCurrent):
    """SelectCurrent drawn by itself: the value (or the prompt, dimmed) and the arrow, as
    SelectCurrent's three Statics draw them (one widget, not four, to style and lay out:
    a console opens with four of them). The value is shown as plain text, cut to its width
    with an ellipsis (a Static would wrap it, and read it as markup)."""

    DEFAULT_CSS = """
    PlainSelectCurrent {
        color: $foreground 50%;
        &.-has-value { color: $foreground; }
        & > .plain-select-current--arrow { color: $foreground 50%; }
    }
    """

    COMPONENT_CLASSES = {"plain-select-current--arrow"}

    def compose(self) -> ComposeResult:
        return iter(())

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1  # one line, though it is a Horizontal with no children (which measure 0)

    def update(self, label: Any) -> None:
        self.label = label
        self.has_value = label is not Select.NULL
        self.refresh()

    def render(self) -> Content:
        label = self.placeholder if isinstance(self.label, NoSelection) else self.label
        if isinstance(label, Text):
            text = Content.from_rich_text(label)
        elif isinstance(label, Content):
            text = label
        else:
            text = Content(str(label))
        parent = self.parent
        up = parent is not None and parent.has_class("-expanded")
        arrow = Content.styled(
            "▲" if up else "▼", self.get_visual_style("plain-select-current--arrow")
        )
        # The arrow's column, and the space before it (its left padding in SelectCurrent).
        width = max(0, self.size.width - 2)
        return Content.assemble(text.truncate(width, ellipsis=True, pad=True), " ", arrow)


class LazySelect(Select[T]):
    """A compact Select whose drop-down list is built the first time it is opened.

    Textual's Select mounts its list (an OptionList holding every option: all the staff, for
    the register's staff filter) with the Select, though most are never opened. Here only the
    current value is mounted, as one widget (PlainSelectCurrent); the list is mounted, filled
    and highlighted when the Select is first expanded (Enter, space, a click). Choosing,
    ``value``, ``clear()``, ``set_options`` and ``Changed`` behave as in Select.
    """

    def __init__(
        self,
        options: Iterable[tuple[Any, T]],
        *,
        prompt: str = "Select",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(options, prompt=prompt, id=id, classes=classes)
        compact_now(self)
        self._first_on_open = False

    def compose(self) -> ComposeResult:
        yield PlainSelectCurrent(self.prompt)

    def _overlay(self) -> SelectOverlay | None:
        try:
            return self.query_one(SelectOverlay)
        except NoMatches:
            return None

    def _setup_options_renderables(self) -> None:
        if self._overlay() is not None:
            super()._setup_options_renderables()

    def _watch_value(self, value: Any) -> None:
        if self._overlay() is not None:
            super()._watch_value(value)
            return
        # Select's own, without the list's highlight (set when the list is built).
        self._value = value
        try:
            current = self.query_one(SelectCurrent)
        except NoMatches:
            return
        if value == self.NULL:
            current.update(self.NULL)
        else:
            for prompt, option in self._options:
                if option == value:
                    current.update(prompt)
                    break
        self.post_message(self.Changed(self, value))

    def _watch_prompt(self, prompt: str) -> None:
        if self._overlay() is not None:
            super()._watch_prompt(prompt)
            return
        if not self.is_mounted:
            return
        current = self.query_one(SelectCurrent)
        current.placeholder = prompt
        if self._allow_blank and self.value == self.NULL:
            current.update(self.NULL)

    def _watch_expanded(self, expanded: bool) -> None:
        if expanded and self._overlay() is None:
            self.call_later(self._build_overlay)
            return
        super()._watch_expanded(expanded)
        with contextlib.suppress(NoMatches):
            self.query_one(SelectCurrent).refresh()  # its arrow points the other way

    def action_show_overlay(self) -> None:
        if self._overlay() is None:
            self._first_on_open = True
            self.query_one(SelectCurrent).has_value = True
            self.expanded = True
            return
        super().action_show_overlay()

    async def _build_overlay(self) -> None:
        if self._overlay() is None:
            built = SelectOverlay(type_to_search=self._type_to_search).data_bind(
                compact=Select.compact
            )
            await self.mount(built)
            self._setup_options_renderables()
            if self.value != self.NULL:
                for index, (_prompt, option) in enumerate(self._options):
                    if option == self.value:
                        built.highlighted = index
                        break
        if self.expanded:
            super()._watch_expanded(True)
            overlay = self._overlay()
            if self._first_on_open and overlay is not None and overlay.highlighted is None:
                overlay.action_first()
        self._first_on_open = False
