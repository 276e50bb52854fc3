"""Dates as the office types them."""

from __future__ import annotations

import re
from datetime import date, timedelta

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\s*$")


def parse_date(text: str, today: date) -> date:
    """A date typed by a person: 2026-03-10, 10/03/2026, 10/3/26, today, yesterday, tomorrow."""
    raw = text.strip().lower()
    if not raw:
        raise ValueError("Type a date, e.g. 10/03/2026.")
    words = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if raw in words:
        return today + timedelta(days=words[raw])
    match = _DMY.match(raw)
    try:
        if match:
            day, month, year = (int(part) for part in match.groups())
            if year < 100:
                year += 2000
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        pass
    raise ValueError(f"{text.strip()!r} is not a date. Type it like 10/03/2026 or 2026-03-10.")
