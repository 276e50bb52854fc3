"""Small widgets shared by the kiosk's screens.

Every piece of text that can come from the database (names, reasons, policy titles) is
shown as plain :class:`Content`, never parsed as markup: a name such as
``[@click=app.quit]x[/]`` is shown as typed and does nothing.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Button, Checkbox, RadioButton, Static

# Marks that carry meaning without colour.
OK_MARK = "✓"
ERROR_MARK = "✗"
WARN_MARK = "⚠"
TODO_MARK = "!"


def plain(text: str) -> Content:
    """Text shown literally (no markup), whatever it contains."""
    return Content(text)


def assemble(*parts: str | tuple[str, str]) -> Content:
    """Plain strings and (text, style) pairs, none of them parsed as markup."""
    return Content.assemble(*parts)


class Choice(RadioButton):
    """A radio button whose state shows in its shape (● chosen, blank not), not colour alone."""

    def __init__(self, label: str, value: bool = False, **kwargs: object) -> None:
        super().__init__(label, value, **kwargs)  # type: ignore[arg-type]
        self.BUTTON_INNER = "●" if self.value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "
        super().watch_value()


class Tick(Checkbox):
    """A checkbox whose state shows in its shape (✓ ticked, blank not), not colour alone."""

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
            parts.append((f"{title}: ", "bold"))
        parts.append(message)
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
