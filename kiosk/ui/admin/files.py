"""Files the admin names by path: read for imports, written for exports, errors in words."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from kiosk.domain.errors import InvalidInput
from kiosk.services.secret import IMPORT_FILE_LIMIT, FileRefused, read_small_file


def resolve(path: str) -> Path:
    text = path.strip().strip('"').strip("'")
    if not text:
        raise InvalidInput("Type the path of the file.")
    return Path(text).expanduser().resolve()


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_bytes(path: str) -> tuple[Path, bytes]:
    """The bytes of a file the admin named, or an error that says what is wrong."""
    target = resolve(path)
    if not target.exists():
        raise InvalidInput(f"There is no file {target}.")
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder, not a file.")
    try:
        # Not stat()'s size: /dev/zero says 0 bytes and never ends, a FIFO waits for ever.
        return target, read_small_file(target, IMPORT_FILE_LIMIT)
    except FileRefused as exc:
        raise InvalidInput(f"{target} cannot be read ({exc}): is it the right file?") from None
    except OSError as exc:
        raise InvalidInput(f"{target} cannot be read: {_why(exc)}.") from None


def read_text(path: str) -> tuple[Path, str]:
    target, data = read_bytes(path)
    try:
        return target, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{target} is not UTF-8 text.") from None


def csv_target(path: str) -> Path:
    """Where an export goes: a ``.csv`` file, or InvalidInput saying so."""
    target = resolve(path)
    if target.suffix.lower() != ".csv":
        raise InvalidInput(
            f"Save the export as a .csv file (not {target.name!r}), "
            f"e.g. {target.parent / 'export.csv'}."
        )
    return target


def write_with(path: str, write: Callable[[TextIO], object], *, replace: bool = False) -> Path:
    """Write a CSV file through ``write``, all or nothing (a temporary file, then renamed).

    Only a ``.csv`` file: in the browser the admin has no shell on the server, and an export
    renamed over any file its user may write (``.bashrc``, the register's SQLite file, the
    school key) was theirs to replace."""
    target = csv_target(path)
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder: add a file name, e.g. {target / 'export.csv'}.")
    if target.exists() and not replace:
        raise InvalidInput(f"{target} already exists. Choose another name, or replace it.")
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise InvalidInput(f"Cannot write in {target.parent}: {_why(exc)}.") from None
    try:
        # A byte-order mark first, so Excel reads the file as UTF-8 (accents).
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            write(fh)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"Cannot write {target}: {_why(exc)}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text_file(path: str, content: str, *, replace: bool = False) -> str:
    return str(write_with(path, lambda fh: fh.write(content), replace=replace))
