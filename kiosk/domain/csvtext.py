"""The header row of a CSV file a school wrote (a roster, a device list, a calendar), read the
same way for each: the one place that says a file is empty, unreadable or separated by
semicolons (Excel's "CSV" in many European locales)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kiosk.domain.errors import InvalidInput

if TYPE_CHECKING:
    from _csv import Reader


def read_header(
    text: str, *, empty: str = "The file is empty: it needs a header row."
) -> tuple[Reader, list[str]]:
    """A reader over ``text``, past its header row, and the header's column names (trimmed,
    lower case, spaces as ``_``). Raises InvalidInput (``empty`` for a file with no row)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(empty) from None
    except csv.Error as exc:
        raise InvalidInput(f"The header row cannot be read: {exc}.") from None
    return reader, [h.strip().lower().replace(" ", "_") for h in header]


def read_lines(reader: Reader) -> Iterator[tuple[int, list[str], str | None]]:
    """Each line past the header: its line number, its cells, and the reason it cannot be
    read (then no cells), or None. A line that cannot be read is that line's problem: the
    lines after it are read (a ``break`` there left every later line out, unnamed)."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, [], _unreadable(exc)
            continue
        yield reader.line_num, cells, None


def _unreadable(exc: csv.Error) -> str:
    """Why a line cannot be read, in words an office can act on."""
    if "field limit" in str(exc):  # a notes cell pasted from a document
        return f"a cell is longer than {csv.field_size_limit():,} characters: shorten it"
    return f"cannot be read ({exc})"


def semicolon_separated(columns: list[str]) -> bool:
    """A header read as one column holding ';': the file's columns are separated by ';'."""
    return len(columns) == 1 and ";" in columns[0]
