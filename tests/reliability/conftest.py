"""Prints the reliability figures (crash trials, events checked, fuzz cases) after the run.

With ``KIOSK_FUZZ_REPORT=FILE`` the fuzz case counts are also written there as JSON
(``python -m bench.reliability`` reads them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.reliability.helpers import FIGURES, FUZZ_CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES and not FUZZ_CASES:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name}: {value:,}")
    if FUZZ_CASES:
        total = sum(FUZZ_CASES.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_CASES.items()))
        terminalreporter.write_line(f"hypothesis cases run: {total:,} ({detail})")


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("KIOSK_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(FUZZ_CASES, indent=2, sort_keys=True))
