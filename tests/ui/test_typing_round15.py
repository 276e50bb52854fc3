"""Round 15 of the typing red team: keys as a terminal sends them, a lead's session left open,
two people at one kiosk; the register read before and after."""

from __future__ import annotations

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

import pytest

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


def _deposits(register: str, name: str) -> list[str]:
    return [line for line in register.splitlines() if "Phone deposited" in line and name in line]


def test_esc_then_enter_straight_after_it_leaves_and_deposits_nothing(
    terminal: Terminal,
) -> None:
    # Daniel's screen is up ("Press Enter to deposit your phone"). He presses Esc to leave,
    # and Enter follows 60 ms later (a hand running over the keys, or "Esc, Enter" to get
    # out). The terminal sends ESC, then CR; Textual's reading of the keys waits 100 ms after
    # an ESC for the rest of a sequence, and took ESC CR as one Enter: the Esc was lost and
    # the Enter deposited his phone. Esc is Esc: he is home, nothing recorded.
    shown = terminal.mark()
    terminal.type("DHALL\r")
    terminal.wait_for("deposit your phone", since=shown)
    before = _deposits(terminal.register(), "Daniel Hall")
    terminal.send("\x1b")
    time.sleep(0.06)
    terminal.send("\r")
    time.sleep(2.0)
    assert _deposits(terminal.register(), "Daniel Hall") == before
    assert not terminal.drawn("Phone deposited")
    # The keys that send a sequence are read as before: F2 (ESC O Q) on his screen deposits.
    terminal.type("DHALL\r")
    time.sleep(2.0)  # (his screen again: only what changed on it is drawn)
    shown = terminal.mark()
    terminal.send("\x1bOQ")
    terminal.wait_for("Phone deposited", since=shown)
    # Esc alone (the confirmation goes home), then the next person's code, a moment later.
    terminal.send("\x1b")
    time.sleep(0.5)
    shown = terminal.mark()
    terminal.type("CBAKER\r")
    terminal.wait_for("Claire Baker", since=shown)
    assert terminal.process.poll() is None
    terminal.close()
    assert len(_deposits(terminal.register(), "Daniel Hall")) == len(before) + 1
