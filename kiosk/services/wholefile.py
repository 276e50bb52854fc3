"""A file written whole or not at all, never through a name given in advance."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO, overload


@overload
def written_whole(target: Path) -> AbstractContextManager[BinaryIO]: ...


@overload
def written_whole(target: Path, *, encoding: str) -> AbstractContextManager[TextIO]: ...


def written_whole(
    target: Path, *, encoding: str | None = None
) -> AbstractContextManager[BinaryIO] | AbstractContextManager[TextIO]:
    """A file to write ``target`` through (binary; text in ``encoding``, newlines as
    written), renamed onto ``target`` once the block ends, removed if it fails: whoever opens
    ``target`` (a printer, a spreadsheet, the next check) sees the old file or the whole new
    one, never one half written.

    The temporary file beside it is made anew (``mkstemp``: O_EXCL, mode 0600) and written
    through its descriptor: a name anyone could guess (``.NAME.<pid>.tmp``), or a fixed one
    (``NAME.partial``), opened by name, wrote through a symlink planted there, or stopped at
    a folder planted there; two writers at once shared it. What it writes (badges carry every
    staff code, an export names staff, the witness) is the kiosk user's alone: 0600. The
    file, then its folder, is synced to the disk (fsync) around the rename: a power cut
    leaves the old file or the new one, not an empty one. OSError from making, writing or
    renaming it reaches the caller."""
    return _written_whole(target, encoding)


@contextmanager
def _written_whole(target: Path, encoding: str | None) -> Iterator[Any]:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    made = os.fstat(fd)
    try:
        if encoding is None:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                _on_disk(fh)
        else:
            with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
                yield fh
                _on_disk(fh)
        still_the_file(tmp, made)
        os.replace(tmp, target)
        _folder_on_disk(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _on_disk(fh: BinaryIO | TextIO) -> None:
    """``fh``'s bytes on the disk before it is renamed: a power cut after a rename whose
    data had not reached the disk left an empty file under the target's name."""
    fh.flush()
    os.fsync(fh.fileno())


def _folder_on_disk(folder: Path) -> None:
    """The rename itself on the disk (the folder's entry), where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync a folder: the file itself is on the disk
    finally:
        os.close(fd)


def still_the_file(path: Path, made: os.stat_result) -> None:
    """OSError unless ``path`` (not followed) is still the file ``made`` describes: renamed
    by name, one swapped in meanwhile by whoever can write in its folder (a symlink to the
    live register) became the target."""
    try:
        now = os.lstat(path)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (made.st_dev, made.st_ino):
        raise OSError(
            0,
            f"the file being written beside {path.parent} was replaced while it was written "
            "(someone else writes in that folder?): write into a folder only the kiosk's "
            "user can write",
        )
