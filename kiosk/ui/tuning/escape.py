"""Esc, then another key straight after it, is Esc and that key (not one "Alt+key").

A terminal sends Esc as the ESC byte alone, and Alt+key as ESC followed by the key; the keys
that send a sequence (arrows, F2, a tap's position) send ESC followed by ``[``, ``O`` and more,
all at once. Textual's parser (``textual._xterm_parser``, Textual 8.2.8) waits a while after an
ESC for what follows it, and whatever comes meanwhile joins it: up to 100 ms (``ESCDELAY``),
and in practice up to the input thread's next look at the keyboard (it looks every 100 ms and
reads the next key before it checks the time). Esc then Enter typed 60 ms apart (leaving
Claire's screen, and an Enter on the way) came as one Enter: the Esc was lost and the Enter
deposited her phone. Esc then a letter came as "Alt+letter" with the letter (the Esc lost);
Esc then a digit as a sign nobody typed ("¡" for 1); Esc then Backspace as Ctrl+W.

Here an ESC followed by anything that cannot continue a terminal's sequence is the Esc key at
once, and what follows it is read as the key it is. A terminal writes a sequence whole, within
a millisecond or two (one read, or two read at once); a person's next key comes tens of
milliseconds later: so ``O`` (and the reports' ``P``, ``]``, ``_``, ``\\``) continues an ESC
only in the same read or within ``SPLIT_SECONDS`` of it. ESC then the letters O, S typed
("OSMITH") came as F4 (undo, in breakfast club) and the rest; ``[`` and a second ESC go on as
Textual reads them. A kiosk has no Alt+key to lose: every Alt+key it is sent is an Esc and a
key. Pasted text (between the terminal's paste brackets) is left as it came.

The limit: keys typed while the kiosk is too busy to read the keyboard come in one read, and
then nothing tells Esc and "O", "S" typed from F4 sent whole; as with stock Textual, they are
F4.

Tuning piece ``escape``, on unless ``KIOSK_TUNING`` leaves it out (it is a correctness fix,
not speed work; a piece so that ``KIOSK_TUNING=0`` is Textual as it comes): the drivers that
read a terminal (``linux_driver``, and ``web_driver`` for the console served in a browser)
make this parser instead of Textual's.
"""

from __future__ import annotations

from collections.abc import Iterable
from time import monotonic
from typing import Any

from textual._xterm_parser import XTermParser

ESC = "\x1b"
# What follows an ESC in a sequence a terminal sends in one go: CSI ("[": arrows, F5 and up,
# the mouse, the paste brackets), SS3 ("O": F1-F4, the keypad), its own reports (OSC "]",
# DCS "P", APC "_", their end "\\"), and a second ESC (Textual reads ESC ESC itself).
SEQUENCE_NEXT = frozenset("[O]P_\\" + ESC)
# Of those, what continues an ESC that came in an earlier read, later than SPLIT_SECONDS:
# no staff code starts with them.
SEQUENCE_NEXT_LATER = frozenset("[" + ESC)
# A sequence a terminal wrote split over two reads comes this close together; a person's
# next key does not.
SPLIT_SECONDS = 0.015
PASTE_START = ESC + "[200~"
PASTE_END = ESC + "[201~"


class EscapeFirstParser(XTermParser):
    """Textual's parser, but an ESC followed by a key that starts no sequence is Esc, then
    that key (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._escape_waiting = False  # the last character fed was an ESC outside a paste
        self._pasting = False
        self._recent = ""  # the last few characters fed (to see the paste brackets)
        self._escape_at = float("-inf")  # when the last ESC came (time.monotonic())

    def feed(self, data: str) -> Iterable[Any]:
        if not data:
            yield from super().feed(data)
            return
        now = monotonic()
        at_once = now - self._escape_at <= SPLIT_SECONDS
        for char in data:
            waiting = self._escape_waiting and self._timeout_time is not None
            goes_on = SEQUENCE_NEXT if at_once else SEQUENCE_NEXT_LATER
            if waiting and char not in goes_on:
                # The ESC alone: as if the parser's wait for what follows it were over. (Only
                # while it waits: an ESC whose wait is over has been read as Esc already.)
                self._timeout_time = float("-inf")
                yield from self.tick()
            self._escape_waiting = char == ESC and not self._pasting
            if self._escape_waiting:
                self._escape_at, at_once = now, True
            recent = self._recent = (self._recent + char)[-len(PASTE_START) :]
            if recent == PASTE_START:
                self._pasting = True
            elif recent == PASTE_END:
                self._pasting = False
            yield from super().feed(char)


_TEXTUAL_PARSER = XTermParser
_DRIVERS = ("textual.drivers.linux_driver", "textual.drivers.web_driver")


def apply() -> None:
    """The drivers that read a terminal make :class:`EscapeFirstParser` (idempotent): those
    imported from now on (Textual imports the driver as the app runs), and those already."""
    import sys

    import textual._xterm_parser as xterm

    xterm.XTermParser = EscapeFirstParser  # type: ignore[misc]
    for name in _DRIVERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "XTermParser", None) is _TEXTUAL_PARSER:
            module.XTermParser = EscapeFirstParser  # type: ignore[attr-defined]


def remove() -> None:
    """Textual's own parser again (idempotent)."""
    import sys

    import textual._xterm_parser as xterm

    xterm.XTermParser = _TEXTUAL_PARSER  # type: ignore[misc]
    for name in _DRIVERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "XTermParser", None) is EscapeFirstParser:
            module.XTermParser = _TEXTUAL_PARSER  # type: ignore[attr-defined]
