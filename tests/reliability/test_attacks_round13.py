"""Round 13 of the red team on the record: what verify prints about the database it checked,
and what it keeps in this machine's witness file.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from kiosk.cli import main
from kiosk.config import Settings, config_file
from kiosk.db.engine import make_engine
from kiosk.domain.errors import KioskError
from kiosk.services import uow as uow_module
from kiosk.services.app import Services
from kiosk.services.integrity import witness_path
from tests.reliability.helpers import libpq_url, raw_scalar, sqlite_path
from tests.school import make_school

# --- a password in the URL's query string ---------------------------------------------------


@pytest.mark.postgresql
def test_verify_does_not_print_a_password_given_in_the_urls_query(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """libpq takes the password as a query parameter too
    (``postgresql://kiosk@host/db?password=...``), and so does the kiosk. SQLAlchemy's
    ``hide_password`` masks only the password before the ``@``: verify's new ``Database:``
    line printed the one in the query to the terminal (and to whoever reads the output the
    office pastes into a ticket), and this machine's witness file kept it as the register's
    name. Now it is masked in both."""
    secret = "Sekr3t-hunter2"
    url = make_url(pg_url).update_query_dict({"password": secret}).render_as_string(False)
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    main(["verify"])
    out = capsys.readouterr().out
    assert "Database:" in out, out
    assert secret not in out, out
    assert secret not in witness_path().read_text(encoding="utf-8")


# --- a hostile name in the note about another register ------------------------------------


def _copy_file(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    dest = sqlite3.connect(target)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()


def test_the_note_naming_another_register_carries_no_terminal_escapes(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A shell (no key) leaves a copy of the register in a file whose name holds terminal
    escapes (an OSC 52 that writes the clipboard, a title, a bidi override) and has the
    office check it once (``KIOSK_DATABASE_URL`` pointed at it). The next ``kiosk verify``
    of the real register said "this machine last checked another register, <name>", the
    name printed raw: the escapes ran in the office's terminal (the ``Database:`` line above
    it was made safe, the note was not) and were kept in the register's stored check. Now
    the name is shown as safe text.

    Since round 15 a URL holding a control character (ESC, BEL) is refused as the settings
    load, so that name no longer gets that far (checked first); the 8-bit CSI (U+009B, ESC
    [ to a terminal that reads C1 controls) and a bidi override still may."""
    refused = tmp_path / "copy\x1b]52;c;ZWNobyBwd25lZA==\x07.sqlite3"
    _copy_file(sqlite_url.removeprefix("sqlite:///"), refused)
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{refused}")
    assert main(["verify"]) == 1
    said = capsys.readouterr()
    assert "without control characters" in said.err
    assert "\x1b" not in said.out + said.err and "\x07" not in said.out + said.err

    hostile = tmp_path / "copy\x9b2J\x9b31mFORGED\u202e.sqlite3"
    _copy_file(sqlite_url.removeprefix("sqlite:///"), hostile)
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{hostile}")
    main(["verify"])
    capsys.readouterr()

    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    main(["verify"])
    out = capsys.readouterr().out
    assert "another register" in out, out
    assert "\x9b" not in out and "\u202e" not in out, repr(out)
    # Nor in the witness of the real register (its notes are kept).
    kept = json.loads(witness_path().read_text(encoding="utf-8"))
    real = next(v for k, v in kept.items() if "copy" not in k)
    assert not any("\x9b" in n or "\u202e" in n for n in real.get("notes", [])), real


# --- the database file replaced between the kiosk's last look and its COMMIT ----------------


def _swap_in_copy(path: str) -> None:
    """A copy of the register as committed now, renamed over the file the kiosk has open."""
    copy = f"{path}.copy"
    _copy_file(path, Path(copy))
    os.replace(copy, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_file_replaced_just_before_the_commit_does_not_leave_a_deposit_confirmed(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk looks once, before its COMMIT, whether the file at the database's path is
    still the one it has open. A shell renaming a copy over it (a loop on inotify, a sync
    tool) in the moment after that look and before the COMMIT had the deposit committed
    into the unlinked file and confirmed: in no register anyone can open. Now the kiosk
    looks again once committed, and a deposit not in the file at the path is not
    confirmed."""
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    real = uow_module.file_replaced
    swapped: list[bool] = []

    def look_then_swap(engine: Any, info: Any) -> bool:
        said = real(engine, info)
        if not swapped:
            swapped.append(True)
            _swap_in_copy(sqlite_path(sqlite_url))
        return said

    try:
        make_school(services)
        services.phones.deposit("BJONES")
        monkeypatch.setattr(uow_module, "file_replaced", look_then_swap)
        try:
            receipt = services.phones.deposit("ASMITH")
        except KioskError:
            receipt = None  # refused in words: nothing confirmed
        assert swapped
        if receipt is not None:
            found = raw_scalar(
                sqlite_url, f"SELECT count(*) FROM events WHERE id = {receipt.event_id}"
            )
            assert found == 1, (
                f"deposit {receipt.event_id} was confirmed into the replaced (unlinked) file"
            )
        monkeypatch.setattr(uow_module, "file_replaced", real)
        after = services.phones.deposit("ASMITH")
        assert (
            raw_scalar(sqlite_url, f"SELECT kind FROM events WHERE id = {after.event_id}")
            == "phone_deposited"
        )
    finally:
        services.close()


# --- where the database URL comes from, when the environment and config.toml disagree -------


def test_verify_says_when_the_environment_overrides_another_database_named_in_config(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The kiosk runs from its service with ``config.toml``'s ``database_url``; a shell
    (as the kiosk's user, no key) puts ``export KIOSK_DATABASE_URL=<a frozen copy>`` in
    that user's shell profile. Every ``kiosk verify`` the office types there checks the
    copy and said only "(from environment $KIOSK_DATABASE_URL)": nothing said that the
    kiosk's own settings name another database, the one it records into. Now verify says
    which database the settings name without the environment's URL."""
    real = tmp_path / "real.sqlite3"
    _copy_file(sqlite_path(sqlite_url), real)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(f'database_url = "sqlite:///{real}"\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    main(["verify"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("Database:"))
    assert sqlite_path(sqlite_url) in line, line
    assert str(real) in line, f"verify did not say that config.toml names another: {line}"


# --- the database file replaced as the kiosk opens it -------------------------------------


def test_a_file_replaced_as_the_kiosk_opens_it_is_not_taken_for_the_one_opened(
    sqlite_url: str,
) -> None:
    """The kiosk notes which file (device, inode) a connection opened by looking at the path
    just after SQLite opened it. A shell watching the folder (inotify reports the open)
    renames a copy over the file in that moment: the kiosk noted the copy, while its
    connection had the old file, now unlinked. Every later deposit went into that file and
    was confirmed, none of the checks (at checkout, before and after the COMMIT) ever saw a
    difference, and ``kiosk verify`` read the copy. Now the path is looked at before the
    open as well, and a connection whose file changed under its opening is not used."""
    services = Services(make_engine(sqlite_url), Settings(kiosk_name="k", database_url=sqlite_url))
    engine = services.ctx.engine
    armed: list[bool] = []

    def swap_as_opened(dbapi_connection: Any, _record: Any) -> None:
        if armed:
            armed.clear()
            dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchall()  # the old file's
            _swap_in_copy(sqlite_path(sqlite_url))

    event.listen(engine, "connect", swap_as_opened, insert=True)
    try:
        make_school(services)
        services.phones.deposit("BJONES")
        engine.dispose()  # the next write opens a connection
        armed.append(True)
        try:
            receipt = services.phones.deposit("ASMITH")
        except KioskError:
            receipt = None  # refused in words: nothing confirmed
        assert not armed, "the swap did not happen"
        if receipt is not None:
            found = raw_scalar(
                sqlite_url, f"SELECT count(*) FROM events WHERE id = {receipt.event_id}"
            )
            assert found == 1, (
                f"deposit {receipt.event_id} was confirmed into the replaced (unlinked) file"
            )
        after = services.phones.collect("BJONES")
        assert (
            raw_scalar(sqlite_url, f"SELECT kind FROM events WHERE id = {after.event_id}")
            == "phone_collected"
        )
    finally:
        services.close()


# --- PostgreSQL: the register's functions pinned to another schema --------------------------


@pytest.mark.postgresql
def test_verify_names_a_function_pinned_to_a_schema_that_is_not_the_registers(
    set_up_school: Services, pg_url: str, kiosk_url: str
) -> None:
    """Revisions 0007 to 0009 pin each function's search_path to ``current_schema()``: the
    first schema on the owner's search_path that exists, ``"$user"`` first. A kiosk login
    once granted CREATE on the database (a slip, put right since) makes a schema named after
    the owner, with an empty ``kiosk_settings`` and ``staff_roles`` of its own, and revokes
    its own CREATE there (an owner may): the owner's next ``kiosk db upgrade`` pins the
    guard to it, and the guard then reads the login's empty tables ("not set up": anything
    goes). Verify checked only that ``pg_temp`` came last, and said "intact". Now it names a
    function that looks anywhere but the register's own schema first."""
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"GRANT CREATE ON DATABASE {make_url(pg_url).database} TO {login}")
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as kiosk:
        kiosk.execute("CREATE SCHEMA shadow")
        kiosk.execute("CREATE TABLE shadow.kiosk_settings (key text, value text)")
        kiosk.execute("CREATE TABLE shadow.staff_roles (staff_id int, role text)")
        kiosk.execute("GRANT USAGE ON SCHEMA shadow TO PUBLIC")
        kiosk.execute("GRANT SELECT ON ALL TABLES IN SCHEMA shadow TO PUBLIC")
        kiosk.execute(f"REVOKE CREATE ON SCHEMA shadow FROM {login}")
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"REVOKE CREATE ON DATABASE {make_url(pg_url).database} FROM {login}")
        # What the upgrade leaves with the login's schema first on the owner's search_path.
        owner.execute("ALTER FUNCTION kiosk_guard_reference() SET search_path = shadow, pg_temp")
    try:
        report = set_up_school.integrity.verify(save=False)
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute("DROP SCHEMA shadow CASCADE")
    assert not report.ok, report.summary
    assert any(
        p.startswith("the function kiosk_guard_reference looks tables up in shadow")
        for p in report.problems
    ), report.problems
