"""A kiosk whose PostgreSQL server drops off the network: run in a network namespace of its
own (``unshare -n python -m tests.reliability.dead_link read|write``), where bringing the
loopback interface down loses every packet, as a cut cable or a switched-off server would,
and nothing else on the machine notices.

Prints one line, ``ANSWERED <seconds> <type>: <message>`` or ``STILL WAITING <seconds>``
(used by ``test_outages.py``).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import psycopg

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.pg import Cluster
from tests.school import add_seed_policy, make_school

WAIT_SECONDS = 60.0


def main(what: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    cluster = Cluster()
    server = cluster.start()
    try:
        admin = f"host={server.host} port={server.port} user={server.user} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kiosk")
        url = server.url("kiosk")
        engine = null_pool_engine(url)
        migrate.upgrade(engine)
        add_seed_policy(engine)
        engine.dispose()
        settings = Settings(kiosk_name="staffroom", database_url=url)
        services = Services(make_engine(url), settings, FakeClock())
        make_school(services)  # the kiosk's pool holds a connection that worked
        answer: list[BaseException | object] = []

        def scan() -> None:
            try:
                if what == "write":
                    answer.append(services.phones.deposit("ASMITH"))
                else:
                    answer.append(services.people.status("ASMITH"))
            except BaseException as exc:  # what the kiosk would show
                answer.append(exc)

        subprocess.run(["ip", "link", "set", "lo", "down"], check=True)  # the cable is cut
        started = time.monotonic()
        worker = threading.Thread(target=scan, daemon=True)
        worker.start()
        worker.join(WAIT_SECONDS)
        took = time.monotonic() - started
        if worker.is_alive():
            print(f"STILL WAITING {took:.1f}", flush=True)
        else:
            print(f"ANSWERED {took:.1f} {type(answer[0]).__name__}: {answer[0]}", flush=True)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "read")
