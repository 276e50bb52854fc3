"""The QR payload printed on staff badges and device labels, and its parser.

Payload format, version 1 (documented in the README):

    SRK1:S:<STAFF CODE>     a staff badge
    SRK1:D:<ASSET TAG>      a device label

Every character is in the QR *alphanumeric* set (0-9, A-Z, space, ``$%*+-./:``), so the
codes stay small and scan well. Codes themselves are 1-32 characters of ``A-Z 0-9 - . /``.
A bare code typed by hand (``jsmith`` or `` LAP-014 ``) is accepted as well: case and
stray whitespace are forgiven. Anything else is "not a kiosk code".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from kiosk.domain.errors import NotAKioskCode

PAYLOAD_PREFIX = "SRK"
PAYLOAD_VERSION = 1
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9\-./]{0,31}$")
_PAYLOAD = re.compile(r"^SRK(?P<version>\d+):(?P<kind>[SD]):(?P<code>.+)$")
# Scanners sometimes send control characters (Ctrl+J, GS, tabs) around the payload.
_STRIP = re.compile(r"[\s\x00-\x1f\x7f]+")
MIN_PIN_LENGTH = 6
"""The admin PIN is digits only, this many at least (kiosk/services/admin.py checks it)."""
# Anything typed with a run of that many digits in it may hold the admin PIN (one stray key
# beside it, the numpad's "." or "+", included). The kiosk's screens mask such a run where
# they quote typed text (kiosk/ui/base.py, ``shown_code``): by its shape, never by comparing
# with the real PIN (masking only the real one would tell the staff room which number it is).
_PIN_RUN = re.compile(rf"\d{{{MIN_PIN_LENGTH},}}")
PIN_MASK = "••••••"
"""What a PIN-shaped run of digits is shown as: one width, whatever its length."""


def may_be_the_pin(text: str) -> bool:
    """``text`` holds a run of digits shaped like the admin PIN: not to be quoted as typed."""
    return bool(_PIN_RUN.search(text))


def mask_pin_shaped(text: str) -> str:
    """``text`` with every PIN-shaped run of digits replaced by ``PIN_MASK``."""
    return _PIN_RUN.sub(PIN_MASK, text)


class ScanKind(StrEnum):
    STAFF = "staff"
    DEVICE = "device"
    EITHER = "either"  # typed by hand: a staff code or an asset tag


@dataclass(frozen=True, slots=True)
class Scan:
    kind: ScanKind
    code: str


SCAN_AGAIN = "Scan your badge or a laptop label, or type your staff code."
"""What every message about a code that cannot be read ends with (the home screen's prompt)."""


def normalise_code(text: str) -> str:
    """Upper-case a code and drop whitespace; raise NotAKioskCode when it is not one."""
    code = _STRIP.sub("", text).upper()
    if not CODE_PATTERN.match(code):
        raise _not_a_code(text)
    return code


def parse_scan(text: str) -> Scan:
    """Turn what the scanner (or a person) typed into a Scan, or raise NotAKioskCode."""
    cleaned = _STRIP.sub("", text).upper()
    if not cleaned:
        raise NotAKioskCode(f"Nothing was scanned. {SCAN_AGAIN}")
    match = _PAYLOAD.match(cleaned)
    if match:
        if int(match["version"]) != PAYLOAD_VERSION:
            raise NotAKioskCode(
                "This label was printed by a newer kiosk version and cannot be read here."
            )
        kind = ScanKind.STAFF if match["kind"] == "S" else ScanKind.DEVICE
        return Scan(kind, normalise_code(match["code"]))
    if cleaned.startswith(PAYLOAD_PREFIX) and ":" in cleaned:
        raise _not_a_code(text)
    if not CODE_PATTERN.match(cleaned):  # said as it was typed (not upper-cased)
        raise _not_a_code(text)
    return Scan(ScanKind.EITHER, cleaned)


def _not_a_code(text: str) -> NotAKioskCode:
    """The refusal of ``text``: quoted as typed, and naming a letter that only looks like one
    of a code's (a Cyrillic A, U+0410, in "DHALL" reads as the code it is not)."""
    odd = [ch for ch in dict.fromkeys(text) if not ch.isascii() and ch.isprintable()]
    named = ", ".join(f"“{ch}” ({unicodedata.name(ch, f'U+{ord(ch):04X}')})" for ch in odd[:3])
    why = (
        f": {named} {'is' if len(odd) == 1 else 'are'} not among a code's letters (A-Z, 0-9,"
        " - . /); another keyboard layout, or copied from a document?"
        if named
        else "."
    )
    shown = _shorten(text)
    return NotAKioskCode(f"“{shown}” is not a kiosk code{why} {SCAN_AGAIN}", quoted=shown)


def staff_payload(code: str) -> str:
    return f"{PAYLOAD_PREFIX}{PAYLOAD_VERSION}:S:{normalise_code(code)}"


def device_payload(tag: str) -> str:
    return f"{PAYLOAD_PREFIX}{PAYLOAD_VERSION}:D:{normalise_code(tag)}"


def _shorten(text: str, limit: int = 40) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"
