"""Soak: a simulated school term through one kiosk process (issue 17).

:data:`DAYS` school days of :data:`EVENTS_PER_DAY` recorded events each go through one
``KioskApp`` (headless, ``App.run_test`` at 160 x 50) in a fresh process, on a copy of the
cached synthetic school (a real SQLite file, the kiosk's own engine). The services' clock and
the UI's clock (``kiosk/ui/clock.py``) are simulated: each event moves them on by the day's
span divided by the day's events, and a night or a weekend passes in one step, so the term
takes minutes, not weeks, while the kiosk sees its days go by (the date on the home screen,
the end-of-day banner after the end of the school day, the idle timeout).

Each event is recorded by the kiosk; :data:`SCREEN_EVERY` says how: every N-th event of a day
goes through the screens with keys posted as a scanner and a person type them (a badge, the
person's screen, Enter, the confirmation, Escape home; every 20th such one a laptop signed
out or brought back through its form), and the others through the kiosk's one path from a
screen to a use case (``KioskApp.gateway.call``: a thread worker, the answer handled on the UI
thread), phones in or out. A full term through the screens alone would take hours at the
pace Textual draws them on this machine.

Figures: the peak RSS (VmHWM) after the first day and at the end (pass when the end is at
most :data:`TARGET_GROWTH` x the first day's), and the live objects by type (``gc``, after
a full collection) every :data:`SAMPLE_EVERY` days from the end of the first day, counted in
a forked copy of the process once every bounded cache is emptied (``lru_cache``s with a
``maxsize``, Textual's ``LRUCache``/``FIFOCache``; an unbounded cache is left as it is): a
type whose count rose in at least three intervals out of four and, over the second half of
the term, by more than :data:`GROWTH_FLOOR` objects and 5 % is flagged as growing (pass when
none is). A bounded cache that fills slowly (Textual's ``Region.intersection``, 4,096
entries, fills over months) is not a leak; what still grows outside the caches is. The types
that grow only with the caches' contents counted are named in the note. The note gives what
holds a flagged type's newest objects, ``sys.getallocatedblocks()`` (every object, tracked by
the collector or not), SQLAlchemy's compiled-cache entries, and
where the memory is: glibc's heaps (how many; in use, free but kept), Python's arenas, SQLite's
heap and the threads, every sample; the ``lru_cache``s at the end, and what they held.

``python -m bench soak``; ``KIOSK_BENCH_SOAK=DAYSxEVENTS[/SCREEN_EVERY]`` (e.g. ``5x200``)
for a shorter term; ``python -m bench.soak URL START DAYS EVENTS SCREEN_EVERY`` runs the term
alone and prints its JSON.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any

from bench import BenchContext, Row, percentile
from bench.reliability_suite import CheckRow

DAYS = 65
EVENTS_PER_DAY = 500
SCREEN_EVERY = 50  # every 50th event of a day through the screens, the others through the gateway
SAMPLE_EVERY = 5  # days between object counts
TARGET_GROWTH = 1.10  # peak RSS at the end <= 1.1 x the peak after the first day
GROWTH_FLOOR = 50  # objects: smaller changes are what happens to be alive at that moment
DAY_START = dtime(7, 30)  # in the school's zone
DAY_SPAN = timedelta(hours=9, minutes=30)  # to 17:00: past the end of the school day (16:30)


def term_size() -> tuple[int, int, int]:
    """(days, events a day, every how many events one goes through the screens), from
    ``KIOSK_BENCH_SOAK`` (``DAYSxEVENTS`` or ``DAYSxEVENTS/SCREEN_EVERY``) or the defaults."""
    spec = os.environ.get("KIOSK_BENCH_SOAK", "").strip().lower()
    if not spec:
        return DAYS, EVENTS_PER_DAY, SCREEN_EVERY
    size, _, every = spec.partition("/")
    days, _, events = size.partition("x")
    return int(days), int(events), int(every or SCREEN_EVERY)


def run(ctx: BenchContext) -> list[Row]:
    if "sqlite" not in ctx.engines:
        ctx.log("soak: skipped (on SQLite; --engines has no sqlite)")
        return []
    if not ctx.wants("soak"):
        return []
    from bench.ui_bench import ROOT, _probe_env, school_copy

    days, events, every = term_size()
    url, info = school_copy(ctx, "soak-school.sqlite3")
    ctx.log(
        f"soak: a term of {days} days x {events} events through one kiosk process "
        f"(every {every}th through the screens)"
    )
    argv = [url, info.now_dt.isoformat(), str(days), str(events), str(every)]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.soak", *argv],
        cwd=ROOT,
        env={**os.environ, **_probe_env(ctx.work_dir / "soak")},
        capture_output=True,
        text=True,
        timeout=3 * 3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the soak failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return [ctx.emit(r) for r in rows_of(result)]


def rows_of(result: dict[str, Any]) -> list[Row]:
    days, events = result["days"], result["events_per_day"]
    first, end = result["hwm_day1_kib"], result["hwm_end_kib"]
    samples = result["samples"]
    growing = result["growing"]
    tuning = os.environ.get("KIOSK_TUNING", "all")
    rss = ", ".join(f"day {s['day']} {s['rss_kib'] / 1024:.0f}" for s in samples)
    blocks = ", ".join(f"{s['blocks'] / 1000:.0f}k" for s in samples)
    sql_cache = " ".join(str(s.get("sql_cache", "?")) for s in samples)
    lat = result["screen_ms"]
    one, last = samples[0], samples[-1]
    heaps = (
        f"; glibc malloc heaps {one['heaps']} -> {last['heaps']}, {one['heap_mib']} -> "
        f"{last['heap_mib']} MiB (free but kept {one['kept_mib']} -> {last['kept_mib']}), "
        f"Python's arenas {one['py_arenas']} -> {last['py_arenas']} MiB (free in them "
        f"{one['py_free_mib']} -> {last['py_free_mib']}), SQLite's heap "
        f"{one.get('sqlite_mib', '?')} -> {last.get('sqlite_mib', '?')} MiB, threads "
        f"{one['threads']} -> {last['threads']}"
        if "heaps" in one
        else ""
    )
    holders = result.get("holders", {})
    grown = (
        "; ".join(
            f"{g['type']} {' '.join(str(c) for c in g['counts'])} (held by "
            f"{', '.join(f'{h} x{n}' for h, n in holders.get(g['type'], [])) or '?'})"
            for g in growing[:6]
        )
        or "none"
    )
    caches = (
        f"lru_caches at the end (entries of bound): "
        f"{', '.join(f'{n} {c:,} of {b or 0:,}' for n, c, b in result['lru_caches'][:4])}, "
        f"holding {result['lru_mib']} MiB of Python's blocks; "
        if result.get("lru_caches")
        else ""
    )
    top = "; ".join(f"{t} {a:+d}" for t, a in result["largest_changes"][:6])
    cached = [
        g
        for g in result.get("growing_with_caches", [])
        if g["type"] not in {x["type"] for x in growing}
    ]
    in_caches = (
        "; still growing only with the bounded caches' contents counted (a cache filling "
        "up to its bound, not flagged): "
        + ", ".join(f"{g['type']} {' '.join(str(c) for c in g['counts'])}" for g in cached[:4])
        if cached
        else ""
    )
    measured = (
        "live objects by type once the bounded caches are emptied (a forked copy at each sample"
        + (
            f"; {result['outside_missing']} copies did not answer"
            if result.get("outside_missing")
            else ""
        )
        + ")"
        if result.get("outside_counted", False)
        else "live objects by type, caches included (the forked count failed)"
    )
    return [
        Row(
            f"soak: peak RSS after a term of {days} days x {events} events",
            "sqlite",
            round(end / 1024, 1),
            round(TARGET_GROWTH * first / 1024, 1),
            "MiB",
            f"VmHWM after day 1 {first / 1024:.1f} MiB, at the end {end / 1024:.1f} MiB "
            f"= {end / first:.3f} x (target {TARGET_GROWTH} x); {result['recorded']:,} events "
            f"recorded ({result['mix']}) in {result['seconds']:.0f} s; VmRSS (MiB) {rss}; "
            f"KIOSK_TUNING={tuning}{heaps}",
        ),
        CheckRow(
            f"soak: object types growing over the term (every {result['sample_every']} days)",
            "sqlite",
            len(growing),
            0,
            "types",
            f"{measured}; growing: {grown}{in_caches}; gc-tracked objects "
            f"{samples[0]['objects']:,} after day 1, "
            f"{samples[-1]['objects']:,} at the end (largest changes: {top}); allocated "
            f"blocks {blocks}; SQLAlchemy compiled cache entries {sql_cache}; "
            f"{caches}screen "
            f"events' Enter to confirmation p50 "
            f"{percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms",
            ok=not growing,
        ),
    ]


# --- in the soak's own process -----------------------------------------------------------------


class TermClock:
    """The services' clock and the UI's (``now()`` and ``monotonic()``), moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.at = start
        self.seconds = 1000.0

    def __call__(self) -> datetime:
        return self.at

    def advance(self, step: timedelta) -> None:
        self.at += step
        self.seconds += step.total_seconds()

    def go_to(self, when: datetime) -> None:
        self.advance(when - self.at)


def school_days(after: datetime, count: int, zone: Any) -> list[datetime]:
    """The start (07:30 in ``zone``, as UTC) of the next ``count`` weekdays after ``after``."""
    out: list[datetime] = []
    day = after.astimezone(zone).date()
    while len(out) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            local = datetime.combine(day, DAY_START, tzinfo=zone)
            out.append(local.astimezone(after.tzinfo))
    return out


def count_objects() -> Counter[str]:
    gc.collect()
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return counts


def count_outside_bounded_caches(timeout: float = 60.0) -> Counter[str] | None:
    """The live objects by type once every *bounded* cache is emptied: the ``lru_cache``s with
    a ``maxsize`` (Textual's ``Region.intersection`` keeps up to 4,096 entries and fills over
    weeks, as new geometry turns up) and Textual's ``LRUCache``/``FIFOCache`` (always bounded).
    An unbounded cache (``maxsize=None``) is not emptied: what it keeps is what a leak is.

    Counted in a forked copy of the process, so the kiosk under test keeps its caches (and its
    memory figures are not flattered by emptying them); ``None`` if the copy did not answer."""
    from textual.cache import FIFOCache, LRUCache

    with tempfile.NamedTemporaryFile("w+", suffix=".json") as answer:
        pid = os.fork()
        if pid == 0:  # the copy: empty, count, answer, leave without any clean-up
            try:
                gc.unfreeze()  # what the gc piece froze at start is counted as the rest is
                for wrapper in _lru_wrappers().values():
                    if wrapper.cache_info().maxsize is not None:
                        wrapper.cache_clear()
                for obj in gc.get_objects():
                    if isinstance(obj, (LRUCache, FIFOCache)):
                        obj.clear()
                with open(answer.name, "w", encoding="utf-8") as out:
                    json.dump(count_objects(), out)
            finally:
                os._exit(0)
        deadline = time.monotonic() + timeout
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return None
            time.sleep(0.05)
        text = answer.read()
    try:
        return Counter(json.loads(text)) if text else None
    except ValueError:  # the copy stopped part-way through its answer
        return None


def growing_types(history: list[Counter[str]]) -> list[dict[str, Any]]:
    """Types still growing: their count rose in at least 3 of 4 intervals, and over the second
    half of the term (from the middle sample to the last) by more than GROWTH_FLOOR objects
    and 5 %. A cache that fills in the first weeks and then holds (Textual's layout caches)
    rises at first and is not flagged; what grows to the end is."""
    if len(history) < 3:
        return []
    out = []
    middle = len(history) // 2
    for kind in set().union(*history):
        counts = [h.get(kind, 0) for h in history]
        rises = sum(1 for a, b in itertools.pairwise(counts) if b > a)
        late = counts[-1] - counts[middle]
        if (
            rises * 4 >= 3 * (len(counts) - 1)
            and late > GROWTH_FLOOR
            and late > 0.05 * counts[middle]
        ):
            out.append({"type": kind, "counts": counts, "growth": counts[-1] - counts[0]})
    return sorted(out, key=lambda g: -g["growth"])


def held_by(kind: str, sample: int = 100) -> list[tuple[str, int]]:
    """What holds the newest objects of type ``kind`` (module.qualname): the types of their
    referrers, and of the referrers' referrers when those are plain lists, tuples or dicts
    (a cache entry), most common first."""
    gc.collect()
    found = [o for o in gc.get_objects() if f"{type(o).__module__}.{type(o).__qualname__}" == kind]
    picked = found[-sample:]
    del found
    ours = {id(picked)}
    seen: Counter[str] = Counter()
    for obj in picked:
        refs = gc.get_referrers(obj)
        ours.add(id(refs))
        for ref in refs:
            if id(ref) in ours:
                continue
            name = f"{type(ref).__module__}.{type(ref).__qualname__}"
            if isinstance(ref, (list, tuple, dict)):
                outer = {
                    f"{type(r).__module__}.{type(r).__qualname__}"
                    for r in gc.get_referrers(ref)
                    if id(r) not in ours and r is not picked
                }
                name = f"{type(ref).__name__} in {'/'.join(sorted(outer)[:2]) or '?'}"
            seen[name] += 1
        ours.discard(id(refs))
        del refs
    del picked
    return seen.most_common(3)


def c_heap() -> dict[str, Any]:
    """glibc's heaps (``kiosk/malloc.py``): how many, their size, what is in use and what is
    free but kept (MiB); SQLite's own heap (MiB). Empty off glibc."""
    from kiosk import malloc

    got = malloc.info()
    if got is None:
        return {}
    mib = 1024 * 1024
    out: dict[str, Any] = {
        "heaps": malloc.heaps(),
        "heap_mib": round(got["arena"] / mib, 1),
        "in_use_mib": round(got["uordblks"] / mib, 1),
        "kept_mib": round(got["fordblks"] / mib, 1),
        "mapped_mib": round(got["hblkhd"] / mib, 1),
    }
    out.update(pymalloc())
    try:
        import ctypes
        import ctypes.util

        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        out["sqlite_mib"] = round(lib.sqlite3_memory_used() / mib, 1)
    except (OSError, AttributeError):
        pass
    return out


def pymalloc() -> dict[str, float]:
    """Python's own allocator (``sys._debugmallocstats``): its arenas (MiB mapped), the bytes
    in its blocks in use and free in its pools (MiB)."""
    import re

    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()

    def number(label: str) -> int:
        found = re.search(re.escape(label) + r"\s*=\s*([\d,]+)", text)
        return int(found.group(1).replace(",", "")) if found else 0

    mib = 1024 * 1024
    return {
        "py_arenas": number("# arenas allocated current"),
        "py_used_mib": round(number("# bytes in allocated blocks") / mib, 1),
        "py_free_mib": round(
            (number("# bytes in available blocks") + number("unused pools * 16384 bytes")) / mib,
            1,
        ),
    }


_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(len))


def _lru_wrappers() -> dict[str, Any]:
    """Every ``functools.lru_cache`` of the loaded modules, on a module or on a class of one
    (what the ``gc`` piece froze is not in ``gc.get_objects()``, so they are looked up)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()

    def check(value: Any) -> None:
        if isinstance(value, (classmethod, staticmethod)):
            value = value.__func__
        if isinstance(value, _LRU_WRAPPER) and id(value) not in seen:  # once, where defined
            seen.add(id(value))
            defined = f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
            found[defined] = value

    for module_name, module in list(sys.modules.items()):
        for value in list(vars(module).values()) if module is not None else ():
            check(value)
            if isinstance(value, type) and value.__module__ == module_name:
                for member in list(vars(value).values()):
                    check(member)
    return found


def lru_caches(least: int = 256) -> list[tuple[str, int, int | None]]:
    """The ``functools.lru_cache``s holding at least ``least`` entries: (name, entries,
    bound), largest first (Textual's layout caches, rich's cell widths...)."""
    found = []
    for name, wrapper in _lru_wrappers().items():
        info = wrapper.cache_info()
        if info.currsize >= least:
            found.append((name, info.currsize, info.maxsize))
    return sorted(found, key=lambda c: -c[1])


def what_caches_hold() -> float:
    """MiB of Python's blocks freed by emptying every ``lru_cache`` (at the very end of the
    term: how much of what is in use is bounded caches that filled)."""
    gc.collect()
    before = pymalloc()["py_used_mib"]
    for wrapper in _lru_wrappers().values():
        wrapper.cache_clear()
    gc.collect()
    return round(before - pymalloc()["py_used_mib"], 1)


def _status_kib(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


async def _term(
    url: str, start: datetime, days: int, per_day: int, screen_every: int
) -> dict[str, Any]:
    from sqlalchemy import func, select
    from textual import events as tevents

    from bench.ui_bench import SIZE, make_ready, open_services, post_scan, wait_until
    from kiosk.db.models import Event
    from kiosk.ui.app import KioskApp
    from kiosk.ui.clock import UiClock

    clock = TermClock(start)

    class TermUiClock(UiClock):
        def monotonic(self) -> float:
            return clock.seconds

    services = open_services(url, start, clock=clock)  # the term's clock, not the wall's
    app = KioskApp(services=services, clock=TermUiClock(clock))

    def newest() -> int:
        with services.ctx.engine.connect() as conn:
            return int(conn.scalar(select(func.max(Event.id))) or 0)

    staff = [
        s.code
        for s in services.people.list_staff()
        if services.people.status(s.code).exemption is None
    ]
    laptops = [d.tag for d in services.people.list_devices() if d.kind == "laptop"]
    takers = [s.code for s in services.people.list_staff() if s.has_role("laptop_user")]
    for taker in takers:
        make_ready(services, taker)
    first = newest()
    mix = Counter[str]()
    screen_events = 0
    screen_ms: list[float] = []
    history: list[Counter[str]] = []  # every live object, by type
    outside: list[Counter[str] | None] = []  # the same, once the bounded caches are emptied
    samples: list[dict[str, Any]] = []
    hwm_day1 = 0
    began = time.perf_counter()

    def key(name: str, char: str | None = None) -> None:
        app.post_message(tevents.Key(name, char))

    async def on(screen: str, timeout: float = 10.0) -> bool:
        try:
            await wait_until(lambda: type(app.screen).__name__ == screen, timeout=timeout)
        except TimeoutError:
            return False
        # The call answered (not the home screen's end-of-day read: it runs beside the scans).
        await wait_until(lambda: not app.busy and not app.queued_scans)
        return True

    async def home() -> None:
        if type(app.screen).__name__ != "HomeScreen":
            key("escape")
        if not await on("HomeScreen", 5.0):
            app.go_home()
            await on("HomeScreen")

    async def through_screens(n: int) -> None:
        if n % 20 == 0 and laptops:
            out = {i.device.tag for i in services.devices.offsite_now()}
            free = [t for t in laptops if t not in out]
            # A laptop user with nothing off site who needs no line manager's name for it
            # (the form is then the reason and Enter).
            tag = free[n % len(free)] if free else ""
            able = [
                t
                for t in (takers if tag and n % 40 == 0 else [])
                if not services.people.status(t).offsite
                and not services.devices.check_sign_out(t, [tag]).needs_line_manager
            ]
            if able:
                post_scan(app, f"SRK1:D:{tag}")
                home_screen = app.home
                try:  # the label is held on the home screen, waiting for a badge
                    await wait_until(lambda: home_screen.pending_tags, timeout=5.0)
                except TimeoutError:
                    await home()
                    return
                post_scan(app, f"SRK1:S:{able[n // 40 % len(able)]}")
                if await on("SignOutScreen"):
                    key("1", "1")  # the reason; the expected return is filled in
                    key("enter", "\r")
                    if await on("ConfirmScreen"):
                        mix["sign-out (screens)"] += 1
                await home()
                return
            if out:
                post_scan(app, f"SRK1:D:{sorted(out)[0]}")
                if await on("ReturnScreen"):
                    key("enter", "\r")
                    if await on("ConfirmScreen"):
                        mix["return (screens)"] += 1
                await home()
                return
        post_scan(app, f"SRK1:S:{staff[n % len(staff)]}")
        if await on("PersonScreen"):
            pressed = time.perf_counter()
            key("enter", "\r")  # deposit or collect, whichever is due
            if await on("ConfirmScreen"):
                screen_ms.append((time.perf_counter() - pressed) * 1000)
                mix["phone (screens)"] += 1
        await home()

    async def through_service(n: int) -> bool:
        code = staff[(n * 7) % len(staff)]
        answered: list[Any] = []
        caller = app.home  # the screen the answer goes to (the gateway's caller)
        assert caller is not None
        while not app.gateway.call(caller, lambda s: s.phones.in_or_out(code), answered.append):
            await asyncio.sleep(0.001)
        await wait_until(lambda: answered or not app.busy)
        if answered and answered[0] is not None:
            mix["phone (gateway)"] += 1
            return True
        return False

    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for day_no, day_start in enumerate(
                school_days(start, days, services.settings.zone), start=1
            ):
                clock.go_to(day_start)
                step = DAY_SPAN / per_day
                target = newest() + per_day
                n = 0
                # Recorded events are counted from the database after each screen event (a
                # flow may record nothing, or two); a gateway call records one or none.
                left = per_day
                while left > 0:
                    n += 1
                    clock.advance(step)
                    if n % screen_every == 0:
                        screen_events += 1  # counted over the term: every 20th a laptop
                        await through_screens(screen_events)
                        left = target - newest()
                    elif await through_service(n):
                        left -= 1
                    if n > 3 * per_day:
                        raise RuntimeError(f"day {day_no}: {n} tries for {per_day} events")
                await home()
                if day_no == 1 or day_no % SAMPLE_EVERY == 0 or day_no == days:
                    await asyncio.sleep(0.05)
                    history.append(count_objects())
                    outside.append(count_outside_bounded_caches())
                    samples.append(
                        {
                            "day": day_no,
                            "rss_kib": _status_kib("VmRSS"),
                            "hwm_kib": _status_kib("VmHWM"),
                            "objects": sum(history[-1].values()),
                            "blocks": sys.getallocatedblocks(),
                            "frozen": gc.get_freeze_count(),
                            # SQLAlchemy's compiled-statement cache (an LRU of 500 by default)
                            "sql_cache": len(getattr(services.ctx.engine, "_compiled_cache", ())),
                            # the C allocator: its heaps, in use and free-but-kept (MiB)
                            **c_heap(),
                            "threads": _status_kib("Threads"),
                            "lru_entries": sum(c[1] for c in lru_caches(0)),
                            # the style-memo tuning piece's places (bounded: 4,096)
                            "style_places": len(
                                getattr(
                                    app.stylesheet.__dict__.get("_kiosk_style_memo"),
                                    "places",
                                    (),
                                )
                            ),
                            "seconds": round(time.perf_counter() - began, 1),
                        }
                    )
                    if day_no == 1:
                        hwm_day1 = _status_kib("VmHWM")
                    if os.environ.get("KIOSK_BENCH_SOAK_TRACE"):
                        print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
            if app.unexpected_errors:
                raise RuntimeError(f"the kiosk hit errors: {app.unexpected_errors!r}")
    finally:
        services.close()
    hwm_end = _status_kib("VmHWM")  # before the search below, which makes lists of its own
    caches = lru_caches()
    cached_mib = what_caches_hold()
    # What grows once the bounded caches are emptied (a copy of the process at each sample);
    # every object as well, for the note: a bounded cache that still fills is not a leak.
    counted = [c for c in outside if c is not None]  # a copy that did not answer: left out
    growing = growing_types(counted if len(counted) >= 3 else history)
    with_caches = growing_types(history)
    holders = {g["type"]: held_by(g["type"]) for g in growing[:5]}
    changes = Counter({k: history[-1].get(k, 0) - history[0].get(k, 0) for k in history[-1]})
    largest = sorted(changes.items(), key=lambda kv: -abs(kv[1]))[:10]
    return {
        "days": days,
        "events_per_day": per_day,
        "sample_every": SAMPLE_EVERY,
        "screen_every": screen_every,
        "recorded": newest() - first,
        "mix": ", ".join(f"{v:,} {k}" for k, v in mix.items()),
        "seconds": time.perf_counter() - began,
        "hwm_day1_kib": hwm_day1,
        "hwm_end_kib": hwm_end,
        "samples": samples,
        "growing": growing,
        "growing_with_caches": with_caches,
        "outside_counted": len(counted) >= 3,
        "outside_missing": len(outside) - len(counted),
        "holders": holders,
        "largest_changes": largest,
        "lru_caches": caches[:8],
        "lru_mib": cached_mib,
        "screen_ms": screen_ms or [0.0],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print("usage: python -m bench.soak URL START_ISO DAYS EVENTS SCREEN_EVERY", file=sys.stderr)
        return 2
    url, start, days, per_day, every = argv
    when = datetime.fromisoformat(start)
    result = asyncio.run(_term(url, when, int(days), int(per_day), int(every)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
