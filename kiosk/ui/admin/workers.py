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
    kept: Callable[[T], str] | None = None,
    kept_as: str = "",
) -> None:
    """Run ``call`` (a service call) in a thread worker of ``owner`` (a widget or screen).

    ``done`` or ``failed`` (with a message fit for a person) runs afterwards on the UI thread,
    only if ``owner`` is still on screen and no newer call of the same group has started.
    No exception ever escapes to Textual: an unexpected one is logged, and a plain message
    is shown.

    ``kept``: work that goes on when ``owner`` leaves the screen (an export or a retirement
    when the console locks itself): its outcome, ``kept(value)`` or ``kept_as`` and the
    refusal, is kept for the next console opened in this app (``kept_outcomes``).
    """
    app: App[Any] = owner.app
    tokens = _TOKENS.setdefault(owner, {})
    token = object()
    tokens[group] = token

    def apply(callback: Callable[[Any], None], value: Any, text: Callable[[], str]) -> None:
        if tokens.get(group) is not token:
            return
        if not owner.is_attached:
            if kept is not None:
                _keep(app, text())
            return
        callback(value)
        memory.collect_once_drawn(app)  # while the office reads what it shows (piece gc)

    def answer(outcome: Outcome[T]) -> None:
        # ``apply`` runs in the owner's own message loop, so an error in it is handled like
        # any other handler's (logged, the console locked). Work kept past its owner is
        # answered in the app's: the owner's has gone with it.
        later = owner.call_later if kept is None else app.call_later
        if isinstance(outcome, Done):
            value = outcome.value
            later(apply, done, value, lambda: kept(value) if kept is not None else "")
        else:
            message = outcome.error.message if isinstance(outcome, Refused) else UNEXPECTED
            later(apply, failed, message, lambda: f"{kept_as}: {message}")

    if kept is None:
        run_in_thread(
            owner, call, answer, name=f"admin console: {group}", group=group, exclusive=True
        )
        return
    # The app's worker: the owner's would be cancelled, its outcome dropped, as it left.
    run_in_thread(app, call, answer, name=f"admin console: {group}", group=group)


_KEPT: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def _keep(app: App[Any], text: str) -> None:
    _KEPT.setdefault(app, []).append(text)
    for screen in list(app.screen_stack):
        shown = getattr(screen, "show_kept_outcomes", None)
        if callable(shown):
            shown()


def kept_outcomes(app: App[Any]) -> list[str]:
    """The outcomes of work kept past its console (``run_db``'s ``kept``), once: for the
    console open now to show."""
    return _KEPT.pop(app, [])
