"""The SQLite ``-wal`` file deleted while the kiosk runs (red team, round T_down).

Someone tidying "temporary" files (or a clean-up script, or a sync tool) removes
``kiosk.sqlite3-wal`` while the kiosk has it open. SQLite goes on writing to the deleted
file: every event since the last checkpoint (a whole day's register, the office's lists)
lives only in a file nobody can open again. The kiosk closing cleanly puts them back; a
power cut or a kill lost them all, confirmed deposits included. Now the kiosk notices at the
next write, moves everything into the database file (a checkpoint) before it confirms, and
reopens its connections (a new ``-wal`` file).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.reliability.helpers import count_events, raw_scalar

CHILD = textwrap.dedent(
    """
    import os, sys
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine
    from kiosk.services.app import Services
    from tests.school import make_school

    url = sys.argv[1]
    wal = url.removeprefix("sqlite:///") + "-wal"
    services = Services(make_engine(url), Settings(kiosk_name="k", database_url=url))
    make_school(services)
    services.phones.deposit("ASMITH")
    os.remove(wal)  # tidied away
    receipt = services.phones.deposit("BJONES")  # confirmed on the screen
    after = services.phones.collect("ASMITH")  # and the kiosk goes on recording
    print(receipt.event_id, after.event_id, os.path.exists(wal), flush=True)
    os._exit(0)  # the power goes: no clean close
    """
)


def test_events_confirmed_after_the_wal_file_was_deleted_survive_a_power_cut(
    sqlite_url: str,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, sqlite_url],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    deposit, collect, wal_again = proc.stdout.split()[-3:]
    found = raw_scalar(sqlite_url, f"SELECT count(*) FROM events WHERE id = {deposit}")
    assert found == 1, (
        f"deposit {deposit} was confirmed, then lost with the deleted -wal file "
        f"({count_events(sqlite_url)} events left)"
    )
    assert raw_scalar(sqlite_url, f"SELECT kind FROM events WHERE id = {collect}") == (
        "phone_collected"
    )
    assert wal_again == "True"  # a new -wal file, where every process looks for it
    kinds = raw_scalar(sqlite_url, "SELECT count(*) FROM events WHERE kind = 'phone_deposited'")
    assert kinds == 2
