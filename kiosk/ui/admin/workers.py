"""Database work for the admin console: each service call in a thread worker of the widget or
screen that asked (the gateway's ``run_in_thread``, ``kiosk/ui/gateway.py``), answered on the
UI thread, never an exception to Textual."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App

from kiosk.ui.gateway import Done, Outcome, Refused, run_in_thread
from kiosk.ui.tuning import memory

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

    def answer(outcome: Outcome[T]) -> None:
        # ``apply`` runs in the owner's own message loop, so an error in it is handled like
        # any other handler's (logged, the console locked).
        if isinstance(outcome, Done):
            owner.call_later(apply, done, outcome.value)
        elif isinstance(outcome, Refused):
            owner.call_later(apply, failed, outcome.error.message)
        else:  # logged by run_in_thread
            owner.call_later(apply, failed, UNEXPECTED)

    run_in_thread(owner, call, answer, name=f"admin console: {group}", group=group, exclusive=True)
