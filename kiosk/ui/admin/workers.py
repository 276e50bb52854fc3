"""Database work for the admin console: each service call in a thread worker of the widget or
screen that asked, answered on the UI thread, never an exception to Textual."""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App
from textual.worker import get_current_worker

from kiosk.domain.errors import KioskError
from kiosk.ui import tuning
from kiosk.ui.tuning import memory

log = logging.getLogger("kiosk.ui.admin")

T = TypeVar("T")

UNEXPECTED = (
    "Something unexpected went wrong; the details are in the kiosk's log file. Please try again."
)


_TOKENS: weakref.WeakKeyDictionary[Any, dict[str, object]] = weakref.WeakKeyDictionary()


def run_db(
    owner: Any,
    call: Callable[[], T],
    done: Callable[[T], None],
    failed: Callable[[str], None],
    *,
    group: str = "db",
) -> None:
    """Run ``call`` (a service call) in a thread worker of ``owner`` (a widget or screen).

    ``done`` or ``failed`` (with a message fit for a person) runs afterwards on the UI thread,
    only if ``owner`` is still on screen and no newer call of the same group has started.
    No exception ever escapes to Textual: an unexpected one is logged, and a plain message
    is shown.
    """
    app: App[Any] = owner.app
    tokens = _TOKENS.setdefault(owner, {})
    token = object()
    tokens[group] = token

    def apply(callback: Callable[[Any], None], value: Any) -> None:
        if tokens.get(group) is not token or not owner.is_attached:
            return
        callback(value)
        memory.collect_once_drawn(app)  # while the office reads what it shows (piece gc)

    def deliver(callback: Callable[[Any], None], value: Any) -> None:
        if get_current_worker().is_cancelled:
            return
        # Run ``apply`` in the owner's own message loop, so an error in it is handled like
        # any other handler's (logged, the console locked) instead of vanishing in this thread.
        with contextlib.suppress(RuntimeError):  # the app is closing
            app.call_from_thread(owner.call_later, apply, callback, value)

    def work() -> None:
        try:
            result = call()
        except KioskError as exc:
            deliver(failed, exc.message)
            return
        except Exception:
            log.exception("admin console: %s failed", group)
            deliver(failed, UNEXPECTED)
            return
        deliver(done, result)

    def job() -> None:
        try:
            work()
        finally:
            tuning.worker_done()  # or the pool thread keeps ``owner`` alive

    owner.run_worker(job, thread=True, group=group, exclusive=True, exit_on_error=False)
