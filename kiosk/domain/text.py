"""Data shown as text: the one way a stored string (a name, a reason, a note, a policy title, a
file name) becomes something a screen or a terminal prints.

A name in the roster is data, not instructions. ``display_text`` removes what a terminal or a
reader would act on instead of showing:

* C0 and C1 control characters (ESC starts ANSI/OSC sequences: colours, the window title, the
  clipboard through OSC 52), DEL; a tab or a line break inside a one-line value becomes a space;
* bidirectional overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069), which make a
  line read in another order than it is stored (``U+202E`` turns ``evil.fdp`` into ``pdf.live``);
* zero-width and invisible format characters (U+200B-U+200F, U+2060-U+2064, U+206A-U+206F,
  U+FEFF, U+00AD, U+180B-U+180F, U+034F, U+FFF9-U+FFFB, the musical format characters
  U+1D173-U+1D17A, the "tag" characters U+E0000-U+E007F, the variation selectors U+FE00-U+FE0F
  and U+E0100-U+E01EF, U+17B4-U+17B5, U+1BCA0-U+1BCA3, U+13430-U+1343F), the Hangul fillers
  (U+115F, U+1160, U+3164, U+FFA0) and the blank braille pattern (U+2800), which draw as
  nothing or as a blank and make two different codes or names look the same (a variation
  selector goes too: names here are words, not emoji);
* lone surrogates (U+D800-U+DFFF), which JSON can spell (``\ud800``) and Python reads back, but
  which no UTF-8 writer takes: the terminal, a log or a CSV file would fail on them.

* any other format character (category Cf: U+2065 and the like, default-ignorable), a code
  point not assigned in this Python's Unicode (Cn: U+FFF0-U+FFF8, U+E0080-U+E00FF...) or
  one for private use (Co): none of them is a letter a name needs, and each may draw as
  nothing (``Ben`` U+2065 ``Jones`` shows as "BenJones").

* combining marks drawn over a letter (U+0334-U+0338, U+20D2, U+20E0...: a stroke, a slash,
  a circle with a bar), which strike a word out where it is drawn;

* combining marks (accents, vowel signs) past ``MAX_MARKS`` on one letter ("Zalgo" text,
  drawn over the lines above and below): the rest of them go, replaced by one ``�``.

Each removed character is replaced by ``�`` (U+FFFD) so that a person sees something was there.
Textual markup (``[b]``, ``[@click=...]``) is not touched here: it is plain text once the UI
builds its widgets from ``Content`` (never markup); see ``kiosk.ui.text``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator

from kiosk.domain.errors import InvalidInput

REPLACEMENT = "\ufffd"

_WHITESPACE = re.compile(r"[\t\n\r\v\f\u0085\u2028\u2029]")
_BIDI = "\u202a-\u202e\u2066-\u2069\u061c"
_INVISIBLE = (
    "\u200b\u200e\u200f\u2060-\u2064\u206a-\u206f\ufeff\u00ad\u180b-\u180f\u034f\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\u115f\u1160\u3164\uffa0"
    # variation selectors (also after a letter: "Ben" + U+E0100 looks like "Ben"), the blank
    # braille pattern, Khmer's inherent vowels, shorthand and Egyptian format controls
    "\ufe00-\ufe0f\U000e0100-\U000e01ef\u2800\u17b4\u17b5\U0001bca0-\U0001bca3"
    "\U00013430-\U0001343f"
)
_SURROGATES = "\ud800-\udfff"
# Marks drawn over a letter, across it (strokes, slashes, rings, an arrow, a circle with a bar
# through it): "n\u0336o\u0336t\u0336" is "not" struck out where it is drawn, read as deleted,
# while the register holds "not"; "Ben J\u0336o\u0336n\u0336e\u0336s\u0336" a person
# crossed off the list. No name or sentence is spelt with them (a keycap, an emoji's, stays).
_OVERLAYS = "\u0334-\u0338\u1abe\u20d2\u20d3\u20d8-\u20da\u20e0\u20e5\u20e6\u20ea\u20eb"
_UNSAFE = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x9f{_BIDI}{_INVISIBLE}{_OVERLAYS}{_SURROGATES}]")
_SURROGATE = re.compile(f"[{_SURROGATES}]")
# A character before an overlay mark: the two are one character once composed (NFC) when
# the mark is part of it, as "=" U+0338 is "≠" and "<" U+0338 "≮".
_BEFORE_OVERLAY = re.compile(f"[^{_OVERLAYS}][{_OVERLAYS}]")


def _composed(text: str) -> str:
    """``text`` with each overlay mark that is part of a character (its canonical
    decomposition: "=" U+0338) composed with it: the sign it is, not a mark across it."""
    if text.isascii():
        return text

    def compose(match: re.Match[str]) -> str:
        made = unicodedata.normalize("NFC", match.group())
        return made if len(made) == 1 else match.group()

    return _BEFORE_OVERLAY.sub(compose, text)


# Categories whose characters go as well (checked one by one, only in text that is not ASCII).
_HIDDEN_CATEGORIES = frozenset({"Cf", "Cn", "Co", "Cs"})
_RUNS_OF_SPACES = re.compile(" {2,}")


# Combining marks (accents, vowel signs, points) one letter carries at most: more than any
# script writes on one letter (Vietnamese two, pointed Hebrew four). A name of 190 marks on
# one letter ("Zalgo") is drawn over the lines above and below it, and it kept the office's
# browser busy for minutes drawing the console.
MAX_MARKS = 5
_MARKS = frozenset({"Mn", "Me"})


# ZERO WIDTH NON-JOINER and JOINER: invisible, yet part of how some scripts are spelt. Sinhala
# writes "school" (විද්‍යාලය) and "Sri" (ශ්‍රී) with a joiner after a virama, Indic scripts use
# both there, Persian a non-joiner between letters in everyday words. Kept there, and only
# there (``_joiner_spells``); anywhere else ("Ben" ZWJ "Jones") each is hidden text.
_JOINERS = frozenset("\u200c\u200d")
# The letters that join one to the next (Arabic and its extensions, Syriac, N'Ko).
_JOINING_LETTERS = re.compile("[\u0600-\u06ff\u0700-\u074f\u0750-\u077f\u07c0-\u07ff\u08a0-\u08ff]")


def _joiner_spells(text: str, at: int) -> bool:
    """True when the joiner at ``text[at]`` is spelling: after a virama (the sign that joins
    two consonants), or between two joining letters, and before a letter or mark of its
    word."""
    if at == 0 or at + 1 >= len(text):
        return False
    before, after = text[at - 1], text[at + 1]
    if after.isascii() or unicodedata.category(after)[0] not in "LM":
        return False
    if unicodedata.combining(before) == 9:  # a virama
        return True
    return bool(_JOINING_LETTERS.match(before) and _JOINING_LETTERS.match(after))


# What display makes of a character (``_verdicts``).
_KEEP, _HIDE, _MARKS_CUT, _DROP = "keep", "hide", "marks cut", "drop"


def _verdicts(text: str) -> Iterator[tuple[str, str]]:
    """Each character of ``text`` (not ASCII) with what display makes of it: kept; hidden (a
    hidden category, a joiner that spells nothing), shown as ``�``; the first mark past
    ``MAX_MARKS`` on one letter, shown as one ``�`` (``_MARKS_CUT``); the marks after it,
    dropped. The one rule for ``display_text`` and ``unsafe_characters``."""
    category = unicodedata.category
    marks = 0
    for at, char in enumerate(text):
        kind = category(char)
        if kind in _MARKS:
            marks += 1
            if marks > MAX_MARKS:
                yield char, (_MARKS_CUT if marks == MAX_MARKS + 1 else _DROP)
                continue
        else:
            marks = 0
        hidden = kind in _HIDDEN_CATEGORIES and not (char in _JOINERS and _joiner_spells(text, at))
        yield char, (_HIDE if hidden else _KEEP)


def _hidden(text: str) -> str:
    """``text`` with each character of a hidden category (a joiner that spells nothing
    included) replaced by ``�``, and the marks on one letter past ``MAX_MARKS`` by one
    ``�``."""
    if text.isascii():
        return text
    return "".join(
        char if verdict == _KEEP else REPLACEMENT
        for char, verdict in _verdicts(text)
        if verdict != _DROP
    )


def name_key(name: str) -> str:
    """``name`` as a person reads it: without case, compatibility forms or runs of spaces
    ("CAROL  head" reads as "Carol Head"). Two people whose names read the same are told
    apart by their codes wherever they are named."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def names_told_apart(people: Iterable[tuple[str, str]]) -> dict[str, str]:
    """How each person of a list (``(code, name)`` pairs) is named on it: by name, and with
    the code, "Carol Head (CHEAD2)", when another on the list has a name that reads the same
    (``name_key``): two identical lines, one chosen blind, named the wrong person. One rule
    for every list a person is chosen from (the kiosk's line managers, the console's SLT)."""
    listed = list(people)
    read = Counter(name_key(name) for _code, name in listed)
    return {
        code: name if read[name_key(name)] == 1 else f"{name} ({code})" for code, name in listed
    }


def plain_line(value: str) -> str:
    """A line of text as the lists keep it (a name, a description): NFC (a letter and its
    accent typed apart are the letter), every Unicode space (NO-BREAK SPACE, U+2000-U+200A,
    U+202F, U+205F, U+3000...) an ASCII space, runs of spaces one, no space at either end.
    "Gareth" NBSP "Evans" is then the "Gareth Evans" it looks like, not a second name."""
    text = unicodedata.normalize("NFC", value)
    if not text.isascii():
        text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
    return _RUNS_OF_SPACES.sub(" ", text).strip()


def display_text(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that is safe to show on a screen or print to a terminal.

    ``None`` is the empty string. With ``multiline`` a line break is kept (policy texts, notes);
    otherwise every kind of line break or tab becomes one space.
    """
    if value is None:
        return ""
    text = _composed(value if isinstance(value, str) else str(value))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = re.sub(r"[\t\v\f\u0085\u2028\u2029]", " ", text)
        return "\n".join(_hidden(_UNSAFE.sub(REPLACEMENT, line)) for line in text.split("\n"))
    return _hidden(_UNSAFE.sub(REPLACEMENT, _WHITESPACE.sub(" ", text)))


# A run of tabs and line breaks, with the spaces around it.
_BREAKS = re.compile(r" *(?:[\t\n\r\v\f\u0085\u2028\u2029] *)+")


def one_line(value: str) -> str:
    """``value`` with each run of tabs and line breaks one space, the rest as it is: what a
    stored one-line value (a name, a description, a title, a reason) is once read, whatever
    the database holds. A message that quotes it keeps its own line breaks (``display_text``
    with ``multiline``), so a name stored with forty line breaks pushed the rest of a
    question, and its buttons, off a dialog."""
    return value if value.isprintable() else _BREAKS.sub(" ", value)


def is_clean(value: str) -> bool:
    """True if ``value`` has nothing ``display_text`` would change (one line)."""
    return display_text(value) == value


_UNNAMED = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cn": "not a character: unassigned",
    "Co": "a private-use character",
    "Cs": "a lone surrogate",
}


def unsafe_characters(value: str) -> list[str]:
    """The names of the characters ``display_text`` would remove, for an error message (marks
    stacked past ``MAX_MARKS`` on one letter named as such)."""
    found: list[str] = []
    for char, verdict in _verdicts(_composed(value)):
        if verdict == _MARKS_CUT:
            found.append(f"more than {MAX_MARKS} accents or marks stacked on one letter")
        elif verdict == _HIDE or (
            verdict == _KEEP and (_UNSAFE.match(char) or _WHITESPACE.match(char))
        ):
            category = unicodedata.category(char)
            found.append(
                unicodedata.name(char, f"U+{ord(char):04X} ({_UNNAMED.get(category, '?')})")
            )
    return list(dict.fromkeys(found))


# Alphabets whose letters are drawn as each other's (a Latin, a Cyrillic and a Greek capital
# A, say; Coptic's are Greek's, Lisu's nearly every Latin capital: U+A4DA "arol" U+A4E7 "ead"
# reads "Carol Head"): a name is written in one of them, a whole word of another ("Ann"
# Cyrillic "Coe") read as a Latin one. (The first word of a letter's Unicode name.)
_LOOKALIKE_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "COPTIC", "LISU"})
# A letter in a compatibility form (full-width, mathematical, circled, a Roman numeral) drawn
# as a letter of one of these (Unicode's confusables for the Latin letters) is drawn as a
# letter it is not, wherever it stands.
_FORMS_OF = _LOOKALIKE_SCRIPTS | frozenset(
    {"ARMENIAN", "CHEROKEE", "CANADIAN", "TIFINAGH", "VAI", "OSAGE", "CARIAN", "LYCIAN", "OLD"}
    | {"GOTHIC", "RUNIC"}
)
# Letters of no alphabet of their own, in a word of any: an okina (MODIFIER LETTER TURNED
# COMMA, U+02BB: "Ka" U+02BB "iulani"), the digits 0-9 ("DIGIT ZERO").
_NEUTRAL = frozenset({"MODIFIER", "DIGIT"})


def lookalike_letters(value: str) -> list[str]:
    """The names of the letters in ``value`` that make it look like a name it is not: a letter
    of another alphabet than most of the name's among those drawn alike (Latin, Greek,
    Cyrillic...: "C" U+0430 "rol" looks like "Carol"), a letter or digit of any other alphabet
    inside a word of those (Deseret U+10415 "arol", "Car" Telugu zero "l": a list of the
    alphabets with letters drawn as C, O, D... was always one short), and a letter in a
    compatibility form (mathematical, full-width: U+1D5A2 "arol" does too). Empty for a name
    whose words are each in one alphabet, accents and all ("Priya प्रिया", "Mary ᓪᐃᓕ")."""
    if value.isascii():
        return []
    # (alphabet, or "" for a compatibility form; name; a compatibility form of a letter of
    # one of those alphabets: full-width, mathematical "A"...)
    letters: list[tuple[str, str, bool]] = []
    # A letter or digit of another alphabet inside a word of Latin, Greek... letters.
    inside: list[str] = []
    for word in value.split():
        others: list[str] = []
        drawn_alike = False
        for char in word:
            base = unicodedata.normalize("NFKC", char)
            category = unicodedata.category(char)
            # A letter, a digit, or a character drawn as a letter (a Roman numeral U+216D is
            # "C" once NFKC-normalised, a circled letter too: numbers and symbols to Unicode).
            if not (category[0] in "LN" or any(map(str.isalpha, base))):
                continue
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            script = name.split(" ", 1)[0]
            if base != char:
                drawn_as = unicodedata.name(base[0], "").split(" ", 1)[0] if base else ""
                letters.append(("", name, drawn_as in _FORMS_OF))
            elif script in _LOOKALIKE_SCRIPTS:
                letters.append((script, name, False))
                drawn_alike = True
            elif script not in _NEUTRAL:
                others.append(name)
        if drawn_alike:
            inside.extend(others)
    counts = Counter(script for script, _, _ in letters if script)
    main = counts.most_common(1)[0][0] if counts else ""
    found: list[str] = []
    for script, name, form_of_lookalike in letters:
        # A name wholly in such forms ("Alice Smith" in mathematical sans-serif) has no main
        # alphabet: each of its letters is still drawn as a letter it is not.
        if (script != main or form_of_lookalike) and name not in found:
            found.append(name)
    return list(dict.fromkeys([*inside, *found]))


def check_typed_line(value: str, what: str, *, limit: int = 500) -> str:
    """``value`` (a reason, a note, a title: one line typed by a person) without the spaces at
    either end; InvalidInput naming each character ``display_text`` would remove (a line
    break, ESC, a bidi override, a zero-width space), or saying it is longer than ``limit``
    characters (an extension's reason of five million characters went into the register and
    every export). The same rule as for names: refused where it comes in, so a register, an
    export or an e-mail never carries it on."""
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(f"The {what} is too long ({limit} characters at most).")
    found = unsafe_characters(text)
    if found:
        raise InvalidInput(
            f"The {what} contains {', '.join(found)}: a character that is invisible or that "
            "changes how text is shown (copied from a web page or document?). Type it again."
        )
    return text


# Semicolons of other scripts and symbols, drawn as ";" or nearly, that NFKC keeps.
_SEMICOLONS = frozenset("\u204f\u2e35\u061b\u236e\u1364")


def field_value(value: object) -> str:
    """``value`` as it stands in a line of fields ("code: BJ2; name: Ben Jones; roles: none",
    the register's detail): as it is, or in double quotes (a quote in it doubled) when it
    holds a ";" or a quote, so that no value can pose as a field of its own. A name "Ben
    Jones; roles: admin" read as an admin made, the real "roles: none" after it."""
    text = str(value)
    # As read, not as stored: a GREEK QUESTION MARK, a full-width or a small semicolon is
    # drawn as ";" (each is one once NFKC-normalised), and so, nearly, is a semicolon NFKC
    # leaves alone (reversed, turned, Arabic, APL's, Ethiopic's: ``_SEMICOLONS``).
    read = text if text.isascii() else unicodedata.normalize("NFKC", text)
    if ";" not in read and '"' not in read and not _SEMICOLONS.intersection(read):
        return text
    return '"' + text.replace('"', '""') + '"'


# A carriage return that ends no line, a vertical tab, a form feed: each moves a terminal's
# cursor (back to the start of the line, or down) without starting a new line.
_CURSOR_MOVES = re.compile(r"\r(?!\n)|[\v\f]")


def terminal_text(value: str) -> str:
    """``value`` as written to a terminal by the command line: line breaks (LF, CR LF) and tabs
    kept (a CSV or JSON document stays what it is), every character ``display_text`` removes
    replaced by ``�``, and so is a lone CR, VT or FF (a name holding CR printed in a CSV put
    the cursor back at the start of its row, and what followed overwrote it on the screen).
    No escape sequence reaches the terminal."""
    text = _CURSOR_MOVES.sub(REPLACEMENT, _composed(value))
    return _hidden(_UNSAFE.sub(REPLACEMENT, text))


def encodable_text(value: str) -> str:
    """``value`` with each lone surrogate replaced by ``�``: what a UTF-8 file can hold, the
    rest as it is (a CSV export keeps a name's own characters)."""
    return value if value.isascii() else _SURROGATE.sub(REPLACEMENT, value)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def text_width(value: str) -> int:
    """The columns a terminal gives ``value`` (one line): two for a wide or full-width
    character (CJK, most emoji), none for a combining mark or a format character, one for
    the rest. A table padded by ``len`` puts the columns after a CJK name too far right, and
    after a name with combining marks too far left."""
    return sum(_char_width(char) for char in value)


def shortened(value: str, columns: int) -> str:
    """``value`` in at most ``columns`` columns (``text_width``): as it is when it fits, else
    cut, with "…" at the end. For someone else's words on a screen that must keep room for
    its own (a sign-out's reason on the return screen: 500 wide characters are 1,000
    columns)."""
    if text_width(value) <= columns:
        return value
    kept: list[str] = []
    width = 0
    for char in value:
        width += _char_width(char)
        if width > columns - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


# Capital and small letters of other alphabets that are drawn as a Latin letter (a Cyrillic
# or Greek "A", "C", "O"...): a code read off a list is read by its shape.
_LATIN_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "\u0410": "A",
        "\u0412": "B",
        "\u0415": "E",
        "\u0405": "S",
        "\u0406": "I",
        "\u0408": "J",
        "\u041a": "K",
        "\u041c": "M",
        "\u041d": "H",
        "\u041e": "O",
        "\u0420": "P",
        "\u0421": "C",
        "\u0422": "T",
        "\u0425": "X",
        "\u0423": "Y",
        "\u0430": "a",
        "\u0435": "e",
        "\u0456": "i",
        "\u0458": "j",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
        "\u0443": "y",
        "\u0455": "s",
        "\u0501": "d",
        "\u051b": "q",
        "\u051d": "w",
        "\u04bb": "h",
        "\u04cf": "l",
        # Greek
        "\u0391": "A",
        "\u0392": "B",
        "\u0395": "E",
        "\u0396": "Z",
        "\u0397": "H",
        "\u0399": "I",
        "\u039a": "K",
        "\u039c": "M",
        "\u039d": "N",
        "\u039f": "O",
        "\u03a1": "P",
        "\u03a4": "T",
        "\u03a5": "Y",
        "\u03a7": "X",
        "\u03b1": "a",
        "\u03b2": "b",
        "\u03b5": "e",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "n",
        "\u03bf": "o",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u03c7": "x",
    }
)
# Opening and closing marks: Unicode's brackets (Ps, Pe), quotation marks that open or close
# (Pi, Pf: « », which may face either way) and < >. ``_OPENS`` cannot close a part, and
# ``_CLOSES`` cannot open one: "A (x) B (y)" holds x and y, not " B ".
_OPENS = frozenset("<")
_CLOSES = frozenset(">")


def _bracket_side(char: str) -> str | None:
    """ "open", "close", "either" for a bracket or quotation mark, None for another
    character."""
    if char in _OPENS:
        return "open"
    if char in _CLOSES:
        return "close"
    category = unicodedata.category(char)
    if category == "Ps":
        return "open"
    if category == "Pe":
        return "close"
    if category in ("Pi", "Pf"):
        return "either"
    return None


def bracketed_parts(value: str, *, limit: int = 40) -> list[str]:
    """What ``value`` shows between brackets, after NFKC (full-width and superscript
    brackets are brackets): each part between an opening mark (any of Unicode's, "<", or a
    quotation mark « ») and the next closing one, at most ``limit`` characters."""
    text = unicodedata.normalize("NFKC", value)
    parts: list[str] = []
    start: int | None = None
    for index, char in enumerate(text):
        side = _bracket_side(char)
        if side is None:
            continue
        if start is not None and side != "open" and index - start - 1 <= limit:
            parts.append(text[start + 1 : index])
        start = index if side != "close" else None
    return parts


def code_skeleton(value: str) -> str:
    """``value`` as it reads as a code: NFKC (full-width letters are letters), case-folded,
    letters of other alphabets drawn as Latin ones as those, and only the letters and digits
    (spaces, dots, dashes, slashes left out): " A.SMITH- " and "ASMITH" in Cyrillic letters
    read as "asmith"."""
    text = unicodedata.normalize("NFKC", value).translate(_LATIN_LOOKALIKES).casefold()
    return "".join(char for char in text if char.isalnum())
