"""Crash safety and several kiosks, with real processes (quick settings of bench/reliability.py).

``python -m bench.reliability`` runs the same harnesses with the full settings (200 crash
trials, 4 kiosks x 10,000 events); these tests keep ``make test`` within minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import QUICK, crash_trials, same_laptop_race, several_kiosks
from tests.reliability.helpers import record_figure


def _url(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_at_random_moments_loses_no_confirmed_event(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    trials = QUICK.crash_trials if engine == "sqlite" else QUICK.crash_trials // 2
    result = crash_trials(_url(engine, request, tmp_path), trials, seed=len(engine))

    record_figure(f"crash trials ({engine})", result.trials)
    record_figure(f"confirmed events checked after SIGKILL ({engine})", result.confirmed)
    assert result.failures == ()
    assert result.killed == trials  # every child was still recording when it was killed
    assert result.confirmed > trials  # it had confirmed events before the kill
    assert result.missing == ()
    assert result.chain_ok and result.events_checked >= result.confirmed


@pytest.mark.parametrize("engine", ENGINES)
def test_four_kiosks_at_once_lose_and_double_nothing(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    result = several_kiosks(_url(engine, request, tmp_path), QUICK.kiosks, QUICK.events_per_kiosk)

    record_figure(
        f"{result.kiosks} kiosks x {result.events_per_kiosk} events ({engine}), events/s",
        round(result.per_second),
    )
    assert result.errors == ()  # no "database is locked" (or anything else) reached a caller
    assert result.recorded == QUICK.kiosks * QUICK.events_per_kiosk == result.added_rows
    assert (result.lost, result.doubled, result.forks) == (0, 0, 0)
    assert result.chain_ok


@pytest.mark.parametrize("engine", ENGINES)
def test_two_kiosks_signing_out_one_laptop_at_once_one_wins(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    result = same_laptop_race(_url(engine, request, tmp_path), QUICK.race_rounds)

    assert result.outcomes and all(
        sorted(pair) == ["refused: already out", "signed out"] for pair in result.outcomes
    ), result.outcomes
    assert result.ok
