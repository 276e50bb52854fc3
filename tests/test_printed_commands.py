"""The PostgreSQL commands ``kiosk backup`` and ``kiosk restore`` print: never a password."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from kiosk.services.backup import pg_dump_command, pg_restore_steps

# Nothing listens on port 1: asking the database owner's name fails at once.
URLS = [
    "postgresql+psycopg://kiosk_owner:s3cr3t-pw@127.0.0.1:1/kiosk",
    "postgresql+psycopg://kiosk_owner@127.0.0.1:1/kiosk?password=s3cr3t-pw&sslpassword=s3cr3t-pw",
]


@pytest.mark.parametrize("url", URLS)
def test_the_restore_steps_and_the_dump_command_print_no_password(url: str) -> None:
    """With SQLAlchemy 2 ``url.set(password=None)`` changes nothing: the steps printed
    ``postgresql://kiosk_owner:pw@...`` in ``--dbname`` and ``KIOSK_DATABASE_URL=...``, on
    the screen, in the shell's history and in ``ps``."""
    engine = create_engine(url)
    try:
        printed = " ".join([*pg_dump_command(engine, "/backups/kiosk.dump")])
        printed += " ".join(pg_restore_steps(engine, "/backups/kiosk.dump"))
    finally:
        engine.dispose()

    assert "s3cr3t-pw" not in printed, printed
    assert "postgresql://kiosk_owner@127.0.0.1:1/kiosk" in printed, printed
