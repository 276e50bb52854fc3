"""The kiosk's one override of ``App._handle_exception`` (Textual has no public hook for an
unhandled exception). Not a speed piece: it is always on, ``KIOSK_TUNING=0`` too.

An error in a screen's or widget's handler is reported (``report_unexpected``) and the app
carries on (``recover_from``); an error in the app's own loop stops the app as Textual does,
with the app's words (``stopped_message``) instead of a traceback on the screen. An error in a
widget while the app is closing (Textual's shutdown taking the screens down: a widget taken
away half mounted, such as stock Textual's ``Select``) is logged (``report_while_closing``)
and the app closes as it was asked to, not as after a crash."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from rich.text import Text
from textual._context import active_message_pump


class Stopped(Exception):
    """What Textual is handed when the app cannot carry on: shown as plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __rich__(self) -> Text:
        return Text(self.message)


class PlainErrors:
    """Mixed into an App subclass, before App. The app provides ``report_unexpected(error)``,
    ``recover_from(pump)`` and ``stopped_message()``, and names itself in ``CLOSING_NAME``."""

    CLOSING_NAME = "the app"  # in the log: "error in a widget while <it> was closing"

    is_running: bool
    # exit() was asked for: the app is closing (Textual's shutdown may not have begun yet).
    exit_asked = False

    def exit(self, result: Any = None, return_code: int = 0, message: Any = None) -> None:
        self.exit_asked = True
        super().exit(result, return_code, message)  # type: ignore[misc]

    def report_while_closing(self, error: BaseException) -> None:
        """A widget broke as the closing app took it down (it closes as asked): logged."""
        logging.getLogger("kiosk.ui").warning(
            "error in a widget while %s was closing\n%s",
            self.CLOSING_NAME,
            "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        )

    def _handle_exception(self, error: Exception) -> None:
        app: Any = self
        pump: object = active_message_pump.get(None)
        closing = self.exit_asked or not self.is_running
        if pump is not self and pump is not None and closing:
            self.report_while_closing(error)
            return
        app.report_unexpected(error)
        if pump is not self and pump is not None:
            app.call_later(app.recover_from, pump)
            return
        stopped = Stopped(app.stopped_message())
        stopped.__cause__ = error
        super()._handle_exception(stopped)  # type: ignore[misc]
