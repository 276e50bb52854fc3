"""Benchmarks of the kiosk: ``make bench`` = ``python -m bench`` (see bench/README.md).

This module is the small API every suite shares: a :class:`Row` per figure, the
:class:`BenchContext` a suite receives (options, a work folder, the PostgreSQL cluster
started once per run), timing helpers and the markdown table. It imports nothing heavy,
so ``python -m bench.<suite>`` entry points can use it too.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.pg import PgServer

ENGINES = ("sqlite", "postgresql")
DEFAULT_EVENTS = 1_000_000


@dataclass(frozen=True)
class Row:
    """One figure of the results table. Lower is better (times, sizes).

    ``target`` None means the figure is shown for information and has no pass/fail.
    """

    name: str
    engine: str
    measured: float
    target: float | None
    unit: str = "ms"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.target <= 0:
            return None
        return self.measured / self.target

    @property
    def status(self) -> str:
        if self.ratio is None:
            return "info"
        return "pass" if self.ratio <= 1.0 else "FAIL"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2; p95 of 20 values is the 19th)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def time_calls(
    call: Callable[[], Any],
    *,
    repeat: int,
    warmup: int = 2,
    budget_s: float | None = None,
) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls (after ``warmup`` unmeasured ones).

    With ``budget_s``, stops early once that many seconds were spent measuring (at least
    five calls are always measured), so a very slow query cannot stall the whole run.
    """
    for _ in range(warmup):
        call()
    times: list[float] = []
    began = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
        if budget_s is not None and len(times) >= 5 and time.perf_counter() - began > budget_s:
            break
    return times


@dataclass
class BenchContext:
    """What a suite gets: the run's options, a scratch folder and shared resources."""

    events: int = DEFAULT_EVENTS
    engines: tuple[str, ...] = ENGINES
    only: tuple[str, ...] = ()
    rebuild: bool = False
    cache_dir: Path = field(default_factory=lambda: default_cache_dir())
    work_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="kiosk-bench-")), repr=False
    )
    # Lines shown above the table (dataset, server settings), added by the suites.
    notes: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    _cluster: Any = field(default=None, repr=False)
    _server: PgServer | None = field(default=None, repr=False)

    def wants(self, name: str) -> bool:
        """Whether a benchmark is selected by ``--only`` (substring match, any of them)."""
        return not self.only or any(word.lower() in name.lower() for word in self.only)

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def emit(self, row: Row) -> Row:
        """Print one figure as soon as it is measured (the table comes at the end)."""
        target = "" if row.target is None else f" / {fmt_value(row.target, row.unit)}"
        ratio = "" if row.ratio is None else f" = {row.ratio:.2f}"
        self.log(
            f"{row.status:>4}  {row.name} [{row.engine}]: "
            f"{fmt_value(row.measured, row.unit)}{target}{ratio}"
        )
        return row

    def postgres(self) -> PgServer:
        """A throwaway PostgreSQL cluster for the whole run, durable (fsync on)."""
        if self._server is None:
            from tests.pg import from_env

            external = from_env()
            if external is not None:
                self._server = external
            else:
                self.log("starting a throwaway PostgreSQL cluster (fsync on)")
                self._cluster = durable_cluster()
                self._server = self._cluster.start()
        return self._server

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
            self._server = None
        shutil.rmtree(self.work_dir, ignore_errors=True)


def durable_cluster() -> Any:
    """tests/pg.py's throwaway cluster with PostgreSQL's durable defaults.

    The test cluster turns fsync, synchronous_commit and full_page_writes off for speed;
    a figure for a durable commit needs them on.
    """
    from tests.pg import Cluster

    return Cluster(durable=True, max_connections=20)


def default_cache_dir() -> Path:
    override = os.environ.get("KIOSK_BENCH_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_cache_path("staff-room-kiosk", appauthor=False) / "bench"


def machine_facts() -> dict[str, str]:
    import sqlite3

    import sqlalchemy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
    }
    try:
        load = os.getloadavg()
        facts["load average at start"] = " ".join(f"{x:.2f}" for x in load)
    except OSError:
        pass
    return facts


def fmt_value(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}".strip()


def render_table(rows: Sequence[Row], facts: dict[str, str], notes: Sequence[str]) -> str:
    lines = ["# Staff Room Kiosk benchmarks", ""]
    for key, value in facts.items():
        lines.append(f"- {key}: {value}")
    for note in notes:
        lines.append(f"- {note}")
    lines += [
        "",
        "| Benchmark | Engine | Measured | Target | Ratio | Result | Notes |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        target = "" if row.target is None else fmt_value(row.target, row.unit)
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        measured = fmt_value(row.measured, row.unit)
        lines.append(
            f"| {row.name} | {row.engine} | {measured} | {target} | {ratio} | {row.status} "
            f"| {row.note} |"
        )
    failed = sum(1 for r in rows if r.status == "FAIL")
    passed = sum(1 for r in rows if r.status == "pass")
    lines += ["", f"{passed} within target, {failed} over target (ratio = measured / target)."]
    return "\n".join(lines) + "\n"
