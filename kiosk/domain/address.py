"""An e-mail address the kiosk sends to: exactly one bare address, ``local@domain``.

A roster's e-mail cell or a setting is data, not a list of recipients. ``"a@b.example,
spy@evil.example"`` or ``"x" <spy@evil.example>`` read by a mail library are two recipients,
or another one than shown; so an address here has no display name, no angle brackets, no
comment, no list separator, no quoting and no space or control character: exactly one ``@``,
a local part of the usual characters (letters, digits and ``.!#$%&'*+-/=?^_`{|}~``, no dot
at either end, no two dots running, no "=?" that starts an RFC 2047 encoded word), and a
dotted domain of letters, digits and hyphens.
Plain ASCII only (SMTPUTF8 is not asked of the school's server). Lengths: local part up to
64, domain up to 253, the whole up to 254 (RFC 5321's limits).

Every place an address comes in (the roster import, adding someone, ``kiosk config set``)
and the notifier before it sends (data written by hand) ask ``email_problem``.
"""

from __future__ import annotations

import re

from kiosk.domain.text import unsafe_characters

EXAMPLE = "name@school.example"
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# What turns one address into several, or into a name and another address, named in words.
_SEPARATORS = {
    ",": "a comma",
    ";": "a semicolon",
    "<": "'<'",
    ">": "'>'",
    '"': "a quotation mark",
    "(": "a bracket",
    ")": "a bracket",
    "[": "a bracket",
    "]": "a bracket",
    "\\": "a backslash",
    ":": "a colon",
}


def email_problem(value: str) -> str | None:
    """Why ``value`` is not exactly one bare e-mail address (a few words), or None when it is."""
    for char in value:
        if char in _SEPARATORS:
            return f"it holds {_SEPARATORS[char]} (one address only, no name or list)"
        if char.isspace() or ord(char) < 32 or ord(char) == 127:
            return "it holds a space or a control character"
        if not char.isascii():
            return f"it holds {char!r}, which is not a plain letter, digit or sign"
    if "=?" in value:
        # Python's e-mail package (and mail programs) read "=?utf-8?q?...?=" in a To header
        # as an RFC 2047 encoded word: "=?utf-8?q?evil=40example=2Ecom=2C?=@school.example"
        # was written as "evil@example.com,@school.example", and one decoding to a line
        # break stopped the notifier's run.
        return "it holds '=?', which mail programs read as an encoded word (another address)"
    if value.count("@") != 1:
        return "it must have exactly one @" if value.count("@") else "it has no @"
    local, _, domain = value.partition("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        return "the part before the @ is empty, too long or not a name of letters and signs"
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        return "the part after the @ is not a domain such as school.example"
    if len(value) > 254:
        return "it is longer than 254 characters"
    return None


def is_email(value: str) -> bool:
    """True when ``value`` is exactly one bare e-mail address (``email_problem`` has none)."""
    return email_problem(value) is None


def not_an_email(what: str, value: str, problem: str) -> str:
    """The sentence that refuses ``value`` as ``what`` (``email``, ``office_email``)."""
    return f"{what} {value!r} is not one e-mail address such as {EXAMPLE}: {problem}"


# What a sender's display name may not hold: what quotes, lists or comments in a header.
_NAME_SIGNS = frozenset('<>",;:@()[]\\')


def sender_parts(value: str) -> tuple[str, str]:
    """The display name ("" for none) and the address of a notices' From setting, written
    ``name@school.example`` or ``Hillside Office <name@school.example>``."""
    text = value.strip()
    if text.endswith(">") and "<" in text:
        name, _, address = text[:-1].rpartition("<")
        return name.strip(), address.strip()
    return "", text


def sender_problem(value: str) -> str | None:
    """Why ``value`` is not a notices' From (a few words), or None when it is: one address as
    ``email_problem`` has it, after a display name of plain words if there is one. The name is
    shown in every e-mail: no control, invisible or direction-changing character, no "=?"
    (an encoded word of the name's own), none of the signs that quote or list in a header."""
    name, address = sender_parts(value)
    if name:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            return "its name holds a control character"
        if "=?" in name:
            return "its name holds '=?', which mail programs read as an encoded word"
        signs = sorted(_NAME_SIGNS & set(name))
        if signs:
            return f"its name holds {' '.join(signs)}: use plain words before the <address>"
        found = unsafe_characters(name)
        if found:
            return f"its name holds {', '.join(found)}"
    problem = email_problem(address)
    return f"its address {problem}" if problem else None
