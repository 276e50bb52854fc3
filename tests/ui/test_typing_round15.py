"""Round 15 of the typing red team: keys as a terminal sends them, a lead's session left open,
two people at one kiosk; the register read before and after."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from time import monotonic
from unittest import mock

import pytest
from textual import events as textual_events
from textual.pilot import Pilot

from kiosk.services.app import Services
from kiosk.ui.app import KioskApp
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.pin import PinScreen
from tests.ui.clocks import FakeUiClock
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import (
    burst_keys,
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    screen_text,
    settle,
    type_code,
)

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """The kiosk (``kiosk --demo``) run in a real terminal (a pseudo-terminal, 110 x 34), as
    the staff room's screen and keyboard run it: keys go through Textual's own reading of
    the bytes a keyboard sends, which the Pilot's ``press`` does not."""

    def __init__(self, folder: Path) -> None:
        self.env = {
            **os.environ,
            "KIOSK_DATA_DIR": str(folder / "data"),
            "KIOSK_LOG_DIR": str(folder / "log"),
            "KIOSK_CONFIG_DIR": str(folder / "config"),
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm-256color",
        }
        self.env.pop("KIOSK_DATABASE_URL", None)
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 110, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--demo"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def mark(self) -> int:
        """Where the output is now (for :meth:`wait_for`)."""
        return len(self.output)

    def wait_for(self, text: str, seconds: float = 30.0, *, since: int | None = None) -> None:
        """Until ``text`` has been drawn: since ``since`` (a :meth:`mark`), or after what was
        drawn when this was called."""
        start = len(self.output) if since is None else since
        deadline = time.monotonic() + seconds
        while text.encode() not in self.output[start:]:
            assert self.process.poll() is None, self.output[-2000:]
            assert time.monotonic() < deadline, f"{text!r} never drawn"
            time.sleep(0.05)

    def wait_for_any(
        self, texts: tuple[str, ...], seconds: float = 30.0, *, since: int | None = None
    ) -> str:
        """The first of ``texts`` drawn (since ``since``), waiting until one is."""
        start = len(self.output) if since is None else since
        deadline = time.monotonic() + seconds
        while True:
            for text in texts:
                if text.encode() in self.output[start:]:
                    return text
            assert self.process.poll() is None, self.output[-2000:]
            assert time.monotonic() < deadline, f"none of {texts!r} drawn"
            time.sleep(0.05)

    def drawn(self, text: str) -> bool:
        return text.encode() in self.output

    def send(self, keys: str) -> None:
        """Bytes as the keyboard sends them, in one go."""
        os.write(self.master, keys.encode())

    def type(self, text: str) -> None:
        """One key at a time, at a person's pace."""
        for char in text:
            self.send(char)
            time.sleep(0.15)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)

    def register(self) -> str:
        """The register as ``kiosk --demo register`` prints it."""
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "--demo", "register"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    kiosk = Terminal(tmp_path)
    try:
        kiosk.wait_for("Scan or type here", 60)
        time.sleep(2.0)  # the demo register opened
        yield kiosk
    finally:
        kiosk.close()


def _deposits(register: str, name: str, done: str = "Phone deposited") -> list[str]:
    return [line for line in register.splitlines() if done in line and name in line]


@pytest.mark.tuning("escape")
def test_esc_then_enter_straight_after_it_leaves_and_deposits_nothing(
    terminal: Terminal,
) -> None:
    # Daniel's screen is up ("Press Enter to deposit your phone"). He presses Esc to leave,
    # and Enter follows 60 ms later (a hand running over the keys, or "Esc, Enter" to get
    # out). The terminal sends ESC, then CR; Textual's reading of the keys waits 100 ms after
    # an ESC for the rest of a sequence, and took ESC CR as one Enter: the Esc was lost and
    # the Enter deposited his phone. Esc is Esc: he is home, nothing recorded.
    # (The demo school's morning has most phones deposited between 07:40 and 08:40 by the
    # clock: when Daniel's is already in, his screen offers to collect it, and the same holds.)
    shown = terminal.mark()
    terminal.type("DHALL\r")
    offer = terminal.wait_for_any(("deposit your phone", "collect your phone"), since=shown)
    done = "Phone deposited" if offer == "deposit your phone" else "Phone collected"
    before = _deposits(terminal.register(), "Daniel Hall", done)
    terminal.send("\x1b")
    time.sleep(0.06)
    terminal.send("\r")
    time.sleep(2.0)
    assert _deposits(terminal.register(), "Daniel Hall", done) == before
    assert not terminal.drawn(done)
    # The keys that send a sequence are read as before: F2 (ESC O Q) on his screen does it.
    terminal.type("DHALL\r")
    time.sleep(2.0)  # (his screen again: only what changed on it is drawn)
    shown = terminal.mark()
    terminal.send("\x1bOQ")
    terminal.wait_for(done, since=shown)
    # Esc alone (the confirmation goes home), then the next person's code, a moment later.
    terminal.send("\x1b")
    time.sleep(0.5)
    shown = terminal.mark()
    terminal.type("CBAKER\r")
    terminal.wait_for("Claire Baker", since=shown)
    assert terminal.process.poll() is None
    terminal.close()
    assert len(_deposits(terminal.register(), "Daniel Hall", done)) == len(before) + 1


# --- breakfast club left open ---------------------------------------------------------------


def _in_drawer(services: Services) -> list[str]:
    return sorted(h.staff.code for h in services.phones.phones_now() if h.store.code == "DRAWER")


async def _breakfast_left_open(pilot: Pilot[None], app: KioskApp) -> None:
    """Ben (the lead) starts breakfast club, logs Alice's phone into the drawer and goes to
    his class with the mode open; nobody touches the kiosk for three minutes."""
    await scan(pilot, "SRK1:S:BJONES")
    await press(pilot, "f5")
    assert isinstance(app.screen, BreakfastScreen)
    await scan(pilot, "SRK1:S:ASMITH")
    assert "Alice Smith: phone into the drawer" in screen_text(app)
    assert isinstance(app.clock, FakeUiClock)
    app.clock.advance(180)
    await pilot.pause(1.2)  # (the screen looks once a second)
    await settle(pilot)


async def test_a_breakfast_club_left_open_records_nothing_for_the_next_person(
    school: Services,
) -> None:
    # Esha comes to the kiosk three minutes after Ben left breakfast club open. She presses
    # F4 ("Return a laptop" on the home screen): it undid Alice's phone, "recorded by Ben
    # Jones". She scans her badge to sign a laptop out: her phone (in her bag) was logged
    # into the locked drawer, recorded by Ben. Left open that long, the session is paused
    # and says so; her badge closes it and opens her own screen, nothing recorded.
    app = make_app(school)
    async with running(app) as pilot:
        await _breakfast_left_open(pilot, app)
        assert "PAUSED" in screen_text(app)
        assert "Ben Jones, scan your own badge to go on" in screen_text(app)
        before = events(school)
        await press(pilot, "f4")
        assert "nothing is recorded until Ben Jones scans their own badge" in notice(app)
        await press(pilot, "f8", "f8")
        await type_code(pilot, "CHEAD")  # typed, as the lead would type a colleague's code
        assert isinstance(app.screen, PersonScreen), notice(app)
        assert "Carol Head" in screen_text(app)
        assert "Breakfast club (Ben Jones) had been left open" in notice(app)
        assert events(school) == before
    assert _in_drawer(school) == ["ASMITH"]


async def test_the_lead_goes_on_with_a_paused_breakfast_club_by_their_own_badge(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await _breakfast_left_open(pilot, app)
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, BreakfastScreen)
        assert "PAUSED" not in screen_text(app)
        assert "Pauses after 2 minutes without a scan" in screen_text(app)
        await scan(pilot, "SRK1:S:EPATEL")
        assert "Esha Patel: phone into the drawer" in screen_text(app)
        # A minute apart, colleague after colleague, it goes on by itself.
        assert isinstance(app.clock, FakeUiClock)
        app.clock.advance(60)
        await scan(pilot, "SRK1:S:CHEAD")
        assert "Carol Head: phone into the drawer" in screen_text(app)
    assert _in_drawer(school) == ["ASMITH", "CHEAD", "EPATEL"]


async def test_f4_pressed_as_a_colleagues_scan_is_being_recorded_undoes_nothing_unseen(
    school: Services,
) -> None:
    # Ben sees that Alice's phone went in by mistake and presses F4 to undo it, just as Esha
    # scans her own badge beside him. Her scan went first (it came first); his F4 waited for
    # it and then undid the last scan: Esha's, which he had not yet seen. Nothing is undone
    # that was not on the screen when F4 was pressed; the screen says what F4 would undo now.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        await scan(pilot, "SRK1:S:ASMITH")
        app.receive_scan("SRK1:S:EPATEL")
        burst_keys(app, "f4")
        await settle(pilot)
        assert "Esha Patel: phone into the drawer" in screen_text(app)
        assert "UNDONE" not in screen_text(app)
        assert "nothing was undone" in notice(app)
        assert "Press F4 again to undo Esha Patel's scan" in notice(app)
        assert _in_drawer(school) == ["ASMITH", "EPATEL"]
        # Seen, F4 undoes it.
        await pilot.pause(0.6)
        await press(pilot, "f4")
        assert "UNDONE Esha Patel" in screen_text(app)
    assert _in_drawer(school) == ["ASMITH"]


# --- Enter held down ---------------------------------------------------------------------------

# A key held down: the terminal repeats it after half a second, 30 times a second.
REPEAT_DELAY = 0.5
REPEAT_EVERY = 1 / 30


async def _keys_at(app: KioskApp, keys: list[tuple[float, str]]) -> None:
    """Keys as a terminal sends them, each at its own time (seconds from now), in real
    time: a person's, or a key held down and repeated."""
    start = monotonic()
    for offset, key in keys:
        when = start + offset
        while monotonic() < when:
            await asyncio.sleep(min(0.005, when - monotonic()))
        character = "\r" if key == "enter" else key if len(key) == 1 else None
        event = textual_events.Key(key, character)
        event.time = when
        app.post_message(event)


def _typed_then_held(code: str, seconds: float) -> list[tuple[float, str]]:
    """``code`` typed at a person's pace, then Enter pressed and held ``seconds``."""
    keys = [(0.2 * n, char) for n, char in enumerate(code)]
    at = 0.2 * len(code)
    keys.append((at, "enter"))
    repeat = at + REPEAT_DELAY
    while repeat < at + seconds:
        keys.append((repeat, "enter"))
        repeat += REPEAT_EVERY
    return keys


async def test_enter_held_down_after_a_typed_code_opens_the_screen_and_records_nothing(
    school: Services,
) -> None:
    # Daniel types his code and presses Enter a moment too long. The Enter read his code and
    # brought up his screen; its repeats, half a second on, landed there: the first deposited
    # his phone, the next ones left the confirmation. He never saw his screen (and with his
    # phone in the store, the same Enter would have collected it). A key held is one press:
    # he is on his screen, nothing recorded.
    before = events(school)
    app = make_app(school)
    async with running(app) as pilot:
        await _keys_at(app, _typed_then_held("CHEAD", 1.2))
        await pilot.pause(0.3)
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen), notice(app)
        assert "Carol Head" in screen_text(app)
        assert events(school) == before
        # Her own Enter, once she has read her screen, deposits.
        await pilot.pause(0.5)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert [kind for kind, _ in events(school)[len(before) :]] == ["phone_deposited"]


# --- the PIN pad ---------------------------------------------------------------------------------


async def test_a_half_typed_pin_left_on_the_pad_is_not_joined_to_the_next_admins(
    school: Services,
) -> None:
    # Someone opened the PIN pad (F10), typed "2468" and walked away. Dina, an admin, comes
    # and scans her badge first ("Enter the PIN first."), then types the PIN and Enter: the
    # digits left there and hers made one wrong PIN, counted against this keyboard (the
    # fifth locks it, recorded in the register). The badge clears what was half typed.
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *"2468")
        assert isinstance(app.screen, PinScreen)
        await scan(pilot, "SRK1:S:DOFFICE")
        assert "cleared" in notice(app)
        await press(pilot, *ADMIN_PIN, "enter")
        assert app.screen.stage == "badge", notice(app)
        await scan(pilot, "SRK1:S:DOFFICE")
        assert app.screen.stage == "menu", notice(app)


# --- the Esc parser, read by read (round 15's review) -------------------------------------


def _keys(reads: list[str], gap: float = 0.05) -> list[str]:
    """The keys the kiosk's parser makes of ``reads`` (each one read of the terminal, ``gap``
    seconds apart: a person's pace), the wait for what follows a last ESC over. The reads
    are ``gap`` apart on the parser's clock, whatever the machine's load (a real sleep of a
    millisecond, on a busy machine, came more than its 15 ms later)."""
    from kiosk.ui.tuning import escape

    parser = escape.EscapeFirstParser()
    made = []
    read_at = [escape.monotonic()]
    with mock.patch.object(escape, "monotonic", lambda: read_at[0]):
        for read in reads:
            made += list(parser.feed(read))
            read_at[0] += gap
    time.sleep(0.15)  # (Textual's own wait for what follows an ESC, on the real clock)
    made += list(parser.tick())
    return [getattr(m, "key", type(m).__name__) for m in made]


@pytest.mark.parametrize(
    ("reads", "keys"),
    [
        # Esc, then a code typed: each key a read of its own. "O" then "S" had been read as
        # F4 (SS3 S), which undoes the last colleague's scan in breakfast club; "P" as Alt+P.
        (["\x1b", "O", "S", "M", "\r"], ["escape", "O", "S", "M", "enter"]),
        (["\x1b", "P", "A", "\r"], ["escape", "P", "A", "enter"]),
        # What a terminal writes whole is read as before.
        (["\x1bOQ"], ["f2"]),
        (["\x1b[A"], ["up"]),
        (["\x1b", "\x1b[A"], ["escape", "up"]),
        (["\x1b", "\r"], ["escape", "enter"]),
    ],
    ids=["esc-OSMITH", "esc-PA", "f2", "up", "esc-up", "esc-enter"],
)
def test_esc_then_a_code_typed_key_by_key_is_esc_and_the_code(
    reads: list[str], keys: list[str]
) -> None:
    assert _keys(reads) == keys


def test_a_sequence_a_terminal_split_over_two_reads_is_still_one_key() -> None:
    # F1 (ESC O P) written by the terminal split over two reads, a millisecond apart: read
    # as F1, as Textual does, not as Esc, O, P.
    assert _keys(["x\x1b", "OP"], gap=0.001) == ["x", "f1"]
