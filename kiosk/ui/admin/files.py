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


# What the console reads, by the name's ending. In the browser the admin has no shell on the
# server, and any file the server's user may read was theirs to read: the server's config
# (the database's and the mail server's passwords) published as a policy was shown to all
# staff and kept in the register for good; the school key imported as staff came back line
# by line in the import's report.
CSV_FILES = (".csv",)
TEXT_FILES = (".md", ".markdown", ".txt")
_KIND_SAID = {CSV_FILES: "a CSV file", TEXT_FILES: "a text or Markdown file"}


def read_bytes(path: str, suffixes: tuple[str, ...]) -> tuple[Path, bytes]:
    """The bytes of a file the admin named, whose name ends in one of ``suffixes``, or an
    error that says what is wrong (a name with another ending is not looked at)."""
    target = resolve(path)
    if target.suffix.lower() not in suffixes:
        kind = _KIND_SAID.get(suffixes, "a file the console reads")
        raise InvalidInput(
            f"{target.name} is not {kind} ({', '.join(suffixes)}): the console reads no other."
        )
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
    """A text or Markdown file's text (a policy), or an error that says what is wrong."""
    target, data = read_bytes(path, TEXT_FILES)
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
