"""The C allocator of a kiosk process that runs for months (glibc ``malloc``, on Linux).

Python's small objects live in its own arenas; everything else (bigger objects and buffers,
SQLite's page cache and statements, the C parts of the libraries) comes from the C library's
``malloc``. glibc gives each thread that allocates a heap of its own ("arena", up to eight per
core), and memory freed in a heap is kept by it for that heap's next allocation, not given
back. The kiosk's service calls run in Textual's thread workers (a pool of threads), so each
pool thread that ever ran one holds a heap with its own free-but-kept memory beside the main
one: a simulated term (bench/soak.py) put 8 MiB there in the first week.

:func:`settle` (called once as the kiosk app is made, before its first worker thread) asks
glibc for one heap for the whole process (``mallopt(M_ARENA_MAX, 1)``): every thread's
freed memory is then reused by every other. The threads take turns on one lock, which costs
nothing measurable here: the kiosk runs one service call at a time, and Python's GIL already
serialises them. It is not Textual and not speed, so it is not in the tuning door
(``kiosk/ui/tuning``) and ``KIOSK_TUNING`` does not switch it: stock Textual runs on the same
allocator. ``KIOSK_MALLOC=0`` leaves glibc's defaults (to measure without it); so does an
explicit ``MALLOC_ARENA_MAX`` in the environment (glibc reads it itself), and so does any other
C library (macOS, musl), where nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any

MALLOC_ENV = "KIOSK_MALLOC"
ARENAS = 1  # heaps for the whole process (glibc's default: 8 per core)
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
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return None
    return libc


def wanted() -> bool:
    """Whether :func:`settle` should change anything: not with ``KIOSK_MALLOC=0``, nor when
    the environment already sets glibc's own ``MALLOC_ARENA_MAX``."""
    if os.environ.get(MALLOC_ENV, "").strip().lower() in ("0", "off", "none"):
        return False
    return "MALLOC_ARENA_MAX" not in os.environ


def settle() -> bool:
    """One ``malloc`` heap for the whole process (see the module's note). Call it before the
    process starts threads: a thread keeps the heap it already has. Returns whether the
    setting is in force; does nothing (False) off glibc or when :func:`wanted` says no."""
    global _settled
    if not wanted():
        return False
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    _settled = libc.mallopt(M_ARENA_MAX, ARENAS) == 1
    return _settled


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
