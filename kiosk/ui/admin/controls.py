"""The console's toolbar controls: Textual's own Button, Input and Select, compact (one line
high)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from textual.widgets import Button, Input, Select
from textual.widgets.button import ButtonVariant

from kiosk.ui.widgets import SearchSelect

T = TypeVar("T")


def button(
    label: str,
    *,
    id: str | None = None,
    variant: ButtonVariant = "default",
    classes: str | None = None,
    disabled: bool = False,
) -> Button:
    """A compact Button."""
    return Button(label, variant, id=id, classes=classes, disabled=disabled, compact=True)


def field(*, id: str | None = None, placeholder: str = "", classes: str | None = None) -> Input:
    """A compact Input."""
    return Input(placeholder=placeholder, id=id, classes=classes, compact=True)


def select(
    options: Iterable[tuple[Any, T]],
    *,
    prompt: str = "Select",
    id: str | None = None,
    classes: str | None = None,
) -> Select[T]:
    """A compact Select, searched as it is typed by the keys' own times (SearchSelect)."""
    return SearchSelect(options, prompt=prompt, id=id, classes=classes, compact=True)
