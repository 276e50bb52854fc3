"""Stored data into widgets: always ``Content`` built as plain text, never parsed as markup.

``plain(value)`` is the one way a name, reason, note, title or file name reaches a widget. A
name like ``[@click=app.quit]Jo[/]`` is shown as those characters; nothing in it is a link, a
style or an action. Control, bidi and invisible characters are replaced by
``kiosk.domain.text.display_text``.
"""

from __future__ import annotations

from textual.content import Content

from kiosk.domain.text import display_text


def plain(value: object, *, multiline: bool = False, style: str = "") -> Content:
    """``value`` as literal text (markup characters included), safe for the terminal."""
    return Content.styled(display_text(value, multiline=multiline), style)
