"""kiosk.domain.text: what a screen or a terminal is never given, and how wide text is."""

from __future__ import annotations

import pytest

from kiosk.domain.text import (
    REPLACEMENT,
    display_text,
    encodable_text,
    is_clean,
    names_told_apart,
    terminal_text,
    unsafe_characters,
)

# Each draws as nothing or as a blank (or acts): "Ben" + one of them looks like "Ben".
HIDDEN = [
    "\u200b",  # zero width space
    "\u202e",  # right-to-left override
    "\U000e0041",  # tag latin capital letter a
    "\u3164",  # hangul filler
    "\ufe0f",  # variation selector-16
    "\U000e0100",  # variation selector-17
    "\u180b",  # mongolian free variation selector one
    "\u2800",  # braille pattern blank
    "\u17b4",  # khmer vowel inherent aq
    "\U0001bca0",  # shorthand format letter overlap
    "\U00013430",  # egyptian hieroglyph vertical joiner
    "\x1b",  # escape: starts ANSI/OSC sequences
    "\ud800",  # a lone surrogate: no UTF-8 for it
]


@pytest.mark.parametrize("char", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
def test_a_character_that_hides_or_acts_is_replaced_and_refused(char: str) -> None:
    name = f"Ben{char} Jones"
    assert display_text(name) == f"Ben{REPLACEMENT} Jones"
    assert terminal_text(name) == f"Ben{REPLACEMENT} Jones"
    assert not is_clean(name)
    assert len(unsafe_characters(name)) == 1


def test_names_in_every_script_are_kept_as_written() -> None:
    for name in ("Zoë Brontë", "Siobhán Ó Súilleabháin", "王小明", "Дмитрий", "محمد", "Nguyễn"):
        assert display_text(name) == name and is_clean(name)


def test_only_a_lone_surrogate_is_changed_for_a_utf8_file() -> None:
    assert encodable_text("Jo\ud800 =SUM(A1)\u202e") == "Jo\ufffd =SUM(A1)\u202e"
    assert encodable_text("plain") == "plain"


def test_names_that_read_the_same_are_told_apart_by_their_codes() -> None:
    shown = names_told_apart(
        [
            ("CHEAD", "Carol Head"),
            ("CHEAD2", "CAROL  head"),  # reads the same: case, a run of spaces
            ("ASMITH", "Alice Smith"),
            ("ASMITH2", "Alice Smyth"),  # another name
        ]
    )
    assert shown == {
        "CHEAD": "Carol Head (CHEAD)",
        "CHEAD2": "CAROL  head (CHEAD2)",
        "ASMITH": "Alice Smith",
        "ASMITH2": "Alice Smyth",
    }
