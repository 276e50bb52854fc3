"""Round 7 of the red team: the stored last check, this machine's witness file and the key file.

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kiosk
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

# --- 3. the school key file replaced by a device or a pipe ---------------------------------------


@pytest.mark.parametrize("what", ["/dev/zero", "fifo", "large"])
def test_a_key_file_that_is_a_device_or_a_pipe_is_refused_in_a_sentence(
    sqlite_url: str, what: str
) -> None:
    """``school.key`` replaced by a symlink to /dev/zero made `kiosk verify` read for ever,
    its memory growing; a FIFO made it wait for ever. The key file is read only when it is a
    regular file, and at most a few kilobytes of it (a 1 MB file is refused unread). (Run as
    its own process, its memory and time capped, so that the code before the fix fails
    instead of taking the machine.)"""
    services = Services(make_engine(sqlite_url), Settings(database_url=sqlite_url), FakeClock())
    try:
        make_school(services)
        services.admin.set_pin("402718", admin_code="CHEAD")
    finally:
        services.close()
    from kiosk.services.secret import key_path

    key = key_path()
    key.unlink()
    if what == "fifo":
        os.mkfifo(key)
    elif what == "large":
        key.write_bytes(b"0" * 2**20)
    else:
        key.symlink_to(what)
    env = dict(os.environ, KIOSK_DATABASE_URL=sqlite_url)
    env["PYTHONPATH"] = str(Path(kiosk.__file__).resolve().parents[1])

    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    try:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "verify"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=cap_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("kiosk verify was still reading the key file after 60 s")

    assert done.returncode == 1
    assert "something unexpected" not in done.stderr and "Traceback" not in done.stderr
    why = "it is larger than 4,096 bytes" if what == "large" else "it is not a regular file"
    assert f"kiosk: The school key file {key} cannot be read: {why}" in done.stderr
