"""Round 13 of the red team on the record: what verify prints about the database it checked,
and what it keeps in this machine's witness file.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

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
