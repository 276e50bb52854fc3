"""The school's secret key: keys the admin PIN's hash and each event's MAC.

A random 32-byte key in a file only the kiosk's user can read (``KIOSK_SECRET_FILE`` or
``<data dir>/admin-secret.key``, mode 0600), created at first need. Someone with the
database (or a copy of it) but not this file can neither test PINs offline nor append an
event with a valid MAC. (Issue 15: helper B extends this module for several kiosks; this
is the current single-file logic, moved from admin.py.)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kiosk.config import Settings, data_dir
from kiosk.domain.errors import RuleViolation


def secret_path() -> Path:
    return Path(os.environ.get("KIOSK_SECRET_FILE") or data_dir() / "admin-secret.key")


def _read(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, UnicodeDecodeError, ValueError):
        raise RuleViolation(
            f"The school's secret key file {path} cannot be read or is damaged: "
            "restore it from where the technician keeps a copy."
        ) from None
    if len(key) < 16:
        raise RuleViolation(f"The school's secret key file {path} is damaged (too short).")
    return key


def school_key(settings: Settings | None = None, *, create: bool = True) -> bytes:
    """The key (created at first need when ``create``; else RuleViolation when missing)."""
    path = secret_path()
    if path.exists():
        return _read(path)
    if not create:
        raise RuleViolation(
            f"The admin secret file {path} is missing: "
            "set the PIN again with `kiosk admin set-pin`."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def school_key_if_present(settings: Settings | None = None) -> bytes | None:
    """The key when this machine has it (verify without it cannot check MACs)."""
    path = secret_path()
    if not path.exists():
        return None
    return _read(path)
