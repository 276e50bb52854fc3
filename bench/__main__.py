"""``make bench`` = ``python -m bench [suite ...] [--events N] [--engines sqlite,postgresql]``.

Runs the registered suites (all of them by default), prints each figure's ratio to its
target as it is measured, then one markdown table with the machine and the date, also
written to ``bench/results/latest.md``. See bench/README.md.

The UI suites (``ui``, ``admin``) run once per ``--tuning`` setting (default: ``all`` then
``0``, i.e. kiosk/ui/tuning on, then stock Textual), each figure named with its setting
(``[tuning all]``, ``[tuning 0]``); ``--tuning all,-gc`` measures every piece but one.

A suite is a module with ``run(ctx: bench.BenchContext) -> list[bench.Row]``; add one by
adding a line to ``SUITES``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench import DEFAULT_EVENTS, ENGINES, BenchContext, Row, machine_facts, render_table

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
UI_SUITES = frozenset({"ui", "admin"})
DEFAULT_TUNING = ("all", "0")  # kiosk/ui/tuning on, then stock Textual


@dataclass(frozen=True)
class Suite:
    module: str
    about: str


SUITES: dict[str, Suite] = {
    "services": Suite(
        "bench.services_bench",
        "recording one event and the office's queries on the synthetic school, per engine",
    ),
    "ui": Suite(
        "bench.ui_bench",
        "the staff kiosk: cold start vs a bare Textual app, scan to confirmation drawn, "
        "keystrokes per event, memory over a day (SQLite)",
    ),
    "admin": Suite(
        "bench.admin_bench",
        "the admin console: open, go to a date, change day, filter; a school year as CSV (SQLite)",
    ),
    "soak": Suite(
        "bench.soak",
        "a school term (65 days x 500 events) through one kiosk process: peak RSS, object counts",
    ),
    "reliability": Suite(
        "bench.reliability_suite",
        "bench/reliability.py's harnesses (crash, kiosks, race, verify, fuzz); see --reliability",
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Speed figures of the kiosk against their targets (see bench/README.md).",
    )
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="suite",
        help=f"suites to run (default: all): {', '.join(SUITES)}",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"size of the synthetic school (default {DEFAULT_EVENTS:,})",
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated: sqlite,postgresql (default both)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORD",
        help="run only the benchmarks whose name contains WORD (repeatable)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached synthetic SQLite school"
    )
    parser.add_argument(
        "--reliability",
        choices=("bench", "full", "quick"),
        default=None,
        help="settings of the reliability suite: bench (default, fits a ~15 minute run), full "
        "(issue 6: 200 trials, 4 x 10,000 events; ~30 minutes), quick (the tests'); "
        "also KIOSK_BENCH_RELIABILITY",
    )
    parser.add_argument(
        "--tuning",
        action="append",
        default=[],
        metavar="SPEC",
        help="KIOSK_TUNING for the UI suites, repeatable (default: all, then 0); e.g. "
        "'all,-style-memo' to measure without one piece",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"table file (default {RESULTS})")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a figure misses its target"
    )
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}; known: {', '.join(SUITES)}")
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    bad = [e for e in engines if e not in ENGINES]
    if bad or not engines:
        parser.error(f"--engines takes {','.join(ENGINES)}, not {args.engines!r}")
    args.engines = engines
    from kiosk.ui import tuning

    for spec in args.tuning:
        try:
            tuning.parse(spec)
        except ValueError as exc:
            parser.error(str(exc))
    args.tuning = args.tuning or list(DEFAULT_TUNING)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    return args


def run_with_tuning(ctx: BenchContext, module: object, specs: list[str]) -> list[Row]:
    """A UI suite once per KIOSK_TUNING setting (read by each app the suite starts, in this
    process or in the ones it spawns), its figures named with the setting."""
    rows: list[Row] = []
    before = os.environ.get("KIOSK_TUNING")
    try:
        for spec in specs:
            os.environ["KIOSK_TUNING"] = spec
            ctx.log(f"  with KIOSK_TUNING={spec}")
            rows += [replace(r, name=f"{r.name} [tuning {spec}]") for r in module.run(ctx)]  # type: ignore[attr-defined]
    finally:
        if before is None:
            os.environ.pop("KIOSK_TUNING", None)
        else:
            os.environ["KIOSK_TUNING"] = before
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, suite in SUITES.items():
            print(f"{name:12} {suite.about}")
        return 0
    if args.reliability:
        os.environ["KIOSK_BENCH_RELIABILITY"] = args.reliability
    ctx = BenchContext(
        events=args.events, engines=args.engines, only=tuple(args.only), rebuild=args.rebuild
    )
    facts = machine_facts()
    rows: list[Row] = []
    began = time.perf_counter()
    try:
        for name in args.suites or list(SUITES):
            ctx.log(f"suite {name}: {SUITES[name].about}")
            module = importlib.import_module(SUITES[name].module)
            if name in UI_SUITES:
                rows += run_with_tuning(ctx, module, args.tuning)
            else:
                rows += module.run(ctx)
    finally:
        ctx.close()
    facts["run time"] = f"{time.perf_counter() - began:.0f} s"
    table = render_table(rows, {**facts, **ctx.facts}, ctx.notes)
    print()
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(f"(written to {args.out})")
    if args.strict and any(r.status == "FAIL" for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
