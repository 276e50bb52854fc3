"""Round 17 of the typing red team: work left for later (an answer from the gateway, a timer,
a callback after the next refresh) that comes once the person has left the screen, or once
another screen has come over it and gone; a person's screen timing out with a call in flight."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from time import monotonic

import pytest
from textual import events as textual_events
from textual.widgets import Button, DataTable, Input, Static, TabbedContent

from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services
from kiosk.ui.admin import register as register_view
from kiosk.ui.admin.console import SAVE_HOLD_SECONDS
from kiosk.ui.admin.dialogs import FormDialog
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.signout import BACK_READ_SECONDS, SignOutScreen
from kiosk.ui.wellbeing import VduScreen
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import (
    ConsoleHost,
    messages,
    open_services,
    text_of,
    wait_until,
)
from tests.ui.clocks import FakeUiClock
from tests.ui.keyboard import typed
from tests.ui.kiosk_support import (
    burst,
    events,
    hold,
    make_app,
    notice,
    press,
    running,
    scan,
    screen_text,
    settle,
    type_code,
    wait_for,
)

pytestmark = pytest.mark.ui

BUSY = "Not recorded: the register is busy (another kiosk is writing). Please try again."


async def test_not_recorded_after_a_slow_call_stays_to_be_read(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Esha presses F2 to deposit her phone; the register is busy and the kiosk says
    # "Recording, please wait…" for longer than a screen's idle timeout. Then the refusal
    # came ("Not recorded") and, a quarter of a second later, the idle timeout (counted from
    # her F2) took her screen home: she saw "please wait", then the home screen, and walked
    # off thinking her phone was recorded. The refusal stays the whole idle timeout now.
    gate = threading.Event()

    def busy(*_args: object, **_kwargs: object) -> object:
        gate.wait(10)
        raise DatabaseUnavailable(BUSY)

    monkeypatch.setattr(school.phones, "deposit", busy)
    app = make_app(school)
    assert isinstance(app.clock, FakeUiClock)
    timeout = school.settings.idle_timeout
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        before = len(events(school))
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.busy)
        app.clock.advance(timeout + 15)  # "Recording, please wait…" all that time
        app.check_idle_timeout()
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert "the register is busy" in notice(app)
        # The idle check (four times a second) comes round: she is still reading it.
        app.clock.advance(1)
        app.check_idle_timeout()
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen), type(app.screen).__name__
        assert "the register is busy" in notice(app)
        # Left alone for the idle timeout after the refusal: home, as always.
        app.clock.advance(timeout)
        app.check_idle_timeout()
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert len(events(school)) == before


# --- the office: a correction asked for twice ------------------------------------------------


@pytest.fixture
def office(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    """The school set up the week before: today's register holds only the test's events."""
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    yield svc
    svc.close()


def title_of(app: ConsoleHost) -> str:
    return text_of(app.screen.query_one("#reg-title", Static))


async def _keys_at(pilot: object, app: ConsoleHost, keys: list[tuple[float, str]]) -> None:
    """Keys as a terminal sends them, each at its own time (seconds from now)."""
    start = monotonic()
    for offset, key in keys:
        when = start + offset
        while monotonic() < when:
            await asyncio.sleep(min(0.005, when - monotonic()))
        character = {"enter": "\r", "slash": "/", "backspace": "\x7f"}.get(key, key)
        event = textual_events.Key(key, character)
        event.time = when
        app.post_message(event)


async def _correction_asked(pilot: object, app: ConsoleHost) -> None:
    """Dina chooses the event, presses c and types why it is wrong, one key at a time."""
    table = app.screen.query_one("#reg-table", DataTable)
    await wait_until(pilot, lambda: table.row_count == 1)  # type: ignore[arg-type]
    table.focus()
    table.move_cursor(row=0)
    await typed(pilot, "c")  # type: ignore[arg-type]
    await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))  # type: ignore[arg-type]
    await typed(pilot, "Scanned the wrong badge", gap=0.02)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "enters",
    [
        pytest.param([(0.0, "enter"), (0.12, "enter")], id="pressed-twice"),
        # Both Enters in one terminal read (a bouncing key, keys batched over SSH or
        # --serve, the console catching up): the second came before the button had its focus.
        pytest.param([(0.0, "enter"), (0.0, "enter")], id="one-read"),
        pytest.param([(0.0, "enter"), (0.004, "enter")], id="four-ms-apart"),
        # Held down: the terminal repeats it after half a second, 30 times a second.
        pytest.param([(0.0, "enter"), *((0.5 + n / 30, "enter") for n in range(9))], id="held"),
    ],
)
async def test_enter_pressed_twice_on_a_correction_does_not_void_before_it_is_read(
    office: Services, enters: list[tuple[float, str]]
) -> None:
    # A correction is for good, so Enter after its reason asks "Press Enter again to void
    # event 20". Dina's Enter bounced (or she pressed it twice, or held it): the second
    # press voided Alice's deposit before the question had been on the screen long enough
    # to read it. A second Enter counts only once the question has been read (and a key held
    # down is one press).
    wrong = office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    async with app.run_test(size=(110, 34)) as pilot:
        await _correction_asked(pilot, app)
        await _keys_at(pilot, app, enters)
        await pilot.pause(0.4)
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, FormDialog)
        said = " ".join(messages(app))
        assert "nothing is recorded yet" in said, said
        assert not office.register.day(START.date()).rows[0].voided
        # Read, then Enter again: voided.
        await pilot.pause(0.6)
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
    row = next(r for r in office.register.day(START.date()).rows if r.event_id == wrong.event_id)
    assert row.voided and row.void_reason == "Scanned the wrong badge"


async def test_void_pressed_as_it_is_asked_saves_nothing_however_it_came(
    office: Services,
) -> None:
    # Whatever way a press reaches "Void this entry" (a key racing the focus, a click),
    # it saves nothing before "Press Enter again to ..." could be read.
    office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    async with app.run_test(size=(110, 34)) as pilot:
        await _correction_asked(pilot, app)
        # The click comes as the question is asked: the Enter goes in and the button is
        # pressed as soon as "Press Enter again" is there, not after Pilot has waited for
        # the app to go idle (on a loaded machine that took longer than READ_SECONDS, and
        # the click then rightly saved).
        app.post_message(textual_events.Key("enter", "\r"))
        while not any("Press Enter again" in m for m in messages(app)):
            await asyncio.sleep(0.001)
        asked = monotonic()
        app.screen.query_one("#submit", Button).press()
        assert monotonic() < asked + READ_SECONDS, "pressed only after the question was read"
        await pilot.pause(0.3)
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, FormDialog)
        assert "nothing is recorded yet" in " ".join(messages(app))
        assert not office.register.day(START.date()).rows[0].voided


async def test_a_date_typed_again_at_once_stays_in_the_field_while_the_day_is_read(
    office: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dina types 9/3/2026 and Enter in the register's date field, sees the typo and, at
    # once, rubs it out to type 8/3/2026. The day is slow to come (a big register, a busy
    # server): a quarter of a second after her Enter the console emptied the field and put
    # the cursor on the table, though she was typing in it. What she typed was lost and her
    # next keys went to the table: her "3" showed the Phones view. The field is left to her
    # now; her Enter reads the date she meant.
    office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    async with app.run_test(size=(110, 34)) as pilot:
        table = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        table.focus()
        gate = hold(monkeypatch, office.register, "day", seconds=5)
        # (The console's timer comes while she rubs the date out, however loaded the machine.)
        monkeypatch.setattr(register_view, "LOADING_AFTER", 0.6)
        await typed(pilot, "g9/3/2026⏎", gap=0.15)
        for _ in range(8):
            await pilot.press("backspace")
            await pilot.pause(0.15)
        await typed(pilot, "8/3/20", gap=0.15)
        tabs = app.screen.query_one("#console-tabs", TabbedContent)
        field = app.screen.query_one("#reg-date", Input)
        assert tabs.active == "tab-register"
        assert app.focused is field and field.value == "8/3/20"
        gate.set()
        await typed(pilot, "26⏎", gap=0.15)
        await wait_until(pilot, lambda: "Sunday 8 March 2026" in title_of(app))
        assert tabs.active == "tab-register" and app.focused is table and field.value == ""
        # A date and a click on Go: the table takes the focus with the day, as before.
        await typed(pilot, "g7/3/2026", gap=0.15)
        await pilot.click("#reg-go")
        await wait_until(pilot, lambda: "Saturday 7 March 2026" in title_of(app))
        await wait_until(pilot, lambda: app.focused is table)
        assert field.value == ""


@pytest.mark.parametrize("noticed", [0.3, 0.45])
async def test_a_typo_seen_just_after_the_day_came_goes_on_in_the_date_field(
    office: Services, noticed: float
) -> None:
    # The same with the day quick to come, as it mostly is: it came at once, the field was
    # emptied and the table took the focus. Dina saw the typo a moment later (0.3 s, 0.45 s)
    # and rubbed it out: her Backspaces went to the table and her "8/3/2026" chose views
    # (the console ended on "6 Exemptions"). Keys for the date that soon go back to the
    # field, the date she Entered in it, and her Enter reads the date she meant.
    office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    async with app.run_test(size=(110, 34)) as pilot:
        table = app.screen.query_one("#reg-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        table.focus()
        await typed(pilot, "g9/3/2026", gap=0.05)
        # Each key at its time from her Enter, 0.12 s apart once she has seen the typo.
        keys = ["backspace"] * 8 + [{"/": "slash"}.get(c, c) for c in "8/3/2026"]
        await _keys_at(
            pilot, app, [(0.0, "enter"), *((noticed + n * 0.12, k) for n, k in enumerate(keys))]
        )
        await pilot.pause(0.3)
        tabs = app.screen.query_one("#console-tabs", TabbedContent)
        field = app.screen.query_one("#reg-date", Input)
        assert tabs.active == "tab-register"
        assert app.focused is field and field.value == "8/3/2026"
        await typed(pilot, "⏎", gap=0.12)
        await wait_until(pilot, lambda: "Sunday 8 March 2026" in title_of(app))
        assert tabs.active == "tab-register"
        # A digit a while after the day came is a view's shortcut, as before.
        await wait_until(pilot, lambda: app.focused is table)
        await pilot.pause(0.6)
        await pilot.press("3")
        await wait_until(pilot, lambda: tabs.active != "tab-register")


# --- breakfast club: a colleague's code mistyped, then F4 -------------------------------------


def _in_drawer(services: Services) -> list[str]:
    return sorted(h.staff.code for h in services.phones.phones_now() if h.store.code == "DRAWER")


async def test_f4_after_a_mistyped_code_asks_before_undoing_the_colleague_before(
    school: Services,
) -> None:
    # Ben, new to leading breakfast club, logs Esha, then types Alice's code with a letter
    # missing: "Not recorded for ASMTH". He presses F4 "Undo last" to take his mistake
    # back. Nothing of his mistake was recorded: F4 voided Esha's deposit instead, with her
    # phone in the drawer. F4 now says so first; F4 again undoes Esha's scan.
    app = make_app(school)
    assert isinstance(app.clock, FakeUiClock)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        await type_code(pilot, "EPATEL")
        await type_code(pilot, "ASMTH")
        assert "ASMTH" in notice(app)
        app.clock.advance(2)
        await press(pilot, "f4")
        assert _in_drawer(school) == ["EPATEL"]
        said = notice(app)
        assert "“ASMTH” was not recorded: there is nothing to undo for it" in said, said
        assert "press F4 again" in said
        # Why it was refused stays in view: F4's message had replaced it.
        assert "No member of staff has the code ASMTH" in said, said
        assert "UNDONE" not in screen_text(app)
        await type_code(pilot, "ASMITH")  # he types the code again, right
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        app.clock.advance(2)
        await press(pilot, "f4")  # F4 after a recorded scan undoes it, as before
        assert _in_drawer(school) == ["EPATEL"]
        assert "✗ UNDONE Alice Smith: phone into the drawer" in screen_text(app)


async def test_f4_again_after_the_question_undoes_the_last_scan(school: Services) -> None:
    app = make_app(school)
    assert isinstance(app.clock, FakeUiClock)
    async with running(app) as pilot:
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:BJONES")
        await type_code(pilot, "EPATEL")
        await type_code(pilot, "ASMTH")
        app.clock.advance(2)
        # The second at once (0.1 s later): the same press again, what F4 said not read.
        await typed(pilot, ["f4", "f4"], gap=0.1)
        await settle(pilot)
        assert _in_drawer(school) == ["EPATEL"]
        await pilot.pause(READ_SECONDS)  # read (timed by the keys' own clock)
        await press(pilot, "f4")
        assert _in_drawer(school) == []
        assert "✗ UNDONE Esha Patel: phone into the drawer" in screen_text(app)


async def test_the_console_does_not_lock_itself_while_a_correction_is_being_saved(
    office: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dina confirms a correction; the register is busy (another kiosk writing) and the
    # dialog says "Saving…" for longer than the console's idle time. The console locked
    # itself meanwhile ("locked itself after 2 minutes without input"), the dialog with it:
    # the correction was saved, and nobody was told whether it had been. The lock waits
    # for the save; the idle time counts from its answer.
    wrong = office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    timeout = office.settings.admin_idle_timeout
    async with app.run_test(size=(110, 34)) as pilot:
        console = app.screen
        await _correction_asked(pilot, app)
        await pilot.press("enter")
        await pilot.pause(READ_SECONDS + 0.1)
        gate = hold(monkeypatch, office.register, "void", seconds=30)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("Saving" in m for m in messages(app)))
        # The console's own once-a-second check may have seen the save start already; the
        # clock moves on in ten-second steps, each checked, as the console's timer would.
        console.check_idle_timeout()  # type: ignore[attr-defined]
        for _ in range(int(timeout + 30) // 10):
            app.clock.advance(10)
            console.check_idle_timeout()  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert isinstance(app.screen, FormDialog)
        gate.set()
        await wait_until(pilot, lambda: app.screen is console)
        await wait_until(pilot, lambda: any("voided" in m for m in messages(app)))
        # The office reads the answer: not locked a moment after it.
        app.clock.advance(1)
        console.check_idle_timeout()  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        assert app.screen is console and console.locked_reason is None  # type: ignore[attr-defined]
        app.clock.advance(timeout)
        console.check_idle_timeout()  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: app.screen is not console)
    row = next(r for r in office.register.day(START.date()).rows if r.event_id == wrong.event_id)
    assert row.voided


async def test_a_save_that_never_answers_does_not_keep_the_console_open_for_good(
    office: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lock waits for a correction being saved, but not for ever: a database that never
    # answers would leave the console unlocked in an empty office.
    office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    timeout = office.settings.admin_idle_timeout
    async with app.run_test(size=(110, 34)) as pilot:
        console = app.screen
        await _correction_asked(pilot, app)
        await pilot.press("enter")
        await pilot.pause(READ_SECONDS + 0.1)
        gate = hold(monkeypatch, office.register, "void", seconds=10)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("Saving" in m for m in messages(app)))
        console.check_idle_timeout()  # type: ignore[attr-defined]
        for _ in range(int(SAVE_HOLD_SECONDS + timeout) // 10 + 2):
            app.clock.advance(10)
            console.check_idle_timeout()  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: console.locked_reason == "idle")  # type: ignore[attr-defined]
        gate.set()


async def test_an_export_outlasting_the_idle_time_locks_the_console_and_is_told_after(
    office: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Dina starts an export to a network share that hangs, and walks away. The console
    # stayed unlocked and usable (switch views, correct entries, retire staff) for as long
    # as the export ran, however long: it must lock after its idle time as it says. The
    # export goes on; the console opened next says what it wrote.
    office.phones.deposit("ASMITH")
    app = ConsoleHost(office)
    timeout = office.settings.admin_idle_timeout
    target = tmp_path / "register.csv"
    async with app.run_test(size=(110, 34)) as pilot:
        console = app.screen
        await wait_until(pilot, lambda: isinstance(app.focused, DataTable))
        await pilot.press("9")
        await wait_until(pilot, lambda: bool(app.screen.query("#export-path")))
        gate = hold(monkeypatch, office.register, "export_csv", seconds=30)
        app.screen.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-go")
        await wait_until(pilot, lambda: any("Exporting" in m for m in messages(app)))
        app.clock.advance(timeout + 1)
        console.check_idle_timeout()  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: app.screen is not console)
        assert console.locked_reason == "idle"  # type: ignore[attr-defined]
        gate.set()
        await wait_until(
            pilot,
            lambda: (
                target.exists()
                and not any(w.group == "export" and not w.is_finished for w in app.workers)
            ),
        )
        await pilot.pause(0.1)
        app.open_console()
        await wait_until(pilot, lambda: isinstance(app.screen, type(console)))
        alert = text_of(app.screen.query_one("#console-alert", Static))
        assert f"While the console was locked: the export wrote 1 event to {target}" in alert


# --- the sign-out form, back after its steps ----------------------------------------------------


async def test_a_double_enter_on_the_vdu_date_does_not_sign_out_the_form_unseen(
    school: Services,
) -> None:
    # Alice types her laptop's label, her reason's digit and Enter in one go; the form first
    # asks her to agree the policy, then her display-screen (VDU) training. She types the
    # date and presses Enter twice (a habit, a key that bounces). The first recorded her
    # training; the second, pressed before the form had come back, signed the laptop out
    # with the return time the form suggests: the form was never on the screen between
    # the steps and the confirmation. Now that Enter records nothing, and the form says so;
    # once she has seen it, Enter signs out.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        before = len(events(school))
        burst(app, "LAP-001⏎2⏎")
        await settle(pilot)
        policy = app.screen
        assert isinstance(policy, PolicyScreen)
        for _ in range(30):
            await pilot.press("pagedown")
        await settle(pilot)
        await wait_for(pilot, lambda: policy.reached_end)
        await pilot.pause(0.6)  # read
        await press(pilot, "enter")
        assert isinstance(app.screen, VduScreen)
        burst(app, "1/9/2025⏎⏎")
        await settle(pilot)
        kinds = [kind for kind, _ in events(school)[before:]]
        assert kinds == ["policy_acknowledged", "vdu_training_declared"], kinds
        assert isinstance(app.screen, SignOutScreen), type(app.screen).__name__
        assert "nothing is signed out yet" in notice(app), notice(app)
        await pilot.pause(BACK_READ_SECONDS)  # she checks the form
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [kind for kind, _ in events(school)[before:]][-1] == "device_signed_out"


async def test_a_double_enter_on_i_agree_does_not_sign_out_the_form_unseen(
    school: Services,
) -> None:
    # The same with the policy as the only step (her VDU training is recorded): "I have
    # read and agree" pressed twice signed the laptop out with the first one's form unseen.
    school.policies.declare_vdu_training("ASMITH", date(2025, 9, 1))
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        before = len(events(school))
        burst(app, "LAP-001⏎2⏎")
        await settle(pilot)
        policy = app.screen
        assert isinstance(policy, PolicyScreen)
        for _ in range(30):
            await pilot.press("pagedown")
        await settle(pilot)
        await wait_for(pilot, lambda: policy.reached_end)
        await pilot.pause(0.6)  # read
        burst(app, "⏎⏎")
        await settle(pilot)
        assert [kind for kind, _ in events(school)[before:]] == ["policy_acknowledged"]
        assert isinstance(app.screen, SignOutScreen)
        assert "nothing is signed out yet" in notice(app)


@pytest.mark.parametrize(
    ("delay", "rate", "count"),
    [
        pytest.param(0.5, 30, 15, id="0.5s-30-a-second"),
        pytest.param(0.66, 25, 10, id="X-default-0.66s-25-a-second"),
        pytest.param(0.25, 11, 8, id="0.25s-11-a-second"),
        # The Linux console's slowest (kbdrate -r 2.0): a repeat every half second.
        pytest.param(0.5, 2, 4, id="0.5s-2-a-second"),
    ],
)
async def test_enter_held_on_i_agree_does_not_sign_out_the_form_unseen(
    school: Services, delay: float, rate: int, count: int
) -> None:
    # Alice holds Enter on "I have read and agree" a moment too long. The form came back
    # and the key's repeats, half a second or more after the press, signed the laptop out,
    # and went on through the confirmation to the start screen: she saw neither the form
    # nor "Signed out". A key held down is one press: the repeats sign nothing out, and
    # Enter once she has let go and seen the form does.
    school.policies.declare_vdu_training("ASMITH", date(2025, 9, 1))
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        before = len(events(school))
        burst(app, "LAP-001⏎2⏎")
        await settle(pilot)
        policy = app.screen
        assert isinstance(policy, PolicyScreen)
        for _ in range(30):
            await pilot.press("pagedown")
        await settle(pilot)
        await wait_for(pilot, lambda: policy.reached_end)
        await pilot.pause(0.6)  # read
        held = [(0.0, "enter"), *((delay + n / rate, "enter") for n in range(count))]
        await _keys_at(pilot, app, held)  # type: ignore[arg-type]
        await pilot.pause(0.3)
        await settle(pilot)
        assert [kind for kind, _ in events(school)[before:]] == ["policy_acknowledged"]
        assert isinstance(app.screen, SignOutScreen), type(app.screen).__name__
        assert "nothing is signed out yet" in notice(app)
        await pilot.pause(0.6)  # let go; she checks the form
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    assert [kind for kind, _ in events(school)[before:]][-1] == "device_signed_out"
