"""Reliability harnesses: crash safety, several kiosks at once, the same laptop twice, verify.

``python -m bench.reliability`` runs them with the full settings of issue 6 and prints a
table; ``--quick`` uses the small settings the tests use (tests/reliability/ runs these
same functions under ``make test``).

* **Crash safety** (:func:`crash_trials`): a child process records events through the
  services and prints each event id only after the call returned (its "confirmation"); the
  parent SIGKILLs it at a random moment, then checks that every confirmed event is in the
  database. After all trials the chain must verify.
* **Several kiosks** (:func:`several_kiosks`): K processes (multiprocessing, spawn) record
  N events each at the same time against one database: no event lost or doubled, no error
  (such as "database is locked") reaching a caller, the chain intact, and the throughput.
* **Same laptop** (:func:`same_laptop_race`): two processes sign out the same laptop at the
  same instant, round after round: exactly one succeeds, the other is told it is already out.
* **Verify speed** (:func:`verify_speed`): ``services.integrity.verify()`` over the synthetic
  school of bench/synth.py (1,000,000 events in full mode).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mode:
    crash_trials: int
    kiosks: int
    events_per_kiosk: int
    race_rounds: int
    verify_events: int
    fuzz_examples: int


FULL = Mode(
    crash_trials=200,
    kiosks=4,
    events_per_kiosk=10_000,
    race_rounds=50,
    verify_events=1_000_000,
    fuzz_examples=2000,
)
QUICK = Mode(
    crash_trials=12,
    kiosks=4,
    events_per_kiosk=100,
    race_rounds=8,
    verify_events=20_000,
    fuzz_examples=150,
)

STAFF_PER_KIOSK = 3


# --- setting up a database ---------------------------------------------------------------------


def kiosk_codes(kiosk: int) -> list[str]:
    return [f"K{kiosk:02d}S{n}" for n in range(STAFF_PER_KIOSK)]


def prepare(url: str, kiosks: int) -> None:
    """Schema at head; a few staff per kiosk; two laptop users ready to sign out LAP-RACE."""
    from kiosk.config import Settings
    from kiosk.db import migrate
    from kiosk.db.engine import null_pool_engine
    from kiosk.services.app import Services

    engine = null_pool_engine(url)
    try:
        migrate.upgrade(engine)
        services = Services(engine, Settings(kiosk_name="setup", database_url=url))
        known = {s.code for s in services.people.list_staff()}
        for kiosk in range(kiosks):
            for code in kiosk_codes(kiosk):
                if code not in known:
                    services.people.add_staff(code, f"Teacher {code}")
        if "RMGR" not in known:  # the line manager who agreed (recorded by code)
            services.people.add_staff("RMGR", "Carol Head", roles=["slt"])
        for code in ("RACEA", "RACEB"):
            if code not in known:
                services.people.add_staff(code, f"Racer {code}", roles=["laptop_user"])
                for policy in services.policies.outstanding(code):
                    services.policies.acknowledge(code, policy.id, policy.sha256)
                services.policies.declare_vdu_training(code, services.ctx.clock().date())
        if "LAP-RACE" not in {d.tag for d in services.people.list_devices()}:
            services.people.add_device("LAP-RACE", "laptop", "The laptop everyone wants")
    finally:
        engine.dispose()


def _services(url: str, kiosk_name: str) -> Any:
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine
    from kiosk.services.app import Services

    return Services(make_engine(url), Settings(kiosk_name=kiosk_name, database_url=url))


def record_one(services: Any, code: str) -> int:
    """Deposit the person's phone, or collect it when it is already in: one event."""
    from kiosk.domain.errors import RuleViolation

    try:
        return int(services.phones.deposit(code).event_id)
    except RuleViolation:
        return int(services.phones.collect(code).event_id)


def _verify(url: str) -> Any:
    services = _services(url, "verifier")
    try:
        return services.integrity.verify(save=False)
    finally:
        services.close()


def _existing(url: str, ids: Sequence[int]) -> set[int]:
    from sqlalchemy import select

    from kiosk.db.engine import null_pool_engine
    from kiosk.db.models import Event

    engine = null_pool_engine(url)
    found: set[int] = set()
    try:
        with engine.connect() as conn:
            ordered = sorted(set(ids))
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                found.update(conn.scalars(select(Event.id).where(Event.id.in_(chunk))))
    finally:
        engine.dispose()
    return found


def _count(url: str) -> int:
    from sqlalchemy import func, select

    from kiosk.db.engine import null_pool_engine
    from kiosk.db.models import Event

    engine = null_pool_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Event)) or 0)
    finally:
        engine.dispose()


# --- crash safety ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashResult:
    engine: str
    trials: int
    killed: int
    confirmed: int
    missing: tuple[int, ...]
    chain_ok: bool
    events_checked: int
    seconds: float
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing and self.chain_ok and not self.failures


def crash_child(url: str, kiosk_name: str, codes: str) -> None:
    """Runs in the child: record events forever, confirming each after its commit returned."""
    services = _services(url, kiosk_name)
    people = codes.split(",")
    os.write(1, b"ready\n")
    n = 0
    while True:
        event_id = record_one(services, people[n % len(people)])
        os.write(1, f"{event_id}\n".encode())  # the confirmation: only after the commit
        n += 1


def crash_trials(
    url: str, trials: int, *, seed: int = 6, max_delay: float = 0.4, engine: str = ""
) -> CrashResult:
    """Kill a recording process with SIGKILL ``trials`` times; check nothing confirmed is lost."""
    prepare(url, 1)
    rng = random.Random(seed)
    confirmed: list[int] = []
    failures: list[str] = []
    killed = 0
    began = time.perf_counter()
    codes = ",".join(kiosk_codes(0))
    for trial in range(trials):
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from bench.reliability import crash_child; "
                    "crash_child(sys.argv[1], sys.argv[2], sys.argv[3])",
                    url,
                    f"crash-{trial}",
                    codes,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            # Its first confirmation: the kill comes at a random moment once it is recording,
            # not while it is still starting (connecting, its first commit). Timed from
            # "ready", a loaded machine killed every child before it had confirmed anything.
            first = proc.stdout.readline() if ready == b"ready\n" else b""
            if not first.endswith(b"\n"):
                proc.kill()
                proc.wait()
                errors.seek(0)
                failures.append(f"trial {trial}: child did not start: {errors.read()[-500:]!r}")
                continue
            confirmed.append(int(first))
            time.sleep(rng.uniform(0.0, max_delay))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
            out = proc.stdout.read()
            proc.stdout.close()
            if proc.returncode != -signal.SIGKILL:
                errors.seek(0)
                failures.append(f"trial {trial}: child ended by itself: {errors.read()[-500:]!r}")
        lines = out.split(b"\n")
        # Only whole lines count: a confirmation cut off mid-write was never shown.
        confirmed.extend(int(line) for line in lines[:-1] if line.strip())
    present = _existing(url, confirmed)
    missing = tuple(sorted(set(confirmed) - present))
    report = _verify(url)
    return CrashResult(
        engine=engine or _engine_name(url),
        trials=trials,
        killed=killed,
        confirmed=len(confirmed),
        missing=missing,
        chain_ok=report.ok,
        events_checked=report.events_checked,
        seconds=round(time.perf_counter() - began, 1),
        failures=tuple(failures),
    )


# --- several kiosks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskRun:
    kiosk: int
    ids: tuple[int, ...]
    errors: tuple[str, ...]
    started: float
    finished: float


def kiosk_worker(url: str, kiosk: int, events: int, barrier: Any) -> KioskRun:
    """Runs in a spawned process: one kiosk recording ``events`` events as fast as it can."""
    services = _services(url, f"kiosk-{kiosk}")
    codes = kiosk_codes(kiosk)
    ids: list[int] = []
    errors: list[str] = []
    barrier.wait()
    started = time.time()
    try:
        for n in range(events):
            try:
                ids.append(record_one(services, codes[n % len(codes)]))
            except Exception as exc:  # every error reaching a caller is reported
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        services.close()
    return KioskRun(kiosk, tuple(ids), tuple(errors), started, time.time())


@dataclass(frozen=True)
class ConcurrencyResult:
    engine: str
    kiosks: int
    events_per_kiosk: int
    recorded: int
    added_rows: int
    lost: int
    doubled: int
    errors: tuple[str, ...]
    forks: int
    chain_ok: bool
    seconds: float

    @property
    def per_second(self) -> float:
        return self.recorded / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.lost == 0
            and self.doubled == 0
            and self.forks == 0
            and self.chain_ok
            and self.recorded == self.kiosks * self.events_per_kiosk == self.added_rows
        )


def several_kiosks(url: str, kiosks: int, events: int, *, engine: str = "") -> ConcurrencyResult:
    import multiprocessing

    prepare(url, kiosks)
    before = _count(url)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(kiosks)
        with ctx.Pool(kiosks) as pool:
            runs: list[KioskRun] = pool.starmap(
                kiosk_worker, [(url, k, events, barrier) for k in range(kiosks)]
            )
    ids = [i for run in runs for i in run.ids]
    errors = tuple(e for run in runs for e in run.errors)
    present = _existing(url, ids)
    report = _verify(url)
    seconds = max(r.finished for r in runs) - min(r.started for r in runs)
    return ConcurrencyResult(
        engine=engine or _engine_name(url),
        kiosks=kiosks,
        events_per_kiosk=events,
        recorded=len(ids),
        added_rows=_count(url) - before,
        lost=len(set(ids) - present),
        doubled=len(ids) - len(set(ids)),
        errors=errors[:20],
        forks=_forks(url),
        chain_ok=report.ok,
        seconds=round(seconds, 2),
    )


def _forks(url: str) -> int:
    """Events sharing a parent: a linear chain has none."""
    from sqlalchemy import func, select

    from kiosk.db.engine import null_pool_engine
    from kiosk.db.models import Event

    engine = null_pool_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.scalar(select(func.count()).select_from(Event)) or 0
            parents = conn.scalar(select(func.count(func.distinct(Event.prev_hash)))) or 0
            return int(total - parents)
    finally:
        engine.dispose()


# --- the same laptop at the same instant -------------------------------------------------------


def race_worker(url: str, who: str, rounds: int, barrier: Any) -> list[str]:
    """Runs in a spawned process: try to sign out LAP-RACE at the same instant as the other."""
    from kiosk.domain.errors import RuleViolation

    services = _services(url, f"race-{who}")
    outcomes: list[str] = []
    try:
        for _ in range(rounds):
            barrier.wait()
            try:
                services.devices.sign_out(
                    who, ["LAP-RACE"], reason="Report writing", line_manager="RMGR"
                )
                outcomes.append("signed out")
            except RuleViolation as exc:
                outcomes.append(
                    "refused: already out"
                    if "already signed out" in str(exc)
                    else f"refused: {exc}"
                )
            except Exception as exc:
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
            barrier.wait()
            if outcomes[-1] == "signed out":
                services.devices.return_device("LAP-RACE")
            barrier.wait()
    finally:
        services.close()
    return outcomes


@dataclass(frozen=True)
class RaceResult:
    engine: str
    rounds: int
    one_winner: int
    outcomes: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return self.one_winner == self.rounds


def same_laptop_race(url: str, rounds: int, *, engine: str = "") -> RaceResult:
    import multiprocessing

    prepare(url, 0)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ctx.Pool(2) as pool:
            a, b = pool.starmap(
                race_worker, [(url, "RACEA", rounds, barrier), (url, "RACEB", rounds, barrier)]
            )
    pairs = tuple(zip(a, b, strict=True))
    good = sum(1 for pair in pairs if sorted(pair) == ["refused: already out", "signed out"])
    return RaceResult(engine or _engine_name(url), rounds, good, pairs)


# --- verify speed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    engine: str
    events: int
    seconds: float
    ok: bool

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def verify_speed(url: str, *, engine: str = "") -> VerifyResult:
    services = _services(url, "verifier")
    try:
        began = time.perf_counter()
        report = services.integrity.verify(save=False)
        seconds = time.perf_counter() - began
    finally:
        services.close()
    return VerifyResult(
        engine or _engine_name(url), report.events_checked, round(seconds, 2), report.ok
    )


# --- fuzz counts -------------------------------------------------------------------------------


def fuzz_counts(examples: int) -> dict[str, int]:
    """Run tests/reliability/test_fuzz.py with ``examples`` per property; cases that ran."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "fuzz.json"
        env = dict(os.environ, KIOSK_FUZZ_EXAMPLES=str(examples), KIOSK_FUZZ_REPORT=str(report))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-k",
                "sqlite or not postgresql",
                "tests/reliability/test_fuzz.py",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"fuzz tests failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        counts: dict[str, int] = json.loads(report.read_text())
        return counts


# --- running it all ----------------------------------------------------------------------------


def _engine_name(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


@dataclass
class Results:
    mode: str
    crash: list[CrashResult] = field(default_factory=list)
    kiosks: list[ConcurrencyResult] = field(default_factory=list)
    races: list[RaceResult] = field(default_factory=list)
    verify: list[VerifyResult] = field(default_factory=list)
    fuzz: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        parts: list[Any] = [*self.crash, *self.kiosks, *self.races]
        return all(p.ok for p in parts) and all(v.ok for v in self.verify)

    def table(self) -> str:
        rows = [("Check", "Engine", "Result", "OK")]
        for c in self.crash:
            rows.append(
                (
                    f"SIGKILL at random moments, {c.trials} trials",
                    c.engine,
                    f"{c.confirmed} confirmed events, {len(c.missing)} missing; chain of "
                    f"{c.events_checked} events {'verifies' if c.chain_ok else 'BROKEN'} "
                    f"({c.seconds:.0f} s)",
                    "yes" if c.ok else "NO",
                )
            )
        for k in self.kiosks:
            rows.append(
                (
                    f"{k.kiosks} kiosks x {k.events_per_kiosk:,} events at once",
                    k.engine,
                    f"{k.recorded:,} recorded in {k.seconds:.1f} s = {k.per_second:,.0f} events/s; "
                    f"lost {k.lost}, doubled {k.doubled}, errors {len(k.errors)}, forks {k.forks}",
                    "yes" if k.ok else "NO",
                )
            )
        for r in self.races:
            rows.append(
                (
                    f"2 kiosks sign out one laptop at once, {r.rounds} rounds",
                    r.engine,
                    f"exactly one succeeded in {r.one_winner} of {r.rounds} rounds",
                    "yes" if r.ok else "NO",
                )
            )
        for v in self.verify:
            rows.append(
                (
                    f"kiosk verify over {v.events:,} events",
                    v.engine,
                    f"{v.seconds:.1f} s = {v.per_second:,.0f} events/s",
                    "yes" if v.ok else "NO",
                )
            )
        if self.fuzz:
            total = sum(self.fuzz.values())
            detail = ", ".join(f"{k} {v}" for k, v in sorted(self.fuzz.items()))
            rows.append(("hypothesis cases (no crash)", "sqlite", f"{total:,}: {detail}", "yes"))
        widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
        lines = [
            "  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def run_all(
    mode: Mode,
    *,
    engines: Sequence[str] = ("sqlite", "postgresql"),
    only: Sequence[str] = (),
    log: Any = None,
) -> Results:
    from bench import BenchContext

    def say(message: str) -> None:
        if log:
            log(message)

    def wanted(name: str) -> bool:
        return not only or any(word in name for word in only)

    results = Results("full" if mode == FULL else "quick")
    ctx = BenchContext(events=mode.verify_events)
    try:
        for engine in engines:
            for name in ("crash", "kiosks", "race"):
                if not wanted(name):
                    continue
                url = _fresh_database(ctx, engine, name)
                say(f"{name} on {engine}")
                if name == "crash":
                    results.crash.append(crash_trials(url, mode.crash_trials, engine=engine))
                elif name == "kiosks":
                    results.kiosks.append(
                        several_kiosks(url, mode.kiosks, mode.events_per_kiosk, engine=engine)
                    )
                else:
                    results.races.append(same_laptop_race(url, mode.race_rounds, engine=engine))
            if wanted("verify"):
                say(f"verify speed on {engine} ({mode.verify_events:,} events)")
                results.verify.append(
                    verify_speed(_school(ctx, engine, mode.verify_events), engine=engine)
                )
        if wanted("fuzz"):
            say(f"fuzz ({mode.fuzz_examples} examples per property)")
            results.fuzz = fuzz_counts(mode.fuzz_examples)
    finally:
        ctx.close()
    return results


def _fresh_database(ctx: Any, engine: str, name: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{ctx.work_dir / f'{name}.sqlite3'}"
    import psycopg

    server = ctx.postgres()
    dbname = f"reliability_{name}_{os.getpid()}"
    with psycopg.connect(
        f"host={server.host} port={server.port} user={server.user} dbname=postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    return str(server.url(dbname))


def _school(ctx: Any, engine: str, events: int) -> str:
    from bench import synth

    if engine == "sqlite":
        path, _info, _built = synth.cached_sqlite(events, ctx.cache_dir, log=ctx.log)
        copy = ctx.work_dir / "verify.sqlite3"
        synth.copy_database(path, copy)
        return f"sqlite:///{copy}"
    url = _fresh_database(ctx, engine, "verify")
    synth.build_postgresql(url, events, ctx.cache_dir, log=ctx.log)
    return url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reliability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="the small settings of the tests")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="crash, kiosks, race, verify or fuzz (repeatable; default: all)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL

    def log(message: str) -> None:
        print(f"[reliability {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results = run_all(
        mode, engines=args.engine or ("sqlite", "postgresql"), only=args.only, log=log
    )
    print(f"Reliability ({results.mode} settings: {asdict(mode)})\n")
    print(results.table())
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=2, default=str))
    return 0 if results.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
