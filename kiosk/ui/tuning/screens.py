"""Tuning piece ``screen-resume``: a screen the kiosk keeps is restyled when shown again only
if the CSS changed meanwhile (the theme, F9).

Textual restyles every widget of a screen each time it is shown again, in case the CSS
changed while it was away."""

from __future__ import annotations

from typing import Any

from textual import events


class RestyleOnlyWhenChanged:
    """Mixed into a kept Screen subclass (``kiosk.ui.base.ReusableScreenMixin``)."""

    app: Any
    _css_update_count: int

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen._on_screen_resume (Textual calls each class's handler in turn).
        from kiosk.ui import tuning

        if not tuning.enabled("screen-resume"):
            return
        if self._css_update_count == self.app._css_update_count:
            event.refresh_styles = False
        self._css_update_count = self.app._css_update_count
