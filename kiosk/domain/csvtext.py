"""The header row of a CSV file a school wrote (a roster, a device list, a calendar), read the
same way for each: the one place that says a file is empty, unreadable or separated by
semicolons (Excel's "CSV" in many European locales)."""

from __future__ import annotations

import csv
import io
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


def semicolon_separated(columns: list[str]) -> bool:
    """A header read as one column holding ';': the file's columns are separated by ';'."""
    return len(columns) == 1 and ";" in columns[0]
