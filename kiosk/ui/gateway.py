"""The one way from a screen to a use case.

A kiosk screen hands the gateway a service call (``lambda s: s.phones.deposit(code)``); the
gateway runs it in a Textual thread worker and hands its typed result back on the UI thread,
to the callback the screen gave. One error path for every call:

* a ``KioskError`` (a refusal in words): the screen's ``failed`` callback, or else the message
  line of the screen on top;
* the database away (not open yet, or unreachable): the same, with the "unavailable" words;
* anything else: logged with its traceback, and a plain sentence on the screen.

Nothing is confirmed unless the call returned: ``done`` only ever gets a service's result.
The gateway also opens the database (in a worker, retried while it is away) and knows its
state.

``run_in_thread`` is the primitive under it all (the kiosk's calls, its background reads,
opening the database, and the admin console's workers, ``admin/workers.py``): ``work`` in a
thread worker, its outcome (``Done``, ``Refused`` or ``Broke``) answered on the UI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, Union

from textual.dom import DOMNode
from textual.timer import Timer
from textual.worker import Worker, get_current_worker

from kiosk.config import Settings
from kiosk.domain.errors import DatabaseUnavailable, KioskError, SchemaTooNew
from kiosk.ui import tuning

if TYPE_CHECKING:
    from textual.app import App

    from kiosk.services.app import Services

log = logging.getLogger("kiosk.ui")

T = TypeVar("T")

UNEXPECTED = (
    "Something went wrong, so this was not recorded. Please try again; "
    "if it happens again, tell the office."
)
UNAVAILABLE = "Not recorded: the register's database is unavailable. Please try again shortly."


# --- the primitive: work off the UI thread, its outcome back on it ---------------------------


@dataclass(frozen=True)
class Done(Generic[T]):
    """The work returned ``value``."""

    value: T


@dataclass(frozen=True)
class Refused:
    """The work raised a ``KioskError``: words a person can read."""

    error: KioskError


@dataclass(frozen=True)
class Broke:
    """The work raised something unexpected (logged already, with its traceback)."""

    error: Exception


Outcome: TypeAlias = Union[Done[T], Refused, Broke]  # noqa: UP007 (a generic alias)


def run_in_thread(
    owner: DOMNode,
    work: Callable[[], T],
    answer: Callable[[Outcome[T]], None],
    *,
    name: str,
    group: str = "default",
    exclusive: bool = False,
    thread: Executor | None = None,
) -> None:
    """Run ``work`` in a thread worker of ``owner``; then ``answer(outcome)`` on the UI
    thread (not when the worker was cancelled, nor once the app is closing). No exception
    of ``work`` reaches Textual.

    ``thread``: run ``work`` on that executor's thread (the gateway's own, long-lived) instead
    of Textual's pool; the worker is then an async worker of ``owner`` waiting for it, seen in
    ``app.workers``, cancelled and answered in the same way."""
    app = owner.app

    def job(worker: Worker[None] | None = None) -> None:
        outcome: Outcome[T]
        try:
            try:
                outcome = Done(work())
            except KioskError as exc:
                outcome = Refused(exc)
            except Exception as exc:
                if app.is_running:  # not the process tearing down under a closing app
                    log.error("unexpected error in %s\n%s", name, traceback.format_exc())
                outcome = Broke(exc)
            if (worker or get_current_worker()).is_cancelled:
                return
            with contextlib.suppress(RuntimeError):  # the app is closing
                app.call_from_thread(answer, outcome)
        finally:
            tuning.worker_done()  # or the pool thread keeps ``owner`` alive

    if thread is None:
        owner.run_worker(
            job, thread=True, exit_on_error=False, group=group, exclusive=exclusive, name=name
        )
        return

    async def on_own_thread() -> None:
        worker = get_current_worker()
        await asyncio.get_running_loop().run_in_executor(thread, job, worker)

    waiting: Any = on_own_thread  # (Textual's stubs want a coroutine typed for its result)
    owner.run_worker(waiting, exit_on_error=False, group=group, exclusive=exclusive, name=name)


# --- the kiosk's gateway ----------------------------------------------------------------------


class Caller(Protocol):
    """The screen that made a call: told when the call is slow, and when it was answered."""

    def show_busy(self, busy: bool) -> None: ...

    def call_answered(self) -> None: ...


class Gateway:
    """The kiosk's one way to its use cases (one per app: ``app.gateway``).

    ``call``: one service call at a time (``busy`` meanwhile; scans wait); ``read``: a read
    for the screen beside them, failures only logged; ``connect``: the database."""

    BUSY_SECONDS = 0.3  # "Recording, please wait…" after this long

    def __init__(
        self,
        app: App[Any],
        settings: Settings,
        services: Services | None,
        *,
        tell: Callable[[KioskError | str, str | None], None],
        answered: Callable[[], None],
        connected: Callable[[], None],
        retry_seconds: float,
        not_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self._app = app
        # A call answered "Not recorded" (the database failed it, or something unexpected):
        # the app lets the person read it before keys typed meanwhile go on.
        self._not_recorded = not_recorded
        self._settings = settings
        self._tell = tell  # the screen on top's message line
        self._answered = answered  # after each call's answer: the app's scans and keys
        self._connected = connected  # after each attempt to open the database
        self.retry_seconds = retry_seconds
        self.services = services
        # "connecting", "ready", "unavailable" or "too_new"
        self.state = "ready" if services is not None else "connecting"
        self.message = ""  # why the database is away, in words
        self._refusal: str | None = None  # what an action says meanwhile, when not "try again"
        self.busy = False
        self.unexpected_errors: list[BaseException] = []
        self._busy_timer: Timer | None = None
        # Two long-lived threads, made when first used: one for the calls (and opening the
        # database), one for the reads beside them. Textual's pool would do the same work on
        # up to six threads over the months (a new one whenever a job is handed over while
        # the last one is still winding down), each holding memory of its own.
        self._calls = ThreadPoolExecutor(1, thread_name_prefix="kiosk-calls")
        self._reads = ThreadPoolExecutor(1, thread_name_prefix="kiosk-reads")

    # --- the database -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the database in a thread worker (the ORM and Alembic are imported there);
        while it is away, try again every ``retry_seconds``."""
        settings = self._settings

        def open_services() -> Services:
            from kiosk.services.app import Services

            # (on PostgreSQL, refused while this kiosk's clock and the server's disagree)
            services = Services.open(settings, create=False, check_clock=True)
            try:  # the PIN's hash, for the PIN pad when the database is away later
                services.admin.keep_local_pin_copy()
            except KioskError as exc:
                log.warning("no local copy of the admin PIN kept: %s", exc.message)
            return services

        run_in_thread(self._app, open_services, self._opened, name="connect", thread=self._calls)

    def _opened(self, outcome: Outcome[Services]) -> None:
        self._refusal = None
        if isinstance(outcome, Done):
            self.services, self.state, self.message = outcome.value, "ready", ""
        else:
            if isinstance(outcome, Refused):
                too_new = isinstance(outcome.error, SchemaTooNew)
                self.state, self.message = (
                    "too_new" if too_new else "unavailable",
                    outcome.error.message,
                )
                if isinstance(outcome.error, DatabaseUnavailable):
                    self._refusal = outcome.error.refusal
            else:
                self.state = "unavailable"
                self.message = (
                    f"The database cannot be opened ({type(outcome.error).__name__}). "
                    "Check the kiosk's database setting."
                )
            log.warning("database %s: %s", self.state, self.message)
            self._app.set_timer(self.retry_seconds, self.connect, name="retry")
        self._connected()

    def unavailable_error(self) -> KioskError:
        """The refusal a call gets while the database is away."""
        if self.state == "too_new":
            return SchemaTooNew(self.message)
        return DatabaseUnavailable(self._refusal or UNAVAILABLE)

    # --- calls --------------------------------------------------------------------------------

    def call(
        self,
        caller: Caller,
        work: Callable[[Services], T],
        done: Callable[[T], None],
        failed: Callable[[KioskError], None] | None = None,
    ) -> bool:
        """Run one service call in a thread worker; then ``done(result)`` or
        ``failed(error)`` (default: the message line) on the UI thread. One call at a time:
        returns False, doing nothing, while another is still running."""
        if self.busy:
            return False
        services = self.services
        if services is None:
            self.safely(failed or self._refuse, self.unavailable_error())
            return True
        self.busy = True
        self._busy_timer = self._app.set_timer(self.BUSY_SECONDS, lambda: caller.show_busy(True))

        def answer(outcome: Outcome[T]) -> None:
            self._finish(caller, outcome, done, failed)

        run_in_thread(
            self._app,
            lambda: work(services),
            answer,
            name="service",
            group="db",
            thread=self._calls,
        )
        return True

    def _finish(
        self,
        caller: Caller,
        outcome: Outcome[T],
        done: Callable[[T], None],
        failed: Callable[[KioskError], None] | None,
    ) -> None:
        self.busy = False
        if self._busy_timer is not None:
            self._busy_timer.stop()
            self._busy_timer = None
        if not getattr(caller, "is_attached", True):
            # The screen that asked has gone (the app closing: nothing dismisses a screen
            # while its call runs): its answer drawn there met widgets already taken away
            # (NoMatches, told as "Something went wrong"). What was recorded is in the
            # register either way.
            log.info("a call's answer came after its screen had gone: not shown (%s)", outcome)
            self._answered()
            return
        caller.show_busy(False)
        if isinstance(outcome, Done):
            self.safely(done, outcome.value)
        elif isinstance(outcome, Refused):
            if isinstance(outcome.error, DatabaseUnavailable):
                self._not_recorded()
            self.safely(failed or self._refuse, outcome.error)
        else:
            self.unexpected_errors.append(outcome.error)
            self._not_recorded()
            self._tell(UNEXPECTED, "Not recorded")
        caller.call_answered()
        self._answered()

    def read(self, work: Callable[[Services], T], done: Callable[[T], None]) -> bool:
        """Read something for the screen in a thread worker of its own, beside the calls
        (``busy`` is not set, no scan waits for it); then ``done(result)`` on the UI thread.
        A failure is logged and nothing is shown (the next refresh tries again). Returns
        False when the database is not open, or while the last such read is running."""
        services = self.services
        if services is None or any(
            w.group == "background" and not w.is_finished for w in self._app.workers
        ):
            return False

        def answer(outcome: Outcome[T]) -> None:
            if isinstance(outcome, Done):
                self.safely(done, outcome.value)
            elif isinstance(outcome, Refused):
                log.info("background read failed: %s", outcome.error.message)

        run_in_thread(
            self._app,
            lambda: work(services),
            answer,
            name="background",
            group="background",
            thread=self._reads,
        )
        return True

    def close(self) -> None:
        """The app is closing: its threads end once their job (if any) has returned."""
        self._calls.shutdown(wait=False)
        self._reads.shutdown(wait=False)

    # --- the one error path on the UI thread --------------------------------------------------

    def safely(self, callback: Callable[[T], None], value: T) -> None:
        """``callback(value)`` on the UI thread; an exception in it is logged, kept, and
        the person told in a plain sentence (never a traceback)."""
        try:
            callback(value)
        except Exception as exc:
            log.error("unexpected error on the screen\n%s", traceback.format_exc())
            self.unexpected_errors.append(exc)
            self._tell(UNEXPECTED, "Not recorded")

    def _refuse(self, error: KioskError) -> None:
        self._tell(error, None)
