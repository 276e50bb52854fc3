"""Stored data into widgets: always ``Content`` built as plain text, never parsed as markup.

``plain(value)`` is the one way a name, reason, note, title or file name reaches a widget. A
name like ``[@click=app.quit]Jo[/]`` is shown as those characters; nothing in it is a link, a
style or an action. Control, bidi and invisible characters are replaced by
``kiosk.domain.text.display_text``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.notifications import SeverityLevel

from kiosk.domain.text import display_text


def plain(value: object, *, multiline: bool = False, style: str = "") -> Content:
    """``value`` as literal text (markup characters included), safe for the terminal."""
    return Content.styled(display_text(value, multiline=multiline), style)


def plain_cell(value: object, *, style: str = "") -> Text:
    """``value`` as a table cell: a rich ``Text`` (a ``DataTable`` parses a ``str`` cell as
    markup), control, bidi and invisible characters replaced. A ``Text`` keeps its style."""
    if isinstance(value, Text):  # built by the view itself: its line breaks are meant
        cleaned = display_text(value.plain, multiline=True)
        if cleaned == value.plain:
            return value
        return Text(cleaned, style=value.style, end=value.end, no_wrap=value.no_wrap)
    if value is None:
        return Text("", style=style)
    if not isinstance(value, str) and not isinstance(value, (int, float)):
        return value  # type: ignore[return-value]  # another renderable: the caller's own
    return Text(display_text(value), style=style)


def show_toast(
    app: App[Any], message: str, *, title: str = "", severity: SeverityLevel = "error"
) -> None:
    """A message as a toast (where a screen has no message line of its own): its words as
    written, never markup (a name quoted in it, ``Jo [/] Bloggs``, is a markup error that
    stopped the kiosk), control and bidi characters replaced as everywhere else."""
    app.notify(
        display_text(message, multiline=True),
        title=display_text(title),
        severity=severity,
        markup=False,
    )
