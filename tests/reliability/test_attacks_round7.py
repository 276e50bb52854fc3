"""Round 7 of the red team: the stored last check, this machine's witness file and the key file.

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.services.integrity import witness_path
from tests.conftest import FakeClock
from tests.reliability.helpers import HAZARDS, meddle, plant_hazard, run_capped
from tests.reliability.test_attacks import _append
from tests.reliability.test_cli_reliability import run
from tests.reliability.test_tamper import record_shift
from tests.school import make_school


@pytest.fixture
def school(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The CLI's database (KIOSK_DATABASE_URL) with a school, a shift and an intact check."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    services.admin.set_pin("402718", admin_code="CHEAD")
    record_shift(services, rounds=1)
    yield services
    services.close()


def forge_check(db: Any, report: Any) -> int:
    """A ``register_verified`` event INSERTed without the key (its hash and MAC are wrong), as
    the kiosk's own login on PostgreSQL or a shell on the SQLite file can."""
    head = db.execute("SELECT id, hash, occurred_at FROM events ORDER BY id DESC LIMIT 1")[0]
    db.execute(
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, hash, "
        "mac) VALUES (%s, %s, 'register_verified', 'admin', 'staffroom', %s, %s, %s, %s)",
        (head[0] + 1, head[2], json.dumps({"report": report}), head[1], "a" * 64, "c" * 64),
    )
    return int(head[0]) + 1


# --- 1. a stored check whose report is not a JSON object -----------------------------------------


@pytest.mark.parametrize("report", ["x", [], 5])
def test_a_stored_check_whose_report_is_not_an_object_does_not_stop_verify(
    school: Services, db_url: str, capsys: pytest.CaptureFixture[str], report: Any
) -> None:
    """``VerifyReport.from_json`` called ``.items()`` on the stored report: one forged
    ``register_verified`` event holding a string, a list or a number (no key needed) made
    every later `kiosk verify` say "something unexpected went wrong (AttributeError ...)"
    for ever, and every admin console sign-in fail. It is read as no check, and named."""
    with meddle(db_url) as db:
        forged = forge_check(db, report)

    assert school.integrity.last_result() is None  # no exception: no check to show

    for _ in range(2):  # and again, once a real check is stored after it
        status, out, err = run(capsys, "verify")
        assert "something unexpected" not in err
        assert status == 1 and out.startswith("REGISTER TAMPERED WITH")
        assert f"Changed after recording (1): {forged}" in out
        assert f"valid MAC (written without the school's key: forged or rewritten): {forged}" in (
            out
        )


def test_verify_names_the_stored_check_that_is_not_an_object(
    school: Services, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first verify after the forged check says which event it is and why it was not taken
    as a check: written without the key, it is no check of the kiosk's (round 21: a check
    without the key naming a head never recorded made verify say events were removed)."""
    with meddle(db_url) as db:
        forged = forge_check(db, "x")

    status, out, err = run(capsys, "verify")

    assert status == 1 and "something unexpected" not in err
    assert f"Changed after recording (1): {forged}" in out
    assert "the last check stored in the register" not in out  # not taken as one


@pytest.mark.postgresql
def test_the_kiosk_login_cannot_stop_verify_with_a_check_that_is_not_an_object(
    set_up_school: Services, kiosk_url: str
) -> None:
    """The tester's statement, run as the kiosk's own login (no key, no owner)."""
    import psycopg

    from tests.reliability.helpers import libpq_url

    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, "
            "hash, mac) SELECT max(id)+1, now(), 'register_verified', 'admin', 'staffroom', "
            '\'{"report": "x"}\', (SELECT hash FROM events ORDER BY id DESC LIMIT 1), '
            "md5('a')||md5('b'), md5('c')||md5('d') FROM events"
        )
        (forged,) = conn.execute("SELECT max(id) FROM events").fetchone() or (None,)

    assert set_up_school.integrity.last_result() is None
    report = set_up_school.integrity.verify()

    assert not report.ok
    assert forged in report.mismatched  # named, and not taken as the last check (round 21)
    last = set_up_school.integrity.last_result()
    assert last is not None and last.checked_at == report.checked_at


# --- 1. this machine's witness file holding what no check is -------------------------------------


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("entry", ["list", "text", "deep entry", "deep file"])
def test_a_witness_file_holding_no_check_is_named_and_verify_carries_on(
    school: Services, capsys: pytest.CaptureFixture[str], entry: str
) -> None:
    """``verify-witness.json`` holding a list or a string under the database's URL made verify
    stop with an AttributeError; JSON nested 100,000 levels deep with a RecursionError (on
    reading it, and again on writing the new witness). Each is named in a sentence, and the
    check goes on (an intact register stays intact); the file is written anew."""
    assert run(capsys, "verify")[0] == 0
    path = witness_path()
    data = json.loads(path.read_text(encoding="utf-8"))
    (database,) = [name for name in data if name != "$witness-file"]  # and the file's id
    if entry == "deep file":
        path.write_text(DEEP, encoding="utf-8")
    else:
        bad = {"list": ["x"], "text": "x"}.get(entry)
        content = json.dumps({database: bad}) if bad is not None else None
        path.write_text(content or '{"' + database + '": ' + DEEP + "}", encoding="utf-8")

    status, out, err = run(capsys, "verify")

    assert "something unexpected" not in err
    if school.ctx.engine.dialect.name == "sqlite":
        # The register holds a check kept in that file: one holding what the kiosk never
        # writes there was emptied or overwritten, judged as one deleted (round 16's review).
        assert status == 1 and "emptied or overwritten" in out, out
    else:
        assert status == 0 and out.startswith("Register intact"), out
        assert f"Note: this machine's witness file {path} held what the kiosk never" in out
    status, out, err = run(capsys, "verify")  # written anew
    assert status == 0 and "Note: this machine's witness file" not in out


# --- 2. a stored check that says what cannot be, or that the school key did not write ---------


def _forge_with_key(db_url: str, report: dict[str, Any]) -> int:
    with meddle(db_url) as db:
        row = _append(
            db,
            {"kind": "register_verified", "category": "admin", "details": {"report": report}},
        )
    return int(row["id"])


@pytest.mark.parametrize(
    "change",
    [
        {"ok": False, "mismatch_count": 1, "mismatched": []},
        {"checked_at": "9999-12-31T23:59:59-14:00"},
        {"ok": "yes"},
    ],
)
def test_a_stored_check_that_cannot_be_shown_is_said_to_be_unreadable(
    services: Services, db_url: str, change: dict[str, Any]
) -> None:
    """Well-formed but contradictory (a count of changed events and no list of them), or dated
    where no clock goes: the console's summary raised IndexError, its date OverflowError, on
    the console's UI thread at sign-in. Even MACed with the key, such a check is not one the
    kiosk writes: the console is told it is unreadable, in a sentence."""
    make_school(services)
    checked = services.integrity.verify()
    forged = _forge_with_key(db_url, json.loads(checked.to_json()) | change)

    last = services.integrity.last_check()

    assert last.report is None and last.event_id == forged
    assert last.problem is not None and "cannot be read" in last.problem


def test_a_stored_check_not_written_with_the_school_key_is_not_shown(
    services: Services, db_url: str
) -> None:
    """The console showed the newest stored check as it was: a login without the key
    (PostgreSQL's kiosk login, a shell on the file) could append one saying "intact" after a
    check that had found tampering, and the console said "✓ register intact" until the next
    verify. The stored check counts only when its event's hash and MAC are right."""
    make_school(services)
    record_shift(services, rounds=1)
    with meddle(db_url) as db:
        db.overwrite(db.execute("SELECT min(id) FROM events")[0][0], {"kiosk": "elsewhere"})
    tampered = services.integrity.verify()
    assert not tampered.ok
    said_intact = json.loads(tampered.to_json()) | {
        "ok": True,
        "mismatch_count": 0,
        "mismatched": [],
        "problems": [],
    }
    with meddle(db_url) as db:
        forged = forge_check(db, said_intact)

    last = services.integrity.last_check()

    assert last.report is None and last.event_id == forged
    assert last.problem is not None and "cannot be trusted" in last.problem
    assert services.integrity.last_result() is None


# --- 3. the school key file replaced by a device or a pipe ---------------------------------------


@pytest.mark.parametrize("what", HAZARDS)
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
    plant_hazard(key, what, b"0" * 2**20)
    env = dict(os.environ, KIOSK_DATABASE_URL=sqlite_url)
    done = run_capped([sys.executable, "-m", "kiosk", "verify"], env, "kiosk verify")

    assert done.returncode == 1
    assert "something unexpected" not in done.stderr and "Traceback" not in done.stderr
    why = "it is larger than 4,096 bytes" if what == "large" else "it is not a regular file"
    assert f"kiosk: The school key file {key} cannot be read: {why}" in done.stderr
