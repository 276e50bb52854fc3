"""Tuning piece ``footer``: a Footer rebuilt only when what it shows changed."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class TunedFooter(Footer):
    """Textual's Footer, cheaper to keep up to date.

    Footer builds its keys anew whenever the screen's bindings may have changed (each focus
    change, each mount): opening the console did that three times, and each FooterKey was
    styled three times as it mounted (its ``compact`` starts True, adding ``-compact``, then
    the footer's False removes it). Here the keys are rebuilt only when what the footer
    shows changed, and each starts with the footer's ``compact``: styled once.
    """

    _shown: tuple[Any, ...] | None = None

    def _showing(self) -> tuple[Any, ...] | None:
        """What the footer shows (every active binding, enabled or not, and its options)."""
        if not self._bindings_ready:
            return None
        bindings = tuple(
            (binding, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
        )
        return bindings, self.compact, self.show_command_palette

    async def recompose(self) -> None:
        if not self.is_attached or self._pruning:
            return
        showing = self._showing()
        if showing is not None and showing == self._shown:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        self._shown = self._showing()
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget
