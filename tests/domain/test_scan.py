"""The QR payloads on badges and labels, and codes typed by hand."""

from __future__ import annotations

import pytest

from kiosk.domain.errors import NotAKioskCode
from kiosk.domain.scan import (
    Scan,
    ScanKind,
    device_payload,
    normalise_code,
    parse_scan,
    staff_payload,
)


@pytest.mark.parametrize(
    ("text", "scan"),
    [
        ("SRK1:S:ASMITH", Scan(ScanKind.STAFF, "ASMITH")),
        ("srk1:d:lap-014\n", Scan(ScanKind.DEVICE, "LAP-014")),
        ("\x1dSRK1:S:ASMITH\t", Scan(ScanKind.STAFF, "ASMITH")),
        (" jsmith ", Scan(ScanKind.EITHER, "JSMITH")),
        ("LAP-014", Scan(ScanKind.EITHER, "LAP-014")),
    ],
)
def test_payloads_and_typed_codes(text: str, scan: Scan) -> None:
    assert parse_scan(text) == scan


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Nothing was scanned"),
        ("SRK2:S:ASMITH", "newer kiosk version"),
        ("SRK1:X:ASMITH", "is not a kiosk code"),
        ("hello world!", "is not a kiosk code"),
        ("A" * 33, "is not a kiosk code"),
    ],
)
def test_what_is_not_a_kiosk_code(text: str, words: str) -> None:
    with pytest.raises(NotAKioskCode) as refused:
        parse_scan(text)
    assert words in refused.value.message


def test_payloads_round_trip() -> None:
    assert staff_payload("asmith") == "SRK1:S:ASMITH"
    assert parse_scan(staff_payload("asmith")) == Scan(ScanKind.STAFF, "ASMITH")
    assert parse_scan(device_payload("lap-1")) == Scan(ScanKind.DEVICE, "LAP-1")


def test_a_long_unreadable_code_is_shortened_in_the_message() -> None:
    with pytest.raises(NotAKioskCode) as refused:
        normalise_code("?" * 100)
    assert "…" in refused.value.message and "?" * 41 not in refused.value.message


def test_a_letter_that_only_looks_like_a_codes_is_named() -> None:
    with pytest.raises(NotAKioskCode) as refused:
        parse_scan("dh\u0430ll")  # a Cyrillic a
    said = refused.value.message
    assert "“dh\u0430ll” is not a kiosk code: “\u0430” (CYRILLIC SMALL LETTER A)" in said
    with pytest.raises(NotAKioskCode) as refused:
        parse_scan("SRK1:S:ASMI\u0422H")
    assert "(CYRILLIC CAPITAL LETTER TE)" in refused.value.message
