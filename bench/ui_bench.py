"""The staff kiosk's figures (issue 4), on a copy of the cached synthetic SQLite school.

* **Cold start** (:func:`cold_start`): ``kiosk`` (the command: configuration, log file,
  ``KioskApp``, database opened in a worker after the first frame) against
  ``bench/bare_app.py`` (a bare Textual app with the same widgets), each started in a fresh
  process on a pseudo-terminal of :data:`SIZE`, interleaved, :data:`START_RUNS` times after
  one unmeasured start of each. The time is from just before the process is started to the
  moment the focused scan field has been drawn, as the started process itself notes it (see
  ``bench/bare_app.py``). Target: the kiosk's median <= 1.3 x the bare app's median.
  The peak RSS (VmHWM) of each is reported too.
* **Scan to confirmation drawn** (:func:`latency`): the real ``KioskApp`` on the 1M-event
  school, headless (``App.run_test``) at :data:`SIZE`, with a bench subclass that notes the
  time of each key event when the app's own ``on_event`` receives it, and each frame handed
  to the terminal driver (``App._display``; the headless driver skips turning a frame into
  terminal bytes, so the subclass does that too, for its cost to count): a screen is drawn
  at its first frame. Keys go in with ``App.post_message`` as a terminal would deliver them
  (no ``Pilot.pause``, which forces a refresh, while a figure is being taken). :data:`SCANS`
  rounds: badge scan -> the person's screen, Enter -> the deposit confirmation; then "Phone
  in / out" (F2) and the badge again -> the collect confirmation. Targets: p95 <= 20 ms.
* **Keystrokes per event** (:func:`keystrokes`): the real app driven with Pilot from the home
  screen to the confirmation, along the shortest path, counting presses (a scan is one).
  Target: a deposit is one scan plus at most one key.
* **Memory over a day** (:func:`day_memory`): a fresh process (``python -m bench.ui_bench
  day``) runs the app headless under ``App.run_test`` and drives :data:`DAY_EVENTS` recorded
  events through it, keys posted as a scanner and a person type them (phones in and out,
  laptops signed out and returned); its peak RSS against the bare app's. Target: <= 2.5 x.

``python -m bench ui`` runs this suite; ``--only`` words: ``cold start``, ``scan``,
``keystrokes``, ``memory``.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import BenchContext, Row, percentile

ROOT = Path(__file__).resolve().parents[1]
SIZE = (160, 50)  # columns, rows: a full-HD screen in a large terminal font
START_RUNS = 7
SCANS = 50
WARMUP_SCANS = 3
DAY_EVENTS = 500
TARGET_START_RATIO = 1.3
TARGET_LATENCY_MS = 20.0
TARGET_DAY_RATIO = 2.5
TARGET_DEPOSIT_PRESSES = 2  # one scan plus at most one key
THINK_SECONDS = 0.15  # between a screen being drawn and the person's next key
SCHOOL_NAME = "Hillside Community School"
OFFICE_PHONE = "0121 496 0000"


def mib(kib: float) -> float:
    return round(kib / 1024, 1)


def run(ctx: BenchContext) -> list[Row]:
    if "sqlite" not in ctx.engines:
        ctx.log("ui: skipped (the kiosk's figures are taken on SQLite; --engines has no sqlite)")
        return []
    rows: list[Row] = []
    url, info = school_copy(ctx, "ui-school.sqlite3")
    bare_hwm: list[float] = []
    if ctx.wants("cold start") or ctx.wants("peak RSS at start"):
        start_rows, bare_hwm = cold_start(ctx, url)
        rows += start_rows
    if ctx.wants("scan"):
        rows += latency(ctx, url, info.now_dt)
    if ctx.wants("keystrokes"):
        rows += keystrokes(ctx, url, info.now_dt)
    if ctx.wants("memory"):
        if not bare_hwm:
            bare_hwm = [r["end_hwm_kib"] for r in (start_once("bare", {}) for _ in range(3))]
        rows += day_memory(ctx, url, info.now_dt, statistics.median(bare_hwm))
    return rows


def school_copy(ctx: BenchContext, name: str) -> tuple[str, Any]:
    """A copy of the cached synthetic school (built if missing) in the run's work folder."""
    from bench.synth import cached_sqlite, copy_database

    path, info, _built = cached_sqlite(ctx.events, ctx.cache_dir, log=ctx.log)
    dest = ctx.work_dir / name
    began = time.perf_counter()
    copy_database(path, dest)
    ctx.log(f"copied the cached school to {dest.name} in {time.perf_counter() - began:.1f} s")
    return f"sqlite:///{dest}", info


class WallClock:
    """The services' clock: where the synthetic history ends, then walking in real time."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


def open_services(
    url: str,
    start: datetime,
    kiosk_name: str = "bench-kiosk",
    clock: Callable[[], datetime] | None = None,
) -> Any:
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine
    from kiosk.services.app import Services

    settings = Settings(
        kiosk_name=kiosk_name,
        database_url=url,
        school_name=SCHOOL_NAME,
        office_phone=OFFICE_PHONE,
    )
    return Services(make_engine(url), settings, clock or WallClock(start))


# --- cold start ------------------------------------------------------------------------------


def _school_key_file() -> Path:
    from bench.synth import bench_key
    from kiosk.services.secret import key_path

    bench_key()  # made where missing
    return key_path()


def _probe_env(work: Path) -> dict[str, str]:
    for name in ("log", "config", "data"):
        (work / name).mkdir(parents=True, exist_ok=True)
    return {
        "KIOSK_LOG_DIR": str(work / "log"),
        "KIOSK_CONFIG_DIR": str(work / "config"),
        "KIOSK_CONFIG": str(work / "config" / "none.toml"),
        "KIOSK_DATA_DIR": str(work / "data"),
        # The synthetic school's events carry MACs made with this machine's school key: the
        # probe is a kiosk of that school, so it holds the same key (a kiosk without it is
        # refused, as it should be).
        "KIOSK_SCHOOL_KEY_FILE": str(_school_key_file()),
        "KIOSK_SCHOOL_NAME": SCHOOL_NAME,
        "KIOSK_OFFICE_PHONE": OFFICE_PHONE,
        "KIOSK_NAME": "bench-kiosk",
    }


def start_once(which: str, env: dict[str, str], size: tuple[int, int] = SIZE) -> dict[str, Any]:
    """Start ``python -m bench.bare_app WHICH`` on a fresh pseudo-terminal; its probe's
    result, times in ms from just before the process was started."""
    from bench.bare_app import RESULT_ENV

    cols, rows = size
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    result_fd, result_path = _temp_path()
    os.close(result_fd)
    os.unlink(result_path)
    full_env = {
        **os.environ,
        **env,
        RESULT_ENV: result_path,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    full_env.pop("TEXTUAL", None)  # no devtools
    output = bytearray()

    def drain() -> None:  # what the app draws must be read, or its writes would block
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_app", which],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=full_env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.close(master)
    reader.join(timeout=5)
    try:
        with open(result_path, encoding="utf-8") as handle:
            raw: dict[str, Any] = json.load(handle)
        os.unlink(result_path)
    except (OSError, ValueError):
        tail = bytes(output[-2000:]).decode("utf-8", "replace")
        raise RuntimeError(
            f"{which} start gave no result (exit {proc.returncode}): {tail!r}"
        ) from None
    out = {k: (v - started) * 1000 if k.endswith("_at") else v for k, v in raw.items()}
    out["frame_bytes"] = len(output)
    return out


def _temp_path() -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="kiosk-probe-", suffix=".json")


def byte_compile_kiosk() -> int:
    """Byte-compile the kiosk package, as ``pip install`` does for an installed wheel (the bare
    app's Textual is compiled that way too). From a source checkout with
    PYTHONDONTWRITEBYTECODE=1 (as on this machine) nothing writes the ``.pyc`` files, and
    every start would compile the kiosk's source again (about 140 ms here): a cost of the
    checkout, not of the kiosk. Returns how many modules are compiled now."""
    import compileall

    import kiosk

    package = Path(kiosk.__file__).resolve().parent
    compileall.compile_dir(package, quiet=1)
    return sum(1 for _ in package.rglob("__pycache__/*.pyc"))


def cold_start(ctx: BenchContext, url: str) -> tuple[list[Row], list[float]]:
    env = {**_probe_env(ctx.work_dir / "probe"), "KIOSK_DATABASE_URL": url}
    compiled = byte_compile_kiosk()
    ctx.log(f"cold start: 1 unmeasured + {START_RUNS} starts of each, interleaved, {SIZE}")
    start_once("bare", env)
    first_kiosk = start_once("kiosk", env)
    if first_kiosk.get("db_state") != "ready":
        raise RuntimeError(f"the kiosk did not open the database: {first_kiosk}")
    bare: list[dict[str, Any]] = []
    kiosk: list[dict[str, Any]] = []
    for _ in range(START_RUNS):
        bare.append(start_once("bare", env))
        kiosk.append(start_once("kiosk", env))
    bare_ms = [r["drawn_at"] for r in bare]
    kiosk_ms = [r["drawn_at"] for r in kiosk]
    db_ms = [r["db_at"] for r in kiosk]
    bare_med, kiosk_med = statistics.median(bare_ms), statistics.median(kiosk_ms)
    paired = statistics.median(k / b for k, b in zip(kiosk_ms, bare_ms, strict=True))
    bare_cpu = statistics.median(r["drawn_cpu_ms"] for r in bare)
    kiosk_cpu = statistics.median(r["drawn_cpu_ms"] for r in kiosk)
    widgets = f"{bare[0]['widgets']} widgets (kiosk home: {kiosk[0]['widgets']})"

    def spread(values: list[float]) -> str:
        return f"{min(values):.0f} to {max(values):.0f} ms"

    bare_hwm = [float(r["end_hwm_kib"]) for r in bare]
    kiosk_frame_hwm = [float(r["drawn_hwm_kib"]) for r in kiosk]
    kiosk_db_hwm = [float(r["end_hwm_kib"]) for r in kiosk]
    bare_mem = statistics.median(bare_hwm)
    rows = [
        Row(
            "cold start: bare Textual app, focused field drawn",
            "-",
            round(bare_med, 1),
            None,
            "ms",
            f"median of {START_RUNS} fresh processes ({spread(bare_ms)}); CPU {bare_cpu:.0f} ms; "
            f"{widgets}",
        ),
        Row(
            "cold start: kiosk, focused scan field drawn",
            "sqlite",
            round(kiosk_med, 1),
            round(TARGET_START_RATIO * bare_med, 1),
            "ms",
            f"median of {START_RUNS} ({spread(kiosk_ms)}) = {kiosk_med / bare_med:.2f} x the bare "
            f"app (median of paired runs {paired:.2f} x); CPU {kiosk_cpu:.0f} ms = "
            f"{kiosk_cpu / bare_cpu:.2f} x; target 1.3 x {bare_med:.0f} ms; the kiosk "
            f"byte-compiled as installed ({compiled} modules)",
        ),
        Row(
            "cold start: kiosk, database open (after the first frame)",
            "sqlite",
            round(statistics.median(db_ms), 1),
            None,
            "ms",
            f"median of {START_RUNS} ({spread(db_ms)}); in a worker, {ctx.events:,} events",
        ),
        Row(
            "peak RSS at start: bare Textual app",
            "-",
            mib(bare_mem),
            None,
            "MiB",
            f"median VmHWM of {START_RUNS}, focused field drawn",
        ),
        Row(
            "peak RSS at start: kiosk, first frame",
            "sqlite",
            mib(statistics.median(kiosk_frame_hwm)),
            None,
            "MiB",
            f"= {statistics.median(kiosk_frame_hwm) / bare_mem:.2f} x the bare app",
        ),
        Row(
            "peak RSS at start: kiosk, database open",
            "sqlite",
            mib(statistics.median(kiosk_db_hwm)),
            None,
            "MiB",
            f"= {statistics.median(kiosk_db_hwm) / bare_mem:.2f} x the bare app "
            "(ORM, schema version check, engine)",
        ),
    ]
    return [ctx.emit(r) for r in rows], bare_hwm


# --- the app, instrumented -------------------------------------------------------------------


def timed_app_class() -> type[Any]:
    """``KioskApp`` plus timestamps taken in its own handlers (imported late: heavy).

    * ``key_times``: each key event, when the app's ``on_event`` receives it (before the
      scanner wedge, the bindings or any widget see it);
    * ``frames``: each frame handed to the terminal driver, with its screen, after it has
      been turned into terminal bytes (``App._display``; the headless driver skips the
      encoding, so it is done here, for its cost to count). The first frame of a screen is
      the moment it is drawn.
    """
    from textual import events
    from textual.screen import Screen

    from kiosk.ui.app import KioskApp

    class TimedKioskApp(KioskApp):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.key_times: list[tuple[str, float]] = []
            self.frames: list[tuple[str, int, float]] = []  # screen class, id, when
            self.encode_ms: list[float] = []
            self.service_calls: list[tuple[float, float]] = []
            self._timed_gateway()

        def _timed_gateway(self) -> None:
            """Times each service call in its worker thread (the database's share)."""
            call = self.gateway.call

            def timed_call(caller: Any, work: Any, done: Any, failed: Any = None) -> bool:
                def timed_work(services: Any) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return work(services)
                    finally:
                        self.service_calls.append((t0, time.perf_counter()))

                return call(caller, timed_work, done, failed)

            self.gateway.call = timed_call  # type: ignore[method-assign]

        def service_ms(self, since: float, until: float) -> float:
            """Milliseconds spent in service calls that started in [since, until]."""
            return sum((b - a) * 1000 for a, b in self.service_calls if since <= a <= until)

        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key) and not event.is_forwarded:
                self.key_times.append((event.key, time.perf_counter()))
            await super().on_event(event)

        def _display(self, screen: Screen[Any], renderable: Any) -> None:
            super()._display(screen, renderable)
            if renderable is None:
                return
            if self.is_headless and hasattr(renderable, "render_segments"):
                t0 = time.perf_counter()
                renderable.render_segments(self.console)
                self.encode_ms.append((time.perf_counter() - t0) * 1000)
            self.frames.append((type(screen).__name__, id(screen), time.perf_counter()))
            del self.frames[:-200]

        def first_frame(self, name: str, since: float) -> tuple[int, float] | None:
            """The first frame of a ``name`` screen drawn after ``since``: (screen id, when)."""
            for screen_name, ident, at in self.frames:
                if screen_name == name and at >= since:
                    return ident, at
            return None

        def burst_end(self, ident: int, first: float, gap: float = 0.05) -> float:
            """The last frame of the burst that starts with ``first``: the screen's frames
            that follow one another less than ``gap`` apart (later ones are redraws, e.g. the
            home screen's clock ticking behind it)."""
            end = first
            for at in sorted(at for _, i, at in self.frames if i == ident and at > first):
                if at - end > gap:
                    break
                end = at
            return end

        def key_since(self, key: str, since: float) -> float | None:
            """When the app received the first ``key`` event at or after ``since``."""
            for name, at in self.key_times:
                if name == key and at >= since:
                    return at
            return None

        def last_key(self, key: str) -> float:
            for name, at in reversed(self.key_times):
                if name == key:
                    return at
            raise LookupError(key)

    return TimedKioskApp


def key_event(key: str, character: str | None) -> Any:
    from textual import events

    return events.Key(key, character)


def post_scan(app: Any, payload: str) -> None:
    """A USB scanner in keyboard mode: the payload's keys and Enter, straight into the app's
    queue (as the terminal driver delivers them)."""
    from textual.keys import _character_to_key

    for char in payload:
        app.post_message(key_event(_character_to_key(char), char))
    app.post_message(key_event("enter", "\r"))


async def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll without forcing a refresh (``Pilot.pause`` would force one)."""
    deadline = time.perf_counter() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.perf_counter() > deadline:
            raise TimeoutError("the kiosk did not get there in time")
        await asyncio.sleep(0.002)


async def idle(app: Any) -> None:
    """Every service call finished and the screen drawn (between measurements only)."""
    await wait_until(
        lambda: not app.busy and not app.queued_scans and all(w.is_finished for w in app.workers)
    )
    await asyncio.sleep(THINK_SECONDS)


# --- scan to confirmation --------------------------------------------------------------------


@dataclass
class LatencyResult:
    """Milliseconds per trial: to the first frame of the new screen, and to the last frame of
    the burst of redraws that follows it (frames less than 50 ms apart: the screen settled)."""

    drawn: dict[str, list[float]] = field(default_factory=dict)
    settled: dict[str, list[float]] = field(default_factory=dict)
    service: dict[str, list[float]] = field(default_factory=dict)
    encode_ms: list[float] = field(default_factory=list)


def deposit_candidates(services: Any, count: int) -> list[str]:
    """Current staff with no phone in a store and no exemption: Enter deposits."""
    holding = {h.staff.id for h in services.phones.phones_now()}
    codes = []
    for staff in services.people.list_staff():
        if staff.id in holding:
            continue
        status = services.people.status(staff.code)
        if status.phone is None and status.exemption is None:
            codes.append(staff.code)
    if not codes:
        raise RuntimeError("nobody without a phone in a store: no deposit to time")
    return [codes[i % len(codes)] for i in range(count)]


async def _latency(url: str, start: datetime, scans: int) -> LatencyResult:
    services = open_services(url, start)
    app = timed_app_class()(services=services)
    result = LatencyResult()
    people = deposit_candidates(services, scans + WARMUP_SCANS)

    async def timed(name: str, screen: str, measured: bool, act: Callable[[], None]) -> None:
        """``act`` ends with Enter; from that key event to the first frame of ``screen``."""
        before = time.perf_counter()
        act()
        ident, drawn = await wait_until(lambda: app.first_frame(screen, before))
        pressed = app.last_key("enter")
        await idle(app)
        if measured:
            result.drawn.setdefault(name, []).append((drawn - pressed) * 1000)
            settled = (app.burst_end(ident, drawn) - pressed) * 1000
            result.settled.setdefault(name, []).append(settled)
            result.service.setdefault(name, []).append(app.service_ms(before, drawn))

    async def home() -> None:
        app.post_message(key_event("escape", None))  # any key on the confirmation: home
        await wait_until(lambda: type(app.screen).__name__ == "HomeScreen")
        await idle(app)

    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await idle(app)
            for n, code in enumerate(people):
                measured = n >= WARMUP_SCANS  # caches, first imports of each screen
                badge = f"SRK1:S:{code}"
                # The badge on the home screen -> the person's screen; Enter -> deposited.
                await timed("person", "PersonScreen", measured, lambda b=badge: post_scan(app, b))
                await timed(
                    "deposit",
                    "ConfirmScreen",
                    measured,
                    lambda: app.post_message(key_event("enter", "\r")),
                )
                await home()
                # Phone in / out (F2), then the badge -> straight to "collected".
                app.post_message(key_event("f2", None))
                await idle(app)
                await timed("collect", "ConfirmScreen", measured, lambda b=badge: post_scan(app, b))
                await home()
            if app.unexpected_errors:
                raise RuntimeError(f"the kiosk hit errors: {app.unexpected_errors!r}")
            result.encode_ms = list(app.encode_ms)
    finally:
        services.close()
    return result


def latency(ctx: BenchContext, url: str, start: datetime) -> list[Row]:
    ctx.log(f"scan to confirmation: {SCANS} deposits and {SCANS} collects through the app")
    res = asyncio.run(_latency(url, start, SCANS))
    size = f"{SIZE[0]}x{SIZE[1]}"

    def row(name: str, key: str, note: str) -> Row:
        values, settled, service = res.drawn[key], res.settled[key], res.service[key]
        return ctx.emit(
            Row(
                name,
                "sqlite",
                percentile(values, 95),
                TARGET_LATENCY_MS,
                "ms",
                f"p95 of {len(values)}; p50 {percentile(values, 50):.1f} ms; {note}; of which "
                f"service calls p50 {percentile(service, 50):.1f} ms, p95 "
                f"{percentile(service, 95):.1f} ms; settled (last frame of the first burst) "
                f"p95 {percentile(settled, 95):.0f} ms",
            )
        )

    encode = res.encode_ms
    ctx.notes.append(
        f"ui: frames encoded as the terminal driver would ({size}): {len(encode)} frames, "
        f"p50 {percentile(encode, 50):.1f} ms, p95 {percentile(encode, 95):.1f} ms, "
        f"max {max(encode):.1f} ms (included in the scan figures)"
    )
    return [
        row(
            "scan: deposit, Enter to confirmation drawn",
            "deposit",
            "on the person's screen after the badge: phones.deposit (durable commit), "
            "ConfirmScreen's first frame",
        ),
        row(
            "scan: collect, F2 then badge, scan to confirmation drawn",
            "collect",
            "Enter of the scan: phones.in_or_out (durable commit), ConfirmScreen's first frame",
        ),
        row(
            "scan: badge to the person's screen drawn",
            "person",
            "Enter of the scan: resolve_scan (status), PersonScreen's first frame",
        ),
    ]


# --- keystrokes ------------------------------------------------------------------------------


class PressCounter:
    """Pilot, counting what a person presses: each key is one, each scan is one."""

    def __init__(self, pilot: Any) -> None:
        self.pilot = pilot
        self.presses: list[str] = []

    async def settle(self) -> None:
        app = self.pilot.app
        for _ in range(200):
            await app.workers.wait_for_complete()
            await self.pilot.pause()
            if not app.busy and not app.queued_scans:
                await self.pilot.pause()
                if not app.busy and all(w.is_finished for w in app.workers):
                    return
        raise RuntimeError("the kiosk did not settle")

    async def scan(self, payload: str) -> None:
        self.presses.append(f"scan {payload}")
        await self.pilot.press(*payload, "enter")
        await self.settle()

    async def key(self, key: str) -> None:
        self.presses.append(key)
        await self.pilot.press(key)
        await self.settle()

    def describe(self) -> str:
        scans = sum(1 for p in self.presses if p.startswith("scan "))
        keys = [p for p in self.presses if not p.startswith("scan ")]
        what = [f"{scans} scan{'s' if scans != 1 else ''}"]
        if keys:
            what.append(f"{len(keys)} key{'s' if len(keys) != 1 else ''} ({', '.join(keys)})")
        return " + ".join(what)


def make_ready(services: Any, code: str) -> None:
    """What a sign-out asks first, done beforehand through the services: every outstanding
    policy acknowledged, display-screen training declared."""
    for policy in services.policies.outstanding(code):
        services.policies.acknowledge(code, policy.id, policy.sha256)
    if services.people.status(code).vdu_trained_on is None:
        services.policies.declare_vdu_training(code, services.ctx.clock().date())


def ready_laptop_user(services: Any, tag: str) -> str:
    """A current laptop user who can take ``tag`` home without a line manager's name, made
    ready (policies acknowledged, training declared) so that the form is all that is asked."""
    for staff in services.people.list_staff():
        if not staff.has_role("laptop_user") or services.people.status(staff.code).offsite:
            continue
        if not services.devices.check_sign_out(staff.code, [tag]).needs_line_manager:
            make_ready(services, staff.code)
            return str(staff.code)
    raise RuntimeError("no laptop user can sign a laptop out without a line manager's name")


def free_laptop(services: Any) -> str:
    out = {item.device.tag for item in services.devices.offsite_now()}
    for device in services.people.list_devices():
        if device.kind == "laptop" and device.tag not in out:
            return str(device.tag)
    raise RuntimeError("every laptop is off site")


async def _keystrokes(url: str, start: datetime) -> dict[str, tuple[int, str]]:
    services = open_services(url, start)
    app = timed_app_class()(services=services)
    counts: dict[str, tuple[int, str]] = {}
    person = deposit_candidates(services, 1)[0]
    tag = free_laptop(services)
    taker = ready_laptop_user(services, tag)

    async def flow(name: str, steps: Callable[[PressCounter], Any], check: Callable[[], bool]):
        counter = PressCounter(pilot)
        await steps(counter)
        if type(app.screen).__name__ != "ConfirmScreen" or not check():
            raise RuntimeError(f"{name}: no confirmation after {counter.presses}")
        counts[name] = (len(counter.presses), counter.describe())
        await pilot.press("escape")
        await counter.settle()

    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()

            async def deposit(c: PressCounter) -> None:
                await c.scan(f"SRK1:S:{person}")
                await c.key("enter")

            await flow("deposit", deposit, lambda: services.people.status(person).phone is not None)

            async def collect(c: PressCounter) -> None:
                await c.scan(f"SRK1:S:{person}")
                await c.key("enter")

            await flow("collect", collect, lambda: services.people.status(person).phone is None)

            async def sign_out(c: PressCounter) -> None:
                await c.scan(f"SRK1:D:{tag}")  # the label first, on the home screen
                await c.scan(f"SRK1:S:{taker}")  # then the badge: the form, with the laptop
                await c.key("1")  # the reason (the expected return is filled in)
                await c.key("enter")

            def signed_out() -> bool:
                return any(i.device.tag == tag for i in services.devices.offsite_now())

            await flow("sign-out", sign_out, signed_out)

            async def give_back(c: PressCounter) -> None:
                await c.scan(f"SRK1:D:{tag}")  # the return is offered straight away
                await c.key("enter")  # no condition note

            await flow("return", give_back, lambda: not signed_out())
            if app.unexpected_errors:
                raise RuntimeError(f"the kiosk hit errors: {app.unexpected_errors!r}")
    finally:
        services.close()
    return counts


def keystrokes(ctx: BenchContext, url: str, start: datetime) -> list[Row]:
    ctx.log("keystrokes per event: deposit, collect, sign-out, return (Pilot, shortest path)")
    counts = asyncio.run(_keystrokes(url, start))
    rows = []
    for name, (presses, described) in counts.items():
        target = TARGET_DEPOSIT_PRESSES if name == "deposit" else None
        rows.append(
            ctx.emit(
                Row(
                    f"keystrokes: {name}",
                    "sqlite",
                    presses,
                    target,
                    "presses",
                    f"home screen to confirmation: {described}",
                )
            )
        )
    return rows


# --- memory over a day -----------------------------------------------------------------------


def day_memory(ctx: BenchContext, url: str, start: datetime, bare_kib: float) -> list[Row]:
    ctx.log(f"memory: a day of {DAY_EVENTS} events through the app, in a fresh process")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ui_bench", "day", url, start.isoformat(), str(DAY_EVENTS)],
        cwd=ROOT,
        env={**os.environ, **_probe_env(ctx.work_dir / "day")},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the simulated day failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    hwm = float(result["hwm_kib"])
    note = (
        f"{result['recorded']} events recorded ({result['mix']}) in {result['seconds']:.0f} s; "
        f"= {hwm / bare_kib:.2f} x the bare app's {mib(bare_kib)} MiB; target 2.5 x"
    )
    return [
        ctx.emit(
            Row(
                f"memory: peak RSS over a day of {DAY_EVENTS} events",
                "sqlite",
                mib(hwm),
                mib(TARGET_DAY_RATIO * bare_kib),
                "MiB",
                note,
            )
        )
    ]


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class DayDriver:
    """Keys straight into the app's queue, as the terminal driver delivers them (Pilot.press
    waits for the app to be idle after every key: a day would take half an hour)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def _quiet(self) -> None:
        app = self.app
        await wait_until(
            lambda: (
                not app.busy and not app.queued_scans and all(w.is_finished for w in app.workers)
            )
        )
        await asyncio.sleep(0.02)  # a frame or so: what the call finished gets drawn

    async def _sent(self, before: float, key: str) -> None:
        await wait_until(lambda: any(k == key and at >= before for k, at in self.app.key_times))
        await self._quiet()

    async def scan(self, payload: str) -> None:
        before = time.perf_counter()
        post_scan(self.app, payload)
        await self._sent(before, "enter")

    async def key(self, key: str, character: str | None = None) -> None:
        before = time.perf_counter()
        self.app.post_message(key_event(key, character))
        await self._sent(before, key)

    async def type(self, text: str) -> None:
        from textual.keys import _character_to_key

        for char in text:
            await self.key(_character_to_key(char), char)

    async def on(self, screen: str) -> bool:
        try:
            await wait_until(lambda: type(self.app.screen).__name__ == screen, timeout=5.0)
        except TimeoutError:
            return False
        await self._quiet()
        return True

    async def home(self) -> None:
        if type(self.app.screen).__name__ != "HomeScreen":
            await self.key("escape")
        if not await self.on("HomeScreen"):
            self.app.go_home()
            await self.on("HomeScreen")


async def _day(url: str, start: datetime, events: int) -> dict[str, Any]:
    """Runs in its own process: ``events`` events through the app, keys as a scanner and a
    person type them: mostly phones in and out (badge, Enter); every 20th a laptop signed
    out (label, badge, reason, Enter), every 20th a laptop brought back (label, Enter)."""
    from sqlalchemy import func, select

    from bench.bare_app import peak_rss_kib
    from kiosk.db.models import Event

    services = open_services(url, start)
    app = timed_app_class()(services=services)  # the defaults: confirmation for 4 s

    def event_count() -> int:
        """The newest event's id (the app is the only writer: ids are consecutive)."""
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
    first = event_count()
    mix = {"phone": 0, "sign-out": 0, "return": 0}
    began = time.perf_counter()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            drive = DayDriver(app)
            n = 0
            while event_count() - first < events:
                n += 1
                if n % 20 == 0:
                    out = {i.device.tag for i in services.devices.offsite_now()}
                    free = [t for t in laptops if t not in out]
                    if free:
                        await drive.scan(f"SRK1:D:{free[n % len(free)]}")
                        await drive.scan(f"SRK1:S:{takers[n // 20 % len(takers)]}")
                        if await drive.on("SignOutScreen"):
                            await drive.key("1", "1")
                            if app.screen.query_one("#manager").display:
                                app.screen.query_one("#manager").focus()
                                await drive.type("Carol Head")
                            await drive.key("enter", "\r")
                            if await drive.on("ConfirmScreen"):
                                mix["sign-out"] += 1
                elif n % 20 == 10:
                    out_now = services.devices.offsite_now()
                    if out_now:
                        await drive.scan(f"SRK1:D:{out_now[0].device.tag}")
                        if await drive.on("ReturnScreen"):
                            await drive.key("enter", "\r")
                            if await drive.on("ConfirmScreen"):
                                mix["return"] += 1
                else:
                    await drive.scan(f"SRK1:S:{staff[n % len(staff)]}")
                    if await drive.on("PersonScreen"):
                        await drive.key("enter", "\r")  # deposit or collect, whichever is due
                        if await drive.on("ConfirmScreen"):
                            mix["phone"] += 1
                await drive.home()
                if os.environ.get("KIOSK_BENCH_DAY_TRACE") and n % 25 == 0:
                    print(
                        f"{n} {event_count() - first} {_rss_kib()} {peak_rss_kib()}",
                        file=sys.stderr,
                    )
            if app.unexpected_errors:
                raise RuntimeError(f"the kiosk hit errors: {app.unexpected_errors!r}")
    finally:
        services.close()
    return {
        "hwm_kib": peak_rss_kib(),
        "recorded": event_count() - first,
        "mix": ", ".join(f"{v} {k}" for k, v in mix.items()),
        "seconds": time.perf_counter() - began,
    }


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "day":
        result = asyncio.run(_day(argv[1], datetime.fromisoformat(argv[2]), int(argv[3])))
        print(json.dumps(result))
        return 0
    print("usage: python -m bench.ui_bench day URL START_ISO EVENTS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
