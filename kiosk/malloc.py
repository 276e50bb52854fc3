"""The C-level memory of a kiosk process that runs for months: glibc's ``malloc`` heaps and
SQLite's own heap.

Python's small objects live in its own arenas; everything else (bigger objects and buffers,
SQLite's page cache and statements, the C parts of the libraries) comes from the C library's
``malloc``. glibc gives each thread that allocates a heap of its own ("arena", up to eight per
core), and memory freed in a heap is kept by it for that heap's next allocation, not given
back. The kiosk's service calls run on the gateway's threads, so each heap but the main one
held memory of its own: a simulated term (bench/soak.py) put 8 MiB there in the first week.
SQLite's page cache is 2 MiB per connection, and the pool opens a second connection whenever
two queries run at once: on the days a laptop was signed out, SQLite's heap went from 3 to 5
MiB, and the C heap kept what it had grown by.

:func:`settle` (called once as the kiosk app is made, before its first thread):

* asks glibc for one heap for the whole process (``mallopt(M_ARENA_MAX, 1)``; glibc on Linux
  only): every thread's freed memory is then reused by every other. The threads take turns on
  one lock, which costs nothing measurable here: the kiosk runs one service call at a time,
  and Python's GIL already serialises them;
* bounds SQLite's heap for the process at :data:`SQLITE_HEAP` bytes (``PRAGMA
  soft_heap_limit``, on the SQLite that Python's ``sqlite3`` uses): past it, a connection
  reuses its own cached pages instead of growing (a page not cached is read again from the
  file, which the operating system caches).

Neither is Textual nor speed, so they are not in the tuning door (``kiosk/ui/tuning``) and
``KIOSK_TUNING`` does not switch them: stock Textual runs on the same allocator.
``KIOSK_MALLOC=0`` leaves both as they are (to measure without); an explicit
``MALLOC_ARENA_MAX`` in the environment (glibc reads it itself) leaves glibc's heaps to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from typing import Any

MALLOC_ENV = "KIOSK_MALLOC"
ARENAS = 1  # heaps for the whole process (glibc's default: 8 per core)
# SQLite's heap for the whole process, bytes: one connection's page cache (2 MiB), its
# statements and schema (about 0.5 MiB), and some room. Measured: bench/README.md (soak).
SQLITE_HEAP = 3_500_000
M_ARENA_MAX = -8  # from glibc's malloc.h

_settled: bool | None = None  # what settle() did: None before it ran


_MALLINFO2 = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def _glibc() -> Any | None:
    """The C library, when it is glibc on Linux (it has ``mallopt`` and ``mallinfo2``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # glibc's own name first: ctypes.util.find_library runs `ldconfig -p` in a new
        # process (a fork of this one), which the kiosk's start would wait for.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        from ctypes.util import find_library

        try:
            libc = ctypes.CDLL(find_library("c") or "libc.so.6", use_errno=True)
        except OSError:
            return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    return libc


def wanted() -> bool:
    """Whether :func:`settle` should change anything (not with ``KIOSK_MALLOC=0``)."""
    return os.environ.get(MALLOC_ENV, "").strip().lower() not in ("0", "off", "none")


def settle() -> bool:
    """One ``malloc`` heap for the whole process, and SQLite's heap bounded (see the module's
    note). Call it before the process starts threads: a thread keeps the heap it already has.
    Returns whether the one heap is in force; nothing is done with ``KIOSK_MALLOC=0``, and
    glibc's heaps are left alone off glibc or with ``MALLOC_ARENA_MAX`` set."""
    global _settled
    if not wanted():
        return False
    bound_sqlite()
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    _settled = libc.mallopt(M_ARENA_MAX, ARENAS) == 1
    return _settled


def bound_sqlite(limit: int = SQLITE_HEAP) -> None:
    """SQLite's soft heap limit for the process (the library Python's ``sqlite3`` uses)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(f"PRAGMA soft_heap_limit={int(limit)}")


def sqlite_heap_limit() -> int:
    """SQLite's soft heap limit now (0: none)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        return int(conn.execute("PRAGMA soft_heap_limit").fetchone()[0])


def settled() -> bool:
    """Whether :func:`settle` put the setting in force in this process."""
    return bool(_settled)


def info() -> dict[str, int] | None:
    """glibc's ``mallinfo2()``, in bytes (``arena``: the heaps' size; ``uordblks``: in use;
    ``fordblks``: free but kept; ``hblkhd``: big blocks mapped on their own), or None off
    glibc. For measuring (bench/soak.py)."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _MallInfo2
    got = libc.mallinfo2()
    return {name: int(getattr(got, name)) for name in _MALLINFO2}


def heaps() -> int | None:
    """How many heaps (arenas) glibc has made in this process (``malloc_info``), or None off
    glibc. For measuring."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "malloc_info"):
        return None
    import tempfile

    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile("r", suffix=".xml") as out:
        stream = libc.fopen(out.name.encode(), b"w")
        if not stream:
            return None
        try:
            libc.malloc_info(0, stream)
        finally:
            libc.fclose(stream)
        return out.read().count("<heap nr=")
