"""Round 13 of the red team on the record: what verify prints about the database it checked,
and what it keeps in this machine's witness file.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kiosk.cli import main
from kiosk.services.integrity import witness_path

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
    the name is shown as safe text."""
    hostile = tmp_path / "copy\x1b]52;c;ZWNobyBwd25lZA==\x07\u202e.sqlite3"
    _copy_file(sqlite_url.removeprefix("sqlite:///"), hostile)
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"sqlite:///{hostile}")
    main(["verify"])
    capsys.readouterr()

    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    main(["verify"])
    out = capsys.readouterr().out
    assert "another register" in out, out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    # Nor in the witness of the real register (its notes are kept).
    kept = json.loads(witness_path().read_text(encoding="utf-8"))
    real = next(v for k, v in kept.items() if "copy" not in k)
    assert not any("\x1b" in n for n in real.get("notes", [])), real
