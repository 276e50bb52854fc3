"""``python -m bench reliability``: the harnesses of ``bench/reliability.py`` as a suite.

It calls :func:`bench.reliability.run_all` (unchanged; it starts its own PostgreSQL cluster
and uses the cached synthetic school for the verify figure) and turns its results into rows
of the bench table. Each row passes when the harness's own check passed (nothing confirmed
lost, nothing lost or doubled, exactly one winner per race, the chain verifies), whatever
the figure; the figure is what the check counted or how long it took.

Settings (``python -m bench --reliability MODE``, or ``KIOSK_BENCH_RELIABILITY=MODE``):

* ``bench`` (default): what fits in ``make bench``'s quarter of an hour on the 2-core
  machine: :data:`BENCH` (30 SIGKILL trials and 4 kiosks x 1,000 events per engine,
  20 laptop races, verify over the 1,000,000-event school on SQLite only, 200 hypothesis
  examples per property). About 3 minutes.
* ``full``: issue 6's settings, ``bench.reliability.FULL`` (200 trials, 4 x 10,000 events,
  50 races, verify over 1,000,000 events on both engines, 2,000 examples): about 30 minutes
  here (the 4 x 10,000 runs alone take 6 minutes on SQLite and 10 on PostgreSQL).
  ``python -m bench.reliability`` runs the same on its own, with its own table.
* ``quick``: the test settings (``bench.reliability.QUICK``).

In every mode the verify figure is taken over the run's synthetic school (``--events``,
1,000,000 by default): the school cache keeps one size only (``bench.synth.cached_sqlite``
removes the others), so verifying another size would evict the one the other suites use.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

from bench import BenchContext, Row
from bench.reliability import FULL, QUICK, Mode, run_all

MODE_ENV = "KIOSK_BENCH_RELIABILITY"
BENCH = Mode(
    crash_trials=30,
    kiosks=4,
    events_per_kiosk=1_000,
    race_rounds=20,
    verify_events=1_000_000,
    fuzz_examples=200,
)
MODES = {"bench": BENCH, "full": FULL, "quick": QUICK}
CHECKS = ("crash", "kiosks", "race", "verify", "fuzz")


@dataclass(frozen=True)
class CheckRow(Row):
    """A row whose pass/fail is the harness's own check, not a ratio to a target."""

    ok: bool = True

    @property
    def ratio(self) -> float | None:
        return None

    @property
    def status(self) -> str:
        return "pass" if self.ok else "FAIL"


def mode_name() -> str:
    name = os.environ.get(MODE_ENV, "bench").strip().lower() or "bench"
    if name not in MODES:
        raise SystemExit(f"{MODE_ENV}={name!r}: use one of {', '.join(MODES)}")
    return name


def run(ctx: BenchContext) -> list[Row]:
    name = mode_name()
    # verify over the run's own synthetic school (--events, 1,000,000 by default): the
    # cache keeps one size only, so another size would evict the school the other suites use.
    mode = replace(MODES[name], verify_events=ctx.events)
    wanted = [c for c in CHECKS if ctx.wants(f"reliability {c}")]
    if not wanted:
        return []
    ctx.log(f"reliability ({name} settings: {mode}); {MODE_ENV}=full for issue 6's settings")
    began = time.perf_counter()
    rows: list[Row] = []
    # verify over 1,000,000 events on PostgreSQL means loading the school into the
    # harness's own cluster (about 2 minutes): only with the full settings.
    verify_engines = (
        ctx.engines if name == "full" else tuple(e for e in ctx.engines if e == "sqlite")
    )
    others = [c for c in wanted if c != "verify"]
    if others:
        rows += _rows(run_all(mode, engines=ctx.engines, only=others, log=ctx.log), ctx)
    if "verify" in wanted and verify_engines:
        rows += _rows(run_all(mode, engines=verify_engines, only=["verify"], log=ctx.log), ctx)
    ctx.notes.append(
        f"reliability: {name} settings (crash trials {mode.crash_trials}, kiosks "
        f"{mode.kiosks} x {mode.events_per_kiosk:,}, races {mode.race_rounds}, verify over "
        f"{mode.verify_events:,} on {', '.join(verify_engines) or 'no engine'}, "
        f"{mode.fuzz_examples} examples per property) in {time.perf_counter() - began:.0f} s; "
        f"issue 6's full settings: python -m bench reliability --reliability full"
    )
    return rows


def _rows(results: Any, ctx: BenchContext) -> list[Row]:
    rows: list[Row] = []
    for c in results.crash:
        rows.append(
            CheckRow(
                f"reliability: SIGKILL at random moments, {c.trials} trials",
                c.engine,
                len(c.missing),
                0,
                "lost",
                f"{c.confirmed:,} confirmed events, {len(c.missing)} missing, {c.killed} kills; "
                f"chain of {c.events_checked:,} {'verifies' if c.chain_ok else 'BROKEN'}; "
                f"{c.seconds:.0f} s" + (f"; {'; '.join(c.failures)[:300]}" if c.failures else ""),
                ok=c.ok,
            )
        )
    for k in results.kiosks:
        rows.append(
            CheckRow(
                f"reliability: {k.kiosks} kiosks x {k.events_per_kiosk:,} events at once",
                k.engine,
                k.lost + k.doubled,
                0,
                "lost or doubled",
                f"{k.recorded:,} recorded ({k.added_rows:,} rows) in {k.seconds:.1f} s = "
                f"{k.per_second:,.0f} events/s; errors {len(k.errors)}, forks {k.forks}, chain "
                f"{'verifies' if k.chain_ok else 'BROKEN'}"
                + (f"; first error: {k.errors[0][:200]}" if k.errors else ""),
                ok=k.ok,
            )
        )
    for r in results.races:
        rows.append(
            CheckRow(
                f"reliability: 2 kiosks sign out one laptop at once, {r.rounds} rounds",
                r.engine,
                r.rounds - r.one_winner,
                0,
                "bad rounds",
                f"exactly one succeeded in {r.one_winner} of {r.rounds} rounds",
                ok=r.ok,
            )
        )
    for v in results.verify:
        rows.append(
            CheckRow(
                f"reliability: kiosk verify over {v.events:,} events",
                v.engine,
                v.seconds,
                None,
                "s",
                f"{v.per_second:,.0f} events/s; chain {'verifies' if v.ok else 'BROKEN'}",
                ok=v.ok,
            )
        )
    if results.fuzz:
        total = sum(results.fuzz.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(results.fuzz.items()))
        rows.append(
            CheckRow(
                "reliability: hypothesis cases without a crash",
                "sqlite",
                total,
                None,
                "cases",
                detail,
                ok=True,  # fuzz_counts raises when a property fails
            )
        )
    return [ctx.emit(row) for row in rows]
