"""The school key: one random secret shared by every kiosk of a school, never in the database.

The admin PIN's hash (in the shared database) is computed over HMAC(school key, PIN): a copy
of the database without the key tells nothing about the PIN, and the same PIN works on every
kiosk that holds the same key. The key lives in a file only the kiosk's user can read
(``<data folder>/school.key``, mode 0600; ``KIOSK_SCHOOL_KEY_FILE`` names another place).

The first ``kiosk admin set-pin`` (or ``kiosk setup``) creates it. The technician then copies it
to each other kiosk of the school:

    kiosk secret export --out school-key.txt     # on the machine that has it (or print it)
    kiosk secret import school-key.txt           # on each other kiosk

The exported form is a few lines of text a person can print and type in again: the key in hex
and a short check value, so a mistyped key is refused instead of locking everyone out.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import data_dir
from kiosk.domain.errors import KioskError

if TYPE_CHECKING:
    from kiosk.config import Settings

KEY_BYTES = 32
KEY_NAME = "school.key"
LEGACY_NAME = "admin-secret.key"  # before the key was shared: read where it is the only one
HEADER = "Staff Room Kiosk school key"
# A key file is one line of 64 hexadecimal digits (or the exported form): read no more.
KEY_FILE_LIMIT = 4096
# A roster, a device list, a calendar or a policy the office hands the kiosk: a school's is a
# few hundred kilobytes at most; more is the wrong file (or a device: /dev/zero never ends).
IMPORT_FILE_LIMIT = 5 * 1024 * 1024


class SchoolKeyError(KioskError):
    """The school key file is missing, unreadable or not a key."""

    title = "School key"


class FileRefused(ValueError):
    """A file the kiosk will not read: not a regular file, or larger than it can be."""


def read_small_file(path: Path, limit: int) -> bytes:
    """The bytes of a small regular file. A device (a symlink to /dev/zero), a pipe (a FIFO)
    or a folder is refused without reading from it, and so is a file of more than ``limit``
    bytes (FileRefused, saying which); reading them made `kiosk verify` wait, or read and
    grow, for ever. OSError as opening or reading raises it (FileNotFoundError: no file)."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once (a regular file ignores it).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("it is not a regular file, but a device, a pipe or a folder")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefused(f"it is larger than {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def key_path(settings: Settings | None = None) -> Path:
    """Where this kiosk keeps the school key."""
    override = os.environ.get("KIOSK_SCHOOL_KEY_FILE") or os.environ.get("KIOSK_SECRET_FILE")
    if override:
        return Path(override)
    path = data_dir() / KEY_NAME
    legacy = data_dir() / LEGACY_NAME
    if not path.exists() and legacy.exists():
        return legacy
    return path


def fingerprint(key: bytes) -> str:
    """A short check value of ``key`` (not the key): shown to compare two kiosks' keys."""
    digest = hashlib.sha256(b"staff-room-kiosk school key check\0" + key).hexdigest()
    return f"{digest[:4]}-{digest[4:8]}-{digest[8:12]}".upper()


def _install_hint() -> str:
    return (
        "Copy the school's key from a kiosk that has it: there run `kiosk secret export "
        "--out school-key.txt`, then here `kiosk secret import school-key.txt`."
    )


def _parse(text: str, where: str) -> bytes:
    """The key in ``text``: the exported form, or the bare hex of a key file."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    key_hex = ""
    check = ""
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "key":
            key_hex = re.sub(r"[\s-]", "", value)
        elif sep and name.strip().lower() == "check":
            check = value.strip().upper()
    if not key_hex and len(lines) == 1:
        key_hex = re.sub(r"[\s-]", "", lines[0])
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SchoolKeyError(
            f"{where} does not hold a school key (it should be {KEY_BYTES * 2} hexadecimal "
            "digits). " + _install_hint()
        )
    if check and check != fingerprint(key):
        raise SchoolKeyError(
            f"{where}: the key does not match its check value {check}; it was probably "
            "mistyped. Copy it again."
        )
    return key


def school_key(settings: Settings | None = None, *, create: bool = False) -> bytes:
    """This school's key, from this kiosk's key file (created when missing if ``create``).

    Raises ``SchoolKeyError`` (a sentence, never a traceback) when the file is missing,
    unreadable or not a key.
    """
    path = key_path(settings)
    try:
        text = read_small_file(path, KEY_FILE_LIMIT).decode("ascii")
    except FileRefused as exc:
        raise SchoolKeyError(
            f"The school key file {path} cannot be read: {exc} (a key file is one line of "
            "text). " + _install_hint()
        ) from None
    except FileNotFoundError:
        if not create:
            raise SchoolKeyError(
                f"This kiosk has no school key ({path} is missing), so the admin PIN cannot "
                "be checked here. " + _install_hint()
            ) from None
        return _write_new(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
        raise SchoolKeyError(
            f"The school key file {path} cannot be read ({reason}). " + _install_hint()
        ) from None
    return _parse(text, f"The school key file {path}")


def _write_new(path: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    write_key(path, key, exclusive=True)
    return key


def write_key(path: Path, key: bytes, *, exclusive: bool = False) -> None:
    """Write ``key`` to ``path`` (mode 0600), replacing it atomically unless ``exclusive``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if exclusive:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(key.hex() + "\n")
            return
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex() + "\n")
        os.replace(temp, path)
    except OSError as exc:
        raise SchoolKeyError(
            f"The school key file {path} cannot be written ({exc.strerror or exc})."
        ) from None


def export_text(key: bytes, school: str = "") -> str:
    """The key as a few lines a technician can print, e-mail to themself or type in again."""
    lines = [HEADER]
    if school:
        lines.append(f"School: {school}")
    groups = " ".join(key.hex()[i : i + 8] for i in range(0, KEY_BYTES * 2, 8))
    lines += [
        f"Key: {groups}",
        f"Check: {fingerprint(key)}",
        "Install on each kiosk of the school with: kiosk secret import FILE",
        "Keep it like a master key: with it and a copy of the database, the PIN can be guessed.",
    ]
    return "\n".join(lines) + "\n"


def import_key(text: str, settings: Settings | None = None, *, where: str = "The file") -> bytes:
    """Install the key in ``text`` as this kiosk's school key (0600). Returns the key.

    Refuses to replace a different key already installed (the PIN set with it would stop
    working here) unless the file is removed first.
    """
    key = _parse(text, where)
    path = key_path(settings)
    if path.exists():
        try:
            current = school_key(settings)
        except SchoolKeyError:
            current = None
        if current == key:
            return key
        if current is not None:
            raise SchoolKeyError(
                f"This kiosk already has a different school key ({path}, check "
                f"{fingerprint(current)}). Remove that file first if the new one is right."
            )
    write_key(path if path.name != LEGACY_NAME else path.with_name(KEY_NAME), key)
    return key


def school_key_if_present(settings: Settings | None = None) -> bytes | None:
    """The key when this machine has it, None when it has none (verify without it cannot check
    the events' MACs, and says so). A damaged key file is still an error."""
    if not key_path(settings).exists():
        return None
    return school_key(settings)
