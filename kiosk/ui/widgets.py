"""Small widgets shared by the kiosk's screens.

Every piece of text that can come from the database (names, reasons, policy titles) is
shown as plain :class:`Content`, never parsed as markup: a name such as
``[@click=app.quit]x[/]`` is shown as typed and does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from typing import Any, ClassVar, TypeVar

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.content import Content
from textual.geometry import Offset, Size
from textual.message import Message
from textual.style import Style
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, RadioButton, Select, Static

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


class MaskedInput(Input):
    """A text field whose text, while it is masked (``password``: a PIN, or a run of digits
    shaped like one), is never copied or cut. Stock Textual copies a password field's
    selection as any other (Ctrl+C, Ctrl+X) to the app's clipboard, where Ctrl+V puts it in a
    field in clear, and to the terminal's (OSC 52): the computer's clipboard, pasted later
    anywhere. Shown as typed, it is copied as any text."""

    def action_copy(self) -> None:
        if self.password:
            raise SkipAction()  # Ctrl+C goes on to the app: "press Ctrl+Q to quit"
        super().action_copy()

    def action_cut(self) -> None:
        if self.password:
            raise SkipAction()
        super().action_cut()


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
        """Add ``text`` where the cursor is shown when the field has the focus (moved back
        with an arrow or Home to put a key left out in: it went on the end, "LAP-01", ← and
        "0" read as "LAP-010", another laptop's tag); at the end when something else has
        the focus (the cursor is not shown)."""
        start, end = self._span()
        self.value = (self.value[:start] + text + self.value[end:])[: self.max_length or None]
        self.cursor_position = min(start + len(text), len(self.value))

    def rub_out(self) -> None:
        """Backspace: the text selected, or the key before the cursor, when the field has the
        focus; else the last key."""
        start, end = self._span()
        if start == end:
            start = max(start - 1, 0)
        self.value = self.value[:start] + self.value[end:]
        self.cursor_position = start

    def _span(self) -> tuple[int, int]:
        """Where a key typed goes: the text selected (Shift+arrows), or the cursor, when the
        field has the focus (both are shown); the end when it has not."""
        if not self.has_focus:
            return len(self.value), len(self.value)
        start, end = sorted(self.selection)
        return min(start, len(self.value)), min(end, len(self.value))

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
        self._title: str | None = None
        self._before_busy: tuple[str, str, str | None] = ("", "", None)

    def show(self, kind: str, message: str, title: str | None = None) -> None:
        self.kind, self.message, self._title = kind, message, title
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

    def busy(self, message: str) -> None:
        """A call is slow: ``message`` (``busy``) over what is shown, until ``not_busy``."""
        if self.kind != "busy":
            self._before_busy = (self.kind, self.message, self._title)
        self.show("busy", message)

    def busy_over_nothing(self) -> None:
        """What ``busy`` is shown over was cleared meanwhile: ``not_busy`` clears."""
        self._before_busy = ("", "", None)

    def not_busy(self) -> None:
        """The slow call was answered: what was shown before it comes back, as if the call had
        been quick (a confirmation shown just before it, "training recorded", was lost)."""
        if self.kind != "busy":
            return
        kind, message, title = self._before_busy
        self._before_busy = ("", "", None)
        if kind:
            self.show(kind, message, title)
        else:
            self.clear()

    def clear(self) -> None:
        if not self.kind and not self.message:
            return  # nothing shown: clearing it again would lay the screen out for nothing
        self.kind, self.message, self._title = "", "", None
        for name in self.MARKS:
            self.remove_class(f"-{name}")
        self.update("")


class HeadLine(Static):
    """A heading line: ``left`` (wrapped in the width ``right`` leaves) and ``right`` at the
    top right; ``left`` styled by the ``head-line--left`` component class.

    One widget where a Horizontal of two Statics was three, on a kept screen shown again for
    every badge (issue 17). It reads (``visual``) as the two parts one after the other."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"head-line--left"}
    DEFAULT_CSS = """
    HeadLine {
        height: auto;
    }
    HeadLine > .head-line--left {
        text-style: bold;
    }
    """

    def __init__(self, left: Content, right: Content, *, id: str | None = None) -> None:
        super().__init__(left + Content(" ") + right, id=id, markup=False)
        self.left, self.right = left, right

    def show(self, left: Content, right: Content) -> None:
        """Show these parts instead (laid out again only if they changed)."""
        if left.is_same(self.left) and right.is_same(self.right):
            return
        self.left, self.right = left, right
        self.update(left + Content(" ") + right)

    def _lines(self, width: int, styled: bool) -> list[Content]:
        left_width = max(width - self.right.cell_length, 1)
        left = self.left
        if styled:
            left = left.stylize_before(self.get_visual_style("head-line--left", partial=True))
        lines = left.wrap(left_width) or [Content("")]
        first = lines[0]
        # (the gap a span of its own: drawn apart from the right part, as two widgets were)
        gap = Content.styled(" " * max(left_width - first.cell_length, 0), Style(italic=False))
        lines[0] = first + gap + self.right
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width, styled=False))

    def render(self) -> Content:
        return Content("\n").join(self._lines(self.size.width, styled=True))


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


# --- a pad of touch keys, drawn as one widget ---------------------------------------------------


@dataclass(frozen=True)
class PadKey:
    """One key of an :class:`ActionPad`: what it does (``name``), the key of the keyboard
    that does the same (shown on it, e.g. ``F2``), and its label."""

    name: str
    key: str
    label: str


class ActionPad(Widget, can_focus=False):
    """Big keys for a mouse or touch screen, in a grid, drawn as one widget.

    It looks like a :class:`TouchButton` per key in a ``Grid`` (Textual's default button: a
    tall edge above and below, the key's name reversed before its label, the key under the
    mouse lit, a pressed key shown pushed in for a fifth of a second), but it is one widget
    where those were eleven: the kept person's screen is restyled, laid out and drawn again
    for every badge, on stock Textual each of its widgets every time (issue 17).

    A click or tap on a key posts :class:`ActionPad.Pressed` with the key's name (not while
    that key is still shown pressed, as a Button). It never takes the focus. Its grid comes
    from its own styles (``grid-size`` columns, ``grid-gutter``); each key's look from the
    component classes (``border-top``/``border-bottom``: ``tall`` draws the key's edges,
    ``none`` makes it one line high).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "action-pad--key",
        "action-pad--hover",
        "action-pad--pressed",
    }
    DEFAULT_CSS = """
    ActionPad {
        width: 1fr;
        height: auto;
        grid-size: 3;
        grid-gutter: 0 1;
    }
    ActionPad > .action-pad--key {
        color: $button-foreground;
        background: $surface;
        text-style: bold;
        border-top: tall $surface-lighten-1;
        border-bottom: tall $surface-darken-1;
    }
    ActionPad > .action-pad--hover {
        background: $surface-darken-1;
        border-top: tall $surface;
        border-bottom: tall $surface-darken-1;
    }
    ActionPad > .action-pad--pressed {
        background: $surface;
        border-top: tall $surface-darken-1;
        border-bottom: tall $surface-lighten-1;
        tint: $background 30%;
    }
    """
    PRESSED_SECONDS = 0.2  # Button's active_effect_duration

    class Pressed(Message):
        """A key of the pad was clicked or tapped."""

        def __init__(self, pad: ActionPad, action: str) -> None:
            super().__init__()
            self.pad = pad
            self.action = action  # the key's name

        @property
        def control(self) -> ActionPad:
            return self.pad

    def __init__(
        self,
        keys: Sequence[PadKey],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.keys: tuple[PadKey, ...] = tuple(keys)
        self.shown: tuple[str, ...] = tuple(k.name for k in self.keys)
        self.hover: str | None = None
        self.pressed: str | None = None
        self._pressed_timer: Timer | None = None
        self._down_on: str | None = None  # the key under the last mouse down

    def show_only(self, names: set[str] | frozenset[str]) -> None:
        """Show these keys only (in the pad's order); laid out again only if that changed."""
        shown = tuple(k.name for k in self.keys if k.name in names)
        if shown != self.shown:
            self.shown = shown
            if self.hover not in shown:
                self.hover = None
            self.refresh(layout=True)

    # --- where the keys are -------------------------------------------------------------------

    def _columns(self) -> int:
        return max(self.styles.grid_size_columns or 1, 1)

    def _key_height(self) -> int:
        edges = self.get_component_styles("action-pad--key")
        return 1 + self._has_edge(edges.border_top) + self._has_edge(edges.border_bottom)

    @staticmethod
    def _has_edge(edge: tuple[str, Color]) -> int:
        return int(edge[0] not in ("", "none", "hidden"))

    def _widths(self, width: int) -> list[tuple[int, int]]:
        """(x, width) of each column: ``1fr`` columns and the gutter, as Textual's grid
        divides a width."""
        # (Textual's grid puts the "vertical" gutter between columns, the other between rows)
        columns, gutter = self._columns(), self.styles.grid_gutter_vertical
        unit = Fraction(max(width - gutter * (columns - 1), 0), columns)
        steps = [value for _ in range(columns) for value in (unit, Fraction(gutter))]
        offsets = [0, *(int(total) for total in accumulate(steps))]
        return [(a, b - a) for a, b in zip(offsets[::2], offsets[1::2], strict=False)]

    def _rows(self) -> list[tuple[str, ...]]:
        columns = self._columns()
        return [self.shown[n : n + columns] for n in range(0, len(self.shown), columns)]

    def key_at(self, x: int, y: int) -> str | None:
        """The name of the key drawn at (x, y) of the pad, or None (a gutter, nothing)."""
        height, gap = self._key_height(), self.styles.grid_gutter_horizontal
        row, within = divmod(y, height + gap)
        rows = self._rows()
        if row >= len(rows) or within >= height:
            return None
        for name, (left, width) in zip(rows[row], self._widths(self.size.width), strict=False):
            if left <= x < left + width:
                return name
        return None

    def key_offset(self, name: str) -> Offset | None:
        """Where key ``name`` is drawn: the middle of its label line (None: not shown)."""
        height, gap = self._key_height(), self.styles.grid_gutter_horizontal
        columns = self._widths(self.size.width)
        for n, row in enumerate(self._rows()):
            if name in row:
                left, width = columns[row.index(name)]
                return Offset(left + width // 2, n * (height + gap) + height // 2)
        return None

    @property
    def text(self) -> str:
        """The keys shown, one a line, as they read (for reading them out, and for tests)."""
        keys = {k.name: k for k in self.keys}
        return "\n".join(f"{keys[name].key} {keys[name].label}" for name in self.shown)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        rows = len(self._rows())
        if not rows:
            return 0
        return rows * self._key_height() + (rows - 1) * self.styles.grid_gutter_horizontal

    # --- drawing ---------------------------------------------------------------------------------

    def _looks(self, state: str) -> tuple[Style, Style, Style]:
        """The face, top edge and bottom edge of a key in ``state`` ("", "hover", "pressed")."""
        parts = ("action-pad--key", f"action-pad--{state}") if state else ("action-pad--key",)
        face = self.get_visual_style(*parts)
        top = bottom = None
        tint: Color | None = None
        for part in parts:
            styles = self.get_component_styles(part)
            if styles.has_rule("border_top"):
                top = styles.border_top[1]
            if styles.has_rule("border_bottom"):
                bottom = styles.border_bottom[1]
            if styles.has_rule("tint"):
                tint = styles.tint
        background = face.background or Color(0, 0, 0, 0)
        foreground = face.foreground or Color(255, 255, 255)
        if tint is not None and tint.a:
            background, foreground = background.tint(tint), foreground.tint(tint)
            top = top.tint(tint) if top is not None else None
            bottom = bottom.tint(tint) if bottom is not None else None
        face = Style(background, foreground, bold=face.bold, dim=face.dim, italic=face.italic)
        return (
            face,
            Style(background, top if top is not None else background),
            Style(background, bottom if bottom is not None else background),
        )

    def _face(self, key: PadKey, width: int, style: Style) -> Content:
        """The key's middle line: its key and label in the middle, as a Button centres its
        label (``line-pad: 1``, ``text-align: center``; the spaces either side drawn apart)."""
        label = Content.assemble((f" {key.key} ", "bold reverse"), " ", key.label)
        lines = label.wrap(max(width - 2, 1))
        label = (lines[0] if lines else label).truncate(max(width - 2, 0))
        padded = label.pad(1, 1)  # the line's own padding goes with it
        left = max(width - padded.cell_length, 0) // 2
        right = max(width - left - padded.cell_length, 0)
        fill = Style(style.background)  # (as Textual centres a line: blank, not bold)
        return (
            Content.styled(" " * left, fill)
            + padded.stylize_before(style)
            + Content.styled(" " * right, fill)
        )

    def render(self) -> Content:
        width = self.size.width
        columns = self._widths(width)
        key_height, gap = self._key_height(), self.styles.grid_gutter_horizontal
        keys = {k.name: k for k in self.keys}
        looks = {state: self._looks(state) for state in ("", "hover", "pressed")}
        has_top = key_height > 1
        lines: list[Content] = []
        for n, row in enumerate(self._rows()):
            if n:
                lines.extend(Content("") for _ in range(gap))
            parts: list[list[Content]] = [[] for _ in range(key_height)]
            x = 0
            for name, (left, key_width) in zip(row, columns, strict=False):
                state = "pressed" if name == self.pressed else "hover" if name == self.hover else ""
                face, top, bottom = looks[state]
                for part in parts:
                    part.append(Content(" " * (left - x)))
                if has_top:
                    parts[0].append(Content.styled("▔" * key_width, top))
                parts[1 if has_top else 0].append(self._face(keys[name], key_width, face))
                if key_height > 2:
                    parts[-1].append(Content.styled("▁" * key_width, bottom))
                x = left + key_width
            lines.extend(Content("").join(part) for part in parts)
        return Content("\n").join(lines)

    # --- the mouse -------------------------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)
        self._down_on = self.key_at(offset.x, offset.y) if offset is not None else None

    def on_click(self, event: events.Click) -> None:
        """A key is pressed when the finger (or the mouse) goes down and comes up on it, as
        with a Button: Textual makes a click of a press and release anywhere on the pad, so
        a slide from one key to another, or from a gap onto a key, presses nothing."""
        event.stop()
        offset = event.get_content_offset(self)
        name = self.key_at(offset.x, offset.y) if offset is not None else None
        down_on, self._down_on = self._down_on, None
        if name is None or name != down_on or name == self.pressed:
            return
        self.press(name)

    def forget_press(self) -> None:
        """The keys now mean something else (the kept screen shows the next person): a
        finger already down when they changed presses nothing when lifted."""
        self._down_on = None

    def press(self, name: str) -> None:
        """Show key ``name`` pressed for a moment and post :class:`ActionPad.Pressed`."""
        if name not in self.shown or not self.display:
            return
        self.pressed = name
        if self._pressed_timer is not None:
            self._pressed_timer.stop()
        self._pressed_timer = self.set_timer(self.PRESSED_SECONDS, self._released)
        self.refresh()
        self.post_message(self.Pressed(self, name))

    def _released(self) -> None:
        self.pressed = None
        self._pressed_timer = None
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        hover = self.key_at(offset.x, offset.y) if offset is not None else None
        if hover != self.hover:
            self.hover = hover
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self.hover is not None:
            self.hover = None
            self.refresh()


SelectType = TypeVar("SelectType")


class SearchSelect(Select[SelectType]):
    """A ``Select`` whose open list is searched as a person types, by the keys' own times:
    a name typed a key at a time, as slowly as someone looking for each key types it, is one
    search. Textual's own search started again 0.7 s after the last key it handled: "Dina"
    typed at 1.2 s a key searched "D", "i", "n", "a" one by one and ended on Carol Head,
    who was recorded as the line manager who agreed."""

    SEARCH_PAUSE_SECONDS = 3.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["type_to_search"] = False
        super().__init__(*args, **kwargs)
        self._search = ""
        self._search_at = float("-inf")

    def action_show_overlay(self) -> None:
        self._search = ""
        super().action_show_overlay()

    def on_key(self, event: events.Key) -> None:
        """A letter typed in the open list: the search so far and it, or (no option holds
        that, or after SEARCH_PAUSE_SECONDS without a key) it alone, a new search; the first
        option holding it earliest is highlighted. Backspace takes the last letter off."""
        if not self.expanded:
            return
        if event.key == "backspace":
            self._search = self._search[:-1]
        elif event.is_printable and event.character:
            if event.time - self._search_at >= self.SEARCH_PAUSE_SECONDS:
                self._search = ""
            typed = self._search + event.character
            self._search = typed if self._match(typed) is not None else event.character
        else:
            return
        self._search_at = event.time
        event.stop()
        event.prevent_default()
        index = self._match(self._search) if self._search else None
        if index is not None:
            overlay: Any = self.query_one("SelectOverlay")
            overlay.highlighted = index
            overlay.scroll_to_highlight()

    def _match(self, query: str) -> int | None:
        """The index in the open list of the option holding ``query`` earliest (the first
        such in the list's order), as Textual's search chose it; None: none has it."""
        overlay: Any = self.query_one("SelectOverlay")
        wanted = query.casefold()
        best: tuple[int, int] | None = None
        for index in range(overlay.option_count):
            prompt = overlay.get_option_at_index(index).prompt
            at = str(getattr(prompt, "plain", prompt)).casefold().find(wanted)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, index)
        return None if best is None else best[1]
