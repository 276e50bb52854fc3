"""kiosk/malloc.py: a kiosk process keeps one C heap (glibc ``malloc``) for all its threads,
so that memory freed by one service call's thread is reused by the next, whichever it is; and
SQLite's heap is bounded for the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import malloc

pytestmark = pytest.mark.skipif(malloc.heaps() is None, reason="glibc only (Linux)")

# A fresh process (this one has threads with heaps of their own already): the kiosk app is
# made as `kiosk` makes it, then four threads allocate; how many heaps glibc has then.
PROBE = """
import threading
from kiosk import malloc
from kiosk.config import Settings
from kiosk.ui.app import KioskApp

KioskApp(settings=Settings())
def work():
    kept = [bytearray(1000 + i) for i in range(2000)]
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(malloc.heaps(), malloc.settled(), malloc.sqlite_heap_limit())
"""


def heaps_after_threads(tmp_path: Path, **env: str) -> tuple[int, str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "KIOSK_MALLOC")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, "KIOSK_LOG_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return int(out[0]), out[1], int(out[2])


def test_the_kiosk_app_keeps_one_heap_for_every_thread_and_bounds_sqlite(tmp_path: Path) -> None:
    assert heaps_after_threads(tmp_path) == (1, "True", malloc.SQLITE_HEAP)


def test_kiosk_malloc_0_leaves_glibc_and_sqlite_as_they_are(tmp_path: Path) -> None:
    heaps, settled, sqlite_limit = heaps_after_threads(tmp_path, KIOSK_MALLOC="0")
    assert heaps > 1 and settled == "False" and sqlite_limit == 0


def test_an_explicit_malloc_arena_max_wins(tmp_path: Path) -> None:
    heaps, settled, sqlite_limit = heaps_after_threads(tmp_path, MALLOC_ARENA_MAX="2")
    assert heaps == 2 and settled == "False" and sqlite_limit == malloc.SQLITE_HEAP
