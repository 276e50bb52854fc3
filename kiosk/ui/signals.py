"""SIGTERM, as a service manager (systemd, a kiosk session) stops the app: the app leaves the way
it always does, so that the terminal is given back as it was (not left in raw mode, with the
mouse reporting on and the alternate screen up), and the exit status is 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from textual.app import App

log = logging.getLogger("kiosk.ui")


def exit_on_sigterm(app: App[Any]) -> None:
    """From now on (call it in ``on_mount``), SIGTERM closes ``app`` with status 0. Undone by
    :func:`forget_sigterm` (in ``on_unmount``)."""

    def stopped() -> None:
        log.info("stopped by SIGTERM (a service manager or the system)")
        allow = getattr(app, "allow_exit", None)
        if callable(allow):
            allow()
        app.exit(return_code=0)

    # Not where there is no such thing (Windows) or no loop in the main thread.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped)


def forget_sigterm() -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
