"""A throwaway PostgreSQL cluster for the test run (initdb in a temp dir, started by pg_ctl).

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres``
user through ``runuser``. Set ``KIOSK_TEST_PG=host:port:user`` to use a server you run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str | None = None
    # A cluster of this test run's own (tests/pg.py's Cluster): removed whole at the end.
    throwaway: bool = False

    def url(self, dbname: str) -> str:
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{dbname}"


class PgUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PgUnavailable(
        "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)."
    )


# A test run's cluster holds a database per PostgreSQL test (about 90 a worker, 8 MB each, and
# the WAL that copied them): about 1 GB a worker. In memory (/dev/shm) a database is made from
# the template in 0.02 s, not the 0.17 s it took on this machine's disk (ext4, mounted with
# `discard`): 90 of them took 1.7 s, not 15 s.
MEMORY_FOLDER = Path("/dev/shm")
MEMORY_NEEDED = 6 * 2**30


def _memory_folder() -> str | None:
    """Where a throwaway cluster goes: /dev/shm when there is room (else the temp folder)."""
    try:
        stats = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return None
    free = stats.f_bavail * stats.f_frsize
    if free < MEMORY_NEEDED or not os.access(MEMORY_FOLDER, os.W_OK):
        return None
    return str(MEMORY_FOLDER)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(
        self, *, durable: bool = False, max_connections: int = 100, **settings: int
    ) -> None:
        """``durable=False`` (tests) turns fsync and friends off for speed; the benchmarks
        measure durable commits with PostgreSQL's defaults (``durable=True``). ``settings``:
        more server settings (``max_prepared_transactions=2``), for a test of its own."""
        self.durable = durable
        self.max_connections = max_connections
        self.settings = settings
        self.bin = _bin_dir()
        # In memory for tests; on disk where commits are measured (a durable commit in memory
        # measures nothing).
        folder = None if durable else _memory_folder()
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=folder))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PgUnavailable(f"{args[0]} failed: {proc.stdout}\n{proc.stderr}")

    def start(self) -> PgServer:
        os.chmod(self.root, 0o755)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        initdb = ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        initdb += ["-E", "UTF8", "--locale=C"]
        if not self.durable:
            initdb.append("--no-sync")
        self._run(*initdb)
        return self.start_server()

    def start_server(self) -> PgServer:
        """Start the server on the (already initialised) data folder. The port was free when
        it was picked; another process (a parallel test worker starting its own cluster) may
        have taken it since: then another port is tried."""
        for attempt in range(3):
            try:
                return self._start_on_port()
            except PgUnavailable:
                log = self.root / "log"
                taken = log.exists() and "could not bind" in log.read_text(errors="replace")
                if not taken or attempt == 2:
                    raise
                self.port = _free_port()
        raise AssertionError("unreachable")

    def _start_on_port(self) -> PgServer:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
        if self.durable:
            options += "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
        else:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += f"-c max_connections={self.max_connections}"
        for name, value in self.settings.items():
            options += f" -c {name}={int(value)}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "120",
            "start",
        )
        return PgServer("127.0.0.1", self.port, "postgres", throwaway=True)

    def stop(self) -> None:
        with contextlib.suppress(PgUnavailable):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def from_env() -> PgServer | None:
    spec = os.environ.get("KIOSK_TEST_PG")
    if not spec:
        return None
    host, port, user = spec.split(":", 2)
    return PgServer(host, int(port), user, os.environ.get("KIOSK_TEST_PG_PASSWORD"))
