"""Recognising a USB QR scanner among the keystrokes, whatever has the focus.

A scanner in keyboard mode types its payload (``SRK1:S:ASMITH``) and Enter, a few
milliseconds a key. The kiosk must see that as one scan on every screen: on the home screen,
on a person's screen (which has no text field), and in the middle of the sign-out form where
a second label adds a device. :class:`ScanWedge` watches the key stream before any widget
does. A key that could start a payload (``S``) is held back; when the next keys confirm the
prefix (``SRK<digits>:``) everything up to Enter is taken as a scan and never reaches a
widget. When they do not (a person typing ``SMITH``), the held keys are let through, in
order, at once. A Tab or LF straight after the Enter that ends a plain code (one word, typed
at a scanner's pace), while that code is being read, is that scanner's suffix and is
swallowed too. A held key is never kept
for long: after ``hold_seconds`` without another key it is released (or, when a whole payload
has arrived from a scanner configured without an Enter suffix, taken as the scan), and at
once when a tap, a click or a paste comes. A payload taken so, without its Enter, may still
get it, late (a Bluetooth scanner, a busy USB hub): an Enter within ``late_end_seconds`` is
the scan's own end and is swallowed, never read as the person's Enter on the screen the scan
brought (it deposited her phone).

Plain Python: it works on opaque key events and their ``key``/``character``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from time import monotonic
from typing import Generic, TypeVar

E = TypeVar("E")

TERMINATORS = frozenset({"enter", "ctrl+m", "ctrl+j", "newline", "tab", "ctrl+i"})
# Keys a scanner may send straight after Enter (CR LF, or a Tab suffix): swallowed.
TRAILERS = frozenset({"ctrl+j", "newline", "tab", "ctrl+i"})
_MAYBE_PREFIX = re.compile(r"^S(R(K\d*)?)?$", re.IGNORECASE)
_PREFIX = re.compile(r"^SRK\d+:$", re.IGNORECASE)
_COMPLETE = re.compile(r"^SRK\d+:[SD]:[^\s:]+$", re.IGNORECASE)
MAX_PAYLOAD = 64
# A scanner types a key every few milliseconds; a person, a tenth of a second or more apart.
SCANNER_KEY_SECONDS = 0.05


@dataclass
class WedgeOutput(Generic[E]):
    """What to do after a key: events to pass on now (in order), and a scan, if any."""

    release: list[E] = field(default_factory=list)
    scan: str | None = None


class ScanWedge(Generic[E]):
    def __init__(
        self,
        hold_seconds: float = 0.5,
        trailer_seconds: float = 0.15,
        late_end_seconds: float = 1.0,
    ) -> None:
        self.hold_seconds = hold_seconds
        self.trailer_seconds = trailer_seconds
        self.late_end_seconds = late_end_seconds
        # When a whole payload was taken as a scan without its Enter (see the docstring).
        self._unended_at = -1e9
        self._held: list[E] = []
        self._text = ""
        self._capturing = False
        self._last_key_at = 0.0
        self._scan_ended_at = -1e9
        self._code_ended_at = -1e9  # the Enter of a plain code typed at a scanner's pace
        # The characters typed since the last other key, if each came at a scanner's pace
        # (None: not so; see feed).
        self._run: str | None = ""

    @property
    def pending(self) -> bool:
        """Keys are held back (a payload may be arriving)."""
        return bool(self._held)

    @property
    def capturing(self) -> bool:
        return self._capturing

    def _reset(self) -> list[E]:
        held, self._held, self._text, self._capturing = self._held, [], "", False
        return held

    def feed(
        self, event: E, key: str, character: str | None, now: float, *, reading: bool = False
    ) -> WedgeOutput[E]:
        """``reading``: a code ended by Enter is still being read (its answer not yet
        handled): a Tab or LF now, straight after that Enter, is the scanner's suffix."""
        char = character if character and len(character) == 1 and character.isprintable() else None
        run = self._run
        fast = now - self._last_key_at <= SCANNER_KEY_SECONDS
        if char is None:
            self._run = ""
        elif run is not None and (fast or not run):
            self._run = run + char
        else:
            self._run = None  # typed by hand
        # A code of one word, typed at a scanner's pace, ended by this Enter.
        scanned = bool(run) and fast and not any(c.isspace() for c in run or " ")
        code_ended, self._code_ended_at = self._code_ended_at, -1e9  # only the next key
        if key in TRAILERS and reading and now - code_ended < self.trailer_seconds:
            self._last_key_at = now
            return WedgeOutput()  # a plain code's scanner suffix (see the module docstring)
        return self._feed(event, key, char, now, code_scanned=scanned)

    def _feed(
        self, event: E, key: str, char: str | None, now: float, *, code_scanned: bool
    ) -> WedgeOutput[E]:
        self._last_key_at = now
        if self._capturing:
            if key in TERMINATORS:
                text = self._text
                self._reset()
                self._scan_ended_at = now
                return WedgeOutput(scan=text)
            if char is not None and len(self._text) < MAX_PAYLOAD:
                self._held.append(event)
                self._text += char
                return WedgeOutput()
            # Anything else (Escape, an arrow, an over-long payload): not a scan after all.
            return self._give_up(event)
        late = now - self._unended_at < self.late_end_seconds
        if late and not self._held and key in TERMINATORS:
            self._unended_at = -1e9
            self._scan_ended_at = now  # its LF or Tab after it: the scanner's too
            return WedgeOutput()  # the end of the scan read already, come late
        self._unended_at = -1e9
        if self._held:
            if char is not None and _MAYBE_PREFIX.match(self._text + char):
                self._held.append(event)
                self._text += char
                return WedgeOutput()
            if char is not None and _PREFIX.match(self._text + char):
                self._held.append(event)
                self._text += char
                self._capturing = True
                return WedgeOutput()
            released = self._reset()
            return WedgeOutput(release=[*released, *self._start(event, char)])
        if key in TRAILERS and now - self._scan_ended_at < self.trailer_seconds:
            return WedgeOutput()  # straight after the scan's Enter (LF, Tab): the scanner's
        # Any other key is the person's, and so is a Tab after it: only keys straight after a
        # scan are its trailer (a label scanned, 4, Tab within 0.15 s lost that Tab).
        self.passed_by()
        # The Enter that ends a code scanned without a payload's prefix (a plain label, a
        # scanner set to send Enter and Tab): a Tab or LF straight after it, while the code
        # is being read, is the scanner's too (it moved the cursor into the form's return
        # time). Any other key: not.
        if code_scanned and key in ("enter", "ctrl+m"):
            self._code_ended_at = now
        return WedgeOutput(release=self._start(event, char))

    def passed_by(self) -> None:
        """A key went to a screen that reads no scans (not fed here): it is the person's, so
        a Tab or LF after it is theirs too."""
        self._scan_ended_at = -1e9

    def _start(self, event: E, char: str | None) -> list[E]:
        if char is not None and char in "sS":
            self._held = [event]
            self._text = char
            return []
        return [event]

    def _give_up(self, event: E) -> WedgeOutput[E]:
        text = self._text
        released = self._reset()
        if _COMPLETE.match(text):
            return WedgeOutput(release=[event], scan=text)
        return WedgeOutput(release=[*released, event])

    def expire(self, now: float) -> WedgeOutput[E]:
        """Called a little after the last key: release what is held, or finish a scan."""
        if not self._held or now - self._last_key_at < self.hold_seconds:
            return WedgeOutput()
        out = self.flush(now)
        if out.scan is not None:
            self._scan_ended_at = now
        return out

    def flush(self, now: float | None = None) -> WedgeOutput[E]:
        """Something that is not a key comes (a tap, a click, a paste): what is held goes
        first, now (a whole payload as the scan), not after it and onto whatever it did."""
        if not self._held:
            return WedgeOutput()
        text = self._text
        released = self._reset()
        if _COMPLETE.match(text):
            self._unended_at = monotonic() if now is None else now  # its Enter may yet come
            return WedgeOutput(scan=text)
        return WedgeOutput(release=released)

    def paste(self, text: str) -> str | None:
        """A pasted payload (some scanners send one block) is a scan too."""
        lines: Sequence[str] = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) == 1 and _COMPLETE.match(lines[0]):
            return lines[0]
        return None
