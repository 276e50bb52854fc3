"""Small widgets shared by the kiosk's screens.

Every piece of text that can come from the database (names, reasons, policy titles) is
shown as plain :class:`Content`, never parsed as markup: a name such as
``[@click=app.quit]x[/]`` is shown as typed and does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, RadioButton, Static

from kiosk.domain.text import display_text
from kiosk.ui.text import plain as _plain

# Marks that carry meaning without colour.
OK_MARK = "✓"
ERROR_MARK = "✗"
WARN_MARK = "⚠"
TODO_MARK = "!"


def plain(text: str) -> Content:
    """Text shown literally (no markup, no control or bidi characters), whatever it
    contains: ``kiosk.ui.text.plain``."""
    return _plain(text, multiline=True)


def update_if_changed(widget: Static, content: Content) -> None:
    """``widget.update(content)``, unless it shows just that already (text and styles):
    an update lays the screen out and draws the widget again."""
    shown = widget.content
    if isinstance(shown, Content) and shown.is_same(content):
        return
    widget.update(content)


def assemble(*parts: str | tuple[str, str]) -> Content:
    """Plain strings and (text, style) pairs, none of them parsed as markup, each made safe
    to show (``display_text``: stored names, reasons and titles are data)."""
    return Content.assemble(
        *(
            display_text(part, multiline=True)
            if isinstance(part, str)
            else (display_text(part[0], multiline=True), part[1])
            for part in parts
        )
    )


class Choice(RadioButton):
    """A radio button whose state shows in its shape (● chosen, blank not), not colour alone."""

    def __init__(self, label: str | Content, value: bool = False, **kwargs: object) -> None:
        super().__init__(label, value, **kwargs)  # type: ignore[arg-type]
        self.BUTTON_INNER = "●" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "
        super().watch_value()


class CodeField(Input):
    """The one place on a kiosk screen where what is typed or scanned goes. Enter reads it
    as a code (the screen's ``read_code``); Enter on an empty field is the screen's main
    action (``read_code("")``). Keys typed while another, non-text part of the screen has the
    focus are put here too (see ``KioskScreenMixin.on_key``), so a letter is never an action.
    """

    DEFAULT_CLASSES = "code-field"

    def __init__(
        self,
        *,
        placeholder: str = "Scan or type a code, then Enter",
        id: str = "code",
        max_length: int = 80,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            placeholder=placeholder,
            id=id,
            max_length=max_length,
            classes=classes,
            select_on_focus=False,
        )

    def take(self, text: str) -> None:
        """Add ``text`` (typed while something else had the focus) at the end."""
        self.value = (self.value + text)[: self.max_length or None]
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        text = self.value.strip()
        self.value = ""
        read = getattr(self.screen, "read_code", None)
        if read is not None:
            read(text)


class Tick(Checkbox, inherit_bindings=False):
    """A checkbox whose state shows in its shape (✓ ticked, blank not), not colour alone.
    Only Space (or a click) changes it: Enter belongs to the form (it submits)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", "Toggle", show=False),
    ]
    OWN_KEYS: ClassVar[frozenset[str]] = frozenset({"space"})  # not put in the code field

    def __init__(self, label: str, value: bool = False, **kwargs: object) -> None:
        super().__init__(label, value, **kwargs)  # type: ignore[arg-type]
        self.BUTTON_INNER = "✓" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "
        super().watch_value()


class TouchButton(Button):
    """A big button for a mouse or touch screen. It never takes the keyboard focus, so the
    scan field (or the screen's one-key actions) keep it; its label shows its key."""

    can_focus = False

    def __init__(
        self,
        label: str,
        *,
        key: str | None = None,
        action: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        variant: str = "default",
    ) -> None:
        text = Content.assemble((f" {key} ", "bold reverse"), " ", label) if key else plain(label)
        super().__init__(text, id=id, classes=classes, action=action, variant=variant)  # type: ignore[arg-type]
        self.key_hint = key


class Notice(Static):
    """One line (or a few) of feedback, right where the person is looking.

    ``kind`` is ``error``, ``info``, ``busy`` or ``ok``; each has a mark and a word, so the
    meaning never rests on colour alone.
    """

    DEFAULT_CLASSES = "notice"
    MARKS = {"error": ERROR_MARK, "info": "→", "busy": "…", "ok": OK_MARK, "warn": WARN_MARK}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.kind = ""
        self.message = ""

    def show(self, kind: str, message: str, title: str | None = None) -> None:
        self.kind, self.message = kind, message
        for name in self.MARKS:
            self.set_class(name == kind, f"-{name}")
        mark = self.MARKS.get(kind, "")
        parts: list[str | tuple[str, str]] = [(f"{mark} ", "bold")]
        if title:
            parts.append((f"{display_text(title)}: ", "bold"))
        parts.append(display_text(message, multiline=True))
        self.update(Content.assemble(*parts))
        self.display = True

    def error(self, message: str, title: str | None = "Not recorded") -> None:
        self.show("error", message, title)

    def info(self, message: str) -> None:
        self.show("info", message)

    def clear(self) -> None:
        if not self.kind and not self.message:
            return  # nothing shown: clearing it again would lay the screen out for nothing
        self.kind, self.message = "", ""
        for name in self.MARKS:
            self.remove_class(f"-{name}")
        self.update("")


@dataclass(frozen=True)
class Fact:
    """One line of a :class:`FactList`: a label and its value. ``tone`` (``todo`` or
    ``overdue``) colours the line; the value says the same in words and marks."""

    label: str
    value: Content
    tone: str = ""


class FactList(Widget):
    """Labelled facts one under another, the labels in a column of their own and each value
    wrapped beside its label (not under it).

    One widget drawn as text, where a row of two Statics per fact would be a dozen widgets:
    the person's screen is laid out again for every badge, and those rows were the largest
    part of laying it out.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fact-list--label",
        "fact-list--todo",
        "fact-list--overdue",
    }
    DEFAULT_CSS = """
    FactList {
        height: auto;
    }
    FactList > .fact-list--label {
        text-style: bold;
    }
    """

    def __init__(
        self,
        facts: Sequence[Fact] = (),
        *,
        label_width: int = 11,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.facts: tuple[Fact, ...] = tuple(facts)
        self.label_width = label_width

    def show(self, facts: Sequence[Fact]) -> None:
        """Show these facts instead (laid out again only if they changed)."""
        facts = tuple(facts)
        if not _same_facts(facts, self.facts):
            self.facts = facts
            self.refresh(layout=True)

    def tone_of(self, label: str) -> str | None:
        """The tone of the fact with this label (None: not shown)."""
        return next((f.tone for f in self.facts if f.label == label), None)

    @property
    def text(self) -> str:
        """What it says, a line per fact (for reading it out, and for tests)."""
        return "\n".join(f"{f.label} {f.value.plain}" for f in self.facts)

    def _lines(self, width: int, styled: bool) -> list[Content]:
        label_width = min(self.label_width, max(width - 1, 0))
        value_width = max(width - label_width, 1)
        label_style = self.get_visual_style("fact-list--label", partial=True) if styled else None
        blank = Content(" " * label_width)
        lines: list[Content] = []
        for fact in self.facts:
            label = Content(fact.label[:label_width].ljust(label_width))
            if label_style is not None:
                label = label.stylize(label_style)
            for n, part in enumerate(fact.value.wrap(value_width) or [Content("")]):
                line = (label if n == 0 else blank) + part
                if styled and fact.tone:
                    tone = self.get_visual_style(f"fact-list--{fact.tone}", partial=True)
                    line = line.stylize_before(tone)
                lines.append(line)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width, styled=False))

    def render(self) -> Content:
        return Content("\n").join(self._lines(self.size.width, styled=True))


def _same_facts(a: Sequence[Fact], b: Sequence[Fact]) -> bool:
    """The same facts, text and styles (Content's ``==`` compares the text only)."""
    return len(a) == len(b) and all(
        x.label == y.label and x.tone == y.tone and x.value.is_same(y.value)
        for x, y in zip(a, b, strict=True)
    )
