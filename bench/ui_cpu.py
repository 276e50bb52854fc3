"""The kiosk's scans measured by the UI thread's own CPU time, and the collector's pauses.

``python -m bench.ui_cpu [SCANS] [PROFILE_FILE]`` runs the same rounds as the ``scan`` figures
of ``bench/ui_bench.py`` (badge -> person's screen, Enter -> deposit, F2 + badge -> collect)
on a copy of the cached school, with the ``KIOSK_TUNING`` of the environment, and prints per
figure: wall time and UI-thread CPU time (``time.thread_time``) from the Enter key event to the
screen's first frame, and the garbage collections that ran inside those windows (a full,
generation-2, collection stops the kiosk for as long as it walks every object).

The UI thread's CPU time is much less sensitive to other work on the machine than the wall
time: compare two versions or two tuning settings on it. With a PROFILE_FILE, cProfile runs
on the UI thread inside the measured windows only (``BENCH_PROFILE_ONLY=person,deposit``
picks the figures); read it with ``python -m pstats``.

After the figures, the collector over the measured rounds: collections per round of each
generation, and full collections per 50 rounds. CPython 3.11 runs a full collection when 11
generation-1 collections have run since the last one AND the objects promoted into generation
2 since then exceed a quarter of those that survived it; with ``BENCH_GC_PROMOTED=1`` it also
counts the objects each generation-1 collection promotes (``gc.get_objects(2)`` before and
after: a few ms each, so the windows' own figures are disturbed in that run) and says which of
the two conditions paces the full collections.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench import BenchContext, percentile
from bench import ui_bench as ub

FIGURES = ("deposit", "collect", "person")


class GcLog:
    """Every collection: (generation, start, end), perf_counter seconds."""

    def __init__(self, promoted: bool = False) -> None:
        self.runs: list[tuple[int, float, float]] = []
        self._start = 0.0
        # With ``promoted``: (when, objects moved into generation 2) per generation-1
        # collection, and the size of generation 2 after each full collection.
        self.promoted: list[tuple[float, int]] | None = [] if promoted else None
        self.long_lived: list[int] = []
        self._old = 0
        self.full_cpu: list[float] = []  # ms of the collecting thread's CPU per full collection
        self._cpu = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        generation = info["generation"]
        if phase == "start":
            if self.promoted is not None and generation == 1:
                self._old = len(gc.get_objects(2))
            self._start = time.perf_counter()
            self._cpu = time.thread_time()
        else:
            now = time.perf_counter()
            self.runs.append((generation, self._start, now))
            if generation == 2:
                self.full_cpu.append((time.thread_time() - self._cpu) * 1000)
            if self.promoted is not None and generation == 1:
                self.promoted.append((now, len(gc.get_objects(2)) - self._old))
            elif self.promoted is not None and generation == 2:
                self.long_lived.append(len(gc.get_objects(2)))

    def report(self, start: float, end: float, rounds: int) -> list[str]:
        """The collector over [start, end] (``rounds`` scan rounds)."""
        per_gen = [
            sum(1 for g, a, _b in self.runs if g == n and start <= a <= end) for n in range(3)
        ]
        per_round = " / ".join(f"{n / max(rounds, 1):.2f}" for n in per_gen)
        cpu = percentile(self.full_cpu, 50) if self.full_cpu else 0.0
        lines = [
            f"collector over the {rounds} measured rounds: collections per round (gen 0 / 1 / 2) "
            f"{per_round}; full collections per 50 rounds {per_gen[2] * 50 / max(rounds, 1):.1f}; "
            f"a full collection's CPU time (its thread's) p50 {cpu:.0f} ms"
        ]
        if self.promoted is not None:
            moved = sum(n for at, n in self.promoted if start <= at <= end)
            per = moved / max(rounds, 1)
            gen1 = per_gen[1] / max(rounds, 1)
            total = self.long_lived[-1] if self.long_lived else len(gc.get_objects(2))
            by_count = 11 / gen1 if gen1 else float("inf")  # rounds for 11 gen-1 collections
            by_rule = total / 4 / per if per else float("inf")  # rounds to promote total / 4
            pace = "the 11 generation-1 collections" if by_count >= by_rule else "the 25% rule"
            lines.append(
                f"promoted into generation 2: {per:.0f} objects per round; a full collection needs "
                f"{total / 4:.0f} (a quarter of {total} long-lived) = {by_rule:.1f} rounds, and 11 "
                f"generation-1 collections = {by_count:.1f} rounds: paced by {pace}"
            )
        return lines

    def counts(self, start: float, end: float) -> tuple[int, int, int]:
        """How many collections of generation 0, 1 and 2 started in [start, end]."""
        found = [0, 0, 0]
        for g, a, _b in self.runs:
            if start <= a <= end:
                found[min(g, 2)] += 1
        return found[0], found[1], found[2]

    def inside(self, start: float, end: float, generation: int | None = None) -> list[float]:
        """Milliseconds of the collections that started in [start, end]."""
        return [
            (b - a) * 1000
            for g, a, b in self.runs
            if start <= a <= end and (generation is None or g == generation)
        ]


async def measure(url: str, start: datetime, scans: int, profile: cProfile.Profile | None):
    only = os.environ.get("BENCH_PROFILE_ONLY", ",".join(FIGURES)).split(",")
    base = ub.timed_app_class()

    class CpuApp(base):  # type: ignore[misc,valid-type]
        armed: tuple[str, str] | None = None
        began: tuple[float, float] | None = None  # wall, UI-thread CPU at the Enter
        windows: list[tuple[str, float, float, float, float]] = []
        measured: list[float] = []  # when the measured rounds began and ended

        async def on_event(self, event: Any) -> None:
            from textual import events

            if isinstance(event, events.Key) and event.key == "enter" and self.armed:
                self.began = (time.perf_counter(), time.thread_time())
                if profile is not None and self.armed[0] in only:
                    profile.enable()
            await super().on_event(event)

        def _display(self, screen: Any, renderable: Any) -> None:
            super()._display(screen, renderable)
            armed, began = self.armed, self.began
            if renderable is None or armed is None or began is None:
                return
            if type(screen).__name__ != armed[1]:
                return
            if profile is not None:
                profile.disable()
            now = time.perf_counter()
            cpu = (time.thread_time() - began[1]) * 1000
            self.windows.append((armed[0], (now - began[0]) * 1000, cpu, began[0], now))
            self.armed = self.began = None

    services = ub.open_services(url, start)
    app = CpuApp(services=services)
    people = ub.deposit_candidates(services, scans + ub.WARMUP_SCANS)

    async def timed(name: str, screen: str, measured: bool, act: Callable[[], None]) -> None:
        app.armed = (name, screen) if measured else None
        before = time.perf_counter()
        act()
        await ub.wait_until(lambda: app.first_frame(screen, before))
        app.armed = None
        await ub.idle(app)

    async def home() -> None:
        app.post_message(ub.key_event("escape", None))
        await ub.wait_until(lambda: type(app.screen).__name__ == "HomeScreen")
        await ub.idle(app)

    try:
        async with app.run_test(size=ub.SIZE) as pilot:
            await pilot.pause()
            await ub.idle(app)
            for n, code in enumerate(people):
                measured = n >= ub.WARMUP_SCANS
                if n == ub.WARMUP_SCANS:
                    app.measured.append(time.perf_counter())
                badge = f"SRK1:S:{code}"
                await timed(
                    "person", "PersonScreen", measured, lambda b=badge: ub.post_scan(app, b)
                )
                enter = ub.key_event("enter", "\r")
                await timed(
                    "deposit", "ConfirmScreen", measured, lambda e=enter: app.post_message(e)
                )
                await home()
                app.post_message(ub.key_event("f2", None))
                await ub.idle(app)
                await timed(
                    "collect", "ConfirmScreen", measured, lambda b=badge: ub.post_scan(app, b)
                )
                await home()
            app.measured.append(time.perf_counter())
            tracked = len(gc.get_objects())
    finally:
        services.close()
    return app.windows, tracked, (app.measured[0], app.measured[-1])


def main(argv: list[str]) -> int:
    scans = int(argv[0]) if argv else 30
    profile = cProfile.Profile() if len(argv) > 1 else None
    log = GcLog(promoted=os.environ.get("BENCH_GC_PROMOTED") == "1")
    gc.callbacks.append(log)
    ctx = BenchContext()
    try:
        url, info = ub.school_copy(ctx, "ui-cpu-school.sqlite3")
        windows, tracked, span = asyncio.run(measure(url, info.now_dt, scans, profile))
    finally:
        gc.callbacks.remove(log)
        ctx.close()
    if profile is not None:
        profile.dump_stats(argv[1])
    print(f"KIOSK_TUNING={os.environ.get('KIOSK_TUNING', 'all')}, load {os.getloadavg()[0]:.2f}")
    for name in FIGURES:
        rows = [w for w in windows if w[0] == name]
        wall, cpu = [w[1] for w in rows], [w[2] for w in rows]
        gc_ms = [sum(log.inside(w[3], w[4])) for w in rows]
        full = [round(ms) for w in rows for ms in log.inside(w[3], w[4], 2)]
        per_gen = [log.counts(w[3], w[4]) for w in rows]
        gens = " / ".join(f"{sum(c[g] for c in per_gen) / max(len(rows), 1):.2f}" for g in range(3))
        print(
            f"{name:8} n={len(rows)}  wall p50 {percentile(wall, 50):5.1f} p95 "
            f"{percentile(wall, 95):5.1f} ms  UI CPU p50 {percentile(cpu, 50):5.1f} p95 "
            f"{percentile(cpu, 95):5.1f} ms  gc in window p95 {percentile(gc_ms, 95):.1f} ms, "
            f"full collections inside: {full}; collections per window (gen 0 / 1 / 2): {gens}"
        )
    full_all = [round((b - a) * 1000) for g, a, b in log.runs if g == 2]
    print(f"full collections in the run: {len(full_all)} {full_all} ms; {tracked} objects tracked")
    for line in log.report(span[0], span[1], scans):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
