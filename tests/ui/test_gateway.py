"""The gateway (kiosk/ui/gateway.py): the one way from a kiosk screen to a use case. A service
call runs in a thread worker and answers on the UI thread, with one error path."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from textual.app import App

from kiosk.config import Settings
from kiosk.domain.errors import DatabaseUnavailable, KioskError, RuleViolation
from kiosk.services.app import Services
from kiosk.ui.gateway import UNAVAILABLE, UNEXPECTED, Gateway


class Host(App[None]):
    """The smallest app a gateway runs in: it keeps what the gateway tells it."""

    def __init__(self, settings: Settings, services: Services | None) -> None:
        super().__init__()
        self.told: list[tuple[KioskError | str, str | None]] = []
        self.answered = 0
        self.gateway = Gateway(
            self,
            settings,
            services,
            tell=lambda message, title: self.told.append((message, title)),
            answered=self._answered,
            connected=lambda: None,
            retry_seconds=60.0,
        )

    def _answered(self) -> None:
        self.answered += 1


class Caller:
    def __init__(self) -> None:
        self.busy: list[bool] = []
        self.answers = 0

    def show_busy(self, busy: bool) -> None:
        self.busy.append(busy)

    def call_answered(self) -> None:
        self.answers += 1


async def finished(app: Host, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_the_result_comes_back_on_the_ui_thread(
    kiosk_settings: Settings, school: Services
) -> None:
    app, caller = Host(kiosk_settings, school), Caller()
    threads: list[threading.Thread] = []
    got: list[Any] = []

    def work(services: Services) -> Any:
        threads.append(threading.current_thread())
        return services.phones.deposit("ASMITH")

    def done(receipt: Any) -> None:
        threads.append(threading.current_thread())
        got.append(receipt)

    async with app.run_test() as pilot:
        assert app.gateway.call(caller, work, done)
        assert app.gateway.busy
        await finished(app, pilot)
    [receipt] = got
    assert receipt.summary == "Phone deposited in the Staff-room secure store"
    assert threads[0] is not threading.main_thread() and threads[1] is threading.main_thread()
    assert not app.gateway.busy and caller.answers == 1 and app.answered == 1
    assert app.told == [] and app.gateway.unexpected_errors == []


async def test_a_refusal_goes_to_failed_or_the_message_line(
    kiosk_settings: Settings, school: Services
) -> None:
    app, caller = Host(kiosk_settings, school), Caller()
    failed: list[KioskError] = []
    done: list[Any] = []
    async with app.run_test() as pilot:
        app.gateway.call(caller, lambda s: s.phones.collect("ASMITH"), done.append, failed.append)
        await finished(app, pilot)
        app.gateway.call(caller, lambda s: s.phones.collect("ASMITH"), done.append)
        await finished(app, pilot)
    assert done == []
    assert [type(e) for e in failed] == [RuleViolation]
    [(told, title)] = app.told
    assert isinstance(told, RuleViolation) and "no phone in a store" in told.message
    assert title is None and caller.answers == 2
    assert school.phones.phones_now() == ()


async def test_anything_else_is_logged_and_said_in_a_plain_sentence(
    kiosk_settings: Settings, school: Services, caplog: pytest.LogCaptureFixture
) -> None:
    app, caller = Host(kiosk_settings, school), Caller()
    done: list[Any] = []
    failed: list[KioskError] = []

    def broken(services: Services) -> None:
        raise ZeroDivisionError("a bug")

    with caplog.at_level(logging.ERROR, logger="kiosk.ui"):
        async with app.run_test() as pilot:
            app.gateway.call(caller, broken, done.append, failed.append)
            await finished(app, pilot)
            # A bug in the screen's own answer: the same plain sentence, never a traceback.
            app.gateway.call(caller, lambda s: 1, lambda _: [][0])
            await finished(app, pilot)
    assert done == [] and failed == []  # a bug is not a refusal: no screen sees it as one
    assert app.told == [(UNEXPECTED, "Not recorded"), (UNEXPECTED, "Not recorded")]
    assert [type(e) for e in app.gateway.unexpected_errors] == [ZeroDivisionError, IndexError]
    assert "ZeroDivisionError: a bug" in caplog.text and "IndexError" in caplog.text


async def test_with_the_database_away_nothing_runs_and_the_words_say_so(
    kiosk_settings: Settings,
) -> None:
    app, caller = Host(kiosk_settings, None), Caller()
    ran: list[bool] = []
    failed: list[KioskError] = []
    async with app.run_test() as pilot:
        assert app.gateway.call(caller, lambda s: ran.append(True), print, failed.append)
        assert app.gateway.read(lambda s: ran.append(True), print) is False
        await finished(app, pilot)
        assert not app.gateway.busy and list(app.workers) == []
    assert ran == []
    [error] = failed
    assert isinstance(error, DatabaseUnavailable) and error.message == UNAVAILABLE


async def test_one_call_at_a_time_and_slow_calls_say_so(
    kiosk_settings: Settings, school: Services
) -> None:
    app, caller = Host(kiosk_settings, school), Caller()
    got: list[int] = []

    def slow(services: Services) -> int:
        time.sleep(0.6)
        return 1

    async with app.run_test() as pilot:
        assert app.gateway.call(caller, slow, got.append)
        assert not app.gateway.call(caller, lambda s: 2, got.append)  # refused: busy
        await finished(app, pilot)
    assert got == [1]
    assert caller.busy == [True, False]  # "Recording, please wait…", then cleared


async def test_a_failed_background_read_shows_nothing(
    kiosk_settings: Settings, school: Services
) -> None:
    app = Host(kiosk_settings, school)
    got: list[Any] = []
    async with app.run_test() as pilot:
        assert app.gateway.read(lambda s: s.people.status("NOBODY"), got.append)
        await finished(app, pilot)
        assert app.gateway.read(lambda s: s.people.status("ASMITH").staff.name, got.append)
        await finished(app, pilot)
    assert got == ["Alice Smith"] and app.told == []


async def test_calls_run_on_one_long_lived_thread_and_reads_on_another(
    kiosk_settings: Settings, school: Services
) -> None:
    """A kiosk runs for months: its calls (and its reads beside them) each stay on one thread
    of the gateway's, even when the next call is made from the last one's answer (Textual's
    pool starts a new thread then: the last one is still handing its answer over)."""
    app, caller = Host(kiosk_settings, school), Caller()
    calls: list[threading.Thread] = []
    reads: list[threading.Thread] = []

    def work(services: Services) -> Any:
        calls.append(threading.current_thread())
        return services.phones.in_or_out("ASMITH")

    def done(_receipt: Any) -> None:
        if len(calls) < 5:
            assert app.gateway.call(caller, work, done)

    def read(services: Services) -> Any:
        reads.append(threading.current_thread())
        return services.phones.phones_now()

    async with app.run_test() as pilot:
        assert app.gateway.call(caller, work, done)
        for _ in range(5):  # one at a time: a read is refused while the last one runs
            assert app.gateway.read(read, lambda _phones: None)
            await finished(app, pilot)
        while app.gateway.busy:
            await finished(app, pilot)
    assert len(calls) == 5 and len(reads) == 5
    assert len(set(calls)) == 1 and len(set(reads)) == 1
    assert calls[0] is not reads[0] and threading.main_thread() not in (calls[0], reads[0])
    assert caller.answers == 5 and app.told == [] and app.gateway.unexpected_errors == []
